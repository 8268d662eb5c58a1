// emit.c: assemble the output module from the rewrite plans (spec §1, §11).
//
// Consumes: the Module and the Conv of every converted function. Produces:
// the output text. The emitter never pretty-prints a tree from scratch: it
// copies slices of the original source, substituting the nodes the plan
// rewrote and inserting the planned lines, so comments and docstrings in
// copied code survive. Rewritten and generated statements are laid out by
// format/format.c; run (compile.c) then formats the whole module.
// format/imports.c computes the imports from the names the code uses.
#include "emit.h"

#include <stdlib.h>
#include <string.h>

#include "ffq_int.h"
#include "format/format.h"
#include "format/imports.h"
#include "optable.h"

typedef struct Emitter {
    ffq_ctx *cx;
    const Conv *cv;
    const Cst *c;
    NodeMap *prologue_done;  // blocks whose prologue was emitted before leading comments
    NodeMap *hoists_done;    // statement -> number of leading hoisted lines already emitted
} Emitter;

static bool ident_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static bool is_dirty(const Emitter *e, uint32_t n) { return nodemap_get(&e->cv->dirty, n) != NULL; }

static const char *qref(const Emitter *e, const Quantizer *q) {
    if (e->cv->instance) return arena_printf(e->cx, "%s.%s", e->cv->self_name, q->name);
    return q->name;
}

static void copy(const Emitter *e, uint32_t from, uint32_t to, StrBuf *out) {
    if (to > from) sb_putn(e->cx, out, e->c->file->data + from, to - from);
}

static void render(const Emitter *e, uint32_t n, StrBuf *out, uint32_t skip);
static void render_block(const Emitter *e, uint32_t block, StrBuf *out);
static void render_args(const Emitter *e, uint32_t call, StrBuf *out, bool *any, const OpEntry *op);
static bool no_newline(const Cst *c, uint32_t from, uint32_t to);

// Leading whitespace width of the line holding offset `at`, and whether
// `at` is the first non-blank character of its line.
static int line_indent(const Cst *c, uint32_t at, bool *first) {
    const char *d = c->file->data;
    uint32_t s = at;
    while (s > 0 && d[s - 1] != '\n' && d[s - 1] != '\r') s--;
    int w = 0;
    uint32_t i = s;
    for (; i < at && (d[i] == ' ' || d[i] == '\t'); i++) w = d[i] == '\t' ? (w / 8 + 1) * 8 : w + 1;
    if (first) *first = i == at;
    if (i != at) {  // something precedes `at` on its line: measure that line's indentation
        w = 0;
        for (i = s; d[i] == ' ' || d[i] == '\t'; i++) w = d[i] == '\t' ? (w / 8 + 1) * 8 : w + 1;
    }
    return w;
}

// Indentation of the statements of a block (a one-line suite gets the
// header's indentation plus four).
static int block_indent(const Cst *c, uint32_t block) {
    bool first;
    int w = line_indent(c, c->nodes[block].start, &first);
    return first ? w : w + 4;
}

static void newline_indent(const Emitter *e, StrBuf *out, int indent) {
    sb_putc(e->cx, out, '\n');
    sb_indent(e->cx, out, indent);
}

// Appends a statement laid out at `indent`; the first line's indentation is
// already in `out`.
static void put_stmt(const Emitter *e, const char *text, size_t len, int indent, StrBuf *out) {
    StrBuf f = {0};
    if (format_stmt(e->cx, text, len, indent, &f))
        sb_putn(e->cx, out, f.data + indent, f.len - (size_t)indent);
    else sb_putn(e->cx, out, text, len);
}

// A table op's keyword argument under the name of the parameter it binds: `dim=` for torch's
// NumPy-style `axis=` (fastforward.nn.functional takes the table's names only).
static void render_table_keyword(const Emitter *e, const OpEntry *op, uint32_t arg, StrBuf *out) {
    const Cst *c = e->c;
    uint32_t name = cst_field(c, arg, F_NAME), value = cst_field(c, arg, F_VALUE);
    const char *kw = name == CST_NONE ? NULL : cst_strdup(e->cx, c, name);
    const char *p = kw && value != CST_NONE ? optable_keyword_param(op, kw) : NULL;
    if (!p || strcmp(p, kw) == 0) {
        render(e, arg, out, CST_NONE);
        return;
    }
    sb_printf(e->cx, out, "%s=", p);
    render(e, value, out, CST_NONE);
}

static void render_args(const Emitter *e, uint32_t call, StrBuf *out, bool *any, const OpEntry *op) {
    const Cst *c = e->c;
    uint32_t al = cst_field(c, call, F_ARGUMENTS);
    // f(x for x in xs): the generator is one argument, kept in its own parentheses
    if (al != CST_NONE && c->nodes[al].kind == K_GENERATOR) {
        if (*any) sb_puts(e->cx, out, ", ");
        render(e, al, out, CST_NONE);
        *any = true;
        return;
    }
    for (uint32_t k = 0; al != CST_NONE && k < cst_named_count(c, al); k++) {
        if (*any) sb_puts(e->cx, out, ", ");
        uint32_t arg = cst_named_child(c, al, k);
        if (op && c->nodes[arg].kind == K_KEYWORD_ARGUMENT) render_table_keyword(e, op, arg, out);
        else render(e, arg, out, CST_NONE);
        *any = true;
    }
}

static bool takes_args(const CallSite *site) {
    const Conv *callee = site->callee_conv;
    return callee && !callee->instance && !callee->dropped;
}

// quantized_<helper>(<args>, quantizer_<p>=<value>, ...) (§5.3, §5.6); a
// class or static method keeps its call target.
// A helper passed as a value: functools.partial(quantized_<helper>, quantizer_<p>=...).
static void render_site(const Emitter *e, const CallSite *site, StrBuf *out) {
    const Cst *c = e->c;
    const Conv *callee = site->callee_conv;
    bool value = c->nodes[site->node].kind != K_CALL;
    if (value) sb_puts(e->cx, out, "functools.partial(");
    if (callee->emit_name) sb_puts(e->cx, out, callee->emit_name);
    else render(e, cst_field(c, site->node, F_FUNCTION), out, CST_NONE);
    bool any = value;
    if (!value) {
        sb_putc(e->cx, out, '(');
        render_args(e, site->node, out, &any, NULL);
    }
    for (size_t k = 0; k < site->args.len && k < callee->signature.len; k++) {
        const Quantizer *p = callee->signature.items[k];
        sb_printf(e->cx, out, "%s%s=%s", any ? ", " : "", p->name, qref(e, site->args.items[k]));
        any = true;
    }
    sb_putc(e->cx, out, ')');
}

// fastforward.nn.functional.<op>(<args>, <intermediates>, output_quantizer=<q>)
static void render_op(const Emitter *e, const QOp *op, StrBuf *out) {
    const Cst *c = e->c;
    uint32_t n = op->node;
    if (c->nodes[n].kind == K_AUG_ASSIGNMENT) {  // the target stays itself: `x = add(x, y, ...)`
        uint32_t left = cst_field(c, n, F_LEFT);
        render(e, left, out, left);
        sb_puts(e->cx, out, " = ");
    }
    sb_puts(e->cx, out, op->entry->dispatch);
    sb_putc(e->cx, out, '(');
    bool any = false;
    switch (c->nodes[n].kind) {
    case K_CALL: render_args(e, n, out, &any, op->entry); break;
    case K_BINARY_OP:
        render(e, cst_field(c, n, F_LEFT), out, CST_NONE);
        sb_puts(e->cx, out, ", ");
        render(e, cst_field(c, n, F_RIGHT), out, CST_NONE);
        any = true;
        break;
    case K_UNARY_OP:
        render(e, cst_field(c, n, F_ARGUMENT), out, CST_NONE);
        any = true;
        break;
    case K_AUG_ASSIGNMENT:
        render(e, cst_field(c, n, F_LEFT), out, CST_NONE);
        sb_puts(e->cx, out, ", ");
        render(e, cst_field(c, n, F_RIGHT), out, CST_NONE);
        any = true;
        break;
    default: ffq_unreachable();
    }
    for (size_t i = 0; i < op->entry->nintermediates; i++) {
        sb_printf(e->cx, out, "%s%s=%s", any ? ", " : "", op->entry->intermediates[i],
                  qref(e, op->intermediates[i]));
        any = true;
    }
    if (op->output) sb_printf(e->cx, out, "%soutput_quantizer=%s", any ? ", " : "", qref(e, op->output));
    sb_putc(e->cx, out, ')');
}

static void put_gen(const Emitter *e, const GenLine *g, int indent, StrBuf *out);

// The last name of a call's callee: `f` of f(...), `c` of a.b.c(...).
static bool callee_name_starts(const Cst *c, uint32_t call, const char *prefix) {
    uint32_t f = cst_field(c, call, F_FUNCTION);
    if (f != CST_NONE && c->nodes[f].kind == K_ATTRIBUTE) f = cst_field(c, f, F_ATTRIBUTE);
    if (f == CST_NONE || c->nodes[f].kind != K_IDENTIFIER) return false;
    size_t n, len = strlen(prefix);
    const char *t = cst_text(c, f, &n);
    return n >= len && memcmp(t, prefix, len) == 0;
}

// torch's dispatch guard, `if has_torch_function...(...): return handle_torch_function(...)`.
static bool torch_function_guard(const Cst *c, uint32_t st) {
    if (c->nodes[st].kind != K_IF || cst_field(c, st, F_ALTERNATIVE) != CST_NONE) return false;
    uint32_t cond = cst_field(c, st, F_CONDITION);
    cond = cond == CST_NONE ? CST_NONE : cst_unparen(c, cond);
    if (cond == CST_NONE || c->nodes[cond].kind != K_CALL ||
        !callee_name_starts(c, cond, "has_torch_function"))
        return false;
    uint32_t body = cst_field(c, st, F_CONSEQUENCE), ret = CST_NONE;
    for (uint32_t k = 0; body != CST_NONE && k < cst_named_count(c, body); k++) {
        uint32_t s = cst_named_child(c, body, k);
        if (c->nodes[s].kind == K_COMMENT) continue;
        if (ret != CST_NONE) return false;
        ret = s;
    }
    if (ret == CST_NONE || c->nodes[ret].kind != K_RETURN || cst_named_count(c, ret) != 1) return false;
    uint32_t value = cst_named_child(c, ret, 0);
    return c->nodes[value].kind == K_CALL && callee_name_starts(c, value, "handle_torch_function");
}

// Where a block's prologue goes when the block opens with torch's dispatch guard (after
// its docstring and assignments that gather the tensors it checks, `tens_ops = (a, b)`):
// the index of the guard among the block's children, whose prologue then follows it; else
// UINT32_MAX (the prologue opens the block). Quantized before the guard, the parameters
// would be QuantizedTensors there, and the guard would hand the call to
// QuantizedTensor.__torch_function__, which calls the function again, forever.
static uint32_t guard_before_prologue(const Cst *c, uint32_t block) {
    const CstNode *b = &c->nodes[block];
    bool first = true;
    for (uint32_t k = 0; k < b->nchildren; k++) {
        uint32_t st = b->first_child + k;
        const CstNode *sn = &c->nodes[st];
        if (!sn->named || sn->kind == K_COMMENT) continue;
        bool was_first = first;
        first = false;
        if (torch_function_guard(c, st)) return k;
        if (sn->kind != K_EXPR_STMT) return UINT32_MAX;
        uint32_t e = cst_named_child(c, st, 0);
        if (was_first && c->nodes[e].kind == K_STRING) continue;  // the docstring
        uint32_t right = c->nodes[e].kind == K_ASSIGNMENT ? cst_field(c, e, F_RIGHT) : CST_NONE;
        if (right == CST_NONE) return UINT32_MAX;
        uint32_t rk = c->nodes[right].kind;
        if (rk != K_TUPLE && rk != K_LIST && rk != K_IDENTIFIER) return UINT32_MAX;
    }
    return UINT32_MAX;
}

// Lines of a block's prologue, each followed by a line break at the block's indentation.
static void put_prologue(const Emitter *e, uint32_t block, StrBuf *out, bool lines_after) {
    const PtrVec *pro = nodemap_get(&e->cv->prologue, block);
    if (!pro || nodemap_get(e->prologue_done, block)) return;
    nodemap_put(e->cx, e->prologue_done, block, (void *)1);
    int indent = block_indent(e->c, block);
    for (size_t i = 0; i < pro->len; i++) {
        if (!lines_after) newline_indent(e, out, indent);
        put_gen(e, pro->items[i], indent, out);
        if (lines_after) newline_indent(e, out, indent);
    }
}

// Comments between a compound statement's header and its block lead the
// block's first statement: the block's prologue goes before them.
static void put_leading_hoists(const Emitter *e, uint32_t block, uint32_t k, int indent, StrBuf *out);

static void emit_prologue_before_comment(const Emitter *e, uint32_t n, uint32_t k, StrBuf *out) {
    const CstNode *node = &e->c->nodes[n];
    for (uint32_t j = k; j < node->nchildren; j++) {
        const CstNode *cn = &e->c->nodes[node->first_child + j];
        if (cn->kind == K_COMMENT) continue;
        if (cn->kind != K_BLOCK) return;
        uint32_t block = node->first_child + j;
        const CstNode *first = cn->nchildren ? &e->c->nodes[cn->first_child] : NULL;
        bool docstring = first && first->kind == K_EXPR_STMT &&
                         e->c->nodes[cst_named_child(e->c, cn->first_child, 0)].kind == K_STRING;
        if (docstring) return;  // the prologue goes after the docstring, inside the block
        if (guard_before_prologue(e->c, block) != UINT32_MAX) return;  // after torch's guard
        put_prologue(e, block, out, true);
        put_leading_hoists(e, block, 0, block_indent(e->c, block), out);
        return;
    }
}

// The stand-in of node n, when it has one (n is not `skip`): a temporary's or
// hoisted value's name, or the node wrapped in its inline quantizer. False: none.
static bool render_stand_in(const Emitter *e, uint32_t n, StrBuf *out, uint32_t skip) {
    const Cst *c = e->c;
    if (n == skip) return false;
    if (c->nodes[n].kind == K_PAREN_EXPR && cst_named_count(c, n) == 1) {
        // `(x + 1)` moved into a temporary: the name needs no parentheses
        uint32_t inner = cst_named_child(c, n, 0);
        TmpVar *t = inner == skip ? NULL : nodemap_get(&e->cv->tmp_of, inner);
        if (!t && inner != skip) t = nodemap_get(&e->cv->shared, inner);
        if (t) {
            sb_puts(e->cx, out, plan_tmp_name(e->cx, t));
            return true;
        }
    }
    TmpVar *t = nodemap_get(&e->cv->tmp_of, n);
    if (!t) t = nodemap_get(&e->cv->shared, n);  // an inline quantizer call run once (§2.4)
    if (t) {
        sb_puts(e->cx, out, plan_tmp_name(e->cx, t));
        return true;
    }
    const char *h = nodemap_get(&e->cv->hoisted, n);
    if (h) {
        sb_puts(e->cx, out, h);
        return true;
    }
    const Quantizer *iq = nodemap_get(&e->cv->inline_q, n);
    if (!iq) return false;
    sb_printf(e->cx, out, "%s(", qref(e, iq));
    render(e, n, out, n);
    sb_putc(e->cx, out, ')');
    return true;
}

// A comprehension's use of an outer value: quantized in place, or once into a
// walrus name that later uses read.
static void render_comp_use(const Emitter *e, uint32_t n, const CompUse *cu, StrBuf *out) {
    const CstNode *node = &e->c->nodes[n];
    if (cu->walrus < 0) sb_printf(e->cx, out, "%s(", qref(e, cu->q));
    else if (cu->first) sb_printf(e->cx, out, "(__ff%d := %s(", cu->walrus, qref(e, cu->q));
    else {
        sb_printf(e->cx, out, "__ff%d", cu->walrus);
        return;
    }
    copy(e, node->start, node->end, out);
    sb_puts(e->cx, out, cu->walrus < 0 ? ")" : "))");
}

// Node n's source between its children, each child rendered in turn.
static void render_children(const Emitter *e, uint32_t n, StrBuf *out, uint32_t skip) {
    const Cst *c = e->c;
    const CstNode *node = &c->nodes[n];
    uint32_t pos = node->start;
    for (uint32_t k = 0; k < node->nchildren; k++) {
        uint32_t ch = node->first_child + k;
        const CstNode *cn = &c->nodes[ch];
        if (cn->kind == K_BLOCK && is_dirty(e, ch)) {
            bool first;
            line_indent(c, cn->start, &first);
            if (!first) {  // a one-line suite that now holds several lines
                while (pos < cn->start && c->file->data[pos] != ':') pos++;
                copy(e, node->start > pos ? node->start : pos, pos, out);
                newline_indent(e, out, block_indent(c, ch));
                render(e, ch, out, skip);
                pos = cn->end;
                continue;
            }
        }
        copy(e, pos, cn->start, out);
        // a comment on the header's own line stays there; one on a line of its own leads the block
        if (cn->kind == K_COMMENT && !no_newline(c, pos, cn->start))
            emit_prologue_before_comment(e, n, k, out);
        render(e, ch, out, skip);
        pos = cn->end;
    }
    copy(e, pos, node->end, out);
}

// A node's text with every rewritten descendant substituted. `skip`: the
// root of a generated line, rendered as itself rather than as its stand-in.
static void render_node(const Emitter *e, uint32_t n, StrBuf *out, uint32_t skip);

// A constructor's data argument (rewrite.c, copying_ctors) goes through
// fastforward.nn.functional.dequantized; then the node as render_node writes it.
static void render(const Emitter *e, uint32_t n, StrBuf *out, uint32_t skip) {
    if (n == skip || !nodemap_get(&e->cv->dequant_arg, n)) {
        render_node(e, n, out, skip);
        return;
    }
    sb_puts(e->cx, out, "fastforward.nn.functional.dequantized(");
    render_node(e, n, out, skip);
    sb_putc(e->cx, out, ')');
}

static void render_node(const Emitter *e, uint32_t n, StrBuf *out, uint32_t skip) {
    const CstNode *node = &e->c->nodes[n];
    if (!is_dirty(e, n)) {
        copy(e, node->start, node->end, out);
        return;
    }
    if (render_stand_in(e, n, out, skip)) return;
    if (nodemap_get(&e->cv->unparen, n)) {  // redundant parentheses (§9.2) left out
        const char *d = e->c->file->data;
        uint32_t inner = cst_named_child(e->c, n, 0);  // (the one named child: no comments)
        if (out->len && ident_char(out->data[out->len - 1])) sb_putc(e->cx, out, ' ');  // not(x)
        render(e, inner, out, skip);
        if (node->end < e->c->file->len && ident_char(d[node->end])) sb_putc(e->cx, out, ' ');  // (x)if
        return;
    }
    const CompUse *cu = nodemap_get(&e->cv->comp_use, n);
    if (cu) {
        render_comp_use(e, n, cu, out);
        return;
    }
    const char *text = nodemap_get(&e->cv->text_of, n);
    if (text) {
        sb_puts(e->cx, out, text);
        return;
    }
    const QOp *op = nodemap_get(&e->cv->op_of, n);
    if (op) {
        render_op(e, op, out);
        return;
    }
    const CallSite *site = nodemap_get(&e->cv->site_of, n);
    if (site && takes_args(site)) {
        render_site(e, site, out);
        return;
    }
    if (node->kind == K_BLOCK) {
        render_block(e, n, out);
        return;
    }
    render_children(e, n, out, skip);
}

static size_t skip_string(const char *s, size_t n, size_t i);

// Expression text s with its line breaks outside brackets joined (a chain
// continued over lines inside parentheses that were not part of it) and the
// comments between those lines taken out into *comments, in order. Returns
// how many comments there were.
static int join_outside_brackets(ffq_ctx *cx, const char *s, size_t n, StrBuf *out, StrBuf *comments) {
    int depth = 0, count = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\'' || ch == '"') {
            size_t end = skip_string(s, n, i);
            sb_putn(cx, out, s + i, end - i);
            i = end - 1;
            continue;
        }
        if (ch == '(' || ch == '[' || ch == '{') depth++;
        else if (ch == ')' || ch == ']' || ch == '}') depth--;
        if (depth > 0 || (ch != '#' && ch != '\n')) {
            sb_putc(cx, out, ch);
            if (ch == '\\' && i + 1 < n) sb_putc(cx, out, s[++i]);  // a continuation stays
            continue;
        }
        if (ch == '#') {
            size_t end = i;
            while (end < n && s[end] != '\n') end++;
            if (count++) sb_puts(cx, comments, "  ");
            sb_putn(cx, comments, s + i, end - i);
            i = end;  // the line break after the comment goes too
        }
        while (out->len && out->data[out->len - 1] == ' ') out->len--;
        while (i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t')) i++;
    }
    return count;
}

// `var = value` for a temporary. A value that broke lines outside brackets
// (the links of a chain written inside parentheses, each maybe followed by a
// comment) is joined onto one line, its one comment after it; with more
// comments it keeps its lines inside parentheses.
static void put_tmp_value(const Emitter *e, const StrBuf *v, StrBuf *out) {
    StrBuf joined = {0}, comments = {0};
    int count = join_outside_brackets(e->cx, v->data, v->len, &joined, &comments);
    if (count > 1) {
        sb_putc(e->cx, out, '(');
        sb_putn(e->cx, out, v->data, v->len);
        sb_putc(e->cx, out, ')');  // the text ends with a token, never a comment
        return;
    }
    sb_putn(e->cx, out, joined.data, joined.len);
    if (count) {
        sb_puts(e->cx, out, "  ");
        sb_putn(e->cx, out, comments.data, comments.len);
    }
}

static void render_gen(const Emitter *e, const GenLine *g, StrBuf *out) {
    const char *var = g->tmp ? plan_tmp_name(e->cx, g->tmp) : g->var;
    switch (g->kind) {
    case GEN_TMP: {
        sb_printf(e->cx, out, "%s = ", var);
        StrBuf v = {0};
        render(e, g->node, &v, g->node);
        put_tmp_value(e, &v, out);
        return;
    }
    case GEN_QUANT: sb_printf(e->cx, out, "%s = %s(%s)", var, qref(e, g->q), var); return;
    case GEN_FLOAT: sb_printf(e->cx, out, "%s = fastforward.nn.functional.dequantized(%s)", var, var); return;
    case GEN_HOIST:
    case GEN_SHARE:
        sb_printf(e->cx, out, "%s = %s(", var, qref(e, g->q));
        render(e, g->node, out, g->node);
        sb_putc(e->cx, out, ')');
        return;
    }
}

static void put_gen(const Emitter *e, const GenLine *g, int indent, StrBuf *out) {
    StrBuf t = {0};
    render_gen(e, g, &t);
    put_stmt(e, sb_cstr(e->cx, &t), t.len, indent, out);
}

// Whitespace and comments between statements, with semicolons turned into
// line breaks and runs of blank lines collapsed to one.
static void copy_gap(const Emitter *e, uint32_t from, uint32_t to, int indent, StrBuf *out) {
    const char *d = e->c->file->data;
    bool has_nl = false;
    for (uint32_t i = from; i < to; i++)
        if (d[i] == '\n') has_nl = true;
    if (!has_nl) {
        newline_indent(e, out, indent);
        return;
    }
    int newlines = 0;              // line breaks since the last character that is not white space
    size_t line_start = out->len;  // where the text after the last line break kept begins
    for (uint32_t i = from; i < to; i++) {
        char ch = d[i];
        if (ch == ';') continue;
        if (ch == '\n') {
            if (++newlines > 2) {  // a further blank line: dropped with its white space
                out->len = line_start;
                continue;
            }
            sb_putc(e->cx, out, ch);
            line_start = out->len;
            continue;
        }
        if (ch != ' ' && ch != '\t' && ch != '\r') newlines = 0;
        sb_putc(e->cx, out, ch);  // (the next statement's indentation included)
    }
}

static void flush_after(const Emitter *e, const PtrVec *after, int indent, StrBuf *out) {
    for (size_t i = 0; after && i < after->len; i++) {
        newline_indent(e, out, indent);
        put_gen(e, after->items[i], indent, out);
    }
}

static bool is_simple_stmt(uint32_t kind) {
    switch (kind) {
    case K_IF:
    case K_FOR:
    case K_WHILE:
    case K_WITH:
    case K_TRY:
    case K_FUNCTION_DEF:
    case K_CLASS_DEF:
    case K_DECORATED_DEF:
    case K_MATCH:
    case K_COMMENT: return false;
    default: return true;
    }
}

static void render_stmt(const Emitter *e, uint32_t st, int indent, StrBuf *out) {
    if (!is_dirty(e, st) || !is_simple_stmt(e->c->nodes[st].kind)) {
        render(e, st, out, CST_NONE);
        return;
    }
    StrBuf t = {0};
    render(e, st, &t, CST_NONE);
    put_stmt(e, sb_cstr(e->cx, &t), t.len, indent, out);
}

// Hoisted expression quantizers and shared quantizer calls placed before a statement also go
// before the comments that lead it (only isolated temporaries take the comments).
static bool is_hoisted_line(const GenLine *g) { return g->kind == GEN_HOIST || g->kind == GEN_SHARE; }

static void put_leading_hoists(const Emitter *e, uint32_t block, uint32_t k, int indent, StrBuf *out) {
    const CstNode *b = &e->c->nodes[block];
    uint32_t st = CST_NONE;
    for (uint32_t j = k; j < b->nchildren && st == CST_NONE; j++) {
        const CstNode *cn = &e->c->nodes[b->first_child + j];
        if (cn->named && cn->kind != K_COMMENT) st = b->first_child + j;
    }
    if (st == CST_NONE) return;
    const PtrVec *before = nodemap_get(&e->cv->before, st);
    size_t done = (size_t)(uintptr_t)nodemap_get(e->hoists_done, st), i = done;
    for (; before && i < before->len && is_hoisted_line(before->items[i]); i++) {
        put_gen(e, before->items[i], indent, out);
        newline_indent(e, out, indent);
    }
    if (i != done) nodemap_put(e->cx, e->hoists_done, st, (void *)(uintptr_t)i);
}

// Whether no newline lies between offsets from and to.
static bool no_newline(const Cst *c, uint32_t from, uint32_t to) {
    for (uint32_t i = from; i < to; i++)
        if (c->file->data[i] == '\n') return false;
    return true;
}

// The generated lines to go before statement st not yet hoisted elsewhere.
static void put_before(const Emitter *e, uint32_t st, int indent, StrBuf *out) {
    const PtrVec *before = nodemap_get(&e->cv->before, st);
    size_t skip = (size_t)(uintptr_t)nodemap_get(e->hoists_done, st);
    for (size_t i = skip; before && i < before->len; i++) {
        put_gen(e, before->items[i], indent, out);
        newline_indent(e, out, indent);
    }
}

static void render_block(const Emitter *e, uint32_t block, StrBuf *out) {
    const Cst *c = e->c;
    const CstNode *b = &c->nodes[block];
    int indent = block_indent(c, block);
    const PtrVec *pending = NULL;
    uint32_t pos = b->start;
    bool first_named = true;
    uint32_t guard = guard_before_prologue(c, block);
    for (uint32_t k = 0; k < b->nchildren; k++) {
        uint32_t st = b->first_child + k;
        const CstNode *sn = &c->nodes[st];
        if (!sn->named && sn->kind != K_COMMENT) continue;
        bool same_line = no_newline(c, pos, sn->start);
        if (sn->kind == K_COMMENT && same_line && k > 0) {  // trailing comment of the previous line
            copy(e, pos, sn->end, out);
            pos = sn->end;
            continue;
        }
        flush_after(e, pending, indent, out);
        pending = NULL;
        if (k > 0) copy_gap(e, pos, sn->start, indent, out);
        bool docstring =
            first_named && sn->kind == K_EXPR_STMT && c->nodes[cst_named_child(c, st, 0)].kind == K_STRING;
        first_named = false;
        if (!docstring && (guard == UINT32_MAX || k > guard)) put_prologue(e, block, out, true);
        if (sn->kind == K_COMMENT) {
            put_leading_hoists(e, block, k, indent, out);
            copy(e, sn->start, sn->end, out);
            pos = sn->end;
            continue;
        }
        put_before(e, st, indent, out);
        render_stmt(e, st, indent, out);
        pending = nodemap_get(&e->cv->after, st);
        pos = sn->end;
    }
    flush_after(e, pending, indent, out);
    put_prologue(e, block, out, false);  // the block held only a docstring
}

// The parameters with keyword-only quantizer parameters appended (§1.4):
// after existing keyword-only ones, before **kwargs, with a `*` only when
// the function has no `*` or `*args` yet.
static void render_params(const Emitter *e, uint32_t params, StrBuf *out) {
    const Cst *c = e->c;
    PtrVec items = {0};
    uint32_t kwargs = CST_NONE;
    bool has_star = false;
    for (uint32_t k = 0; k < cst_named_count(c, params); k++) {
        uint32_t p = cst_named_child(c, params, k);
        uint32_t kind = c->nodes[p].kind;
        uint32_t inner = kind == K_TYPED_PARAMETER ? c->nodes[cst_named_child(c, p, 0)].kind : kind;
        if (inner == K_DICT_SPLAT_PATTERN) {  // **kwargs, **kwargs: Any
            kwargs = p;
            continue;
        }
        if (inner == K_KEYWORD_SEPARATOR || inner == K_LIST_SPLAT_PATTERN) has_star = true;
        StrBuf t = {0};
        render(e, p, &t, CST_NONE);
        vec_push(e->cx, &items, (void *)sb_cstr(e->cx, &t));
    }
    bool quantizer_params = !e->cv->instance && e->cv->signature.len;
    if (!has_star && quantizer_params) vec_push(e->cx, &items, "*");
    for (size_t i = 0; quantizer_params && i < e->cv->signature.len; i++)
        vec_push(e->cx, &items,
                 arena_printf(e->cx, "%s: fastforward.nn.Quantizer",
                              ((Quantizer *)e->cv->signature.items[i])->name));
    if (kwargs != CST_NONE) vec_push(e->cx, &items, cst_strdup(e->cx, c, kwargs));
    sb_putc(e->cx, out, '(');
    for (size_t i = 0; i < items.len; i++) {
        if (i) sb_puts(e->cx, out, ", ");
        sb_puts(e->cx, out, items.items[i]);
    }
    sb_putc(e->cx, out, ')');
}

// `def <name>(<params>) -> <ret>:` laid out as Black does: on one line when
// it fits, else the parameters on one indented line, else one per line.
static void put_header(const Emitter *e, const char *head, const char *params, const char *tail, int indent,
                       StrBuf *out) {
    size_t plen = strlen(params);
    if ((size_t)indent + strlen(head) + plen + strlen(tail) <= FMT_LINE_WIDTH) {
        sb_printf(e->cx, out, "%s%s%s", head, params, tail);
        return;
    }
    const char *inner = params + 1;
    size_t ilen = plen - 2;
    sb_printf(e->cx, out, "%s(\n", head);
    if ((size_t)indent + 4 + ilen <= FMT_LINE_WIDTH) {
        sb_indent(e->cx, out, indent + 4);
        sb_putn(e->cx, out, inner, ilen);
        sb_putc(e->cx, out, '\n');
    } else {  // split at top-level commas
        int depth = 0;
        size_t start = 0;
        for (size_t i = 0; i <= ilen; i++) {
            char ch = i < ilen ? inner[i] : ',';
            if (ch == '(' || ch == '[' || ch == '{') depth++;
            if (ch == ')' || ch == ']' || ch == '}') depth--;
            if (ch != ',' || depth != 0) continue;
            size_t a = start, b = i;
            while (a < b && inner[a] == ' ') a++;
            if (b > a) {
                sb_indent(e->cx, out, indent + 4);
                sb_putn(e->cx, out, inner + a, b - a);
                sb_puts(e->cx, out, ",\n");
            }
            start = i + 1;
        }
    }
    sb_indent(e->cx, out, indent);
    sb_printf(e->cx, out, ")%s", tail);
}

// Decorators that compile the function with TorchScript: the quantized copy
// calls fastforward's Python operators and quantizer modules, which TorchScript
// cannot compile, so it runs eagerly (the float function keeps its decorator).
static bool is_script_decorator(const Emitter *e, uint32_t d) {
    uint32_t expr = cst_named_child(e->c, d, 0);
    if (expr == CST_NONE) return false;
    Symbol s = program_resolve(e->cx, (Module *)e->cv->mod, expr);
    return s.qualname && (strcmp(s.qualname, "torch.jit.script") == 0 ||
                          strcmp(s.qualname, "torch.jit.script_if_tracing") == 0 ||
                          strcmp(s.qualname, "torch.jit._script.script") == 0);
}

// The text from a decorated definition's start to the `def`: its decorators
// (but TorchScript's) and the comments between them.
static void copy_decorators(const Emitter *e, uint32_t outer, uint32_t def, StrBuf *out) {
    const Cst *c = e->c;
    uint32_t pos = c->nodes[outer].start;
    for (uint32_t k = 0; outer != def && k < c->nodes[outer].nchildren; k++) {
        uint32_t d = cst_child(c, outer, k);
        if (cst_kind(c, d) != K_DECORATOR || !is_script_decorator(e, d)) continue;
        copy(e, pos, c->nodes[d].start, out);
        pos = c->nodes[d].end;
        while (pos < c->nodes[def].start && c->file->data[pos] != '\n') pos++;  // its line, comment included
        if (pos < c->nodes[def].start) pos++;
        // the next line's indentation was copied with the text before this decorator
        while (pos < c->nodes[def].start && (c->file->data[pos] == ' ' || c->file->data[pos] == '\t')) pos++;
    }
    copy(e, pos, c->nodes[def].start, out);
}

// A function whose name or signature changes gets its header re-emitted;
// the rest (decorators, comments, body) is copied with the plan applied.
static void render_def(const Emitter *e, const FuncInfo *fn, int indent, StrBuf *out) {
    const Cst *c = e->c;
    uint32_t def = fn->def;
    uint32_t params = cst_field(c, def, F_PARAMETERS);
    uint32_t colon = CST_NONE;
    for (uint32_t k = 0; k < c->nodes[def].nchildren; k++) {
        uint32_t ch = cst_child(c, def, k);
        if (!c->nodes[ch].named && cst_text_is(c, ch, ":")) colon = ch;
    }
    copy_decorators(e, fn->outer, def, out);
    uint32_t defkw = cst_token(c, def, "def");
    StrBuf head = {0}, ps = {0}, tail = {0};
    copy(e, c->nodes[def].start, c->nodes[defkw].end, &head);  // `def` / `async def`
    sb_printf(e->cx, &head, " %s", e->cv->emit_name ? e->cv->emit_name : fn->alias ? fn->alias : fn->name);
    render_params(e, params, &ps);
    uint32_t ret = cst_field(c, def, F_RETURN_TYPE);
    if (ret != CST_NONE) sb_printf(e->cx, &tail, " -> %s", cst_strdup(e->cx, c, ret));
    sb_putc(e->cx, &tail, ':');
    put_header(e, sb_cstr(e->cx, &head), sb_cstr(e->cx, &ps), sb_cstr(e->cx, &tail), indent, out);
    uint32_t pos = c->nodes[colon].end;
    for (uint32_t k = 0; k < c->nodes[def].nchildren; k++) {
        uint32_t ch = cst_child(c, def, k);
        if (c->nodes[ch].start < pos) continue;
        copy(e, pos, c->nodes[ch].start, out);
        // a comment on a line of its own leads the body, as in render_children: the
        // parameters' quantizer lines go before it
        if (c->nodes[ch].kind == K_COMMENT && !no_newline(c, pos, c->nodes[ch].start))
            emit_prologue_before_comment(e, def, k, out);
        render(e, ch, out, CST_NONE);
        pos = c->nodes[ch].end;
    }
}

// Skips a string literal starting at s[i] (a quote); returns the index after it.
static size_t skip_string(const char *s, size_t n, size_t i) {
    char q = s[i];
    bool triple = i + 2 < n && s[i + 1] == q && s[i + 2] == q;
    i += triple ? 3 : 1;
    while (i < n) {
        if (s[i] == '\\') {
            i += 2;
            continue;
        }
        if (!triple && s[i] == '\n') return i;  // unterminated: stop at the line end
        if (s[i] == q && (!triple || (i + 2 < n && s[i + 1] == q && s[i + 2] == q)))
            return i + (triple ? 3 : 1);
        i++;
    }
    return n;
}

// Re-indents a rendered function from indentation `from` to `to`: every line
// that does not start inside a string literal loses `from` columns of
// leading whitespace (tabs expand to multiples of 8) and gains `to` spaces,
// so nested blocks keep their relative depth.
static void reindent(ffq_ctx *cx, const char *s, size_t n, int from, int to, StrBuf *out) {
    bool line_start = true;
    for (size_t i = 0; i < n;) {
        if (line_start) {
            line_start = false;
            size_t j = i;
            int w = 0;
            while (j < n && (s[j] == ' ' || s[j] == '\t')) w = s[j++] == '\t' ? (w / 8 + 1) * 8 : w + 1;
            if (j < n && s[j] != '\n' && s[j] != '\r') {
                int nw = w - from + to;
                sb_indent(cx, out, nw > 0 ? nw : 0);
            }
            i = j;
            continue;
        }
        char ch = s[i];
        if (ch == '#') {  // a comment runs to the line end
            while (i < n && s[i] != '\n') sb_putc(cx, out, s[i++]);
            continue;
        }
        if (ch == '"' || ch == '\'') {
            size_t end = skip_string(s, n, i);
            sb_putn(cx, out, s + i, end - i);
            i = end;
            continue;
        }
        sb_putc(cx, out, ch);
        i++;
        if (ch == '\n') line_start = true;
    }
}

// emit_function with `extra` more spaces of indentation (a class under a guard).
static void emit_function_at(ffq_ctx *cx, const Conv *cv, StrBuf *out, int extra) {
    NodeMap done = {0}, hoists = {0};
    Emitter e = {.cx = cx, .cv = cv, .c = cv->c, .prologue_done = &done, .hoists_done = &hoists};
    const FuncInfo *fn = cv->fn;
    uint32_t start =
        fn->lead < e.c->nodes[fn->outer].start && !fn->owner ? fn->lead : e.c->nodes[fn->outer].start;
    bool first;
    int indent = line_indent(e.c, start, &first);
    int target = (fn->owner || cv->cls ? 4 : 0) + extra;  // a method of the generated class, or a helper
    StrBuf text = {0};
    sb_indent(cx, &text, indent);
    copy(&e, start, e.c->nodes[fn->outer].start, &text);  // leading comments
    if ((!cv->instance && cv->signature.len) || cv->emit_name || fn->alias) render_def(&e, fn, indent, &text);
    else render(&e, fn->outer, &text, CST_NONE);
    sb_putc(cx, &text, '\n');
    if (indent == target) sb_putn(cx, out, text.data, text.len);
    else reindent(cx, text.data, text.len, indent, target, out);
}

void emit_function(ffq_ctx *cx, const Conv *cv, StrBuf *out) { emit_function_at(cx, cv, out, 0); }

// --- classes ---

static void emit_fn_tracked(ffq_ctx *cx, const Conv *cv, StrBuf *out, PtrVec *origins, int extra) {
    ImportOrigin *o = ARENA_NEW(cx, ImportOrigin);
    o->start = out->len;
    emit_function_at(cx, cv, out, extra);
    o->end = out->len;
    o->mod = cv->mod;
    vec_push(cx, origins, o);
}

// The stub's arguments: FastForward's keyword for the tags that have one, else the tag;
// none unless tags are on (--stub-tags).
static const char *stub_arguments(const ffq_ctx *cx, QuantTag tag) {
    if (!cx->opt.stub_tags) return "";
    switch (tag) {
    case QT_INPUT: return "input_quantizer=True";
    case QT_OUTPUT: return "output_quantizer=True";
    case QT_WEIGHT: return "weight_quantizer=True";
    case QT_BIAS: return "bias_quantizer=True";
    case QT_PARAMETER: return "\"parameter\"";
    case QT_ACTIVATION: break;
    }
    return "\"activation\"";
}

// A generated stub line (an annotated assignment of one call, identifiers
// and keyword arguments, ASCII, spaced as the formatter spaces it) is laid
// out as it is when it fits the line at `indent`: parsing it to format it
// was a twentieth of a corpus run.
static bool fits_as_is(const char *line, int indent) {
    size_t n = 0;
    for (; line[n]; n++)
        if ((unsigned char)line[n] >= 0x80) return false;
    return (size_t)indent + n <= FMT_LINE_WIDTH;
}

// Is class ci defined under a guard in its module (in an `if`, `try`, `else`, ... block at
// module level)? Then its name may be bound to another object when the module has run
// (diffusers: `if torch >= 2.1: LayerNorm = nn.LayerNorm` / `else: class LayerNorm`), or
// to nothing.
static bool emit_class_guarded(const ClassInfo *ci) {
    const Cst *c = ci->mod->cst;
    uint32_t st = ci->node, parent = c->nodes[st].parent;
    if (parent != CST_NONE && c->nodes[parent].kind == K_DECORATED_DEF) st = parent;
    parent = c->nodes[st].parent;
    return parent != CST_NONE && parent != 0;
}

// When its module defines a class of that name more than once (transformers' xLSTM: one
// `class xLSTMBlock` per branch of `if is_xlstm_available():`), the module and qualified
// names cannot tell which one the name is bound to: then the first line of a method of
// ci's own is compared too (" and ..." to append to the condition; "" when not needed).
static const char *same_definition(ffq_ctx *cx, const ClassInfo *ci, const char *base) {
    size_t defs = 0;
    for (size_t i = 0; i < ci->mod->classes.len; i++)
        defs += strcmp(VEC_AT(ci->mod->classes, ClassInfo, i)->name, ci->name) == 0;
    if (defs < 2) return "";
    for (size_t i = 0; i < ci->methods.len; i++) {
        const FuncInfo *fn = ci->methods.items[i];
        if (fn->kind != FN_INSTANCE || fn->property) continue;
        // the function's code (under a functools.wraps decorator, the one it wraps) starts at
        // the line of its first decorator, or of its def
        uint32_t line, col;
        srcfile_linecol(ci->mod->file, ci->mod->cst->nodes[fn->outer].start, &line, &col);
        const char *f = arena_printf(cx, "%s.__dict__.get(\"%s\")", base, fn->name);
        const char *code =
            arena_printf(cx, "getattr(getattr(%s, \"__wrapped__\", %s), \"__code__\", None)", f, f);
        return arena_printf(cx, " and getattr(%s, \"co_firstlineno\", None) == %u", code, line);
    }
    return " and False";  // no method to tell them apart: not made (left in float)
}

static void emit_class(ffq_ctx *cx, const GenClass *g, StrBuf *out, PtrVec *origins) {
    const char *base = g->base ? g->base : g->ci->name;
    int extra = 0;
    if (emit_class_guarded(g->ci)) {
        // The quantized class exists when the name is bound to the class converted here;
        // else (another class, an alias of one, None, unbound) it would stand for another
        // float class in quantize_model's map, or fail to import.
        sb_printf(cx, out,
                  "# %s is defined under a condition in its module: this class is made only\n"
                  "# when the name is bound to that class (not to another one, nor to None)\n"
                  "if isinstance(globals().get(\"%s\"), type) and %s.__module__ == \"%s\" and "
                  "%s.__qualname__ == \"%s\"%s:\n",
                  g->ci->name, base, base, g->ci->mod->name, base, g->ci->name,
                  same_definition(cx, g->ci, base));
        extra = 4;
    }
    sb_indent(cx, out, extra);
    sb_printf(cx, out, "class %s(fastforward.nn.QuantizedModule, %s):\n", g->name, base);
    sb_indent(cx, out, extra + 4);
    sb_puts(cx, out, "def __init_quantization__(self) -> None:\n");
    sb_indent(cx, out, extra + 8);
    sb_puts(cx, out, "super().__init_quantization__()\n");
    PtrVec stubs = {0};  // own quantizers of each instance method, then the forwarded ones
    for (size_t i = 0; i < g->convs.len; i++) {
        const Conv *cv = g->convs.items[i];
        for (size_t k = 0; cv->instance && k < cv->quantizers.len; k++)
            vec_push(cx, &stubs, cv->quantizers.items[k]);
    }
    for (size_t i = 0; i < g->convs.len; i++) {
        const Conv *cv = g->convs.items[i];
        for (size_t k = 0; cv->instance && k < cv->forwarded.len; k++)
            vec_push(cx, &stubs, cv->forwarded.items[k]);
    }
    {
        for (size_t k = 0; k < stubs.len; k++) {
            const Quantizer *q = stubs.items[k];
            const char *line =
                arena_printf(cx, "self.%s: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(%s)",
                             q->name, stub_arguments(cx, q->tag));
            StrBuf f = {0};
            if (fits_as_is(line, extra + 8) || !format_stmt(cx, line, strlen(line), extra + 8, &f))
                sb_indent(cx, &f, extra + 8), sb_puts(cx, &f, line);
            sb_puts(cx, out, sb_cstr(cx, &f));
            sb_putc(cx, out, '\n');
            cx->stats.stubs_inserted++;
        }
    }
    for (size_t i = 0; i < g->convs.len; i++) {
        const Conv *cv = g->convs.items[i];
        if (cv->dropped) continue;
        sb_putc(cx, out, '\n');
        emit_fn_tracked(cx, cv, out, origins, extra);
    }
}

// Does module m start with `from __future__ import annotations`? Its annotations are then
// never evaluated, so they may name what it imports only for type checkers (`if
// TYPE_CHECKING:`); code copied from it keeps that only under the same directive.
static bool future_annotations(const Module *m) {
    const Cst *c = m ? m->cst : NULL;
    if (!c || !c->count) return false;
    for (uint32_t k = 0; k < c->nodes[0].nchildren; k++) {
        uint32_t st = cst_child(c, 0, k);
        if (c->nodes[st].kind != K_FUTURE_IMPORT) continue;
        for (uint32_t i = 0; i < cst_named_count(c, st); i++) {  // names, dotted or aliased
            uint32_t name = cst_named_child(c, st, i);
            if (c->nodes[name].kind != K_IDENTIFIER && cst_named_count(c, name))
                name = cst_named_child(c, name, 0);
            if (cst_text_is(c, name, "annotations")) return true;
        }
    }
    return false;
}

void emit_module(ffq_ctx *cx, const OutputPlan *plan, StrBuf *out, Cst **tree) {
    StrBuf body = {0};
    PtrVec origins = {0};
    bool first = true;
    for (size_t i = 0; i < plan->helpers.len; i++) {
        const Conv *cv = plan->helpers.items[i];
        if (cv->dropped) continue;
        if (!first) sb_puts(cx, &body, "\n\n");
        first = false;
        emit_fn_tracked(cx, cv, &body, &origins, 0);
    }
    for (size_t i = 0; i < plan->classes.len; i++) {
        if (!first) sb_puts(cx, &body, "\n\n");
        first = false;
        emit_class(cx, plan->classes.items[i], &body, &origins);
    }
    PtrVec imports = {0};
    bool lazy = future_annotations(plan->mod);
    for (size_t i = 0; i < origins.len && !lazy; i++)
        lazy = future_annotations(VEC_AT(origins, ImportOrigin, i)->mod);
    if (lazy) imports_add(cx, &imports, true, "__future__", "annotations", NULL);
    if (strstr(sb_cstr(cx, &body), "fastforward."))
        imports_add(cx, &imports, false, "fastforward", NULL, NULL);
    if (strstr(sb_cstr(cx, &body), "functools.partial("))  // helpers passed as values (§5.6)
        imports_add(cx, &imports, false, "functools", NULL, NULL);
    Cst *body_tree = imports_collect(cx, plan->mod, sb_cstr(cx, &body), &origins, &imports);
    for (size_t i = 0; i < plan->classes.len; i++) {
        const GenClass *g = plan->classes.items[i];
        const char *alias = g->base && strcmp(g->base, g->ci->name) != 0 ? g->base : NULL;
        if (emit_class_guarded(g->ci))
            imports_add_guarded(cx, &imports, g->ci->mod->name, g->ci->name, alias);
        else imports_add(cx, &imports, true, g->ci->mod->name, g->ci->name, alias);
    }
    StrBuf text = {0};
    imports_write(cx, plan->first_party, &imports, &text);
    if (body.len) sb_puts(cx, &text, "\n\n");
    size_t at = text.len;  // where the body starts
    *tree = NULL;
    bool whole = body_tree && strlen(sb_cstr(cx, &body)) == body.len;  // (a NUL would have cut the parse)
    if (whole && text.len + body.len < UINT32_MAX) {  // the import lines' tree, and the two joined
        Cst *head = source_parse_text(cx, "<imports>", text.data ? text.data : "", text.len, false);
        sb_putn(cx, &text, body.data, body.len);
        if (head)
            *tree = cst_concat(cx, srcfile_new(cx, "<format>", text.data, text.len), head, body_tree,
                               (uint32_t)at);
    } else {
        sb_putn(cx, &text, body.data, body.len);
    }
    sb_putn(cx, out, text.data ? text.data : "", text.len);
}
