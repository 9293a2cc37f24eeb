/* Whole files: read-only views, writes that appear atomically, copies. */
#ifndef SPPACK_FILE_H
#define SPPACK_FILE_H

#include <stddef.h>

#include "sppack/error.h"

/* A read-only view of a whole file: mmap for regular files, empty files
 * have data == NULL and size 0. */
typedef struct sp_map {
    unsigned char *data; /* private pages: writable, never written back */
    size_t size;
    int mapped;
} sp_map;

int sp_map_open(sp_map *m, const char *path, sp_error *err);
void sp_map_close(sp_map *m);

/* All n bytes to or from a descriptor, through short counts and EINTR;
 * 0, or -1 with errno (0 for a read that met the end first). */
int sp_write_all(int fd, const void *data, size_t n);
int sp_read_all(int fd, void *buf, size_t n);

/* Writes all of data to a new file (mode 0644), replacing any. */
int sp_write_file(const char *path, const void *data, size_t n, sp_error *err);

/* The one way an output appears whole: written under a temporary name
 * beside it (sp_temp_path, "PATH.sp-pack-tmp-PID"), then sp_commit renames
 * it over path when rc is 0, or removes it otherwise. Returns rc, or -1
 * with err when the rename fails. A concurrent reader never sees half a
 * file. The temporary name is registered with sppack/cleanup.h from
 * sp_temp_path to sp_commit, so that a signal does not leave it behind. */
char *sp_temp_path(const char *path);
/* What a path of sp_temp_path stands for: path without its
 * ".sp-pack-tmp-PID", or a copy of path when it is not one. For messages,
 * which name the output the user asked for. */
char *sp_temp_target(const char *path);
int sp_commit(int rc, const char *tmp, const char *path, sp_error *err);
/* sp_write_file through sp_temp_path and sp_commit. */
int sp_write_file_atomic(const char *path, const void *data, size_t n, sp_error *err);

/* Copies a file's bytes to dst (created or emptied): in the kernel where
 * the platform can (see platform.h), read and write for the rest. */
int sp_copy_file(const char *src, const char *dst, sp_error *err);

#endif
