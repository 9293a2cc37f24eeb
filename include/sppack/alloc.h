/* Allocation that never returns NULL: out of memory aborts the process, as
 * there is nothing sensible a packer can do without memory. */
#ifndef SPPACK_ALLOC_H
#define SPPACK_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *sp_xmalloc(size_t n);
void *sp_xcalloc(size_t n, size_t size);
void *sp_xrealloc(void *p, size_t n);
char *sp_xstrdup(const char *s);
char *sp_xstrndup(const char *s, size_t n);
char *sp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* vasprintf that aborts on failure; *len (when not NULL) gets the length. */
char *sp_xvasprintf(const char *fmt, va_list ap, size_t *len) __attribute__((format(printf, 1, 0)));

/* Frees each pointer given, in order, as free() one by one would:
 *     SP_FREE_ALL(x->name, x->path, x->why);
 */
#define SP_FREE_ALL(...)                                                                           \
    sp_free_each((void *[]){__VA_ARGS__}, sizeof((void *[]){__VA_ARGS__}) / sizeof(void *))
void sp_free_each(void *const *p, size_t n);

#endif
