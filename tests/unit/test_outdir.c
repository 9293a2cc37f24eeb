/* Staging and commit: a new output directory appears whole with one rename
 * and the umask's permissions; an existing one gets its files renamed in;
 * leftovers of killed runs go; a directory made meanwhile still works. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sppack/outdir.h"
#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/strv.h"

/* Entries of dir whose names start with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static int stage_file(sp_outdir *od, const char *rel, const char *text)
{
    sp_error err;
    char *p = sp_outdir_stage(od, rel, &err);
    int rc = p ? sp_write_file(p, text, strlen(text), &err) : -1;
    free(p);
    return rc;
}

static int has_text(const char *dir, const char *rel, const char *text)
{
    char *p = sp_path_join(dir, rel);
    sp_map m;
    int ok = sp_map_open(&m, p, NULL) == 0;
    if (ok) {
        ok = m.size == strlen(text) && memcmp(m.data, text, m.size) == 0;
        sp_map_close(&m);
    }
    free(p);
    return ok;
}

int main(void)
{
    const char *tmp = getenv("SP_TEST_TMP") ? getenv("SP_TEST_TMP") : "/tmp";
    char *parent = sp_xasprintf("%s/outdir-test", tmp);
    char *out = sp_xasprintf("%s/out", parent);
    sp_remove_tree(parent);
    sp_error err;
    mode_t mask = umask(027);

    /* A new directory: staged beside it, one rename, the umask's mode. */
    CHECK(sp_mkdirs(parent, &err) == 0);
    char *stale = sp_xasprintf("%s/.out.sp-pack-staging-1-0", parent);
    CHECK(sp_mkdirs(stale, &err) == 0); /* left by a killed run */
    sp_outdir od;
    CHECK(sp_outdir_begin(&od, out, &err) == 0);
    CHECK(access(stale, F_OK) != 0);
    CHECK(access(out, F_OK) != 0); /* nothing shows before the commit */
    CHECK(stage_file(&od, "assets/stdlib.zip", "zip") == 0);
    CHECK(stage_file(&od, "jniLibs/x86_64/liba.so", "elf") == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{}") == 0);
    CHECK(access(out, F_OK) != 0);
    CHECK(sp_outdir_commit(&od, NULL, &err) == 0);
    sp_outdir_release(&od);
    struct stat st;
    CHECK(stat(out, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0750);
    CHECK(has_text(out, "assets/stdlib.zip", "zip"));
    CHECK(has_text(out, "jniLibs/x86_64/liba.so", "elf"));
    CHECK(has_text(out, "sp-pack.json", "{}"));
    CHECK(count_prefixed(parent, ".out.sp-pack-staging-") == 0);

    /* An existing directory: files renamed in, stale outputs removed, the
     * staging directory inside it gone. */
    CHECK(sp_outdir_begin(&od, out, &err) == 0);
    CHECK(stage_file(&od, "assets/stdlib.zip", "zip2") == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{2}") == 0);
    sp_strv old;
    sp_strv_init(&old);
    sp_strv_push(&old, "jniLibs/x86_64/liba.so");
    CHECK(sp_outdir_commit(&od, &old, &err) == 0);
    sp_outdir_release(&od);
    sp_strv_release(&old);
    CHECK(has_text(out, "assets/stdlib.zip", "zip2"));
    CHECK(has_text(out, "sp-pack.json", "{2}"));
    char *lib = sp_path_join(out, "jniLibs/x86_64/liba.so");
    CHECK(access(lib, F_OK) != 0);
    free(lib);
    CHECK(count_prefixed(out, ".sp-pack-staging-") == 0);

    /* Made by someone else between begin and commit: file by file. */
    sp_remove_tree(out);
    CHECK(sp_outdir_begin(&od, out, &err) == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{3}") == 0);
    CHECK(sp_mkdirs(out, &err) == 0);
    char *other = sp_path_join(out, "keep.txt");
    CHECK(sp_write_file(other, "mine", 4, &err) == 0);
    CHECK(sp_outdir_commit(&od, NULL, &err) == 0);
    sp_outdir_release(&od);
    CHECK(has_text(out, "sp-pack.json", "{3}"));
    CHECK(has_text(out, "keep.txt", "mine"));
    CHECK(count_prefixed(parent, ".out.sp-pack-staging-") == 0);
    free(other);

    /* A failed run (released without commit) leaves nothing behind. */
    sp_remove_tree(out);
    CHECK(sp_outdir_begin(&od, out, &err) == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{4}") == 0);
    sp_outdir_release(&od);
    CHECK(access(out, F_OK) != 0);
    CHECK(count_prefixed(parent, ".out.sp-pack-staging-") == 0);

    umask(mask);
    sp_remove_tree(parent);
    free(stale);
    free(out);
    free(parent);
    return check_done();
}
