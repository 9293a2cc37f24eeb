/* The exclude presets: see sppack/preset.h. */
#include "sppack/preset.h"

#include <fnmatch.h>
#include <stddef.h>
#include <string.h>

static const char *const names[SP_PRESETS] = {"tests", "build"};

/* tests: top-level directories of a standard library that apps never import. */
static const char *const stdlib_dirs[] = {"test",      "idlelib", "tkinter",    "turtledemo",
                                          "ensurepip", "lib2to3", "pydoc_data", NULL};
/* tests: CPython's own C test modules, in a standard library's lib-dynload/. */
static const char *const stdlib_test_modules[] = {"_test*", "_ctypes_test.*", "_xxtestfuzz.*",
                                                  "xxlimited*", NULL};
/* tests: test directories kept, relative to a site-packages root: test
 * packages that other code imports when it is itself imported, each
 * checked in the package's source (docs/layout.md lists them). */
static const char *const kept_tests[] = {
    "astropy/tests", /* astropy/__init__.py imports astropy.tests.runner */
    NULL};
/* build: files that only building against a package uses. */
static const char *const build_globs[] = {"*.a", "*.h", "*.pyi", "*.pxd", "*.pyx", NULL};

int sp_preset_find(const char *name)
{
    for (int i = 0; i < SP_PRESETS; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

const char *sp_preset_name(int preset)
{
    return preset >= 0 && preset < SP_PRESETS ? names[preset] : "";
}

const char *sp_preset_names(void)
{
    return "tests, build";
}

static int any_glob(const char *const *globs, const char *name)
{
    for (; *globs; globs++)
        if (fnmatch(*globs, name, 0) == 0)
            return 1;
    return 0;
}

static int is_kept_test_dir(const char *rel, size_t len)
{
    for (const char *const *k = kept_tests; *k; k++)
        if (strlen(*k) == len && !strncmp(*k, rel, len))
            return 1;
    return 0;
}

static int matches_tests(int stdlib, const char *rel)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if (stdlib && !strncmp(rel, "lib-dynload/", 12) && !strchr(rel + 12, '/'))
        return any_glob(stdlib_test_modules, base);
    /* Every directory of the path, with its depth. */
    int depth = 0;
    for (const char *c = rel; c < base; depth++) {
        const char *slash = strchr(c, '/');
        size_t n = (size_t)(slash - c);
        int is_test = (n == 4 && !strncmp(c, "test", 4)) || (n == 5 && !strncmp(c, "tests", 5));
        if (depth == 0 && stdlib) {
            for (const char *const *d = stdlib_dirs; *d; d++)
                if (strlen(*d) == n && !strncmp(*d, c, n))
                    return 1;
        } else if (depth > 0 && is_test && !is_kept_test_dir(rel, (size_t)(slash - rel))) {
            return 1;
        }
        c = slash + 1;
    }
    return 0;
}

int sp_preset_match(unsigned mask, int stdlib, const char *rel)
{
    if ((mask & 1u << SP_PRESET_TESTS) && matches_tests(stdlib, rel))
        return SP_PRESET_TESTS;
    if (mask & 1u << SP_PRESET_BUILD) {
        const char *base = strrchr(rel, '/');
        if (any_glob(build_globs, base ? base + 1 : rel))
            return SP_PRESET_BUILD;
    }
    return -1;
}
