/* Atomic replacement of a set of output files in a directory.
 *
 * Everything is written under DIR/.sp-pack-staging-PID-N first; only when
 * all of it is written are the files renamed into place, one rename each,
 * the manifest last. When DIR does not exist yet, the whole tree is staged
 * beside it instead (PARENT/.NAME.sp-pack-staging-PID-N) and becomes DIR
 * with a single rename. A failed run removes its staging directory and
 * leaves the previous outputs as they were. A run cancelled
 * (sp_outdir_cancel, from SIGINT or SIGTERM) fails at its next staged file
 * the same way; a staging directory left by a run killed outright is
 * removed by the next run. */
#ifndef SPPACK_OUTDIR_H
#define SPPACK_OUTDIR_H

#include "sppack/error.h"
#include "sppack/strv.h"

typedef struct sp_outdir {
    char *dir;     /* the output directory */
    char *stage;   /* its staging directory */
    sp_strv files; /* relative paths staged, in commit order */
    char *made;    /* the directory last made sure of, so siblings skip mkdir */
    int whole;     /* dir is new: stage is its sibling, committed by one rename */
} sp_outdir;

/* Asks every run in progress to stop at its next file and clean up. Safe to
 * call from a signal handler. */
void sp_outdir_cancel(void);

/* Creates a fresh staging directory: inside dir, or beside it when dir does
 * not exist (dir itself is then made by the commit). */
int sp_outdir_begin(sp_outdir *od, const char *dir, sp_error *err);

/* Staging path for the output rel (creating its parent directories);
 * records rel for commit. Caller frees. NULL with err set on failure. */
char *sp_outdir_stage(sp_outdir *od, const char *rel, sp_error *err);

/* Keeps the existing output rel as it is: hard-links it into the staging
 * directory (so the staged tree is complete) and records it; its commit
 * rename is then a no-op that leaves its mtime alone. Falls back to a copy
 * where links are not possible. */
int sp_outdir_keep(sp_outdir *od, const char *rel, sp_error *err);

/* Renames every staged file into place in the order staged, then removes
 * the files of `stale` (relative paths of the previous run's outputs) that
 * this run did not produce, and the staging directory. */
int sp_outdir_commit(sp_outdir *od, const sp_strv *stale, sp_error *err);

/* Removes the staging directory; frees od. Safe after commit. */
void sp_outdir_release(sp_outdir *od);

#endif
