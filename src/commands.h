/* The subcommands: each cmd_<name>.c defines its option table (an
 * sp_cli_command) and its entry point. The table in main.c maps names to
 * them; --help is generated from it. */
#ifndef SPPACK_COMMANDS_H
#define SPPACK_COMMANDS_H

#include "cli.h"

/* A command runs on its parsed options (main.c parses them by the
 * command's table). Returns the exit status. */
typedef int (*sp_command_fn)(const sp_cli_values *v);

int cmd_pack(const sp_cli_values *v);
int cmd_verify(const sp_cli_values *v);
int cmd_ls(const sp_cli_values *v);
int cmd_inject(const sp_cli_values *v);
int cmd_align(const sp_cli_values *v);
int cmd_mangle(const sp_cli_values *v);

extern const sp_cli_command cmd_pack_spec, cmd_verify_spec, cmd_ls_spec, cmd_inject_spec,
    cmd_align_spec, cmd_mangle_spec;

#endif
