/* sp-pack inject: a pack output into an APK or App Bundle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "sppack/cleanup.h"
#include "sppack/abi.h"
#include "sppack/inject.h"

static const char inject_about[] =
    "Writes OUT: IN's entries in their order, realigned, then PACKED_DIR's\n"
    "jniLibs/<abi>/ as lib/<abi>/ (page-aligned, stored) and assets/ as assets/.\n"
    "For an App Bundle (IN holds BundleConfig.pb) the files go under base/,\n"
    "base/native.pb is extended to target every lib/<abi> directory, and\n"
    "BundleConfig.pb gets the Python zips as uncompressed globs.\n";

static const sp_cli_option inject_options[] = {
    {"into", 0, SP_CLI_STRING, "FILE", "the APK or .aab to add to (not changed)", SP_CFG_NONE, 0,
     0},
    {"from", 0, SP_CLI_STRING, "DIR", "a 'sp-pack pack' output directory", SP_CFG_NONE, 0, 0},
    {"out", 'o', SP_CLI_STRING, "FILE", "the result (written atomically; nothing left on failure)",
     SP_CFG_NONE, 0, 0},
    {"page-size", 0, SP_CLI_PAGE, "4|16|64", "alignment of lib/<abi>/ entries in KB (default 16)",
     SP_CFG_NONE, 0, 0},
    {"abi", 0, SP_CLI_LIST, "ABI...", "only these ABIs' libraries (a per-ABI config split)",
     SP_CFG_NONE, 0, 0},
    {"no-assets", 0, SP_CLI_FLAG, NULL, "libraries only", SP_CFG_NONE, 0, 0},
    {"replace", 0, SP_CLI_FLAG, NULL, "replace entries IN already has instead of refusing",
     SP_CFG_NONE, 0, 0},
    {"strip-signature", 0, SP_CLI_FLAG, NULL,
     "drop IN's signature instead of refusing a signed IN;\nsign OUT again afterwards", SP_CFG_NONE,
     0, 0},
    {0},
};

const sp_cli_command cmd_inject_spec = {
    "inject",
    "--into IN.apk|IN.aab --from PACKED_DIR -o OUT\n"
    "                      [--page-size 4|16|64] [--abi ABI...] [--no-assets]\n"
    "                      [--replace] [--strip-signature]",
    inject_about,
    inject_options,
    0,
    0,
    "takes no arguments besides its options",
    NULL};

int cmd_inject(const sp_cli_values *v)
{
    const sp_cli_command *cmd = &cmd_inject_spec;
    int rc = 0;
    sp_inject_opts o;
    memset(&o, 0, sizeof o);
    o.into = sp_cli_str(cmd, v, "into");
    o.from = sp_cli_str(cmd, v, "from");
    o.out = sp_cli_str(cmd, v, "out");
    o.page_size = (unsigned)sp_cli_num(cmd, v, "page-size", 16384);
    o.no_assets = sp_cli_flag(cmd, v, "no-assets");
    o.replace = sp_cli_flag(cmd, v, "replace");
    o.strip_signature = sp_cli_flag(cmd, v, "strip-signature");
    sp_strv_init(&o.abis);
    const sp_strv *abis = sp_cli_list(cmd, v, "abi");
    for (size_t i = 0; i < abis->n && rc == 0; i++) {
        if (!sp_abi_find(abis->v[i]))
            rc = sp_cli_error(SP_EUSAGE, "inject: unknown ABI '%s' (one of %s)", abis->v[i],
                              sp_abi_list());
        else if (!sp_strv_contains(&o.abis, abis->v[i]))
            sp_strv_push(&o.abis, abis->v[i]);
    }
    if (rc == 0 && (!o.into || !o.from || !o.out))
        rc = sp_cli_error(SP_EUSAGE, "inject: --into, --from and -o are required");
    if (rc == 0) {
        sp_error err;
        sp_error_init(&err);
        sp_inject_result res;
        sp_cleanup_on_signals(NULL); /* a stopped run leaves no OUT.sp-pack-tmp-PID */
        if (sp_inject(&o, &res, &err) != 0)
            rc = sp_cli_error(err.status, "%s", err.msg);
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
