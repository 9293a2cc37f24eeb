#include "sppack/classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/buf.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The tag between NAME and ".so", n bytes at t, into tag; 0 when it is no
 * tag of an extension module. */
static int parse_tag(const char *t, size_t n, sp_so_tag *tag)
{
    memset(tag, 0, sizeof *tag);
    const char *end = t + n, *p;
    if (n > 8 && !strncmp(t, "cpython-", 8)) {
        p = t + 8;
        while (p < end && *p >= '0' && *p <= '9')
            tag->cpython = tag->cpython * 10 + (*p++ - '0');
        if (p == t + 8 || tag->cpython > 99999)
            return 0;
        if (p < end && *p == 't') {
            tag->free_threaded = 1;
            p++;
        }
    } else if (n >= 4 && !strncmp(t, "abi3", 4)) {
        p = t + 4;
        tag->stable = 1;
        if (p < end && *p == 't') {
            tag->stable = 2;
            p++;
        }
    } else {
        return 0;
    }
    if (p == end)
        return 1;
    if (*p != '-' || (size_t)(end - p - 1) >= sizeof tag->triplet || end - p < 2)
        return 0;
    for (const char *q = p + 1; q < end; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_' || *q == '-'))
            return 0;
    memcpy(tag->triplet, p + 1, (size_t)(end - p - 1));
    return 1;
}

enum sp_so_name sp_classify_so_name(const char *base, char **stem, sp_so_tag *tag)
{
    sp_so_tag ignored;
    if (!tag)
        tag = &ignored;
    memset(tag, 0, sizeof *tag);
    *stem = NULL;
    const char *dot = strchr(base, '.');
    if (!dot || dot == base)
        return strstr(base, ".so") ? SP_SO_OTHER : SP_SO_NONE;
    if (ends_with(base, ".so")) {
        const char *rest = dot + 1, *so = base + strlen(base) - 3;
        if (rest == so + 1) { /* NAME.so */
            *stem = sp_xstrndup(base, (size_t)(dot - base));
            return SP_SO_PLAIN;
        }
        if (memchr(rest, '.', (size_t)(so - rest)) == NULL &&
            parse_tag(rest, (size_t)(so - rest), tag)) {
            *stem = sp_xstrndup(base, (size_t)(dot - base));
            return SP_SO_TAGGED;
        }
        return SP_SO_OTHER;
    }
    /* Versioned: libfoo.so.1, libfoo.so.1.2 */
    const char *so = strstr(base, ".so.");
    if (so) {
        for (const char *p = so + 4; *p; p++)
            if (!((*p >= '0' && *p <= '9') || *p == '.'))
                return SP_SO_NONE;
        return SP_SO_OTHER;
    }
    return SP_SO_NONE;
}

const char *sp_so_tag_mismatch(const sp_so_tag *tag, int version, const sp_abi *abi, char *buf,
                               size_t n)
{
    if (tag->cpython && version && tag->cpython != version) {
        snprintf(buf, n, "for CPython %d.%d", tag->cpython / 100, tag->cpython % 100);
        return buf;
    }
    if (tag->free_threaded || tag->stable == 2) {
        snprintf(buf, n, "for the free-threaded build");
        return buf;
    }
    if (tag->triplet[0] && abi && !sp_abi_has_triplet(abi, tag->triplet)) {
        snprintf(buf, n, "for %s", tag->triplet);
        return buf;
    }
    return NULL;
}

void sp_module_names(const char *rel, const char *stem, char **module, char **mangle_from,
                     char **marker)
{
    const char *slash = strrchr(rel, '/');
    char *dir = slash ? sp_xstrndup(rel, (size_t)(slash - rel)) : sp_xstrdup("");
    char *dotted_dir = sp_xstrdup(dir);
    for (char *p = dotted_dir; *p; p++)
        if (*p == '/')
            *p = '.';
    if (*dotted_dir)
        *mangle_from = sp_xasprintf("%s.%s", dotted_dir, stem);
    else
        *mangle_from = sp_xstrdup(stem);
    if (strcmp(stem, "__init__") == 0 && *dotted_dir)
        *module = sp_xstrdup(dotted_dir);
    else
        *module = sp_xstrdup(*mangle_from);
    *marker = *dir ? sp_xasprintf("%s/%s.soref", dir, stem) : sp_xasprintf("%s.soref", stem);
    SP_FREE_ALL(dir, dotted_dir);
}
