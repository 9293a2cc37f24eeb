#define _GNU_SOURCE
#include "sppack/treewalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sp_tree_init(sp_tree *t)
{
    memset(t, 0, sizeof *t);
}

void sp_tree_release(sp_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->files[i].rel);
        free(t->files[i].path);
    }
    for (size_t i = 0; i < t->ndirs; i++)
        free(t->dirs[i].rel);
    free(t->files);
    free(t->dirs);
    sp_tree_init(t);
}

/* Whether the entry rel is excluded (see sp_walk_opts). Its parent
 * directories were checked when the walk entered them, so a glob without
 * "/" only needs the entry's own name. */
static int entry_excluded(const sp_strv *globs, const char *rel, const char *name)
{
    if (!globs)
        return 0;
    for (size_t i = 0; i < globs->n; i++) {
        const char *g = globs->v[i];
        if (fnmatch(g, strchr(g, '/') ? rel : name, 0) == 0)
            return 1;
    }
    return 0;
}

/* ---- the walk: directories are tasks on a shared stack, for any number of threads --------- */

/* A directory to read. */
struct dir_task {
    size_t root;    /* index into the roots walked */
    int fd;         /* already open (by its parent's task), or -1: open path */
    char *path;     /* root-joined */
    char *rel;      /* relative to the root, "" for the root */
    char *dir_real; /* canonical path, to catch links leading back to an ancestor */
};

/* A problem found, kept until the walk ends: the one reported for a root is
 * the first in path order, whatever the threads' timing. */
struct problem {
    size_t root;
    char *rel;
    sp_error err;
};

struct walker {
    sp_walk_root *roots;
    char **real_roots;
    size_t nroots;

    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct dir_task *stack; /* under lock */
    size_t nstack, stack_cap;
    size_t pending; /* tasks queued or being read; the walk ends at 0 */
    int open_fds;   /* directory descriptors held by queued tasks */
    struct problem *problems;
    size_t nproblems, problems_cap;
    struct walk_thread *threads; /* every thread's files, for the finishing */
    int nthreads;
    size_t next_root; /* next root to finish, claimed atomically */
};

/* Each thread's files, per root, merged when the walk ends. */
struct walk_thread {
    struct walker *w;
    sp_tree *parts;
};

/* Queued tasks may hold their directory open (one lookup less each), up to this many. */
#define MAX_HELD_FDS 64

static void push_task(struct walker *w, struct dir_task t)
{
    pthread_mutex_lock(&w->lock);
    if (w->nstack == w->stack_cap) {
        w->stack_cap = w->stack_cap ? w->stack_cap * 2 : 64;
        w->stack = sp_xrealloc(w->stack, w->stack_cap * sizeof *w->stack);
    }
    w->stack[w->nstack++] = t;
    w->pending++;
    if (t.fd >= 0)
        w->open_fds++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

static int may_hold_fd(struct walker *w)
{
    pthread_mutex_lock(&w->lock);
    int ok = w->open_fds < MAX_HELD_FDS;
    pthread_mutex_unlock(&w->lock);
    return ok;
}

static void add_problem(struct walker *w, size_t root, char *rel, sp_error *err)
{
    pthread_mutex_lock(&w->lock);
    if (w->nproblems == w->problems_cap) {
        w->problems_cap = w->problems_cap ? w->problems_cap * 2 : 8;
        w->problems = sp_xrealloc(w->problems, w->problems_cap * sizeof *w->problems);
    }
    w->problems[w->nproblems++] = (struct problem){root, rel, *err};
    pthread_mutex_unlock(&w->lock);
}

static void add_entry(sp_tree_file **v, size_t *n, size_t *cap, char *rel, char *path,
                      const struct stat *st)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        *v = sp_xrealloc(*v, *cap * sizeof **v);
    }
    sp_tree_file *f = &(*v)[(*n)++];
    f->rel = rel;
    f->path = path;
    f->size = (uint64_t)st->st_size;
    f->mtime_ns = sp_timespec_ns(&st->st_mtim);
    f->ctime_ns = sp_timespec_ns(&st->st_ctim);
    f->ino = (uint64_t)st->st_ino;
}

static int skip_dir(const sp_walk_opts *opts, const char *name, int top)
{
    if (!opts)
        return 0;
    if (!opts->keep_pycache && strcmp(name, "__pycache__") == 0)
        return 1;
    if (top && opts->skip_top)
        for (const char *const *s = opts->skip_top; *s; s++)
            if (strcmp(*s, name) == 0)
                return 1;
    return 0;
}

/* Looks at one entry of the directory t (open as dfd). Files go to out,
 * directories to the stack; 0, or -1 with err set. crel and cpath are
 * taken over. */
static int visit(struct walk_thread *th, const struct dir_task *t, int dfd, const char *name,
                 unsigned char d_type, char *crel, char *cpath, sp_error *err)
{
    struct walker *w = th->w;
    const sp_walk_opts *opts = w->roots[t->root].opts;
    struct stat st;
    int rc = 0;
    char *target_real = NULL;
    if (opts && entry_excluded(opts->excludes, crel, name))
        goto done;
    if (d_type == DT_DIR) {
        /* Nothing of a directory's own is recorded: no stat needed. */
        memset(&st, 0, sizeof st);
        st.st_mode = S_IFDIR;
    } else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        rc = sp_error_set(err, SP_EIO, cpath, "cannot read: %s", strerror(errno));
        goto done;
    }
    if (S_ISLNK(st.st_mode)) {
        target_real = realpath(cpath, NULL);
        if (!target_real) {
            if (errno == ENOENT || errno == ENOTDIR)
                rc = sp_error_set(err, SP_EINPUT, cpath, "dangling symlink (hint: --exclude '%s')",
                                  crel);
            else if (errno == ELOOP)
                rc = sp_error_set(err, SP_EINPUT, cpath, "symlink loop (hint: --exclude '%s')",
                                  crel);
            else
                rc =
                    sp_error_set(err, SP_EIO, cpath, "cannot resolve symlink: %s", strerror(errno));
            goto done;
        }
        if (!sp_path_is_within(target_real, w->real_roots[t->root])) {
            rc = sp_error_set(err, SP_EINPUT, cpath,
                              "symlink points outside the input tree, to %s "
                              "(hint: --exclude '%s')",
                              target_real, crel);
            goto done;
        }
        if (fstatat(dfd, name, &st, 0) != 0) {
            rc = sp_error_set(err, SP_EIO, cpath, "cannot read: %s", strerror(errno));
            goto done;
        }
    }
    if (S_ISDIR(st.st_mode)) {
        if (skip_dir(opts, name, t->rel[0] == '\0'))
            goto done;
        int is_link = target_real != NULL;
        char *real = is_link ? target_real : sp_path_join(t->dir_real, name);
        target_real = NULL; /* real owns it now */
        if (is_link && sp_path_is_within(t->dir_real, real)) {
            rc = sp_error_set(err, SP_EINPUT, cpath,
                              "symlink loop: leads back to %s (hint: --exclude '%s')", real, crel);
            free(real);
            goto done;
        }
        int fd = -1;
        if (may_hold_fd(w))
            fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        push_task(w, (struct dir_task){t->root, fd, cpath, crel, real});
        return 0;
    }
    if (S_ISREG(st.st_mode)) {
        free(target_real);
        sp_tree *part = &th->parts[t->root];
        add_entry(&part->files, &part->n, &part->cap, crel, cpath, &st);
        return 0;
    }
    rc = sp_error_set(err, SP_EINPUT, cpath,
                      "not a regular file or directory (hint: --exclude '%s')", crel);
done:
    free(target_real);
    free(cpath);
    free(crel);
    return rc;
}

/* Reads every entry name of the open directory fd (getdents64 straight:
 * no DIR stream and its descriptor checks). *types gets each d_type. */
static int read_names(int fd, sp_buf *buf, size_t **offsets, unsigned char **types, size_t *n)
{
    size_t cap = 0;
    *offsets = NULL;
    *types = NULL;
    *n = 0;
    char chunk[16384];
    for (;;) {
        ssize_t got = getdents64(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno;
        if (got == 0)
            return 0;
        for (ssize_t at = 0; at < got;) {
            const struct dirent64 *de = (const struct dirent64 *)(chunk + at);
            at += de->d_reclen;
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                *offsets = sp_xrealloc(*offsets, cap * sizeof **offsets);
                *types = sp_xrealloc(*types, cap);
            }
            (*offsets)[*n] = buf->len;
            (*types)[*n] = de->d_type;
            (*n)++;
            sp_buf_add(buf, de->d_name, strlen(de->d_name) + 1);
        }
    }
}

struct name_ref {
    const char *name;
    unsigned char type;
};

static int cmp_name_ref(const void *a, const void *b)
{
    return strcmp(((const struct name_ref *)a)->name, ((const struct name_ref *)b)->name);
}

static void read_dir(struct walk_thread *th, struct dir_task *t)
{
    struct walker *w = th->w;
    sp_error err;
    sp_error_init(&err);
    int fd = t->fd >= 0 ? t->fd : open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        sp_error_set(&err, SP_EIO, t->path, "cannot read directory: %s", strerror(errno));
        add_problem(w, t->root, sp_xstrdup(t->rel), &err);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        sp_error_set(&err, SP_EIO, t->path, "cannot read directory: %s", strerror(errno));
        add_problem(w, t->root, sp_xstrdup(t->rel), &err);
        close(fd);
        return;
    }
    sp_tree *part = &th->parts[t->root];
    st.st_size = 0; /* not part of a directory's record */
    add_entry(&part->dirs, &part->ndirs, &part->dirs_cap, sp_xstrdup(t->rel), NULL, &st);
    sp_buf names;
    sp_buf_init(&names);
    size_t *offsets, n;
    unsigned char *types;
    int rerr = read_names(fd, &names, &offsets, &types, &n);
    if (rerr) {
        sp_error_set(&err, SP_EIO, t->path, "cannot read directory: %s", strerror(rerr));
        add_problem(w, t->root, sp_xstrdup(t->rel), &err);
    } else {
        struct name_ref *refs = sp_xcalloc(n ? n : 1, sizeof *refs);
        for (size_t i = 0; i < n; i++)
            refs[i] = (struct name_ref){(const char *)names.data + offsets[i], types[i]};
        if (n > 1)
            qsort(refs, n, sizeof *refs, cmp_name_ref);
        /* Entries are looked up relative to the open directory: no full
         * path walk per file (this walk is most of a no-op repack). */
        for (size_t i = 0; i < n; i++) {
            const char *name = refs[i].name;
            char *crel = sp_path_join(t->rel, name);
            if (visit(th, t, fd, name, refs[i].type, crel, sp_path_join(t->path, name), &err) != 0)
                add_problem(w, t->root, sp_path_join(t->rel, name), &err);
        }
        free(refs);
    }
    close(fd);
    free(offsets);
    free(types);
    sp_buf_release(&names);
}

static void finish_roots(struct walker *w);

static void *walk_thread(void *arg)
{
    struct walk_thread *th = arg;
    struct walker *w = th->w;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->nstack == 0 && w->pending > 0)
            pthread_cond_wait(&w->wake, &w->lock);
        if (w->nstack == 0)
            break;
        struct dir_task t = w->stack[--w->nstack];
        if (t.fd >= 0)
            w->open_fds--;
        pthread_mutex_unlock(&w->lock);
        read_dir(th, &t);
        free(t.path);
        free(t.rel);
        free(t.dir_real);
        pthread_mutex_lock(&w->lock);
        if (--w->pending == 0)
            pthread_cond_broadcast(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    /* Every directory is read (pending reached 0 under the lock, so every
     * thread's files and problems are complete): share the finishing. */
    finish_roots(w);
    return NULL;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const sp_tree_file *)a)->rel, ((const sp_tree_file *)b)->rel);
}

static void append_entries(sp_tree_file **v, size_t *n, size_t *cap, const sp_tree_file *more,
                           size_t nmore)
{
    if (!nmore)
        return;
    if (*n + nmore > *cap) {
        *cap = *n + nmore;
        *v = sp_xrealloc(*v, *cap * sizeof **v);
    }
    memcpy(*v + *n, more, nmore * sizeof *more);
    *n += nmore;
}

/* Merges root r's files from every thread, in path order, or settles its
 * error: the first problem in path order. */
static void finish_root(struct walker *w, size_t r)
{
    sp_walk_root *root = &w->roots[r];
    const struct problem *first = NULL;
    for (size_t k = 0; k < w->nproblems; k++)
        if (w->problems[k].root == r && (!first || strcmp(w->problems[k].rel, first->rel) < 0))
            first = &w->problems[k];
    if (first && root->rc == 0) {
        root->err = first->err;
        root->rc = -1;
    }
    sp_tree *out = root->out;
    for (int i = 0; i < w->nthreads; i++) {
        sp_tree *part = &w->threads[i].parts[r];
        if (root->rc == 0) {
            append_entries(&out->files, &out->n, &out->cap, part->files, part->n);
            append_entries(&out->dirs, &out->ndirs, &out->dirs_cap, part->dirs, part->ndirs);
            free(part->files);
            free(part->dirs);
        } else {
            sp_tree_release(part);
        }
        sp_tree_init(part);
    }
    if (out->n > 1)
        qsort(out->files, out->n, sizeof *out->files, cmp_file);
    if (out->ndirs > 1)
        qsort(out->dirs, out->ndirs, sizeof *out->dirs, cmp_file);
}

/* Once every directory is read, the threads share the roots' merging and sorting. */
static void finish_roots(struct walker *w)
{
    for (;;) {
        size_t r = __atomic_fetch_add(&w->next_root, 1, __ATOMIC_RELAXED);
        if (r >= w->nroots)
            return;
        finish_root(w, r);
    }
}

static int start_root(struct walker *w, size_t i)
{
    sp_walk_root *r = &w->roots[i];
    struct stat st;
    if (stat(r->root, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return sp_error_set(&r->err, SP_EINPUT, r->root, "no such directory");
        return sp_error_set(&r->err, SP_EIO, r->root, "cannot read: %s", strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return sp_error_set(&r->err, SP_EINPUT, r->root, "not a directory");
    w->real_roots[i] = realpath(r->root, NULL);
    if (!w->real_roots[i])
        return sp_error_set(&r->err, SP_EIO, r->root, "cannot resolve: %s", strerror(errno));
    push_task(w, (struct dir_task){i, -1, sp_xstrdup(r->root), sp_xstrdup(""),
                                   sp_xstrdup(w->real_roots[i])});
    return 0;
}

void sp_tree_walk_many(sp_walk_root *roots, size_t n, int jobs)
{
    struct walker w;
    memset(&w, 0, sizeof w);
    w.roots = roots;
    w.nroots = n;
    w.real_roots = sp_xcalloc(n ? n : 1, sizeof *w.real_roots);
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.wake, NULL);
    for (size_t i = 0; i < n; i++) {
        sp_error_init(&roots[i].err);
        sp_tree_init(roots[i].out);
        roots[i].rc = start_root(&w, i);
    }
    if (jobs < 1)
        jobs = 1;
    if (jobs > SP_MAX_THREADS)
        jobs = SP_MAX_THREADS;
    struct walk_thread th[SP_MAX_THREADS];
    void *args[SP_MAX_THREADS];
    for (int i = 0; i < jobs; i++) {
        th[i].w = &w;
        th[i].parts = sp_xcalloc(n ? n : 1, sizeof *th[i].parts);
        args[i] = &th[i];
    }
    /* Set before any thread starts: a thread finishing early merges them all. */
    w.threads = th;
    w.nthreads = jobs;
    sp_threads helpers;
    sp_threads_start(&helpers, walk_thread, args + 1, jobs - 1);
    walk_thread(&th[0]);
    sp_threads_join(&helpers);
    /* A thread that could not be started leaves its share to the others. */
    finish_roots(&w);
    for (size_t r = 0; r < n; r++)
        free(w.real_roots[r]);
    for (int i = 0; i < jobs; i++)
        free(th[i].parts);
    for (size_t k = 0; k < w.nproblems; k++)
        free(w.problems[k].rel);
    free(w.problems);
    free(w.stack);
    free(w.real_roots);
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.wake);
}

int sp_tree_walk(const char *root, const sp_walk_opts *opts, sp_tree *out, sp_error *err)
{
    sp_walk_root r = {root, opts, out, 0, {0, ""}};
    sp_tree_walk_many(&r, 1, 1);
    if (r.rc != 0)
        *err = r.err;
    return r.rc;
}
