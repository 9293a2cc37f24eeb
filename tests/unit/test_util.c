/* File copies: the same bytes whether the kernel copies within one file
 * system (copy_file_range) or across two (/dev/shm, where copy_file_range
 * refuses and sendfile copies), into a new file or an existing one.
 * Helper threads: each runs once, starts on a CPU other than the caller's,
 * and is then free to run on any CPU the process may use. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sppack/util.h"

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
    char *src = sp_xasprintf("%s/test_util_src_%ld", from_dir, (long)getpid());
    char *dst = sp_xasprintf("%s/test_util_dst_%ld", to_dir, (long)getpid());
    CHECK(sp_write_file(src, data, n, &err) == 0);
    CHECK(sp_copy_file(src, dst, &err) == 0);
    CHECK(same_bytes(dst, data, n));
    /* Into an existing, longer file: truncated to the copy. */
    CHECK(sp_write_file(dst, "x", 1, &err) == 0);
    CHECK(sp_copy_file_into(src, dst, &err) == 0);
    CHECK(same_bytes(dst, data, n));
    CHECK(sp_write_file(src, "", 0, &err) == 0);
    CHECK(sp_copy_file_into(src, dst, &err) == 0);
    CHECK(same_bytes(dst, NULL, 0));
    /* Missing source, or a destination that must exist but does not: errors naming them. */
    unlink(src);
    CHECK(sp_copy_file(src, dst, &err) != 0 && err.status == SP_EIO && strstr(err.msg, src));
    CHECK(sp_write_file(src, "y", 1, &err) == 0);
    unlink(dst);
    CHECK(sp_copy_file_into(src, dst, &err) != 0 && strstr(err.msg, dst));
    unlink(src);
    free(src);
    free(dst);
}

struct seen {
    int ran, cpu;
    cpu_set_t mask;
};

static void *note_thread(void *arg)
{
    struct seen *s = arg;
    s->cpu = sched_getcpu();
    sched_getaffinity(0, sizeof s->mask, &s->mask);
    s->ran++;
    return NULL;
}

/* Starts n helpers; 1 when each ran once and may use every CPU in `allowed`. */
static int start_and_join(int n, const cpu_set_t *allowed, struct seen *seen)
{
    void *args[SP_MAX_THREADS] = {0};
    memset(seen, 0, SP_MAX_THREADS * sizeof *seen);
    for (int i = 0; i < n; i++)
        args[i] = &seen[i];
    sp_threads t;
    sp_threads_start(&t, note_thread, args, n);
    int started = t.n;
    sp_threads_join(&t);
    int ok = started == n;
    for (int i = 0; i < n; i++)
        ok &= seen[i].ran == 1 && CPU_EQUAL(&seen[i].mask, allowed);
    return ok;
}

static void threads(void)
{
    cpu_set_t all;
    struct seen seen[SP_MAX_THREADS];
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    CHECK(start_and_join(0, &all, seen));
    CHECK(start_and_join(3, &all, seen));
    CHECK(start_and_join(SP_MAX_THREADS, &all, seen));
    if (CPU_COUNT(&all) >= 2) {
        /* Started elsewhere: left to itself, Linux mostly starts a helper on
         * its parent's CPU. A rare migration of the caller between the two
         * sched_getcpu() calls must not fail the test, so 16 of 20. */
        int elsewhere = 0;
        for (int round = 0; round < 20; round++) {
            int self = sched_getcpu();
            start_and_join(1, &all, seen);
            elsewhere += seen[0].cpu != self;
        }
        CHECK(elsewhere >= 16);
        if (elsewhere < 16)
            fprintf(stderr, "helpers started on another CPU %d times of 20\n", elsewhere);
    } else {
        fprintf(stderr, "note: one CPU here; where helpers start was not exercised\n");
    }
    /* Confined to one CPU: helpers still run, confined the same way. */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    if (sched_setaffinity(0, sizeof one, &one) == 0) {
        CHECK(start_and_join(2, &one, seen));
        CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
    }
}

int main(void)
{
    threads();
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
    return check_done();
}
