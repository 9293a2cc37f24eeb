/* What an APK, split, .apks set, App Bundle or pack output directory holds
 * for Python on Android (sp-pack ls): the native libraries per ABI with
 * where they sit and how their segments are aligned, the Python zips, per
 * ABI what ships and whether 16 KB page devices load it, and the size
 * report (sppack/sizereport.h) as pack gives it. */
#ifndef SPPACK_LISTING_H
#define SPPACK_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/abi.h"
#include "sppack/error.h"
#include "sppack/sizereport.h"
#include "sppack/vec.h"

typedef struct sp_listed_lib {
    char *entry;      /* as the archive names it ("split.apk!/lib/x86/a.so") or
                         jniLibs/<abi>/NAME in a directory */
    int abi;          /* index into abis */
    int in_archive;   /* 0 for a file of a pack output directory */
    uint64_t offset;  /* data offset in its archive */
    unsigned align;   /* the largest of 65536, 16384, 4096, 4, 1 dividing offset */
    int method;       /* 0 stored, 8 deflated */
    uint64_t size;    /* uncompressed */
    uint64_t stored;  /* bytes in the archive (compressed size) */
    uint64_t p_align; /* smallest PT_LOAD alignment; 0 when not read or none */
    int elf;          /* 1: its ELF headers were read */
    int not_16k;      /* a 16 KB device refuses it (PT_LOAD or RELRO) */
} sp_listed_lib;

typedef struct sp_listed_zip {
    char *entry; /* "assets/stdlib.zip" */
    int in_archive;
    uint64_t offset;
    int method;
    uint64_t size, stored;
    long markers; /* .soref entries; -1 when it cannot be read in place */
} sp_listed_zip;

typedef struct sp_listing {
    const char *kind;           /* "apk", "apks", "aab", "zip", "dir" */
    char abis[SP_MAX_ABIS][16]; /* lib/<abi>/ directories, in order of appearance */
    int nabis;
    SP_VEC(sp_listed_lib) libs;
    SP_VEC(sp_listed_zip) zips;
    /* Per ABI: its libraries, their bytes as stored, and how many of them a
     * 16 KB device refuses (-1 for a 32-bit ABI, which no such device runs). */
    size_t nlibs[SP_MAX_ABIS];
    uint64_t lib_bytes[SP_MAX_ABIS];
    long not_16k[SP_MAX_ABIS];
    uint64_t common_bytes; /* every entry but the libraries, as stored */
    /* Per ABI: every entry that is not another ABI's library or overlay
     * zip (assets/NAME-<abi>.zip), as stored (install), and the sum of
     * their download estimates: a stored entry's bytes deflated, a
     * compressed entry's compressed size (download). */
    uint64_t install[SP_MAX_ABIS], download[SP_MAX_ABIS];
    /* The largest top-level names of the Python zips, with the libraries
     * their markers name (sizes uncompressed). */
    sp_size_package *packages;
    size_t npackages;
} sp_listing;

/* Lists path (an archive or a pack output directory). Errors: SP_EINPUT
 * for a path that does not exist or is no archive, SP_EIO when it cannot
 * be read. An APK of a set that cannot be read is an error too. */
int sp_listing_read(const char *path, sp_listing *l, sp_error *err);
void sp_listing_release(sp_listing *l);
/* The names of l->abis, in order, into names (for the size report). */
void sp_listing_abi_names(const sp_listing *l, const char *names[SP_MAX_ABIS]);

/* The ls --json document: {"format", "path", "kind", "libraries": [...],
 * "python": [...], "abis": {...}, "common_bytes", "size": {...},
 * "packages": [...]}. Caller frees. */
char *sp_listing_json(const sp_listing *l, const char *path);

#endif
