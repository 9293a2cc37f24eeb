/* sp-pack pack: command line and configuration file -> sp_pack() -> report. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "sppack/abi.h"
#include "sppack/outdir.h"
#include "sppack/pack.h"
#include "sppack/util.h"

const char cmd_pack_usage[] =
    "usage: sp-pack pack --out DIR [--apk FILE] --stdlib [ABI=]DIR...\n"
    "                    [--site-packages [ABI=]DIR...]\n"
    "                    [--lib [ABI=]PATH...] [--extract PATTERN...] [--exclude GLOB...]\n"
    "                    [--page-size 4|16|64] [--config FILE.json] [--json] [--strict]\n"
    "                    [-q|-v]\n\n"
    "Reads CPython trees for one or more Android ABIs and writes into DIR:\n"
    "  jniLibs/<abi>/lib*.so      extension modules (mangled names) and --lib libraries\n"
    "  assets/stdlib.zip          stored, ABI-common, with _sp_bootstrap.py at its root\n"
    "  assets/sitepackages.zip    stored, ABI-common (with --site-packages)\n"
    "  assets/extract.zip         top-level names matched by --extract\n"
    "  assets/<zip>-<abi>.zip     per-ABI overlays for files that differ between ABIs\n"
    "  assets/python/             boot set: encodings' first modules and the finder, read\n"
    "                             straight from the APK while Python initialises\n"
    "  sp-pack.json               manifest: inputs, outputs with sizes and xxh3, modules\n\n"
    "Options:\n"
    "  --out DIR               output directory (created; previous outputs replaced\n"
    "                          atomically, left intact when the run fails)\n"
    "  --apk FILE              also write the content as an unsigned APK-layout zip:\n"
    "                          lib/<abi>/ page-aligned, assets/ 4-byte aligned, all\n"
    "                          stored, sorted (sign it after any further changes)\n"
    "  --stdlib [ABI=]DIR      directory holding os.py, encodings/ and lib-dynload/;\n"
    "                          its site-packages/ and dist-packages/ are skipped\n"
    "  --site-packages [ABI=]DIR  third-party packages for an ABI\n"
    "  --lib [ABI=]PATH        a shared library, or a directory of them, copied to\n"
    "                          jniLibs/<abi>/ unchanged\n"
    "  --extract PATTERN       top-level names (or globs) to put in extract.zip\n"
    "  --exclude GLOB          leave files out; a glob with '/' matches the relative\n"
    "                          path, one without matches any path component\n"
    "  --pyc                   compile every .py with --python into an unchecked-hash\n"
    "                          NAME.pyc beside it in the zips (apps start faster)\n"
    "  --pyc-only              --pyc, and leave the .py sources out\n"
    "  --python PATH           the host CPython that compiles: the same X.Y as the\n"
    "                          packed stdlib (checked by magic number)\n"
    "  -j, --jobs N            threads that walk, read and write (default: one per\n"
    "                          CPU, at most 8); the output is the same for any N\n"
    "  --page-size 4|16|64     page size in KB that lib/<abi>/ entries of --apk are\n"
    "                          aligned to (default 16; 16 KB also serves 4 KB devices)\n"
    "  --config FILE.json      the same options as JSON; the command line overrides\n"
    "  --json                  print the manifest and warnings as one JSON document\n"
    "  --strict                warnings and files differing between ABIs are errors\n"
    "  -q, --quiet             print errors only (without it, a progress bar shows\n"
    "                          while reading when stderr is a terminal)\n"
    "  -v, --verbose           list every module and library\n\n"
    "ABI is one of arm64-v8a, armeabi-v7a, x86, x86_64, riscv64; without ABI= it\n"
    "is detected from the ELF headers of the tree's extension modules.\n"
    "Options taking values accept several after one flag: --stdlib a=D1 b=D2.\n\n"
    "Packing again into DIR rewrites only the outputs whose inputs changed; with\n"
    "nothing changed it reads no input, writes nothing and reports 'up to date'.\n";

/* Options as strings, from the command line or the config file. */
struct raw_opts {
    char *out;
    char *apk;
    char *python;
    int pyc, pyc_only; /* -1: not given */
    sp_strv stdlib, site, lib, extract, exclude;
    int list_set[5]; /* which lists were given */
    char *page_size;
    char *jobs;
    int json, strict, quiet, verbose; /* -1: not given */
};

enum { L_STDLIB, L_SITE, L_LIB, L_EXTRACT, L_EXCLUDE };

static void raw_init(struct raw_opts *r)
{
    memset(r, 0, sizeof *r);
    sp_strv_init(&r->stdlib);
    sp_strv_init(&r->site);
    sp_strv_init(&r->lib);
    sp_strv_init(&r->extract);
    sp_strv_init(&r->exclude);
    r->json = r->strict = r->quiet = r->verbose = r->pyc = r->pyc_only = -1;
}

static void raw_release(struct raw_opts *r)
{
    free(r->out);
    free(r->apk);
    free(r->python);
    free(r->jobs);
    free(r->page_size);
    sp_strv_release(&r->stdlib);
    sp_strv_release(&r->site);
    sp_strv_release(&r->lib);
    sp_strv_release(&r->extract);
    sp_strv_release(&r->exclude);
}

static sp_strv *raw_list(struct raw_opts *r, int which)
{
    sp_strv *lists[] = {&r->stdlib, &r->site, &r->lib, &r->extract, &r->exclude};
    return lists[which];
}

static const struct {
    const char *name;
    int list; /* L_* or -1 */
} list_opts[] = {
    {"stdlib", L_STDLIB}, {"site-packages", L_SITE}, {"lib", L_LIB},
    {"extract", L_EXTRACT}, {"exclude", L_EXCLUDE},
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sp_report_error(SP_EUSAGE, msg);
}

/* ---- configuration file ------------------------------------------------------------------ */

static char *resolve_relative(const char *base_dir, const char *value, int is_path_list_item)
{
    /* Paths in a config file are relative to the file's directory; keep an
     * ABI= prefix in front. */
    const char *eq = is_path_list_item ? strchr(value, '=') : NULL;
    const char *path = value;
    char *abi = NULL;
    if (eq && memchr(value, '/', (size_t)(eq - value)) == NULL) {
        abi = sp_xstrndup(value, (size_t)(eq - value + 1));
        path = eq + 1;
    }
    char *joined = path[0] == '/' || !*base_dir ? sp_xstrdup(path) : sp_path_join(base_dir, path);
    char *out = abi ? sp_xasprintf("%s%s", abi, joined) : sp_xstrdup(joined);
    free(joined);
    free(abi);
    return out;
}

static int load_config(const char *file, struct raw_opts *r)
{
    sp_map m;
    sp_error err;
    sp_error_init(&err);
    if (sp_map_open(&m, file, &err) != 0)
        return sp_report_error(errno == ENOENT ? SP_EUSAGE : err.status, err.msg);
    cJSON *j = cJSON_ParseWithLength((const char *)m.data, m.size);
    sp_map_close(&m);
    char msg[1024];
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        snprintf(msg, sizeof msg, "%s: not a JSON object", file);
        return sp_report_error(SP_EUSAGE, msg);
    }
    const char *slash = strrchr(file, '/');
    char *base_dir = slash ? sp_xstrndup(file, (size_t)(slash - file)) : sp_xstrdup("");
    int rc = 0;
    cJSON *item;
    cJSON_ArrayForEach(item, j)
    {
        const char *key = item->string;
        int list = -1;
        for (size_t i = 0; i < sizeof list_opts / sizeof list_opts[0]; i++)
            if (!strcmp(key, list_opts[i].name))
                list = list_opts[i].list;
        if (list >= 0) {
            sp_strv *dst = raw_list(r, list);
            int paths = list == L_STDLIB || list == L_SITE || list == L_LIB;
            cJSON *v;
            if (cJSON_IsString(item)) {
                sp_strv_push_owned(dst, paths ? resolve_relative(base_dir, item->valuestring, 1)
                                              : sp_xstrdup(item->valuestring));
            } else if (cJSON_IsArray(item)) {
                cJSON_ArrayForEach(v, item)
                {
                    if (!cJSON_IsString(v)) {
                        snprintf(msg, sizeof msg, "%s: \"%s\" must hold strings", file, key);
                        rc = sp_report_error(SP_EUSAGE, msg);
                        break;
                    }
                    sp_strv_push_owned(dst, paths ? resolve_relative(base_dir, v->valuestring, 1)
                                                  : sp_xstrdup(v->valuestring));
                }
            } else {
                snprintf(msg, sizeof msg, "%s: \"%s\" must be a string or a list of strings",
                         file, key);
                rc = sp_report_error(SP_EUSAGE, msg);
            }
            r->list_set[list] = 1;
        } else if (!strcmp(key, "out") && cJSON_IsString(item)) {
            free(r->out);
            r->out = resolve_relative(base_dir, item->valuestring, 0);
        } else if (!strcmp(key, "apk") && cJSON_IsString(item)) {
            free(r->apk);
            r->apk = resolve_relative(base_dir, item->valuestring, 0);
        } else if (!strcmp(key, "python") && cJSON_IsString(item)) {
            free(r->python);
            /* a bare name is looked up on PATH, a path is relative to the file */
            r->python = strchr(item->valuestring, '/')
                            ? resolve_relative(base_dir, item->valuestring, 0)
                            : sp_xstrdup(item->valuestring);
        } else if (!strcmp(key, "jobs") && cJSON_IsNumber(item)) {
            free(r->jobs);
            r->jobs = sp_xasprintf("%d", item->valueint);
        } else if (!strcmp(key, "page-size") && (cJSON_IsNumber(item) || cJSON_IsString(item))) {
            free(r->page_size);
            r->page_size = cJSON_IsNumber(item) ? sp_xasprintf("%d", item->valueint)
                                                : sp_xstrdup(item->valuestring);
        } else if (cJSON_IsBool(item) &&
                   (!strcmp(key, "json") || !strcmp(key, "strict") || !strcmp(key, "quiet") ||
                    !strcmp(key, "verbose") || !strcmp(key, "pyc") || !strcmp(key, "pyc-only"))) {
            int v = cJSON_IsTrue(item);
            if (!strcmp(key, "pyc"))
                r->pyc = v;
            else if (!strcmp(key, "pyc-only"))
                r->pyc_only = v;
            else if (!strcmp(key, "json"))
                r->json = v;
            else if (!strcmp(key, "strict"))
                r->strict = v;
            else if (!strcmp(key, "quiet"))
                r->quiet = v;
            else
                r->verbose = v;
        } else {
            snprintf(msg, sizeof msg,
                     "%s: unknown or mistyped key \"%s\" (keys: out, apk, stdlib, site-packages, lib, "
                     "extract, exclude, pyc, pyc-only, python, jobs, page-size, json, strict, quiet, "
                     "verbose)",
                     file, key);
            rc = sp_report_error(SP_EUSAGE, msg);
        }
        if (rc)
            break;
    }
    free(base_dir);
    cJSON_Delete(j);
    return rc;
}

/* ---- command line ------------------------------------------------------------------------ */

static int parse_args(int argc, char **argv, struct raw_opts *cli, char **config)
{
    int current_list = -1; /* values after a list option keep filling it */
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (current_list < 0)
                return usage_error("pack: unexpected argument '%s'", a);
            sp_strv_push(raw_list(cli, current_list), a);
            continue;
        }
        current_list = -1;
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cli->quiet = 1;
            continue;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            cli->verbose = 1;
            continue;
        }
        if (!strcmp(a, "--json")) {
            cli->json = 1;
            continue;
        }
        if (!strcmp(a, "--strict")) {
            cli->strict = 1;
            continue;
        }
        if (!strcmp(a, "-j")) {
            if (i + 1 >= argc)
                return usage_error("pack: option '-j' needs a value");
            free(cli->jobs);
            cli->jobs = sp_xstrdup(argv[++i]);
            continue;
        }
        if (!strcmp(a, "--pyc")) {
            cli->pyc = 1;
            continue;
        }
        if (!strcmp(a, "--pyc-only")) {
            cli->pyc_only = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return usage_error("pack: unknown option '%s'", a);
        /* --name or --name=value */
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;
        int list = -1;
        for (size_t k = 0; k < sizeof list_opts / sizeof list_opts[0]; k++)
            if (strlen(list_opts[k].name) == nlen && !strncmp(name, list_opts[k].name, nlen))
                list = list_opts[k].list;
        int is_out = nlen == 3 && !strncmp(name, "out", 3);
        int is_apk = nlen == 3 && !strncmp(name, "apk", 3);
        int is_python = nlen == 6 && !strncmp(name, "python", 6);
        int is_jobs = nlen == 4 && !strncmp(name, "jobs", 4);
        int is_page = nlen == 9 && !strncmp(name, "page-size", 9);
        int is_config = nlen == 6 && !strncmp(name, "config", 6);
        if (list < 0 && !is_out && !is_apk && !is_python && !is_jobs && !is_page && !is_config)
            return usage_error("pack: unknown option '%s'", a);
        if (!value) {
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0'))
                return usage_error("pack: option '%s' needs a value", a);
            value = argv[++i];
        }
        if (list >= 0) {
            if (!cli->list_set[list])
                sp_strv_release(raw_list(cli, list));
            cli->list_set[list] = 1;
            sp_strv_push(raw_list(cli, list), value);
            current_list = list;
        } else if (is_out) {
            free(cli->out);
            cli->out = sp_xstrdup(value);
        } else if (is_apk) {
            free(cli->apk);
            cli->apk = sp_xstrdup(value);
        } else if (is_jobs) {
            free(cli->jobs);
            cli->jobs = sp_xstrdup(value);
        } else if (is_python) {
            free(cli->python);
            cli->python = sp_xstrdup(value);
        } else if (is_page) {
            free(cli->page_size);
            cli->page_size = sp_xstrdup(value);
        } else {
            free(*config);
            *config = sp_xstrdup(value);
        }
    }
    return 0;
}

/* "ABI=PATH" or "PATH" */
static int split_abi(const char *arg, const sp_abi **abi, const char **path)
{
    *abi = NULL;
    *path = arg;
    const char *eq = strchr(arg, '=');
    if (!eq || memchr(arg, '/', (size_t)(eq - arg)))
        return 0;
    char *name = sp_xstrndup(arg, (size_t)(eq - arg));
    *abi = sp_abi_find(name);
    int rc = 0;
    if (!*abi) {
        char msg[512];
        snprintf(msg, sizeof msg, "pack: unknown ABI '%s' in '%s' (one of %s)", name, arg,
                 sp_abi_list());
        rc = sp_report_error(SP_EUSAGE, msg);
    }
    free(name);
    *path = eq + 1;
    if (rc == 0 && !**path)
        rc = usage_error("pack: '%s' names no path", arg);
    return rc;
}

static void merge(struct raw_opts *cli, struct raw_opts *cfg)
{
    if (!cli->out && cfg->out) {
        cli->out = cfg->out;
        cfg->out = NULL;
    }
    if (!cli->jobs && cfg->jobs) {
        cli->jobs = cfg->jobs;
        cfg->jobs = NULL;
    }
    if (!cli->python && cfg->python) {
        cli->python = cfg->python;
        cfg->python = NULL;
    }
    if (cli->pyc < 0)
        cli->pyc = cfg->pyc;
    if (cli->pyc_only < 0)
        cli->pyc_only = cfg->pyc_only;
    if (!cli->apk && cfg->apk) {
        cli->apk = cfg->apk;
        cfg->apk = NULL;
    }
    if (!cli->page_size && cfg->page_size) {
        cli->page_size = cfg->page_size;
        cfg->page_size = NULL;
    }
    for (int l = 0; l < 5; l++) {
        if (!cli->list_set[l] && cfg->list_set[l]) {
            sp_strv tmp = *raw_list(cli, l);
            *raw_list(cli, l) = *raw_list(cfg, l);
            *raw_list(cfg, l) = tmp;
            cli->list_set[l] = 1;
        }
    }
    if (cli->json < 0)
        cli->json = cfg->json;
    if (cli->strict < 0)
        cli->strict = cfg->strict;
    if (cli->quiet < 0)
        cli->quiet = cfg->quiet;
    if (cli->verbose < 0)
        cli->verbose = cfg->verbose;
}

/* ---- report ------------------------------------------------------------------------------ */

static void print_report(const cJSON *m, const char *out, int up_to_date, int verbose)
{
    const cJSON *abis = cJSON_GetObjectItemCaseSensitive(m, "abis");
    const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(m, "outputs");
    const cJSON *modules = cJSON_GetObjectItemCaseSensitive(m, "modules");
    const cJSON *libs = cJSON_GetObjectItemCaseSensitive(m, "libraries");
    const cJSON *overlaid = cJSON_GetObjectItemCaseSensitive(m, "overlaid");
    const cJSON *a, *o;
    char sz[32];
    if (up_to_date)
        printf("up to date: %d ABI%s in %s, nothing written (no input changed)\n",
               cJSON_GetArraySize(abis), cJSON_GetArraySize(abis) == 1 ? "" : "s", out);
    else
        printf("packed %d ABI%s into %s\n", cJSON_GetArraySize(abis),
               cJSON_GetArraySize(abis) == 1 ? "" : "s", out);
    cJSON_ArrayForEach(a, abis)
    {
        int nmod = 0, nlib = 0;
        double bytes = 0;
        cJSON_ArrayForEach(o, modules)
        {
            const cJSON *x;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "abis"))
                nmod += !strcmp(x->valuestring, a->valuestring);
        }
        cJSON_ArrayForEach(o, libs)
            nlib += !strcmp(cJSON_GetObjectItemCaseSensitive(o, "abi")->valuestring,
                            a->valuestring);
        cJSON_ArrayForEach(o, outputs)
        {
            const cJSON *oa = cJSON_GetObjectItemCaseSensitive(o, "abi");
            const char *path = cJSON_GetObjectItemCaseSensitive(o, "path")->valuestring;
            if (oa && !strcmp(oa->valuestring, a->valuestring) && !strncmp(path, "jniLibs/", 8))
                bytes += cJSON_GetObjectItemCaseSensitive(o, "size")->valuedouble;
        }
        printf("  jniLibs/%-12s %4d modules %3d libraries %12s\n", a->valuestring, nmod, nlib,
               sp_human_size(bytes, sz));
    }
    int boot_files = 0;
    double boot_bytes = 0;
    cJSON_ArrayForEach(o, outputs)
    {
        const char *path = cJSON_GetObjectItemCaseSensitive(o, "path")->valuestring;
        if (!strncmp(path, "assets/python/", 14)) {
            boot_files++;
            boot_bytes += cJSON_GetObjectItemCaseSensitive(o, "size")->valuedouble;
            continue;
        }
        if (strncmp(path, "assets/", 7) != 0)
            continue;
        printf("  %-36s %6d entries %10s\n", path,
               cJSON_GetObjectItemCaseSensitive(o, "entries")->valueint,
               sp_human_size(cJSON_GetObjectItemCaseSensitive(o, "size")->valuedouble, sz));
    }
    if (boot_files)
        printf("  %-36s %6d files   %10s (boot set)\n", "assets/python/", boot_files,
               sp_human_size(boot_bytes, sz));
    if (cJSON_GetArraySize(overlaid) > 0) {
        printf("files that differ between ABIs (in per-ABI overlays):\n");
        cJSON_ArrayForEach(o, overlaid)
        {
            printf("  %s: %s (", cJSON_GetObjectItemCaseSensitive(o, "zip")->valuestring,
                   cJSON_GetObjectItemCaseSensitive(o, "path")->valuestring);
            const cJSON *x;
            int first = 1;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "abis"))
            {
                printf("%s%s", first ? "" : ", ", x->valuestring);
                first = 0;
            }
            printf(")\n");
        }
    }
    if (verbose) {
        printf("modules:\n");
        cJSON_ArrayForEach(o, modules)
            printf("  %-48s %s\n", cJSON_GetObjectItemCaseSensitive(o, "name")->valuestring,
                   cJSON_GetObjectItemCaseSensitive(o, "lib")->valuestring);
        printf("libraries:\n");
        cJSON_ArrayForEach(o, libs)
            printf("  %-48s %s\n", cJSON_GetObjectItemCaseSensitive(o, "name")->valuestring,
                   cJSON_GetObjectItemCaseSensitive(o, "abi")->valuestring);
    }
}

static char *find_on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    char *copy = sp_xstrdup(path), *save = NULL;
    char *found = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char *candidate = sp_path_join(*dir ? dir : ".", name);
        if (access(candidate, X_OK) == 0)
            found = candidate;
        else
            free(candidate);
    }
    free(copy);
    return found;
}

/* A one-line progress bar on a terminal, redrawn at most ten times a second. */
struct progress {
    struct timespec last;
    int shown;
};

static void show_progress(void *ctx, size_t done, size_t total)
{
    struct progress *pr = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - pr->last.tv_sec) * 1000 + (now.tv_nsec - pr->last.tv_nsec) / 1000000;
    if (pr->shown && ms < 100 && done < total)
        return;
    pr->last = now;
    pr->shown = 1;
    int width = 30, filled = total ? (int)((double)done / (double)total * width) : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\rsp-pack: [%s] %3d%% reading %zu/%zu files", bar,
            total ? (int)(100.0 * (double)done / (double)total) : 100, done, total);
    fflush(stderr);
}

static void end_progress(const struct progress *pr)
{
    if (pr->shown) {
        fputs("\r\033[K", stderr); /* clear the line */
        fflush(stderr);
    }
}

static void on_signal(int sig)
{
    (void)sig;
    sp_outdir_cancel();
}

/* SIGINT, SIGTERM and SIGHUP let the run clean up its staging directory. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A bytecode helper that dies must be an error, not a silent SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
}

int cmd_pack(int argc, char **argv)
{
    struct raw_opts cli, cfg;
    raw_init(&cli);
    raw_init(&cfg);
    char *config = NULL;
    sp_pack_opts opts;
    sp_pack_opts_init(&opts);
    int rc = parse_args(argc, argv, &cli, &config);
    if (rc == 0 && config)
        rc = load_config(config, &cfg);
    if (rc == 0)
        merge(&cli, &cfg);
    if (rc == 0 && !cli.out)
        rc = usage_error("pack: --out DIR is required");
    if (rc == 0 && !cli.stdlib.n)
        rc = usage_error("pack: --stdlib [ABI=]DIR is required");
    if (rc == 0 && cli.page_size) {
        if (!strcmp(cli.page_size, "4") || !strcmp(cli.page_size, "16") ||
            !strcmp(cli.page_size, "64"))
            opts.page_size = (unsigned)atoi(cli.page_size) * 1024u;
        else
            rc = usage_error("pack: --page-size must be 4, 16 or 64, not '%s'", cli.page_size);
    }
    if (rc == 0 && cli.quiet == 1 && cli.verbose == 1)
        rc = usage_error("pack: -q and -v exclude each other");
    static const int kinds[] = {SP_INPUT_STDLIB, SP_INPUT_SITE, SP_INPUT_LIB};
    for (int l = 0; l < 3 && rc == 0; l++) {
        sp_strv *list = raw_list(&cli, l);
        for (size_t i = 0; i < list->n && rc == 0; i++) {
            const sp_abi *abi;
            const char *path;
            rc = split_abi(list->v[i], &abi, &path);
            if (rc == 0)
                sp_pack_opts_add_input(&opts, kinds[l], abi, path);
        }
    }
    for (size_t i = 0; i < cli.extract.n && rc == 0; i++)
        sp_strv_push(&opts.extract, cli.extract.v[i]);
    for (size_t i = 0; i < cli.exclude.n && rc == 0; i++)
        sp_strv_push(&opts.exclude, cli.exclude.v[i]);
    opts.strict = cli.strict == 1;
    if (cli.apk)
        opts.apk_path = sp_xstrdup(cli.apk);
    if (rc == 0 && cli.jobs) {
        char *end;
        long n = strtol(cli.jobs, &end, 10);
        if (*end || n < 1 || n > 64)
            rc = usage_error("pack: --jobs needs a number from 1 to 64, not '%s'", cli.jobs);
        opts.jobs = (int)n;
    }
    opts.pyc_only = cli.pyc_only == 1;
    opts.pyc = cli.pyc == 1 || opts.pyc_only;
    if (cli.python) {
        /* A bare name is found on PATH once, here, so the helper runs the same file. */
        opts.python = strchr(cli.python, '/') ? sp_xstrdup(cli.python) : find_on_path(cli.python);
        if (!opts.python && rc == 0)
            rc = usage_error("pack: --python: '%s' is not on PATH", cli.python);
    }
    if (rc == 0 && opts.pyc && !opts.python)
        rc = usage_error("pack: --pyc needs --python PATH, a host CPython of the trees' version");
    if (rc == 0 && opts.python && !opts.pyc)
        rc = usage_error("pack: --python is only used with --pyc or --pyc-only");

    if (rc == 0) {
        sp_error err;
        sp_error_init(&err);
        sp_pack_result res;
        catch_signals();
        struct progress pr = {{0, 0}, 0};
        if (cli.quiet != 1 && isatty(STDERR_FILENO)) {
            opts.progress = show_progress;
            opts.progress_ctx = &pr;
        }
        opts.manifest_optional = cli.quiet == 1 && cli.json != 1;
        int packed = sp_pack(&opts, cli.out, &res, &err);
        end_progress(&pr);
        if (packed != 0) {
            rc = sp_report_error(err.status, err.msg);
        } else {
            if (cli.quiet != 1)
                for (size_t i = 0; i < res.warnings.n; i++)
                    fprintf(stderr, "sp-pack: warning: %s\n", res.warnings.v[i]);
            if (cli.json == 1) {
                cJSON *doc = cJSON_Duplicate(res.manifest, 1);
                cJSON *w = cJSON_AddArrayToObject(doc, "warnings");
                for (size_t i = 0; i < res.warnings.n; i++)
                    cJSON_AddItemToArray(w, cJSON_CreateString(res.warnings.v[i]));
                char *text = cJSON_Print(doc);
                printf("%s\n", text);
                free(text);
                cJSON_Delete(doc);
            } else if (cli.quiet != 1) {
                print_report(res.manifest, cli.out, res.up_to_date, cli.verbose == 1);
                if (cli.apk)
                    printf("  APK layout: %s\n", cli.apk);
                if (opts.pyc)
                    printf("  bytecode: %zu files compiled, %zu from the cache\n",
                           res.pyc_compiled, res.pyc_cached);
            }
            sp_pack_result_release(&res);
        }
    }
    sp_pack_opts_release(&opts);
    raw_release(&cli);
    raw_release(&cfg);
    free(config);
    return rc;
}
