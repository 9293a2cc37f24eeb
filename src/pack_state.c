/* pack's memory of the last successful run into an output directory.
 *
 * Two files remember it. The state (JSON) holds a key of the options
 * (everything but the input files' contents) and, per output, a recipe (a
 * hash of what went into it), its size, xxh3, download estimate (so that a
 * kept output is not deflated again), inode, mtime and ctime. The input
 * snapshot (src/snapshot.c) holds what the walk saw of every input
 * directory and file. A run whose key matches, whose snapshot shows no
 * input changed and whose outputs all still have their size, inode and
 * times writes nothing at all, without listing or reading any input. A
 * stamp is not trusted alone when the file's ctime is within a clock tick
 * or so of the save (an edit in the same tick as the write would leave the
 * times as they were): such a file's content is hashed and compared with
 * its recorded xxh3 instead, and the state saved again, after which the
 * stamps alone tell. Otherwise every input is read and each output whose
 * recipe is unchanged and whose file is untouched is kept as it is (so its
 * mtime stays); only the others are written. An output edited or removed
 * by hand no longer matches and is written again.
 *
 * Both live outside the output directory, so it stays byte-identical for
 * the same inputs: in $SP_PACK_STATE_DIR, else sp-pack's state/ in the
 * user's cache, named by a hash of the directory's absolute path. Without
 * them (a new machine, a cleared cache) the next run writes every output
 * once; failing to save them costs only that. JSON is read and written
 * here only; the rest of pack sees struct pack_state. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "pack_internal.h"
#include "sppack/alloc.h"
#include "sppack/hash.h"
#include "sppack/path.h"
#include "sppack/platform.h"
#include "sppack/snapshot.h"
#include "sppack/text.h"

#ifndef SP_PACK_VERSION
#define SP_PACK_VERSION "0"
#endif

#define STATE_FORMAT 4

char *pack_state_base(const char *out_dir)
{
    const char *dir = getenv("SP_PACK_STATE_DIR");
    char *owned = NULL;
    if (!dir || !*dir) {
        owned = sp_cache_dir("state");
        if (!owned)
            return NULL;
        dir = owned;
    }
    char *real = sp_realpath_lenient(out_dir);
    char hex[17];
    sp_xxh3_hex(real ? real : out_dir, strlen(real ? real : out_dir), hex);
    char *path = sp_xasprintf("%s/%s", dir, hex);
    SP_FREE_ALL(real, owned);
    return path;
}

uint64_t pack_options_key(const sp_pack_opts *o)
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    sp_hash_str(h, SP_PACK_VERSION);
    /* This very binary: a rebuild of the same version may pack differently. */
    struct stat self;
    if (o->tool_path && stat(o->tool_path, &self) == 0) {
        sp_hash_u64(h, (uint64_t)self.st_ino);
        sp_hash_u64(h, (uint64_t)self.st_size);
        sp_hash_u64(h, sp_stat_mtime_ns(&self));
    }
    sp_hash_u64(h, o->page_size);
    sp_hash_u64(h, (uint64_t)o->strict);
    sp_hash_str(h, o->apk_path ? o->apk_path : "");
    sp_hash_u64(h, (uint64_t)(o->pyc | o->pyc_only << 1 | o->strip << 2));
    sp_hash_str(h, o->python ? o->python : "");
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    sp_hash_str(h, sde ? sde : "");
    for (size_t i = 0; i < o->extract.n; i++)
        sp_hash_str(h, o->extract.v[i]);
    sp_hash_str(h, "--exclude");
    for (size_t i = 0; i < o->exclude.n; i++)
        sp_hash_str(h, o->exclude.v[i]);
    sp_hash_u64(h, o->presets);
    for (size_t i = 0; i < o->ninputs; i++) {
        sp_hash_u64(h, (uint64_t)o->inputs[i].kind);
        sp_hash_str(h, o->inputs[i].abi ? o->inputs[i].abi->name : "");
        sp_hash_str(h, o->inputs[i].path);
    }
    uint64_t key = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return key;
}

/* ---- the state file ------------------------------------------------------------------------- */

static void copy_hex(char out[17], const char *s)
{
    snprintf(out, 17, "%s", s);
}

/* The ctime_ns in a stamp ("inode:mtime:ctime"), 0 when there is none. */
static uint64_t stamp_ctime(const char *stamp)
{
    const char *c = strrchr(stamp, ':');
    return c ? strtoull(c + 1, NULL, 10) : 0;
}

/* Whether an edit after the save could have left ctime_ns as it was: a
 * file system that keeps nanoseconds stamps with the kernel's coarse clock
 * (a tick of at most 10 ms), one that keeps whole seconds (ctime_ns a
 * multiple of 10^9) with up to 2 s. */
#define STAMP_TICK_NS (50ull * 1000000ull)
#define STAMP_TICK_WHOLE_SECONDS_NS (2ull * 1000000000ull)

static int stamp_is_racy(uint64_t ctime_ns, uint64_t saved_ns)
{
    uint64_t tick = ctime_ns % 1000000000ull ? STAMP_TICK_NS : STAMP_TICK_WHOLE_SECONDS_NS;
    return ctime_ns + tick >= saved_ns;
}

static void read_record(const cJSON *j, const char *rel, uint64_t saved_ns, struct state_output *r)
{
    memset(r, 0, sizeof *r);
    r->rel = sp_xstrdup(rel);
    copy_hex(r->recipe, sp_json_string(j, "recipe", ""));
    copy_hex(r->xxh3, sp_json_string(j, "xxh3", ""));
    double size = sp_json_number(j, "size", -1), deflated = sp_json_number(j, "deflated", -1);
    r->size = size >= 0 ? (uint64_t)size : UINT64_MAX;
    r->deflated = deflated >= 0 ? (uint64_t)deflated : UINT64_MAX;
    r->entries = (long)sp_json_number(j, "entries", -1);
    snprintf(r->stamp, sizeof r->stamp, "%s", sp_json_string(j, "stamp", ""));
    r->racy = stamp_is_racy(stamp_ctime(r->stamp), saved_ns);
}

void pack_state_load(const char *base, struct pack_state *s)
{
    memset(s, 0, sizeof *s);
    sp_strv_init(&s->warnings);
    if (!base)
        return;
    char *path = sp_xasprintf("%s.json", base);
    sp_map m;
    int opened = sp_map_open(&m, path, NULL) == 0;
    free(path);
    if (!opened)
        return;
    cJSON *j = cJSON_ParseWithLength((const char *)m.data, m.size);
    sp_map_close(&m);
    if (sp_json_number(j, "format", 0) != STATE_FORMAT) {
        cJSON_Delete(j);
        return;
    }
    copy_hex(s->options, sp_json_string(j, "options", ""));
    uint64_t saved_ns = strtoull(sp_json_string(j, "saved_ns", "0"), NULL, 10);
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "warnings")) if (cJSON_IsString(x))
        sp_strv_push(&s->warnings, x->valuestring);
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(j, "outputs");
    cJSON_ArrayForEach(x, (cJSON_IsObject(outs) ? outs : NULL))
    {
        SP_VEC_GROW(s->outputs);
        read_record(x, x->string, saved_ns, &s->outputs.v[s->outputs.n++]);
    }
    const cJSON *apk = cJSON_GetObjectItemCaseSensitive(j, "apk");
    if (cJSON_IsObject(apk)) {
        s->has_apk = 1;
        read_record(apk, sp_json_string(apk, "path", ""), saved_ns, &s->apk);
    }
    cJSON_Delete(j);
}

void pack_state_release(struct pack_state *s)
{
    for (size_t i = 0; i < s->outputs.n; i++)
        free(s->outputs.v[i].rel);
    free(s->outputs.v);
    sp_strv_release(&s->warnings);
    free(s->apk.rel);
    memset(s, 0, sizeof *s);
}

/* What tells that the file at path was not touched since: its inode,
 * mtime and ctime ("" when it is no regular file). The ctime matters: a
 * hand edit can restore the size and mtime, but only the kernel sets the
 * ctime. */
static void stamp_string(const char *path, char out[64], struct stat *st)
{
    out[0] = '\0';
    if (stat(path, st) == 0 && S_ISREG(st->st_mode))
        snprintf(out, 64, "%llu:%llu:%llu", (unsigned long long)st->st_ino,
                 (unsigned long long)sp_stat_mtime_ns(st),
                 (unsigned long long)sp_stat_ctime_ns(st));
}

/* The xxh3 of the file at path, hex ("" when it cannot be read). */
static void file_xxh3(const char *path, char out[17])
{
    out[0] = '\0';
    sp_map m;
    if (sp_map_view(&m, path, NULL) != 0)
        return;
    sp_xxh3_hex(m.data, m.size, out);
    sp_map_close(&m);
}

int pack_state_file_matches(const char *path, const struct state_output *rec)
{
    struct stat st;
    char stamp[64];
    if (!rec)
        return 0;
    stamp_string(path, stamp, &st);
    if (!*stamp || rec->size != (uint64_t)st.st_size || strcmp(rec->stamp, stamp) != 0)
        return 0;
    if (!rec->racy)
        return 1;
    char now[17];
    file_xxh3(path, now);
    return *rec->xxh3 && !strcmp(rec->xxh3, now) ? 2 : 0;
}

struct state_output *pack_state_find(const struct pack_state *s, const char *rel)
{
    for (size_t i = 0; i < s->outputs.n; i++)
        if (!strcmp(s->outputs.v[i].rel, rel))
            return &s->outputs.v[i];
    return NULL;
}

const struct state_output *pack_state_reusable(const struct pack_state *s, const char *out_dir,
                                               const char *rel, const char *recipe)
{
    const struct state_output *rec = pack_state_find(s, rel);
    if (!rec || strcmp(rec->recipe, recipe) != 0)
        return NULL;
    char *path = sp_path_join(out_dir, rel);
    int ok = pack_state_file_matches(path, rec);
    free(path);
    return ok ? rec : NULL;
}

int pack_state_untouched(const struct pack_state *s, const char *out_dir, const sp_pack_opts *o,
                         const char *key_hex)
{
    if (!s->outputs.n || strcmp(s->options, key_hex) != 0)
        return 0;
    int how = 1;
    for (size_t i = 0; i < s->outputs.n; i++) {
        char *path = sp_path_join(out_dir, s->outputs.v[i].rel);
        int ok = pack_state_file_matches(path, &s->outputs.v[i]);
        free(path);
        if (!ok)
            return 0;
        how = ok > how ? ok : how;
    }
    if (o->apk_path) {
        int ok = s->has_apk && !strcmp(s->apk.rel, o->apk_path)
                     ? pack_state_file_matches(o->apk_path, &s->apk)
                     : 0;
        if (!ok)
            return 0;
        how = ok > how ? ok : how;
    }
    return how;
}

/* State files of output directories not packed into, nor checked, for this
 * long are removed when another state is saved: each output directory ever
 * used leaves some (the input snapshot can take megabytes), and CI runners
 * pack into fresh temporary directories. */
#define STATE_KEEP_DAYS 30

static int is_state_name(const char *name)
{
    for (int i = 0; i < 16; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return 0;
    return name[16] == '.';
}

static void prune_states(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t before = time(NULL) - (time_t)STATE_KEEP_DAYS * 24 * 3600;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (!is_state_name(de->d_name) || fstatat(dirfd(d), de->d_name, &st, 0) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        /* A no-op repack only reads its state: the access time tells it is in use. */
        if (st.st_mtime < before && st.st_atime < before)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

static cJSON *record_json(const struct state_output *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "recipe", r->recipe);
    cJSON_AddNumberToObject(o, "size", (double)r->size);
    if (r->deflated != UINT64_MAX)
        cJSON_AddNumberToObject(o, "deflated", (double)r->deflated);
    cJSON_AddStringToObject(o, "xxh3", r->xxh3);
    if (r->entries >= 0)
        cJSON_AddNumberToObject(o, "entries", (double)r->entries);
    cJSON_AddStringToObject(o, "stamp", r->stamp);
    return o;
}

void pack_state_save(const char *base, struct pack_state *s, const char *out_dir)
{
    if (!base)
        return;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "format", STATE_FORMAT);
    cJSON_AddStringToObject(j, "options", s->options);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    char saved[24];
    snprintf(saved, sizeof saved, "%llu",
             (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec);
    cJSON_AddStringToObject(j, "saved_ns", saved);
    cJSON *w = cJSON_AddArrayToObject(j, "warnings");
    for (size_t i = 0; i < s->warnings.n; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(s->warnings.v[i]));
    cJSON *outs = cJSON_AddObjectToObject(j, "outputs");
    struct stat st;
    for (size_t i = 0; i < s->outputs.n; i++) {
        struct state_output *r = &s->outputs.v[i];
        char *path = sp_path_join(out_dir, r->rel);
        stamp_string(path, r->stamp, &st);
        free(path);
        cJSON_AddItemToObject(outs, r->rel, record_json(r));
    }
    if (s->has_apk) {
        stamp_string(s->apk.rel, s->apk.stamp, &st);
        s->apk.size = (uint64_t)st.st_size;
        if (!*s->apk.xxh3) /* written by this run: what a racy stamp is checked by */
            file_xxh3(s->apk.rel, s->apk.xxh3);
        cJSON *apk = record_json(&s->apk);
        cJSON_AddStringToObject(apk, "path", s->apk.rel);
        cJSON_AddItemToObject(j, "apk", apk);
    }
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    char *path = sp_xasprintf("%s.json", base);
    char *dir = sp_xstrndup(path, (size_t)(strrchr(path, '/') - path));
    if (sp_mkdirs(dir, NULL) == 0)
        sp_write_file_atomic(path, text, strlen(text), NULL);
    prune_states(dir);
    SP_FREE_ALL(dir, path, text);
}

/* ---- the input snapshot --------------------------------------------------------------------- */

int pack_inputs_unchanged(const char *base, const sp_pack_opts *o, uint64_t key, int jobs)
{
    const char **paths = sp_xcalloc(o->ninputs, sizeof *paths);
    for (size_t i = 0; i < o->ninputs; i++)
        paths[i] = o->inputs[i].path;
    char *snapshot = sp_xasprintf("%s.inputs", base);
    int unchanged = sp_snapshot_unchanged(snapshot, key, paths, o->ninputs, jobs);
    SP_FREE_ALL(snapshot, paths);
    return unchanged;
}

void pack_inputs_snapshot(const char *base, const sp_pack_opts *o, uint64_t key,
                          const struct pack_inputs *in)
{
    sp_snapshot_root *roots = sp_xcalloc(o->ninputs, sizeof *roots);
    for (size_t i = 0; i < o->ninputs; i++)
        roots[i] = (sp_snapshot_root){o->inputs[i].path, &in->trees[i], !in->is_dir[i]};
    char *snapshot = sp_xasprintf("%s.inputs", base);
    sp_snapshot_save(snapshot, key, roots, o->ninputs, in->walk_start);
    SP_FREE_ALL(snapshot, roots);
}
