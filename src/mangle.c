#include "sppack/mangle.h"

#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/buf.h"

static int is_ident_byte(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

char *sp_mangle(const char *dotted)
{
    size_t n = strlen(dotted);
    if (n == 0 || dotted[0] == '.' || dotted[n - 1] == '.' || strstr(dotted, ".."))
        return NULL;
    static const char hex[] = "0123456789abcdef";
    sp_buf b;
    sp_buf_init(&b);
    sp_buf_adds(&b, "lib");
    for (const unsigned char *p = (const unsigned char *)dotted; *p; p++) {
        if (*p == '.') {
            sp_buf_add(&b, "-", 1);
        } else if (is_ident_byte(*p)) {
            sp_buf_add(&b, p, 1);
        } else {
            char esc[3] = {'.', hex[*p >> 4], hex[*p & 15]};
            sp_buf_add(&b, esc, 3);
        }
    }
    sp_buf_adds(&b, ".so");
    return sp_buf_detach(&b);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

char *sp_unmangle(const char *lib)
{
    size_t n = strlen(lib);
    if (n <= 6 || strncmp(lib, "lib", 3) != 0 || strcmp(lib + n - 3, ".so") != 0)
        return NULL;
    sp_buf b;
    sp_buf_init(&b);
    for (size_t i = 3; i < n - 3; i++) {
        char c = lib[i];
        if (c == '-') {
            sp_buf_add(&b, ".", 1);
        } else if (c == '.') {
            int hi = i + 2 < n - 3 ? hexval(lib[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(lib[i + 2]) : -1;
            if (lo < 0 || is_ident_byte((unsigned char)(hi * 16 + lo)) || hi * 16 + lo == '.') {
                sp_buf_release(&b);
                return NULL;
            }
            char byte = (char)(hi * 16 + lo);
            sp_buf_add(&b, &byte, 1);
            i += 2;
        } else if (is_ident_byte((unsigned char)c)) {
            sp_buf_add(&b, &c, 1);
        } else {
            sp_buf_release(&b);
            return NULL;
        }
    }
    char *out = sp_buf_detach(&b);
    /* Only names sp_mangle could have produced. */
    char *again = sp_mangle(out);
    int same = again && strcmp(again, lib) == 0;
    free(again);
    if (!same) {
        free(out);
        return NULL;
    }
    return out;
}

int sp_is_android_lib_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 6 || strncmp(name, "lib", 3) != 0 || strcmp(name + n - 3, ".so") != 0)
        return 0;
    for (size_t i = 3; i < n - 3; i++)
        if (!is_ident_byte((unsigned char)name[i]) && !strchr("+,-.=", name[i]))
            return 0;
    return 1;
}
