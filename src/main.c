/* sp-pack: parses the global flags and dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "sppack/error.h"

#ifndef SP_PACK_VERSION
#define SP_PACK_VERSION "0"
#endif

static const struct {
    sp_command_fn run;
    const sp_cli_command *spec;
    const char *config_option; /* the option naming a --config file, or NULL */
    const char *summary;
} commands[] = {
    {cmd_pack, &cmd_pack_spec, "config", "package CPython trees into jniLibs/ and stored zips"},
    {cmd_verify, &cmd_verify_spec, NULL,
     "check an APK, .apks, .aab, zip or pack output (the CI gate)"},
    {cmd_ls, &cmd_ls_spec, NULL, "list natives per ABI, Python zips and download sizes"},
    {cmd_inject, &cmd_inject_spec, NULL, "merge a pack output into an APK or App Bundle"},
    {cmd_align, &cmd_align_spec, NULL, "page-align the entries of an APK (zipalign -P equivalent)"},
    {cmd_mangle, &cmd_mangle_spec, NULL, "print the library name of dotted module names"},
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
        fprintf(f, "  %-8s %s\n", commands[i].spec->name, commands[i].summary);
    fprintf(f, "\n%s\nRun 'sp-pack help COMMAND' for a command's options.\n", exit_codes);
}

static int find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].spec->name, name) == 0)
            return (int)i;
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return sp_cli_error(SP_EUSAGE, "no command given");
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
        int c = find_command(argv[2]);
        if (c < 0)
            return sp_cli_error(SP_EUSAGE, "unknown command '%s'", argv[2]);
        sp_cli_print_usage(commands[c].spec, exit_codes);
        return SP_OK;
    }
    int c = find_command(arg);
    if (c < 0)
        return sp_cli_error(SP_EUSAGE, "unknown command '%s'", arg);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            sp_cli_print_usage(commands[c].spec, exit_codes);
            return SP_OK;
        }
        if (!strcmp(argv[i], "--"))
            break;
    }
    sp_cli_values v;
    int rc = sp_cli_parse(commands[c].spec, argc, argv, commands[c].config_option, &v);
    if (rc != 0)
        return rc;
    rc = commands[c].run(&v);
    sp_cli_values_release(&v);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sp-pack: cannot write to standard output\n");
        return SP_EIO;
    }
    return rc;
}
