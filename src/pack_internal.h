/* pack's stages and what flows between them (src/pack*.c only):
 *
 *   pack_inputs.c  walks, reads and classifies the input trees into a
 *                  pack_set: pure files, extension modules, libraries;
 *   pack_plan.c    makes the pack_plan from it: the union over ABIs,
 *                  overlays, collisions, every output with its content
 *                  (pure: no system calls, no JSON);
 *   pack_state.c   the previous run's state: what each output was made of,
 *                  and the input snapshot behind a no-op repack;
 *   pack_write.c   writes the plan's outputs (keeping those the state says
 *                  are up to date), the manifest and the APK, then commits. */
#ifndef SPPACK_PACK_INTERNAL_H
#define SPPACK_PACK_INTERNAL_H

#include <stdint.h>

#include "sppack/abi.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/inputload.h"
#include "sppack/libcheck.h"
#include "sppack/outdir.h"
#include "sppack/pack.h"
#include "sppack/treewalk.h"
#include "sppack/vec.h"

enum pack_zip { ZIP_STDLIB, ZIP_SITE, ZIP_EXTRACT, ZIP_KINDS };
extern const char *const pack_zip_names[ZIP_KINDS]; /* "stdlib", "sitepackages", "extract" */

/* ---- the classified inputs ------------------------------------------------------------------ */

/* A file destined for a zip, from one ABI's tree. */
struct pure {
    int zip;    /* enum pack_zip */
    char *name; /* path inside the zip */
    const sp_abi *abi;
    uint64_t hash; /* xxh3 of data */
    const unsigned char *data;
    size_t size;
    char *source; /* input file, for messages */
};

/* An extension module of one ABI. */
struct module {
    char *lib;    /* mangled library name */
    char *module; /* dotted module name */
    char *marker; /* marker path inside its zip */
    int zip;
    const sp_abi *abi;
    char *source;
    const unsigned char *data; /* the bytes read, checked and shipped */
    uint64_t hash, size;
    const sp_elf_info *elf; /* what the ELF inspector found */
};

/* A plain shared library (a dependency, or given with --lib) of one ABI. */
struct natlib {
    char *name;
    const sp_abi *abi;
    char *source;
    const unsigned char *data; /* the bytes read, checked and shipped */
    uint64_t hash, size;
    int from_option;
    const sp_elf_info *elf;
};

/* What one input held. */
struct input_stats {
    size_t files;
    uint64_t bytes;
    const sp_abi *abi; /* given, or detected */
};

struct pack_set {
    SP_VEC(struct pure) pure;
    SP_VEC(struct module) modules;
    SP_VEC(struct natlib) natlibs;
    struct input_stats *stats; /* one per input */
    size_t ninputs;
    int has_site;
    const unsigned char *boot_pyc; /* _sp_bootstrap.pyc, with --pyc */
    size_t boot_pyc_len;
};

/* Everything read from the inputs; the set's pointers point into it. */
struct pack_inputs {
    sp_tree *trees;      /* one per input */
    int *is_dir;         /* 0 for a --lib input naming one file */
    uint64_t walk_start; /* when the walk began (for the snapshot) */
    sp_loader *loader;
    SP_VEC(sp_elf_info *) elfs;       /* --lib files the loader did not inspect */
    SP_VEC(sp_buf) pycs;              /* compiled bytecode */
    SP_VEC(unsigned char *) stripped; /* libraries as --strip left them */
    /* Left out by --exclude-preset before reading: per preset, files and bytes. */
    uint64_t preset_files[SP_PRESETS], preset_bytes[SP_PRESETS];
};

/* Lists and reads every input on `jobs` threads. */
int pack_inputs_read(const sp_pack_opts *o, int jobs, struct pack_inputs *in, sp_error *err);
/* Classifies what was read (compiling bytecode with --pyc) into set. */
int pack_inputs_classify(const sp_pack_opts *o, struct pack_inputs *in, struct pack_set *set,
                         sp_pack_result *res, sp_error *err);
/* --strip: every library of the set stripped on `jobs` threads; the set's
 * modules and libraries then point to the stripped bytes (their ELF
 * information stays right: stripping keeps all it describes). */
int pack_inputs_strip(struct pack_inputs *in, struct pack_set *set, int jobs, sp_pack_result *res,
                      sp_error *err);
void pack_inputs_release(struct pack_inputs *in, size_t ninputs);
void pack_set_release(struct pack_set *set);

/* ---- the plan ------------------------------------------------------------------------------- */

/* An entry of a zip to write: points into the set, the bootstrap, or the
 * plan's own directory names. data NULL: a directory entry. */
struct zentry {
    const char *name;
    const unsigned char *data;
    size_t size;
    uint64_t hash;
};

/* One output file, in manifest order. */
struct plan_output {
    char *rel;       /* relative to the output directory */
    int abi;         /* index into the result's abis, -1 for common files */
    char recipe[17]; /* a hash of everything its bytes come from */
    int is_zip;
    SP_VEC(struct zentry) entries; /* a zip's, sorted */
    const unsigned char *data;     /* a file written as it is (a library, the boot set) */
    uint64_t content;              /* a zip's payload bytes: what writing it costs */
    const char *source;            /* a library's input file, for messages */
    uint64_t size;                 /* data's size */
    const sp_elf_info *elf;        /* a library's ELF headers, for the checks */
    const char *marker;            /* an extension module's marker path, else NULL */
};

struct pack_plan {
    SP_VEC(struct plan_output) outputs;
    sp_strv dirnames; /* storage of directory entry names */
};

/* What the plan needs beyond the set: everything else the bytes depend on. */
struct plan_params {
    int strict;
    unsigned page_size;             /* what the library checks hold 64-bit ABIs to */
    uint16_t dos_date, dos_time;    /* every zip entry's timestamp */
    const unsigned char *bootstrap; /* _sp_bootstrap.py, for stdlib.zip */
    size_t bootstrap_len;
};

/* Unites the set over its ABIs and lists the outputs. Fills res's abis,
 * inputs, modules, libraries, overlaid and packages (the largest top-level
 * names of the zips, with their modules' libraries), adds warnings to it,
 * and runs the library checks (sppack/libcheck.h) on every library output
 * into res->checks.
 * inputs: the pack's inputs, for messages and the manifest. */
int pack_plan_make(struct pack_set *set, const sp_pack_input *inputs,
                   const struct plan_params *params, struct pack_plan *plan, sp_pack_result *res,
                   sp_error *err);
void pack_plan_release(struct pack_plan *plan);

/* ---- the previous run's state --------------------------------------------------------------- */

struct state_output {
    char *rel;
    char recipe[17];
    uint64_t size;
    uint64_t deflated; /* its download estimate; UINT64_MAX when not recorded */
    char xxh3[17];
    long entries;   /* -1 for a file that is no zip */
    char stamp[64]; /* "inode:mtime_ns:ctime_ns" when recorded ("" unknown) */
    int racy;       /* its ctime was too close to the save for the stamp alone to tell */
};

struct pack_state {
    char options[17]; /* the options key, hex */
    SP_VEC(struct state_output) outputs;
    sp_strv warnings; /* of the run that wrote the outputs */
    int has_apk;
    struct state_output apk; /* rel: the APK's path */
};

/* Where the state files of out_dir go, as a path to add ".json" or
 * ".inputs" to; NULL when there is no place for them. */
char *pack_state_base(const char *out_dir);
/* A hash of everything the outputs depend on but the input files. */
uint64_t pack_options_key(const sp_pack_opts *o);
/* The state at base (empty when there is none or it cannot be read). */
void pack_state_load(const char *base, struct pack_state *s);
/* Records each output's inode and times as they are now, and saves s at base (a failure
 * only means the next run does more work); removes states unused for long. */
void pack_state_save(const char *base, struct pack_state *s, const char *out_dir);
void pack_state_release(struct pack_state *s);
/* The record of output rel, or NULL. */
struct state_output *pack_state_find(const struct pack_state *s, const char *rel);
/* The previous record of rel when its recipe is the same and the file is
 * untouched (same size, inode, mtime and ctime): the output can stay as it is. */
const struct state_output *pack_state_reusable(const struct pack_state *s, const char *out_dir,
                                               const char *rel, const char *recipe);
/* 1 when path still has the size, inode and times recorded in rec; 2 when
 * it does and, the stamp being racy, its content was hashed and matches
 * too; 0 otherwise. */
int pack_state_file_matches(const char *path, const struct state_output *rec);
/* Nonzero when s is of a run with these options and every output it
 * records (and the APK) is untouched: 2 when some had to be hashed to tell
 * (saving the state again then spares the next run that). */
int pack_state_untouched(const struct pack_state *s, const char *out_dir, const sp_pack_opts *o,
                         const char *key_hex);
/* The input snapshot: unchanged since the state was saved (1), and saving
 * what this run's walk saw. */
int pack_inputs_unchanged(const char *base, const sp_pack_opts *o, uint64_t key, int jobs);
void pack_inputs_snapshot(const char *base, const sp_pack_opts *o, uint64_t key,
                          const struct pack_inputs *in);

/* ---- writing -------------------------------------------------------------------------------- */

/* Writes the plan as a new generation of the locked output directory od
 * (and opts->apk_path), keeping the outputs prev says are up to date, and
 * commits it; fills res's outputs and next with what was written. On
 * failure the directory is as it was. */
int pack_write(const struct pack_plan *plan, const struct pack_state *prev,
               const sp_pack_opts *opts, const struct pack_inputs *in, sp_outdir *od, int jobs,
               sp_pack_result *res, struct pack_state *next, sp_error *err);

#endif
