/* sp_launch: start CPython from the installed APKs of an Android app, with
 * the Python code read in place from the APK and the extension modules
 * mapped from it (docs/runtime.md). The same function serves an app (from
 * JNI, with ApplicationInfo's paths) and the host program sp-launch. */
#ifndef SP_LAUNCH_H
#define SP_LAUNCH_H

#include <stddef.h>

typedef struct sp_launch_config {
    const char *base_apk;           /* ApplicationInfo.sourceDir: holds the Python code */
    const char *const *split_apks;  /* ApplicationInfo.splitSourceDirs (may be NULL) */
    size_t n_split_apks;
    const char *abi;                /* the ABI this process runs: "arm64-v8a", ... */
    const char *native_dir;         /* ApplicationInfo.nativeLibraryDir, or NULL: libraries
                                       found there win over those in the APKs */
    const char *extract_dir;        /* where assets/extract.zip is unpacked (once per
                                       content), or NULL: nothing is written */
    /* For Py_RunMain() afterwards (sp-launch -c / -m); NULL from an app. */
    const char *run_command;
    const char *run_module;
    int argc;                       /* sys.argv after "-c" / "-m" */
    char *const *argv;
    int install_signal_handlers;    /* 0 in an app: the runtime owns the signals */
} sp_launch_config;

/* Results of sp_launch_init(), also the exit codes of sp-launch. */
enum {
    SP_LAUNCH_OK = 0,
    SP_LAUNCH_EINPUT = 1, /* the APKs are not what the runtime needs */
    SP_LAUNCH_EUSAGE = 2, /* a required field is missing */
    SP_LAUNCH_EIO = 3     /* an APK cannot be read, or the interpreter failed */
};

/* Checks that the base APK holds the boot set, stored; initialises CPython
 * (isolated configuration, UTF-8 mode, sys.path inside the base APK, no
 * site, no bytecode written) and installs the sp-pack finder, so that every
 * later import reads the APKs in place. Call it once per process. On
 * failure, returns one of the codes above with a one-line message in err
 * (no "sp-launch:" prefix); when the finder cannot be installed the
 * interpreter is finalized again. */
int sp_launch_init(const sp_launch_config *cfg, char *err, size_t errlen);

#endif
