/* Text made from bytes nobody vouched for: entry names of archives, file
 * names, marker contents. Reports print them escaped, so that a name cannot
 * start a line of its own, move the cursor or send a terminal escape; JSON
 * documents carry them as valid UTF-8. */
#ifndef SPPACK_TEXT_H
#define SPPACK_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/buf.h"

struct cJSON;

/* Bytes of the well-formed UTF-8 sequence at s (of at most n bytes), with
 * its code point in *cp; 0 when s does not start one (a stray continuation
 * byte, a truncated, overlong or surrogate sequence, or past U+10FFFF). */
size_t sp_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* 1 when all n bytes are well-formed UTF-8. */
int sp_utf8_valid(const void *s, size_t n);

/* Appends n bytes of s for a one-line report: a backslash as "\\"; "\n",
 * "\r" and "\t"; other control characters (C0, DEL) and bytes that are not
 * well-formed UTF-8 as "\xNN"; the C1 controls, the line and paragraph
 * separators and the bidirectional controls as "\uNNNN". Every other
 * character is kept as it is. */
void sp_buf_add_escaped(sp_buf *b, const char *s, size_t n);

/* s escaped as sp_buf_add_escaped does it (a new string). */
char *sp_escape(const char *s);

/* s with only its control characters (C0, DEL) escaped, as "\n", "\r",
 * "\t" or "\xNN": for a message already made of escaped names, to keep it
 * on one line whatever else it holds. A new string. */
char *sp_escape_controls(const char *s);

/* s as well-formed UTF-8 for a JSON document: every byte that is not part
 * of a well-formed sequence becomes the four characters "\xNN"; all else is
 * kept. A new string. */
char *sp_utf8_clean(const char *s);

/* cJSON_AddStringToObject with sp_utf8_clean applied to s. */
struct cJSON *sp_json_add_text(struct cJSON *obj, const char *key, const char *s);

/* Members of a JSON object read back: the string, or dflt when the member
 * is missing or not a string; the number, or dflt likewise. */
const char *sp_json_string(const struct cJSON *obj, const char *key, const char *dflt);
double sp_json_number(const struct cJSON *obj, const char *key, double dflt);

#endif
