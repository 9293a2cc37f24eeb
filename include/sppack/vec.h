/* Arrays: one growable-array helper for any element type, and a stable
 * sort that takes a context (qsort_r differs between C libraries).
 *
 *     SP_VEC(struct thing) things = {0};
 *     SP_VEC_PUSH(things, t);        // things.v[0 .. things.n)
 *     free(things.v);
 */
#ifndef SPPACK_VEC_H
#define SPPACK_VEC_H

#include <stddef.h>

#include "sppack/alloc.h"

#define SP_VEC(T)                                                                                  \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

/* Makes room for one more element and returns its index. */
#define SP_VEC_GROW(vec)                                                                           \
    ((vec).n == (vec).cap ? ((vec).cap = (vec).cap ? (vec).cap * 2 : 16,                           \
                             (vec).v = sp_xrealloc((vec).v, (vec).cap * sizeof *(vec).v), (vec).n) \
                          : (vec).n)

#define SP_VEC_PUSH(vec, item)                                                                     \
    do {                                                                                           \
        SP_VEC_GROW(vec);                                                                          \
        (vec).v[(vec).n++] = (item);                                                               \
    } while (0)

/* Sorts n elements of size bytes, keeping equal ones in their order
 * (a merge sort): the same result on every C library. */
void sp_sort(void *base, size_t n, size_t size, int (*cmp)(const void *a, const void *b, void *ctx),
             void *ctx);

#endif
