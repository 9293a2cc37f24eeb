/* pack: reads per-ABI CPython trees, classifies every file, and writes the
 * Android layout: jniLibs/<abi>/, the assets zips and sp-pack.json.
 *
 * Data flows inputs (src/pack_inputs.c: walk, read, classify) -> the plan
 * (src/pack_plan.c: the union over ABIs, overlays, collisions, the list of
 * outputs) -> outputs (src/pack_write.c), with the previous run's state
 * (src/pack_state.c) deciding what need not be written again. Nothing is
 * written until every input has been read and accepted. */
#ifndef SPPACK_PACK_H
#define SPPACK_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/abi.h"
#include "sppack/error.h"
#include "sppack/preset.h"
#include "sppack/report.h"
#include "sppack/sizereport.h"
#include "sppack/strv.h"
#include "sppack/vec.h"

enum sp_input_kind { SP_INPUT_STDLIB, SP_INPUT_SITE, SP_INPUT_LIB };

typedef struct sp_pack_input {
    int kind;          /* enum sp_input_kind */
    const sp_abi *abi; /* NULL: detected from the ELF headers */
    char *path;
} sp_pack_input;

typedef struct sp_pack_opts {
    sp_pack_input *inputs;
    size_t ninputs;
    sp_strv extract;    /* --extract patterns (top-level names or globs) */
    sp_strv exclude;    /* --exclude globs */
    unsigned presets;   /* --exclude-preset: bit i for preset i (sppack/preset.h) */
    int strict;         /* warnings and per-ABI differences are errors */
    unsigned page_size; /* bytes: alignment of lib/<abi>/ entries in the APK */
    char *apk_path;     /* --apk FILE: also write the APK layout there, or NULL */
    int pyc;            /* compile every .py into an unchecked-hash NAME.pyc beside it */
    int pyc_only;       /* ... and leave the sources out */
    char *python;       /* the host CPython that compiles (same version as the trees) */
    int python_version; /* the target CPython, 314 for 3.14; 0: read from the stdlib trees */
    int jobs;           /* threads reading inputs; 0: one per CPU (at most 8) */
    int strip;          /* libraries lose debug sections and .symtab (sppack/elfstrip.h) */
    char *tool_path;    /* this sp-pack binary, so that a rebuild never trusts
                           the last run's outputs; NULL: not known */
    /* 1: the caller prints no report (pack -q without --json). A run that
     * finds everything up to date then leaves the result's manifest part
     * empty rather than read sp-pack.json again, and no run deflates what
     * it writes for the download estimate: a later run that reports sizes
     * deflates the outputs it has no estimate of, once. */
    int no_report;
    /* Called as files are read (done of total), or NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} sp_pack_opts;

/* What the manifest (sp-pack.json) holds, and what the report prints. */
typedef struct sp_pack_input_info {
    const char *kind; /* "stdlib", "site-packages", "lib" */
    const char *abi;  /* "" when the input had none */
    char *path;
    size_t files;
    uint64_t bytes;
} sp_pack_input_info;

typedef struct sp_pack_module {
    char *name;      /* dotted module name */
    char *lib;       /* library name in jniLibs/<abi>/ */
    const char *zip; /* "stdlib", "sitepackages", "extract" */
    char *marker;    /* marker path inside that zip */
    unsigned abis;   /* bit i: present for abis[i] */
} sp_pack_module;

typedef struct sp_pack_library {
    char *name;
    int abi;         /* index into abis */
    int from_option; /* given with --lib (else found in a tree) */
} sp_pack_library;

typedef struct sp_pack_overlaid {
    const char *zip;
    char *path;
    unsigned abis; /* bit i: has its own copy for abis[i] */
} sp_pack_overlaid;

/* An extension module left out: built for another interpreter or platform. */
typedef struct sp_pack_left_out {
    char *path; /* the input file */
    char *why;  /* "for CPython 3.15" */
} sp_pack_left_out;

typedef struct sp_pack_output {
    char *path; /* relative to the output directory */
    int abi;    /* index into abis, -1 for the ABI-common files */
    uint64_t size;
    char xxh3[17];
    long entries;      /* a zip's entries; -1 for other files */
    uint64_t deflated; /* its download estimate (sppack/sizereport.h); not in the manifest */
} sp_pack_output;

typedef struct sp_pack_result {
    unsigned page_size;
    int python_version;              /* the target CPython, 314 for 3.14; 0 when not known */
    const sp_abi *abis[SP_MAX_ABIS]; /* in name order */
    int nabis;
    SP_VEC(sp_pack_input_info) inputs;
    SP_VEC(sp_pack_module) modules;
    SP_VEC(sp_pack_library) libraries;
    SP_VEC(sp_pack_overlaid) overlaid;
    SP_VEC(sp_pack_left_out) left_out; /* in input order */
    SP_VEC(sp_pack_output) outputs;    /* every file but the manifest itself */
    /* The library checks (L and E of docs/checks.md) on every library in
     * jniLibs/: one report file, whose entries are output paths. */
    sp_report checks;
    /* Per ABI, how many libraries a 16 KB page device refuses to load (a
     * PT_LOAD aligned below 16 KB, or RELRO breaking the 16 KB rule); -1 for
     * a 32-bit ABI, which no 16 KB device runs. */
    long not_16k[SP_MAX_ABIS];
    int has_manifest;                /* 0: an up-to-date run under no_report */
    sp_strv warnings;                /* one-line messages, without the "sp-pack: " prefix */
    size_t pyc_compiled, pyc_cached; /* bytecode: compiled now, taken from the cache */
    /* --strip (strip 1): the libraries that had something to remove, and
     * how many bytes went. */
    int strip;
    size_t stripped;
    uint64_t stripped_bytes;
    /* The size report: the largest top-level packages (in the manifest),
     * and per ABI what installs and the download estimate (has_size; not
     * in the manifest, since the estimate depends on the zlib build). */
    sp_size_package *packages;
    size_t npackages;
    int has_size;
    uint64_t install[SP_MAX_ABIS], download[SP_MAX_ABIS];
    /* --exclude-preset: the presets asked for (bit i: preset i), and per
     * preset the files it left out of the input trees and their bytes. */
    unsigned presets;
    uint64_t preset_files[SP_PRESETS], preset_bytes[SP_PRESETS];
    int up_to_date; /* no input changed and no output was touched: nothing written */
    int refused;    /* --strict and findings in checks: nothing written */
} sp_pack_result;

void sp_pack_opts_init(sp_pack_opts *o);
void sp_pack_opts_release(sp_pack_opts *o);
void sp_pack_opts_add_input(sp_pack_opts *o, int kind, const sp_abi *abi, const char *path);

/* Packs into out_dir. On success res holds the manifest's content and the
 * warnings; on failure nothing in out_dir has changed, and res holds what
 * was found before the failure (a --strict refusal: the checks' findings).
 * The caller releases res either way. */
int sp_pack(const sp_pack_opts *opts, const char *out_dir, sp_pack_result *res, sp_error *err);
void sp_pack_result_init(sp_pack_result *res);
void sp_pack_result_release(sp_pack_result *res);
/* The names of res->abis, in order, into names. */
void sp_pack_result_abi_names(const sp_pack_result *res, const char *names[SP_MAX_ABIS]);

#define SP_MANIFEST_NAME "sp-pack.json"

/* The manifest: its text (JSON, as sp-pack.json holds it, ending in a
 * newline; caller frees), and the reverse, which fills res's manifest part
 * (-1 for text that is no manifest of this format). */
char *sp_manifest_text(const sp_pack_result *res);
int sp_manifest_parse(const char *text, size_t n, sp_pack_result *res);
/* The document `pack --json` prints: the manifest plus the warnings. */
char *sp_pack_result_json(const sp_pack_result *res);

#endif
