#include "sppack/bundlepb.h"

#include "sppack/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading: a bounded walk over fields ---------------------------------------------------- */

struct pb {
    const unsigned char *p, *end;
};

static int varint(struct pb *r, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return -1;
        unsigned char b = *r->p++;
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* Next field: its number, wire type, and for length-delimited fields the
 * bytes. Returns 1 for a field, 0 at the end, -1 for malformed input. */
static int next_field(struct pb *r, uint64_t *field, int *wire, struct pb *bytes)
{
    if (r->p == r->end)
        return 0;
    uint64_t key, v;
    if (varint(r, &key) != 0)
        return -1;
    *field = key >> 3;
    *wire = (int)(key & 7);
    switch (*wire) {
    case 0:
        return varint(r, &v) == 0 ? 1 : -1;
    case 1:
    case 5: {
        size_t n = *wire == 1 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n)
            return -1;
        r->p += n;
        return 1;
    }
    case 2:
        if (varint(r, &v) != 0 || v > (uint64_t)(r->end - r->p))
            return -1;
        bytes->p = r->p;
        bytes->end = r->p + v;
        r->p += v;
        return 1;
    default:
        return -1;
    }
}

/* Strings of field `inner` inside every message of field `outer`. */
static int collect(const unsigned char *pb, size_t n, uint64_t outer, uint64_t inner, sp_strv *out)
{
    struct pb r = {pb, pb + n}, msg, s;
    uint64_t f;
    int w, rc;
    while ((rc = next_field(&r, &f, &w, &msg)) == 1) {
        if (f != outer || w != 2)
            continue;
        while ((rc = next_field(&msg, &f, &w, &s)) == 1)
            if (f == inner && w == 2)
                sp_strv_push_owned(out, sp_xstrndup((const char *)s.p, (size_t)(s.end - s.p)));
        if (rc < 0)
            return -1;
    }
    return rc;
}

int sp_pb_native_paths(const unsigned char *pb, size_t n, sp_strv *paths)
{
    return collect(pb, n, 1, 1, paths);
}

int sp_pb_uncompressed_globs(const unsigned char *pb, size_t n, sp_strv *globs)
{
    return collect(pb, n, 3, 1, globs);
}

/* ---- writing -------------------------------------------------------------------------------- */

static void put_varint(sp_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        unsigned char c = (unsigned char)(v | 0x80);
        sp_buf_add(b, &c, 1);
        v >>= 7;
    }
    unsigned char c = (unsigned char)v;
    sp_buf_add(b, &c, 1);
}

static void put_bytes(sp_buf *b, unsigned field, const void *data, size_t n)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    sp_buf_add(b, data, n);
}

void sp_pb_add_native_dir(sp_buf *out, const sp_abi *abi)
{
    sp_buf abi_msg, targeting, dir;
    sp_buf_init(&abi_msg);
    sp_buf_init(&targeting);
    sp_buf_init(&dir);
    put_varint(&abi_msg, 1 << 3 | 0); /* Abi.alias */
    put_varint(&abi_msg, (uint64_t)abi->bundle_alias);
    put_bytes(&targeting, 1, abi_msg.data, abi_msg.len); /* NativeDirectoryTargeting.abi */
    char *path = sp_xasprintf("lib/%s", abi->name);
    put_bytes(&dir, 1, path, strlen(path));            /* TargetedNativeDirectory.path */
    put_bytes(&dir, 2, targeting.data, targeting.len); /* .targeting */
    put_bytes(out, 1, dir.data, dir.len);              /* NativeLibraries.directory */
    free(path);
    sp_buf_release(&abi_msg);
    sp_buf_release(&targeting);
    sp_buf_release(&dir);
}

void sp_pb_add_uncompressed_globs(sp_buf *out, const sp_strv *globs)
{
    sp_buf compression;
    sp_buf_init(&compression);
    for (size_t i = 0; i < globs->n; i++)
        put_bytes(&compression, 1, globs->v[i], strlen(globs->v[i])); /* uncompressed_glob */
    put_bytes(out, 3, compression.data, compression.len);             /* BundleConfig.compression */
    sp_buf_release(&compression);
}
