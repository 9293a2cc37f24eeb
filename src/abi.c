#include "sppack/abi.h"

#include <stdio.h>
#include <string.h>

static const sp_abi abis[] = {
    {"arm64-v8a", 64, 183, "AArch64"},
    {"armeabi-v7a", 32, 40, "ARM"},
    {"x86", 32, 3, "x86"},
    {"x86_64", 64, 62, "x86-64"},
    {"riscv64", 64, 243, "RISC-V"},
};

const sp_abi *sp_abi_find(const char *name)
{
    for (size_t i = 0; i < sizeof abis / sizeof abis[0]; i++)
        if (strcmp(abis[i].name, name) == 0)
            return &abis[i];
    return NULL;
}

const sp_abi *sp_abi_for_elf(int elf_class, int elf_machine)
{
    for (size_t i = 0; i < sizeof abis / sizeof abis[0]; i++)
        if (abis[i].elf_class == elf_class && abis[i].elf_machine == elf_machine)
            return &abis[i];
    return NULL;
}

const char *sp_abi_machine_name(int elf_machine)
{
    for (size_t i = 0; i < sizeof abis / sizeof abis[0]; i++)
        if (abis[i].elf_machine == elf_machine)
            return abis[i].machine;
    static char buf[32];
    snprintf(buf, sizeof buf, "machine %d", elf_machine);
    return buf;
}

const char *sp_abi_list(void)
{
    return "arm64-v8a, armeabi-v7a, x86, x86_64, riscv64";
}
