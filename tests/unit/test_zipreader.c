/* The metadata reader on archives from our writer and on damaged copies:
 * every damage is an error, never a crash or a read outside the file. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "sppack/abi.h"
#include "sppack/apk.h"
#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/strv.h"
#include "sppack/zipreader.h"
#include "sppack/zipwriter.h"

static char *tmp_path(const char *name)
{
    const char *tmp = getenv("SP_TEST_TMP") ? getenv("SP_TEST_TMP") : "/tmp";
    return sp_xasprintf("%s/%s", tmp, name);
}

static int open_bytes(const char *path, const unsigned char *data, size_t n, sp_zip *z,
                      sp_error *err)
{
    sp_write_file(path, data, n, NULL);
    return sp_zip_open(z, path, err);
}

int main(void)
{
    char *path = tmp_path("test_zipreader.zip");
    char *bad = tmp_path("test_zipreader_bad.zip");
    sp_error err;
    sp_zipw *zw;
    CHECK(sp_zipw_open(&zw, path, &err) == 0);
    CHECK(sp_zipw_add_stored(zw, "AndroidManifest.xml", "<m/>", 4, 4, &err) == 0);
    CHECK(sp_zipw_add_stored(zw, "lib/arm64-v8a/libx.so",
                             "\x7f"
                             "ELF",
                             4, 16384, &err) == 0);
    CHECK(sp_zipw_add_raw(zw, "classes.dex", 8, 0x12345678, "abc", 3, 10, 0, &err) == 0);
    CHECK(sp_zipw_close(zw, &err) == 0);

    sp_zip z;
    CHECK(sp_zip_open(&z, path, &err) == 0);
    CHECK(z.n == 3);
    if (z.n == 3) {
        CHECK_STR(z.entries[1].name, "lib/arm64-v8a/libx.so");
        CHECK(z.entries[1].data_offset % 16384 == 0);
        CHECK(memcmp(sp_zip_data(&z, &z.entries[1]),
                     "\x7f"
                     "ELF",
                     4) == 0);
        CHECK(z.entries[0].data_offset % 4 == 0);
        CHECK(z.entries[2].method == 8 && z.entries[2].crc == 0x12345678 &&
              z.entries[2].usize == 10 && z.entries[2].csize == 3);
        CHECK(z.sig_block_offset == UINT64_MAX);
        sp_strv problems;
        sp_strv_init(&problems);
        CHECK(sp_apk_check_alignment(&z, 16384, &problems) == 0);
        CHECK(sp_apk_check_alignment(&z, 65536, &problems) == 1);
        CHECK(problems.n == 1 && strstr(problems.v[0], "lib/arm64-v8a/libx.so"));
        sp_strv_release(&problems);
    }
    CHECK(sp_is_native_lib_entry("lib/x86/libfoo.so"));
    CHECK(sp_is_native_lib_entry("base/lib/x86/libfoo.so"));
    CHECK(!sp_is_native_lib_entry("lib/libfoo.so"));
    CHECK(!sp_is_native_lib_entry("assets/lib/x86/libfoo.so.txt"));
    CHECK(sp_apk_alignment("lib/x86/libfoo.so", 8, 16384) == 0);
    CHECK(sp_apk_alignment("assets/stdlib.zip", 0, 16384) == 4);

    /* Damaged copies. */
    size_t n = z.map.size;
    unsigned char *copy = sp_xmalloc(n + 32);
    memcpy(copy, z.map.data, n);
    uint64_t eocd = z.eocd_offset, cd = z.cd_offset;
    sp_zip_close(&z);
    sp_zip y;
    /* Truncated anywhere: never opens with entries past the end. */
    for (size_t cut = 0; cut < n; cut += 997) {
        if (open_bytes(bad, copy, cut, &y, &err) == 0) {
            for (size_t i = 0; i < y.n; i++)
                CHECK(y.entries[i].data_offset + y.entries[i].csize <= cut);
            sp_zip_close(&y);
        }
    }
    CHECK(open_bytes(bad, copy, n - 1, &y, &err) != 0 && err.status == SP_EINPUT);
    /* Bytes after the end record: the comment length no longer matches. */
    memcpy(copy + n, "trailing", 8);
    CHECK(open_bytes(bad, copy, n + 8, &y, &err) != 0 && strstr(err.msg, "not a zip"));
    /* Central directory offset past the end record. */
    unsigned char *e = copy + eocd;
    unsigned char saved[4];
    memcpy(saved, e + 16, 4);
    e[16] = 0xF0;
    e[17] = 0xFF;
    e[18] = 0x7F;
    CHECK(open_bytes(bad, copy, n, &y, &err) != 0);
    memcpy(e + 16, saved, 4);
    /* ZIP64 markers. */
    e[16] = e[17] = e[18] = e[19] = 0xFF;
    CHECK(open_bytes(bad, copy, n, &y, &err) != 0 && strstr(err.msg, "ZIP64"));
    memcpy(e + 16, saved, 4);
    /* An absurd entry count. */
    e[10] = e[11] = e[8] = e[9] = 0xFE;
    CHECK(open_bytes(bad, copy, n, &y, &err) != 0);
    e[10] = e[8] = 3;
    e[11] = e[9] = 0;
    /* A local header offset pointing at garbage. */
    unsigned char *c = copy + cd;
    c[42] = 7;
    CHECK(open_bytes(bad, copy, n, &y, &err) != 0 && strstr(err.msg, "no local header"));
    c[42] = 0;
    CHECK(open_bytes(bad, copy, n, &y, &err) == 0 && y.n == 3);
    sp_zip_close(&y);

    free(copy);
    unlink(path);
    unlink(bad);
    free(path);
    free(bad);
    return check_done();
}
