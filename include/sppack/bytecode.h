/* Bytecode for the Python zips: one long-lived helper process (the host
 * CPython given with --python, running src/runtime/pyc_helper.py) fed over
 * a pipe, and a cache of compiled files keyed by name and source hash, so a
 * repack compiles only what changed. */
#ifndef SPPACK_BYTECODE_H
#define SPPACK_BYTECODE_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/error.h"
#include "sppack/buf.h"

typedef struct sp_pyc sp_pyc;

/* Starts the helper. Fails (SP_EUSAGE) when python cannot be run. */
int sp_pyc_start(sp_pyc **out, const char *python, sp_error *err);

/* The helper interpreter's magic number (4 bytes, as at the start of a .pyc). */
const unsigned char *sp_pyc_magic(const sp_pyc *c);

/* The helper interpreter's version, as 314 for 3.14. */
int sp_pyc_version(const sp_pyc *c);

/* The magic number a stdlib tree's importlib/_bootstrap_external.py
 * declares, as the 16-bit value; -1 when it does not state it as a
 * literal (CPython 3.14 and later take it from the interpreter). */
int sp_pyc_stdlib_magic(const char *stdlib_dir);

/* Compiles source (shown as name in tracebacks) into out. Returns 0, or 1
 * with the compiler's message in out when the source does not compile, or
 * -1 with err when the helper fails. */
int sp_pyc_compile(sp_pyc *c, const char *name, const void *source, size_t n, sp_buf *out,
                   sp_error *err);

/* Counts for the report. */
void sp_pyc_counts(const sp_pyc *c, size_t *compiled, size_t *cached);

void sp_pyc_stop(sp_pyc *c);

#endif
