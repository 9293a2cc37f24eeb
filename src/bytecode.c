#define _GNU_SOURCE
#include "sppack/bytecode.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "sppack/alloc.h"
#include "sppack/file.h"
#include "sppack/hash.h"
#include "sppack/path.h"
#include "sppack/platform.h"

extern const unsigned char sp_pyc_helper_py[];
extern const size_t sp_pyc_helper_py_len;

struct sp_pyc {
    pid_t pid;
    int to, from; /* pipes to and from the helper */
    unsigned char magic[4];
    int version;     /* 314 for 3.14 */
    char *cache_dir; /* NULL: no cache */
    size_t compiled, cached;
};

/* A CPython starts and answers in well under this; something else given
 * as --python may never answer. */
#define HELLO_TIMEOUT_MS 10000

/* The helper's first 6 bytes, within HELLO_TIMEOUT_MS. */
static int read_hello(int fd, unsigned char hello[6])
{
    size_t got = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (got < 6) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        struct pollfd p = {fd, POLLIN, 0};
        int r = waited < HELLO_TIMEOUT_MS ? poll(&p, 1, (int)(HELLO_TIMEOUT_MS - waited)) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t n = read(fd, hello + got, 6 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

int sp_pyc_start(sp_pyc **out, const char *python, sp_error *err)
{
    *out = NULL;
    int in_pipe[2], out_pipe[2];
    if (sp_pipe_cloexec(in_pipe) != 0)
        return sp_error_set(err, SP_EIO, NULL, "cannot create a pipe: %s", strerror(errno));
    if (sp_pipe_cloexec(out_pipe) != 0) {
        close(in_pipe[0]);
        close(in_pipe[1]);
        return sp_error_set(err, SP_EIO, NULL, "cannot create a pipe: %s", strerror(errno));
    }
    char *script = sp_xstrndup((const char *)sp_pyc_helper_py, sp_pyc_helper_py_len);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        /* -I: isolated (no user site, no PYTHON* variables), -S: no site. */
        execl(python, python, "-I", "-S", "-c", script, (char *)NULL);
        _exit(127);
    }
    free(script);
    close(in_pipe[0]);
    close(out_pipe[1]);
    if (pid < 0) {
        close(in_pipe[1]);
        close(out_pipe[0]);
        return sp_error_set(err, SP_EIO, python, "cannot start: %s", strerror(errno));
    }
    sp_pyc *c = sp_xcalloc(1, sizeof *c);
    c->pid = pid;
    c->to = in_pipe[1];
    c->from = out_pipe[0];
    unsigned char hello[6]; /* magic number, major, minor */
    if (read_hello(c->from, hello) != 0) {
        kill(c->pid, SIGKILL); /* it may never read its input */
        sp_pyc_stop(c);
        return sp_error_set(err, SP_EUSAGE, python,
                            "--python: cannot run it as a CPython interpreter");
    }
    memcpy(c->magic, hello, 4);
    unsigned char *version = hello + 4;
    c->version = version[0] * 100 + version[1];
    const char *dir = getenv("SP_PACK_PYC_CACHE");
    char *base = dir && *dir ? sp_xstrdup(dir) : sp_cache_dir("pyc");
    if (base)
        c->cache_dir = sp_xasprintf("%s/%02x%02x", base, c->magic[0], c->magic[1]);
    free(base);
    if (c->cache_dir)
        sp_mkdirs(c->cache_dir, NULL); /* without it, everything is compiled */
    *out = c;
    return 0;
}

const unsigned char *sp_pyc_magic(const sp_pyc *c)
{
    return c->magic;
}

int sp_pyc_version(const sp_pyc *c)
{
    return c->version;
}

int sp_pyc_stdlib_magic(const char *stdlib_dir)
{
    char *path = sp_path_join(stdlib_dir, "importlib/_bootstrap_external.py");
    sp_map m;
    int magic = -1;
    if (sp_map_open(&m, path, NULL) == 0) {
        const char *key = "MAGIC_NUMBER = (";
        const char *p = memmem(m.data, m.size, key, strlen(key));
        if (p) {
            p += strlen(key);
            const char *end = (const char *)m.data + m.size;
            long v = 0;
            int digits = 0;
            while (p < end && *p >= '0' && *p <= '9' && digits < 6) {
                v = v * 10 + (*p++ - '0');
                digits++;
            }
            if (digits && p < end && *p == ')')
                magic = (int)v;
        }
        sp_map_close(&m);
    }
    free(path);
    return magic;
}

static char *cache_path(const sp_pyc *c, const char *name, const void *src, size_t n)
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_128bits_reset(h);
    XXH3_128bits_update(h, name, strlen(name) + 1);
    XXH3_128bits_update(h, src, n);
    XXH128_hash_t d = XXH3_128bits_digest(h);
    XXH3_freeState(h);
    char hi[17], lo[17];
    sp_u64_hex(d.high64, hi);
    sp_u64_hex(d.low64, lo);
    return sp_xasprintf("%s/%s%s.pyc", c->cache_dir, hi, lo);
}

int sp_pyc_compile(sp_pyc *c, const char *name, const void *source, size_t n, sp_buf *out,
                   sp_error *err)
{
    out->len = 0;
    char *cached = c->cache_dir ? cache_path(c, name, source, n) : NULL;
    if (cached) {
        sp_map m;
        if (sp_map_open(&m, cached, NULL) == 0) {
            int ok = m.size > 16 && memcmp(m.data, c->magic, 4) == 0;
            if (ok)
                sp_buf_add(out, m.data, m.size);
            sp_map_close(&m);
            if (ok) {
                c->cached++;
                free(cached);
                return 0;
            }
        }
    }
    uint32_t head[2] = {(uint32_t)strlen(name), (uint32_t)n};
    uint32_t reply[2];
    if (sp_write_all(c->to, head, sizeof head) != 0 || sp_write_all(c->to, name, head[0]) != 0 ||
        sp_write_all(c->to, source, n) != 0 || sp_read_all(c->from, reply, sizeof reply) != 0) {
        free(cached);
        return sp_error_set(err, SP_EIO, name, "the bytecode helper stopped");
    }
    sp_buf_grow(out, reply[1]);
    if (sp_read_all(c->from, out->data, reply[1]) != 0) {
        free(cached);
        return sp_error_set(err, SP_EIO, name, "the bytecode helper stopped");
    }
    out->len = reply[1];
    out->data[out->len] = '\0';
    if (reply[0] == 0) {
        c->compiled++;
        if (cached) /* a concurrent run never reads half a file */
            sp_write_file_atomic(cached, out->data, out->len, NULL);
    }
    free(cached);
    return reply[0] == 0 ? 0 : 1;
}

void sp_pyc_counts(const sp_pyc *c, size_t *compiled, size_t *cached)
{
    *compiled = c->compiled;
    *cached = c->cached;
}

void sp_pyc_stop(sp_pyc *c)
{
    if (!c)
        return;
    close(c->to); /* end of input: the helper exits */
    close(c->from);
    int status;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    SP_FREE_ALL(c->cache_dir, c);
}
