/* The building blocks: file copies (the same bytes whether the kernel copies
 * within one file system, across two, or not at all), the one temp-file
 * commit, the stable sort, directory listings, sp_parallel_for, and the
 * escaping of untrusted names. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/parallel.h"
#include "sppack/path.h"
#include "sppack/platform.h"
#include "sppack/strv.h"
#include "sppack/text.h"
#include "sppack/vec.h"

static int same_bytes(const char *path, const unsigned char *data, size_t n)
{
    sp_map m;
    if (sp_map_open(&m, path, NULL) != 0)
        return 0;
    int ok = m.size == n && (n == 0 || memcmp(m.data, data, n) == 0);
    sp_map_close(&m);
    return ok;
}

static void copies(const char *from_dir, const char *to_dir, const unsigned char *data, size_t n)
{
    sp_error err;
    char *src = sp_xasprintf("%s/test_blocks_src_%ld", from_dir, (long)getpid());
    char *dst = sp_xasprintf("%s/test_blocks_dst_%ld", to_dir, (long)getpid());
    CHECK(sp_write_file(src, data, n, &err) == 0);
    CHECK(sp_copy_file(src, dst, &err) == 0);
    CHECK(same_bytes(dst, data, n));
    /* Over an existing file: replaced by the copy, whatever it held. */
    CHECK(sp_write_file(src, "", 0, &err) == 0);
    CHECK(sp_copy_file(src, dst, &err) == 0);
    CHECK(same_bytes(dst, NULL, 0));
    /* A missing source, an impossible destination: errors naming them. */
    unlink(src);
    CHECK(sp_copy_file(src, dst, &err) != 0 && err.status == SP_EIO && strstr(err.msg, src));
    CHECK(sp_write_file(src, "y", 1, &err) == 0);
    char *bad = sp_xasprintf("%s/no-such-dir/x", to_dir);
    CHECK(sp_copy_file(src, bad, &err) != 0 && strstr(err.msg, bad));
    free(bad);
    unlink(src);
    unlink(dst);
    free(src);
    free(dst);
}

/* The one commit: written under the temporary name, renamed on success,
 * removed on failure; the previous file stays until then. */
static void commits(const char *dir)
{
    sp_error err;
    char *path = sp_xasprintf("%s/test_blocks_commit_%ld", dir, (long)getpid());
    char *tmp = sp_temp_path(path);
    CHECK(strstr(tmp, ".sp-pack-tmp-") != NULL);
    CHECK(sp_write_file_atomic(path, "one", 3, &err) == 0);
    CHECK(same_bytes(path, (const unsigned char *)"one", 3) && access(tmp, F_OK) != 0);
    CHECK(sp_write_file(tmp, "two", 3, &err) == 0);
    CHECK(sp_commit(-1, tmp, path, &err) == -1);
    CHECK(access(tmp, F_OK) != 0 && same_bytes(path, (const unsigned char *)"one", 3));
    CHECK(sp_write_file(tmp, "two", 3, &err) == 0);
    CHECK(sp_commit(0, tmp, path, &err) == 0);
    CHECK(access(tmp, F_OK) != 0 && same_bytes(path, (const unsigned char *)"two", 3));
    unlink(path);
    free(tmp);
    free(path);
}

static void check_escape(const char *in, const char *want)
{
    char *got = sp_escape(in);
    CHECK_STR(got, want);
    free(got);
}

/* Untrusted names: one line, no terminal escape, valid UTF-8 in JSON. */
static void texts(void)
{
    check_escape("lib/x86_64/libfoo.so", "lib/x86_64/libfoo.so");
    check_escape("a\nsp-pack: fake", "a\\nsp-pack: fake");
    check_escape("\x1b[31m\r\t\x7f", "\\x1b[31m\\r\\t\\x7f");
    check_escape("back\\slash", "back\\\\slash");
    check_escape("caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"); /* kept */
    check_escape("\xe9\xff", "\\xe9\\xff");                               /* not UTF-8 */
    check_escape("\xc2\x9b"
                 "2J",
                 "\\u009b2J");                                /* C1 CSI */
    check_escape("\xe2\x80\xae", "\\u202e");                  /* RTL override */
    check_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* a surrogate */
    check_escape("\xc0\xaf", "\\xc0\\xaf");                   /* overlong '/' */
    check_escape("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
    CHECK(sp_utf8_valid("caf\xc3\xa9", 5));
    CHECK(!sp_utf8_valid("\xe2\x82", 2));
    char *clean = sp_utf8_clean("a\xff\xc3\xa9\n");
    CHECK_STR(clean, "a\\xff\xc3\xa9\n");
    free(clean);
    char *line = sp_escape_controls("a\nb\\c\xff");
    CHECK_STR(line, "a\\nb\\c\xff");
    free(line);
}

/* Messages longer than sp_error holds keep their reason and the file name. */
static void long_messages(void)
{
    sp_error err;
    char *dir = sp_xmalloc(3001);
    memset(dir, 'd', 3000);
    dir[3000] = '\0';
    char *path = sp_xasprintf("/%s/\xc3\xa9t\xc3\xa9/app.apk", dir);
    sp_error_set(&err, SP_EIO, path, "cannot read: %s", "No such file or directory");
    size_t n = strlen(err.msg);
    CHECK(n < sizeof err.msg && n > 1500);
    CHECK(strncmp(err.msg, "/ddd", 4) == 0 && strstr(err.msg, "..."));
    const char *end = "/\xc3\xa9t\xc3\xa9/app.apk: cannot read: No such file or directory";
    CHECK(n > strlen(end) && !strcmp(err.msg + n - strlen(end), end));
    CHECK(sp_utf8_valid(err.msg, n)); /* cut between characters */
    /* A reason longer than the buffer: its start and end stay. */
    char *reason = sp_xasprintf("cannot copy from %s: No space left on device", dir);
    sp_error_set(&err, SP_EIO, path, "%s", reason);
    n = strlen(err.msg);
    CHECK(n < sizeof err.msg && strstr(err.msg, ": cannot copy from ddd"));
    CHECK(n > 25 && !strcmp(err.msg + n - 25, ": No space left on device"));
    CHECK(strstr(err.msg, "app.apk: cannot copy") != NULL);
    /* Short ones are as they were; a prefix added later follows the rule. */
    sp_error_set(&err, SP_EINPUT, "a.apk", "bad");
    CHECK_STR(err.msg, "a.apk: bad");
    sp_error_set(&err, SP_EINPUT, NULL, "bad");
    sp_error_prefix(&err, "in.aab");
    CHECK_STR(err.msg, "in.aab: bad");
    sp_error_set(&err, SP_EINPUT, "base/native.pb", "%s", reason);
    sp_error_prefix(&err, path);
    n = strlen(err.msg);
    CHECK(n < sizeof err.msg && !strcmp(err.msg + n - 25, ": No space left on device"));
    char *temp = sp_temp_path("out/app.apk");
    char *target = sp_temp_target(temp);
    CHECK_STR(target, "out/app.apk");
    free(target);
    target = sp_temp_target("out/app.sp-pack-tmp-x");
    CHECK_STR(target, "out/app.sp-pack-tmp-x");
    free(target);
    free(temp);
    free(reason);
    free(path);
    free(dir);
}

struct pair {
    int key, seq;
};

static int cmp_key(const void *a, const void *b, void *ctx)
{
    int *calls = ctx;
    (*calls)++;
    return ((const struct pair *)a)->key - ((const struct pair *)b)->key;
}

/* A stable sort: equal keys keep their order, for any length. */
static void sorts(void)
{
    for (size_t n = 0; n < 200; n += 7) {
        struct pair *v = sp_xcalloc(n, sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = (struct pair){(int)((i * 37) % 5), (int)i};
        int calls = 0;
        sp_sort(v, n, sizeof *v, cmp_key, &calls);
        int ok = 1;
        for (size_t i = 1; i < n; i++)
            ok &= v[i - 1].key < v[i].key || (v[i - 1].key == v[i].key && v[i - 1].seq < v[i].seq);
        CHECK(ok);
        free(v);
    }
}

/* sp_dir_list_read names what readdir names (without . and ..). */
static void listings(const char *dir)
{
    char *d = sp_xasprintf("%s/test_blocks_dir_%ld", dir, (long)getpid());
    sp_error err;
    CHECK(sp_mkdirs(d, &err) == 0);
    for (int i = 0; i < 300; i++) {
        char *f = sp_xasprintf("%s/file-%03d-with-a-longer-name", d, i);
        CHECK(sp_write_file(f, "", 0, &err) == 0);
        free(f);
    }
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    sp_dir_list l;
    CHECK(fd >= 0 && sp_dir_list_read(fd, &l) == 0);
    CHECK(l.n == 300);
    int all = 1;
    for (size_t i = 0; i < l.n; i++)
        all &= strncmp(l.names + l.offsets[i], "file-", 5) == 0;
    CHECK(all);
    sp_dir_list_release(&l);
    close(fd);
    sp_remove_tree(d);
    free(d);
}

struct counts {
    int hits[1000];
    int bad_worker;
    int jobs;
};

static void count(void *ctx, int worker, size_t i)
{
    struct counts *c = ctx;
    __atomic_add_fetch(&c->hits[i], 1, __ATOMIC_RELAXED);
    if (worker < 0 || worker >= c->jobs || worker >= SP_MAX_THREADS)
        c->bad_worker = 1;
}

/* Every index runs exactly once, on a worker numbered below jobs. */
static void parallel(void)
{
    static const size_t sizes[] = {0, 1, 2, 7, 1000};
    for (int jobs = 1; jobs <= SP_MAX_THREADS + 2; jobs++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            struct counts c;
            memset(&c, 0, sizeof c);
            c.jobs = jobs;
            sp_parallel_for(sizes[s], jobs, count, &c);
            int once = 1;
            for (size_t i = 0; i < sizes[s]; i++)
                once &= c.hits[i] == 1;
            CHECK(once && !c.bad_worker);
        }
    }
    CHECK(sp_online_cpus() >= 1 && sp_online_cpus() <= SP_MAX_THREADS);
}

int main(void)
{
    const char *tmp = getenv("SP_TEST_TMP") ? getenv("SP_TEST_TMP") : "/tmp";
    size_t n = (3u << 20) + 12345; /* several calls' worth, not a round size */
    unsigned char *data = sp_xmalloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 131 + (i >> 12));
    copies(tmp, tmp, data, n);
    struct stat shm, here;
    if (stat("/dev/shm", &shm) == 0 && stat(tmp, &here) == 0 && shm.st_dev != here.st_dev) {
        copies(tmp, "/dev/shm", data, n);
        copies("/dev/shm", tmp, data, n);
    } else {
        fprintf(stderr, "note: /dev/shm is not another file system here; "
                        "copies across file systems were not exercised\n");
    }
    free(data);
    commits(tmp);
    sorts();
    listings(tmp);
    parallel();
    texts();
    long_messages();
    return check_done();
}
