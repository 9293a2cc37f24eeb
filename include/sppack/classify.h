/* Classification of files found under an input root (DESIGN §3): which
 * names can be extension modules, what their module and marker are. */
#ifndef SPPACK_CLASSIFY_H
#define SPPACK_CLASSIFY_H

enum sp_so_name {
    SP_SO_NONE,   /* not a shared-object name: a pure file */
    SP_SO_TAGGED, /* NAME.cpython-<tag>.so or NAME.abi3.so: an extension module */
    SP_SO_PLAIN,  /* NAME.so: a module when its ELF exports PyInit_NAME */
    SP_SO_OTHER   /* libfoo.so.1, libbar-1a2b.so, ...: a shared library */
};

/* Kind of a file's base name; for SP_SO_TAGGED and SP_SO_PLAIN, *stem gets
 * NAME (caller frees). */
enum sp_so_name sp_classify_so_name(const char *base, char **stem);

/* For an extension module at rel (relative path with its directory), stem
 * NAME: the dotted module name ("pkg.sub.NAME", "pkg" for pkg/__init__), the
 * dotted name that is mangled ("pkg.__init__" for a package), and the marker
 * path ("pkg/sub/NAME.soref"). Each out parameter is allocated. */
void sp_module_names(const char *rel, const char *stem, char **module, char **mangle_from,
                     char **marker);

#endif
