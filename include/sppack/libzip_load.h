/* libzip, opened at run time by the one module that reads archives with it.
 *
 * verify uses libzip as a second, independent reader: it opens every Python
 * zip the way a zip library would, and --deep runs libzip's consistency and
 * CRC checks. Linked in the usual way, libzip (and libcrypto, which libzip
 * links) would be loaded by every run of every command, which costs a
 * no-op pack 1.5-2 ms of its 12 (docs/performance.md). So sp-pack is built
 * against libzip's headers, found through pkg-config like every other
 * dependency, and opens the library by the soname CMake read from it
 * (SP_LIBZIP_SONAME) when verify starts. */
#ifndef SPPACK_LIBZIP_LOAD_H
#define SPPACK_LIBZIP_LOAD_H

#include <zip.h>

#include "sppack/error.h"

/* The libzip functions sp-pack calls; each field is named after the
 * function without its zip_ prefix (lz->fread is zip_fread). */
#define SP_LIBZIP_FUNCTIONS(X)                                                                     \
    X(discard)                                                                                     \
    X(error_code_zip)                                                                              \
    X(error_fini)                                                                                  \
    X(error_init)                                                                                  \
    X(error_strerror)                                                                              \
    X(fclose)                                                                                      \
    X(file_get_error)                                                                              \
    X(fopen_index)                                                                                 \
    X(fread)                                                                                       \
    X(get_error)                                                                                   \
    X(get_name)                                                                                    \
    X(get_num_entries)                                                                             \
    X(open_from_source)                                                                            \
    X(source_buffer_create)                                                                        \
    X(source_free)                                                                                 \
    X(stat_index)

typedef struct sp_libzip {
#define SP_LIBZIP_FIELD(name) __typeof__(zip_##name) *name;
    SP_LIBZIP_FUNCTIONS(SP_LIBZIP_FIELD)
#undef SP_LIBZIP_FIELD
} sp_libzip;

/* The library, opened on the first call (from any thread); NULL with err
 * (SP_EIO, naming the soname) when it cannot be opened or lacks a function. */
const sp_libzip *sp_libzip_load(sp_error *err);

#endif
