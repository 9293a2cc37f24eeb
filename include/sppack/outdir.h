/* An output directory replaced as a whole, atomically, by one run at a time.
 *
 * DIR holds the outputs through links, and sp-pack's own directory:
 *
 *   DIR/assets        -> .sp-pack/current/assets    one link per top-level name
 *   DIR/jniLibs       -> .sp-pack/current/jniLibs   of the outputs
 *   DIR/sp-pack.json  -> .sp-pack/current/sp-pack.json
 *   DIR/.sp-pack/current -> gN     the generation readers see
 *   DIR/.sp-pack/gN/               every output file of that generation
 *   DIR/.sp-pack/lock              held (flock) by the run writing DIR
 *
 * A run takes the lock first (another run holding it is an error at once:
 * one run per output directory), removes what runs killed outright left in
 * .sp-pack/, and, when it has anything to write, writes the next
 * generation gN+1 beside the current one:
 * each output written anew, or hard-linked from the current generation
 * when it is up to date. The commit syncs the new files to storage, makes
 * the top-level links (refusing a real file or directory in the way), then
 * replaces the link "current" with one rename: readers see every old
 * output or every new one, never a mix, and a crash at any moment leaves
 * one or the other. The old generation is removed after. A run that fails
 * or is cancelled (sp_outdir_cancel, from a signal handler) removes its
 * generation and leaves DIR as it was; when DIR did not exist, it is
 * removed again. Nothing outside DIR/.sp-pack is ever removed but the
 * links sp-pack made, and no link is followed when removing. */
#ifndef SPPACK_OUTDIR_H
#define SPPACK_OUTDIR_H

#include "sppack/error.h"
#include "sppack/strv.h"

/* sp-pack's own directory in an output directory. */
#define SP_OUTDIR_OWN ".sp-pack"

typedef struct sp_outdir {
    char *dir;     /* the output directory, as given */
    char *own;     /* DIR/.sp-pack */
    int own_fd;    /* open on it */
    int lock_fd;   /* DIR/.sp-pack/lock */
    int locked;    /* this run holds it */
    char *current; /* the current generation's name ("g7"), NULL for none */
    char *gen;     /* the generation being written ("g8") */
    char *stage;   /* DIR/.sp-pack/<gen>: where outputs are written */
    sp_strv files; /* relative paths staged, in order */
    char *made;    /* the directory last made sure of, so siblings skip mkdir */
    int made_dir;  /* DIR did not exist: removed again when the run fails */
    int committed;
} sp_outdir;

/* Asks every run in progress to stop at its next file and clean up. Safe to
 * call from a signal handler. */
void sp_outdir_cancel(void);

/* Takes DIR (made when missing) for this run: the lock, then removes what
 * runs killed outright left. */
int sp_outdir_lock(sp_outdir *od, const char *dir, sp_error *err);

/* Makes a fresh generation to stage outputs in. */
int sp_outdir_begin(sp_outdir *od, sp_error *err);

/* Staging path for the output rel (creating its parent directories);
 * records rel. Caller frees. NULL with err set on failure. */
char *sp_outdir_stage(sp_outdir *od, const char *rel, sp_error *err);

/* Keeps the current generation's output rel as it is: hard-links it into
 * the new generation (a copy where links are not possible) and records
 * it. */
int sp_outdir_keep(sp_outdir *od, const char *rel, sp_error *err);

/* For readers: the directory holding DIR's current generation
 * (DIR/.sp-pack/gN), so that everything read is of one generation whatever
 * a run switches meanwhile; DIR itself when it holds none (a directory
 * laid out by hand, or by an older sp-pack). Caller frees. */
char *sp_outdir_current(const char *dir);

/* Makes the staged generation the current one (see above). On failure DIR
 * is as it was. */
int sp_outdir_commit(sp_outdir *od, sp_error *err);

/* Removes an uncommitted generation (and DIR, when this run made it and
 * nothing was committed), releases the lock, frees od. Safe after commit,
 * and after a failed sp_outdir_lock. */
void sp_outdir_release(sp_outdir *od);

#endif
