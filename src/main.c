/* sp-pack: parses the global flags and dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "sppack/error.h"

#ifndef SP_PACK_VERSION
#define SP_PACK_VERSION "0"
#endif

static const struct sp_command commands[] = {
    {"pack", cmd_pack, "package CPython trees into jniLibs/ and stored zips", cmd_pack_usage},
    {"verify", cmd_verify, "check an APK, .apks, .aab, zip or pack output (the CI gate)",
     cmd_verify_usage},
    {"ls", cmd_ls, "list natives per ABI, Python zips and download sizes", cmd_ls_usage},
    {"inject", cmd_inject, "merge a pack output into an APK or App Bundle", cmd_inject_usage},
    {"align", cmd_align, "page-align the entries of an APK (zipalign -P equivalent)",
     cmd_align_usage},
    {"mangle", cmd_mangle, "print the library name of dotted module names", cmd_mangle_usage},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char exit_codes[] =
    "Exit status:\n"
    "  0  success\n"
    "  1  the input is wrong (verify found errors, pack or inject refused an input,\n"
    "     align -c found misaligned entries)\n"
    "  2  usage error\n"
    "  3  I/O or system failure\n";

static void print_help(FILE *f)
{
    fprintf(f, "usage: sp-pack COMMAND [OPTIONS]\n"
               "       sp-pack --version | --help | help COMMAND\n\n"
               "Package CPython for Android: native modules to lib/<abi>/, pure code to\n"
               "stored zips, markers that a runtime finder resolves.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n%s\nRun 'sp-pack help COMMAND' for a command's options.\n", exit_codes);
}

static const struct sp_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int sp_report_error(int status, const char *msg)
{
    /* One line per error, so a CI log shows it whole. */
    fprintf(stderr, "sp-pack: %s%s\n", msg,
            status == SP_EUSAGE && !strstr(msg, "hint:") ? " (see 'sp-pack --help')" : "");
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "sp-pack: no command given (see 'sp-pack --help')\n");
        return SP_EUSAGE;
    }
    const char *arg = argv[1];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
        print_help(stdout);
        return SP_OK;
    }
    if (!strcmp(arg, "--version")) {
        printf("sp-pack %s\n", SP_PACK_VERSION);
        return SP_OK;
    }
    if (!strcmp(arg, "help")) {
        if (argc < 3) {
            print_help(stdout);
            return SP_OK;
        }
        const struct sp_command *c = find_command(argv[2]);
        if (!c) {
            fprintf(stderr, "sp-pack: unknown command '%s'\n", argv[2]);
            return SP_EUSAGE;
        }
        fputs(c->usage, stdout);
        fputs("\n", stdout);
        fputs(exit_codes, stdout);
        return SP_OK;
    }
    const struct sp_command *c = find_command(arg);
    if (!c) {
        fprintf(stderr, "sp-pack: unknown command '%s' (see 'sp-pack --help')\n", arg);
        return SP_EUSAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(c->usage, stdout);
            fputs("\n", stdout);
            fputs(exit_codes, stdout);
            return SP_OK;
        }
        if (!strcmp(argv[i], "--"))
            break;
    }
    int rc = c->run(argc - 1, argv + 1);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sp-pack: cannot write to standard output\n");
        return SP_EIO;
    }
    return rc;
}
