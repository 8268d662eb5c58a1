// optable.h: the operator table (spec §6) and pattern rules listed in tables.
//
// optable.c consumes YAML files (the embedded default table and --optable
// files) and produces an OpTable, which is immutable once loaded. Every error
// in a table is reported as `table.yaml:line:col: error: ...` pointing at the
// offending scalar; loading never aborts the process.
#ifndef FFQ_OPTABLE_H
#define FFQ_OPTABLE_H

#include "base.h"

typedef struct OpType OpType;  // parsed schema type (opaque outside optable.c)

typedef struct OpParam {
    const char *name;
    const OpType *type;
    const char *type_text;     // normalised text of the type, e.g. "Optional[MaybeQuantized]"
    const char *default_text;  // NULL when the schema gives no default
    bool is_quantized;         // a quantized slot (§6.2)
} OpParam;

typedef struct OpEntry {
    const char *identifier;  // schema function name: "linear"
    const char *fallback;    // dotted name of the float callable: "torch.nn.functional.linear"
    const char *dispatch;    // dotted name emitted for the call: "fastforward.nn.functional.linear"
    bool custom_dispatch;    // dispatch came from a `dispatch:` key (its module gets imported)
    const OpParam *params;
    size_t nparams;
    const char *const *intermediates;  // intermediate quantizer names, in order
    size_t nintermediates;
    const char *const *aliases;
    size_t naliases;
    bool returns_quantized;   // gets an output_quantizer
    const char *schema_text;  // the `op:` string as written
    const char *file;         // table file it came from ("<default>" for the built-in one)
    uint32_t line;
} OpEntry;

typedef struct OpTable OpTable;

OpTable *optable_new(ffq_ctx *cx);
// Each returns false (after reporting error diagnostics) if the table has errors;
// entries of a table with errors are not added.
bool optable_load_default(ffq_ctx *cx, OpTable *t);
bool optable_load_file(ffq_ctx *cx, OpTable *t, const char *path);
bool optable_load_buffer(ffq_ctx *cx, OpTable *t, const char *name, const char *data, size_t len);

// Is `qualname` (a canonical dotted name) a key of any entry: fallback, alias,
// or a built-in identity (torch.conv2d is torch.nn.functional.conv2d)?
bool optable_has(const OpTable *t, const char *qualname);

// Overload selection (§6.3), most recently added first. npos counts positional
// arguments (a *splat counts as one); kwnames are the keyword argument names. A call of
// torch.<name> may also name parameters the NumPy way (optable_keyword_param).
// NULL when no overload matches.
const OpEntry *optable_select(const OpTable *t, const char *qualname, size_t npos, const char *const *kwnames,
                              size_t nkw);

// The parameter of e that keyword kw of a selected call binds: kw itself, or the parameter a
// NumPy name stands for in a call of torch's own functions (axis -> dim, keepdims -> keepdim,
// x / a / x1 -> input, x2 -> other); NULL when none.
const char *optable_keyword_param(const OpEntry *e, const char *kw);

// Python operators (§6.5): the torch function a binary or unary operator is
// looked up as ("+" -> "torch.add", unary "-" -> "torch.negative"). NULL when
// the operator is never rewritten (comparisons, `and`, `not`, ...).
const char *optable_operator_fallback(const OpTable *t, const char *op, bool unary);

// The canonical name a call is rewritten under: the last dotted component of
// the fallback (torch.relu -> "relu"), used as the output quantizer's base name.
const char *optable_canonical_name(const OpEntry *e);

// Entries in the order they were added, for `ffq optable --list`.
size_t optable_count(const OpTable *t);
const OpEntry *optable_entry(const OpTable *t, size_t i);
void optable_render_entry(ffq_ctx *cx, StrBuf *out, const OpEntry *e);

// Pattern rules listed under a top-level `patterns:` key, as "PATTERN=>REPLACEMENT"
// strings, with the file and line of each for diagnostics.
typedef struct TablePattern {
    const char *rule;
    const char *on;  // the rule's scope (`on:`), or NULL: everywhere
    const SrcFile *file;
    uint32_t offset;
} TablePattern;
size_t optable_npatterns(const OpTable *t);
const TablePattern *optable_pattern(const OpTable *t, size_t i);

#endif
