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

/* The members of an .apks set and the entries inflated at one time hold at
 * most this many bytes together. */
#define VERIFY_HELD_MAX SP_ZIP_HELD_MAX

/* An entry seen through the path it would have on a device. */
struct vitem {
    const char *path;  /* "lib/x86/libfoo.so" (a bundle module's directory removed) */
    char *label;       /* what findings name: the entry, "split.apk!/...", or the file */
    const sp_zip *zip; /* NULL for a file of a pack output directory */
    const sp_zip_entry *e;
    char *file;       /* directory items: the file to read */
    char *owned_path; /* directory items: storage of path */
    int refused;      /* Z010 reported: not inflated */
};

/* An item's bytes while a layer looks at them. */
struct vbytes {
    unsigned char *data;
    size_t n;
    sp_buf buf; /* an inflated entry */
    sp_map map; /* a file of a directory */
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
    size_t held; /* inflated bytes held now: members of a set, open items */
    const sp_abi *abis[SP_MAX_ABIS];
    int nabis;
    SP_VEC(struct vlib) libs;
    SP_VEC(struct vmarker) markers;
    int bundle;           /* an App Bundle: ... */
    sp_strv uncompressed; /* ... whose BundleConfig.pb keeps these globs stored */
};

/* The item with this path on a device (by_label 0) or this label (1), or
 * NULL. */
struct vitem *vctx_find(struct vctx *c, const char *key, int by_label);

/* The uncompressed bytes of an item into b: a slice of the archive when
 * stored, an inflated copy otherwise (within VERIFY_HELD_MAX with what is
 * held already), the file for a directory. 0, or -1 when they cannot be had,
 * or -2 when they were not inflated, a finding already made: an entry sharing
 * its data with another, or one too large to hold (Z010). Every 0 needs its
 * vctx_item_close. */
int vctx_item_open(struct vctx *c, struct vitem *it, struct vbytes *b);
void vctx_item_close(struct vctx *c, struct vbytes *b);

/* The check ID for a problem of the zip reader. */
const char *verify_zip_problem_id(enum sp_zip_problem p);

/* Z checks of one zip (prefix labels entries of an APK inside a set;
 * align_checks is 0 for a set, whose members are extracted, not mapped). */
void verify_zip_layer(struct vctx *c, const sp_zip *z, const char *prefix, int align_checks);
/* Z010 for an entry sharing its compressed data with another. */
void verify_zip_shared(struct vctx *c, const sp_zip_entry *e, const char *label);
/* --deep: libzip's consistency check and every entry's CRC (streamed,
 * nothing kept; entries of z sharing their data are left to Z010). */
void verify_zip_deep(struct vctx *c, const sp_zip *z, const unsigned char *data, size_t size,
                     const char *prefix);
/* L checks; fills c->libs and c->abis. */
void verify_lib_layer(struct vctx *c);
/* E checks of c->libs, and L006 (ABI parity). */
void verify_elf_layer(struct vctx *c);
/* P checks: the Python zips, their markers against c->libs. */
void verify_python_layer(struct vctx *c);

#endif
