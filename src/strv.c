#include "sppack/strv.h"

#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/vec.h"

void sp_strv_init(sp_strv *s)
{
    *s = (sp_strv){0};
}

void sp_strv_release(sp_strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    sp_strv_init(s);
}

void sp_strv_push_owned(sp_strv *s, char *str)
{
    SP_VEC_PUSH(*s, str);
}

void sp_strv_push(sp_strv *s, const char *str)
{
    sp_strv_push_owned(s, sp_xstrdup(str));
}

int sp_strv_contains(const sp_strv *s, const char *str)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], str) == 0)
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sp_strv_equal(const sp_strv *a, const sp_strv *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

void sp_strv_sort(sp_strv *s)
{
    sp_sort(s->v, s->n, sizeof *s->v, cmp_str, NULL);
}
