/* libFuzzer target over the stripper (pack --strip): any bytes as a library.
 * It must refuse (saying why), find nothing to strip, or give an image
 * that is no larger than needed, strips to nothing more, keeps the bytes
 * up to the end of its segments, and that the ELF inspector reads as it
 * read the input, whenever it read the input at all; never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/alloc.h"
#include "sppack/elfinspect.h"
#include "sppack/elfstrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *out = NULL, *again = NULL;
    size_t n = 0, n2 = 0;
    sp_error err;
    sp_error_init(&err);
    int rc = sp_elf_strip(data, size, "fuzz", &out, &n, &err);
    if (rc < 0) {
        if (err.status != SP_EINPUT || !strstr(err.msg, "fuzz: cannot strip"))
            abort();
        return 0;
    }
    if (rc == 0) {
        if (out)
            abort();
        return 0;
    }
    if (!out || !n || sp_elf_strip(out, n, "fuzz", &again, &n2, &err) != 0 || again)
        abort(); /* stripped twice: nothing left to remove */
    /* What pack checks on the input holds for the output. */
    unsigned char *a = memcpy(sp_xmalloc(size ? size : 1), data, size);
    unsigned char *b = memcpy(sp_xmalloc(n), out, n);
    sp_elf_info x, y;
    if (sp_elf_inspect(a, size, "in", &x, &err) == 0) {
        if (sp_elf_inspect(b, n, "out", &y, &err) != 0)
            abort();
        if (x.machine != y.machine || x.elf_class != y.elf_class ||
            !sp_strv_equal(&x.pyinit, &y.pyinit) || !sp_strv_equal(&x.needed, &y.needed) ||
            x.nloads != y.nloads || x.min_load_align != y.min_load_align ||
            x.android_api != y.android_api || x.nsections != y.nsections)
            abort();
        sp_elf_info_release(&y);
        sp_elf_info_release(&x);
    }
    free(a);
    free(b);
    free(out);
    return 0;
}
