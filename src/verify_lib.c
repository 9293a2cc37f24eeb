/* verify's library layers: where files under lib/<abi>/ sit and how they
 * are stored (the L checks), and what their ELF files are (the E checks,
 * through the rules sppack/libcheck.h shares with pack). */
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/libcheck.h"
#include "verify_internal.h"

/* abi's index in c->abis, added when new; -1 when they are full. */
static int abi_slot(struct vctx *c, const sp_abi *abi)
{
    int i = sp_abi_index(c->abis, c->nabis, abi);
    if (i >= 0)
        return i;
    if (c->nabis == SP_MAX_ABIS)
        return -1;
    c->abis[c->nabis] = abi;
    return c->nabis++;
}

void verify_lib_layer(struct vctx *c)
{
    for (size_t i = 0; i < c->items.n; i++) {
        const struct vitem *it = &c->items.v[i];
        sp_lib_path lp;
        if (!sp_lib_path_parse(it->path, "lib/", &lp) || !*lp.name)
            continue; /* not under lib/<abi>/, or a directory entry */
        char *abi_dir = sp_xstrndup(lp.abi, lp.abi_len);
        const sp_abi *abi = sp_abi_known(abi_dir);
        const char *base = lp.name;
        if (!abi) {
            sp_report_add(c->r, c->f, "L005", it->label, abi_dir, "'%s' is not an Android ABI",
                          abi_dir);
        } else if (strchr(base, '/')) {
            if (base[strlen(base) - 1] != '/')
                sp_report_add(c->r, c->f, "L004", it->label, abi_dir,
                              "in a subdirectory of lib/%s/", abi_dir);
        } else {
            int slot = abi_slot(c, abi);
            int name_ok = sp_libcheck_name_ok(base);
            if (!name_ok)
                sp_report_add(c->r, c->f, "L003", it->label, abi_dir, "'%s' does not match lib*.so",
                              base);
            if (it->zip && it->e->method != 0)
                sp_report_add(c->r, c->f, "L001", it->label, abi_dir, "compressed (method %u)",
                              it->e->method);
            else if (it->zip && it->e->valid && it->e->data_offset % c->o->page_size != 0)
                sp_report_add(c->r, c->f, "L002", it->label, abi_dir,
                              "data at offset %llu is not a multiple of %u",
                              (unsigned long long)it->e->data_offset, c->o->page_size);
            /* Every check runs on every library, whatever else was found
             * on it: a misnamed one still gets its ELF checks. */
            if (slot >= 0) {
                struct vlib l = {.item = i, .abi = slot, .base = base, .name_ok = name_ok};
                SP_VEC_PUSH(c->libs, l);
            }
        }
        free(abi_dir);
    }
}

struct shipped_ctx {
    const struct vctx *c;
    int abi;
};

/* Whether Android installs a library of this name for this ABI. */
static int shipped_in(const struct vctx *c, int abi, const char *name)
{
    for (size_t i = 0; i < c->libs.n; i++)
        if (c->libs.v[i].abi == abi && c->libs.v[i].name_ok && !strcmp(c->libs.v[i].base, name))
            return 1;
    return 0;
}

static int shipped(void *vctx, const char *name)
{
    const struct shipped_ctx *s = vctx;
    return shipped_in(s->c, s->abi, name);
}

static int has_pk_magic(const unsigned char *d, size_t n)
{
    return n >= 4 && memcmp(d, "PK\x03\x04", 4) == 0;
}

/* L006: every ABI holds the same names. */
static void check_parity(struct vctx *c)
{
    for (int a = 0; a < c->nabis; a++) {
        sp_buf missing;
        sp_buf_init(&missing);
        size_t count = 0;
        for (size_t i = 0; i < c->libs.n; i++) {
            const struct vlib *l = &c->libs.v[i];
            if (l->abi == a || !l->name_ok || shipped_in(c, a, l->base))
                continue;
            int dup = 0; /* the same name from a third ABI */
            for (size_t k = 0; k < i; k++)
                dup |= !strcmp(c->libs.v[k].base, l->base) && c->libs.v[k].abi != a;
            if (dup)
                continue;
            if (count++ < 5)
                sp_buf_addf(&missing, "%s%s", missing.len ? ", " : "", l->base);
        }
        const char *abi = c->abis[a]->name;
        if (count)
            sp_report_add(c->r, c->f, "L006", NULL, abi,
                          "lib/%s/ lacks %zu librar%s other ABIs have: %s%s", abi, count,
                          count == 1 ? "y" : "ies", missing.data, count > 5 ? ", ..." : "");
        sp_buf_release(&missing);
    }
}

void verify_elf_layer(struct vctx *c)
{
    sp_libcheck_opts lo = {c->o->page_size, c->o->min_sdk};
    for (size_t i = 0; i < c->libs.n; i++) {
        struct vlib *l = &c->libs.v[i];
        struct vitem *it = &c->items.v[l->item];
        const sp_abi *abi = c->abis[l->abi];
        if (it->zip && it->e->method != 0) {
            /* Deflated: what the file is, from its head, before inflating it all. */
            unsigned char head[64];
            long got = sp_zip_read_head(it->zip, it->e, head, sizeof head);
            if (got >= 0 && has_pk_magic(head, (size_t)got)) {
                sp_report_add(c->r, c->f, "L008", it->label, abi->name, "holds a zip archive");
                continue;
            }
            if (got >= 0 && !sp_elf_is_elf(head, (size_t)got)) {
                sp_report_add(c->r, c->f, "E001", it->label, abi->name, "not an ELF file");
                continue;
            }
        }
        struct vbytes b;
        int got = vctx_item_open(c, it, &b);
        if (got == -2)
            continue; /* not inflated: Z010 says why */
        if (got != 0) {
            sp_report_add(c->r, c->f, "E001", it->label, abi->name, "cannot be read");
            continue;
        }
        unsigned char *d = b.data;
        size_t n = b.n;
        if (has_pk_magic(d, n)) {
            sp_report_add(c->r, c->f, "L008", it->label, abi->name, "holds a zip archive");
            vctx_item_close(c, &b);
            continue;
        }
        sp_error err;
        if (!sp_elf_is_elf(d, n) || sp_elf_inspect(d, n, it->label, &l->info, &err) != 0) {
            sp_report_add(c->r, c->f, "E001", it->label, abi->name, "%s",
                          sp_elf_is_elf(d, n) ? "truncated or corrupt ELF" : "not an ELF file");
            vctx_item_close(c, &b);
            continue;
        }
        vctx_item_close(c, &b); /* what the checks need is in l->info */
        l->inspected = 1;
        struct shipped_ctx sc = {c, l->abi};
        sp_libcheck_elf(&l->info, abi->supported ? abi : NULL, abi->name, it->label, shipped, &sc,
                        &lo, c->r, c->f);
    }
    check_parity(c);
}
