#include "sppack/vec.h"

#include <stdlib.h>
#include <string.h>

/* Bottom-up merge sort through one scratch array: stable, O(n log n). */
void sp_sort(void *base, size_t n, size_t size, int (*cmp)(const void *a, const void *b, void *ctx),
             void *ctx)
{
    if (n < 2)
        return;
    unsigned char *a = base, *tmp = sp_xmalloc(n * size);
    unsigned char *from = a, *to = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (cmp(from + j * size, from + i * size, ctx) < 0)
                    memcpy(to + k++ * size, from + j++ * size, size);
                else
                    memcpy(to + k++ * size, from + i++ * size, size);
            }
            memcpy(to + k * size, from + i * size, (mid - i) * size);
            k += mid - i;
            memcpy(to + k * size, from + j * size, (hi - j) * size);
        }
        unsigned char *t = from;
        from = to;
        to = t;
    }
    if (from != a)
        memcpy(a, from, n * size);
    free(tmp);
}
