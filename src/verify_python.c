/* verify's Python layer (the P checks): the Python zips under assets/ and
 * their .soref markers, held against the libraries under lib/<abi>/. The
 * zips are read with the project's own zip reader, as ls reads them. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/bootstrap.h"
#include "sppack/mangle.h"
#include "verify_internal.h"

#define MARKER_MAX 4096

static void add_marker(struct vctx *c, const char *label, const char *path, const char *content,
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
    struct vmarker m = {sp_xstrdup(label), sp_xstrdup(name), sp_xstrndup(content, n)};
    SP_VEC_PUSH(c->markers, m);
    free(p);
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_python_zip(const char *path)
{
    size_t n = strlen(path);
    return !strncmp(path, "assets/", 7) && !strchr(path + 7, '/') && n > 11 &&
           !strcmp(path + n - 4, ".zip");
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* P008: a directory entry for every directory. */
static void check_directory_entries(struct vctx *c, const struct vitem *it, sp_strv *names)
{
    sp_strv_sort(names);
    sp_strv missing;
    sp_strv_init(&missing);
    for (size_t i = 0; i < names->n; i++) {
        const char *name = names->v[i];
        for (const char *s = strchr(name, '/'); s && s[1]; s = strchr(s + 1, '/')) {
            char *dir = sp_xstrndup(name, (size_t)(s - name + 1));
            if (!bsearch(&dir, names->v, names->n, sizeof *names->v, cmp_strp) &&
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
}

static void python_zip(struct vctx *c, struct vitem *it)
{
    if (it->zip && it->e->method != 0)
        sp_report_add(c->r, c->f, "P012", it->label, NULL,
                      "compressed in the archive (method %u): it cannot be read in place",
                      it->e->method);
    struct vbytes b;
    if (vctx_item_open(c, it, &b) != 0)
        return;
    sp_zip z;
    memset(&z, 0, sizeof z);
    sp_error err;
    if (sp_zip_open_buffer(&z, b.data, b.n, it->label, NULL, NULL, &err) != 0) {
        const char *why = strchr(err.msg, ':') ? strchr(err.msg, ':') + 2 : err.msg;
        sp_report_add(c->r, c->f, "Z001", it->label, NULL, "not a zip that can be read: %s", why);
        sp_zip_close(&z);
        vctx_item_close(c, &b);
        return;
    }
    sp_strv names;
    sp_strv_init(&names);
    size_t compressed = 0;
    int has_bootstrap = 0;
    sp_buf content;
    sp_buf_init(&content);
    for (size_t i = 0; i < z.n; i++) {
        const sp_zip_entry *e = &z.entries[i];
        sp_strv_push(&names, e->name);
        compressed += e->method != 0;
        has_bootstrap |= !strcmp(e->name, SP_BOOTSTRAP_NAME);
        if (e->shared) {
            char *label = sp_xasprintf("%s!/%s", it->label, e->name);
            verify_zip_shared(c, e, label);
            free(label);
        }
        if (!ends_with(e->name, ".soref"))
            continue;
        char *label = sp_xasprintf("%s!/%s", it->label, e->name);
        if (sp_zip_read_entry(&z, e, MARKER_MAX - 1, &content, &err) != 0)
            sp_report_add(c->r, c->f, "P009", label, NULL, "marker cannot be read");
        else
            add_marker(c, label, e->name, content.data, content.len);
        free(label);
    }
    sp_buf_release(&content);
    if (compressed)
        sp_report_add(c->r, c->f, "P004", it->label, NULL,
                      "%zu of %zu entries compressed: zipimport needs zlib for them", compressed,
                      z.n);
    if (!strcmp(it->path + 7, "stdlib.zip") && !has_bootstrap)
        sp_report_add(c->r, c->f, "P005", it->label, NULL,
                      "no " SP_BOOTSTRAP_NAME " at its root: markers cannot be resolved");
    check_directory_entries(c, it, &names);
    sp_strv_release(&names);
    sp_zip_close(&z);
    vctx_item_close(c, &b);
}

static const struct vlib *find_lib(const struct vctx *c, int abi, const char *name)
{
    for (size_t i = 0; i < c->libs.n; i++)
        if (c->libs.v[i].abi == abi && !strcmp(c->libs.v[i].base, name))
            return &c->libs.v[i];
    return NULL;
}

/* ---- the boot set: what CPython reads from the APK before the finder ---------------------- */

static const char *const boot_modules[] = SP_BOOT_MODULES;

/* Whether an App Bundle's BundleConfig keeps path stored (bundletool's
 * globs: "*" and "**" as fnmatch without FNM_PATHNAME reads them). */
static int kept_stored(const struct vctx *c, const char *path)
{
    for (size_t i = 0; i < c->uncompressed.n; i++)
        if (fnmatch(c->uncompressed.v[i], path, 0) == 0)
            return 1;
    return 0;
}

/* P014: the boot set's bytes are stdlib.zip's (std: stdlib.zip, open). */
static void compare_with_stdlib(struct vctx *c, const struct vitem *std, const sp_zip *z,
                                struct vitem *it, const char *name)
{
    struct vbytes mine;
    if (vctx_item_open(c, it, &mine) != 0)
        return;
    const sp_zip_entry *e = sp_zip_find(z, name);
    size_t room = c->held < VERIFY_HELD_MAX ? VERIFY_HELD_MAX - c->held : 0;
    sp_error err;
    sp_buf b;
    sp_buf_init(&b);
    if (e &&
        sp_zip_read_entry(z, e, room < ((size_t)1 << 26) ? room : (size_t)1 << 26, &b, &err) == 0 &&
        (b.len != mine.n || (mine.n && memcmp(b.data, mine.data, mine.n) != 0)))
        sp_report_add(c->r, c->f, "P014", it->label, NULL, "differs from %s!/%s", std->label, name);
    sp_buf_release(&b);
    vctx_item_close(c, &mine);
}

static void boot_set(struct vctx *c)
{
    struct vitem *std = vctx_find(c, "assets/stdlib.zip", 0);
    if (!std)
        return;
    /* stdlib.zip opened once for every comparison. */
    struct vbytes sb;
    sp_zip z;
    memset(&z, 0, sizeof z);
    sp_error err;
    int have_std = vctx_item_open(c, std, &sb) == 0;
    if (have_std && sp_zip_open_buffer(&z, sb.data, sb.n, std->label, NULL, NULL, &err) != 0) {
        sp_zip_close(&z);
        vctx_item_close(c, &sb);
        have_std = 0;
    }
    for (const char *const *m = boot_modules; *m; m++) {
        char *py = sp_xasprintf("assets/python/%s.py", *m);
        char *pyc = sp_xasprintf("assets/python/%s.pyc", *m);
        struct vitem *it = vctx_find(c, pyc, 0);
        if (!it)
            it = vctx_find(c, py, 0);
        if (!it)
            sp_report_add(c->r, c->f, "P010", "assets/python/", NULL,
                          "no %s.py or .pyc: CPython cannot start from the APK in place", *m);
        else if (have_std)
            compare_with_stdlib(c, std, &z, it, it->path + strlen("assets/python/"));
        SP_FREE_ALL(py, pyc);
    }
    if (have_std) {
        sp_zip_close(&z);
        vctx_item_close(c, &sb);
    }
    for (size_t i = 0; i < c->items.n; i++) {
        const struct vitem *it = &c->items.v[i];
        if (strncmp(it->path, "assets/python/", 14) != 0 || !it->zip)
            continue;
        if (it->e->method != 0)
            sp_report_add(c->r, c->f, "P011", it->label, NULL,
                          "compressed (method %u): CPython reads the boot set with zipimport "
                          "before zlib can load",
                          it->e->method);
    }
    if (!c->bundle)
        return;
    int boot = 0;
    for (size_t i = 0; i < c->items.n; i++) {
        const struct vitem *it = &c->items.v[i];
        int is_boot = !strncmp(it->path, "assets/python/", 14);
        if ((is_python_zip(it->path) || (is_boot && !boot)) && !kept_stored(c, it->path)) {
            sp_report_add(c->r, c->f, "P013", is_boot ? "assets/python/" : it->label, NULL,
                          "bundletool will deflate %s: no uncompressed_glob matches it",
                          is_boot ? "the boot set" : it->path);
            boot |= is_boot;
        }
    }
}

void verify_python_layer(struct vctx *c)
{
    int any_zip = 0;
    for (size_t i = 0; i < c->items.n; i++)
        if (is_python_zip(c->items.v[i].path)) {
            python_zip(c, &c->items.v[i]);
            any_zip = 1;
        }
    if (!any_zip)
        return;
    boot_set(c);
    /* Markers: a valid library name, present and exporting PyInit_ in every ABI.
     * A marker repeated in overlays is judged once. */
    sp_strv seen, named;
    sp_strv_init(&seen);
    sp_strv_init(&named);
    for (size_t m = 0; m < c->markers.n; m++) {
        const struct vmarker *mk = &c->markers.v[m];
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
            const char *abi = c->abis[a]->name;
            const struct vlib *l = find_lib(c, a, mk->lib);
            if (!l)
                sp_report_add(c->r, c->f, "P001", mk->label, abi, "names %s, missing in lib/%s/",
                              mk->lib, abi);
            else if (l->inspected && !sp_elf_exports_pyinit(&l->info, mk->module_name))
                sp_report_add(c->r, c->f, "P003", c->items.v[l->item].label, abi,
                              "does not export PyInit_%s, which %s needs", mk->module_name,
                              mk->label);
        }
    }
    /* Module libraries (exporting PyInit_) that no marker names. */
    if (c->markers.n) {
        for (size_t i = 0; i < c->libs.n; i++) {
            const struct vlib *l = &c->libs.v[i];
            if (!l->inspected || !l->info.pyinit.n || sp_strv_contains(&named, l->base))
                continue;
            const char *label = c->items.v[l->item].label, *abi = c->abis[l->abi]->name;
            sp_report_add(c->r, c->f, "P002", label, abi, "exports %s but no marker names it",
                          l->info.pyinit.v[0]);
            int everywhere = 1;
            for (int a = 0; a < c->nabis; a++)
                everywhere &= find_lib(c, a, l->base) != NULL;
            if (!everywhere)
                sp_report_add(c->r, c->f, "P006", label, abi,
                              "extension module library not shipped for every ABI");
        }
    }
    sp_strv_release(&seen);
    sp_strv_release(&named);
}
