/* The output directory: generations switched by one rename, links that
 * stay where users look, the lock, leftovers of killed runs, and nothing
 * outside sp-pack's own directory removed or followed. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/outdir.h"
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

static int exists(const char *dir, const char *rel)
{
    char *p = sp_path_join(dir, rel);
    struct stat st;
    int ok = lstat(p, &st) == 0;
    free(p);
    return ok;
}

static int is_link(const char *dir, const char *rel)
{
    char *p = sp_path_join(dir, rel);
    struct stat st;
    int ok = lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
    free(p);
    return ok;
}

static ino_t inode(const char *dir, const char *rel)
{
    char *p = sp_path_join(dir, rel);
    struct stat st;
    ino_t ino = stat(p, &st) == 0 ? st.st_ino : 0;
    free(p);
    return ino;
}

/* What pack does: the lock, then a generation to write. */
static int start(sp_outdir *od, const char *out, sp_error *err)
{
    return sp_outdir_lock(od, out, err) != 0 ? -1 : sp_outdir_begin(od, err);
}

int main(void)
{
    const char *tmp = getenv("SP_TEST_TMP") ? getenv("SP_TEST_TMP") : "/tmp";
    char *parent = sp_xasprintf("%s/outdir-test", tmp);
    char *out = sp_xasprintf("%s/out", parent);
    char *own = sp_path_join(out, SP_OUTDIR_OWN);
    sp_remove_tree(parent);
    sp_error err;
    mode_t mask = umask(027);
    CHECK(sp_mkdirs(parent, &err) == 0);

    /* A new directory: nothing shows before the commit; after it, every
     * output through the links, in generation g1. */
    sp_outdir od;
    CHECK(start(&od, out, &err) == 0);
    CHECK(stage_file(&od, "assets/stdlib.zip", "zip") == 0);
    CHECK(stage_file(&od, "jniLibs/x86_64/liba.so", "elf") == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{}") == 0);
    CHECK(!exists(out, "assets") && !exists(out, "sp-pack.json"));
    CHECK(sp_outdir_commit(&od, &err) == 0);
    sp_outdir_release(&od);
    struct stat st;
    CHECK(stat(out, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0750);
    CHECK(has_text(out, "assets/stdlib.zip", "zip"));
    CHECK(has_text(out, "jniLibs/x86_64/liba.so", "elf"));
    CHECK(has_text(out, "sp-pack.json", "{}"));
    CHECK(is_link(out, "assets") && is_link(out, "jniLibs") && is_link(out, "sp-pack.json"));
    CHECK(exists(own, "g1") && count_prefixed(own, "g") == 1);

    /* The next run: a kept output is the same file (a hard link), a new one
     * replaces its old version, a name no longer produced loses its link;
     * the old generation goes. */
    ino_t zip_ino = inode(out, "assets/stdlib.zip");
    CHECK(start(&od, out, &err) == 0);
    CHECK(sp_outdir_keep(&od, "assets/stdlib.zip", &err) == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{2}") == 0);
    CHECK(has_text(out, "sp-pack.json", "{}")); /* still the old one */
    CHECK(sp_outdir_commit(&od, &err) == 0);
    sp_outdir_release(&od);
    CHECK(has_text(out, "assets/stdlib.zip", "zip") && inode(out, "assets/stdlib.zip") == zip_ino);
    CHECK(has_text(out, "sp-pack.json", "{2}"));
    CHECK(!exists(out, "jniLibs"));
    CHECK(exists(own, "g2") && count_prefixed(own, "g") == 1);

    /* Leftovers of runs killed outright are removed; a link planted in
     * them is removed, not followed. */
    char *victim = sp_path_join(parent, "victim");
    CHECK(sp_mkdirs(victim, &err) == 0);
    char *secret = sp_path_join(victim, "secret.txt");
    CHECK(sp_write_file(secret, "keep", 4, &err) == 0);
    char *g9 = sp_path_join(own, "g9");
    char *planted = sp_path_join(g9, "cache");
    CHECK(sp_mkdirs(g9, &err) == 0 && symlink(victim, planted) == 0);
    CHECK(start(&od, out, &err) == 0);
    CHECK(!exists(own, "g9") && exists(own, "g2"));
    CHECK(has_text(victim, "secret.txt", "keep"));

    /* The lock: a second run on the same directory fails at once, naming
     * the process holding it, and takes nothing away from the first. */
    sp_outdir second;
    CHECK(start(&second, out, &err) == -1 && err.status == SP_EIO &&
          strstr(err.msg, "another sp-pack (process ") && strstr(err.msg, out));
    sp_outdir_release(&second);
    CHECK(exists(own, "g3"));
    CHECK(stage_file(&od, "sp-pack.json", "{3}") == 0);
    CHECK(sp_outdir_commit(&od, &err) == 0);
    sp_outdir_release(&od);
    CHECK(has_text(out, "sp-pack.json", "{3}") && !exists(out, "assets"));

    /* A failed run (released without commit) leaves the outputs as they
     * were, and no generation of its own. */
    CHECK(start(&od, out, &err) == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{4}") == 0);
    sp_outdir_release(&od);
    CHECK(has_text(out, "sp-pack.json", "{3}") && count_prefixed(own, "g") == 1);

    /* A real directory where a link goes is not sp-pack's: the commit is
     * refused and it stays; a foreign link there is replaced, its target
     * left alone. */
    char *assets = sp_path_join(out, "assets");
    CHECK(sp_mkdirs(assets, &err) == 0);
    CHECK(sp_write_file(secret, "keep", 4, &err) == 0);
    char *mine = sp_path_join(assets, "mine.txt");
    CHECK(sp_write_file(mine, "user", 4, &err) == 0);
    CHECK(start(&od, out, &err) == 0);
    CHECK(stage_file(&od, "assets/stdlib.zip", "zip5") == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{5}") == 0);
    CHECK(sp_outdir_commit(&od, &err) == -1 && err.status == SP_EUSAGE &&
          strstr(err.msg, "a real directory where sp-pack keeps its link"));
    sp_outdir_release(&od);
    CHECK(has_text(out, "assets/mine.txt", "user") && has_text(out, "sp-pack.json", "{3}"));
    CHECK(unlink(mine) == 0 && rmdir(assets) == 0 && symlink(victim, assets) == 0);
    CHECK(start(&od, out, &err) == 0);
    CHECK(stage_file(&od, "assets/stdlib.zip", "zip6") == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{6}") == 0);
    CHECK(sp_outdir_commit(&od, &err) == 0);
    sp_outdir_release(&od);
    CHECK(has_text(out, "assets/stdlib.zip", "zip6") && has_text(victim, "secret.txt", "keep"));
    CHECK(!exists(victim, "stdlib.zip"));

    /* A failed first run into a new directory leaves no directory. */
    sp_remove_tree(out);
    CHECK(start(&od, out, &err) == 0);
    CHECK(stage_file(&od, "sp-pack.json", "{7}") == 0);
    sp_outdir_release(&od);
    CHECK(access(out, F_OK) != 0 && errno == ENOENT);

    /* A link or file where sp-pack's own directory goes is refused. */
    CHECK(sp_mkdirs(out, &err) == 0 && symlink(victim, own) == 0);
    CHECK(start(&od, out, &err) == -1 && strstr(err.msg, "not sp-pack's own directory"));
    sp_outdir_release(&od);
    CHECK(has_text(victim, "secret.txt", "keep") && !exists(victim, "lock"));

    umask(mask);
    sp_remove_tree(parent);
    free(mine);
    free(assets);
    free(planted);
    free(g9);
    free(secret);
    free(victim);
    free(own);
    free(out);
    free(parent);
    return check_done();
}
