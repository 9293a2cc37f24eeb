/* Findings of verify: a stable check ID, its severity and hint from the
 * catalogue, the entry and ABI concerned, and a message; printed as text
 * lines or one JSON document. */
#ifndef SPPACK_REPORT_H
#define SPPACK_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "sppack/strv.h"

enum sp_severity { SP_WARNING, SP_ERROR };

typedef struct sp_check {
    const char *id;
    int severity;
    const char *title; /* what the check finds */
    const char *hint;  /* what to do about it */
} sp_check;

/* The catalogue, in ID order; NULL-terminated by an entry with id NULL. */
extern const sp_check sp_checks[];
const sp_check *sp_check_find(const char *id);

typedef struct sp_finding {
    const sp_check *check;
    char *entry; /* may be NULL */
    char *abi;   /* may be NULL */
    char *message;
} sp_finding;

typedef struct sp_report_file {
    char *path;
    const char *kind; /* apk, apks, aab, zip, dir */
    sp_finding *v;
    size_t n, cap;
} sp_report_file;

typedef struct sp_report {
    sp_report_file *files;
    size_t n, cap;
    sp_strv ignore; /* IDs not to report */
} sp_report;

void sp_report_init(sp_report *r);
void sp_report_release(sp_report *r);
sp_report_file *sp_report_add_file(sp_report *r, const char *path);

/* Records a finding unless its ID is ignored. id must be in the catalogue. */
void sp_report_add(sp_report *r, sp_report_file *f, const char *id, const char *entry,
                   const char *abi, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

size_t sp_report_count(const sp_report *r, int severity);

/* A finding as verify --json and pack --json give it: {"id", "severity",
 * "entry", "abi", "message", "hint"}. */
struct cJSON *sp_finding_json(const sp_finding *f);

/* One line per finding, grouped by ID, then counts per ID and totals. */
void sp_report_print_text(const sp_report *r, FILE *out);
/* {"files":[{"path","kind","findings":[...],"summary":{...}}],"summary":{...}} */
void sp_report_print_json(const sp_report *r, FILE *out);

#endif
