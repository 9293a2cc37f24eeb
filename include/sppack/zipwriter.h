/* The aligned zip writer (one of the hot paths).
 *
 * Writes entries in the order they are added, with CRC and sizes in every
 * local header (never a data descriptor: zipimport runs before zlib can
 * load), fixed timestamps and permissions, and no extra field except the
 * alignment record. An entry asked to be aligned gets its data offset
 * rounded up to a multiple of the alignment with an 0xD935 extra record
 * (2-byte alignment value, then zeros), the form apksigner writes.
 *
 * The writer refuses to go past the classic zip limits (65 534 entries,
 * sizes and offsets below 4 GiB): Android rejects ZIP64. */
#ifndef SPPACK_ZIPWRITER_H
#define SPPACK_ZIPWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/error.h"
#include "sppack/zipreader.h"

#define SP_ZIP_MAX_ENTRIES 65534u
#define SP_ZIP_ALIGN_EXTRA_ID 0xD935u

typedef struct sp_zipw sp_zipw;

/* DOS date and time for SOURCE_DATE_EPOCH (when set and valid) or
 * 1980-01-01 00:00:00. Errors only for a malformed SOURCE_DATE_EPOCH. */
int sp_zip_dos_time(uint16_t *dos_date, uint16_t *dos_time, sp_error *err);

/* Creates the file at path (replacing it). The caller owns atomicity: write
 * to a temporary name and rename on success. */
int sp_zipw_open(sp_zipw **out, const char *path, sp_error *err);
/* sp_zipw_open for a writer that will be closed with sp_zipw_close_digest:
 * it hashes the bytes as they are written (which costs a tenth of the time
 * of a large archive, so the plain writer does not). */
int sp_zipw_open_digest(sp_zipw **out, const char *path, sp_error *err);

/* A directory entry; name must end with "/". */
int sp_zipw_add_dir(sp_zipw *zw, const char *name, sp_error *err);

/* A STORED entry; align 0 or 1 for none. */
int sp_zipw_add_stored(sp_zipw *zw, const char *name, const void *data, size_t size, unsigned align,
                       sp_error *err);

/* An entry copied as it is (already compressed bytes), with its CRC and sizes. */
int sp_zipw_add_raw(sp_zipw *zw, const char *name, uint16_t method, uint32_t crc, const void *cdata,
                    uint64_t csize, uint64_t usize, unsigned align, sp_error *err);

/* An entry of another archive copied as it is (compressed bytes, CRC,
 * sizes, timestamp, attributes), realigned; its extra fields and any data
 * descriptor are dropped. */
int sp_zipw_add_copy(sp_zipw *zw, const sp_zip *z, const sp_zip_entry *e, unsigned align,
                     sp_error *err);

/* Writes the central directory and end record, flushes and closes.
 * Frees zw whatever the result. */
int sp_zipw_close(sp_zipw *zw, sp_error *err);

/* sp_zipw_close, giving the archive's size and the XXH3-64 of its bytes:
 * hashed as they were written when opened with sp_zipw_open_digest, read
 * back otherwise or when the kernel copied some of them. */
int sp_zipw_close_digest(sp_zipw *zw, uint64_t *size, uint64_t *xxh3, sp_error *err);

/* Closes and frees without finishing (the caller removes the file).
 * NULL is fine. */
void sp_zipw_abort(sp_zipw *zw);

/* The end of a write whose result so far is rc: sp_zipw_close when rc is 0,
 * else sp_zipw_abort. Returns the final result. */
int sp_zipw_end(sp_zipw *zw, int rc, sp_error *err);

/* Offset where the next local header will be written. */
uint64_t sp_zipw_offset(const sp_zipw *zw);

#endif
