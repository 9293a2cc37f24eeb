/* sp-pack verify: the CI gate and inspection tool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "sppack/alloc.h"
#include "sppack/report.h"
#include "sppack/verify.h"

static const char verify_about[] =
    "Checks APKs, split APKs, .apks sets, App Bundles, plain zips and pack output\n"
    "directories against what Android and the sp-pack runtime need: the zip\n"
    "layer (Z), native libraries (L), their ELF files (E) and the Python layout (P).\n"
    "Every check is described in docs/checks.md. Only metadata is read.\n";

static const sp_cli_option verify_options[] = {
    {"json", 0, SP_CLI_FLAG, NULL, "one JSON document on stdout", SP_CFG_NONE, 0, 0},
    {"strict", 0, SP_CLI_FLAG, NULL, "warnings fail the run too", SP_CFG_NONE, 0, 0},
    {"page-size", 0, SP_CLI_PAGE, "4|16|64", "page size in KB for L002 and E004 (default 16)",
     SP_CFG_NONE, 0, 0},
    {"min-sdk", 0, SP_CLI_INT, "N", "warn (E010) about libraries built for a newer API level",
     SP_CFG_NONE, 1, 1000},
    {"deep", 0, SP_CLI_FLAG, NULL, "also check every entry's CRC and libzip's consistency check",
     SP_CFG_NONE, 0, 0},
    {"ignore", 0, SP_CLI_MULTI, "IDS", "leave these check IDs out (comma-separated, repeatable)",
     SP_CFG_NONE, 0, 0},
    {0},
};

const sp_cli_command cmd_verify_spec = {
    "verify",
    "[--json] [--strict] [--page-size 4|16|64] [--min-sdk N]\n"
    "                      [--deep] [--ignore ID[,ID...]] PATH...",
    verify_about,
    verify_options,
    1,
    -1,
    "give at least one APK, bundle, zip or directory",
    "Exit status: 0 clean, 1 errors found (or warnings with --strict, or a path\n"
    "that does not exist), 2 usage, 3 a path that cannot be read.\n"};

int cmd_verify(const sp_cli_values *v)
{
    const sp_cli_command *cmd = &cmd_verify_spec;
    int rc = 0;
    sp_verify_opts o = {(unsigned)sp_cli_num(cmd, v, "page-size", 16384),
                        (int)sp_cli_num(cmd, v, "min-sdk", 0), sp_cli_flag(cmd, v, "deep")};
    sp_report report;
    sp_report_init(&report);
    const sp_strv *ignore = sp_cli_list(cmd, v, "ignore");
    for (size_t i = 0; i < ignore->n && rc == 0; i++) {
        char *copy = sp_xstrdup(ignore->v[i]), *save = NULL;
        for (char *id = strtok_r(copy, ",", &save); id && rc == 0;
             id = strtok_r(NULL, ",", &save)) {
            if (!sp_check_find(id))
                rc = sp_cli_error(SP_EUSAGE, "verify: --ignore: no check '%s'", id);
            else
                sp_strv_push(&report.ignore, id);
        }
        free(copy);
    }
    int unreadable = 0; /* the worst status of a path that could not be checked */
    for (size_t i = 0; i < v->args.n && rc == 0; i++) {
        sp_error err;
        sp_error_init(&err);
        if (sp_verify_path(v->args.v[i], &o, &report, &err) != 0) {
            sp_cli_error(err.status, "%s", err.msg);
            if (err.status > unreadable)
                unreadable = err.status;
        }
    }
    if (rc == 0) {
        if (sp_cli_flag(cmd, v, "json"))
            sp_report_print_json(&report, stdout);
        else
            sp_report_print_text(&report, stdout);
        if (unreadable)
            rc = unreadable; /* 1 for a missing path, 3 for one that cannot be read */
        else if (sp_report_count(&report, SP_ERROR) ||
                 (sp_cli_flag(cmd, v, "strict") && sp_report_count(&report, SP_WARNING)))
            rc = SP_EINPUT;
    }
    sp_report_release(&report);
    return rc;
}
