#define _GNU_SOURCE
#include "sppack/outdir.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sppack/alloc.h"
#include "sppack/file.h"
#include "sppack/path.h"

#define STAGE_PREFIX ".sp-pack-staging-"

/* Set from a signal handler; read before each staged file. */
static volatile sig_atomic_t cancelled;

void sp_outdir_cancel(void)
{
    cancelled = 1;
}

/* Removes what runs killed outright left: staging directories named
 * prefix* in dir. */
static void remove_stale_stages(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
            char *p = sp_path_join(dir, de->d_name);
            sp_remove_tree(p);
            free(p);
        }
    }
    closedir(d);
}

/* dir without trailing slashes, split into its parent and its name. */
static void split_dir(const char *dir, char **parent, char **name)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t k = n;
    while (k > 0 && dir[k - 1] != '/')
        k--;
    *name = sp_xstrndup(dir + k, n - k);
    *parent = k == 0 ? sp_xstrdup(".") : k == 1 ? sp_xstrdup("/") : sp_xstrndup(dir, k - 1);
}

/* Makes the staging directory PREFIX<pid>-<n>: mkdir, unlike mkdtemp,
 * honours the umask, which matters when the stage becomes the output. */
static int make_stage(sp_outdir *od, const char *prefix, sp_error *err)
{
    for (unsigned n = 0;; n++) {
        char *path = sp_xasprintf("%s%ld-%u", prefix, (long)getpid(), n);
        if (mkdir(path, 0777) == 0) {
            od->stage = path;
            return 0;
        }
        int e = errno;
        free(path);
        if (e != EEXIST || n == 1000)
            return sp_error_set(err, SP_EIO, od->dir, "cannot write: %s", strerror(e));
    }
}

int sp_outdir_begin(sp_outdir *od, const char *dir, sp_error *err)
{
    od->dir = sp_xstrdup(dir);
    od->stage = od->made = NULL;
    od->whole = 0;
    sp_strv_init(&od->files);
    char *parent, *name;
    split_dir(dir, &parent, &name);
    char *sibling_prefix = sp_xasprintf(".%s" STAGE_PREFIX, name);
    int rc = sp_mkdirs(parent, err);
    if (rc == 0)
        remove_stale_stages(parent, sibling_prefix);
    struct stat st;
    if (rc == 0 && lstat(dir, &st) != 0 && errno == ENOENT && strcmp(name, ".") != 0 &&
        strcmp(name, "..") != 0) {
        /* A new output directory is staged whole beside where it goes and
         * committed with one rename. */
        od->whole = 1;
        char *prefix = sp_xasprintf("%s/%s", parent, sibling_prefix);
        rc = make_stage(od, prefix, err);
        free(prefix);
    } else if (rc == 0) {
        rc = sp_mkdirs(dir, err);
        if (rc == 0) {
            remove_stale_stages(dir, STAGE_PREFIX);
            char *prefix = sp_xasprintf("%s/" STAGE_PREFIX, dir);
            rc = make_stage(od, prefix, err);
            free(prefix);
        }
    }
    free(sibling_prefix);
    free(parent);
    free(name);
    return rc;
}

static int mkparents(sp_outdir *od, const char *path, sp_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    size_t n = (size_t)(slash - path);
    if (od->made && strlen(od->made) == n && memcmp(od->made, path, n) == 0)
        return 0; /* outputs come grouped by directory */
    char *parent = sp_xstrndup(path, n);
    if (sp_mkdirs(parent, err) != 0) {
        free(parent);
        return -1;
    }
    free(od->made);
    od->made = parent;
    return 0;
}

char *sp_outdir_stage(sp_outdir *od, const char *rel, sp_error *err)
{
    if (cancelled) {
        sp_error_set(err, SP_EIO, od->dir, "interrupted; previous outputs left as they were");
        return NULL;
    }
    char *p = sp_path_join(od->stage, rel);
    if (mkparents(od, p, err) != 0) {
        free(p);
        return NULL;
    }
    sp_strv_push(&od->files, rel);
    return p;
}

int sp_outdir_keep(sp_outdir *od, const char *rel, sp_error *err)
{
    char *staged = sp_outdir_stage(od, rel, err);
    if (!staged)
        return -1;
    char *current = sp_path_join(od->dir, rel);
    int rc = 0;
    if (link(current, staged) != 0) {
        /* A copy works everywhere, at the price of a new mtime on commit. */
        rc = sp_copy_file(current, staged, err);
    }
    free(current);
    free(staged);
    return rc;
}

/* Removes empty directories from path's parent up to (not including) top. */
static void prune_empty_parents(const char *top, const char *path)
{
    char *p = sp_xstrdup(path);
    for (;;) {
        char *slash = strrchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        if (strlen(p) <= strlen(top) || rmdir(p) != 0)
            break;
    }
    free(p);
}

int sp_outdir_commit(sp_outdir *od, const sp_strv *stale, sp_error *err)
{
    if (od->whole) {
        if (rename(od->stage, od->dir) == 0) {
            free(od->stage);
            od->stage = NULL;
            return 0;
        }
        /* Something made the directory meanwhile: file by file, then. */
        if ((errno != EEXIST && errno != ENOTEMPTY && errno != ENOTDIR) ||
            sp_mkdirs(od->dir, err) != 0)
            return sp_error_set(err, SP_EIO, od->dir, "cannot write: %s", strerror(errno));
    }
    for (size_t i = 0; i < od->files.n; i++) {
        char *from = sp_path_join(od->stage, od->files.v[i]);
        char *to = sp_path_join(od->dir, od->files.v[i]);
        int rc = mkparents(od, to, err);
        if (rc == 0) {
            struct stat st;
            /* A directory where a file goes (left by hand) cannot be renamed over. */
            if (lstat(to, &st) == 0 && S_ISDIR(st.st_mode))
                rc = sp_error_set(err, SP_EIO, to, "is a directory where an output file goes");
            else if (rename(from, to) != 0)
                rc = sp_error_set(err, SP_EIO, to, "cannot write: %s", strerror(errno));
        }
        free(from);
        free(to);
        if (rc != 0)
            return rc;
    }
    if (stale) {
        for (size_t i = 0; i < stale->n; i++) {
            const char *rel = stale->v[i];
            if (sp_strv_contains(&od->files, rel) || rel[0] == '/' || strstr(rel, ".."))
                continue;
            char *p = sp_path_join(od->dir, rel);
            if (unlink(p) == 0)
                prune_empty_parents(od->dir, p);
            free(p);
        }
    }
    return 0;
}

void sp_outdir_release(sp_outdir *od)
{
    if (od->stage)
        sp_remove_tree(od->stage);
    free(od->stage);
    free(od->dir);
    free(od->made);
    sp_strv_release(&od->files);
    od->stage = od->dir = od->made = NULL;
    od->whole = 0;
}
