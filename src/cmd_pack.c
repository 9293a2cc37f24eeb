/* sp-pack pack: options (command line and --config) -> sp_pack() -> report. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "sppack/abi.h"
#include "sppack/alloc.h"
#include "sppack/cleanup.h"
#include "sppack/outdir.h"
#include "sppack/pack.h"
#include "sppack/path.h"
#include "sppack/platform.h"

static const char pack_about[] =
    "Reads CPython trees for one or more Android ABIs and writes into DIR:\n"
    "  jniLibs/<abi>/lib*.so      extension modules (mangled names) and --lib libraries\n"
    "  assets/stdlib.zip          stored, ABI-common, with _sp_bootstrap.py at its root\n"
    "  assets/sitepackages.zip    stored, ABI-common (with --site-packages)\n"
    "  assets/extract.zip         top-level names matched by --extract\n"
    "  assets/<zip>-<abi>.zip     per-ABI overlays for files that differ between ABIs\n"
    "  assets/python/             the boot set: encodings' first modules and the finder,\n"
    "                             read straight from the APK while Python starts\n"
    "  sp-pack.json               manifest: inputs, outputs with sizes and xxh3, modules\n";

static const sp_cli_option pack_options[] = {
    {"out", 0, SP_CLI_STRING, "DIR",
     "output directory, sp-pack's own (created; outputs replaced\natomically, left intact when "
     "the run fails; one run\nat a time)",
     SP_CFG_PATH, 0, 0},
    {"apk", 0, SP_CLI_STRING, "FILE",
     "also write the content as an unsigned APK-layout zip:\nlib/<abi>/ page-aligned, assets/ "
     "4-byte aligned, all\nstored, sorted (sign it after any further changes)",
     SP_CFG_PATH, 0, 0},
    {"stdlib", 0, SP_CLI_LIST, "[ABI=]DIR",
     "directory holding os.py, encodings/ and lib-dynload/;\nits site-packages/ and "
     "dist-packages/ are skipped",
     SP_CFG_ABIPATH, 0, 0},
    {"site-packages", 0, SP_CLI_LIST, "[ABI=]DIR", "third-party packages for an ABI",
     SP_CFG_ABIPATH, 0, 0},
    {"lib", 0, SP_CLI_LIST, "[ABI=]PATH",
     "a shared library, or a directory of them, copied to\njniLibs/<abi>/ (unchanged unless "
     "--strip)",
     SP_CFG_ABIPATH, 0, 0},
    {"extract", 0, SP_CLI_LIST, "PATTERN", "top-level names (or globs) to put in extract.zip",
     SP_CFG_VALUE, 0, 0},
    {"exclude", 0, SP_CLI_LIST, "GLOB",
     "leave files out; a glob with '/' matches the relative\npath, one without matches any "
     "path component",
     SP_CFG_VALUE, 0, 0},
    {"pyc", 0, SP_CLI_FLAG, NULL,
     "compile every .py with --python into an unchecked-hash\nNAME.pyc beside it in the zips "
     "(apps start faster)",
     SP_CFG_VALUE, 0, 0},
    {"pyc-only", 0, SP_CLI_FLAG, NULL, "--pyc, and leave the .py sources out", SP_CFG_VALUE, 0, 0},
    {"python", 0, SP_CLI_STRING, "PATH",
     "the host CPython that compiles: the same X.Y as the\npacked stdlib (checked; up to 3.13 "
     "also its magic\nnumber against the stdlib's)",
     SP_CFG_PROGRAM, 0, 0},
    {"python-version", 0, SP_CLI_STRING, "X.Y",
     "the CPython the app runs (default: read from the stdlib\ntrees' directory names and "
     "lib-dynload tags); modules\nbuilt for another one are left out",
     SP_CFG_VALUE, 0, 0},
    {"exclude-preset", 0, SP_CLI_MULTI, "NAME",
     "leave out what apps never import (repeatable):\ntests  tests/ and test/ inside packages, "
     "the stdlib's\n       test package, idlelib, tkinter, turtledemo,\n       ensurepip, "
     "lib2to3, pydoc_data\nbuild  *.a, *.h, *.pyi, *.pxd, *.pyx",
     SP_CFG_VALUE, 0, 0},
    {"strip", 0, SP_CLI_FLAG, NULL,
     "remove debug sections (.debug_*, .zdebug*) and the\nstatic symbol table (.symtab, "
     ".strtab) from every\nlibrary in jniLibs/; what the loader reads stays as it\nis "
     "(segments, .dynsym, notes, RELRO)",
     SP_CFG_VALUE, 0, 0},
    {"jobs", 'j', SP_CLI_INT, "N",
     "threads that walk, read and write (default: one per\nCPU, at most 8); the output is the "
     "same for any N",
     SP_CFG_VALUE, 1, 64},
    {"page-size", 0, SP_CLI_PAGE, "4|16|64",
     "page size in KB that lib/<abi>/ entries of --apk are\naligned to (default 16; 16 KB also "
     "serves 4 KB devices)",
     SP_CFG_VALUE, 0, 0},
    {"config", 0, SP_CLI_STRING, "FILE.json",
     "the same options as JSON; the command line overrides", SP_CFG_NONE, 0, 0},
    {"json", 0, SP_CLI_FLAG, NULL,
     "print the manifest, the size report and the warnings\nas one JSON document", SP_CFG_VALUE, 0,
     0},
    {"strict", 0, SP_CLI_FLAG, NULL, "warnings and files differing between ABIs are errors",
     SP_CFG_VALUE, 0, 0},
    {"quiet", 'q', SP_CLI_FLAG, NULL,
     "print errors only (without it, a progress bar shows\nwhile reading when stderr is a "
     "terminal); without\n--json, the download estimate is not made",
     SP_CFG_VALUE, 0, 0},
    {"verbose", 'v', SP_CLI_FLAG, NULL, "list every module and library", SP_CFG_VALUE, 0, 0},
    {0},
};

const sp_cli_command cmd_pack_spec = {
    "pack",
    "--out DIR [--apk FILE] --stdlib [ABI=]DIR...\n"
    "                    [--site-packages [ABI=]DIR...]\n"
    "                    [--lib [ABI=]PATH...] [--extract PATTERN...] [--exclude GLOB...]\n"
    "                    [--page-size 4|16|64] [--config FILE.json] [--json] [--strict]\n"
    "                    [--pyc|--pyc-only --python PATH] [--python-version X.Y]\n"
    "                    [--strip] [--exclude-preset tests|build]... [-j N] [-q|-v]",
    pack_about,
    pack_options,
    0,
    0,
    "takes no arguments besides its options",
    "ABI is one of arm64-v8a, armeabi-v7a, x86, x86_64, riscv64; without ABI= it\n"
    "is detected from the ELF headers of the tree's extension modules.\n"
    "Options taking values accept several after one flag: --stdlib a=D1 b=D2.\n"
    "The keys of a --config file are the long option names.\n\n"
    "Packing again into DIR rewrites only the outputs whose inputs changed; with\n"
    "nothing changed it reads no input, writes nothing and reports 'up to date'.\n"
    "DIR/assets, DIR/jniLibs and DIR/sp-pack.json are links into DIR/.sp-pack/,\n"
    "switched to a new generation by one rename (docs/layout.md).\n"};

/* ---- report --------------------------------------------------------------------------------- */

static void print_abis(unsigned bits, const sp_pack_result *r)
{
    int first = 1;
    for (int a = 0; a < r->nabis; a++)
        if (bits & 1u << a) {
            printf("%s%s", first ? "" : ", ", r->abis[a]->name);
            first = 0;
        }
}

/* The library checks, grouped by ID: a count and the first few names. */
static void print_checks(const sp_pack_result *r)
{
    if (!r->checks.n)
        return;
    const sp_report_file *f = &r->checks.files[0];
    size_t errors = sp_report_count(&r->checks, SP_ERROR);
    size_t warnings = sp_report_count(&r->checks, SP_WARNING);
    printf("library checks: %zu error%s, %zu warning%s (docs/checks.md)\n", errors,
           errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    for (const sp_check *c = sp_checks; c->id; c++) {
        size_t n = 0;
        for (size_t i = 0; i < f->n; i++)
            n += f->v[i].check == c;
        if (!n)
            continue;
        printf("  %s %-7s %4zu  %s:", c->id, c->severity == SP_ERROR ? "error" : "warning", n,
               c->title);
        size_t shown = 0;
        for (size_t i = 0; i < f->n && shown < 3; i++)
            if (f->v[i].check == c)
                printf("%s %s", shown++ ? "," : "", f->v[i].entry);
        if (n > shown)
            printf(" and %zu more", n - shown);
        printf("\n");
    }
}

/* Per ABI: whether 16 KB page devices load all its libraries. */
static void print_verdicts(const sp_pack_result *r)
{
    char verdict[64];
    for (int a = 0; a < r->nabis; a++)
        printf("  %-12s  16 KB devices: %s\n", r->abis[a]->name,
               sp_cli_verdict_16k(r->not_16k[a], verdict));
}

static void print_report(const sp_pack_result *r, const char *out, int verbose)
{
    char sz[32];
    const char *s = r->nabis == 1 ? "" : "s";
    char python[32] = "";
    if (r->python_version)
        snprintf(python, sizeof python, " for CPython %d.%d", r->python_version / 100,
                 r->python_version % 100);
    if (r->up_to_date)
        printf("up to date: %d ABI%s in %s%s, nothing written (no input changed)\n", r->nabis, s,
               out, python);
    else
        printf("packed %d ABI%s into %s%s\n", r->nabis, s, out, python);
    for (int a = 0; a < r->nabis; a++) {
        int nmod = 0, nlib = 0;
        double bytes = 0;
        for (size_t i = 0; i < r->modules.n; i++)
            nmod += (r->modules.v[i].abis >> a) & 1;
        for (size_t i = 0; i < r->libraries.n; i++)
            nlib += r->libraries.v[i].abi == a;
        for (size_t i = 0; i < r->outputs.n; i++)
            if (r->outputs.v[i].abi == a && !strncmp(r->outputs.v[i].path, "jniLibs/", 8))
                bytes += (double)r->outputs.v[i].size;
        printf("  jniLibs/%-12s %4d modules %3d libraries %12s\n", r->abis[a]->name, nmod, nlib,
               sp_cli_size(bytes, sz));
    }
    for (size_t i = 0; i < r->outputs.n; i++) {
        const sp_pack_output *o = &r->outputs.v[i];
        if (!strncmp(o->path, "assets/", 7) && o->entries >= 0)
            printf("  %-36s %6ld entries %10s\n", o->path, o->entries,
                   sp_cli_size((double)o->size, sz));
    }
    size_t boot = 0;
    double boot_bytes = 0;
    for (size_t i = 0; i < r->outputs.n; i++)
        if (!strncmp(r->outputs.v[i].path, "assets/python/", 14)) {
            boot++;
            boot_bytes += (double)r->outputs.v[i].size;
        }
    if (boot)
        printf("  %-36s %6zu files   %10s (boot set)\n", "assets/python/", boot,
               sp_cli_size(boot_bytes, sz));
    if (r->has_size) {
        const char *names[SP_MAX_ABIS];
        sp_pack_result_abi_names(r, names);
        sp_cli_print_size(names, r->nabis, r->install, r->download, r->packages, r->npackages);
    }
    if (r->overlaid.n) {
        printf("files that differ between ABIs (in per-ABI overlays):\n");
        for (size_t i = 0; i < r->overlaid.n; i++) {
            printf("  %s: %s (", r->overlaid.v[i].zip, r->overlaid.v[i].path);
            print_abis(r->overlaid.v[i].abis, r);
            printf(")\n");
        }
    }
    for (int i = 0; i < SP_PRESETS; i++)
        if (r->presets & 1u << i)
            printf("left out by --exclude-preset %s: %llu files, %s (over all input trees)\n",
                   sp_preset_name(i), (unsigned long long)r->preset_files[i],
                   sp_cli_size((double)r->preset_bytes[i], sz));
    if (r->strip && !r->stripped)
        printf("stripped: nothing to remove (no library had debug sections or a symbol table)\n");
    else if (r->strip)
        printf("stripped: %s of debug sections and symbol tables from %zu librar%s\n",
               sp_cli_size((double)r->stripped_bytes, sz), r->stripped,
               r->stripped == 1 ? "y" : "ies");
    if (r->left_out.n)
        printf("left out: %zu extension module%s built for another interpreter or platform%s\n",
               r->left_out.n, r->left_out.n == 1 ? "" : "s", verbose ? ":" : " (-v lists them)");
    for (size_t i = 0; verbose && i < r->left_out.n; i++)
        printf("  %s (%s)\n", r->left_out.v[i].path, r->left_out.v[i].why);
    print_checks(r);
    print_verdicts(r);
    if (verbose) {
        printf("modules:\n");
        for (size_t i = 0; i < r->modules.n; i++)
            printf("  %-48s %s\n", r->modules.v[i].name, r->modules.v[i].lib);
        printf("libraries:\n");
        for (size_t i = 0; i < r->libraries.n; i++)
            printf("  %-48s %s\n", r->libraries.v[i].name, r->abis[r->libraries.v[i].abi]->name);
    }
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

/* SIGINT, SIGTERM and SIGHUP let the run clean up its staging directory;
 * a bytecode helper that dies must be an error, not a silent SIGPIPE. */
static void catch_signals(void)
{
    sp_cleanup_on_signals(on_signal);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- options -------------------------------------------------------------------------------- */

/* The inputs of one list option, "ABI=PATH" or "PATH" each. */
static int add_inputs(sp_pack_opts *opts, const sp_strv *list, int kind)
{
    for (size_t i = 0; i < list->n; i++) {
        const char *arg = list->v[i], *path = arg;
        const sp_abi *abi = NULL;
        const char *eq = strchr(arg, '=');
        if (eq && !memchr(arg, '/', (size_t)(eq - arg))) {
            abi = sp_abi_findn(arg, (size_t)(eq - arg));
            if (!abi)
                return sp_cli_error(SP_EUSAGE, "pack: unknown ABI '%.*s' in '%s' (one of %s)",
                                    (int)(eq - arg), arg, arg, sp_abi_list());
            path = eq + 1;
            if (!*path)
                return sp_cli_error(SP_EUSAGE, "pack: '%s' names no path", arg);
        }
        sp_pack_opts_add_input(opts, kind, abi, path);
    }
    return 0;
}

static int make_opts(const sp_cli_values *v, sp_pack_opts *opts)
{
    const sp_cli_command *cmd = &cmd_pack_spec;
    if (!sp_cli_str(cmd, v, "out"))
        return sp_cli_error(SP_EUSAGE, "pack: --out DIR is required");
    if (!sp_cli_list(cmd, v, "stdlib")->n)
        return sp_cli_error(SP_EUSAGE, "pack: --stdlib [ABI=]DIR is required");
    if (sp_cli_flag(cmd, v, "quiet") && sp_cli_flag(cmd, v, "verbose"))
        return sp_cli_error(SP_EUSAGE, "pack: -q and -v exclude each other");
    int rc = add_inputs(opts, sp_cli_list(cmd, v, "stdlib"), SP_INPUT_STDLIB);
    if (rc == 0)
        rc = add_inputs(opts, sp_cli_list(cmd, v, "site-packages"), SP_INPUT_SITE);
    if (rc == 0)
        rc = add_inputs(opts, sp_cli_list(cmd, v, "lib"), SP_INPUT_LIB);
    if (rc)
        return rc;
    const sp_strv *extract = sp_cli_list(cmd, v, "extract"),
                  *exclude = sp_cli_list(cmd, v, "exclude");
    for (size_t i = 0; i < extract->n; i++)
        sp_strv_push(&opts->extract, extract->v[i]);
    for (size_t i = 0; i < exclude->n; i++)
        sp_strv_push(&opts->exclude, exclude->v[i]);
    const sp_strv *presets = sp_cli_list(cmd, v, "exclude-preset");
    for (size_t i = 0; i < presets->n; i++) {
        int p = sp_preset_find(presets->v[i]);
        if (p < 0)
            return sp_cli_error(SP_EUSAGE, "pack: unknown --exclude-preset '%s' (one of %s)",
                                presets->v[i], sp_preset_names());
        opts->presets |= 1u << p;
    }
    opts->page_size = (unsigned)sp_cli_num(cmd, v, "page-size", 16384);
    opts->jobs = (int)sp_cli_num(cmd, v, "jobs", 0);
    opts->strict = sp_cli_flag(cmd, v, "strict");
    opts->strip = sp_cli_flag(cmd, v, "strip");
    opts->pyc_only = sp_cli_flag(cmd, v, "pyc-only");
    opts->pyc = sp_cli_flag(cmd, v, "pyc") || opts->pyc_only;
    opts->tool_path = sp_self_path(v->program);
    const char *version = sp_cli_str(cmd, v, "python-version");
    if (version) {
        int major, minor, used = 0;
        if (sscanf(version, "%d.%d%n", &major, &minor, &used) != 2 || version[used] || major != 3 ||
            minor < 0 || minor > 99)
            return sp_cli_error(SP_EUSAGE, "pack: --python-version must be 3.Y, not '%s'", version);
        opts->python_version = major * 100 + minor;
    }
    if (sp_cli_str(cmd, v, "apk"))
        opts->apk_path = sp_xstrdup(sp_cli_str(cmd, v, "apk"));
    const char *python = sp_cli_str(cmd, v, "python");
    if (python) {
        /* A bare name is found on PATH once, here, so the helper runs the same file. */
        opts->python = strchr(python, '/') ? sp_xstrdup(python) : sp_find_on_path(python);
        if (!opts->python)
            return sp_cli_error(SP_EUSAGE, "pack: --python: '%s' is not on PATH", python);
    }
    if (opts->pyc && !opts->python)
        return sp_cli_error(
            SP_EUSAGE, "pack: --pyc needs --python PATH, a host CPython of the trees' version");
    if (opts->python && !opts->pyc)
        return sp_cli_error(SP_EUSAGE, "pack: --python is only used with --pyc or --pyc-only");
    return 0;
}

int cmd_pack(const sp_cli_values *v)
{
    const sp_cli_command *cmd = &cmd_pack_spec;
    int rc = 0;
    sp_pack_opts opts;
    sp_pack_opts_init(&opts);
    rc = make_opts(v, &opts);
    int quiet = sp_cli_flag(cmd, v, "quiet"), json = sp_cli_flag(cmd, v, "json");
    const char *out = sp_cli_str(cmd, v, "out");
    if (rc == 0) {
        sp_error err;
        sp_error_init(&err);
        sp_pack_result res;
        catch_signals();
        struct progress pr = {{0, 0}, 0};
        if (!quiet && isatty(STDERR_FILENO)) {
            opts.progress = show_progress;
            opts.progress_ctx = &pr;
        }
        opts.no_report = quiet && !json;
        int packed = sp_pack(&opts, out, &res, &err);
        end_progress(&pr);
        if (packed != 0) {
            /* A --strict refusal: what the checks found, then why. */
            if (res.refused && !quiet) {
                if (json) {
                    char *text = sp_pack_result_json(&res);
                    printf("%s\n", text);
                    free(text);
                } else {
                    print_checks(&res);
                    print_verdicts(&res);
                }
            }
            rc = sp_cli_error(err.status, "%s", err.msg);
        } else {
            if (!quiet)
                for (size_t i = 0; i < res.warnings.n; i++)
                    fprintf(stderr, "sp-pack: warning: %s\n", res.warnings.v[i]);
            if (json) {
                char *text = sp_pack_result_json(&res);
                printf("%s\n", text);
                free(text);
            } else if (!quiet) {
                print_report(&res, out, sp_cli_flag(cmd, v, "verbose"));
                if (opts.apk_path)
                    printf("  APK layout: %s\n", opts.apk_path);
                if (opts.pyc)
                    printf("  bytecode: %zu files compiled, %zu from the cache\n", res.pyc_compiled,
                           res.pyc_cached);
            }
        }
        sp_pack_result_release(&res);
    }
    sp_pack_opts_release(&opts);
    return rc;
}
