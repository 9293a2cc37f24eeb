#define _GNU_SOURCE
#include "sppack/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static void oom(void)
{
    fputs("sp-pack: out of memory\n", stderr);
    abort();
}

void *sp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *sp_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *sp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

char *sp_xstrdup(const char *s)
{
    return sp_xstrndup(s, strlen(s));
}

char *sp_xstrndup(const char *s, size_t n)
{
    char *p = sp_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sp_xvasprintf(const char *fmt, va_list ap, size_t *len)
{
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    if (r < 0)
        oom();
    if (len)
        *len = (size_t)r;
    return s;
}

char *sp_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = sp_xvasprintf(fmt, ap, NULL);
    va_end(ap);
    return s;
}

void sp_buf_init(sp_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void sp_buf_release(sp_buf *b)
{
    free(b->data);
    sp_buf_init(b);
}

char *sp_buf_detach(sp_buf *b)
{
    sp_buf_grow(b, 0);
    char *d = b->data;
    sp_buf_init(b);
    return d;
}

void sp_buf_grow(sp_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = sp_xrealloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0';
}

void sp_buf_add(sp_buf *b, const void *data, size_t n)
{
    sp_buf_grow(b, n);
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sp_buf_adds(sp_buf *b, const char *s)
{
    sp_buf_add(b, s, strlen(s));
}

void sp_buf_addf(sp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n;
    char *s = sp_xvasprintf(fmt, ap, &n);
    va_end(ap);
    sp_buf_add(b, s, n);
    free(s);
}

void sp_buf_put16(sp_buf *b, uint16_t v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    sp_buf_add(b, x, 2);
}

void sp_buf_put32(sp_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    sp_buf_add(b, x, 4);
}

void sp_strv_init(sp_strv *s)
{
    s->v = NULL;
    s->n = s->cap = 0;
}

void sp_strv_release(sp_strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    sp_strv_init(s);
}

void sp_strv_push_owned(sp_strv *s, char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = sp_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = str;
}

void sp_strv_push(sp_strv *s, const char *str)
{
    sp_strv_push_owned(s, sp_xstrdup(str));
}

int sp_strv_contains(const sp_strv *s, const char *str)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], str) == 0)
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void sp_strv_sort(sp_strv *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_str);
}

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

int sp_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *child = sp_path_join(path, de->d_name);
        if (sp_remove_tree(child) != 0)
            rc = -1;
        free(child);
    }
    closedir(d);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
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
    free(parent_real);
    free(copy);
    return out;
}

int sp_map_open(sp_map *m, const char *path, sp_error *err)
{
    m->data = NULL;
    m->size = 0;
    m->mapped = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
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

int sp_write_file(const char *path, const void *data, size_t n, sp_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(e));
        }
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0)
        return sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
    return 0;
}

ssize_t sp_kernel_copy(int in, off_t *in_off, int out, size_t n)
{
    size_t done = 0;
    int use_sendfile = 0;
    while (done < n) {
        /* At most 1 GiB a call: offset plus length must not overflow. */
        size_t chunk = n - done < ((size_t)1 << 30) ? n - done : (size_t)1 << 30;
        ssize_t c;
        if (use_sendfile) {
            c = sendfile(out, in, in_off, chunk);
        } else {
            loff_t at = (loff_t)*in_off;
            c = copy_file_range(in, &at, out, NULL, chunk, 0);
            if (c > 0)
                *in_off = (off_t)at;
        }
        if (c < 0 && errno == EINTR)
            continue;
        if (c < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                      errno == EOPNOTSUPP)) {
            if (use_sendfile)
                break; /* neither way here: the caller copies the rest */
            use_sendfile = 1;
            continue;
        }
        if (c < 0)
            return -1;
        if (c == 0)
            break; /* the end of in */
        done += (size_t)c;
    }
    return (ssize_t)done;
}

int sp_write_file_atomic(const char *path, const void *data, size_t n, sp_error *err)
{
    char *tmp = sp_xasprintf("%s.%ld.tmp", path, (long)getpid());
    int rc = sp_write_file(tmp, data, n, err);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int copy_file(const char *src, const char *dst, int create, sp_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return sp_error_set(err, SP_EIO, src, "cannot read: %s", strerror(errno));
    int out = open(dst, O_WRONLY | O_TRUNC | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
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
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = sp_error_set(err, SP_EIO, src, "cannot read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                rc = sp_error_set(err, SP_EIO, dst, "cannot write: %s", strerror(errno));
                goto done;
            }
            off += w;
        }
    }
done:
    close(in);
    if (close(out) != 0 && rc == 0)
        rc = sp_error_set(err, SP_EIO, dst, "cannot write: %s", strerror(errno));
    return rc;
}

int sp_copy_file(const char *src, const char *dst, sp_error *err)
{
    return copy_file(src, dst, 1, err);
}

int sp_copy_file_into(const char *src, const char *dst, sp_error *err)
{
    return copy_file(src, dst, 0, err);
}

int sp_create_file(const char *path, sp_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sp_error_set(err, SP_EIO, path, "cannot write: %s", strerror(errno));
    close(fd);
    return 0;
}

void sp_u64_hex(uint64_t v, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[v & 15];
        v >>= 4;
    }
    out[16] = '\0';
}

void sp_xxh3_hex(const void *data, size_t n, char out[17])
{
    sp_u64_hex(XXH3_64bits(data, n), out);
}

const char *sp_human_size(double bytes, char buf[32])
{
    if (bytes >= 1048576.0)
        snprintf(buf, 32, "%.1f MiB", bytes / 1048576.0);
    else if (bytes >= 1024.0)
        snprintf(buf, 32, "%.1f KiB", bytes / 1024.0);
    else
        snprintf(buf, 32, "%.0f B", bytes);
    return buf;
}

uint64_t sp_timespec_ns(const struct timespec *t)
{
    return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

struct sp_thread_boot {
    void *(*fn)(void *);
    void *arg;
    const cpu_set_t *allowed; /* the mask to take back once started, or NULL */
};

struct sp_thread_boots {
    struct sp_thread_boot v[SP_MAX_THREADS];
    cpu_set_t allowed;
};

static void *boot_thread(void *p)
{
    struct sp_thread_boot *b = p;
    if (b->allowed)
        sched_setaffinity(0, sizeof *b->allowed, b->allowed);
    return b->fn(b->arg);
}

/* The allowed CPU at or after position `from` (cyclically) that is not
 * `self`, or -1 when there is none. */
static int other_cpu(const cpu_set_t *allowed, int self, int from)
{
    for (int k = 0; k < CPU_SETSIZE; k++) {
        int c = (from + k) % CPU_SETSIZE;
        if (c != self && CPU_ISSET(c, allowed))
            return c;
    }
    return -1;
}

void sp_threads_start(sp_threads *t, void *(*fn)(void *), void *const *args, int n)
{
    t->n = 0;
    t->boots = NULL;
    if (n <= 0)
        return;
    struct sp_thread_boots *boots = sp_xcalloc(1, sizeof *boots);
    t->boots = boots;
    int self = sched_getcpu();
    int spread = self >= 0 && sched_getaffinity(0, sizeof boots->allowed, &boots->allowed) == 0;
    int next = self + 1;
    for (int i = 0; i < n && i < SP_MAX_THREADS; i++) {
        struct sp_thread_boot *b = &boots->v[t->n];
        *b = (struct sp_thread_boot){fn, args[i], NULL};
        pthread_attr_t attr;
        int have_attr = pthread_attr_init(&attr) == 0;
        int cpu = spread && have_attr ? other_cpu(&boots->allowed, self, next) : -1;
        if (cpu >= 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (pthread_attr_setaffinity_np(&attr, sizeof one, &one) == 0) {
                b->allowed = &boots->allowed;
                next = cpu + 1;
            }
        }
        int rc = pthread_create(&t->ids[t->n], have_attr ? &attr : NULL, boot_thread, b);
        if (rc != 0 && b->allowed) { /* that CPU went away: start anywhere */
            b->allowed = NULL;
            rc = pthread_create(&t->ids[t->n], NULL, boot_thread, b);
        }
        if (rc == 0)
            t->n++;
        if (have_attr)
            pthread_attr_destroy(&attr);
    }
}

void sp_threads_join(sp_threads *t)
{
    for (int i = 0; i < t->n; i++)
        pthread_join(t->ids[i], NULL);
    t->n = 0;
    free(t->boots);
    t->boots = NULL;
}
