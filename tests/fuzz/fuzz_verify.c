/* libFuzzer target over verify's entry point: any bytes, as an APK, .apks,
 * bundle or zip. Verify must never crash, hang or balloon memory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sppack/report.h"
#include "sppack/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* verify wants writable bytes (libelf may convert headers in place). */
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    sp_verify_opts o = {16384, 24, (int)(size & 1)}; /* --deep on half the inputs */
    sp_report r;
    sp_report_init(&r);
    sp_error err;
    if (sp_verify_buffer(copy, size, "fuzz-input", &o, &r, &err) != 0)
        abort(); /* everything wrong in the bytes is a finding */
    sp_report_release(&r);
    free(copy);
    return 0;
}
