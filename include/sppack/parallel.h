/* Work shared between threads: sp_parallel_for runs fn for every index in
 * [0, n) on up to `jobs` threads, the caller's among them. Each index runs
 * exactly once; which thread runs it is not fixed, so fn gets the worker's
 * number (0 .. jobs-1) for per-thread state. A thread that cannot be
 * started only means fewer hands. fn may stop the rest early through its
 * own context (indices are claimed in order). */
#ifndef SPPACK_PARALLEL_H
#define SPPACK_PARALLEL_H

#include <stddef.h>

#define SP_MAX_THREADS 8

typedef void (*sp_parallel_fn)(void *ctx, int worker, size_t i);

void sp_parallel_for(size_t n, int jobs, sp_parallel_fn fn, void *ctx);

/* Online CPUs, at least 1, at most SP_MAX_THREADS: the default job count. */
int sp_online_cpus(void);

#endif
