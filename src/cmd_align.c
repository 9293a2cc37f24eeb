/* sp-pack align: zipalign with page sizes this machine's zipalign lacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "sppack/apk.h"
#include "sppack/zipreader.h"

const char cmd_align_usage[] =
    "usage: sp-pack align [-c] IN [OUT] [--page-size 4|16|64]\n\n"
    "Aligns every entry of an APK the way Android needs it: stored native\n"
    "libraries (lib/<abi>/*.so) at a multiple of the page size (default 16 KB),\n"
    "other stored entries at 4 bytes, padding in an 0xD935 extra field. Entry\n"
    "contents, order and timestamps are kept. Without OUT, IN is replaced\n"
    "(atomically). Align before signing: a signed APK is refused.\n\n"
    "  -c                 check only: list misaligned entries, exit 1 if any\n"
    "  --page-size 4|16|64  page size in KB (default 16)\n";

int cmd_align(int argc, char **argv)
{
    int check = 0;
    unsigned page = 16384;
    const char *paths[2] = {NULL, NULL};
    int npaths = 0;
    char msg[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") || !strcmp(a, "--check")) {
            check = 1;
        } else if (!strcmp(a, "--page-size") || !strncmp(a, "--page-size=", 12)) {
            const char *v = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || (strcmp(v, "4") && strcmp(v, "16") && strcmp(v, "64"))) {
                snprintf(msg, sizeof msg, "align: --page-size must be 4, 16 or 64");
                return sp_report_error(SP_EUSAGE, msg);
            }
            page = (unsigned)atoi(v) * 1024u;
        } else if (a[0] == '-' && a[1]) {
            snprintf(msg, sizeof msg, "align: unknown option '%s'", a);
            return sp_report_error(SP_EUSAGE, msg);
        } else if (npaths < 2) {
            paths[npaths++] = a;
        } else {
            snprintf(msg, sizeof msg, "align: unexpected argument '%s'", a);
            return sp_report_error(SP_EUSAGE, msg);
        }
    }
    if (npaths == 0)
        return sp_report_error(SP_EUSAGE, "align: give the APK to align");
    if (check && npaths != 1)
        return sp_report_error(SP_EUSAGE, "align: -c takes one APK and writes nothing");

    sp_error err;
    sp_error_init(&err);
    if (!check) {
        if (sp_apk_align(paths[0], paths[1] ? paths[1] : paths[0], page, &err) != 0)
            return sp_report_error(err.status, err.msg);
        return SP_OK;
    }
    sp_zip z;
    if (sp_zip_open(&z, paths[0], &err) != 0)
        return sp_report_error(err.status, err.msg);
    sp_strv problems;
    sp_strv_init(&problems);
    size_t bad = sp_apk_check_alignment(&z, page, &problems);
    for (size_t i = 0; i < problems.n; i++)
        printf("%s: %s\n", paths[0], problems.v[i]);
    printf("%s: %zu of %zu entries misaligned for %u KB pages\n", paths[0], bad, z.n,
           page / 1024);
    sp_strv_release(&problems);
    sp_zip_close(&z);
    return bad ? SP_EINPUT : SP_OK;
}
