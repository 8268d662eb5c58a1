// format/pystdlib.h: the top-level modules of the Python standard library
// (stdlib.c). The import block sorts them into their own section; the
// program model and type inference use it to know a module is not missing.
#ifndef FFQ_FORMAT_PYSTDLIB_H
#define FFQ_FORMAT_PYSTDLIB_H

#include <stdbool.h>

// Is `top` a top-level module of the Python standard library?
bool imports_is_stdlib(const char *top);

#endif
