/* libFuzzer target over inject: any bytes as the APK or App Bundle to
 * inject a small pack output into. It must refuse or write an archive that
 * holds the input's entries and the packed files, aligned, with safe names,
 * never crash, and never leave a temporary file. */
#include <sys/stat.h>

#include "fuzz_common.h"
#include "sppack/inject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A pack output: a library for two ABIs and a Python zip. */
static char *packed_dir(void)
{
    char *dir = fuzz_path("packed");
    mkdir(dir, 0755);
    const char *files[] = {"jniLibs/x86_64/lib_m.so", "jniLibs/arm64-v8a/lib_m.so",
                           "assets/stdlib.zip", "assets/python/encodings/__init__.py", NULL};
    for (const char *const *f = files; *f; f++) {
        char *path = sp_xasprintf("%s/%s", dir, *f);
        for (char *s = strchr(path + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
            *s = '\0';
            mkdir(path, 0755);
            *s = '/';
        }
        fuzz_write(path,
                   (const uint8_t *)"\x7f"
                                    "ELF fuzz",
                   9);
        free(path);
    }
    return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *in, *aab, *out, *packed;
    if (!in) {
        in = fuzz_path("in.apk");
        aab = fuzz_path("in.aab");
        out = fuzz_path("out.apk");
        packed = packed_dir();
    }
    unlink(out);
    const char *into = size & 8 ? aab : in;
    fuzz_write(into, data, size);
    sp_inject_opts o;
    memset(&o, 0, sizeof o);
    o.into = into;
    o.from = packed;
    o.out = out;
    o.page_size = size & 2 ? 4096 : 16384;
    o.replace = (size & 4) != 0;
    o.strip_signature = (size & 16) != 0;
    o.no_assets = (size & 32) != 0;
    sp_strv_init(&o.abis);
    if (size & 64)
        sp_strv_push(&o.abis, "x86_64");
    sp_inject_result res;
    sp_error err;
    sp_error_init(&err);
    int rc = sp_inject(&o, &res, &err);
    sp_strv_release(&o.abis);
    fuzz_no_temporary_files();
    if (rc != 0) {
        if (err.status == 0 || !err.msg[0] || access(out, F_OK) == 0)
            abort(); /* a refusal says why and writes nothing */
        return 0;
    }
    fuzz_check_output(out, o.page_size);
    sp_zip z;
    if (sp_zip_open(&z, out, &err) != 0)
        abort();
    /* The input's entries kept, the packed files, and maybe a new base/native.pb. */
    if (z.n < res.kept + res.added || z.n > res.kept + res.added + (res.is_bundle ? 1 : 0))
        abort();
    const char *lib = res.is_bundle ? "base/lib/x86_64/lib_m.so" : "lib/x86_64/lib_m.so";
    if (!sp_zip_find(&z, lib))
        abort(); /* the packed library is in */
    sp_zip_close(&z);
    return 0;
}
