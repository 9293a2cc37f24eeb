/* verify's zip layer (the Z checks): names, local headers against the
 * central directory, duplicates, the layout of entries in the file, and
 * with --deep libzip's own reading of every entry. */
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "sppack/abi.h"
#include "sppack/alloc.h"
#include "sppack/zipwriter.h"
#include "verify_internal.h"

const char *verify_zip_problem_id(enum sp_zip_problem p)
{
    switch (p) {
    case SP_ZIP_TRAILING:
        return "Z002";
    case SP_ZIP_NO_LOCAL:
        return "Z003";
    case SP_ZIP_ZIP64:
        return "Z006";
    case SP_ZIP_CD_OVERLAP:
        return "Z009";
    case SP_ZIP_SHARED:
    case SP_ZIP_OVER_BOUND:
        return "Z010";
    default:
        return "Z001";
    }
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Z003: what the local header says differently from the central directory. */
static void compare_local(struct vctx *c, const sp_zip_entry *e, const char *label)
{
    const sp_zip_local *l = &e->local;
    sp_buf diff;
    sp_buf_init(&diff);
    if (!l->name_matches)
        sp_buf_adds(&diff, "name ");
    if (l->method != e->method)
        sp_buf_adds(&diff, "method ");
    if (l->flags != e->flags)
        sp_buf_adds(&diff, "flags ");
    if (!(l->flags & 8)) {
        if (l->crc != e->crc)
            sp_buf_adds(&diff, "CRC ");
        if (l->csize != e->csize || l->usize != e->usize)
            sp_buf_adds(&diff, "sizes ");
    }
    if (diff.len) {
        diff.data[diff.len - 1] = '\0';
        sp_report_add(c->r, c->f, "Z003", label, NULL,
                      "local header and central directory differ in: %s", diff.data);
    }
    sp_buf_release(&diff);
}

void verify_zip_shared(struct vctx *c, const sp_zip_entry *e, const char *label)
{
    sp_report_add(c->r, c->f, "Z010", label, NULL,
                  "its data overlaps another entry's: %u bytes claimed from %u shared compressed "
                  "bytes; not inflated",
                  e->usize, e->csize);
}

void verify_zip_layer(struct vctx *c, const sp_zip *z, const char *prefix, int align_checks)
{
    const char *whole = *prefix ? prefix : NULL;
    for (size_t i = 0; i < z->n; i++) {
        const sp_zip_entry *e = &z->entries[i];
        char *label = sp_xasprintf("%s%s", prefix, e->name);
        const char *why = sp_zip_unsafe_name(e->name, e->name_len);
        if (why)
            sp_report_add(c->r, c->f, "Z005", label, NULL, "entry name %s", why);
        if (e->shared)
            verify_zip_shared(c, e, label);
        if (e->valid) {
            compare_local(c, e, label);
            if (align_checks && e->method == 0 && e->csize > 0 &&
                !sp_is_native_lib_entry(e->name) && e->data_offset % 4 != 0)
                sp_report_add(c->r, c->f, "Z008", label, NULL, "data at offset %llu",
                              (unsigned long long)e->data_offset);
        }
        free(label);
    }
    if (z->n > SP_ZIP_MAX_ENTRIES)
        sp_report_add(c->r, c->f, "Z006", whole, NULL, "%zu entries, over the classic limit", z->n);
    /* Duplicates: the rule inject and align refuse by. */
    const sp_zip_entry **dups;
    size_t nd = sp_zip_duplicates(z, &dups);
    for (size_t i = 0; i < nd; i++) {
        char *label = sp_xasprintf("%s%s", prefix, dups[i]->name);
        sp_report_add(c->r, c->f, "Z004", label, NULL, "name appears more than once");
        free(label);
    }
    free(dups);
    /* Layout: before the first header, overlaps, running into the directory. */
    const sp_zip_entry **by;
    size_t nv = sp_zip_by_offset(z, &by);
    if (nv && by[0]->local_offset > 0)
        sp_report_add(c->r, c->f, "Z002", whole, NULL, "%llu bytes before the first local header",
                      (unsigned long long)by[0]->local_offset);
    uint64_t limit = z->sig_block_offset != UINT64_MAX ? z->sig_block_offset : z->cd_offset;
    for (size_t i = 0; i < nv; i++) {
        uint64_t end = by[i]->data_offset + by[i]->csize;
        if (by[i]->flags & 8) { /* data descriptor: optional signature, CRC, two sizes */
            end += 12;
            if (end + 4 <= z->size && rd32(z->data + end - 12) == 0x08074b50u)
                end += 4;
        }
        uint64_t next = i + 1 < nv ? by[i + 1]->local_offset : limit;
        if (end > next) {
            char *label = sp_xasprintf("%s%s", prefix, by[i]->name);
            sp_report_add(c->r, c->f, "Z009", label, NULL, "ends at %llu, past %s at %llu",
                          (unsigned long long)end,
                          i + 1 < nv ? "the next local header" : "the central directory",
                          (unsigned long long)next);
            free(label);
        }
    }
    free(by);
}

void verify_zip_deep(struct vctx *c, const sp_zip *ours, const unsigned char *data, size_t size,
                     const char *prefix)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, size, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
    if (!z) {
        sp_report_add(c->r, c->f, "Z003", *prefix ? prefix : NULL, NULL,
                      "libzip's consistency check fails: %s", zip_error_strerror(&ze));
        if (src)
            zip_source_free(src);
        zip_error_fini(&ze);
        return;
    }
    zip_int64_t n = zip_get_num_entries(z, 0);
    /* libzip lists the central directory in its order, as our reader does. */
    int same = n >= 0 && (size_t)n == ours->n;
    char *buf = sp_xmalloc(1 << 16);
    for (zip_int64_t i = 0; i < n; i++) {
        if (same && ours->entries[i].shared)
            continue; /* a bomb's: Z010, never inflated */
        zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)i, 0);
        const char *name = zip_get_name(z, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        char *label = sp_xasprintf("%s%s", prefix, name ? name : "?");
        zip_int64_t got = 0;
        if (zf) {
            while ((got = zip_fread(zf, buf, 1 << 16)) > 0)
                ;
        }
        zip_error_t *fe = zf ? zip_file_get_error(zf) : zip_get_error(z);
        if (!zf || got < 0)
            sp_report_add(c->r, c->f, zip_error_code_zip(fe) == ZIP_ER_CRC ? "Z007" : "Z003", label,
                          NULL, "cannot be read back: %s", zip_error_strerror(fe));
        if (zf)
            zip_fclose(zf);
        free(label);
    }
    free(buf);
    zip_discard(z);
    zip_error_fini(&ze);
}
