#define _GNU_SOURCE
#include "sppack/inputload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "sppack/alloc.h"
#include "sppack/classify.h"
#include "sppack/parallel.h"
#include "sppack/platform.h"

/* Files up to this size are read; larger ones are mapped. */
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

/* Reads the rest of fd after `got` bytes already in buf into the heap. */
static int read_rest(int fd, sp_blob *b, const unsigned char *buf, size_t got)
{
    size_t cap = got * 2 + 4096;
    unsigned char *heap = sp_xmalloc(cap);
    memcpy(heap, buf, got);
    for (;;) {
        if (got == cap) {
            cap *= 2;
            heap = sp_xrealloc(heap, cap);
        }
        ssize_t r = read(fd, heap + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(heap);
            return e;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    b->data = heap;
    b->size = got;
    b->owned = 1;
    return 0;
}

static void map_file(int fd, sp_blob *b)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        b->error = errno;
        return;
    }
    if (st.st_size == 0)
        return;
    /* Writable and private: libelf may want to adjust the image in place. */
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        b->error = errno;
        return;
    }
    b->data = m;
    b->size = (size_t)st.st_size;
    b->mapped = 1;
}

/* Reads a small file into the scratch buffer, asking for one byte more than
 * the walk saw so that a file grown since is noticed; a short read of a
 * regular file is its end, so this is usually one read. */
static void read_small(struct worker *w, int fd, size_t expected, sp_blob *b)
{
    size_t want = expected + 1;
    ssize_t r;
    do
        r = read(fd, w->scratch, want);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        b->error = errno;
        return;
    }
    size_t got = (size_t)r;
    if (got == want) {
        b->error = read_rest(fd, b, w->scratch, got);
        if (!b->error)
            b->hash = XXH3_64bits(b->data, b->size);
        return;
    }
    b->size = got;
    b->hash = XXH3_64bits(w->scratch, got);
    b->data = intern(w, w->scratch, got, b->hash);
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
    int fd = it->root_fd >= 0 ? openat(it->root_fd, it->file->rel, O_RDONLY | O_CLOEXEC)
                              : open(it->file->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        b->error = errno;
        return;
    }
    if (it->file->size <= SMALL_FILE) {
        read_small(w, fd, (size_t)it->file->size, b);
    } else {
        map_file(fd, b);
        if (!b->error)
            b->hash = XXH3_64bits(b->data, b->size);
    }
    /* The bytes in memory of this file's own, which libelf may change: the
     * scratch buffer (the shared copy must not change), the heap copy of a
     * file that outgrew its slot, or the private mapping. */
    unsigned char *own = b->mapped || b->owned ? b->data : w->scratch;
    if (!b->error && w->job->inspect && named_like_library(it->file->rel) &&
        sp_elf_is_elf(own, b->size)) {
        inspect(it->file, own, b->size, b);
        if (b->mapped) { /* copied by path later: unmapped now, on this thread */
            munmap(b->data, b->size);
            b->data = NULL;
            b->mapped = 0;
        }
    }
    close(fd);
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
        root_fds[t] = sp_open_path(trees[t].root);
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
    for (size_t t = 0; t < ntrees; t++)
        if (root_fds[t] >= 0)
            close(root_fds[t]);
    free(root_fds);
    free(j.items);
    /* The table only served sharing while loading. */
    free(l->table);
    l->table = NULL;
    return rc;
}

const sp_blob *sp_loader_blobs(const sp_loader *l, size_t t)
{
    return t < l->ntrees ? l->blobs[t] : NULL;
}

void sp_loader_free(sp_loader *l)
{
    if (!l)
        return;
    for (size_t t = 0; t < l->ntrees; t++) {
        for (size_t i = 0; l->blobs[t] && i < l->counts[t]; i++) {
            sp_blob *b = &l->blobs[t][i];
            if (b->mapped)
                munmap(b->data, b->size);
            else if (b->owned)
                free(b->data);
            if (b->elf)
                sp_elf_info_release(b->elf);
            free(b->elf);
            free(b->elf_error);
        }
        free(l->blobs[t]);
    }
    for (size_t i = 0; i < l->nchunks; i++)
        free(l->chunks[i]);
    free(l->chunks);
    free(l->table);
    free(l->blobs);
    free(l->counts);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
