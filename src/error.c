#include "sppack/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"

/* The least of a path a shortened message keeps. */
#define PATH_KEPT 96

void sp_error_init(sp_error *err)
{
    err->status = SP_OK;
    err->msg[0] = '\0';
}

/* Appends at most room bytes of s (n long) to out: all of it, or its start
 * and end around "...", cut between characters (never inside a UTF-8
 * sequence). tail_share: the part of room given to the end, in percent. */
static size_t put_shortened(char *out, const char *s, size_t n, size_t room, unsigned tail_share)
{
    if (n <= room) {
        memcpy(out, s, n);
        return n;
    }
    if (room < 5) {
        memcpy(out, "...", room < 3 ? room : 3);
        return room < 3 ? room : 3;
    }
    size_t keep = room - 3, tail = keep * tail_share / 100, head = keep - tail;
    while (head > 0 && ((unsigned char)s[head] & 0xC0) == 0x80)
        head--; /* s[head] starts a character */
    size_t from = n - tail;
    while (from < n && ((unsigned char)s[from] & 0xC0) == 0x80)
        from++;
    memcpy(out, s, head);
    memcpy(out + head, "...", 3);
    memcpy(out + head + 3, s + from, n - from);
    return head + 3 + (n - from);
}

/* "path: reason" into err->msg: when it does not fit, the path loses its
 * middle first (down to PATH_KEPT bytes), then the reason its middle, so
 * that the reason, and the end of the path that names the file, stay. */
static void compose(sp_error *err, const char *path, const char *reason)
{
    size_t cap = sizeof err->msg - 1;
    size_t pl = path ? strlen(path) : 0, sep = path ? 2 : 0, rl = strlen(reason);
    size_t path_room = pl, reason_room = rl;
    if (pl + sep + rl > cap) {
        size_t min_path = pl < PATH_KEPT ? pl : PATH_KEPT;
        reason_room = rl < cap - sep - min_path ? rl : cap - sep - min_path;
        path_room = cap - sep - reason_room;
    }
    size_t at = 0;
    if (path) {
        at += put_shortened(err->msg, path, pl, path_room, 60);
        memcpy(err->msg + at, ": ", 2);
        at += 2;
    }
    at += put_shortened(err->msg + at, reason, rl, reason_room, 50);
    err->msg[at] = '\0';
}

int sp_error_set(sp_error *err, int status, const char *path, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *reason = sp_xvasprintf(fmt, ap, NULL);
    va_end(ap);
    err->status = status;
    compose(err, path, reason);
    free(reason);
    return -1;
}

int sp_error_prefix(sp_error *err, const char *path)
{
    if (!err)
        return -1;
    char *reason = sp_xstrdup(err->msg);
    compose(err, path, reason);
    free(reason);
    return -1;
}
