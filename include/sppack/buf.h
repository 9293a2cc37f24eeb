/* A growable byte buffer. sp_buf_init makes an empty one; sp_buf_release
 * frees the storage; sp_buf_detach hands the NUL-terminated storage to the
 * caller. data is always NUL-terminated after any append. */
#ifndef SPPACK_BUF_H
#define SPPACK_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct sp_buf {
    char *data;
    size_t len, cap;
} sp_buf;

void sp_buf_init(sp_buf *b);
void sp_buf_release(sp_buf *b);
char *sp_buf_detach(sp_buf *b);
void sp_buf_grow(sp_buf *b, size_t extra);
void sp_buf_add(sp_buf *b, const void *data, size_t n);
void sp_buf_adds(sp_buf *b, const char *s);
void sp_buf_addf(sp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sp_buf_put16(sp_buf *b, uint16_t v); /* little-endian */
void sp_buf_put32(sp_buf *b, uint32_t v);

#endif
