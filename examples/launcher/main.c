/* sp-launch: runs Python code from an app's APKs on a host, the way the app
 * starts it on a device (sp_launch_init, then Py_RunMain). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "sp_launch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SP_PACK_VERSION
#define SP_PACK_VERSION "0"
#endif

static const char usage[] =
    "usage: sp-launch --apk BASE.apk [--split SPLIT.apk]... --abi ABI\n"
    "                 [--native-dir DIR] [--extract-dir DIR] (-c CODE | -m MODULE) [ARG]...\n\n"
    "Starts CPython from an app's installed APKs as sp_launch_init() does on a device:\n"
    "Python code read in place from BASE.apk (the boot set assets/python/, then the\n"
    "stored zips assets/stdlib.zip and assets/sitepackages.zip), nothing written.\n\n"
    "Options:\n"
    "  --apk BASE.apk      the base APK (ApplicationInfo.sourceDir)\n"
    "  --split SPLIT.apk   a split APK (ApplicationInfo.splitSourceDirs), such as\n"
    "                      split_config.arm64_v8a.apk holding lib/<abi>/\n"
    "  --abi ABI           the ABI to load natives for: arm64-v8a, armeabi-v7a, x86,\n"
    "                      x86_64, riscv64\n"
    "  --native-dir DIR    load libraries found in DIR from there\n"
    "                      (ApplicationInfo.nativeLibraryDir; on a host, lib/<abi>/\n"
    "                      unpacked, since glibc cannot map from a zip); others load\n"
    "                      from <apk>!/lib/<abi>/ of the APK holding them\n"
    "  --extract-dir DIR   unpack assets/extract.zip (packages packed with --extract)\n"
    "                      into DIR/<content hash>/ once and put it first on sys.path\n"
    "  -c CODE             run CODE; ARGs follow in sys.argv\n"
    "  -m MODULE           run MODULE as __main__; ARGs follow in sys.argv\n"
    "  -h, --help          this text;  --version  versions\n\n"
    "Exit status: the program's, else 1 when the APKs lack what the runtime needs,\n"
    "2 for a usage error, 3 when an APK cannot be read.\n";

static const char *const abis[] = {"arm64-v8a", "armeabi-v7a", "x86", "x86_64", "riscv64", NULL};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sp-launch: %s (hint: sp-launch --help)\n", msg);
    return SP_LAUNCH_EUSAGE;
}

/* "--opt VALUE" or "--opt=VALUE": the value, advancing *i; NULL if not opt. */
static const char *option(int argc, char **argv, int *i, const char *opt, int *missing)
{
    size_t n = strlen(opt);
    const char *a = argv[*i];
    if (strncmp(a, opt, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int main(int argc, char **argv)
{
    sp_launch_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.install_signal_handlers = 1;
    const char **splits = calloc((size_t)argc, sizeof *splits);
    if (!splits)
        return SP_LAUNCH_EIO;
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int missing = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            free(splits);
            return 0;
        }
        if (!strcmp(a, "--version")) {
            printf("sp-launch %s (Python %s)\n", SP_PACK_VERSION, Py_GetVersion());
            free(splits);
            return 0;
        }
        if ((v = option(argc, argv, &i, "--apk", &missing)))
            cfg.base_apk = v;
        else if ((v = option(argc, argv, &i, "--split", &missing)))
            splits[cfg.n_split_apks++] = v;
        else if ((v = option(argc, argv, &i, "--abi", &missing)))
            cfg.abi = v;
        else if ((v = option(argc, argv, &i, "--native-dir", &missing)))
            cfg.native_dir = v;
        else if ((v = option(argc, argv, &i, "--extract-dir", &missing)))
            cfg.extract_dir = v;
        else if ((!strcmp(a, "-c") || !strcmp(a, "-m")) && i + 1 < argc) {
            *(a[1] == 'c' ? &cfg.run_command : &cfg.run_module) = argv[i + 1];
            i += 2;
            break; /* the rest is sys.argv */
        } else if (missing || !strcmp(a, "-c") || !strcmp(a, "-m")) {
            free(splits);
            return usage_error("%s needs a value", a);
        } else {
            free(splits);
            return usage_error("unknown option '%s'", a);
        }
        if (missing) {
            free(splits);
            return usage_error("%s needs a value", a);
        }
    }
    cfg.split_apks = splits;
    cfg.argc = argc - i;
    cfg.argv = argv + i;
    const char *problem = NULL;
    if (!cfg.base_apk)
        problem = "--apk BASE.apk is required";
    else if (!cfg.abi)
        problem = "--abi ABI is required";
    else if (!cfg.run_command && !cfg.run_module)
        problem = "-c CODE or -m MODULE is required";
    if (problem) {
        free(splits);
        return usage_error("%s", problem);
    }
    int known = 0;
    for (int k = 0; abis[k]; k++)
        known |= !strcmp(cfg.abi, abis[k]);
    if (!known) {
        free(splits);
        return usage_error("unknown ABI '%s' (one of arm64-v8a, armeabi-v7a, x86, x86_64, "
                           "riscv64)", cfg.abi);
    }
    char err[1024];
    int rc = sp_launch_init(&cfg, err, sizeof err);
    free(splits);
    if (rc != SP_LAUNCH_OK) {
        fprintf(stderr, "sp-launch: %s\n", err);
        return rc;
    }
    return Py_RunMain();
}
