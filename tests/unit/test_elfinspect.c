/* The inspector on ELF files built here for every Android ABI with clang and
 * lld (paths given by the test driver), and on garbage. */
#include <stdlib.h>

#include "check.h"
#include "sppack/abi.h"
#include "sppack/elfinspect.h"
#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/strv.h"

static int inspect(const char *path, sp_elf_info *info)
{
    sp_map m;
    sp_error err;
    if (sp_map_open(&m, path, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    int rc = sp_elf_inspect(m.data, m.size, path, info, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    sp_map_close(&m);
    return rc;
}

int main(int argc, char **argv)
{
    /* argv: DIR holding mod-<abi>.so built by tests/build-elf-fixtures.sh */
    if (argc < 2) {
        fprintf(stderr, "usage: test_elfinspect FIXTURE_DIR\n");
        return 2;
    }
    static const char *abis[] = {"arm64-v8a", "armeabi-v7a", "x86", "x86_64", "riscv64"};
    for (size_t i = 0; i < sizeof abis / sizeof abis[0]; i++) {
        char *p = sp_xasprintf("%s/mod-%s.so", argv[1], abis[i]);
        sp_elf_info info;
        CHECK(inspect(p, &info) == 0);
        const sp_abi *abi = sp_abi_find(abis[i]);
        CHECK(sp_abi_for_elf(info.elf_class, info.machine) == abi);
        CHECK(info.type == 3 && info.little_endian && info.has_sections);
        CHECK(sp_elf_exports_pyinit(&info, "mod"));
        CHECK(!sp_elf_exports_pyinit(&info, "other"));
        CHECK(sp_strv_contains(&info.needed, "libdep.so"));
        CHECK_STR(info.soname, "libmod.so");
        CHECK(info.android_api == 24);
        CHECK(!info.has_textrel && !info.has_wx_segment);
        CHECK(info.load_count > 0);
        if (abi->elf_class == 64)
            CHECK(info.min_load_align >= 16384);
        sp_elf_info_release(&info);
        free(p);
    }
    /* 4 KB segments, as linked without max-page-size. */
    char *p = sp_xasprintf("%s/mod-4k-arm64-v8a.so", argv[1]);
    sp_elf_info info;
    CHECK(inspect(p, &info) == 0);
    CHECK(info.min_load_align == 4096);
    sp_elf_info_release(&info);
    free(p);

    /* Not ELF, truncated ELF, big-endian: errors, never crashes. */
    sp_error err;
    char junk[] = "not an elf file at all";
    CHECK(sp_elf_inspect(junk, sizeof junk, "junk", &info, &err) != 0 && err.status == SP_EINPUT);
    char trunc[] = "\x7f"
                   "ELF\x02\x01\x01";
    CHECK(sp_elf_inspect(trunc, 7, "trunc", &info, &err) != 0);
    char half[64] = "\x7f"
                    "ELF\x02\x01\x01";
    CHECK(sp_elf_inspect(half, sizeof half, "half", &info, &err) != 0 ||
          (sp_elf_info_release(&info), 1));
    char be[64] = "\x7f"
                  "ELF\x02\x02\x01";
    CHECK(sp_elf_inspect(be, sizeof be, "be", &info, &err) != 0);
    return check_done();
}
