#include "sppack/classify.h"

#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/buf.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum sp_so_name sp_classify_so_name(const char *base, char **stem)
{
    *stem = NULL;
    const char *dot = strchr(base, '.');
    if (!dot || dot == base)
        return strstr(base, ".so") ? SP_SO_OTHER : SP_SO_NONE;
    if (ends_with(base, ".so")) {
        const char *rest = dot + 1;
        if ((strncmp(rest, "cpython-", 8) == 0 && strchr(rest, '.') == base + strlen(base) - 3) ||
            strcmp(rest, "abi3.so") == 0) {
            *stem = sp_xstrndup(base, (size_t)(dot - base));
            return SP_SO_TAGGED;
        }
        if (strcmp(rest, "so") == 0) {
            *stem = sp_xstrndup(base, (size_t)(dot - base));
            return SP_SO_PLAIN;
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
    free(dir);
    free(dotted_dir);
}
