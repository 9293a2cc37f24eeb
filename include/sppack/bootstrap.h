/* The runtime finder's source (src/runtime/_sp_bootstrap.py), embedded at
 * build time and written at the root of stdlib.zip. */
#ifndef SPPACK_BOOTSTRAP_H
#define SPPACK_BOOTSTRAP_H

#include <stddef.h>

#define SP_BOOTSTRAP_NAME "_sp_bootstrap.py"

/* The boot set: the modules stock zipimport reads from assets/python/
 * while CPython initialises, before the finder is installed; names
 * without .py/.pyc, NULL-terminated. */
#define SP_BOOT_MODULES                                                                            \
    {                                                                                              \
        "_sp_bootstrap", "encodings/__init__", "encodings/aliases", "encodings/utf_8", NULL        \
    }

extern const unsigned char sp_bootstrap_py[];
extern const size_t sp_bootstrap_py_len;

#endif
