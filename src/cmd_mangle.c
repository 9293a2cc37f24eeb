#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "sppack/error.h"
#include "sppack/mangle.h"

const char cmd_mangle_usage[] =
    "usage: sp-pack mangle MODULE...\n\n"
    "Prints, one per line, the library name each dotted module name gets in\n"
    "lib/<abi>/: \"lib\" + the name with \".\" replaced by \"-\" + \".so\"; bytes\n"
    "outside [A-Za-z0-9_] are written as \".xx\" (hex), so names stay reversible.\n"
    "  sp-pack mangle numpy.core._multiarray_umath\n"
    "  libnumpy-core-_multiarray_umath.so\n";

int cmd_mangle(int argc, char **argv)
{
    if (argc < 2)
        return sp_report_error(SP_EUSAGE, "mangle: give at least one module name");
    int rc = SP_OK;
    for (int i = 1; i < argc; i++) {
        char *lib = sp_mangle(argv[i]);
        if (!lib) {
            fprintf(stderr, "sp-pack: %s: not a dotted module name\n", argv[i]);
            rc = SP_EUSAGE;
            continue;
        }
        printf("%s\n", lib);
        free(lib);
    }
    return rc;
}
