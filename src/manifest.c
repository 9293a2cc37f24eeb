/* The manifest, sp-pack.json: built from sp_pack_result and read back into
 * it. The one place that knows its JSON form (docs/layout.md shows it). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/pack.h"
#include "sppack/sizereport.h"
#include "sppack/text.h"

#ifndef SP_PACK_VERSION
#define SP_PACK_VERSION "0"
#endif

#define MANIFEST_FORMAT 2

static cJSON *abi_names(const sp_pack_result *r, unsigned bits)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < r->nabis; i++)
        if (bits & 1u << i)
            cJSON_AddItemToArray(a, cJSON_CreateString(r->abis[i]->name));
    return a;
}

static cJSON *manifest_json(const sp_pack_result *r)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "tool", "sp-pack");
    cJSON_AddStringToObject(m, "version", SP_PACK_VERSION);
    cJSON_AddNumberToObject(m, "format", MANIFEST_FORMAT);
    cJSON_AddNumberToObject(m, "page_size", r->page_size);
    if (r->python_version) {
        char v[16];
        snprintf(v, sizeof v, "%d.%d", r->python_version / 100, r->python_version % 100);
        cJSON_AddStringToObject(m, "python", v);
    } else {
        cJSON_AddNullToObject(m, "python");
    }
    cJSON_AddItemToObject(m, "abis", abi_names(r, (1u << r->nabis) - 1));
    cJSON *inputs = cJSON_AddArrayToObject(m, "inputs");
    for (size_t i = 0; i < r->inputs.n; i++) {
        const sp_pack_input_info *x = &r->inputs.v[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", x->kind);
        cJSON_AddStringToObject(o, "abi", x->abi);
        cJSON_AddStringToObject(o, "path", x->path);
        cJSON_AddNumberToObject(o, "files", (double)x->files);
        cJSON_AddNumberToObject(o, "bytes", (double)x->bytes);
        cJSON_AddItemToArray(inputs, o);
    }
    cJSON *mods = cJSON_AddArrayToObject(m, "modules");
    for (size_t i = 0; i < r->modules.n; i++) {
        const sp_pack_module *x = &r->modules.v[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", x->name);
        cJSON_AddStringToObject(o, "lib", x->lib);
        cJSON_AddStringToObject(o, "zip", x->zip);
        cJSON_AddStringToObject(o, "marker", x->marker);
        cJSON_AddItemToObject(o, "abis", abi_names(r, x->abis));
        cJSON_AddItemToArray(mods, o);
    }
    cJSON *libs = cJSON_AddArrayToObject(m, "libraries");
    for (size_t i = 0; i < r->libraries.n; i++) {
        const sp_pack_library *x = &r->libraries.v[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", x->name);
        cJSON_AddStringToObject(o, "abi", r->abis[x->abi]->name);
        cJSON_AddStringToObject(o, "from", x->from_option ? "lib" : "tree");
        cJSON_AddItemToArray(libs, o);
    }
    cJSON *over = cJSON_AddArrayToObject(m, "overlaid");
    for (size_t i = 0; i < r->overlaid.n; i++) {
        const sp_pack_overlaid *x = &r->overlaid.v[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "zip", x->zip);
        cJSON_AddStringToObject(o, "path", x->path);
        cJSON_AddItemToObject(o, "abis", abi_names(r, x->abis));
        cJSON_AddItemToArray(over, o);
    }
    cJSON *left = cJSON_AddArrayToObject(m, "left_out");
    for (size_t i = 0; i < r->left_out.n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", r->left_out.v[i].path);
        cJSON_AddStringToObject(o, "why", r->left_out.v[i].why);
        cJSON_AddItemToArray(left, o);
    }
    if (r->presets) {
        cJSON *p = cJSON_AddObjectToObject(m, "presets");
        for (int i = 0; i < SP_PRESETS; i++) {
            if (!(r->presets & 1u << i))
                continue;
            cJSON *o = cJSON_AddObjectToObject(p, sp_preset_name(i));
            cJSON_AddNumberToObject(o, "files", (double)r->preset_files[i]);
            cJSON_AddNumberToObject(o, "bytes", (double)r->preset_bytes[i]);
        }
    }
    if (r->strip) {
        cJSON *s = cJSON_AddObjectToObject(m, "strip");
        cJSON_AddNumberToObject(s, "libraries", (double)r->stripped);
        cJSON_AddNumberToObject(s, "bytes", (double)r->stripped_bytes);
    }
    cJSON *findings = cJSON_AddArrayToObject(m, "findings");
    for (size_t f = 0; f < r->checks.n; f++)
        for (size_t i = 0; i < r->checks.files[f].n; i++)
            cJSON_AddItemToArray(findings, sp_finding_json(&r->checks.files[f].v[i]));
    cJSON *dev = cJSON_AddObjectToObject(m, "devices_16k");
    for (int a = 0; a < r->nabis; a++) {
        cJSON *o = cJSON_AddObjectToObject(dev, r->abis[a]->name);
        long n = r->not_16k[a];
        cJSON_AddStringToObject(o, "verdict", n < 0 ? "not applicable" : n ? "not ready" : "ready");
        cJSON_AddNumberToObject(o, "libraries", (double)(n < 0 ? 0 : n));
    }
    cJSON *outs = cJSON_AddArrayToObject(m, "outputs");
    for (size_t i = 0; i < r->outputs.n; i++) {
        const sp_pack_output *x = &r->outputs.v[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", x->path);
        cJSON_AddNumberToObject(o, "size", (double)x->size);
        cJSON_AddStringToObject(o, "xxh3", x->xxh3);
        if (x->abi >= 0)
            cJSON_AddStringToObject(o, "abi", r->abis[x->abi]->name);
        if (x->entries >= 0)
            cJSON_AddNumberToObject(o, "entries", (double)x->entries);
        cJSON_AddItemToArray(outs, o);
    }
    sp_size_json_packages(m, r->packages, r->npackages);
    return m;
}

char *sp_manifest_text(const sp_pack_result *r)
{
    cJSON *m = manifest_json(r);
    char *text = cJSON_Print(m);
    cJSON_Delete(m);
    char *out = sp_xasprintf("%s\n", text);
    free(text);
    return out;
}

char *sp_pack_result_json(const sp_pack_result *r)
{
    cJSON *m = manifest_json(r);
    if (r->has_size) {
        const char *names[SP_MAX_ABIS];
        sp_pack_result_abi_names(r, names);
        sp_size_json(m, names, r->nabis, r->install, r->download);
    }
    cJSON *w = cJSON_AddArrayToObject(m, "warnings");
    for (size_t i = 0; i < r->warnings.n; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(r->warnings.v[i]));
    char *text = cJSON_Print(m);
    cJSON_Delete(m);
    return text;
}

/* ---- reading it back ------------------------------------------------------------------------ */

static const char *str(const cJSON *o, const char *key)
{
    return sp_json_string(o, key, NULL);
}

static int abi_index(const sp_pack_result *r, const char *name)
{
    for (int i = 0; name && i < r->nabis; i++)
        if (!strcmp(r->abis[i]->name, name))
            return i;
    return -1;
}

/* The bits of an array of ABI names; -1 when one is not among r->abis. */
static long abi_bits(const sp_pack_result *r, const cJSON *a)
{
    long bits = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        int i = abi_index(r, cJSON_IsString(x) ? x->valuestring : NULL);
        if (i < 0)
            return -1;
        bits |= 1L << i;
    }
    return bits;
}

static const char *zip_name(const char *s)
{
    static const char *const zips[] = {"stdlib", "sitepackages", "extract"};
    for (size_t i = 0; s && i < 3; i++)
        if (!strcmp(s, zips[i]))
            return zips[i];
    return NULL;
}

static const char *kind_name(const char *s)
{
    static const char *const kinds[] = {"stdlib", "site-packages", "lib"};
    for (size_t i = 0; s && i < 3; i++)
        if (!strcmp(s, kinds[i]))
            return kinds[i];
    return NULL;
}

int sp_manifest_parse(const char *text, size_t n, sp_pack_result *r)
{
    cJSON *m = cJSON_ParseWithLength(text, n);
    /* Format 1 (before findings) is read too: its outputs are what a
     * repack may replace. */
    double format = sp_json_number(m, "format", 0);
    int ok = cJSON_IsObject(m) && (format == 1 || format == MANIFEST_FORMAT);
    const cJSON *x;
    if (ok) {
        r->page_size = (unsigned)sp_json_number(m, "page_size", 0);
        const char *python = str(m, "python");
        int major, minor;
        if (python && sscanf(python, "%d.%d", &major, &minor) == 2)
            r->python_version = major * 100 + minor;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(m, "abis"))
        {
            const sp_abi *abi = cJSON_IsString(x) ? sp_abi_find(x->valuestring) : NULL;
            if (!abi || r->nabis == SP_MAX_ABIS)
                ok = 0;
            else
                r->abis[r->nabis++] = abi;
        }
    }
    cJSON_ArrayForEach(x, (ok ? cJSON_GetObjectItemCaseSensitive(m, "inputs") : NULL))
    {
        const char *kind = kind_name(str(x, "kind")), *path = str(x, "path");
        int a = abi_index(r, str(x, "abi"));
        if (!kind || !path) {
            ok = 0;
            break;
        }
        sp_pack_input_info in = {kind, a >= 0 ? r->abis[a]->name : "", sp_xstrdup(path),
                                 (size_t)sp_json_number(x, "files", 0),
                                 (uint64_t)sp_json_number(x, "bytes", 0)};
        SP_VEC_PUSH(r->inputs, in);
    }
    cJSON_ArrayForEach(x, (ok ? cJSON_GetObjectItemCaseSensitive(m, "modules") : NULL))
    {
        const char *name = str(x, "name"), *lib = str(x, "lib"), *marker = str(x, "marker");
        const char *zip = zip_name(str(x, "zip"));
        long bits = abi_bits(r, cJSON_GetObjectItemCaseSensitive(x, "abis"));
        if (!name || !lib || !marker || !zip || bits < 0) {
            ok = 0;
            break;
        }
        sp_pack_module mod = {sp_xstrdup(name), sp_xstrdup(lib), zip, sp_xstrdup(marker),
                              (unsigned)bits};
        SP_VEC_PUSH(r->modules, mod);
    }
    cJSON_ArrayForEach(x, (ok ? cJSON_GetObjectItemCaseSensitive(m, "libraries") : NULL))
    {
        const char *name = str(x, "name"), *from = str(x, "from");
        int a = abi_index(r, str(x, "abi"));
        if (!name || !from || a < 0) {
            ok = 0;
            break;
        }
        sp_pack_library lib = {sp_xstrdup(name), a, !strcmp(from, "lib")};
        SP_VEC_PUSH(r->libraries, lib);
    }
    cJSON_ArrayForEach(x, (ok ? cJSON_GetObjectItemCaseSensitive(m, "overlaid") : NULL))
    {
        const char *zip = zip_name(str(x, "zip")), *path = str(x, "path");
        long bits = abi_bits(r, cJSON_GetObjectItemCaseSensitive(x, "abis"));
        if (!zip || !path || bits < 0) {
            ok = 0;
            break;
        }
        sp_pack_overlaid o = {zip, sp_xstrdup(path), (unsigned)bits};
        SP_VEC_PUSH(r->overlaid, o);
    }
    cJSON_ArrayForEach(x, (ok ? cJSON_GetObjectItemCaseSensitive(m, "left_out") : NULL))
    {
        const char *path = str(x, "path"), *why = str(x, "why");
        if (!path || !why) {
            ok = 0;
            break;
        }
        sp_pack_left_out lo = {sp_xstrdup(path), sp_xstrdup(why)};
        SP_VEC_PUSH(r->left_out, lo);
    }
    cJSON_ArrayForEach(x, (ok ? cJSON_GetObjectItemCaseSensitive(m, "presets") : NULL))
    {
        int p = x->string ? sp_preset_find(x->string) : -1;
        if (p < 0 || !cJSON_IsObject(x)) {
            ok = 0;
            break;
        }
        r->presets |= 1u << p;
        r->preset_files[p] = (uint64_t)sp_json_number(x, "files", 0);
        r->preset_bytes[p] = (uint64_t)sp_json_number(x, "bytes", 0);
    }
    const cJSON *strip = ok ? cJSON_GetObjectItemCaseSensitive(m, "strip") : NULL;
    if (cJSON_IsObject(strip)) {
        r->strip = 1;
        r->stripped = (size_t)sp_json_number(strip, "libraries", 0);
        r->stripped_bytes = (uint64_t)sp_json_number(strip, "bytes", 0);
    }
    sp_report_file *checks = ok ? sp_report_add_file(&r->checks, "jniLibs") : NULL;
    cJSON_ArrayForEach(x, (ok ? cJSON_GetObjectItemCaseSensitive(m, "findings") : NULL))
    {
        const char *id = str(x, "id"), *msg = str(x, "message");
        if (!id || !msg || !sp_check_find(id)) {
            ok = 0;
            break;
        }
        sp_report_add(&r->checks, checks, id, str(x, "entry"), str(x, "abi"), "%s", msg);
    }
    for (int a = 0; ok && a < r->nabis; a++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(m, "devices_16k"), r->abis[a]->name);
        const char *verdict = str(o, "verdict");
        r->not_16k[a] = verdict && !strcmp(verdict, "not applicable")
                            ? -1
                            : (long)sp_json_number(o, "libraries", 0);
    }
    cJSON_ArrayForEach(x, (ok ? cJSON_GetObjectItemCaseSensitive(m, "outputs") : NULL))
    {
        const char *path = str(x, "path"), *xxh3 = str(x, "xxh3"), *abi = str(x, "abi");
        int a = abi_index(r, abi);
        if (!path || !xxh3 || strlen(xxh3) != 16 || (abi && a < 0)) {
            ok = 0;
            break;
        }
        sp_pack_output o = {sp_xstrdup(path),
                            a,
                            (uint64_t)sp_json_number(x, "size", 0),
                            "",
                            (long)sp_json_number(x, "entries", -1),
                            0};
        memcpy(o.xxh3, xxh3, 17);
        SP_VEC_PUSH(r->outputs, o);
    }
    const cJSON *pkgs = ok ? cJSON_GetObjectItemCaseSensitive(m, "packages") : NULL;
    int npkgs = cJSON_IsArray(pkgs) ? cJSON_GetArraySize(pkgs) : 0;
    r->packages = sp_xcalloc(npkgs ? (size_t)npkgs : 1, sizeof *r->packages);
    cJSON_ArrayForEach(x, (npkgs ? pkgs : NULL))
    {
        const char *name = str(x, "name");
        if (!name) {
            ok = 0;
            break;
        }
        r->packages[r->npackages++] =
            (sp_size_package){sp_xstrdup(name), (uint64_t)sp_json_number(x, "bytes", 0)};
    }
    cJSON_Delete(m);
    r->has_manifest = ok;
    return ok ? 0 : -1;
}
