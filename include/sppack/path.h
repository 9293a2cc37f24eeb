/* Paths: joining, containment, directories made and removed, canonical
 * forms of paths that may not exist yet, and the user's cache. */
#ifndef SPPACK_PATH_H
#define SPPACK_PATH_H

#include "sppack/error.h"

/* "a" + "/" + "b"; either side may be empty. */
char *sp_path_join(const char *a, const char *b);
/* The last component of path ("c" of "a/b/c"); a pointer into path. */
const char *sp_path_base(const char *path);
/* 1 when path equals dir or lies beneath it (both canonical, no trailing /). */
int sp_path_is_within(const char *path, const char *dir);
/* Creates dir and its parents (mode 0755). */
int sp_mkdirs(const char *dir, sp_error *err);
/* Removes a tree; missing is fine. Never follows a symbolic link: a link is
 * removed, not what it leads to. Returns -1 when anything is left. */
int sp_remove_tree(const char *path);
/* The same for the entry name of the directory open as dirfd. */
int sp_remove_tree_at(int dirfd, const char *name);
/* Canonical absolute form of a path that may not exist yet: realpath of its
 * deepest existing ancestor plus the rest. NULL when even that fails. */
char *sp_realpath_lenient(const char *path);
/* The file that replacing path should replace: for a symlink, the file it
 * resolves to (so that a temporary file renamed over it leaves the link in
 * place); else, or when the link dangles, a copy of path. */
char *sp_path_replace_target(const char *path);
/* The executable name found on PATH (the first that may be run), or NULL. */
char *sp_find_on_path(const char *name);
/* sp-pack's directory `sub` in the user's cache: $XDG_CACHE_HOME/sp-pack/sub,
 * else ~/.cache/sp-pack/sub; NULL when neither variable is set. */
char *sp_cache_dir(const char *sub);

#endif
