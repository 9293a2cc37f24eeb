/* verify: opens what is checked (an archive through the archive layer, or
 * a pack output directory), lists its entries as items, and runs the layers
 * in order: zip (verify_zip.c), libraries and ELF (verify_lib.c), Python
 * (verify_python.c). */
#include "sppack/verify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sppack/alloc.h"
#include "sppack/archive.h"
#include "sppack/bundlepb.h"
#include "sppack/hash.h"
#include "sppack/outdir.h"
#include "sppack/pack.h"
#include "sppack/path.h"
#include "sppack/treewalk.h"
#include "verify_internal.h"

static void vctx_init(struct vctx *c, const sp_verify_opts *o, sp_report *r, const char *label)
{
    memset(c, 0, sizeof *c);
    c->o = o;
    c->r = r;
    c->f = sp_report_add_file(r, label);
}

static void vctx_release(struct vctx *c)
{
    for (size_t i = 0; i < c->items.n; i++) {
        free(c->items.v[i].label);
        free(c->items.v[i].file);
        free(c->items.v[i].owned_path);
    }
    free(c->items.v);
    for (size_t i = 0; i < c->bufs.n; i++)
        sp_buf_release(&c->bufs.v[i]);
    free(c->bufs.v);
    for (size_t i = 0; i < c->maps.n; i++)
        sp_map_close(&c->maps.v[i]);
    free(c->maps.v);
    for (size_t i = 0; i < c->libs.n; i++)
        if (c->libs.v[i].inspected)
            sp_elf_info_release(&c->libs.v[i].info);
    free(c->libs.v);
    for (size_t i = 0; i < c->markers.n; i++) {
        free(c->markers.v[i].label);
        free(c->markers.v[i].module_name);
        free(c->markers.v[i].lib);
    }
    free(c->markers.v);
    sp_strv_release(&c->uncompressed);
}

unsigned char *vctx_item_bytes(struct vctx *c, const struct vitem *it, size_t *n)
{
    sp_error err;
    if (!it->zip) {
        SP_VEC_GROW(c->maps);
        if (sp_map_open(&c->maps.v[c->maps.n], it->file, &err) != 0)
            return NULL;
        *n = c->maps.v[c->maps.n].size;
        return c->maps.v[c->maps.n++].data;
    }
    if (!it->e->valid)
        return NULL;
    if (it->e->method == 0 && it->e->csize == it->e->usize) {
        *n = it->e->csize;
        return (unsigned char *)sp_zip_data(it->zip, it->e);
    }
    SP_VEC_GROW(c->bufs);
    sp_buf *b = &c->bufs.v[c->bufs.n++];
    sp_buf_init(b);
    if (sp_zip_read_entry(it->zip, it->e, VERIFY_NESTED_MAX, b, &err) != 0)
        return NULL;
    *n = b->len;
    return (unsigned char *)b->data;
}

static void run_layers(struct vctx *c)
{
    verify_lib_layer(c);
    verify_elf_layer(c);
    verify_python_layer(c);
}

/* An App Bundle's uncompressed globs (unreadable ones: none, which P013 then reports). */
static void read_bundle_config(struct vctx *c, const sp_zip *z)
{
    c->bundle = 1;
    const sp_zip_entry *e = sp_zip_find(z, "BundleConfig.pb");
    sp_buf b;
    sp_buf_init(&b);
    if (e && sp_zip_read_entry(z, e, (size_t)16 << 20, &b, NULL) == 0)
        sp_pb_uncompressed_globs((const unsigned char *)b.data, b.len, &c->uncompressed);
    sp_buf_release(&b);
}

/* ---- archives ------------------------------------------------------------------------------- */

static void on_issue(void *vc, const char *prefix, enum sp_zip_problem problem, const char *entry,
                     const char *msg)
{
    struct vctx *c = vc;
    char *label = entry ? sp_xasprintf("%s%s", prefix, entry) : NULL;
    sp_report_add(c->r, c->f, verify_zip_problem_id(problem),
                  label ? label : (*prefix ? prefix : NULL), NULL, "%s", msg);
    free(label);
}

static void on_member_failed(void *vc, const char *member, enum sp_zip_problem problem,
                             const char *msg)
{
    struct vctx *c = vc;
    sp_report_add(c->r, c->f, problem == SP_ZIP_TRUNCATED ? "Z001" : verify_zip_problem_id(problem),
                  member, NULL, "cannot be read: %s", msg);
}

int sp_verify_buffer(unsigned char *data, size_t size, const char *label, const sp_verify_opts *o,
                     sp_report *report, sp_error *err)
{
    (void)err;
    struct vctx c;
    vctx_init(&c, o, report, label);
    sp_archive a;
    sp_archive_hooks hooks = {&c, on_issue, on_member_failed};
    sp_error aerr;
    if (sp_archive_open_buffer(&a, data, size, label, &hooks, VERIFY_NESTED_MAX, &aerr) != 0) {
        const char *msg = strchr(aerr.msg, ':') ? strchr(aerr.msg, ':') + 2 : aerr.msg;
        sp_report_add(report, c.f, verify_zip_problem_id(a.zip.fatal), NULL, NULL, "%s", msg);
        sp_archive_close(&a);
        vctx_release(&c);
        return 0;
    }
    c.f->kind = sp_archive_kind_name(a.kind);
    if (a.kind == SP_ARCHIVE_AAB)
        read_bundle_config(&c, &a.zip);
    verify_zip_layer(&c, &a.zip, "", a.kind != SP_ARCHIVE_APKS);
    if (o->deep)
        verify_zip_deep(&c, data, size, "");
    for (size_t i = 0; i < a.nmembers; i++) {
        const sp_archive_member *m = &a.members[i];
        verify_zip_layer(&c, &m->zip, m->prefix, 1);
        if (o->deep)
            verify_zip_deep(&c, (const unsigned char *)m->bytes.data, m->bytes.len, m->prefix);
    }
    for (size_t i = 0; i < a.n; i++) {
        const sp_archive_entry *e = &a.entries[i];
        struct vitem it = {e->path, sp_xstrdup(e->label), e->zip, e->e, NULL, NULL};
        SP_VEC_PUSH(c.items, it);
    }
    run_layers(&c);
    vctx_release(&c);
    sp_archive_close(&a);
    return 0;
}

/* ---- pack output directories ---------------------------------------------------------------- */

static const struct vitem *find_label(const struct vctx *c, const char *label)
{
    for (size_t i = 0; i < c->items.n; i++)
        if (!strcmp(c->items.v[i].label, label))
            return &c->items.v[i];
    return NULL;
}

/* P015: the directory holds what its manifest lists, byte for byte, and
 * nothing else; a directory without one is not held to anything. */
static void check_manifest(struct vctx *c, const char *root)
{
    char *path = sp_path_join(root, SP_MANIFEST_NAME);
    sp_map m;
    int has = sp_map_open(&m, path, NULL) == 0;
    free(path);
    if (!has)
        return;
    sp_pack_result res;
    sp_pack_result_init(&res);
    if (sp_manifest_parse((const char *)m.data, m.size, &res) != 0) {
        sp_report_add(c->r, c->f, "P015", SP_MANIFEST_NAME, NULL, "cannot be read as a manifest");
    } else {
        for (size_t i = 0; i < res.outputs.n; i++) {
            const sp_pack_output *o = &res.outputs.v[i];
            const struct vitem *it = find_label(c, o->path);
            size_t n = 0;
            unsigned char *bytes = it ? vctx_item_bytes(c, it, &n) : NULL;
            char hex[17] = "";
            if (bytes)
                sp_xxh3_hex(bytes, n, hex);
            if (!it)
                sp_report_add(c->r, c->f, "P015", o->path, NULL, "listed in %s, but missing",
                              SP_MANIFEST_NAME);
            else if (!bytes)
                sp_report_add(c->r, c->f, "P015", o->path, NULL, "cannot be read");
            else if (n != o->size)
                sp_report_add(c->r, c->f, "P015", o->path, NULL, "%zu bytes; %s says %llu", n,
                              SP_MANIFEST_NAME, (unsigned long long)o->size);
            else if (strcmp(hex, o->xxh3) != 0)
                sp_report_add(c->r, c->f, "P015", o->path, NULL,
                              "content differs from what %s records (xxh3 %s, not %s)",
                              SP_MANIFEST_NAME, hex, o->xxh3);
        }
        for (size_t i = 0; i < c->items.n; i++) {
            int listed = 0;
            for (size_t k = 0; k < res.outputs.n && !listed; k++)
                listed = !strcmp(res.outputs.v[k].path, c->items.v[i].label);
            if (!listed)
                sp_report_add(c->r, c->f, "P015", c->items.v[i].label, NULL, "not listed in %s",
                              SP_MANIFEST_NAME);
        }
    }
    sp_pack_result_release(&res);
    sp_map_close(&m);
}

/* --deep: the zips of the directory read back whole, as in an archive. */
static void deep_zips(struct vctx *c)
{
    for (size_t i = 0; i < c->items.n; i++) {
        const struct vitem *it = &c->items.v[i];
        size_t n = strlen(it->path), len = 0;
        if (n < 4 || strcmp(it->path + n - 4, ".zip") != 0)
            continue;
        unsigned char *bytes = vctx_item_bytes(c, it, &len);
        if (!bytes)
            continue;
        char *prefix = sp_xasprintf("%s!/", it->label);
        verify_zip_deep(c, bytes, len, prefix);
        free(prefix);
    }
}

static int verify_dir(const char *path, const sp_verify_opts *o, sp_report *report, sp_error *err)
{
    struct vctx c;
    vctx_init(&c, o, report, path);
    c.f->kind = "dir";
    /* One generation of the directory, whatever a pack run switches meanwhile. */
    char *top = sp_outdir_current(path);
    static const struct {
        const char *sub, *prefix;
    } parts[] = {{"jniLibs", "lib/"}, {"assets", "assets/"}};
    int rc = 0, found = 0;
    for (size_t p = 0; p < 2 && rc == 0; p++) {
        char *root = sp_path_join(top, parts[p].sub);
        struct stat st;
        if (stat(root, &st) == 0 && S_ISDIR(st.st_mode)) {
            found = 1;
            sp_tree t;
            rc = sp_tree_walk(root, NULL, &t, err);
            for (size_t i = 0; i < t.n && rc == 0; i++) {
                char *name = sp_xasprintf("%s%s", parts[p].prefix, t.files[i].rel);
                struct vitem it = {name,
                                   sp_xasprintf("%s/%s", parts[p].sub, t.files[i].rel),
                                   NULL,
                                   NULL,
                                   sp_xstrdup(t.files[i].path),
                                   name};
                SP_VEC_PUSH(c.items, it);
            }
            sp_tree_release(&t);
        }
        free(root);
    }
    if (rc == 0 && !found)
        rc = sp_error_set(err, SP_EINPUT, path,
                          "a directory without jniLibs/ or assets/ is not a pack output");
    if (rc == 0) {
        check_manifest(&c, top);
        if (o->deep)
            deep_zips(&c);
        run_layers(&c);
    }
    vctx_release(&c);
    free(top);
    return rc;
}

int sp_verify_path(const char *path, const sp_verify_opts *o, sp_report *report, sp_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return sp_error_set(err, errno == ENOENT ? SP_EINPUT : SP_EIO, path, "%s", strerror(errno));
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
