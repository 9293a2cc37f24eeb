#include "sppack/archive.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/vec.h"

const char *sp_archive_kind_name(enum sp_archive_kind kind)
{
    static const char *const names[] = {"zip", "apk", "apks", "aab"};
    return names[kind];
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Forwards a zip's lenient-parse issues with the prefix of that zip. */
struct issue_ctx {
    const sp_archive_hooks *hooks;
    const char *prefix;
};

static void forward_issue(void *vc, enum sp_zip_problem problem, const char *entry, const char *msg)
{
    struct issue_ctx *c = vc;
    c->hooks->issue(c->hooks->ctx, c->prefix, problem, entry, msg);
}

static int open_zip(sp_zip *z, const unsigned char *data, size_t size, const char *label,
                    const sp_archive_hooks *hooks, const char *prefix, sp_error *err)
{
    struct issue_ctx ic = {hooks, prefix};
    int lenient = hooks && hooks->issue;
    return sp_zip_open_buffer(z, data, size, label, lenient ? forward_issue : NULL, &ic, err);
}

static void add_entries(sp_archive *a, const sp_zip *z, const char *prefix, int bundle, size_t *cap)
{
    for (size_t i = 0; i < z->n; i++) {
        const sp_zip_entry *e = &z->entries[i];
        const char *path = e->name;
        if (bundle) {
            const char *slash = strchr(path, '/');
            if (!slash)
                continue; /* BundleConfig.pb and other bundle-level files */
            path = slash + 1;
        }
        if (a->n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            a->entries = sp_xrealloc(a->entries, *cap * sizeof *a->entries);
        }
        a->entries[a->n++] = (sp_archive_entry){z, e, path, sp_xasprintf("%s%s", prefix, e->name)};
    }
}

/* Tells what the open zip a->zip is, and lists its entries (opening the
 * APKs of a set). */
static void classify(sp_archive *a, const sp_archive_hooks *hooks, size_t member_max)
{
    const sp_zip *z = &a->zip;
    int bundle = sp_zip_find(z, "BundleConfig.pb") != NULL, set = 0;
    for (size_t i = 0; i < z->n && !bundle; i++)
        set |= z->entries[i].valid && ends_with(z->entries[i].name, ".apk");
    a->kind = bundle                                  ? SP_ARCHIVE_AAB
              : set                                   ? SP_ARCHIVE_APKS
              : sp_zip_find(z, "AndroidManifest.xml") ? SP_ARCHIVE_APK
                                                      : SP_ARCHIVE_ZIP;
    size_t cap = 0;
    if (a->kind != SP_ARCHIVE_APKS) {
        add_entries(a, z, "", bundle, &cap);
        return;
    }
    /* Every member APK, in place or inflated (bounded), opened in turn. */
    for (size_t i = 0; i < z->n; i++) {
        const sp_zip_entry *e = &z->entries[i];
        if (!e->valid || !ends_with(e->name, ".apk"))
            continue;
        a->members = sp_xrealloc(a->members, (a->nmembers + 1) * sizeof *a->members);
        sp_archive_member *m = &a->members[a->nmembers];
        memset(m, 0, sizeof *m);
        m->e = e;
        m->prefix = sp_xasprintf("%s!/", e->name);
        sp_buf_init(&m->bytes);
        sp_error merr;
        sp_error_init(&merr);
        enum sp_zip_problem why = SP_ZIP_TRUNCATED;
        int rc = 0;
        if (e->shared) {
            why = SP_ZIP_SHARED;
            rc = sp_error_set(&merr, SP_EINPUT, e->name,
                              "shares its compressed data with another entry: a zip bomb");
        } else if (e->method != 0 && e->usize > member_max - a->held) {
            why = SP_ZIP_OVER_BOUND;
            rc = sp_error_set(&merr, SP_EINPUT, e->name,
                              "not inflated: its %u bytes and the set's other members would be "
                              "more than the %zu MiB held at once",
                              e->usize, member_max >> 20);
        } else {
            size_t max = e->method == 0 ? SIZE_MAX : member_max - a->held;
            rc = sp_zip_entry_bytes(z, e, max, &m->bytes, &m->data, &m->size, &merr);
        }
        if (rc == 0) {
            rc = open_zip(&m->zip, m->data, m->size, e->name, hooks, m->prefix, &merr);
            why = m->zip.fatal;
        }
        if (rc != 0) {
            if (hooks && hooks->member_failed)
                hooks->member_failed(hooks->ctx, e->name, why, merr.msg);
            sp_zip_close(&m->zip);
            sp_buf_release(&m->bytes);
            free(m->prefix);
            continue;
        }
        a->held += m->bytes.len;
        a->nmembers++;
    }
    for (size_t i = 0; i < a->nmembers; i++)
        add_entries(a, &a->members[i].zip, a->members[i].prefix, 0, &cap);
}

int sp_archive_open_buffer(sp_archive *a, const unsigned char *data, size_t size, const char *label,
                           const sp_archive_hooks *hooks, size_t member_max, sp_error *err)
{
    memset(a, 0, sizeof *a);
    if (open_zip(&a->zip, data, size, label, hooks, "", err) != 0)
        return -1;
    classify(a, hooks, member_max);
    return 0;
}

int sp_archive_open(sp_archive *a, const char *path, const sp_archive_hooks *hooks,
                    size_t member_max, sp_error *err)
{
    memset(a, 0, sizeof *a);
    if (sp_zip_open(&a->zip, path, err) != 0)
        return -1;
    classify(a, hooks, member_max);
    return 0;
}

void sp_archive_close(sp_archive *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->entries[i].label);
    free(a->entries);
    for (size_t i = 0; i < a->nmembers; i++) {
        sp_zip_close(&a->members[i].zip);
        sp_buf_release(&a->members[i].bytes);
        free(a->members[i].prefix);
    }
    free(a->members);
    sp_zip_close(&a->zip);
    memset(a, 0, sizeof *a);
}
