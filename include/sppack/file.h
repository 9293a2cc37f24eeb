/* Whole files: read-only views, writes that appear atomically, copies. */
#ifndef SPPACK_FILE_H
#define SPPACK_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "sppack/error.h"

/* A whole regular file's bytes, read into memory. Read, not mapped: a file
 * truncated meanwhile cannot raise SIGBUS. A file that changes while it is
 * read (size, mtime or ctime differ after the read, or more bytes than its
 * size) is an error, SP_EIO; a FIFO or other special file is refused
 * without waiting, SP_EINPUT. The bytes are the caller's to change. */
typedef struct sp_map {
    unsigned char *data;
    size_t size;
    int view; /* 1: mapped by sp_map_view (0 in a zeroed sp_map) */
    /* views only: */
    int fd;                                /* the file, kept open to tell whether it changed */
    unsigned long long mtime_ns, ctime_ns; /* what the file was when mapped */
} sp_map;

int sp_map_open(sp_map *m, const char *path, sp_error *err);
void sp_map_close(sp_map *m);

/* An archive mapped, not read: verify, ls, align and inject look at its
 * directory, headers and a few entries, so only the pages touched are
 * read (reading a 100 MB APK whole costs ten times what they do). The
 * view is private: writes to it stay in memory. A file truncated while
 * mapped faults on the pages it lost: sp-pack then prints "PATH: changed
 * while sp-pack was reading it", removes its registered temporary files
 * (sppack/cleanup.h) and exits with status 3, never with a signal. A file
 * rewritten in place meanwhile is what sp_map_unchanged tells, after the
 * reading and before anything is reported or committed. Same errors as
 * sp_map_open otherwise. */
int sp_map_view(sp_map *m, const char *path, sp_error *err);
/* The view itself: size bytes of fd mapped privately, and a fault on
 * pages a truncation took reported as above, naming path. NULL with errno
 * when it cannot be had (then read the file instead). Thread-safe. The
 * caller may close fd; sp_view_unmap ends the view. */
void *sp_view_map(int fd, size_t size, const char *path);
void sp_view_unmap(void *p, size_t size);
/* 0 when the file of a view still has the size and times it had when
 * mapped; else -1 and SP_EIO "changed while sp-pack was reading it". A
 * map of sp_map_open is checked already: always 0. */
int sp_map_unchanged(const sp_map *m, const char *path, sp_error *err);

/* All n bytes to or from a descriptor, through short counts and EINTR;
 * 0, or -1 with errno (0 for a read that met the end first). */
int sp_write_all(int fd, const void *data, size_t n);
int sp_read_all(int fd, void *buf, size_t n);
/* Reads until cap bytes are in buf or the end comes, through short counts
 * and EINTR: how many, or -1 with errno. */
ssize_t sp_read_up_to(int fd, void *buf, size_t cap);

/* Writes all of data to a new file (mode 0644), replacing any. */
int sp_write_file(const char *path, const void *data, size_t n, sp_error *err);

/* The one way an output appears whole: written under a temporary name
 * beside it (sp_temp_path, "PATH.sp-pack-tmp-PID"), then sp_commit syncs
 * it to storage and renames it over path when rc is 0 (then syncs the
 * directory), or removes it otherwise. Returns rc, or -1 with err when the
 * sync or the rename fails. A concurrent reader never sees half a file, nor
 * a crash an empty one. The temporary name is registered with sppack/cleanup.h from
 * sp_temp_path to sp_commit, so that a signal does not leave it behind. */
char *sp_temp_path(const char *path);
/* What a path of sp_temp_path stands for: path without its
 * ".sp-pack-tmp-PID", or a copy of path when it is not one. For messages,
 * which name the output the user asked for. */
char *sp_temp_target(const char *path);
int sp_commit(int rc, const char *tmp, const char *path, sp_error *err);
/* sp_write_file through sp_temp_path and a rename, for caches: atomic, but
 * not synced (a cache lost in a crash costs only its rebuilding). */
int sp_write_file_atomic(const char *path, const void *data, size_t n, sp_error *err);

/* Copies a file's bytes to dst (created or emptied): in the kernel where
 * the platform can (see platform.h), read and write for the rest. */
int sp_copy_file(const char *src, const char *dst, sp_error *err);

#endif
