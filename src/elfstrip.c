/* pack --strip: see sppack/elfstrip.h. The image is read with libelf (on a
 * private copy: libelf may convert headers in place), the stripped file is
 * laid out here, and its new ELF header and section header table are
 * written through libelf's translation to the file's class and byte order. */
#include "sppack/elfstrip.h"

#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/elfinspect.h"
#include "sppack/vec.h"

struct section {
    GElf_Shdr sh;
    const char *name; /* in the scratch image; "" when it has none */
    int remove;
    int keep_index; /* removed, but its index stays, as an empty SHT_NULL entry */
    size_t index;   /* in the output; 0 for a dropped section */
    uint64_t offset;
    uint32_t name_off;
};

struct strip {
    const unsigned char *data;
    size_t size;
    Elf *elf;
    GElf_Ehdr eh;
    int elf_class;
    size_t shnum, shstrndx, phnum;
    struct section *secs;
    sp_buf names; /* the new section name table */
};

/* DWARF: data (or, in a split debug file, none) in a section named so;
 * a dynamic table or notes named like that stay. */
static int is_debug(const char *n, const GElf_Shdr *sh)
{
    return (sh->sh_type == SHT_PROGBITS || sh->sh_type == SHT_NOBITS) &&
           (!strncmp(n, ".debug", 6) || !strncmp(n, ".zdebug", 7));
}

static int has_content(const GElf_Shdr *sh)
{
    return sh->sh_type != SHT_NOBITS && sh->sh_size > 0;
}

/* Whether sh_info of a section of this type and flags names a section. */
static int info_is_section(const GElf_Shdr *sh)
{
    return sh->sh_type == SHT_REL || sh->sh_type == SHT_RELA || (sh->sh_flags & SHF_INFO_LINK);
}

/* Reads the headers, checking every range against the image. */
static int read_headers(struct strip *s, const char *path, sp_error *err)
{
    if (elf_kind(s->elf) != ELF_K_ELF || !gelf_getehdr(s->elf, &s->eh))
        return sp_error_set(err, SP_EINPUT, path, "cannot strip: not a readable ELF file");
    s->elf_class = gelf_getclass(s->elf);
    if (elf_getshdrnum(s->elf, &s->shnum) != 0 || elf_getshdrstrndx(s->elf, &s->shstrndx) != 0 ||
        elf_getphdrnum(s->elf, &s->phnum) != 0)
        return sp_error_set(err, SP_EINPUT, path, "cannot strip: corrupt ELF header (%s)",
                            elf_errmsg(-1));
    if (s->shnum >= SHN_LORESERVE || s->phnum >= PN_XNUM)
        return sp_error_set(err, SP_EINPUT, path,
                            "cannot strip: %zu sections, more than an ELF header counts "
                            "(hint: pack it without --strip)",
                            s->shnum);
    if (s->shnum && s->shstrndx >= s->shnum)
        return sp_error_set(err, SP_EINPUT, path, "cannot strip: no section name table");
    if (s->eh.e_shentsize != gelf_fsize(s->elf, ELF_T_SHDR, 1, EV_CURRENT) ||
        s->eh.e_ehsize != gelf_fsize(s->elf, ELF_T_EHDR, 1, EV_CURRENT) ||
        ((s->phnum || s->eh.e_phnum) &&
         s->eh.e_phentsize != gelf_fsize(s->elf, ELF_T_PHDR, 1, EV_CURRENT)))
        return sp_error_set(err, SP_EINPUT, path, "cannot strip: unusual ELF header sizes");
    s->secs = sp_xcalloc(s->shnum ? s->shnum : 1, sizeof *s->secs);
    for (size_t i = 0; i < s->shnum; i++) {
        struct section *x = &s->secs[i];
        Elf_Scn *scn = elf_getscn(s->elf, i);
        if (!scn || !gelf_getshdr(scn, &x->sh))
            return sp_error_set(err, SP_EINPUT, path, "cannot strip: corrupt section header %zu",
                                i);
        if (has_content(&x->sh) &&
            (x->sh.sh_offset > s->size || x->sh.sh_size > s->size - x->sh.sh_offset))
            return sp_error_set(err, SP_EINPUT, path,
                                "cannot strip: section %zu lies beyond the end of the file", i);
        const char *n = i ? elf_strptr(s->elf, s->shstrndx, x->sh.sh_name) : NULL;
        x->name = n ? n : "";
    }
    /* The name table is rebuilt and moved: it must be one no loader reads. */
    const GElf_Shdr *names =
        s->shstrndx && s->shstrndx < s->shnum ? &s->secs[s->shstrndx].sh : NULL;
    if (names && (names->sh_type != SHT_STRTAB || (names->sh_flags & SHF_ALLOC)))
        return sp_error_set(err, SP_EINPUT, path,
                            "cannot strip: the section name table is not a plain string table");
    return 0;
}

/* Marks what goes: debug sections and static symbol tables, then what only
 * they use (their string tables, index tables, relocations). */
static int mark(struct strip *s)
{
    int any = 0;
    for (size_t i = 1; i < s->shnum; i++) {
        struct section *x = &s->secs[i];
        /* (An SHT_NULL entry, such as one this leaves in place, holds nothing.) */
        if ((x->sh.sh_flags & SHF_ALLOC) || i == s->shstrndx || x->sh.sh_type == SHT_NULL)
            continue;
        if (is_debug(x->name, &x->sh) || x->sh.sh_type == SHT_SYMTAB)
            any = x->remove = 1;
    }
    if (!any)
        return 0;
    /* Tables that serve removed sections go with them (one pass suffices:
     * a relocation section names its symbol table and its target, both
     * marked above). */
    for (size_t i = 1; i < s->shnum; i++) {
        struct section *x = &s->secs[i];
        if (x->remove || (x->sh.sh_flags & SHF_ALLOC) || i == s->shstrndx)
            continue;
        size_t link = x->sh.sh_link, info = x->sh.sh_info;
        int link_gone = link && link < s->shnum && s->secs[link].remove;
        int info_gone = info_is_section(&x->sh) && info && info < s->shnum && s->secs[info].remove;
        if ((x->sh.sh_type == SHT_SYMTAB_SHNDX && link_gone) ||
            ((x->sh.sh_type == SHT_REL || x->sh.sh_type == SHT_RELA) && (link_gone || info_gone)))
            x->remove = 1;
    }
    /* A string table goes when every section linking to it goes. */
    for (size_t t = 1; t < s->shnum; t++) {
        struct section *x = &s->secs[t];
        if (x->remove || x->sh.sh_type != SHT_STRTAB || (x->sh.sh_flags & SHF_ALLOC) ||
            t == s->shstrndx)
            continue;
        int users = 0, kept_users = 0;
        for (size_t i = 1; i < s->shnum; i++)
            if (s->secs[i].sh.sh_link == t) {
                users++;
                kept_users += !s->secs[i].remove;
            }
        if (users && !kept_users)
            x->remove = 1;
    }
    /* Then what a kept section refers to stays (a .dynamic whose strings sit
     * in a section named like a debug one, say), and what that refers to. */
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 1; i < s->shnum; i++) {
            const struct section *x = &s->secs[i];
            if (x->remove)
                continue;
            size_t refs[2] = {x->sh.sh_link, info_is_section(&x->sh) ? x->sh.sh_info : 0};
            for (int k = 0; k < 2; k++)
                if (refs[k] && refs[k] < s->shnum && s->secs[refs[k]].remove) {
                    s->secs[refs[k]].remove = 0;
                    changed = 1;
                }
        }
    }
    any = 0;
    for (size_t i = 1; i < s->shnum; i++)
        any |= s->secs[i].remove;
    return any;
}

/* Output indices: every section up to the last allocated one keeps its
 * index (removed ones there stay as empty entries), later removed ones
 * are dropped. */
static size_t number(struct strip *s)
{
    size_t last_alloc = 0;
    for (size_t i = 0; i < s->shnum; i++)
        if (s->secs[i].sh.sh_flags & SHF_ALLOC)
            last_alloc = i;
    size_t n = 0;
    for (size_t i = 0; i < s->shnum; i++) {
        struct section *x = &s->secs[i];
        if (x->remove && i > last_alloc)
            continue;
        x->keep_index = x->remove;
        x->index = n++;
    }
    return n;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return a > 1 ? (v + a - 1) / a * a : v;
}

/* A non-allocated section's alignment in the file: its own, up to 64 (no
 * loader reads these sections; a bound keeps hostile alignments from
 * blowing the output up); a nonsense value: none. */
static uint64_t file_align(const GElf_Shdr *sh)
{
    uint64_t a = sh->sh_addralign;
    if (a <= 1 || (a & (a - 1)) != 0)
        return 1;
    return a < 64 ? a : 64;
}

static int cmp_offset(const void *a, const void *b, void *ctx)
{
    const struct strip *s = ctx;
    uint64_t x = s->secs[*(const size_t *)a].sh.sh_offset,
             y = s->secs[*(const size_t *)b].sh.sh_offset;
    return x < y ? -1 : x > y;
}

/* The end of what is kept in place: the headers and every segment's bytes,
 * and any kept section that starts before that end. */
static int prefix_end(struct strip *s, const char *path, uint64_t *end, sp_error *err)
{
    uint64_t p = s->eh.e_ehsize;
    /* The table the header describes, even where libelf sees none (at offset 0). */
    size_t phnum = s->phnum > s->eh.e_phnum ? s->phnum : s->eh.e_phnum;
    uint64_t ph_end = s->eh.e_phoff + (uint64_t)phnum * s->eh.e_phentsize;
    if (s->eh.e_phoff > s->size || ph_end > s->size)
        return sp_error_set(err, SP_EINPUT, path, "cannot strip: truncated program headers");
    /* The ELF header is rewritten: program headers inside it would change. */
    if (phnum && s->eh.e_phoff < s->eh.e_ehsize)
        return sp_error_set(err, SP_EINPUT, path,
                            "cannot strip: program headers overlap the ELF header");
    p = ph_end > p ? ph_end : p; /* even an empty table's offset stays inside the file */
    /* Allocated sections stay where they are, in a segment or not. */
    for (size_t i = 1; i < s->shnum; i++) {
        const GElf_Shdr *sh = &s->secs[i].sh;
        if (!s->secs[i].remove && has_content(sh) && sh->sh_offset < s->eh.e_ehsize)
            return sp_error_set(err, SP_EINPUT, path,
                                "cannot strip: section %zu overlaps the ELF header", i);
        if ((sh->sh_flags & SHF_ALLOC) && has_content(sh) && sh->sh_offset + sh->sh_size > p)
            p = sh->sh_offset + sh->sh_size;
    }
    for (size_t i = 0; i < s->phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(s->elf, (int)i, &ph))
            return sp_error_set(err, SP_EINPUT, path, "cannot strip: corrupt program header %zu",
                                i);
        if (ph.p_offset > s->size || ph.p_filesz > s->size - ph.p_offset)
            return sp_error_set(err, SP_EINPUT, path,
                                "cannot strip: segment %zu lies beyond the end of the file", i);
        if (ph.p_offset + ph.p_filesz > p)
            p = ph.p_offset + ph.p_filesz;
    }
    *end = p;
    return 0;
}

/* Places the kept sections: those starting inside the prefix stay, the
 * others follow it in their order, the rebuilt name table among them.
 * Returns where the section header table goes. */
static uint64_t place(struct strip *s, uint64_t *prefix)
{
    size_t *order = sp_xcalloc(s->shnum ? s->shnum : 1, sizeof *order), n = 0;
    for (size_t i = 1; i < s->shnum; i++)
        if (!s->secs[i].remove)
            order[n++] = i;
    sp_sort(order, n, sizeof *order, cmp_offset, s);
    /* The name table changes: it always moves, as the last of those beside it. */
    for (size_t k = 0; k < n; k++) {
        const struct section *x = &s->secs[order[k]];
        if (order[k] != s->shstrndx && has_content(&x->sh) && x->sh.sh_offset < *prefix &&
            x->sh.sh_offset + x->sh.sh_size > *prefix)
            *prefix = x->sh.sh_offset + x->sh.sh_size;
    }
    uint64_t cursor = *prefix;
    for (size_t k = 0; k < n; k++) {
        struct section *x = &s->secs[order[k]];
        int names = order[k] == s->shstrndx;
        if (!names && x->sh.sh_offset < *prefix) {
            x->offset = x->sh.sh_offset;
            continue;
        }
        if (!names && !has_content(&x->sh)) { /* no bytes in the file (NOBITS, empty) */
            x->offset = x->sh.sh_offset < cursor ? x->sh.sh_offset : cursor;
            continue;
        }
        uint64_t size = names ? s->names.len : x->sh.sh_size;
        cursor = align_up(cursor, file_align(&x->sh));
        x->offset = cursor;
        cursor += size;
    }
    free(order);
    return align_up(cursor, s->elf_class == ELFCLASS64 ? 8 : 4);
}

static int overlaps(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    return a < d && c < b;
}

/* Removed bytes left inside the prefix (between segments) become zeros,
 * unless the ELF or program headers, a segment or a kept section hold them. */
static void clear_removed(const struct strip *s, unsigned char *img, uint64_t prefix)
{
    for (size_t i = 1; i < s->shnum; i++) {
        const struct section *x = &s->secs[i];
        int old_names = i == s->shstrndx;
        if ((!x->remove && !old_names) || !has_content(&x->sh) || x->sh.sh_offset >= prefix)
            continue;
        uint64_t a = x->sh.sh_offset, b = a + x->sh.sh_size;
        b = b > prefix ? prefix : b;
        size_t phnum = s->phnum > s->eh.e_phnum ? s->phnum : s->eh.e_phnum;
        int held =
            a < s->eh.e_ehsize ||
            overlaps(a, b, s->eh.e_phoff, s->eh.e_phoff + (uint64_t)phnum * s->eh.e_phentsize);
        for (size_t k = 0; k < s->phnum && !held; k++) {
            GElf_Phdr ph;
            held = gelf_getphdr(s->elf, (int)k, &ph) &&
                   overlaps(a, b, ph.p_offset, ph.p_offset + ph.p_filesz);
        }
        for (size_t k = 1; k < s->shnum && !held; k++) {
            const struct section *y = &s->secs[k];
            held = k != i && !y->remove && k != s->shstrndx && has_content(&y->sh) &&
                   overlaps(a, b, y->sh.sh_offset, y->sh.sh_offset + y->sh.sh_size);
        }
        if (!held)
            memset(img + a, 0, (size_t)(b - a));
    }
}

static size_t remap(const struct strip *s, size_t i)
{
    if (i == 0 || i >= s->shnum)
        return i;
    return s->secs[i].index; /* 0 (SHN_UNDEF) for a dropped section */
}

/* Converts count section headers (shdrs) and the ELF header (ehdr), both
 * in the in-memory form of the file's class, to the file's byte order at
 * img + shoff and img: 1, or 0 when libelf cannot. */
static int put_headers(const struct strip *s, unsigned char *img, uint64_t shoff, void *shdrs,
                       size_t count, void *ehdr)
{
    int is64 = s->elf_class == ELFCLASS64;
    unsigned encoding = s->eh.e_ident[EI_DATA];
    Elf_Data src = {0}, dst = {0};
    src.d_version = dst.d_version = EV_CURRENT;
    src.d_type = ELF_T_SHDR;
    src.d_buf = shdrs;
    src.d_size = count * (is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr));
    dst.d_buf = img + shoff;
    dst.d_size = count * s->eh.e_shentsize;
    if (!gelf_xlatetof(s->elf, &dst, &src, encoding))
        return 0;
    src.d_type = ELF_T_EHDR;
    src.d_buf = ehdr;
    src.d_size = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    dst.d_buf = img;
    dst.d_size = s->eh.e_ehsize;
    return gelf_xlatetof(s->elf, &dst, &src, encoding) != NULL;
}

/* The section header table, and the ELF header pointing to it, through
 * libelf's translation. 0, or -1 when libelf refuses. */
static int write_headers(struct strip *s, unsigned char *img, uint64_t shoff, size_t count)
{
    GElf_Shdr *out = sp_xcalloc(count, sizeof *out);
    for (size_t i = 0; i < s->shnum; i++) {
        const struct section *x = &s->secs[i];
        if (i && !x->index)
            continue;
        GElf_Shdr sh = x->sh;
        if (x->keep_index) {
            memset(&sh, 0, sizeof sh);
        } else if (i == 0) {
            sh.sh_size = 0; /* the extended counts are not used */
            sh.sh_link = 0;
        } else {
            sh.sh_name = x->name_off;
            sh.sh_offset = x->offset;
            if (i == s->shstrndx)
                sh.sh_size = s->names.len;
            sh.sh_link = (GElf_Word)remap(s, sh.sh_link);
            if (info_is_section(&sh))
                sh.sh_info = (GElf_Word)remap(s, sh.sh_info);
        }
        out[x->index] = sh;
    }
    GElf_Ehdr eh = s->eh;
    eh.e_shoff = shoff;
    eh.e_shnum = (GElf_Half)count;
    eh.e_shstrndx = (GElf_Half)s->secs[s->shstrndx].index;
    int ok;
    if (s->elf_class == ELFCLASS64) {
        /* GElf_Shdr is Elf64_Shdr, GElf_Ehdr Elf64_Ehdr. */
        ok = put_headers(s, img, shoff, out, count, &eh);
    } else {
        Elf32_Shdr *o32 = sp_xcalloc(count, sizeof *o32);
        for (size_t i = 0; i < count; i++)
            o32[i] = (Elf32_Shdr){out[i].sh_name,
                                  out[i].sh_type,
                                  (Elf32_Word)out[i].sh_flags,
                                  (Elf32_Addr)out[i].sh_addr,
                                  (Elf32_Off)out[i].sh_offset,
                                  (Elf32_Word)out[i].sh_size,
                                  out[i].sh_link,
                                  out[i].sh_info,
                                  (Elf32_Word)out[i].sh_addralign,
                                  (Elf32_Word)out[i].sh_entsize};
        Elf32_Ehdr e32;
        memcpy(e32.e_ident, eh.e_ident, EI_NIDENT);
        e32.e_type = eh.e_type;
        e32.e_machine = eh.e_machine;
        e32.e_version = (Elf32_Word)eh.e_version;
        e32.e_entry = (Elf32_Addr)eh.e_entry;
        e32.e_phoff = (Elf32_Off)eh.e_phoff;
        e32.e_shoff = (Elf32_Off)eh.e_shoff;
        e32.e_flags = eh.e_flags;
        e32.e_ehsize = eh.e_ehsize;
        e32.e_phentsize = eh.e_phentsize;
        e32.e_phnum = eh.e_phnum;
        e32.e_shentsize = eh.e_shentsize;
        e32.e_shnum = eh.e_shnum;
        e32.e_shstrndx = eh.e_shstrndx;
        ok = put_headers(s, img, shoff, o32, count, &e32);
        free(o32);
    }
    free(out);
    return ok ? 0 : -1;
}

/* The new name table: "" first, then each named kept section's name (or
 * the table as it was, when a kept section other than itself links to it). */
static void build_names(struct strip *s)
{
    const GElf_Shdr *own = &s->secs[s->shstrndx].sh;
    for (size_t i = 1; s->shstrndx && i < s->shnum; i++) {
        if (s->secs[i].remove || i == s->shstrndx || s->secs[i].sh.sh_link != s->shstrndx)
            continue;
        /* Another kept section reads its strings there: kept as it is. */
        if (has_content(own))
            sp_buf_add(&s->names, s->data + own->sh_offset, (size_t)own->sh_size);
        for (size_t k = 1; k < s->shnum; k++)
            s->secs[k].name_off = (uint32_t)s->secs[k].sh.sh_name;
        return;
    }
    sp_buf_add(&s->names, "", 1);
    for (size_t i = 1; i < s->shnum; i++) {
        struct section *x = &s->secs[i];
        if (x->remove || !*x->name)
            continue;
        x->name_off = (uint32_t)s->names.len;
        sp_buf_add(&s->names, x->name, strlen(x->name) + 1);
    }
}

int sp_elf_strip(const unsigned char *data, size_t size, const char *path, unsigned char **out,
                 size_t *out_size, sp_error *err)
{
    *out = NULL;
    *out_size = 0;
    if (size < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG) != 0)
        return sp_error_set(err, SP_EINPUT, path, "cannot strip: not an ELF file");
    sp_elf_init();
    unsigned char *scratch = memcpy(sp_xmalloc(size), data, size);
    struct strip s;
    memset(&s, 0, sizeof s);
    s.data = data;
    s.size = size;
    sp_buf_init(&s.names);
    s.elf = elf_memory((char *)scratch, size);
    int rc = 0;
    uint64_t prefix = 0;
    if (!s.elf)
        rc = sp_error_set(err, SP_EINPUT, path, "cannot strip: %s", elf_errmsg(-1));
    if (rc == 0)
        rc = read_headers(&s, path, err);
    if (rc == 0 && s.shnum && mark(&s)) {
        rc = prefix_end(&s, path, &prefix, err);
        if (rc == 0) {
            size_t count = number(&s);
            build_names(&s);
            uint64_t shoff = place(&s, &prefix);
            uint64_t total = shoff + (uint64_t)count * s.eh.e_shentsize;
            unsigned char *img = sp_xcalloc((size_t)total, 1);
            memcpy(img, data, (size_t)prefix);
            clear_removed(&s, img, prefix);
            for (size_t i = 1; i < s.shnum; i++) {
                const struct section *x = &s.secs[i];
                if (i == s.shstrndx && s.names.len)
                    memcpy(img + x->offset, s.names.data, s.names.len);
                else if (!x->remove && has_content(&x->sh) && x->offset >= prefix)
                    memcpy(img + x->offset, data + x->sh.sh_offset, (size_t)x->sh.sh_size);
            }
            if (write_headers(&s, img, shoff, count) != 0) {
                free(img);
                rc = sp_error_set(err, SP_EINPUT, path, "cannot strip: %s", elf_errmsg(-1));
            } else {
                *out = img;
                *out_size = (size_t)total;
                rc = 1;
            }
        }
    }
    elf_end(s.elf);
    free(s.secs);
    sp_buf_release(&s.names);
    free(scratch);
    return rc;
}
