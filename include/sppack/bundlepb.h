/* The two protobuf files of an Android App Bundle that inject edits,
 * encoded by hand from bundletool's field numbers (docs/bundle.md):
 *
 *   base/native.pb   NativeLibraries { repeated TargetedNativeDirectory directory = 1; }
 *                    TargetedNativeDirectory { string path = 1; NativeDirectoryTargeting targeting
 * = 2; } NativeDirectoryTargeting { Abi abi = 1; }   Abi { AbiAlias alias = 1; } BundleConfig.pb
 * BundleConfig { Compression compression = 3; } Compression { repeated string uncompressed_glob =
 * 1; }
 *
 * Both edits append fields: protobuf parsers concatenate repeated fields and
 * merge embedded messages, so everything the file held is kept. */
#ifndef SPPACK_BUNDLEPB_H
#define SPPACK_BUNDLEPB_H

#include <stddef.h>

#include "sppack/abi.h"
#include "sppack/buf.h"
#include "sppack/error.h"
#include "sppack/strv.h"

/* Paths of the native directories a native.pb lists ("lib/x86_64"), and the
 * uncompressed globs a BundleConfig.pb lists. -1 for malformed bytes. */
int sp_pb_native_paths(const unsigned char *pb, size_t n, sp_strv *paths);
int sp_pb_uncompressed_globs(const unsigned char *pb, size_t n, sp_strv *globs);

/* Appends to out a TargetedNativeDirectory for lib/<abi> (field 1 of
 * NativeLibraries), targeted by the ABI's bundletool alias. */
void sp_pb_add_native_dir(sp_buf *out, const sp_abi *abi);

/* Appends to out a BundleConfig fragment (field 3) holding these globs. */
void sp_pb_add_uncompressed_globs(sp_buf *out, const sp_strv *globs);

#endif
