// cst.h: the concrete syntax tree as later passes see it (built by source.c).
//
// source.c is the only file that walks tree-sitter. It flattens every node
// (named and anonymous, so operator tokens and comments are there too) into
// one array. The children of a node are contiguous in that array, in source
// order, so passes index plain arrays and compare small integer kinds.
#ifndef FFQ_CST_H
#define FFQ_CST_H

#include "base.h"

#define CST_NONE UINT32_MAX

// Node kinds ffq cares about; every other grammar symbol is K_OTHER (anonymous
// tokens are K_TOKEN; their text tells which one).
typedef enum NodeKind {
    K_OTHER = 0,
    K_TOKEN,
    K_ERROR,
    // statements
    K_MODULE,
    K_CLASS_DEF,
    K_FUNCTION_DEF,
    K_DECORATED_DEF,
    K_DECORATOR,
    K_BLOCK,
    K_EXPR_STMT,
    K_RETURN,
    K_PASS,
    K_BREAK,
    K_CONTINUE,
    K_RAISE,
    K_DELETE,
    K_ASSERT,
    K_GLOBAL,
    K_NONLOCAL,
    K_IF,
    K_ELIF,
    K_ELSE,
    K_FOR,
    K_WHILE,
    K_WITH,
    K_WITH_CLAUSE,
    K_WITH_ITEM,
    K_TRY,
    K_EXCEPT,
    K_FINALLY,
    K_MATCH,
    K_TYPE_ALIAS,
    K_IMPORT,
    K_IMPORT_FROM,
    K_FUTURE_IMPORT,
    K_ALIASED_IMPORT,
    K_DOTTED_NAME,
    K_RELATIVE_IMPORT,
    K_IMPORT_PREFIX,
    K_WILDCARD_IMPORT,
    K_PRINT,
    K_EXEC,
    // assignment forms (children of K_EXPR_STMT)
    K_ASSIGNMENT,
    K_AUG_ASSIGNMENT,
    // expressions
    K_IDENTIFIER,
    K_ATTRIBUTE,
    K_SUBSCRIPT,
    K_SLICE,
    K_CALL,
    K_ARGUMENT_LIST,
    K_KEYWORD_ARGUMENT,
    K_LIST_SPLAT,
    K_DICT_SPLAT,
    K_PAREN_LIST_SPLAT,
    K_BINARY_OP,
    K_UNARY_OP,
    K_BOOLEAN_OP,
    K_NOT_OP,
    K_COMPARISON,
    K_CONDITIONAL_EXPR,
    K_PAREN_EXPR,
    K_TUPLE,
    K_LIST,
    K_SET,
    K_DICT,
    K_PAIR,
    K_LIST_COMP,
    K_SET_COMP,
    K_DICT_COMP,
    K_GENERATOR,
    K_FOR_IN_CLAUSE,
    K_IF_CLAUSE,
    K_LAMBDA,
    K_LAMBDA_PARAMS,
    K_NAMED_EXPR,
    K_AWAIT,
    K_YIELD,
    K_EXPRESSION_LIST,
    K_PATTERN_LIST,
    K_TUPLE_PATTERN,
    K_LIST_PATTERN,
    K_LIST_SPLAT_PATTERN,
    K_DICT_SPLAT_PATTERN,
    K_AS_PATTERN,
    K_INTEGER,
    K_FLOAT,
    K_STRING,
    K_CONCAT_STRING,
    K_TRUE,
    K_FALSE,
    K_NONE,
    K_ELLIPSIS,
    K_COMMENT,
    // parameters and types
    K_PARAMETERS,
    K_TYPED_PARAMETER,
    K_DEFAULT_PARAMETER,
    K_TYPED_DEFAULT_PARAMETER,
    K_KEYWORD_SEPARATOR,
    K_POSITIONAL_SEPARATOR,
    K_TYPE,
    K__COUNT
} NodeKind;

typedef enum FieldKind {
    F_NONE = 0,
    F_ALIAS,
    F_ALTERNATIVE,
    F_ARGUMENT,
    F_ARGUMENTS,
    F_ATTRIBUTE,
    F_BODY,
    F_CAUSE,
    F_CONDITION,
    F_CONSEQUENCE,
    F_DEFINITION,
    F_FUNCTION,
    F_KEY,
    F_LEFT,
    F_MODULE_NAME,
    F_NAME,
    F_OBJECT,
    F_OPERATOR,
    F_OPERATORS,
    F_PARAMETERS,
    F_RETURN_TYPE,
    F_RIGHT,
    F_SUBSCRIPT,
    F_SUPERCLASSES,
    F_TYPE,
    F_VALUE,
    F__COUNT
} FieldKind;

// 24 bytes: a file has about one node per 4 bytes of source, and the table
// is built while tree-sitter's tree (about 22 bytes per byte) is still alive.
typedef struct CstNode {
    uint32_t start, end;   // byte range in the file
    uint32_t parent;       // CST_NONE for the root
    uint32_t first_child;  // index of the first child (children are contiguous)
    uint32_t nchildren;
    uint16_t sym;       // the raw grammar symbol
    uint8_t kind;       // NodeKind
    uint8_t field : 6;  // FieldKind of this node within its parent
    bool named : 1;
    bool missing : 1;  // inserted by error recovery
} CstNode;
_Static_assert(K__COUNT <= 256 && F__COUNT <= 64, "CstNode's kind and field widths");

typedef struct Cst {
    const SrcFile *file;
    CstNode *nodes;  // nodes[0] is the module
    uint32_t count;
    bool has_errors;  // ERROR or MISSING nodes were found (and reported)
    bool too_deep;    // nested deeper than the passes walk (never analysed)
    bool outline;     // function bodies left out (source_parse_outline)
} Cst;

// Per-context language tables: grammar symbol -> NodeKind, field id -> FieldKind.
typedef struct CstLang {
    const void *lang;  // const TSLanguage *
    uint16_t *kind_of_sym;
    uint32_t nsyms;
    uint16_t *field_of_id;
    uint32_t nfields;
} CstLang;

// Parse a file. Syntax errors are reported as diagnostics (one per ERROR or
// MISSING node) and the tree is still returned; NULL only if tree-sitter fails.
Cst *source_parse(ffq_ctx *cx, const SrcFile *file);
// Parse a file without reporting its syntax errors (an imported module's).
Cst *source_parse_quiet(ffq_ctx *cx, const SrcFile *file);
// The outline of a file (outline.c: every function body spanning several
// lines reduced to `...`), parsed: its nodes have the full tree's offsets and
// text but each such body is one `...` statement. NULL when the file is not
// one outline.c handles or its outline has syntax errors: parse it whole.
Cst *source_parse_outline(ffq_ctx *cx, const SrcFile *file);
// outline.c: the text the outline is parsed from (*outlen bytes): the file
// without the byte ranges [start, end) appended to gaps as pairs of offsets
// into the file, in order; NULL when the file is not one outline.c handles.
const char *outline_text(ffq_ctx *cx, const char *data, uint32_t len, PtrVec *gaps, uint32_t *outlen);
// The tree of file, the text of head followed at offset `at` by the text of
// body (head ending where a statement may start, outside brackets), from
// the trees of the two parts: the output is formatted without parsing it
// again.
Cst *cst_concat(ffq_ctx *cx, const SrcFile *file, const Cst *head, const Cst *body, uint32_t at);
// Parse text that is not a user file (pattern rules, generated code).
// source_prepare makes what every parse of cx keeps (the grammar's tables, tree-sitter's
// pool), so that parses inside an arena_mark .. arena_release region keep nothing.
void source_prepare(ffq_ctx *cx);
Cst *source_parse_text(ffq_ctx *cx, const char *name, const char *text, size_t len, bool report);

static inline const CstNode *cst_node(const Cst *c, uint32_t i) { return &c->nodes[i]; }
static inline uint32_t cst_kind(const Cst *c, uint32_t i) { return c->nodes[i].kind; }
// A node that lists assignment targets (`a, b`, `(a, b)`, `[a, *b]`, `*b`): each named
// child is a target of its own.
static inline bool cst_is_target_list(uint32_t kind) {
    return kind == K_PATTERN_LIST || kind == K_TUPLE_PATTERN || kind == K_LIST_PATTERN || kind == K_TUPLE ||
           kind == K_LIST || kind == K_EXPRESSION_LIST || kind == K_LIST_SPLAT_PATTERN ||
           kind == K_LIST_SPLAT;
}
uint32_t cst_child(const Cst *c, uint32_t n, uint32_t k);        // k-th child (all)
uint32_t cst_field(const Cst *c, uint32_t n, FieldKind f);       // first child with field
uint32_t cst_named_child(const Cst *c, uint32_t n, uint32_t k);  // k-th named child
uint32_t cst_named_count(const Cst *c, uint32_t n);
const char *cst_text(const Cst *c, uint32_t n, size_t *len);  // pointer into the source
char *cst_strdup(ffq_ctx *cx, const Cst *c, uint32_t n);      // NUL-terminated copy
bool cst_text_is(const Cst *c, uint32_t n, const char *s);
// The token child (anonymous node) of n whose text is s, or CST_NONE.
uint32_t cst_token(const Cst *c, uint32_t n, const char *s);
// Strips parenthesized_expression wrappers.
uint32_t cst_unparen(const Cst *c, uint32_t n);
// Is n `ancestor` or inside it?
bool cst_within(const Cst *c, uint32_t n, uint32_t ancestor);
const char *cst_kind_name(uint32_t kind);
// Is s[0..n) a Python keyword (it cannot be a name)?
bool cst_is_keyword(const char *s, size_t n);

#endif
