// format/stmt.c: statements, blocks, comments and blank lines -> document.
//
// Consumes: a parsed module (Cst). Produces: the Doc for the whole module.
// Statements are laid out one per line at 4-space indentation; compound
// statements always put their body on the following lines. Own-line comments
// attach to the statement that follows them (or trail the previous one when
// a blank line separates them from what follows); end-of-line comments trail
// the line they are on. Blank lines follow Black: two around top-level
// definitions, one around nested ones, at most two (top level) or one
// (nested) kept elsewhere. A statement whose comments cannot be placed is
// kept as it is in the source.
#include <stdio.h>
#include <string.h>

#include "internal.h"

static uint32_t kind(const Fmt *f, uint32_t n) { return f->c->nodes[n].kind; }
static const CstNode *node(const Fmt *f, uint32_t n) { return &f->c->nodes[n]; }
static bool is_tok(const Fmt *f, uint32_t n, const char *s) {
    return !f->c->nodes[n].named && cst_text_is(f->c, n, s);
}

typedef enum BlockKind { BK_MODULE, BK_CLASS, BK_FUNCTION, BK_OTHER } BlockKind;

static void fmt_block_body(Fmt *f, uint32_t block, BlockKind bk, uint32_t limit);
static void fmt_statement(Fmt *f, uint32_t st, BlockKind bk, uint32_t limit);

// --- source geometry ---

static uint32_t line_start(const Fmt *f, uint32_t pos) {
    while (pos > 0 && f->src[pos - 1] != '\n') pos--;
    return pos;
}

static uint32_t column(const Fmt *f, uint32_t pos) {
    uint32_t s = line_start(f, pos), w = 0;
    for (uint32_t i = s; i < pos; i++) w = f->src[i] == '\t' ? (w / 8 + 1) * 8 : w + 1;
    return w;
}

// Blank lines directly above the line holding pos.
static int blank_lines_before(const Fmt *f, uint32_t pos) {
    uint32_t s = line_start(f, pos);
    int n = 0;
    while (s > 0) {
        uint32_t prev = line_start(f, s - 1);
        bool blank = true;
        for (uint32_t i = prev; i < s - 1; i++)
            if (f->src[i] != ' ' && f->src[i] != '\t' && f->src[i] != '\r' && f->src[i] != '\f')
                blank = false;
        if (!blank) break;
        n++;
        s = prev;
    }
    return n;
}

static bool newline_between(const Fmt *f, uint32_t a, uint32_t b) {
    for (uint32_t i = a; i < b; i++)
        if (f->src[i] == '\n') return true;
    return false;
}

// --- comments ---

static uint32_t cstart(const Fmt *f, uint32_t ci) { return f->c->nodes[f->cm[ci]].start; }

static void put_comment(Fmt *f, uint32_t ci) {
    size_t len;
    const char *t = cst_text(f->c, f->cm[ci], &len);
    StrBuf sb = {0};
    fmt_comment(f->cx, t, len, &sb);
    doc_text(f->d, sb.data ? sb.data : "", sb.len);
    f->cm_used[ci] = true;
}

// An end-of-line comment after `end` (on the same line), if unused: as a line suffix.
static void trailing_comment_after(Fmt *f, uint32_t end) {
    for (uint32_t i = 0; i < f->ncm; i++) {
        uint32_t s = cstart(f, i);
        if (f->cm_used[i] || s < end) continue;
        if (newline_between(f, end, s)) return;
        size_t len;
        const char *t = cst_text(f->c, f->cm[i], &len);
        StrBuf sb = {0};
        fmt_comment(f->cx, t, len, &sb);
        uint32_t w = fmt_is_pragma_comment(t, len) ? 0 : doc_text_width(sb.data, sb.len) + 2;
        doc_start(f->d, D_SUFFIX, w, 0);
        doc_str(f->d, "  ");
        doc_text(f->d, sb.data, sb.len);
        doc_end(f->d, D_END_SUFFIX);
        f->cm_used[i] = true;
        return;
    }
}

static void empty_lines(Fmt *f, int n) {
    if (n <= 0) {
        doc_line(f->d, L_HARD);
        return;
    }
    doc_line(f->d, L_HARD);
    for (int i = 0; i < n; i++) doc_line(f->d, L_EMPTY);
}

// --- statement classification ---

static uint32_t definition_of(const Fmt *f, uint32_t st) {
    if (kind(f, st) == K_DECORATED_DEF) return cst_field(f->c, st, F_DEFINITION);
    return st;
}

static bool is_def(const Fmt *f, uint32_t st) {
    uint32_t d = definition_of(f, st);
    return d != CST_NONE && (kind(f, d) == K_FUNCTION_DEF || kind(f, d) == K_CLASS_DEF);
}

static bool is_import(const Fmt *f, uint32_t st) {
    uint32_t k = kind(f, st);
    return k == K_IMPORT || k == K_IMPORT_FROM || k == K_FUTURE_IMPORT;
}

// A statement that is a lone string: a docstring when first in its body.
// An implicit concatenation of plain strings that joins into one (no comments,
// no raw, triple-quoted, f- or byte strings) counts too: ruff joins it, then
// lays it out as a docstring. *text (if given): the string, joined.
static bool string_stmt(const Fmt *f, uint32_t st, const char **text, size_t *len) {
    if (kind(f, st) != K_EXPR_STMT || fmt_nchildren(f, st) != 1) return false;
    uint32_t outer = fmt_child(f, st, 0), e = fmt_unparen(f, outer);  // `("doc")` is one too
    bool comments = e != outer && fmt_has_comments(f, node(f, outer)->start, node(f, outer)->end);
    if (kind(f, e) == K_STRING && !comments) {
        if (text) *text = cst_text(f->c, e, len);
        return true;
    }
    if (kind(f, e) != K_CONCAT_STRING || comments || fmt_has_comments(f, node(f, e)->start, node(f, e)->end))
        return false;
    uint32_t n = fmt_nchildren(f, e);
    uint32_t *parts = ARENA_ARRAY(f->cx, uint32_t, n ? n : 1);
    for (uint32_t i = 0; i < n; i++)
        if (kind(f, parts[i] = fmt_child(f, e, i)) != K_STRING) return false;
    StrBuf sb = {0};
    if (!fmt_join_strings(f->cx, f->src, f->c->nodes, parts, n, &sb) || !sb.len) return false;
    for (size_t i = 0; i < sb.len && sb.data[i] != '"' && sb.data[i] != '\''; i++)
        if (strchr("fFbBtT", sb.data[i])) return false;  // prefixes: only a plain string is a docstring
    if (text) *text = sb.data, *len = sb.len;
    return true;
}

static bool is_string_stmt(const Fmt *f, uint32_t st) { return string_stmt(f, st, NULL, NULL); }

// def f(): ...   (the body is a lone `...`)
static bool is_stub_def(const Fmt *f, uint32_t st) {
    uint32_t d = definition_of(f, st);
    if (d == CST_NONE || kind(f, d) != K_FUNCTION_DEF) return false;
    uint32_t body = cst_field(f->c, d, F_BODY);
    if (body == CST_NONE || fmt_nchildren(f, body) != 1) return false;
    uint32_t s = fmt_child(f, body, 0);
    return kind(f, s) == K_EXPR_STMT && fmt_nchildren(f, s) == 1 && kind(f, fmt_child(f, s, 0)) == K_ELLIPSIS;
}

// Statements of a block or module (comments excluded), into an array.
static uint32_t statements(Fmt *f, uint32_t block, uint32_t **out) {
    const CstNode *p = node(f, block);
    uint32_t *v = ARENA_ARRAY(f->cx, uint32_t, p->nchildren + 1);
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        if (!f->c->nodes[ch].named || fmt_is_extra(f, ch)) continue;
        v[k++] = ch;
    }
    *out = v;
    return k;
}

// --- verbatim fallback ---

// Keeps a statement's source text (used when its comments can't be placed
// or it nests too deeply). Comments inside it are marked used.
static void verbatim(Fmt *f, uint32_t st) {
    const CstNode *n = node(f, st);
    uint32_t end = n->end;
    while (end > n->start && (f->src[end - 1] == '\n' || f->src[end - 1] == '\r' || f->src[end - 1] == ' '))
        end--;
    // re-emit line by line so the printer's indentation applies to the first line only
    doc_text(f->d, f->src + n->start, end - n->start);
    for (uint32_t i = 0; i < f->ncm; i++)
        if (cstart(f, i) >= n->start && cstart(f, i) < end) f->cm_used[i] = true;
}

// --- simple statements ---

static void fmt_docstring_stmt(Fmt *f, uint32_t st, int indent) {
    size_t len = 0;
    const char *t = "";
    (void)string_stmt(f, st, &t, &len);
    StrBuf sb = {0};
    fmt_docstring(f->cx, t, len, indent, &sb);
    doc_text(f->d, sb.data, sb.len);
}

static bool has_own_parens_target(const Fmt *f, uint32_t t) {
    uint32_t k = kind(f, t);
    return k == K_SUBSCRIPT || k == K_LIST || k == K_DICT || k == K_SET || k == K_LIST_PATTERN ||
           (k == K_CALL) || k == K_TUPLE || k == K_TUPLE_PATTERN;
}

// Can an annotation break over lines (ruff's is_splittable_expression)? A
// name or a plain attribute chain cannot; brackets, operators and calls with
// arguments can.
static bool splittable(const Fmt *f, uint32_t n) {
    n = fmt_unparen(f, n);
    if (n == CST_NONE) return false;
    switch (kind(f, n)) {
    case K_TYPE: return fmt_nchildren(f, n) > 0 && splittable(f, fmt_child(f, n, 0));
    case K_IDENTIFIER:
    case K_INTEGER:
    case K_FLOAT:
    case K_TRUE:
    case K_FALSE:
    case K_NONE:
    case K_ELLIPSIS:
    case K_SLICE:
    case K_NAMED_EXPR:
    case K_STRING: return false;
    case K_TUPLE:
    case K_LIST:
    case K_SET:
    case K_DICT:
    case K_EXPRESSION_LIST:
    case K_PATTERN_LIST:
    case K_YIELD: return fmt_nchildren(f, n) > 0;
    case K_UNARY_OP:
    case K_NOT_OP:
    case K_LIST_SPLAT:
        return fmt_nchildren(f, n) > 0 && splittable(f, fmt_child(f, n, fmt_nchildren(f, n) - 1));
    case K_CALL: {
        uint32_t fn = cst_field(f->c, n, F_FUNCTION), args = cst_field(f->c, n, F_ARGUMENTS);
        return (args != CST_NONE && fmt_nchildren(f, args) > 0) ||
               (fn != CST_NONE && kind(f, fn) == K_PAREN_EXPR);
    }
    case K_ATTRIBUTE:
    case K_LAMBDA: {  // no split point of its own: its object / body may have one
        uint32_t sub = cst_field(f->c, n, kind(f, n) == K_ATTRIBUTE ? F_OBJECT : F_BODY);
        return sub != CST_NONE && (kind(f, sub) == K_PAREN_EXPR || splittable(f, sub));
    }
    default: return true;  // operators, comparisons, subscripts, comprehensions, await, ...
    }
}

// `a, b` without brackets. Valid Python has it as an expression list in a
// value; after a syntax error, tree-sitter's recovery can read the same text
// as a pattern list, which must lay out the same way (or a second pass, on
// text that now parses cleanly, would lay it out differently).
static bool is_bare_tuple(const Fmt *f, uint32_t n) {
    return kind(f, n) == K_EXPRESSION_LIST || kind(f, n) == K_PATTERN_LIST;
}

static void fmt_assignment(Fmt *f, uint32_t a) {
    uint32_t left = cst_field(f->c, a, F_LEFT), type = cst_field(f->c, a, F_TYPE);
    uint32_t right = cst_field(f->c, a, F_RIGHT);
    if (type != CST_NONE) {
        fmt_targets(f, left);
        doc_str(f->d, ": ");
        if (right == CST_NONE) fmt_expr_unparen(f, type);
        else if (splittable(f, type)) fmt_assign_rtl(f, type, true, " = ", right);
        else {  // `x: T = value` with a T that cannot break: laid out as `x = value`
            fmt_expr_unparen(f, type);
            doc_str(f->d, " = ");
            fmt_value_list(f, right);
        }
        return;
    }
    // a = b = c: chained targets; the last one decides the layout
    uint32_t last = left;
    while (kind(f, right) == K_ASSIGNMENT && cst_field(f->c, right, F_RIGHT) != CST_NONE) {
        fmt_targets(f, last);
        doc_str(f->d, " = ");
        last = cst_field(f->c, right, F_LEFT);
        right = cst_field(f->c, right, F_RIGHT);
    }
    uint32_t r = fmt_unparen(f, right);
    if (has_own_parens_target(f, last) && !is_bare_tuple(f, r) && kind(f, r) != K_YIELD) {
        fmt_assign_rtl(f, last, false, " = ", right);
        return;
    }
    fmt_targets(f, last);
    doc_str(f->d, " = ");
    if (is_bare_tuple(f, r)) fmt_value_list(f, r);
    else fmt_maybe_paren(f, right, P_IF_BREAKS);
}

static void fmt_aug_assignment(Fmt *f, uint32_t a) {
    uint32_t left = cst_field(f->c, a, F_LEFT), right = cst_field(f->c, a, F_RIGHT);
    size_t len;
    const char *op = cst_text(f->c, cst_field(f->c, a, F_OPERATOR), &len);
    char *ops = arena_printf(f->cx, " %.*s ", (int)len, op);
    if (has_own_parens_target(f, left)) {
        fmt_assign_rtl(f, left, false, ops, right);
        return;
    }
    fmt_targets(f, left);
    doc_str(f->d, ops);
    fmt_value_list(f, right);  // `x += a, b`: as `x = a, b`
}

// `return a, b` / `x = a, b`: a tuple that gets parentheses only when it breaks.
void fmt_value_list(Fmt *f, uint32_t n) {
    if (!is_bare_tuple(f, n)) {
        fmt_maybe_paren(f, n, P_IF_BREAKS);
        return;
    }
    Level lv = f->level;
    uint32_t pid = f->paren_id;
    doc_start(f->d, D_GROUP, 0, 0);
    doc_start(f->d, D_IF, 0, M_BREAK);
    doc_str(f->d, "(");
    doc_end(f->d, D_END_IF);
    doc_start(f->d, D_INDENT, 0, 0);
    doc_line(f->d, L_SOFT);
    f->level = LV_PAREN;
    uint32_t cnt = fmt_nchildren(f, n);
    for (uint32_t i = 0; i < cnt; i++) {
        if (i) {
            doc_str(f->d, ",");
            doc_line(f->d, L_SOFT_SPACE);
        }
        fmt_expr(f, fmt_child(f, n, i));
    }
    if (cnt == 1) doc_str(f->d, ",");
    else {
        doc_start(f->d, D_IF, 0, M_BREAK);
        doc_str(f->d, ",");
        doc_end(f->d, D_END_IF);
    }
    f->level = lv;
    f->paren_id = pid;
    doc_end(f->d, D_END_INDENT);
    doc_line(f->d, L_SOFT);
    doc_start(f->d, D_IF, 0, M_BREAK);
    doc_str(f->d, ")");
    doc_end(f->d, D_END_IF);
    doc_end(f->d, D_END_GROUP);
}

// The k names of a from-import, parenthesized one per line when they break;
// magic (a trailing comma as written) forces the break.
static void fmt_from_import_items(Fmt *f, const uint32_t *items, uint32_t k, bool magic) {
    doc_start(f->d, D_GROUP, 0, 0);
    doc_start(f->d, D_IF, 0, M_BREAK);
    doc_str(f->d, "(");
    doc_end(f->d, D_END_IF);
    doc_start(f->d, D_INDENT, 0, 0);
    doc_line(f->d, L_SOFT);
    Level lv = f->level;
    f->level = LV_PAREN;
    for (uint32_t i = 0; i < k; i++) {
        if (i) {
            doc_str(f->d, ",");
            trailing_comment_after(f, node(f, items[i - 1])->end);
            doc_line(f->d, L_SOFT_SPACE);
        }
        fmt_expr(f, items[i]);
    }
    doc_start(f->d, D_IF, 0, M_BREAK);
    doc_str(f->d, ",");
    doc_end(f->d, D_END_IF);
    if (k) trailing_comment_after(f, node(f, items[k - 1])->end);
    if (magic) doc_expand_parent(f->d);
    f->level = lv;
    doc_end(f->d, D_END_INDENT);
    doc_line(f->d, L_SOFT);
    doc_start(f->d, D_IF, 0, M_BREAK);
    doc_str(f->d, ")");
    doc_end(f->d, D_END_IF);
    doc_end(f->d, D_END_GROUP);
}

static void fmt_import_names(Fmt *f, uint32_t st, uint32_t first_name, bool from) {
    const CstNode *p = node(f, st);
    uint32_t *items = ARENA_ARRAY(f->cx, uint32_t, p->nchildren + 1);
    uint32_t k = 0;
    bool magic = false, wildcard = false;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        if (ch < first_name) continue;
        if (kind(f, ch) == K_WILDCARD_IMPORT) wildcard = true;
        if (f->c->nodes[ch].named && !fmt_is_extra(f, ch) && f->c->nodes[ch].field == F_NAME) items[k++] = ch;
        if (is_tok(f, ch, ",")) magic = true;
        else if (f->c->nodes[ch].named && !fmt_is_extra(f, ch)) magic = false;
    }
    if (wildcard) {
        doc_str(f->d, "*");
        return;
    }
    if (!from) {
        for (uint32_t i = 0; i < k; i++) {
            if (i) doc_str(f->d, ", ");
            fmt_expr(f, items[i]);
        }
        return;
    }
    fmt_from_import_items(f, items, k, magic);
}

// a = b, a += b, f(x), a, b
static void fmt_expr_stmt(Fmt *f, uint32_t st) {
    uint32_t cnt = fmt_nchildren(f, st);
    uint32_t e = fmt_child(f, st, 0);
    if (cnt > 1) {  // a, b  (a tuple statement)
        for (uint32_t i = 0; i < cnt; i++) {
            if (i) doc_str(f->d, ", ");
            fmt_expr(f, fmt_child(f, st, i));
        }
        return;
    }
    if (kind(f, e) == K_ASSIGNMENT) fmt_assignment(f, e);
    else if (kind(f, e) == K_AUG_ASSIGNMENT) fmt_aug_assignment(f, e);
    else fmt_maybe_paren(f, e, P_OPTIONAL);
}

// raise E, raise E from cause
static void fmt_raise(Fmt *f, uint32_t st) {
    const Cst *c = f->c;
    doc_str(f->d, "raise");
    uint32_t v = fmt_child(f, st, 0);
    if (v == CST_NONE) return;
    doc_space(f->d);
    if (is_bare_tuple(f, v)) fmt_value_list(f, v);
    else fmt_maybe_paren(f, v, P_OPTIONAL);
    uint32_t cause = cst_field(c, st, F_CAUSE);
    if (cause != CST_NONE) {
        doc_str(f->d, " from ");
        fmt_maybe_paren(f, cause, P_OPTIONAL);
    }
}

// from m import a, b as c
static void fmt_from_import(Fmt *f, uint32_t st) {
    const Cst *c = f->c;
    doc_str(f->d, "from ");
    uint32_t mod = cst_field(c, st, F_MODULE_NAME);
    if (mod != CST_NONE) fmt_node_text(f, mod);
    else doc_str(f->d, "__future__");
    doc_str(f->d, " import ");
    uint32_t imp = cst_token(c, st, "import");
    fmt_import_names(f, st, imp == CST_NONE ? node(f, st)->first_child : imp + 1, true);
}

// `assert test[, msg]`.
static void fmt_assert(Fmt *f, uint32_t st) {
    doc_str(f->d, "assert ");
    fmt_maybe_paren(f, fmt_child(f, st, 0), P_IF_BREAKS);
    uint32_t msg = fmt_child(f, st, 1);
    if (msg != CST_NONE) {
        doc_str(f->d, ", ");
        fmt_maybe_paren(f, msg, P_IF_BREAKS_PARENTHESIZED);
    }
}

// `global a, b` or `nonlocal a, b`.
static void fmt_global(Fmt *f, uint32_t st) {
    doc_str(f->d, kind(f, st) == K_GLOBAL ? "global " : "nonlocal ");
    uint32_t cnt = fmt_nchildren(f, st);
    for (uint32_t i = 0; i < cnt; i++) {
        if (i) doc_str(f->d, ", ");
        fmt_node_text(f, fmt_child(f, st, i));
    }
}

static void fmt_simple(Fmt *f, uint32_t st) {
    const Cst *c = f->c;
    switch (kind(f, st)) {
    case K_EXPR_STMT: fmt_expr_stmt(f, st); return;
    case K_RETURN: {
        doc_str(f->d, "return");
        uint32_t v = fmt_child(f, st, 0);
        if (v == CST_NONE) return;
        doc_space(f->d);
        fmt_value_list(f, v);
        return;
    }
    case K_PASS: doc_str(f->d, "pass"); return;
    case K_BREAK: doc_str(f->d, "break"); return;
    case K_CONTINUE: doc_str(f->d, "continue"); return;
    case K_RAISE: fmt_raise(f, st); return;
    case K_DELETE: {
        doc_str(f->d, "del ");
        uint32_t v = fmt_child(f, st, 0);
        fmt_value_list(f, v);
        return;
    }
    case K_ASSERT: fmt_assert(f, st); return;
    case K_GLOBAL:
    case K_NONLOCAL: fmt_global(f, st); return;
    case K_IMPORT:
        doc_str(f->d, "import ");
        fmt_import_names(f, st, node(f, st)->first_child, false);
        return;
    case K_IMPORT_FROM:
    case K_FUTURE_IMPORT: fmt_from_import(f, st); return;
    default: {
        size_t len;
        const char *t = cst_text(c, st, &len);
        doc_text(f->d, t, len);
        return;
    }
    }
}

// --- compound statements ---

// The header `kw <expr>:` then the indented body.
static void put_colon_and_body(Fmt *f, uint32_t colon_end, uint32_t body, BlockKind bk, uint32_t limit) {
    doc_str(f->d, ":");
    trailing_comment_after(f, colon_end);
    if (body == CST_NONE) return;
    doc_start(f->d, D_INDENT, 0, 0);
    fmt_block_body(f, body, bk, limit);
    doc_end(f->d, D_END_INDENT);
}

static uint32_t colon_before(const Fmt *f, uint32_t n, uint32_t body) {
    const CstNode *p = node(f, n);
    uint32_t colon = CST_NONE;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        if (ch == body) break;
        if (is_tok(f, ch, ":")) colon = ch;
    }
    return colon;
}

static uint32_t colon_end(const Fmt *f, uint32_t n, uint32_t body) {
    uint32_t c = colon_before(f, n, body);
    return c == CST_NONE ? node(f, n)->start : node(f, c)->end;
}

// Leading comments of a clause (else/elif/except/finally), printed at the
// statement's own indentation.
static void clause_leading_comments(Fmt *f, uint32_t clause) {
    int cap = f->depth == 0 ? 2 : 1;
    for (uint32_t i = 0; i < f->ncm; i++) {
        if (f->cm_used[i] || cstart(f, i) >= node(f, clause)->start) continue;
        int b = blank_lines_before(f, cstart(f, i));
        empty_lines(f, b > cap ? cap : b);
        put_comment(f, i);
    }
}

static uint32_t next_start(const Fmt *f, uint32_t n, uint32_t k, uint32_t limit) {
    const CstNode *p = node(f, n);
    for (uint32_t i = k + 1; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        if (f->c->nodes[ch].named && !fmt_is_extra(f, ch)) return node(f, ch)->start;
    }
    return limit;
}

static void fmt_clause(Fmt *f, uint32_t cl, uint32_t limit);

// if/while/for/try/with: header, body, then the clauses that follow.
static void fmt_clauses(Fmt *f, uint32_t st, uint32_t limit) {
    const CstNode *p = node(f, st);
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        uint32_t k = kind(f, ch);
        if (k != K_ELIF && k != K_ELSE && k != K_EXCEPT && k != K_FINALLY &&
            !(k == K_OTHER && f->c->nodes[ch].named && node(f, ch)->nchildren > 0 &&
              is_tok(f, node(f, ch)->first_child, "except")))
            continue;
        clause_leading_comments(f, ch);
        int b = blank_lines_before(f, node(f, ch)->start), cap = f->depth == 0 ? 2 : 1;
        empty_lines(f, b > cap ? cap : b);
        fmt_clause(f, ch, next_start(f, st, i, limit));
    }
}

static void fmt_header_expr(Fmt *f, uint32_t e) { fmt_maybe_paren(f, e, P_IF_BREAKS); }

static uint32_t body_of(const Fmt *f, uint32_t n) {
    uint32_t b = cst_field(f->c, n, F_BODY);
    if (b == CST_NONE) b = cst_field(f->c, n, F_CONSEQUENCE);
    if (b == CST_NONE) {
        const CstNode *p = node(f, n);
        for (uint32_t i = 0; i < p->nchildren; i++)
            if (kind(f, p->first_child + i) == K_BLOCK) b = p->first_child + i;
    }
    return b;
}

// The end of a clause's own part: where its first sub-clause (elif/else/...) starts.
static uint32_t body_limit(const Fmt *f, uint32_t n, uint32_t body, uint32_t limit) {
    const CstNode *p = node(f, n);
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        if (ch > body && f->c->nodes[ch].named && !fmt_is_extra(f, ch)) return node(f, ch)->start;
    }
    return limit;
}

static void fmt_with_items(Fmt *f, uint32_t wc) {
    uint32_t cnt = fmt_nchildren(f, wc);
    for (uint32_t i = 0; i < cnt; i++) {
        if (i) doc_str(f->d, ", ");
        uint32_t item = fmt_child(f, wc, i);
        uint32_t v = cst_field(f->c, item, F_VALUE);
        if (v == CST_NONE) v = fmt_child(f, item, 0);
        if (kind(f, v) == K_AS_PATTERN) {
            fmt_expr(f, fmt_child(f, v, 0));
            doc_str(f->d, " as ");
            uint32_t tgt = fmt_child(f, v, 1);
            fmt_expr(f, tgt);
        } else if (cnt == 1) {
            fmt_maybe_paren(f, v, P_IF_BREAKS);
        } else {
            fmt_expr(f, v);
        }
    }
}

// An except clause's header up to the colon: `except[*] [type [as name]]`.
static void fmt_except_header(Fmt *f, uint32_t cl, uint32_t body) {
    const CstNode *p = node(f, cl);
    doc_str(f->d, "except");
    bool star = false;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        if (ch == body) break;
        if (is_tok(f, ch, "*")) star = true;
    }
    if (star) doc_str(f->d, "*");
    uint32_t first = CST_NONE, alias = CST_NONE;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        if (ch == body) break;
        if (!f->c->nodes[ch].named || fmt_is_extra(f, ch) || kind(f, ch) == K_BLOCK) continue;
        if (first == CST_NONE) first = ch;
        else alias = ch;
    }
    if (first == CST_NONE) return;
    doc_space(f->d);
    if (kind(f, first) == K_AS_PATTERN) {
        fmt_maybe_paren(f, fmt_child(f, first, 0), P_IF_BREAKS);
        doc_str(f->d, " as ");
        fmt_expr(f, fmt_child(f, first, 1));
        return;
    }
    fmt_maybe_paren(f, first, P_IF_BREAKS);
    if (alias != CST_NONE) {
        doc_str(f->d, " as ");
        fmt_expr(f, alias);
    }
}

// A for clause's header up to the colon: `[async ]for targets in values`.
static void fmt_for_header(Fmt *f, uint32_t cl) {
    const Cst *c = f->c;
    if (cst_token(c, cl, "async") != CST_NONE) doc_str(f->d, "async ");
    doc_str(f->d, "for ");
    fmt_targets(f, cst_field(c, cl, F_LEFT));
    doc_str(f->d, " in ");
    uint32_t right = cst_field(c, cl, F_RIGHT);
    if (is_bare_tuple(f, fmt_unparen(f, right))) fmt_value_list(f, fmt_unparen(f, right));
    else fmt_header_expr(f, right);
}

static void fmt_clause(Fmt *f, uint32_t cl, uint32_t limit) {
    const Cst *c = f->c;
    uint32_t body = body_of(f, cl);
    uint32_t blim = body_limit(f, cl, body, limit);
    uint32_t ce = colon_end(f, cl, body);
    switch (kind(f, cl)) {
    case K_IF:
    case K_ELIF:
    case K_WHILE:
        doc_str(f->d, kind(f, cl) == K_IF ? "if " : kind(f, cl) == K_ELIF ? "elif " : "while ");
        fmt_header_expr(f, cst_field(c, cl, F_CONDITION));
        put_colon_and_body(f, ce, body, BK_OTHER, blim);
        break;
    case K_ELSE:
    case K_FINALLY:
    case K_TRY:
        doc_str(f->d, kind(f, cl) == K_ELSE ? "else" : kind(f, cl) == K_TRY ? "try" : "finally");
        put_colon_and_body(f, ce, body, BK_OTHER, blim);
        break;
    case K_FOR:
        fmt_for_header(f, cl);
        put_colon_and_body(f, ce, body, BK_OTHER, blim);
        break;
    case K_WITH: {
        if (cst_token(c, cl, "async") != CST_NONE) doc_str(f->d, "async ");
        doc_str(f->d, "with ");
        const CstNode *p = node(f, cl);
        for (uint32_t i = 0; i < p->nchildren; i++)
            if (kind(f, p->first_child + i) == K_WITH_CLAUSE) fmt_with_items(f, p->first_child + i);
        put_colon_and_body(f, ce, body, BK_OTHER, blim);
        break;
    }
    default:  // except clauses
        fmt_except_header(f, cl, body);
        put_colon_and_body(f, ce, body, BK_OTHER, blim);
        break;
    }
    if (kind(f, cl) == K_IF || kind(f, cl) == K_FOR || kind(f, cl) == K_WHILE || kind(f, cl) == K_TRY)
        fmt_clauses(f, cl, limit);
}

static void fmt_function(Fmt *f, uint32_t fn, uint32_t limit) {
    const Cst *c = f->c;
    if (cst_token(c, fn, "async") != CST_NONE) doc_str(f->d, "async ");
    doc_str(f->d, "def ");
    fmt_node_text(f, cst_field(c, fn, F_NAME));
    const CstNode *p = node(f, fn);
    for (uint32_t i = 0; i < p->nchildren; i++)  // type parameters [T]
        if (kind(f, p->first_child + i) == K_OTHER && f->c->nodes[p->first_child + i].named &&
            f->c->nodes[p->first_child + i].field == F_NONE &&
            p->first_child + i < cst_field(c, fn, F_PARAMETERS))
            fmt_node_text(f, p->first_child + i);
    uint32_t ret = cst_field(c, fn, F_RETURN_TYPE);
    fmt_parameters(f, cst_field(c, fn, F_PARAMETERS), ret);
    uint32_t body = cst_field(c, fn, F_BODY);
    if (is_stub_def(f, fn) && !newline_between(f, colon_end(f, fn, body), node(f, body)->start) &&
        !fmt_has_comments(f, p->start, p->end)) {
        doc_str(f->d, ": ...");
        return;
    }
    put_colon_and_body(f, colon_end(f, fn, body), body, BK_FUNCTION, limit);
}

static void fmt_class(Fmt *f, uint32_t cl, uint32_t limit) {
    const Cst *c = f->c;
    doc_str(f->d, "class ");
    fmt_node_text(f, cst_field(c, cl, F_NAME));
    const CstNode *p = node(f, cl);
    for (uint32_t i = 0; i < p->nchildren; i++)  // type parameters [T]
        if (kind(f, p->first_child + i) == K_OTHER && f->c->nodes[p->first_child + i].named &&
            f->c->nodes[p->first_child + i].field == F_NONE &&
            is_tok(f, node(f, p->first_child + i)->first_child, "["))
            fmt_node_text(f, p->first_child + i);
    uint32_t sup = cst_field(c, cl, F_SUPERCLASSES);
    if (sup != CST_NONE &&
        (fmt_nchildren(f, sup) > 0 || fmt_has_comments(f, node(f, sup)->start, node(f, sup)->end)))
        fmt_expr(f, cst_field(c, cl, F_SUPERCLASSES) == sup ? sup : sup);
    uint32_t body = cst_field(c, cl, F_BODY);
    put_colon_and_body(f, colon_end(f, cl, body), body, BK_CLASS, limit);
}

static void fmt_statement(Fmt *f, uint32_t st, BlockKind bk, uint32_t limit) {
    (void)bk;
    switch (kind(f, st)) {
    case K_FUNCTION_DEF: fmt_function(f, st, limit); return;
    case K_CLASS_DEF: fmt_class(f, st, limit); return;
    case K_DECORATED_DEF: {
        const CstNode *p = node(f, st);
        for (uint32_t i = 0; i < p->nchildren; i++) {
            uint32_t ch = p->first_child + i;
            if (kind(f, ch) != K_DECORATOR) continue;
            for (uint32_t k = 0; k < f->ncm; k++) {  // comments between decorators
                if (f->cm_used[k] || cstart(f, k) >= node(f, ch)->start || cstart(f, k) < p->start) continue;
                put_comment(f, k);
                doc_line(f->d, L_HARD);
            }
            doc_str(f->d, "@");
            uint32_t dexpr = fmt_child(f, ch, 0);
            fmt_maybe_paren(f, dexpr, P_IF_REQUIRED);
            trailing_comment_after(f, node(f, dexpr)->end);
            doc_line(f->d, L_HARD);
        }
        uint32_t def = cst_field(f->c, st, F_DEFINITION);
        for (uint32_t k = 0; k < f->ncm; k++) {
            if (f->cm_used[k] || cstart(f, k) >= node(f, def)->start || cstart(f, k) < p->start) continue;
            put_comment(f, k);
            doc_line(f->d, L_HARD);
        }
        fmt_statement(f, def, bk, limit);
        return;
    }
    case K_IF:
    case K_FOR:
    case K_WHILE:
    case K_TRY:
    case K_WITH: fmt_clause(f, st, limit); return;
    case K_MATCH:
    case K_ERROR: verbatim(f, st); return;
    default: fmt_simple(f, st); return;
    }
}

// Formats one statement, falling back to its source text when comments
// inside it were not placed or it nests too deeply.
static void statement_or_verbatim(Fmt *f, uint32_t st, BlockKind bk, uint32_t limit, int indent) {
    uint32_t mark = f->d->n, nopen = f->d->nopen;
    bool *saved = ARENA_ARRAY(f->cx, bool, f->ncm + 1);
    memcpy(saved, f->cm_used, f->ncm * sizeof(bool));
    if (f->depth == 0) f->too_deep = false;
    if (bk != BK_MODULE && is_string_stmt(f, st) && st == fmt_child(f, f->c->nodes[st].parent, 0) &&
        (bk == BK_CLASS || bk == BK_FUNCTION)) {
        fmt_docstring_stmt(f, st, indent);
    } else if (bk == BK_MODULE && is_string_stmt(f, st) && st == fmt_child(f, 0, 0)) {
        fmt_docstring_stmt(f, st, 0);
    } else {
        fmt_statement(f, st, bk, limit);
    }
    // Comments inside a simple statement's range must all have been placed.
    const CstNode *n = node(f, st);
    bool simple = kind(f, st) != K_FUNCTION_DEF && kind(f, st) != K_CLASS_DEF &&
                  kind(f, st) != K_DECORATED_DEF && kind(f, st) != K_IF && kind(f, st) != K_FOR &&
                  kind(f, st) != K_WHILE && kind(f, st) != K_TRY && kind(f, st) != K_WITH;
    bool bad = f->too_deep || (simple && fmt_has_comments(f, n->start, n->end));
    if (f->too_deep && f->depth > 0) return;  // an enclosing statement falls back as a whole
    if (!bad) return;
    f->too_deep = false;
    f->d->n = mark;
    f->d->nopen = nopen;
    memcpy(f->cm_used, saved, f->ncm * sizeof(bool));
    verbatim(f, st);
}

// --- fmt: off ---

// Is comment k `# fmt: <what>` (or yapf's disable/enable)?
static bool is_fmt_comment(const Fmt *f, uint32_t k, const char *what) {
    size_t len;
    const char *t = cst_text(f->c, f->cm[k], &len);
    size_t i = 1;
    while (i < len && t[i] == ' ') i++;
    const char *yapf = strcmp(what, "off") == 0 ? "yapf: disable" : "yapf: enable";
    char want[32];
    size_t wl = (size_t)snprintf(want, sizeof want, "fmt: %s", what);
    while (len > i && (t[len - 1] == ' ' || t[len - 1] == '\r')) len--;
    return (len - i == wl && memcmp(t + i, want, wl) == 0) ||
           (len - i == strlen(yapf) && memcmp(t + i, yapf, strlen(yapf)) == 0);
}

// `# fmt: off` before statement st[i]: everything up to the matching
// `# fmt: on` at the same indentation (or the end of the block) is kept as
// written. Returns the index of the last statement inside the region.
static uint32_t fmt_off_region(Fmt *f, const uint32_t *st, uint32_t n, uint32_t i, uint32_t k,
                               uint32_t limit) {
    uint32_t col = column(f, cstart(f, k));
    uint32_t end = node(f, st[n - 1])->end;  // default: the rest of the block
    for (uint32_t j = k + 1; j < f->ncm; j++) {
        if (cstart(f, j) >= limit) break;
        if (is_fmt_comment(f, j, "on") && column(f, cstart(f, j)) == col &&
            line_start(f, cstart(f, j)) == cstart(f, j) - col) {
            end = line_start(f, cstart(f, j));
            break;
        }
    }
    uint32_t last = i;
    while (last + 1 < n && node(f, st[last + 1])->start < end) last++;
    if (node(f, st[last])->end > end) end = node(f, st[last])->end;
    while (end > cstart(f, k) && (f->src[end - 1] == '\n' || f->src[end - 1] == '\r' ||
                                  f->src[end - 1] == ' ' || f->src[end - 1] == '\t'))
        end--;
    doc_text(f->d, f->src + cstart(f, k), end - cstart(f, k));
    for (uint32_t j = 0; j < f->ncm; j++)
        if (cstart(f, j) >= cstart(f, k) && cstart(f, j) < end) f->cm_used[j] = true;
    return last;
}

// --- blocks ---

static int max_blank(BlockKind bk) { return bk == BK_MODULE ? 2 : 1; }

// Blank lines before statement `cur` (index i) given the previous one.
static int blank_lines(Fmt *f, uint32_t prev, uint32_t cur, uint32_t first_pos, BlockKind bk,
                       bool prev_docstring, bool after_comments) {
    int src = blank_lines_before(f, first_pos);
    int cap = max_blank(bk);
    if (src > cap) src = cap;
    bool top = bk == BK_MODULE;
    // after the previous statement's trailing comment block the source decides,
    // unless a definition follows
    if (after_comments && !is_def(f, cur)) return src;
    if (is_def(f, prev) || is_def(f, cur)) {
        if (is_stub_def(f, prev) && is_def(f, cur) && src == 0) return 0;
        if (!top && bk == BK_FUNCTION && !is_def(f, prev) && src == 0 && 0) return 0;
        return top ? 2 : 1;
    }
    if (prev_docstring) return bk == BK_CLASS || bk == BK_MODULE ? 1 : src;
    if (is_import(f, prev) && !is_import(f, cur)) return src < 1 ? 1 : src;
    return src;
}

// Is there a blank line between own-line comment k (or the comments after
// it) and the statement starting at s_start?
static bool blank_after_comment(Fmt *f, uint32_t k, uint32_t s_start) {
    uint32_t e = node(f, f->cm[k])->end;
    for (uint32_t j = k + 1; j <= f->ncm; j++) {
        uint32_t nxt = j < f->ncm && !f->cm_used[j] && cstart(f, j) < s_start ? cstart(f, j) : s_start;
        if (blank_lines_before(f, nxt) > 0 && line_start(f, nxt) > e) return true;
        if (nxt == s_start) return false;
        e = node(f, f->cm[j])->end;
    }
    return false;
}

static void fmt_statements(Fmt *f, const uint32_t *st, uint32_t n, BlockKind bk, uint32_t limit, int indent,
                           uint32_t parent_first) {
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = st[i];
        uint32_t s_start = node(f, s)->start;
        // Own-line comments before s: those followed by a blank line trail the
        // previous statement; the rest lead s.
        uint32_t first_pos = s_start;
        bool any_leading = false, any_trailing = false;
        for (uint32_t k = 0; k < f->ncm; k++) {
            if (f->cm_used[k] || cstart(f, k) >= s_start) continue;
            if (i > 0 && cstart(f, k) < line_start(f, s_start) && !any_leading) {
                if (blank_after_comment(f, k, s_start)) {
                    int b = blank_lines_before(f, cstart(f, k));
                    if (b > max_blank(bk)) b = max_blank(bk);
                    if (bk == BK_MODULE && is_def(f, st[i - 1]) && !any_trailing) b = 2;
                    any_trailing = true;
                    empty_lines(f, b);
                    put_comment(f, k);
                    continue;
                }
            }
            if (!any_leading) first_pos = cstart(f, k);
            any_leading = true;
        }
        if (i > 0) {
            bool prev_doc = i == 1 && is_string_stmt(f, st[0]) && bk != BK_OTHER;
            empty_lines(f, blank_lines(f, st[i - 1], s, first_pos, bk, prev_doc, any_trailing));
        } else if (bk == BK_FUNCTION && parent_first != CST_NONE && !is_string_stmt(f, s)) {
            int b = blank_lines_before(f, first_pos);
            if (line_start(f, first_pos) <= line_start(f, parent_first)) b = 0;
            empty_lines(f, b > 1 ? 1 : b);
        } else if (bk == BK_OTHER && is_def(f, s)) {  // a def opening an if/for/with... block
            empty_lines(f, 1);
        } else if (bk == BK_CLASS && is_def(f, s) && parent_first != CST_NONE) {
            int b = blank_lines_before(f, first_pos);
            if (line_start(f, first_pos) <= line_start(f, parent_first)) b = 0;
            empty_lines(f, b > 1 ? 1 : b);
        } else if (bk != BK_MODULE) {
            doc_line(f->d, L_HARD);
        }
        // leading comments
        bool off = false;
        for (uint32_t k = 0; k < f->ncm; k++) {
            if (f->cm_used[k] || cstart(f, k) >= s_start) continue;
            if (is_fmt_comment(f, k, "off")) {
                i = fmt_off_region(f, st, n, i, k, limit);
                off = true;
                break;
            }
            put_comment(f, k);
            doc_line(f->d, L_HARD);
            // blank lines between a leading comment and its statement are kept (capped)
            uint32_t nxt = s_start;
            for (uint32_t j = k + 1; j < f->ncm; j++)
                if (!f->cm_used[j] && cstart(f, j) < s_start) {
                    nxt = cstart(f, j);
                    break;
                }
            int b = blank_lines_before(f, nxt);
            if (b > 0) {
                if (b > max_blank(bk)) b = max_blank(bk);
                for (int q = 0; q < b; q++) doc_line(f->d, L_EMPTY);
            }
        }
        if (off) continue;
        uint32_t next = i + 1 < n ? node(f, st[i + 1])->start : limit;
        statement_or_verbatim(f, s, bk, next, indent);
        trailing_comment_after(f, node(f, s)->end);
    }
}

// Comments after a block's last statement that are indented at least as deep
// as the block belong to it.
static void block_trailing_comments(Fmt *f, uint32_t col, uint32_t limit, BlockKind bk) {
    for (uint32_t k = 0; k < f->ncm; k++) {
        if (f->cm_used[k]) continue;
        uint32_t s = cstart(f, k);
        if (s >= limit) break;
        if (column(f, s) < col) break;
        int b = blank_lines_before(f, s);
        if (b > max_blank(bk)) b = max_blank(bk);
        empty_lines(f, b);
        put_comment(f, k);
    }
}

static void fmt_block_body(Fmt *f, uint32_t block, BlockKind bk, uint32_t limit) {
    uint32_t *st;
    uint32_t n = statements(f, block, &st);
    if (n == 0) return;
    if (f->depth >= FMT_MAX_DEPTH) {  // too deep: the enclosing statement is kept as written
        f->too_deep = true;
        return;
    }
    f->depth++;
    uint32_t col = column(f, node(f, st[0])->start);
    int indent = 0;
    // the printer's indentation for docstrings: count enclosing blocks
    for (uint32_t p = block; p != CST_NONE; p = f->c->nodes[p].parent)
        if (kind(f, p) == K_BLOCK) indent += FMT_INDENT;
    uint32_t header = f->c->nodes[block].parent;
    fmt_statements(f, st, n, bk, limit, indent, header == CST_NONE ? CST_NONE : node(f, header)->start);
    block_trailing_comments(f, col, limit, bk);
    f->depth--;
}

// Formats a whole module into the document.
void fmt_module_doc(Fmt *f) {
    uint32_t *st;
    uint32_t n = statements(f, 0, &st);
    fmt_statements(f, st, n, BK_MODULE, node(f, 0)->end, 0, CST_NONE);
    // comments after the last statement
    for (uint32_t k = 0; k < f->ncm; k++) {
        if (f->cm_used[k]) continue;
        if (n > 0 || k > 0) {
            int b = blank_lines_before(f, cstart(f, k));
            if (b > 2) b = 2;
            if (n > 0 && is_def(f, st[n - 1]) && k == 0) b = 2;
            if (n == 0 && k > 0 && b == 0) doc_line(f->d, L_HARD);
            else if (n > 0 || k > 0) empty_lines(f, b);
        }
        put_comment(f, k);
    }
}
