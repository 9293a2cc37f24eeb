/* pack's outputs: every output of the plan staged (written, or linked when
 * the previous run's is up to date), the manifest, the APK, then one commit
 * (src/outdir.c). Each output written also gets its download estimate
 * (sppack/sizereport.h) on the thread that wrote it; a kept one has the
 * previous run's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "pack_internal.h"
#include "sppack/alloc.h"
#include "sppack/apk.h"
#include "sppack/cleanup.h"
#include "sppack/file.h"
#include "sppack/hash.h"
#include "sppack/outdir.h"
#include "sppack/parallel.h"
#include "sppack/path.h"
#include "sppack/sizereport.h"
#include "sppack/zipwriter.h"

/* One output being written: by whichever thread claims it. */
struct job_item {
    const struct plan_output *out;
    char *stage; /* where it is written; NULL when kept */
    char *kept;  /* kept, but with no download estimate yet: the file to deflate */
    uint64_t size;
    char xxh3[17];
    long entries;
    uint64_t deflated;
    int failed;
    sp_error err;
};

struct write_job {
    struct job_item *items;
    size_t *order; /* items to write, biggest first */
    int estimate;  /* deflate what is written, for the download estimate */
};

static int write_zip(struct job_item *it, sp_error *err)
{
    sp_zipw *zw;
    int rc = sp_zipw_open_digest(&zw, it->stage, err);
    for (size_t i = 0; i < it->out->entries.n && rc == 0; i++) {
        const struct zentry *e = &it->out->entries.v[i];
        if (!e->data)
            rc = sp_zipw_add_dir(zw, e->name, err);
        else
            rc = sp_zipw_add_stored(zw, e->name, e->data, e->size, 0, err);
    }
    if (rc != 0) {
        sp_zipw_abort(zw);
        return rc;
    }
    uint64_t hash;
    rc = sp_zipw_close_digest(zw, &it->size, &hash, err);
    if (rc == 0)
        sp_u64_hex(hash, it->xxh3);
    return rc;
}

static void write_one(void *ctx, int worker, size_t k)
{
    (void)worker;
    struct write_job *j = ctx;
    struct job_item *it = &j->items[j->order[k]];
    sp_error_init(&it->err);
    if (it->kept) {
        it->failed = sp_deflated_size_file(it->kept, &it->deflated, &it->err) != 0;
        return;
    }
    it->deflated = UINT64_MAX; /* not known */
    if (it->out->is_zip)
        it->failed = write_zip(it, &it->err) != 0 ||
                     (j->estimate && sp_deflated_size_file(it->stage, &it->deflated, &it->err));
    else { /* the bytes read and checked, not the file again: it may have changed since */
        it->failed = sp_write_file(it->stage, it->out->data, it->out->size, &it->err) != 0;
        if (j->estimate)
            it->deflated = sp_deflated_size(it->out->data, it->out->size);
    }
}

static int cmp_write_cost(const void *a, const void *b, void *ctx)
{
    const struct write_job *j = ctx;
    const struct plan_output *x = j->items[*(const size_t *)a].out,
                             *y = j->items[*(const size_t *)b].out;
    uint64_t cx = x->is_zip ? x->content : x->size, cy = y->is_zip ? y->content : y->size;
    /* Deflating for the estimate costs most, by the bytes: big first. */
    if (j->estimate && cx != cy)
        return cx > cy ? -1 : 1;
    /* Else zips (CRC and writes) before library copies, big first. */
    if (x->is_zip != y->is_zip)
        return x->is_zip ? -1 : 1;
    if (x->content != y->content)
        return x->content > y->content ? -1 : 1;
    return 0; /* a stable sort keeps manifest order */
}

/* An error names the output as users know it, DIR/rel, not the place in
 * .sp-pack/ it was being written to. */
static void name_output(sp_error *err, const char *stage, const char *dir, const char *rel)
{
    size_t n = strlen(stage);
    if (strncmp(err->msg, stage, n) != 0)
        return;
    char *user = sp_path_join(dir, rel);
    char *rest = sp_xstrdup(err->msg + n);
    snprintf(err->msg, sizeof err->msg, "%s%s", user, rest);
    SP_FREE_ALL(rest, user);
}

/* Writes every staged item with `jobs` threads (the calling one too), and
 * with estimate deflates it, and every kept one that has no estimate yet.
 * The first failure in manifest order is the error. */
static int write_staged(struct job_item *items, size_t n, int jobs, int estimate, const char *dir,
                        sp_error *err)
{
    struct write_job j = {items, sp_xcalloc(n, sizeof *j.order), estimate};
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].stage || items[i].kept)
            j.order[count++] = i;
    sp_sort(j.order, count, sizeof *j.order, cmp_write_cost, &j);
    sp_parallel_for(count, jobs, write_one, &j);
    free(j.order);
    for (size_t i = 0; i < n; i++)
        if ((items[i].stage || items[i].kept) && items[i].failed) {
            *err = items[i].err;
            if (items[i].stage)
                name_output(err, items[i].stage, dir, items[i].out->rel);
            return -1;
        }
    return 0;
}

static void remember(struct pack_state *next, const char *rel, const char *recipe, uint64_t size,
                     const char *xxh3, long entries, uint64_t deflated)
{
    struct state_output r;
    memset(&r, 0, sizeof r);
    r.rel = sp_xstrdup(rel);
    memcpy(r.recipe, recipe, 17);
    r.size = size;
    r.deflated = deflated;
    memcpy(r.xxh3, xxh3, 17);
    r.entries = entries;
    SP_VEC_PUSH(next->outputs, r);
}

/* Stages rel: kept as it is when the previous run's record says so (linked
 * into the staging directory, so --apk sees the complete layout), else a
 * path to write to. 0, or -1 with err. */
static int stage(sp_outdir *od, const struct pack_state *prev, const char *rel, const char *recipe,
                 const struct state_output **kept, char **path, sp_error *err)
{
    *path = NULL;
    *kept = pack_state_reusable(prev, od->dir, rel, recipe);
    if (*kept)
        return sp_outdir_keep(od, rel, err);
    *path = sp_outdir_stage(od, rel, err);
    return *path ? 0 : -1;
}

static int write_manifest(sp_outdir *od, const struct pack_state *prev, const sp_pack_result *res,
                          struct pack_state *next, sp_error *err)
{
    char *text = sp_manifest_text(res);
    size_t len = strlen(text);
    char recipe[17];
    sp_xxh3_hex(text, len, recipe);
    const struct state_output *kept;
    char *path;
    int rc = stage(od, prev, SP_MANIFEST_NAME, recipe, &kept, &path, err);
    if (rc == 0 && path)
        rc = sp_write_file(path, text, len, err);
    if (rc == 0)
        remember(next, SP_MANIFEST_NAME, recipe, len, recipe, -1, UINT64_MAX);
    SP_FREE_ALL(path, text);
    return rc;
}

/* The APK, written from the staged files to a temporary name (*tmp) before
 * anything is switched, so a failure there leaves the previous outputs as
 * they were; renamed into place after the directory's switch. An APK of
 * the same content that nobody touched stays as it is (*tmp NULL). */
static int write_apk(const sp_outdir *od, const struct pack_state *prev, const sp_pack_opts *o,
                     struct pack_state *next, char **tmp, sp_error *err)
{
    *tmp = NULL;
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    sp_hash_u64(h, o->page_size);
    for (size_t i = 0; i < next->outputs.n; i++) {
        if (strcmp(next->outputs.v[i].rel, SP_MANIFEST_NAME) != 0) {
            sp_hash_str(h, next->outputs.v[i].rel);
            sp_hash_str(h, next->outputs.v[i].recipe);
        }
    }
    next->has_apk = 1;
    memset(&next->apk, 0, sizeof next->apk);
    next->apk.rel = sp_xstrdup(o->apk_path);
    next->apk.entries = -1;
    next->apk.deflated = UINT64_MAX;
    sp_u64_hex(XXH3_64bits_digest(h), next->apk.recipe);
    XXH3_freeState(h);
    if (prev->has_apk && !strcmp(prev->apk.rel, o->apk_path) &&
        !strcmp(prev->apk.recipe, next->apk.recipe) &&
        pack_state_file_matches(o->apk_path, &prev->apk)) {
        memcpy(next->apk.xxh3, prev->apk.xxh3, sizeof next->apk.xxh3);
        return 0;
    }
    sp_cleanup_stale(o->apk_path); /* what killed runs left */
    *tmp = sp_temp_path(o->apk_path);
    return sp_apk_write_from_pack(od->stage, *tmp, o->page_size, err);
}

int pack_write(const struct pack_plan *plan, const struct pack_state *prev,
               const sp_pack_opts *opts, const struct pack_inputs *in, sp_outdir *od, int jobs,
               sp_pack_result *res, struct pack_state *next, sp_error *err)
{
    if (sp_outdir_begin(od, err) != 0)
        return -1;
    size_t n = plan->outputs.n;
    struct job_item *items = sp_xcalloc(n, sizeof *items);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct plan_output *o = &plan->outputs.v[i];
        struct job_item *it = &items[i];
        it->out = o;
        it->entries = o->is_zip ? (long)o->entries.n : -1;
        const struct state_output *kept;
        rc = stage(od, prev, o->rel, o->recipe, &kept, &it->stage, err);
        if (rc == 0 && kept) {
            it->size = kept->size;
            memcpy(it->xxh3, kept->xxh3, 17);
            it->entries = kept->entries;
            it->deflated = kept->deflated;
            if (it->deflated == UINT64_MAX && !opts->no_report) /* a -q run wrote it */
                it->kept = sp_path_join(od->dir, o->rel);
        } else if (rc == 0 && !o->is_zip) { /* a copy or a file: its bytes were hashed */
            it->size = o->size;
            memcpy(it->xxh3, o->recipe, 17);
        }
    }
    if (rc == 0 && write_staged(items, n, jobs, !opts->no_report, od->dir, err) != 0) {
        /* A mapped input truncated meanwhile fails the write that copies
         * it (EFAULT) rather than raising SIGBUS: the changed input is
         * the error to report, not the output. */
        sp_loader_unchanged(in->loader, err);
        rc = -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct job_item *it = &items[i];
        sp_pack_output out = {
            sp_xstrdup(it->out->rel), it->out->abi, it->size, "", it->entries, it->deflated};
        memcpy(out.xxh3, it->xxh3, 17);
        SP_VEC_PUSH(res->outputs, out);
        remember(next, it->out->rel, it->out->recipe, it->size, it->xxh3, it->entries,
                 it->deflated);
    }
    for (size_t i = 0; i < n; i++)
        SP_FREE_ALL(items[i].stage, items[i].kept);
    free(items);
    if (rc == 0)
        rc = write_manifest(od, prev, res, next, err);
    char *apk_tmp = NULL;
    if (rc == 0 && opts->apk_path)
        rc = write_apk(od, prev, opts, next, &apk_tmp, err);
    if (rc == 0) /* what was checked is what was written */
        rc = sp_loader_unchanged(in->loader, err);
    if (rc == 0)
        rc = sp_outdir_commit(od, err);
    if (apk_tmp) /* after the switch: renamed into place, or removed */
        rc = sp_commit(rc, apk_tmp, opts->apk_path, err);
    free(apk_tmp);
    res->has_manifest = rc == 0;
    return rc;
}
