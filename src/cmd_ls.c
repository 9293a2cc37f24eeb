/* sp-pack ls: what is inside an APK, split, .apks, bundle or pack output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sppack/abi.h"
#include "sppack/archive.h"
#include "sppack/path.h"
#include "sppack/treewalk.h"

static const char ls_about[] =
    "Lists what an APK, split APK, .apks set, App Bundle or pack output directory\n"
    "holds for Python on Android: native libraries per ABI with their data\n"
    "offsets, alignment and sizes, the Python zips with their size, method and\n"
    "marker count, and the download size per ABI (everything that is not another\n"
    "ABI's library, as stored in the archive).\n";

static const sp_cli_option ls_options[] = {
    {0},
};

const sp_cli_command cmd_ls_spec = {
    "ls", "PATH", ls_about, ls_options, 1, 1, "give one APK, .apks, .aab, zip or directory", NULL};

/* An .apks member can inflate to this much at most. */
#define MEMBER_MAX ((size_t)1 << 31)

struct listing {
    char abis[SP_MAX_ABIS][16];
    uint64_t abi_bytes[SP_MAX_ABIS];
    size_t abi_libs[SP_MAX_ABIS];
    int nabis;
    uint64_t common_bytes;
};

static int abi_of(struct listing *l, const char *abi, size_t n)
{
    for (int i = 0; i < l->nabis; i++)
        if (strlen(l->abis[i]) == n && !strncmp(l->abis[i], abi, n))
            return i;
    if (l->nabis == SP_MAX_ABIS || n >= sizeof l->abis[0])
        return -1;
    memcpy(l->abis[l->nabis], abi, n);
    l->abis[l->nabis][n] = '\0';
    return l->nabis++;
}

/* Markers in a stored Python zip, or -1 when it cannot be read in place. */
static long count_markers(const unsigned char *data, size_t size)
{
    sp_zip z;
    memset(&z, 0, sizeof z);
    sp_error err;
    if (sp_zip_open_buffer(&z, data, size, "", NULL, NULL, &err) != 0) {
        sp_zip_close(&z);
        return -1;
    }
    long n = 0;
    for (size_t i = 0; i < z.n; i++) {
        size_t len = strlen(z.entries[i].name);
        n += len > 6 && !strcmp(z.entries[i].name + len - 6, ".soref");
    }
    sp_zip_close(&z);
    return n;
}

static void list_entry(const sp_archive_entry *ae, struct listing *l)
{
    const sp_zip_entry *e = ae->e;
    char sz[32];
    if (!e->valid)
        return;
    sp_lib_path lp;
    if (sp_lib_path_parse(ae->path, "lib/", &lp)) {
        int a = abi_of(l, lp.abi, lp.abi_len);
        if (a >= 0 && *lp.name) {
            l->abi_bytes[a] += e->csize;
            l->abi_libs[a]++;
            uint64_t off = e->data_offset;
            unsigned align = off % 65536 == 0   ? 65536
                             : off % 16384 == 0 ? 16384
                             : off % 4096 == 0  ? 4096
                             : off % 4 == 0     ? 4
                                                : 1;
            printf("  %-12s %10llu  %5u  %-7s %10s  %s\n", l->abis[a], (unsigned long long)off,
                   align, e->method ? "deflate" : "stored", sp_cli_size(e->usize, sz), ae->label);
        }
        return;
    }
    l->common_bytes += e->csize;
    size_t n = strlen(ae->path);
    if (!strncmp(ae->path, "assets/", 7) && n > 4 && !strcmp(ae->path + n - 4, ".zip")) {
        long markers = e->method == 0 ? count_markers(sp_zip_data(ae->zip, e), e->csize) : -1;
        char count[32] = "?";
        if (markers >= 0)
            snprintf(count, sizeof count, "%ld", markers);
        printf("  %-12s %10llu  %5s  %-7s %10s  %s  (%s markers)\n", "python",
               (unsigned long long)e->data_offset, "", e->method ? "deflate" : "stored",
               sp_cli_size(e->usize, sz), ae->label, count);
    }
}

static void summary(const struct listing *l)
{
    char a[32], b[32];
    printf("download size per ABI (shared entries %s + that ABI's libraries):\n",
           sp_cli_size((double)l->common_bytes, a));
    for (int i = 0; i < l->nabis; i++)
        printf("  %-12s %4zu libraries %10s   total %10s\n", l->abis[i], l->abi_libs[i],
               sp_cli_size((double)l->abi_bytes[i], a),
               sp_cli_size((double)(l->common_bytes + l->abi_bytes[i]), b));
}

static int ls_dir(const char *path)
{
    struct listing l;
    memset(&l, 0, sizeof l);
    char sz[32];
    static const char *const parts[] = {"jniLibs", "assets"};
    for (int p = 0; p < 2; p++) {
        char *root = sp_path_join(path, parts[p]);
        sp_tree t;
        sp_tree_init(&t);
        sp_error err;
        if (sp_tree_walk(root, NULL, &t, &err) == 0) {
            for (size_t i = 0; i < t.n; i++) {
                const char *rel = t.files[i].rel;
                sp_lib_path lp;
                if (p == 0 && sp_lib_path_parse(rel, "", &lp)) {
                    int a = abi_of(&l, lp.abi, lp.abi_len);
                    if (a >= 0) {
                        l.abi_bytes[a] += t.files[i].size;
                        l.abi_libs[a]++;
                    }
                    printf("  %-12.*s %10s  %5s  %-7s %10s  jniLibs/%s\n", (int)lp.abi_len, lp.abi,
                           "-", "-", "file", sp_cli_size((double)t.files[i].size, sz), rel);
                } else {
                    l.common_bytes += t.files[i].size;
                    if (p == 1)
                        printf("  %-12s %10s  %5s  %-7s %10s  assets/%s\n", "python", "-", "-",
                               "file", sp_cli_size((double)t.files[i].size, sz), rel);
                }
            }
        }
        sp_tree_release(&t);
        free(root);
    }
    summary(&l);
    return SP_OK;
}

/* An APK of a set that cannot be read: said, and the run fails. */
static void member_failed(void *ctx, const char *member, enum sp_zip_problem problem,
                          const char *msg)
{
    (void)problem;
    (void)member; /* msg names it */
    *(int *)ctx = 1;
    sp_cli_error(SP_EINPUT, "%s", msg);
}

int cmd_ls(const sp_cli_values *v)
{
    const char *path = v->args.v[0];
    struct stat st;
    if (stat(path, &st) != 0)
        return sp_cli_error(SP_EINPUT, "%s: no such file or directory", path);
    printf("%-14s %10s  %5s  %-7s %10s  %s\n", "  ABI", "offset", "align", "method", "size",
           "entry");
    if (S_ISDIR(st.st_mode))
        return ls_dir(path);
    sp_archive a;
    sp_error err;
    int failed = 0;
    sp_archive_hooks hooks = {&failed, NULL, member_failed};
    if (sp_archive_open(&a, path, &hooks, MEMBER_MAX, &err) != 0)
        return sp_cli_error(err.status, "%s", err.msg);
    struct listing l;
    memset(&l, 0, sizeof l);
    for (size_t i = 0; i < a.n; i++)
        list_entry(&a.entries[i], &l);
    summary(&l);
    sp_archive_close(&a);
    return failed ? SP_EINPUT : SP_OK;
}
