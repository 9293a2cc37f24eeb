/* The option tables' parser, --config files and --help (see cli.h). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/buf.h"
#include "sppack/file.h"
#include "sppack/path.h"
#include "sppack/text.h"

int sp_cli_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *raw = sp_xvasprintf(fmt, ap, NULL);
    va_end(ap);
    /* One line per error, so a CI log shows it whole: whatever a name
     * holds, no control character gets through. */
    char *msg = sp_escape_controls(raw);
    free(raw);
    fprintf(stderr, "sp-pack: %s%s\n", msg,
            status == SP_EUSAGE && !strstr(msg, "hint:") ? " (see 'sp-pack --help')" : "");
    free(msg);
    return status;
}

const char *sp_cli_size(double bytes, char buf[32])
{
    if (bytes >= 1048576.0)
        snprintf(buf, 32, "%.1f MiB", bytes / 1048576.0);
    else if (bytes >= 1024.0)
        snprintf(buf, 32, "%.1f KiB", bytes / 1024.0);
    else
        snprintf(buf, 32, "%.0f B", bytes);
    return buf;
}

const char *sp_cli_verdict_16k(long refused, char buf[64])
{
    if (refused < 0)
        snprintf(buf, 64, "not applicable (a 32-bit ABI; 16 KB devices are 64-bit)");
    else if (refused)
        snprintf(buf, 64, "not ready (%ld librar%s)", refused, refused == 1 ? "y" : "ies");
    else
        snprintf(buf, 64, "ready");
    return buf;
}

void sp_cli_print_size(const char *const *abis, int nabis, const uint64_t *install,
                       const uint64_t *download, const sp_size_package *packages, size_t n)
{
    char a[32], b[32];
    if (nabis)
        printf("size per ABI (install: what a device stores; download: an estimate, every file "
               "deflated at level 9):\n");
    for (int i = 0; i < nabis; i++) {
        char *name = sp_escape(abis[i]);
        printf("  %-12s  install %10s   download ~%10s\n", name, sp_cli_size((double)install[i], a),
               sp_cli_size((double)download[i], b));
        free(name);
    }
    if (n)
        printf("largest packages (installed, on the ABI where each is largest):\n");
    for (size_t i = 0; i < n; i++) {
        char *name = sp_escape(packages[i].name);
        printf("  %-32s %10s\n", name, sp_cli_size((double)packages[i].bytes, a));
        free(name);
    }
}

long sp_cli_page_size(const char *s)
{
    if (!strcmp(s, "4") || !strcmp(s, "16") || !strcmp(s, "64"))
        return atol(s) * 1024;
    return -1;
}

static size_t count_options(const sp_cli_command *cmd)
{
    size_t n = 0;
    while (cmd->options[n].name)
        n++;
    return n;
}

static int option_index(const sp_cli_command *cmd, const char *name)
{
    for (int i = 0; cmd->options[i].name; i++)
        if (!strcmp(cmd->options[i].name, name))
            return i;
    abort(); /* an option missing from the table is a programming error */
}

void sp_cli_values_release(sp_cli_values *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->opt[i].str);
        sp_strv_release(&v->opt[i].list);
    }
    free(v->opt);
    sp_strv_release(&v->args);
    memset(v, 0, sizeof *v);
}

int sp_cli_flag(const sp_cli_command *cmd, const sp_cli_values *v, const char *name)
{
    const sp_cli_value *x = &v->opt[option_index(cmd, name)];
    return x->set && x->num;
}

const char *sp_cli_str(const sp_cli_command *cmd, const sp_cli_values *v, const char *name)
{
    return v->opt[option_index(cmd, name)].str;
}

const sp_strv *sp_cli_list(const sp_cli_command *cmd, const sp_cli_values *v, const char *name)
{
    return &v->opt[option_index(cmd, name)].list;
}

long sp_cli_num(const sp_cli_command *cmd, const sp_cli_values *v, const char *name, long dflt)
{
    const sp_cli_value *x = &v->opt[option_index(cmd, name)];
    return x->set ? x->num : dflt;
}

/* ---- one value, from the command line or a config file -------------------------------------- */

/* Checks and stores a value of a STRING, INT or PAGE option. */
static int set_value(const sp_cli_command *cmd, const sp_cli_option *o, sp_cli_value *x,
                     const char *value)
{
    if (o->kind == SP_CLI_INT) {
        char *end;
        errno = 0;
        long n = strtol(value, &end, 10);
        if (!*value || *end || errno || n < o->min || n > o->max)
            return sp_cli_error(SP_EUSAGE, "%s: --%s needs a number from %ld to %ld, not '%s'",
                                cmd->name, o->name, o->min, o->max, value);
        x->num = n;
    } else if (o->kind == SP_CLI_PAGE) {
        x->num = sp_cli_page_size(value);
        if (x->num < 0)
            return sp_cli_error(SP_EUSAGE, "%s: --%s must be 4, 16 or 64, not '%s'", cmd->name,
                                o->name, value);
    } else if (o->kind == SP_CLI_STRING) {
        free(x->str);
        x->str = sp_xstrdup(value);
    } else {
        sp_strv_push(&x->list, value);
    }
    x->set = 1;
    return 0;
}

/* ---- the command line ----------------------------------------------------------------------- */

static const sp_cli_option *find_long(const sp_cli_command *cmd, const char *name, size_t n)
{
    for (const sp_cli_option *o = cmd->options; o->name; o++)
        if (strlen(o->name) == n && !strncmp(o->name, name, n))
            return o;
    return NULL;
}

static const sp_cli_option *find_short(const sp_cli_command *cmd, char c)
{
    for (const sp_cli_option *o = cmd->options; o->name; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

static int parse_argv(const sp_cli_command *cmd, int argc, char **argv, sp_cli_values *v,
                      char *from_command_line)
{
    int list = -1; /* values after a LIST option keep filling it */
    int only_args = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || a[1] == '\0') {
            sp_strv_push(list >= 0 ? &v->opt[list].list : &v->args, a);
            continue;
        }
        list = -1;
        if (!strcmp(a, "--")) {
            only_args = 1;
            continue;
        }
        const sp_cli_option *o;
        const char *value = NULL;
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            o = find_long(cmd, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
            if (eq)
                value = eq + 1;
        } else {
            o = a[2] == '\0' ? find_short(cmd, a[1]) : NULL;
        }
        if (!o)
            return sp_cli_error(SP_EUSAGE, "%s: unknown option '%s'", cmd->name, a);
        int idx = (int)(o - cmd->options);
        sp_cli_value *x = &v->opt[idx];
        if (o->kind == SP_CLI_FLAG) {
            if (value)
                return sp_cli_error(SP_EUSAGE, "%s: option '--%s' takes no value", cmd->name,
                                    o->name);
            x->set = 1;
            x->num = 1;
            from_command_line[idx] = 1;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0'))
                return sp_cli_error(SP_EUSAGE, "%s: option '%s' needs a value", cmd->name, a);
            value = argv[++i];
        }
        from_command_line[idx] = 1;
        int rc = set_value(cmd, o, x, value);
        if (rc)
            return rc;
        if (o->kind == SP_CLI_LIST)
            list = idx;
    }
    return 0;
}

/* ---- --config files ------------------------------------------------------------------------- */

/* A config value as the option wants it: paths are relative to the file. */
static char *config_string(const sp_cli_option *o, const char *base_dir, const char *value)
{
    if (o->config == SP_CFG_PROGRAM && !strchr(value, '/'))
        return sp_xstrdup(value); /* a bare name, looked up on PATH */
    if (o->config != SP_CFG_PATH && o->config != SP_CFG_ABIPATH && o->config != SP_CFG_PROGRAM)
        return sp_xstrdup(value);
    const char *eq = o->config == SP_CFG_ABIPATH ? strchr(value, '=') : NULL;
    const char *path = value;
    char *abi = NULL;
    if (eq && memchr(value, '/', (size_t)(eq - value)) == NULL) {
        abi = sp_xstrndup(value, (size_t)(eq - value + 1));
        path = eq + 1;
    }
    char *joined = path[0] == '/' || !*base_dir ? sp_xstrdup(path) : sp_path_join(base_dir, path);
    char *out = abi ? sp_xasprintf("%s%s", abi, joined) : sp_xstrdup(joined);
    SP_FREE_ALL(joined, abi);
    return out;
}

static int config_keys_error(const sp_cli_command *cmd, const char *file, const char *key)
{
    sp_buf keys;
    sp_buf_init(&keys);
    for (const sp_cli_option *o = cmd->options; o->name; o++)
        if (o->config != SP_CFG_NONE)
            sp_buf_addf(&keys, "%s%s", keys.len ? ", " : "", o->name);
    int rc = sp_cli_error(SP_EUSAGE, "%s: unknown or mistyped key \"%s\" (keys: %s)", file, key,
                          keys.data);
    sp_buf_release(&keys);
    return rc;
}

/* One key of the file into x (a fresh value, merged later). */
static int config_item(const sp_cli_command *cmd, const char *file, const char *base_dir,
                       const sp_cli_option *o, const cJSON *item, sp_cli_value *x)
{
    if (o->kind == SP_CLI_FLAG) {
        if (!cJSON_IsBool(item))
            return config_keys_error(cmd, file, o->name);
        x->set = 1;
        x->num = cJSON_IsTrue(item);
        return 0;
    }
    if (o->kind == SP_CLI_LIST || o->kind == SP_CLI_MULTI) {
        const cJSON *v;
        if (cJSON_IsString(item)) {
            sp_strv_push_owned(&x->list, config_string(o, base_dir, item->valuestring));
        } else if (cJSON_IsArray(item)) {
            cJSON_ArrayForEach(v, item)
            {
                if (!cJSON_IsString(v))
                    return sp_cli_error(SP_EUSAGE, "%s: \"%s\" must hold strings", file, o->name);
                sp_strv_push_owned(&x->list, config_string(o, base_dir, v->valuestring));
            }
        } else {
            return sp_cli_error(SP_EUSAGE, "%s: \"%s\" must be a string or a list of strings", file,
                                o->name);
        }
        x->set = 1;
        return 0;
    }
    char num[64];
    const char *value;
    if (cJSON_IsString(item) && o->kind != SP_CLI_INT) {
        value = item->valuestring;
    } else if (cJSON_IsNumber(item) && (o->kind == SP_CLI_INT || o->kind == SP_CLI_PAGE)) {
        double d = item->valuedouble;
        if (d != (double)(long)d)
            return sp_cli_error(SP_EUSAGE, "%s: \"%s\" must be a whole number, not %g", file,
                                o->name, d);
        snprintf(num, sizeof num, "%ld", (long)d);
        value = num;
    } else {
        return config_keys_error(cmd, file, o->name);
    }
    char *s = config_string(o, base_dir, value);
    int rc = set_value(cmd, o, x, s);
    free(s);
    return rc;
}

static int load_config(const sp_cli_command *cmd, const char *file, sp_cli_values *v,
                       const char *from_command_line)
{
    sp_map m;
    sp_error err;
    sp_error_init(&err);
    if (sp_map_open(&m, file, &err) != 0)
        return sp_cli_error(errno == ENOENT ? SP_EUSAGE : err.status, "%s", err.msg);
    /* The whole file must be one JSON object: nothing after it. */
    char *text = sp_xstrndup((const char *)m.data, m.size);
    sp_map_close(&m);
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return sp_cli_error(SP_EUSAGE, "%s: not a JSON object", file);
    }
    const char *slash = strrchr(file, '/');
    char *base_dir = slash ? sp_xstrndup(file, (size_t)(slash - file)) : sp_xstrdup("");
    int rc = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, j)
    {
        const sp_cli_option *o = find_long(cmd, item->string, strlen(item->string));
        if (!o || o->config == SP_CFG_NONE) {
            rc = config_keys_error(cmd, file, item->string);
            break;
        }
        sp_cli_value x;
        memset(&x, 0, sizeof x);
        sp_strv_init(&x.list);
        rc = config_item(cmd, file, base_dir, o, item, &x);
        size_t idx = (size_t)(o - cmd->options);
        if (rc == 0 && !from_command_line[idx]) { /* the command line wins */
            free(v->opt[idx].str);
            sp_strv_release(&v->opt[idx].list);
            v->opt[idx] = x;
        } else {
            free(x.str);
            sp_strv_release(&x.list);
        }
        if (rc)
            break;
    }
    free(base_dir);
    cJSON_Delete(j);
    return rc;
}

int sp_cli_parse(const sp_cli_command *cmd, int argc, char **argv, const char *config_option,
                 sp_cli_values *out)
{
    memset(out, 0, sizeof *out);
    out->n = count_options(cmd);
    out->opt = sp_xcalloc(out->n, sizeof *out->opt);
    sp_strv_init(&out->args);
    out->program = argv[0];
    char *from_command_line = sp_xcalloc(out->n, 1);
    int rc = parse_argv(cmd, argc, argv, out, from_command_line);
    if (rc == 0 && ((int)out->args.n < cmd->min_args ||
                    (cmd->max_args >= 0 && (int)out->args.n > cmd->max_args))) {
        if ((int)out->args.n > cmd->max_args && cmd->max_args >= 0 && out->args.n)
            rc = sp_cli_error(SP_EUSAGE, "%s: unexpected argument '%s'", cmd->name,
                              out->args.v[cmd->max_args]);
        else
            rc = sp_cli_error(SP_EUSAGE, "%s: %s", cmd->name, cmd->args_error);
    }
    const char *config = config_option ? sp_cli_str(cmd, out, config_option) : NULL;
    if (rc == 0 && config)
        rc = load_config(cmd, config, out, from_command_line);
    free(from_command_line);
    if (rc)
        sp_cli_values_release(out);
    return rc;
}

/* ---- --help --------------------------------------------------------------------------------- */

#define HELP_COLUMN 26

void sp_cli_print_usage(const sp_cli_command *cmd, const char *exit_codes)
{
    printf("usage: sp-pack %s %s\n\n%s", cmd->name, cmd->synopsis, cmd->about);
    if (cmd->options[0].name) {
        printf("\nOptions:\n");
        for (const sp_cli_option *o = cmd->options; o->name; o++) {
            char left[128], flag[8] = "";
            if (o->short_name)
                snprintf(flag, sizeof flag, "-%c, ", o->short_name);
            int n = snprintf(left, sizeof left, "  %s--%s%s%s", flag, o->name, o->arg ? " " : "",
                             o->arg ? o->arg : "");
            printf("%s", left);
            const char *h = o->help;
            if (n >= HELP_COLUMN) {
                printf("\n%*s", HELP_COLUMN, "");
            } else {
                printf("%*s", HELP_COLUMN - n, "");
            }
            for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
                printf("%.*s\n%*s", (int)(nl - h), h, HELP_COLUMN, "");
            printf("%s\n", h);
        }
    }
    if (cmd->epilog)
        printf("\n%s", cmd->epilog);
    printf("\n%s", exit_codes);
}
