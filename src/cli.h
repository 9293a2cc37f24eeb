/* The command layer's shared parts: each command declares its options once,
 * in a table (sp_cli_option); that table drives the argv parser, the
 * options part of its --help, the keys of a --config file and their merge
 * with the command line. Also: one way to report errors, the page-size
 * parser, human sizes. */
#ifndef SPPACK_CLI_H
#define SPPACK_CLI_H

#include <stddef.h>

#include "sppack/error.h"
#include "sppack/sizereport.h"
#include "sppack/strv.h"

enum sp_cli_kind {
    SP_CLI_FLAG,   /* --json */
    SP_CLI_STRING, /* --out DIR; given again, the last one counts */
    SP_CLI_LIST,   /* --stdlib A B: every value up to the next option; repeatable */
    SP_CLI_MULTI,  /* --ignore ID: one value per use; repeatable */
    SP_CLI_INT,    /* --jobs N, from min to max */
    SP_CLI_PAGE    /* --page-size 4|16|64, kept as bytes */
};

/* How a --config file's value is read, beyond its JSON type. */
enum sp_cli_config {
    SP_CFG_NONE,    /* not a config key */
    SP_CFG_VALUE,   /* as it is */
    SP_CFG_PATH,    /* a path, relative to the config file's directory */
    SP_CFG_ABIPATH, /* [ABI=]PATH, the path relative to the file's directory */
    SP_CFG_PROGRAM  /* a path relative to the file, or a bare name for PATH */
};

typedef struct sp_cli_option {
    const char *name; /* long name, without "--"; also its config key */
    char short_name;  /* 'q' for -q, or 0 */
    int kind;         /* enum sp_cli_kind */
    const char *arg;  /* its value's name in --help ("DIR"), NULL for flags */
    const char *help; /* for --help; may hold '\n' for more lines */
    int config;       /* enum sp_cli_config */
    long min, max;    /* SP_CLI_INT's range */
} sp_cli_option;

typedef struct sp_cli_command {
    const char *name;
    const char *synopsis;         /* what follows "usage: sp-pack NAME " */
    const char *about;            /* paragraphs after the usage line */
    const sp_cli_option *options; /* ended by an entry with name NULL */
    int min_args, max_args;       /* positional arguments; max -1: any number */
    const char *args_error;       /* the usage error when their count is wrong */
    const char *epilog;           /* text after the options, or NULL */
} sp_cli_command;

/* What a command line (and config file) gave, per option in table order. */
typedef struct sp_cli_value {
    int set;      /* given at all */
    char *str;    /* SP_CLI_STRING */
    sp_strv list; /* SP_CLI_LIST, SP_CLI_MULTI */
    long num;     /* SP_CLI_INT; SP_CLI_PAGE in bytes; SP_CLI_FLAG 1 */
} sp_cli_value;

typedef struct sp_cli_values {
    sp_cli_value *opt;
    size_t n;
    sp_strv args;        /* positional arguments */
    const char *program; /* argv[0]: sp-pack as it was started */
} sp_cli_values;

/* Parses argv[2..argc) (argv[0] is the program, argv[1] the command) by the
 * command's table; with config_option naming an option, that option's value
 * is a --config file whose keys fill in what the command line left unset.
 * Returns 0, or the exit status after reporting a usage error. */
int sp_cli_parse(const sp_cli_command *cmd, int argc, char **argv, const char *config_option,
                 sp_cli_values *out);
void sp_cli_values_release(sp_cli_values *v);

/* Typed access by option name (which must be in the table). */
int sp_cli_flag(const sp_cli_command *cmd, const sp_cli_values *v, const char *name);
const char *sp_cli_str(const sp_cli_command *cmd, const sp_cli_values *v, const char *name);
const sp_strv *sp_cli_list(const sp_cli_command *cmd, const sp_cli_values *v, const char *name);
/* The number given, or dflt when the option was not. */
long sp_cli_num(const sp_cli_command *cmd, const sp_cli_values *v, const char *name, long dflt);

/* "4", "16" or "64" (KB) as bytes; -1 for anything else. */
long sp_cli_page_size(const char *s);

/* Prints the command's --help text. */
void sp_cli_print_usage(const sp_cli_command *cmd, const char *exit_codes);

/* Prints "sp-pack: <message>" on stderr (and, for a usage error without a
 * hint, a pointer to --help) and returns status, to exit with. */
int sp_cli_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "12.3 MiB", "4.0 KiB", "17 B" into buf; returns buf. */
const char *sp_cli_size(double bytes, char buf[32]);
/* Whether 16 KB page devices load an ABI's libraries, from how many they
 * refuse (-1 for a 32-bit ABI): "ready", "not ready (N libraries)". */
const char *sp_cli_verdict_16k(long refused, char buf[64]);

/* The size report of pack and ls: per ABI install and download, then the
 * largest packages (none when n is 0). */
void sp_cli_print_size(const char *const *abis, int nabis, const uint64_t *install,
                       const uint64_t *download, const sp_size_package *packages, size_t n);

#endif
