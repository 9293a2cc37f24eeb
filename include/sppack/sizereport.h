/* The size report of pack and ls: per ABI what a device stores (install)
 * and an estimate of what it downloads, and the largest top-level packages.
 *
 * The download estimate of a file is the size raw deflate makes of it at
 * level 9 (zlib: 32 KB window, default memory level), close to what an app
 * store sends for an entry; an ABI's estimate is the sum over the files
 * that ship for it (docs/layout.md, "The size report"). */
#ifndef SPPACK_SIZEREPORT_H
#define SPPACK_SIZEREPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/error.h"
#include "sppack/vec.h"

struct cJSON;

/* How many packages the report lists. */
#define SP_SIZE_TOP_PACKAGES 10

/* Bytes raw deflate at level 9 makes of data. */
uint64_t sp_deflated_size(const void *data, size_t size);
/* The same of the file at path: 0, or -1 with err. */
int sp_deflated_size_file(const char *path, uint64_t *out, sp_error *err);

/* The top-level name a path of a Python zip belongs to: its first
 * directory ("numpy" for "numpy/core/x.py"), or for a file at the top its
 * name without .py, .pyc or .soref ("six" for "six.py"); NULL for a
 * directory entry or an empty path. Caller frees. */
char *sp_top_level_name(const char *path);

typedef struct sp_size_package {
    char *name;
    uint64_t bytes;
} sp_size_package;

/* Bytes per top-level name, for one ABI or for all. */
struct sp_tally_item {
    char *name;
    int abi; /* an index into the caller's ABIs, -1 for what every ABI ships */
    uint64_t bytes;
};
typedef struct sp_package_tally {
    SP_VEC(struct sp_tally_item) items;
} sp_package_tally;

void sp_package_tally_init(sp_package_tally *t);
void sp_package_tally_release(sp_package_tally *t);
/* Counts bytes for the top-level name of path (nothing when it has none). */
void sp_package_tally_add(sp_package_tally *t, const char *path, int abi, uint64_t bytes);
/* The largest packages, at most `top`: a package's bytes are the most it
 * takes on one device, the largest over the nabis ABIs of what every ABI
 * ships of it plus that ABI's own; by bytes, then name. *out is the
 * caller's (sp_size_packages_free). Returns how many. */
size_t sp_package_tally_top(const sp_package_tally *t, int nabis, size_t top,
                            sp_size_package **out);
void sp_size_packages_free(sp_size_package *p, size_t n);

/* Adds "size": {"<abi>": {"install": N, "download": N}, ...} to doc. */
void sp_size_json(struct cJSON *doc, const char *const *abis, int nabis, const uint64_t *install,
                  const uint64_t *download);
/* Adds "packages": [{"name", "bytes"}, ...] to doc. */
void sp_size_json_packages(struct cJSON *doc, const sp_size_package *p, size_t n);

#endif
