#define _GNU_SOURCE
#include "sppack/treewalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sppack/alloc.h"
#include "sppack/parallel.h"
#include "sppack/path.h"
#include "sppack/platform.h"
#include "sppack/vec.h"

void sp_tree_init(sp_tree *t)
{
    memset(t, 0, sizeof *t);
}

void sp_tree_release(sp_tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        SP_FREE_ALL(t->files[i].rel, t->files[i].path);
    for (size_t i = 0; i < t->ndirs; i++)
        free(t->dirs[i].rel);
    for (size_t i = 0; i < t->nskipped; i++)
        SP_FREE_ALL(t->skipped[i].rel, t->skipped[i].path, t->skipped[i].why);
    SP_FREE_ALL(t->files, t->dirs, t->skipped);
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

/* ---- the walk: one level of directories at a time, each level shared by the threads --------- */

/* A directory to read. */
struct dir_task {
    size_t root;    /* index into the roots walked */
    int fd;         /* already open (by its parent's reader), or -1: open path */
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

/* What reading one directory found. */
struct dir_result {
    SP_VEC(sp_tree_file) files;
    sp_tree_file self; /* the directory's own record */
    int has_self;
    SP_VEC(struct dir_task) subdirs;
    SP_VEC(struct problem) problems;
    SP_VEC(sp_tree_skip) skipped;
};

struct walker {
    sp_walk_root *roots;
    char **real_roots;
    size_t nroots;
    struct dir_task *level; /* the directories being read */
    struct dir_result *results;
    int held_fds; /* descriptors held by queued tasks, atomically */
};

/* Queued tasks may hold their directory open (one lookup less each), up to this many. */
#define MAX_HELD_FDS 256

static void record(sp_tree_file *f, char *rel, char *path, const struct stat *st)
{
    f->rel = rel;
    f->path = path;
    f->size = (uint64_t)st->st_size;
    f->mtime_ns = sp_stat_mtime_ns(st);
    f->ctime_ns = sp_stat_ctime_ns(st);
    f->ino = (uint64_t)st->st_ino;
}

int sp_tree_file_same(const sp_tree_file *f, const struct stat *st)
{
    return f->ino == (uint64_t)st->st_ino && f->size == (uint64_t)st->st_size &&
           f->mtime_ns == sp_stat_mtime_ns(st) && f->ctime_ns == sp_stat_ctime_ns(st);
}

static void add_problem(struct dir_result *r, size_t root, const char *rel, const sp_error *err)
{
    struct problem p = {root, sp_xstrdup(rel), *err};
    SP_VEC_PUSH(r->problems, p);
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

/* An entry with nothing to pack: left out and listed with leave_out, else
 * the error (hint: --exclude it). -1 with err set, or 0. */
static int unpackable(const sp_walk_opts *opts, struct dir_result *r, const char *crel,
                      const char *cpath, sp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int unpackable(const sp_walk_opts *opts, struct dir_result *r, const char *crel,
                      const char *cpath, sp_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = sp_xvasprintf(fmt, ap, NULL);
    va_end(ap);
    if (opts && opts->leave_out) {
        sp_tree_skip sk = {sp_xstrdup(crel), sp_xstrdup(cpath), why};
        SP_VEC_PUSH(r->skipped, sk);
        return 0;
    }
    sp_error_set(err, SP_EINPUT, cpath, "%s (hint: --exclude '%s')", why, crel);
    free(why);
    return -1;
}

/* Looks at one entry of the directory t (open as dfd). Files go to r's
 * files, directories to its subdirs; 0, or -1 with err set. crel and cpath
 * are taken over. */
static int visit(struct walker *w, struct dir_result *r, const struct dir_task *t, int dfd,
                 const char *name, unsigned char d_type, char *crel, char *cpath, sp_error *err)
{
    const sp_walk_opts *opts = w->roots[t->root].opts;
    struct stat st;
    int rc = 0;
    char *target_real = NULL;
    if (opts && entry_excluded(opts->excludes, crel, name))
        goto done;
#ifdef DT_DIR
    if (d_type == DT_DIR) {
        /* Nothing of a directory's own is recorded here: no stat needed. */
        memset(&st, 0, sizeof st);
        st.st_mode = S_IFDIR;
    } else
#endif
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        rc = sp_error_set(err, SP_EIO, cpath, "cannot read: %s", strerror(errno));
        goto done;
    }
    (void)d_type;
    if (S_ISLNK(st.st_mode)) {
        /* What the link leads to, then where: the two must be one file, or
         * the link changed in between and could point anywhere. */
        struct stat via;
        int followed = fstatat(dfd, name, &via, 0);
        target_real = realpath(cpath, NULL);
        if (!target_real) {
            if (errno == ENOENT || errno == ENOTDIR)
                rc = unpackable(opts, r, crel, cpath, err, "dangling symlink");
            else if (errno == ELOOP)
                rc = unpackable(opts, r, crel, cpath, err, "symlink loop");
            else
                rc =
                    sp_error_set(err, SP_EIO, cpath, "cannot resolve symlink: %s", strerror(errno));
            goto done;
        }
        if (!sp_path_is_within(target_real, w->real_roots[t->root])) {
            rc = unpackable(opts, r, crel, cpath, err,
                            "symlink points outside the input tree, to %s", target_real);
            goto done;
        }
        if (followed != 0 || lstat(target_real, &st) != 0 || S_ISLNK(st.st_mode) ||
            st.st_ino != via.st_ino || st.st_dev != via.st_dev) {
            rc = sp_error_set(err, SP_EIO, cpath, "changed while it was being listed");
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
            rc = unpackable(opts, r, crel, cpath, err, "symlink loop: leads back to %s", real);
            free(real);
            goto done;
        }
        int fd = -1;
        if (__atomic_add_fetch(&w->held_fds, 1, __ATOMIC_RELAXED) <= MAX_HELD_FDS)
            fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            __atomic_sub_fetch(&w->held_fds, 1, __ATOMIC_RELAXED);
        struct dir_task sub = {t->root, fd, cpath, crel, real};
        SP_VEC_PUSH(r->subdirs, sub);
        return 0;
    }
    if (S_ISREG(st.st_mode)) {
        free(target_real);
        SP_VEC_GROW(r->files);
        record(&r->files.v[r->files.n++], crel, cpath, &st);
        return 0;
    }
    rc = unpackable(opts, r, crel, cpath, err, "%s",
                    S_ISFIFO(st.st_mode)   ? "a FIFO, not a regular file"
                    : S_ISSOCK(st.st_mode) ? "a socket, not a regular file"
                    : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)
                        ? "a device, not a regular file"
                        : "not a regular file or directory");
done:
    SP_FREE_ALL(target_real, cpath, crel);
    return rc;
}

struct name_ref {
    const char *name;
    unsigned char type;
};

static int cmp_name_ref(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return strcmp(((const struct name_ref *)a)->name, ((const struct name_ref *)b)->name);
}

static void read_dir(void *ctx, int worker, size_t i)
{
    (void)worker;
    struct walker *w = ctx;
    struct dir_task *t = &w->level[i];
    struct dir_result *r = &w->results[i];
    sp_error err;
    sp_error_init(&err);
    int fd = t->fd;
    if (fd >= 0)
        __atomic_sub_fetch(&w->held_fds, 1, __ATOMIC_RELAXED);
    else
        fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        sp_error_set(&err, SP_EIO, t->path, "cannot read directory: %s", strerror(errno));
        add_problem(r, t->root, t->rel, &err);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        sp_error_set(&err, SP_EIO, t->path, "cannot read directory: %s", strerror(errno));
        add_problem(r, t->root, t->rel, &err);
        close(fd);
        return;
    }
    st.st_size = 0; /* not part of a directory's record */
    record(&r->self, sp_xstrdup(t->rel), NULL, &st);
    r->has_self = 1;
    sp_dir_list names;
    int rerr = sp_dir_list_read(fd, &names);
    if (rerr) {
        sp_error_set(&err, SP_EIO, t->path, "cannot read directory: %s", strerror(rerr));
        add_problem(r, t->root, t->rel, &err);
    } else {
        struct name_ref *refs = sp_xcalloc(names.n, sizeof *refs);
        for (size_t k = 0; k < names.n; k++)
            refs[k] = (struct name_ref){names.names + names.offsets[k], names.types[k]};
        sp_sort(refs, names.n, sizeof *refs, cmp_name_ref, NULL);
        /* Entries are looked up relative to the open directory: no full
         * path walk per file (this walk is most of a no-op repack). */
        for (size_t k = 0; k < names.n; k++) {
            const char *name = refs[k].name;
            char *crel = sp_path_join(t->rel, name);
            if (visit(w, r, t, fd, name, refs[k].type, crel, sp_path_join(t->path, name), &err) !=
                0) {
                char *prel = sp_path_join(t->rel, name);
                add_problem(r, t->root, prel, &err);
                free(prel);
            }
        }
        free(refs);
    }
    sp_dir_list_release(&names);
    close(fd);
}

static int cmp_skip(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return strcmp(((const sp_tree_skip *)a)->rel, ((const sp_tree_skip *)b)->rel);
}

static int cmp_file(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return strcmp(((const sp_tree_file *)a)->rel, ((const sp_tree_file *)b)->rel);
}

static void append_files(sp_tree_file **v, size_t *n, size_t *cap, const sp_tree_file *more,
                         size_t nmore)
{
    if (!nmore)
        return;
    if (*n + nmore > *cap) {
        *cap = (*n + nmore) * 2;
        *v = sp_xrealloc(*v, *cap * sizeof **v);
    }
    memcpy(*v + *n, more, nmore * sizeof *more);
    *n += nmore;
}

static int start_root(struct walker *w, size_t i, struct dir_task *task)
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
    *task =
        (struct dir_task){i, -1, sp_xstrdup(r->root), sp_xstrdup(""), sp_xstrdup(w->real_roots[i])};
    return 0;
}

void sp_tree_walk_many(sp_walk_root *roots, size_t n, int jobs)
{
    struct walker w = {.roots = roots, .nroots = n, .real_roots = sp_xcalloc(n, sizeof(char *))};
    SP_VEC(struct dir_task) level = {0};
    SP_VEC(struct problem) problems = {0};
    for (size_t i = 0; i < n; i++) {
        sp_error_init(&roots[i].err);
        sp_tree_init(roots[i].out);
        struct dir_task t;
        roots[i].rc = start_root(&w, i, &t);
        if (roots[i].rc == 0)
            SP_VEC_PUSH(level, t);
    }
    /* Level by level: every directory of one depth is read in parallel, then
     * what they found is gathered in order, so the result never depends on
     * the threads' timing. */
    while (level.n) {
        w.level = level.v;
        w.results = sp_xcalloc(level.n, sizeof *w.results);
        sp_parallel_for(level.n, jobs, read_dir, &w);
        SP_VEC(struct dir_task) next = {0};
        for (size_t i = 0; i < level.n; i++) {
            struct dir_result *r = &w.results[i];
            sp_tree *out = roots[level.v[i].root].out;
            append_files(&out->files, &out->n, &out->cap, r->files.v, r->files.n);
            if (r->has_self)
                append_files(&out->dirs, &out->ndirs, &out->dirs_cap, &r->self, 1);
            for (size_t k = 0; k < r->subdirs.n; k++)
                SP_VEC_PUSH(next, r->subdirs.v[k]);
            for (size_t k = 0; k < r->problems.n; k++)
                SP_VEC_PUSH(problems, r->problems.v[k]);
            for (size_t k = 0; k < r->skipped.n; k++) {
                if (out->nskipped == out->skipped_cap) {
                    out->skipped_cap = out->skipped_cap ? out->skipped_cap * 2 : 8;
                    out->skipped =
                        sp_xrealloc(out->skipped, out->skipped_cap * sizeof *out->skipped);
                }
                out->skipped[out->nskipped++] = r->skipped.v[k];
            }
            SP_FREE_ALL(r->skipped.v, r->files.v, r->subdirs.v, r->problems.v, level.v[i].path,
                        level.v[i].rel, level.v[i].dir_real);
        }
        SP_FREE_ALL(w.results, level.v);
        level.v = next.v;
        level.n = next.n;
        level.cap = next.cap;
    }
    for (size_t r = 0; r < n; r++) {
        sp_walk_root *root = &roots[r];
        const struct problem *first = NULL;
        for (size_t k = 0; k < problems.n; k++)
            if (problems.v[k].root == r && (!first || strcmp(problems.v[k].rel, first->rel) < 0))
                first = &problems.v[k];
        if (first && root->rc == 0) {
            root->err = first->err;
            root->rc = -1;
        }
        if (root->rc != 0) {
            sp_tree_release(root->out);
            continue;
        }
        sp_sort(root->out->files, root->out->n, sizeof *root->out->files, cmp_file, NULL);
        sp_sort(root->out->dirs, root->out->ndirs, sizeof *root->out->dirs, cmp_file, NULL);
        sp_sort(root->out->skipped, root->out->nskipped, sizeof *root->out->skipped, cmp_skip,
                NULL);
    }
    for (size_t k = 0; k < problems.n; k++)
        free(problems.v[k].rel);
    free(problems.v);
    for (size_t r = 0; r < n; r++)
        free(w.real_roots[r]);
    free(w.real_roots);
}

int sp_tree_walk(const char *root, const sp_walk_opts *opts, sp_tree *out, sp_error *err)
{
    sp_walk_root r = {root, opts, out, 0, {0, ""}};
    sp_tree_walk_many(&r, 1, 1);
    if (r.rc != 0)
        *err = r.err;
    return r.rc;
}
