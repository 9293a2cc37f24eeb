#include "sppack/libcheck.h"

#include <stdio.h>
#include <string.h>

#include "sppack/mangle.h"

/* Android's public NDK libraries, which every device provides. */
static const char *const system_libs[] = {"libc.so",
                                          "libm.so",
                                          "libdl.so",
                                          "liblog.so",
                                          "libz.so",
                                          "libandroid.so",
                                          "libjnigraphics.so",
                                          "libEGL.so",
                                          "libGLESv1_CM.so",
                                          "libGLESv2.so",
                                          "libGLESv3.so",
                                          "libOpenSLES.so",
                                          "libOpenMAXAL.so",
                                          "libvulkan.so",
                                          "libmediandk.so",
                                          "libcamera2ndk.so",
                                          "libneuralnetworks.so",
                                          "libnativewindow.so",
                                          "libsync.so",
                                          "libstdc++.so",
                                          "libaaudio.so",
                                          "libamidi.so",
                                          "libbinder_ndk.so",
                                          "libicu.so",
                                          "libnativehelper.so",
                                          NULL};

int sp_libcheck_is_system_lib(const char *name)
{
    for (const char *const *s = system_libs; *s; s++)
        if (!strcmp(*s, name))
            return 1;
    return 0;
}

/* Whether [s1, e1) and [s2, e2) hold exactly the same allocated sections. */
static int same_sections(const sp_elf_info *x, uint64_t s1, uint64_t e1, uint64_t s2, uint64_t e2)
{
    for (size_t i = 0; i < x->nsections; i++) {
        const sp_elf_range *s = &x->sections[i];
        int in1 = s->addr >= s1 && s->addr + s->size <= e1;
        int in2 = s->addr >= s2 && s->addr + s->size <= e2;
        if (in1 != in2)
            return 0;
    }
    return 1;
}

static void kb(unsigned page, char out[16])
{
    if (page % 1024 == 0)
        snprintf(out, 16, "%u KB", page / 1024);
    else
        snprintf(out, 16, "%u B", page);
}

int sp_libcheck_relro(const sp_elf_info *x, unsigned page, char *why, size_t n)
{
    char size[16];
    kb(page, size);
    for (size_t r = 0; r < x->nrelros; r++) {
        uint64_t start = x->relros[r].addr, end = start + x->relros[r].size;
        size_t i = x->nloads;
        for (size_t k = 0; k < x->nloads; k++)
            if (x->loads[k].addr <= start)
                i = k; /* the last PT_LOAD starting at or before the RELRO */
        if (i == x->nloads) {
            snprintf(why, n, "RELRO [%#llx, %#llx) is in no PT_LOAD", (unsigned long long)start,
                     (unsigned long long)end);
            return 1;
        }
        uint64_t lstart = x->loads[i].addr, lend = lstart + x->loads[i].size;
        if (i + 1 < x->nloads && end > x->loads[i + 1].addr) {
            snprintf(why, n, "RELRO [%#llx, %#llx) runs into the next PT_LOAD at %#llx",
                     (unsigned long long)start, (unsigned long long)end,
                     (unsigned long long)x->loads[i + 1].addr);
            return 1;
        }
        /* A RELRO holding every section of its PT_LOAD protects nothing else
         * when rounded to pages (lld before 18 pads the RELRO, not the PT_LOAD). */
        if (same_sections(x, start, end, lstart, lend))
            continue;
        int bad_start = start % page && start != lstart, bad_end = end % page && end != lend;
        if (bad_start || bad_end) {
            snprintf(why, n,
                     "RELRO [%#llx, %#llx) is not a %s of PT_LOAD [%#llx, %#llx) and its %s is not "
                     "%s aligned",
                     (unsigned long long)start, (unsigned long long)end,
                     bad_start ? "prefix" : "suffix", (unsigned long long)lstart,
                     (unsigned long long)lend, bad_start ? "start" : "end", size);
            return 1;
        }
    }
    return 0;
}

int sp_libcheck_name_ok(const char *name)
{
    return sp_is_android_lib_name(name);
}

void sp_libcheck_elf(const sp_elf_info *x, const sp_abi *abi, const char *abi_dir,
                     const char *label, sp_libcheck_shipped_fn shipped, void *shipped_ctx,
                     const sp_libcheck_opts *o, sp_report *r, sp_report_file *f)
{
    char m[32];
    if (abi && (x->elf_class != abi->elf_class || x->machine != abi->elf_machine))
        sp_report_add(r, f, "E002", label, abi_dir, "%d-bit %s, expected %d-bit %s", x->elf_class,
                      sp_abi_machine_name(x->machine, m), abi->elf_class, abi->machine);
    if (x->type != 3 || !x->has_sections)
        sp_report_add(r, f, "E003", label, abi_dir, "%s",
                      x->type != 3 ? "not ET_DYN" : "no section headers");
    if (abi && abi->elf_class == 64 && x->min_load_align && x->min_load_align < o->page_size)
        sp_report_add(r, f, "E004", label, abi_dir, "PT_LOAD aligned to %llu, below %u",
                      (unsigned long long)x->min_load_align, o->page_size);
    char why[256];
    if (abi && abi->elf_class == 64 && sp_libcheck_relro(x, o->page_size, why, sizeof why))
        sp_report_add(r, f, "E011", label, abi_dir, "%s", why);
    if (x->has_textrel)
        sp_report_add(r, f, "E005", label, abi_dir, "has text relocations");
    if (x->has_wx_segment)
        sp_report_add(r, f, "E006", label, abi_dir, "a PT_LOAD segment is writable and executable");
    int glibc = 0;
    for (size_t k = 0; k < x->needed.n; k++) {
        const char *need = x->needed.v[k];
        if (!strcmp(need, "libc.so.6") || !strncmp(need, "ld-linux", 8)) {
            glibc = 1;
            continue;
        }
        if (!shipped(shipped_ctx, need) && !sp_libcheck_is_system_lib(need))
            sp_report_add(r, f, "E007", label, abi_dir,
                          "needs %s, which is neither in lib/%s/ nor a system library", need,
                          abi_dir);
    }
    if (glibc)
        sp_report_add(r, f, "E008", label, abi_dir, "needs glibc's libc.so.6 or ld-linux");
    if (o->min_sdk > 0 && x->android_api > o->min_sdk)
        sp_report_add(r, f, "E010", label, abi_dir, "built for API %d, above --min-sdk %d",
                      x->android_api, o->min_sdk);
}
