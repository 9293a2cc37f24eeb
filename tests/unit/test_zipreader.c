/* The metadata reader on archives from our writer and on damaged copies:
 * every damage is an error, never a crash or a read outside the file. */
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

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

/* An archive of these names (stored, one byte each), opened. */
static int names_zip(const char *path, const char *const *names, sp_zip *z)
{
    sp_error err;
    sp_zipw *zw;
    if (sp_zipw_open(&zw, path, &err) != 0)
        return -1;
    int rc = 0;
    for (const char *const *n = names; *n && rc == 0; n++)
        rc = sp_zipw_add_stored(zw, *n, "x", 1, 0, &err);
    if (sp_zipw_end(zw, rc, &err) != 0)
        return -1;
    return sp_zip_open(z, path, &err);
}

/* The one name rule: what verify reports (Z004, Z005) and writers refuse. */
static void name_rules(const char *path)
{
    CHECK(sp_zip_unsafe_name("lib/x86/libfoo.so", 17) == NULL);
    CHECK(sp_zip_unsafe_name("caf\xc3\xa9.py", 8) == NULL);
    CHECK_STR(sp_zip_unsafe_name("../x", 4), "holds a '..' component");
    CHECK_STR(sp_zip_unsafe_name("a/../x", 6), "holds a '..' component");
    CHECK(sp_zip_unsafe_name("a/..b", 5) == NULL);
    CHECK_STR(sp_zip_unsafe_name("/etc/x", 6), "is absolute");
    CHECK_STR(sp_zip_unsafe_name("a\\b", 3), "holds a backslash");
    CHECK_STR(sp_zip_unsafe_name("a\nb", 3), "holds a control character");
    CHECK_STR(sp_zip_unsafe_name("a\x7f", 2), "holds a control character");
    CHECK_STR(sp_zip_unsafe_name("a\xff", 2), "is not valid UTF-8");
    CHECK_STR(sp_zip_unsafe_name("a\0b", 3), "holds a NUL byte");
    CHECK_STR(sp_zip_unsafe_name("", 0), "is empty");

    sp_zip z;
    sp_error err;
    const char *fine[] = {"AndroidManifest.xml", "assets/a", "assets/b", NULL};
    CHECK(names_zip(path, fine, &z) == 0);
    const sp_zip_entry **dups;
    CHECK(sp_zip_duplicates(&z, &dups) == 0);
    free(dups);
    CHECK(sp_zip_check_entries(&z, "in.apk", &err) == 0);
    sp_zip_close(&z);

    const char *twice[] = {"b", "a", "b", "c", "a", "b", NULL};
    CHECK(names_zip(path, twice, &z) == 0);
    size_t nd = sp_zip_duplicates(&z, &dups);
    CHECK(nd == 2);
    if (nd == 2) { /* each name once, the second of it */
        CHECK(dups[0] == &z.entries[4] && dups[1] == &z.entries[2]);
    }
    free(dups);
    CHECK(sp_zip_check_entries(&z, "in.apk", &err) != 0 && err.status == SP_EINPUT);
    CHECK(strstr(err.msg, "in.apk: a: entry name appears more than once") == err.msg);
    sp_zip_close(&z);

    /* The writer's own refusal names the output, not its temporary name. */
    char *tmp = sp_temp_path(path);
    sp_zipw *zw;
    CHECK(sp_zipw_open(&zw, tmp, &err) == 0);
    CHECK(sp_zipw_add_stored(zw, "", "x", 1, 0, &err) != 0 && err.status == SP_EINPUT);
    char *want = sp_xasprintf("%s: an entry with an empty name: not allowed", path);
    CHECK_STR(err.msg, want);
    free(want);
    sp_zipw_abort(zw);
    unlink(tmp);
    free(tmp);

    const char *forged[] = {"ok", "assets/a\nsp-pack: fake: error", NULL};
    CHECK(names_zip(path, forged, &z) == 0);
    CHECK(sp_zip_check_entries(&z, "in.apk", &err) != 0);
    CHECK(strstr(err.msg, "in.apk: assets/a\\nsp-pack: fake: error: entry name holds a control "
                          "character") == err.msg);
    CHECK(!strchr(err.msg, '\n'));
    sp_zip_close(&z);
}

/* Inflation: exact sizes or an error, growing with what comes out; heads
 * without inflating the rest; shared data refused. */
static void inflation(const char *path)
{
    static char text[100000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "hello, world\n"[i % 13];
    unsigned char packed[4096];
    z_stream s;
    memset(&s, 0, sizeof s);
    deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    s.next_in = (unsigned char *)text;
    s.avail_in = sizeof text;
    s.next_out = packed;
    s.avail_out = sizeof packed;
    CHECK(deflate(&s, Z_FINISH) == Z_STREAM_END);
    size_t csize = s.total_out;
    deflateEnd(&s);
    uint32_t crc = (uint32_t)crc32(0, (unsigned char *)text, sizeof text);
    sp_error err;
    sp_zipw *zw;
    CHECK(sp_zipw_open(&zw, path, &err) == 0);
    CHECK(sp_zipw_add_raw(zw, "right", 8, crc, packed, csize, sizeof text, 0, &err) == 0);
    CHECK(sp_zipw_add_raw(zw, "claims-more", 8, crc, packed, csize, sizeof text + 1, 0, &err) == 0);
    CHECK(sp_zipw_add_raw(zw, "claims-less", 8, crc, packed, csize, sizeof text - 1, 0, &err) == 0);
    CHECK(sp_zipw_close(zw, &err) == 0);
    sp_zip z;
    CHECK(sp_zip_open(&z, path, &err) == 0 && z.n == 3);
    if (z.n == 3) {
        sp_buf b;
        sp_buf_init(&b);
        CHECK(sp_zip_read_entry(&z, &z.entries[0], sizeof text, &b, &err) == 0);
        CHECK(b.len == sizeof text && memcmp(b.data, text, b.len) == 0);
        CHECK(sp_zip_read_entry(&z, &z.entries[0], sizeof text - 1, &b, &err) != 0);
        CHECK(sp_zip_read_entry(&z, &z.entries[1], 1 << 20, &b, &err) != 0 &&
              strstr(err.msg, "corrupt"));
        CHECK(sp_zip_read_entry(&z, &z.entries[2], 1 << 20, &b, &err) != 0 &&
              strstr(err.msg, "corrupt"));
        char head[8];
        CHECK(sp_zip_read_head(&z, &z.entries[0], head, 5) == 5 && !memcmp(head, "hello", 5));
        z.entries[1].shared = 1;
        CHECK(sp_zip_read_entry(&z, &z.entries[1], 1 << 20, &b, &err) != 0 &&
              strstr(err.msg, "zip bomb"));
        CHECK(sp_zip_read_head(&z, &z.entries[1], head, 5) == -1);
        sp_buf_release(&b);
    }
    sp_zip_close(&z);
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
    name_rules(bad);
    inflation(bad);
    unlink(path);
    unlink(bad);
    free(path);
    free(bad);
    return check_done();
}
