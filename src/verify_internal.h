/* verify's layers (src/verify*.c) and what they share: the entries of what
 * is checked, seen through the path each would have on a device, the
 * libraries under lib/<abi>/ and the markers of the Python zips. */
#ifndef SPPACK_VERIFY_INTERNAL_H
#define SPPACK_VERIFY_INTERNAL_H

#include "sppack/abi.h"
#include "sppack/buf.h"
#include "sppack/elfinspect.h"
#include "sppack/file.h"
#include "sppack/report.h"
#include "sppack/vec.h"
#include "sppack/verify.h"
#include "sppack/zipreader.h"

/* An inner archive or an inflated entry is read into memory up to this size. */
#define VERIFY_NESTED_MAX ((size_t)1 << 31)

/* An entry seen through the path it would have on a device. */
struct vitem {
    const char *path;  /* "lib/x86/libfoo.so" (a bundle module's directory removed) */
    char *label;       /* what findings name: the entry, "split.apk!/...", or the file */
    const sp_zip *zip; /* NULL for a file of a pack output directory */
    const sp_zip_entry *e;
    char *file;       /* directory items: the file to read */
    char *owned_path; /* directory items: storage of path */
};

/* A library under lib/<abi>/. */
struct vlib {
    size_t item;
    int abi;          /* index into vctx.abis */
    const char *base; /* file name in lib/<abi>/ */
    int name_ok;      /* a name Android installs (else L003) */
    int inspected;
    sp_elf_info info;
};

/* A .soref marker of a Python zip. */
struct vmarker {
    char *label;       /* zip!/path */
    char *module_name; /* last dotted component: PyInit_<this> */
    char *lib;         /* content */
};

struct vctx {
    const sp_verify_opts *o;
    sp_report *r;
    sp_report_file *f;
    SP_VEC(struct vitem) items;
    SP_VEC(sp_buf) bufs; /* bytes owned for inflated entries */
    SP_VEC(sp_map) maps; /* files of a directory, mapped */
    const sp_abi *abis[SP_MAX_ABIS];
    int nabis;
    SP_VEC(struct vlib) libs;
    SP_VEC(struct vmarker) markers;
    int bundle;           /* an App Bundle: ... */
    sp_strv uncompressed; /* ... whose BundleConfig.pb keeps these globs stored */
};

/* The uncompressed bytes of an item: a slice of the archive when stored, an
 * inflated copy otherwise, the mapped file for a directory. NULL when they
 * cannot be had. */
unsigned char *vctx_item_bytes(struct vctx *c, const struct vitem *it, size_t *n);

/* The check ID for a problem of the zip reader. */
const char *verify_zip_problem_id(enum sp_zip_problem p);

/* Z checks of one zip (prefix labels entries of an APK inside a set;
 * align_checks is 0 for a set, whose members are extracted, not mapped). */
void verify_zip_layer(struct vctx *c, const sp_zip *z, const char *prefix, int align_checks);
/* --deep: libzip's consistency check and every entry's CRC. */
void verify_zip_deep(struct vctx *c, const unsigned char *data, size_t size, const char *prefix);
/* L checks; fills c->libs and c->abis. */
void verify_lib_layer(struct vctx *c);
/* E checks of c->libs, and L006 (ABI parity). */
void verify_elf_layer(struct vctx *c);
/* P checks: the Python zips, their markers against c->libs. */
void verify_python_layer(struct vctx *c);

#endif
