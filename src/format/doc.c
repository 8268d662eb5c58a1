// format/doc.c: the formatter's document builder and printer.
//
// Consumes: a Doc built by stmt.c/expr.c. Produces: text.
// The printer follows the Prettier/ruff model: a group prints flat when its
// content, plus whatever follows it up to the next line break, fits in the
// line width; otherwise its soft line breaks become newlines. Measuring never
// recurses: it walks the flat element list with an explicit stack.
#include <string.h>

#include "internal.h"

void doc_init(ffq_ctx *cx, Doc *d) {
    memset(d, 0, sizeof *d);
    d->cx = cx;
    d->next_id = 1;
}

uint32_t doc_new_id(Doc *d) { return d->next_id++; }

static DocEl *push_el(Doc *d, DocOp op) {
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 32;
        d->el = arena_grow(d->cx, d->el, d->cap * sizeof(DocEl), cap * sizeof(DocEl));
        d->cap = cap;
    }
    DocEl *e = &d->el[d->n++];
    memset(e, 0, sizeof *e);
    e->op = (uint8_t)op;
    return e;
}

uint32_t doc_text_width(const char *s, size_t n) {
    uint32_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) == 0x80) continue;
        if (c == '\t') {
            w += FMT_INDENT;
            continue;
        }
        // East Asian wide ranges (CJK, Hangul, full-width forms) take two columns.
        uint32_t cp = c;
        if (c >= 0xE0 && i + 2 < n + 0 && c < 0xF0)
            cp = ((c & 0x0Fu) << 12) | (((unsigned char)s[i + 1] & 0x3Fu) << 6) |
                 ((unsigned char)s[i + 2] & 0x3Fu);
        bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6);
        if (c >= 0xF0) wide = true;  // emoji and supplementary ideographs
        w += wide ? 2 : 1;
    }
    return w;
}

void doc_text(Doc *d, const char *s, size_t n) {
    if (n == 0) return;
    DocEl *e = push_el(d, D_TEXT);
    e->s = s;
    e->n = (uint32_t)n;
    e->multiline = memchr(s, '\n', n) != NULL;
    e->width = doc_text_width(s, n);
}

void doc_str(Doc *d, const char *s) { doc_text(d, s, strlen(s)); }
void doc_space(Doc *d) { push_el(d, D_SPACE); }
void doc_line(Doc *d, DocLine kind) { push_el(d, D_LINE)->a = kind; }
void doc_expand_parent(Doc *d) { push_el(d, D_EXPAND_PARENT); }

void doc_start(Doc *d, DocOp op, uint32_t a, uint32_t b) {
    DocEl *e = push_el(d, op);
    e->a = a;
    e->b = b;
    if (op == D_GROUP && b) e->expand = true;
    if (d->nopen == d->capopen) {
        uint32_t cap = d->capopen ? d->capopen * 2 : 64;
        d->open = arena_grow(d->cx, d->open, d->capopen * sizeof(uint32_t), cap * sizeof(uint32_t));
        d->capopen = cap;
    }
    d->open[d->nopen++] = d->n - 1;
}

void doc_end(Doc *d, DocOp op) {
    ffq_assert(d->nopen > 0);
    uint32_t s = d->open[--d->nopen];
    ffq_assert((uint32_t)d->el[s].op + 1 == (uint32_t)op);
    DocEl *e = push_el(d, op);
    e->match = s;
    d->el[s].match = d->n - 1;
}

// --- expansion propagation ---
// A hard line break, a multi-line text or an expand_parent inside a group makes
// the group (and, transitively, its enclosing groups) break. Best-fitting
// variants are a boundary: their content never expands what encloses them.
static void propagate(Doc *d) {
    uint32_t *stack = ARENA_ARRAY(d->cx, uint32_t, d->n + 1);
    uint32_t ns = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        DocEl *e = &d->el[i];
        bool expands = false;
        switch (e->op) {
        case D_GROUP:
        case D_COND_GROUP:
        case D_FITS_EXPANDED:
        case D_BEST_FIT: stack[ns++] = i; break;
        case D_END_GROUP:
        case D_END_COND_GROUP:
            ns--;
            expands = d->el[e->match].expand;
            break;
        case D_END_FITS_EXPANDED: ns--; break;  // a boundary: keeps the flag to itself
        case D_END_BEST_FIT: ns--; break;
        case D_LINE: expands = e->a == L_HARD || e->a == L_EMPTY; break;
        case D_TEXT: expands = e->multiline; break;
        case D_EXPAND_PARENT: expands = true; break;
        default: break;
        }
        if (expands && ns > 0 && d->el[stack[ns - 1]].op != D_BEST_FIT) d->el[stack[ns - 1]].expand = true;
    }
}

// --- printer ---

typedef enum Measure { MEAS_FIRST_LINE, MEAS_ALL_LINES, MEAS_ALL_OVERFLOW } Measure;

typedef struct Frame {
    uint8_t op;       // the start element that pushed this frame
    uint8_t mode;     // DocMode
    uint8_t measure;  // Measure
    bool bfp_paren;   // measuring a best_fit_parenthesize as parenthesized
    int indent;       // indentation level
    uint32_t start;   // index of the start element
} Frame;

typedef struct Stack {
    Frame *f;
    size_t n, cap;
} Stack;

typedef struct Printer {
    ffq_ctx *cx;
    const Doc *d;
    StrBuf *out;
    uint32_t line_width;
    int pending_indent;  // -1: none
    bool measured_fits;
    uint8_t *group_mode;  // by group id
    uint32_t *suffix;     // pending line-suffix start elements
    size_t nsuffix, capsuffix;
    Stack st;
    Stack fit_stack;  // fits()'s working copy of st
    uint32_t *bf_of;  // for each D_ENTRY/D_END_ENTRY: its D_BEST_FIT
} Printer;

static void spush(ffq_ctx *cx, Stack *s, Frame f) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        s->f = arena_grow(cx, s->f, s->cap * sizeof(Frame), cap * sizeof(Frame));
        s->cap = cap;
    }
    s->f[s->n++] = f;
}

static Frame with_mode(Frame f, uint8_t op, uint32_t start, DocMode m) {
    f.bfp_paren = false;
    f.op = op;
    f.start = start;
    f.mode = (uint8_t)m;
    return f;
}

// Measures whether the elements from `i` on fit, with `st` the stack they
// are printed under (its top frame already pushed by the caller).
// A documented exception to the 80-line rule: one loop over the element
// list with an explicit stack and a switch on the element kind; the cases
// share the width and the stack, and split apart they would pass both around.
static bool fits(Printer *p, uint32_t i, const Stack *st) {
    const Doc *d = p->d;
    Stack *ls = &p->fit_stack;  // reused: a fresh copy per measurement stayed in the arena
    ls->n = 0;
    for (size_t k = 0; k < st->n; k++) spush(p->cx, ls, st->f[k]);
    uint32_t width = p->line_width;
    int pending = p->pending_indent;
    for (; i < d->n; i++) {
        const DocEl *e = &d->el[i];
        Frame top = ls->f[ls->n - 1];
        switch ((DocOp)e->op) {
        case D_TEXT: {
            if (pending >= 0) width += (uint32_t)(pending * FMT_INDENT), pending = -1;
            if (!e->multiline) {
                width += e->width;
            } else {
                const char *nl = memchr(e->s, '\n', e->n);
                width += doc_text_width(e->s, (size_t)(nl - e->s));
                if (width > FMT_LINE_WIDTH && top.measure != MEAS_ALL_OVERFLOW) return false;
                if (top.measure == MEAS_FIRST_LINE) return true;
                const char *last = e->s + e->n;
                while (last > e->s && last[-1] != '\n') last--;
                width = doc_text_width(last, (size_t)(e->s + e->n - last));
            }
            if (width > FMT_LINE_WIDTH && top.measure != MEAS_ALL_OVERFLOW) return false;
            break;
        }
        case D_SPACE:
            width++;
            if (width > FMT_LINE_WIDTH && top.measure != MEAS_ALL_OVERFLOW) return false;
            break;
        case D_LINE:
            if (top.mode == M_FLAT) {
                if (e->a == L_SOFT_SPACE) width++;
                else if (e->a == L_HARD || e->a == L_EMPTY) return true;
                if (width > FMT_LINE_WIDTH && top.measure != MEAS_ALL_OVERFLOW) return false;
            } else {
                if (top.measure == MEAS_FIRST_LINE) return true;
                width = 0;
                pending = top.indent;
            }
            break;
        case D_GROUP: {
            DocMode m = e->expand ? M_BREAK : (DocMode)top.mode;
            if (e->a) p->group_mode[e->a] = (uint8_t)m;
            spush(p->cx, ls, with_mode(top, e->op, i, m));
            break;
        }
        case D_COND_GROUP: {
            DocMode m = (DocMode)top.mode;
            if (p->group_mode[e->a] == e->b && e->expand) m = M_BREAK;
            spush(p->cx, ls, with_mode(top, e->op, i, m));
            break;
        }
        case D_INDENT: {
            Frame f = with_mode(top, e->op, i, (DocMode)top.mode);
            f.indent++;
            spush(p->cx, ls, f);
            break;
        }
        case D_INDENT_IF: {
            Frame f = with_mode(top, e->op, i, (DocMode)top.mode);
            if (p->group_mode[e->a] == M_BREAK) f.indent++;
            spush(p->cx, ls, f);
            break;
        }
        case D_IF: {
            DocMode m = e->a ? (DocMode)p->group_mode[e->a] : (DocMode)top.mode;
            if (m != (DocMode)e->b) i = e->match;
            else spush(p->cx, ls, with_mode(top, e->op, i, (DocMode)top.mode));
            break;
        }
        case D_SUFFIX:
            width += e->a;
            if (width > FMT_LINE_WIDTH) return false;
            i = e->match;
            break;
        case D_EXPAND_PARENT: break;
        case D_FITS_EXPANDED: {
            Frame f = with_mode(top, e->op, i, (DocMode)top.mode);
            if (top.mode == M_FLAT) {
                bool cond = e->a == 0 || p->group_mode[e->a] == e->b;
                if (cond) {
                    f.mode = M_BREAK;
                    f.measure = MEAS_ALL_OVERFLOW;
                } else if (e->expand) {
                    return false;
                }
            }
            spush(p->cx, ls, f);
            break;
        }
        case D_BEST_FIT: {
            spush(p->cx, ls, with_mode(top, e->op, i, (DocMode)top.mode));
            uint32_t entry = i + 1;  // most flat variant
            if (top.mode == M_BREAK) {
                uint32_t last = entry;
                for (uint32_t k = entry; k < e->match; k = d->el[k].match + 1) last = k;
                entry = last;
            }
            spush(p->cx, ls, with_mode(top, D_ENTRY, entry, (DocMode)top.mode));
            i = entry;
            break;
        }
        case D_END_ENTRY:
            ls->n--;
            i = d->el[p->bf_of[i]].match - 1;  // continue at the D_END_BEST_FIT
            break;
        case D_BFP:
            if (e->a) p->group_mode[e->a] = top.mode;
            spush(p->cx, ls, with_mode(top, e->op, i, (DocMode)top.mode));
            break;
        case D_ENTRY: spush(p->cx, ls, with_mode(top, e->op, i, (DocMode)top.mode)); break;
        case D_END_BFP:
            if (top.bfp_paren) {  // the closing parenthesis on its own line
                width = (uint32_t)((top.indent - 1) * FMT_INDENT + 1);
                pending = -1;
            }
            if (ls->n > 1) ls->n--;
            break;
        case D_END_GROUP:
        case D_END_COND_GROUP:
        case D_END_INDENT:
        case D_END_IF:
        case D_END_INDENT_IF:
        case D_END_FITS_EXPANDED:
        case D_END_BEST_FIT:
        case D_END_SUFFIX:
            if (ls->n > 1) ls->n--;
            break;
        }
    }
    return true;
}

static void print_text(Printer *p, const char *s, size_t n, uint32_t w, bool multiline) {
    if (p->pending_indent >= 0) {
        sb_indent(p->cx, p->out, p->pending_indent * FMT_INDENT);
        p->line_width += (uint32_t)(p->pending_indent * FMT_INDENT);
        p->pending_indent = -1;
    }
    sb_putn(p->cx, p->out, s, n);
    if (!multiline) {
        p->line_width += w;
        return;
    }
    const char *last = s + n;
    while (last > s && last[-1] != '\n') last--;
    p->line_width = doc_text_width(last, (size_t)(s + n - last));
}

static void flush_suffixes(Printer *p) {
    for (size_t k = 0; k < p->nsuffix; k++) {
        const DocEl *s = &p->d->el[p->suffix[k]];
        for (uint32_t i = p->suffix[k] + 1; i < s->match; i++) {
            const DocEl *e = &p->d->el[i];
            if (e->op == D_TEXT) print_text(p, e->s, e->n, e->width, e->multiline);
            else if (e->op == D_SPACE) print_text(p, " ", 1, 1, false);
        }
    }
    p->nsuffix = 0;
}

static void newline(Printer *p) {
    sb_putc(p->cx, p->out, '\n');
    p->line_width = 0;
    p->measured_fits = false;
}

// The mode of a group that is not forced to expand: flat if a parent already
// measured it, otherwise whatever the measurement says.
static DocMode group_mode(Printer *p, uint32_t i, uint32_t id) {
    Frame top = p->st.f[p->st.n - 1];
    if (top.mode == M_FLAT && p->measured_fits) return M_FLAT;
    p->measured_fits = true;
    if (id) p->group_mode[id] = M_FLAT;
    spush(p->cx, &p->st, with_mode(top, p->d->el[i].op, i, M_FLAT));
    bool ok = fits(p, i + 1, &p->st);
    p->st.n--;
    return ok ? M_FLAT : M_BREAK;
}

// Returns the index to continue at.
static uint32_t print_best_fit(Printer *p, uint32_t i) {
    const Doc *d = p->d;
    Frame top = p->st.f[p->st.n - 1];
    spush(p->cx, &p->st, with_mode(top, D_BEST_FIT, i, (DocMode)top.mode));
    uint32_t end = d->el[i].match;
    uint32_t last = i + 1;
    for (uint32_t k = i + 1; k < end; k = d->el[k].match + 1) last = k;
    if (top.mode == M_FLAT && p->measured_fits) {
        spush(p->cx, &p->st, with_mode(top, D_ENTRY, i + 1, M_FLAT));
        return i + 2;
    }
    p->measured_fits = true;
    for (uint32_t k = i + 1; k < last; k = d->el[k].match + 1) {
        Frame f = with_mode(top, D_ENTRY, k, M_FLAT);
        f.measure = MEAS_FIRST_LINE;
        spush(p->cx, &p->st, f);
        bool ok = fits(p, k + 1, &p->st);
        p->st.n--;
        if (ok) {
            spush(p->cx, &p->st, f);
            return k + 1;
        }
    }
    spush(p->cx, &p->st, with_mode(top, D_ENTRY, last, M_BREAK));
    return last + 1;
}

static uint32_t print_bfp(Printer *p, uint32_t i) {
    const DocEl *e = &p->d->el[i];
    Frame top = p->st.f[p->st.n - 1];
    DocMode m = group_mode(p, i, e->a);
    if (m == M_BREAK) {
        // Does the content fit on its own lines inside parentheses?
        if (e->a) p->group_mode[e->a] = M_BREAK;
        Frame f = with_mode(top, D_BFP, i, (DocMode)top.mode);
        f.measure = MEAS_ALL_LINES;
        f.bfp_paren = true;
        f.indent++;
        spush(p->cx, &p->st, f);
        uint32_t saved_w = p->line_width;
        int saved_pending = p->pending_indent;
        p->line_width = 0;
        p->pending_indent = f.indent;  // after "(" and a hard line break
        bool ok = saved_w + 1 <= FMT_LINE_WIDTH && fits(p, i + 1, &p->st);
        p->line_width = saved_w;
        p->pending_indent = saved_pending;
        p->st.n--;
        m = ok ? M_BREAK : M_FLAT;
    }
    if (e->a) p->group_mode[e->a] = (uint8_t)m;
    Frame f = with_mode(top, D_BFP, i, m);
    if (m == M_BREAK) {
        print_text(p, "(", 1, 1, false);
        f.indent++;
        newline(p);
        p->pending_indent = f.indent;
    }
    spush(p->cx, &p->st, f);
    return i + 1;
}

// A documented exception to the 80-line rule, for the reason given at fits():
// the printer is one loop with one switch over the element kinds.
void doc_print(Doc *d, StrBuf *out) {
    ffq_assert(d->nopen == 0);
    propagate(d);
    Printer p = {.cx = d->cx, .d = d, .out = out, .pending_indent = -1};
    p.group_mode = ARENA_ARRAY(d->cx, uint8_t, d->next_id + 1);
    p.bf_of = ARENA_ARRAY(d->cx, uint32_t, d->n + 1);
    for (uint32_t i = 0; i < d->n; i++) {
        if (d->el[i].op != D_BEST_FIT) continue;
        for (uint32_t k = i + 1; k < d->el[i].match; k = d->el[k].match + 1) {
            p.bf_of[k] = i;
            p.bf_of[d->el[k].match] = i;
        }
    }
    spush(d->cx, &p.st, (Frame){.op = D_GROUP, .mode = M_BREAK});
    uint32_t i = 0;
    while (i < d->n) {
        const DocEl *e = &d->el[i];
        Frame top = p.st.f[p.st.n - 1];
        uint32_t next = i + 1;
        switch ((DocOp)e->op) {
        case D_TEXT: print_text(&p, e->s, e->n, e->width, e->multiline); break;
        case D_SPACE: print_text(&p, " ", 1, 1, false); break;
        case D_LINE:
            if (top.mode == M_FLAT && (e->a == L_SOFT || e->a == L_SOFT_SPACE)) {
                if (e->a == L_SOFT_SPACE) print_text(&p, " ", 1, 1, false);
            } else if (p.nsuffix) {
                flush_suffixes(&p);
                next = i;  // then the line break itself
            } else {
                if (p.line_width > 0) newline(&p);
                if (e->a == L_EMPTY) newline(&p);
                p.pending_indent = top.indent;
            }
            break;
        case D_GROUP: {
            DocMode m = e->expand ? M_BREAK : group_mode(&p, i, e->a);
            if (e->a) p.group_mode[e->a] = (uint8_t)m;
            spush(d->cx, &p.st, with_mode(top, e->op, i, m));
            break;
        }
        case D_COND_GROUP: {
            DocMode m = (DocMode)top.mode;
            if (p.group_mode[e->a] == e->b) m = e->expand ? M_BREAK : group_mode(&p, i, 0);
            spush(d->cx, &p.st, with_mode(top, e->op, i, m));
            break;
        }
        case D_INDENT: {
            Frame f = with_mode(top, e->op, i, (DocMode)top.mode);
            f.indent++;
            spush(d->cx, &p.st, f);
            break;
        }
        case D_INDENT_IF: {
            Frame f = with_mode(top, e->op, i, (DocMode)top.mode);
            if (p.group_mode[e->a] == M_BREAK) f.indent++;
            spush(d->cx, &p.st, f);
            break;
        }
        case D_IF: {
            DocMode m = e->a ? (DocMode)p.group_mode[e->a] : (DocMode)top.mode;
            if (m != (DocMode)e->b) next = e->match + 1;
            else spush(d->cx, &p.st, with_mode(top, e->op, i, (DocMode)top.mode));
            break;
        }
        case D_SUFFIX:
            if (p.nsuffix == p.capsuffix) {
                size_t cap = p.capsuffix ? p.capsuffix * 2 : 8;
                p.suffix =
                    arena_grow(d->cx, p.suffix, p.capsuffix * sizeof(uint32_t), cap * sizeof(uint32_t));
                p.capsuffix = cap;
            }
            p.suffix[p.nsuffix++] = i;
            next = e->match + 1;
            break;
        case D_EXPAND_PARENT: break;
        case D_FITS_EXPANDED: {
            bool cond = e->a == 0 || p.group_mode[e->a] == e->b;
            if (cond) p.measured_fits = false;
            spush(d->cx, &p.st, with_mode(top, e->op, i, (DocMode)top.mode));
            break;
        }
        case D_BEST_FIT: next = print_best_fit(&p, i); break;
        case D_ENTRY: spush(d->cx, &p.st, with_mode(top, e->op, i, (DocMode)top.mode)); break;
        case D_END_ENTRY:
            p.st.n--;
            next = d->el[p.bf_of[i]].match;
            break;
        case D_BFP: next = print_bfp(&p, i); break;
        case D_END_BFP: {
            Frame f = p.st.f[--p.st.n];
            if (f.mode == M_BREAK) {
                if (p.nsuffix) flush_suffixes(&p);
                if (p.line_width > 0) newline(&p);
                p.pending_indent = p.st.f[p.st.n - 1].indent;
                print_text(&p, ")", 1, 1, false);
            }
            break;
        }
        case D_END_GROUP:
        case D_END_COND_GROUP:
        case D_END_INDENT:
        case D_END_IF:
        case D_END_INDENT_IF:
        case D_END_FITS_EXPANDED:
        case D_END_BEST_FIT:
        case D_END_SUFFIX: p.st.n--; break;
        }
        i = next;
    }
    flush_suffixes(&p);
}

// Debugging aid: a readable dump of the document.
void doc_dump(const Doc *d, StrBuf *out) {
    static const char *const names[] = {"TEXT",
                                        "SPACE",
                                        "LINE",
                                        "GROUP",
                                        "END_GROUP",
                                        "COND_GROUP",
                                        "END_COND_GROUP",
                                        "INDENT",
                                        "END_INDENT",
                                        "IF",
                                        "END_IF",
                                        "INDENT_IF",
                                        "END_INDENT_IF",
                                        "SUFFIX",
                                        "END_SUFFIX",
                                        "EXPAND_PARENT",
                                        "FITS_EXPANDED",
                                        "END_FITS_EXPANDED",
                                        "BEST_FIT",
                                        "END_BEST_FIT",
                                        "ENTRY",
                                        "END_ENTRY",
                                        "BFP",
                                        "END_BFP"};
    int depth = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        const DocEl *e = &d->el[i];
        bool end = str_has_prefix(names[e->op], "END_");
        if (end) depth--;
        sb_indent(d->cx, out, depth * 2);
        if (e->op == D_TEXT) sb_printf(d->cx, out, "\"%.*s\"\n", (int)e->n, e->s);
        else sb_printf(d->cx, out, "%s a=%u b=%u%s\n", names[e->op], e->a, e->b, e->expand ? " expand" : "");
        bool start =
            !end && e->op != D_TEXT && e->op != D_SPACE && e->op != D_LINE && e->op != D_EXPAND_PARENT;
        if (start) depth++;
    }
}

void doc_print_flat(const Doc *d, StrBuf *out) {
    uint32_t *bf_end = ARENA_ARRAY(d->cx, uint32_t, d->n + 1);  // END_ENTRY -> END_BEST_FIT
    for (uint32_t i = 0; i < d->n; i++)
        if (d->el[i].op == D_BEST_FIT)
            for (uint32_t k = i + 1; k < d->el[i].match; k = d->el[k].match + 1)
                bf_end[d->el[k].match] = d->el[i].match;
    for (uint32_t i = 0; i < d->n; i++) {
        const DocEl *e = &d->el[i];
        switch ((DocOp)e->op) {
        case D_TEXT: sb_putn(d->cx, out, e->s, e->n); break;
        case D_SPACE: sb_putc(d->cx, out, ' '); break;
        case D_LINE:
            if (e->a != L_SOFT) sb_putc(d->cx, out, ' ');
            break;
        case D_IF:
            if (e->b == M_BREAK) i = e->match;
            break;
        case D_SUFFIX: i = e->match; break;
        case D_END_ENTRY: i = bf_end[i]; break;
        default: break;
        }
    }
}
