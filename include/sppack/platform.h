/* What differs between the systems sp-pack builds on, in one place. Each
 * Linux fast path sits behind a CMake feature check (SP_HAVE_*) and has a
 * POSIX fallback; -DSP_PACK_PORTABLE=ON forces the fallbacks, which is how
 * CI tests what macOS and BSD hosts run. */
#ifndef SPPACK_PLATFORM_H
#define SPPACK_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A stat's modification and status-change times in nanoseconds (seconds
 * only where the system keeps no more). */
uint64_t sp_stat_mtime_ns(const struct stat *st);
uint64_t sp_stat_ctime_ns(const struct stat *st);

/* The entries of an open directory, without "." and "..": names packed
 * NUL-separated in names, each one's d_type (DT_UNKNOWN where the system
 * does not say) in types. Reads with getdents64 where there is one, else
 * with readdir on a duplicate of fd. Returns 0 or an errno value. */
typedef struct sp_dir_list {
    char *names; /* names[offsets[i]] is the i-th name */
    size_t *offsets;
    unsigned char *types;
    size_t n;
} sp_dir_list;
int sp_dir_list_read(int fd, sp_dir_list *out);
void sp_dir_list_release(sp_dir_list *l);

/* Copies up to n bytes from in, at *in_off (advanced), to out at its file
 * position, in the kernel: copy_file_range (a reflink where the file system
 * can), else sendfile. Stops early at the end of in, or where the kernel
 * cannot copy here (always, in the portable build): the caller copies the
 * rest itself. Returns the bytes copied, or -1 with errno. */
ssize_t sp_kernel_copy(int in, off_t *in_off, int out, size_t n);

/* A descriptor naming path (a directory, for *at() lookups below it, or a
 * file, for fstat): O_PATH where there is one, else opened for reading. */
int sp_open_path(const char *path);

/* Writes everything of the file system holding the open fd to storage:
 * syncfs where there is one. -1 with errno ENOSYS where there is none (the
 * portable build): the caller fsyncs file by file instead. */
int sp_sync_file_system(int fd);

/* A pipe whose ends are closed on exec. */
int sp_pipe_cloexec(int fds[2]);

/* A path naming this very executable, to stat it: /proc/self/exe on Linux,
 * else argv0 resolved (through PATH when it holds no '/'). Caller frees;
 * NULL when it cannot be found. */
char *sp_self_path(const char *argv0);

#endif
