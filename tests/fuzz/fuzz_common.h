/* What the writer fuzzers share: a private work directory, the fuzz input
 * written there as a file (inject and align take paths), and the checks
 * every run of a writer must pass, whatever the input. */
#ifndef SPPACK_FUZZ_COMMON_H
#define SPPACK_FUZZ_COMMON_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sppack/alloc.h"
#include "sppack/apk.h"
#include "sppack/file.h"
#include "sppack/strv.h"
#include "sppack/zipreader.h"

static char *fuzz_dir;

/* A directory of this process's own, made once, removed at exit. */
static void fuzz_cleanup(void)
{
    char *cmd = sp_xasprintf("rm -rf '%s'", fuzz_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
    free(cmd);
}

static const char *fuzz_workdir(void)
{
    if (fuzz_dir)
        return fuzz_dir;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *tmpl = sp_xasprintf("%s/sp-pack-fuzz-XXXXXX", base);
    if (!mkdtemp(tmpl))
        abort();
    fuzz_dir = tmpl;
    atexit(fuzz_cleanup);
    return fuzz_dir;
}

static char *fuzz_path(const char *name)
{
    return sp_xasprintf("%s/%s", fuzz_workdir(), name);
}

static void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    sp_error err;
    if (sp_write_file(path, data, size, &err) != 0)
        abort();
}

/* No "NAME.sp-pack-tmp-PID" may be left in the work directory. */
static void fuzz_no_temporary_files(void)
{
    DIR *d = opendir(fuzz_workdir());
    if (!d)
        abort();
    for (struct dirent *de; (de = readdir(d));)
        if (strstr(de->d_name, ".sp-pack-tmp-")) {
            fprintf(stderr, "fuzz: temporary file left: %s\n", de->d_name);
            abort();
        }
    closedir(d);
}

/* What a writer wrote must be a zip our reader opens, with every name
 * safe and none twice, no shared data, and every entry aligned. */
static void fuzz_check_output(const char *path, unsigned page_size)
{
    sp_zip z;
    sp_error err;
    if (sp_zip_open(&z, path, &err) != 0) {
        fprintf(stderr, "fuzz: output unreadable: %s\n", err.msg);
        abort();
    }
    if (sp_zip_check_entries(&z, path, &err) != 0) {
        fprintf(stderr, "fuzz: output holds what its input may not: %s\n", err.msg);
        abort();
    }
    sp_strv problems;
    sp_strv_init(&problems);
    if (sp_apk_check_alignment(&z, page_size, &problems) != 0) {
        fprintf(stderr, "fuzz: output misaligned: %s\n", problems.v[0]);
        abort();
    }
    sp_strv_release(&problems);
    sp_zip_close(&z);
}

#endif
