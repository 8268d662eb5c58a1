// format/imports.h: the import block of a generated module (spec §1.2, §11).
#ifndef FFQ_FORMAT_IMPORTS_H
#define FFQ_FORMAT_IMPORTS_H

#include "base.h"
#include "program.h"

// Which module a piece of the generated body was copied from: its free
// names are imported from that module's bindings (§1.2).
typedef struct ImportOrigin {
    size_t start, end;  // byte range in the body text
    const Module *mod;
} ImportOrigin;

// Add an import (Import * in v) unless an equal one is there: `import
// module [as alias]` or `from module import name [as alias]`.
void imports_add(ffq_ctx *cx, PtrVec *v, bool is_from, const char *module, const char *name,
                 const char *alias);
// The same `from module import name [as alias]`, written under a guard of its own
// (`try:` ... `except ImportError: pass`): for a name its module binds only on some
// paths (a class defined under `if` / `try`).
void imports_add_guarded(ffq_ctx *cx, PtrVec *v, const char *module, const char *name, const char *alias);
// The imports the free names of `body` need; origins (ImportOrigin *, in
// text order) say where each piece came from, `input` covers the rest.
// Returns the tree of body it parsed for that (NULL if it could not).
Cst *imports_collect(ffq_ctx *cx, const Module *input, const char *body, const PtrVec *origins, PtrVec *out);
// The import statements, in isort's sections and order; `first_party` is
// the top-level package of the input.
void imports_write(ffq_ctx *cx, const char *first_party, PtrVec *imports, StrBuf *out);
#endif
