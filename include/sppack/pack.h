/* pack: reads per-ABI CPython trees, classifies every file, and writes the
 * Android layout (DESIGN §3): jniLibs/<abi>/, the assets zips and sp-pack.json.
 *
 * Data flows inputs (tree walk) -> classification (ELF inspection, mangling)
 * -> union over ABIs -> outputs (zip writer, library copies, manifest).
 * Nothing is written until every input has been read and accepted. */
#ifndef SPPACK_PACK_H
#define SPPACK_PACK_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "sppack/abi.h"
#include "sppack/error.h"
#include "sppack/util.h"

enum sp_input_kind { SP_INPUT_STDLIB, SP_INPUT_SITE, SP_INPUT_LIB };

typedef struct sp_pack_input {
    int kind;           /* enum sp_input_kind */
    const sp_abi *abi;  /* NULL: detected from the ELF headers */
    char *path;
} sp_pack_input;

typedef struct sp_pack_opts {
    sp_pack_input *inputs;
    size_t ninputs;
    sp_strv extract;    /* --extract patterns (top-level names or globs) */
    sp_strv exclude;    /* --exclude globs */
    int strict;         /* warnings and per-ABI differences are errors */
    unsigned page_size; /* bytes: alignment of lib/<abi>/ entries in the APK */
    char *apk_path;     /* --apk FILE: also write the APK layout there, or NULL */
    int pyc;            /* compile every .py into an unchecked-hash NAME.pyc beside it */
    int pyc_only;       /* ... and leave the sources out */
    char *python;       /* the host CPython that compiles (same version as the trees) */
    int jobs;           /* threads reading inputs; 0: one per CPU (at most 8) */
    /* 1: a run that finds everything up to date leaves res->manifest NULL
     * rather than parse sp-pack.json again, for callers that print nothing. */
    int manifest_optional;
    /* Called as files are read (done of total), or NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} sp_pack_opts;

typedef struct sp_pack_result {
    cJSON *manifest;    /* the content of sp-pack.json (see manifest_optional) */
    sp_strv warnings;   /* one-line messages, without the "sp-pack: " prefix */
    size_t pyc_compiled, pyc_cached; /* bytecode: compiled now, taken from the cache */
    int up_to_date;     /* no input changed and no output was touched: nothing written */
} sp_pack_result;

void sp_pack_opts_init(sp_pack_opts *o);
void sp_pack_opts_release(sp_pack_opts *o);
void sp_pack_opts_add_input(sp_pack_opts *o, int kind, const sp_abi *abi, const char *path);

/* Packs into out_dir. On success res holds the manifest and warnings (the
 * caller releases it); on failure nothing in out_dir has changed. */
int sp_pack(const sp_pack_opts *opts, const char *out_dir, sp_pack_result *res, sp_error *err);
void sp_pack_result_release(sp_pack_result *res);

#define SP_MANIFEST_NAME "sp-pack.json"

#endif
