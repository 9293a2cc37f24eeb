/* sp-pack mangle: the library name of dotted module names. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "sppack/mangle.h"

static const char mangle_about[] =
    "Prints, one per line, the library name each dotted module name gets in\n"
    "lib/<abi>/: \"lib\" + the name with \".\" replaced by \"-\" + \".so\"; bytes\n"
    "outside [A-Za-z0-9_] are written as \".xx\" (hex), so names stay reversible.\n"
    "  sp-pack mangle numpy.core._multiarray_umath\n"
    "  libnumpy-core-_multiarray_umath.so\n";

static const sp_cli_option mangle_options[] = {{0}};

const sp_cli_command cmd_mangle_spec = {
    "mangle", "MODULE...", mangle_about, mangle_options, 1, -1, "give at least one module name",
    NULL};

int cmd_mangle(const sp_cli_values *v)
{
    int rc = 0;
    for (size_t i = 0; i < v->args.n; i++) {
        char *lib = sp_mangle(v->args.v[i]);
        if (!lib) {
            rc = sp_cli_error(SP_EUSAGE, "%s: not a dotted module name", v->args.v[i]);
            continue;
        }
        printf("%s\n", lib);
        free(lib);
    }
    return rc;
}
