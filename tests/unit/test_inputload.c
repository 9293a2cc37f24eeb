/* The loader on trees made here: every file's bytes and hash as on disk,
 * identical small files sharing one copy, large files mapped, files that
 * changed size after the walk read as they are now, a file gone after the
 * walk reported by name, and a mapped file changed or truncated after the
 * load named too, never a signal. */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "check.h"
#include "sppack/inputload.h"
#include "sppack/treewalk.h"
#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/strv.h"

static void put(const char *root, const char *rel, const void *data, size_t n)
{
    char *p = sp_path_join(root, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    sp_mkdirs(p, NULL);
    *slash = '/';
    CHECK(sp_write_file(p, data, n, NULL) == 0);
    free(p);
}

/* Each blob holds what the file holds now. */
static void check_blobs(const sp_tree *t, const sp_blob *b)
{
    for (size_t i = 0; i < t->n; i++) {
        sp_map m;
        CHECK(sp_map_open(&m, t->files[i].path, NULL) == 0);
        CHECK(b[i].error == 0);
        CHECK(b[i].size == m.size);
        CHECK(m.size == 0 || memcmp(b[i].data, m.data, m.size) == 0);
        CHECK(b[i].hash == XXH3_64bits(m.data, m.size));
        sp_map_close(&m);
    }
}

static const sp_blob *find(const sp_tree *t, const sp_blob *b, const char *rel)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->files[i].rel, rel))
            return &b[i];
    CHECK(!"file listed");
    return NULL;
}

int main(void)
{
    const char *tmp = getenv("SP_TEST_TMP") ? getenv("SP_TEST_TMP") : "/tmp";
    char *roots[2] = {sp_xasprintf("%s/load-a", tmp), sp_xasprintf("%s/load-b", tmp)};
    size_t big_n = 300u << 10;
    unsigned char *big = sp_xmalloc(big_n);
    for (size_t i = 0; i < big_n; i++)
        big[i] = (unsigned char)(i * 131 + (i >> 9));
    for (int r = 0; r < 2; r++) {
        sp_remove_tree(roots[r]);
        put(roots[r], "same.py", "import os\n", 10);
        put(roots[r], "pkg/differs.py", r ? "x = 2\n" : "x = 1\n", 6);
        put(roots[r], "pkg/empty.py", "", 0);
        put(roots[r], "big.bin", big, big_n);
        for (int k = 0; k < 200; k++) {
            char rel[32], text[32];
            snprintf(rel, sizeof rel, "many/m%03d.py", k);
            snprintf(text, sizeof text, "n = %d\n", k % 7);
            put(roots[r], rel, text, strlen(text));
        }
    }
    sp_tree trees[2];
    sp_error err;
    for (int r = 0; r < 2; r++) {
        sp_tree_init(&trees[r]);
        CHECK(sp_tree_walk(roots[r], NULL, &trees[r], &err) == 0);
    }
    sp_load_tree load[3] = {{roots[0], &trees[0]}, {NULL, NULL}, {roots[1], &trees[1]}};

    for (int jobs = 1; jobs <= 3; jobs++) {
        sp_loader *l;
        CHECK(sp_load_trees(load, 3, jobs, 0, NULL, NULL, &l, &err) == 0);
        const sp_blob *a = sp_loader_blobs(l, 0), *b = sp_loader_blobs(l, 2);
        CHECK(sp_loader_blobs(l, 1) == NULL);
        check_blobs(&trees[0], a);
        check_blobs(&trees[1], b);
        /* One copy of each distinct small content. */
        CHECK(find(&trees[0], a, "same.py")->data == find(&trees[1], b, "same.py")->data);
        CHECK(find(&trees[0], a, "pkg/differs.py")->data !=
              find(&trees[1], b, "pkg/differs.py")->data);
        CHECK(find(&trees[0], a, "many/m000.py")->data == find(&trees[0], a, "many/m007.py")->data);
        CHECK(find(&trees[0], a, "many/m000.py")->data != find(&trees[0], a, "many/m001.py")->data);
        sp_loader_free(l);
    }

    /* A file changed after the walk (grown, shrunk, a small one grown big,
     * rewritten at its size, or swapped for another file): an error naming
     * it, never what it holds now. Each case on a fresh walk. */
    struct {
        int root;
        const char *rel;
        const void *data;
        size_t n;
        int swap;
    } changes[] = {{0, "same.py", "import os, sys  # longer now\n", 29, 0},
                   {0, "big.bin", big, 1000, 0},
                   {1, "pkg/differs.py", big, big_n, 0},
                   {1, "pkg/differs.py", "x = 3\n", 6, 0},
                   {0, "big.bin", big, big_n, 1}};
    for (size_t c = 0; c < sizeof changes / sizeof *changes; c++) {
        int r = changes[c].root;
        for (int k = 0; k < 2; k++) {
            sp_tree_release(&trees[k]);
            CHECK(sp_tree_walk(roots[k], NULL, &trees[k], &err) == 0);
        }
        char *path = sp_path_join(roots[r], changes[c].rel);
        if (changes[c].swap) { /* the same bytes, another inode */
            char *other = sp_xasprintf("%s.new", path);
            CHECK(sp_write_file(other, changes[c].data, changes[c].n, NULL) == 0);
            CHECK(rename(other, path) == 0);
            free(other);
        } else {
            /* Rewritten until its times move on: a write in the walk's own
             * clock tick can leave a file of the same size as it was, which
             * nothing could tell apart. */
            const sp_tree_file *was = NULL;
            for (size_t i = 0; i < trees[r].n; i++)
                if (!strcmp(trees[r].files[i].rel, changes[c].rel))
                    was = &trees[r].files[i];
            struct stat st;
            int tries = 0;
            do
                CHECK(sp_write_file(path, changes[c].data, changes[c].n, NULL) == 0 &&
                      stat(path, &st) == 0);
            while (was && sp_tree_file_same(was, &st) && ++tries < 100000);
            CHECK(was && !sp_tree_file_same(was, &st));
        }
        sp_loader *l;
        CHECK(sp_load_trees(load, 3, 2, 0, NULL, NULL, &l, &err) != 0);
        CHECK(err.status == SP_EIO && strstr(err.msg, changes[c].rel) &&
              strstr(err.msg, "changed while sp-pack was reading it"));
        sp_loader_free(l);
        free(path);
    }
    for (int r = 0; r < 2; r++) {
        sp_tree_release(&trees[r]);
        CHECK(sp_tree_walk(roots[r], NULL, &trees[r], &err) == 0);
    }

    /* A file removed after the walk: an error naming it. */
    sp_loader *l;
    char *gone = sp_path_join(roots[1], "many/m150.py");
    CHECK(unlink(gone) == 0);
    CHECK(sp_load_trees(load, 3, 2, 0, NULL, NULL, &l, &err) != 0);
    CHECK(err.status == SP_EIO && strstr(err.msg, "many/m150.py: cannot read") != NULL);
    sp_loader_free(l);

    /* Libraries: ELF files named like one are inspected on the loader's
     * threads; other files are left alone. */
    char *libs = sp_xasprintf("%s/load-libs", tmp);
    sp_remove_tree(libs);
    sp_map exe;
    CHECK(sp_map_open(&exe, "/proc/self/exe", NULL) == 0 && exe.size > 4096);
    /* A file whose stat understates what it holds (procfs says 0 bytes) is
     * refused, not read cut short. */
    sp_map proc;
    CHECK(sp_map_open(&proc, "/proc/self/status", &err) == -1 &&
          strstr(err.msg, "changed while sp-pack was reading it") != NULL);
    /* This test's own ELF image, padded past the small-file size. */
    struct {
        unsigned char *data;
        size_t size;
    } elf = {sp_xcalloc(1, exe.size + (128u << 10)), exe.size + (128u << 10)};
    memcpy(elf.data, exe.data, exe.size);
    sp_map_close(&exe);
    put(libs, "big/_big.cpython-311-x86_64-linux-gnu.so", elf.data, elf.size);
    put(libs, "libsmall.so", elf.data, 4096); /* headers only: section table cut off */
    put(libs, "notes.so", "not an ELF file\n", 16);
    put(libs, "bad.so",
        "\x7f"
        "ELF garbage",
        12);
    put(libs, "copy.bin", elf.data, 4096); /* same bytes as libsmall.so */
    sp_tree lt;
    sp_tree_init(&lt);
    CHECK(sp_tree_walk(libs, NULL, &lt, &err) == 0);
    sp_load_tree lload = {libs, &lt};
    for (int inspect = 0; inspect < 2; inspect++) {
        CHECK(sp_load_trees(&lload, 1, 2, inspect, NULL, NULL, &l, &err) == 0);
        const sp_blob *lb = sp_loader_blobs(l, 0);
        const sp_blob *big_lib = find(&lt, lb, "big/_big.cpython-311-x86_64-linux-gnu.so");
        const sp_blob *notes = find(&lt, lb, "notes.so"), *bad = find(&lt, lb, "bad.so");
        const sp_blob *copy = find(&lt, lb, "copy.bin"), *small = find(&lt, lb, "libsmall.so");
        CHECK(big_lib->hash == XXH3_64bits(elf.data, elf.size) && big_lib->size == elf.size);
        CHECK(notes->elf_checked == 0 && notes->data && memcmp(notes->data, "not an", 6) == 0);
        CHECK(copy->elf_checked == 0 && copy->data && memcmp(copy->data, elf.data, 4096) == 0);
        if (inspect) {
            CHECK(big_lib->elf_checked && big_lib->elf && !big_lib->elf_error);
            int machine = elf.data[18] | elf.data[19] << 8, bits = elf.data[4] == 2 ? 64 : 32;
            CHECK(big_lib->elf && big_lib->elf->elf_class == bits &&
                  big_lib->elf->machine == machine);
            /* Kept: what was inspected is what is shipped. */
            CHECK(big_lib->data && memcmp(big_lib->data, elf.data, elf.size) == 0);
            CHECK(bad->elf_checked && !bad->elf && bad->elf_error &&
                  bad->elf_error->status == SP_EINPUT && strstr(bad->elf_error->msg, "bad.so"));
            CHECK(small->elf_checked);
        } else {
            CHECK(!big_lib->elf_checked && big_lib->data &&
                  memcmp(big_lib->data, elf.data, elf.size) == 0);
            CHECK(!bad->elf_checked && !small->elf_checked);
        }
        sp_loader_free(l);
    }

    /* A large file is mapped: rewritten in place after the load, the check
     * before a commit names it; truncated under the mapping, a read of what
     * it lost ends the process with status 3 and that line, not SIGBUS. */
    CHECK(sp_load_trees(&lload, 1, 2, 1, NULL, NULL, &l, &err) == 0);
    CHECK(sp_loader_unchanged(l, &err) == 0);
    const sp_blob *mapped =
        find(&lt, sp_loader_blobs(l, 0), "big/_big.cpython-311-x86_64-linux-gnu.so");
    char *big_path = sp_path_join(libs, "big/_big.cpython-311-x86_64-linux-gnu.so");
    int status = -1;
    char said[512] = "";
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 2);
        if (truncate(big_path, 0) != 0)
            _exit(9);
        volatile unsigned char last = mapped->data[mapped->size - 1];
        (void)last;
        _exit(0); /* not reached: the read faults */
    }
    close(pipefd[1]);
    ssize_t got = read(pipefd[0], said, sizeof said - 1);
    said[got > 0 ? got : 0] = '\0';
    close(pipefd[0]);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    CHECK(strstr(said, "_big.cpython-311-x86_64-linux-gnu.so: changed while sp-pack was reading "
                       "it") != NULL);
    CHECK(sp_loader_unchanged(l, &err) != 0 && err.status == SP_EIO &&
          strstr(err.msg, "_big.cpython-311-x86_64-linux-gnu.so: changed while") != NULL);
    /* A write that copies from what it lost fails (EFAULT), without a
     * signal: why pack asks sp_loader_unchanged which input it was. */
    char *copy_path = sp_path_join(libs, "copy-of-big");
    sp_error werr;
    CHECK(sp_write_file(copy_path, mapped->data, mapped->size, &werr) != 0 &&
          strstr(werr.msg, "Bad address") != NULL);
    free(copy_path);
    sp_loader_free(l);
    free(big_path);

    free(elf.data);
    sp_tree_release(&lt);
    sp_remove_tree(libs);
    free(libs);

    free(gone);
    for (int r = 0; r < 2; r++) {
        sp_tree_release(&trees[r]);
        sp_remove_tree(roots[r]);
        free(roots[r]);
    }
    free(big);
    return check_done();
}
