#include "sppack/abi.h"

#include <stdio.h>
#include <string.h>

/* bundletool's AbiAlias values are from its targeting.proto. */
static const sp_abi abis[] = {
    {"arm64-v8a", 64, 183, "AArch64", 3, 1, {"aarch64-linux-android", "aarch64-linux-gnu"}},
    {"armeabi-v7a",
     32,
     40,
     "ARM",
     2,
     1,
     {"arm-linux-androideabi", "arm-linux-gnueabihf", "arm-linux-gnueabi"}},
    {"x86", 32, 3, "x86", 4, 1, {"i686-linux-android", "i386-linux-gnu"}},
    {"x86_64", 64, 62, "x86-64", 5, 1, {"x86_64-linux-android", "x86_64-linux-gnu"}},
    {"riscv64", 64, 243, "RISC-V", 8, 1, {"riscv64-linux-android", "riscv64-linux-gnu"}},
    {"armeabi", 32, 40, "ARM", 1, 0, {NULL}},
    {"mips", 32, 8, "MIPS", 6, 0, {NULL}},
    {"mips64", 64, 8, "MIPS", 7, 0, {NULL}},
};
#define NABIS (sizeof abis / sizeof abis[0])

const sp_abi *sp_abi_known(const char *name)
{
    for (size_t i = 0; i < NABIS; i++)
        if (strcmp(abis[i].name, name) == 0)
            return &abis[i];
    return NULL;
}

int sp_abi_index(const sp_abi *const *list, int n, const sp_abi *abi)
{
    for (int i = 0; i < n; i++)
        if (list[i] == abi)
            return i;
    return -1;
}

const sp_abi *sp_abi_findn(const char *name, size_t n)
{
    for (size_t i = 0; i < NABIS; i++)
        if (abis[i].supported && strlen(abis[i].name) == n && memcmp(abis[i].name, name, n) == 0)
            return &abis[i];
    return NULL;
}

const sp_abi *sp_abi_find(const char *name)
{
    return sp_abi_findn(name, strlen(name));
}

int sp_abi_has_triplet(const sp_abi *abi, const char *triplet)
{
    for (const char *const *t = abi->triplets; *t; t++)
        if (!strcmp(*t, triplet))
            return 1;
    return 0;
}

const sp_abi *sp_abi_for_elf(int elf_class, int elf_machine)
{
    for (size_t i = 0; i < NABIS; i++)
        if (abis[i].supported && abis[i].elf_class == elf_class &&
            abis[i].elf_machine == elf_machine)
            return &abis[i];
    return NULL;
}

const char *sp_abi_machine_name(int elf_machine, char buf[32])
{
    for (size_t i = 0; i < NABIS; i++)
        if (abis[i].elf_machine == elf_machine)
            return abis[i].machine;
    snprintf(buf, 32, "machine %d", elf_machine);
    return buf;
}

const char *sp_abi_list(void)
{
    return "arm64-v8a, armeabi-v7a, x86, x86_64, riscv64";
}

int sp_lib_path_parse(const char *path, const char *prefix, sp_lib_path *out)
{
    size_t p = strlen(prefix);
    if (strncmp(path, prefix, p) != 0)
        return 0;
    const char *abi = path + p, *slash = strchr(abi, '/');
    if (!slash || slash == abi)
        return 0;
    out->abi = abi;
    out->abi_len = (size_t)(slash - abi);
    out->name = slash + 1;
    return 1;
}

int sp_is_native_lib_entry(const char *name)
{
    sp_lib_path lp;
    if (!sp_lib_path_parse(name, "lib/", &lp) && !sp_lib_path_parse(name, "base/lib/", &lp))
        return 0;
    size_t n = strlen(lp.name);
    return n > 3 && strcmp(lp.name + n - 3, ".so") == 0;
}
