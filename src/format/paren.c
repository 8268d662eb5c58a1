// format/paren.c: parentheses the formatter may add, and layouts that choose
// between alternatives (ruff's optional parentheses).
//
// Consumes: expression nodes in statement slots (assignment values, return
// values, conditions, annotations, parameters). Produces: Doc elements that
// add parentheses only when the content breaks (parenthesize-if-expands),
// that prefer splitting the expression's own brackets (optional
// parentheses), that parenthesize only if that makes the content fit
// (best-fit parenthesize), or that try several layouts in order (assignments
// with annotations or bracketed targets).
#include <string.h>

#include "internal.h"

static uint32_t kind(const Fmt *f, uint32_t n) { return f->c->nodes[n].kind; }
static const char *text_of(const Fmt *f, uint32_t n, size_t *len) { return cst_text(f->c, n, len); }

// --- optional parentheses in statement slots ---

typedef enum Needs { N_NEVER, N_BEST_FIT, N_MULTILINE, N_ALWAYS } Needs;

static bool has_own_parens(const Fmt *f, uint32_t n, bool *non_empty) {
    *non_empty = true;
    switch (kind(f, n)) {
    case K_LIST:
    case K_TUPLE:
    case K_SET:
    case K_DICT: *non_empty = fmt_nchildren(f, n) > 0; return true;
    case K_LIST_COMP:
    case K_SET_COMP:
    case K_DICT_COMP:
    case K_GENERATOR: return true;
    case K_CALL: {
        uint32_t al = cst_field(f->c, n, F_ARGUMENTS);
        *non_empty = al != CST_NONE && fmt_nchildren(f, al) > 0;
        return true;
    }
    case K_SUBSCRIPT: return true;
    case K_PAREN_EXPR: return true;
    default: return false;
    }
}

static bool is_multiline_string(const Fmt *f, uint32_t n) {
    if (kind(f, n) != K_STRING) return false;
    size_t len;
    const char *t = text_of(f, n, &len);
    return memchr(t, '\n', len) != NULL;
}

static Needs needs_parens(const Fmt *f, uint32_t n) {
    switch (kind(f, n)) {
    case K_IDENTIFIER:
    case K_INTEGER:
    case K_FLOAT:
    case K_TRUE:
    case K_FALSE:
    case K_NONE:
    case K_ELLIPSIS: return N_BEST_FIT;
    case K_STRING: return is_multiline_string(f, n) ? N_NEVER : N_BEST_FIT;
    case K_CONCAT_STRING: return N_MULTILINE;
    case K_ATTRIBUTE:
    case K_CALL:
    case K_SUBSCRIPT: {
        if (fmt_is_fluent(f, n)) return N_MULTILINE;
        uint32_t v = fmt_child(f, n, 0);
        if (kind(f, v) == K_PAREN_EXPR) return N_NEVER;
        return needs_parens(f, v);
    }
    case K_LIST:
    case K_TUPLE:
    case K_SET:
    case K_DICT:
    case K_LIST_COMP:
    case K_SET_COMP:
    case K_DICT_COMP:
    case K_GENERATOR:
    case K_PAREN_EXPR: return N_NEVER;
    case K_NAMED_EXPR: return N_ALWAYS;
    case K_LAMBDA: return N_NEVER;  // its body gets the parentheses
    default: return N_MULTILINE;
    }
}

// The CanOmitOptionalParentheses visitor: loosest operator and its count,
// whether anything has brackets, and the first/last operand.
typedef struct Omit {
    int max_prec;  // 0: none; otherwise 100 - precedence (looser binds = larger)
    int count;
    bool any_parens;
    uint32_t first, last;
    bool first_is_token;
} Omit;

static void omit_update(Omit *o, int prec) {
    int v = 100 - prec;
    if (v > o->max_prec) o->max_prec = v, o->count = 1;
    else if (v == o->max_prec) o->count++;
}

static void omit_visit(const Fmt *f, uint32_t n, Omit *o, int depth) {
    if (depth > FMT_MAX_DEPTH) return;
    bool ne;
    switch (kind(f, n)) {
    case K_OTHER:
        if (!fmt_is_union(f, n)) {
            if (o->first == CST_NONE && !o->first_is_token) o->first = n;
            o->last = n;
            return;
        }
        /* fall through */
    case K_BINARY_OP:
    case K_BOOLEAN_OP:
    case K_COMPARISON: {
        Chain ch = {0};
        fmt_flatten((Fmt *)f, n, &ch);
        for (uint32_t i = 1; i < ch.n; i++) omit_update(o, ch.prec[i]);
        for (uint32_t i = 0; i < ch.n; i++) omit_visit(f, ch.operand[i], o, depth + 1);
        return;
    }
    case K_NOT_OP:
        if (o->first == CST_NONE && !o->first_is_token) o->first_is_token = true;
        omit_visit(f, fmt_child(f, n, 0), o, depth + 1);
        return;
    case K_UNARY_OP: {
        size_t len;
        const char *t = cst_text(f->c, cst_field(f->c, n, F_OPERATOR), &len);
        if (*t == '~') omit_update(o, PREC_UNARY);
        if (o->first == CST_NONE && !o->first_is_token) o->first_is_token = true;
        omit_visit(f, cst_field(f->c, n, F_ARGUMENT), o, depth + 1);
        return;
    }
    case K_CONCAT_STRING:
        omit_update(o, PREC_STR);
        if (o->first == CST_NONE && !o->first_is_token) o->first = n;
        o->last = n;
        return;
    case K_CONDITIONAL_EXPR:
        omit_update(o, 0);
        omit_update(o, 0);
        for (uint32_t i = 0; i < 3; i++) omit_visit(f, fmt_child(f, n, i), o, depth + 1);
        return;
    case K_CALL:
    case K_SUBSCRIPT: {
        if (has_own_parens(f, n, &ne) && ne) o->any_parens = true;
        if (kind(f, n) == K_SUBSCRIPT) o->any_parens = true;
        uint32_t v = fmt_child(f, n, 0);
        omit_visit(f, v, o, depth + 1);
        o->last = n;
        return;
    }
    case K_ATTRIBUTE: {
        uint32_t v = cst_field(f->c, n, F_OBJECT);
        omit_visit(f, v, o, depth + 1);
        if (has_own_parens(f, v, &ne)) omit_update(o, 99);
        o->last = n;
        return;
    }
    case K_LIST:
    case K_TUPLE:
    case K_SET:
    case K_DICT:
    case K_LIST_COMP:
    case K_SET_COMP:
    case K_DICT_COMP:
    case K_GENERATOR:
    case K_PAREN_EXPR:
        if (has_own_parens(f, n, &ne) && ne) o->any_parens = true;
        if (o->first == CST_NONE && !o->first_is_token) o->first_is_token = true, o->first = n;
        o->last = n;
        return;
    default:
        if (o->first == CST_NONE && !o->first_is_token) o->first = n;
        o->last = n;
        return;
    }
}

static bool is_parenthesized_operand(const Fmt *f, uint32_t n) {
    if (n == CST_NONE || kind(f, n) == K_SUBSCRIPT) return false;
    bool ne;
    return has_own_parens(f, n, &ne) && ne;
}

static bool can_omit_optional_parens(const Fmt *f, uint32_t n) {
    Omit o = {.first = CST_NONE, .last = CST_NONE};
    omit_visit(f, n, &o, 0);
    if (!o.any_parens) return false;
    if (o.count > 1) return false;
    if (o.max_prec == 0) return true;  // no operator
    if (is_parenthesized_operand(f, o.last)) return true;
    return o.first_is_token && is_parenthesized_operand(f, o.first);
}

static void optional_parens(Fmt *f, uint32_t n) {
    uint32_t id = doc_new_id(f->d);
    Saved s = {f->level, f->paren_id, false};
    doc_start(f->d, D_GROUP, id, 0);
    doc_start(f->d, D_IF, 0, M_BREAK);
    doc_str(f->d, "(");
    doc_end(f->d, D_END_IF);
    doc_start(f->d, D_INDENT_IF, id, 0);
    doc_line(f->d, L_SOFT);
    f->level = LV_EXPR;
    f->paren_id = id;
    fmt_expr(f, n);
    f->level = s.level;
    f->paren_id = s.paren_id;
    doc_end(f->d, D_END_INDENT_IF);
    doc_line(f->d, L_SOFT);
    doc_start(f->d, D_IF, 0, M_BREAK);
    doc_str(f->d, ")");
    doc_end(f->d, D_END_IF);
    doc_end(f->d, D_END_GROUP);
}

static void parenthesize_if_expands(Fmt *f, uint32_t n) {
    Saved s = {f->level, f->paren_id, false};
    doc_start(f->d, D_GROUP, 0, 0);
    doc_start(f->d, D_IF, 0, M_BREAK);
    doc_str(f->d, "(");
    doc_end(f->d, D_END_IF);
    doc_start(f->d, D_INDENT, 0, 0);
    doc_line(f->d, L_SOFT);
    f->level = LV_PAREN;
    f->paren_id = 0;
    fmt_expr(f, n);
    f->level = s.level;
    f->paren_id = s.paren_id;
    doc_end(f->d, D_END_INDENT);
    doc_line(f->d, L_SOFT);
    doc_start(f->d, D_IF, 0, M_BREAK);
    doc_str(f->d, ")");
    doc_end(f->d, D_END_IF);
    doc_end(f->d, D_END_GROUP);
}

static void best_fit_parens(Fmt *f, uint32_t n) {
    uint32_t id = doc_new_id(f->d);
    Saved s = {f->level, f->paren_id, false};
    doc_start(f->d, D_BFP, id, 0);
    f->level = LV_EXPR;
    f->paren_id = id;
    fmt_expr(f, n);
    f->level = s.level;
    f->paren_id = s.paren_id;
    doc_end(f->d, D_END_BFP);
}

static void maybe_paren(Fmt *f, uint32_t n, Parenthesize how, bool nested);

void fmt_maybe_paren(Fmt *f, uint32_t n, Parenthesize how) { maybe_paren(f, n, how, false); }

// A lambda's body: like a statement's value, even inside brackets.
void fmt_maybe_paren_nested(Fmt *f, uint32_t n) {
    if (kind(f, fmt_unparen(f, n)) == K_LAMBDA) {
        fmt_expr(f, n);
        return;
    }
    Level lv = f->level;
    uint32_t pid = f->paren_id;
    f->level = LV_TOP;
    f->paren_id = 0;
    maybe_paren(f, n, P_IF_BREAKS, true);
    f->level = lv;
    f->paren_id = pid;
}

// Parentheses for unparenthesized n as its needs_parens class and `how` ask.
static void paren_by_need(Fmt *f, uint32_t n, Parenthesize how, bool nested) {
    switch (needs_parens(f, n)) {
    case N_ALWAYS:
        if (kind(f, n) == K_NAMED_EXPR) {
            Saved s = fmt_paren_begin(f, "(", CST_NONE);
            fmt_expr(f, n);
            fmt_paren_end(f, ")", s);
        } else {
            fmt_expr(f, n);
        }
        return;
    case N_NEVER:
        if (how == P_IF_BREAKS_PARENTHESIZED) parenthesize_if_expands(f, n);
        else fmt_expr(f, n);
        return;
    case N_MULTILINE:
        if (how == P_IF_REQUIRED) fmt_expr(f, n);
        else if (can_omit_optional_parens(f, n)) nested ? fmt_expr(f, n) : optional_parens(f, n);
        else parenthesize_if_expands(f, n);
        return;
    case N_BEST_FIT:
        if (how == P_IF_BREAKS_PARENTHESIZED) parenthesize_if_expands(f, n);
        else if (how != P_IF_BREAKS) fmt_expr(f, n);
        else if (can_omit_optional_parens(f, n)) nested ? fmt_expr(f, n) : optional_parens(f, n);
        else if (nested) parenthesize_if_expands(f, n);
        else best_fit_parens(f, n);
        return;
    }
}

static void maybe_paren(Fmt *f, uint32_t n, Parenthesize how, bool nested) {
    uint32_t inner = fmt_unparen(f, n);
    while (kind(f, n) == K_TYPE && fmt_nchildren(f, n) == 1) n = fmt_child(f, n, 0);
    const CstNode *nd = &f->c->nodes[n];
    bool parenthesized = inner != n;
    // parentheses holding comments, or kept by request, stay
    if (parenthesized && (how == P_OPTIONAL || fmt_has_comments(f, nd->start, f->c->nodes[inner].start) ||
                          fmt_has_comments(f, f->c->nodes[inner].end, nd->end))) {
        fmt_expr(f, n);
        return;
    }
    n = inner;
    if (f->level == LV_PAREN) {
        fmt_expr(f, n);
        return;
    }
    paren_by_need(f, n, how, nested);
}

// --- def parameters ---

static void each_param(Fmt *f, uint32_t n) { fmt_expr(f, n); }

// `(params) -> ret`. Like Black's left-hand split, the parameters break
// before the return annotation does: the annotation sits inside the
// parameters' group, so that group only stays flat if everything fits.
void fmt_parameters(Fmt *f, uint32_t params, uint32_t ret) {
    uint32_t *items;
    uint32_t k = fmt_items_of(f, params, &items);
    const CstNode *nd = &f->c->nodes[params];
    if (k == 0 && !fmt_has_comments(f, nd->start, nd->end)) {
        doc_str(f->d, "()");
        if (ret != CST_NONE) {
            doc_str(f->d, " -> ");
            uint32_t r = fmt_unparen(f, ret);
            bool ne;
            if (has_own_parens(f, r, &ne) && kind(f, r) != K_SUBSCRIPT) fmt_expr(f, r);
            else parenthesize_if_expands(f, r);
        }
        return;
    }
    uint32_t id = doc_new_id(f->d);
    Saved s = fmt_paren_begin_id(f, "(", nd->start + 1, id);
    doc_start(f->d, D_GROUP, 0, 0);
    fmt_comma_list_ex(f, items, k, nd->end - 1, fmt_trailing_comma(f, params), true, id, each_param);
    doc_end(f->d, D_END_GROUP);
    doc_end(f->d, D_END_INDENT);
    doc_line(f->d, L_SOFT);
    doc_str(f->d, ")");
    f->level = s.level;
    f->paren_id = s.paren_id;
    f->in_chain = s.in_chain;
    if (ret != CST_NONE) {
        doc_str(f->d, " -> ");
        fmt_expr_unparen(f, ret);
    }
    doc_end(f->d, D_END_GROUP);
    if (s.fits_expanded) doc_end(f->d, D_END_FITS_EXPANDED);
}

// --- assignments that prefer breaking the right-hand side (ruff's RightToLeft) ---

static void fmt_before_operator(Fmt *f, uint32_t target, bool is_annotation) {
    uint32_t t = fmt_unparen(f, target);
    bool ne;
    if (!is_annotation || has_own_parens(f, t, &ne) || t != target) {
        fmt_expr(f, target);
        return;
    }
    if (can_omit_optional_parens(f, t)) optional_parens(f, t);
    else parenthesize_if_expands(f, t);
}

static bool will_break(const Doc *d, uint32_t from) {
    for (uint32_t i = from; i < d->n; i++) {
        const DocEl *e = &d->el[i];
        if (e->op == D_EXPAND_PARENT || (e->op == D_TEXT && e->multiline) ||
            (e->op == D_LINE && (e->a == L_HARD || e->a == L_EMPTY)))
            return true;
    }
    return false;
}

static bool is_inlineable(const Fmt *f, uint32_t n) {
    switch (kind(f, n)) {
    case K_IDENTIFIER:
    case K_INTEGER:
    case K_FLOAT:
    case K_TRUE:
    case K_FALSE:
    case K_NONE:
    case K_ELLIPSIS: return true;
    case K_STRING: return !is_multiline_string(f, n);
    case K_ATTRIBUTE:
    case K_CALL:
    case K_SUBSCRIPT: return needs_parens(f, n) == N_BEST_FIT;
    default: return false;
    }
}

// `target op value` where `target` is an annotation or a target with its own
// brackets: tries, in order, everything flat; (for calls and subscripts)
// breaking the value's own brackets; parenthesizing the value; breaking the target.
// Best-fit entry: `target op (value)` with the value broken inside parentheses.
static void rtl_paren_entry(Fmt *f, uint32_t target, bool is_annotation, const char *op, uint32_t v) {
    Level lv = f->level;
    doc_start(f->d, D_ENTRY, 0, 0);
    fmt_before_operator(f, target, is_annotation);
    doc_str(f->d, op);
    doc_str(f->d, "(");
    doc_start(f->d, D_GROUP, 0, 1);
    doc_start(f->d, D_INDENT, 0, 0);
    doc_line(f->d, L_SOFT);
    f->level = LV_PAREN;
    fmt_expr(f, v);
    f->level = lv;
    doc_end(f->d, D_END_INDENT);
    doc_line(f->d, L_SOFT);
    doc_end(f->d, D_END_GROUP);
    doc_str(f->d, ")");
    doc_end(f->d, D_END_ENTRY);
}

// The best-fit choice for `target op v`: flat, the value's own brackets
// broken, the value parenthesized, or the target broken.
static void rtl_best_fit(Fmt *f, uint32_t target, bool is_annotation, const char *op, uint32_t v) {
    doc_start(f->d, D_BEST_FIT, 0, 0);
    // everything flat
    doc_start(f->d, D_ENTRY, 0, 0);
    fmt_before_operator(f, target, is_annotation);
    doc_str(f->d, op);
    fmt_expr(f, v);
    doc_end(f->d, D_END_ENTRY);
    bool ne;
    if ((kind(f, v) == K_CALL || kind(f, v) == K_SUBSCRIPT) && has_own_parens(f, v, &ne) && ne) {
        doc_start(f->d, D_ENTRY, 0, 0);
        fmt_before_operator(f, target, is_annotation);
        doc_str(f->d, op);
        doc_start(f->d, D_GROUP, 0, 1);
        fmt_expr(f, v);
        doc_end(f->d, D_END_GROUP);
        doc_end(f->d, D_END_ENTRY);
    }
    // the value in parentheses
    rtl_paren_entry(f, target, is_annotation, op, v);
    // the target broken
    doc_start(f->d, D_ENTRY, 0, 0);
    doc_start(f->d, D_GROUP, 0, 1);
    fmt_before_operator(f, target, is_annotation);
    doc_end(f->d, D_END_GROUP);
    doc_str(f->d, op);
    fmt_expr(f, v);
    doc_end(f->d, D_END_ENTRY);
    doc_end(f->d, D_END_BEST_FIT);
}

void fmt_assign_rtl(Fmt *f, uint32_t target, bool is_annotation, const char *op, uint32_t value) {
    uint32_t v = fmt_unparen(f, value);
    const CstNode *tn = &f->c->nodes[target], *vn = &f->c->nodes[value];
    bool comments = fmt_has_comments(f, tn->start, vn->end);
    if (!is_inlineable(f, v) || comments) {  // source parentheses around v do not matter (ruff)
        fmt_before_operator(f, target, is_annotation);
        doc_str(f->d, op);
        fmt_value_list(f, value);  // `x: T = a, b` / `x[i] += a, b`: a tuple splits per element
        return;
    }
    uint32_t mark = f->d->n;
    fmt_before_operator(f, target, is_annotation);
    if (will_break(f->d, mark)) {
        doc_str(f->d, op);
        fmt_expr(f, v);
        return;
    }
    f->d->n = mark;
    rtl_best_fit(f, target, is_annotation, op, v);
}
