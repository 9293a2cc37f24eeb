/* Small building blocks: checked allocation, growable buffers and string
 * lists, paths, read-only file mappings, and helper threads. */
#ifndef SPPACK_UTIL_H
#define SPPACK_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "sppack/error.h"

/* Allocation that never returns NULL: out of memory aborts the process,
 * as there is nothing sensible a packer can do without memory. */
void *sp_xmalloc(size_t n);
void *sp_xcalloc(size_t n, size_t size);
void *sp_xrealloc(void *p, size_t n);
char *sp_xstrdup(const char *s);
char *sp_xstrndup(const char *s, size_t n);
char *sp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* vasprintf that aborts on failure; *len (when not NULL) gets the length. */
char *sp_xvasprintf(const char *fmt, va_list ap, size_t *len) __attribute__((format(printf, 1, 0)));

/* A growable byte buffer. sp_buf_init makes an empty one; sp_buf_release
 * frees the storage; sp_buf_detach hands the NUL-terminated storage to the
 * caller. data is always NUL-terminated after any append. */
typedef struct sp_buf {
    char *data;
    size_t len, cap;
} sp_buf;

void sp_buf_init(sp_buf *b);
void sp_buf_release(sp_buf *b);
char *sp_buf_detach(sp_buf *b);
void sp_buf_grow(sp_buf *b, size_t extra);
void sp_buf_add(sp_buf *b, const void *data, size_t n);
void sp_buf_adds(sp_buf *b, const char *s);
void sp_buf_addf(sp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sp_buf_put16(sp_buf *b, uint16_t v); /* little-endian */
void sp_buf_put32(sp_buf *b, uint32_t v);

/* A growable list of owned strings. */
typedef struct sp_strv {
    char **v;
    size_t n, cap;
} sp_strv;

void sp_strv_init(sp_strv *s);
void sp_strv_release(sp_strv *s);
void sp_strv_push(sp_strv *s, const char *str);      /* copies str */
void sp_strv_push_owned(sp_strv *s, char *str);       /* takes str */
int sp_strv_contains(const sp_strv *s, const char *str);
void sp_strv_sort(sp_strv *s);

/* "a" + "/" + "b"; either side may be empty. */
char *sp_path_join(const char *a, const char *b);
/* 1 when path equals dir or lies beneath it (both canonical, no trailing /). */
int sp_path_is_within(const char *path, const char *dir);
/* Creates dir and its parents (mode 0755). */
int sp_mkdirs(const char *dir, sp_error *err);
/* Removes a tree; missing is fine. Returns -1 on the first failure. */
int sp_remove_tree(const char *path);
/* Canonical absolute form of a path that may not exist yet: realpath of its
 * deepest existing ancestor plus the rest. NULL when even that fails. */
char *sp_realpath_lenient(const char *path);

/* A read-only view of a whole file: mmap for regular files, empty files
 * have data == NULL and size 0. */
typedef struct sp_map {
    unsigned char *data; /* private pages: writable, never written back */
    size_t size;
    int mapped;
} sp_map;

int sp_map_open(sp_map *m, const char *path, sp_error *err);
void sp_map_close(sp_map *m);

/* Writes all of data to a new file (mode 0644), replacing any. */
int sp_write_file(const char *path, const void *data, size_t n, sp_error *err);
/* sp_write_file through a temporary name beside path and a rename, so that
 * a concurrent reader never sees half a file; nothing is left on failure. */
int sp_write_file_atomic(const char *path, const void *data, size_t n, sp_error *err);
/* Copies up to n bytes from in, at *in_off (advanced), to out at its file
 * position, in the kernel: copy_file_range (a reflink where the file system
 * can), else sendfile (across file systems, where copy_file_range refuses).
 * Stops early at the end of in, or where neither way works here (the
 * caller copies the rest itself). Returns the bytes copied, or -1 with
 * errno on a real error. */
ssize_t sp_kernel_copy(int in, off_t *in_off, int out, size_t n);
/* Copies a file's bytes to a new file (sp_kernel_copy, then read/write for
 * anything left). */
int sp_copy_file(const char *src, const char *dst, sp_error *err);
/* sp_copy_file into dst, which must exist already: no create, so no
 * exclusive lock on its directory (see sp_create_file). */
int sp_copy_file_into(const char *src, const char *dst, sp_error *err);
/* Creates (or empties) the file path. Creating files in one directory
 * serializes on it; one thread creating while others fill beats many
 * threads contending. */
int sp_create_file(const char *path, sp_error *err);

/* "12.3 MiB", "4.0 KiB", "17 B" into buf; returns buf. */
const char *sp_human_size(double bytes, char buf[32]);

/* A stat time as nanoseconds since the epoch. */
uint64_t sp_timespec_ns(const struct timespec *t);

/* xxh3-64 of a byte range as 16 lowercase hex digits plus NUL. */
void sp_xxh3_hex(const void *data, size_t n, char out[17]);
void sp_u64_hex(uint64_t v, char out[17]);

/* Helper threads for work shared through a queue: the caller works too, so
 * a thread that cannot be started only means fewer hands. */
#define SP_MAX_THREADS 8
struct sp_thread_boots;
typedef struct sp_threads {
    pthread_t ids[SP_MAX_THREADS];
    int n;
    struct sp_thread_boots *boots; /* how each thread starts (util.c) */
} sp_threads;

/* Starts fn(args[i]) for i in 0..n-1 (at most SP_MAX_THREADS), each on a
 * thread of its own; args[i] may repeat. Each thread starts on a CPU other
 * than the caller's where one is allowed, then may run on any allowed CPU:
 * left alone, Linux often starts a new thread on its parent's CPU and moves
 * it only at a later balancing tick, milliseconds away. */
void sp_threads_start(sp_threads *t, void *(*fn)(void *), void *const *args, int n);
/* Waits for every thread started. */
void sp_threads_join(sp_threads *t);

#endif
