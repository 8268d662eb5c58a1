// format/format.c: the formatter's entry points (the Black / `ruff format
// --line-length 100` layout).
//
// format_module: parses a module, builds its layout document (stmt.c,
// expr.c, paren.c, text.c) and prints it at line width
// 100 (doc.c). The output is what ruff 0.17.6 prints for the same
// input, for the constructs ffq emits and for the corpus in
// tests/format/check_corpus.py.
//
// format_stmt: one statement at a given indentation, laid out by the same
// engine (nested in `if 1:` blocks so the width left at that depth counts).
// Statements that do not parse on their own use the older token-based layout
// kept below: a statement that does not fit is split at its last bracket pair
// with a non-empty body (head `f(`, body, tail `)`); an assignment or return
// whose value has no such bracket gets its value wrapped in parentheses; a
// body that does not fit on one line is split one element per line at its
// top-level commas, with a trailing comma. Statements holding comments are
// left as they are.
#include "format.h"

#include <string.h>

#include "ffq_int.h"
#include "internal.h"

// Deeper statements are not wrapped in `if 1:` blocks for the document
// layout (the wrapper text grows with the square of the depth).
enum { FMT_WRAP_DEPTH_MAX = 40 };

typedef enum TokKind { T_ATOM, T_OPEN, T_CLOSE, T_COMMA, T_OP } TokKind;

typedef struct Tok {
    TokKind kind;
    const char *text;
    size_t len;
    bool space_before;  // a space separates it from the previous token
    uint32_t match;     // T_OPEN/T_CLOSE: index of the matching bracket
} Tok;

typedef struct Toks {
    Tok *t;
    size_t n, cap;
    bool has_comment;
    bool unbalanced;
} Toks;

static void push(ffq_ctx *cx, Toks *ts, Tok t) {
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        ts->t = arena_grow(cx, ts->t, ts->cap * sizeof(Tok), cap * sizeof(Tok));
        ts->cap = cap;
    }
    ts->t[ts->n++] = t;
}

static bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

// Length of a string literal starting at s (prefix already consumed by the caller's scan).
static size_t string_len(const char *s, size_t n) {
    char q = s[0];
    bool triple = n >= 3 && s[1] == q && s[2] == q;
    size_t i = triple ? 3 : 1;
    while (i < n) {
        if (s[i] == '\\') {
            i += 2;
            continue;
        }
        if (s[i] == q) {
            if (!triple) return i + 1;
            if (i + 2 < n && s[i + 1] == q && s[i + 2] == q) return i + 3;
        }
        i++;
    }
    return n;
}

enum { BRACKET_DEPTH_MAX = 256 };

// Length of the name, number or prefixed string starting at s[i].
static size_t atom_len(const char *s, size_t n, size_t i) {
    size_t len = 1;
    while (i + len < n && (is_name_char(s[i + len]) || s[i + len] == '.' ||
                           ((s[i + len] == '+' || s[i + len] == '-') &&
                            (s[i + len - 1] == 'e' || s[i + len - 1] == 'E') && s[i] >= '0' && s[i] <= '9')))
        len++;
    if (i + len < n && (s[i + len] == '"' || s[i + len] == '\'') && len <= 3)
        len += string_len(s + i + len, n - i - len);  // f"", rb'' ...
    return len;
}

// Length of the operator starting at s[i]: a run of operator characters.
static size_t op_len(const char *s, size_t n, size_t i) {
    size_t len = 1;
    while (i + len < n && strchr("+-*/%@&|^~<>=!:", s[i + len]) && strchr("+-*/%@&|^~<>=!:", s[i])) len++;
    return len;
}

// Kind and length (*len) of the token at s[i], which is no bracket.
static TokKind plain_token(const char *s, size_t n, size_t i, size_t *len) {
    char c = s[i];
    *len = 1;
    if (c == '"' || c == '\'') {
        *len = string_len(s + i, n - i);
        return T_ATOM;
    }
    if (is_name_char(c)) {
        *len = atom_len(s, n, i);
        return T_ATOM;
    }
    if (c == ',') return T_COMMA;
    if (c == '.' && i + 1 < n && is_name_char(s[i + 1])) {
        // attribute access after a bracket: `f(x).y` -> one atom ".y"
        while (i + *len < n && (is_name_char(s[i + *len]) || s[i + *len] == '.')) (*len)++;
        return T_ATOM;
    }
    *len = op_len(s, n, i);
    return T_OP;
}

static void tokenize(ffq_ctx *cx, const char *s, size_t n, Toks *ts) {
    size_t i = 0;
    bool space = false;
    uint32_t stack[BRACKET_DEPTH_MAX];  // open brackets; deeper ones get no match recorded
    size_t depth = 0;
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\\') {
            space = true;
            i++;
            continue;
        }
        if (c == '#') {
            ts->has_comment = true;
            return;
        }
        Tok t = {.text = s + i, .space_before = space};
        space = false;
        size_t len = 1;
        if (c == '(' || c == '[' || c == '{') {
            t.kind = T_OPEN;
            if (depth < BRACKET_DEPTH_MAX) stack[depth] = (uint32_t)ts->n;
            depth++;
        } else if (c == ')' || c == ']' || c == '}') {
            t.kind = T_CLOSE;
            if (depth == 0) {
                ts->unbalanced = true;
                return;
            }
            depth--;
            if (depth < BRACKET_DEPTH_MAX) {
                t.match = stack[depth];
                ts->t[stack[depth]].match = (uint32_t)ts->n;
            }
        } else {
            t.kind = plain_token(s, n, i, &len);
        }
        t.len = len;
        push(cx, ts, t);
        i += len;
    }
    if (depth != 0) ts->unbalanced = true;
}

// Text of tokens [lo, hi) on one line, with Black's spacing around brackets and commas.
static void join(ffq_ctx *cx, const Toks *ts, size_t lo, size_t hi, StrBuf *out) {
    for (size_t i = lo; i < hi; i++) {
        const Tok *t = &ts->t[i];
        if (i > lo) {
            const Tok *p = &ts->t[i - 1];
            bool sp = t->space_before;
            if (p->kind == T_OPEN || t->kind == T_CLOSE || t->kind == T_COMMA) sp = false;
            if (p->kind == T_COMMA && t->kind != T_CLOSE) sp = true;
            if (t->kind == T_OPEN && (p->kind == T_ATOM || p->kind == T_CLOSE) && !t->space_before)
                sp = false;
            if (sp) sb_putc(cx, out, ' ');
        }
        sb_putn(cx, out, t->text, t->len);
    }
}

static size_t width(ffq_ctx *cx, const Toks *ts, size_t lo, size_t hi) {
    StrBuf sb = {0};
    join(cx, ts, lo, hi, &sb);
    return sb.len;
}

// A trailing comma right before a closing bracket keeps that bracket exploded.
static bool has_magic_comma(const Toks *ts, size_t lo, size_t hi) {
    for (size_t i = lo + 1; i < hi; i++)
        if (ts->t[i].kind == T_CLOSE && ts->t[i - 1].kind == T_COMMA &&
            !(ts->t[i].text[0] == ')' && ts->t[i].match + 2 == i))  // (x,) is a tuple
            return true;
    return false;
}

static void line(ffq_ctx *cx, const Toks *ts, size_t lo, size_t hi, int indent, StrBuf *out,
                 const char *suffix);

static void put_line(ffq_ctx *cx, const Toks *ts, size_t lo, size_t hi, int indent, StrBuf *out,
                     const char *suffix) {
    if (out->len) sb_putc(cx, out, '\n');
    sb_indent(cx, out, indent);
    join(cx, ts, lo, hi, out);
    sb_puts(cx, out, suffix);
}

// Elements of a bracket body, one per line, each laid out recursively.
static void split_body(ffq_ctx *cx, const Toks *ts, size_t lo, size_t hi, int indent, StrBuf *out,
                       bool add_comma) {
    size_t start = lo;
    for (size_t i = lo; i <= hi; i++) {
        bool end = i == hi;
        if (!end && ts->t[i].kind == T_OPEN) {
            i = ts->t[i].match;
            continue;
        }
        if (!end && ts->t[i].kind != T_COMMA) continue;
        if (i > start) line(cx, ts, start, i, indent, out, end ? (add_comma ? "," : "") : ",");
        start = i + 1;
    }
}

// Top-level commas that separate elements. A comprehension body (`k: v for
// k, v in items`) has none: its commas belong to the `for` target.
static bool body_has_comma(const Toks *ts, size_t lo, size_t hi) {
    bool comma = false;
    for (size_t i = lo; i < hi; i++) {
        if (ts->t[i].kind == T_OPEN) i = ts->t[i].match;
        else if (ts->t[i].kind == T_COMMA) comma = true;
        else if (ts->t[i].kind == T_ATOM && mem_is(ts->t[i].text, ts->t[i].len, "for")) return false;
    }
    return comma;
}

// Head `...(`, body, tail `)...`: the body goes one indent deeper.
static void emit_split(ffq_ctx *cx, const Toks *ts, size_t lo, size_t open, size_t close, size_t hi,
                       int indent, StrBuf *out, const char *suffix) {
    put_line(cx, ts, lo, open + 1, indent, out, "");
    size_t blo = open + 1, bhi = close;
    bool magic = blo < bhi && ts->t[bhi - 1].kind == T_COMMA;
    if (magic) bhi--;
    bool subscript_one = ts->t[open].text[0] == '[' && !body_has_comma(ts, blo, bhi) && open > lo &&
                         (ts->t[open - 1].kind == T_ATOM || ts->t[open - 1].kind == T_CLOSE);
    if (!magic && !has_magic_comma(ts, blo, bhi) &&
        (size_t)indent + 4 + width(cx, ts, blo, bhi) <= FMT_LINE_WIDTH) {
        put_line(cx, ts, blo, bhi, indent + 4, out, "");
    } else if (body_has_comma(ts, blo, bhi) || magic) {
        split_body(cx, ts, blo, bhi, indent + 4, out, !subscript_one);
    } else {
        line(cx, ts, blo, bhi, indent + 4, out, "");
    }
    put_line(cx, ts, close, hi, indent, out, suffix);
}

// Index of the `=` (or `return`) after which a statement's value starts, or SIZE_MAX.
static size_t value_start(const Toks *ts, size_t lo, size_t hi) {
    if (hi - lo >= 2 && ts->t[lo].kind == T_ATOM && mem_is(ts->t[lo].text, ts->t[lo].len, "return"))
        return lo;
    for (size_t i = lo; i < hi; i++) {
        if (ts->t[i].kind == T_OPEN) i = ts->t[i].match;
        else if (ts->t[i].kind == T_OP && ts->t[i].len == 1 && ts->t[i].text[0] == '=') return i;
    }
    return SIZE_MAX;
}

static void line(ffq_ctx *cx, const Toks *ts, size_t lo, size_t hi, int indent, StrBuf *out,
                 const char *suffix) {
    if (!has_magic_comma(ts, lo, hi) &&
        (size_t)indent + width(cx, ts, lo, hi) + strlen(suffix) <= FMT_LINE_WIDTH) {
        put_line(cx, ts, lo, hi, indent, out, suffix);
        return;
    }
    // the last bracket pair with a non-empty body whose head fits
    for (size_t i = hi; i-- > lo;) {
        if (ts->t[i].kind != T_CLOSE) continue;
        size_t open = ts->t[i].match;
        if (open < lo) break;
        bool trailer_only = true;  // what follows must be trailers: .x, (...), [...]
        for (size_t k = i + 1; k < hi; k++)
            if (ts->t[k].kind == T_OP || ts->t[k].kind == T_COMMA) trailer_only = false;
        if (!trailer_only) break;
        if (open + 1 < i && (size_t)indent + width(cx, ts, lo, open + 1) <= FMT_LINE_WIDTH) {
            emit_split(cx, ts, lo, open, i, hi, indent, out, suffix);
            return;
        }
        if (open + 1 < i) break;
        i = open;  // an empty trailer such as `()`: look further left
    }
    // `x = value` / `return value` with no usable bracket: wrap the value
    size_t vs = value_start(ts, lo, hi);
    if (vs != SIZE_MAX && vs + 1 < hi) {
        put_line(cx, ts, lo, vs + 1, indent, out, " (");
        line(cx, ts, vs + 1, hi, indent + 4, out, "");
        if (out->len) sb_putc(cx, out, '\n');
        sb_indent(cx, out, indent);
        sb_putc(cx, out, ')');
        sb_puts(cx, out, suffix);
        return;
    }
    put_line(cx, ts, lo, hi, indent, out, suffix);  // nothing better: leave it long
}

static bool format_stmt_tokens(ffq_ctx *cx, const char *text, size_t len, int indent, StrBuf *out) {
    Toks ts = {0};
    tokenize(cx, text, len, &ts);
    if (ts.has_comment || ts.unbalanced || ts.n == 0) return false;
    StrBuf sb = {0};
    line(cx, &ts, 0, ts.n, indent, &sb, "");
    sb_putn(cx, out, sb.data ? sb.data : "", sb.len);
    return true;
}

// --- whole modules ---

static void collect_comments(ffq_ctx *cx, Fmt *f) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->c->count; i++) n += f->c->nodes[i].kind == K_COMMENT;
    f->cm = ARENA_ARRAY(cx, uint32_t, n + 1);
    f->cm_used = ARENA_ARRAY(cx, bool, n + 1);
    for (uint32_t i = 0; i < f->c->count; i++)
        if (f->c->nodes[i].kind == K_COMMENT) f->cm[f->ncm++] = i;
    // flattening is breadth-first: sort by position (insertion sort is fine for
    // nearly sorted input)
    for (uint32_t i = 1; i < f->ncm; i++) {
        uint32_t v = f->cm[i], k = i;
        while (k > 0 && f->c->nodes[f->cm[k - 1]].start > f->c->nodes[v].start) {
            f->cm[k] = f->cm[k - 1];
            k--;
        }
        f->cm[k] = v;
    }
}

static bool format_tree(ffq_ctx *cx, const Cst *c, StrBuf *out, bool dump) {
    if (!c || c->has_errors) return false;
    Doc d;
    doc_init(cx, &d);
    Fmt f = {.cx = cx, .c = c, .src = c->file->data, .d = &d, .level = LV_TOP};
    collect_comments(cx, &f);
    fmt_module_doc(&f);
    StrBuf sb = {0};
    if (dump) {
        doc_dump(&d, out);
        return true;
    }
    doc_print(&d, &sb);
    if (sb.len > 0) sb_putc(cx, &sb, '\n');
    sb_putn(cx, out, sb.data ? sb.data : "", sb.len);
    return true;
}

static bool format_or_dump(ffq_ctx *cx, const char *text, size_t len, StrBuf *out, bool dump) {
    return format_tree(cx, source_parse_text(cx, "<format>", text, len, false), out, dump);
}

bool format_module_tree(ffq_ctx *cx, const Cst *c, StrBuf *out) { return format_tree(cx, c, out, false); }

bool format_module(ffq_ctx *cx, const char *text, size_t len, StrBuf *out) {
    return format_or_dump(cx, text, len, out, false);
}

bool format_module_dump(ffq_ctx *cx, const char *text, size_t len, StrBuf *out) {
    return format_or_dump(cx, text, len, out, true);
}

// One statement at `indent`: formatted as the body of `indent / 4` nested
// `if 1:` blocks, so the line width left at that depth is what counts; the
// wrapper lines are then dropped. Falls back to the token-based layout
// above when the statement does not parse on its own.
static bool format_stmt_at(ffq_ctx *cx, const char *text, size_t len, int indent, StrBuf *out) {
    Toks ts = {0};
    tokenize(cx, text, len, &ts);
    if (ts.has_comment || ts.unbalanced || ts.n == 0) return false;
    if (indent % FMT_INDENT != 0 || indent > FMT_WRAP_DEPTH_MAX * FMT_INDENT)
        return format_stmt_tokens(cx, text, len, indent, out);
    int depth = indent / FMT_INDENT;
    StrBuf src = {0};
    for (int i = 0; i < depth; i++) {
        sb_indent(cx, &src, i * FMT_INDENT);
        sb_puts(cx, &src, "if 1:\n");
    }
    sb_indent(cx, &src, indent);
    size_t lead = 0;
    while (lead < len && (text[lead] == ' ' || text[lead] == '\t')) lead++;
    sb_putn(cx, &src, text + lead, len - lead);
    sb_putc(cx, &src, '\n');
    StrBuf res = {0};
    if (!format_module(cx, src.data, src.len, &res)) return format_stmt_tokens(cx, text, len, indent, out);
    // drop the wrapper lines and the final newline
    size_t pos = 0;
    for (int i = 0; i < depth; i++) {
        while (pos < res.len && res.data[pos] != '\n') pos++;
        pos++;
    }
    size_t end = res.len;
    if (end > pos && res.data[end - 1] == '\n') end--;
    if (pos >= end) return format_stmt_tokens(cx, text, len, indent, out);
    sb_putn(cx, out, res.data + pos, end - pos);
    return true;
}

// The parse, tokens and layout of a statement are scratch: emitting a file formats each
// rewritten statement, and keeping each one's scratch made memory grow by tens of KB a
// statement. A result that fits the stack buffer is copied out and the scratch released.
bool format_stmt(ffq_ctx *cx, const char *text, size_t len, int indent, StrBuf *out) {
    char kept[8192];
    source_prepare(cx);
    ArenaMark m = arena_mark(cx);
    StrBuf f = {0};
    bool ok = format_stmt_at(cx, text, len, indent, &f);
    if (f.len > sizeof kept) {  // rare: the scratch stays (out may grow after the mark)
        if (ok) sb_putn(cx, out, f.data, f.len);
        return ok;
    }
    size_t n = f.len;
    if (n) memcpy(kept, f.data, n);
    arena_release(cx, m);
    if (ok) sb_putn(cx, out, n ? kept : "", n);
    return ok;
}
