/* The APK layer (docs/apk.md): which alignment each entry needs, writing an
 * APK-layout zip from a pack output, and realigning an existing APK. */
#ifndef SPPACK_APK_H
#define SPPACK_APK_H

#include <stdint.h>

#include "sppack/error.h"
#include "sppack/strv.h"
#include "sppack/zipreader.h"

/* page_size for stored native libraries (lib/<abi>/NAME.so), 4 for other stored entries, 0 (none)
 * for compressed ones, which Android reads through inflation anyway. */
unsigned sp_apk_alignment(const char *name, uint16_t method, unsigned page_size);

/* Writes path (atomically: temp file + rename) holding every file under
 * pack_dir/jniLibs/<abi>/ as lib/<abi>/... and pack_dir/assets/ as assets/...,
 * STORED, sorted, aligned. */
int sp_apk_write_from_pack(const char *pack_dir, const char *path, unsigned page_size,
                           sp_error *err);

/* Rewrites in into out (atomically; out may equal in) with every entry
 * aligned per sp_apk_alignment, contents and order unchanged. A signed
 * input (APK Signing Block) is refused: aligning would break it, as is one
 * that sp_zip_check_entries refuses. When out is a symlink, the file it
 * names is replaced and the link kept. */
int sp_apk_align(const char *in, const char *out, unsigned page_size, sp_error *err);

/* Lists, one line each in problems, the entries of an open archive whose
 * data is not aligned as sp_apk_alignment asks. Returns how many. */
size_t sp_apk_check_alignment(const sp_zip *z, unsigned page_size, sp_strv *problems);

#endif
