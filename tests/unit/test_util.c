/* File copies: the same bytes whether the kernel copies within one file
 * system (copy_file_range) or across two (/dev/shm, where copy_file_range
 * refuses and sendfile copies), into a new file or an existing one. */
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
    return check_done();
}
