/* sp-pack inject: a pack output into an APK or App Bundle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "sppack/abi.h"
#include "sppack/inject.h"

const char cmd_inject_usage[] =
    "usage: sp-pack inject --into IN.apk|IN.aab --from PACKED_DIR -o OUT\n"
    "                      [--page-size 4|16|64] [--abi ABI...] [--no-assets]\n"
    "                      [--replace] [--strip-signature]\n\n"
    "Writes OUT: IN's entries in their order, realigned, then PACKED_DIR's\n"
    "jniLibs/<abi>/ as lib/<abi>/ (page-aligned, stored) and assets/ as assets/.\n"
    "For an App Bundle (IN holds BundleConfig.pb) the files go under base/,\n"
    "base/native.pb is extended to target every lib/<abi> directory, and\n"
    "BundleConfig.pb gets the Python zips as uncompressed globs.\n\n"
    "  --into FILE          the APK or .aab to add to (not changed)\n"
    "  --from DIR           a 'sp-pack pack' output directory\n"
    "  -o, --out FILE       the result (written atomically; nothing left on failure)\n"
    "  --page-size 4|16|64  alignment of lib/<abi>/ entries in KB (default 16)\n"
    "  --abi ABI...         only these ABIs' libraries (a per-ABI config split)\n"
    "  --no-assets          libraries only\n"
    "  --replace            replace entries IN already has instead of refusing\n"
    "  --strip-signature    drop IN's signature instead of refusing a signed IN;\n"
    "                       sign OUT again afterwards\n";

int cmd_inject(int argc, char **argv)
{
    sp_inject_opts o;
    memset(&o, 0, sizeof o);
    o.page_size = 16384;
    sp_strv_init(&o.abis);
    char msg[512];
    int rc = 0, in_abis = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (in_abis && a[0] != '-') {
            if (!sp_abi_find(a)) {
                snprintf(msg, sizeof msg, "inject: unknown ABI '%s' (one of %s)", a,
                         sp_abi_list());
                rc = sp_report_error(SP_EUSAGE, msg);
            } else if (!sp_strv_contains(&o.abis, a)) {
                sp_strv_push(&o.abis, a);
            }
            continue;
        }
        in_abis = 0;
        const char **slot = !strcmp(a, "--into")                      ? &o.into
                            : !strcmp(a, "--from")                    ? &o.from
                            : !strcmp(a, "-o") || !strcmp(a, "--out") ? &o.out
                                                                      : NULL;
        if (slot || !strcmp(a, "--page-size")) {
            if (i + 1 >= argc) {
                snprintf(msg, sizeof msg, "inject: option '%s' needs a value", a);
                rc = sp_report_error(SP_EUSAGE, msg);
                break;
            }
            const char *v = argv[++i];
            if (slot) {
                *slot = v;
            } else if (!strcmp(v, "4") || !strcmp(v, "16") || !strcmp(v, "64")) {
                o.page_size = (unsigned)atoi(v) * 1024u;
            } else {
                rc = sp_report_error(SP_EUSAGE, "inject: --page-size must be 4, 16 or 64");
            }
        } else if (!strcmp(a, "--abi")) {
            in_abis = 1;
        } else if (!strcmp(a, "--no-assets")) {
            o.no_assets = 1;
        } else if (!strcmp(a, "--replace")) {
            o.replace = 1;
        } else if (!strcmp(a, "--strip-signature")) {
            o.strip_signature = 1;
        } else {
            snprintf(msg, sizeof msg, "inject: unknown option or argument '%s'", a);
            rc = sp_report_error(SP_EUSAGE, msg);
        }
    }
    if (rc == 0 && (!o.into || !o.from || !o.out))
        rc = sp_report_error(SP_EUSAGE, "inject: --into, --from and -o are required");
    if (rc == 0) {
        sp_error err;
        sp_error_init(&err);
        sp_inject_result res;
        if (sp_inject(&o, &res, &err) != 0)
            rc = sp_report_error(err.status, err.msg);
        else
            printf("%s: %zu entries from %s, %zu added, %zu replaced, %zu signature files "
                   "dropped%s\n",
                   o.out, res.kept, o.into, res.added, res.replaced, res.stripped,
                   res.is_bundle ? " (App Bundle: base/native.pb and BundleConfig.pb updated)"
                                 : "");
    }
    sp_strv_release(&o.abis);
    return rc;
}
