#include "sppack/elfinspect.h"

#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/vec.h"

int sp_elf_is_elf(const void *data, size_t size)
{
    return size >= 4 && memcmp(data, ELFMAG, SELFMAG) == 0;
}

static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;

static void init_libelf(void)
{
    elf_version(EV_CURRENT);
}

void sp_elf_init(void)
{
    pthread_once(&libelf_once, init_libelf);
}

static void info_init(sp_elf_info *info)
{
    memset(info, 0, sizeof *info);
    sp_strv_init(&info->needed);
    sp_strv_init(&info->pyinit);
    info->android_api = -1;
}

void sp_elf_info_release(sp_elf_info *info)
{
    sp_strv_release(&info->needed);
    sp_strv_release(&info->pyinit);
    SP_FREE_ALL(info->soname, info->loads, info->relros, info->sections);
    info->soname = NULL;
    info->loads = info->relros = info->sections = NULL;
    info->nloads = info->nrelros = info->nsections = 0;
}

static void add_range(sp_elf_range **v, size_t *n, uint64_t addr, uint64_t size)
{
    *v = sp_xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = (sp_elf_range){addr, size};
}

static int cmp_range(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const sp_elf_range *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* A table section's data and how many entries it holds (0 when none). */
static size_t table(Elf_Scn *scn, const GElf_Shdr *sh, Elf_Data **d)
{
    *d = elf_getdata(scn, NULL);
    return *d && sh->sh_entsize ? (*d)->d_size / sh->sh_entsize : 0;
}

static void read_dynamic(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, sp_elf_info *info)
{
    Elf_Data *d;
    size_t count = table(scn, sh, &d);
    for (size_t i = 0; i < count; i++) {
        GElf_Dyn dyn;
        if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
            break;
        const char *s;
        switch (dyn.d_tag) {
        case DT_NEEDED:
            s = elf_strptr(elf, sh->sh_link, dyn.d_un.d_val);
            if (s)
                sp_strv_push(&info->needed, s);
            break;
        case DT_SONAME:
            s = elf_strptr(elf, sh->sh_link, dyn.d_un.d_val);
            if (s && !info->soname)
                info->soname = sp_xstrdup(s);
            break;
        case DT_TEXTREL:
            info->has_textrel = 1;
            break;
        case DT_FLAGS:
            if (dyn.d_un.d_val & DF_TEXTREL)
                info->has_textrel = 1;
            break;
        default:
            break;
        }
    }
}

static void read_dynsym(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, sp_elf_info *info)
{
    Elf_Data *d;
    size_t count = table(scn, sh, &d);
    for (size_t i = 1; i < count; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(d, (int)i, &sym))
            break;
        if (sym.st_shndx == SHN_UNDEF)
            continue;
        int bind = GELF_ST_BIND(sym.st_info);
        if (bind != STB_GLOBAL && bind != STB_WEAK)
            continue;
        const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
        if (name && strncmp(name, "PyInit_", 7) == 0)
            sp_strv_push(&info->pyinit, name);
    }
}

static void read_notes(Elf_Scn *scn, sp_elf_info *info)
{
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d)
        return;
    size_t off = 0, name_off, desc_off;
    GElf_Nhdr nh;
    while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
        const char *name = (const char *)d->d_buf + name_off;
        if (nh.n_type == 1 && nh.n_namesz == 8 && memcmp(name, "Android", 8) == 0 &&
            nh.n_descsz >= 4) {
            const unsigned char *desc = (const unsigned char *)d->d_buf + desc_off;
            info->android_api =
                (int)(desc[0] | desc[1] << 8 | desc[2] << 16 | (unsigned)desc[3] << 24);
        }
    }
}

int sp_elf_inspect(void *data, size_t size, const char *path, sp_elf_info *info, sp_error *err)
{
    info_init(info);
    if (!sp_elf_is_elf(data, size))
        return sp_error_set(err, SP_EINPUT, path, "not an ELF file");
    if (size < EI_NIDENT)
        return sp_error_set(err, SP_EINPUT, path, "truncated ELF file");
    const unsigned char *ident = data;
    info->elf_class = ident[EI_CLASS] == ELFCLASS64 ? 64 : ident[EI_CLASS] == ELFCLASS32 ? 32 : 0;
    info->little_endian = ident[EI_DATA] == ELFDATA2LSB;
    if (!info->elf_class)
        return sp_error_set(err, SP_EINPUT, path, "unknown ELF class %d", ident[EI_CLASS]);
    if (!info->little_endian)
        return sp_error_set(err, SP_EINPUT, path, "ELF file is not little-endian");

    sp_elf_init(); /* the loader inspects on several threads */
    Elf *elf = elf_memory(data, size);
    if (!elf)
        return sp_error_set(err, SP_EINPUT, path, "unreadable ELF file: %s", elf_errmsg(-1));
    int rc = 0;
    GElf_Ehdr eh;
    if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
        rc = sp_error_set(err, SP_EINPUT, path, "truncated or corrupt ELF header");
        goto out;
    }
    info->type = eh.e_type;
    info->machine = eh.e_machine;

    /* Every byte the headers describe must be in the image: a truncated
     * file is refused here, not packed and found broken later. */
    uint64_t extent = 0;
    if (eh.e_phnum)
        extent = eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize;
    if (eh.e_shnum && eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize > extent)
        extent = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
    size_t phnum = 0;
    if (extent <= size && elf_getphdrnum(elf, &phnum) == 0) {
        if (phnum && eh.e_phoff + (uint64_t)phnum * eh.e_phentsize > extent)
            extent = eh.e_phoff + (uint64_t)phnum * eh.e_phentsize;
        for (size_t i = 0; i < phnum; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(elf, (int)i, &ph)) {
                extent = UINT64_MAX;
                break;
            }
            if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > extent)
                extent = ph.p_offset + ph.p_filesz;
            if (ph.p_type == PT_GNU_RELRO)
                add_range(&info->relros, &info->nrelros, ph.p_vaddr, ph.p_memsz);
            if (ph.p_type != PT_LOAD)
                continue;
            info->load_count++;
            add_range(&info->loads, &info->nloads, ph.p_vaddr, ph.p_memsz);
            /* bionic ignores an alignment of 0 or 1 ("no alignment"). */
            if (ph.p_align > 1 && (info->min_load_align == 0 || ph.p_align < info->min_load_align))
                info->min_load_align = ph.p_align;
            if ((ph.p_flags & PF_W) && (ph.p_flags & PF_X))
                info->has_wx_segment = 1;
        }
        sp_sort(info->loads, info->nloads, sizeof *info->loads, cmp_range, NULL);
    }

    size_t shnum = 0;
    if (extent <= size && elf_getshdrnum(elf, &shnum) == 0 && shnum > 0) {
        info->has_sections = 1;
        if (eh.e_shoff + (uint64_t)shnum * eh.e_shentsize > extent)
            extent = eh.e_shoff + (uint64_t)shnum * eh.e_shentsize;
    }
    if (extent > size) {
        rc = extent == UINT64_MAX
                 ? sp_error_set(err, SP_EINPUT, path, "truncated or corrupt program headers")
                 : sp_error_set(err, SP_EINPUT, path,
                                "truncated: its headers describe %llu bytes, the file holds %zu",
                                (unsigned long long)extent, size);
        goto out;
    }
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh)) {
            rc = sp_error_set(err, SP_EINPUT, path, "truncated or corrupt section headers");
            goto out;
        }
        if (sh.sh_type != SHT_NOBITS && sh.sh_offset + sh.sh_size > size) {
            rc = sp_error_set(err, SP_EINPUT, path,
                              "truncated: section %zu ends at byte %llu, the file holds %zu",
                              elf_ndxscn(scn), (unsigned long long)(sh.sh_offset + sh.sh_size),
                              size);
            goto out;
        }
        if ((sh.sh_flags & SHF_ALLOC) && sh.sh_size > 0)
            add_range(&info->sections, &info->nsections, sh.sh_addr, sh.sh_size);
        if (sh.sh_type == SHT_DYNAMIC)
            read_dynamic(elf, scn, &sh, info);
        else if (sh.sh_type == SHT_DYNSYM)
            read_dynsym(elf, scn, &sh, info);
        else if (sh.sh_type == SHT_NOTE)
            read_notes(scn, info);
    }
out:
    elf_end(elf);
    if (rc)
        sp_elf_info_release(info);
    return rc;
}

int sp_elf_exports_pyinit(const sp_elf_info *info, const char *name)
{
    for (size_t i = 0; i < info->pyinit.n; i++)
        if (strcmp(info->pyinit.v[i] + 7, name) == 0)
            return 1;
    return 0;
}
