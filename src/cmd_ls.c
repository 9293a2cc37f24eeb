/* sp-pack ls: what is inside an APK, split, .apks, bundle or pack output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "sppack/treewalk.h"
#include "sppack/util.h"
#include "sppack/zipreader.h"

const char cmd_ls_usage[] =
    "usage: sp-pack ls PATH\n\n"
    "Lists what an APK, split APK, .apks set, App Bundle or pack output directory\n"
    "holds for Python on Android: native libraries per ABI with their data\n"
    "offsets, alignment and sizes, the Python zips with their size, method and\n"
    "marker count, and the download size per ABI (everything that is not another\n"
    "ABI's library, as stored in the archive).\n";

#define MAX_ABIS 8

struct listing {
    char abis[MAX_ABIS][16];
    uint64_t abi_bytes[MAX_ABIS];
    size_t abi_libs[MAX_ABIS];
    int nabis;
    uint64_t common_bytes;
};

static int abi_of(struct listing *l, const char *abi, size_t n)
{
    for (int i = 0; i < l->nabis; i++)
        if (strlen(l->abis[i]) == n && !strncmp(l->abis[i], abi, n))
            return i;
    if (l->nabis == MAX_ABIS || n >= sizeof l->abis[0])
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

static void list_zip(const sp_zip *z, const char *prefix, int bundle, struct listing *l)
{
    char sz[32];
    for (size_t i = 0; i < z->n; i++) {
        const sp_zip_entry *e = &z->entries[i];
        if (!e->valid)
            continue;
        const char *name = e->name;
        if (bundle && strchr(name, '/'))
            name = strchr(name, '/') + 1;
        if (!strncmp(name, "lib/", 4) && strchr(name + 4, '/')) {
            const char *abi = name + 4, *slash = strchr(abi, '/');
            int a = abi_of(l, abi, (size_t)(slash - abi));
            if (a >= 0 && slash[1]) {
                l->abi_bytes[a] += e->csize;
                l->abi_libs[a]++;
                uint64_t off = e->data_offset;
                unsigned align = off % 65536 == 0 ? 65536 : off % 16384 == 0 ? 16384
                                : off % 4096 == 0 ? 4096 : off % 4 == 0 ? 4 : 1;
                printf("  %-12s %10llu  %5u  %-7s %10s  %s%s\n", l->abis[a],
                       (unsigned long long)off, align, e->method ? "deflate" : "stored",
                       sp_human_size(e->usize, sz), prefix, e->name);
            }
            continue;
        }
        l->common_bytes += e->csize;
        size_t n = strlen(name);
        if (!strncmp(name, "assets/", 7) && n > 4 && !strcmp(name + n - 4, ".zip")) {
            long markers = e->method == 0 ? count_markers(sp_zip_data(z, e), e->csize) : -1;
            char count[32] = "?";
            if (markers >= 0)
                snprintf(count, sizeof count, "%ld", markers);
            printf("  %-12s %10llu  %5s  %-7s %10s  %s%s  (%s markers)\n", "python",
                   (unsigned long long)e->data_offset, "", e->method ? "deflate" : "stored",
                   sp_human_size(e->usize, sz), prefix, e->name, count);
        }
    }
}

static void summary(const struct listing *l)
{
    char a[32], b[32];
    printf("download size per ABI (shared entries %s + that ABI's libraries):\n",
           sp_human_size((double)l->common_bytes, a));
    for (int i = 0; i < l->nabis; i++)
        printf("  %-12s %4zu libraries %10s   total %10s\n", l->abis[i], l->abi_libs[i],
               sp_human_size((double)l->abi_bytes[i], a),
               sp_human_size((double)(l->common_bytes + l->abi_bytes[i]), b));
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
                const char *rel = t.files[i].rel, *slash = strchr(rel, '/');
                if (p == 0 && slash) {
                    int a = abi_of(&l, rel, (size_t)(slash - rel));
                    if (a >= 0) {
                        l.abi_bytes[a] += t.files[i].size;
                        l.abi_libs[a]++;
                    }
                    printf("  %-12.*s %10s  %5s  %-7s %10s  jniLibs/%s\n", (int)(slash - rel),
                           rel, "-", "-", "file", sp_human_size((double)t.files[i].size, sz), rel);
                } else {
                    l.common_bytes += t.files[i].size;
                    if (p == 1)
                        printf("  %-12s %10s  %5s  %-7s %10s  assets/%s\n", "python", "-", "-",
                               "file", sp_human_size((double)t.files[i].size, sz), rel);
                }
            }
        }
        sp_tree_release(&t);
        free(root);
    }
    summary(&l);
    return SP_OK;
}

int cmd_ls(int argc, char **argv)
{
    if (argc != 2)
        return sp_report_error(SP_EUSAGE, "ls: give one APK, .apks, .aab, zip or directory");
    const char *path = argv[1];
    struct stat st;
    if (stat(path, &st) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: no such file or directory", path);
        return sp_report_error(SP_EINPUT, msg);
    }
    printf("%-14s %10s  %5s  %-7s %10s  %s\n", "  ABI", "offset", "align", "method", "size",
           "entry");
    if (S_ISDIR(st.st_mode))
        return ls_dir(path);
    sp_zip z;
    sp_error err;
    if (sp_zip_open(&z, path, &err) != 0)
        return sp_report_error(err.status, err.msg);
    struct listing l;
    memset(&l, 0, sizeof l);
    int bundle = sp_zip_find(&z, "BundleConfig.pb") != NULL;
    int members = 0;
    for (size_t i = 0; i < z.n; i++) {
        const sp_zip_entry *e = &z.entries[i];
        size_t n = strlen(e->name);
        if (bundle || !e->valid || n < 5 || strcmp(e->name + n - 4, ".apk"))
            continue;
        members++;
        sp_buf b;
        sp_buf_init(&b);
        sp_zip inner;
        memset(&inner, 0, sizeof inner);
        char *prefix = sp_xasprintf("%s!/", e->name);
        if (sp_zip_read_entry(&z, e, (size_t)e->csize * 1032u + 1024u, &b, &err) == 0 &&
            sp_zip_open_buffer(&inner, (unsigned char *)b.data, b.len, e->name, NULL, NULL,
                               &err) == 0)
            list_zip(&inner, prefix, 0, &l);
        else
            fprintf(stderr, "sp-pack: %s\n", err.msg);
        sp_zip_close(&inner);
        sp_buf_release(&b);
        free(prefix);
    }
    if (!members)
        list_zip(&z, "", bundle, &l);
    summary(&l);
    sp_zip_close(&z);
    return SP_OK;
}
