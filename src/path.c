#include "sppack/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sppack/alloc.h"

char *sp_path_join(const char *a, const char *b)
{
    if (!*a)
        return sp_xstrdup(b);
    if (!*b)
        return sp_xstrdup(a);
    size_t la = strlen(a), lb = strlen(b);
    size_t sep = a[la - 1] == '/' ? 0 : 1;
    char *p = sp_xmalloc(la + sep + lb + 1);
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + sep, b, lb + 1);
    return p;
}

const char *sp_path_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int sp_path_is_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return 1;
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* mkdir -p, leaf first: an existing directory costs one call, not one
 * per path component. */
static int mkdirs_at(char *p)
{
    if (mkdir(p, 0755) == 0)
        return 0;
    if (errno == EEXIST) {
        struct stat st;
        if (stat(p, &st) != 0)
            return -1;
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
        return 0;
    }
    char *slash = strrchr(p, '/');
    if (errno != ENOENT || !slash || slash == p)
        return -1;
    *slash = '\0';
    int rc = mkdirs_at(p);
    *slash = '/';
    if (rc != 0)
        return -1;
    return mkdir(p, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int sp_mkdirs(const char *dir, sp_error *err)
{
    char *p = sp_xstrdup(dir);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    int rc = 0;
    if (mkdirs_at(p) != 0)
        rc = sp_error_set(err, SP_EIO, p, "cannot create directory: %s", strerror(errno));
    free(p);
    return rc;
}

/* Removes name below the directory dirfd: a directory with what it holds,
 * anything else (a symlink too) by unlinking it. Never follows a link: a
 * directory is opened with O_NOFOLLOW, so one swapped for a link meanwhile
 * fails instead of leading elsewhere. */
static int remove_at(int parent, const char *name)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(parent, name, 0) == 0 || errno == ENOENT ? 0 : -1;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            remove_at(dirfd(d), de->d_name) != 0)
            rc = -1;
    }
    closedir(d);
    if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int sp_remove_tree_at(int dirfd, const char *name)
{
    return remove_at(dirfd, name);
}

int sp_remove_tree(const char *path)
{
    return remove_at(AT_FDCWD, path);
}

char *sp_realpath_lenient(const char *path)
{
    char *r = realpath(path, NULL);
    if (r)
        return r;
    if (errno != ENOENT)
        return NULL;
    /* Walk up to the deepest existing ancestor. */
    char *copy = sp_xstrdup(path);
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    char *slash = strrchr(copy, '/');
    char *base, *parent_real;
    if (!slash) {
        base = copy;
        parent_real = realpath(".", NULL);
    } else {
        *slash = '\0';
        base = slash + 1;
        parent_real = sp_realpath_lenient(slash == copy ? "/" : copy);
    }
    char *out = NULL;
    if (parent_real)
        out = sp_path_join(parent_real, base);
    SP_FREE_ALL(parent_real, copy);
    return out;
}

char *sp_find_on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    char *copy = sp_xstrdup(path), *save = NULL;
    char *found = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char *candidate = sp_path_join(*dir ? dir : ".", name);
        if (access(candidate, X_OK) == 0)
            found = candidate;
        else
            free(candidate);
    }
    free(copy);
    return found;
}

char *sp_cache_dir(const char *sub)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        return sp_xasprintf("%s/sp-pack/%s", xdg, sub);
    if (home && *home)
        return sp_xasprintf("%s/.cache/sp-pack/%s", home, sub);
    return NULL;
}

char *sp_path_replace_target(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        char *real = realpath(path, NULL);
        if (real) {
            char *copy = sp_xstrdup(real);
            free(real);
            return copy;
        }
    }
    return sp_xstrdup(path);
}
