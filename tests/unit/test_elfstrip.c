/* The stripper on libraries built here with clang and lld for every Android
 * ABI (tests/build-elf-fixtures.sh: debug-x86_64.so has DWARF and a full
 * .symtab, the others lld's .symtab), judged by libelf and by the ELF
 * inspector: what the loader and the PyInit_ lookup read is unchanged. And
 * the inputs the fuzzer found (tests/fuzz/regressions/elfstrip-*), replayed
 * here under the sanitizers of this build. */
#include <dirent.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>

#include "check.h"
#include "sppack/alloc.h"
#include "sppack/elfinspect.h"
#include "sppack/elfstrip.h"
#include "sppack/file.h"

/* Names of the sections of an image, and the end of its last segment. */
static int sections(const unsigned char *img, size_t n, int *debug, int *symtab, int *strtab,
                    size_t *seg_end)
{
    unsigned char *copy = memcpy(sp_xmalloc(n), img, n);
    Elf *e = elf_memory((char *)copy, n);
    size_t shstrndx, phnum;
    *debug = *symtab = *strtab = 0;
    *seg_end = 0;
    int ok = e && elf_getshdrstrndx(e, &shstrndx) == 0 && elf_getphdrnum(e, &phnum) == 0;
    for (Elf_Scn *scn = NULL; ok && (scn = elf_nextscn(e, scn));) {
        GElf_Shdr sh;
        ok = gelf_getshdr(scn, &sh) != NULL;
        const char *name = ok ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;
        ok = ok && name;
        if (!ok)
            break;
        *debug += !strncmp(name, ".debug", 6);
        *symtab += sh.sh_type == SHT_SYMTAB;
        *strtab += !strcmp(name, ".strtab");
    }
    for (size_t i = 0; ok && i < phnum; i++) {
        GElf_Phdr ph;
        ok = gelf_getphdr(e, (int)i, &ph) != NULL;
        if (ok && ph.p_offset + ph.p_filesz > *seg_end)
            *seg_end = ph.p_offset + ph.p_filesz;
    }
    elf_end(e);
    free(copy);
    return ok ? 0 : -1;
}

static int same_ranges(const sp_elf_range *a, const sp_elf_range *b, size_t n)
{
    return n == 0 || !memcmp(a, b, n * sizeof *a);
}

/* What the inspector reads of both images agrees. */
static void check_same_info(const unsigned char *a, size_t na, const unsigned char *b, size_t nb,
                            int module)
{
    unsigned char *ca = memcpy(sp_xmalloc(na), a, na), *cb = memcpy(sp_xmalloc(nb), b, nb);
    sp_elf_info x, y;
    sp_error err;
    CHECK(sp_elf_inspect(ca, na, "a", &x, &err) == 0);
    CHECK(sp_elf_inspect(cb, nb, "b", &y, &err) == 0);
    CHECK(x.elf_class == y.elf_class && x.machine == y.machine && x.type == y.type);
    CHECK(y.has_sections);
    CHECK(sp_strv_equal(&x.pyinit, &y.pyinit) && (!module || y.pyinit.n > 0));
    CHECK(sp_strv_equal(&x.needed, &y.needed));
    CHECK(x.android_api == y.android_api && x.min_load_align == y.min_load_align);
    CHECK(x.nloads == y.nloads && same_ranges(x.loads, y.loads, x.nloads));
    CHECK(x.nrelros == y.nrelros && same_ranges(x.relros, y.relros, x.nrelros));
    CHECK(x.nsections == y.nsections && same_ranges(x.sections, y.sections, x.nsections));
    sp_elf_info_release(&x);
    sp_elf_info_release(&y);
    free(ca);
    free(cb);
}

static void check_strip(const char *path, int expect_debug)
{
    sp_map m;
    sp_error err;
    CHECK(sp_map_open(&m, path, &err) == 0);
    int debug, symtab, strtab;
    size_t seg_end;
    CHECK(sections(m.data, m.size, &debug, &symtab, &strtab, &seg_end) == 0);
    CHECK(symtab == 1 && strtab == 1);
    CHECK(!expect_debug || debug > 0);
    unsigned char *out, *again;
    size_t n, n2;
    CHECK(sp_elf_strip(m.data, m.size, path, &out, &n, &err) == 1);
    CHECK(n < m.size);
    size_t out_end;
    CHECK(sections(out, n, &debug, &symtab, &strtab, &out_end) == 0);
    CHECK(debug == 0 && symtab == 0 && strtab == 0);
    /* Everything from the program headers to the last segment's end is the
     * same bytes at the same offsets; the ELF header differs only where
     * the section header table is described. */
    CHECK(out_end == seg_end && n >= seg_end);
    size_t ehsize = m.data[EI_CLASS] == ELFCLASS64 ? 64 : 52;
    CHECK(!memcmp(out + ehsize, m.data + ehsize, seg_end - ehsize));
    CHECK(!memcmp(out, m.data, 0x18)); /* ident, type, machine, version */
    check_same_info(m.data, m.size, out, n, 1);
    /* Deterministic, and nothing left to strip the second time. */
    CHECK(sp_elf_strip(m.data, m.size, path, &again, &n2, &err) == 1);
    CHECK(n2 == n && !memcmp(again, out, n));
    free(again);
    CHECK(sp_elf_strip(out, n, path, &again, &n2, &err) == 0 && again == NULL);
    /* Truncated copies are refused or stripped, never read past their end. */
    for (size_t cut = 16; cut < m.size; cut = cut * 3 / 2) {
        unsigned char *t = memcpy(sp_xmalloc(cut), m.data, cut);
        int rc = sp_elf_strip(t, cut, "cut", &again, &n2, &err);
        CHECK(rc == -1 || rc == 0 || (rc == 1 && again));
        if (rc == -1)
            CHECK(err.status == SP_EINPUT && strstr(err.msg, "cut: cannot strip"));
        free(again);
        free(t);
    }
    free(out);
    sp_map_close(&m);
}

/* A hostile image: refused or stripped, and when the inspector reads it,
 * it reads the output the same. */
static void check_hostile(const char *path)
{
    sp_map m;
    sp_error err;
    CHECK(sp_map_open(&m, path, &err) == 0);
    unsigned char *out = NULL;
    size_t n = 0;
    int rc = sp_elf_strip(m.data, m.size, path, &out, &n, &err);
    CHECK(rc >= 0 || (err.status == SP_EINPUT && strstr(err.msg, "cannot strip")));
    if (rc == 1) {
        unsigned char *copy = memcpy(sp_xmalloc(m.size), m.data, m.size);
        sp_elf_info x;
        if (sp_elf_inspect(copy, m.size, "in", &x, &err) == 0) {
            sp_elf_info_release(&x);
            check_same_info(m.data, m.size, out, n, 0);
        }
        free(copy);
    }
    free(out);
    sp_map_close(&m);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_elfstrip FIXTURE_DIR REGRESSIONS_DIR\n");
        return 2;
    }
    DIR *d = opendir(argv[2]);
    CHECK(d != NULL);
    int hostile = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        if (strncmp(de->d_name, "elfstrip-", 9) != 0)
            continue;
        char *p = sp_xasprintf("%s/%s", argv[2], de->d_name);
        check_hostile(p);
        free(p);
        hostile++;
    }
    if (d)
        closedir(d);
    CHECK(hostile > 0);
    elf_version(EV_CURRENT);
    char *p = sp_xasprintf("%s/debug-x86_64.so", argv[1]);
    check_strip(p, 1);
    free(p);
    static const char *abis[] = {"arm64-v8a", "armeabi-v7a", "x86", "x86_64", "riscv64"};
    for (size_t i = 0; i < sizeof abis / sizeof abis[0]; i++) {
        p = sp_xasprintf("%s/mod-%s.so", argv[1], abis[i]);
        check_strip(p, 0);
        free(p);
    }
    unsigned char *out;
    size_t n;
    sp_error err;
    static const unsigned char junk[] = "not an elf file at all";
    CHECK(sp_elf_strip(junk, sizeof junk, "junk", &out, &n, &err) == -1 && err.status == SP_EINPUT);
    return check_done();
}
