/* Content identity: xxh3-64 as 16 lowercase hex digits, and recipes. */
#ifndef SPPACK_HASH_H
#define SPPACK_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

void sp_u64_hex(uint64_t v, char out[17]);
void sp_xxh3_hex(const void *data, size_t n, char out[17]);

/* Feeding a running hash: a string with its NUL (so "ab","c" differs from
 * "a","bc"), and a number in this machine's byte order (a cache key, never
 * stored across machines). */
void sp_hash_str(XXH3_state_t *h, const char *s);
void sp_hash_u64(XXH3_state_t *h, uint64_t v);

#endif
