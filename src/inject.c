#define _GNU_SOURCE
#include "sppack/inject.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sppack/abi.h"
#include "sppack/alloc.h"
#include "sppack/outdir.h"
#include "sppack/apk.h"
#include "sppack/archive.h"
#include "sppack/cleanup.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/text.h"
#include "sppack/bundlepb.h"
#include "sppack/treewalk.h"
#include "sppack/zipreader.h"
#include "sppack/zipwriter.h"

#define BUNDLE_CONFIG "BundleConfig.pb"
#define NATIVE_PB "base/native.pb"
#define PB_MAX (16u << 20) /* config protobufs are tiny; refuse absurd sizes */

/* v1 (JAR) signature files. */
static int is_v1_signature_file(const char *name)
{
    if (strncmp(name, "META-INF/", 9) != 0 || strchr(name + 9, '/'))
        return 0;
    return !strcmp(name, "META-INF/MANIFEST.MF") || fnmatch("META-INF/*.SF", name, 0) == 0 ||
           fnmatch("META-INF/*.RSA", name, 0) == 0 || fnmatch("META-INF/*.DSA", name, 0) == 0 ||
           fnmatch("META-INF/*.EC", name, 0) == 0;
}

/* A file of the pack output going into the archive. */
struct added {
    char *name;
    char *path;
};

static int cmp_added(const void *a, const void *b)
{
    return strcmp(((const struct added *)a)->name, ((const struct added *)b)->name);
}

struct plan {
    struct added *v;
    size_t n, cap;
    sp_strv abis; /* lib/<abi> directories the output will hold */
    sp_strv zips; /* names of the Python zips added under assets/ */
};

static void add(struct plan *p, char *name, const char *path)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->v = sp_xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n].name = name;
    p->v[p->n].path = sp_xstrdup(path);
    p->n++;
}

static void plan_release(struct plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        SP_FREE_ALL(p->v[i].name, p->v[i].path);
    free(p->v);
    sp_strv_release(&p->abis);
    sp_strv_release(&p->zips);
}

/* Lists a part of the pack output. A symlink that leaves it, dangles or
 * loops, or a special file, is an error with inject's own hint (the
 * walker's names pack's --exclude, which inject does not take). */
static int walk_output(const char *root, sp_tree *t, sp_error *err)
{
    sp_walk_opts wo = {.keep_pycache = 1, .leave_out = 1};
    int rc = sp_tree_walk(root, &wo, t, err);
    if (rc == 0 && t->nskipped)
        rc = sp_error_set(err, SP_EINPUT, t->skipped[0].path,
                          "%s (hint: inject copies a pack output as it is: remove it from the "
                          "directory, or pack again)",
                          t->skipped[0].why);
    return rc;
}

static int add_tree(struct plan *p, const char *root, const char *prefix, sp_error *err)
{
    sp_tree t;
    int rc = walk_output(root, &t, err);
    for (size_t i = 0; i < t.n && rc == 0; i++)
        add(p, sp_xasprintf("%s%s", prefix, t.files[i].rel), t.files[i].path);
    sp_tree_release(&t);
    return rc;
}

static int collect(const sp_inject_opts *o, const char *prefix, struct plan *p, sp_error *err)
{
    /* One generation of a pack output directory, whatever a run switches meanwhile. */
    char *top = sp_outdir_current(o->from);
    char *jni = sp_path_join(top, "jniLibs");
    char *assets = sp_path_join(top, "assets");
    free(top);
    int has_jni = access(jni, F_OK) == 0, has_assets = access(assets, F_OK) == 0;
    int rc = 0;
    if (!has_jni && !has_assets)
        rc = sp_error_set(err, SP_EINPUT, o->from,
                          "no jniLibs/ or assets/: not a pack output directory");
    for (size_t i = 0; i < o->abis.n && rc == 0; i++) {
        char *d = sp_path_join(jni, o->abis.v[i]);
        if (access(d, F_OK) != 0)
            rc = sp_error_set(err, SP_EINPUT, o->from, "has no libraries for %s", o->abis.v[i]);
        free(d);
    }
    if (rc == 0 && has_jni) {
        sp_tree t;
        rc = walk_output(jni, &t, err);
        for (size_t i = 0; i < t.n && rc == 0; i++) {
            const char *rel = t.files[i].rel;
            sp_lib_path lp;
            const sp_abi *abi =
                sp_lib_path_parse(rel, "", &lp) ? sp_abi_findn(lp.abi, lp.abi_len) : NULL;
            if (!abi)
                rc = sp_error_set(err, SP_EINPUT, t.files[i].path,
                                  "not under jniLibs/<abi>/ for a known ABI");
            else if (!o->abis.n || sp_strv_contains(&o->abis, abi->name)) {
                add(p, sp_xasprintf("%slib/%s", prefix, rel), t.files[i].path);
                if (!sp_strv_contains(&p->abis, abi->name))
                    sp_strv_push(&p->abis, abi->name);
            }
        }
        sp_tree_release(&t);
    }
    if (rc == 0 && has_assets && !o->no_assets) {
        size_t before = p->n;
        char *assets_prefix = sp_xasprintf("%sassets/", prefix);
        rc = add_tree(p, assets, assets_prefix, err);
        free(assets_prefix);
        for (size_t i = before; i < p->n; i++) {
            const char *name = p->v[i].name + strlen(prefix);
            size_t n = strlen(name);
            if (n > 4 && !strcmp(name + n - 4, ".zip"))
                sp_strv_push(&p->zips, name);
            else if (!strncmp(name, "assets/python/", 14) &&
                     !sp_strv_contains(&p->zips, "assets/python/**"))
                sp_strv_push(&p->zips, "assets/python/**"); /* the boot set */
        }
    }
    if (rc == 0 && p->n == 0)
        rc = sp_error_set(err, SP_EINPUT, o->from, "nothing to inject");
    SP_FREE_ALL(jni, assets);
    if (p->n > 1)
        qsort(p->v, p->n, sizeof *p->v, cmp_added);
    return rc;
}

static int is_added(const struct plan *p, const char *name)
{
    struct added key = {(char *)name, NULL};
    return p->n && bsearch(&key, p->v, p->n, sizeof *p->v, cmp_added) != NULL;
}

/* The edited base/native.pb: what it held plus lib/<abi> for every ABI the
 * output has that it does not list yet. Errors name the entry, not the
 * archive (the caller adds it). */
static int native_pb(const sp_zip *z, const sp_zip_entry *old, const struct plan *p, sp_buf *out,
                     sp_error *err)
{
    sp_buf_init(out);
    sp_strv listed, abis;
    sp_strv_init(&listed);
    sp_strv_init(&abis);
    int rc = 0;
    if (old) {
        rc = sp_zip_read_entry(z, old, PB_MAX, out, err);
        if (rc == 0 && sp_pb_native_paths((const unsigned char *)out->data, out->len, &listed) < 0)
            rc = sp_error_set(err, SP_EINPUT, NATIVE_PB, "not a valid NativeLibraries protobuf");
    }
    /* Directories already in the bundle, then the added ones. */
    for (size_t i = 0; i < z->n && rc == 0; i++) {
        sp_lib_path lp;
        if (sp_lib_path_parse(z->entries[i].name, "base/lib/", &lp)) {
            char *abi = sp_xstrndup(lp.abi, lp.abi_len);
            if (!sp_strv_contains(&abis, abi))
                sp_strv_push(&abis, abi);
            free(abi);
        }
    }
    for (size_t i = 0; i < p->abis.n; i++)
        if (!sp_strv_contains(&abis, p->abis.v[i]))
            sp_strv_push(&abis, p->abis.v[i]);
    sp_strv_sort(&abis);
    for (size_t i = 0; i < abis.n && rc == 0; i++) {
        char *path = sp_xasprintf("lib/%s", abis.v[i]);
        if (!sp_strv_contains(&listed, path)) {
            const sp_abi *abi = sp_abi_known(abis.v[i]);
            if (!abi) {
                char *dir = sp_escape(abis.v[i]);
                rc = sp_error_set(err, SP_EINPUT, NULL,
                                  "base/lib/%s/: '%s' is not an ABI directory bundletool knows "
                                  "(hint: rename or remove it; base/native.pb can only target %s)",
                                  dir, dir, sp_abi_list());
                free(dir);
            } else {
                sp_pb_add_native_dir(out, abi);
            }
        }
        free(path);
    }
    sp_strv_release(&listed);
    sp_strv_release(&abis);
    return rc;
}

/* The edited BundleConfig.pb: what it held plus the Python zips and the
 * boot set as uncompressed globs (bundletool would deflate assets
 * otherwise, and CPython reads them in place, the boot set before zlib can
 * load). */
static int bundle_config(const sp_zip *z, const sp_zip_entry *old, const struct plan *p,
                         sp_buf *out, sp_error *err)
{
    sp_buf_init(out);
    sp_strv listed, missing;
    sp_strv_init(&listed);
    sp_strv_init(&missing);
    int rc = sp_zip_read_entry(z, old, PB_MAX, out, err);
    if (rc == 0 &&
        sp_pb_uncompressed_globs((const unsigned char *)out->data, out->len, &listed) < 0)
        rc = sp_error_set(err, SP_EINPUT, BUNDLE_CONFIG, "not a valid BundleConfig protobuf");
    for (size_t i = 0; i < p->zips.n && rc == 0; i++)
        if (!sp_strv_contains(&listed, p->zips.v[i]))
            sp_strv_push(&missing, p->zips.v[i]);
    if (rc == 0 && missing.n)
        sp_pb_add_uncompressed_globs(out, &missing);
    sp_strv_release(&listed);
    sp_strv_release(&missing);
    return rc;
}

static int write_file(sp_zipw *zw, const char *name, const char *path, unsigned page, sp_error *err)
{
    sp_map m;
    if (sp_map_open(&m, path, err) != 0)
        return -1;
    int rc = sp_zipw_add_stored(zw, name, m.data, m.size, sp_apk_alignment(name, 0, page), err);
    sp_map_close(&m);
    return rc;
}

int sp_inject(const sp_inject_opts *o, sp_inject_result *res, sp_error *err)
{
    memset(res, 0, sizeof *res);
    sp_archive a;
    if (sp_archive_open(&a, o->into, NULL, 0, err) != 0)
        return -1;
    const sp_zip *z = &a.zip;
    struct plan p = {0};
    /* Names that would escape an extraction, or that two entries hold, are
     * not copied into an output that looks fine. */
    int rc = sp_zip_check_entries(z, o->into, err);

    /* Signed input: v2/v3 signing block or v1 signature files. */
    int v1 = 0;
    for (size_t i = 0; i < z->n; i++)
        v1 |= is_v1_signature_file(z->entries[i].name) &&
              strcmp(z->entries[i].name, "META-INF/MANIFEST.MF") != 0;
    if (rc == 0 && (z->sig_block_offset != UINT64_MAX || v1) && !o->strip_signature)
        rc = sp_error_set(err, SP_EINPUT, o->into,
                          "signed %s: changing it would invalidate the signature "
                          "(hint: inject before signing, or --strip-signature and sign again)",
                          z->sig_block_offset != UINT64_MAX ? "APK (v2/v3 signing block)"
                                                            : "APK (v1 signature files)");
    const sp_zip_entry *config = sp_zip_find(z, BUNDLE_CONFIG);
    res->is_bundle = a.kind == SP_ARCHIVE_AAB;
    size_t n = strlen(o->into);
    if (rc == 0 && !config && n > 4 && !strcmp(o->into + n - 4, ".aab"))
        rc = sp_error_set(err, SP_EINPUT, o->into, "an .aab without BundleConfig.pb");
    if (rc == 0 && a.kind == SP_ARCHIVE_APKS)
        rc = sp_error_set(err, SP_EINPUT, o->into,
                          "an .apks set of APKs (hint: inject into the APK or .aab it was "
                          "made from)");
    const char *prefix = res->is_bundle ? "base/" : "";
    if (rc == 0)
        rc = collect(o, prefix, &p, err);
    for (size_t i = 0; i < z->n && rc == 0; i++)
        if (is_added(&p, z->entries[i].name) && !o->replace) {
            char *name = sp_escape(z->entries[i].name);
            rc = sp_error_set(err, SP_EINPUT, o->into,
                              "%s is already there (hint: --replace to replace it)", name);
            free(name);
        }

    sp_buf native, cfg;
    sp_buf_init(&native);
    sp_buf_init(&cfg);
    const sp_zip_entry *old_native = res->is_bundle ? sp_zip_find(z, NATIVE_PB) : NULL;
    int edit_native = res->is_bundle && p.abis.n > 0;
    if (rc == 0 && edit_native && native_pb(z, old_native, &p, &native, err) != 0)
        rc = sp_error_prefix(err, o->into);
    if (rc == 0 && res->is_bundle && bundle_config(z, config, &p, &cfg, err) != 0)
        rc = sp_error_prefix(err, o->into);

    /* -o naming a symlink: the file it names is replaced, the link kept. */
    char *dest = sp_path_replace_target(o->out);
    if (rc == 0)
        sp_cleanup_stale(dest); /* what killed runs left */
    char *tmp = sp_temp_path(dest);
    sp_zipw *zw = NULL;
    if (rc == 0)
        rc = sp_zipw_open(&zw, tmp, err);
    for (size_t i = 0; i < z->n && rc == 0; i++) {
        const sp_zip_entry *e = &z->entries[i];
        if (o->strip_signature && is_v1_signature_file(e->name)) {
            res->stripped++;
            continue;
        }
        if (is_added(&p, e->name)) {
            res->replaced++;
            continue;
        }
        if (e == config)
            rc = sp_zipw_add_stored(zw, e->name, cfg.data, cfg.len, 4, err);
        else if (e == old_native && edit_native)
            rc = sp_zipw_add_stored(zw, e->name, native.data, native.len, 4, err);
        else
            rc =
                sp_zipw_add_copy(zw, z, e, sp_apk_alignment(e->name, e->method, o->page_size), err);
        res->kept++;
    }
    if (rc == 0 && edit_native && !old_native)
        rc = sp_zipw_add_stored(zw, NATIVE_PB, native.data, native.len, 4, err);
    for (size_t i = 0; i < p.n && rc == 0; i++) {
        rc = write_file(zw, p.v[i].name, p.v[i].path, o->page_size, err);
        res->added++;
    }
    if (rc == 0)
        rc = sp_zip_unchanged(&a.zip, o->into, err);
    rc = sp_zipw_end(zw, rc, err);
    rc = sp_commit(rc, tmp, dest, err);
    SP_FREE_ALL(tmp, dest);
    sp_buf_release(&native);
    sp_buf_release(&cfg);
    plan_release(&p);
    sp_archive_close(&a);
    return rc;
}
