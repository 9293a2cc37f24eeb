/* Reading the input trees: every file read once, on several threads, and
 * hashed (xxh3) as it is read.
 *
 * Small files are read into a per-thread scratch buffer and kept once per
 * distinct content: the same .py in four ABIs' trees takes memory once
 * (bytes compared, not just hashes). Large files are mapped. Everything a
 * loader holds stays valid until sp_loader_free. */
#ifndef SPPACK_INPUTLOAD_H
#define SPPACK_INPUTLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/error.h"
#include "sppack/treewalk.h"

typedef struct sp_blob {
    unsigned char *data; /* shared between identical files: read only */
    size_t size;
    uint64_t hash; /* XXH3_64bits of data */
    int error;     /* errno when the file could not be read */
    int mapped;    /* private: munmap when done */
    int owned;     /* private: free when done */
} sp_blob;

typedef struct sp_loader sp_loader;

typedef struct sp_load_tree {
    const char *root;    /* the directory the tree was walked from */
    const sp_tree *tree; /* its files; NULL for an input not to load */
} sp_load_tree;

/* Loads every file of the trees with `jobs` threads, reporting progress
 * from the calling thread when progress is not NULL. The first file that
 * cannot be read, in tree order, is the error, whatever the threads'
 * timing. *out is set either way; free it with sp_loader_free. */
int sp_load_trees(const sp_load_tree *trees, size_t ntrees, int jobs,
                  void (*progress)(void *ctx, size_t done, size_t total), void *progress_ctx,
                  sp_loader **out, sp_error *err);

/* The blobs of trees[t], one per file in tree order; NULL for a tree not
 * loaded. */
const sp_blob *sp_loader_blobs(const sp_loader *l, size_t t);

/* Releases the loader, its blobs and everything they point to. NULL is fine. */
void sp_loader_free(sp_loader *l);

#endif
