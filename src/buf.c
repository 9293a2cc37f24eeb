#include "sppack/buf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"

void sp_buf_init(sp_buf *b)
{
    *b = (sp_buf){0};
}

void sp_buf_release(sp_buf *b)
{
    free(b->data);
    sp_buf_init(b);
}

char *sp_buf_detach(sp_buf *b)
{
    sp_buf_grow(b, 0);
    char *d = b->data;
    sp_buf_init(b);
    return d;
}

void sp_buf_grow(sp_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = sp_xrealloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0';
}

void sp_buf_add(sp_buf *b, const void *data, size_t n)
{
    sp_buf_grow(b, n);
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sp_buf_adds(sp_buf *b, const char *s)
{
    sp_buf_add(b, s, strlen(s));
}

void sp_buf_addf(sp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n;
    char *s = sp_xvasprintf(fmt, ap, &n);
    va_end(ap);
    sp_buf_add(b, s, n);
    free(s);
}

void sp_buf_put16(sp_buf *b, uint16_t v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    sp_buf_add(b, x, 2);
}

void sp_buf_put32(sp_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    sp_buf_add(b, x, 4);
}
