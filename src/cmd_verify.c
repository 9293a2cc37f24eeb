/* sp-pack verify: the CI gate and inspection tool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "sppack/libzip_load.h"
#include "sppack/report.h"
#include "sppack/util.h"
#include "sppack/verify.h"

const char cmd_verify_usage[] =
    "usage: sp-pack verify [--json] [--strict] [--page-size 4|16|64] [--min-sdk N]\n"
    "                      [--deep] [--ignore ID[,ID...]] PATH...\n\n"
    "Checks APKs, split APKs, .apks sets, App Bundles, plain zips and pack output\n"
    "directories against what Android and the sp-pack runtime need: the zip\n"
    "layer (Z), native libraries (L), their ELF files (E) and the Python layout (P).\n"
    "Every check is described in docs/checks.md. Only metadata is read.\n"
    "verify opens libzip (the library sp-pack was built against) when it starts.\n\n"
    "  --json              one JSON document on stdout\n"
    "  --strict            warnings fail the run too\n"
    "  --page-size 4|16|64 page size in KB for L002 and E004 (default 16)\n"
    "  --min-sdk N         warn (E010) about libraries built for a newer API level\n"
    "  --deep              also check every entry's CRC and libzip's consistency check\n"
    "  --ignore IDS        leave these check IDs out (comma-separated, repeatable)\n\n"
    "Exit status: 0 clean, 1 errors found (or warnings with --strict, or a path\n"
    "that does not exist), 2 usage, 3 a path that cannot be read or no libzip.\n";

int cmd_verify(int argc, char **argv)
{
    sp_verify_opts o = {16384, 0, 0};
    int json = 0, strict = 0;
    sp_report report;
    sp_report_init(&report);
    const char **paths = sp_xcalloc((size_t)argc, sizeof *paths);
    int npaths = 0, rc = 0;
    char msg[512];
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--strict")) {
            strict = 1;
        } else if (!strcmp(a, "--deep")) {
            o.deep = 1;
        } else if (!strcmp(a, "--page-size") || !strcmp(a, "--min-sdk") ||
                   !strcmp(a, "--ignore")) {
            if (i + 1 >= argc) {
                snprintf(msg, sizeof msg, "verify: option '%s' needs a value", a);
                rc = sp_report_error(SP_EUSAGE, msg);
                break;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--page-size")) {
                if (strcmp(v, "4") && strcmp(v, "16") && strcmp(v, "64"))
                    rc = sp_report_error(SP_EUSAGE, "verify: --page-size must be 4, 16 or 64");
                o.page_size = (unsigned)atoi(v) * 1024u;
            } else if (!strcmp(a, "--min-sdk")) {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 1000) {
                    snprintf(msg, sizeof msg, "verify: --min-sdk needs an API level, not '%s'", v);
                    rc = sp_report_error(SP_EUSAGE, msg);
                }
                o.min_sdk = (int)n;
            } else {
                char *copy = sp_xstrdup(v), *save = NULL;
                for (char *id = strtok_r(copy, ",", &save); id && rc == 0;
                     id = strtok_r(NULL, ",", &save)) {
                    if (!sp_check_find(id)) {
                        snprintf(msg, sizeof msg, "verify: --ignore: no check '%s'", id);
                        rc = sp_report_error(SP_EUSAGE, msg);
                    } else {
                        sp_strv_push(&report.ignore, id);
                    }
                }
                free(copy);
            }
        } else if (a[0] == '-' && a[1]) {
            snprintf(msg, sizeof msg, "verify: unknown option '%s'", a);
            rc = sp_report_error(SP_EUSAGE, msg);
        } else {
            paths[npaths++] = a;
        }
    }
    if (rc == 0 && npaths == 0)
        rc = sp_report_error(SP_EUSAGE, "verify: give at least one APK, bundle, zip or directory");
    if (rc == 0) { /* no libzip: no path can be checked, so say it once */
        sp_error err;
        sp_error_init(&err);
        if (!sp_libzip_load(&err))
            rc = sp_report_error(err.status, err.msg);
    }
    int unreadable = 0; /* the worst status of a path that could not be checked */
    for (int i = 0; i < npaths && rc == 0; i++) {
        sp_error err;
        sp_error_init(&err);
        if (sp_verify_path(paths[i], &o, &report, &err) != 0) {
            fprintf(stderr, "sp-pack: %s\n", err.msg);
            if (err.status > unreadable)
                unreadable = err.status;
        }
    }
    if (rc == 0) {
        if (json)
            sp_report_print_json(&report, stdout);
        else
            sp_report_print_text(&report, stdout);
        if (unreadable)
            rc = unreadable; /* 1 for a missing path, 3 for one that cannot be read */
        else if (sp_report_count(&report, SP_ERROR) ||
                 (strict && sp_report_count(&report, SP_WARNING)))
            rc = SP_EINPUT;
    }
    free(paths);
    sp_report_release(&report);
    return rc;
}
