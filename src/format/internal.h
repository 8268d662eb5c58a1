// format/internal.h: internals shared by the formatter files (src/format/*.c).
//
// The formatter works in two steps, like Prettier and ruff: the CST is turned
// into a document (a flat list of layout elements: text, line breaks, groups
// that print flat when they fit, indentation, conditional content), then a
// printer lays the document out at the line width. Start/end elements nest;
// `match` links each start to its end so the printer can skip content.
#ifndef FFQ_FORMAT_INT_H
#define FFQ_FORMAT_INT_H

#include "ffq_int.h"
#include "format.h"

#define FMT_INDENT 4

typedef enum DocOp {
    D_TEXT,  // s/n: text (may hold newlines: multi-line strings)
    D_SPACE,
    D_LINE,   // a: DocLine
    D_GROUP,  // a: group id (0: none), b: 1 = expand
    D_END_GROUP,
    D_COND_GROUP,  // a group only when group a is in mode b; otherwise transparent
    D_END_COND_GROUP,
    D_INDENT,
    D_END_INDENT,
    D_IF,  // content printed only when group a (0: enclosing) is in mode b
    D_END_IF,
    D_INDENT_IF,  // content indented when group a breaks
    D_END_INDENT_IF,
    D_SUFFIX,  // line suffix (trailing comment), a: reserved width
    D_END_SUFFIX,
    D_EXPAND_PARENT,  // forces the enclosing group to break
    D_FITS_EXPANDED,  // measured expanded when group a is in mode b (a == 0: always)
    D_END_FITS_EXPANDED,
    D_BEST_FIT,  // variants: D_ENTRY ... D_END_ENTRY, most flat first
    D_END_BEST_FIT,
    D_ENTRY,
    D_END_ENTRY,
    D_BFP,  // best_fit_parenthesize, a: group id
    D_END_BFP,
} DocOp;

typedef enum DocLine { L_SOFT, L_SOFT_SPACE, L_HARD, L_EMPTY } DocLine;
typedef enum DocMode { M_FLAT = 0, M_BREAK = 1 } DocMode;

typedef struct DocEl {
    uint8_t op;
    bool expand;  // groups: forced or propagated expansion
    uint32_t a, b;
    uint32_t match;  // start <-> end
    const char *s;
    uint32_t n;
    uint32_t width;  // display width of text (first line for multi-line text)
    bool multiline;
} DocEl;

typedef struct Doc {
    ffq_ctx *cx;
    DocEl *el;
    uint32_t n, cap;
    uint32_t *open;  // stack of unclosed starts
    uint32_t nopen, capopen;
    uint32_t next_id;  // group ids start at 1
} Doc;

void doc_init(ffq_ctx *cx, Doc *d);
uint32_t doc_new_id(Doc *d);
void doc_text(Doc *d, const char *s, size_t n);
void doc_str(Doc *d, const char *s);
void doc_space(Doc *d);
void doc_line(Doc *d, DocLine kind);
void doc_start(Doc *d, DocOp op, uint32_t a, uint32_t b);
void doc_end(Doc *d, DocOp op);
void doc_expand_parent(Doc *d);
// Width of UTF-8 text in columns.
uint32_t doc_text_width(const char *s, size_t n);
// Compute expansion propagation and print. Appends to out.
void doc_print(Doc *d, StrBuf *out);
void doc_dump(const Doc *d, StrBuf *out);
// Prints a document with every group flat (f-string replacement fields).
void doc_print_flat(const Doc *d, StrBuf *out);

// --- helpers (text.c) ---

// Normalised forms of literals, appended to out.
void fmt_number(ffq_ctx *cx, const char *s, size_t n, StrBuf *out);
// Normalises quotes and prefix of one string literal (not concatenated).
// `docstring_indent` < 0: not a docstring.
void fmt_string(ffq_ctx *cx, const char *s, size_t n, StrBuf *out);
void fmt_docstring(ffq_ctx *cx, const char *s, size_t n, int indent, StrBuf *out);
// Normalises a comment ("#x" -> "# x", trailing whitespace).
void fmt_comment(ffq_ctx *cx, const char *s, size_t n, StrBuf *out);
bool fmt_is_pragma_comment(const char *s, size_t n);
bool fmt_join_strings(ffq_ctx *cx, const char *src, const CstNode *nodes, const uint32_t *parts, uint32_t n,
                      StrBuf *out);
char fmt_pick_quote(const char *lit, size_t n);
void fmt_requote(ffq_ctx *cx, const char *lit, size_t n, char q, StrBuf *out);

// --- the CST -> Doc translation (expr.c, stmt.c) ---

// Where an expression sits: at statement level (no enclosing brackets), inside
// optional parentheses the formatter may add (paren_id), or inside brackets.
typedef enum Level { LV_TOP, LV_EXPR, LV_PAREN } Level;

typedef struct Fmt {
    ffq_ctx *cx;
    const Cst *c;
    const char *src;
    Doc *d;
    uint32_t *cm;  // comment node indices, in source order
    uint32_t ncm;
    bool *cm_used;
    Level level;
    uint32_t paren_id;  // LV_EXPR: the optional-parentheses group
    int depth;          // expression nesting, bounded
    bool too_deep;
    bool in_chain;  // inside a call chain laid out fluently
} Fmt;

#define FMT_MAX_DEPTH 200

// Parenthesization requests for an expression in a statement slot.
typedef enum Parenthesize { P_OPTIONAL, P_IF_BREAKS, P_IF_REQUIRED, P_IF_BREAKS_PARENTHESIZED } Parenthesize;

void fmt_expr(Fmt *f, uint32_t n);          // keeps source parentheses
void fmt_expr_unparen(Fmt *f, uint32_t n);  // drops redundant source parentheses
void fmt_maybe_paren(Fmt *f, uint32_t n, Parenthesize how);
void fmt_node_text(Fmt *f, uint32_t n);
uint32_t fmt_unparen(const Fmt *f, uint32_t n);
// Comments and backslash continuations, which layout ignores.
bool fmt_is_extra(const Fmt *f, uint32_t n);
// The k-th named child that is not an extra, and their count.
uint32_t fmt_child(const Fmt *f, uint32_t n, uint32_t k);
uint32_t fmt_nchildren(const Fmt *f, uint32_t n);
bool fmt_has_comments(const Fmt *f, uint32_t lo, uint32_t hi);
// Target lists (for x, y in ...; a, b = ...): elements joined flat.
void fmt_targets(Fmt *f, uint32_t n);
// `return a, b` / `x = a, b`: an unparenthesized tuple (expression_list)
// that gets parentheses when it breaks, then one element per line and a
// trailing comma; any other value: parenthesized if it breaks.
void fmt_value_list(Fmt *f, uint32_t n);
// `target op value` for annotations and bracketed targets (see expr.c).
void fmt_assign_rtl(Fmt *f, uint32_t target, bool is_annotation, const char *op, uint32_t value);
// Parameters of a def (with their brackets).
void fmt_parameters(Fmt *f, uint32_t params, uint32_t ret);
// --- shared by expr.c and paren.c ---

enum {
    PREC_BOOL = 1,
    PREC_STR,
    PREC_CMP,
    PREC_BOR,
    PREC_BXOR,
    PREC_BAND,
    PREC_SHIFT,
    PREC_ADD,
    PREC_MUL,
    PREC_UNARY,
    PREC_POW
};

// Saved formatter state around a bracket pair.
typedef struct Saved {
    Level level;
    uint32_t paren_id;
    bool fits_expanded;
    bool in_chain;
} Saved;

// A flattened chain of binary, boolean and comparison operators.
typedef struct Chain {
    uint32_t *operand;  // nodes
    uint32_t *op_lo;    // operator i (before operand i): first token node
    uint32_t *op_n;     // number of tokens of operator i
    int *prec;
    uint32_t n, cap;
} Chain;

Saved fmt_paren_begin_id(Fmt *f, const char *open, uint32_t open_end, uint32_t id);
Saved fmt_paren_begin(Fmt *f, const char *open, uint32_t open_end);
void fmt_paren_end(Fmt *f, const char *close, Saved s);
void fmt_comma_list_ex(Fmt *f, const uint32_t *items, uint32_t n, uint32_t close, bool magic, bool add_comma,
                       uint32_t comma_group, void (*each)(Fmt *, uint32_t));
uint32_t fmt_items_of(Fmt *f, uint32_t n, uint32_t **out);
bool fmt_trailing_comma(const Fmt *f, uint32_t n);
void fmt_flatten(Fmt *f, uint32_t root, Chain *ch);
bool fmt_is_fluent(const Fmt *f, uint32_t n);
bool fmt_is_union(const Fmt *f, uint32_t n);
void fmt_maybe_paren_nested(Fmt *f, uint32_t n);

void fmt_module_doc(Fmt *f);
// The document format_module would print, dumped (a developer aid for ffq-fmt --doc).
bool format_module_dump(ffq_ctx *cx, const char *text, size_t len, StrBuf *out);

#endif
