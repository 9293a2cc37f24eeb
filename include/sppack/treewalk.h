/* The tree walker: lists the files under an input root, sorted by their
 * relative path, applying exclusions and the symlink policy: a link is
 * followed only when its target resolves inside the same root; a link that
 * dangles, loops or leaves the root, and anything that is neither a file
 * nor a directory, is an error naming it, or with leave_out an entry left
 * out and listed: never a file of the build machine packed by accident. */
#ifndef SPPACK_TREEWALK_H
#define SPPACK_TREEWALK_H

#include <stdint.h>
#include <sys/stat.h>

#include "sppack/error.h"
#include "sppack/strv.h"

typedef struct sp_tree_file {
    char *rel;  /* relative to the root, "/"-separated */
    char *path; /* root-joined path to open */
    uint64_t size;
    uint64_t mtime_ns, ctime_ns, ino; /* for telling a file changed without reading it */
} sp_tree_file;

/* An entry left out because it holds nothing to pack (see leave_out). */
typedef struct sp_tree_skip {
    char *rel;  /* relative to the root */
    char *path; /* root-joined */
    char *why;  /* "dangling symlink", "a FIFO", ... */
} sp_tree_skip;

typedef struct sp_tree {
    sp_tree_file *files;
    size_t n, cap;
    sp_tree_skip *skipped; /* with leave_out: sorted by rel */
    size_t nskipped, skipped_cap;
    /* Every directory walked, the root ("") first, with its own inode and
     * times (path NULL, size 0): what tells, later, that a listing may have
     * changed. Sorted by rel. */
    sp_tree_file *dirs;
    size_t ndirs, dirs_cap;
} sp_tree;

typedef struct sp_walk_opts {
    /* --exclude globs, may be NULL. A glob holding "/" is matched against
     * the whole relative path ("*" crosses "/"); one without "/" against
     * each component's name, so "tests" drops every tests/ directory. */
    const sp_strv *excludes;
    const char *const *skip_top; /* top-level directory names to skip, NULL-terminated */
    int keep_pycache;            /* 0: __pycache__/ directories are skipped */
    /* 1: entries with nothing to pack (a symlink that dangles, loops or
     * leaves the root; a FIFO, socket or device) are left out and listed in
     * the tree's skipped instead of stopping the walk. */
    int leave_out;
} sp_walk_opts;

/* 1 when st (of an open file) is the file the walk recorded in f, as it
 * was then: same inode, size and times. */
int sp_tree_file_same(const sp_tree_file *f, const struct stat *st);

void sp_tree_init(sp_tree *t);
void sp_tree_release(sp_tree *t);

/* One root for sp_tree_walk_many, with what came of it. */
typedef struct sp_walk_root {
    const char *root;
    const sp_walk_opts *opts; /* may be NULL */
    sp_tree *out;
    int rc; /* 0, or -1 with err set */
    sp_error err;
} sp_walk_root;

/* Walks several roots at once on `jobs` threads, one depth of directories
 * at a time, so the threads share the work however the files are spread.
 * Each root gets what sp_tree_walk would give it; of several problems under
 * one root, the one reported is the first in path order, whatever the
 * threads' timing. */
void sp_tree_walk_many(sp_walk_root *roots, size_t n, int jobs);

/* Lists every regular file under root. Errors: SP_EINPUT for a missing root,
 * a bad symlink or a special file; SP_EIO when something cannot be read. */
int sp_tree_walk(const char *root, const sp_walk_opts *opts, sp_tree *out, sp_error *err);

#endif
