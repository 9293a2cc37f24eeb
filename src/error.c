#include "sppack/error.h"

#include <stdarg.h>
#include <stdio.h>

void sp_error_init(sp_error *err)
{
    err->status = SP_OK;
    err->msg[0] = '\0';
}

int sp_error_set(sp_error *err, int status, const char *path, const char *fmt, ...)
{
    if (!err)
        return -1;
    size_t n = 0;
    err->status = status;
    err->msg[0] = '\0';
    if (path) {
        int w = snprintf(err->msg, sizeof err->msg, "%s: ", path);
        n = w > 0 ? (size_t)w : 0;
        if (n >= sizeof err->msg)
            n = sizeof err->msg - 1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n, sizeof err->msg - n, fmt, ap);
    va_end(ap);
    return -1;
}
