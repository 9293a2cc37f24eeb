/* The walker on trees made here: order, exclusions, skipped directories,
 * and the symlink policy. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sppack/platform.h"
#include "sppack/treewalk.h"
#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/strv.h"

static void touch(const char *root, const char *rel)
{
    char *p = sp_path_join(root, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    sp_mkdirs(p, NULL);
    *slash = '/';
    sp_write_file(p, "x", 1, NULL);
    free(p);
}

static void link_to(const char *root, const char *rel, const char *target)
{
    char *p = sp_path_join(root, rel);
    unlink(p);
    CHECK(symlink(target, p) == 0);
    free(p);
}

static int same_tree(const sp_tree *a, const sp_tree *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->files[i].rel, b->files[i].rel) ||
            strcmp(a->files[i].path, b->files[i].path) || a->files[i].size != b->files[i].size ||
            a->files[i].ino != b->files[i].ino)
            return 0;
    return 1;
}

/* Several roots on several threads give each root what a walk of its own
 * gives; of several problems, the first in path order is reported, however
 * many threads run. */
static void test_walk_many(const char *tmp)
{
    char *roots[3];
    for (int r = 0; r < 3; r++) {
        roots[r] = sp_xasprintf("%s/walk-many-%d", tmp, r);
        sp_remove_tree(roots[r]);
        for (int d = 0; d < 30; d++)
            for (int f = 0; f < 8; f++) {
                char *rel = sp_xasprintf("d%02d/sub%d/f%d.py", d, f % 3, f);
                touch(roots[r], rel);
                free(rel);
            }
        touch(roots[r], "top.py");
    }
    sp_tree alone[3], many[3];
    sp_error err;
    for (int r = 0; r < 3; r++) {
        sp_tree_init(&alone[r]);
        CHECK(sp_tree_walk(roots[r], NULL, &alone[r], &err) == 0);
        CHECK(alone[r].n == 30 * 8 + 1);
    }
    for (int jobs = 1; jobs <= 4; jobs++) {
        sp_walk_root w[3];
        for (int r = 0; r < 3; r++)
            w[r] = (sp_walk_root){roots[r], NULL, &many[r], 0, {0, ""}};
        sp_tree_walk_many(w, 3, jobs);
        for (int r = 0; r < 3; r++) {
            CHECK(w[r].rc == 0);
            CHECK(same_tree(&alone[r], &many[r]));
            sp_tree_release(&many[r]);
        }
    }
    /* Tiny trees, many times: threads that find nothing to do must still
     * leave every root complete. */
    char *tiny = sp_xasprintf("%s/walk-tiny", tmp);
    sp_remove_tree(tiny);
    touch(tiny, "lib-dynload/_m.so");
    touch(tiny, "os.py");
    int all_complete = 1;
    for (int round = 0; round < 300; round++) {
        sp_tree t1;
        sp_walk_root w1 = {tiny, NULL, &t1, 0, {0, ""}};
        sp_tree_walk_many(&w1, 1, 1 + round % 4);
        all_complete &= w1.rc == 0 && t1.n == 2;
        sp_tree_release(&t1);
    }
    CHECK(all_complete);
    sp_remove_tree(tiny);
    free(tiny);

    /* Two bad links under root 1: "d05/..." comes before "d20/...". */
    link_to(roots[1], "d20/sub0/bad.py", "missing.py");
    link_to(roots[1], "d05/sub2/bad.py", "missing.py");
    for (int jobs = 1; jobs <= 4; jobs++)
        for (int round = 0; round < 5; round++) {
            sp_walk_root w[3];
            for (int r = 0; r < 3; r++)
                w[r] = (sp_walk_root){roots[r], NULL, &many[r], 0, {0, ""}};
            sp_tree_walk_many(w, 3, jobs);
            CHECK(w[0].rc == 0 && same_tree(&alone[0], &many[0]));
            CHECK(w[2].rc == 0 && same_tree(&alone[2], &many[2]));
            CHECK(w[1].rc != 0 && w[1].err.status == SP_EINPUT);
            CHECK(strstr(w[1].err.msg, "d05/sub2/bad.py: dangling symlink") != NULL);
            CHECK(many[1].n == 0);
            for (int r = 0; r < 3; r++)
                sp_tree_release(&many[r]);
        }
    for (int r = 0; r < 3; r++) {
        sp_tree_release(&alone[r]);
        sp_remove_tree(roots[r]);
        free(roots[r]);
    }
}

static void test_mkdirs(const char *tmp)
{
    char *base = sp_xasprintf("%s/mkdirs", tmp);
    sp_remove_tree(base);
    char *deep = sp_xasprintf("%s/a/b/c/", base);
    sp_error err;
    struct stat st;
    CHECK(sp_mkdirs(deep, &err) == 0);
    CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(sp_mkdirs(deep, &err) == 0); /* already there */
    char *file = sp_xasprintf("%s/a/file", base);
    CHECK(sp_write_file(file, "x", 1, &err) == 0);
    char *under = sp_xasprintf("%s/below", file);
    CHECK(sp_mkdirs(file, &err) != 0 && strstr(err.msg, "cannot create directory"));
    CHECK(sp_mkdirs(under, &err) != 0 && err.status == SP_EIO);
    sp_remove_tree(base);
    free(under);
    free(file);
    free(deep);
    free(base);
}

int main(void)
{
    const char *tmp = getenv("SP_TEST_TMP") ? getenv("SP_TEST_TMP") : "/tmp";
    char *root = sp_xasprintf("%s/walk-root", tmp);
    sp_remove_tree(root);
    touch(root, "os.py");
    touch(root, "a/b.py");
    touch(root, "a.py");
    touch(root, "a/__pycache__/b.cpython-311.pyc");
    touch(root, "site-packages/x.py");
    touch(root, "tests/t.py");
    touch(root, "pkg/tests/t.py");
    link_to(root, "inside.py", "os.py");

    const char *skip[] = {"site-packages", NULL};
    sp_strv ex;
    sp_strv_init(&ex);
    sp_strv_push(&ex, "tests");
    sp_walk_opts o = {&ex, skip, 0, 0};
    sp_tree t;
    sp_tree_init(&t);
    sp_error err;
    CHECK(sp_tree_walk(root, &o, &t, &err) == 0);
    CHECK(t.n == 4);
    if (t.n == 4) {
        CHECK_STR(t.files[0].rel, "a.py"); /* "a.py" < "a/b.py" bytewise */
        CHECK_STR(t.files[1].rel, "a/b.py");
        CHECK_STR(t.files[2].rel, "inside.py");
        CHECK_STR(t.files[3].rel, "os.py");
    }
    /* Every directory walked, the root first, with its own inode; skipped
     * and excluded ones (__pycache__, site-packages, tests) are not. */
    CHECK(t.ndirs == 3);
    if (t.ndirs == 3) {
        CHECK_STR(t.dirs[0].rel, "");
        CHECK_STR(t.dirs[1].rel, "a");
        CHECK_STR(t.dirs[2].rel, "pkg");
        struct stat st;
        char *a = sp_path_join(root, "a");
        CHECK(stat(a, &st) == 0 && t.dirs[1].ino == (uint64_t)st.st_ino &&
              t.dirs[1].ctime_ns == sp_stat_ctime_ns(&st));
        CHECK(stat(root, &st) == 0 && t.dirs[0].ino == (uint64_t)st.st_ino);
        free(a);
    }
    sp_tree_release(&t);

    /* Links that leave the root, dangle or loop: errors naming the link. */
    link_to(root, "sitecustomize.py", "/etc/hostname");
    CHECK(sp_tree_walk(root, &o, &t, &err) != 0 && err.status == SP_EINPUT);
    CHECK(strstr(err.msg, "sitecustomize.py: symlink points outside") != NULL);
    CHECK(strstr(err.msg, "--exclude 'sitecustomize.py'") != NULL);
    sp_tree_release(&t);
    sp_strv_push(&ex, "sitecustomize.py");
    CHECK(sp_tree_walk(root, &o, &t, &err) == 0); /* excluded: fine */
    sp_tree_release(&t);

    link_to(root, "dangling.py", "nowhere.py");
    CHECK(sp_tree_walk(root, &o, &t, &err) != 0 && strstr(err.msg, "dangling symlink"));
    sp_tree_release(&t);
    char *d = sp_path_join(root, "dangling.py");
    unlink(d);
    free(d);

    link_to(root, "a/up", "..");
    CHECK(sp_tree_walk(root, &o, &t, &err) != 0 && strstr(err.msg, "symlink loop"));
    sp_tree_release(&t);
    char *u = sp_path_join(root, "a/up");
    unlink(u);
    free(u);

    link_to(root, "self.py", "self.py");
    CHECK(sp_tree_walk(root, &o, &t, &err) != 0 && strstr(err.msg, "symlink loop"));
    sp_tree_release(&t);

    /* With leave_out, all of them at once are left out and listed, in path
     * order, and the walk goes on: a dangling link, a link leaving the root,
     * a loop, a FIFO. */
    link_to(root, "zdangling.py", "nowhere.py");
    link_to(root, "outside.py", "/etc/hostname");
    char *fifo = sp_path_join(root, "a/pipe");
    CHECK(mkfifo(fifo, 0644) == 0);
    sp_walk_opts lo = {&ex, skip, 0, 1};
    free(ex.v[--ex.n]); /* sitecustomize.py is not excluded any more */
    CHECK(sp_tree_walk(root, &lo, &t, &err) == 0);
    CHECK(t.nskipped == 5);
    if (t.nskipped == 5) {
        CHECK_STR(t.skipped[0].rel, "a/pipe");
        CHECK_STR(t.skipped[0].why, "a FIFO, not a regular file");
        CHECK_STR(t.skipped[1].rel, "outside.py");
        CHECK(strstr(t.skipped[1].why, "outside the input tree") != NULL);
        CHECK_STR(t.skipped[2].rel, "self.py");
        CHECK_STR(t.skipped[3].rel, "sitecustomize.py");
        CHECK_STR(t.skipped[4].rel, "zdangling.py");
        CHECK_STR(t.skipped[4].why, "dangling symlink");
    }
    int listed = 0;
    for (size_t i = 0; i < t.n; i++)
        listed |= !strcmp(t.files[i].rel, "os.py");
    CHECK(listed);
    sp_tree_release(&t);
    CHECK(sp_tree_walk(root, &o, &t, &err) != 0); /* without leave_out: still errors */
    sp_tree_release(&t);
    unlink(fifo);
    free(fifo);
    char *o1 = sp_path_join(root, "outside.py"), *o2 = sp_path_join(root, "zdangling.py"),
         *o3 = sp_path_join(root, "self.py");
    unlink(o1);
    unlink(o2);
    unlink(o3);
    free(o1);
    free(o2);
    free(o3);
    sp_strv_push(&ex, "sitecustomize.py");

    /* Missing root and a file as root. */
    CHECK(sp_tree_walk("/nonexistent/sp-pack", &o, &t, &err) != 0 && err.status == SP_EINPUT);
    char *f = sp_path_join(root, "os.py");
    CHECK(sp_tree_walk(f, &o, &t, &err) != 0 && strstr(err.msg, "not a directory"));
    free(f);

    /* Glob rules: with "/", the whole relative path; without, any component. */
    sp_strv g;
    sp_strv_init(&g);
    sp_strv_push(&g, "numpy/*/tests");
    sp_strv_push(&g, "*.pyi");
    char *globs = sp_xasprintf("%s/walk-globs", tmp);
    sp_remove_tree(globs);
    touch(globs, "numpy/core/tests/t.py");
    touch(globs, "numpy/core/x.py");
    touch(globs, "a/b/c.pyi");
    sp_walk_opts go = {&g, NULL, 0, 0};
    CHECK(sp_tree_walk(globs, &go, &t, &err) == 0);
    CHECK(t.n == 1 && !strcmp(t.files[0].rel, "numpy/core/x.py"));
    sp_tree_release(&t);
    sp_remove_tree(globs);
    free(globs);
    sp_strv_release(&g);

    sp_remove_tree(root);
    sp_strv_release(&ex);
    free(root);

    test_walk_many(tmp);
    test_mkdirs(tmp);
    return check_done();
}
