/* The size report: see sppack/sizereport.h. */
#include "sppack/sizereport.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sppack/alloc.h"
#include "sppack/file.h"
#include "sppack/text.h"

/* Deflates into a scratch buffer that is thrown away: only the count matters. */
struct counter {
    z_stream z;
    unsigned char out[1 << 16];
    uint64_t total;
};

static void counter_init(struct counter *c)
{
    memset(&c->z, 0, sizeof c->z);
    c->total = 0;
    /* Raw deflate (no zlib header): what a zip entry holds. */
    if (deflateInit2(&c->z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort(); /* only out of memory */
}

static void counter_add(struct counter *c, const void *data, size_t size, int last)
{
    const unsigned char *p = data;
    do {
        /* zlib counts in uInt: feed at most 1 GiB at a time. */
        size_t n = size > (1u << 30) ? (1u << 30) : size;
        c->z.next_in = (unsigned char *)p;
        c->z.avail_in = (uInt)n;
        p += n;
        size -= n;
        int flush = last && size == 0 ? Z_FINISH : Z_NO_FLUSH;
        int rc;
        do {
            c->z.next_out = c->out;
            c->z.avail_out = sizeof c->out;
            rc = deflate(&c->z, flush);
            c->total += sizeof c->out - c->z.avail_out;
        } while (c->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    } while (size > 0);
}

static uint64_t counter_end(struct counter *c)
{
    deflateEnd(&c->z);
    return c->total;
}

uint64_t sp_deflated_size(const void *data, size_t size)
{
    struct counter *c = sp_xmalloc(sizeof *c);
    counter_init(c);
    counter_add(c, data, size, 1);
    uint64_t n = counter_end(c);
    free(c);
    return n;
}

int sp_deflated_size_file(const char *path, uint64_t *out, sp_error *err)
{
    sp_map m;
    if (sp_map_view(&m, path, err) != 0)
        return -1;
    *out = sp_deflated_size(m.data, m.size);
    sp_map_close(&m);
    return 0;
}

/* ---- packages ------------------------------------------------------------------------------- */

char *sp_top_level_name(const char *path)
{
    const char *slash = strchr(path, '/');
    if (slash)
        return slash == path ? NULL : sp_xstrndup(path, (size_t)(slash - path));
    size_t n = strlen(path);
    static const char *const suffixes[] = {".soref", ".pyc", ".py"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && !strcmp(path + n - k, suffixes[i])) {
            n -= k;
            break;
        }
    }
    return n ? sp_xstrndup(path, n) : NULL;
}

void sp_package_tally_init(sp_package_tally *t)
{
    memset(t, 0, sizeof *t);
}

void sp_package_tally_release(sp_package_tally *t)
{
    for (size_t i = 0; i < t->items.n; i++)
        free(t->items.v[i].name);
    free(t->items.v);
    sp_package_tally_init(t);
}

void sp_package_tally_add(sp_package_tally *t, const char *path, int abi, uint64_t bytes)
{
    char *name = sp_top_level_name(path);
    if (!name)
        return;
    struct sp_tally_item it = {name, abi, bytes};
    SP_VEC_PUSH(t->items, it);
}

static int cmp_item(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const struct sp_tally_item *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->abi - y->abi;
}

static int cmp_package(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const sp_size_package *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

size_t sp_package_tally_top(const sp_package_tally *t, int nabis, size_t top, sp_size_package **out)
{
    size_t n = t->items.n;
    struct sp_tally_item *items = sp_xcalloc(n ? n : 1, sizeof *items);
    if (n)
        memcpy(items, t->items.v, n * sizeof *items);
    sp_sort(items, n, sizeof *items, cmp_item, NULL);
    sp_size_package *all = sp_xcalloc(n ? n : 1, sizeof *all);
    size_t count = 0;
    uint64_t per_abi[64];
    for (size_t i = 0; i < n;) {
        uint64_t common = 0;
        memset(per_abi, 0, sizeof per_abi);
        size_t j = i;
        for (; j < n && !strcmp(items[j].name, items[i].name); j++) {
            if (items[j].abi < 0 || items[j].abi >= 64)
                common += items[j].bytes;
            else
                per_abi[items[j].abi] += items[j].bytes;
        }
        uint64_t most = 0;
        for (int a = 0; a < nabis && a < 64; a++)
            most = per_abi[a] > most ? per_abi[a] : most;
        all[count++] = (sp_size_package){items[i].name, common + most};
        i = j;
    }
    sp_sort(all, count, sizeof *all, cmp_package, NULL);
    size_t kept = count < top ? count : top;
    *out = sp_xcalloc(kept ? kept : 1, sizeof **out);
    for (size_t i = 0; i < kept; i++)
        (*out)[i] = (sp_size_package){sp_xstrdup(all[i].name), all[i].bytes};
    SP_FREE_ALL(all, items);
    return kept;
}

void sp_size_packages_free(sp_size_package *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        free(p[i].name);
    free(p);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

void sp_size_json(cJSON *doc, const char *const *abis, int nabis, const uint64_t *install,
                  const uint64_t *download)
{
    cJSON *size = cJSON_AddObjectToObject(doc, "size");
    for (int a = 0; a < nabis; a++) {
        char *key = sp_utf8_clean(abis[a]);
        cJSON *o = cJSON_AddObjectToObject(size, key);
        free(key);
        cJSON_AddNumberToObject(o, "install", (double)install[a]);
        cJSON_AddNumberToObject(o, "download", (double)download[a]);
    }
}

void sp_size_json_packages(cJSON *doc, const sp_size_package *p, size_t n)
{
    cJSON *list = cJSON_AddArrayToObject(doc, "packages");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        sp_json_add_text(o, "name", p[i].name);
        cJSON_AddNumberToObject(o, "bytes", (double)p[i].bytes);
        cJSON_AddItemToArray(list, o);
    }
}
