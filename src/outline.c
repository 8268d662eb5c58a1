// outline.c: the outline of an imported module, for a cheap first parse.
//
// Consumes: the text of a module file. Produces: a copy of it in which the
// first statement of every function body spanning several lines begins with
// `...`, and the gaps the parser skips (tree-sitter's included ranges are
// their complement): the rest of each such body. The parser then sees
// `def f(x):\n    ...` followed by what follows the body, so the tree has
// the module's bindings, classes, methods and functions at the offsets of
// the full tree (imports, assignments, class bodies, decorators, signatures
// and comments outside function bodies are read as they are), at a fraction
// of the cost: most of an imported module's bytes are function bodies, and
// resolving names and base classes reads none of them.
// program.c reads a function body only after replacing the outline's tree
// by the full one (program_cst).
//
// The scan follows Python's tokenizer only as far as it needs to: strings
// (prefixes, triple quotes, f-strings with nested fields), comments, bracket
// depth, backslash continuations and the indentation of logical lines. What
// it does not handle, it refuses (NULL: the caller parses the whole file):
// tabs, form feeds or carriage returns, NUL bytes, an unterminated string or
// bracket, and anything deep enough that the full tree might be refused as
// too deep (deep brackets, wide indentation, very long lines in a body, a
// line with very many operators: a chain of them nests as deep as it is long).
#include <string.h>

#include "ffq_int.h"

enum {
    OUTLINE_BRACKETS_MAX = 100,     // bracket depth
    OUTLINE_INDENT_MAX = 200,       // columns of indentation
    OUTLINE_LINE_TOKENS_MAX = 500,  // tokens of one logical line inside a body
    OUTLINE_LINE_OPS_MAX = 1000,    // operators of any logical line
    OUTLINE_STRING_MIN = 8          // shorter strings are kept as they are
};

typedef struct Scan {
    const char *d;
    uint32_t n, pos;
    bool bad;  // something the scan does not handle
} Scan;

static bool is_ident(unsigned char ch) {
    return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch >= 0x80;
}

// A string prefix ("r", "Rb", "f", "rf", "t", ...): *fmt when it formats.
static bool string_prefix(const char *s, uint32_t len, bool *fmt) {
    if (len == 0 || len > 2) return false;
    bool r = false, b = false, u = false, f = false;
    for (uint32_t i = 0; i < len; i++) {
        char ch = (char)(s[i] | 0x20);
        if (ch == 'r' && !r) r = true;
        else if (ch == 'b' && !b) b = true;
        else if (ch == 'u' && !u) u = true;
        else if ((ch == 'f' || ch == 't') && !f) f = true;
        else return false;
    }
    if (u && len > 1) return false;
    if (b && f) return false;
    *fmt = f;
    return true;
}

static void skip_string(Scan *s, bool fmt);

// Inside an f-string replacement field, after its '{': up to and past the
// matching '}'. Quotes there open nested strings; a ':' at depth 0 starts
// the format spec, which is text with nested fields.
static void skip_field(Scan *s, int level) {
    if (level > OUTLINE_BRACKETS_MAX) {
        s->bad = true;
        return;
    }
    int depth = 0;
    while (!s->bad && s->pos < s->n) {
        unsigned char ch = (unsigned char)s->d[s->pos];
        if (ch == '\'' || ch == '"') {
            skip_string(s, false);
            continue;
        }
        if (is_ident(ch)) {
            uint32_t st = s->pos;
            while (s->pos < s->n && is_ident((unsigned char)s->d[s->pos])) s->pos++;
            bool fmt;
            if (s->pos < s->n && (s->d[s->pos] == '\'' || s->d[s->pos] == '"') &&
                string_prefix(s->d + st, s->pos - st, &fmt))
                skip_string(s, fmt);
            continue;
        }
        s->pos++;
        if (ch == '(' || ch == '[' || ch == '{') depth++;
        else if ((ch == ')' || ch == ']') && depth > 0) depth--;
        else if (ch == '}' && depth > 0) depth--;
        else if (ch == '}') return;
        else if (ch == '!' && depth == 0 && s->pos < s->n && s->d[s->pos] != '=') {
            // conversion (!r): then ':' spec or '}'
        } else if (ch == ':' && depth == 0) {
            while (s->pos < s->n && !s->bad) {  // the format spec
                char c2 = s->d[s->pos++];
                if (c2 == '{') skip_field(s, level + 1);
                else if (c2 == '}') return;
                else if (c2 == '\n' || c2 == '\\') s->bad = true;  // keep to the simple cases
            }
            s->bad = true;
            return;
        } else if (ch == '#' || ch == '\\') {
            s->bad = true;
        }
    }
    s->bad = true;
}

// At a quote (after any prefix): past the end of the string.
static void skip_string(Scan *s, bool fmt) {
    char q = s->d[s->pos];
    bool triple = s->pos + 2 < s->n && s->d[s->pos + 1] == q && s->d[s->pos + 2] == q;
    s->pos += triple ? 3 : 1;
    while (s->pos < s->n && !s->bad) {
        char ch = s->d[s->pos];
        if (ch == '\\') {
            s->pos += 2;
            continue;
        }
        if (ch == '\n' && !triple) break;
        if (fmt && ch == '{') {
            if (s->pos + 1 < s->n && s->d[s->pos + 1] == '{') {
                s->pos += 2;
                continue;
            }
            s->pos++;
            skip_field(s, 0);
            continue;
        }
        if (fmt && ch == '}') {
            if (s->pos + 1 < s->n && s->d[s->pos + 1] == '}') s->pos += 2;
            else s->pos++;
            continue;
        }
        if (ch == q) {
            if (!triple) {
                s->pos++;
                return;
            }
            if (s->pos + 2 < s->n && s->d[s->pos + 1] == q && s->d[s->pos + 2] == q) {
                s->pos += 3;
                return;
            }
        }
        s->pos++;
    }
    s->bad = true;  // unterminated
}

typedef struct Logical {
    uint32_t start;   // first token
    uint32_t end;     // end of the last token
    uint32_t indent;  // columns
    bool is_def;      // `def` / `async def` header whose body starts on a later line
    uint32_t tokens;
    PtrVec gaps;  // what may be left out of the line when it is not in a body
} Logical;

// First words of the statements that are not assignments or expressions
// (and the soft keywords, to stay on the safe side).
static bool is_keyword(const char *w, uint32_t len) {
    static const char *const kw[] = {"import", "from",   "class",   "def",      "async",  "if",      "elif",
                                     "else",   "while",  "for",     "try",      "except", "finally", "with",
                                     "del",    "assert", "global",  "nonlocal", "raise",  "return",  "lambda",
                                     "yield",  "await",  "print",   "exec",     "match",  "case",    "type",
                                     "pass",   "break",  "continue"};
    for (size_t i = 0; i < sizeof kw / sizeof *kw; i++)
        if (strlen(kw[i]) == len && memcmp(kw[i], w, len) == 0) return true;
    return false;
}

static bool is_operator_word(const char *w, uint32_t len) {
    static const char *const ops[] = {"and", "or", "not", "if", "else", "lambda", "await", "in", "is"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (strlen(ops[i]) == len && memcmp(ops[i], w, len) == 0) return true;
    return false;
}

static void add_gap(ffq_ctx *cx, PtrVec *gaps, uint32_t from, uint32_t to) {
    if (to <= from) return;
    vec_push(cx, gaps, (void *)(uintptr_t)from);
    vec_push(cx, gaps, (void *)(uintptr_t)to);
}

enum { TOK_NAME = 1, TOK_STRING, TOK_CLOSE, TOK_OTHER };

// Where a string's text is: after its prefix and opening quotes, before its
// closing quotes (the string token spans [tok, end)).
static void string_gap(ffq_ctx *cx, Logical *l, const char *d, uint32_t tok, uint32_t end) {
    uint32_t q = tok;
    while (d[q] != '\'' && d[q] != '"') q++;
    uint32_t nq = end - q >= 6 && d[q + 1] == d[q] && d[q + 2] == d[q] ? 3 : 1;
    if (end - q >= 2 * nq + OUTLINE_STRING_MIN) add_gap(cx, &l->gaps, q + nq, end - nq);
}

// The next logical line from s->pos (blank and comment-only lines skipped);
// false at the end of the text. The gaps it records, in order, are what a
// line outside a function body may lose: a def's parameters and return
// annotation; in an assignment or expression statement (its first token a
// name that is no keyword) the inside of each outermost bracket that is not
// a subscript (`f(...)`, `[...]`, `{...}`, `(...)` become empty ones) and of
// each outermost string; in a statement that starts with a string (a
// docstring), the inside of its strings.
static bool next_logical(ffq_ctx *cx, Scan *s, Logical *l) {
    const char *d = s->d;
    for (;;) {
        if (s->pos >= s->n) return false;
        uint32_t col = 0;
        while (s->pos < s->n && d[s->pos] == ' ') s->pos++, col++;
        if (s->pos >= s->n) return false;
        char ch = d[s->pos];
        if (ch == '\n') {
            s->pos++;
            continue;
        }
        if (ch == '#') {
            while (s->pos < s->n && d[s->pos] != '\n') s->pos++;
            continue;
        }
        if (ch == '\t' || ch == '\f' || ch == '\\' || col > OUTLINE_INDENT_MAX) {
            s->bad = true;
            return false;
        }
        l->indent = col;
        break;
    }
    l->start = s->pos;
    l->end = s->pos;
    l->tokens = 0;
    l->is_def = false;
    l->gaps.len = 0;
    int depth = 0, prev = 0;
    uint32_t ntok = 0, open = 0, params_close = 0, ops = 0;
    bool first_def = false, first_async = false, colon_last = false, thin = false, in_params = false;
    while (s->pos < s->n && !s->bad) {
        unsigned char ch = (unsigned char)d[s->pos];
        if (ch == ' ') {
            s->pos++;
            continue;
        }
        if (ch == '#') {
            while (s->pos < s->n && d[s->pos] != '\n') s->pos++;
            continue;
        }
        if (ch == '\\') {
            if (s->pos + 1 < s->n && d[s->pos + 1] == '\n') s->pos += 2;
            else s->bad = true;
            continue;
        }
        if (ch == '\n') {
            s->pos++;
            if (depth == 0) break;
            continue;
        }
        uint32_t tok = s->pos;
        int kind = TOK_OTHER;
        if (ch == '\'' || ch == '"') {
            skip_string(s, false);
            kind = TOK_STRING;
        } else if (is_ident(ch)) {
            while (s->pos < s->n && is_ident((unsigned char)d[s->pos])) s->pos++;
            bool fmt;
            uint32_t len = s->pos - tok;
            kind = TOK_NAME;
            if (s->pos < s->n && (d[s->pos] == '\'' || d[s->pos] == '"') &&
                string_prefix(d + tok, len, &fmt)) {
                skip_string(s, fmt);
                kind = TOK_STRING;
            } else if (ntok == 0 || (ntok == 1 && first_async)) {
                if (len == 3 && memcmp(d + tok, "def", 3) == 0) first_def = true;
                if (ntok == 0 && len == 5 && memcmp(d + tok, "async", 5) == 0) first_async = true;
                if (ntok == 0) thin = !is_keyword(d + tok, len);
            }
            if (kind == TOK_NAME && is_operator_word(d + tok, len)) ops++;
        } else {
            s->pos++;
            if (!strchr(",:;=)]}", ch)) ops++;
            if (ch == '(' || ch == '[' || ch == '{') {
                if (depth == 0 && first_def && ch == '(' && !params_close) in_params = true, open = tok;
                if (depth == 0 && thin &&
                    !(ch == '[' && (prev == TOK_NAME || prev == TOK_STRING || prev == TOK_CLOSE)))
                    open = tok + 1;  // not a subscript
                else if (depth == 0 && !in_params) open = 0;
                if (++depth > OUTLINE_BRACKETS_MAX) s->bad = true;
            } else if (ch == ')' || ch == ']' || ch == '}') {
                if (--depth < 0) s->bad = true;
                if (depth == 0 && in_params) {
                    add_gap(cx, &l->gaps, open + 1, tok);
                    in_params = false, params_close = tok;
                } else if (depth == 0 && open) {
                    add_gap(cx, &l->gaps, open, tok);
                }
                kind = TOK_CLOSE;
            } else if (ch == '\r' || ch == '\t' || ch == '\f' || ch == '\0' || ch == '\v') {
                s->bad = true;
            }
        }
        if (kind == TOK_STRING && depth == 0 && (thin || ntok == 0)) {
            if (ntok == 0) thin = true;  // a docstring: its other strings too
            string_gap(cx, l, d, tok, s->pos);
        }
        colon_last = depth == 0 && ch == ':' && s->pos == tok + 1;
        l->end = s->pos;
        prev = kind;
        ntok++;
    }
    if (depth != 0 || ops > OUTLINE_LINE_OPS_MAX) s->bad = true;
    l->tokens = ntok;
    l->is_def = first_def && colon_last && params_close;
    if (l->is_def) add_gap(cx, &l->gaps, params_close + 1, l->end - 1);  // `-> T`
    return !s->bad;
}

static const char *compact(ffq_ctx *cx, const char *text, uint32_t len, const PtrVec *gaps,
                           uint32_t *outlen) {
    StrBuf sb = {0};
    uint32_t from = 0;
    for (size_t i = 0; i < gaps->len; i += 2) {
        uint32_t to = (uint32_t)(uintptr_t)gaps->items[i];
        sb_putn(cx, &sb, text + from, to - from);
        from = (uint32_t)(uintptr_t)gaps->items[i + 1];
    }
    sb_putn(cx, &sb, text + from, len - from);
    *outlen = (uint32_t)sb.len;
    return sb_cstr(cx, &sb);
}

static void take_gaps(ffq_ctx *cx, PtrVec *gaps, const Logical *l) {
    for (size_t i = 0; i < l->gaps.len; i++) vec_push(cx, gaps, l->gaps.items[i]);
}

const char *outline_text(ffq_ctx *cx, const char *data, uint32_t len, PtrVec *gaps, uint32_t *outlen) {
    if (memchr(data, '\r', len) || memchr(data, '\t', len) || memchr(data, '\f', len) ||
        memchr(data, '\0', len))
        return NULL;
    char *out = arena_strndup(cx, data, len);
    Scan s = {.d = data, .n = len};
    Logical l = {0}, b = {0};
    bool have = next_logical(cx, &s, &l);
    while (have) {
        take_gaps(cx, gaps, &l);
        if (!l.is_def) {
            have = next_logical(cx, &s, &l);
            continue;
        }
        uint32_t indent = l.indent, body_start = 0, body_end = 0;
        while ((have = next_logical(cx, &s, &b)) && b.indent > indent) {
            if (!body_end) body_start = b.start;
            if (b.tokens > OUTLINE_LINE_TOKENS_MAX) s.bad = true;
            body_end = b.end;
        }
        if (s.bad) return NULL;
        if (body_end > body_start + 3) {  // a shorter body (`x`) is left as it is
            memcpy(out + body_start, "...", 3);
            add_gap(cx, gaps, body_start + 3, body_end);
        }
        if (have) {  // b becomes l (swapping keeps each one's gap vector)
            Logical t = l;
            l = b, b = t;
        }
    }
    return s.bad ? NULL : compact(cx, out, len, gaps, outlen);
}
