/* inject: merges a pack output into an existing APK or App Bundle. */
#ifndef SPPACK_INJECT_H
#define SPPACK_INJECT_H

#include "sppack/error.h"
#include "sppack/strv.h"

typedef struct sp_inject_opts {
    const char *into;    /* IN.apk or IN.aab */
    const char *from;    /* a pack output directory */
    const char *out;     /* written atomically; nothing is left on failure */
    unsigned page_size;  /* bytes */
    sp_strv abis;        /* only these ABIs' libraries; empty: all */
    int no_assets;       /* libraries only (content of a per-ABI config split) */
    int replace;         /* entries already in IN are replaced, not an error */
    int strip_signature; /* drop a signature instead of refusing a signed IN */
} sp_inject_opts;

typedef struct sp_inject_result {
    int is_bundle;
    size_t kept, added, replaced, stripped;
} sp_inject_result;

/* The output holds IN's entries in their order (raw copies, realigned), then
 * the packed ones, sorted: jniLibs/<abi>/ as lib/<abi>/, assets/ as assets/,
 * under base/ for a bundle, whose base/native.pb then targets every
 * lib/<abi> directory and whose BundleConfig.pb lists the Python zips as
 * uncompressed (both extended, never rewritten from scratch). */
int sp_inject(const sp_inject_opts *o, sp_inject_result *res, sp_error *err);

#endif
