#define _GNU_SOURCE
#include "sppack/verify.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sppack/abi.h"
#include "sppack/elfinspect.h"
#include "sppack/libzip_load.h"
#include "sppack/mangle.h"
#include "sppack/treewalk.h"
#include "sppack/zipreader.h"
#include "sppack/zipwriter.h"

#define MAX_ABIS 8
#define MARKER_MAX 4096
#define NESTED_MAX ((size_t)1 << 31) /* an inner APK or inflated entry */

/* An entry seen through the APK path it would have on a device. */
struct item {
    char *name;              /* "lib/x86/libfoo.so" (a bundle module prefix removed) */
    char *label;             /* what findings name: the full entry, "split.apk!/..." */
    const sp_zip *zip;       /* NULL for a file of a pack output directory */
    const sp_zip_entry *e;
    char *path;              /* directory items: the file */
};

struct lib {
    size_t item;
    int abi;                 /* index into ctx.abis */
    const char *base;        /* file name in lib/<abi>/ */
    int inspected;
    sp_elf_info info;
};

struct marker {
    char *label;             /* zip!/path */
    char *module_name;       /* last dotted component: PyInit_<this> */
    char *lib;               /* content */
};

struct ctx {
    const sp_verify_opts *o;
    const sp_libzip *lz;     /* the second reader of Python zips and --deep */
    sp_report *r;
    sp_report_file *f;
    struct item *items;
    size_t nitems, capitems;
    sp_zip **zips;           /* inner archives (.apks splits) */
    size_t nzips;
    sp_buf *bufs;            /* bytes owned for inner archives and inflated entries */
    size_t nbufs;
    sp_map *maps;
    size_t nmaps;
    const char *abis[MAX_ABIS];
    int nabis;
    struct lib *libs;
    size_t nlibs, caplibs;
    struct marker *markers;
    size_t nmarkers, capmarkers;
    const char *issue_prefix;
};

static const char *const known_abis[] = {"arm64-v8a", "armeabi-v7a", "x86", "x86_64", "riscv64",
                                         "armeabi", "mips", "mips64", NULL};

/* Android's public NDK libraries, which every device provides. */
static const char *const system_libs[] = {
    "libc.so", "libm.so", "libdl.so", "liblog.so", "libz.so", "libandroid.so",
    "libjnigraphics.so", "libEGL.so", "libGLESv1_CM.so", "libGLESv2.so", "libGLESv3.so",
    "libOpenSLES.so", "libOpenMAXAL.so", "libvulkan.so", "libmediandk.so", "libcamera2ndk.so",
    "libneuralnetworks.so", "libnativewindow.so", "libsync.so", "libstdc++.so", "libaaudio.so",
    "libamidi.so", "libbinder_ndk.so", "libicu.so", "libnativehelper.so", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s))
            return 1;
    return 0;
}

/* ---- context ---------------------------------------------------------------------------- */

static void add_item(struct ctx *c, const char *name, const char *label, const sp_zip *z,
                     const sp_zip_entry *e, const char *path)
{
    if (c->nitems == c->capitems) {
        c->capitems = c->capitems ? c->capitems * 2 : 256;
        c->items = sp_xrealloc(c->items, c->capitems * sizeof *c->items);
    }
    c->items[c->nitems++] = (struct item){sp_xstrdup(name), sp_xstrdup(label), z, e,
                                          path ? sp_xstrdup(path) : NULL};
}

static sp_buf *new_buf(struct ctx *c)
{
    c->bufs = sp_xrealloc(c->bufs, (c->nbufs + 1) * sizeof *c->bufs);
    sp_buf_init(&c->bufs[c->nbufs]);
    return &c->bufs[c->nbufs++];
}

static void ctx_release(struct ctx *c)
{
    for (size_t i = 0; i < c->nitems; i++) {
        free(c->items[i].name);
        free(c->items[i].label);
        free(c->items[i].path);
    }
    free(c->items);
    for (size_t i = 0; i < c->nzips; i++) {
        sp_zip_close(c->zips[i]);
        free(c->zips[i]);
    }
    free(c->zips);
    for (size_t i = 0; i < c->nbufs; i++)
        sp_buf_release(&c->bufs[i]);
    free(c->bufs);
    for (size_t i = 0; i < c->nmaps; i++)
        sp_map_close(&c->maps[i]);
    free(c->maps);
    for (size_t i = 0; i < c->nlibs; i++)
        if (c->libs[i].inspected)
            sp_elf_info_release(&c->libs[i].info);
    free(c->libs);
    for (size_t i = 0; i < c->nmarkers; i++) {
        free(c->markers[i].label);
        free(c->markers[i].module_name);
        free(c->markers[i].lib);
    }
    free(c->markers);
}

static int abi_slot(struct ctx *c, const char *abi)
{
    for (int i = 0; i < c->nabis; i++)
        if (!strcmp(c->abis[i], abi))
            return i;
    if (c->nabis == MAX_ABIS)
        return -1;
    for (const char *const *k = known_abis; *k; k++)
        if (!strcmp(*k, abi)) {
            c->abis[c->nabis] = *k;
            return c->nabis++;
        }
    return -1;
}

/* The uncompressed bytes of an item: a slice of the archive when stored, an
 * inflated copy otherwise, the mapped file for a directory. NULL when they
 * cannot be had (a finding was made where that matters). */
static unsigned char *item_bytes(struct ctx *c, const struct item *it, size_t *n)
{
    sp_error err;
    if (!it->zip) {
        c->maps = sp_xrealloc(c->maps, (c->nmaps + 1) * sizeof *c->maps);
        if (sp_map_open(&c->maps[c->nmaps], it->path, &err) != 0)
            return NULL;
        *n = c->maps[c->nmaps].size;
        return c->maps[c->nmaps++].data;
    }
    if (!it->e->valid)
        return NULL;
    if (it->e->method == 0 && it->e->csize == it->e->usize) {
        *n = it->e->csize;
        return (unsigned char *)sp_zip_data(it->zip, it->e);
    }
    sp_buf *b = new_buf(c);
    /* Bound inflation by what the entry could expand to at most (1032:1). */
    size_t max = (size_t)it->e->csize * 1032u + 1024u;
    if (max > NESTED_MAX)
        max = NESTED_MAX;
    if (sp_zip_read_entry(it->zip, it->e, max, b, &err) != 0)
        return NULL;
    *n = b->len;
    return (unsigned char *)b->data;
}

static void issue(void *vc, const char *id, const char *entry, const char *msg)
{
    struct ctx *c = vc;
    char *label = entry ? sp_xasprintf("%s%s", c->issue_prefix, entry) : NULL;
    sp_report_add(c->r, c->f, id, label ? label : (*c->issue_prefix ? c->issue_prefix : NULL),
                  NULL, "%s", msg);
    free(label);
}

/* ---- zip layer ---------------------------------------------------------------------------- */

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        if ((len == 2 && b < 0xC2) || (len == 3 && b == 0xE0 && s[i + 1] < 0xA0) ||
            (len == 4 && (b > 0xF4 || (b == 0xF0 && s[i + 1] < 0x90))))
            return 0;
        i += len;
    }
    return 1;
}

static const char *unsafe_name(const sp_zip_entry *e)
{
    const char *n = e->name;
    if (e->name_len != strlen(n))
        return "holds a NUL byte";
    if (!valid_utf8((const unsigned char *)n, e->name_len))
        return "is not valid UTF-8";
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

static int cmp_entry_ptr_name(const void *a, const void *b)
{
    const sp_zip_entry *x = *(const sp_zip_entry *const *)a, *y = *(const sp_zip_entry *const *)b;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->name, y->name, x->name_len);
}

static int cmp_entry_ptr_offset(const void *a, const void *b)
{
    const sp_zip_entry *x = *(const sp_zip_entry *const *)a, *y = *(const sp_zip_entry *const *)b;
    return x->local_offset < y->local_offset ? -1 : x->local_offset > y->local_offset;
}

/* align_checks: 0 for an .apks container, whose members are extracted, not mapped. */
static void zip_layer(struct ctx *c, const sp_zip *z, const char *prefix, int align_checks)
{
    const unsigned char *d = z->data;
    sp_report *r = c->r;
    sp_report_file *f = c->f;
    const sp_zip_entry **by = sp_xcalloc(z->n ? z->n : 1, sizeof *by);
    size_t nv = 0;
    for (size_t i = 0; i < z->n; i++) {
        const sp_zip_entry *e = &z->entries[i];
        char *label = sp_xasprintf("%s%s", prefix, e->name);
        const char *why = unsafe_name(e);
        if (why)
            sp_report_add(r, f, "Z005", label, NULL, "entry name %s", why);
        if (e->valid) {
            by[nv++] = e;
            const unsigned char *lh = d + e->local_offset;
            uint16_t lnlen = rd16(lh + 26);
            sp_buf diff;
            sp_buf_init(&diff);
            if (lnlen != e->name_len || memcmp(lh + 30, e->name, e->name_len) != 0)
                sp_buf_adds(&diff, "name ");
            if (rd16(lh + 8) != e->method)
                sp_buf_adds(&diff, "method ");
            if (rd16(lh + 6) != e->flags)
                sp_buf_adds(&diff, "flags ");
            if (!(rd16(lh + 6) & 8)) {
                if (rd32(lh + 14) != e->crc)
                    sp_buf_adds(&diff, "CRC ");
                if (rd32(lh + 18) != e->csize || rd32(lh + 22) != e->usize)
                    sp_buf_adds(&diff, "sizes ");
            }
            if (diff.len) {
                diff.data[diff.len - 1] = '\0';
                sp_report_add(r, f, "Z003", label, NULL,
                              "local header and central directory differ in: %s", diff.data);
            }
            sp_buf_release(&diff);
            if (align_checks && e->method == 0 && e->csize > 0 && !sp_zip_is_native_lib(e->name) &&
                e->data_offset % 4 != 0)
                sp_report_add(r, f, "Z008", label, NULL, "data at offset %llu",
                              (unsigned long long)e->data_offset);
        }
        free(label);
    }
    if (z->n > SP_ZIP_MAX_ENTRIES)
        sp_report_add(r, f, "Z006", *prefix ? prefix : NULL, NULL,
                      "%zu entries, over the classic limit", z->n);
    /* Duplicates. */
    const sp_zip_entry **names = sp_xcalloc(z->n ? z->n : 1, sizeof *names);
    for (size_t i = 0; i < z->n; i++)
        names[i] = &z->entries[i];
    if (z->n > 1)
        qsort(names, z->n, sizeof *names, cmp_entry_ptr_name);
    for (size_t i = 1; i < z->n; i++)
        if (cmp_entry_ptr_name(&names[i - 1], &names[i]) == 0 &&
            (i < 2 || cmp_entry_ptr_name(&names[i - 2], &names[i]) != 0)) {
            char *label = sp_xasprintf("%s%s", prefix, names[i]->name);
            sp_report_add(r, f, "Z004", label, NULL, "name appears more than once");
            free(label);
        }
    free(names);
    /* Layout: before the first header, overlaps, running into the directory. */
    if (nv > 1)
        qsort(by, nv, sizeof *by, cmp_entry_ptr_offset);
    if (nv && by[0]->local_offset > 0)
        sp_report_add(r, f, "Z002", *prefix ? prefix : NULL, NULL,
                      "%llu bytes before the first local header",
                      (unsigned long long)by[0]->local_offset);
    uint64_t limit = z->sig_block_offset != UINT64_MAX ? z->sig_block_offset : z->cd_offset;
    for (size_t i = 0; i < nv; i++) {
        uint64_t end = by[i]->data_offset + by[i]->csize;
        if (by[i]->flags & 8) { /* data descriptor: optional signature, CRC, two sizes */
            end += 12;
            if (end + 4 <= z->size && rd32(d + end - 12) == 0x08074b50u)
                end += 4;
        }
        uint64_t next = i + 1 < nv ? by[i + 1]->local_offset : limit;
        if (end > next) {
            char *label = sp_xasprintf("%s%s", prefix, by[i]->name);
            sp_report_add(r, f, "Z009", label, NULL, "ends at %llu, past %s at %llu",
                          (unsigned long long)end,
                          i + 1 < nv ? "the next local header" : "the central directory",
                          (unsigned long long)next);
            free(label);
        }
    }
    free(by);
}

/* --deep: libzip's consistency check and every entry's CRC. */
static void deep_check(struct ctx *c, const unsigned char *data, size_t size, const char *prefix)
{
    zip_error_t ze;
    c->lz->error_init(&ze);
    zip_source_t *src = c->lz->source_buffer_create(data, size, 0, &ze);
    zip_t *z = src ? c->lz->open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
    if (!z) {
        sp_report_add(c->r, c->f, "Z003", *prefix ? prefix : NULL, NULL,
                      "libzip's consistency check fails: %s", c->lz->error_strerror(&ze));
        if (src)
            c->lz->source_free(src);
        c->lz->error_fini(&ze);
        return;
    }
    zip_int64_t n = c->lz->get_num_entries(z, 0);
    char *buf = sp_xmalloc(1 << 16);
    for (zip_int64_t i = 0; i < n; i++) {
        zip_file_t *zf = c->lz->fopen_index(z, (zip_uint64_t)i, 0);
        const char *name = c->lz->get_name(z, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        char *label = sp_xasprintf("%s%s", prefix, name ? name : "?");
        zip_int64_t got = 0;
        if (zf) {
            while ((got = c->lz->fread(zf, buf, 1 << 16)) > 0)
                ;
        }
        zip_error_t *fe = zf ? c->lz->file_get_error(zf) : c->lz->get_error(z);
        if (!zf || got < 0)
            sp_report_add(c->r, c->f, c->lz->error_code_zip(fe) == ZIP_ER_CRC ? "Z007" : "Z003",
                          label, NULL, "cannot be read back: %s", c->lz->error_strerror(fe));
        if (zf)
            c->lz->fclose(zf);
        free(label);
    }
    free(buf);
    c->lz->discard(z);
    c->lz->error_fini(&ze);
}

/* ---- native libraries ---------------------------------------------------------------------- */

static int has_pk_magic(const unsigned char *d, size_t n)
{
    return n >= 4 && memcmp(d, "PK\x03\x04", 4) == 0;
}

static void lib_layer(struct ctx *c)
{
    for (size_t i = 0; i < c->nitems; i++) {
        const struct item *it = &c->items[i];
        if (strncmp(it->name, "lib/", 4) != 0)
            continue;
        const char *abi_start = it->name + 4, *slash = strchr(abi_start, '/');
        if (!slash || !slash[1])
            continue; /* lib/<file> or a directory entry */
        char *abi = sp_xstrndup(abi_start, (size_t)(slash - abi_start));
        const char *base = slash + 1;
        if (!in_list(known_abis, abi)) {
            sp_report_add(c->r, c->f, "L005", it->label, abi, "'%s' is not an Android ABI", abi);
        } else if (strchr(base, '/')) {
            if (base[strlen(base) - 1] != '/')
                sp_report_add(c->r, c->f, "L004", it->label, abi,
                              "in a subdirectory of lib/%s/", abi);
        } else {
            int slot = abi_slot(c, abi);
            if (!sp_is_android_lib_name(base))
                sp_report_add(c->r, c->f, "L003", it->label, abi,
                              "'%s' does not match lib*.so", base);
            if (it->zip && it->e->method != 0)
                sp_report_add(c->r, c->f, "L001", it->label, abi, "compressed (method %u)",
                              it->e->method);
            else if (it->zip && it->e->valid && it->e->data_offset % c->o->page_size != 0)
                sp_report_add(c->r, c->f, "L002", it->label, abi,
                              "data at offset %llu is not a multiple of %u",
                              (unsigned long long)it->e->data_offset, c->o->page_size);
            if (slot >= 0 && sp_is_android_lib_name(base)) {
                if (c->nlibs == c->caplibs) {
                    c->caplibs = c->caplibs ? c->caplibs * 2 : 64;
                    c->libs = sp_xrealloc(c->libs, c->caplibs * sizeof *c->libs);
                }
                memset(&c->libs[c->nlibs], 0, sizeof c->libs[c->nlibs]);
                c->libs[c->nlibs].item = i;
                c->libs[c->nlibs].abi = slot;
                c->libs[c->nlibs].base = base;
                c->nlibs++;
            }
        }
        free(abi);
    }
}

static int shipped(const struct ctx *c, int abi, const char *name)
{
    for (size_t i = 0; i < c->nlibs; i++)
        if (c->libs[i].abi == abi && !strcmp(c->libs[i].base, name))
            return 1;
    return 0;
}

static void elf_layer(struct ctx *c)
{
    for (size_t i = 0; i < c->nlibs; i++) {
        struct lib *l = &c->libs[i];
        const struct item *it = &c->items[l->item];
        const char *abi_name = c->abis[l->abi];
        size_t n = 0;
        unsigned char *d = item_bytes(c, it, &n);
        if (!d) {
            sp_report_add(c->r, c->f, "E001", it->label, abi_name, "cannot be read");
            continue;
        }
        if (has_pk_magic(d, n)) {
            sp_report_add(c->r, c->f, "L008", it->label, abi_name, "holds a zip archive");
            continue;
        }
        sp_error err;
        if (!sp_elf_is_elf(d, n) || sp_elf_inspect(d, n, it->label, &l->info, &err) != 0) {
            sp_report_add(c->r, c->f, "E001", it->label, abi_name, "%s",
                          sp_elf_is_elf(d, n) ? "truncated or corrupt ELF" : "not an ELF file");
            continue;
        }
        l->inspected = 1;
        const sp_elf_info *x = &l->info;
        const sp_abi *abi = sp_abi_find(abi_name);
        if (abi && (x->elf_class != abi->elf_class || x->machine != abi->elf_machine))
            sp_report_add(c->r, c->f, "E002", it->label, abi_name,
                          "%d-bit %s, expected %d-bit %s", x->elf_class,
                          sp_abi_machine_name(x->machine), abi->elf_class, abi->machine);
        if (x->type != 3 || !x->has_sections)
            sp_report_add(c->r, c->f, "E003", it->label, abi_name, "%s",
                          x->type != 3 ? "not ET_DYN" : "no section headers");
        if (abi && abi->elf_class == 64 && x->load_count && x->min_load_align < c->o->page_size)
            sp_report_add(c->r, c->f, "E004", it->label, abi_name,
                          "PT_LOAD aligned to %llu, below %u",
                          (unsigned long long)x->min_load_align, c->o->page_size);
        if (x->has_textrel)
            sp_report_add(c->r, c->f, "E005", it->label, abi_name, "has text relocations");
        if (x->has_wx_segment)
            sp_report_add(c->r, c->f, "E006", it->label, abi_name,
                          "a PT_LOAD segment is writable and executable");
        int glibc = 0;
        for (size_t k = 0; k < x->needed.n; k++) {
            const char *need = x->needed.v[k];
            if (!strcmp(need, "libc.so.6") || !strncmp(need, "ld-linux", 8)) {
                glibc = 1;
                continue;
            }
            if (!shipped(c, l->abi, need) && !in_list(system_libs, need))
                sp_report_add(c->r, c->f, "E007", it->label, abi_name,
                              "needs %s, which is neither in lib/%s/ nor a system library", need,
                              abi_name);
        }
        if (glibc)
            sp_report_add(c->r, c->f, "E008", it->label, abi_name,
                          "needs glibc's libc.so.6 or ld-linux");
        if (c->o->min_sdk > 0 && x->android_api > c->o->min_sdk)
            sp_report_add(c->r, c->f, "E010", it->label, abi_name,
                          "built for API %d, above --min-sdk %d", x->android_api, c->o->min_sdk);
    }
    /* Parity: every ABI holds the same names. */
    for (int a = 0; a < c->nabis; a++) {
        sp_buf missing;
        sp_buf_init(&missing);
        size_t count = 0;
        for (size_t i = 0; i < c->nlibs; i++) {
            const struct lib *l = &c->libs[i];
            if (l->abi == a || shipped(c, a, l->base))
                continue;
            int dup = 0; /* the same name from a third ABI */
            for (size_t k = 0; k < i; k++)
                dup |= !strcmp(c->libs[k].base, l->base) && c->libs[k].abi != a;
            if (dup)
                continue;
            if (count++ < 5)
                sp_buf_addf(&missing, "%s%s", missing.len ? ", " : "", l->base);
        }
        if (count)
            sp_report_add(c->r, c->f, "L006", NULL, c->abis[a],
                          "lib/%s/ lacks %zu librar%s other ABIs have: %s%s", c->abis[a], count,
                          count == 1 ? "y" : "ies", missing.data, count > 5 ? ", ..." : "");
        sp_buf_release(&missing);
    }
}

/* ---- Python layout ------------------------------------------------------------------------- */

static const struct lib *find_lib(const struct ctx *c, int abi, const char *name)
{
    for (size_t i = 0; i < c->nlibs; i++)
        if (c->libs[i].abi == abi && !strcmp(c->libs[i].base, name))
            return &c->libs[i];
    return NULL;
}

static void add_marker(struct ctx *c, const char *label, const char *path, const char *content,
                       size_t n)
{
    /* "a/b/c.soref" -> c; "a/b/__init__.soref" -> b */
    char *p = sp_xstrndup(path, strlen(path) - 6);
    char *last = strrchr(p, '/');
    char *name = last ? last + 1 : p;
    if (!strcmp(name, "__init__") && last) {
        *last = '\0';
        char *prev = strrchr(p, '/');
        name = prev ? prev + 1 : p;
    }
    if (c->nmarkers == c->capmarkers) {
        c->capmarkers = c->capmarkers ? c->capmarkers * 2 : 64;
        c->markers = sp_xrealloc(c->markers, c->capmarkers * sizeof *c->markers);
    }
    c->markers[c->nmarkers++] =
        (struct marker){sp_xstrdup(label), sp_xstrdup(name), sp_xstrndup(content, n)};
    free(p);
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_python_zip(const char *name)
{
    size_t n = strlen(name);
    return !strncmp(name, "assets/", 7) && !strchr(name + 7, '/') && n > 11 &&
           !strcmp(name + n - 4, ".zip");
}

static void python_zip(struct ctx *c, const struct item *it)
{
    if (it->zip && it->e->method != 0)
        sp_report_add(c->r, c->f, "P004", it->label, NULL,
                      "compressed in the archive (method %u): zipimport cannot read it in place",
                      it->e->method);
    size_t n = 0;
    unsigned char *d = item_bytes(c, it, &n);
    if (!d)
        return;
    zip_error_t ze;
    c->lz->error_init(&ze);
    zip_source_t *src = c->lz->source_buffer_create(d, n, 0, &ze);
    zip_t *z = src ? c->lz->open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!z) {
        sp_report_add(c->r, c->f, "Z001", it->label, NULL, "not a zip libzip can open: %s",
                      c->lz->error_strerror(&ze));
        if (src)
            c->lz->source_free(src);
        c->lz->error_fini(&ze);
        return;
    }
    zip_int64_t count = c->lz->get_num_entries(z, 0);
    sp_strv names;
    sp_strv_init(&names);
    size_t compressed = 0;
    int has_bootstrap = 0;
    for (zip_int64_t i = 0; i < count; i++) {
        zip_stat_t st;
        if (c->lz->stat_index(z, (zip_uint64_t)i, ZIP_FL_ENC_RAW, &st) != 0 ||
            !(st.valid & ZIP_STAT_NAME))
            continue;
        sp_strv_push(&names, st.name);
        if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method != ZIP_CM_STORE)
            compressed++;
        if (!strcmp(st.name, "_sp_bootstrap.py"))
            has_bootstrap = 1;
        size_t len = strlen(st.name);
        if (len > 6 && !strcmp(st.name + len - 6, ".soref")) {
            char content[MARKER_MAX];
            zip_int64_t got = -1;
            zip_file_t *zf = (st.valid & ZIP_STAT_SIZE) && st.size < MARKER_MAX
                                 ? c->lz->fopen_index(z, (zip_uint64_t)i, 0)
                                 : NULL;
            if (zf) {
                got = c->lz->fread(zf, content, sizeof content - 1);
                c->lz->fclose(zf);
            }
            char *label = sp_xasprintf("%s!/%s", it->label, st.name);
            if (got < 0)
                sp_report_add(c->r, c->f, "P009", label, NULL, "marker cannot be read");
            else
                add_marker(c, label, st.name, content, (size_t)got);
            free(label);
        }
    }
    if (compressed)
        sp_report_add(c->r, c->f, "P004", it->label, NULL, "%zu of %lld entries compressed",
                      compressed, (long long)count);
    const char *base = it->name + 7;
    if (!strcmp(base, "stdlib.zip") && !has_bootstrap)
        sp_report_add(c->r, c->f, "P005", it->label, NULL,
                      "no _sp_bootstrap.py at its root: markers cannot be resolved");
    /* Directory entries for every directory. */
    sp_strv_sort(&names);
    sp_strv missing;
    sp_strv_init(&missing);
    for (size_t i = 0; i < names.n; i++) {
        const char *name = names.v[i];
        for (const char *s = strchr(name, '/'); s && s[1]; s = strchr(s + 1, '/')) {
            char *dir = sp_xstrndup(name, (size_t)(s - name + 1));
            if (!bsearch(&dir, names.v, names.n, sizeof *names.v, cmp_strp) &&
                !sp_strv_contains(&missing, dir))
                sp_strv_push_owned(&missing, dir);
            else
                free(dir);
        }
    }
    if (missing.n)
        sp_report_add(c->r, c->f, "P008", it->label, NULL,
                      "%zu directory entries missing, such as %s", missing.n, missing.v[0]);
    sp_strv_release(&missing);
    sp_strv_release(&names);
    c->lz->discard(z);
    c->lz->error_fini(&ze);
}

static void python_layer(struct ctx *c)
{
    int any_zip = 0;
    for (size_t i = 0; i < c->nitems; i++)
        if (is_python_zip(c->items[i].name)) {
            python_zip(c, &c->items[i]);
            any_zip = 1;
        }
    if (!any_zip)
        return;
    /* Markers: a valid library name, present and exporting PyInit_ in every ABI.
     * A marker repeated in overlays is judged once. */
    sp_strv seen, named;
    sp_strv_init(&seen);
    sp_strv_init(&named);
    for (size_t m = 0; m < c->nmarkers; m++) {
        const struct marker *mk = &c->markers[m];
        if (!sp_is_android_lib_name(mk->lib) || strchr(mk->lib, '/')) {
            sp_report_add(c->r, c->f, "P009", mk->label, NULL, "content '%.64s'", mk->lib);
            continue;
        }
        if (!sp_strv_contains(&named, mk->lib))
            sp_strv_push(&named, mk->lib);
        char *key = sp_xasprintf("%s\n%s", mk->module_name, mk->lib);
        int dup = sp_strv_contains(&seen, key);
        if (!dup)
            sp_strv_push(&seen, key);
        free(key);
        if (dup)
            continue;
        if (c->nabis == 0)
            sp_report_add(c->r, c->f, "P001", mk->label, NULL,
                          "names %s, but no lib/<abi>/ directory is here", mk->lib);
        for (int a = 0; a < c->nabis; a++) {
            const struct lib *l = find_lib(c, a, mk->lib);
            if (!l)
                sp_report_add(c->r, c->f, "P001", mk->label, c->abis[a], "names %s, missing in lib/%s/",
                              mk->lib, c->abis[a]);
            else if (l->inspected && !sp_elf_exports_pyinit(&l->info, mk->module_name))
                sp_report_add(c->r, c->f, "P003", c->items[l->item].label, c->abis[a],
                              "does not export PyInit_%s, which %s needs", mk->module_name,
                              mk->label);
        }
    }
    /* Module libraries (exporting PyInit_) that no marker names. */
    if (c->nmarkers) {
        for (size_t i = 0; i < c->nlibs; i++) {
            const struct lib *l = &c->libs[i];
            if (!l->inspected || !l->info.pyinit.n || sp_strv_contains(&named, l->base))
                continue;
            sp_report_add(c->r, c->f, "P002", c->items[l->item].label, c->abis[l->abi],
                          "exports %s but no marker names it", l->info.pyinit.v[0]);
            int everywhere = 1;
            for (int a = 0; a < c->nabis; a++)
                everywhere &= find_lib(c, a, l->base) != NULL;
            if (!everywhere)
                sp_report_add(c->r, c->f, "P006", c->items[l->item].label, c->abis[l->abi],
                              "extension module library not shipped for every ABI");
        }
    }
    sp_strv_release(&seen);
    sp_strv_release(&named);
}

/* ---- archives --------------------------------------------------------------------------- */

/* Items of an APK, a split or a plain zip (prefix labels entries of an .apks
 * member), or of a bundle (module directory removed from the path). */
static void add_zip_items(struct ctx *c, const sp_zip *z, const char *prefix, int bundle)
{
    for (size_t i = 0; i < z->n; i++) {
        const sp_zip_entry *e = &z->entries[i];
        const char *name = e->name;
        if (bundle) {
            const char *slash = strchr(name, '/');
            if (!slash)
                continue;
            name = slash + 1;
        }
        char *label = sp_xasprintf("%s%s", prefix, e->name);
        add_item(c, name, label, z, e, NULL);
        free(label);
    }
}

static void check_items(struct ctx *c)
{
    lib_layer(c);
    elf_layer(c);
    python_layer(c);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int sp_verify_buffer(unsigned char *data, size_t size, const char *label,
                     const sp_verify_opts *o, sp_report *report, sp_error *err)
{
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    if (!(c.lz = sp_libzip_load(err)))
        return -1;
    c.r = report;
    c.f = sp_report_add_file(report, label);
    c.issue_prefix = "";
    sp_zip z;
    memset(&z, 0, sizeof z);
    sp_error zerr;
    if (sp_zip_open_buffer(&z, data, size, label, issue, &c, &zerr) != 0) {
        const char *msg = strchr(zerr.msg, ':') ? strchr(zerr.msg, ':') + 2 : zerr.msg;
        sp_report_add(report, c.f, z.fatal_id ? z.fatal_id : "Z001", NULL, NULL, "%s", msg);
        sp_zip_close(&z);
        return 0;
    }
    int bundle = sp_zip_find(&z, "BundleConfig.pb") != NULL;
    int apks = 0;
    for (size_t i = 0; i < z.n && !bundle; i++)
        apks |= z.entries[i].valid && ends_with(z.entries[i].name, ".apk");
    zip_layer(&c, &z, "", !apks);
    if (o->deep)
        deep_check(&c, data, size, "");
    if (bundle) {
        c.f->kind = "aab";
        add_zip_items(&c, &z, "", 1);
    } else if (apks) {
        c.f->kind = "apks";
        /* Every member APK: its own zip layer, and its entries in the set. */
        for (size_t i = 0; i < z.n; i++) {
            const sp_zip_entry *e = &z.entries[i];
            if (!e->valid || !ends_with(e->name, ".apk"))
                continue;
            sp_buf *b = new_buf(&c);
            size_t max = (size_t)e->csize * 1032u + 1024u;
            if (max > NESTED_MAX)
                max = NESTED_MAX;
            char *prefix = sp_xasprintf("%s!/", e->name);
            if (sp_zip_read_entry(&z, e, max, b, &zerr) != 0) {
                sp_report_add(report, c.f, "Z001", e->name, NULL, "cannot be read: %s", zerr.msg);
                free(prefix);
                continue;
            }
            sp_zip *inner = sp_xcalloc(1, sizeof *inner);
            c.issue_prefix = prefix;
            int rc = sp_zip_open_buffer(inner, (unsigned char *)b->data, b->len, e->name, issue,
                                        &c, &zerr);
            c.issue_prefix = "";
            if (rc != 0) {
                sp_report_add(report, c.f, inner->fatal_id ? inner->fatal_id : "Z001", e->name,
                              NULL, "%s", zerr.msg);
                sp_zip_close(inner);
                free(inner);
                free(prefix);
                continue;
            }
            c.zips = sp_xrealloc(c.zips, (c.nzips + 1) * sizeof *c.zips);
            c.zips[c.nzips++] = inner;
            zip_layer(&c, inner, prefix, 1);
            if (o->deep)
                deep_check(&c, (unsigned char *)b->data, b->len, prefix);
            add_zip_items(&c, inner, prefix, 0);
            free(prefix);
        }
    } else {
        int manifest = sp_zip_find(&z, "AndroidManifest.xml") != NULL;
        c.f->kind = manifest ? "apk" : "zip";
        add_zip_items(&c, &z, "", 0);
    }
    check_items(&c);
    ctx_release(&c);
    sp_zip_close(&z);
    return 0;
}

static int verify_dir(const char *path, const sp_verify_opts *o, sp_report *report,
                      sp_error *err)
{
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.r = report;
    if (!(c.lz = sp_libzip_load(err)))
        return -1;
    c.f = sp_report_add_file(report, path);
    c.f->kind = "dir";
    c.issue_prefix = "";
    static const struct {
        const char *sub, *prefix;
    } parts[] = {{"jniLibs", "lib/"}, {"assets", "assets/"}};
    int rc = 0, found = 0;
    for (size_t p = 0; p < 2 && rc == 0; p++) {
        char *root = sp_path_join(path, parts[p].sub);
        struct stat st;
        if (stat(root, &st) == 0 && S_ISDIR(st.st_mode)) {
            found = 1;
            sp_tree t;
            sp_tree_init(&t);
            rc = sp_tree_walk(root, NULL, &t, err);
            for (size_t i = 0; i < t.n && rc == 0; i++) {
                char *name = sp_xasprintf("%s%s", parts[p].prefix, t.files[i].rel);
                char *label = sp_xasprintf("%s/%s", parts[p].sub, t.files[i].rel);
                add_item(&c, name, label, NULL, NULL, t.files[i].path);
                free(name);
                free(label);
            }
            sp_tree_release(&t);
        }
        free(root);
    }
    if (rc == 0 && !found)
        rc = sp_error_set(err, SP_EINPUT, path,
                          "a directory without jniLibs/ or assets/ is not a pack output");
    if (rc == 0)
        check_items(&c);
    ctx_release(&c);
    return rc;
}

int sp_verify_path(const char *path, const sp_verify_opts *o, sp_report *report, sp_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return sp_error_set(err, errno == ENOENT ? SP_EINPUT : SP_EIO, path, "%s",
                            strerror(errno));
    if (S_ISDIR(st.st_mode))
        return verify_dir(path, o, report, err);
    sp_map m;
    if (sp_map_open(&m, path, err) != 0)
        return -1;
    static unsigned char empty[1];
    int rc = sp_verify_buffer(m.data ? m.data : empty, m.size, path, o, report, err);
    sp_map_close(&m);
    return rc;
}
