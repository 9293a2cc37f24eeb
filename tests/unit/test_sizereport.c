/* The size report's parts: top-level names, the package tally, the deflate
 * estimate of bytes and of a file. */
#include <stdlib.h>

#include "check.h"
#include "sppack/alloc.h"
#include "sppack/file.h"
#include "sppack/sizereport.h"

static void check_name(const char *path, const char *want)
{
    char *got = sp_top_level_name(path);
    if (want)
        CHECK_STR(got, want);
    else
        CHECK(got == NULL);
    free(got);
}

int main(void)
{
    check_name("numpy/core/_methods.py", "numpy");
    check_name("numpy/", "numpy");
    check_name("six.py", "six");
    check_name("six.pyc", "six");
    check_name("_decimal.soref", "_decimal");
    check_name("README.txt", "README.txt");
    check_name("numpy-1.24.2.egg-info/PKG-INFO", "numpy-1.24.2.egg-info");
    check_name(".py", ".py");
    check_name("", NULL);
    check_name("/x", NULL);

    /* A package's bytes: what every ABI ships of it plus the most one ABI adds. */
    sp_package_tally t;
    sp_package_tally_init(&t);
    sp_package_tally_add(&t, "numpy/__init__.py", -1, 100);
    sp_package_tally_add(&t, "numpy/core/x.soref", -1, 10);
    sp_package_tally_add(&t, "numpy/core/x.soref", 0, 1000); /* its library, per ABI */
    sp_package_tally_add(&t, "numpy/core/x.soref", 1, 3000);
    sp_package_tally_add(&t, "numpy/__config__.py", 1, 5);
    sp_package_tally_add(&t, "json/__init__.py", -1, 2000);
    sp_package_tally_add(&t, "abc.py", -1, 3000);
    sp_package_tally_add(&t, "zz.py", 0, 3000);
    sp_package_tally_add(&t, "", -1, 99999); /* no name: not counted */
    sp_size_package *p;
    size_t n = sp_package_tally_top(&t, 2, 10, &p);
    CHECK(n == 4);
    CHECK_STR(p[0].name, "numpy");
    CHECK(p[0].bytes == 100 + 10 + 3000 + 5);
    CHECK_STR(p[1].name, "abc"); /* a tie: by name */
    CHECK_STR(p[2].name, "zz");
    CHECK(p[2].bytes == 3000);
    CHECK_STR(p[3].name, "json");
    sp_size_packages_free(p, n);
    n = sp_package_tally_top(&t, 2, 2, &p);
    CHECK(n == 2);
    sp_size_packages_free(p, n);
    sp_package_tally_release(&t);
    n = sp_package_tally_top(&t, 2, 10, &p);
    CHECK(n == 0);
    sp_size_packages_free(p, n);

    /* The estimate: raw deflate at level 9, of bytes or of a file. */
    CHECK(sp_deflated_size("", 0) == 2); /* one empty final block */
    size_t big = 3u << 20;
    unsigned char *data = sp_xcalloc(big, 1);
    uint64_t zeros = sp_deflated_size(data, big);
    CHECK(zeros > 0 && zeros < 8192);
    unsigned x = 12345;
    for (size_t i = 0; i < big; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (unsigned char)(x >> 16) & 0x3f; /* 6 bits of noise per byte */
    }
    uint64_t noise = sp_deflated_size(data, big);
    CHECK(noise > big / 2 && noise < big);
    const char *dir = getenv("SP_TEST_TMP");
    char *path = sp_xasprintf("%s/test_sizereport.bin", dir ? dir : "/tmp");
    sp_error err;
    CHECK(sp_write_file(path, data, big, &err) == 0);
    uint64_t from_file = 0;
    CHECK(sp_deflated_size_file(path, &from_file, &err) == 0);
    CHECK(from_file == noise);
    remove(path);
    CHECK(sp_deflated_size_file(path, &from_file, &err) == -1 && err.status == SP_EIO);
    free(path);
    free(data);
    return check_done();
}
