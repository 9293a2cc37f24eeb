/* Android ABIs: the one table of what sp-pack knows of each, the ELF
 * identity its libraries must have, and bundletool's name for it. */
#ifndef SPPACK_ABI_H
#define SPPACK_ABI_H

#include <stddef.h>

/* Every ABI directory name Android has known: at most this many in one run. */
#define SP_MAX_ABIS 8

typedef struct sp_abi {
    const char *name;    /* "arm64-v8a": the lib/<abi>/ directory */
    int elf_class;       /* 32 or 64 */
    int elf_machine;     /* e_machine */
    const char *machine; /* human name of e_machine */
    int bundle_alias;    /* bundletool's AbiAlias value (targeting.proto) */
    int supported;       /* a current ABI sp-pack packs for; 0 for retired ones
                            (armeabi, mips, mips64) that only verify names */
    /* The platform tags of its extension modules' names: Android's, then
     * Debian's (glibc) builds', NULL-terminated. */
    const char *triplets[4];
} sp_abi;

/* The supported ABI with this directory name, or NULL. */
const sp_abi *sp_abi_find(const char *name);
/* The same for a name of n bytes (not NUL-terminated). */
const sp_abi *sp_abi_findn(const char *name, size_t n);
/* Any ABI Android has known by this name, retired ones included, or NULL. */
const sp_abi *sp_abi_known(const char *name);
/* 1 when the platform tag (the triplet of an extension module's name, such
 * as "aarch64-linux-android") is one of abi's. */
int sp_abi_has_triplet(const sp_abi *abi, const char *triplet);

/* The index of abi among list[0 .. n), or -1. */
int sp_abi_index(const sp_abi *const *list, int n, const sp_abi *abi);

/* The supported ABI whose ELF class and machine these are, or NULL. */
const sp_abi *sp_abi_for_elf(int elf_class, int elf_machine);
/* Human name for an e_machine value ("AArch64", "machine 21"); buf holds
 * the latter form. */
const char *sp_abi_machine_name(int elf_machine, char buf[32]);
/* "arm64-v8a, armeabi-v7a, x86, x86_64, riscv64" */
const char *sp_abi_list(void);

/* An entry path of the form PREFIX<abi>/<name> (PREFIX "lib/", "base/lib/",
 * or "" for a jniLibs/ tree), split: the ABI directory and what follows it
 * (a file name, a deeper path, or "" for the directory itself). */
typedef struct sp_lib_path {
    const char *abi; /* points into the path; abi_len bytes */
    size_t abi_len;
    const char *name; /* the rest after "<abi>/" */
} sp_lib_path;
/* 1 when path is PREFIX<abi>/... with a non-empty <abi>. */
int sp_lib_path_parse(const char *path, const char *prefix, sp_lib_path *out);
/* 1 for lib/<abi>/<name>.so (or base/lib/... in a bundle module): the
 * entries Android maps straight from the APK. */
int sp_is_native_lib_entry(const char *name);

#endif
