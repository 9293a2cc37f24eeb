/* The zip reader for the metadata path: end record, central directory and
 * local headers of a memory-mapped archive, with every length and offset
 * bounded by the file size before it is used. It reads no payload: entry
 * data is a slice of the mapping. */
#ifndef SPPACK_ZIPREADER_H
#define SPPACK_ZIPREADER_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/buf.h"
#include "sppack/error.h"
#include "sppack/file.h"

/* What keeps the reader from taking an archive or an entry as it is. */
enum sp_zip_problem {
    SP_ZIP_OK,
    SP_ZIP_NOT_ZIP,    /* no end of central directory record */
    SP_ZIP_TRUNCATED,  /* a record or an entry's data runs past what there is */
    SP_ZIP_MULTIDISK,  /* a multi-disk archive */
    SP_ZIP_ZIP64,      /* ZIP64 records or sizes (Android rejects them) */
    SP_ZIP_CD_OVERLAP, /* the central directory runs into the end record */
    SP_ZIP_NO_LOCAL,   /* no local header where the central directory says */
    SP_ZIP_TRAILING,   /* bytes after the end record */
    SP_ZIP_SHARED,     /* an entry whose data overlaps another's (a zip bomb) */
    SP_ZIP_OVER_BOUND  /* more inflated bytes than may be held at once */
};

/* The inflated bytes verify and ls hold at once, over every archive they
 * open (members of an .apks set, inflated libraries and Python zips): what
 * a zip bomb can cost them, whatever it claims. */
#define SP_ZIP_HELD_MAX ((size_t)256 << 20)

/* An entry's local header, as found at its offset (valid entries only). */
typedef struct sp_zip_local {
    uint16_t flags, method, name_len, extra_len;
    uint32_t crc, csize, usize;
    int name_matches; /* the local name is the central one, byte for byte */
} sp_zip_local;

typedef struct sp_zip_entry {
    int valid;       /* 0: its local header or data is not inside the file */
    int shared;      /* its local header and data overlap another entry's:
                        a zip bomb's way to inflate one stream many times.
                        Never inflated (sp_zip_read_entry refuses it) */
    char *name;      /* NUL-terminated copy of the central name */
    size_t name_len; /* bytes in the central name (may hold a NUL) */
    uint16_t flags, method, dos_time, dos_date;
    uint32_t crc, csize, usize, ext_attr;
    uint64_t local_offset; /* local header */
    uint64_t data_offset;  /* local header + 30 + local name + local extra */
    sp_zip_local local;
} sp_zip_entry;

typedef struct sp_zip {
    sp_map map; /* when opened from a path */
    int fd;     /* the file, when opened from a path; else -1 */
    const unsigned char *data;
    size_t size;
    sp_zip_entry *entries;
    size_t n;
    uint64_t cd_offset, cd_size, eocd_offset;
    uint64_t sig_block_offset; /* APK Signing Block start, or UINT64_MAX */
    uint64_t trailing;         /* bytes after the end record (lenient mode) */
    enum sp_zip_problem fatal; /* what stopped the parse, when it failed */
} sp_zip;

/* Where a lenient parse reports what it can step over (bytes after the end
 * record, an entry whose local header or data is missing): the problem, the
 * entry name or NULL, and a message. */
typedef void (*sp_zip_issue_fn)(void *ctx, enum sp_zip_problem problem, const char *entry,
                                const char *msg);

/* Opens and indexes path, mapped (sp_map_view: only what is looked at is
 * read). Errors: SP_EIO when it cannot be read, SP_EINPUT when it is no
 * zip this reader accepts (no end record, ZIP64, an entry or header
 * outside the file). */
int sp_zip_open(sp_zip *z, const char *path, sp_error *err);
/* After reading an archive of sp_zip_open, before reporting or committing
 * what was made of it: 0 when its file did not change meanwhile, else -1
 * and SP_EIO naming label (sp_map_unchanged). 0 for an archive in memory. */
int sp_zip_unchanged(const sp_zip *z, const char *label, sp_error *err);

/* Indexes an archive already in memory (not copied: data must outlive z).
 * With issue != NULL the parse is lenient: problems it can step over are
 * reported there and entries they concern get valid = 0; what stops it
 * sets err and z->fatal. label names the archive in messages. */
int sp_zip_open_buffer(sp_zip *z, const unsigned char *data, size_t size, const char *label,
                       sp_zip_issue_fn issue, void *ctx, sp_error *err);
void sp_zip_close(sp_zip *z);

/* Entry data (compressed bytes as stored). */
const unsigned char *sp_zip_data(const sp_zip *z, const sp_zip_entry *e);

/* The uncompressed bytes of a STORED or DEFLATED entry into out (replacing
 * its content), checked against the entry's size and CRC: the one bounded
 * inflate. Entries larger than max_size, claiming more than deflate can
 * expand their compressed bytes to (SP_ZIP_MAX_RATIO), or sharing their data
 * with another entry are refused, so a hostile size cannot exhaust memory;
 * the buffer grows with what really comes out, and memory the system
 * refuses is an error (SP_EIO), not an abort. */
#define SP_ZIP_MAX_RATIO 1032u
int sp_zip_read_entry(const sp_zip *z, const sp_zip_entry *e, size_t max_size, sp_buf *out,
                      sp_error *err);

/* An entry's uncompressed bytes, without a copy where they can be had in
 * place: a STORED entry's data in the archive (its CRC checked), else
 * sp_zip_read_entry into scratch. *data stays valid while z and scratch do. */
int sp_zip_entry_bytes(const sp_zip *z, const sp_zip_entry *e, size_t max_size, sp_buf *scratch,
                       const unsigned char **data, size_t *n, sp_error *err);

/* The first bytes of an entry (at most n, fewer when it is shorter) into
 * out, inflating no more than that: enough to tell what a file is without
 * inflating all of it. Returns how many, or -1 when they cannot be read
 * (an invalid or shared entry, a method other than STORED and DEFLATED,
 * corrupt data). */
long sp_zip_read_head(const sp_zip *z, const sp_zip_entry *e, void *out, size_t n);

/* The entry named name, or NULL. */
const sp_zip_entry *sp_zip_find(const sp_zip *z, const char *name);

/* Why an entry name is unsafe to extract or install ("holds a '..'
 * component", "is absolute", "holds a backslash", "holds a NUL byte", "is not
 * valid UTF-8", "holds a control character", "is empty"), or NULL when it is
 * fine. len: the name's bytes. The one rule: verify reports it (Z005), and
 * inject and align refuse archives that break it. */
const char *sp_zip_unsafe_name(const char *name, size_t len);

/* The valid entries in the order of their local headers (equal offsets in
 * directory order), into *out (the caller frees the array). Returns how
 * many. */
size_t sp_zip_by_offset(const sp_zip *z, const sp_zip_entry ***out);

/* Entries whose name an earlier entry has already (byte for byte), each
 * name once, sorted by name, into *out (the caller frees the array).
 * Returns how many. */
size_t sp_zip_duplicates(const sp_zip *z, const sp_zip_entry ***out);

/* What writers ask of an archive they copy: every name safe
 * (sp_zip_unsafe_name), none twice, and no entry sharing its data with
 * another (copying each would multiply a bomb's bytes on disk). Otherwise
 * -1 and SP_EINPUT with "label: ENTRY: why", the entry escaped
 * (sppack/text.h). */
int sp_zip_check_entries(const sp_zip *z, const char *label, sp_error *err);

#endif
