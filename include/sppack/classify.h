/* Classification of files found under an input root: which names can be
 * extension modules, which interpreter and platform their name says they
 * were built for, what their module and marker are. */
#ifndef SPPACK_CLASSIFY_H
#define SPPACK_CLASSIFY_H

#include <stddef.h>

#include "sppack/abi.h"

enum sp_so_name {
    SP_SO_NONE,   /* not a shared-object name: a pure file */
    SP_SO_TAGGED, /* NAME.cpython-<tag>.so, NAME.abi3[-<triplet>].so: an extension module */
    SP_SO_PLAIN,  /* NAME.so: a module when its ELF exports PyInit_NAME */
    SP_SO_OTHER   /* libfoo.so.1, libbar-1a2b.so, ...: a shared library */
};

/* What an extension module's file name says it was built for (PEP 3149 and
 * the stable ABI's suffixes): "cpython-314-x86_64-linux-gnu" is CPython
 * 3.14 on that platform; "cpython-314t-..." its free-threaded build;
 * "abi3[-<triplet>]" any CPython 3 with the stable ABI; "abi3t" the
 * free-threaded stable ABI (3.15 and later). */
typedef struct sp_so_tag {
    int cpython;       /* 314 for cpython-314[-<triplet>]; 0 when no version */
    int free_threaded; /* the version has the "t" flag */
    int stable;        /* 1: abi3, 2: abi3t */
    char triplet[48];  /* "x86_64-linux-gnu", or "" */
} sp_so_tag;

/* Kind of a file's base name; for SP_SO_TAGGED and SP_SO_PLAIN, *stem gets
 * NAME (caller frees), and tag (when not NULL) what the name says. */
enum sp_so_name sp_classify_so_name(const char *base, char **stem, sp_so_tag *tag);

/* Why CPython `version` (314 for 3.14; 0: not known, then only the
 * platform counts) running on abi would not load a module tagged so, in buf
 * ("for CPython 3.15", "for the free-threaded build", "for
 * x86_64-linux-gnux32"); NULL when it would. */
const char *sp_so_tag_mismatch(const sp_so_tag *tag, int version, const sp_abi *abi, char *buf,
                               size_t n);

/* For an extension module at rel (relative path with its directory), stem
 * NAME: the dotted module name ("pkg.sub.NAME", "pkg" for pkg/__init__), the
 * dotted name that is mangled ("pkg.__init__" for a package), and the marker
 * path ("pkg/sub/NAME.soref"). Each out parameter is allocated. */
void sp_module_names(const char *rel, const char *stem, char **module, char **mangle_from,
                     char **marker);

#endif
