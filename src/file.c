#include "sppack/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sppack/alloc.h"
#include "sppack/cleanup.h"
#include "sppack/platform.h"
#include "sppack/text.h"

/* What a file that changed under a reader is told with. */
#define CHANGED_WHILE_READ                                                                         \
    "changed while sp-pack was reading it (it must stay as it is during a run)"

/* Whether st still shows the size and times a file had. */
static int stat_same(const struct stat *st, size_t size, unsigned long long mtime_ns,
                     unsigned long long ctime_ns)
{
    return (size_t)st->st_size == size && sp_stat_mtime_ns(st) == mtime_ns &&
           sp_stat_ctime_ns(st) == ctime_ns;
}

/* path opened for reading, and its stat: a regular file, else -1 with err
 * set. Non-blocking, so that a FIFO is refused instead of waiting for a
 * writer. */
static int open_regular(const char *path, struct stat *st, sp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return sp_error_set(err, SP_EIO, path, "cannot read: %s", strerror(errno));
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        return sp_error_set(err, SP_EIO, path, "cannot read: %s", strerror(e));
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return sp_error_set(err, SP_EINPUT, path, "not a regular file");
    }
    return fd;
}

int sp_map_open(sp_map *m, const char *path, sp_error *err)
{
    memset(m, 0, sizeof *m);
    struct stat before, after;
    int fd = open_regular(path, &before, err);
    if (fd < 0)
        return -1;
    /* One byte more than the size: a file whose stat understates what it
     * holds is refused, not read cut short; the stat after the read tells
     * one that changed meanwhile. */
    size_t size = (size_t)before.st_size;
    unsigned char *buf = sp_xmalloc(size + 1);
    ssize_t got = sp_read_up_to(fd, buf, size + 1);
    int e = got < 0 ? errno : 0;
    int changed =
        !e && ((size_t)got != size || fstat(fd, &after) != 0 ||
               !stat_same(&after, size, sp_stat_mtime_ns(&before), sp_stat_ctime_ns(&before)));
    close(fd);
    if (e || changed) {
        free(buf);
        if (e)
            return sp_error_set(err, SP_EIO, path, "cannot read: %s", strerror(e));
        return sp_error_set(err, SP_EIO, path, CHANGED_WHILE_READ);
    }
    m->data = buf;
    m->size = size;
    return 0;
}

/* The views a fault may hit, each with the line that names its file: a
 * slot is claimed by swapping its start from NULL to BUSY, filled, then
 * published; the SIGBUS handler reads only published slots. */
#define MAX_VIEWS 4096
#define BUSY ((const unsigned char *)1)
static struct view_slot {
    const unsigned char *start;
    size_t size;
    char *message; /* "sp-pack: PATH: changed while ...\n" */
} views[MAX_VIEWS];
static size_t views_used; /* slots below this may be published */

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    const unsigned char *a = si->si_addr;
    size_t n = __atomic_load_n(&views_used, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *start = __atomic_load_n(&views[i].start, __ATOMIC_ACQUIRE);
        if (start && start != BUSY && a >= start && a < start + views[i].size) {
            const char *msg = views[i].message;
            ssize_t w = write(2, msg, strlen(msg));
            (void)w;
            sp_cleanup_remove_registered();
            _exit(3);
        }
    }
    /* Not a view's: the default action, as if no handler were there. */
    signal(sig, SIG_DFL);
    raise(sig);
}

static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;

static void install_sigbus(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

void *sp_view_map(int fd, size_t size, const char *path)
{
    pthread_once(&sigbus_once, install_sigbus);
    for (size_t i = 0; i < MAX_VIEWS; i++) {
        const unsigned char *expect = NULL;
        if (!__atomic_compare_exchange_n(&views[i].start, &expect, BUSY, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            __atomic_store_n(&views[i].start, NULL, __ATOMIC_RELEASE);
            return NULL;
        }
        char *shown = sp_escape(path);
        free(views[i].message);
        views[i].message = sp_xasprintf("sp-pack: %s: " CHANGED_WHILE_READ "\n", shown);
        free(shown);
        views[i].size = size;
        size_t used = __atomic_load_n(&views_used, __ATOMIC_ACQUIRE);
        while (used < i + 1 && !__atomic_compare_exchange_n(&views_used, &used, i + 1, 0,
                                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            ;
        __atomic_store_n(&views[i].start, (const unsigned char *)p, __ATOMIC_RELEASE);
        return p;
    }
    errno = EMFILE; /* every slot taken: the caller reads instead */
    return NULL;
}

void sp_view_unmap(void *p, size_t size)
{
    size_t n = __atomic_load_n(&views_used, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n; i++) {
        if (__atomic_load_n(&views[i].start, __ATOMIC_ACQUIRE) == p) {
            __atomic_store_n(&views[i].start, NULL, __ATOMIC_RELEASE);
            break;
        }
    }
    munmap(p, size);
}

int sp_map_view(sp_map *m, const char *path, sp_error *err)
{
    memset(m, 0, sizeof *m);
    struct stat st;
    int fd = open_regular(path, &st, err);
    if (fd < 0)
        return -1;
    if (st.st_size > 0) {
        m->data = sp_view_map(fd, (size_t)st.st_size, path);
        if (!m->data) {
            close(fd);
            return sp_map_open(m, path, err); /* no view to be had: read it */
        }
    }
    m->size = (size_t)st.st_size;
    m->view = 1;
    m->fd = fd;
    m->mtime_ns = sp_stat_mtime_ns(&st);
    m->ctime_ns = sp_stat_ctime_ns(&st);
    return 0;
}

int sp_map_unchanged(const sp_map *m, const char *path, sp_error *err)
{
    struct stat st;
    if (!m->view)
        return 0;
    if (fstat(m->fd, &st) == 0 && stat_same(&st, m->size, m->mtime_ns, m->ctime_ns))
        return 0;
    return sp_error_set(err, SP_EIO, path, CHANGED_WHILE_READ);
}

void sp_map_close(sp_map *m)
{
    if (m->view) {
        if (m->data)
            sp_view_unmap(m->data, m->size);
        close(m->fd);
    } else {
        free(m->data);
    }
    memset(m, 0, sizeof *m);
}

int sp_write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

ssize_t sp_read_up_to(int fd, void *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, (char *)buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int sp_read_all(int fd, void *buf, size_t n)
{
    ssize_t got = sp_read_up_to(fd, buf, n);
    if (got >= 0 && (size_t)got < n)
        errno = 0; /* the end came first */
    return got >= 0 && (size_t)got == n ? 0 : -1;
}

int sp_write_file(const char *path, const void *data, size_t n, sp_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
    if (sp_write_all(fd, data, n) != 0) {
        int e = errno;
        close(fd);
        return sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(e));
    }
    if (close(fd) != 0)
        return sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
    return 0;
}

char *sp_temp_path(const char *path)
{
    char *tmp = sp_xasprintf("%s.sp-pack-tmp-%ld", path, (long)getpid());
    sp_cleanup_register(tmp); /* removed if a signal stops the run */
    return tmp;
}

char *sp_temp_target(const char *path)
{
    const char *tag = strstr(path, ".sp-pack-tmp-");
    while (tag && strstr(tag + 1, ".sp-pack-tmp-"))
        tag = strstr(tag + 1, ".sp-pack-tmp-");
    if (tag && tag > path) {
        const char *d = tag + strlen(".sp-pack-tmp-");
        size_t digits = strspn(d, "0123456789");
        if (digits > 0 && d[digits] == '\0')
            return sp_xstrndup(path, (size_t)(tag - path));
    }
    return sp_xstrdup(path);
}

/* fsync of path (a file, or a directory). */
static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int commit(int rc, const char *tmp, const char *path, int durable, sp_error *err)
{
    if (rc == 0 && durable && sync_path(tmp) != 0)
        rc = sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
    if (rc != 0)
        unlink(tmp);
    sp_cleanup_forget(tmp);
    if (rc == 0 && durable) {
        char *dir = sp_xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[slash == dir] = '\0';
        if (sync_path(slash ? dir : ".") != 0)
            rc = sp_error_set(err, SP_EIO, path, "written, but cannot sync: %s", strerror(errno));
        free(dir);
    }
    return rc;
}

int sp_commit(int rc, const char *tmp, const char *path, sp_error *err)
{
    return commit(rc, tmp, path, 1, err);
}

int sp_write_file_atomic(const char *path, const void *data, size_t n, sp_error *err)
{
    char *tmp = sp_temp_path(path);
    int rc = commit(sp_write_file(tmp, data, n, err), tmp, path, 0, err);
    free(tmp);
    return rc;
}

int sp_copy_file(const char *src, const char *dst, sp_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return sp_error_set(err, SP_EIO, src, "cannot read: %s", strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        return sp_error_set(err, SP_EIO, dst, "cannot write: %s", strerror(e));
    }
    int rc = 0;
    /* In the kernel as far as it goes; read and write whatever is left. */
    off_t at = 0;
    if (sp_kernel_copy(in, &at, out, SIZE_MAX) < 0)
        rc = sp_error_set(err, SP_EIO, dst, "cannot copy from %s: %s", src, strerror(errno));
    else if (lseek(in, at, SEEK_SET) < 0)
        rc = sp_error_set(err, SP_EIO, src, "cannot read: %s", strerror(errno));
    while (rc == 0) {
        char buf[1 << 16];
        ssize_t n = sp_read_up_to(in, buf, sizeof buf);
        if (n < 0)
            rc = sp_error_set(err, SP_EIO, src, "cannot read: %s", strerror(errno));
        else if (n == 0)
            break;
        else if (sp_write_all(out, buf, (size_t)n) != 0)
            rc = sp_error_set(err, SP_EIO, dst, "cannot write: %s", strerror(errno));
    }
    close(in);
    if (close(out) != 0 && rc == 0)
        rc = sp_error_set(err, SP_EIO, dst, "cannot write: %s", strerror(errno));
    return rc;
}
