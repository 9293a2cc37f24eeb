/* Errors carried up to the command layer, which prints them once.
 *
 * Library code never prints or exits: it fills an sp_error and returns -1.
 * The status is the process exit code the command should use (docs/sp-pack.1,
 * EXIT STATUS). */
#ifndef SPPACK_ERROR_H
#define SPPACK_ERROR_H

enum sp_status {
    SP_OK = 0,
    SP_EINPUT = 1, /* the input is wrong (pack refused it, verify found errors) */
    SP_EUSAGE = 2, /* bad command line or configuration */
    SP_EIO = 3     /* I/O or system failure */
};

typedef struct sp_error {
    int status;     /* enum sp_status; SP_OK when nothing was set */
    char msg[2048]; /* "<path>: <what is wrong> (hint: ...)" without "sp-pack: " */
} sp_error;

void sp_error_init(sp_error *err);

/* Sets err (when err is not NULL) and returns -1, so callers can write
 * `return sp_error_set(err, SP_EIO, path, "cannot read: %s", strerror(errno));`.
 * path may be NULL for messages that name no file. A message longer than
 * msg holds keeps its reason: the path loses its middle first (keeping the
 * end that names the file), then, for a reason longer than msg itself,
 * the reason its middle, never its start or end. */
int sp_error_set(sp_error *err, int status, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Puts "path: " before err's message (an error from a layer that did not
 * know which file it was reading), shortened by the same rule. Returns -1. */
int sp_error_prefix(sp_error *err, const char *path);

#endif
