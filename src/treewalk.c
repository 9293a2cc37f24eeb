#define _GNU_SOURCE
#include "sppack/treewalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void sp_tree_init(sp_tree *t)
{
    t->files = NULL;
    t->n = t->cap = 0;
}

void sp_tree_release(sp_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->files[i].rel);
        free(t->files[i].path);
    }
    free(t->files);
    sp_tree_init(t);
}

int sp_glob_excluded(const sp_strv *globs, const char *rel)
{
    if (!globs)
        return 0;
    for (size_t i = 0; i < globs->n; i++) {
        const char *g = globs->v[i];
        if (strchr(g, '/')) {
            if (fnmatch(g, rel, 0) == 0)
                return 1;
            continue;
        }
        /* Match each component. */
        const char *p = rel;
        while (*p) {
            const char *slash = strchr(p, '/');
            size_t n = slash ? (size_t)(slash - p) : strlen(p);
            char comp[NAME_MAX + 1];
            if (n <= NAME_MAX) {
                memcpy(comp, p, n);
                comp[n] = '\0';
                if (fnmatch(g, comp, 0) == 0)
                    return 1;
            }
            p += n;
            if (*p == '/')
                p++;
        }
    }
    return 0;
}

struct walk {
    const char *root;
    char *real_root;
    const sp_walk_opts *opts;
    sp_tree *out;
    sp_error *err;
};

static void add_file(sp_tree *t, const char *rel, const char *path, const struct stat *st)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->files = sp_xrealloc(t->files, t->cap * sizeof *t->files);
    }
    t->files[t->n].rel = sp_xstrdup(rel);
    t->files[t->n].path = sp_xstrdup(path);
    t->files[t->n].size = (uint64_t)st->st_size;
    t->files[t->n].mtime_ns = sp_timespec_ns(&st->st_mtim);
    t->files[t->n].ctime_ns = sp_timespec_ns(&st->st_ctim);
    t->files[t->n].ino = (uint64_t)st->st_ino;
    t->n++;
}

static int skip_dir(const struct walk *w, const char *name, int top)
{
    if (!w->opts)
        return 0;
    if (!w->opts->keep_pycache && strcmp(name, "__pycache__") == 0)
        return 1;
    if (top && w->opts->skip_top)
        for (const char *const *s = w->opts->skip_top; *s; s++)
            if (strcmp(*s, name) == 0)
                return 1;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir_real: canonical path of the directory being walked (to catch links
 * that lead back to an ancestor). */
static int walk_dir(struct walk *w, const char *path, const char *rel, const char *dir_real)
{
    DIR *d = opendir(path);
    if (!d)
        return sp_error_set(w->err, SP_EIO, path, "cannot read directory: %s", strerror(errno));
    sp_strv names;
    sp_strv_init(&names);
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            sp_strv_push(&names, de->d_name);
        errno = 0;
    }
    int rerr = errno;
    if (rerr) {
        closedir(d);
        sp_strv_release(&names);
        return sp_error_set(w->err, SP_EIO, path, "cannot read directory: %s", strerror(rerr));
    }
    /* Entries are looked up relative to the open directory: no full path
     * walk per file (this walk is most of a no-op repack). */
    int dfd = dirfd(d);
    if (names.n > 1)
        qsort(names.v, names.n, sizeof *names.v, cmp_name);

    int rc = 0;
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        const char *name = names.v[i];
        char *cpath = sp_path_join(path, name);
        char *crel = sp_path_join(rel, name);
        struct stat st;
        if (w->opts && sp_glob_excluded(w->opts->excludes, crel))
            goto next;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = sp_error_set(w->err, SP_EIO, cpath, "cannot read: %s", strerror(errno));
            goto next;
        }
        char *target_real = NULL;
        if (S_ISLNK(st.st_mode)) {
            target_real = realpath(cpath, NULL);
            if (!target_real) {
                if (errno == ENOENT || errno == ENOTDIR)
                    rc = sp_error_set(w->err, SP_EINPUT, cpath,
                                      "dangling symlink (hint: --exclude '%s')", crel);
                else if (errno == ELOOP)
                    rc = sp_error_set(w->err, SP_EINPUT, cpath,
                                      "symlink loop (hint: --exclude '%s')", crel);
                else
                    rc = sp_error_set(w->err, SP_EIO, cpath, "cannot resolve symlink: %s",
                                      strerror(errno));
                goto next;
            }
            if (!sp_path_is_within(target_real, w->real_root)) {
                rc = sp_error_set(w->err, SP_EINPUT, cpath,
                                  "symlink points outside the input tree, to %s "
                                  "(hint: --exclude '%s')",
                                  target_real, crel);
                free(target_real);
                goto next;
            }
            if (stat(cpath, &st) != 0) {
                rc = sp_error_set(w->err, SP_EIO, cpath, "cannot read: %s", strerror(errno));
                free(target_real);
                goto next;
            }
        }
        if (S_ISDIR(st.st_mode)) {
            if (!skip_dir(w, name, rel[0] == '\0')) {
                int is_link = target_real != NULL;
                char *real = is_link ? target_real : sp_path_join(dir_real, name);
                target_real = NULL; /* real owns it now */
                if (is_link && sp_path_is_within(dir_real, real))
                    rc = sp_error_set(w->err, SP_EINPUT, cpath,
                                      "symlink loop: leads back to %s (hint: --exclude '%s')",
                                      real, crel);
                else
                    rc = walk_dir(w, cpath, crel, real);
                free(real);
            }
        } else if (S_ISREG(st.st_mode)) {
            add_file(w->out, crel, cpath, &st);
        } else {
            rc = sp_error_set(w->err, SP_EINPUT, cpath,
                              "not a regular file or directory (hint: --exclude '%s')", crel);
        }
        free(target_real);
    next:
        free(cpath);
        free(crel);
    }
    closedir(d);
    sp_strv_release(&names);
    return rc;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const sp_tree_file *)a)->rel, ((const sp_tree_file *)b)->rel);
}

int sp_tree_walk(const char *root, const sp_walk_opts *opts, sp_tree *out, sp_error *err)
{
    struct stat st;
    if (stat(root, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return sp_error_set(err, SP_EINPUT, root, "no such directory");
        return sp_error_set(err, SP_EIO, root, "cannot read: %s", strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return sp_error_set(err, SP_EINPUT, root, "not a directory");
    struct walk w = {root, realpath(root, NULL), opts, out, err};
    if (!w.real_root)
        return sp_error_set(err, SP_EIO, root, "cannot resolve: %s", strerror(errno));
    int rc = walk_dir(&w, root, "", w.real_root);
    free(w.real_root);
    /* Sorted per directory already, but "a/b" vs "a.py" order needs a global sort. */
    if (rc == 0 && out->n > 1)
        qsort(out->files, out->n, sizeof *out->files, cmp_file);
    return rc;
}
