/* Stripping a shared library in memory (pack --strip), with libelf.
 *
 * What goes: debug sections (SHT_PROGBITS or SHT_NOBITS named ".debug*" or
 * ".zdebug*"), the static symbol table (SHT_SYMTAB), the string table and
 * section index table only it uses, and relocations that apply to removed
 * sections. What never goes: allocated sections, the section name table,
 * and anything a kept section refers to (sh_link, sh_info). What stays byte
 * for byte at the same file offsets: the ELF header but for e_shoff,
 * e_shnum and e_shstrndx; the program headers and everything up to the end
 * of the last segment or allocated section (load segments, .dynsym,
 * .dynstr, .dynamic, notes, RELRO, and the segment alignment that follows
 * from their offsets); and the section index of every section up to the
 * last allocated one (.dynsym's st_shndx stays right; a removed section
 * there becomes an empty SHT_NULL entry). Other kept sections (.comment,
 * .gnu_debuglink, attributes) move down to close the gaps, in their order;
 * the section name table is rebuilt with the names that remain (kept as it
 * is when another section uses its strings); the section header table goes
 * last. The output depends on the input bytes only. */
#ifndef SPPACK_ELFSTRIP_H
#define SPPACK_ELFSTRIP_H

#include <stddef.h>

#include "sppack/error.h"

/* Strips the image data (not changed; any alignment). Returns 1 with *out
 * (the caller frees it) and *out_size set, 0 when there is nothing to
 * remove (*out NULL), or -1 with SP_EINPUT naming path for an image it
 * cannot strip safely (malformed or truncated headers, more sections than
 * the ELF header can count, program headers or a section inside the ELF
 * header, a section name table that is no plain string table). Safe to
 * call from several threads; tests/fuzz/fuzz_elfstrip.c holds it to that
 * contract on any bytes. */
int sp_elf_strip(const unsigned char *data, size_t size, const char *path, unsigned char **out,
                 size_t *out_size, sp_error *err);

#endif
