/* libFuzzer target over align: any bytes as the APK to align, to a new
 * file or in place. It must refuse or write an archive that holds the same
 * entries, aligned, never crash, and never leave a temporary file. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *in, *out;
    if (!in) {
        in = fuzz_path("in.apk");
        out = fuzz_path("out.apk");
    }
    unlink(out);
    fuzz_write(in, data, size);
    unsigned page = size & 2 ? 4096 : 16384;
    int in_place = size & 4;
    const char *dest = in_place ? in : out;
    sp_error err;
    sp_error_init(&err);
    int rc = sp_apk_align(in, dest, page, &err);
    fuzz_no_temporary_files();
    if (rc != 0) {
        if (err.status == 0 || !err.msg[0])
            abort(); /* a refusal says why */
        if (!in_place && access(out, F_OK) == 0)
            abort(); /* and writes nothing */
        return 0;
    }
    fuzz_check_output(dest, page);
    /* The same entries, in the same order, with the same bytes. */
    sp_zip a, b;
    memset(&a, 0, sizeof a); /* sp_zip_open_buffer keeps a's (empty) mapping */
    if (sp_zip_open_buffer(&a, data, size, "in", NULL, NULL, &err) != 0 ||
        sp_zip_open(&b, dest, &err) != 0 || a.n != b.n)
        abort();
    for (size_t i = 0; i < a.n; i++) {
        const sp_zip_entry *x = &a.entries[i], *y = &b.entries[i];
        if (x->name_len != y->name_len || memcmp(x->name, y->name, x->name_len) != 0 ||
            x->method != y->method || x->crc != y->crc || x->csize != y->csize ||
            x->usize != y->usize || memcmp(sp_zip_data(&a, x), sp_zip_data(&b, y), x->csize) != 0)
            abort();
    }
    sp_zip_close(&b);
    sp_zip_close(&a);
    return 0;
}
