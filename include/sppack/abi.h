/* Android ABIs and the ELF identity each requires (DESIGN §6). */
#ifndef SPPACK_ABI_H
#define SPPACK_ABI_H

typedef struct sp_abi {
    const char *name;     /* "arm64-v8a" */
    int elf_class;        /* 32 or 64 */
    int elf_machine;      /* e_machine */
    const char *machine;  /* human name of e_machine */
} sp_abi;

/* The ABI with this directory name, or NULL. */
const sp_abi *sp_abi_find(const char *name);
/* The ABI whose ELF class and machine these are, or NULL. */
const sp_abi *sp_abi_for_elf(int elf_class, int elf_machine);
/* Human name for an e_machine value ("AArch64", "machine 21"). Static or
 * thread-unsafe buffer: use before the next call. */
const char *sp_abi_machine_name(int elf_machine);
/* "arm64-v8a, armeabi-v7a, x86, x86_64, riscv64" */
const char *sp_abi_list(void);

#endif
