/* pack's plan: the classified inputs united over their ABIs. Checks
 * collisions and differences between ABIs, puts files that differ into
 * per-ABI overlays, and lists every output with its content, in manifest
 * order. Pure: no system calls, no JSON; tests/unit/test_pack_plan.c runs
 * it on sets made in memory. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "pack_internal.h"
#include "sppack/alloc.h"
#include "sppack/bootstrap.h"
#include "sppack/hash.h"
#include "sppack/path.h"

#define BOOTSTRAP_NAME "_sp_bootstrap.py"

static int abi_index(const sp_pack_result *res, const sp_abi *abi)
{
    return sp_abi_index(res->abis, res->nabis, abi);
}

/* Order of (name, ABI name, source): the one order every list is sorted in. */
static int cmp_name_abi_source(const char *na, const sp_abi *aa, const char *sa, const char *nb,
                               const sp_abi *ab, const char *sb)
{
    int c = strcmp(na, nb);
    if (c)
        return c;
    c = strcmp(aa->name, ab->name);
    return c ? c : strcmp(sa, sb);
}

static int cmp_pure(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const struct pure *x = a, *y = b;
    if (x->zip != y->zip)
        return x->zip - y->zip;
    return cmp_name_abi_source(x->name, x->abi, x->source, y->name, y->abi, y->source);
}

static int cmp_module(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const struct module *x = a, *y = b;
    return cmp_name_abi_source(x->lib, x->abi, x->source, y->lib, y->abi, y->source);
}

static int cmp_natlib(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const struct natlib *x = a, *y = b;
    return cmp_name_abi_source(x->name, x->abi, x->source, y->name, y->abi, y->source);
}

static int cmp_abi(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return strcmp((*(const sp_abi *const *)a)->name, (*(const sp_abi *const *)b)->name);
}

static int cmp_zentry(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return strcmp(((const struct zentry *)a)->name, ((const struct zentry *)b)->name);
}

static void warn(sp_pack_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(sp_pack_result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_strv_push_owned(&res->warnings, sp_xvasprintf(fmt, ap, NULL));
    va_end(ap);
}

/* ---- ABIs and inputs ------------------------------------------------------------------------ */

/* The ABIs of every input, in name order, so output never depends on
 * argument order; every ABI needs its stdlib. */
static int unite_abis(const struct pack_set *set, const sp_pack_input *inputs, sp_pack_result *res,
                      sp_error *err)
{
    for (size_t i = 0; i < set->ninputs; i++) {
        const sp_abi *abi = set->stats[i].abi;
        if (abi && abi_index(res, abi) < 0)
            res->abis[res->nabis++] = abi; /* at most the known ABIs */
    }
    sp_sort(res->abis, (size_t)res->nabis, sizeof *res->abis, cmp_abi, NULL);
    for (int a = 0; a < res->nabis; a++) {
        int found = 0;
        for (size_t i = 0; i < set->ninputs; i++)
            found |= inputs[i].kind == SP_INPUT_STDLIB && set->stats[i].abi == res->abis[a];
        if (found)
            continue;
        for (size_t i = 0; i < set->ninputs; i++)
            if (set->stats[i].abi == res->abis[a])
                return sp_error_set(err, SP_EINPUT, inputs[i].path,
                                    "is for %s, but no --stdlib is (hint: --stdlib %s=DIR)",
                                    res->abis[a]->name, res->abis[a]->name);
    }
    return 0;
}

static int input_before(const struct pack_set *set, const sp_pack_input *in, size_t a, size_t b)
{
    if (in[a].kind != in[b].kind)
        return in[a].kind < in[b].kind;
    const sp_abi *x = set->stats[a].abi, *y = set->stats[b].abi;
    int c = strcmp(x ? x->name : "", y ? y->name : "");
    if (c)
        return c < 0;
    return strcmp(in[a].path, in[b].path) < 0;
}

/* The inputs in (kind, ABI, path) order, so the manifest does not depend on
 * the order of the arguments either. */
static void list_inputs(const struct pack_set *set, const sp_pack_input *inputs,
                        sp_pack_result *res)
{
    static const char *const kinds[] = {"stdlib", "site-packages", "lib"};
    size_t *order = sp_xcalloc(set->ninputs, sizeof *order);
    for (size_t i = 0; i < set->ninputs; i++) {
        size_t k = i;
        while (k > 0 && input_before(set, inputs, i, order[k - 1])) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    for (size_t n = 0; n < set->ninputs; n++) {
        size_t i = order[n];
        const struct input_stats *st = &set->stats[i];
        sp_pack_input_info info = {kinds[inputs[i].kind], st->abi ? st->abi->name : "",
                                   sp_xstrdup(inputs[i].path), st->files, st->bytes};
        SP_VEC_PUSH(res->inputs, info);
    }
    free(order);
}

/* ---- libraries ------------------------------------------------------------------------------ */

static int check_modules(struct pack_set *set, int strict, sp_pack_result *res, sp_error *err)
{
    sp_sort(set->modules.v, set->modules.n, sizeof *set->modules.v, cmp_module, NULL);
    sp_sort(set->natlibs.v, set->natlibs.n, sizeof *set->natlibs.v, cmp_natlib, NULL);
    size_t i = 0;
    while (i < set->modules.n) {
        size_t j = i + 1;
        while (j < set->modules.n && strcmp(set->modules.v[j].lib, set->modules.v[i].lib) == 0)
            j++;
        const struct module *m = &set->modules.v[i];
        for (size_t k = i + 1; k < j; k++) {
            const struct module *x = &set->modules.v[k], *prev = &set->modules.v[k - 1];
            if (x->abi == prev->abi || strcmp(x->marker, m->marker) != 0 || x->zip != m->zip)
                return sp_error_set(err, SP_EINPUT, x->source,
                                    "module '%s' and module '%s' (%s) both map to library %s",
                                    x->module, prev->module, prev->source, x->lib);
        }
        /* Against plain libraries of any ABI. */
        for (size_t k = 0; k < set->natlibs.n; k++)
            if (strcmp(set->natlibs.v[k].name, m->lib) == 0)
                return sp_error_set(err, SP_EINPUT, set->natlibs.v[k].source,
                                    "library %s collides with extension module '%s' from %s",
                                    m->lib, m->module, m->source);
        unsigned bits = 0;
        for (size_t k = i; k < j; k++)
            bits |= 1u << abi_index(res, set->modules.v[k].abi);
        if (bits != (1u << res->nabis) - 1) {
            sp_buf missing;
            sp_buf_init(&missing);
            for (int a = 0; a < res->nabis; a++)
                if (!(bits & 1u << a))
                    sp_buf_addf(&missing, "%s%s", missing.len ? ", " : "", res->abis[a]->name);
            int rc = 0;
            if (strict)
                rc = sp_error_set(err, SP_EINPUT, m->source,
                                  "extension module '%s' is missing for %s (--strict)", m->module,
                                  missing.data);
            else
                warn(res,
                     "%s: extension module '%s' is missing for %s; its marker names nothing "
                     "there",
                     m->source, m->module, missing.data);
            sp_buf_release(&missing);
            if (rc)
                return rc;
        }
        sp_pack_module mod = {sp_xstrdup(m->module), sp_xstrdup(m->lib), pack_zip_names[m->zip],
                              sp_xstrdup(m->marker), bits};
        SP_VEC_PUSH(res->modules, mod);
        i = j;
    }
    return 0;
}

/* Plain libraries: one name per ABI; a library given twice with the same
 * bytes is kept once. Needs natlibs sorted (check_modules sorts them). */
static int unite_natlibs(struct pack_set *set, sp_pack_result *res, sp_error *err)
{
    /* Check everything first, so an error leaves the list whole to release. */
    for (size_t k = 1; k < set->natlibs.n; k++) {
        const struct natlib *a = &set->natlibs.v[k - 1], *b = &set->natlibs.v[k];
        if (a->abi == b->abi && strcmp(a->name, b->name) == 0 && a->hash != b->hash)
            return sp_error_set(err, SP_EINPUT, b->source,
                                "library %s differs from %s, which has the same name for %s",
                                b->name, a->source, a->abi->name);
    }
    size_t kept = 0;
    for (size_t k = 0; k < set->natlibs.n; k++) {
        struct natlib *b = &set->natlibs.v[k];
        const struct natlib *a = kept ? &set->natlibs.v[kept - 1] : NULL;
        if (a && a->abi == b->abi && strcmp(a->name, b->name) == 0) {
            SP_FREE_ALL(b->name, b->source);
            continue;
        }
        set->natlibs.v[kept++] = *b;
    }
    set->natlibs.n = kept;
    for (size_t k = 0; k < set->natlibs.n; k++) {
        const struct natlib *l = &set->natlibs.v[k];
        sp_pack_library lib = {sp_xstrdup(l->name), abi_index(res, l->abi), l->from_option};
        SP_VEC_PUSH(res->libraries, lib);
    }
    return 0;
}

/* ---- zips ----------------------------------------------------------------------------------- */

/* Where each pure entry goes: out[zip][0] the common zip, out[zip][1 + abi]
 * the overlays. */
struct layout {
    SP_VEC(struct zentry) out[ZIP_KINDS][1 + SP_MAX_ABIS];
};

static int unite_pure(struct pack_set *set, struct layout *lay, sp_pack_result *res, sp_error *err)
{
    sp_sort(set->pure.v, set->pure.n, sizeof *set->pure.v, cmp_pure, NULL);
    size_t i = 0;
    while (i < set->pure.n) {
        size_t j = i + 1;
        while (j < set->pure.n && set->pure.v[j].zip == set->pure.v[i].zip &&
               strcmp(set->pure.v[j].name, set->pure.v[i].name) == 0)
            j++;
        /* Same path twice in one ABI (two trees, or a marker over a file). */
        for (size_t k = i + 1; k < j; k++) {
            const struct pure *a = &set->pure.v[k - 1], *b = &set->pure.v[k];
            if (a->abi == b->abi && a->hash != b->hash)
                return sp_error_set(err, SP_EINPUT, b->source,
                                    "conflicts with %s: both become %s/%s for %s", a->source,
                                    pack_zip_names[a->zip], a->name, a->abi->name);
        }
        int same = 1;
        for (size_t k = i + 1; k < j; k++)
            same &= set->pure.v[k].hash == set->pure.v[i].hash;
        const struct pure *e = &set->pure.v[i];
        if (e->zip == ZIP_STDLIB &&
            (!strcmp(e->name, BOOTSTRAP_NAME) || !strcmp(e->name, BOOTSTRAP_NAME "c")))
            return sp_error_set(err, SP_EINPUT, e->source,
                                "collides with sp-pack's own %s (hint: --exclude it)",
                                BOOTSTRAP_NAME);
        if (same) {
            struct zentry z = {e->name, e->data, e->size, e->hash};
            SP_VEC_PUSH(lay->out[e->zip][0], z);
        } else {
            sp_pack_overlaid o = {pack_zip_names[e->zip], sp_xstrdup(e->name), 0};
            const sp_abi *last = NULL;
            for (size_t k = i; k < j; k++) {
                const struct pure *x = &set->pure.v[k];
                if (x->abi == last)
                    continue; /* identical duplicate within an ABI */
                last = x->abi;
                int a = abi_index(res, x->abi);
                struct zentry z = {x->name, x->data, x->size, x->hash};
                SP_VEC_PUSH(lay->out[x->zip][1 + a], z);
                o.abis |= 1u << a;
            }
            SP_VEC_PUSH(res->overlaid, o);
        }
        i = j;
    }
    return 0;
}

/* Adds "a/", "a/b/" for every entry "a/b/c" not already present (zipimport
 * needs them for namespace packages), then sorts the entries by name. */
static void add_directory_entries(struct plan_output *o, sp_strv *owned)
{
    size_t n = o->entries.n;
    sp_strv dirs;
    sp_strv_init(&dirs);
    for (size_t i = 0; i < n; i++) {
        const char *name = o->entries.v[i].name;
        for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/'))
            sp_strv_push_owned(&dirs, sp_xstrndup(name, (size_t)(s - name + 1)));
    }
    sp_strv_sort(&dirs);
    for (size_t i = 0; i < dirs.n; i++) {
        if (i > 0 && strcmp(dirs.v[i], dirs.v[i - 1]) == 0)
            continue;
        sp_strv_push(owned, dirs.v[i]);
        struct zentry d = {owned->v[owned->n - 1], NULL, 0, 0};
        SP_VEC_PUSH(o->entries, d);
    }
    sp_strv_release(&dirs);
    sp_sort(o->entries.v, o->entries.n, sizeof *o->entries.v, cmp_zentry, NULL);
}

/* A zip's recipe: its timestamp and every entry's name, content and size. */
static void zip_recipe(struct plan_output *o, const struct plan_params *p)
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    sp_hash_u64(h, (uint64_t)p->dos_date << 16 | p->dos_time);
    for (size_t i = 0; i < o->entries.n; i++) {
        const struct zentry *e = &o->entries.v[i];
        XXH3_64bits_update(h, e->name, strlen(e->name) + 1);
        sp_hash_u64(h, e->hash);
        sp_hash_u64(h, e->size);
        o->content += e->size;
    }
    sp_u64_hex(XXH3_64bits_digest(h), o->recipe);
    XXH3_freeState(h);
}

/* ---- the output list ------------------------------------------------------------------------ */

static void add_library_output(struct pack_plan *plan, const sp_pack_result *res, int a,
                               const char *name, const char *source, const unsigned char *data,
                               uint64_t hash, uint64_t size, const sp_elf_info *elf,
                               const char *marker)
{
    struct plan_output o;
    memset(&o, 0, sizeof o);
    o.rel = sp_xasprintf("jniLibs/%s/%s", res->abis[a]->name, name);
    o.abi = a;
    sp_u64_hex(hash, o.recipe); /* a copy: its bytes are its recipe */
    o.source = source;
    o.data = data;
    o.size = size;
    o.elf = elf;
    o.marker = marker;
    SP_VEC_PUSH(plan->outputs, o);
}

/* The libraries (per ABI, in name order), then the zips (common ones, then
 * overlays): manifest order. */
static void list_outputs(const struct pack_set *set, const struct plan_params *params,
                         struct layout *lay, struct pack_plan *plan, const sp_pack_result *res)
{
    for (int a = 0; a < res->nabis; a++) {
        const sp_abi *abi = res->abis[a];
        size_t mi = 0, li = 0;
        for (;;) {
            while (mi < set->modules.n && set->modules.v[mi].abi != abi)
                mi++;
            while (li < set->natlibs.n && set->natlibs.v[li].abi != abi)
                li++;
            if (mi >= set->modules.n && li >= set->natlibs.n)
                break;
            int take_mod = mi < set->modules.n &&
                           (li >= set->natlibs.n ||
                            strcmp(set->modules.v[mi].lib, set->natlibs.v[li].name) < 0);
            if (take_mod) {
                const struct module *m = &set->modules.v[mi++];
                add_library_output(plan, res, a, m->lib, m->source, m->data, m->hash, m->size,
                                   m->elf, m->marker);
            } else {
                const struct natlib *l = &set->natlibs.v[li++];
                add_library_output(plan, res, a, l->name, l->source, l->data, l->hash, l->size,
                                   l->elf, NULL);
            }
        }
    }
    struct zentry boot = {BOOTSTRAP_NAME, params->bootstrap, params->bootstrap_len,
                          XXH3_64bits(params->bootstrap, params->bootstrap_len)};
    SP_VEC_PUSH(lay->out[ZIP_STDLIB][0], boot);
    if (set->boot_pyc) { /* CPython reads the finder at every start: compiled too */
        struct zentry pyc = {BOOTSTRAP_NAME "c", set->boot_pyc, set->boot_pyc_len,
                             XXH3_64bits(set->boot_pyc, set->boot_pyc_len)};
        SP_VEC_PUSH(lay->out[ZIP_STDLIB][0], pyc);
    }
    for (int z = 0; z < ZIP_KINDS; z++) {
        for (int slot = 0; slot <= res->nabis; slot++) {
            int wanted = lay->out[z][slot].n > 0 || (slot == 0 && z == ZIP_STDLIB) ||
                         (slot == 0 && z == ZIP_SITE && set->has_site);
            if (!wanted)
                continue;
            struct plan_output o;
            memset(&o, 0, sizeof o);
            o.rel = slot == 0 ? sp_xasprintf("assets/%s.zip", pack_zip_names[z])
                              : sp_xasprintf("assets/%s-%s.zip", pack_zip_names[z],
                                             res->abis[slot - 1]->name);
            o.abi = slot - 1;
            o.is_zip = 1;
            o.entries.v = lay->out[z][slot].v; /* the plan takes the list */
            o.entries.n = lay->out[z][slot].n;
            o.entries.cap = lay->out[z][slot].cap;
            memset(&lay->out[z][slot], 0, sizeof lay->out[z][slot]);
            add_directory_entries(&o, &plan->dirnames);
            zip_recipe(&o, params);
            SP_VEC_PUSH(plan->outputs, o);
        }
    }
}

/* ---- the library checks -------------------------------------------------------------------- */

struct shipped_ctx {
    const struct pack_plan *plan;
    int abi;
};

/* Whether the plan writes jniLibs/<abi>/<name>. */
static int shipped(void *vctx, const char *name)
{
    const struct shipped_ctx *c = vctx;
    for (size_t i = 0; i < c->plan->outputs.n; i++) {
        const struct plan_output *o = &c->plan->outputs.v[i];
        if (!o->is_zip && o->abi == c->abi && !strcmp(sp_path_base(o->rel), name))
            return 1;
    }
    return 0;
}

/* The checks verify makes on a library, on every library the plan writes;
 * and per ABI, how many a 16 KB page device would refuse. */
static void check_libraries(const struct pack_plan *plan, const struct plan_params *params,
                            sp_pack_result *res)
{
    sp_report_file *f = sp_report_add_file(&res->checks, "jniLibs");
    f->kind = "dir";
    sp_libcheck_opts lo = {params->page_size, 0};
    for (int a = 0; a < res->nabis; a++)
        res->not_16k[a] = res->abis[a]->elf_class == 64 ? 0 : -1;
    for (size_t i = 0; i < plan->outputs.n; i++) {
        const struct plan_output *o = &plan->outputs.v[i];
        if (o->is_zip || !o->elf)
            continue;
        const sp_abi *abi = res->abis[o->abi];
        struct shipped_ctx sc = {plan, o->abi};
        sp_libcheck_elf(o->elf, abi, abi->name, o->rel, shipped, &sc, &lo, &res->checks, f);
        char why[256];
        if (res->not_16k[o->abi] >= 0 &&
            ((o->elf->min_load_align && o->elf->min_load_align < 16384) ||
             sp_libcheck_relro(o->elf, 16384, why, sizeof why)))
            res->not_16k[o->abi]++;
    }
}

/* The boot set: the modules stock zipimport reads straight from the APK
 * while CPython initialises, before the finder is installed
 * (docs/runtime.md), as files of assets/python/: each module of the common
 * stdlib.zip once, its .pyc when there is one, else its .py; name order. */
static int list_boot_set(struct pack_plan *plan, sp_error *err)
{
    static const char *const modules[] = SP_BOOT_MODULES;
    size_t std = plan->outputs.n; /* an index: pushes below move the list */
    for (size_t i = 0; i < plan->outputs.n; i++)
        if (!strcmp(plan->outputs.v[i].rel, "assets/stdlib.zip"))
            std = i;
    for (const char *const *m = modules; std < plan->outputs.n && *m; m++) {
        const struct zentry *py = NULL, *pyc = NULL;
        size_t n = strlen(*m);
        for (size_t i = 0; i < plan->outputs.v[std].entries.n; i++) {
            const struct zentry *e = &plan->outputs.v[std].entries.v[i];
            if (strncmp(e->name, *m, n) != 0)
                continue;
            if (!strcmp(e->name + n, ".py"))
                py = e;
            else if (!strcmp(e->name + n, ".pyc"))
                pyc = e;
        }
        const struct zentry *e = pyc ? pyc : py;
        if (!e)
            return sp_error_set(err, SP_EINPUT, "assets/stdlib.zip",
                                "would hold no %s.py or .pyc: CPython imports it while it "
                                "starts (was it excluded?)",
                                *m);
        struct plan_output o;
        memset(&o, 0, sizeof o);
        o.rel = sp_xasprintf("assets/python/%s", e->name);
        o.abi = -1;
        sp_u64_hex(e->hash, o.recipe); /* written as it is: its bytes are its recipe */
        o.data = e->data;
        o.size = e->size;
        SP_VEC_PUSH(plan->outputs, o);
    }
    return 0;
}

/* The largest top-level packages: the payload of their entries in the zips
 * (common and overlays), and their extension modules' libraries. */
static void tally_packages(const struct pack_plan *plan, sp_pack_result *res)
{
    sp_package_tally t;
    sp_package_tally_init(&t);
    for (size_t i = 0; i < plan->outputs.n; i++) {
        const struct plan_output *o = &plan->outputs.v[i];
        for (size_t k = 0; o->is_zip && k < o->entries.n; k++)
            if (o->entries.v[k].data)
                sp_package_tally_add(&t, o->entries.v[k].name, o->abi, o->entries.v[k].size);
        if (o->marker)
            sp_package_tally_add(&t, o->marker, o->abi, o->size);
    }
    res->npackages = sp_package_tally_top(&t, res->nabis, SP_SIZE_TOP_PACKAGES, &res->packages);
    sp_package_tally_release(&t);
}

int pack_plan_make(struct pack_set *set, const sp_pack_input *inputs,
                   const struct plan_params *params, struct pack_plan *plan, sp_pack_result *res,
                   sp_error *err)
{
    memset(plan, 0, sizeof *plan);
    sp_strv_init(&plan->dirnames);
    struct layout lay;
    memset(&lay, 0, sizeof lay);
    int rc = unite_abis(set, inputs, res, err);
    if (rc == 0) {
        list_inputs(set, inputs, res);
        rc = check_modules(set, params->strict, res, err);
    }
    if (rc == 0)
        rc = unite_natlibs(set, res, err);
    if (rc == 0)
        rc = unite_pure(set, &lay, res, err);
    if (rc == 0) {
        list_outputs(set, params, &lay, plan, res);
        rc = list_boot_set(plan, err);
    }
    if (rc == 0) {
        check_libraries(plan, params, res);
        tally_packages(plan, res);
    }
    for (int z = 0; z < ZIP_KINDS; z++)
        for (int s = 0; s <= SP_MAX_ABIS; s++)
            free(lay.out[z][s].v);
    return rc;
}

void pack_plan_release(struct pack_plan *plan)
{
    for (size_t i = 0; i < plan->outputs.n; i++)
        SP_FREE_ALL(plan->outputs.v[i].rel, plan->outputs.v[i].entries.v);
    free(plan->outputs.v);
    sp_strv_release(&plan->dirnames);
    memset(plan, 0, sizeof *plan);
}
