/* The writer's bytes judged by libzip's consistency check, plus the layout
 * facts libzip does not show (alignment record, no data descriptor). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zip.h>

#include "check.h"
#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/strv.h"
#include "sppack/zipreader.h"
#include "sppack/zipwriter.h"

static uint32_t rd32(const unsigned char *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

int main(void)
{
    const char *tmp = getenv("SP_TEST_TMP") ? getenv("SP_TEST_TMP") : "/tmp";
    char *path = sp_xasprintf("%s/test_zipwriter.zip", tmp);
    sp_error err;
    sp_error_init(&err);
    unsetenv("SOURCE_DATE_EPOCH");

    sp_zipw *zw;
    CHECK(sp_zipw_open(&zw, path, &err) == 0);
    CHECK(sp_zipw_add_dir(zw, "pkg/", &err) == 0);
    CHECK(sp_zipw_add_stored(zw, "pkg/a.py", "print(1)\n", 9, 0, &err) == 0);
    CHECK(sp_zipw_add_stored(zw, "lib/x86_64/libx.so", "ELFDATA", 7, 16384, &err) == 0);
    CHECK(sp_zipw_add_stored(zw, "caf\xc3\xa9.txt", "", 0, 4, &err) == 0);
    CHECK(sp_zipw_add_dir(zw, "nodir", &err) != 0);
    CHECK(sp_zipw_close(zw, &err) == 0);

    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    CHECK(z != NULL);
    if (z) {
        CHECK(zip_get_num_entries(z, 0) == 4);
        zip_stat_t st;
        CHECK(zip_stat(z, "pkg/a.py", 0, &st) == 0 && st.size == 9 &&
              st.comp_method == ZIP_CM_STORE);
        zip_file_t *f = zip_fopen(z, "lib/x86_64/libx.so", 0);
        char buf[16] = {0};
        CHECK(f && zip_fread(f, buf, sizeof buf) == 7 && memcmp(buf, "ELFDATA", 7) == 0);
        if (f)
            zip_fclose(f);
        zip_close(z);
    }

    sp_map m;
    CHECK(sp_map_open(&m, path, &err) == 0);
    /* Walk local headers: no data descriptor flag, the .so aligned. */
    size_t off = 0;
    int seen = 0;
    while (off + 30 <= m.size && rd32(m.data + off) == 0x04034b50) {
        uint16_t flags = rd16(m.data + off + 6);
        uint16_t nlen = rd16(m.data + off + 26), elen = rd16(m.data + off + 28);
        uint32_t csize = rd32(m.data + off + 18);
        CHECK((flags & 8) == 0);
        const char *name = (const char *)m.data + off + 30;
        size_t data_off = off + 30 + nlen + elen;
        if (nlen == 18 && memcmp(name, "lib/x86_64/libx.so", 18) == 0) {
            CHECK(data_off % 16384 == 0);
            CHECK(elen >= 6 && rd16(m.data + off + 30 + nlen) == 0xD935);
            CHECK(rd16(m.data + off + 30 + nlen + 4) == 16384);
        } else if (nlen == 8) {
            CHECK(elen == 0); /* no extra field unless aligning */
        } else if (name[0] == 'c') {
            CHECK(flags & 0x800); /* UTF-8 name */
            CHECK(data_off % 4 == 0);
        }
        seen++;
        off = data_off + csize;
    }
    CHECK(seen == 4);
    /* Fixed timestamp: 1980-01-01 00:00. */
    CHECK(rd16(m.data + 10) == 0 && rd16(m.data + 12) == ((1 << 5) | 1));
    sp_map_close(&m);

    /* SOURCE_DATE_EPOCH sets the timestamp; garbage is refused. */
    uint16_t d, t;
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1); /* 2023-11-14 22:13:20 UTC */
    CHECK(sp_zip_dos_time(&d, &t, &err) == 0);
    CHECK(d == (((2023 - 1980) << 9) | (11 << 5) | 14));
    CHECK(t == ((22 << 11) | (13 << 5) | 10));
    setenv("SOURCE_DATE_EPOCH", "12abc", 1);
    CHECK(sp_zip_dos_time(&d, &t, &err) != 0 && err.status == SP_EUSAGE);
    unsetenv("SOURCE_DATE_EPOCH");

    /* Over the entry limit: refused (Android rejects ZIP64). */
    CHECK(sp_zipw_open(&zw, path, &err) == 0);
    int rc = 0;
    for (unsigned i = 0; i < SP_ZIP_MAX_ENTRIES + 1 && rc == 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%u", i);
        rc = sp_zipw_add_stored(zw, name, "", 0, 0, &err);
    }
    CHECK(rc != 0 && err.status == SP_EINPUT && strstr(err.msg, "ZIP64"));
    sp_zipw_abort(zw);

    /* The digest given at close is the XXH3 of the file's bytes, whether
     * they went through the writer's buffer or were copied by the kernel
     * (an entry of 256 KiB copied from another archive), and whether the
     * writer hashed as it wrote or reads back. */
    char *big = sp_xasprintf("%s/test_zipwriter_big.zip", tmp);
    unsigned char *payload = sp_xmalloc(256 << 10);
    for (size_t i = 0; i < (256u << 10); i++)
        payload[i] = (unsigned char)(i * 31 + 7);
    for (int run = 0; run < 4; run++) {
        int copied = run & 1, hashing = run >> 1;
        CHECK((hashing ? sp_zipw_open_digest : sp_zipw_open)(&zw, path, &err) == 0);
        CHECK(sp_zipw_add_stored(zw, "a.py", "print(1)\n", 9, 0, &err) == 0);
        sp_zip src;
        int opened = 0;
        if (copied) {
            sp_zipw *bw;
            CHECK(sp_zipw_open(&bw, big, &err) == 0);
            CHECK(sp_zipw_add_stored(bw, "big.bin", payload, 256u << 10, 0, &err) == 0);
            CHECK(sp_zipw_close(bw, &err) == 0);
            opened = sp_zip_open(&src, big, &err) == 0;
            CHECK(opened && src.n == 1);
            if (opened && src.n == 1)
                CHECK(sp_zipw_add_copy(zw, &src, &src.entries[0], 16384, &err) == 0);
        } else {
            CHECK(sp_zipw_add_stored(zw, "big.bin", payload, 256u << 10, 16384, &err) == 0);
        }
        uint64_t size = 0, digest = 0;
        CHECK(sp_zipw_close_digest(zw, &size, &digest, &err) == 0);
        if (opened)
            sp_zip_close(&src);
        CHECK(sp_map_open(&m, path, &err) == 0);
        CHECK(size == m.size && size > (256u << 10));
        CHECK(digest == XXH3_64bits(m.data, m.size));
        sp_map_close(&m);
    }
    remove(big);
    free(big);

    /* From another file system, where copy_file_range refuses (EXDEV), the
     * kernel still copies (sendfile): the same bytes. */
    struct stat shm, here;
    if (stat("/dev/shm", &shm) == 0 && stat(tmp, &here) == 0 && shm.st_dev != here.st_dev) {
        char *far = sp_xasprintf("/dev/shm/test_zipwriter_%ld.zip", (long)getpid());
        sp_zipw *bw;
        CHECK(sp_zipw_open(&bw, far, &err) == 0);
        CHECK(sp_zipw_add_stored(bw, "big.bin", payload, 256u << 10, 0, &err) == 0);
        CHECK(sp_zipw_close(bw, &err) == 0);
        sp_zip src;
        int opened = sp_zip_open(&src, far, &err) == 0;
        CHECK(opened && src.n == 1);
        CHECK(sp_zipw_open(&zw, path, &err) == 0);
        if (opened && src.n == 1)
            CHECK(sp_zipw_add_copy(zw, &src, &src.entries[0], 16384, &err) == 0);
        uint64_t size = 0, digest = 0;
        CHECK(sp_zipw_close_digest(zw, &size, &digest, &err) == 0);
        sp_zip out;
        CHECK(sp_zip_open(&out, path, &err) == 0);
        CHECK(out.n == 1 && out.entries[0].usize == (256u << 10) &&
              out.entries[0].data_offset % 16384 == 0 &&
              memcmp(sp_zip_data(&out, &out.entries[0]), payload, 256u << 10) == 0);
        sp_zip_close(&out);
        if (opened)
            sp_zip_close(&src);
        CHECK(sp_map_open(&m, path, &err) == 0);
        CHECK(digest == XXH3_64bits(m.data, m.size));
        sp_map_close(&m);
        remove(far);
        free(far);
    } else {
        fprintf(stderr, "note: /dev/shm is not another file system here; "
                        "the copy across file systems was not exercised\n");
    }
    free(payload);
    remove(path);
    free(path);
    return check_done();
}
