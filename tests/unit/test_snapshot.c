/* Input snapshots: after a walk is saved, any change to what the walk saw
 * (bytes, times, mode, an entry added, removed, renamed or replaced, a link
 * retargeted) is seen, on one thread or several; changes the walk ignores
 * are not; a damaged, foreign or missing snapshot means "changed"; inputs
 * changed too recently are not trusted. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "sppack/alloc.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/platform.h"
#include "sppack/snapshot.h"
#include "sppack/treewalk.h"

static char *tmp, *root, *snap;

static void put(const char *rel, const char *text)
{
    char *p = sp_path_join(root, rel);
    char *dir = sp_xstrndup(p, (size_t)(strrchr(p, '/') - p));
    sp_mkdirs(dir, NULL);
    sp_write_file(p, text, strlen(text), NULL);
    free(dir);
    free(p);
}

static char *at(const char *rel)
{
    return sp_path_join(root, rel);
}

/* A small tree: files at several depths, a link to a file inside, a
 * __pycache__ the walk skips. */
static void make_tree(void)
{
    sp_remove_tree(root);
    put("a.py", "import os\n");
    put("pkg/__init__.py", "");
    put("pkg/b.py", "B = 1\n");
    put("pkg/sub/c.py", "C = 2\n");
    put("pkg/sub/d.py", "D = 3\n");
    put("pkg/__pycache__/b.cpython-311.pyc", "compiled");
    char *link = at("pkg/link.py");
    symlink("b.py", link);
    free(link);
}

/* Walks root and saves its snapshot as if the walk had started `offset_s`
 * seconds from now. */
static int save(double offset_s)
{
    sp_walk_opts opts = {NULL, NULL, 0, 0};
    sp_tree t;
    sp_error err;
    if (sp_tree_walk(root, &opts, &t, &err) != 0)
        return -2;
    sp_snapshot_root r = {root, &t, 0};
    int rc = sp_snapshot_save(snap, 42, &r, 1,
                              (uint64_t)((double)sp_snapshot_clock_ns() + offset_s * 1e9));
    sp_tree_release(&t);
    return rc;
}

static int unchanged(int jobs)
{
    const char *roots[] = {root};
    return sp_snapshot_unchanged(snap, 42, roots, 1, jobs);
}

/* Waits until the file system's clock has moved on, so that a change made
 * next gets times of its own: a probe file is touched until its change
 * time differs from the one it had (file systems stamp with a coarse
 * clock). Bounded; a clock that never moves fails the test. */
static void next_tick(void)
{
    char *probe = sp_path_join(tmp, "tick-probe");
    struct stat before, now;
    int ok = sp_write_file(probe, "", 0, NULL) == 0 && stat(probe, &before) == 0;
    int moved = 0;
    for (long i = 0; ok && !moved && i < 10000000; i++) {
        ok = chmod(probe, i & 1 ? 0644 : 0600) == 0 && stat(probe, &now) == 0;
        moved = ok && sp_stat_ctime_ns(&now) != sp_stat_ctime_ns(&before);
    }
    CHECK(moved);
    unlink(probe);
    free(probe);
}

static void append(void)
{
    char *p = at("pkg/sub/c.py");
    int fd = open(p, O_WRONLY | O_APPEND);
    CHECK(write(fd, "X\n", 2) == 2);
    close(fd);
    free(p);
}

/* Same size, and the mtime put back: only the change time tells. */
static void rewrite_keeping_mtime(void)
{
    char *p = at("pkg/b.py");
    struct stat st;
    stat(p, &st);
    int fd = open(p, O_WRONLY);
    CHECK(write(fd, "B = 9\n", 6) == 6);
    close(fd);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, p, times, 0);
    free(p);
}

static void touch(void)
{
    char *p = at("a.py");
    utimensat(AT_FDCWD, p, NULL, 0);
    free(p);
}

static void add_file(void)
{
    put("pkg/sub/new.py", "");
}

static void remove_file(void)
{
    char *p = at("pkg/sub/d.py");
    unlink(p);
    free(p);
}

static void rename_file(void)
{
    char *from = at("pkg/sub/d.py"), *to = at("pkg/sub/e.py");
    rename(from, to);
    free(from);
    free(to);
}

/* A copy with the same bytes and times renamed over it: a new inode. */
static void replace_file(void)
{
    char *p = at("pkg/sub/c.py"), *copy = at("pkg/sub/.c.py.new");
    struct stat st;
    stat(p, &st);
    sp_copy_file(p, copy, NULL);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, copy, times, 0);
    rename(copy, p);
    free(p);
    free(copy);
}

static void add_dir(void)
{
    char *p = at("pkg/empty");
    mkdir(p, 0755);
    free(p);
}

static void chmod_file(void)
{
    char *p = at("a.py");
    chmod(p, 0600);
    free(p);
}

static void retarget_link(void)
{
    char *p = at("pkg/link.py");
    unlink(p);
    symlink("__init__.py", p);
    free(p);
}

static void replace_root(void)
{
    char *old = sp_xasprintf("%s.old", root);
    sp_remove_tree(old);
    rename(root, old);
    make_tree();
    sp_remove_tree(old);
    free(old);
}

static const struct {
    const char *what;
    void (*change)(void);
} changes[] = {
    {"append", append},
    {"rewrite keeping mtime", rewrite_keeping_mtime},
    {"touch", touch},
    {"add file", add_file},
    {"remove file", remove_file},
    {"rename file", rename_file},
    {"replace file", replace_file},
    {"add directory", add_dir},
    {"chmod", chmod_file},
    {"retarget link", retarget_link},
    {"replace root", replace_root},
};

static void corrupt_at(long offset)
{
    int fd = open(snap, O_RDWR);
    unsigned char c;
    CHECK(pread(fd, &c, 1, offset) == 1);
    c ^= 0x5a;
    CHECK(pwrite(fd, &c, 1, offset) == 1);
    close(fd);
}

int main(void)
{
    const char *base = getenv("SP_TEST_TMP") ? getenv("SP_TEST_TMP") : "/tmp";
    tmp = sp_xasprintf("%s/snapshot-test", base);
    root = sp_xasprintf("%s/tree", tmp);
    snap = sp_xasprintf("%s/snap.inputs", tmp);
    sp_remove_tree(tmp);
    sp_mkdirs(tmp, NULL);

    /* Unchanged: seen as such on one thread or many. */
    make_tree();
    CHECK(save(3) == 0);
    CHECK(unchanged(1) == 1);
    CHECK(unchanged(4) == 1);
    /* Reading inputs changes nothing, nor does what the walk skips. */
    char *pyc = at("pkg/__pycache__/b.cpython-311.pyc");
    int fd = open(pyc, O_WRONLY | O_APPEND);
    CHECK(write(fd, "more", 4) == 4);
    close(fd);
    free(pyc);
    CHECK(unchanged(1) == 1);

    /* Every kind of change is seen. */
    for (size_t i = 0; i < sizeof changes / sizeof *changes; i++) {
        make_tree();
        CHECK(save(3) == 0);
        next_tick();
        changes[i].change();
        int one = unchanged(1), many = unchanged(4);
        if (one != 0 || many != 0)
            fprintf(stderr, "not seen: %s\n", changes[i].what);
        CHECK(one == 0);
        CHECK(many == 0);
    }

    /* Another key, other roots, a damaged or missing file: "changed". */
    make_tree();
    CHECK(save(3) == 0);
    const char *roots[] = {root, root};
    CHECK(sp_snapshot_unchanged(snap, 43, roots, 1, 1) == 0);
    CHECK(sp_snapshot_unchanged(snap, 42, roots, 2, 1) == 0);
    const char *other[] = {tmp};
    CHECK(sp_snapshot_unchanged(snap, 42, other, 1, 1) == 0);
    struct stat st;
    CHECK(stat(snap, &st) == 0);
    long offsets[] = {0, 9, 20, 40, (long)st.st_size / 2, (long)st.st_size - 1};
    for (size_t i = 0; i < sizeof offsets / sizeof *offsets; i++) {
        CHECK(save(3) == 0);
        corrupt_at(offsets[i]);
        CHECK(unchanged(1) == 0);
    }
    CHECK(save(3) == 0);
    CHECK(truncate(snap, st.st_size - 8) == 0);
    CHECK(unchanged(1) == 0);
    CHECK(truncate(snap, 0) == 0);
    CHECK(unchanged(1) == 0);
    unlink(snap);
    CHECK(unchanged(1) == 0);

    /* Changed within SP_SNAPSHOT_RECENT_NS of the walk: not saved, and an
     * older snapshot goes too. */
    CHECK(save(3) == 0);
    CHECK(save(1) == 1);
    CHECK(access(snap, F_OK) != 0);
    CHECK(unchanged(1) == 0);

    /* A single-file root (--lib FILE). */
    char *file = at("a.py");
    sp_tree ft;
    sp_tree_init(&ft);
    ft.files = sp_xcalloc(1, sizeof *ft.files);
    ft.n = ft.cap = 1;
    CHECK(stat(file, &st) == 0);
    ft.files[0] = (sp_tree_file){sp_xstrdup("a.py"),    sp_xstrdup(file),      (uint64_t)st.st_size,
                                 sp_stat_mtime_ns(&st), sp_stat_ctime_ns(&st), (uint64_t)st.st_ino};
    sp_snapshot_root fr = {file, &ft, 1};
    CHECK(sp_snapshot_save(snap, 7, &fr, 1, sp_snapshot_clock_ns() + 3000000000ull) == 0);
    const char *froots[] = {file};
    CHECK(sp_snapshot_unchanged(snap, 7, froots, 1, 1) == 1);
    next_tick();
    touch();
    CHECK(sp_snapshot_unchanged(snap, 7, froots, 1, 1) == 0);
    sp_tree_release(&ft);
    free(file);

    /* Enough entries for several threads: a change in the last file, or in
     * the first directory, is seen whichever thread takes it. */
    sp_remove_tree(root);
    for (int i = 0; i < 3000; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "d%02d/f%04d.py", i % 40, i);
        put(rel, "x = 1\n");
    }
    CHECK(save(3) == 0);
    CHECK(unchanged(4) == 1);
    next_tick();
    char *last = at("d39/f2999.py");
    utimensat(AT_FDCWD, last, NULL, 0);
    free(last);
    CHECK(unchanged(4) == 0);
    CHECK(unchanged(1) == 0);
    CHECK(save(3) == 0);
    next_tick();
    put("d00/another.py", "");
    CHECK(unchanged(4) == 0);

    sp_remove_tree(tmp);
    free(tmp);
    free(root);
    free(snap);
    return check_done();
}
