/* sp-pack ls's data: see sppack/listing.h. */
#include "sppack/listing.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sppack/alloc.h"
#include "sppack/outdir.h"
#include "sppack/archive.h"
#include "sppack/elfinspect.h"
#include "sppack/file.h"
#include "sppack/libcheck.h"
#include "sppack/parallel.h"
#include "sppack/path.h"
#include "sppack/text.h"
#include "sppack/treewalk.h"

#define LISTING_FORMAT 1

/* One entry or file, for the size report. */
struct sized {
    int abi;                   /* index into abis; -1: every ABI ships it */
    uint64_t stored;           /* bytes as stored */
    const unsigned char *data; /* stored bytes to deflate (an archive's entry), or NULL */
    size_t size;
    char *path;        /* a directory's file to deflate, or NULL */
    uint64_t deflated; /* the estimate; a compressed entry's compressed size */
};

/* A marker of a Python zip: the library it names, and where it is. */
struct marker {
    char *lib, *path;
};

/* What listing gathers besides the listing itself. */
struct lister {
    sp_listing *l;
    SP_VEC(struct sized) sized;
    SP_VEC(struct marker) markers;
    sp_package_tally tally;
};

static int abi_of(sp_listing *l, const char *abi, size_t n)
{
    for (int i = 0; i < l->nabis; i++)
        if (strlen(l->abis[i]) == n && !strncmp(l->abis[i], abi, n))
            return i;
    if (l->nabis == SP_MAX_ABIS || n >= sizeof l->abis[0])
        return -1;
    memcpy(l->abis[l->nabis], abi, n);
    l->abis[l->nabis][n] = '\0';
    return l->nabis++;
}

static unsigned alignment_of(uint64_t off)
{
    static const unsigned aligns[] = {65536, 16384, 4096, 4};
    for (size_t i = 0; i < 4; i++)
        if (off % aligns[i] == 0)
            return aligns[i];
    return 1;
}

/* Reads a library's ELF headers (writable bytes: libelf may convert them
 * in place) into what ls shows: p_align, and whether a 16 KB device on its
 * ABI refuses it. */
static void inspect(sp_listed_lib *x, const char *abi_dir, unsigned char *data, size_t n)
{
    sp_elf_info info;
    if (!data || !sp_elf_is_elf(data, n) || sp_elf_inspect(data, n, x->entry, &info, NULL) != 0)
        return;
    x->elf = 1;
    x->p_align = info.min_load_align;
    const sp_abi *abi = sp_abi_known(abi_dir);
    char why[256];
    x->not_16k = abi && abi->elf_class == 64 &&
                 ((info.min_load_align && info.min_load_align < 16384) ||
                  sp_libcheck_relro(&info, 16384, why, sizeof why));
    sp_elf_info_release(&info);
}

/* A stored Python zip read in place: its entries counted for the packages
 * (for the ABI of an overlay, else for all), its markers remembered. The
 * number of markers, or -1 when it cannot be read in place. */
static long read_python_zip(struct lister *ls, const unsigned char *data, size_t size, int abi)
{
    sp_zip z;
    memset(&z, 0, sizeof z);
    sp_error err;
    if (sp_zip_open_buffer(&z, data, size, "", NULL, NULL, &err) != 0) {
        sp_zip_close(&z);
        return -1;
    }
    long n = 0;
    for (size_t i = 0; i < z.n; i++) {
        const sp_zip_entry *e = &z.entries[i];
        size_t len = strlen(e->name);
        if (!len || e->name[len - 1] == '/')
            continue;
        sp_package_tally_add(&ls->tally, e->name, abi, e->usize);
        if (len <= 6 || strcmp(e->name + len - 6, ".soref"))
            continue;
        n++;
        if (e->method == 0 && e->valid && e->csize == e->usize && e->usize < 256) {
            struct marker m = {sp_xstrndup((const char *)sp_zip_data(&z, e), e->usize),
                               sp_xstrdup(e->name)};
            SP_VEC_PUSH(ls->markers, m);
        }
    }
    sp_zip_close(&z);
    return n;
}

static int is_python_zip(const char *path)
{
    size_t n = strlen(path);
    return !strncmp(path, "assets/", 7) && n > 4 && !strcmp(path + n - 4, ".zip");
}

/* The ABI of an overlay zip, assets/NAME-<abi>.zip (a known ABI); -1 for
 * any other path. */
static int overlay_abi(sp_listing *l, const char *path)
{
    size_t n = strlen(path);
    if (!is_python_zip(path) || strchr(path + 7, '/'))
        return -1;
    for (const char *dash = strchr(path + 7, '-'); dash; dash = strchr(dash + 1, '-')) {
        char abi[16];
        size_t len = (size_t)(path + n - 4 - (dash + 1));
        if (len == 0 || len >= sizeof abi)
            continue;
        memcpy(abi, dash + 1, len);
        abi[len] = '\0';
        if (sp_abi_known(abi))
            return abi_of(l, abi, len);
    }
    return -1;
}

static void add_sized(struct lister *ls, int abi, uint64_t stored, const unsigned char *data,
                      size_t size, char *path, uint64_t deflated)
{
    struct sized z = {abi, stored, data, size, path, deflated};
    SP_VEC_PUSH(ls->sized, z);
}

/* room: how much an inflated library may take, with what the archive
 * holds already (sppack/zipreader.h, SP_ZIP_HELD_MAX). */
static void list_entry(struct lister *ls, const sp_archive_entry *ae, size_t room)
{
    sp_listing *l = ls->l;
    const sp_zip_entry *e = ae->e;
    if (!e->valid)
        return;
    /* For the size report: the stored bytes to deflate, or a compressed
     * entry's own size as its estimate. */
    const unsigned char *stored = e->method == 0 && !e->shared ? sp_zip_data(ae->zip, e) : NULL;
    uint64_t estimate = e->method == 0 ? (e->shared ? e->csize : 0) : e->csize;
    sp_lib_path lp;
    if (sp_lib_path_parse(ae->path, "lib/", &lp)) {
        int a = abi_of(l, lp.abi, lp.abi_len);
        if (a < 0 || !*lp.name)
            return;
        sp_listed_lib x = {sp_xstrdup(ae->label),
                           a,
                           1,
                           e->data_offset,
                           alignment_of(e->data_offset),
                           e->method,
                           e->usize,
                           e->csize,
                           0,
                           0,
                           0};
        sp_buf b;
        sp_buf_init(&b);
        unsigned char *bytes = NULL;
        size_t n = 0;
        unsigned char head[4];
        if (e->shared) {
            /* a zip bomb's: never inflated */
        } else if (e->method == 0) {
            bytes = (unsigned char *)sp_zip_data(ae->zip, e);
            n = e->csize;
        } else if (sp_zip_read_head(ae->zip, e, head, sizeof head) == (long)sizeof head &&
                   sp_elf_is_elf(head, sizeof head) &&
                   sp_zip_read_entry(ae->zip, e, room, &b, NULL) == 0) {
            bytes = (unsigned char *)b.data;
            n = b.len;
        }
        inspect(&x, l->abis[a], bytes, n);
        sp_buf_release(&b);
        SP_VEC_PUSH(l->libs, x);
        add_sized(ls, a, e->csize, stored, e->csize, NULL, estimate);
        return;
    }
    l->common_bytes += e->csize;
    int abi = overlay_abi(l, ae->path);
    size_t len = strlen(ae->path);
    if (len && ae->path[len - 1] != '/') /* a directory entry ships nothing */
        add_sized(ls, abi, e->csize, stored, e->csize, NULL, estimate);
    if (is_python_zip(ae->path)) {
        long markers = e->method == 0 && stored ? read_python_zip(ls, stored, e->csize, abi) : -1;
        sp_listed_zip z = {
            sp_xstrdup(ae->label), 1, e->data_offset, e->method, e->usize, e->csize, markers};
        SP_VEC_PUSH(l->zips, z);
    }
}

/* An APK of a set that cannot be read. */
static void member_failed(void *ctx, const char *member, enum sp_zip_problem problem,
                          const char *msg)
{
    (void)problem;
    (void)member; /* msg names it */
    sp_error *err = ctx;
    if (err->status == SP_OK)
        sp_error_set(err, SP_EINPUT, NULL, "%s", msg);
}

static void estimate_one(void *ctx, int worker, size_t i)
{
    (void)worker;
    struct sized *z = &((struct sized *)ctx)[i];
    if (z->data)
        z->deflated = sp_deflated_size(z->data, z->size);
    else if (z->path && sp_deflated_size_file(z->path, &z->deflated, NULL) != 0)
        z->deflated = z->stored; /* gone meanwhile: counted as it was */
}

/* The download estimates, on every core (while the archive is open). */
static void estimate(struct lister *ls)
{
    sp_parallel_for(ls->sized.n, sp_online_cpus(), estimate_one, ls->sized.v);
}

static int list_archive(struct lister *ls, const char *path, sp_error *err)
{
    sp_archive a;
    sp_error member;
    sp_error_init(&member);
    sp_archive_hooks hooks = {&member, NULL, member_failed};
    if (sp_archive_open(&a, path, &hooks, SP_ZIP_HELD_MAX, err) != 0)
        return -1;
    ls->l->kind = sp_archive_kind_name(a.kind);
    for (size_t i = 0; i < a.n; i++)
        list_entry(ls, &a.entries[i], SP_ZIP_HELD_MAX - a.held);
    estimate(ls);
    int changed = sp_zip_unchanged(&a.zip, path, err);
    sp_archive_close(&a);
    if (changed)
        return -1;
    if (member.status != SP_OK) {
        *err = member;
        return -1;
    }
    return 0;
}

static void list_dir(struct lister *ls, const char *path)
{
    sp_listing *l = ls->l;
    l->kind = "dir";
    static const char *const parts[] = {"jniLibs", "assets"};
    for (int p = 0; p < 2; p++) {
        char *root = sp_path_join(path, parts[p]);
        sp_tree t;
        sp_error err;
        if (sp_tree_walk(root, NULL, &t, &err) == 0) {
            for (size_t i = 0; i < t.n; i++) {
                const sp_tree_file *f = &t.files[i];
                sp_lib_path lp;
                char *entry = sp_xasprintf("%s/%s", parts[p], f->rel);
                if (p == 0 && sp_lib_path_parse(f->rel, "", &lp)) {
                    int a = abi_of(l, lp.abi, lp.abi_len);
                    if (a >= 0) {
                        sp_listed_lib x = {entry, a, 0, 0, 0, 0, f->size, f->size, 0, 0, 0};
                        sp_map m;
                        if (sp_map_open(&m, f->path, NULL) == 0) {
                            inspect(&x, l->abis[a], m.data, m.size);
                            sp_map_close(&m);
                        }
                        SP_VEC_PUSH(l->libs, x);
                        add_sized(ls, a, f->size, NULL, 0, sp_xstrdup(f->path), 0);
                        continue;
                    }
                }
                l->common_bytes += f->size;
                int abi = overlay_abi(l, entry);
                add_sized(ls, abi, f->size, NULL, 0, sp_xstrdup(f->path), 0);
                if (p == 1 && is_python_zip(entry)) {
                    sp_map m;
                    long markers = -1;
                    if (sp_map_open(&m, f->path, NULL) == 0) {
                        markers = read_python_zip(ls, m.data, m.size, abi);
                        sp_map_close(&m);
                    }
                    sp_listed_zip z = {entry, 0, 0, 0, f->size, f->size, markers};
                    SP_VEC_PUSH(l->zips, z);
                    continue;
                }
                free(entry);
            }
        }
        sp_tree_release(&t);
        free(root);
    }
    estimate(ls);
}

/* The size report from what was gathered: per ABI the sums, and the
 * packages, with the libraries their markers name. */
static void size_report(struct lister *ls)
{
    sp_listing *l = ls->l;
    for (int a = 0; a < l->nabis; a++) {
        const sp_abi *abi = sp_abi_known(l->abis[a]);
        l->not_16k[a] = abi && abi->elf_class == 64 ? 0 : -1;
    }
    for (size_t i = 0; i < ls->sized.n; i++) {
        const struct sized *z = &ls->sized.v[i];
        for (int a = 0; a < l->nabis; a++)
            if (z->abi == a || z->abi < 0) {
                l->install[a] += z->stored;
                l->download[a] += z->deflated;
            }
    }
    for (size_t i = 0; i < l->libs.n; i++) {
        const sp_listed_lib *x = &l->libs.v[i];
        l->nlibs[x->abi]++;
        l->lib_bytes[x->abi] += x->stored;
        if (l->not_16k[x->abi] >= 0)
            l->not_16k[x->abi] += x->not_16k;
        const char *base = strrchr(x->entry, '/');
        base = base ? base + 1 : x->entry;
        for (size_t k = 0; k < ls->markers.n; k++)
            if (!strcmp(ls->markers.v[k].lib, base)) {
                sp_package_tally_add(&ls->tally, ls->markers.v[k].path, x->abi, x->size);
                break;
            }
    }
    l->npackages = sp_package_tally_top(&ls->tally, l->nabis, SP_SIZE_TOP_PACKAGES, &l->packages);
}

int sp_listing_read(const char *path, sp_listing *l, sp_error *err)
{
    memset(l, 0, sizeof *l);
    struct stat st;
    if (stat(path, &st) != 0)
        return sp_error_set(err, errno == ENOENT ? SP_EINPUT : SP_EIO, path, "%s",
                            errno == ENOENT ? "no such file or directory" : strerror(errno));
    struct lister ls;
    memset(&ls, 0, sizeof ls);
    ls.l = l;
    sp_package_tally_init(&ls.tally);
    int rc = 0;
    if (!S_ISDIR(st.st_mode)) {
        rc = list_archive(&ls, path, err);
    } else {
        /* One generation of a pack output directory, whatever a run switches meanwhile. */
        char *top = sp_outdir_current(path);
        list_dir(&ls, top);
        free(top);
    }
    if (rc == 0)
        size_report(&ls);
    for (size_t i = 0; i < ls.sized.n; i++)
        free(ls.sized.v[i].path);
    free(ls.sized.v);
    for (size_t i = 0; i < ls.markers.n; i++)
        SP_FREE_ALL(ls.markers.v[i].lib, ls.markers.v[i].path);
    free(ls.markers.v);
    sp_package_tally_release(&ls.tally);
    return rc;
}

void sp_listing_abi_names(const sp_listing *l, const char *names[SP_MAX_ABIS])
{
    for (int a = 0; a < l->nabis; a++)
        names[a] = l->abis[a];
}

void sp_listing_release(sp_listing *l)
{
    for (size_t i = 0; i < l->libs.n; i++)
        free(l->libs.v[i].entry);
    for (size_t i = 0; i < l->zips.n; i++)
        free(l->zips.v[i].entry);
    SP_FREE_ALL(l->libs.v, l->zips.v);
    sp_size_packages_free(l->packages, l->npackages);
    memset(l, 0, sizeof *l);
}

char *sp_listing_json(const sp_listing *l, const char *path)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "format", LISTING_FORMAT);
    sp_json_add_text(doc, "path", path);
    cJSON_AddStringToObject(doc, "kind", l->kind);
    cJSON *libs = cJSON_AddArrayToObject(doc, "libraries");
    for (size_t i = 0; i < l->libs.n; i++) {
        const sp_listed_lib *x = &l->libs.v[i];
        cJSON *o = cJSON_CreateObject();
        sp_json_add_text(o, "abi", l->abis[x->abi]);
        sp_json_add_text(o, "entry", x->entry);
        if (x->in_archive) {
            cJSON_AddNumberToObject(o, "offset", (double)x->offset);
            cJSON_AddNumberToObject(o, "align", x->align);
            cJSON_AddStringToObject(o, "method", x->method ? "deflate" : "stored");
        }
        cJSON_AddNumberToObject(o, "size", (double)x->size);
        if (x->elf)
            cJSON_AddNumberToObject(o, "p_align", (double)x->p_align);
        else
            cJSON_AddNullToObject(o, "p_align");
        cJSON_AddBoolToObject(o, "loads_on_16k", x->elf && !x->not_16k);
        cJSON_AddItemToArray(libs, o);
    }
    cJSON *zips = cJSON_AddArrayToObject(doc, "python");
    for (size_t i = 0; i < l->zips.n; i++) {
        const sp_listed_zip *z = &l->zips.v[i];
        cJSON *o = cJSON_CreateObject();
        sp_json_add_text(o, "entry", z->entry);
        if (z->in_archive) {
            cJSON_AddNumberToObject(o, "offset", (double)z->offset);
            cJSON_AddStringToObject(o, "method", z->method ? "deflate" : "stored");
        }
        cJSON_AddNumberToObject(o, "size", (double)z->size);
        if (z->markers >= 0)
            cJSON_AddNumberToObject(o, "markers", (double)z->markers);
        else
            cJSON_AddNullToObject(o, "markers");
        cJSON_AddItemToArray(zips, o);
    }
    cJSON *abis = cJSON_AddObjectToObject(doc, "abis");
    for (int a = 0; a < l->nabis; a++) {
        char *key = sp_utf8_clean(l->abis[a]);
        cJSON *o = cJSON_AddObjectToObject(abis, key);
        free(key);
        cJSON_AddNumberToObject(o, "libraries", (double)l->nlibs[a]);
        cJSON_AddNumberToObject(o, "library_bytes", (double)l->lib_bytes[a]);
        cJSON *v = cJSON_AddObjectToObject(o, "devices_16k");
        long bad = l->not_16k[a];
        cJSON_AddStringToObject(v, "verdict",
                                bad < 0 ? "not applicable"
                                : bad   ? "not ready"
                                        : "ready");
        cJSON_AddNumberToObject(v, "libraries", bad > 0 ? (double)bad : 0);
    }
    cJSON_AddNumberToObject(doc, "common_bytes", (double)l->common_bytes);
    const char *names[SP_MAX_ABIS];
    sp_listing_abi_names(l, names);
    sp_size_json(doc, names, l->nabis, l->install, l->download);
    sp_size_json_packages(doc, l->packages, l->npackages);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    return text;
}
