/* sp_pack: the stages of src/pack_*.c in order (see pack_internal.h). */
#include "sppack/pack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pack_internal.h"
#include "sppack/alloc.h"
#include "sppack/bootstrap.h"
#include "sppack/buf.h"
#include "sppack/hash.h"
#include "sppack/outdir.h"
#include "sppack/parallel.h"
#include "sppack/path.h"
#include "sppack/sizereport.h"
#include "sppack/zipwriter.h"

void sp_pack_opts_init(sp_pack_opts *o)
{
    *o = (sp_pack_opts){.page_size = 16384}; /* the string lists empty */
}

void sp_pack_opts_release(sp_pack_opts *o)
{
    for (size_t i = 0; i < o->ninputs; i++)
        free(o->inputs[i].path);
    free(o->inputs);
    sp_strv_release(&o->extract);
    sp_strv_release(&o->exclude);
    SP_FREE_ALL(o->apk_path, o->python, o->tool_path);
    memset(o, 0, sizeof *o);
}

void sp_pack_opts_add_input(sp_pack_opts *o, int kind, const sp_abi *abi, const char *path)
{
    o->inputs = sp_xrealloc(o->inputs, (o->ninputs + 1) * sizeof *o->inputs);
    o->inputs[o->ninputs] = (sp_pack_input){kind, abi, sp_xstrdup(path)};
    o->ninputs++;
}

void sp_pack_result_init(sp_pack_result *res)
{
    *res = (sp_pack_result){0}; /* every list, the warnings and the report empty */
}

void sp_pack_result_release(sp_pack_result *res)
{
    for (size_t i = 0; i < res->inputs.n; i++)
        free(res->inputs.v[i].path);
    for (size_t i = 0; i < res->modules.n; i++)
        SP_FREE_ALL(res->modules.v[i].name, res->modules.v[i].lib, res->modules.v[i].marker);
    for (size_t i = 0; i < res->libraries.n; i++)
        free(res->libraries.v[i].name);
    for (size_t i = 0; i < res->overlaid.n; i++)
        free(res->overlaid.v[i].path);
    for (size_t i = 0; i < res->left_out.n; i++)
        SP_FREE_ALL(res->left_out.v[i].path, res->left_out.v[i].why);
    for (size_t i = 0; i < res->outputs.n; i++)
        free(res->outputs.v[i].path);
    SP_FREE_ALL(res->inputs.v, res->modules.v, res->libraries.v, res->overlaid.v, res->left_out.v,
                res->outputs.v);
    sp_strv_release(&res->warnings);
    sp_report_release(&res->checks);
    sp_size_packages_free(res->packages, res->npackages);
    sp_pack_result_init(res);
}

void sp_pack_result_abi_names(const sp_pack_result *res, const char *names[SP_MAX_ABIS])
{
    for (int a = 0; a < res->nabis; a++)
        names[a] = res->abis[a]->name;
}

/* The output directory and the APK stay out of the inputs (and the inputs
 * out of them), and the APK out of the output directory: nothing pack
 * writes may overwrite what it reads, or what it writes elsewhere. */
static int check_out_paths(const sp_pack_opts *o, const char *out_dir, sp_error *err)
{
    char *out_real = sp_realpath_lenient(out_dir);
    if (!out_real)
        return sp_error_set(err, SP_EIO, out_dir, "cannot resolve: %s", strerror(errno));
    char *apk_real = o->apk_path ? sp_realpath_lenient(o->apk_path) : NULL;
    int rc = 0;
    if (o->apk_path && !apk_real)
        rc = sp_error_set(err, SP_EIO, o->apk_path, "cannot resolve: %s", strerror(errno));
    else if (apk_real && sp_path_is_within(apk_real, out_real))
        rc = sp_error_set(err, SP_EUSAGE, o->apk_path,
                          "--apk %s inside the output directory %s (hint: write the APK "
                          "elsewhere)",
                          strcmp(apk_real, out_real) == 0 ? "is" : "lies", out_dir);
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
        else if (apk_real && sp_path_is_within(apk_real, in_real))
            rc = sp_error_set(err, SP_EUSAGE, o->apk_path,
                              "--apk %s the input %s (hint: write the APK elsewhere)",
                              strcmp(apk_real, in_real) == 0 ? "is" : "lies inside",
                              o->inputs[i].path);
        free(in_real);
    }
    SP_FREE_ALL(apk_real, out_real);
    return rc;
}

/* Per ABI what a device stores (its libraries and overlays and the common
 * files) and the sum of their download estimates. */
static void size_totals(sp_pack_result *res)
{
    for (int a = 0; a < res->nabis; a++) {
        res->install[a] = res->download[a] = 0;
        for (size_t i = 0; i < res->outputs.n; i++) {
            const sp_pack_output *o = &res->outputs.v[i];
            if (o->abi == a || o->abi < 0) {
                res->install[a] += o->size;
                res->download[a] += o->deflated;
            }
        }
    }
    res->has_size = 1;
}

/* Download estimates of outputs already written, deflated on every core. */
struct estimates {
    const char *out_dir;
    sp_pack_output *outs;
    const size_t *which; /* indices into outs */
    int *ok;
};

static void estimate_one(void *ctx, int worker, size_t k)
{
    (void)worker;
    struct estimates *e = ctx;
    sp_pack_output *o = &e->outs[e->which[k]];
    char *file = sp_path_join(e->out_dir, o->path);
    e->ok[k] = sp_deflated_size_file(file, &o->deflated, NULL) == 0;
    free(file);
}

/* A run with nothing to do: the result as the last run left it (the
 * manifest, unless the caller does not need it, and that run's warnings;
 * the download estimates from its state, an output it has none of, made
 * by a -q run, deflated now and *learned set). -1, with res as it was,
 * when the manifest cannot be read. */
static int reuse_result(struct pack_state *state, const char *out_dir, const sp_pack_opts *o,
                        int jobs, sp_pack_result *res, int *learned)
{
    *learned = 0;
    if (!o->no_report) {
        char *path = sp_path_join(out_dir, SP_MANIFEST_NAME);
        sp_map m;
        int rc = sp_map_open(&m, path, NULL);
        free(path);
        if (rc != 0)
            return -1;
        rc = sp_manifest_parse((const char *)m.data, m.size, res);
        sp_map_close(&m);
        if (rc != 0) {
            sp_pack_result_release(res);
            return -1;
        }
        size_t n = res->outputs.n, missing = 0;
        struct state_output **recs = sp_xcalloc(n ? n : 1, sizeof *recs);
        size_t *which = sp_xcalloc(n ? n : 1, sizeof *which);
        for (size_t i = 0; i < n; i++) {
            sp_pack_output *out = &res->outputs.v[i];
            recs[i] = pack_state_find(state, out->path);
            out->deflated = recs[i] ? recs[i]->deflated : UINT64_MAX;
            if (out->deflated == UINT64_MAX)
                which[missing++] = i;
        }
        int *ok = sp_xcalloc(missing ? missing : 1, sizeof *ok), known = 1;
        struct estimates e = {out_dir, res->outputs.v, which, ok};
        sp_parallel_for(missing, jobs, estimate_one, &e);
        for (size_t k = 0; k < missing; k++) {
            known &= ok[k];
            if (ok[k] && recs[which[k]]) {
                recs[which[k]]->deflated = res->outputs.v[which[k]].deflated;
                *learned = 1;
            }
        }
        if (known)
            size_totals(res);
        SP_FREE_ALL(ok, which, recs);
    }
    for (size_t i = 0; i < state->warnings.n; i++)
        sp_strv_push(&res->warnings, state->warnings.v[i]);
    res->up_to_date = 1;
    return 0;
}

/* --strict: any finding of the library checks, error or warning, and
 * nothing is written. */
static int strict_gate(sp_pack_result *res, const char *out_dir, sp_error *err)
{
    size_t n = sp_report_count(&res->checks, SP_ERROR) + sp_report_count(&res->checks, SP_WARNING);
    if (!n)
        return 0;
    sp_buf ids;
    sp_buf_init(&ids);
    for (const sp_check *c = sp_checks; c->id; c++)
        for (size_t i = 0; i < res->checks.files[0].n; i++)
            if (res->checks.files[0].v[i].check == c) {
                sp_buf_addf(&ids, "%s%s", ids.len ? ", " : "", c->id);
                break;
            }
    res->refused = 1;
    sp_error_set(err, SP_EINPUT, out_dir,
                 "not written: --strict and %zu finding%s in the libraries (%s; see the report)", n,
                 n == 1 ? "" : "s", ids.data);
    sp_buf_release(&ids);
    return -1;
}

int sp_pack(const sp_pack_opts *opts, const char *out_dir, sp_pack_result *res, sp_error *err)
{
    sp_pack_result_init(res);
    res->page_size = opts->page_size;
    int has_stdlib = 0;
    for (size_t i = 0; i < opts->ninputs; i++)
        has_stdlib |= opts->inputs[i].kind == SP_INPUT_STDLIB;
    if (!has_stdlib)
        return sp_error_set(err, SP_EUSAGE, NULL, "pack needs at least one --stdlib DIR");
    struct plan_params params = {opts->strict,    opts->page_size,    0, 0,
                                 sp_bootstrap_py, sp_bootstrap_py_len};
    if (check_out_paths(opts, out_dir, err) != 0 ||
        sp_zip_dos_time(&params.dos_date, &params.dos_time, err) != 0)
        return -1;
    /* One run per output directory, from here to the end. */
    sp_outdir od;
    if (sp_outdir_lock(&od, out_dir, err) != 0) {
        sp_outdir_release(&od);
        return -1;
    }

    /* Unchanged inputs (by the snapshot of the last run) and untouched
     * outputs: nothing to write, nothing even to list. */
    int jobs = opts->jobs > 0 ? opts->jobs : sp_online_cpus();
    uint64_t key = pack_options_key(opts);
    char key_hex[17];
    sp_u64_hex(key, key_hex);
    char *base = pack_state_base(out_dir);
    struct pack_state prev, next;
    pack_state_load(base, &prev);
    memset(&next, 0, sizeof next);
    sp_strv_init(&next.warnings);
    int untouched = pack_state_untouched(&prev, out_dir, opts, key_hex), learned;
    if (untouched && pack_inputs_unchanged(base, opts, key, jobs) &&
        reuse_result(&prev, out_dir, opts, jobs, res, &learned) == 0) {
        /* Stamps now older (the next run need not hash), or estimates made. */
        if (untouched == 2 || learned)
            pack_state_save(base, &prev, out_dir);
        sp_outdir_release(&od);
        pack_state_release(&prev);
        free(base);
        return 0;
    }

    struct pack_inputs in;
    struct pack_set set;
    struct pack_plan plan;
    memset(&set, 0, sizeof set);
    memset(&plan, 0, sizeof plan);
    int rc = pack_inputs_read(opts, jobs, &in, err);
    if (rc == 0)
        rc = pack_inputs_classify(opts, &in, &set, res, err);
    if (rc == 0 && opts->strip)
        rc = pack_inputs_strip(&in, &set, jobs, res, err);
    if (rc == 0)
        rc = pack_plan_make(&set, opts->inputs, &params, &plan, res, err);
    if (rc == 0 && opts->strict)
        rc = strict_gate(res, out_dir, err);
    if (rc == 0)
        rc = pack_write(&plan, &prev, opts, &in, &od, jobs, res, &next, err);
    if (rc == 0 && !opts->no_report)
        size_totals(res);
    if (rc == 0 && base) {
        memcpy(next.options, key_hex, sizeof key_hex);
        for (size_t i = 0; i < res->warnings.n; i++)
            sp_strv_push(&next.warnings, res->warnings.v[i]);
        pack_state_save(base, &next, out_dir);
        pack_inputs_snapshot(base, opts, key, &in);
    }
    pack_plan_release(&plan);
    pack_set_release(&set);
    pack_inputs_release(&in, opts->ninputs);
    pack_state_release(&prev);
    pack_state_release(&next);
    free(base);
    sp_outdir_release(&od);
    return rc;
}
