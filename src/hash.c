#include "sppack/hash.h"

#include <string.h>

void sp_u64_hex(uint64_t v, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[v & 15];
        v >>= 4;
    }
    out[16] = '\0';
}

void sp_xxh3_hex(const void *data, size_t n, char out[17])
{
    sp_u64_hex(XXH3_64bits(data, n), out);
}

void sp_hash_str(XXH3_state_t *h, const char *s)
{
    XXH3_64bits_update(h, s, strlen(s) + 1);
}

void sp_hash_u64(XXH3_state_t *h, uint64_t v)
{
    XXH3_64bits_update(h, &v, sizeof v);
}
