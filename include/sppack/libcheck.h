/* The rules every native library under lib/<abi>/ must meet for Android
 * to install and load it (the L and E checks of docs/checks.md), as one
 * module: verify applies them to what an archive holds, pack to what it
 * writes. Findings go to a report (sppack/report.h). */
#ifndef SPPACK_LIBCHECK_H
#define SPPACK_LIBCHECK_H

#include "sppack/abi.h"
#include "sppack/elfinspect.h"
#include "sppack/report.h"

typedef struct sp_libcheck_opts {
    unsigned page_size; /* bytes: PT_LOAD alignment wanted on 64-bit ABIs */
    int min_sdk;        /* 0: no E010 check */
} sp_libcheck_opts;

/* 1 when Android installs a file of this name from lib/<abi>/ (L003). */
int sp_libcheck_name_ok(const char *name);

/* 1 for Android's public NDK libraries, which every device provides. */
int sp_libcheck_is_system_lib(const char *name);

/* The RELRO rule of 16 KB page devices, for a 64-bit library: each
 * PT_GNU_RELRO must lie in one PT_LOAD and either hold exactly that
 * PT_LOAD's allocated sections, or start at its start or on a page
 * boundary and end at its end or on a page boundary. Otherwise the
 * loader's page-rounded read-only protection covers writable data of the
 * same page (Play's "RELRO is not a suffix and its end is not 16 KB
 * aligned"). 1 with why filled when the library breaks it. */
int sp_libcheck_relro(const sp_elf_info *x, unsigned page, char *why, size_t n);

/* Whether lib/<abi>/ of the same archive (or output) holds name. */
typedef int (*sp_libcheck_shipped_fn)(void *ctx, const char *name);

/* The ELF findings (E002 to E011) for one library of ABI abi (NULL for a
 * retired ABI: only the ABI-independent checks run), read as x, named
 * label in the findings. */
void sp_libcheck_elf(const sp_elf_info *x, const sp_abi *abi, const char *abi_dir,
                     const char *label, sp_libcheck_shipped_fn shipped, void *shipped_ctx,
                     const sp_libcheck_opts *o, sp_report *r, sp_report_file *f);

#endif
