/* verify's layers, each on archives built in memory for it: the zip layer
 * (Z), where libraries sit and how they are stored (L), the ELF rules
 * (E, on ELF descriptions made here) and the Python layout (P). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/libcheck.h"
#include "sppack/report.h"
#include "sppack/verify.h"

/* ---- a zip written by hand, so each field can be wrong on purpose ---- */

struct zentry {
    const char *name;
    const void *data;
    size_t size;
    int deflate;          /* store a raw-deflated copy */
    unsigned align;       /* pad the local header's extra field so data lands here */
    const char *local_as; /* a different name in the local header */
};

static void deflate_raw(const void *in, size_t n, sp_buf *out)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    sp_buf_grow(out, deflateBound(&s, n));
    s.next_in = (unsigned char *)in;
    s.avail_in = (unsigned)n;
    s.next_out = (unsigned char *)out->data;
    s.avail_out = (unsigned)out->cap;
    deflate(&s, Z_FINISH);
    out->len = s.total_out;
    deflateEnd(&s);
}

static unsigned char *build(const struct zentry *e, size_t n, const char *trailer, size_t *size)
{
    sp_buf z, cd;
    sp_buf_init(&z);
    sp_buf_init(&cd);
    for (size_t i = 0; i < n; i++) {
        sp_buf data;
        sp_buf_init(&data);
        if (e[i].deflate)
            deflate_raw(e[i].data, e[i].size, &data);
        else
            sp_buf_add(&data, e[i].data, e[i].size);
        uint32_t crc = (uint32_t)crc32(0, e[i].data, (unsigned)e[i].size);
        const char *lname = e[i].local_as ? e[i].local_as : e[i].name;
        size_t nlen = strlen(e[i].name), llen = strlen(lname);
        size_t pad = 0;
        if (e[i].align) {
            size_t at = z.len + 30 + llen;
            pad = (e[i].align - at % e[i].align) % e[i].align;
        }
        size_t offset = z.len;
        sp_buf_put32(&z, 0x04034b50u);
        sp_buf_put16(&z, 20);
        sp_buf_put16(&z, 0);
        sp_buf_put16(&z, e[i].deflate ? 8 : 0);
        sp_buf_put32(&z, 0); /* time and date */
        sp_buf_put32(&z, crc);
        sp_buf_put32(&z, (uint32_t)data.len);
        sp_buf_put32(&z, (uint32_t)e[i].size);
        sp_buf_put16(&z, (uint16_t)llen);
        sp_buf_put16(&z, (uint16_t)pad);
        sp_buf_add(&z, lname, llen);
        for (size_t k = 0; k < pad; k++)
            sp_buf_add(&z, "", 1);
        sp_buf_add(&z, data.data, data.len);
        sp_buf_put32(&cd, 0x02014b50u);
        sp_buf_put16(&cd, 20);
        sp_buf_put16(&cd, 20);
        sp_buf_put16(&cd, 0);
        sp_buf_put16(&cd, e[i].deflate ? 8 : 0);
        sp_buf_put32(&cd, 0);
        sp_buf_put32(&cd, crc);
        sp_buf_put32(&cd, (uint32_t)data.len);
        sp_buf_put32(&cd, (uint32_t)e[i].size);
        sp_buf_put16(&cd, (uint16_t)nlen);
        sp_buf_put32(&cd, 0); /* extra, comment */
        sp_buf_put32(&cd, 0); /* disk, internal attributes */
        sp_buf_put32(&cd, 0); /* external attributes */
        sp_buf_put32(&cd, (uint32_t)offset);
        sp_buf_add(&cd, e[i].name, nlen);
        sp_buf_release(&data);
    }
    size_t cd_off = z.len;
    sp_buf_add(&z, cd.data, cd.len);
    sp_buf_put32(&z, 0x06054b50u);
    sp_buf_put32(&z, 0);
    sp_buf_put16(&z, (uint16_t)n);
    sp_buf_put16(&z, (uint16_t)n);
    sp_buf_put32(&z, (uint32_t)cd.len);
    sp_buf_put32(&z, (uint32_t)cd_off);
    sp_buf_put16(&z, 0);
    if (trailer)
        sp_buf_adds(&z, trailer);
    sp_buf_release(&cd);
    *size = z.len;
    return (unsigned char *)sp_buf_detach(&z);
}

/* With shared != 0, the central directory's last entry points at the
 * first local header, as a zip bomb's entries do. */
static int shared_last;

/* The IDs verify finds in an archive, as "Z004 L003 ..." in ID order. */
static char *ids(const struct zentry *e, size_t n, const char *trailer)
{
    size_t size;
    unsigned char *data = build(e, n, trailer, &size);
    if (shared_last) {
        uint32_t cd = (uint32_t)data[size - 6] | (uint32_t)data[size - 5] << 8 |
                      (uint32_t)data[size - 4] << 16 | (uint32_t)data[size - 3] << 24;
        unsigned char *c = data + cd;
        for (size_t i = 0; i + 1 < n; i++)
            c += 46 + strlen(e[i].name);
        memset(c + 42, 0, 4);
    }
    sp_verify_opts o = {16384, 0, shared_last}; /* --deep for the bomb */
    sp_report r;
    sp_report_init(&r);
    sp_error err;
    CHECK(sp_verify_buffer(data, size, "test.zip", &o, &r, &err) == 0);
    sp_buf out;
    sp_buf_init(&out);
    sp_buf_grow(&out, 0);
    for (const sp_check *c = sp_checks; c->id; c++)
        for (size_t k = 0; k < r.files[0].n; k++)
            if (r.files[0].v[k].check == c) {
                sp_buf_addf(&out, "%s%s", out.len ? " " : "", c->id);
                break;
            }
    sp_report_release(&r);
    free(data);
    return sp_buf_detach(&out);
}

#define CHECK_IDS(entries, trailer, expected)                                                      \
    do {                                                                                           \
        char *got_ = ids(entries, sizeof entries / sizeof entries[0], trailer);                    \
        CHECK_STR(got_, expected);                                                                 \
        free(got_);                                                                                \
    } while (0)

static void zip_layer(void)
{
    struct zentry clean[] = {{"a.txt", "abc", 3, 0, 4, NULL}};
    CHECK_IDS(clean, NULL, "");
    struct zentry dup[] = {{"a.txt", "abc", 3, 0, 4, NULL}, {"a.txt", "def", 3, 0, 4, NULL}};
    CHECK_IDS(dup, NULL, "Z004");
    struct zentry unsafe[] = {{"../up.txt", "x", 1, 0, 4, NULL}, {"a\\b", "x", 1, 0, 4, NULL}};
    CHECK_IDS(unsafe, NULL, "Z005");
    struct zentry renamed[] = {{"a.txt", "abc", 3, 0, 4, "b.txt"}};
    CHECK_IDS(renamed, NULL, "Z003");
    struct zentry unaligned[] = {{"abc.txt", "abc", 3, 0, 0, NULL}}; /* data at 37 */
    CHECK_IDS(unaligned, NULL, "Z008");
    CHECK_IDS(clean, "junk after the end", "Z002");
    /* Two entries on one deflate stream: a zip bomb, never inflated, its
     * libraries given no ELF findings (and none from --deep's read). */
    static char zeros[1 << 16];
    struct zentry bomb[] = {{"lib/x86/liba.so", zeros, sizeof zeros, 1, 0, NULL},
                            {"lib/x86/libb.so", zeros, sizeof zeros, 1, 0, NULL}};
    shared_last = 1;
    CHECK_IDS(bomb, NULL, "Z003 Z009 Z010 L001");
    shared_last = 0;
    CHECK_IDS(bomb, NULL, "L001 E001");
}

static void lib_layer(void)
{
    /* Not ELF files: the library layer's own checks still run; each also
     * gets E001 from the ELF layer. */
    struct zentry compressed[] = {{"lib/x86/libz.so", "junk junk junk", 14, 1, 0, NULL}};
    CHECK_IDS(compressed, NULL, "L001 E001");
    struct zentry unaligned[] = {{"lib/x86/libz.so", "junk", 4, 0, 4, NULL}};
    CHECK_IDS(unaligned, NULL, "L002 E001");
    struct zentry names[] = {{"lib/x86/z.so", "junk", 4, 0, 16384, NULL},
                             {"lib/x86/sub/libz.so", "junk", 4, 0, 16384, NULL},
                             {"lib/mips128/libz.so", "junk", 4, 0, 16384, NULL}};
    /* The misnamed one is still checked as a library (E001: not ELF). */
    CHECK_IDS(names, NULL, "L003 L004 L005 E001");
    struct zentry parity[] = {{"lib/x86/liba.so", "junk", 4, 0, 16384, NULL},
                              {"lib/x86/libb.so", "junk", 4, 0, 16384, NULL},
                              {"lib/x86_64/liba.so", "junk", 4, 0, 16384, NULL}};
    CHECK_IDS(parity, NULL, "L006 E001");
    struct zentry fake[] = {{"lib/x86/libfake.so", "PK\x03\x04 a zip", 11, 0, 16384, NULL}};
    CHECK_IDS(fake, NULL, "L008");
}

/* ---- the ELF rules, on descriptions of ELF files ---- */

static int ships_libdep(void *ctx, const char *name)
{
    (void)ctx;
    return !strcmp(name, "libdep.so");
}

static char *elf_ids(const sp_elf_info *x, const char *abi, int min_sdk)
{
    sp_report r;
    sp_report_init(&r);
    sp_report_file *f = sp_report_add_file(&r, "t");
    sp_libcheck_opts o = {16384, min_sdk};
    sp_libcheck_elf(x, sp_abi_find(abi), abi, "lib/x/libt.so", ships_libdep, NULL, &o, &r, f);
    sp_buf out;
    sp_buf_init(&out);
    sp_buf_grow(&out, 0);
    for (size_t k = 0; k < f->n; k++)
        sp_buf_addf(&out, "%s%s", out.len ? " " : "", f->v[k].check->id);
    sp_report_release(&r);
    return sp_buf_detach(&out);
}

static void elf_layer(void)
{
    sp_elf_info x;
    memset(&x, 0, sizeof x);
    x.elf_class = 64;
    x.little_endian = 1;
    x.type = 3;
    x.machine = 183;
    x.has_sections = 1;
    x.load_count = 2;
    x.min_load_align = 16384;
    x.android_api = 24;
    sp_strv_init(&x.needed);
    sp_strv_push(&x.needed, "libdep.so");
    sp_strv_push(&x.needed, "libc.so");
    char *s = elf_ids(&x, "arm64-v8a", 24);
    CHECK_STR(s, "");
    free(s);
    s = elf_ids(&x, "x86_64", 0);
    CHECK_STR(s, "E002");
    free(s);
    x.min_load_align = 4096;
    s = elf_ids(&x, "arm64-v8a", 0);
    CHECK_STR(s, "E004");
    free(s);
    x.elf_class = 32;
    x.machine = 40; /* 32-bit ABIs are not held to 16 KB */
    s = elf_ids(&x, "armeabi-v7a", 0);
    CHECK_STR(s, "");
    free(s);
    x.type = 2;
    x.has_textrel = 1;
    x.has_wx_segment = 1;
    sp_strv_push(&x.needed, "libmissing.so");
    sp_strv_push(&x.needed, "libc.so.6");
    x.android_api = 30;
    s = elf_ids(&x, "armeabi-v7a", 24);
    CHECK_STR(s, "E003 E005 E006 E007 E008 E010");
    free(s);
    sp_strv_release(&x.needed);
}

/* ---- the Python layout ---- */

static unsigned char *python_zip(const struct zentry *e, size_t n, size_t *size)
{
    return build(e, n, NULL, size);
}

static void python_layer(void)
{
    size_t n1, n2, n3;
    struct zentry std_ok[] = {{"_sp_bootstrap.py", "#", 1, 0, 0, NULL},
                              {"_bz2.soref", "lib_bz2.so", 10, 0, 0, NULL}};
    unsigned char *z1 = python_zip(std_ok, 2, &n1);
    struct zentry no_boot[] = {{"pkg/", "", 0, 0, 0, NULL},
                               {"pkg/m.soref", "bad name!", 9, 0, 0, NULL}};
    unsigned char *z2 = python_zip(no_boot, 2, &n2);
    struct zentry no_dirs[] = {{"_sp_bootstrap.py", "#", 1, 1, 0, NULL},
                               {"enc/x.py", "#", 1, 0, 0, NULL}};
    unsigned char *z3 = python_zip(no_dirs, 2, &n3);
    /* The boot set, complete; its _sp_bootstrap differs from stdlib.zip's. */
    struct zentry boot[] = {{"assets/python/_sp_bootstrap.py", "# other", 7, 0, 4, NULL},
                            {"assets/python/encodings/__init__.py", "#", 1, 0, 4, NULL},
                            {"assets/python/encodings/aliases.pyc", "#", 1, 0, 4, NULL},
                            {"assets/python/encodings/utf_8.py", "#", 1, 0, 4, NULL}};
    /* stdlib.zip names lib_bz2.so, which no ABI ships: P001. */
    struct zentry apk1[] = {boot[0],
                            boot[1],
                            boot[2],
                            boot[3],
                            {"assets/stdlib.zip", z1, n1, 0, 4, NULL},
                            {"lib/x86/libother.so", "junk", 4, 0, 16384, NULL}};
    CHECK_IDS(apk1, NULL, "E001 P001 P014");
    /* A stdlib.zip without the bootstrap, a marker that names no library,
     * no boot set. */
    struct zentry apk2[] = {{"assets/stdlib.zip", z2, n2, 0, 4, NULL}};
    CHECK_IDS(apk2, NULL, "P005 P009 P010");
    /* Directory entries missing, a deflated entry, the zip itself deflated,
     * a boot set file deflated and one missing. */
    struct zentry apk3[] = {{"assets/python/_sp_bootstrap.py", "#", 1, 1, 4, NULL},
                            boot[1],
                            boot[2],
                            {"assets/stdlib.zip", z3, n3, 1, 4, NULL}};
    CHECK_IDS(apk3, NULL, "P004 P008 P010 P011 P012");
    /* Not a zip at all. */
    struct zentry apk4[] = {{"assets/sitepackages.zip", "not a zip", 9, 0, 4, NULL}};
    CHECK_IDS(apk4, NULL, "Z001");
    free(z1);
    free(z2);
    free(z3);
}

int main(void)
{
    zip_layer();
    lib_layer();
    elf_layer();
    python_layer();
    return check_done();
}
