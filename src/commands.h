/* The subcommands: each cmd_<name>.c defines one entry point. The table in
 * main.c maps names to them; --help is generated from it. */
#ifndef SPPACK_COMMANDS_H
#define SPPACK_COMMANDS_H

struct sp_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
    const char *usage;                 /* printed by `sp-pack help NAME` */
};

int cmd_pack(int argc, char **argv);
int cmd_mangle(int argc, char **argv);
int cmd_align(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_inject(int argc, char **argv);

extern const char cmd_pack_usage[];
extern const char cmd_mangle_usage[];
extern const char cmd_align_usage[];
extern const char cmd_verify_usage[];
extern const char cmd_ls_usage[];
extern const char cmd_inject_usage[];

/* Prints "sp-pack: <msg>" (and, for usage errors, a pointer to help) on
 * stderr and returns the status to exit with. */
int sp_report_error(int status, const char *msg);

#endif
