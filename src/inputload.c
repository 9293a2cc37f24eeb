#define _GNU_SOURCE
#include "sppack/inputload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "sppack/alloc.h"
#include "sppack/classify.h"
#include "sppack/file.h"
#include "sppack/parallel.h"
#include "sppack/platform.h"

/* Files up to this size are read into a scratch buffer and shared by
 * content; larger ones get their own copy. */
#define SMALL_FILE (64u << 10)
/* Distinct small contents are packed into chunks of this size. */
#define CHUNK (4u << 20)

/* One distinct small content, for sharing its bytes. */
struct content {
    uint64_t hash;
    size_t size;
    unsigned char *data; /* NULL: free slot */
};

struct sp_loader {
    size_t ntrees;
    sp_blob **blobs; /* [tree][file] */
    size_t *counts;  /* files per tree */

    /* Distinct small contents: an open-addressing table, and the chunks
     * their bytes live in. Both under lock. */
    pthread_mutex_t lock;
    struct content *table;
    size_t table_mask;
    unsigned char **chunks;
    size_t nchunks, chunks_cap;
};

/* One file to load. */
struct item {
    const sp_tree_file *file;
    int root_fd; /* its tree's root, or -1 to open the full path */
    sp_blob *out;
};

struct job {
    sp_loader *l;
    struct item *items;
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
    size_t total;
    int inspect;            /* inspect ELF libraries */
    struct worker *workers; /* one per thread, indexed by worker number */
};

/* A thread's reusable buffers. */
struct worker {
    struct job *job;
    unsigned char *scratch; /* SMALL_FILE + 1 bytes */
    unsigned char *chunk;   /* where the next distinct content goes */
    size_t chunk_left;
};

static unsigned char *keep_chunk(sp_loader *l, size_t size)
{
    unsigned char *c = sp_xmalloc(size);
    pthread_mutex_lock(&l->lock);
    if (l->nchunks == l->chunks_cap) {
        l->chunks_cap = l->chunks_cap ? l->chunks_cap * 2 : 16;
        l->chunks = sp_xrealloc(l->chunks, l->chunks_cap * sizeof *l->chunks);
    }
    l->chunks[l->nchunks++] = c;
    pthread_mutex_unlock(&l->lock);
    return c;
}

static unsigned char *worker_alloc(struct worker *w, size_t size)
{
    if (size > w->chunk_left) {
        w->chunk = keep_chunk(w->job->l, CHUNK);
        w->chunk_left = CHUNK;
    }
    unsigned char *p = w->chunk;
    w->chunk += size;
    w->chunk_left -= size;
    return p;
}

static struct content *find_slot(sp_loader *l, uint64_t hash, size_t size)
{
    for (size_t i = (size_t)hash & l->table_mask;; i = (i + 1) & l->table_mask) {
        struct content *c = &l->table[i];
        if (!c->data || (c->hash == hash && c->size == size))
            return c;
    }
}

/* The shared copy of these bytes, made if there is none yet. */
static unsigned char *intern(struct worker *w, const unsigned char *bytes, size_t size,
                             uint64_t hash)
{
    sp_loader *l = w->job->l;
    pthread_mutex_lock(&l->lock);
    struct content *c = find_slot(l, hash, size);
    unsigned char *known = c->data;
    pthread_mutex_unlock(&l->lock);
    /* Stored contents never change, so they are compared unlocked. */
    if (known && memcmp(known, bytes, size) == 0)
        return known;
    unsigned char *copy = worker_alloc(w, size ? size : 1);
    memcpy(copy, bytes, size);
    if (!known) {
        pthread_mutex_lock(&l->lock);
        c = find_slot(l, hash, size);
        if (!c->data) {
            c->hash = hash;
            c->size = size;
            c->data = copy;
        }
        known = c->data;
        pthread_mutex_unlock(&l->lock);
        /* Another thread may have stored the same bytes meanwhile: use
         * theirs (this copy's space is lost, nothing else). */
        if (known != copy && memcmp(known, bytes, size) == 0)
            return known;
    }
    return copy;
}

/* Reads a file the walk saw `expected` bytes in, asking for one byte more:
 * into the scratch buffer when it is small (its bytes then shared, see
 * intern), else mapped, or into its own heap copy where no view is to be
 * had. A file that changed meanwhile shows in the stat after the read
 * (load_item); the byte more catches one whose stat understates what it
 * holds (stale attributes of a network or FUSE file system), which would
 * otherwise be packed cut short. */
static void read_file(struct worker *w, int fd, const sp_tree_file *f, sp_blob *b)
{
    size_t expected = (size_t)f->size;
    int small = expected <= SMALL_FILE;
    unsigned char *view = small ? NULL : sp_view_map(fd, expected, f->path);
    if (view) {
        b->data = view;
        b->size = expected;
        b->hash = XXH3_64bits(view, expected);
        b->owned = 2;
        b->file = f;
        return;
    }
    unsigned char *buf = small ? w->scratch : sp_xmalloc(expected + 1);
    ssize_t r = sp_read_up_to(fd, buf, expected + 1);
    if (r < 0 || (size_t)r != expected) {
        if (r < 0)
            b->error = errno;
        else
            b->changed = 1;
        if (!small)
            free(buf);
        return;
    }
    b->size = expected;
    b->hash = XXH3_64bits(buf, expected);
    if (small) {
        b->data = intern(w, buf, expected, b->hash);
    } else {
        b->data = buf;
        b->owned = 1;
    }
}

static int named_like_library(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    char *stem = NULL;
    enum sp_so_name kind = sp_classify_so_name(slash ? slash + 1 : rel, &stem, NULL);
    free(stem);
    return kind != SP_SO_NONE;
}

/* Inspects an ELF library's bytes (a private copy: libelf may convert
 * headers in place). */
static void inspect(const sp_tree_file *f, unsigned char *bytes, size_t size, sp_blob *b)
{
    b->elf_checked = 1;
    b->elf = sp_xcalloc(1, sizeof *b->elf);
    sp_error err;
    sp_error_init(&err);
    if (sp_elf_inspect(bytes, size, f->path, b->elf, &err) != 0) {
        sp_elf_info_release(b->elf);
        free(b->elf);
        b->elf = NULL;
        b->elf_error = sp_xmalloc(sizeof *b->elf_error);
        *b->elf_error = err;
    }
}

static void load_item(struct worker *w, const struct item *it)
{
    sp_blob *b = it->out;
    memset(b, 0, sizeof *b);
    /* Non-blocking: a FIFO put where the walk saw a file must not hang. */
    int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    int fd =
        it->root_fd >= 0 ? openat(it->root_fd, it->file->rel, flags) : open(it->file->path, flags);
    if (fd < 0) {
        b->error = errno;
        return;
    }
    /* The file read is the one the walk listed (whatever its path leads to
     * now: a link swapped since could lead out of the tree), unchanged
     * before and after the read: what is hashed, checked and shipped is
     * one version of it. */
    struct stat st;
    if (fstat(fd, &st) != 0)
        b->error = errno;
    else if (!sp_tree_file_same(it->file, &st))
        b->changed = 1;
    else
        read_file(w, fd, it->file, b);
    if (!b->error && !b->changed && (fstat(fd, &st) != 0 || !sp_tree_file_same(it->file, &st)))
        b->changed = 1;
    close(fd);
    if (b->error || b->changed)
        return;
    if (w->job->inspect && named_like_library(it->file->rel) && sp_elf_is_elf(b->data, b->size)) {
        /* libelf may convert headers in place on a host of the other byte
         * order: it gets a copy of its own (the scratch buffer when the
         * file fitted there, the shared copy must not change). */
        unsigned char *own = b->owned ? b->data : w->scratch;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        unsigned char *copy = NULL;
        if (b->owned)
            own = copy = memcpy(sp_xmalloc(b->size), b->data, b->size);
        inspect(it->file, own, b->size, b);
        free(copy);
#else
        inspect(it->file, own, b->size, b);
#endif
    }
}

static void load_one(void *ctx, int worker, size_t i)
{
    struct job *j = ctx;
    struct worker *w = &j->workers[worker];
    if (!w->scratch)
        w->scratch = sp_xmalloc(SMALL_FILE + 1);
    load_item(w, &j->items[i]);
    /* Progress from the calling thread only (worker 0 is the caller). */
    if (worker == 0 && j->progress && i % 64 == 0)
        j->progress(j->progress_ctx, i, j->total);
}

int sp_load_trees(const sp_load_tree *trees, size_t ntrees, int jobs, int inspect_libraries,
                  void (*progress)(void *ctx, size_t done, size_t total), void *progress_ctx,
                  sp_loader **out, sp_error *err)
{
    sp_loader *l = sp_xcalloc(1, sizeof *l);
    *out = l;
    l->ntrees = ntrees;
    l->blobs = sp_xcalloc(ntrees, sizeof *l->blobs);
    l->counts = sp_xcalloc(ntrees, sizeof *l->counts);
    pthread_mutex_init(&l->lock, NULL);

    size_t n = 0;
    for (size_t t = 0; t < ntrees; t++)
        if (trees[t].tree) {
            l->counts[t] = trees[t].tree->n;
            l->blobs[t] = sp_xcalloc(l->counts[t], sizeof **l->blobs);
            n += l->counts[t];
        }
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    l->table = sp_xcalloc(cap, sizeof *l->table);
    l->table_mask = cap - 1;

    struct worker workers[SP_MAX_THREADS];
    memset(workers, 0, sizeof workers);
    struct job j = {
        l, sp_xcalloc(n, sizeof *j.items), progress, progress_ctx, n, inspect_libraries, workers};
    for (int i = 0; i < SP_MAX_THREADS; i++)
        workers[i].job = &j;
    int *root_fds = sp_xcalloc(ntrees, sizeof *root_fds);
    size_t k = 0;
    for (size_t t = 0; t < ntrees; t++) {
        root_fds[t] = -1;
        if (!trees[t].tree)
            continue;
        /* Files are opened relative to their root: a short path lookup. */
        root_fds[t] = trees[t].root ? sp_open_path(trees[t].root) : -1;
        for (size_t i = 0; i < trees[t].tree->n; i++, k++)
            j.items[k] = (struct item){&trees[t].tree->files[i], root_fds[t], &l->blobs[t][i]};
    }
    sp_parallel_for(n, jobs, load_one, &j);
    if (progress && n)
        progress(progress_ctx, n, n);
    for (int i = 0; i < SP_MAX_THREADS; i++)
        free(workers[i].scratch);

    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (j.items[i].out->error)
            rc = sp_error_set(err, SP_EIO, j.items[i].file->path, "cannot read: %s",
                              strerror(j.items[i].out->error));
        else if (j.items[i].out->changed)
            rc = sp_error_set(err, SP_EIO, j.items[i].file->path,
                              "changed while sp-pack was reading it (inputs must stay as they "
                              "are during a run)");
    for (size_t t = 0; t < ntrees; t++)
        if (root_fds[t] >= 0)
            close(root_fds[t]);
    SP_FREE_ALL(root_fds, j.items);
    /* The table only served sharing while loading. */
    free(l->table);
    l->table = NULL;
    return rc;
}

const sp_blob *sp_loader_blobs(const sp_loader *l, size_t t)
{
    return t < l->ntrees ? l->blobs[t] : NULL;
}

int sp_loader_unchanged(const sp_loader *l, sp_error *err)
{
    for (size_t t = 0; t < l->ntrees; t++) {
        for (size_t i = 0; l->blobs[t] && i < l->counts[t]; i++) {
            const sp_blob *b = &l->blobs[t][i];
            struct stat st;
            if (b->owned == 2 &&
                (stat(b->file->path, &st) != 0 || !sp_tree_file_same(b->file, &st)))
                return sp_error_set(err, SP_EIO, b->file->path,
                                    "changed while sp-pack was reading it (inputs must stay as "
                                    "they are during a run)");
        }
    }
    return 0;
}

void sp_loader_free(sp_loader *l)
{
    if (!l)
        return;
    for (size_t t = 0; t < l->ntrees; t++) {
        for (size_t i = 0; l->blobs[t] && i < l->counts[t]; i++) {
            sp_blob *b = &l->blobs[t][i];
            if (b->owned == 1)
                free(b->data);
            else if (b->owned == 2)
                sp_view_unmap(b->data, b->size);
            if (b->elf)
                sp_elf_info_release(b->elf);
            SP_FREE_ALL(b->elf, b->elf_error);
        }
        free(l->blobs[t]);
    }
    for (size_t i = 0; i < l->nchunks; i++)
        free(l->chunks[i]);
    SP_FREE_ALL(l->chunks, l->table, l->blobs, l->counts);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
