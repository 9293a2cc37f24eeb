/* Exclude presets (pack --exclude-preset NAME): named sets of files that
 * apps never import, left out of the trees before anything is read.
 *
 *   tests  test packages: every tests/ or test/ directory inside a package
 *          (not testing/, often an API such as numpy.testing), but for the
 *          few test packages other code imports (kept_tests in src/preset.c);
 *          in a standard library also its own test package and C test
 *          modules, and idlelib, tkinter, turtledemo, ensurepip, lib2to3,
 *          pydoc_data;
 *   build  files only builds use: *.a, *.h, *.pyi, *.pxd, *.pyx.
 *
 * docs/layout.md lists the exact patterns; keep the two in step. */
#ifndef SPPACK_PRESET_H
#define SPPACK_PRESET_H

enum sp_preset { SP_PRESET_TESTS, SP_PRESET_BUILD, SP_PRESETS };

/* The preset called name, or -1. */
int sp_preset_find(const char *name);
/* Its name ("tests"). */
const char *sp_preset_name(int preset);
/* Every preset's name, for messages: "tests, build". */
const char *sp_preset_names(void);

/* The first preset of mask (bit i: preset i) that leaves out the file rel,
 * a "/"-separated path relative to its input root (stdlib: that root is a
 * --stdlib directory, lib-dynload/ included); -1 when none does. */
int sp_preset_match(unsigned mask, int stdlib, const char *rel);

#endif
