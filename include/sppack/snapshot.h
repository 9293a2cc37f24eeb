/* Input snapshots: what a walk saw of the input roots (the inode, size and
 * times of every directory and file), kept so that a later run can tell
 * that no input changed with one stat per entry: no directory is listed,
 * no file opened. A directory's times change whenever an entry is added,
 * removed or renamed in it, and a file's change time whenever its bytes or
 * its metadata do; only the kernel sets a change time.
 *
 * A change made in the same clock tick as the walk's stat could leave the
 * times as they were (file systems stamp with a coarse clock), so an entry
 * whose change time is not well before the walk started is not trusted:
 * such a snapshot is not saved (SP_SNAPSHOT_RECENT_NS). The file is a
 * cache of this machine, in its byte order, checked whole (xxh3) before
 * use; anything odd about it just means "changed". */
#ifndef SPPACK_SNAPSHOT_H
#define SPPACK_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/treewalk.h"

/* How long before the walk an entry's change time must be for the snapshot
 * to be trusted: well over a coarse clock tick, and the 2 s granularity of
 * FAT times. */
#define SP_SNAPSHOT_RECENT_NS (2ull * 1000000000ull)

typedef struct sp_snapshot_root {
    const char *path;    /* as given on the command line */
    const sp_tree *tree; /* what the walk found; for a single-file root, its one file */
    int is_file;         /* path is that file itself, not a directory */
} sp_snapshot_root;

/* Writes the snapshot of roots to path (atomically), tagged with key, a
 * hash of everything else the outputs depend on. walk_start_ns: the
 * CLOCK_REALTIME at which the walk began. Returns 0 when saved, 1 when an
 * entry changed too recently to be trusted (any previous snapshot at path
 * is then removed), -1 when it could not be written (likewise). */
int sp_snapshot_save(const char *path, uint64_t key, const sp_snapshot_root *roots, size_t n,
                     uint64_t walk_start_ns);

/* 1 when the snapshot at path has this key and these root paths, in this
 * order, and every entry it holds still has its inode, size and times: no
 * input changed since it was saved. 0 otherwise (no snapshot, another key,
 * a damaged file, any difference). Stats on up to `jobs` threads. */
int sp_snapshot_unchanged(const char *path, uint64_t key, const char *const *roots, size_t n,
                          int jobs);

/* CLOCK_REALTIME in nanoseconds, for walk_start_ns. */
uint64_t sp_snapshot_clock_ns(void);

#endif
