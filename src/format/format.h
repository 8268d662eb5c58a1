// format.h: the built-in formatter (Black / `ruff format --line-length 100` layout).
#ifndef FFQ_FORMAT_H
#define FFQ_FORMAT_H

#include "base.h"
#include "cst.h"

#define FMT_LINE_WIDTH 100  // the line length of the generated code

// Reformat a whole Python module as `ruff format --line-length 100` would.
// Returns false (appending nothing) if the text does not parse cleanly.
bool format_module(ffq_ctx *cx, const char *text, size_t len, StrBuf *out);
// The same, from the module's tree (its file holds the text).
bool format_module_tree(ffq_ctx *cx, const Cst *c, StrBuf *out);

// Append the lines of one simple statement, each indented by `indent`
// spaces, with no trailing newline. Returns false (appending nothing) when the
// statement holds a comment or unbalanced brackets; the caller then keeps
// the statement's text as it is.
bool format_stmt(ffq_ctx *cx, const char *text, size_t len, int indent, StrBuf *out);

#endif
