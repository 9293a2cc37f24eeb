/* A growable list of owned strings. */
#ifndef SPPACK_STRV_H
#define SPPACK_STRV_H

#include <stddef.h>

typedef struct sp_strv {
    char **v;
    size_t n, cap;
} sp_strv;

void sp_strv_init(sp_strv *s);
void sp_strv_release(sp_strv *s);
void sp_strv_push(sp_strv *s, const char *str); /* copies str */
void sp_strv_push_owned(sp_strv *s, char *str); /* takes str */
int sp_strv_contains(const sp_strv *s, const char *str);
/* 1 when a and b hold the same strings in the same order. */
int sp_strv_equal(const sp_strv *a, const sp_strv *b);
void sp_strv_sort(sp_strv *s);

#endif
