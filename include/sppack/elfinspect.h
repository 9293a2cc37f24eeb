/* The ELF inspector: what sp-pack needs to know of a shared library, read
 * with libelf from bytes already in memory (one of the hot paths).
 *
 * Only headers, the dynamic section, the dynamic symbol table and notes are
 * read. Every length comes from libelf, which bounds it by the image size. */
#ifndef SPPACK_ELFINSPECT_H
#define SPPACK_ELFINSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "sppack/error.h"
#include "sppack/strv.h"

/* An address range of the image: a segment's (p_vaddr, p_memsz) or an
 * allocated section's (sh_addr, sh_size). */
typedef struct sp_elf_range {
    uint64_t addr, size;
} sp_elf_range;

typedef struct sp_elf_info {
    int elf_class; /* 32 or 64 */
    int little_endian;
    int type;                /* e_type, ET_DYN == 3 */
    int machine;             /* e_machine */
    int has_sections;        /* section headers present */
    sp_strv needed;          /* DT_NEEDED, in file order */
    char *soname;            /* DT_SONAME or NULL */
    sp_strv pyinit;          /* defined dynamic symbols starting "PyInit_" */
    int has_textrel;         /* DT_TEXTREL or DF_TEXTREL */
    int has_wx_segment;      /* a PT_LOAD both writable and executable */
    size_t load_count;       /* PT_LOAD segments */
    uint64_t min_load_align; /* smallest PT_LOAD p_align above 1, as bionic reads it (0: none) */
    int android_api;         /* from .note.android.ident, -1 when absent */
    /* For the RELRO rule (sppack/libcheck.h): the PT_LOAD segments by address,
     * the PT_GNU_RELRO segments, and the allocated sections. */
    sp_elf_range *loads, *relros, *sections;
    size_t nloads, nrelros, nsections;
} sp_elf_info;

/* 1 when the bytes start with the ELF magic. */
int sp_elf_is_elf(const void *data, size_t size);
/* Sets libelf's working version, once for the process, from any thread:
 * what every user of libelf here calls before elf_memory. */
void sp_elf_init(void);

/* Fills info from an in-memory image; path only names the file in errors.
 * Returns -1 with SP_EINPUT for bytes that are not a readable ELF file.
 * The image must be writable (libelf may convert headers in place; sp_map
 * pages are private). sp_elf_info_release frees what it holds. */
int sp_elf_inspect(void *data, size_t size, const char *path, sp_elf_info *info, sp_error *err);
void sp_elf_info_release(sp_elf_info *info);

/* 1 when the image defines PyInit_<name>. */
int sp_elf_exports_pyinit(const sp_elf_info *info, const char *name);

#endif
