/* sp-pack align: zipalign with page sizes this machine's zipalign lacks. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "sppack/cleanup.h"
#include "sppack/apk.h"
#include "sppack/zipreader.h"

static const char align_about[] =
    "Aligns every entry of an APK the way Android needs it: stored native\n"
    "libraries (lib/<abi>/*.so) at a multiple of the page size (default 16 KB),\n"
    "other stored entries at 4 bytes, padding in an 0xD935 extra field. Entry\n"
    "contents, order and timestamps are kept. Without OUT, IN is replaced\n"
    "(atomically). Align before signing: a signed APK is refused.\n";

static const sp_cli_option align_options[] = {
    {"check", 'c', SP_CLI_FLAG, NULL, "check only: list misaligned entries, exit 1 if any",
     SP_CFG_NONE, 0, 0},
    {"page-size", 0, SP_CLI_PAGE, "4|16|64", "page size in KB (default 16)", SP_CFG_NONE, 0, 0},
    {0},
};

const sp_cli_command cmd_align_spec = {"align",
                                       "[-c] IN [OUT] [--page-size 4|16|64]",
                                       align_about,
                                       align_options,
                                       1,
                                       2,
                                       "give the APK to align",
                                       NULL};

int cmd_align(const sp_cli_values *v)
{
    const sp_cli_command *cmd = &cmd_align_spec;
    int rc = 0;
    unsigned page = (unsigned)sp_cli_num(cmd, v, "page-size", 16384);
    const char *in = v->args.v[0], *out = v->args.n > 1 ? v->args.v[1] : in;
    sp_error err;
    sp_error_init(&err);
    sp_cleanup_on_signals(NULL); /* a stopped run leaves no OUT.sp-pack-tmp-PID */
    if (!sp_cli_flag(cmd, v, "check")) {
        if (sp_apk_align(in, out, page, &err) != 0)
            rc = sp_cli_error(err.status, "%s", err.msg);
    } else if (v->args.n != 1) {
        rc = sp_cli_error(SP_EUSAGE, "align: -c takes one APK and writes nothing");
    } else {
        sp_zip z;
        if (sp_zip_open(&z, in, &err) != 0) {
            rc = sp_cli_error(err.status, "%s", err.msg);
        } else {
            sp_strv problems;
            sp_strv_init(&problems);
            size_t bad = sp_apk_check_alignment(&z, page, &problems);
            if (sp_zip_unchanged(&z, in, &err) != 0) {
                rc = sp_cli_error(err.status, "%s", err.msg);
            } else {
                for (size_t i = 0; i < problems.n; i++)
                    printf("%s: %s\n", in, problems.v[i]);
                printf("%s: %zu of %zu entries misaligned for %u KB pages\n", in, bad, z.n,
                       page / 1024);
                rc = bad ? SP_EINPUT : SP_OK;
            }
            sp_strv_release(&problems);
            sp_zip_close(&z);
        }
    }
    return rc;
}
