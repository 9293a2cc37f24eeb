/* Library names for extension modules.
 *
 * The rule (serious-python's): "lib" + dotted.replace(".", "-") + ".so".
 * It is injective for ASCII identifiers because "-" never occurs in one.
 * Any other byte of a name component (PEP 3131 names in UTF-8, or "-" in a
 * directory that is not an identifier) is written as ".xx", two lowercase
 * hex digits: "." never appears otherwise between "lib" and ".so", so the
 * escape is reversible and every library name matches lib[A-Za-z0-9._-]*.so.
 * Dots inside directory names ("x.libs/") cannot be told from package
 * separators; callers detect the resulting collisions. */
#ifndef SPPACK_MANGLE_H
#define SPPACK_MANGLE_H

#include <stddef.h>

/* Library name for a dotted module name; caller frees. NULL when the name is
 * empty or has an empty component ("a..b", ".a"). */
char *sp_mangle(const char *dotted);
/* Dotted module name for a library name made by sp_mangle; caller frees.
 * NULL when lib is not such a name. */
char *sp_unmangle(const char *lib);
/* 1 when name matches lib[A-Za-z0-9+,-.=_]*.so: the names Android's
 * package manager installs from lib/<abi>/ (AOSP's native library helper
 * takes a file name of these characters with the lib prefix and .so suffix;
 * libc++_shared.so, the NDK's C++ runtime, is one). */
int sp_is_android_lib_name(const char *name);

#endif
