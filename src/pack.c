#define _GNU_SOURCE
#include "sppack/pack.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "sppack/apk.h"
#include "sppack/bootstrap.h"
#include "sppack/bytecode.h"
#include "sppack/classify.h"
#include "sppack/elfinspect.h"
#include "sppack/inputload.h"
#include "sppack/mangle.h"
#include "sppack/outdir.h"
#include "sppack/snapshot.h"
#include "sppack/treewalk.h"
#include "sppack/zipwriter.h"

#ifndef SP_PACK_VERSION
#define SP_PACK_VERSION "0"
#endif

enum zip_kind { ZIP_STDLIB, ZIP_SITE, ZIP_EXTRACT, ZIP_KINDS };
static const char *const zip_base[ZIP_KINDS] = {"stdlib", "sitepackages", "extract"};
static const char *const input_kind_name[] = {"stdlib", "site-packages", "lib"};
static const char *const stdlib_skip_top[] = {"site-packages", "dist-packages", NULL};

#define MAX_ABIS 8

/* A file destined for a zip, from one ABI's tree. */
struct pure {
    int zip;
    char *name;          /* path inside the zip */
    int abi;             /* index into plan.abis */
    uint64_t hash;
    const unsigned char *data;
    size_t size;
    char *source;        /* input file, for messages */
};

/* An extension module of one ABI. */
struct module {
    char *lib;           /* mangled library name */
    char *module;        /* dotted module name */
    char *marker;        /* marker path inside its zip */
    int zip;
    int abi;
    char *source;
    uint64_t hash;
    uint64_t size;
};

/* A plain shared library (dependency or --lib) of one ABI. */
struct natlib {
    char *name;
    int abi;
    char *source;
    uint64_t hash;
    uint64_t size;
    int from_option;     /* given with --lib */
};

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }
#define VEC_PUSH(vec, item)                                                                        \
    do {                                                                                           \
        if ((vec).n == (vec).cap) {                                                                \
            (vec).cap = (vec).cap ? (vec).cap * 2 : 64;                                            \
            (vec).v = sp_xrealloc((vec).v, (vec).cap * sizeof *(vec).v);                           \
        }                                                                                          \
        (vec).v[(vec).n++] = (item);                                                               \
    } while (0)

struct input_stats {
    size_t files;
    uint64_t bytes;
    const sp_abi *abi;
};

struct plan {
    const sp_pack_opts *opts;
    const sp_abi *abis[MAX_ABIS];
    int nabis;
    VEC(struct pure) pure;
    VEC(struct module) modules;
    VEC(struct natlib) natlibs;
    VEC(sp_map) maps;
    struct input_stats *stats;
    sp_strv *warnings;
    int has_site;
    sp_pyc *pyc;         /* the bytecode helper, with --pyc */
    VEC(sp_buf) pycs;    /* compiled bytecode, referenced by pure entries */
    size_t pyc_failed;
    char *pyc_first_failure;
    const unsigned char *boot_pyc; /* _sp_bootstrap.pyc, with --pyc */
    size_t boot_pyc_len;
    int jobs;               /* threads for walking, reading and writing */
    const char *state_base; /* where the state files go (see state_base()), or NULL */
    const cJSON *prev;   /* the previous run's state, or NULL */
    cJSON *next_outputs; /* this run's: rel -> {recipe, size, xxh3[, entries]} */
};

static int abi_index(struct plan *p, const sp_abi *abi)
{
    for (int i = 0; i < p->nabis; i++)
        if (p->abis[i] == abi)
            return i;
    p->abis[p->nabis] = abi;
    return p->nabis++;
}

static const char *abi_name(const struct plan *p, int i)
{
    return p->abis[i]->name;
}

static void plan_release(struct plan *p)
{
    for (size_t i = 0; i < p->pure.n; i++) {
        free(p->pure.v[i].name);
        free(p->pure.v[i].source);
    }
    for (size_t i = 0; i < p->modules.n; i++) {
        free(p->modules.v[i].lib);
        free(p->modules.v[i].module);
        free(p->modules.v[i].marker);
        free(p->modules.v[i].source);
    }
    for (size_t i = 0; i < p->natlibs.n; i++) {
        free(p->natlibs.v[i].name);
        free(p->natlibs.v[i].source);
    }
    for (size_t i = 0; i < p->maps.n; i++)
        sp_map_close(&p->maps.v[i]);
    for (size_t i = 0; i < p->pycs.n; i++)
        sp_buf_release(&p->pycs.v[i]);
    free(p->pycs.v);
    free(p->pyc_first_failure);
    free(p->pure.v);
    free(p->modules.v);
    free(p->natlibs.v);
    free(p->maps.v);
    free(p->stats);
    cJSON_Delete(p->next_outputs);
}

/* Maps a file and keeps the mapping until the plan is released. */
static int load(struct plan *p, const char *path, const unsigned char **data, size_t *size,
                sp_error *err)
{
    sp_map m;
    if (sp_map_open(&m, path, err) != 0)
        return -1;
    VEC_PUSH(p->maps, m);
    *data = m.data;
    *size = m.size;
    return 0;
}

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

static int is_extracted(const sp_pack_opts *o, const char *name)
{
    if (!o->extract.n)
        return 0;
    const char *slash = strchr(name, '/');
    char *top = slash ? sp_xstrndup(name, (size_t)(slash - name)) : sp_xstrdup(name);
    int hit = 0;
    for (size_t i = 0; i < o->extract.n && !hit; i++)
        hit = fnmatch(o->extract.v[i], top, 0) == 0;
    free(top);
    return hit;
}

static void add_pure_hashed(struct plan *p, int zip, const char *name, int abi,
                            const void *data, size_t size, uint64_t hash, const char *source)
{
    struct pure e = {zip, sp_xstrdup(name), abi, hash, data, size, sp_xstrdup(source)};
    VEC_PUSH(p->pure, e);
}

static void add_pure(struct plan *p, int zip, const char *name, int abi, const void *data,
                     size_t size, const char *source)
{
    add_pure_hashed(p, zip, name, abi, data, size, XXH3_64bits(data, size), source);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* A pure file; with --pyc a .py also gets its NAME.pyc beside it (and with
 * --pyc-only replaces it), unless it does not compile. */
static int add_source(struct plan *p, int zip, const char *name, int abi, const void *data,
                      size_t size, uint64_t hash, const char *source, sp_error *err)
{
    if (!p->pyc || !ends_with(name, ".py")) {
        add_pure_hashed(p, zip, name, abi, data, size, hash, source);
        return 0;
    }
    sp_buf b;
    sp_buf_init(&b);
    int rc = sp_pyc_compile(p->pyc, name, data, size, &b, err);
    if (rc < 0) {
        sp_buf_release(&b);
        return -1;
    }
    if (rc == 1) {
        if (!p->pyc_failed++)
            p->pyc_first_failure = sp_xasprintf("%s (%s)", source, b.data);
        sp_buf_release(&b);
        add_pure_hashed(p, zip, name, abi, data, size, hash, source);
        return 0;
    }
    VEC_PUSH(p->pycs, b);
    char *pyc_name = sp_xasprintf("%sc", name);
    const sp_buf *kept = &p->pycs.v[p->pycs.n - 1];
    add_pure(p, zip, pyc_name, abi, kept->data, kept->len, source);
    free(pyc_name);
    if (!p->opts->pyc_only)
        add_pure_hashed(p, zip, name, abi, data, size, hash, source);
    return 0;
}

/* One ELF candidate of a tree, before the tree's ABI is known. */
struct candidate {
    const sp_tree_file *file;
    char *name;          /* path relative to the zip root */
    enum sp_so_name kind;
    char *stem;
    int is_module;
    const sp_elf_info *info; /* of an ELF library (the loader's), else NULL */
    const unsigned char *data;
    size_t size;
    uint64_t hash;
};

static int check_machine(const sp_elf_info *info, const sp_abi *abi, const char *path,
                         sp_error *err)
{
    if (info->elf_class == abi->elf_class && info->machine == abi->elf_machine)
        return 0;
    const sp_abi *actual = sp_abi_for_elf(info->elf_class, info->machine);
    return sp_error_set(err, SP_EINPUT, path,
                        "ELF is %d-bit %s%s%s%s, expected %d-bit %s for %s "
                        "(built for the wrong ABI?)",
                        info->elf_class, sp_abi_machine_name(info->machine),
                        actual ? " (" : "", actual ? actual->name : "", actual ? ")" : "",
                        abi->elf_class, abi->machine, abi->name);
}

static int detect_abi(struct candidate *c, size_t n, const char *root, const sp_abi **out,
                      sp_error *err)
{
    const sp_abi *abi = NULL;
    const char *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].is_module)
            continue;
        const sp_abi *a = sp_abi_for_elf(c[i].info->elf_class, c[i].info->machine);
        if (!a)
            return sp_error_set(err, SP_EINPUT, c[i].file->path,
                                "ELF is %d-bit %s, which is no Android ABI", c[i].info->elf_class,
                                sp_abi_machine_name(c[i].info->machine));
        if (!abi) {
            abi = a;
            first = c[i].file->path;
        } else if (a != abi) {
            return sp_error_set(err, SP_EINPUT, root,
                                "extension modules disagree on the ABI: %s is %s, %s is %s "
                                "(hint: name it, ABI=%s)",
                                first, abi->name, c[i].file->path, a->name, root);
        }
    }
    if (!abi)
        return sp_error_set(err, SP_EINPUT, root,
                            "no extension module to detect the ABI from (hint: name it, "
                            "ABI=%s, one of %s)",
                            root, sp_abi_list());
    *out = abi;
    return 0;
}

static int needed_by_module(const struct candidate *c, size_t n, const char *soname)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].is_module && sp_strv_contains(&c[i].info->needed, soname))
            return 1;
    return 0;
}

static int zip_for_input(const struct plan *p, int kind, const char *name)
{
    if (is_extracted(p->opts, name))
        return ZIP_EXTRACT;
    return kind == SP_INPUT_STDLIB ? ZIP_STDLIB : ZIP_SITE;
}

static int read_tree(struct plan *p, size_t idx, const sp_tree *walked, const sp_blob *blobs,
                     sp_error *err)
{
    const sp_pack_input *in = &p->opts->inputs[idx];
    const sp_tree tree = *walked;
    VEC(struct candidate) cands = {0};
    int rc = 0;
    for (size_t i = 0; i < tree.n && rc == 0; i++) {
        const sp_tree_file *f = &tree.files[i];
        const char *name = f->rel;
        if (in->kind == SP_INPUT_STDLIB && strncmp(name, "lib-dynload/", 12) == 0)
            name += 12;
        const char *slash = strrchr(name, '/');
        const char *base = slash ? slash + 1 : name;
        struct candidate c = {f,    sp_xstrdup(name), SP_SO_NONE,    NULL,         0,
                              NULL, blobs[i].data,    blobs[i].size, blobs[i].hash};
        c.kind = sp_classify_so_name(base, &c.stem);
        if (c.kind != SP_SO_NONE && blobs[i].elf_checked) {
            /* Inspected by the loader, on its threads. */
            if (blobs[i].elf_error) {
                *err = *blobs[i].elf_error;
                rc = -1;
            } else {
                c.info = blobs[i].elf;
                c.is_module = c.kind == SP_SO_TAGGED ||
                              (c.kind == SP_SO_PLAIN && sp_elf_exports_pyinit(c.info, c.stem));
            }
        } else if (c.kind == SP_SO_TAGGED) {
            rc = sp_error_set(err, SP_EINPUT, f->path,
                              "named like an extension module but is not an ELF file");
        } else {
            c.kind = SP_SO_NONE; /* a pure file that happens to end in .so */
        }
        p->stats[idx].files++;
        p->stats[idx].bytes += f->size;
        if (rc != 0) {
            free(c.name);
            free(c.stem);
            break;
        }
        VEC_PUSH(cands, c);
    }

    const sp_abi *abi = in->abi;
    if (rc == 0 && !abi)
        rc = detect_abi(cands.v, cands.n, in->path, &abi, err);
    int ai = -1;
    if (rc == 0) {
        ai = abi_index(p, abi); /* at most the five known ABIs */
        p->stats[idx].abi = abi;
    }
    for (size_t i = 0; i < cands.n && rc == 0; i++) {
        struct candidate *c = &cands.v[i];
        int zip = zip_for_input(p, in->kind, c->name);
        if (c->kind == SP_SO_NONE) {
            rc = add_source(p, zip, c->name, ai, c->data, c->size, c->hash, c->file->path, err);
            continue;
        }
        rc = check_machine(c->info, abi, c->file->path, err);
        if (rc != 0)
            break;
        if (c->is_module) {
            char *module, *mangle_from, *marker;
            sp_module_names(c->name, c->stem, &module, &mangle_from, &marker);
            char *lib = sp_mangle(mangle_from);
            free(mangle_from);
            if (!lib) {
                rc = sp_error_set(err, SP_EINPUT, c->file->path,
                                  "cannot name a library for module '%s' (empty name component)",
                                  module);
                free(module);
                free(marker);
                break;
            }
            /* Markers follow the module's zip (extract.zip for extracted packages). */
            struct module m = {lib, module, marker, zip, ai, sp_xstrdup(c->file->path), c->hash,
                               c->size};
            VEC_PUSH(p->modules, m);
            add_pure(p, zip, marker, ai, lib, strlen(lib), c->file->path);
        } else {
            /* A dependency goes to lib/<abi>/ under the name its users ask
             * for: its soname when a module of this tree lists it in
             * DT_NEEDED, else its file name. */
            const char *slash = strrchr(c->name, '/');
            const char *base = slash ? slash + 1 : c->name;
            if (c->info->soname && needed_by_module(cands.v, cands.n, c->info->soname))
                base = c->info->soname;
            if (!sp_is_android_lib_name(base)) {
                rc = sp_error_set(err, SP_EINPUT, c->file->path,
                                  "shared library name %s is not lib*.so, which Android does "
                                  "not install (hint: rename it and patch the DT_NEEDED "
                                  "entries naming it, or --exclude '%s')",
                                  base, c->file->rel);
                break;
            }
            struct natlib l = {sp_xstrdup(base), ai, sp_xstrdup(c->file->path), c->hash, c->size,
                               0};
            VEC_PUSH(p->natlibs, l);
        }
    }
    for (size_t i = 0; i < cands.n; i++) {
        free(cands.v[i].name);
        free(cands.v[i].stem);
    }
    free(cands.v);
    return rc;
}

static int read_lib(struct plan *p, size_t idx, const char *path, const sp_abi *given,
                    sp_error *err)
{
    const unsigned char *data;
    size_t size;
    if (load(p, path, &data, &size, err) != 0)
        return -1;
    p->stats[idx].files++;
    p->stats[idx].bytes += size;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!sp_elf_is_elf(data, size))
        return sp_error_set(err, SP_EINPUT, path, "--lib: not an ELF shared library");
    sp_elf_info info;
    if (sp_elf_inspect((void *)data, size, path, &info, err) != 0)
        return -1;
    const sp_abi *abi = given ? given : sp_abi_for_elf(info.elf_class, info.machine);
    int rc = 0;
    if (!abi)
        rc = sp_error_set(err, SP_EINPUT, path, "ELF is %d-bit %s, which is no Android ABI",
                          info.elf_class, sp_abi_machine_name(info.machine));
    else
        rc = check_machine(&info, abi, path, err);
    sp_elf_info_release(&info);
    if (rc != 0)
        return rc;
    if (!sp_is_android_lib_name(base))
        return sp_error_set(err, SP_EINPUT, path,
                            "library name is not lib*.so, which Android does not install "
                            "(hint: rename it)");
    if (!p->stats[idx].abi)
        p->stats[idx].abi = abi;
    struct natlib l = {sp_xstrdup(base), abi_index(p, abi), sp_xstrdup(path),
                       XXH3_64bits(data, size), size, 1};
    VEC_PUSH(p->natlibs, l);
    return 0;
}

static int read_lib_input(struct plan *p, size_t idx, const sp_tree *tree, int is_dir,
                          sp_error *err)
{
    const sp_pack_input *in = &p->opts->inputs[idx];
    int rc = 0;
    for (size_t i = 0; i < tree->n && rc == 0; i++)
        rc = read_lib(p, idx, tree->files[i].path, in->abi, err);
    if (rc == 0 && is_dir && tree->n == 0)
        rc = sp_error_set(err, SP_EINPUT, in->path, "--lib: no library in this directory");
    return rc;
}

/* A --lib input naming one file: a tree of that file (a --lib directory
 * is walked like the trees). */
static int lib_file_input(const sp_pack_input *in, sp_tree *tree, int *is_dir, sp_error *err)
{
    struct stat st;
    if (stat(in->path, &st) != 0)
        return sp_error_set(err, errno == ENOENT ? SP_EINPUT : SP_EIO, in->path, "--lib: %s",
                            strerror(errno));
    if (S_ISDIR(st.st_mode))
        return 0;
    *is_dir = 0;
    tree->files = sp_xcalloc(1, sizeof *tree->files);
    tree->n = tree->cap = 1;
    const char *slash = strrchr(in->path, '/');
    tree->files[0].rel = sp_xstrdup(slash ? slash + 1 : in->path);
    tree->files[0].path = sp_xstrdup(in->path);
    tree->files[0].size = (uint64_t)st.st_size;
    tree->files[0].mtime_ns = sp_timespec_ns(&st.st_mtim);
    tree->files[0].ctime_ns = sp_timespec_ns(&st.st_ctim);
    tree->files[0].ino = (uint64_t)st.st_ino;
    return 0;
}

/* ---- union over ABIs ---------------------------------------------------------------------- */

static void sort_items(void *base, size_t n, size_t size,
                       int (*cmp)(const void *, const void *, void *), void *ctx)
{
    if (n > 1)
        qsort_r(base, n, size, cmp, ctx);
}

static int cmp_abi_names(const struct plan *p, int a, int b)
{
    return strcmp(p->abis[a]->name, p->abis[b]->name);
}

/* Order of (name, ABI name, source): the one order every list is sorted in. */
static int cmp_name_abi_source(const struct plan *p, const char *na, int aa, const char *sa,
                               const char *nb, int ab, const char *sb)
{
    int c = strcmp(na, nb);
    if (c)
        return c;
    c = cmp_abi_names(p, aa, ab);
    return c ? c : strcmp(sa, sb);
}

static int cmp_pure(const void *a, const void *b, void *ctx)
{
    const struct pure *x = a, *y = b;
    if (x->zip != y->zip)
        return x->zip - y->zip;
    return cmp_name_abi_source(ctx, x->name, x->abi, x->source, y->name, y->abi, y->source);
}

static int cmp_module(const void *a, const void *b, void *ctx)
{
    const struct module *x = a, *y = b;
    return cmp_name_abi_source(ctx, x->lib, x->abi, x->source, y->lib, y->abi, y->source);
}

static int cmp_natlib(const void *a, const void *b, void *ctx)
{
    const struct natlib *x = a, *y = b;
    return cmp_name_abi_source(ctx, x->name, x->abi, x->source, y->name, y->abi, y->source);
}

static int cmp_abi_ptr(const void *a, const void *b)
{
    return strcmp((*(const sp_abi *const *)a)->name, (*(const sp_abi *const *)b)->name);
}

/* Output entry of a zip: points into a struct pure or the bootstrap. */
struct zentry {
    const char *name;
    const unsigned char *data;
    size_t size;
    uint64_t hash; /* xxh3 of data; 0 for directories */
};

struct zip_out {
    VEC(struct zentry) entries;
};

/* Where each pure entry goes: out[zip][0] the common zip, out[zip][1+abi] overlays. */
struct layout {
    struct zip_out out[ZIP_KINDS][1 + MAX_ABIS];
    cJSON *overlaid; /* [{"zip","path","abis":[...]}] */
};

static void warn(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct plan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_strv_push_owned(p->warnings, sp_xvasprintf(fmt, ap, NULL));
    va_end(ap);
}

static int unite_pure(struct plan *p, struct layout *lay, sp_error *err)
{
    sort_items(p->pure.v, p->pure.n, sizeof *p->pure.v, cmp_pure, p);
    lay->overlaid = cJSON_CreateArray();
    size_t i = 0;
    while (i < p->pure.n) {
        size_t j = i + 1;
        while (j < p->pure.n && p->pure.v[j].zip == p->pure.v[i].zip &&
               strcmp(p->pure.v[j].name, p->pure.v[i].name) == 0)
            j++;
        /* Same path twice in one ABI (two trees, or a marker over a file). */
        for (size_t k = i + 1; k < j; k++) {
            struct pure *a = &p->pure.v[k - 1], *b = &p->pure.v[k];
            if (a->abi == b->abi && a->hash != b->hash)
                return sp_error_set(err, SP_EINPUT, b->source,
                                    "conflicts with %s: both become %s/%s for %s", a->source,
                                    zip_base[a->zip], a->name, abi_name(p, a->abi));
        }
        int same = 1;
        for (size_t k = i + 1; k < j; k++)
            if (p->pure.v[k].hash != p->pure.v[i].hash)
                same = 0;
        struct pure *e = &p->pure.v[i];
        if (e->zip == ZIP_STDLIB && (strcmp(e->name, SP_BOOTSTRAP_NAME) == 0 ||
                                     strcmp(e->name, SP_BOOTSTRAP_NAME "c") == 0))
            return sp_error_set(err, SP_EINPUT, e->source,
                                "collides with sp-pack's own %s (hint: --exclude it)",
                                SP_BOOTSTRAP_NAME);
        if (same) {
            struct zentry z = {e->name, e->data, e->size, e->hash};
            VEC_PUSH(lay->out[e->zip][0].entries, z);
        } else {
            if (p->opts->strict)
                return sp_error_set(err, SP_EINPUT, p->pure.v[i + 1 < j ? i + 1 : i].source,
                                    "differs from %s (%s/%s differs between ABIs; --strict "
                                    "forbids overlays)",
                                    e->source, zip_base[e->zip], e->name);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "zip", zip_base[e->zip]);
            cJSON_AddStringToObject(o, "path", e->name);
            cJSON *abis = cJSON_AddArrayToObject(o, "abis");
            int last_abi = -1;
            for (size_t k = i; k < j; k++) {
                struct pure *x = &p->pure.v[k];
                if (x->abi == last_abi)
                    continue; /* identical duplicate within an ABI */
                last_abi = x->abi;
                struct zentry z = {x->name, x->data, x->size, x->hash};
                VEC_PUSH(lay->out[x->zip][1 + x->abi].entries, z);
                cJSON_AddItemToArray(abis, cJSON_CreateString(abi_name(p, x->abi)));
            }
            cJSON_AddItemToArray(lay->overlaid, o);
        }
        i = j;
    }
    return 0;
}

static int check_modules(struct plan *p, cJSON *jmods, sp_error *err)
{
    sort_items(p->modules.v, p->modules.n, sizeof *p->modules.v, cmp_module, p);
    sort_items(p->natlibs.v, p->natlibs.n, sizeof *p->natlibs.v, cmp_natlib, p);
    size_t i = 0;
    while (i < p->modules.n) {
        size_t j = i + 1;
        while (j < p->modules.n && strcmp(p->modules.v[j].lib, p->modules.v[i].lib) == 0)
            j++;
        struct module *m = &p->modules.v[i];
        for (size_t k = i + 1; k < j; k++) {
            struct module *x = &p->modules.v[k];
            if (x->abi == p->modules.v[k - 1].abi || strcmp(x->marker, m->marker) != 0 ||
                x->zip != m->zip)
                return sp_error_set(err, SP_EINPUT, x->source,
                                    "module '%s' and module '%s' (%s) both map to library %s",
                                    x->module, p->modules.v[k - 1].module,
                                    p->modules.v[k - 1].source, x->lib);
        }
        /* Against plain libraries of any ABI. */
        for (size_t k = 0; k < p->natlibs.n; k++)
            if (strcmp(p->natlibs.v[k].name, m->lib) == 0)
                return sp_error_set(err, SP_EINPUT, p->natlibs.v[k].source,
                                    "library %s collides with extension module '%s' from %s",
                                    m->lib, m->module, m->source);
        size_t present = j - i;
        if ((int)present < p->nabis) {
            sp_buf missing;
            sp_buf_init(&missing);
            for (int a = 0; a < p->nabis; a++) {
                int found = 0;
                for (size_t k = i; k < j; k++)
                    found |= p->modules.v[k].abi == a;
                if (!found)
                    sp_buf_addf(&missing, "%s%s", missing.len ? ", " : "", abi_name(p, a));
            }
            if (p->opts->strict) {
                int rc = sp_error_set(err, SP_EINPUT, m->source,
                                      "extension module '%s' is missing for %s (--strict)",
                                      m->module, missing.data);
                sp_buf_release(&missing);
                return rc;
            }
            warn(p, "%s: extension module '%s' is missing for %s; its marker names nothing there",
                 m->source, m->module, missing.data);
            sp_buf_release(&missing);
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", m->module);
        cJSON_AddStringToObject(o, "lib", m->lib);
        cJSON_AddStringToObject(o, "zip", zip_base[m->zip]);
        cJSON_AddStringToObject(o, "marker", m->marker);
        cJSON *abis = cJSON_AddArrayToObject(o, "abis");
        for (size_t k = i; k < j; k++)
            cJSON_AddItemToArray(abis, cJSON_CreateString(abi_name(p, p->modules.v[k].abi)));
        cJSON_AddItemToArray(jmods, o);
        i = j;
    }
    return 0;
}

/* Plain libraries: one name per ABI; a library given twice with the same
 * bytes is kept once. Needs natlibs sorted (check_modules sorts them). */
static int unite_natlibs(struct plan *p, sp_error *err)
{
    /* Check everything first, so an error leaves the list whole to release. */
    for (size_t k = 1; k < p->natlibs.n; k++) {
        const struct natlib *a = &p->natlibs.v[k - 1], *b = &p->natlibs.v[k];
        if (a->abi == b->abi && strcmp(a->name, b->name) == 0 && a->hash != b->hash)
            return sp_error_set(err, SP_EINPUT, b->source,
                                "library %s differs from %s, which has the same name for %s",
                                b->name, a->source, abi_name(p, a->abi));
    }
    size_t kept = 0;
    for (size_t k = 0; k < p->natlibs.n; k++) {
        struct natlib *b = &p->natlibs.v[k];
        const struct natlib *a = kept ? &p->natlibs.v[kept - 1] : NULL;
        if (a && a->abi == b->abi && strcmp(a->name, b->name) == 0) {
            free(b->name);
            free(b->source);
            continue;
        }
        p->natlibs.v[kept++] = *b;
    }
    p->natlibs.n = kept;
    return 0;
}

/* ---- outputs -------------------------------------------------------------------------------- */

static int cmp_zentry(const void *a, const void *b)
{
    return strcmp(((const struct zentry *)a)->name, ((const struct zentry *)b)->name);
}

/* Adds "a/", "a/b/" for every entry "a/b/c" not already present. */
static void add_directory_entries(struct zip_out *z, sp_strv *owned)
{
    size_t n = z->entries.n;
    sp_strv dirs;
    sp_strv_init(&dirs);
    for (size_t i = 0; i < n; i++) {
        const char *name = z->entries.v[i].name;
        for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/'))
            sp_strv_push_owned(&dirs, sp_xstrndup(name, (size_t)(s - name + 1)));
    }
    sp_strv_sort(&dirs);
    for (size_t i = 0; i < dirs.n; i++) {
        if (i > 0 && strcmp(dirs.v[i], dirs.v[i - 1]) == 0)
            continue;
        sp_strv_push(owned, dirs.v[i]);
        struct zentry d = {owned->v[owned->n - 1], NULL, 0, 0};
        VEC_PUSH(z->entries, d);
    }
    sp_strv_release(&dirs);
    if (z->entries.n > 1)
        qsort(z->entries.v, z->entries.n, sizeof *z->entries.v, cmp_zentry);
}


/* ---- incremental output --------------------------------------------------------------------
 *
 * Two files remember the last successful run into DIR. The state (JSON)
 * holds a key of the options (everything but the input files' contents)
 * and, per output, a recipe (a hash of what went into it), its size, xxh3
 * and mtime. The input snapshot (src/snapshot.c) holds what the walk saw
 * of every input directory and file. A run whose key matches, whose
 * snapshot shows no input changed and whose outputs all still have their
 * size and mtime writes nothing at all, without listing or reading any
 * input. Otherwise every input is read and each output whose recipe is
 * unchanged and whose file is untouched is kept as it is (so its mtime
 * stays); only the others are written. An output edited or removed by hand
 * no longer matches and is written again.
 *
 * Both live outside DIR, so DIR stays byte-identical for the same inputs:
 * in $SP_PACK_STATE_DIR, else $XDG_CACHE_HOME/sp-pack/state, else
 * ~/.cache/sp-pack/state, named by a hash of DIR's absolute path. Without
 * them (a new machine, a cleared cache) the next run writes every output
 * once; failing to save them costs only that. */

/* Where the state files of out_dir go, as a path to add ".json" or
 * ".inputs" to; NULL when there is no place for them. */
static char *state_base(const char *out_dir)
{
    const char *dir = getenv("SP_PACK_STATE_DIR");
    char *owned = NULL;
    if (!dir || !*dir) {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
            owned = sp_xasprintf("%s/sp-pack/state", xdg);
        else if (home && *home)
            owned = sp_xasprintf("%s/.cache/sp-pack/state", home);
        else
            return NULL;
        dir = owned;
    }
    char *real = sp_realpath_lenient(out_dir);
    char hex[17];
    sp_xxh3_hex(real ? real : out_dir, strlen(real ? real : out_dir), hex);
    char *path = sp_xasprintf("%s/%s", dir, hex);
    free(real);
    free(owned);
    return path;
}

static void hash_str(XXH3_state_t *h, const char *s)
{
    XXH3_64bits_update(h, s, strlen(s) + 1);
}

static void hash_u64(XXH3_state_t *h, uint64_t v)
{
    XXH3_64bits_update(h, &v, sizeof v);
}

/* A hash of everything the outputs depend on but the input files themselves. */
static uint64_t options_key(const sp_pack_opts *o)
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    hash_str(h, SP_PACK_VERSION);
    /* This very binary: a rebuild of the same version may pack differently. */
    struct stat self;
    if (stat("/proc/self/exe", &self) == 0) {
        hash_u64(h, (uint64_t)self.st_ino);
        hash_u64(h, (uint64_t)self.st_size);
        hash_u64(h, sp_timespec_ns(&self.st_mtim));
    }
    hash_u64(h, o->page_size);
    hash_u64(h, (uint64_t)o->strict);
    hash_str(h, o->apk_path ? o->apk_path : "");
    hash_u64(h, (uint64_t)(o->pyc | o->pyc_only << 1));
    hash_str(h, o->python ? o->python : "");
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    hash_str(h, sde ? sde : "");
    for (size_t i = 0; i < o->extract.n; i++)
        hash_str(h, o->extract.v[i]);
    hash_str(h, "--exclude");
    for (size_t i = 0; i < o->exclude.n; i++)
        hash_str(h, o->exclude.v[i]);
    for (size_t i = 0; i < o->ninputs; i++) {
        hash_u64(h, (uint64_t)o->inputs[i].kind);
        hash_str(h, o->inputs[i].abi ? o->inputs[i].abi->name : "");
        hash_str(h, o->inputs[i].path);
    }
    uint64_t key = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return key;
}

static cJSON *load_json(const char *path)
{
    sp_map m;
    if (sp_map_open(&m, path, NULL) != 0)
        return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)m.data, m.size);
    sp_map_close(&m);
    return j;
}

static cJSON *load_state(const char *base)
{
    if (!base)
        return NULL;
    char *path = sp_xasprintf("%s.json", base);
    cJSON *j = load_json(path);
    free(path);
    return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The mtime of path as a decimal string ("" when it cannot be read); JSON
 * numbers would lose the nanoseconds. */
static void mtime_string(const char *path, char out[32], struct stat *st)
{
    out[0] = '\0';
    if (stat(path, st) == 0)
        snprintf(out, 32, "%llu", (unsigned long long)sp_timespec_ns(&st->st_mtim));
}

/* 1 when path still has the size and mtime recorded in rec. */
static int file_matches(const char *path, const cJSON *rec)
{
    struct stat st;
    char mtime[32];
    if (!rec)
        return 0;
    mtime_string(path, mtime, &st);
    if (!*mtime || !S_ISREG(st.st_mode))
        return 0;
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(rec, "size");
    return cJSON_IsNumber(size) && (uint64_t)size->valuedouble == (uint64_t)st.st_size &&
           !strcmp(jstr(rec, "mtime_ns"), mtime);
}

/* 1 when the state is of a run with these options and every output it
 * records (and the APK) still has the size and mtime it had then. */
static int outputs_untouched(const cJSON *state, const char *out_dir, const sp_pack_opts *o,
                             const char *key)
{
    if (!state || strcmp(jstr(state, "options"), key) != 0)
        return 0;
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(state, "outputs"), *rec;
    if (!cJSON_IsObject(outs))
        return 0;
    cJSON_ArrayForEach(rec, outs)
    {
        char *path = sp_path_join(out_dir, rec->string);
        int ok = file_matches(path, rec);
        free(path);
        if (!ok)
            return 0;
    }
    if (o->apk_path) {
        const cJSON *apk = cJSON_GetObjectItemCaseSensitive(state, "apk");
        if (strcmp(jstr(apk, "path"), o->apk_path) != 0 || !file_matches(o->apk_path, apk))
            return 0;
    }
    return 1;
}

/* The result of a run that writes nothing: the manifest as it is (unless
 * the caller does not need it) and the warnings of the run that wrote the
 * outputs. -1, with res untouched, when the manifest cannot be read. */
static int reuse_result(const cJSON *state, const char *out_dir, const sp_pack_opts *o,
                        sp_pack_result *res)
{
    if (!o->manifest_optional) {
        char *mpath = sp_path_join(out_dir, SP_MANIFEST_NAME);
        res->manifest = load_json(mpath);
        free(mpath);
        if (!res->manifest)
            return -1;
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(state, "warnings"))
        if (cJSON_IsString(w))
            sp_strv_push(&res->warnings, w->valuestring);
    return 0;
}

/* The previous record of rel when its recipe is the same and the file is
 * untouched: the output can stay as it is. */
static const cJSON *reusable(const struct plan *p, const char *out_dir, const char *rel,
                             const char *recipe)
{
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(p->prev, "outputs"), rel);
    if (!rec || strcmp(jstr(rec, "recipe"), recipe) != 0)
        return NULL;
    char *path = sp_path_join(out_dir, rel);
    int ok = file_matches(path, rec);
    free(path);
    return ok ? rec : NULL;
}

static void remember(struct plan *p, const char *rel, const char *recipe, uint64_t size,
                     const char *xxh3, double entries)
{
    cJSON *rec = cJSON_AddObjectToObject(p->next_outputs, rel);
    cJSON_AddStringToObject(rec, "recipe", recipe);
    cJSON_AddNumberToObject(rec, "size", (double)size);
    cJSON_AddStringToObject(rec, "xxh3", xxh3);
    if (entries >= 0)
        cJSON_AddNumberToObject(rec, "entries", entries);
}

static void zip_recipe(const struct zip_out *z, char hex[17])
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    uint16_t d = 0, t = 0;
    sp_zip_dos_time(&d, &t, NULL);
    hash_u64(h, (uint64_t)d << 16 | t);
    for (size_t i = 0; i < z->entries.n; i++) {
        hash_str(h, z->entries.v[i].name);
        hash_u64(h, z->entries.v[i].hash);
        hash_u64(h, z->entries.v[i].size);
    }
    sp_u64_hex(XXH3_64bits_digest(h), hex);
    XXH3_freeState(h);
}

/* State files of output directories not packed into, nor checked, for this
 * long are removed when another state is saved: each output directory ever
 * used leaves some (the input snapshot can take megabytes), and CI runners
 * pack into fresh temporary directories. */
#define STATE_KEEP_DAYS 30

static int is_state_name(const char *name)
{
    for (int i = 0; i < 16; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return 0;
    return name[16] == '.';
}

static void prune_states(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t before = time(NULL) - (time_t)STATE_KEEP_DAYS * 24 * 3600;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (!is_state_name(de->d_name) || fstatat(dirfd(d), de->d_name, &st, 0) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        /* A no-op repack only reads its state: the access time tells it is in use. */
        if (st.st_mtime < before && st.st_atime < before)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

/* Records the final size and mtime of every output and writes the state;
 * a failure only means the next run does more work. */
static void save_state(struct plan *p, const char *out_dir, const char *key,
                       const char *apk_recipe)
{
    cJSON *state = cJSON_CreateObject();
    cJSON_AddNumberToObject(state, "format", 2);
    cJSON_AddStringToObject(state, "options", key);
    cJSON *w = cJSON_AddArrayToObject(state, "warnings");
    for (size_t i = 0; i < p->warnings->n; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(p->warnings->v[i]));
    cJSON *rec;
    cJSON_ArrayForEach(rec, p->next_outputs)
    {
        char *path = sp_path_join(out_dir, rec->string);
        struct stat st;
        char mtime[32];
        mtime_string(path, mtime, &st);
        cJSON_AddStringToObject(rec, "mtime_ns", mtime);
        free(path);
    }
    cJSON_AddItemReferenceToObject(state, "outputs", p->next_outputs);
    if (p->opts->apk_path) {
        cJSON *apk = cJSON_AddObjectToObject(state, "apk");
        struct stat st;
        char mtime[32];
        mtime_string(p->opts->apk_path, mtime, &st);
        cJSON_AddStringToObject(apk, "path", p->opts->apk_path);
        cJSON_AddStringToObject(apk, "recipe", apk_recipe);
        cJSON_AddNumberToObject(apk, "size", (double)st.st_size);
        cJSON_AddStringToObject(apk, "mtime_ns", mtime);
    }
    char *text = cJSON_PrintUnformatted(state);
    cJSON_Delete(state);
    if (p->state_base) {
        char *path = sp_xasprintf("%s.json", p->state_base);
        char *dir = sp_xstrndup(path, (size_t)(strrchr(path, '/') - path));
        if (sp_mkdirs(dir, NULL) == 0)
            sp_write_file_atomic(path, text, strlen(text), NULL);
        prune_states(dir);
        free(dir);
        free(path);
    }
    free(text);
}

static void add_output(cJSON *outputs, const char *rel, uint64_t size, const char *hex,
                       const char *abi)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", rel);
    cJSON_AddNumberToObject(o, "size", (double)size);
    cJSON_AddStringToObject(o, "xxh3", hex);
    if (abi)
        cJSON_AddStringToObject(o, "abi", abi);
    cJSON_AddItemToArray(outputs, o);
}

/* ---- writing: every output planned in manifest order, then written in parallel ------------ */

/* One output of this run. Planned on the main thread in manifest order;
 * written (zip) or copied (library) by whichever thread claims it. */
struct output {
    char *rel;
    const char *abi;     /* NULL for the common zips */
    char recipe[17];
    struct zip_out *zip; /* a zip to write, or */
    const char *source;  /* a library to copy, or */
    const unsigned char *data; /* bytes to write (a boot set file) */
    char *stage;         /* staged path when written; NULL when kept */
    uint64_t size;
    char xxh3[17];
    double entries;      /* zip entries, -1 for a library */
    int failed;
    sp_error err;
};

struct output_list {
    struct output *v;
    size_t n, cap;
};

/* Plans an output: kept as it is when its recipe is unchanged and nobody
 * touched the file (linked into the staging directory, so --apk sees the
 * complete layout), else staged for writing. */
static int plan_output(sp_outdir *od, struct plan *p, struct output_list *outs, char *rel,
                       const char *abi, const char *recipe, struct zip_out *zip,
                       const char *source, uint64_t size, sp_error *err)
{
    struct output o;
    memset(&o, 0, sizeof o);
    o.rel = rel;
    o.abi = abi;
    memcpy(o.recipe, recipe, sizeof o.recipe);
    o.zip = zip;
    o.source = source;
    o.entries = zip ? (double)zip->entries.n : -1;
    const cJSON *prev = reusable(p, od->dir, rel, recipe);
    if (prev) {
        const cJSON *entries = cJSON_GetObjectItemCaseSensitive(prev, "entries");
        o.size = (uint64_t)cJSON_GetObjectItemCaseSensitive(prev, "size")->valuedouble;
        snprintf(o.xxh3, sizeof o.xxh3, "%s", jstr(prev, "xxh3"));
        o.entries = cJSON_IsNumber(entries) ? entries->valuedouble : -1;
        VEC_PUSH(*outs, o);
        return sp_outdir_keep(od, rel, err);
    }
    o.stage = sp_outdir_stage(od, rel, err);
    if (!o.stage) {
        free(rel);
        return -1;
    }
    if (!zip) { /* the copy has the bytes hashed when read */
        o.size = size;
        memcpy(o.xxh3, recipe, sizeof o.xxh3);
    }
    VEC_PUSH(*outs, o);
    return 0;
}

static int write_zip(struct output *o, sp_error *err)
{
    sp_zipw *zw;
    int rc = sp_zipw_open_digest(&zw, o->stage, err);
    for (size_t i = 0; i < o->zip->entries.n && rc == 0; i++) {
        const struct zentry *e = &o->zip->entries.v[i];
        size_t n = strlen(e->name);
        if (n && e->name[n - 1] == '/')
            rc = sp_zipw_add_dir(zw, e->name, err);
        else
            rc = sp_zipw_add_stored(zw, e->name, e->data, e->size, 0, err);
    }
    if (rc != 0) {
        sp_zipw_abort(zw);
        return rc;
    }
    uint64_t hash;
    rc = sp_zipw_close_digest(zw, &o->size, &hash, err);
    if (rc == 0)
        sp_u64_hex(hash, o->xxh3);
    return rc;
}

struct write_job {
    struct output *v;
    size_t *order; /* outputs to write: zips, biggest first, then copies */
    size_t n;
    size_t next; /* claimed atomically */
    /* Library files are created first, by one thread (creates in one
     * directory serialize on it); copies wait for that. */
    pthread_mutex_t lock;
    pthread_cond_t created_cond;
    int created;
    int create_failed;
};

static void wait_created(struct write_job *j)
{
    pthread_mutex_lock(&j->lock);
    while (!j->created)
        pthread_cond_wait(&j->created_cond, &j->lock);
    pthread_mutex_unlock(&j->lock);
}

static void *run_writes(void *arg)
{
    struct write_job *j = arg;
    for (;;) {
        size_t k = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (k >= j->n)
            return NULL;
        struct output *o = &j->v[j->order[k]];
        if (o->zip) {
            sp_error_init(&o->err);
            o->failed = write_zip(o, &o->err) != 0;
            continue;
        }
        if (o->data) {
            sp_error_init(&o->err);
            o->failed = sp_write_file(o->stage, o->data, o->size, &o->err) != 0;
            continue;
        }
        wait_created(j);
        if (!o->failed && !j->create_failed)
            o->failed = sp_copy_file_into(o->source, o->stage, &o->err) != 0;
    }
}

/* Creates every library file to copy into, in order, then lets the copies go. */
static void create_copies(struct write_job *j)
{
    for (size_t k = 0; k < j->n && !j->create_failed; k++) {
        struct output *o = &j->v[j->order[k]];
        if (o->zip || o->data)
            continue;
        sp_error_init(&o->err);
        o->failed = sp_create_file(o->stage, &o->err) != 0;
        j->create_failed = o->failed;
    }
    pthread_mutex_lock(&j->lock);
    j->created = 1;
    pthread_cond_broadcast(&j->created_cond);
    pthread_mutex_unlock(&j->lock);
}

static int cmp_write_cost(const void *a, const void *b, void *ctx)
{
    const struct output *v = ctx;
    const struct output *x = &v[*(const size_t *)a], *y = &v[*(const size_t *)b];
    /* Zips (CRC and writes) before library copies (kernel-side), big first. */
    if (!!x->zip != !!y->zip)
        return x->zip ? -1 : 1;
    uint64_t cx = 0, cy = 0;
    for (size_t i = 0; x->zip && i < x->zip->entries.n; i++)
        cx += x->zip->entries.v[i].size;
    for (size_t i = 0; y->zip && i < y->zip->entries.n; i++)
        cy += y->zip->entries.v[i].size;
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Writes every staged output with `jobs` threads (the calling one too).
 * The first failure in manifest order is the error. */
static int write_staged(struct output_list *outs, int jobs, sp_error *err)
{
    struct write_job j;
    memset(&j, 0, sizeof j);
    j.v = outs->v;
    j.order = sp_xcalloc(outs->n ? outs->n : 1, sizeof *j.order);
    pthread_mutex_init(&j.lock, NULL);
    pthread_cond_init(&j.created_cond, NULL);
    for (size_t i = 0; i < outs->n; i++)
        if (outs->v[i].stage)
            j.order[j.n++] = i;
    sort_items(j.order, j.n, sizeof *j.order, cmp_write_cost, outs->v);
    void *args[SP_MAX_THREADS];
    for (int i = 0; i < SP_MAX_THREADS; i++)
        args[i] = &j;
    int helpers_wanted = (size_t)jobs < j.n ? jobs - 1 : (int)j.n - 1;
    sp_threads helpers;
    sp_threads_start(&helpers, run_writes, args, helpers_wanted);
    /* This thread creates the library files while the others start on the
     * zips, then joins them. */
    create_copies(&j);
    run_writes(&j);
    sp_threads_join(&helpers);
    pthread_mutex_destroy(&j.lock);
    pthread_cond_destroy(&j.created_cond);
    free(j.order);
    for (size_t i = 0; i < outs->n; i++)
        if (outs->v[i].stage && outs->v[i].failed) {
            *err = outs->v[i].err;
            return -1;
        }
    return 0;
}

static void read_previous_outputs(const char *out_dir, sp_strv *stale)
{
    char *mpath = sp_path_join(out_dir, SP_MANIFEST_NAME);
    sp_map m;
    if (sp_map_open(&m, mpath, NULL) == 0) {
        cJSON *j = cJSON_ParseWithLength((const char *)m.data, m.size);
        cJSON *outs = cJSON_GetObjectItemCaseSensitive(j, "outputs");
        cJSON *o;
        cJSON_ArrayForEach(o, outs)
        {
            cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
            if (cJSON_IsString(path))
                sp_strv_push(stale, path->valuestring);
        }
        cJSON_Delete(j);
        sp_map_close(&m);
    }
    free(mpath);
}

/* Plans the libraries (per ABI, in name order) and the zips (common ones,
 * then overlays), in manifest order. */
static int plan_outputs(sp_outdir *od, struct plan *p, struct layout *lay,
                        struct output_list *outs, sp_strv *dirnames, sp_error *err)
{
    int rc = 0;
    for (int a = 0; a < p->nabis && rc == 0; a++) {
        size_t mi = 0, li = 0;
        while (rc == 0 && (mi < p->modules.n || li < p->natlibs.n)) {
            while (mi < p->modules.n && p->modules.v[mi].abi != a)
                mi++;
            while (li < p->natlibs.n && p->natlibs.v[li].abi != a)
                li++;
            int take_mod = mi < p->modules.n &&
                           (li >= p->natlibs.n ||
                            strcmp(p->modules.v[mi].lib, p->natlibs.v[li].name) < 0);
            const char *name, *source;
            uint64_t hash, size;
            if (take_mod) {
                struct module *m = &p->modules.v[mi++];
                name = m->lib, source = m->source, hash = m->hash, size = m->size;
            } else if (li < p->natlibs.n) {
                struct natlib *l = &p->natlibs.v[li++];
                name = l->name, source = l->source, hash = l->hash, size = l->size;
            } else {
                break;
            }
            char hex[17];
            sp_u64_hex(hash, hex);
            rc = plan_output(od, p, outs, sp_xasprintf("jniLibs/%s/%s", abi_name(p, a), name),
                             abi_name(p, a), hex, NULL, source, size, err);
        }
    }
    struct zentry boot = {SP_BOOTSTRAP_NAME, sp_bootstrap_py, sp_bootstrap_py_len,
                          XXH3_64bits(sp_bootstrap_py, sp_bootstrap_py_len)};
    VEC_PUSH(lay->out[ZIP_STDLIB][0].entries, boot);
    if (p->boot_pyc) {
        struct zentry boot_pyc = {SP_BOOTSTRAP_NAME "c", p->boot_pyc, p->boot_pyc_len,
                                  XXH3_64bits(p->boot_pyc, p->boot_pyc_len)};
        VEC_PUSH(lay->out[ZIP_STDLIB][0].entries, boot_pyc);
    }
    for (int z = 0; z < ZIP_KINDS && rc == 0; z++) {
        for (int slot = 0; slot <= p->nabis && rc == 0; slot++) {
            struct zip_out *zo = &lay->out[z][slot];
            int wanted = zo->entries.n > 0 || (slot == 0 && z == ZIP_STDLIB) ||
                         (slot == 0 && z == ZIP_SITE && p->has_site);
            if (!wanted)
                continue;
            char *rel = slot == 0 ? sp_xasprintf("assets/%s.zip", zip_base[z])
                                  : sp_xasprintf("assets/%s-%s.zip", zip_base[z],
                                                 abi_name(p, slot - 1));
            add_directory_entries(zo, dirnames);
            char recipe[17];
            zip_recipe(zo, recipe);
            rc = plan_output(od, p, outs, rel, slot ? abi_name(p, slot - 1) : NULL, recipe, zo,
                             NULL, 0, err);
        }
    }
    /* The boot set: the modules stock zipimport reads straight from the APK
     * while CPython initialises (docs/runtime.md), copied from the common
     * stdlib.zip, each as the .pyc when there is one, else the .py; in name
     * order. */
    static const char *const boot_set[] = {"_sp_bootstrap", "encodings/__init__",
                                           "encodings/aliases", "encodings/utf_8", NULL};
    const struct zip_out *std = &lay->out[ZIP_STDLIB][0];
    for (size_t b = 0; boot_set[b] && rc == 0; b++) {
        const struct zentry *py = NULL, *pyc = NULL;
        size_t n = strlen(boot_set[b]);
        for (size_t i = 0; i < std->entries.n; i++) {
            const struct zentry *e = &std->entries.v[i];
            if (!strncmp(e->name, boot_set[b], n) && !strcmp(e->name + n, ".py"))
                py = e;
            else if (!strncmp(e->name, boot_set[b], n) && !strcmp(e->name + n, ".pyc"))
                pyc = e;
        }
        const struct zentry *e = pyc ? pyc : py;
        if (!e)
            continue;
        char hex[17];
        sp_u64_hex(e->hash, hex);
        size_t before = outs->n;
        rc = plan_output(od, p, outs, sp_xasprintf("assets/python/%s", e->name), NULL, hex, NULL,
                         NULL, e->size, err);
        if (rc == 0 && outs->n > before && outs->v[before].stage)
            outs->v[before].data = e->data;
    }
    return rc;
}

static int write_outputs(struct plan *p, struct layout *lay, const char *out_dir, cJSON *manifest,
                         const char *key, sp_error *err)
{
    p->next_outputs = cJSON_CreateObject();
    sp_outdir od;
    if (sp_outdir_begin(&od, out_dir, err) != 0) {
        sp_outdir_release(&od);
        return -1;
    }
    struct output_list outs = {0};
    sp_strv dirnames;
    sp_strv_init(&dirnames);
    int rc = plan_outputs(&od, p, lay, &outs, &dirnames, err);
    if (rc == 0)
        rc = write_staged(&outs, p->jobs, err);
    cJSON *outputs = cJSON_AddArrayToObject(manifest, "outputs");
    for (size_t i = 0; i < outs.n && rc == 0; i++) {
        struct output *o = &outs.v[i];
        add_output(outputs, o->rel, o->size, o->xxh3, o->abi);
        if (o->entries >= 0)
            cJSON_AddNumberToObject(cJSON_GetArrayItem(outputs, cJSON_GetArraySize(outputs) - 1),
                                    "entries", o->entries);
        remember(p, o->rel, o->recipe, o->size, o->xxh3, o->entries);
    }
    for (size_t i = 0; i < outs.n; i++) {
        free(outs.v[i].rel);
        free(outs.v[i].stage);
    }
    free(outs.v);
    sp_strv_release(&dirnames);
    /* The manifest, written again only when its text changes. */
    char *text = cJSON_Print(manifest);
    sp_buf mtext;
    sp_buf_init(&mtext);
    sp_buf_adds(&mtext, text);
    sp_buf_adds(&mtext, "\n");
    free(text);
    char mrecipe[17];
    sp_xxh3_hex(mtext.data, mtext.len, mrecipe);
    if (rc == 0) {
        const cJSON *prev = reusable(p, out_dir, SP_MANIFEST_NAME, mrecipe);
        if (prev) {
            rc = sp_outdir_keep(&od, SP_MANIFEST_NAME, err);
        } else {
            char *mpath = sp_outdir_stage(&od, SP_MANIFEST_NAME, err);
            rc = mpath ? sp_write_file(mpath, mtext.data, mtext.len, err) : -1;
            free(mpath);
        }
        if (rc == 0)
            remember(p, SP_MANIFEST_NAME, mrecipe, mtext.len, mrecipe, -1);
    }
    sp_buf_release(&mtext);
    /* The APK is written from the staged files before anything is renamed,
     * so a failure there leaves the previous outputs as they were; an APK
     * of the same content that nobody touched stays as it is. */
    char apk_recipe[17] = "";
    if (rc == 0 && p->opts->apk_path) {
        XXH3_state_t *h = XXH3_createState();
        XXH3_64bits_reset(h);
        hash_u64(h, p->opts->page_size);
        const cJSON *rec;
        cJSON_ArrayForEach(rec, p->next_outputs)
        {
            if (strcmp(rec->string, SP_MANIFEST_NAME) != 0) {
                hash_str(h, rec->string);
                hash_str(h, jstr(rec, "recipe"));
            }
        }
        sp_u64_hex(XXH3_64bits_digest(h), apk_recipe);
        XXH3_freeState(h);
        const cJSON *prev = cJSON_GetObjectItemCaseSensitive(p->prev, "apk");
        if (!(prev && !strcmp(jstr(prev, "path"), p->opts->apk_path) &&
              !strcmp(jstr(prev, "recipe"), apk_recipe) && file_matches(p->opts->apk_path, prev)))
            rc = sp_apk_write_from_pack(od.stage, p->opts->apk_path, p->opts->page_size, err);
    }
    if (rc == 0) {
        sp_strv stale;
        sp_strv_init(&stale);
        read_previous_outputs(out_dir, &stale);
        rc = sp_outdir_commit(&od, &stale, err);
        sp_strv_release(&stale);
    }
    if (rc == 0)
        save_state(p, out_dir, key, apk_recipe);
    sp_outdir_release(&od);
    return rc;
}

/* ---- the whole run ------------------------------------------------------------------------ */

void sp_pack_opts_init(sp_pack_opts *o)
{
    memset(o, 0, sizeof *o);
    sp_strv_init(&o->extract);
    sp_strv_init(&o->exclude);
    o->page_size = 16384;
}

void sp_pack_opts_release(sp_pack_opts *o)
{
    for (size_t i = 0; i < o->ninputs; i++)
        free(o->inputs[i].path);
    free(o->inputs);
    sp_strv_release(&o->extract);
    sp_strv_release(&o->exclude);
    free(o->apk_path);
    free(o->python);
    o->apk_path = o->python = NULL;
    o->inputs = NULL;
    o->ninputs = 0;
}

void sp_pack_opts_add_input(sp_pack_opts *o, int kind, const sp_abi *abi, const char *path)
{
    o->inputs = sp_xrealloc(o->inputs, (o->ninputs + 1) * sizeof *o->inputs);
    o->inputs[o->ninputs].kind = kind;
    o->inputs[o->ninputs].abi = abi;
    o->inputs[o->ninputs].path = sp_xstrdup(path);
    o->ninputs++;
}

void sp_pack_result_release(sp_pack_result *res)
{
    cJSON_Delete(res->manifest);
    res->manifest = NULL;
    sp_strv_release(&res->warnings);
}

static int check_out_dir(const sp_pack_opts *o, const char *out_dir, sp_error *err)
{
    char *out_real = sp_realpath_lenient(out_dir);
    if (!out_real)
        return sp_error_set(err, SP_EIO, out_dir, "cannot resolve: %s", strerror(errno));
    int rc = 0;
    for (size_t i = 0; i < o->ninputs && rc == 0; i++) {
        char *in_real = realpath(o->inputs[i].path, NULL);
        if (!in_real)
            continue; /* reported when the input is read */
        if (sp_path_is_within(out_real, in_real))
            rc = sp_error_set(err, SP_EUSAGE, out_dir,
                              "output directory is inside the input %s (hint: --out elsewhere)",
                              o->inputs[i].path);
        else if (o->inputs[i].kind != SP_INPUT_LIB && sp_path_is_within(in_real, out_real))
            rc = sp_error_set(err, SP_EUSAGE, out_dir,
                              "output directory contains the input %s (hint: --out elsewhere)",
                              o->inputs[i].path);
        free(in_real);
    }
    free(out_real);
    return rc;
}

/* Starts the bytecode helper and checks it makes bytecode for the CPython
 * version of every stdlib tree (its magic number). */
static int start_bytecode(struct plan *p, sp_error *err)
{
    const sp_pack_opts *o = p->opts;
    if (!o->python)
        return sp_error_set(err, SP_EUSAGE, NULL,
                            "--pyc needs --python PATH, a host CPython of the trees' version");
    if (sp_pyc_start(&p->pyc, o->python, err) != 0)
        return -1;
    const unsigned char *m = sp_pyc_magic(p->pyc);
    int host = m[0] | m[1] << 8;
    for (size_t i = 0; i < o->ninputs; i++) {
        if (o->inputs[i].kind != SP_INPUT_STDLIB)
            continue;
        int tree = sp_pyc_stdlib_magic(o->inputs[i].path);
        if (tree < 0)
            return sp_error_set(err, SP_EINPUT, o->inputs[i].path,
                                "no MAGIC_NUMBER in importlib/_bootstrap_external.py: cannot "
                                "tell its CPython version for --pyc");
        if (tree != host)
            return sp_error_set(err, SP_EINPUT, o->python,
                                "makes bytecode with magic number %d, but the stdlib %s is "
                                "for magic number %d: a different CPython version (hint: "
                                "--python must be the same X.Y as the packed CPython)",
                                host, o->inputs[i].path, tree);
    }
    return 0;
}

/* Lists every input: the directory trees all at once, on `jobs` threads.
 * The first input in argument order with a problem is the error. */
static int walk_inputs(const sp_pack_opts *o, int jobs, sp_tree *trees, int *is_dir,
                       sp_error *err)
{
    sp_walk_root *roots = sp_xcalloc(o->ninputs, sizeof *roots);
    sp_error *errs = sp_xcalloc(o->ninputs, sizeof *errs);
    int *rcs = sp_xcalloc(o->ninputs, sizeof *rcs);
    sp_walk_opts *wopts = sp_xcalloc(o->ninputs, sizeof *wopts);
    size_t *which = sp_xcalloc(o->ninputs, sizeof *which);
    size_t n = 0;
    for (size_t i = 0; i < o->ninputs; i++) {
        const sp_pack_input *in = &o->inputs[i];
        is_dir[i] = 1;
        sp_tree_init(&trees[i]);
        if (in->kind == SP_INPUT_LIB) {
            rcs[i] = lib_file_input(in, &trees[i], &is_dir[i], &errs[i]);
            if (rcs[i] != 0 || !is_dir[i])
                continue;
            roots[n] = (sp_walk_root){in->path, NULL, &trees[i], 0, {0, ""}};
        } else {
            wopts[i] = (sp_walk_opts){&o->exclude,
                                      in->kind == SP_INPUT_STDLIB ? stdlib_skip_top : NULL, 0};
            roots[n] = (sp_walk_root){in->path, &wopts[i], &trees[i], 0, {0, ""}};
        }
        which[n++] = i;
    }
    sp_tree_walk_many(roots, n, jobs);
    for (size_t k = 0; k < n; k++)
        if (roots[k].rc != 0) {
            rcs[which[k]] = -1;
            errs[which[k]] = roots[k].err;
        }
    int rc = 0;
    for (size_t i = 0; i < o->ninputs && rc == 0; i++)
        if (rcs[i] != 0) {
            *err = errs[i];
            rc = -1;
        }
    free(roots);
    free(errs);
    free(rcs);
    free(wopts);
    free(which);
    return rc;
}

/* Starts checking the inputs against the last run's snapshot (NULL when
 * there is none to check against); see sp_snapshot_check_finish(). */
static sp_snapshot_check *start_input_check(const sp_pack_opts *o, const char *base,
                                            uint64_t key, int jobs)
{
    const char **paths = sp_xcalloc(o->ninputs ? o->ninputs : 1, sizeof *paths);
    for (size_t i = 0; i < o->ninputs; i++)
        paths[i] = o->inputs[i].path;
    char *snapshot = sp_xasprintf("%s.inputs", base);
    sp_snapshot_check *check = sp_snapshot_check_start(snapshot, key, paths, o->ninputs, jobs);
    free(snapshot);
    free(paths);
    return check;
}

/* Remembers what the walk saw, for the next run's no-op check; a failure
 * (or inputs changed too recently to be trusted) only costs that run a read. */
static void save_snapshot(const sp_pack_opts *o, const char *base, uint64_t key,
                          const sp_tree *trees, const int *is_dir, uint64_t walk_start)
{
    sp_snapshot_root *roots = sp_xcalloc(o->ninputs ? o->ninputs : 1, sizeof *roots);
    for (size_t i = 0; i < o->ninputs; i++)
        roots[i] = (sp_snapshot_root){o->inputs[i].path, &trees[i], !is_dir[i]};
    char *snapshot = sp_xasprintf("%s.inputs", base);
    sp_snapshot_save(snapshot, key, roots, o->ninputs, walk_start);
    free(snapshot);
    free(roots);
}

static int input_before(const sp_pack_opts *o, const struct input_stats *st, size_t a, size_t b)
{
    if (o->inputs[a].kind != o->inputs[b].kind)
        return o->inputs[a].kind < o->inputs[b].kind;
    const char *x = st[a].abi ? st[a].abi->name : "", *y = st[b].abi ? st[b].abi->name : "";
    int c = strcmp(x, y);
    if (c)
        return c < 0;
    return strcmp(o->inputs[a].path, o->inputs[b].path) < 0;
}

int sp_pack(const sp_pack_opts *opts, const char *out_dir, sp_pack_result *res, sp_error *err)
{
    res->manifest = NULL;
    res->up_to_date = 0;
    res->pyc_compiled = res->pyc_cached = 0;
    sp_strv_init(&res->warnings);
    int has_stdlib = 0;
    for (size_t i = 0; i < opts->ninputs; i++)
        has_stdlib |= opts->inputs[i].kind == SP_INPUT_STDLIB;
    if (!has_stdlib)
        return sp_error_set(err, SP_EUSAGE, NULL, "pack needs at least one --stdlib DIR");
    if (check_out_dir(opts, out_dir, err) != 0)
        return -1;

    /* Unchanged inputs (by the snapshot of the last run) and untouched
     * outputs: nothing to write, nothing even to list. */
    int jobs = opts->jobs > 0 ? opts->jobs : online_cpus();
    uint64_t key = options_key(opts);
    char key_hex[17];
    sp_u64_hex(key, key_hex);
    char *base = state_base(out_dir);
    /* Helpers stat the inputs while this thread reads the state and stats
     * the outputs, then joins them. */
    sp_snapshot_check *inputs = base ? start_input_check(opts, base, key, jobs) : NULL;
    cJSON *state = load_state(base);
    int untouched = outputs_untouched(state, out_dir, opts, key_hex);
    if (sp_snapshot_check_finish(inputs, untouched) &&
        reuse_result(state, out_dir, opts, res) == 0) {
        res->up_to_date = 1;
        free(base);
        cJSON_Delete(state);
        return 0;
    }

    uint64_t walk_start = sp_snapshot_clock_ns();
    sp_tree *trees = sp_xcalloc(opts->ninputs, sizeof *trees);
    int *is_dir = sp_xcalloc(opts->ninputs, sizeof *is_dir);
    int rc = walk_inputs(opts, jobs, trees, is_dir, err);

    struct plan p;
    memset(&p, 0, sizeof p);
    p.opts = opts;
    p.warnings = &res->warnings;
    p.stats = sp_xcalloc(opts->ninputs, sizeof *p.stats);
    p.jobs = jobs;
    p.state_base = base;
    p.prev = state;
    sp_loader *loader = NULL;
    if (rc == 0) {
        sp_load_tree *load = sp_xcalloc(opts->ninputs, sizeof *load);
        for (size_t i = 0; i < opts->ninputs; i++)
            if (opts->inputs[i].kind != SP_INPUT_LIB)
                load[i] = (sp_load_tree){opts->inputs[i].path, &trees[i]};
        rc = sp_load_trees(load, opts->ninputs, jobs, 1, opts->progress, opts->progress_ctx,
                           &loader, err);
        free(load);
    }
    if (rc == 0 && opts->pyc)
        rc = start_bytecode(&p, err);
    struct layout lay;
    memset(&lay, 0, sizeof lay);
    cJSON *manifest = cJSON_CreateObject();

    /* Trees first (they fix the ABIs), --lib inputs after. */
    for (size_t i = 0; i < opts->ninputs && rc == 0; i++) {
        if (opts->inputs[i].kind == SP_INPUT_LIB)
            continue;
        p.has_site |= opts->inputs[i].kind == SP_INPUT_SITE;
        rc = read_tree(&p, i, &trees[i], sp_loader_blobs(loader, i), err);
    }
    for (size_t i = 0; i < opts->ninputs && rc == 0; i++)
        if (opts->inputs[i].kind == SP_INPUT_LIB)
            rc = read_lib_input(&p, i, &trees[i], is_dir[i], err);
    if (rc == 0 && p.pyc) {
        /* The finder too: CPython reads it at every start. It stays as
         * source beside its bytecode (verify's P005 looks for the .py). */
        sp_buf b;
        sp_buf_init(&b);
        int c = sp_pyc_compile(p.pyc, SP_BOOTSTRAP_NAME, sp_bootstrap_py, sp_bootstrap_py_len,
                               &b, err);
        if (c == 0) {
            VEC_PUSH(p.pycs, b);
            p.boot_pyc = (const unsigned char *)p.pycs.v[p.pycs.n - 1].data;
            p.boot_pyc_len = p.pycs.v[p.pycs.n - 1].len;
        } else {
            sp_buf_release(&b);
            rc = c < 0 ? -1 : sp_error_set(err, SP_EIO, SP_BOOTSTRAP_NAME,
                                           "does not compile with --python");
        }
    }
    if (p.pyc) {
        sp_pyc_counts(p.pyc, &res->pyc_compiled, &res->pyc_cached);
        sp_pyc_stop(p.pyc);
        p.pyc = NULL;
        if (p.pyc_failed)
            warn(&p, "%zu .py file%s did not compile and stay as source, such as %s",
                 p.pyc_failed, p.pyc_failed == 1 ? "" : "s", p.pyc_first_failure);
    }

    /* ABIs in name order, so output never depends on argument order. */
    const sp_abi *by_input[MAX_ABIS];
    memcpy(by_input, p.abis, sizeof by_input);
    if (p.nabis > 1)
        qsort(p.abis, (size_t)p.nabis, sizeof *p.abis, cmp_abi_ptr);
    int remap[MAX_ABIS];
    for (int a = 0; a < p.nabis; a++)
        for (int b = 0; b < p.nabis; b++)
            if (p.abis[b] == by_input[a])
                remap[a] = b;
    for (size_t i = 0; i < p.pure.n; i++)
        p.pure.v[i].abi = remap[p.pure.v[i].abi];
    for (size_t i = 0; i < p.modules.n; i++)
        p.modules.v[i].abi = remap[p.modules.v[i].abi];
    for (size_t i = 0; i < p.natlibs.n; i++)
        p.natlibs.v[i].abi = remap[p.natlibs.v[i].abi];

    /* Every ABI needs its stdlib. */
    for (int a = 0; a < p.nabis && rc == 0; a++) {
        int found = 0;
        for (size_t i = 0; i < opts->ninputs; i++)
            found |= opts->inputs[i].kind == SP_INPUT_STDLIB && p.stats[i].abi == p.abis[a];
        if (!found)
            for (size_t i = 0; i < opts->ninputs && rc == 0; i++)
                if (p.stats[i].abi == p.abis[a])
                    rc = sp_error_set(err, SP_EINPUT, opts->inputs[i].path,
                                      "is for %s, but no --stdlib is (hint: --stdlib %s=DIR)",
                                      p.abis[a]->name, p.abis[a]->name);
    }

    cJSON_AddStringToObject(manifest, "tool", "sp-pack");
    cJSON_AddStringToObject(manifest, "version", SP_PACK_VERSION);
    cJSON_AddNumberToObject(manifest, "format", 1);
    cJSON_AddNumberToObject(manifest, "page_size", opts->page_size);
    cJSON *jabis = cJSON_AddArrayToObject(manifest, "abis");
    for (int a = 0; a < p.nabis; a++)
        cJSON_AddItemToArray(jabis, cJSON_CreateString(p.abis[a]->name));
    /* Inputs in (kind, ABI, path) order, so the manifest does not depend on
     * the order of the arguments either. */
    size_t *order = sp_xcalloc(opts->ninputs, sizeof *order);
    for (size_t i = 0; i < opts->ninputs; i++) {
        size_t k = i;
        while (k > 0 && input_before(opts, p.stats, i, order[k - 1])) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    cJSON *jinputs = cJSON_AddArrayToObject(manifest, "inputs");
    for (size_t n = 0; n < opts->ninputs; n++) {
        size_t i = order[n];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", input_kind_name[opts->inputs[i].kind]);
        cJSON_AddStringToObject(o, "abi", p.stats[i].abi ? p.stats[i].abi->name : "");
        cJSON_AddStringToObject(o, "path", opts->inputs[i].path);
        cJSON_AddNumberToObject(o, "files", (double)p.stats[i].files);
        cJSON_AddNumberToObject(o, "bytes", (double)p.stats[i].bytes);
        cJSON_AddItemToArray(jinputs, o);
    }
    free(order);
    cJSON *jmods = cJSON_AddArrayToObject(manifest, "modules");

    if (rc == 0)
        rc = check_modules(&p, jmods, err);
    if (rc == 0)
        rc = unite_natlibs(&p, err);
    if (rc == 0)
        rc = unite_pure(&p, &lay, err);
    if (rc == 0) {
        cJSON *jlibs = cJSON_AddArrayToObject(manifest, "libraries");
        for (size_t i = 0; i < p.natlibs.n; i++) {
            struct natlib *l = &p.natlibs.v[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", l->name);
            cJSON_AddStringToObject(o, "abi", abi_name(&p, l->abi));
            cJSON_AddStringToObject(o, "from", l->from_option ? "lib" : "tree");
            cJSON_AddItemToArray(jlibs, o);
        }
        cJSON_AddItemToObject(manifest, "overlaid", lay.overlaid);
        lay.overlaid = NULL;
        rc = write_outputs(&p, &lay, out_dir, manifest, key_hex, err);
    }
    if (rc == 0 && base)
        save_snapshot(opts, base, key, trees, is_dir, walk_start);
    for (size_t i = 0; i < opts->ninputs; i++)
        sp_tree_release(&trees[i]);
    sp_loader_free(loader);
    free(trees);
    free(is_dir);
    cJSON_Delete(state);
    free(base);

    sp_pyc_stop(p.pyc);
    cJSON_Delete(lay.overlaid);
    for (int z = 0; z < ZIP_KINDS; z++)
        for (int s = 0; s <= MAX_ABIS; s++)
            free(lay.out[z][s].entries.v);
    plan_release(&p);
    if (rc != 0) {
        cJSON_Delete(manifest);
        return rc;
    }
    res->manifest = manifest;
    return 0;
}
