/* Reading the input trees: every file read once, on several threads, and
 * hashed (xxh3) as it is read. Files named like shared libraries that are
 * ELF files are inspected on the same threads (sp_elf_inspect); their bytes
 * are not kept, since libraries are copied by path.
 *
 * Small files are read into a per-thread scratch buffer and kept once per
 * distinct content: the same .py in four ABIs' trees takes memory once
 * (bytes compared, not just hashes). Large files are mapped (sp_view_map):
 * reading them into fresh memory would cost more than all the rest of a
 * pack; one truncated meanwhile ends the run with exit 3 naming it, never
 * with a signal. Each file must be the one the walk listed (inode, size,
 * times), as it was, before and after it is read: anything else (changed,
 * or a symlink swapped to lead elsewhere) is an error. A mapped file's
 * bytes are those of the file until it is written to, so
 * sp_loader_unchanged checks them again before outputs made of them are
 * committed.
 * Everything a loader holds stays valid until sp_loader_free. */
#ifndef SPPACK_INPUTLOAD_H
#define SPPACK_INPUTLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/elfinspect.h"
#include "sppack/error.h"
#include "sppack/treewalk.h"

typedef struct sp_blob {
    unsigned char *data; /* shared between identical small files: read only */
    size_t size;
    uint64_t hash;            /* XXH3_64bits of the bytes */
    int error;                /* errno when the file could not be read */
    int changed;              /* not the file the walk listed, or changed while read */
    int elf_checked;          /* named like a shared library and an ELF file: */
    sp_elf_info *elf;         /* what the inspector found, or */
    sp_error *elf_error;      /* why it could not read it */
    int owned;                /* private: 1 free when done, 2 a view to unmap */
    const sp_tree_file *file; /* private: the file a view maps */
} sp_blob;

typedef struct sp_loader sp_loader;

typedef struct sp_load_tree {
    const char *root;    /* the directory the tree was walked from; NULL: open files by path */
    const sp_tree *tree; /* its files; NULL for an input not to load */
} sp_load_tree;

/* Loads every file of the trees with `jobs` threads, reporting progress
 * from the calling thread when progress is not NULL, and inspecting ELF
 * libraries when inspect_libraries is set. The first file that cannot be
 * read, in tree order, is the error, whatever the threads' timing (an ELF
 * file the inspector refuses is not: see elf_error). *out is set either
 * way; free it with sp_loader_free. */
int sp_load_trees(const sp_load_tree *trees, size_t ntrees, int jobs, int inspect_libraries,
                  void (*progress)(void *ctx, size_t done, size_t total), void *progress_ctx,
                  sp_loader **out, sp_error *err);

/* The blobs of trees[t], one per file in tree order; NULL for a tree not
 * loaded. */
const sp_blob *sp_loader_blobs(const sp_loader *l, size_t t);

/* 0 when every mapped file is still the one the walk listed, unchanged;
 * else -1 and SP_EIO naming the first that is not. */
int sp_loader_unchanged(const sp_loader *l, sp_error *err);

/* Releases the loader, its blobs and everything they point to. NULL is fine. */
void sp_loader_free(sp_loader *l);

#endif
