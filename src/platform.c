/* Platform differences (see sppack/platform.h). SP_HAVE_* come from CMake's
 * feature checks; the portable build defines none of them. */
#define _GNU_SOURCE
#include "sppack/platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef SP_HAVE_SENDFILE
#include <sys/sendfile.h>
#endif

#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/path.h"
#include "sppack/vec.h"

/* A stat time's field as nanoseconds: st_mtim (POSIX 2008), st_mtimespec
 * (macOS), else whole seconds. */
#if defined(SP_HAVE_ST_MTIM)
#define STAT_NS(st, x)                                                                             \
    ((uint64_t)(st)->st_##x##tim.tv_sec * 1000000000u + (uint64_t)(st)->st_##x##tim.tv_nsec)
#elif defined(SP_HAVE_ST_MTIMESPEC)
#define STAT_NS(st, x)                                                                             \
    ((uint64_t)(st)->st_##x##timespec.tv_sec * 1000000000u +                                       \
     (uint64_t)(st)->st_##x##timespec.tv_nsec)
#else
#define STAT_NS(st, x) ((uint64_t)(st)->st_##x##time * 1000000000u)
#endif

uint64_t sp_stat_mtime_ns(const struct stat *st)
{
    return STAT_NS(st, m);
}

uint64_t sp_stat_ctime_ns(const struct stat *st)
{
    return STAT_NS(st, c);
}

/* ---- directory listings --------------------------------------------------------------------- */

struct lister {
    sp_buf names;
    SP_VEC(size_t) offsets;
    SP_VEC(unsigned char) types;
};

static void add_name(struct lister *l, const char *name, unsigned char type)
{
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return;
    SP_VEC_PUSH(l->offsets, l->names.len);
    SP_VEC_PUSH(l->types, type);
    sp_buf_add(&l->names, name, strlen(name) + 1);
}

#ifdef SP_HAVE_GETDENTS64
/* getdents64 straight: no DIR stream, no second descriptor. */
static int read_names(int fd, struct lister *l)
{
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
            add_name(l, de->d_name, de->d_type);
        }
    }
}
#else
static int read_names(int fd, struct lister *l)
{
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        int e = errno;
        if (dup_fd >= 0)
            close(dup_fd);
        return e;
    }
    rewinddir(d);
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)))
        add_name(l, de->d_name,
#ifdef DT_UNKNOWN
                 de->d_type
#else
                 0
#endif
        );
    int e = errno;
    closedir(d);
    return e;
}
#endif

int sp_dir_list_read(int fd, sp_dir_list *out)
{
    struct lister l;
    memset(&l, 0, sizeof l);
    sp_buf_init(&l.names);
    sp_buf_grow(&l.names, 0); /* names is never NULL */
    int rc = read_names(fd, &l);
    out->names = l.names.data;
    out->offsets = l.offsets.v;
    out->types = l.types.v;
    out->n = l.offsets.n;
    return rc;
}

void sp_dir_list_release(sp_dir_list *l)
{
    SP_FREE_ALL(l->names, l->offsets, l->types);
    memset(l, 0, sizeof *l);
}

/* ---- copies in the kernel ------------------------------------------------------------------- */

ssize_t sp_kernel_copy(int in, off_t *in_off, int out, size_t n)
{
#if defined(SP_HAVE_COPY_FILE_RANGE) || defined(SP_HAVE_SENDFILE)
    size_t done = 0;
#ifdef SP_HAVE_COPY_FILE_RANGE
    int use_sendfile = 0;
#else
    int use_sendfile = 1;
#endif
    while (done < n) {
        /* At most 1 GiB a call: offset plus length must not overflow. */
        size_t chunk = n - done < ((size_t)1 << 30) ? n - done : (size_t)1 << 30;
        ssize_t c = -1;
        if (use_sendfile) {
#ifdef SP_HAVE_SENDFILE
            c = sendfile(out, in, in_off, chunk);
#else
            break;
#endif
        } else {
#ifdef SP_HAVE_COPY_FILE_RANGE
            loff_t at = (loff_t)*in_off;
            c = copy_file_range(in, &at, out, NULL, chunk, 0);
            if (c > 0)
                *in_off = (off_t)at;
#endif
        }
        if (c < 0 && errno == EINTR)
            continue;
        if (c < 0 &&
            (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
#ifdef SP_HAVE_SENDFILE
            if (use_sendfile)
                break; /* neither way here: the caller copies the rest */
            use_sendfile = 1;
            continue;
#else
            break;
#endif
        }
        if (c < 0)
            return -1;
        if (c == 0)
            break; /* the end of in */
        done += (size_t)c;
    }
    return (ssize_t)done;
#else
    (void)in;
    (void)in_off;
    (void)out;
    (void)n;
    return 0;
#endif
}

/* ---- descriptors ---------------------------------------------------------------------------- */

int sp_open_path(const char *path)
{
#ifdef SP_HAVE_O_PATH
    return open(path, O_PATH | O_CLOEXEC);
#else
    return open(path, O_RDONLY | O_CLOEXEC);
#endif
}

int sp_pipe_cloexec(int fds[2])
{
#ifdef SP_HAVE_PIPE2
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

char *sp_self_path(const char *argv0)
{
#ifdef SP_HAVE_PROC_SELF_EXE
    (void)argv0;
    return sp_xstrdup("/proc/self/exe");
#else
    if (!argv0 || !*argv0)
        return NULL;
    if (strchr(argv0, '/'))
        return realpath(argv0, NULL);
    return sp_find_on_path(argv0);
#endif
}

int sp_sync_file_system(int fd)
{
#ifdef SP_HAVE_SYNCFS
    return syncfs(fd);
#else
    (void)fd;
    errno = ENOSYS;
    return -1;
#endif
}
