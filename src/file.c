#include "sppack/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sppack/alloc.h"
#include "sppack/cleanup.h"
#include "sppack/platform.h"

int sp_map_open(sp_map *m, const char *path, sp_error *err)
{
    m->data = NULL;
    m->size = 0;
    m->mapped = 0;
    /* Non-blocking, so that a FIFO is refused below instead of waiting
     * for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return sp_error_set(err, SP_EIO, path, "cannot read: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return sp_error_set(err, SP_EIO, path, "cannot read: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sp_error_set(err, SP_EINPUT, path, "not a regular file");
    }
    if (st.st_size > 0) {
        /* Writable private pages: libelf may convert headers in place; the
         * file itself is never changed. */
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return sp_error_set(err, SP_EIO, path, "cannot read: %s", strerror(e));
        }
        m->data = p;
        m->size = (size_t)st.st_size;
        m->mapped = 1;
    }
    close(fd);
    return 0;
}

void sp_map_close(sp_map *m)
{
    if (m->mapped)
        munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
    m->mapped = 0;
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

int sp_read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
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

int sp_commit(int rc, const char *tmp, const char *path, sp_error *err)
{
    if (rc == 0 && rename(tmp, path) != 0)
        rc = sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
    if (rc != 0)
        unlink(tmp);
    sp_cleanup_forget(tmp);
    return rc;
}

int sp_write_file_atomic(const char *path, const void *data, size_t n, sp_error *err)
{
    char *tmp = sp_temp_path(path);
    int rc = sp_commit(sp_write_file(tmp, data, n, err), tmp, path, err);
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
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
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
