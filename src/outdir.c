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

#define STAGE_PREFIX ".sp-pack-staging-"

/* Set from a signal handler; read before each staged file. */
static volatile sig_atomic_t cancelled;

void sp_outdir_cancel(void)
{
    cancelled = 1;
}

static void remove_stale_stages(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, STAGE_PREFIX, strlen(STAGE_PREFIX)) == 0) {
            char *p = sp_path_join(dir, de->d_name);
            sp_remove_tree(p);
            free(p);
        }
    }
    closedir(d);
}

int sp_outdir_begin(sp_outdir *od, const char *dir, sp_error *err)
{
    od->dir = sp_xstrdup(dir);
    od->stage = NULL;
    sp_strv_init(&od->files);
    if (sp_mkdirs(dir, err) != 0)
        return -1;
    remove_stale_stages(dir);
    char *tmpl = sp_xasprintf("%s/" STAGE_PREFIX "XXXXXX", dir);
    if (!mkdtemp(tmpl)) {
        int e = errno;
        free(tmpl);
        return sp_error_set(err, SP_EIO, dir, "cannot write: %s", strerror(e));
    }
    od->stage = tmpl;
    return 0;
}

static int mkparents(const char *path, sp_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char *parent = sp_xstrndup(path, (size_t)(slash - path));
    int rc = sp_mkdirs(parent, err);
    free(parent);
    return rc;
}

char *sp_outdir_stage(sp_outdir *od, const char *rel, sp_error *err)
{
    if (cancelled) {
        sp_error_set(err, SP_EIO, od->dir, "interrupted; previous outputs left as they were");
        return NULL;
    }
    char *p = sp_path_join(od->stage, rel);
    if (mkparents(p, err) != 0) {
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
    for (size_t i = 0; i < od->files.n; i++) {
        char *from = sp_path_join(od->stage, od->files.v[i]);
        char *to = sp_path_join(od->dir, od->files.v[i]);
        int rc = mkparents(to, err);
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
    sp_strv_release(&od->files);
    od->stage = od->dir = NULL;
}
