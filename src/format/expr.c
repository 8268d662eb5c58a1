// format/expr.c: expressions -> layout document (ruff/Black expression style).
//
// Consumes: CST expression nodes. Produces: Doc elements. Every bracket pair
// becomes a group that breaks into an indented body; comma-separated bodies
// get a trailing comma when broken, and a trailing comma in the source (the
// "magic trailing comma") forces the break. Binary, boolean and comparison
// chains are flattened and break at their loosest operators first. Nesting
// is bounded by FMT_MAX_DEPTH; deeper input sets f->too_deep and the caller
// keeps the statement's source text.
#include <string.h>

#include "internal.h"

// --- small helpers ---

static const char *text_of(const Fmt *f, uint32_t n, size_t *len) { return cst_text(f->c, n, len); }
static uint32_t kind(const Fmt *f, uint32_t n) { return f->c->nodes[n].kind; }
static bool is_tok(const Fmt *f, uint32_t n, const char *s) {
    return !f->c->nodes[n].named && cst_text_is(f->c, n, s);
}

bool fmt_is_extra(const Fmt *f, uint32_t n) {
    const CstNode *p = &f->c->nodes[n];
    if (p->kind == K_COMMENT) return true;
    return p->named && p->kind == K_OTHER && p->end > p->start && f->src[p->start] == '\\';
}

uint32_t fmt_child(const Fmt *f, uint32_t n, uint32_t k) {
    const CstNode *p = &f->c->nodes[n];
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        if (!f->c->nodes[ch].named || fmt_is_extra(f, ch)) continue;
        if (k-- == 0) return ch;
    }
    return CST_NONE;
}

uint32_t fmt_nchildren(const Fmt *f, uint32_t n) {
    const CstNode *p = &f->c->nodes[n];
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t ch = p->first_child + i;
        if (f->c->nodes[ch].named && !fmt_is_extra(f, ch)) k++;
    }
    return k;
}

void fmt_node_text(Fmt *f, uint32_t n) {
    size_t len;
    const char *t = text_of(f, n, &len);
    doc_text(f->d, t, len);
}

static void put_owned(Fmt *f, StrBuf *sb) { doc_text(f->d, sb->data ? sb->data : "", sb->len); }

uint32_t fmt_unparen(const Fmt *f, uint32_t n) {
    while (n != CST_NONE && kind(f, n) == K_TYPE && fmt_nchildren(f, n) == 1) n = fmt_child(f, n, 0);
    while (n != CST_NONE && kind(f, n) == K_PAREN_EXPR) {
        uint32_t inner = fmt_child(f, n, 0);
        if (inner == CST_NONE || fmt_nchildren(f, n) != 1) break;
        if (kind(f, inner) == K_YIELD || kind(f, inner) == K_LIST_SPLAT) break;
        n = inner;
    }
    return n;
}

bool fmt_has_comments(const Fmt *f, uint32_t lo, uint32_t hi) {
    for (uint32_t i = 0; i < f->ncm; i++) {
        const CstNode *c = &f->c->nodes[f->cm[i]];
        if (c->start >= lo && c->start < hi && !f->cm_used[i]) return true;
    }
    return false;
}

// Is there a newline between byte offsets a and b?
static bool newline_between(const Fmt *f, uint32_t a, uint32_t b) {
    for (uint32_t i = a; i < b; i++)
        if (f->src[i] == '\n') return true;
    return false;
}

static void put_comment_text(Fmt *f, uint32_t ci) {
    size_t len;
    const char *t = text_of(f, f->cm[ci], &len);
    StrBuf sb = {0};
    fmt_comment(f->cx, t, len, &sb);
    put_owned(f, &sb);
    f->cm_used[ci] = true;
}

// A trailing end-of-line comment: printed after the line's content, and the
// enclosing group must break.
static void put_trailing_comment(Fmt *f, uint32_t ci) {
    size_t len;
    const char *t = text_of(f, f->cm[ci], &len);
    StrBuf sb = {0};
    fmt_comment(f->cx, t, len, &sb);
    uint32_t w = fmt_is_pragma_comment(t, len) ? 0 : doc_text_width(sb.data, sb.len) + 2;
    doc_start(f->d, D_SUFFIX, w, 0);
    doc_str(f->d, "  ");
    put_owned(f, &sb);
    doc_end(f->d, D_END_SUFFIX);
    doc_expand_parent(f->d);
    f->cm_used[ci] = true;
}

// End-of-line comments in [lo, hi) on the line of `lo`: trailing comments.
static void put_eol_comments(Fmt *f, uint32_t lo, uint32_t hi) {
    for (uint32_t i = 0; i < f->ncm; i++) {
        const CstNode *c = &f->c->nodes[f->cm[i]];
        if (f->cm_used[i] || c->start < lo || c->start >= hi) continue;
        if (!newline_between(f, lo, c->start)) put_trailing_comment(f, i);
    }
}

// Comments in [lo, hi): the ones on the line of `lo` become trailing
// comments; the rest go on their own lines (each followed by a hard break
// when `before` is true, preceded by one otherwise).
static void put_comments_between(Fmt *f, uint32_t lo, uint32_t hi, bool before) {
    for (uint32_t i = 0; i < f->ncm; i++) {
        const CstNode *c = &f->c->nodes[f->cm[i]];
        if (f->cm_used[i] || c->start < lo || c->start >= hi) continue;
        if (!newline_between(f, lo, c->start)) {
            put_trailing_comment(f, i);
            continue;
        }
        if (!before) doc_line(f->d, L_HARD);
        put_comment_text(f, i);
        if (before) doc_line(f->d, L_HARD);
    }
}

// --- levels and parentheses ---

// Content is grouped only where a line break is legal (inside brackets).
static DocOp ipo_group_begin(Fmt *f) {
    if (f->level == LV_PAREN) {
        doc_start(f->d, D_GROUP, 0, 0);
        return D_END_GROUP;
    }
    if (f->level == LV_EXPR && f->paren_id) {
        doc_start(f->d, D_COND_GROUP, f->paren_id, M_BREAK);
        return D_END_COND_GROUP;
    }
    return D_TEXT;
}

static void ipo_group_end(Fmt *f, DocOp end) {
    if (end != D_TEXT) doc_end(f->d, end);
}

static void ipo_soft_space(Fmt *f) {
    if (f->level == LV_PAREN) {
        doc_line(f->d, L_SOFT_SPACE);
    } else if (f->level == LV_EXPR && f->paren_id) {
        doc_start(f->d, D_IF, f->paren_id, M_BREAK);
        doc_line(f->d, L_SOFT_SPACE);
        doc_end(f->d, D_END_IF);
        doc_start(f->d, D_IF, f->paren_id, M_FLAT);
        doc_space(f->d);
        doc_end(f->d, D_END_IF);
    } else {
        doc_space(f->d);
    }
}

// `open` + indented soft-broken content + `close`, as one group.
Saved fmt_paren_begin_id(Fmt *f, const char *open, uint32_t open_end, uint32_t id) {
    Saved s = {f->level, f->paren_id, false, f->in_chain};
    f->in_chain = false;
    if (f->level == LV_EXPR && f->paren_id) {
        doc_start(f->d, D_FITS_EXPANDED, f->paren_id, M_FLAT);
        s.fits_expanded = true;
    }
    doc_start(f->d, D_GROUP, id, 0);
    doc_str(f->d, open);
    // a comment right after the opening bracket stays on its line
    if (open_end != CST_NONE) {
        for (uint32_t i = 0; i < f->ncm; i++) {
            const CstNode *c = &f->c->nodes[f->cm[i]];
            if (f->cm_used[i] || c->start < open_end) continue;
            if (!newline_between(f, open_end, c->start)) {
                bool only_ws = true;
                for (uint32_t k = open_end; k < c->start; k++)
                    if (f->src[k] != ' ' && f->src[k] != '\t') only_ws = false;
                if (only_ws) put_trailing_comment(f, i);
            }
            break;
        }
    }
    doc_start(f->d, D_INDENT, 0, 0);
    doc_line(f->d, L_SOFT);
    f->level = LV_PAREN;
    f->paren_id = 0;
    return s;
}

Saved fmt_paren_begin(Fmt *f, const char *open, uint32_t open_end) {
    return fmt_paren_begin_id(f, open, open_end, 0);
}

void fmt_paren_end(Fmt *f, const char *close, Saved s) {
    doc_end(f->d, D_END_INDENT);
    doc_line(f->d, L_SOFT);
    doc_str(f->d, close);
    doc_end(f->d, D_END_GROUP);
    if (s.fits_expanded) doc_end(f->d, D_END_FITS_EXPANDED);
    f->level = s.level;
    f->paren_id = s.paren_id;
    f->in_chain = s.in_chain;
}

// --- comma-separated bodies ---

// Formats `items` separated by commas. `close` is the offset of the closing
// bracket (comments before it are placed), `magic` whether a trailing comma
// in the source forces a break, `add_comma` whether a broken body gets one.
void fmt_comma_list_ex(Fmt *f, const uint32_t *items, uint32_t n, uint32_t close, bool magic, bool add_comma,
                       uint32_t comma_group, void (*each)(Fmt *, uint32_t)) {
    // own-line comments before the first item: from the opening bracket on
    uint32_t open = n > 0 ? f->c->nodes[f->c->nodes[items[0]].parent].start : 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t it = items[k];
        if (k > 0) {
            doc_str(f->d, ",");
            // comments after the comma on the previous item's line trail that item
            put_eol_comments(f, f->c->nodes[items[k - 1]].end, f->c->nodes[it].start);
            doc_line(f->d, L_SOFT_SPACE);
        }
        // own-line comments before the item lead it
        put_comments_between(f, k > 0 ? f->c->nodes[items[k - 1]].end : open, f->c->nodes[it].start, true);
        each(f, it);
    }
    if (n == 0) return;
    if (add_comma && (n > 1 || magic || comma_group)) {
        doc_start(f->d, D_IF, n > 1 || magic ? 0 : comma_group, M_BREAK);
        doc_str(f->d, ",");
        doc_end(f->d, D_END_IF);
    }
    if (magic) doc_expand_parent(f->d);
    if (close != CST_NONE) put_comments_between(f, f->c->nodes[items[n - 1]].end, close, false);
}

static void comma_list(Fmt *f, const uint32_t *items, uint32_t n, uint32_t close, bool magic, bool add_comma,
                       void (*each)(Fmt *, uint32_t)) {
    fmt_comma_list_ex(f, items, n, close, magic, add_comma, 0, each);
}

// Named children of n that are list items (comments excluded), into an array.
uint32_t fmt_items_of(Fmt *f, uint32_t n, uint32_t **out) {
    const CstNode *p = &f->c->nodes[n];
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

// Is the token before the closing bracket of n (its last child) a comma?
bool fmt_trailing_comma(const Fmt *f, uint32_t n) {
    const CstNode *p = &f->c->nodes[n];
    for (uint32_t i = p->nchildren; i-- > 0;) {
        uint32_t ch = p->first_child + i;
        if (fmt_is_extra(f, ch)) continue;
        if (i == p->nchildren - 1 && !f->c->nodes[ch].named) {
            size_t len;
            const char *t = text_of(f, ch, &len);
            if (len == 1 && (*t == ')' || *t == ']' || *t == '}')) continue;
        }
        return is_tok(f, ch, ",");
    }
    return false;
}

static void each_expr(Fmt *f, uint32_t n) { fmt_expr(f, n); }

// A bracketed display: (a, b), [a, b], {a, b}, {k: v}.
static void display(Fmt *f, uint32_t n, const char *open, const char *close, bool is_tuple) {
    uint32_t *items;
    uint32_t k = fmt_items_of(f, n, &items);
    const CstNode *nd = &f->c->nodes[n];
    if (k == 0 && !fmt_has_comments(f, nd->start, nd->end)) {
        doc_str(f->d, open);
        doc_str(f->d, close);
        return;
    }
    bool comma = fmt_trailing_comma(f, n);
    bool magic = comma && !(is_tuple && k == 1);
    Saved s = fmt_paren_begin(f, open, nd->start + 1);
    comma_list(f, items, k, nd->end - 1, magic, !(is_tuple && k == 1), each_expr);
    if (is_tuple && k == 1 && comma) doc_str(f->d, ",");
    fmt_paren_end(f, close, s);
}

// --- atoms ---

// Whether an f-string piece is a replacement field (`{...}`) rather than literal text.
static bool is_interp(Fmt *f, uint32_t c) {
    const CstNode *cn = &f->c->nodes[c];
    return cn->named && cn->nchildren > 0 && is_tok(f, cn->first_child, "{");
}

// Whether the string prefix (all but the quote) has an `f` and no `r`/`t`.
static bool is_plain_f_prefix(const char *stt, size_t sl) {
    bool is_f = false, raw = false;
    for (size_t i = 0; i + 1 < sl; i++) {
        if (stt[i] == 'f' || stt[i] == 'F') is_f = true;
        if (stt[i] == 'r' || stt[i] == 'R' || stt[i] == 't' || stt[i] == 'T') raw = true;
    }
    return is_f && !raw;
}

// Collects the literal parts of pieces st+1..en-1 into lit; false when a field
// holds a quote-sensitive character or an `=` specifier.
static bool collect_fstring_literal(Fmt *f, uint32_t st, uint32_t en, StrBuf *lit) {
    for (uint32_t c = st + 1; c < en; c++) {
        size_t len;
        const char *t = text_of(f, c, &len);
        const CstNode *cn = &f->c->nodes[c];
        if (!is_interp(f, c)) {
            sb_putn(f->cx, lit, t, len);
            continue;
        }
        for (size_t i = 1; i + 1 < len; i++)
            if (t[i] == '\\' || t[i] == '\n' || t[i] == '#' || t[i] == '{' || t[i] == '}') return false;
        for (uint32_t k = 0; k < cn->nchildren; k++)
            if (is_tok(f, cn->first_child + k, "=")) return false;
    }
    return true;
}

// The expression `expr` formatted flat at top level, into field.
static void print_field_flat(Fmt *f, uint32_t expr, StrBuf *field) {
    Doc sub;
    doc_init(f->cx, &sub);
    Doc *saved = f->d;
    Level lv = f->level;
    f->d = &sub;
    f->level = LV_TOP;
    fmt_expr(f, expr);
    f->d = saved;
    f->level = lv;
    doc_print_flat(&sub, field);
}

// Appends replacement field c, quoted with q, to out; false when its
// strings need both quote characters.
static bool put_fstring_field(Fmt *f, uint32_t c, char q, StrBuf *out) {
    const CstNode *cn = &f->c->nodes[c];
    sb_putc(f->cx, out, '{');
    uint32_t expr = fmt_child(f, c, 0);
    // the field's strings must not use the f-string's own quote
    StrBuf field = {0};
    print_field_flat(f, expr, &field);
    char other = q == '"' ? '\'' : '"';
    bool has_q = field.len && memchr(field.data, q, field.len);
    if (has_q && memchr(field.data, other, field.len)) return false;
    for (size_t i = 0; i < field.len; i++) sb_putc(f->cx, out, field.data[i] == q ? other : field.data[i]);
    // conversion and format spec, as written
    uint32_t after = expr == CST_NONE ? cn->first_child + 1 : expr + 1;
    uint32_t last = cn->first_child + cn->nchildren - 1;
    if (after < last)
        sb_putn(f->cx, out, f->src + f->c->nodes[after].start,
                f->c->nodes[last].start - f->c->nodes[after].start);
    sb_putc(f->cx, out, '}');
    return true;
}

// An f-string whose replacement fields hold no quotes, backslashes,
// comments, nested fields or `=` specifiers: the fields' expressions are
// formatted flat, the literal parts re-quoted. Returns false otherwise.
static bool fmt_fstring(Fmt *f, uint32_t n) {
    const CstNode *p = &f->c->nodes[n];
    if (p->nchildren < 2) return false;
    uint32_t st = p->first_child, en = p->first_child + p->nchildren - 1;
    size_t sl, tl;
    const char *stt = text_of(f, st, &sl);
    text_of(f, en, &tl);
    if (tl != 1) return false;  // triple-quoted
    if (!is_plain_f_prefix(stt, sl)) return false;
    StrBuf lit = {0};
    if (!collect_fstring_literal(f, st, en, &lit)) return false;
    char q = fmt_pick_quote(lit.data ? lit.data : "", lit.len);
    StrBuf out = {0};
    for (size_t i = 0; i + 1 < sl; i++) {
        char ch = stt[i];
        if (ch == 'u' || ch == 'U') continue;
        sb_putc(f->cx, &out, (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch));
    }
    sb_putc(f->cx, &out, q);
    for (uint32_t c = st + 1; c < en; c++) {
        if (is_interp(f, c)) {
            if (!put_fstring_field(f, c, q, &out)) return false;
            continue;
        }
        size_t len;
        const char *t = text_of(f, c, &len);
        fmt_requote(f->cx, t, len, q, &out);
    }
    sb_putc(f->cx, &out, q);
    put_owned(f, &out);
    return true;
}

static void fmt_string_node(Fmt *f, uint32_t n) {
    if (fmt_fstring(f, n)) return;
    size_t len;
    const char *t = text_of(f, n, &len);
    StrBuf sb = {0};
    fmt_string(f->cx, t, len, &sb);
    put_owned(f, &sb);
}

// The parts of an implicit concatenation, merged into one literal when
// they are all plain (or all f-) strings of one kind; otherwise joined by spaces.
static void put_joined_strings(Fmt *f, const uint32_t *parts, uint32_t n) {
    StrBuf sb = {0};
    if (fmt_join_strings(f->cx, f->src, f->c->nodes, parts, n, &sb)) {
        doc_text(f->d, sb.data, sb.len);
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (i) doc_space(f->d);
        fmt_expr(f, parts[i]);
    }
}

static void fmt_concat(Fmt *f, uint32_t n) {
    uint32_t *items;
    uint32_t k = fmt_items_of(f, n, &items);
    DocOp end = ipo_group_begin(f);
    bool can_merge = !fmt_has_comments(f, f->c->nodes[n].start, f->c->nodes[n].end);
    if (can_merge) {
        doc_start(f->d, D_IF, 0, M_FLAT);
        put_joined_strings(f, items, k);
        doc_end(f->d, D_END_IF);
        doc_start(f->d, D_IF, 0, M_BREAK);
    }
    for (uint32_t i = 0; i < k; i++) {
        if (i) {
            put_eol_comments(f, f->c->nodes[items[i - 1]].end, f->c->nodes[items[i]].start);
            if (f->level == LV_PAREN) doc_line(f->d, L_SOFT_SPACE);
            else ipo_soft_space(f);
            put_comments_between(f, f->c->nodes[items[i - 1]].end, f->c->nodes[items[i]].start, true);
        }
        fmt_string_node(f, items[i]);
    }
    if (can_merge) doc_end(f->d, D_END_IF);
    ipo_group_end(f, end);
}

// --- binary-like chains ---

// Binding strength, loosest first. `and` and `or` split at the same level
// (as Black's delimiter priorities do); implicit string concatenation sits
// between them and comparisons.

static int binop_prec(const char *t, size_t len) {
    if (mem_is(t, len, "**")) return PREC_POW;
    if (mem_is(t, len, "<<") || mem_is(t, len, ">>")) return PREC_SHIFT;
    if (mem_is(t, len, "//")) return PREC_MUL;
    if (mem_is(t, len, "or") || mem_is(t, len, "and")) return PREC_BOOL;
    if (len == 1) {
        switch (*t) {
        case '|': return PREC_BOR;
        case '^': return PREC_BXOR;
        case '&': return PREC_BAND;
        case '+':
        case '-': return PREC_ADD;
        case '*':
        case '/':
        case '%':
        case '@': return PREC_MUL;
        default: break;
        }
    }
    return PREC_CMP;
}

static bool is_chain_kind(uint32_t k) { return k == K_BINARY_OP || k == K_BOOLEAN_OP || k == K_COMPARISON; }

// A union_type in an annotation (`A | B`), which has no NodeKind of its own.
bool fmt_is_union(const Fmt *f, uint32_t n) {
    const CstNode *p = &f->c->nodes[n];
    return p->kind == K_OTHER && p->named && p->nchildren == 3 && is_tok(f, p->first_child + 1, "|");
}

// Unwraps `type` nodes around a union.
static uint32_t chain_node(const Fmt *f, uint32_t n) {
    while (kind(f, n) == K_TYPE && fmt_nchildren(f, n) == 1 && fmt_is_union(f, fmt_child(f, n, 0)))
        n = fmt_child(f, n, 0);
    return n;
}

static void chain_push(Fmt *f, Chain *ch, uint32_t operand, uint32_t op_lo, uint32_t op_n, int prec) {
    if (ch->n == ch->cap) {
        uint32_t cap = ch->cap ? ch->cap * 2 : 16;
        ch->operand = arena_grow(f->cx, ch->operand, ch->cap * sizeof(uint32_t), cap * sizeof(uint32_t));
        ch->op_lo = arena_grow(f->cx, ch->op_lo, ch->cap * sizeof(uint32_t), cap * sizeof(uint32_t));
        ch->op_n = arena_grow(f->cx, ch->op_n, ch->cap * sizeof(uint32_t), cap * sizeof(uint32_t));
        ch->prec = arena_grow(f->cx, ch->prec, ch->cap * sizeof(int), cap * sizeof(int));
        ch->cap = cap;
    }
    ch->operand[ch->n] = operand;
    ch->op_lo[ch->n] = op_lo;
    ch->op_n[ch->n] = op_n;
    ch->prec[ch->n] = prec;
    ch->n++;
}

// One pending flatten step: a node and the operator tokens before it.
typedef struct {
    uint32_t node, op_lo, op_n;
    int prec;
} FlatItem;

// Pushes the strings of a nested concatenated string; the first takes it.op_*.
static void push_concat_parts(Fmt *f, Chain *ch, FlatItem it) {
    const CstNode *q = &f->c->nodes[it.node];
    bool first = true;
    for (uint32_t i = 0; i < q->nchildren; i++) {
        uint32_t c = q->first_child + i;
        if (kind(f, c) != K_STRING) continue;
        if (first) chain_push(f, ch, c, it.op_lo, it.op_n, it.prec);
        else chain_push(f, ch, c, CST_NONE, 0, PREC_STR);
        first = false;
    }
}

// Splits chain node p's children into operands opnd[] with the operator
// tokens before each (olo[], on[]); returns the operand count.
static uint32_t split_chain_children(Fmt *f, const CstNode *p, uint32_t *opnd, uint32_t *olo, uint32_t *on) {
    uint32_t k = 0, cur_lo = CST_NONE, cur_n = 0;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t c = p->first_child + i;
        if (fmt_is_extra(f, c)) continue;
        if (!f->c->nodes[c].named) {
            if (cur_n == 0) cur_lo = c;
            cur_n++;
            continue;
        }
        opnd[k] = c;
        olo[k] = cur_lo;
        on[k] = cur_n;
        k++;
        cur_lo = CST_NONE;
        cur_n = 0;
    }
    return k;
}

// Flattens nested unparenthesized chains into operands and operators, without
// recursion: an explicit stack of (node, pending operator) pairs.
void fmt_flatten(Fmt *f, uint32_t root, Chain *ch) {
    size_t cap = 64, ns = 0;
    FlatItem *st = ARENA_ARRAY(f->cx, FlatItem, cap);
    st[ns++] = (FlatItem){root, CST_NONE, 0, 0};
    while (ns > 0) {
        FlatItem it = st[--ns];
        if (kind(f, it.node) == K_CONCAT_STRING && it.node != root) {
            push_concat_parts(f, ch, it);
            continue;
        }
        it.node = chain_node(f, it.node);
        if (!is_chain_kind(kind(f, it.node)) && !fmt_is_union(f, it.node)) {
            chain_push(f, ch, it.node, it.op_lo, it.op_n, it.prec);
            continue;
        }
        // children: operand (op tokens) operand (op tokens) operand ...
        const CstNode *p = &f->c->nodes[it.node];
        uint32_t *opnd = ARENA_ARRAY(f->cx, uint32_t, p->nchildren + 1);
        uint32_t *olo = ARENA_ARRAY(f->cx, uint32_t, p->nchildren + 1);
        uint32_t *on = ARENA_ARRAY(f->cx, uint32_t, p->nchildren + 1);
        uint32_t k = split_chain_children(f, p, opnd, olo, on);
        // push in reverse so the leftmost is processed first
        for (uint32_t i = k; i-- > 0;) {
            if (ns + 1 >= cap) {
                st = arena_grow(f->cx, st, cap * sizeof(FlatItem), cap * 2 * sizeof(FlatItem));
                cap *= 2;
            }
            FlatItem child = {opnd[i], olo[i], on[i], 0};
            if (i == 0) {
                child.op_lo = it.op_lo;
                child.op_n = it.op_n;
                child.prec = it.prec;
            } else {
                size_t len;
                const char *t = text_of(f, olo[i], &len);
                child.prec = binop_prec(t, len);
            }
            st[ns++] = child;
        }
    }
}

static void put_op(Fmt *f, const Chain *ch, uint32_t i) {
    uint32_t t = ch->op_lo[i];
    for (uint32_t k = 0; k < ch->op_n[i]; k++, t++) {
        // operator tokens are contiguous siblings; `is not` / `not in` may be one token with parts
        while (fmt_is_extra(f, t)) t++;
        if (k) doc_space(f->d);
        const CstNode *tn = &f->c->nodes[t];
        if (tn->nchildren == 0) {
            fmt_node_text(f, t);
            continue;
        }
        for (uint32_t j = 0; j < tn->nchildren; j++) {
            if (j) doc_space(f->d);
            fmt_node_text(f, tn->first_child + j);
        }
    }
}

// Simple power operands hug `**`: names, numbers, attribute chains, unary minus of those.
static bool is_simple_power_operand(const Fmt *f, uint32_t n) {
    switch (kind(f, n)) {
    case K_IDENTIFIER:
    case K_INTEGER:
    case K_FLOAT:
    case K_TRUE:
    case K_FALSE:
    case K_NONE: return true;
    case K_ATTRIBUTE: {
        uint32_t obj = cst_field(f->c, n, F_OBJECT);
        return obj != CST_NONE && (kind(f, obj) == K_IDENTIFIER || kind(f, obj) == K_ATTRIBUTE) &&
               is_simple_power_operand(f, obj);
    }
    case K_UNARY_OP: {
        uint32_t arg = cst_field(f->c, n, F_ARGUMENT);
        return arg != CST_NONE &&
               (kind(f, arg) == K_INTEGER || kind(f, arg) == K_FLOAT || kind(f, arg) == K_IDENTIFIER);
    }
    default: return false;
    }
}

// Implicitly concatenated strings lo..hi: merged when flat, one per line when broken.
static void chain_strings(Fmt *f, const Chain *ch, uint32_t lo, uint32_t hi) {
    DocOp end = ipo_group_begin(f);
    doc_start(f->d, D_IF, 0, M_FLAT);
    put_joined_strings(f, ch->operand + lo, hi - lo + 1);
    doc_end(f->d, D_END_IF);
    doc_start(f->d, D_IF, 0, M_BREAK);
    for (uint32_t i = lo; i <= hi; i++) {
        if (i > lo) doc_line(f->d, L_SOFT_SPACE);
        fmt_expr(f, ch->operand[i]);
    }
    doc_end(f->d, D_END_IF);
    ipo_group_end(f, end);
}

// A `**` chain lo..hi: the operator hugs simple operands, spaced otherwise.
static void chain_power(Fmt *f, const Chain *ch, uint32_t lo, uint32_t hi) {
    bool simple = true;
    for (uint32_t i = lo; i <= hi; i++)
        if (!is_simple_power_operand(f, ch->operand[i])) simple = false;
    for (uint32_t i = lo; i <= hi; i++) {
        if (i > lo) {
            if (!simple) doc_space(f->d);
            put_op(f, ch, i);
            if (!simple) doc_space(f->d);
        }
        fmt_expr(f, ch->operand[i]);
    }
}

static void chain_range(Fmt *f, const Chain *ch, uint32_t lo, uint32_t hi) {
    if (lo == hi) {
        fmt_expr(f, ch->operand[lo]);
        return;
    }
    int pmin = 100;
    for (uint32_t i = lo + 1; i <= hi; i++)
        if (ch->prec[i] < pmin) pmin = ch->prec[i];
    bool only_strings = true;
    for (uint32_t i = lo + 1; i <= hi; i++)
        if (ch->prec[i] != PREC_STR) only_strings = false;
    if (only_strings) {  // implicitly concatenated strings: merged when flat
        chain_strings(f, ch, lo, hi);
        return;
    }
    if (pmin == PREC_POW) {
        chain_power(f, ch, lo, hi);
        return;
    }
    uint32_t s = lo;
    for (uint32_t i = lo; i <= hi + 1; i++) {
        if (i <= hi && (i == lo || ch->prec[i] != pmin)) continue;
        // part [s, i - 1]
        if (s > lo) {
            put_eol_comments(f, f->c->nodes[ch->operand[s - 1]].end, f->c->nodes[ch->operand[s]].start);
            ipo_soft_space(f);
            put_comments_between(f, f->c->nodes[ch->operand[s - 1]].end, f->c->nodes[ch->operand[s]].start,
                                 true);
            if (ch->op_n[s]) {
                put_op(f, ch, s);
                doc_space(f->d);
            }
        }
        if (s < i - 1) {
            DocOp end = ipo_group_begin(f);
            chain_range(f, ch, s, i - 1);
            ipo_group_end(f, end);
        } else {
            fmt_expr(f, ch->operand[s]);
        }
        s = i;
    }
}

static void fmt_chain(Fmt *f, uint32_t n) {
    Chain ch = {0};
    fmt_flatten(f, n, &ch);
    DocOp end = ipo_group_begin(f);
    chain_range(f, &ch, 0, ch.n - 1);
    ipo_group_end(f, end);
}

// --- calls, subscripts, attributes ---

static void each_arg(Fmt *f, uint32_t n) {
    if (kind(f, n) == K_KEYWORD_ARGUMENT) {
        fmt_node_text(f, cst_field(f->c, n, F_NAME));
        doc_str(f->d, "=");
        fmt_expr(f, cst_field(f->c, n, F_VALUE));
        return;
    }
    fmt_expr(f, n);
}

static void fmt_arguments(Fmt *f, uint32_t al) {
    const CstNode *nd = &f->c->nodes[al];
    if (kind(f, al) == K_GENERATOR) {  // f(x for x in y): the call's parentheses are the generator's
        fmt_expr(f, al);
        return;
    }
    uint32_t *items;
    uint32_t k = fmt_items_of(f, al, &items);
    if (k == 0 && !fmt_has_comments(f, nd->start, nd->end)) {
        doc_str(f->d, "()");
        return;
    }
    Saved s = fmt_paren_begin(f, "(", nd->start + 1);
    doc_start(f->d, D_GROUP, 0, 0);
    comma_list(f, items, k, nd->end - 1, fmt_trailing_comma(f, al), true, each_arg);
    doc_end(f->d, D_END_GROUP);
    fmt_paren_end(f, ")", s);
}

// A subscript's slice: a:b:c with spaces around colons when an operand is complex.
static bool is_simple_slice_part(const Fmt *f, uint32_t n) {
    switch (kind(f, n)) {
    case K_IDENTIFIER:
    case K_INTEGER:
    case K_FLOAT:
    case K_NONE:
    case K_TRUE:
    case K_FALSE:
    case K_STRING:
    case K_ELLIPSIS: return true;
    case K_UNARY_OP: {
        uint32_t arg = cst_field(f->c, n, F_ARGUMENT);
        return arg != CST_NONE && (kind(f, arg) == K_INTEGER || kind(f, arg) == K_FLOAT);
    }
    default: return false;
    }
}

static void fmt_slice(Fmt *f, uint32_t n) {
    const CstNode *p = &f->c->nodes[n];
    // parts separated by ':' tokens
    uint32_t part[3] = {CST_NONE, CST_NONE, CST_NONE};
    uint32_t ncolon = 0;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t c = p->first_child + i;
        if (fmt_is_extra(f, c)) continue;
        if (is_tok(f, c, ":")) ncolon++;
        else if (ncolon < 3) part[ncolon] = c;
    }
    bool simple = true;
    for (int k = 0; k < 3; k++)
        if (part[k] != CST_NONE && !is_simple_slice_part(f, part[k])) simple = false;
    for (uint32_t k = 0; k <= ncolon && k < 3; k++) {
        if (k > 0) {
            if (!simple && part[k - 1] != CST_NONE) doc_space(f->d);
            doc_str(f->d, ":");
            if (!simple && part[k] != CST_NONE) doc_space(f->d);
        }
        if (part[k] != CST_NONE) fmt_expr(f, part[k]);
    }
}

// value[items]: `n` holds the brackets and items (a subscript, or the
// type_parameter of a generic type such as `List[int]`).
static void fmt_brackets(Fmt *f, uint32_t n, bool field_items) {
    const CstNode *p = &f->c->nodes[n];
    uint32_t *items = ARENA_ARRAY(f->cx, uint32_t, p->nchildren + 1);
    uint32_t k = 0, open = CST_NONE;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t c = p->first_child + i;
        if (field_items ? f->c->nodes[c].field == F_SUBSCRIPT : (f->c->nodes[c].named && !fmt_is_extra(f, c)))
            items[k++] = c;
        if (open == CST_NONE && is_tok(f, c, "[")) open = c;
    }
    if (open == CST_NONE) {
        fmt_node_text(f, n);
        return;
    }
    bool magic = fmt_trailing_comma(f, n);
    Saved s = fmt_paren_begin(f, "[", f->c->nodes[open].end);
    if (k > 1 || magic) {
        doc_start(f->d, D_GROUP, 0, 0);
        comma_list(f, items, k, p->end - 1, magic && k > 1, true, each_expr);
        if (k == 1) doc_str(f->d, ",");
        doc_end(f->d, D_END_GROUP);
    } else if (k == 1) {
        put_comments_between(f, f->c->nodes[open].end, f->c->nodes[items[0]].start, true);
        fmt_expr(f, items[0]);
        put_comments_between(f, f->c->nodes[items[0]].end, p->end - 1, false);
    }
    fmt_paren_end(f, "]", s);
}

static void fmt_subscript(Fmt *f, uint32_t n) {
    fmt_expr(f, cst_field(f->c, n, F_VALUE));
    fmt_brackets(f, n, true);
}

// Grammar nodes without a NodeKind of their own, recognised by shape:
// generic_type `Name[...]` and its type_parameter `[...]`.
static bool starts_with_bracket(const Fmt *f, uint32_t n) {
    const CstNode *p = &f->c->nodes[n];
    return p->nchildren > 0 && is_tok(f, p->first_child, "[");
}

static void fmt_chain(Fmt *f, uint32_t n);

static bool fmt_other(Fmt *f, uint32_t n) {
    const CstNode *p = &f->c->nodes[n];
    if (fmt_is_union(f, n)) {
        fmt_chain(f, n);
        return true;
    }
    if (starts_with_bracket(f, n)) {
        fmt_brackets(f, n, false);
        return true;
    }
    if (p->nchildren == 2 && f->c->nodes[p->first_child + 1].named &&
        kind(f, p->first_child + 1) == K_OTHER && starts_with_bracket(f, p->first_child + 1)) {
        fmt_expr(f, p->first_child);
        fmt_brackets(f, p->first_child + 1, false);
        return true;
    }
    return false;
}

// Ruff's call-chain layout: a chain with two or more attribute accesses that
// follow a call, a subscript or parentheses (`a.b(c).d(e).f`) breaks before
// those dots, one per line, when it does not fit inside brackets.
bool fmt_is_fluent(const Fmt *f, uint32_t n) {
    int count = 0;
    for (int guard = 0; guard < 4 * FMT_MAX_DEPTH; guard++) {
        uint32_t k = kind(f, n);
        if (k == K_ATTRIBUTE) {
            uint32_t v = cst_field(f->c, n, F_OBJECT);
            if (kind(f, v) == K_PAREN_EXPR) {
                count++;
                break;
            }
            if (kind(f, v) == K_CALL || kind(f, v) == K_SUBSCRIPT) count++;
            n = v;
        } else if (k == K_CALL || k == K_SUBSCRIPT) {
            uint32_t v = fmt_child(f, n, 0);
            if (kind(f, v) == K_PAREN_EXPR) break;
            n = v;
        } else {
            break;
        }
    }
    return count >= 2;
}

static void fmt_attribute(Fmt *f, uint32_t n) {
    uint32_t obj = cst_field(f->c, n, F_OBJECT);
    fmt_expr(f, obj);
    if (f->in_chain &&
        (kind(f, obj) == K_CALL || kind(f, obj) == K_SUBSCRIPT || kind(f, obj) == K_PAREN_EXPR))
        doc_line(f->d, L_SOFT);
    // `1 .real` needs its space; keep what the source has between object and dot
    if (kind(f, obj) == K_INTEGER) doc_space(f->d);
    doc_str(f->d, ".");
    fmt_node_text(f, cst_field(f->c, n, F_ATTRIBUTE));
}

// --- comprehensions, lambdas, conditionals ---

// A comprehension's `for ... in ...` clause c: targets before `in`, expressions after.
static void fmt_for_in_clause(Fmt *f, uint32_t c) {
    const CstNode *q = &f->c->nodes[c];
    bool seen_in = false;
    for (uint32_t j = 0; j < q->nchildren; j++) {
        uint32_t t = q->first_child + j;
        if (fmt_is_extra(f, t)) continue;
        if (!f->c->nodes[t].named) {
            if (is_tok(f, t, ",")) {
                doc_str(f->d, ",");
                continue;
            }
            if (j > 0) doc_space(f->d);
            fmt_node_text(f, t);
            if (is_tok(f, t, "in")) seen_in = true;
            continue;
        }
        doc_space(f->d);
        if (!seen_in) fmt_targets(f, c == t ? t : t);
        else fmt_expr(f, t);
    }
}

static void fmt_comprehension(Fmt *f, uint32_t n, const char *open, const char *close) {
    const CstNode *p = &f->c->nodes[n];
    Saved s = fmt_paren_begin(f, open, p->start + 1);
    doc_start(f->d, D_GROUP, 0, 0);
    bool first = true;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t c = p->first_child + i;
        if (!f->c->nodes[c].named || fmt_is_extra(f, c)) continue;
        if (first) {
            if (kind(f, c) == K_PAIR) {
                fmt_expr(f, c);
            } else {
                doc_start(f->d, D_GROUP, 0, 0);
                fmt_expr(f, c);
                doc_end(f->d, D_END_GROUP);
            }
            first = false;
            continue;
        }
        doc_line(f->d, L_SOFT_SPACE);
        if (kind(f, c) == K_FOR_IN_CLAUSE) {
            fmt_for_in_clause(f, c);
        } else if (kind(f, c) == K_IF_CLAUSE) {
            doc_str(f->d, "if ");
            fmt_expr(f, fmt_child(f, c, 0));
        }
    }
    doc_end(f->d, D_END_GROUP);
    fmt_paren_end(f, close, s);
}

static void fmt_lambda_params(Fmt *f, uint32_t params) {
    uint32_t *items;
    uint32_t k = fmt_items_of(f, params, &items);
    for (uint32_t i = 0; i < k; i++) {
        if (i) doc_str(f->d, ", ");
        fmt_expr(f, items[i]);
    }
}

static void fmt_lambda(Fmt *f, uint32_t n) {
    doc_str(f->d, "lambda");
    uint32_t params = cst_field(f->c, n, F_PARAMETERS);
    if (params != CST_NONE) {
        doc_space(f->d);
        fmt_lambda_params(f, params);
    }
    doc_str(f->d, ": ");
    fmt_maybe_paren_nested(f, cst_field(f->c, n, F_BODY));
}

static void fmt_conditional(Fmt *f, uint32_t n) {
    DocOp end = ipo_group_begin(f);
    for (;;) {
        uint32_t body = fmt_child(f, n, 0), test = fmt_child(f, n, 1);
        uint32_t orelse = fmt_child(f, n, 2);
        fmt_expr(f, body);
        ipo_soft_space(f);
        doc_str(f->d, "if ");
        fmt_expr(f, test);
        ipo_soft_space(f);
        doc_str(f->d, "else ");
        if (kind(f, orelse) != K_CONDITIONAL_EXPR) {
            fmt_expr(f, orelse);
            break;
        }
        n = orelse;
    }
    ipo_group_end(f, end);
}

// --- generic token-wise layout for the rest (parameters, patterns, ...) ---

static bool no_space_before(const char *t, size_t len) {
    return len == 1 && (*t == ',' || *t == ')' || *t == ']' || *t == '}' || *t == ':' || *t == '.');
}

static void fmt_tokens(Fmt *f, uint32_t n) {
    const CstNode *p = &f->c->nodes[n];
    if (p->nchildren == 0) {
        fmt_node_text(f, n);
        return;
    }
    bool prev_open = true;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        uint32_t c = p->first_child + i;
        if (fmt_is_extra(f, c)) continue;
        size_t len;
        const char *t = text_of(f, c, &len);
        bool named = f->c->nodes[c].named;
        if (!prev_open && !(!named && no_space_before(t, len))) doc_space(f->d);
        if (named) fmt_expr(f, c);
        else fmt_node_text(f, c);
        prev_open = !named && len == 1 && (*t == '(' || *t == '[' || *t == '{' || *t == '.');
        if (!named &&
            ((len == 1 && (*t == '*' || *t == '-' || *t == '~' || *t == '+')) || mem_is(t, len, "**")))
            prev_open = true;
    }
}

// --- dispatch ---

static void fmt_keyword_like(Fmt *f, uint32_t n, const char *kw) {
    doc_str(f->d, kw);
    uint32_t arg = fmt_child(f, n, 0);
    if (arg == CST_NONE) return;
    doc_space(f->d);
    fmt_expr(f, arg);
}

// 1_000, 0XFF, 1E5: numbers in their normal spelling
static void fmt_number_node(Fmt *f, uint32_t n) {
    size_t len;
    const char *t = text_of(f, n, &len);
    StrBuf sb = {0};
    fmt_number(f->cx, t, len, &sb);
    put_owned(f, &sb);
}

// (expr), keeping comments inside the parentheses
static void fmt_paren_expr(Fmt *f, uint32_t n) {
    const Cst *c = f->c;
    uint32_t inner = fmt_child(f, n, 0);
    if (inner == CST_NONE) {
        fmt_tokens(f, n);
        return;
    }
    Saved s = fmt_paren_begin(f, "(", c->nodes[n].start + 1);
    put_comments_between(f, c->nodes[n].start + 1, c->nodes[inner].start, true);
    fmt_expr(f, inner);
    put_comments_between(f, c->nodes[inner].end, c->nodes[n].end - 1, false);
    fmt_paren_end(f, ")", s);
}

// a, b (a tuple without parentheses)
static void fmt_bare_tuple(Fmt *f, uint32_t n) {
    uint32_t *items;
    uint32_t k = fmt_items_of(f, n, &items);
    for (uint32_t i = 0; i < k; i++) {
        if (i) doc_str(f->d, ", ");
        fmt_expr(f, items[i]);
    }
    if (k == 1) doc_str(f->d, ",");
}

// x=1, x: int, x: int = 1
static void fmt_parameter(Fmt *f, uint32_t n) {
    const Cst *c = f->c;
    uint32_t name = cst_field(c, n, F_NAME), type = cst_field(c, n, F_TYPE);
    uint32_t value = cst_field(c, n, F_VALUE);
    if (name == CST_NONE) name = fmt_child(f, n, 0);
    fmt_expr(f, name);
    if (type != CST_NONE) {
        doc_str(f->d, ": ");
        fmt_expr(f, type);
    }
    if (value != CST_NONE) {
        doc_str(f->d, type != CST_NONE ? " = " : "=");
        fmt_expr(f, value);
    }
}

// yield x, yield from xs
static void fmt_yield(Fmt *f, uint32_t n) {
    const Cst *c = f->c;
    const CstNode *p = &c->nodes[n];
    doc_str(f->d, "yield");
    bool from = false;
    for (uint32_t i = 0; i < p->nchildren; i++)
        if (is_tok(f, p->first_child + i, "from")) from = true;
    if (from) doc_str(f->d, " from");
    uint32_t v = fmt_child(f, n, 0);
    if (v != CST_NONE) {
        doc_space(f->d);
        fmt_expr(f, v);
    }
}

static void fmt_expr_inner(Fmt *f, uint32_t n) {
    const Cst *c = f->c;
    switch (kind(f, n)) {
    case K_INTEGER:
    case K_FLOAT: fmt_number_node(f, n); break;
    case K_STRING: fmt_string_node(f, n); break;
    case K_CONCAT_STRING: fmt_concat(f, n); break;
    case K_BINARY_OP:
    case K_BOOLEAN_OP:
    case K_COMPARISON: fmt_chain(f, n); break;
    case K_UNARY_OP: {
        fmt_node_text(f, cst_field(c, n, F_OPERATOR));
        fmt_expr(f, cst_field(c, n, F_ARGUMENT));
        break;
    }
    case K_NOT_OP: fmt_keyword_like(f, n, "not"); break;
    case K_AWAIT: fmt_keyword_like(f, n, "await"); break;
    case K_ATTRIBUTE: fmt_attribute(f, n); break;
    case K_CALL:
        fmt_expr(f, cst_field(c, n, F_FUNCTION));
        fmt_arguments(f, cst_field(c, n, F_ARGUMENTS));
        break;
    case K_SUBSCRIPT: fmt_subscript(f, n); break;
    case K_ARGUMENT_LIST: fmt_arguments(f, n); break;
    case K_SLICE: fmt_slice(f, n); break;
    case K_KEYWORD_ARGUMENT: each_arg(f, n); break;
    case K_LIST_SPLAT:
    case K_LIST_SPLAT_PATTERN:
        doc_str(f->d, "*");
        fmt_expr(f, fmt_child(f, n, 0));
        break;
    case K_DICT_SPLAT:
    case K_DICT_SPLAT_PATTERN:
        doc_str(f->d, "**");
        fmt_expr(f, fmt_child(f, n, 0));
        break;
    case K_PAIR:
        fmt_expr(f, cst_field(c, n, F_KEY));
        doc_str(f->d, ": ");
        fmt_expr(f, cst_field(c, n, F_VALUE));
        break;
    case K_TUPLE:
    case K_TUPLE_PATTERN: display(f, n, "(", ")", true); break;
    case K_LIST:
    case K_LIST_PATTERN: display(f, n, "[", "]", false); break;
    case K_SET: display(f, n, "{", "}", false); break;
    case K_DICT: display(f, n, "{", "}", false); break;
    case K_LIST_COMP: fmt_comprehension(f, n, "[", "]"); break;
    case K_SET_COMP:
    case K_DICT_COMP: fmt_comprehension(f, n, "{", "}"); break;
    case K_GENERATOR: fmt_comprehension(f, n, "(", ")"); break;
    case K_LAMBDA: fmt_lambda(f, n); break;
    case K_CONDITIONAL_EXPR: fmt_conditional(f, n); break;
    case K_NAMED_EXPR:
        fmt_expr(f, cst_field(c, n, F_NAME));
        doc_str(f->d, " := ");
        fmt_expr(f, cst_field(c, n, F_VALUE));
        break;
    case K_PAREN_EXPR: fmt_paren_expr(f, n); break;
    case K_EXPRESSION_LIST:
    case K_PATTERN_LIST: fmt_bare_tuple(f, n); break;
    case K_TYPE: fmt_expr(f, fmt_child(f, n, 0)); break;
    case K_DEFAULT_PARAMETER:
    case K_TYPED_PARAMETER:
    case K_TYPED_DEFAULT_PARAMETER: fmt_parameter(f, n); break;
    case K_YIELD: fmt_yield(f, n); break;
    case K_IDENTIFIER:
    case K_TRUE:
    case K_FALSE:
    case K_NONE:
    case K_ELLIPSIS: fmt_node_text(f, n); break;
    case K_OTHER:
        if (!fmt_other(f, n)) fmt_tokens(f, n);
        break;
    default: fmt_tokens(f, n); break;
    }
}

void fmt_expr(Fmt *f, uint32_t n) {
    if (n == CST_NONE) return;
    if (f->depth >= FMT_MAX_DEPTH) {
        f->too_deep = true;
        fmt_node_text(f, n);
        return;
    }
    f->depth++;
    uint32_t k = kind(f, n);
    bool chain_root = !f->in_chain && (k == K_CALL || k == K_ATTRIBUTE || k == K_SUBSCRIPT) &&
                      (f->level == LV_PAREN || (f->level == LV_EXPR && f->paren_id)) && fmt_is_fluent(f, n);
    if (chain_root) {
        f->in_chain = true;
        doc_start(f->d, D_GROUP, 0, 0);
        fmt_expr_inner(f, n);
        doc_end(f->d, D_END_GROUP);
        f->in_chain = false;
    } else {
        fmt_expr_inner(f, n);
    }
    f->depth--;
}

void fmt_expr_unparen(Fmt *f, uint32_t n) { fmt_expr(f, fmt_unparen(f, n)); }

void fmt_targets(Fmt *f, uint32_t n) {
    n = fmt_unparen(f, n);
    // for (i) in ...: a one-element pattern without a comma is just parentheses
    while ((kind(f, n) == K_TUPLE_PATTERN || kind(f, n) == K_TUPLE) && fmt_nchildren(f, n) == 1 &&
           !fmt_trailing_comma(f, n) && !fmt_has_comments(f, f->c->nodes[n].start, f->c->nodes[n].end))
        n = fmt_unparen(f, fmt_child(f, n, 0));
    if (kind(f, n) == K_PATTERN_LIST || kind(f, n) == K_EXPRESSION_LIST) {
        uint32_t *items;
        uint32_t k = fmt_items_of(f, n, &items);
        for (uint32_t i = 0; i < k; i++) {
            if (i) doc_str(f->d, ", ");
            fmt_expr(f, items[i]);
        }
        if (k == 1) doc_str(f->d, ",");
        return;
    }
    fmt_expr(f, n);
}
