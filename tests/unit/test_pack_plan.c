/* pack's plan on sets made in memory: the union over ABIs, overlays,
 * collisions, strictness and the list of outputs, with no file touched. */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "check.h"
#include "pack_internal.h"
#include "sppack/alloc.h"

static const unsigned char boot[] = "# the bootstrap\n";

/* ELF descriptions for the libraries: a good Android one per ABI, and a
 * 64-bit one with 4 KB segments that needs glibc and a library nobody ships. */
static sp_elf_info good64, good32, bad64;

static void make_elves(void)
{
    memset(&good64, 0, sizeof good64);
    good64.elf_class = 64;
    good64.type = 3;
    good64.machine = 62;
    good64.has_sections = 1;
    good64.load_count = 2;
    good64.min_load_align = 16384;
    sp_strv_init(&good64.needed);
    sp_strv_push(&good64.needed, "libc.so");
    good32 = good64;
    good32.elf_class = 32;
    good32.machine = 3;
    good32.min_load_align = 4096; /* fine on a 32-bit ABI */
    bad64 = good64;
    bad64.min_load_align = 4096;
    sp_strv_init(&bad64.needed);
    sp_strv_push(&bad64.needed, "libc.so.6");
    sp_strv_push(&bad64.needed, "libnowhere.so");
}

static const sp_elf_info *elf_for(const char *abi)
{
    return sp_abi_find(abi)->elf_class == 64 ? &good64 : &good32;
}

struct fixture {
    struct pack_set set;
    sp_pack_input inputs[4];
    size_t ninputs;
    sp_pack_result res;
    struct pack_plan plan;
    sp_error err;
};

static void start(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    f->set.stats = sp_xcalloc(4, sizeof *f->set.stats);
    sp_pack_result_init(&f->res);
}

/* An input of kind for abi. */
static size_t input(struct fixture *f, int kind, const char *abi, const char *path)
{
    size_t i = f->ninputs++;
    f->inputs[i] = (sp_pack_input){kind, sp_abi_find(abi), (char *)path};
    f->set.stats[i].abi = sp_abi_find(abi);
    f->set.ninputs = f->ninputs;
    f->set.has_site |= kind == SP_INPUT_SITE;
    return i;
}

static void pure(struct fixture *f, int zip, const char *name, const char *abi, const char *text)
{
    struct pure p = {zip,
                     sp_xstrdup(name),
                     sp_abi_find(abi),
                     XXH3_64bits(text, strlen(text)),
                     (const unsigned char *)text,
                     strlen(text),
                     sp_xasprintf("%s/%s", abi, name)};
    SP_VEC_PUSH(f->set.pure, p);
}

/* What CPython imports while it starts: a stdlib without it is refused. */
static void encodings(struct fixture *f, const char *abi)
{
    pure(f, ZIP_STDLIB, "encodings/__init__.py", abi, "# enc\n");
    pure(f, ZIP_STDLIB, "encodings/aliases.py", abi, "# aliases\n");
    pure(f, ZIP_STDLIB, "encodings/utf_8.py", abi, "# utf_8\n");
}

static void module(struct fixture *f, const char *dotted, const char *lib, const char *marker,
                   const char *abi, const char *source)
{
    struct module m = {sp_xstrdup(lib),
                       sp_xstrdup(dotted),
                       sp_xstrdup(marker),
                       ZIP_STDLIB,
                       sp_abi_find(abi),
                       sp_xstrdup(source),
                       (const unsigned char *)"ELF",
                       7,
                       100,
                       elf_for(abi)};
    SP_VEC_PUSH(f->set.modules, m);
    pure(f, ZIP_STDLIB, marker, abi, lib);
}

static void natlib(struct fixture *f, const char *name, const char *abi, const char *source,
                   uint64_t hash)
{
    struct natlib l = {sp_xstrdup(name),
                       sp_abi_find(abi),
                       sp_xstrdup(source),
                       (const unsigned char *)"ELF",
                       hash,
                       10,
                       1,
                       elf_for(abi)};
    SP_VEC_PUSH(f->set.natlibs, l);
}

static int plan(struct fixture *f, int strict)
{
    struct plan_params p = {strict, 16384, 33, 0, boot, sizeof boot - 1};
    sp_error_init(&f->err);
    return pack_plan_make(&f->set, f->inputs, &p, &f->plan, &f->res, &f->err);
}

static void finish(struct fixture *f)
{
    pack_plan_release(&f->plan);
    pack_set_release(&f->set);
    sp_pack_result_release(&f->res);
}

static const struct plan_output *output(const struct fixture *f, const char *rel)
{
    for (size_t i = 0; i < f->plan.outputs.n; i++)
        if (!strcmp(f->plan.outputs.v[i].rel, rel))
            return &f->plan.outputs.v[i];
    return NULL;
}

static int has_entry(const struct plan_output *o, const char *name)
{
    for (size_t i = 0; o && i < o->entries.n; i++)
        if (!strcmp(o->entries.v[i].name, name))
            return 1;
    return 0;
}

/* Two ABIs given in reverse name order: outputs in manifest order, common
 * files once, a differing file in overlays, directory entries, the
 * bootstrap, the inputs listed by kind and ABI. */
static void union_and_overlays(void)
{
    struct fixture f;
    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x/stdlib");
    input(&f, SP_INPUT_STDLIB, "arm64-v8a", "/a/stdlib");
    input(&f, SP_INPUT_SITE, "x86_64", "/x/site");
    for (int k = 0; k < 2; k++) {
        const char *abi = k ? "arm64-v8a" : "x86_64";
        pure(&f, ZIP_STDLIB, "os.py", abi, "import posix\n");
        pure(&f, ZIP_STDLIB, "json/__init__.py", abi, "# json\n");
        encodings(&f, abi);
        pure(&f, ZIP_SITE, "numpy/__config__.py", abi, k ? "arch = 'arm64'\n" : "arch = 'x86'\n");
        module(&f, "_bz2", "lib_bz2.so", "_bz2.soref", abi, k ? "/a/_bz2.so" : "/x/_bz2.so");
    }
    CHECK(plan(&f, 0) == 0);
    CHECK(f.res.nabis == 2 && !strcmp(f.res.abis[0]->name, "arm64-v8a"));
    const char *order[] = {"jniLibs/arm64-v8a/lib_bz2.so",
                           "jniLibs/x86_64/lib_bz2.so",
                           "assets/stdlib.zip",
                           "assets/sitepackages.zip",
                           "assets/sitepackages-arm64-v8a.zip",
                           "assets/sitepackages-x86_64.zip",
                           "assets/python/_sp_bootstrap.py",
                           "assets/python/encodings/__init__.py",
                           "assets/python/encodings/aliases.py",
                           "assets/python/encodings/utf_8.py"};
    CHECK(f.plan.outputs.n == 10);
    for (size_t i = 0; i < 10 && i < f.plan.outputs.n; i++)
        CHECK_STR(f.plan.outputs.v[i].rel, order[i]);
    /* The boot set holds the stdlib's own bytes, written as they are. */
    const struct plan_output *enc = output(&f, "assets/python/encodings/__init__.py");
    CHECK(enc && !enc->is_zip && enc->data && !memcmp(enc->data, "# enc\n", enc->size));
    const struct plan_output *std = output(&f, "assets/stdlib.zip");
    CHECK(has_entry(std, "json/") && has_entry(std, "json/__init__.py") &&
          has_entry(std, "_sp_bootstrap.py") && has_entry(std, "_bz2.soref"));
    CHECK(std && std->entries.n == 9 && !strcmp(std->entries.v[0].name, "_bz2.soref"));
    CHECK(has_entry(output(&f, "assets/sitepackages-x86_64.zip"), "numpy/__config__.py"));
    CHECK(!has_entry(output(&f, "assets/sitepackages.zip"), "numpy/__config__.py"));
    CHECK(f.res.overlaid.n == 1 && f.res.overlaid.v[0].abis == 3u);
    CHECK(f.res.modules.n == 1 && f.res.modules.v[0].abis == 3u);
    CHECK(f.res.inputs.n == 3 && !strcmp(f.res.inputs.v[0].path, "/a/stdlib") &&
          !strcmp(f.res.inputs.v[2].kind, "site-packages"));
    CHECK(f.res.warnings.n == 0);
    /* The same content gives the same recipe; another timestamp another. */
    char recipe[17];
    memcpy(recipe, std->recipe, 17);
    finish(&f);
    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x/stdlib");
    pure(&f, ZIP_STDLIB, "os.py", "x86_64", "import posix\n");
    encodings(&f, "x86_64");
    CHECK(plan(&f, 0) == 0);
    CHECK(strcmp(output(&f, "assets/stdlib.zip")->recipe, recipe) != 0);
    finish(&f);
}

/* --strict turns a module missing for an ABI into an error; overlays are
 * the designed way to carry files that differ, under --strict too. */
static void strictness(void)
{
    struct fixture f;
    for (int strict = 0; strict < 2; strict++) {
        start(&f);
        input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
        input(&f, SP_INPUT_STDLIB, "arm64-v8a", "/a");
        pure(&f, ZIP_STDLIB, "os.py", "x86_64", "one\n");
        pure(&f, ZIP_STDLIB, "os.py", "arm64-v8a", "two\n");
        encodings(&f, "x86_64");
        encodings(&f, "arm64-v8a");
        CHECK(plan(&f, strict) == 0 && f.res.overlaid.n == 1);
        finish(&f);

        start(&f);
        input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
        input(&f, SP_INPUT_STDLIB, "arm64-v8a", "/a");
        module(&f, "_lzma", "lib_lzma.so", "_lzma.soref", "x86_64", "/x/_lzma.so");
        encodings(&f, "x86_64");
        encodings(&f, "arm64-v8a");
        CHECK(plan(&f, strict) == (strict ? -1 : 0));
        if (strict)
            CHECK(strstr(f.err.msg, "missing for arm64-v8a") != NULL);
        else
            CHECK(f.res.warnings.n == 1 && strstr(f.res.warnings.v[0], "_lzma"));
        finish(&f);
    }
}

/* Collisions: two modules on one library, a module and a library, two
 * libraries of one name, two files of one ABI on one path, the bootstrap;
 * an ABI without its stdlib. */
static void collisions(void)
{
    struct fixture f;
    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
    module(&f, "x.libs.m", "libx-libs-m.so", "x.libs/m.soref", "x86_64", "/x/x.libs/m.so");
    module(&f, "x.libs.m", "libx-libs-m.so", "x/libs/m.soref", "x86_64", "/x/x/libs/m.so");
    CHECK(plan(&f, 0) == -1 && strstr(f.err.msg, "both map to library libx-libs-m.so") &&
          strstr(f.err.msg, "/x/x.libs/m.so") && f.err.status == SP_EINPUT);
    finish(&f);

    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
    input(&f, SP_INPUT_LIB, "x86_64", "/libs");
    module(&f, "_bz2", "lib_bz2.so", "_bz2.soref", "x86_64", "/x/_bz2.so");
    natlib(&f, "lib_bz2.so", "x86_64", "/libs/lib_bz2.so", 1);
    CHECK(plan(&f, 0) == -1 && strstr(f.err.msg, "collides with extension module '_bz2'"));
    finish(&f);

    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
    input(&f, SP_INPUT_LIB, "x86_64", "/libs");
    natlib(&f, "libdep.so", "x86_64", "/libs/a/libdep.so", 1);
    natlib(&f, "libdep.so", "x86_64", "/libs/b/libdep.so", 1);
    encodings(&f, "x86_64");
    CHECK(plan(&f, 0) == 0 && f.res.libraries.n == 1); /* the same bytes: kept once */
    finish(&f);
    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
    input(&f, SP_INPUT_LIB, "x86_64", "/libs");
    natlib(&f, "libdep.so", "x86_64", "/libs/a/libdep.so", 1);
    natlib(&f, "libdep.so", "x86_64", "/libs/b/libdep.so", 2);
    CHECK(plan(&f, 0) == -1 && strstr(f.err.msg, "differs from /libs/a/libdep.so"));
    finish(&f);

    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
    input(&f, SP_INPUT_SITE, "x86_64", "/s");
    pure(&f, ZIP_STDLIB, "a.py", "x86_64", "one\n");
    f.set.pure.v[0].source[0] = '1'; /* another source, same ABI and path */
    pure(&f, ZIP_STDLIB, "a.py", "x86_64", "two\n");
    CHECK(plan(&f, 0) == -1 && strstr(f.err.msg, "conflicts with") && strstr(f.err.msg, "a.py"));
    finish(&f);

    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
    pure(&f, ZIP_STDLIB, "_sp_bootstrap.py", "x86_64", "mine\n");
    CHECK(plan(&f, 0) == -1 && strstr(f.err.msg, "sp-pack's own _sp_bootstrap.py"));
    finish(&f);

    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
    input(&f, SP_INPUT_SITE, "arm64-v8a", "/a/site");
    CHECK(plan(&f, 0) == -1 && strstr(f.err.msg, "/a/site: is for arm64-v8a, but no --stdlib"));
    finish(&f);
}

/* Every library written gets the checks verify makes, under its output
 * path; the 16 KB verdict counts the libraries such a device refuses, and
 * does not apply to 32-bit ABIs. */
static void library_checks(void)
{
    struct fixture f;
    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
    input(&f, SP_INPUT_STDLIB, "x86", "/i");
    input(&f, SP_INPUT_LIB, "x86_64", "/libs");
    module(&f, "_bz2", "lib_bz2.so", "_bz2.soref", "x86_64", "/x/_bz2.so");
    module(&f, "_bz2", "lib_bz2.so", "_bz2.soref", "x86", "/i/_bz2.so");
    natlib(&f, "libbad.so", "x86_64", "/libs/libbad.so", 3);
    f.set.natlibs.v[0].elf = &bad64;
    CHECK(plan(&f, 0) == -1 && strstr(f.err.msg, "encodings/__init__.py or .pyc"));
    finish(&f);
    start(&f);
    input(&f, SP_INPUT_STDLIB, "x86_64", "/x");
    input(&f, SP_INPUT_STDLIB, "x86", "/i");
    input(&f, SP_INPUT_LIB, "x86_64", "/libs");
    module(&f, "_bz2", "lib_bz2.so", "_bz2.soref", "x86_64", "/x/_bz2.so");
    module(&f, "_bz2", "lib_bz2.so", "_bz2.soref", "x86", "/i/_bz2.so");
    encodings(&f, "x86_64");
    encodings(&f, "x86");
    natlib(&f, "libbad.so", "x86_64", "/libs/libbad.so", 3);
    f.set.natlibs.v[0].elf = &bad64;
    CHECK(plan(&f, 0) == 0);
    const sp_report_file *r = &f.res.checks.files[0];
    int e004 = 0, e007 = 0, e008 = 0, other = 0;
    for (size_t i = 0; i < r->n; i++) {
        const char *id = r->v[i].check->id;
        int on_bad = !strcmp(r->v[i].entry, "jniLibs/x86_64/libbad.so");
        e004 += on_bad && !strcmp(id, "E004");
        e007 += on_bad && !strcmp(id, "E007") && strstr(r->v[i].message, "libnowhere.so");
        e008 += on_bad && !strcmp(id, "E008");
        other += !on_bad;
    }
    CHECK(e004 == 1 && e007 == 1 && e008 == 1 && other == 0);
    CHECK(f.res.nabis == 2 && f.res.not_16k[0] == -1 && f.res.not_16k[1] == 1);
    finish(&f);
}

int main(void)
{
    make_elves();
    library_checks();
    union_and_overlays();
    strictness();
    collisions();
    sp_strv_release(&good64.needed);
    sp_strv_release(&bad64.needed);
    return check_done();
}
