#define _GNU_SOURCE
#include "sppack/outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sppack/alloc.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/platform.h"

#define LOCK_NAME "lock"
#define CURRENT "current"
#define CURRENT_NEW "current.new"
#define LINK_NEW "link.new"

/* Set from a signal handler; read before each staged file. */
static volatile sig_atomic_t cancelled;

void sp_outdir_cancel(void)
{
    cancelled = 1;
}

/* The generation number of a name "g<N>", 0 for any other name. */
static unsigned long gen_number(const char *name)
{
    if (name[0] != 'g' || name[1] < '1' || name[1] > '9')
        return 0;
    char *end;
    unsigned long n = strtoul(name + 1, &end, 10);
    return *end ? 0 : n;
}

/* The link target that makes DIR/name show the current generation's name. */
static char *link_target(const char *name)
{
    return sp_xasprintf(SP_OUTDIR_OWN "/" CURRENT "/%s", name);
}

/* Whether DIR/name is a link sp-pack made. */
static int is_own_link(int dir_fd, const char *name)
{
    char buf[4096];
    ssize_t n = readlinkat(dir_fd, name, buf, sizeof buf - 1);
    if (n < 0)
        return 0;
    buf[n] = '\0';
    char *want = link_target(name);
    int own = !strcmp(buf, want);
    free(want);
    return own;
}

/* The names in the directory open as fd (sorted). */
static int list_names(int fd, sp_strv *out)
{
    int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            sp_strv_push(out, de->d_name);
    closedir(d);
    sp_strv_sort(out);
    return 0;
}

/* The lock: one run per output directory. Another run holding it is an
 * error at once, naming its process. */
static int take_lock(sp_outdir *od, sp_error *err)
{
    od->lock_fd = openat(od->own_fd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (od->lock_fd < 0)
        return sp_error_set(err, SP_EIO, od->own, "cannot write: %s", strerror(errno));
    if (flock(od->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e != EWOULDBLOCK && e != EINTR)
            return sp_error_set(err, SP_EIO, od->own, "cannot lock: %s", strerror(e));
        /* Its holder writes its process ID right after taking it, and
         * empties the file when it lets go: wait a moment for one. */
        char pid[32] = "";
        for (int tries = 0; tries < 100 && !*pid; tries++) {
            ssize_t n = pread(od->lock_fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            if (!*pid)
                usleep(1000);
        }
        return sp_error_set(err, SP_EIO, od->dir,
                            "another sp-pack (process %s) is writing this directory (hint: one "
                            "pack per output directory at a time)",
                            *pid ? pid : "?");
    }
    /* A lock file a failed run unlinked (with the directory it made)
     * right after this run opened it locks nothing: take the new one. */
    struct stat st;
    if (fstat(od->lock_fd, &st) == 0 && st.st_nlink == 0) {
        close(od->lock_fd);
        od->lock_fd = -1;
        return take_lock(od, err);
    }
    od->locked = 1;
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(od->lock_fd, 0) != 0 || pwrite(od->lock_fd, pid, (size_t)n, 0) != n)
        return sp_error_set(err, SP_EIO, od->own, "cannot write: %s", strerror(errno));
    return 0;
}

/* Everything in .sp-pack/ but the lock and the current generation is what
 * runs killed outright left: no live run owns it while we hold the lock. */
static void remove_leftovers(sp_outdir *od)
{
    sp_strv names;
    sp_strv_init(&names);
    if (list_names(od->own_fd, &names) == 0)
        for (size_t i = 0; i < names.n; i++) {
            const char *n = names.v[i];
            if (strcmp(n, LOCK_NAME) != 0 && strcmp(n, CURRENT) != 0 &&
                !(od->current && !strcmp(n, od->current)))
                sp_remove_tree_at(od->own_fd, n);
        }
    sp_strv_release(&names);
}

/* DIR/.sp-pack opened, without following a link. */
static int open_own(sp_outdir *od)
{
    od->own = sp_path_join(od->dir, SP_OUTDIR_OWN);
    od->own_fd = open(od->own, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return od->own_fd < 0 ? -1 : 0;
}

static void read_current(sp_outdir *od)
{
    char buf[64];
    ssize_t n = readlinkat(od->own_fd, CURRENT, buf, sizeof buf - 1);
    if (n > 0) {
        buf[n] = '\0';
        if (gen_number(buf))
            od->current = sp_xstrdup(buf);
    }
}

char *sp_outdir_current(const char *dir)
{
    char *link = sp_xasprintf("%s/" SP_OUTDIR_OWN "/" CURRENT, dir);
    char buf[64];
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    free(link);
    if (n <= 0)
        return sp_xstrdup(dir);
    buf[n] = '\0';
    if (!gen_number(buf))
        return sp_xstrdup(dir);
    return sp_xasprintf("%s/" SP_OUTDIR_OWN "/%s", dir, buf);
}

int sp_outdir_lock(sp_outdir *od, const char *dir, sp_error *err)
{
    memset(od, 0, sizeof *od);
    od->own_fd = od->lock_fd = -1;
    od->dir = sp_xstrdup(dir);
    sp_strv_init(&od->files);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT)
            return sp_error_set(err, SP_EIO, dir, "cannot write: %s", strerror(errno));
        if (sp_mkdirs(dir, err) != 0)
            return -1;
        od->made_dir = 1;
    } else if (!S_ISDIR(st.st_mode)) {
        return sp_error_set(err, SP_EIO, dir, "cannot write: %s", strerror(ENOTDIR));
    }
    char *own = sp_path_join(dir, SP_OUTDIR_OWN);
    int made = mkdir(own, 0777);
    int e = errno;
    free(own);
    if (made != 0 && e != EEXIST)
        return sp_error_set(err, SP_EIO, dir, "cannot write: %s", strerror(e));
    if (open_own(od) != 0)
        return sp_error_set(err, SP_EIO, od->own,
                            errno == ELOOP || errno == ENOTDIR
                                ? "not sp-pack's own directory but a link or a file (hint: "
                                  "remove it)"
                                : "cannot write: %s",
                            strerror(errno));
    if (take_lock(od, err) != 0)
        return -1;
    read_current(od);
    remove_leftovers(od);
    return 0;
}

int sp_outdir_begin(sp_outdir *od, sp_error *err)
{
    unsigned long next = od->current ? gen_number(od->current) + 1 : 1;
    od->gen = sp_xasprintf("g%lu", next);
    if (mkdirat(od->own_fd, od->gen, 0777) != 0) {
        int e = errno;
        free(od->gen);
        od->gen = NULL;
        return sp_error_set(err, SP_EIO, od->own, "cannot write: %s", strerror(e));
    }
    od->stage = sp_path_join(od->own, od->gen);
    return 0;
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
    if (!od->current)
        return sp_error_set(err, SP_EIO, od->dir, "no current output to keep %s from", rel);
    char *staged = sp_outdir_stage(od, rel, err);
    if (!staged)
        return -1;
    char *current = sp_xasprintf("%s/%s/%s", od->own, od->current, rel);
    int rc = 0;
    if (link(current, staged) != 0) {
        /* A copy works everywhere, at the price of a new mtime. */
        rc = sp_copy_file(current, staged, err);
    }
    SP_FREE_ALL(current, staged);
    return rc;
}

/* fsync of one path (a file, or a directory opened for reading). */
static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* The staged generation on storage before anything points at it: the
 * whole file system at once where the system can, else every file and
 * directory of it. */
static int sync_stage(sp_outdir *od, sp_error *err)
{
    int fd = open(od->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : sp_sync_file_system(fd);
    if (fd >= 0)
        close(fd);
    if (rc != 0 && errno == ENOSYS) {
        sp_strv dirs;
        sp_strv_init(&dirs);
        sp_strv_push(&dirs, od->stage);
        rc = 0;
        for (size_t i = 0; i < od->files.n && rc == 0; i++) {
            char *p = sp_path_join(od->stage, od->files.v[i]);
            rc = sync_path(p);
            *strrchr(p, '/') = '\0';
            if (!sp_strv_contains(&dirs, p))
                sp_strv_push(&dirs, p);
            free(p);
        }
        for (size_t i = 0; i < dirs.n && rc == 0; i++)
            rc = sync_path(dirs.v[i]);
        sp_strv_release(&dirs);
    }
    if (rc != 0)
        return sp_error_set(err, SP_EIO, od->dir, "cannot write: %s", strerror(errno));
    return 0;
}

/* The top-level names of the staged outputs ("assets", "jniLibs", ...). */
static void top_names(const sp_outdir *od, sp_strv *out)
{
    for (size_t i = 0; i < od->files.n; i++) {
        const char *rel = od->files.v[i];
        char *top = sp_xstrndup(rel, strcspn(rel, "/"));
        if (!sp_strv_contains(out, top))
            sp_strv_push(out, top);
        free(top);
    }
    sp_strv_sort(out);
}

/* DIR/name shows .sp-pack/current/name: a link, made or replaced by a
 * rename. A real file or directory there is not sp-pack's to remove. */
static int check_link_place(sp_outdir *od, int dir_fd, const char *name, sp_error *err)
{
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode))
        return 0;
    char *path = sp_path_join(od->dir, name);
    sp_error_set(err, SP_EUSAGE, path,
                 "a real %s where sp-pack keeps its link to %s/%s (left by an older sp-pack, "
                 "or not sp-pack's; hint: remove it, or --out a directory of sp-pack's own)",
                 S_ISDIR(st.st_mode) ? "directory" : "file", SP_OUTDIR_OWN, CURRENT);
    free(path);
    return -1;
}

static int make_link(sp_outdir *od, int dir_fd, const char *name, sp_error *err)
{
    if (is_own_link(dir_fd, name))
        return 0;
    char *target = link_target(name);
    unlinkat(od->own_fd, LINK_NEW, 0);
    int rc = symlinkat(target, od->own_fd, LINK_NEW) != 0 ||
                     renameat(od->own_fd, LINK_NEW, dir_fd, name) != 0
                 ? -1
                 : 0;
    free(target);
    if (rc != 0) {
        char *path = sp_path_join(od->dir, name);
        sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
        free(path);
    }
    return rc;
}

/* After the switch: links of names the outputs no longer have. */
static void remove_stale_links(int dir_fd, const sp_strv *names)
{
    sp_strv all;
    sp_strv_init(&all);
    if (list_names(dir_fd, &all) == 0)
        for (size_t i = 0; i < all.n; i++)
            if (!sp_strv_contains(names, all.v[i]) && is_own_link(dir_fd, all.v[i]))
                unlinkat(dir_fd, all.v[i], 0);
    sp_strv_release(&all);
}

int sp_outdir_commit(sp_outdir *od, sp_error *err)
{
    if (cancelled)
        return sp_error_set(err, SP_EIO, od->dir,
                            "interrupted; previous outputs left as they were");
    int dir_fd = open(od->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0)
        return sp_error_set(err, SP_EIO, od->dir, "cannot write: %s", strerror(errno));
    sp_strv names;
    sp_strv_init(&names);
    top_names(od, &names);
    int rc = 0;
    for (size_t i = 0; i < names.n && rc == 0; i++)
        rc = check_link_place(od, dir_fd, names.v[i], err);
    if (rc == 0)
        rc = sync_stage(od, err);
    for (size_t i = 0; i < names.n && rc == 0; i++)
        rc = make_link(od, dir_fd, names.v[i], err);
    if (rc == 0) {
        /* The switch: one rename, then the directory that holds it on storage. */
        unlinkat(od->own_fd, CURRENT_NEW, 0);
        if (symlinkat(od->gen, od->own_fd, CURRENT_NEW) != 0 ||
            renameat(od->own_fd, CURRENT_NEW, od->own_fd, CURRENT) != 0) {
            rc = sp_error_set(err, SP_EIO, od->dir, "cannot write: %s", strerror(errno));
        } else {
            od->committed = 1; /* visible now, whatever happens next */
            if (fsync(od->own_fd) != 0 || fsync(dir_fd) != 0)
                rc = sp_error_set(err, SP_EIO, od->dir, "written, but cannot sync: %s",
                                  strerror(errno));
        }
    }
    if (od->committed) {
        if (od->current)
            sp_remove_tree_at(od->own_fd, od->current);
        remove_stale_links(dir_fd, &names);
        free(od->current);
        od->current = sp_xstrdup(od->gen);
    }
    sp_strv_release(&names);
    close(dir_fd);
    return rc;
}

void sp_outdir_release(sp_outdir *od)
{
    if (!od->committed && od->gen && od->own_fd >= 0)
        sp_remove_tree_at(od->own_fd, od->gen);
    if (!od->committed && od->made_dir && od->locked && od->own_fd >= 0) {
        /* Only what this run made: rmdir fails on anything else there. And
         * only by the lock's holder: two runs may both have made a new
         * directory (each saw none), and the one that did not get the lock
         * must not take the lock file and .sp-pack/ from under the other. */
        unlinkat(od->own_fd, LOCK_NAME, 0);
        rmdir(od->own);
        rmdir(od->dir);
    }
    /* No process ID of a run that is gone: empty the file, then let go. */
    if (od->locked && ftruncate(od->lock_fd, 0) != 0)
        od->locked = 0; /* nothing to do about it: the next holder overwrites it */
    if (od->lock_fd >= 0)
        close(od->lock_fd); /* releases the lock */
    if (od->own_fd >= 0)
        close(od->own_fd);
    SP_FREE_ALL(od->dir, od->own, od->current, od->gen, od->stage, od->made);
    sp_strv_release(&od->files);
    memset(od, 0, sizeof *od);
    od->own_fd = od->lock_fd = -1;
}
