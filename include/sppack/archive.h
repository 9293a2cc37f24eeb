/* Archives as Android sees them: an APK, a split APK, an .apks set (a zip
 * of APKs, bundletool's build-apks output), an App Bundle or a plain zip,
 * told apart by content, with every entry listed under the path it has on
 * a device. verify, ls and inject read archives through this layer. */
#ifndef SPPACK_ARCHIVE_H
#define SPPACK_ARCHIVE_H

#include <stddef.h>

#include "sppack/buf.h"
#include "sppack/error.h"
#include "sppack/zipreader.h"

enum sp_archive_kind { SP_ARCHIVE_ZIP, SP_ARCHIVE_APK, SP_ARCHIVE_APKS, SP_ARCHIVE_AAB };

/* "zip", "apk", "apks", "aab" */
const char *sp_archive_kind_name(enum sp_archive_kind kind);

typedef struct sp_archive_entry {
    const sp_zip *zip;     /* the zip holding it: the file, or an APK of a set */
    const sp_zip_entry *e; /* may be !e->valid (lenient opens) */
    const char *path;      /* as on a device: a bundle module's directory
                              removed ("base/lib/x86/a.so" -> "lib/x86/a.so");
                              points into e->name */
    char *label;           /* what messages name: the entry, after "NAME.apk!/"
                              for an APK of a set */
} sp_archive_entry;

/* An APK inside an .apks set, opened where it is (a STORED member) or
 * inflated into memory. */
typedef struct sp_archive_member {
    const sp_zip_entry *e;     /* its entry in the set */
    char *prefix;              /* "NAME.apk!/" */
    const unsigned char *data; /* its bytes: in the set's, or bytes.data */
    size_t size;
    sp_buf bytes; /* an inflated member's bytes */
    sp_zip zip;
} sp_archive_member;

typedef struct sp_archive {
    enum sp_archive_kind kind;
    sp_zip zip;                 /* the archive itself */
    sp_archive_member *members; /* APKs of a set that could be opened */
    size_t nmembers;
    size_t held;               /* bytes of the members inflated into memory */
    sp_archive_entry *entries; /* a set's members' entries, else the zip's */
    size_t n;
} sp_archive;

/* What a lenient open reports (either may be NULL): problems it stepped
 * over inside a zip (prefix "" for the archive itself, "NAME.apk!/" for an
 * APK of a set), and members of a set that could not be opened at all. */
typedef struct sp_archive_hooks {
    void *ctx;
    void (*issue)(void *ctx, const char *prefix, enum sp_zip_problem problem, const char *entry,
                  const char *msg);
    void (*member_failed)(void *ctx, const char *member, enum sp_zip_problem problem,
                          const char *msg);
} sp_archive_hooks;

/* Opens an archive in memory (not copied: data must outlive a). With hooks
 * the open is lenient, like sp_zip_open_buffer with an issue function;
 * without, any problem fails it. Fails (err, a->zip.fatal) only when the
 * archive itself cannot be read as a zip. The deflated APKs of a set may
 * inflate to at most member_max bytes together (a->held); one past that,
 * or one sharing its data with another entry, is a member that failed
 * (SP_ZIP_OVER_BOUND, SP_ZIP_SHARED). STORED ones are read in place. */
int sp_archive_open_buffer(sp_archive *a, const unsigned char *data, size_t size, const char *label,
                           const sp_archive_hooks *hooks, size_t member_max, sp_error *err);
/* The same for a file (mapped); hooks may be NULL. */
int sp_archive_open(sp_archive *a, const char *path, const sp_archive_hooks *hooks,
                    size_t member_max, sp_error *err);
void sp_archive_close(sp_archive *a);

#endif
