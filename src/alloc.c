#define _GNU_SOURCE
#include "sppack/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
    fputs("sp-pack: out of memory\n", stderr);
    abort();
}

void *sp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *sp_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *sp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

char *sp_xstrdup(const char *s)
{
    return sp_xstrndup(s, strlen(s));
}

char *sp_xstrndup(const char *s, size_t n)
{
    char *p = sp_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sp_xvasprintf(const char *fmt, va_list ap, size_t *len)
{
    va_list again;
    va_copy(again, ap);
    int r = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (r < 0)
        oom();
    char *s = sp_xmalloc((size_t)r + 1);
    vsnprintf(s, (size_t)r + 1, fmt, ap);
    if (len)
        *len = (size_t)r;
    return s;
}

char *sp_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = sp_xvasprintf(fmt, ap, NULL);
    va_end(ap);
    return s;
}

void sp_free_each(void *const *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i]);
}
