#define _GNU_SOURCE
#include "sppack/apk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sppack/abi.h"
#include "sppack/alloc.h"
#include "sppack/cleanup.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/text.h"
#include "sppack/treewalk.h"
#include "sppack/zipwriter.h"

unsigned sp_apk_alignment(const char *name, uint16_t method, unsigned page_size)
{
    if (method != 0)
        return 0;
    return sp_is_native_lib_entry(name) ? page_size : 4;
}

/* Adds every file of dir/sub (sorted) as prefix + relative path. */
static int add_tree(sp_zipw *zw, const char *dir, const char *sub, const char *prefix,
                    unsigned page_size, sp_error *err)
{
    char *root = sp_path_join(dir, sub);
    sp_tree t;
    sp_tree_init(&t);
    int rc = 0;
    if (access(root, F_OK) == 0)
        rc = sp_tree_walk(root, NULL, &t, err);
    for (size_t i = 0; i < t.n && rc == 0; i++) {
        char *name = sp_xasprintf("%s%s", prefix, t.files[i].rel);
        sp_map m;
        rc = sp_map_open(&m, t.files[i].path, err);
        if (rc == 0) {
            rc = sp_zipw_add_stored(zw, name, m.data, m.size, sp_apk_alignment(name, 0, page_size),
                                    err);
            sp_map_close(&m);
        }
        free(name);
    }
    sp_tree_release(&t);
    free(root);
    return rc;
}

int sp_apk_write_from_pack(const char *pack_dir, const char *path, unsigned page_size,
                           sp_error *err)
{
    sp_cleanup_stale(path); /* what killed runs left */
    char *tmp = sp_temp_path(path);
    sp_zipw *zw;
    int rc = sp_zipw_open(&zw, tmp, err);
    /* "assets/" sorts before "lib/": one sorted archive. */
    if (rc == 0)
        rc = add_tree(zw, pack_dir, "assets", "assets/", page_size, err);
    if (rc == 0)
        rc = add_tree(zw, pack_dir, "jniLibs", "lib/", page_size, err);
    rc = sp_zipw_end(zw, rc, err);
    rc = sp_commit(rc, tmp, path, err);
    free(tmp);
    return rc;
}

int sp_apk_align(const char *in, const char *out, unsigned page_size, sp_error *err)
{
    sp_zip z;
    if (sp_zip_open(&z, in, err) != 0)
        return -1;
    if (sp_zip_check_entries(&z, in, err) != 0) {
        sp_zip_close(&z);
        return -1;
    }
    if (z.sig_block_offset != UINT64_MAX) {
        sp_zip_close(&z);
        return sp_error_set(err, SP_EINPUT, in,
                            "signed APK: aligning would invalidate its v2/v3 signature "
                            "(hint: align before signing)");
    }
    /* In place on a symlink: the file it names is aligned, the link stays. */
    char *dest = sp_path_replace_target(out);
    sp_cleanup_stale(dest);
    char *tmp = sp_temp_path(dest);
    sp_zipw *zw;
    int rc = sp_zipw_open(&zw, tmp, err);
    for (size_t i = 0; i < z.n && rc == 0; i++) {
        const sp_zip_entry *e = &z.entries[i];
        rc = sp_zipw_add_copy(zw, &z, e, sp_apk_alignment(e->name, e->method, page_size), err);
    }
    if (rc == 0)
        rc = sp_zip_unchanged(&z, in, err);
    rc = sp_zipw_end(zw, rc, err);
    sp_zip_close(&z);
    rc = sp_commit(rc, tmp, dest, err);
    SP_FREE_ALL(tmp, dest);
    return rc;
}

size_t sp_apk_check_alignment(const sp_zip *z, unsigned page_size, sp_strv *problems)
{
    size_t bad = 0;
    for (size_t i = 0; i < z->n; i++) {
        const sp_zip_entry *e = &z->entries[i];
        unsigned a = sp_apk_alignment(e->name, e->method, page_size);
        if (a > 1 && e->data_offset % a != 0) {
            bad++;
            char *name = sp_escape(e->name);
            sp_strv_push_owned(problems,
                               sp_xasprintf("%s: data at offset %llu is not a multiple of %u", name,
                                            (unsigned long long)e->data_offset, a));
            free(name);
        }
    }
    return bad;
}
