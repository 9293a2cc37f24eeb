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
    for (size_t i = 0; i < c->items.n; i++)
        SP_FREE_ALL(c->items.v[i].label, c->items.v[i].file, c->items.v[i].owned_path);
    free(c->items.v);
    for (size_t i = 0; i < c->libs.n; i++)
        if (c->libs.v[i].inspected)
            sp_elf_info_release(&c->libs.v[i].info);
    free(c->libs.v);
    for (size_t i = 0; i < c->markers.n; i++)
        SP_FREE_ALL(c->markers.v[i].label, c->markers.v[i].module_name, c->markers.v[i].lib);
    free(c->markers.v);
    sp_strv_release(&c->uncompressed);
}

struct vitem *vctx_find(struct vctx *c, const char *key, int by_label)
{
    for (size_t i = 0; i < c->items.n; i++) {
        struct vitem *it = &c->items.v[i];
        if (!strcmp(by_label ? it->label : it->path, key))
            return it;
    }
    return NULL;
}

int vctx_item_open(struct vctx *c, struct vitem *it, struct vbytes *b)
{
    memset(b, 0, sizeof *b);
    sp_buf_init(&b->buf);
    sp_error err;
    if (!it->zip) {
        if (sp_map_open(&b->map, it->file, &err) != 0)
            return -1;
        b->data = b->map.data;
        b->n = b->map.size;
        return 0;
    }
    const sp_zip_entry *e = it->e;
    if (!e->valid)
        return -1;
    if (e->shared)
        return -2; /* the zip layer reports it */
    if (e->method == 0 && e->csize == e->usize) {
        b->data = (unsigned char *)sp_zip_data(it->zip, e);
        b->n = e->csize;
        return 0;
    }
    size_t room = c->held < VERIFY_HELD_MAX ? VERIFY_HELD_MAX - c->held : 0;
    if (e->usize > room) {
        if (!it->refused)
            sp_report_add(c->r, c->f, "Z010", it->label, NULL,
                          "not inflated: its %u bytes would be more than the %zu MiB verify holds "
                          "at once (%zu MiB held)",
                          e->usize, (size_t)VERIFY_HELD_MAX >> 20, c->held >> 20);
        it->refused = 1;
        return -2;
    }
    if (sp_zip_read_entry(it->zip, e, room, &b->buf, &err) != 0) {
        sp_buf_release(&b->buf);
        if (err.status != SP_EIO)
            return -1;
        const char *why = err.msg; /* "NAME: why"; the finding names the entry */
        size_t k = strlen(e->name);
        if (!strncmp(why, e->name, k) && !strncmp(why + k, ": ", 2))
            why += k + 2;
        if (!it->refused) /* memory the system would not give */
            sp_report_add(c->r, c->f, "Z010", it->label, NULL, "not inflated: %s", why);
        it->refused = 1;
        return -2;
    }
    c->held += b->buf.len;
    b->data = (unsigned char *)b->buf.data;
    b->n = b->buf.len;
    return 0;
}

void vctx_item_close(struct vctx *c, struct vbytes *b)
{
    c->held -= b->buf.len;
    sp_buf_release(&b->buf);
    sp_map_close(&b->map);
    b->data = NULL;
    b->n = 0;
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
    if (problem == SP_ZIP_SHARED)
        return; /* the zip layer reports it (Z010) */
    size_t n = strlen(member);
    if (!strncmp(msg, member, n) && !strncmp(msg + n, ": ", 2))
        msg += n + 2; /* the finding names the member already */
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
    if (sp_archive_open_buffer(&a, data, size, label, &hooks, VERIFY_HELD_MAX, &aerr) != 0) {
        const char *msg = strchr(aerr.msg, ':') ? strchr(aerr.msg, ':') + 2 : aerr.msg;
        sp_report_add(report, c.f, verify_zip_problem_id(a.zip.fatal), NULL, NULL, "%s", msg);
        sp_archive_close(&a);
        vctx_release(&c);
        return 0;
    }
    c.held = a.held;
    c.f->kind = sp_archive_kind_name(a.kind);
    if (a.kind == SP_ARCHIVE_AAB)
        read_bundle_config(&c, &a.zip);
    verify_zip_layer(&c, &a.zip, "", a.kind != SP_ARCHIVE_APKS);
    if (o->deep)
        verify_zip_deep(&c, &a.zip, data, size, "");
    for (size_t i = 0; i < a.nmembers; i++) {
        const sp_archive_member *m = &a.members[i];
        verify_zip_layer(&c, &m->zip, m->prefix, 1);
        if (o->deep)
            verify_zip_deep(&c, &m->zip, m->data, m->size, m->prefix);
    }
    for (size_t i = 0; i < a.n; i++) {
        const sp_archive_entry *e = &a.entries[i];
        struct vitem it = {e->path, sp_xstrdup(e->label), e->zip, e->e, NULL, NULL, 0};
        SP_VEC_PUSH(c.items, it);
    }
    run_layers(&c);
    vctx_release(&c);
    sp_archive_close(&a);
    return 0;
}

/* ---- pack output directories ---------------------------------------------------------------- */

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
            struct vitem *it = vctx_find(c, o->path, 1);
            struct vbytes b;
            int opened = it && vctx_item_open(c, it, &b) == 0;
            char hex[17] = "";
            if (opened)
                sp_xxh3_hex(b.data, b.n, hex);
            if (!it)
                sp_report_add(c->r, c->f, "P015", o->path, NULL, "listed in %s, but missing",
                              SP_MANIFEST_NAME);
            else if (!opened)
                sp_report_add(c->r, c->f, "P015", o->path, NULL, "cannot be read");
            else if (b.n != o->size)
                sp_report_add(c->r, c->f, "P015", o->path, NULL, "%zu bytes; %s says %llu", b.n,
                              SP_MANIFEST_NAME, (unsigned long long)o->size);
            else if (strcmp(hex, o->xxh3) != 0)
                sp_report_add(c->r, c->f, "P015", o->path, NULL,
                              "content differs from what %s records (xxh3 %s, not %s)",
                              SP_MANIFEST_NAME, hex, o->xxh3);
            if (opened)
                vctx_item_close(c, &b);
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
        struct vitem *it = &c->items.v[i];
        size_t n = strlen(it->path);
        struct vbytes b;
        if (n < 4 || strcmp(it->path + n - 4, ".zip") != 0 || vctx_item_open(c, it, &b) != 0)
            continue;
        sp_zip z;
        memset(&z, 0, sizeof z);
        if (sp_zip_open_buffer(&z, b.data, b.n, it->label, NULL, NULL, NULL) == 0) {
            char *prefix = sp_xasprintf("%s!/", it->label);
            verify_zip_deep(c, &z, b.data, b.n, prefix);
            free(prefix);
        }
        sp_zip_close(&z);
        vctx_item_close(c, &b);
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
                                   name,
                                   0};
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
    if (sp_map_view(&m, path, err) != 0)
        return -1;
    static unsigned char empty[1];
    int rc = sp_verify_buffer(m.data ? m.data : empty, m.size, path, o, report, err);
    if (rc == 0)
        rc = sp_map_unchanged(&m, path, err);
    sp_map_close(&m);
    return rc;
}
