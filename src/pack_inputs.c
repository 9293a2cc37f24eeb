/* pack's inputs: walking the trees, reading every file, and classifying
 * each into a pure file, an extension module or a shared library. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "pack_internal.h"
#include "sppack/alloc.h"
#include "sppack/bootstrap.h"
#include "sppack/bytecode.h"
#include "sppack/classify.h"
#include "sppack/elfinspect.h"
#include "sppack/elfstrip.h"
#include "sppack/parallel.h"
#include "sppack/mangle.h"
#include "sppack/path.h"
#include "sppack/platform.h"
#include "sppack/zipreader.h"

const char *const pack_zip_names[ZIP_KINDS] = {"stdlib", "sitepackages", "extract"};
static const char *const stdlib_skip_top[] = {"site-packages", "dist-packages", NULL};

/* ---- listing and reading -------------------------------------------------------------------- */

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
    tree->files[0].rel = sp_xstrdup(sp_path_base(in->path));
    tree->files[0].path = sp_xstrdup(in->path);
    tree->files[0].size = (uint64_t)st.st_size;
    tree->files[0].mtime_ns = sp_stat_mtime_ns(&st);
    tree->files[0].ctime_ns = sp_stat_ctime_ns(&st);
    tree->files[0].ino = (uint64_t)st.st_ino;
    return 0;
}

/* Lists every input: the directory trees all at once, on `jobs` threads.
 * The first input in argument order with a problem is the error. */
static int walk_inputs(const sp_pack_opts *o, int jobs, sp_tree *trees, int *is_dir, sp_error *err)
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
                                      in->kind == SP_INPUT_STDLIB ? stdlib_skip_top : NULL, 0, 1};
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
    SP_FREE_ALL(roots, errs, rcs, wopts, which);
    return rc;
}

/* ---- the level of each tree --------------------------------------------------------------- */

static int exists_in(const char *dir, const char *a, const char *b)
{
    struct stat st;
    char *pa = sp_path_join(dir, a), *pb = sp_path_join(dir, b);
    int found = stat(pa, &st) == 0 || stat(pb, &st) == 0;
    SP_FREE_ALL(pa, pb);
    return found;
}

/* A CPython standard library holds os.py and the encodings package at its
 * root, which CPython imports before anything else. */
static int is_stdlib(const char *dir)
{
    return exists_in(dir, "os.py", "os.pyc") &&
           exists_in(dir, "encodings/__init__.py", "encodings/__init__.pyc");
}

/* The first directory below dir (in name order) that is a stdlib; NULL. */
static char *stdlib_below(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    sp_strv names;
    sp_strv_init(&names);
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            sp_strv_push(&names, de->d_name);
    closedir(d);
    sp_strv_sort(&names);
    char *found = NULL;
    for (size_t i = 0; i < names.n && !found; i++) {
        char *child = sp_path_join(dir, names.v[i]);
        if (is_stdlib(child))
            found = child;
        else
            free(child);
    }
    sp_strv_release(&names);
    return found;
}

/* The directory above dir when it is a stdlib; NULL. */
static char *stdlib_above(const char *dir)
{
    char *parent = sp_path_join(dir, "..");
    char *real = realpath(parent, NULL);
    free(parent);
    if (real && is_stdlib(real))
        return real;
    free(real);
    return NULL;
}

/* Each tree at the right level: a --stdlib directory is a stdlib; a
 * --site-packages directory is neither a stdlib nor the parent of one.
 * Missing directories are left to the walk, which names them. */
static int check_levels(const sp_pack_opts *o, sp_error *err)
{
    for (size_t i = 0; i < o->ninputs; i++) {
        const sp_pack_input *in = &o->inputs[i];
        struct stat st;
        if (in->kind == SP_INPUT_LIB || stat(in->path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        int rc = 0;
        if (in->kind == SP_INPUT_STDLIB && !is_stdlib(in->path)) {
            char *hint = stdlib_below(in->path);
            if (!hint)
                hint = stdlib_above(in->path);
            if (hint)
                rc = sp_error_set(err, SP_EINPUT, in->path,
                                  "not a CPython standard library: no os.py and encodings/ here "
                                  "(hint: did you mean %s?)",
                                  hint);
            else
                rc = sp_error_set(err, SP_EINPUT, in->path,
                                  "not a CPython standard library: no os.py and encodings/ here "
                                  "(hint: --stdlib takes the directory holding them, such as "
                                  "<prefix>/lib/python3.X)");
            free(hint);
        } else if (in->kind == SP_INPUT_SITE) {
            char *below = is_stdlib(in->path) ? NULL : stdlib_below(in->path);
            if (is_stdlib(in->path))
                rc = sp_error_set(err, SP_EINPUT, in->path,
                                  "is a CPython standard library, not site-packages (hint: give "
                                  "it with --stdlib)");
            else if (below)
                rc = sp_error_set(err, SP_EINPUT, in->path,
                                  "holds the standard library %s: too high for site-packages "
                                  "(hint: give the site-packages directory itself)",
                                  below);
            free(below);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* --exclude-preset: the files of the trees a preset leaves out are dropped
 * from them before anything is read, and counted. */
static void leave_out_presets(const sp_pack_opts *o, struct pack_inputs *in)
{
    for (size_t i = 0; o->presets && i < o->ninputs; i++) {
        if (o->inputs[i].kind == SP_INPUT_LIB)
            continue;
        sp_tree *t = &in->trees[i];
        size_t kept = 0;
        for (size_t k = 0; k < t->n; k++) {
            sp_tree_file *f = &t->files[k];
            int p = sp_preset_match(o->presets, o->inputs[i].kind == SP_INPUT_STDLIB, f->rel);
            if (p < 0) {
                t->files[kept++] = *f;
                continue;
            }
            in->preset_files[p]++;
            in->preset_bytes[p] += f->size;
            SP_FREE_ALL(f->rel, f->path);
        }
        t->n = kept;
    }
}

int pack_inputs_read(const sp_pack_opts *o, int jobs, struct pack_inputs *in, sp_error *err)
{
    memset(in, 0, sizeof *in);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    in->walk_start = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
    in->trees = sp_xcalloc(o->ninputs, sizeof *in->trees);
    in->is_dir = sp_xcalloc(o->ninputs, sizeof *in->is_dir);
    int rc = check_levels(o, err);
    if (rc == 0)
        rc = walk_inputs(o, jobs, in->trees, in->is_dir, err);
    if (rc != 0)
        return rc;
    leave_out_presets(o, in);
    /* Every input is read by the loader; a --lib file is a tree of one
     * file, opened by its own path. */
    sp_load_tree *load = sp_xcalloc(o->ninputs, sizeof *load);
    for (size_t i = 0; i < o->ninputs; i++)
        load[i] = (sp_load_tree){in->is_dir[i] ? o->inputs[i].path : NULL, &in->trees[i]};
    rc = sp_load_trees(load, o->ninputs, jobs, 1, o->progress, o->progress_ctx, &in->loader, err);
    free(load);
    return rc;
}

void pack_inputs_release(struct pack_inputs *in, size_t ninputs)
{
    for (size_t i = 0; in->trees && i < ninputs; i++)
        sp_tree_release(&in->trees[i]);
    SP_FREE_ALL(in->trees, in->is_dir);
    sp_loader_free(in->loader);
    for (size_t i = 0; i < in->pycs.n; i++)
        sp_buf_release(&in->pycs.v[i]);
    free(in->pycs.v);
    for (size_t i = 0; i < in->stripped.n; i++)
        free(in->stripped.v[i]);
    free(in->stripped.v);
    for (size_t i = 0; i < in->elfs.n; i++) {
        sp_elf_info_release(in->elfs.v[i]);
        free(in->elfs.v[i]);
    }
    free(in->elfs.v);
    memset(in, 0, sizeof *in);
}

void pack_set_release(struct pack_set *set)
{
    for (size_t i = 0; i < set->pure.n; i++)
        SP_FREE_ALL(set->pure.v[i].name, set->pure.v[i].source);
    for (size_t i = 0; i < set->modules.n; i++)
        SP_FREE_ALL(set->modules.v[i].lib, set->modules.v[i].module, set->modules.v[i].marker,
                    set->modules.v[i].source);
    for (size_t i = 0; i < set->natlibs.n; i++)
        SP_FREE_ALL(set->natlibs.v[i].name, set->natlibs.v[i].source);
    SP_FREE_ALL(set->pure.v, set->modules.v, set->natlibs.v, set->stats);
    memset(set, 0, sizeof *set);
}

/* ---- classifying ---------------------------------------------------------------------------- */

/* What classifying needs besides the set: the options, where bytes live,
 * the bytecode helper. */
struct classifier {
    const sp_pack_opts *o;
    struct pack_inputs *in;
    struct pack_set *set;
    sp_pack_result *res;
    sp_pyc *pyc; /* the bytecode helper, with --pyc */
    int version; /* the target CPython (314 for 3.14), 0 when not known */
    size_t pyc_failed;
    char *pyc_first_failure;
};

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

static int zip_for_input(const sp_pack_opts *o, int kind, const char *name)
{
    if (is_extracted(o, name))
        return ZIP_EXTRACT;
    return kind == SP_INPUT_STDLIB ? ZIP_STDLIB : ZIP_SITE;
}

static void add_pure(struct classifier *c, int zip, const char *name, const sp_abi *abi,
                     const void *data, size_t size, uint64_t hash, const char *source)
{
    struct pure e = {zip, sp_xstrdup(name), abi, hash, data, size, sp_xstrdup(source)};
    SP_VEC_PUSH(c->set->pure, e);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* A pure file; with --pyc a .py also gets its NAME.pyc beside it (and with
 * --pyc-only replaces it), unless it does not compile. */
static int add_source(struct classifier *c, int zip, const char *name, const sp_abi *abi,
                      const void *data, size_t size, uint64_t hash, const char *source,
                      sp_error *err)
{
    if (!c->pyc || !ends_with(name, ".py")) {
        add_pure(c, zip, name, abi, data, size, hash, source);
        return 0;
    }
    sp_buf b;
    sp_buf_init(&b);
    int rc = sp_pyc_compile(c->pyc, name, data, size, &b, err);
    if (rc < 0) {
        sp_buf_release(&b);
        return -1;
    }
    if (rc == 1) {
        if (!c->pyc_failed++)
            c->pyc_first_failure = sp_xasprintf("%s (%s)", source, b.data);
        sp_buf_release(&b);
        add_pure(c, zip, name, abi, data, size, hash, source);
        return 0;
    }
    SP_VEC_PUSH(c->in->pycs, b);
    char *pyc_name = sp_xasprintf("%sc", name);
    const sp_buf *kept = &c->in->pycs.v[c->in->pycs.n - 1];
    add_pure(c, zip, pyc_name, abi, kept->data, kept->len, XXH3_64bits(kept->data, kept->len),
             source);
    free(pyc_name);
    if (!c->o->pyc_only)
        add_pure(c, zip, name, abi, data, size, hash, source);
    return 0;
}

/* One ELF candidate of a tree, before the tree's ABI is known. */
struct candidate {
    const sp_tree_file *file;
    char *name; /* path relative to the zip root */
    enum sp_so_name kind;
    char *stem;
    sp_so_tag tag;
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
    char m[32];
    return sp_error_set(err, SP_EINPUT, path,
                        "ELF is %d-bit %s%s%s%s, expected %d-bit %s for %s "
                        "(built for the wrong ABI?)",
                        info->elf_class, sp_abi_machine_name(info->machine, m), actual ? " (" : "",
                        actual ? actual->name : "", actual ? ")" : "", abi->elf_class, abi->machine,
                        abi->name);
}

static int detect_abi(const struct candidate *c, size_t n, int version, const char *root,
                      const sp_abi **out, sp_error *err)
{
    const sp_abi *abi = NULL;
    const char *first = NULL;
    char m[32];
    char why[64];
    for (size_t i = 0; i < n; i++) {
        /* Modules of another interpreter say nothing of this one's ABI. */
        if (!c[i].is_module || (c[i].kind == SP_SO_TAGGED && c[i].tag.cpython && version &&
                                sp_so_tag_mismatch(&c[i].tag, version, NULL, why, sizeof why)))
            continue;
        const sp_abi *a = sp_abi_for_elf(c[i].info->elf_class, c[i].info->machine);
        if (!a)
            return sp_error_set(err, SP_EINPUT, c[i].file->path,
                                "ELF is %d-bit %s, which is no Android ABI", c[i].info->elf_class,
                                sp_abi_machine_name(c[i].info->machine, m));
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

/* Every file of the tree of input idx into the set. */
static int classify_tree(struct classifier *c, size_t idx, sp_error *err)
{
    const sp_pack_input *in = &c->o->inputs[idx];
    const sp_tree *tree = &c->in->trees[idx];
    const sp_blob *blobs = sp_loader_blobs(c->in->loader, idx);
    struct input_stats *stats = &c->set->stats[idx];
    SP_VEC(struct candidate) cands = {0};
    int rc = 0;
    for (size_t i = 0; i < tree->n && rc == 0; i++) {
        const sp_tree_file *f = &tree->files[i];
        const char *name = f->rel;
        /* The name becomes a zip entry's: the rules readers hold it to. */
        const char *unsafe = sp_zip_unsafe_name(name, strlen(name));
        if (unsafe) {
            rc = sp_error_set(err, SP_EINPUT, f->path,
                              "its name %s, which no zip entry name may be (hint: rename it)",
                              unsafe);
            break;
        }
        if (in->kind == SP_INPUT_STDLIB && strncmp(name, "lib-dynload/", 12) == 0)
            name += 12;
        struct candidate cd = {.file = f,
                               .name = sp_xstrdup(name),
                               .data = blobs[i].data,
                               .size = blobs[i].size,
                               .hash = blobs[i].hash};
        cd.kind = sp_classify_so_name(sp_path_base(name), &cd.stem, &cd.tag);
        if (cd.kind != SP_SO_NONE && blobs[i].elf_checked) {
            /* Inspected by the loader, on its threads. */
            if (blobs[i].elf_error) {
                *err = *blobs[i].elf_error;
                rc = -1;
            } else {
                cd.info = blobs[i].elf;
                cd.is_module = cd.kind == SP_SO_TAGGED ||
                               (cd.kind == SP_SO_PLAIN && sp_elf_exports_pyinit(cd.info, cd.stem));
            }
        } else if (cd.kind == SP_SO_TAGGED) {
            rc = sp_error_set(err, SP_EINPUT, f->path,
                              "named like an extension module but is not an ELF file");
        } else {
            cd.kind = SP_SO_NONE; /* a pure file that happens to end in .so */
        }
        stats->files++;
        stats->bytes += f->size;
        if (rc != 0) {
            SP_FREE_ALL(cd.name, cd.stem);
            break;
        }
        SP_VEC_PUSH(cands, cd);
    }

    const sp_abi *abi = in->abi;
    if (rc == 0 && !abi)
        rc = detect_abi(cands.v, cands.n, c->version, in->path, &abi, err);
    if (rc == 0)
        stats->abi = abi;
    for (size_t i = 0; i < cands.n && rc == 0; i++) {
        struct candidate *cd = &cands.v[i];
        int zip = zip_for_input(c->o, in->kind, cd->name);
        if (cd->kind == SP_SO_NONE) {
            rc = add_source(c, zip, cd->name, abi, cd->data, cd->size, cd->hash, cd->file->path,
                            err);
            continue;
        }
        /* Built for another interpreter: not this app's, left out. A file
         * for another machine is the wrong-ABI error, whatever its tag; one
         * for this machine but another platform tag (x32, say) is left out. */
        char why[64];
        int tagged = cd->kind == SP_SO_TAGGED;
        int other = tagged && sp_so_tag_mismatch(&cd->tag, c->version, NULL, why, sizeof why);
        if (!other) {
            rc = check_machine(cd->info, abi, cd->file->path, err);
            if (rc != 0)
                break;
            other = tagged && sp_so_tag_mismatch(&cd->tag, c->version, abi, why, sizeof why);
        }
        if (other) {
            sp_pack_left_out lo = {sp_xstrdup(cd->file->path), sp_xstrdup(why)};
            SP_VEC_PUSH(c->res->left_out, lo);
            continue;
        }
        if (cd->is_module) {
            char *module, *mangle_from, *marker;
            sp_module_names(cd->name, cd->stem, &module, &mangle_from, &marker);
            char *lib = sp_mangle(mangle_from);
            free(mangle_from);
            if (!lib) {
                rc = sp_error_set(err, SP_EINPUT, cd->file->path,
                                  "cannot name a library for module '%s' (empty name component)",
                                  module);
                SP_FREE_ALL(module, marker);
                break;
            }
            /* Markers follow the module's zip (extract.zip for extracted packages). */
            struct module m = {.lib = lib,
                               .module = module,
                               .marker = marker,
                               .zip = zip,
                               .abi = abi,
                               .source = sp_xstrdup(cd->file->path),
                               .data = cd->data,
                               .hash = cd->hash,
                               .size = cd->size,
                               .elf = cd->info};
            SP_VEC_PUSH(c->set->modules, m);
            add_pure(c, zip, marker, abi, (const unsigned char *)lib, strlen(lib),
                     XXH3_64bits(lib, strlen(lib)), cd->file->path);
        } else {
            /* A dependency goes to lib/<abi>/ under the name its users ask
             * for: its soname when a module of this tree lists it in
             * DT_NEEDED, else its file name. */
            const char *base = sp_path_base(cd->name);
            if (cd->info->soname && needed_by_module(cands.v, cands.n, cd->info->soname))
                base = cd->info->soname;
            if (!sp_is_android_lib_name(base)) {
                rc = sp_error_set(err, SP_EINPUT, cd->file->path,
                                  "shared library name %s is not lib*.so, which Android does "
                                  "not install (hint: rename it and patch the DT_NEEDED "
                                  "entries naming it, or --exclude '%s')",
                                  base, cd->file->rel);
                break;
            }
            struct natlib l = {.name = sp_xstrdup(base),
                               .abi = abi,
                               .source = sp_xstrdup(cd->file->path),
                               .data = cd->data,
                               .hash = cd->hash,
                               .size = cd->size,
                               .elf = cd->info};
            SP_VEC_PUSH(c->set->natlibs, l);
        }
    }
    for (size_t i = 0; i < cands.n; i++)
        SP_FREE_ALL(cands.v[i].name, cands.v[i].stem);
    free(cands.v);
    return rc;
}

/* File i of the --lib input idx. */
static int classify_lib(struct classifier *c, size_t idx, size_t i, sp_error *err)
{
    const sp_tree_file *f = &c->in->trees[idx].files[i];
    const sp_blob *b = &sp_loader_blobs(c->in->loader, idx)[i];
    const sp_abi *given = c->o->inputs[idx].abi;
    const char *path = f->path;
    struct input_stats *stats = &c->set->stats[idx];
    stats->files++;
    stats->bytes += b->size;
    if (!sp_elf_is_elf(b->data, b->size))
        return sp_error_set(err, SP_EINPUT, path, "--lib: not an ELF shared library");
    if (b->elf_error) {
        *err = *b->elf_error;
        return -1;
    }
    const sp_elf_info *info = b->elf;
    if (!info) { /* not named like a library, so not inspected while loading */
        sp_elf_info *own = sp_xcalloc(1, sizeof *own);
        unsigned char *copy = memcpy(sp_xmalloc(b->size), b->data, b->size);
        int rc = sp_elf_inspect(copy, b->size, path, own, err);
        free(copy);
        if (rc != 0) {
            free(own);
            return -1;
        }
        SP_VEC_PUSH(c->in->elfs, own);
        info = own;
    }
    const sp_abi *abi = given ? given : sp_abi_for_elf(info->elf_class, info->machine);
    char mn[32];
    if (!abi)
        return sp_error_set(err, SP_EINPUT, path, "ELF is %d-bit %s, which is no Android ABI",
                            info->elf_class, sp_abi_machine_name(info->machine, mn));
    if (check_machine(info, abi, path, err) != 0)
        return -1;
    const char *base = sp_path_base(path);
    if (!sp_is_android_lib_name(base))
        return sp_error_set(err, SP_EINPUT, path,
                            "library name is not lib*.so, which Android does not install "
                            "(hint: rename it)");
    if (!stats->abi)
        stats->abi = abi;
    struct natlib l = {.name = sp_xstrdup(base),
                       .abi = abi,
                       .source = sp_xstrdup(path),
                       .data = b->data,
                       .hash = b->hash,
                       .size = b->size,
                       .from_option = 1,
                       .elf = info};
    SP_VEC_PUSH(c->set->natlibs, l);
    return 0;
}

static int classify_lib_input(struct classifier *c, size_t idx, sp_error *err)
{
    size_t n = c->in->trees[idx].n;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = classify_lib(c, idx, i, err);
    if (rc == 0 && c->in->is_dir[idx] && n == 0)
        rc = sp_error_set(err, SP_EINPUT, c->o->inputs[idx].path,
                          "--lib: no library in this directory");
    return rc;
}

/* Starts the bytecode helper and checks it makes bytecode for the CPython
 * version of every stdlib tree (its magic number). */
static int start_bytecode(struct classifier *c, sp_error *err)
{
    const sp_pack_opts *o = c->o;
    if (!o->python)
        return sp_error_set(err, SP_EUSAGE, NULL,
                            "--pyc needs --python PATH, a host CPython of the trees' version");
    if (sp_pyc_start(&c->pyc, o->python, err) != 0)
        return -1;
    int v = sp_pyc_version(c->pyc);
    if (!c->version)
        return sp_error_set(err, SP_EINPUT, NULL,
                            "--pyc: cannot tell which CPython the stdlib trees are for (hint: "
                            "--python-version X.Y)");
    if (v != c->version)
        return sp_error_set(err, SP_EINPUT, o->python,
                            "is CPython %d.%d, but the packed stdlib is for %d.%d (hint: --python "
                            "must be the same X.Y as the packed CPython)",
                            v / 100, v % 100, c->version / 100, c->version % 100);
    /* Up to 3.13 the stdlib states its magic number too: a pre-release of the
     * same X.Y may differ. */
    const unsigned char *m = sp_pyc_magic(c->pyc);
    int host = m[0] | m[1] << 8;
    for (size_t i = 0; i < o->ninputs; i++) {
        int tree =
            o->inputs[i].kind == SP_INPUT_STDLIB ? sp_pyc_stdlib_magic(o->inputs[i].path) : -1;
        if (tree >= 0 && tree != host)
            return sp_error_set(err, SP_EINPUT, o->python,
                                "makes bytecode with magic number %d, but the stdlib %s is "
                                "for magic number %d: another build of CPython %d.%d (hint: "
                                "--python must be the interpreter the stdlib comes from)",
                                host, o->inputs[i].path, tree, v / 100, v % 100);
    }
    return 0;
}

/* ---- the target interpreter and what was left out ------------------------------------------- */

/* The CPython a stdlib tree is for, as 314 for 3.14, into *version: its
 * directory's name (lib/python3.14), else the tags of its lib-dynload
 * modules, which must agree; 0 when neither tells. 0, or -1 with err set. */
static int stdlib_version(const char *path, const sp_tree *tree, int *version, sp_error *err)
{
    char *real = realpath(path, NULL);
    int major, minor;
    char tail;
    *version = 0;
    if (sscanf(sp_path_base(real ? real : path), "python%d.%d%c", &major, &minor, &tail) == 2 &&
        major == 3)
        *version = major * 100 + minor;
    free(real);
    if (*version)
        return 0;
    const char *first = NULL;
    for (size_t i = 0; i < tree->n; i++) {
        if (strncmp(tree->files[i].rel, "lib-dynload/", 12) != 0)
            continue;
        char *stem;
        sp_so_tag tag;
        int tagged = sp_classify_so_name(tree->files[i].rel + 12, &stem, &tag) == SP_SO_TAGGED;
        free(stem);
        if (!tagged || !tag.cpython || tag.cpython == *version)
            continue;
        if (*version)
            return sp_error_set(err, SP_EINPUT, path,
                                "cannot tell which CPython this stdlib is for: lib-dynload holds "
                                "%s (%d.%d) and %s (%d.%d) (hint: --python-version X.Y)",
                                first, *version / 100, *version % 100, tree->files[i].rel + 12,
                                tag.cpython / 100, tag.cpython % 100);
        *version = tag.cpython;
        first = tree->files[i].rel + 12;
    }
    return 0;
}

/* The one CPython every ABI of this pack is for: --python-version, else
 * what the stdlib trees say, which must agree. */
static int target_version(const sp_pack_opts *o, const struct pack_inputs *in, int *version,
                          sp_error *err)
{
    *version = o->python_version;
    if (*version)
        return 0;
    const char *first = NULL;
    for (size_t i = 0; i < o->ninputs; i++) {
        if (o->inputs[i].kind != SP_INPUT_STDLIB)
            continue;
        int v;
        if (stdlib_version(o->inputs[i].path, &in->trees[i], &v, err) != 0)
            return -1;
        if (v && *version && v != *version)
            return sp_error_set(err, SP_EINPUT, o->inputs[i].path,
                                "is CPython %d.%d, but %s is %d.%d: one pack is for one CPython "
                                "(hint: --python-version X.Y)",
                                v / 100, v % 100, first, *version / 100, *version % 100);
        if (v && !*version) {
            *version = v;
            first = o->inputs[i].path;
        }
    }
    return 0;
}

/* Entries with nothing to pack (dangling symlinks, FIFOs, ...): one warning
 * each, or under --strict one error listing them all. */
static int left_out_entries(const sp_pack_opts *o, const struct pack_inputs *in,
                            sp_pack_result *res, sp_error *err)
{
    sp_buf all;
    sp_buf_init(&all);
    size_t n = 0;
    for (size_t i = 0; i < o->ninputs; i++) {
        const sp_tree *t = &in->trees[i];
        for (size_t k = 0; k < t->nskipped; k++, n++) {
            if (o->strict)
                sp_buf_addf(&all, "%s%s (%s)", n ? ", " : "", t->skipped[k].path,
                            t->skipped[k].why);
            else
                sp_strv_push_owned(
                    &res->warnings,
                    sp_xasprintf("%s: left out: %s", t->skipped[k].path, t->skipped[k].why));
        }
    }
    int rc = 0;
    if (o->strict && n)
        rc = sp_error_set(err, SP_EINPUT, NULL,
                          "%zu entr%s with nothing to pack, refused under --strict: %s (hint: "
                          "--exclude them)",
                          n, n == 1 ? "y" : "ies", all.data);
    sp_buf_release(&all);
    return rc;
}

int pack_inputs_classify(const sp_pack_opts *o, struct pack_inputs *in, struct pack_set *set,
                         sp_pack_result *res, sp_error *err)
{
    memset(set, 0, sizeof *set);
    set->ninputs = o->ninputs;
    set->stats = sp_xcalloc(o->ninputs, sizeof *set->stats);
    struct classifier c = {.o = o, .in = in, .set = set, .res = res};
    res->presets = o->presets;
    memcpy(res->preset_files, in->preset_files, sizeof res->preset_files);
    memcpy(res->preset_bytes, in->preset_bytes, sizeof res->preset_bytes);
    int rc = target_version(o, in, &c.version, err);
    res->python_version = c.version;
    if (rc == 0)
        rc = left_out_entries(o, in, res, err);
    if (rc == 0 && o->pyc)
        rc = start_bytecode(&c, err);
    if (rc == 0 && c.pyc) { /* the finder too: CPython reads it at every start */
        sp_buf b;
        sp_buf_init(&b);
        int compiled =
            sp_pyc_compile(c.pyc, SP_BOOTSTRAP_NAME, sp_bootstrap_py, sp_bootstrap_py_len, &b, err);
        if (compiled == 0) {
            SP_VEC_PUSH(in->pycs, b);
            set->boot_pyc = (const unsigned char *)in->pycs.v[in->pycs.n - 1].data;
            set->boot_pyc_len = in->pycs.v[in->pycs.n - 1].len;
        } else {
            sp_buf_release(&b);
            rc = compiled < 0 ? -1
                              : sp_error_set(err, SP_EUSAGE, o->python,
                                             "cannot compile sp-pack's " SP_BOOTSTRAP_NAME
                                             " (hint: --python must be CPython 3)");
        }
    }
    /* Trees first (they fix the ABIs), --lib inputs after. */
    for (size_t i = 0; i < o->ninputs && rc == 0; i++) {
        if (o->inputs[i].kind == SP_INPUT_LIB)
            continue;
        set->has_site |= o->inputs[i].kind == SP_INPUT_SITE;
        rc = classify_tree(&c, i, err);
    }
    for (size_t i = 0; i < o->ninputs && rc == 0; i++)
        if (o->inputs[i].kind == SP_INPUT_LIB)
            rc = classify_lib_input(&c, i, err);
    if (c.pyc) {
        sp_pyc_counts(c.pyc, &res->pyc_compiled, &res->pyc_cached);
        sp_pyc_stop(c.pyc);
        if (c.pyc_failed)
            sp_strv_push_owned(&res->warnings,
                               sp_xasprintf("%zu .py file%s did not compile and stay as source, "
                                            "such as %s",
                                            c.pyc_failed, c.pyc_failed == 1 ? "" : "s",
                                            c.pyc_first_failure));
    }
    free(c.pyc_first_failure);
    return rc;
}

/* ---- --strip -------------------------------------------------------------------------------- */

/* One library to strip: its bytes (the set's), what came of it. */
struct strip_item {
    const unsigned char **data; /* the set's pointer, replaced when stripped */
    uint64_t *size, *hash;
    const char *source;
    unsigned char *out;
    size_t out_size;
    int rc;
    sp_error err;
};

static void strip_one(void *ctx, int worker, size_t i)
{
    (void)worker;
    struct strip_item *it = &((struct strip_item *)ctx)[i];
    sp_error_init(&it->err);
    it->rc =
        sp_elf_strip(*it->data, (size_t)*it->size, it->source, &it->out, &it->out_size, &it->err);
}

int pack_inputs_strip(struct pack_inputs *in, struct pack_set *set, int jobs, sp_pack_result *res,
                      sp_error *err)
{
    size_t n = set->modules.n + set->natlibs.n;
    struct strip_item *items = sp_xcalloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < set->modules.n; i++) {
        struct module *m = &set->modules.v[i];
        items[i] =
            (struct strip_item){&m->data, &m->size, &m->hash, m->source, NULL, 0, 0, {0, ""}};
    }
    for (size_t i = 0; i < set->natlibs.n; i++) {
        struct natlib *l = &set->natlibs.v[i];
        items[set->modules.n + i] =
            (struct strip_item){&l->data, &l->size, &l->hash, l->source, NULL, 0, 0, {0, ""}};
    }
    sp_parallel_for(n, jobs, strip_one, items);
    int rc = 0;
    res->strip = 1;
    for (size_t i = 0; i < n; i++) {
        struct strip_item *it = &items[i];
        if (it->rc < 0 && rc == 0) {
            *err = it->err;
            rc = -1;
        }
        if (it->rc != 1)
            continue;
        SP_VEC_PUSH(in->stripped, it->out); /* the pack's from here on, whatever comes */
        res->stripped++;
        if (it->out_size < *it->size)
            res->stripped_bytes += *it->size - it->out_size;
        *it->data = it->out;
        *it->size = it->out_size;
        *it->hash = XXH3_64bits(it->out, it->out_size);
    }
    free(items);
    return rc;
}
