#define _GNU_SOURCE
#include "sppack/zipwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/platform.h"
#include "sppack/text.h"

#define LOCAL_SIG 0x04034b50u
#define CENTRAL_SIG 0x02014b50u
#define END_SIG 0x06054b50u
#define LOCAL_HEADER_SIZE 30u
#define FLAG_UTF8 0x0800u
#define UNIX_FILE_MODE 0100644u
#define UNIX_DIR_MODE 040755u
#define LIMIT_32 0xFFFFFFFFull

struct sp_zipw {
    FILE *f;
    char *path;  /* the file written */
    char *label; /* what messages name: the output a temporary name stands for */
    uint64_t off;
    uint16_t date, time;
    sp_buf central; /* central directory records, written at close */
    uint32_t count;
    int failed;
    XXH3_state_t *digest; /* of every byte written through our buffers, or NULL */
    int kernel_copied;    /* some bytes bypassed them (copy_file_range) */
};

int sp_zip_dos_time(uint16_t *dos_date, uint16_t *dos_time, sp_error *err)
{
    *dos_date = (0 << 9) | (1 << 5) | 1; /* 1980-01-01 */
    *dos_time = 0;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!sde || !*sde)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (errno || *end || v < 0)
        return sp_error_set(err, SP_EUSAGE, NULL,
                            "SOURCE_DATE_EPOCH must be a non-negative integer, not '%s'", sde);
    time_t t = (time_t)v;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return sp_error_set(err, SP_EUSAGE, NULL, "SOURCE_DATE_EPOCH out of range: %s", sde);
    int year = tm.tm_year + 1900;
    if (year < 1980)
        return 0;
    if (year > 2107) {
        year = 2107;
        tm.tm_mon = 11;
        tm.tm_mday = 31;
        tm.tm_hour = 23;
        tm.tm_min = 59;
        tm.tm_sec = 58;
    }
    *dos_date = (uint16_t)(((year - 1980) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
    *dos_time = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    return 0;
}

static int open_writer(sp_zipw **out, const char *path, int digest, sp_error *err)
{
    *out = NULL;
    uint16_t d, t;
    if (sp_zip_dos_time(&d, &t, err) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        char *label = sp_temp_target(path);
        sp_error_set(err, SP_EIO, label, "cannot write: %s", strerror(e));
        free(label);
        return -1;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    sp_zipw *zw = sp_xcalloc(1, sizeof *zw);
    zw->f = f;
    zw->path = sp_xstrdup(path);
    zw->label = sp_temp_target(path);
    zw->date = d;
    zw->time = t;
    sp_buf_init(&zw->central);
    if (digest) {
        zw->digest = XXH3_createState();
        if (!zw->digest)
            abort();
        XXH3_64bits_reset(zw->digest);
    }
    *out = zw;
    return 0;
}

int sp_zipw_open(sp_zipw **out, const char *path, sp_error *err)
{
    return open_writer(out, path, 0, err);
}

int sp_zipw_open_digest(sp_zipw **out, const char *path, sp_error *err)
{
    return open_writer(out, path, 1, err);
}

uint64_t sp_zipw_offset(const sp_zipw *zw)
{
    return zw->off;
}

static int write_bytes(sp_zipw *zw, const void *p, size_t n, sp_error *err)
{
    if (n && fwrite(p, 1, n, zw->f) != n) {
        zw->failed = 1;
        return sp_error_set(err, SP_EIO, zw->label, "cannot write: %s", strerror(errno));
    }
    if (zw->digest)
        XXH3_64bits_update(zw->digest, p, n);
    zw->off += n;
    return 0;
}

/* Large entry data from a file: copied by the kernel (sp_kernel_copy), not
 * through our buffers, as far as the file systems allow. */
static int copy_from_fd(sp_zipw *zw, int fd, uint64_t offset, const void *data, size_t n,
                        sp_error *err)
{
    if (fd < 0 || n < (1u << 16))
        return write_bytes(zw, data, n, err);
    if (fflush(zw->f) != 0) {
        zw->failed = 1;
        return sp_error_set(err, SP_EIO, zw->label, "cannot write: %s", strerror(errno));
    }
    off_t in_off = (off_t)offset;
    ssize_t copied = sp_kernel_copy(fd, &in_off, fileno(zw->f), n);
    /* The FILE's position follows the descriptor's after a seek. */
    if (copied < 0 || fseeko(zw->f, 0, SEEK_END) != 0) {
        zw->failed = 1;
        return sp_error_set(err, SP_EIO, zw->label, "cannot write: %s", strerror(errno));
    }
    if (copied > 0)
        zw->kernel_copied = 1;
    zw->off += (uint64_t)copied;
    /* Whatever the kernel could not copy here goes through our buffer. */
    return write_bytes(zw, (const unsigned char *)data + copied, n - (size_t)copied, err);
}

static int name_is_ascii(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0x80)
            return 0;
    return 1;
}

/* Per-entry metadata; NULL in add_entry means the writer's fixed values. */
struct meta {
    uint16_t dos_time, dos_date, flags;
    uint32_t ext_attr;
};

static int add_entry(sp_zipw *zw, const char *name, uint16_t method, uint32_t crc, const void *data,
                     uint64_t csize, uint64_t usize, unsigned align, uint32_t mode,
                     const struct meta *meta, int src_fd, uint64_t src_off, sp_error *err)
{
    size_t nlen = strlen(name);
    if (zw->failed)
        return sp_error_set(err, SP_EIO, zw->label, "earlier write failed");
    if (nlen == 0)
        return sp_error_set(err, SP_EINPUT, zw->label, "an entry with an empty name: not allowed");
    if (nlen > 0xFFFF) {
        char *shown = sp_escape(name);
        int rc = sp_error_set(err, SP_EINPUT, zw->label,
                              "%s: an entry name of %zu bytes: more than a zip holds", shown, nlen);
        free(shown);
        return rc;
    }
    if (zw->count >= SP_ZIP_MAX_ENTRIES)
        return sp_error_set(err, SP_EINPUT, zw->label,
                            "more than %u entries: Android rejects ZIP64 archives",
                            SP_ZIP_MAX_ENTRIES);
    if (csize >= LIMIT_32 || usize >= LIMIT_32 || zw->off >= LIMIT_32) {
        char *shown = sp_escape(name);
        int rc =
            sp_error_set(err, SP_EINPUT, zw->label,
                         "%s: entry or archive over 4 GiB: Android rejects ZIP64 archives", shown);
        free(shown);
        return rc;
    }

    /* Alignment record: id, size, alignment value, zero padding. */
    unsigned char extra[4 + 2 + 65536];
    size_t elen = 0;
    uint64_t data_off = zw->off + LOCAL_HEADER_SIZE + nlen;
    if (align > 1 && data_off % align != 0) {
        uint64_t min = data_off + 6;
        uint64_t pad = (align - min % align) % align;
        elen = 6 + (size_t)pad;
        if (elen > 0xFFFF)
            return sp_error_set(err, SP_EUSAGE, name, "alignment %u too large", align);
        memset(extra, 0, elen);
        extra[0] = SP_ZIP_ALIGN_EXTRA_ID & 0xFF;
        extra[1] = SP_ZIP_ALIGN_EXTRA_ID >> 8;
        extra[2] = (unsigned char)((elen - 4) & 0xFF);
        extra[3] = (unsigned char)((elen - 4) >> 8);
        extra[4] = (unsigned char)(align & 0xFF);
        extra[5] = (unsigned char)((align >> 8) & 0xFF);
    }

    uint16_t flags = name_is_ascii(name) ? 0 : FLAG_UTF8;
    uint16_t dtime = zw->time, ddate = zw->date;
    uint32_t ext_attr = mode << 16;
    if (meta) {
        /* Keep the UTF-8 and compression-option bits; never a data descriptor. */
        flags = (uint16_t)(meta->flags & (FLAG_UTF8 | 0x0006));
        dtime = meta->dos_time;
        ddate = meta->dos_date;
        ext_attr = meta->ext_attr;
    }
    uint16_t needed = method == 0 && name[nlen - 1] != '/' ? 10 : 20;
    uint64_t header_off = zw->off;

    sp_buf h;
    sp_buf_init(&h);
    sp_buf_put32(&h, LOCAL_SIG);
    sp_buf_put16(&h, needed);
    sp_buf_put16(&h, flags);
    sp_buf_put16(&h, method);
    sp_buf_put16(&h, dtime);
    sp_buf_put16(&h, ddate);
    sp_buf_put32(&h, crc);
    sp_buf_put32(&h, (uint32_t)csize);
    sp_buf_put32(&h, (uint32_t)usize);
    sp_buf_put16(&h, (uint16_t)nlen);
    sp_buf_put16(&h, (uint16_t)elen);
    sp_buf_add(&h, name, nlen);
    sp_buf_add(&h, extra, elen);
    int rc = write_bytes(zw, h.data, h.len, err);
    sp_buf_release(&h);
    if (rc == 0)
        rc = copy_from_fd(zw, src_fd, src_off, data, (size_t)csize, err);
    if (rc != 0)
        return rc;
    if (zw->off >= LIMIT_32)
        return sp_error_set(err, SP_EINPUT, zw->label,
                            "archive over 4 GiB: Android rejects ZIP64 archives");

    sp_buf *c = &zw->central;
    sp_buf_put32(c, CENTRAL_SIG);
    sp_buf_put16(c, (3 << 8) | 20); /* made by: Unix, zip 2.0 */
    sp_buf_put16(c, needed);
    sp_buf_put16(c, flags);
    sp_buf_put16(c, method);
    sp_buf_put16(c, dtime);
    sp_buf_put16(c, ddate);
    sp_buf_put32(c, crc);
    sp_buf_put32(c, (uint32_t)csize);
    sp_buf_put32(c, (uint32_t)usize);
    sp_buf_put16(c, (uint16_t)nlen);
    sp_buf_put16(c, 0); /* extra */
    sp_buf_put16(c, 0); /* comment */
    sp_buf_put16(c, 0); /* disk */
    sp_buf_put16(c, 0); /* internal attributes */
    sp_buf_put32(c, ext_attr);
    sp_buf_put32(c, (uint32_t)header_off);
    sp_buf_add(c, name, nlen);
    zw->count++;
    return 0;
}

int sp_zipw_add_dir(sp_zipw *zw, const char *name, sp_error *err)
{
    size_t n = strlen(name);
    if (n == 0 || name[n - 1] != '/')
        return sp_error_set(err, SP_EINPUT, name, "directory entry must end with '/'");
    return add_entry(zw, name, 0, 0, NULL, 0, 0, 0, UNIX_DIR_MODE, NULL, -1, 0, err);
}

int sp_zipw_add_stored(sp_zipw *zw, const char *name, const void *data, size_t size, unsigned align,
                       sp_error *err)
{
    uint32_t crc = (uint32_t)crc32_z(0L, data, size);
    return add_entry(zw, name, 0, crc, data, size, size, align, UNIX_FILE_MODE, NULL, -1, 0, err);
}

int sp_zipw_add_raw(sp_zipw *zw, const char *name, uint16_t method, uint32_t crc, const void *cdata,
                    uint64_t csize, uint64_t usize, unsigned align, sp_error *err)
{
    return add_entry(zw, name, method, crc, cdata, csize, usize, align, UNIX_FILE_MODE, NULL, -1, 0,
                     err);
}

int sp_zipw_add_copy(sp_zipw *zw, const sp_zip *z, const sp_zip_entry *e, unsigned align,
                     sp_error *err)
{
    const char *why = e->flags & 1                     ? "encrypted entries are not supported"
                      : e->name_len != strlen(e->name) ? "entry name holds a NUL byte"
                                                       : NULL;
    if (why) {
        char *shown = sp_escape(e->name);
        int rc = sp_error_set(err, SP_EINPUT, zw->label, "%s: %s", shown, why);
        free(shown);
        return rc;
    }
    struct meta m = {e->dos_time, e->dos_date, e->flags, e->ext_attr};
    return add_entry(zw, e->name, e->method, e->crc, sp_zip_data(z, e), e->csize, e->usize, align,
                     0, &m, z->fd, e->data_offset, err);
}

static void zw_free(sp_zipw *zw)
{
    XXH3_freeState(zw->digest);
    sp_buf_release(&zw->central);
    SP_FREE_ALL(zw->path, zw->label, zw);
}

static int finish(sp_zipw *zw, uint64_t *size, uint64_t *xxh3, sp_error *err)
{
    int rc = 0;
    uint64_t cd_off = zw->off;
    if (zw->failed)
        rc = sp_error_set(err, SP_EIO, zw->label, "earlier write failed");
    if (rc == 0)
        rc = write_bytes(zw, zw->central.data, zw->central.len, err);
    if (rc == 0 && zw->off >= LIMIT_32)
        rc = sp_error_set(err, SP_EINPUT, zw->label,
                          "archive over 4 GiB: Android rejects ZIP64 archives");
    if (rc == 0) {
        sp_buf e;
        sp_buf_init(&e);
        sp_buf_put32(&e, END_SIG);
        sp_buf_put16(&e, 0);
        sp_buf_put16(&e, 0);
        sp_buf_put16(&e, (uint16_t)zw->count);
        sp_buf_put16(&e, (uint16_t)zw->count);
        sp_buf_put32(&e, (uint32_t)zw->central.len);
        sp_buf_put32(&e, (uint32_t)cd_off);
        sp_buf_put16(&e, 0);
        rc = write_bytes(zw, e.data, e.len, err);
        sp_buf_release(&e);
    }
    if (fflush(zw->f) != 0 || ferror(zw->f)) {
        if (rc == 0)
            rc = sp_error_set(err, SP_EIO, zw->label, "cannot write: %s", strerror(errno));
    }
    if (fclose(zw->f) != 0 && rc == 0)
        rc = sp_error_set(err, SP_EIO, zw->label, "cannot write: %s", strerror(errno));
    if (rc == 0 && size)
        *size = zw->off;
    if (rc == 0 && xxh3) {
        if (zw->kernel_copied || !zw->digest) {
            /* Bytes we never saw, or did not hash: read them back. */
            sp_map m;
            rc = sp_map_open(&m, zw->path, err);
            if (rc == 0) {
                *xxh3 = XXH3_64bits(m.data, m.size);
                sp_map_close(&m);
            }
        } else {
            *xxh3 = XXH3_64bits_digest(zw->digest);
        }
    }
    zw_free(zw);
    return rc;
}

int sp_zipw_close(sp_zipw *zw, sp_error *err)
{
    return finish(zw, NULL, NULL, err);
}

int sp_zipw_close_digest(sp_zipw *zw, uint64_t *size, uint64_t *xxh3, sp_error *err)
{
    return finish(zw, size, xxh3, err);
}

void sp_zipw_abort(sp_zipw *zw)
{
    if (!zw)
        return;
    fclose(zw->f);
    zw_free(zw);
}

int sp_zipw_end(sp_zipw *zw, int rc, sp_error *err)
{
    if (rc != 0 || !zw) {
        sp_zipw_abort(zw);
        return rc;
    }
    return sp_zipw_close(zw, err);
}
