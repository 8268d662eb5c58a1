// pkgpath.h: where a directory sits in its Python package. One function for
// the compiler (compile.c: the input's package root and module name) and the
// command line (main.c: the package of a batch-mode input directory).
// Plain C: no context, no arena.
#ifndef FFQ_PKGPATH_H
#define FFQ_PKGPATH_H

#include <stddef.h>

// dir: an absolute, resolved directory (PATH_MAX bytes), cut in place to the
// package root: the directory above the outermost one of the unbroken chain
// of directories, from dir upwards, that hold an __init__.py (dir itself when
// it holds none). pkg receives the dotted package of dir ("" when none); a
// name that would not fit in size (> 0) bytes stops the walk there.
void package_split(char *dir, char *pkg, size_t size);

#endif
