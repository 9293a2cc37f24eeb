#include "sppack/report.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/text.h"

#define E SP_ERROR
#define W SP_WARNING

const sp_check sp_checks[] = {
    {"Z001", E, "not a zip, no end record, or truncated",
     "the file is damaged or not an APK: rebuild it"},
    {"Z002", E, "bytes before the first local header or after the end record",
     "Android's zip reader rejects such files: rebuild or strip the extra bytes"},
    {"Z003", E, "central directory and local header disagree",
     "a tool rewrote part of the archive: rebuild it"},
    {"Z004", E, "duplicate entry name", "rebuild the archive with each name once"},
    {"Z005", E, "unsafe entry name",
     "rename the entry: no '..', leading '/', backslash, control character, NUL or invalid "
     "UTF-8"},
    {"Z006", E, "ZIP64 or over the classic zip limits",
     "Android rejects ZIP64 APKs: stay under 65 534 entries and 4 GiB"},
    {"Z007", E, "CRC mismatch", "the entry's bytes are damaged: rebuild the archive"},
    {"Z008", W, "STORED entry not 4-byte aligned", "run 'sp-pack align' before signing"},
    {"Z009", E, "entries overlap or run into the central directory",
     "the archive is damaged or crafted: rebuild it"},
    {"Z010", E, "zip bomb: entries share compressed data, or more inflated bytes than verify holds",
     "a crafted archive (or one too large to check in memory): rebuild it from its files"},
    {"L001", E, "native library compressed",
     "store lib/<abi>/*.so uncompressed (AGP: useLegacyPackaging = false; or 'sp-pack align')"},
    {"L002", E, "native library data not page-aligned",
     "run 'sp-pack align' (default 16 KB) before signing"},
    {"L003", E, "library name is not lib*.so, so Android skips it",
     "rename it to lib<name>.so (and the DT_NEEDED entries naming it)"},
    {"L004", W, "file in a subdirectory of lib/<abi>/, which Android ignores",
     "move it to lib/<abi>/ or out of lib/"},
    {"L005", E, "unknown ABI directory", "use arm64-v8a, armeabi-v7a, x86, x86_64 or riscv64"},
    {"L006", W, "ABI directories hold different sets of libraries",
     "ship the same libraries for every ABI, or expect ImportError on some devices"},
    {"L008", E, "a .so that is really a zip (the old fake-.so scheme)",
     "repack with 'sp-pack pack': pure code in stored zips, real libraries in lib/<abi>/"},
    {"E001", E, "not ELF or truncated ELF", "ship the real shared library"},
    {"E002", E, "ELF class or machine does not match its ABI directory",
     "put the library in the directory of the ABI it was built for"},
    {"E003", E, "not a little-endian ET_DYN with section headers",
     "link it as a shared library (-shared) and do not strip section headers"},
    {"E004", E, "64-bit ABI: a PT_LOAD segment aligned below the page size",
     "relink with -Wl,-z,max-page-size=16384 (NDK r27+ does this by default)"},
    {"E005", E, "text relocations", "compile with -fPIC"},
    {"E006", E, "writable and executable segment", "relink without -N/--omagic; keep W^X"},
    {"E007", E, "DT_NEEDED library not shipped for this ABI and not an Android system library",
     "ship it in lib/<abi>/ (pack --lib) or drop the dependency"},
    {"E008", E, "built for glibc Linux, not Android",
     "rebuild with the Android NDK (or use Android wheels); glibc builds cannot load"},
    {"E010", W, "built for a newer API level than --min-sdk",
     "rebuild with a lower API level, or raise minSdk"},
    {"E011", E,
     "64-bit ABI: PT_GNU_RELRO is not a suffix of its PT_LOAD and does not end on a page boundary",
     "relink with -Wl,-z,max-page-size=16384 -Wl,-z,common-page-size=16384 (lld 18+ and "
     "NDK r28+ lay RELRO out right by default)"},
    {"P001", E, ".soref marker whose library is missing for an ABI",
     "ship the module for every ABI (check the pack warnings), or verify the .apks set"},
    {"P002", W, "extension-module library that no marker names",
     "a leftover from an older pack? repack, or drop it"},
    {"P003", E, "marker's library does not export PyInit_<name>",
     "the marker names the wrong library: repack"},
    {"P004", W, "Python zip holding compressed entries",
     "keep Python zips stored (AGP: noCompress += \"zip\"); zipimport needs stored entries"},
    {"P005", E, "stdlib.zip lacks _sp_bootstrap.py", "build stdlib.zip with 'sp-pack pack'"},
    {"P006", W, "extension module present for some ABIs only", "ship the module for every ABI"},
    {"P008", W, "zip lacks directory entries that namespace packages need",
     "build the zip with 'sp-pack pack', which writes directory entries"},
    {"P009", E, "marker content is not a valid library name", "repack with 'sp-pack pack'"},
    {"P010", E, "boot set incomplete: CPython cannot start from the APK in place",
     "pack with 'sp-pack pack', and keep assets/python/ in the base module"},
    {"P011", E, "boot set file compressed in the archive",
     "keep assets/python/ stored (AGP: noCompress += listOf(\".py\", \".pyc\"); bundles: "
     "uncompressed_glob assets/python/**, which 'sp-pack inject' adds)"},
    {"P012", E, "Python zip compressed in the archive: it cannot be read in place",
     "keep Python zips stored (AGP: noCompress += \".zip\"; bundles: uncompressed_glob, which "
     "'sp-pack inject' adds)"},
    {"P013", W, "App Bundle: no uncompressed_glob keeps a Python zip or the boot set stored",
     "bundletool deflates assets otherwise: 'sp-pack inject' adds the globs; AGP adds them from "
     "noCompress"},
    {"P014", W, "boot set file differs from the same file in stdlib.zip",
     "a stale pack output? repack"},
    {"P015", E, "pack output directory does not match its manifest",
     "edited, damaged or mixed by hand: repack into it"},
    {NULL, 0, NULL, NULL},
};

#undef E
#undef W

const sp_check *sp_check_find(const char *id)
{
    for (const sp_check *c = sp_checks; c->id; c++)
        if (!strcmp(c->id, id))
            return c;
    return NULL;
}

void sp_report_init(sp_report *r)
{
    *r = (sp_report){0};
}

void sp_report_release(sp_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        sp_report_file *f = &r->files[i];
        for (size_t k = 0; k < f->n; k++)
            SP_FREE_ALL(f->v[k].entry, f->v[k].abi, f->v[k].message);
        SP_FREE_ALL(f->v, f->path);
    }
    free(r->files);
    sp_strv_release(&r->ignore);
    memset(r, 0, sizeof *r);
}

sp_report_file *sp_report_add_file(sp_report *r, const char *path)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->files = sp_xrealloc(r->files, r->cap * sizeof *r->files);
    }
    sp_report_file *f = &r->files[r->n++];
    memset(f, 0, sizeof *f);
    f->path = sp_xstrdup(path);
    f->kind = "zip";
    return f;
}

void sp_report_add(sp_report *r, sp_report_file *f, const char *id, const char *entry,
                   const char *abi, const char *fmt, ...)
{
    if (sp_strv_contains(&r->ignore, id))
        return;
    const sp_check *c = sp_check_find(id);
    if (!c)
        abort(); /* a check ID missing from the catalogue is a programming error */
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->v = sp_xrealloc(f->v, f->cap * sizeof *f->v);
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = sp_xvasprintf(fmt, ap, NULL);
    va_end(ap);
    f->v[f->n++] =
        (sp_finding){c, entry ? sp_xstrdup(entry) : NULL, abi ? sp_xstrdup(abi) : NULL, msg};
}

size_t sp_report_count(const sp_report *r, int severity)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        for (size_t k = 0; k < r->files[i].n; k++)
            n += r->files[i].v[k].check->severity == severity;
    return n;
}

static int cmp_finding(const void *a, const void *b)
{
    const sp_finding *x = a, *y = b;
    int c = strcmp(x->check->id, y->check->id);
    if (c)
        return c;
    return strcmp(x->entry ? x->entry : "", y->entry ? y->entry : "");
}

static const char *severity_name(int s)
{
    return s == SP_ERROR ? "error" : "warning";
}

void sp_report_print_text(const sp_report *r, FILE *out)
{
    size_t counts[64] = {0};
    for (size_t i = 0; i < r->n; i++) {
        sp_report_file *f = &r->files[i];
        if (f->n > 1)
            qsort(f->v, f->n, sizeof *f->v, cmp_finding);
        char *path = sp_escape(f->path);
        for (size_t k = 0; k < f->n; k++) {
            const sp_finding *x = &f->v[k];
            /* Names come from the archive: escaped, so that none can end
             * the line or talk to the terminal. */
            char *entry = sp_escape(!x->entry ? "-" : *x->entry ? x->entry : "\"\"");
            char *abi = sp_escape(x->abi ? x->abi : "");
            char *msg = sp_escape(x->message);
            fprintf(out, "%s: %s: %s[%s]: %s%s%s (hint: %s)\n", path, entry,
                    severity_name(x->check->severity), x->check->id, abi, x->abi ? ": " : "", msg,
                    x->check->hint);
            SP_FREE_ALL(entry, abi, msg);
            counts[x->check - sp_checks]++;
        }
        free(path);
    }
    size_t errors = sp_report_count(r, SP_ERROR), warnings = sp_report_count(r, SP_WARNING);
    if (errors + warnings) {
        fprintf(out, "findings by check:\n");
        for (const sp_check *c = sp_checks; c->id; c++)
            if (counts[c - sp_checks])
                fprintf(out, "  %s %-7s %5zu  %s\n", c->id, severity_name(c->severity),
                        counts[c - sp_checks], c->title);
    }
    fprintf(out, "%zu file%s checked: %zu error%s, %zu warning%s\n", r->n, r->n == 1 ? "" : "s",
            errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
}

cJSON *sp_finding_json(const sp_finding *x)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", x->check->id);
    cJSON_AddStringToObject(o, "severity", severity_name(x->check->severity));
    if (x->entry)
        sp_json_add_text(o, "entry", x->entry);
    else
        cJSON_AddNullToObject(o, "entry");
    if (x->abi)
        sp_json_add_text(o, "abi", x->abi);
    else
        cJSON_AddNullToObject(o, "abi");
    sp_json_add_text(o, "message", x->message);
    cJSON_AddStringToObject(o, "hint", x->check->hint);
    return o;
}

void sp_report_print_json(const sp_report *r, FILE *out)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "format", 1);
    cJSON *files = cJSON_AddArrayToObject(doc, "files");
    for (size_t i = 0; i < r->n; i++) {
        sp_report_file *f = &r->files[i];
        if (f->n > 1)
            qsort(f->v, f->n, sizeof *f->v, cmp_finding);
        cJSON *jf = cJSON_CreateObject();
        sp_json_add_text(jf, "path", f->path);
        cJSON_AddStringToObject(jf, "kind", f->kind);
        cJSON *jl = cJSON_AddArrayToObject(jf, "findings");
        size_t e = 0, w = 0;
        for (size_t k = 0; k < f->n; k++) {
            const sp_finding *x = &f->v[k];
            cJSON_AddItemToArray(jl, sp_finding_json(x));
            e += x->check->severity == SP_ERROR;
            w += x->check->severity == SP_WARNING;
        }
        cJSON *s = cJSON_AddObjectToObject(jf, "summary");
        cJSON_AddNumberToObject(s, "errors", (double)e);
        cJSON_AddNumberToObject(s, "warnings", (double)w);
        cJSON_AddItemToArray(files, jf);
    }
    cJSON *s = cJSON_AddObjectToObject(doc, "summary");
    cJSON_AddNumberToObject(s, "errors", (double)sp_report_count(r, SP_ERROR));
    cJSON_AddNumberToObject(s, "warnings", (double)sp_report_count(r, SP_WARNING));
    cJSON *by = cJSON_AddObjectToObject(s, "by_id");
    for (const sp_check *c = sp_checks; c->id; c++) {
        size_t n = 0;
        for (size_t i = 0; i < r->n; i++)
            for (size_t k = 0; k < r->files[i].n; k++)
                n += r->files[i].v[k].check == c;
        if (n)
            cJSON_AddNumberToObject(by, c->id, (double)n);
    }
    char *text = cJSON_Print(doc);
    fprintf(out, "%s\n", text);
    free(text);
    cJSON_Delete(doc);
}
