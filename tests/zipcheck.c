/* zipcheck ZIP...: opens each archive with libzip's consistency check
 * (ZIP_CHECKCONS) and reads every entry through libzip, which verifies CRCs.
 * Prints one line per problem; exit 0 only when every archive is sound. */
#include <stdio.h>
#include <zip.h>

int main(int argc, char **argv)
{
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        int zerr = 0;
        zip_t *z = zip_open(argv[i], ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
        if (!z) {
            zip_error_t e;
            zip_error_init_with_code(&e, zerr);
            printf("%s: %s\n", argv[i], zip_error_strerror(&e));
            zip_error_fini(&e);
            bad = 1;
            continue;
        }
        zip_int64_t n = zip_get_num_entries(z, 0);
        char buf[65536];
        for (zip_int64_t k = 0; k < n; k++) {
            zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)k, 0);
            if (!f) {
                printf("%s: entry %lld: %s\n", argv[i], (long long)k, zip_strerror(z));
                bad = 1;
                continue;
            }
            zip_int64_t r;
            while ((r = zip_fread(f, buf, sizeof buf)) > 0)
                ;
            if (r < 0) {
                printf("%s: %s: %s\n", argv[i], zip_get_name(z, (zip_uint64_t)k, 0),
                       zip_file_strerror(f));
                bad = 1;
            }
            zip_fclose(f);
        }
        zip_close(z);
    }
    return bad;
}
