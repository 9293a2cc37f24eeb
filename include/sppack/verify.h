/* verify: the checks of docs/checks.md over an APK, split APK, .apks set, App
 * Bundle, plain zip or pack output directory.
 *
 * Only metadata is read: the end record, the central directory, local
 * headers, ELF headers and dynamic sections, and the Python zips' central
 * directories (all bounded by the file size). --deep adds libzip's
 * consistency check and a CRC check of every entry. */
#ifndef SPPACK_VERIFY_H
#define SPPACK_VERIFY_H

#include <stddef.h>

#include "sppack/error.h"
#include "sppack/report.h"

typedef struct sp_verify_opts {
    unsigned page_size; /* bytes; default 16384 */
    int min_sdk;        /* 0: no E010 check */
    int deep;
} sp_verify_opts;

/* Checks path (a file or a pack output directory), adding its findings to
 * report. Returns -1 with err only when the path cannot be read (SP_EIO)
 * or does not exist (SP_EINPUT); everything wrong inside it is a finding. */
int sp_verify_path(const char *path, const sp_verify_opts *o, sp_report *report, sp_error *err);

/* The same for bytes in memory (the fuzzing entry point). The bytes must be
 * writable: libelf may convert headers in place. Everything wrong is a
 * finding: returns 0. */
int sp_verify_buffer(unsigned char *data, size_t size, const char *label, const sp_verify_opts *o,
                     sp_report *report, sp_error *err);

#endif
