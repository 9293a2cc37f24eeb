#define _GNU_SOURCE
#include "sppack/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/parallel.h"
#include "sppack/platform.h"

/* The file: a header, the roots, the entries (each root's a contiguous
 * run), then the strings they point into (NUL-terminated). All integers in
 * this machine's byte order; the checksum is the xxh3 of the whole file
 * with the checksum field zero. */
#define SNAP_MAGIC "sp-snap\001"

struct snap_header {
    char magic[8];
    uint64_t key;
    uint64_t checksum;
    uint64_t nroots, nentries, strings_size;
};

struct snap_root {
    uint64_t path; /* offset into the strings */
    uint64_t first, count;
};

enum { SNAP_FILE = 0, SNAP_DIR = 1 };

struct snap_entry {
    uint64_t ino, size, mtime_ns, ctime_ns;
    uint64_t rel; /* offset into the strings; "" is the root itself */
    uint64_t kind;
};

uint64_t sp_snapshot_clock_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- saving --------------------------------------------------------------------------------- */

struct builder {
    sp_buf entries, strings;
    uint64_t nentries;
    uint64_t trusted_before; /* change times from here on are too recent */
    int recent;
};

static uint64_t add_string(struct builder *b, const char *s)
{
    uint64_t at = b->strings.len;
    sp_buf_add(&b->strings, s, strlen(s) + 1);
    return at;
}

static void add_entries(struct builder *b, const sp_tree_file *v, size_t n, int kind, int as_root)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].ctime_ns >= b->trusted_before)
            b->recent = 1;
        struct snap_entry e = {
            .ino = v[i].ino,
            .size = v[i].size, /* 0 for a directory (sp_tree) */
            .mtime_ns = v[i].mtime_ns,
            .ctime_ns = v[i].ctime_ns,
            .rel = add_string(b, as_root ? "" : v[i].rel),
            .kind = (uint64_t)kind,
        };
        sp_buf_add(&b->entries, &e, sizeof e);
        b->nentries++;
    }
}

int sp_snapshot_save(const char *path, uint64_t key, const sp_snapshot_root *roots, size_t n,
                     uint64_t walk_start_ns)
{
    struct builder b = {0};
    b.trusted_before =
        walk_start_ns > SP_SNAPSHOT_RECENT_NS ? walk_start_ns - SP_SNAPSHOT_RECENT_NS : 0;
    sp_buf head;
    sp_buf_init(&head);
    struct snap_header h;
    memset(&h, 0, sizeof h);
    sp_buf_add(&head, &h, sizeof h);
    for (size_t r = 0; r < n && !b.recent; r++) {
        struct snap_root sr = {add_string(&b, roots[r].path), b.nentries, 0};
        const sp_tree *t = roots[r].tree;
        if (roots[r].is_file) {
            add_entries(&b, t->files, t->n ? 1 : 0, SNAP_FILE, 1);
        } else {
            add_entries(&b, t->dirs, t->ndirs, SNAP_DIR, 0);
            add_entries(&b, t->files, t->n, SNAP_FILE, 0);
        }
        sr.count = b.nentries - sr.first;
        sp_buf_add(&head, &sr, sizeof sr);
    }
    int rc = b.recent ? 1 : 0;
    if (rc == 0) {
        memcpy(h.magic, SNAP_MAGIC, sizeof h.magic);
        h.key = key;
        h.nroots = n;
        h.nentries = b.nentries;
        h.strings_size = b.strings.len;
        memcpy(head.data, &h, sizeof h);
        sp_buf_add(&head, b.entries.data, b.entries.len);
        sp_buf_add(&head, b.strings.data, b.strings.len);
        h.checksum = XXH3_64bits(head.data, head.len);
        memcpy(head.data + offsetof(struct snap_header, checksum), &h.checksum, sizeof h.checksum);
        if (sp_write_file_atomic(path, head.data, head.len, NULL) != 0)
            rc = -1;
    }
    if (rc != 0)
        unlink(path);
    sp_buf_release(&head);
    sp_buf_release(&b.entries);
    sp_buf_release(&b.strings);
    return rc;
}

/* ---- checking ------------------------------------------------------------------------------- */

struct snap {
    const struct snap_header *h;
    const struct snap_root *roots;
    const struct snap_entry *entries;
    const char *strings;
};

/* Points s into the file's bytes when they are a whole, undamaged snapshot
 * with this key; 0 or -1. */
static int parse(unsigned char *data, size_t size, uint64_t key, struct snap *s)
{
    struct snap_header h;
    if (size < sizeof h)
        return -1;
    memcpy(&h, data, sizeof h);
    if (memcmp(h.magic, SNAP_MAGIC, sizeof h.magic) != 0 || h.key != key)
        return -1;
    size_t rest = size - sizeof h;
    if (h.nroots > rest / sizeof(struct snap_root))
        return -1;
    rest -= h.nroots * sizeof(struct snap_root);
    if (h.nentries > rest / sizeof(struct snap_entry))
        return -1;
    rest -= h.nentries * sizeof(struct snap_entry);
    if (h.strings_size != rest || rest == 0 || data[size - 1] != '\0')
        return -1;
    memset(data + offsetof(struct snap_header, checksum), 0, sizeof h.checksum);
    if (XXH3_64bits(data, size) != h.checksum)
        return -1;
    s->h = (const struct snap_header *)data;
    s->roots = (const struct snap_root *)(data + sizeof h);
    s->entries = (const struct snap_entry *)(s->roots + h.nroots);
    s->strings = (const char *)(s->entries + h.nentries);
    uint64_t next = 0;
    for (uint64_t r = 0; r < h.nroots; r++) {
        if (s->roots[r].path >= rest || s->roots[r].first != next ||
            s->roots[r].count > h.nentries - next)
            return -1;
        next += s->roots[r].count;
    }
    if (next != h.nentries)
        return -1;
    for (uint64_t i = 0; i < h.nentries; i++)
        if (s->entries[i].rel >= rest)
            return -1;
    return 0;
}

static int entry_unchanged(const struct snap_entry *e, const struct stat *st)
{
    if (e->kind == SNAP_DIR ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
        return 0;
    return e->ino == (uint64_t)st->st_ino && e->mtime_ns == sp_stat_mtime_ns(st) &&
           e->ctime_ns == sp_stat_ctime_ns(st) &&
           (e->kind == SNAP_DIR || e->size == (uint64_t)st->st_size);
}

/* The entries are checked in chunks of CHUNK, claimed by whichever thread
 * is free; the first difference stops the rest. */
#define CHUNK 256

struct check {
    const struct snap *s;
    int changed; /* set by whoever sees a difference first */
};

/* 0 when entries [from, to) are unchanged. */
static int check_chunk(const struct snap *s, uint64_t from, uint64_t to)
{
    uint64_t r = 0;
    int fd = -1, rc = 0;
    for (uint64_t i = from; i < to && rc == 0; i++) {
        if (fd < 0 || i == s->roots[r].first + s->roots[r].count) {
            while (i >= s->roots[r].first + s->roots[r].count)
                r++;
            if (fd >= 0)
                close(fd);
            /* Descriptors of its own: no reference count bounced between threads. */
            fd = sp_open_path(s->strings + s->roots[r].path);
            if (fd < 0)
                return -1;
        }
        const struct snap_entry *e = &s->entries[i];
        const char *rel = s->strings + e->rel;
        struct stat st;
        if ((*rel ? fstatat(fd, rel, &st, 0) : fstat(fd, &st)) != 0 || !entry_unchanged(e, &st))
            rc = -1;
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

static void check_one(void *ctx, int worker, size_t chunk)
{
    (void)worker;
    struct check *c = ctx;
    if (__atomic_load_n(&c->changed, __ATOMIC_RELAXED))
        return;
    uint64_t from = (uint64_t)chunk * CHUNK, total = c->s->h->nentries;
    if (check_chunk(c->s, from, from + CHUNK < total ? from + CHUNK : total) != 0)
        __atomic_store_n(&c->changed, 1, __ATOMIC_RELAXED);
}

/* Entries each thread stats at least: fewer are not worth a thread. */
#define ENTRIES_PER_THREAD 1024

int sp_snapshot_unchanged(const char *path, uint64_t key, const char *const *roots, size_t n,
                          int jobs)
{
    sp_map map;
    struct snap s;
    if (sp_map_view(&map, path, NULL) != 0)
        return 0;
    int ok = parse(map.data, map.size, key, &s) == 0 && s.h->nroots == n;
    for (size_t r = 0; ok && r < n; r++)
        ok = strcmp(s.strings + s.roots[r].path, roots[r]) == 0;
    if (ok) {
        uint64_t most = 1 + s.h->nentries / ENTRIES_PER_THREAD;
        if ((uint64_t)jobs > most)
            jobs = (int)most;
        struct check c = {&s, 0};
        sp_parallel_for((size_t)((s.h->nentries + CHUNK - 1) / CHUNK), jobs, check_one, &c);
        ok = !c.changed;
    }
    sp_map_close(&map);
    return ok;
}
