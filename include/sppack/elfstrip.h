/* Stripping a shared library in memory (pack --strip), with libelf.
 *
 * What goes: debug sections (names starting ".debug" or ".zdebug"), the
 * static symbol table (SHT_SYMTAB), the string table and section index
 * table only it uses, and relocations that apply to removed sections;
 * allocated sections never go. What stays, byte for byte at the same file
 * offsets: the ELF and program headers and everything up to the end of the
 * last segment (load segments, .dynsym, .dynstr, .dynamic, notes, RELRO,
 * and the segment alignment that follows from their offsets), and the
 * section index of every allocated section (.dynsym's st_shndx stays right).
 * Other kept sections (.comment, .gnu_debuglink, attributes) are moved down
 * to close the gaps, in their order; the section name table is rebuilt with
 * the names that remain; the section header table goes last. The output
 * depends on the input bytes only. */
#ifndef SPPACK_ELFSTRIP_H
#define SPPACK_ELFSTRIP_H

#include <stddef.h>

#include "sppack/error.h"

/* Strips the image data (not changed; any alignment). Returns 1 with *out
 * (the caller frees it) and *out_size set, 0 when there is nothing to
 * remove (*out NULL), or -1 with SP_EINPUT naming path for an image it
 * cannot strip safely (malformed or truncated headers, more sections than
 * the ELF header can count). Safe to call from several threads. */
int sp_elf_strip(const unsigned char *data, size_t size, const char *path, unsigned char **out,
                 size_t *out_size, sp_error *err);

#endif
