/* sp-pack ls: what is inside an APK, split, .apks, bundle or pack output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "sppack/abi.h"
#include "sppack/listing.h"
#include "sppack/text.h"

static const char ls_about[] =
    "Lists what an APK, split APK, .apks set, App Bundle or pack output directory\n"
    "holds for Python on Android: native libraries per ABI with their data\n"
    "offsets, the alignment of that offset and of their ELF segments (p_align),\n"
    "methods and sizes; the Python zips with their size, method and marker count;\n"
    "per ABI its libraries and whether 16 KB page devices load them all (every\n"
    "PT_LOAD 16 KB-aligned, RELRO as such devices need it); and the size report:\n"
    "per ABI the install size (every entry that is not another ABI's library or\n"
    "overlay zip, as stored) and the download estimate (each stored entry deflated\n"
    "at level 9, a compressed one at its compressed size, summed), and the largest\n"
    "top-level packages of the Python zips with their modules' libraries.\n";

static const sp_cli_option ls_options[] = {
    {"json", 0, SP_CLI_FLAG, NULL, "one JSON document on stdout", SP_CFG_NONE, 0, 0},
    {0},
};

const sp_cli_command cmd_ls_spec = {"ls",
                                    "[--json] PATH",
                                    ls_about,
                                    ls_options,
                                    1,
                                    1,
                                    "give one APK, .apks, .aab, zip or directory",
                                    NULL};

static void print_text(const sp_listing *l)
{
    char sz[32], a[32];
    printf("%-14s %10s  %5s  %7s  %-7s %10s  %s\n", "  ABI", "offset", "align", "p_align", "method",
           "size", "entry");
    for (size_t i = 0; i < l->zips.n; i++) {
        const sp_listed_zip *z = &l->zips.v[i];
        char offset[32] = "-", markers[32] = "?";
        if (z->in_archive)
            snprintf(offset, sizeof offset, "%llu", (unsigned long long)z->offset);
        if (z->markers >= 0)
            snprintf(markers, sizeof markers, "%ld", z->markers);
        char *entry = sp_escape(z->entry); /* names come from the archive */
        printf("  %-12s %10s  %5s  %7s  %-7s %10s  %s  (%s markers)\n", "python", offset, "", "",
               !z->in_archive ? "file"
               : z->method    ? "deflate"
                              : "stored",
               sp_cli_size((double)z->size, sz), entry, markers);
        free(entry);
    }
    for (size_t i = 0; i < l->libs.n; i++) {
        const sp_listed_lib *x = &l->libs.v[i];
        char offset[32] = "-", align[16] = "-", p_align[32] = "?";
        if (x->in_archive) {
            snprintf(offset, sizeof offset, "%llu", (unsigned long long)x->offset);
            snprintf(align, sizeof align, "%u", x->align);
        }
        if (x->elf)
            snprintf(p_align, sizeof p_align, "%llu", (unsigned long long)x->p_align);
        char *abi = sp_escape(l->abis[x->abi]), *entry = sp_escape(x->entry);
        printf("  %-12s %10s  %5s  %7s  %-7s %10s  %s%s\n", abi, offset, align, p_align,
               !x->in_archive ? "file"
               : x->method    ? "deflate"
                              : "stored",
               sp_cli_size((double)x->size, sz), entry,
               x->not_16k ? "  (not for 16 KB devices)" : "");
        SP_FREE_ALL(abi, entry);
    }
    printf("per ABI (libraries as stored; shared entries: %s):\n",
           sp_cli_size((double)l->common_bytes, a));
    for (int i = 0; i < l->nabis; i++) {
        char verdict[64], *name = sp_escape(l->abis[i]);
        printf("  %-12s %4zu libraries %10s   16 KB devices: %s\n", name, l->nlibs[i],
               sp_cli_size((double)l->lib_bytes[i], a), sp_cli_verdict_16k(l->not_16k[i], verdict));
        free(name);
    }
    const char *names[SP_MAX_ABIS];
    sp_listing_abi_names(l, names);
    sp_cli_print_size(names, l->nabis, l->install, l->download, l->packages, l->npackages);
}

int cmd_ls(const sp_cli_values *v)
{
    const char *path = v->args.v[0];
    sp_listing l;
    sp_error err;
    sp_error_init(&err);
    if (sp_listing_read(path, &l, &err) != 0) {
        sp_listing_release(&l);
        return sp_cli_error(err.status, "%s", err.msg);
    }
    if (sp_cli_flag(&cmd_ls_spec, v, "json")) {
        char *text = sp_listing_json(&l, path);
        printf("%s\n", text);
        free(text);
    } else {
        print_text(&l);
    }
    sp_listing_release(&l);
    return SP_OK;
}
