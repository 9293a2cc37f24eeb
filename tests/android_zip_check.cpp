// Opens an APK with Android's own zip reader (libziparchive, as the
// platform's PackageManager and linker use it), extracts every entry (which
// checks CRCs and lengths) and prints "method offset name" per entry.
// Exit status 0 only when the archive opens and every entry extracts.
#include <cstdio>
#include <string>
#include <vector>

#include <ziparchive/zip_archive.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: android_zip_check APK\n");
        return 2;
    }
    ZipArchiveHandle h;
    int32_t rc = OpenArchive(argv[1], &h);
    if (rc != 0) {
        std::printf("open failed: %s\n", ErrorCodeString(rc));
        CloseArchive(h);
        return 1;
    }
    void *cookie;
    if ((rc = StartIteration(h, &cookie)) != 0) {
        std::printf("iteration failed: %s\n", ErrorCodeString(rc));
        CloseArchive(h);
        return 1;
    }
    ZipEntry e;
    std::string name;
    int bad = 0;
    while ((rc = Next(cookie, &e, &name)) == 0) {
        std::vector<uint8_t> buf(e.uncompressed_length ? e.uncompressed_length : 1);
        int32_t x = ExtractToMemory(h, &e, buf.data(), e.uncompressed_length);
        if (x != 0) {
            std::printf("extract failed: %s: %s\n", name.c_str(), ErrorCodeString(x));
            bad = 1;
        }
        std::printf("%u %lld %s\n", e.method, (long long)e.offset, name.c_str());
    }
    if (rc != -1) {
        std::printf("iteration failed: %s\n", ErrorCodeString(rc));
        bad = 1;
    }
    EndIteration(cookie);
    CloseArchive(h);
    return bad;
}
