/* The walker on trees made here: order, exclusions, skipped directories,
 * and the symlink policy. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sppack/treewalk.h"
#include "sppack/util.h"

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
    sp_walk_opts o = {&ex, skip, 0};
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

    /* Missing root and a file as root. */
    CHECK(sp_tree_walk("/nonexistent/sp-pack", &o, &t, &err) != 0 && err.status == SP_EINPUT);
    char *f = sp_path_join(root, "os.py");
    CHECK(sp_tree_walk(f, &o, &t, &err) != 0 && strstr(err.msg, "not a directory"));
    free(f);

    /* Glob rules. */
    sp_strv g;
    sp_strv_init(&g);
    sp_strv_push(&g, "numpy/*/tests");
    sp_strv_push(&g, "*.pyi");
    CHECK(sp_glob_excluded(&g, "numpy/core/tests"));
    CHECK(!sp_glob_excluded(&g, "numpy/core/x.py"));
    CHECK(sp_glob_excluded(&g, "a/b/c.pyi"));
    sp_strv_release(&g);

    sp_remove_tree(root);
    sp_strv_release(&ex);
    free(root);
    return check_done();
}
