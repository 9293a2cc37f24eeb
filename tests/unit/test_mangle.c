#include <stdlib.h>

#include "check.h"
#include "sppack/classify.h"
#include "sppack/mangle.h"

static void roundtrip(const char *dotted, const char *lib)
{
    char *m = sp_mangle(dotted);
    CHECK_STR(m, lib);
    CHECK(m && sp_is_android_lib_name(m));
    char *back = m ? sp_unmangle(m) : NULL;
    CHECK_STR(back, dotted);
    free(m);
    free(back);
}

int main(void)
{
    /* The serious-python rule for ASCII identifiers. */
    roundtrip("numpy.core._multiarray_umath", "libnumpy-core-_multiarray_umath.so");
    roundtrip("_bz2", "lib_bz2.so");
    roundtrip("pkg.__init__", "libpkg-__init__.so");
    /* Escapes: PEP 3131 names and non-identifier directories stay distinct. */
    roundtrip("caf\xc3\xa9.m", "libcaf.c3.a9-m.so");
    roundtrip("a-b.mod", "liba.2db-mod.so");
    char *x = sp_mangle("a-b.mod"), *y = sp_mangle("a.b.mod");
    CHECK(x && y && strcmp(x, y) != 0);
    free(x);
    free(y);
    /* Invalid inputs. */
    CHECK(sp_mangle("") == NULL);
    CHECK(sp_mangle("a..b") == NULL);
    CHECK(sp_mangle(".a") == NULL);
    CHECK(sp_mangle("a.") == NULL);
    CHECK(sp_unmangle("libfoo.so.1") == NULL);
    CHECK(sp_unmangle("libfoo.zz.so") == NULL);
    CHECK(sp_unmangle("lib.5f.so") == NULL); /* "_" is never escaped */
    CHECK(sp_unmangle("foo.so") == NULL);
    /* Android's install rule. */
    CHECK(sp_is_android_lib_name("libssl_python.so"));
    CHECK(sp_is_android_lib_name("libopenblas64_p-r0-2f7c42d4.3.18.so"));
    CHECK(!sp_is_android_lib_name("libfoo.so.1"));
    CHECK(!sp_is_android_lib_name("foo.so"));
    CHECK(sp_is_android_lib_name("libc++_shared.so")); /* the NDK's C++ runtime */
    CHECK(sp_is_android_lib_name("liba,b=c.so"));
    CHECK(!sp_is_android_lib_name("lib x.so"));
    CHECK(!sp_is_android_lib_name("lib@x.so"));
    CHECK(!sp_is_android_lib_name("lib/x.so"));
    CHECK(!sp_is_android_lib_name("lib.s"));

    /* Classification of names. */
    char *stem;
    CHECK(sp_classify_so_name("_bz2.cpython-311-x86_64-linux-gnu.so", &stem, NULL) == SP_SO_TAGGED);
    CHECK_STR(stem, "_bz2");
    free(stem);
    CHECK(sp_classify_so_name("foo.abi3.so", &stem, NULL) == SP_SO_TAGGED);
    CHECK_STR(stem, "foo");
    free(stem);
    CHECK(sp_classify_so_name("foo.so", &stem, NULL) == SP_SO_PLAIN);
    CHECK_STR(stem, "foo");
    free(stem);
    CHECK(sp_classify_so_name("libbar.so.1", &stem, NULL) == SP_SO_OTHER && !stem);
    CHECK(sp_classify_so_name("libx-1a2b.so.1.2", &stem, NULL) == SP_SO_OTHER);
    CHECK(sp_classify_so_name("foo.py", &stem, NULL) == SP_SO_NONE);
    CHECK(sp_classify_so_name("foo.so.txt", &stem, NULL) == SP_SO_NONE);
    CHECK(sp_classify_so_name("x.cpython-311.so.bak", &stem, NULL) == SP_SO_NONE);

    /* What the tags say, and what each interpreter loads. */
    sp_so_tag tag;
    char why[64];
    const sp_abi *x86_64 = sp_abi_find("x86_64"), *arm64 = sp_abi_find("arm64-v8a");
    CHECK(sp_classify_so_name("m.cpython-314-aarch64-linux-android.so", &stem, &tag) ==
          SP_SO_TAGGED);
    free(stem);
    CHECK(tag.cpython == 314 && !tag.stable && !strcmp(tag.triplet, "aarch64-linux-android"));
    CHECK(sp_so_tag_mismatch(&tag, 314, arm64, why, sizeof why) == NULL);
    CHECK(sp_so_tag_mismatch(&tag, 315, arm64, why, sizeof why) &&
          !strcmp(why, "for CPython 3.14"));
    CHECK(sp_so_tag_mismatch(&tag, 314, x86_64, why, sizeof why) &&
          !strcmp(why, "for aarch64-linux-android"));
    CHECK(sp_classify_so_name("_rust.abi3-x86_64-linux-gnu.so", &stem, &tag) == SP_SO_TAGGED);
    CHECK_STR(stem, "_rust");
    free(stem);
    CHECK(tag.stable == 1 && tag.cpython == 0 && !strcmp(tag.triplet, "x86_64-linux-gnu"));
    CHECK(sp_so_tag_mismatch(&tag, 311, x86_64, why, sizeof why) == NULL);
    CHECK(sp_classify_so_name("m.cpython-314t-x86_64-linux-gnu.so", &stem, &tag) == SP_SO_TAGGED);
    free(stem);
    CHECK(tag.free_threaded && sp_so_tag_mismatch(&tag, 314, x86_64, why, sizeof why));
    CHECK(sp_classify_so_name("m.abi3t.so", &stem, &tag) == SP_SO_TAGGED && tag.stable == 2);
    free(stem);
    CHECK(sp_classify_so_name("m.cpython-311.so", &stem, &tag) == SP_SO_TAGGED &&
          tag.cpython == 311 && !tag.triplet[0]);
    free(stem);
    CHECK(sp_so_tag_mismatch(&tag, 0, x86_64, why, sizeof why) == NULL); /* version unknown */
    CHECK(sp_classify_so_name("m.cpython-.so", &stem, &tag) == SP_SO_OTHER);
    CHECK(sp_classify_so_name("m.cpython-311-Bad.so", &stem, &tag) == SP_SO_OTHER);
    CHECK(sp_classify_so_name("m.abi4.so", &stem, &tag) == SP_SO_OTHER);

    char *module, *from, *marker;
    sp_module_names("numpy/core/_simd.cpython-311.so", "_simd", &module, &from, &marker);
    CHECK_STR(module, "numpy.core._simd");
    CHECK_STR(from, "numpy.core._simd");
    CHECK_STR(marker, "numpy/core/_simd.soref");
    free(module);
    free(from);
    free(marker);
    sp_module_names("pkg/__init__.abi3.so", "__init__", &module, &from, &marker);
    CHECK_STR(module, "pkg");
    CHECK_STR(from, "pkg.__init__");
    CHECK_STR(marker, "pkg/__init__.soref");
    free(module);
    free(from);
    free(marker);
    sp_module_names("_bz2.cpython-311.so", "_bz2", &module, &from, &marker);
    CHECK_STR(module, "_bz2");
    CHECK_STR(marker, "_bz2.soref");
    free(module);
    free(from);
    free(marker);
    return check_done();
}
