#include "sppack/zipreader.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sppack/alloc.h"
#include "sppack/text.h"
#include "sppack/vec.h"

#define EOCD_SIG 0x06054b50u
#define EOCD64_LOCATOR_SIG 0x07064b50u
#define CEN_SIG 0x02014b50u
#define LOC_SIG 0x04034b50u
#define EOCD_SIZE 22u
#define CEN_SIZE 46u
#define LOC_SIZE 30u

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

void sp_zip_close(sp_zip *z)
{
    for (size_t i = 0; i < z->n; i++)
        free(z->entries[i].name);
    free(z->entries);
    sp_map_close(&z->map);
    if (z->fd > 0)
        close(z->fd);
    memset(z, 0, sizeof *z);
    z->fd = -1;
}

const unsigned char *sp_zip_data(const sp_zip *z, const sp_zip_entry *e)
{
    return z->data + e->data_offset;
}

/* The end record: the last signature whose comment ends exactly at the end
 * of the file; failing that (lenient), the last signature whose comment fits. */
static int find_eocd(const sp_zip *z, int lenient, uint64_t *off)
{
    size_t size = z->size;
    if (size < EOCD_SIZE)
        return -1;
    size_t lowest = size > EOCD_SIZE + 0xFFFF ? size - EOCD_SIZE - 0xFFFF : 0;
    for (int pass = 0; pass < 1 + lenient; pass++) {
        for (size_t p = size - EOCD_SIZE + 1; p-- > lowest;) {
            const unsigned char *q = z->data + p;
            if (rd32(q) != EOCD_SIG)
                continue;
            uint64_t end = p + EOCD_SIZE + rd16(q + 20);
            if (pass == 0 ? end == size : end <= size) {
                *off = p;
                return 0;
            }
        }
    }
    return -1;
}

/* Stops the parse: err gets "label: msg", z->fatal the problem. */
static int fatal(sp_zip *z, enum sp_zip_problem why, sp_error *err, const char *label,
                 const char *msg)
{
    sp_error_set(err, SP_EINPUT, label, "%s", msg);
    /* Free what was built but keep the caller's mapping for sp_zip_close. */
    for (size_t i = 0; i < z->n; i++)
        free(z->entries[i].name);
    free(z->entries);
    z->entries = NULL;
    z->n = 0;
    z->fatal = why;
    return -1;
}

/* The local header of a valid entry, whose 30 bytes and name are inside
 * the file (checked by the caller). */
static void read_local(const unsigned char *d, size_t size, sp_zip_entry *x)
{
    const unsigned char *lh = d + x->local_offset;
    sp_zip_local *l = &x->local;
    l->flags = rd16(lh + 6);
    l->method = rd16(lh + 8);
    l->crc = rd32(lh + 14);
    l->csize = rd32(lh + 18);
    l->usize = rd32(lh + 22);
    l->name_len = rd16(lh + 26);
    l->extra_len = rd16(lh + 28);
    l->name_matches = l->name_len == x->name_len &&
                      x->local_offset + LOC_SIZE + l->name_len <= size &&
                      memcmp(lh + LOC_SIZE, x->name, x->name_len) == 0;
}

static int cmp_local_offset(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const sp_zip_entry *x = *(const sp_zip_entry *const *)a, *y = *(const sp_zip_entry *const *)b;
    return x->local_offset < y->local_offset ? -1 : x->local_offset > y->local_offset;
}

size_t sp_zip_by_offset(const sp_zip *z, const sp_zip_entry ***out)
{
    const sp_zip_entry **by = sp_xcalloc(z->n ? z->n : 1, sizeof *by);
    size_t n = 0;
    for (size_t i = 0; i < z->n; i++)
        if (z->entries[i].valid)
            by[n++] = &z->entries[i];
    sp_sort(by, n, sizeof *by, cmp_local_offset, NULL);
    *out = by;
    return n;
}

/* Flags entries whose span (local header to the end of their data) overlaps
 * another's: by offset, each entry that starts before the furthest end so
 * far, and the entry with that end. */
static void mark_shared(sp_zip *z)
{
    const sp_zip_entry **by;
    size_t n = sp_zip_by_offset(z, &by);
    uint64_t far = 0;
    sp_zip_entry *far_entry = NULL;
    for (size_t i = 0; i < n; i++) {
        sp_zip_entry *e = (sp_zip_entry *)by[i];
        if (e->csize == 0)
            continue;
        if (far_entry && e->local_offset < far) {
            e->shared = 1;
            far_entry->shared = 1;
        }
        uint64_t end = e->data_offset + e->csize;
        if (!far_entry || end > far) {
            far = end;
            far_entry = e;
        }
    }
    free(by);
}

int sp_zip_open_buffer(sp_zip *z, const unsigned char *d, size_t size, const char *label,
                       sp_zip_issue_fn issue, void *ctx, sp_error *err)
{
    sp_map keep = z->map;
    memset(z, 0, sizeof *z);
    z->map = keep;
    z->fd = -1;
    z->data = d;
    z->size = size;
    z->sig_block_offset = UINT64_MAX;
    char msg[512];
    uint64_t eocd;
    if (find_eocd(z, issue != NULL, &eocd) != 0)
        return fatal(z, SP_ZIP_NOT_ZIP, err, label, "not a zip file (no end of central directory)");
    const unsigned char *e = d + eocd;
    z->trailing = size - (eocd + EOCD_SIZE + rd16(e + 20));
    if (z->trailing && issue) {
        snprintf(msg, sizeof msg, "%llu bytes after the end of central directory record",
                 (unsigned long long)z->trailing);
        issue(ctx, SP_ZIP_TRAILING, NULL, msg);
    }
    uint16_t count = rd16(e + 10);
    uint32_t cd_size = rd32(e + 12), cd_off = rd32(e + 16);
    if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu ||
        (eocd >= 20 && rd32(d + eocd - 20) == EOCD64_LOCATOR_SIG))
        return fatal(z, SP_ZIP_ZIP64, err, label, "ZIP64 archive (Android rejects them)");
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0 || rd16(e + 8) != count)
        return fatal(z, SP_ZIP_MULTIDISK, err, label, "multi-disk zip archives are not supported");
    if ((uint64_t)cd_off + cd_size > eocd)
        return fatal(z, SP_ZIP_CD_OVERLAP, err, label,
                     "central directory runs into the end record");
    z->eocd_offset = eocd;
    z->cd_offset = cd_off;
    z->cd_size = cd_size;
    /* APK Signing Block: ... size (8) | magic (16) right before the CD. */
    if (cd_off >= 32 && memcmp(d + cd_off - 16, "APK Sig Block 42", 16) == 0) {
        uint64_t bsize = rd64(d + cd_off - 24);
        z->sig_block_offset = bsize + 8 <= cd_off ? cd_off - bsize - 8 : 0;
    }
    /* A count can claim no more entries than the directory has room for. */
    if ((uint64_t)count * CEN_SIZE > cd_size) {
        snprintf(msg, sizeof msg, "central directory too small for %u entries (truncated?)", count);
        return fatal(z, SP_ZIP_TRUNCATED, err, label, msg);
    }
    z->entries = sp_xcalloc(count ? count : 1, sizeof *z->entries);
    uint64_t p = cd_off, end = (uint64_t)cd_off + cd_size;
    for (uint16_t i = 0; i < count; i++) {
        if (p + CEN_SIZE > end || rd32(d + p) != CEN_SIG) {
            snprintf(msg, sizeof msg, "central directory entry %u is corrupt", i);
            return fatal(z, SP_ZIP_TRUNCATED, err, label, msg);
        }
        const unsigned char *c = d + p;
        uint16_t nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
        if (p + CEN_SIZE + nlen + xlen + clen > end) {
            snprintf(msg, sizeof msg, "central directory entry %u is truncated", i);
            return fatal(z, SP_ZIP_TRUNCATED, err, label, msg);
        }
        sp_zip_entry *x = &z->entries[z->n++];
        x->name = sp_xstrndup((const char *)c + CEN_SIZE, nlen);
        x->name_len = nlen;
        x->flags = rd16(c + 8);
        x->method = rd16(c + 10);
        x->dos_time = rd16(c + 12);
        x->dos_date = rd16(c + 14);
        x->crc = rd32(c + 16);
        x->csize = rd32(c + 20);
        x->usize = rd32(c + 24);
        x->ext_attr = rd32(c + 38);
        x->local_offset = rd32(c + 42);
        p += CEN_SIZE + nlen + xlen + clen;
        if (x->csize == 0xFFFFFFFFu || x->usize == 0xFFFFFFFFu || x->local_offset == 0xFFFFFFFFu) {
            snprintf(msg, sizeof msg, "%s: ZIP64 entry (Android rejects them)", x->name);
            return fatal(z, SP_ZIP_ZIP64, err, label, msg);
        }
        uint64_t lo = x->local_offset;
        const char *problem = NULL;
        enum sp_zip_problem why = SP_ZIP_OK;
        if (lo + LOC_SIZE > size || rd32(d + lo) != LOC_SIG) {
            problem = "no local header at the offset the central directory gives";
            why = SP_ZIP_NO_LOCAL;
        } else {
            x->data_offset = lo + LOC_SIZE + rd16(d + lo + 26) + rd16(d + lo + 28);
            if (x->data_offset + x->csize > size) {
                problem = "data runs past the end of the file (truncated?)";
                why = SP_ZIP_TRUNCATED;
            }
        }
        if (problem) {
            if (!issue) {
                snprintf(msg, sizeof msg, "%s: %s", x->name, problem);
                return fatal(z, why, err, label, msg);
            }
            issue(ctx, why, x->name, problem);
            continue;
        }
        read_local(d, size, x);
        x->valid = 1;
    }
    mark_shared(z);
    return 0;
}

int sp_zip_open(sp_zip *z, const char *path, sp_error *err)
{
    memset(z, 0, sizeof *z);
    if (sp_map_view(&z->map, path, err) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC); /* for kernel-side copies; optional */
    if (sp_zip_open_buffer(z, z->map.data, z->map.size, path, NULL, NULL, err) != 0) {
        if (fd >= 0)
            close(fd);
        sp_zip_close(z);
        return -1;
    }
    z->fd = fd;
    return 0;
}

int sp_zip_unchanged(const sp_zip *z, const char *label, sp_error *err)
{
    return sp_map_unchanged(&z->map, label, err);
}

const sp_zip_entry *sp_zip_find(const sp_zip *z, const char *name)
{
    for (size_t i = 0; i < z->n; i++)
        if (z->entries[i].valid && strcmp(z->entries[i].name, name) == 0)
            return &z->entries[i];
    return NULL;
}

/* Checks shared by every read: what the entry claims against max_size. */
static int read_allowed(const sp_zip_entry *e, size_t max_size, sp_error *err)
{
    if (!e->valid)
        return sp_error_set(err, SP_EINPUT, e->name, "entry data is not inside the archive");
    if (e->shared)
        return sp_error_set(err, SP_EINPUT, e->name,
                            "shares its compressed data with another entry: a zip bomb");
    if (e->usize > max_size)
        return sp_error_set(err, SP_EINPUT, e->name, "entry of %u bytes is larger than %zu",
                            e->usize, max_size);
    if (e->method != 0 && (uint64_t)e->usize > (uint64_t)e->csize * SP_ZIP_MAX_RATIO + 1024)
        return sp_error_set(err, SP_EINPUT, e->name,
                            "claims %u bytes from %u compressed: more than deflate can give",
                            e->usize, e->csize);
    if (e->method != 0 && e->method != 8)
        return sp_error_set(err, SP_EINPUT, e->name, "compression method %u is not supported",
                            e->method);
    if (e->method == 0 && e->csize != e->usize)
        return sp_error_set(err, SP_EINPUT, e->name, "stored entry with two sizes");
    return 0;
}

/* Inflates e into out, growing it with what comes out (up to the claimed
 * size, never through an allocation that aborts). */
static int inflate_entry(const sp_zip *z, const sp_zip_entry *e, sp_buf *out, sp_error *err)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK)
        return sp_error_set(err, SP_EIO, e->name, "cannot start inflating");
    s.next_in = (unsigned char *)sp_zip_data(z, e);
    s.avail_in = e->csize;
    size_t want = e->usize, produced = 0;
    int r = Z_OK, rc = 0;
    while (r == Z_OK) {
        unsigned char past; /* once all is there: is the stream over? */
        if (produced < want && out->cap < produced + 2) {
            size_t cap = out->cap < ((size_t)1 << 16) ? (size_t)1 << 16 : out->cap * 2;
            if (cap > want + 1)
                cap = want + 1;
            char *p = realloc(out->data, cap);
            if (!p) {
                rc = sp_error_set(err, SP_EIO, e->name,
                                  "cannot hold %u inflated bytes: out of memory", e->usize);
                break;
            }
            out->data = p;
            out->cap = cap;
        }
        if (produced < want) {
            s.next_out = (unsigned char *)out->data + produced;
            s.avail_out = (uInt)(out->cap - 1 - produced);
        } else {
            s.next_out = &past;
            s.avail_out = 1;
        }
        r = inflate(&s, Z_NO_FLUSH);
        if (produced == want && s.avail_out == 0)
            r = Z_DATA_ERROR; /* more than the entry claims */
        else if (produced < want)
            produced = (size_t)s.total_out;
    }
    inflateEnd(&s);
    out->len = produced;
    if (out->data)
        out->data[out->len] = '\0';
    if (rc == 0 && (r != Z_STREAM_END || produced != want))
        rc = sp_error_set(err, SP_EINPUT, e->name, "deflated data is corrupt");
    return rc;
}

int sp_zip_read_entry(const sp_zip *z, const sp_zip_entry *e, size_t max_size, sp_buf *out,
                      sp_error *err)
{
    out->len = 0;
    if (out->data)
        out->data[0] = '\0';
    if (read_allowed(e, max_size, err) != 0)
        return -1;
    if (e->method == 0) {
        sp_buf_add(out, sp_zip_data(z, e), e->csize);
    } else if (inflate_entry(z, e, out, err) != 0) {
        return -1;
    }
    if ((uint32_t)crc32_z(0, (const unsigned char *)out->data, out->len) != e->crc)
        return sp_error_set(err, SP_EINPUT, e->name, "CRC mismatch");
    return 0;
}

int sp_zip_entry_bytes(const sp_zip *z, const sp_zip_entry *e, size_t max_size, sp_buf *scratch,
                       const unsigned char **data, size_t *n, sp_error *err)
{
    *data = NULL;
    *n = 0;
    if (e->method != 0) {
        if (sp_zip_read_entry(z, e, max_size, scratch, err) != 0)
            return -1;
        *data = (const unsigned char *)scratch->data;
        *n = scratch->len;
        return 0;
    }
    if (read_allowed(e, max_size, err) != 0)
        return -1;
    const unsigned char *d = sp_zip_data(z, e);
    if ((uint32_t)crc32_z(0, d, e->csize) != e->crc)
        return sp_error_set(err, SP_EINPUT, e->name, "CRC mismatch");
    *data = d;
    *n = e->csize;
    return 0;
}

long sp_zip_read_head(const sp_zip *z, const sp_zip_entry *e, void *out, size_t n)
{
    if (!e->valid || e->shared || (e->method != 0 && e->method != 8))
        return -1;
    if (n > e->usize)
        n = e->usize;
    if (e->method == 0) {
        if (n > e->csize)
            n = e->csize;
        memcpy(out, sp_zip_data(z, e), n);
        return (long)n;
    }
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK)
        return -1;
    s.next_in = (unsigned char *)sp_zip_data(z, e);
    s.avail_in = e->csize;
    s.next_out = out;
    s.avail_out = (uInt)n;
    int r = Z_OK;
    while (s.avail_out > 0 && (r == Z_OK || r == Z_BUF_ERROR) && s.avail_in > 0)
        if ((r = inflate(&s, Z_SYNC_FLUSH)) == Z_BUF_ERROR)
            break;
    long got = (long)(n - s.avail_out);
    inflateEnd(&s);
    return r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR ? got : -1;
}

const char *sp_zip_unsafe_name(const char *n, size_t len)
{
    if (len != strlen(n))
        return "holds a NUL byte";
    if (!sp_utf8_valid(n, len))
        return "is not valid UTF-8";
    for (const char *p = n; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            return "holds a control character";
    if (n[0] == '/')
        return "is absolute";
    if (strchr(n, '\\'))
        return "holds a backslash";
    for (const char *p = n; (p = strstr(p, "..")); p += 2)
        if ((p == n || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return "holds a '..' component";
    if (!*n)
        return "is empty";
    return NULL;
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const sp_zip_entry *x = *(const sp_zip_entry *const *)a, *y = *(const sp_zip_entry *const *)b;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    int c = memcmp(x->name, y->name, x->name_len);
    return c ? c : x < y ? -1 : x > y;
}

size_t sp_zip_duplicates(const sp_zip *z, const sp_zip_entry ***out)
{
    const sp_zip_entry **by = sp_xcalloc(z->n, sizeof *by);
    for (size_t i = 0; i < z->n; i++)
        by[i] = &z->entries[i];
    sp_sort(by, z->n, sizeof *by, cmp_name, NULL);
    size_t nd = 0;
    for (size_t i = 1; i < z->n; i++) {
        const sp_zip_entry *a = by[i - 1], *b = by[i];
        if (a->name_len == b->name_len && !memcmp(a->name, b->name, a->name_len) &&
            (nd == 0 || by[nd - 1]->name_len != b->name_len ||
             memcmp(by[nd - 1]->name, b->name, b->name_len) != 0))
            by[nd++] = b; /* the second of its name, once per name */
    }
    *out = by;
    return nd;
}

/* SP_EINPUT "label: ENTRY: what", the entry's name escaped. */
static int refuse_entry(const sp_zip_entry *e, const char *label, const char *what, sp_error *err)
{
    char *name = sp_escape(e->name);
    sp_error_set(err, SP_EINPUT, label, "%s: %s", *name ? name : "(empty name)", what);
    free(name);
    return -1;
}

int sp_zip_check_entries(const sp_zip *z, const char *label, sp_error *err)
{
    char what[256];
    for (size_t i = 0; i < z->n; i++) {
        const char *why = sp_zip_unsafe_name(z->entries[i].name, z->entries[i].name_len);
        if (why) {
            snprintf(what, sizeof what,
                     "entry name %s (hint: 'sp-pack verify' lists every such entry; rebuild the "
                     "archive without them)",
                     why);
            return refuse_entry(&z->entries[i], label, what, err);
        }
    }
    for (size_t i = 0; i < z->n; i++)
        if (z->entries[i].shared)
            return refuse_entry(&z->entries[i], label,
                                "shares its compressed data with another entry: a zip bomb "
                                "(hint: 'sp-pack verify' reports it as Z010)",
                                err);
    const sp_zip_entry **dups;
    size_t nd = sp_zip_duplicates(z, &dups);
    int rc = nd ? refuse_entry(dups[0], label,
                               "entry name appears more than once (hint: 'sp-pack verify' lists "
                               "every such entry; rebuild the archive with each name once)",
                               err)
                : 0;
    free(dups);
    return rc;
}
