#include "sppack/text.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t sp_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char b = s[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((b & 0xE0) == 0xC0) {
        len = 2, c = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
        len = 3, c = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
        len = 4, c = b & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

int sp_utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t k = sp_utf8_seq(p + i, n - i, &cp);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

/* Characters that reorder or break what a terminal shows. */
static int invisible_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0x061C ||
           cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

void sp_buf_add_escaped(sp_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[16];
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t k = sp_utf8_seq(p + i, n - i, &cp);
        if (k == 1 && cp >= 0x20 && cp != 0x7F && cp != '\\') {
            size_t run = 1; /* plain ASCII: copy the run at once */
            while (i + run < n && p[i + run] >= 0x20 && p[i + run] < 0x7F && p[i + run] != '\\')
                run++;
            sp_buf_add(b, p + i, run);
            i += run;
            continue;
        }
        if (k == 0 || (k == 1 && cp != '\\' && cp != '\n' && cp != '\r' && cp != '\t')) {
            snprintf(esc, sizeof esc, "\\x%02x", p[i]);
            k = 1;
        } else if (k == 1) {
            snprintf(esc, sizeof esc, "\\%c",
                     cp == '\\'   ? '\\'
                     : cp == '\n' ? 'n'
                     : cp == '\r' ? 'r'
                                  : 't');
        } else if (invisible_control(cp)) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
        } else {
            sp_buf_add(b, p + i, k);
            i += k;
            continue;
        }
        sp_buf_adds(b, esc);
        i += k;
    }
}

char *sp_escape(const char *s)
{
    sp_buf b;
    sp_buf_init(&b);
    sp_buf_add_escaped(&b, s, strlen(s));
    return sp_buf_detach(&b);
}

char *sp_escape_controls(const char *s)
{
    sp_buf b;
    sp_buf_init(&b);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != 0x7F)
            sp_buf_add(&b, p, 1);
        else if (*p == '\n' || *p == '\r' || *p == '\t')
            sp_buf_addf(&b, "\\%c", *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
        else
            sp_buf_addf(&b, "\\x%02x", *p);
    }
    return sp_buf_detach(&b);
}

char *sp_utf8_clean(const char *s)
{
    sp_buf b;
    sp_buf_init(&b);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = sp_utf8_seq(p + i, n - i, &cp);
        if (k) {
            sp_buf_add(&b, p + i, k);
            i += k;
        } else {
            sp_buf_addf(&b, "\\x%02x", p[i]);
            i++;
        }
    }
    return sp_buf_detach(&b);
}

cJSON *sp_json_add_text(cJSON *obj, const char *key, const char *s)
{
    if (sp_utf8_valid(s, strlen(s)))
        return cJSON_AddStringToObject(obj, key, s);
    char *clean = sp_utf8_clean(s);
    cJSON *item = cJSON_AddStringToObject(obj, key, clean);
    free(clean);
    return item;
}

const char *sp_json_string(const cJSON *obj, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

double sp_json_number(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}
