// format/text.c: normalised spelling of literals and comments.
//
// Consumes: the source text of one number, string, docstring or comment.
// Produces: its canonical form as `ruff format` writes it: lower-case
// prefixes and exponents with upper-case hex digits; double quotes unless
// that needs more escapes; docstrings re-indented with trailing whitespace
// removed; comments with a space after `#`.
#include <string.h>

#include "internal.h"

// 0XABCDEFL -> 0xABCDEF, 1E5 -> 1e5, 10J -> 10j
void fmt_number(ffq_ctx *cx, const char *s, size_t n, StrBuf *out) {
    bool hex = n > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!hex && c == '+' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E')) continue;  // 1e+5 -> 1e5
        if (hex && i >= 2) {
            if (c >= 'a' && c <= 'f') c = (char)(c - 'a' + 'A');
        } else if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        sb_putc(cx, out, c);
    }
}

typedef struct StrParts {
    bool raw, fstr, bytes, tstr;
    char raw_char;  // 'r' or 'R'
    char quote;     // ' or "
    bool triple;
    const char *body;
    size_t nbody;
} StrParts;

static bool split_string(const char *s, size_t n, StrParts *p) {
    memset(p, 0, sizeof *p);
    size_t i = 0;
    while (i < n && s[i] != '\'' && s[i] != '"') {
        char c = s[i];
        if (c == 'r' || c == 'R') p->raw = true, p->raw_char = c;
        else if (c == 'f' || c == 'F') p->fstr = true;
        else if (c == 'b' || c == 'B') p->bytes = true;
        else if (c == 't' || c == 'T') p->tstr = true;
        else if (c != 'u' && c != 'U') return false;
        i++;
    }
    if (i >= n) return false;
    p->quote = s[i];
    size_t qlen = 1;
    if (i + 5 < n + 0 && s[i + 1] == p->quote && s[i + 2] == p->quote) p->triple = true, qlen = 3;
    if (n < i + 2 * qlen) return false;
    p->body = s + i + qlen;
    p->nbody = n - i - 2 * qlen;
    return true;
}

static void put_prefix(ffq_ctx *cx, const StrParts *p, StrBuf *out) {
    if (p->raw) sb_putc(cx, out, p->raw_char);
    if (p->bytes) sb_putc(cx, out, 'b');
    if (p->fstr) sb_putc(cx, out, 'f');
    if (p->tstr) sb_putc(cx, out, 't');
}

// Does an f-string's body hold quotes or backslashes inside replacement fields?
static bool fstring_fields_tricky(const char *b, size_t n) {
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (depth == 0 && (c == '{' || c == '}') && i + 1 < n && b[i + 1] == c) {
            i++;
            continue;
        }
        if (c == '{') depth++;
        else if (c == '}' && depth > 0) depth--;
        else if (depth > 0 && (c == '\'' || c == '"' || c == '\\' || c == '#')) return true;
    }
    return false;
}

// Chooses the quote for a single-quoted (non-triple) string and re-escapes its body.
// The body re-escaped for quote q: escapes of the other quote dropped, bare q escaped.
static void put_requoted_body(ffq_ctx *cx, const StrParts *p, char q, StrBuf *out) {
    char other = q == '"' ? '\'' : '"';
    for (size_t i = 0; i < p->nbody; i++) {
        char c = p->body[i];
        if (c == '\\' && i + 1 < p->nbody) {
            char d = p->body[i + 1];
            if (d == other) sb_putc(cx, out, d);
            else sb_putc(cx, out, c), sb_putc(cx, out, d);
            i++;
            continue;
        }
        if (c == q) sb_putc(cx, out, '\\');
        sb_putc(cx, out, c);
    }
}

static void put_single(ffq_ctx *cx, const StrParts *p, StrBuf *out) {
    size_t singles = 0, doubles = 0;
    for (size_t i = 0; i < p->nbody; i++) {
        char c = p->body[i];
        if (c == '\\' && i + 1 < p->nbody) {
            c = p->body[++i];
            if (p->raw) continue;
        }
        if (c == '\'') singles++;
        else if (c == '"') doubles++;
    }
    char q = doubles > singles ? '\'' : '"';
    bool keep = false;
    if (p->fstr && fstring_fields_tricky(p->body, p->nbody)) keep = q != p->quote;
    if (p->raw && q != p->quote)  // a raw string can't escape the new quote: only unescaped ones matter
        for (size_t i = 0; i < p->nbody; i++) {
            if (p->body[i] == '\\') i++;
            else if (p->body[i] == q) keep = true;
        }
    if (keep) q = p->quote;
    put_prefix(cx, p, out);
    sb_putc(cx, out, q);
    if (p->raw || (keep && q == p->quote && p->fstr)) {
        sb_putn(cx, out, p->body, p->nbody);
    } else {
        put_requoted_body(cx, p, q, out);
    }
    sb_putc(cx, out, q);
}

void fmt_string(ffq_ctx *cx, const char *s, size_t n, StrBuf *out) {
    StrParts p;
    if (!split_string(s, n, &p)) {
        sb_putn(cx, out, s, n);
        return;
    }
    if (!p.triple) {
        put_single(cx, &p, out);
        return;
    }
    // Triple-quoted: prefer """ unless the body holds """ or ends with a bare ".
    bool keep = p.quote == '\'';
    if (keep) {
        bool bad = p.nbody > 0 && p.body[p.nbody - 1] == '"';
        for (size_t i = 0; i + 2 < p.nbody && !bad; i++)
            if (p.body[i] == '"' && p.body[i + 1] == '"' && p.body[i + 2] == '"') bad = true;
        keep = bad;
    } else {
        keep = true;
    }
    put_prefix(cx, &p, out);
    const char *q = keep && p.quote == '\'' ? "'''" : "\"\"\"";
    sb_puts(cx, out, q);
    sb_putn(cx, out, p.body, p.nbody);
    sb_puts(cx, out, q);
}

// --- docstrings ---

static size_t indent_width(const char *s, size_t n, size_t *bytes) {
    size_t w = 0, i = 0;
    for (; i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f'); i++)
        w = s[i] == '\t' ? (w / 8 + 1) * 8 : w + 1;
    if (bytes) *bytes = i;
    return w;
}

static bool is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\f' && s[i] != '\r') return false;
    return true;
}

static size_t rstrip(const char *s, size_t n) {
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\f')) n--;
    return n;
}

// The lines of s[0..n), without their newlines: starts in *lines, lengths in
// *lens; returns how many.
static size_t split_lines(ffq_ctx *cx, const char *s, size_t n, const char ***lines, size_t **lens) {
    size_t count = 1;
    for (size_t i = 0; i < n; i++) count += s[i] == '\n';
    const char **ls = ARENA_ARRAY(cx, const char *, count);
    size_t *ln = ARENA_ARRAY(cx, size_t, count);
    size_t k = 0, st = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '\n') {
            ls[k] = s + st;
            ln[k] = i - st;
            k++;
            st = i + 1;
        }
    }
    *lines = ls;
    *lens = ln;
    return count;
}

// Re-indents a docstring for a body at `indent` spaces.
// The docstring's lines re-indented into body: the first stripped, later ones
// relative to the least indented, trailing blank lines dropped.
static void docstring_body(ffq_ctx *cx, const char **ls, const size_t *ln, size_t nlines, int indent,
                           StrBuf *body) {
    // Common indentation of the lines after the first (blank lines ignored).
    size_t common = SIZE_MAX;
    for (size_t i = 1; i < nlines; i++) {
        if (is_blank(ls[i], ln[i])) continue;
        size_t w = indent_width(ls[i], ln[i], NULL);
        if (w < common) common = w;
    }
    // first line: leading and trailing whitespace stripped
    size_t lead = 0;
    while (lead < ln[0] && (ls[0][lead] == ' ' || ls[0][lead] == '\t')) lead++;
    sb_putn(cx, body, ls[0] + lead, rstrip(ls[0] + lead, ln[0] - lead));
    bool rest_blank = true;
    for (size_t i = 1; i < nlines; i++)
        if (!is_blank(ls[i], ln[i])) rest_blank = false;
    // later lines: re-indented relative to the least indented one; a last
    // line holding only whitespace puts the closing quotes on their own line
    for (size_t i = 1; i < nlines && !rest_blank; i++) {
        sb_putc(cx, body, '\n');
        size_t len = rstrip(ls[i], ln[i]);
        if (i == nlines - 1 && is_blank(ls[i], ln[i])) {
            sb_indent(cx, body, indent);
            break;
        }
        if (len == 0 || is_blank(ls[i], len)) continue;
        size_t bytes;
        size_t w = indent_width(ls[i], len, &bytes);
        sb_indent(cx, body, indent + (int)(w - common));
        sb_putn(cx, body, ls[i] + bytes, len - bytes);
    }
}

// The body between the quotes, with a space where it would touch them.
static void put_docstring_body(ffq_ctx *cx, const StrBuf *body, size_t nb, char q, StrBuf *out) {
    size_t blen = body->len;
    if (blen == 0) {
        if (nb > 0) sb_putc(cx, out, ' ');
        return;
    }
    if (body->data[0] == q) sb_putc(cx, out, ' ');
    sb_putn(cx, out, body->data, blen);
    // a body ending in the quote character or an odd run of backslashes needs a space
    size_t bs = 0;
    while (bs < blen && body->data[blen - 1 - bs] == '\\') bs++;
    size_t esc = 0;  // backslashes before a final quote escape it
    while (esc + 1 < blen && body->data[blen - 2 - esc] == '\\') esc++;
    if (body->data[blen - 1] == q && esc % 2 == 0) sb_putc(cx, out, ' ');
    else if (bs % 2 == 1) sb_putc(cx, out, ' ');
}

// A docstring in single quotes (' or "): on one line, its surrounding
// whitespace is stripped (a space stays after an odd run of backslashes, which
// would otherwise escape the closing quote) and the quotes are chosen as for
// any string; continued over lines with a backslash, it is kept as written
// (re-indenting its lines would change its value), quotes aside.
static void fmt_one_quote_docstring(ffq_ctx *cx, const char *s, size_t n, const StrParts *p, StrBuf *out) {
    if (memchr(p->body, '\n', p->nbody)) {
        fmt_string(cx, s, n, out);
        return;
    }
    size_t lead = 0, len = p->nbody;
    while (lead < len && (p->body[lead] == ' ' || p->body[lead] == '\t')) lead++;
    len = lead + rstrip(p->body + lead, len - lead);
    size_t bs = 0;
    while (bs < len - lead && p->body[len - 1 - bs] == '\\') bs++;
    if (bs % 2 == 1) len++;  // the body held whitespace after it: rstrip removed at least one byte
    StrBuf lit = {0};
    sb_putn(cx, &lit, s, (size_t)(p->body - s));  // prefix and quote
    sb_putn(cx, &lit, p->body + lead, len - lead);
    sb_putc(cx, &lit, p->quote);
    fmt_string(cx, lit.data, lit.len, out);
}

void fmt_docstring(ffq_ctx *cx, const char *s, size_t n, int indent, StrBuf *out) {
    StrParts p;
    if (!split_string(s, n, &p) || p.bytes || p.fstr) {
        fmt_string(cx, s, n, out);
        return;
    }
    if (!p.triple) {
        fmt_one_quote_docstring(cx, s, n, &p, out);
        return;
    }
    size_t nb = p.nbody;
    const char **ls;
    size_t *ln;
    size_t nlines = split_lines(cx, p.body, nb, &ls, &ln);
    StrBuf body = {0};
    docstring_body(cx, ls, ln, nlines, indent, &body);
    size_t blen = body.len;
    char q = p.quote;
    bool has_dq3 = false;
    for (size_t i = 0; i + 2 < blen; i++)
        if (body.data[i] == '"' && body.data[i + 1] == '"' && body.data[i + 2] == '"') has_dq3 = true;
    if (q == '\'' && !has_dq3) q = '"';
    put_prefix(cx, &p, out);
    const char *qq = q == '"' ? "\"\"\"" : "\'\'\'";
    sb_puts(cx, out, qq);
    put_docstring_body(cx, &body, nb, q, out);
    sb_puts(cx, out, qq);
}

// --- comments ---

bool fmt_is_pragma_comment(const char *s, size_t n) {
    size_t i = 1;
    while (i < n && s[i] == ' ') i++;
    static const char *const pragmas[] = {"type:", "noqa", "pyright:", "pylint:", "nosec", "isort:"};
    for (size_t k = 0; k < sizeof pragmas / sizeof pragmas[0]; k++) {
        size_t m = strlen(pragmas[k]);
        if (n - i >= m && memcmp(s + i, pragmas[k], m) == 0) return true;
    }
    return false;
}

void fmt_comment(ffq_ctx *cx, const char *s, size_t n, StrBuf *out) {
    n = rstrip(s, n);
    sb_putc(cx, out, '#');
    if (n > 1 && s[1] != ' ' && s[1] != '#' && s[1] != '!' && s[1] != ':') sb_putc(cx, out, ' ');
    sb_putn(cx, out, s + 1, n - 1);
}

// --- implicit concatenation ---

// Merges "a" "b" into "ab" when every part is a single-quoted (not triple)
// string of the same kind, none raw, f-strings without quotes or escapes in
// their fields. Returns false (appending nothing) otherwise.
bool fmt_join_strings(ffq_ctx *cx, const char *src, const CstNode *nodes, const uint32_t *parts, uint32_t n,
                      StrBuf *out) {
    StrBuf body = {0};
    StrParts first;
    bool any_f = false;
    for (uint32_t k = 0; k < n; k++) {
        const CstNode *fn = &nodes[parts[k]];
        StrParts fp;
        if (split_string(src + fn->start, fn->end - fn->start, &fp) && fp.fstr) any_f = true;
    }
    for (uint32_t k = 0; k < n; k++) {
        const CstNode *nd = &nodes[parts[k]];
        StrParts p;
        if (!split_string(src + nd->start, nd->end - nd->start, &p)) return false;
        if (p.triple || p.raw || p.tstr) return false;
        if (k == 0) first = p;
        else if (p.bytes != first.bytes) return false;
        if (p.fstr) any_f = true;
        if (p.fstr && fstring_fields_tricky(p.body, p.nbody)) return false;
        for (size_t i = 0; i < p.nbody; i++) {
            char c = p.body[i];
            if (c == '\n') return false;
            if (c == '\\' && i + 1 < p.nbody) {
                char d = p.body[++i];
                if (d == '\n') return false;
                if (d != '\'' && d != '"') sb_putc(cx, &body, '\\');
                sb_putc(cx, &body, d);
                continue;
            }
            if (any_f && !p.fstr && (c == '{' || c == '}'))
                sb_putc(cx, &body, c);  // literal brace in an f-string
            sb_putc(cx, &body, c);
        }
    }
    if (n == 0) return false;
    size_t singles = 0, doubles = 0;
    for (size_t i = 0; i < body.len; i++) {
        char c = body.data[i];
        if (c == '\\') {
            i++;
            continue;
        }
        singles += c == '\'';
        doubles += c == '"';
    }
    char q = doubles > singles ? '\'' : '"';
    StrParts pre = first;
    pre.raw = false;
    pre.fstr = any_f;
    put_prefix(cx, &pre, out);
    sb_putc(cx, out, q);
    for (size_t i = 0; i < body.len; i++) {
        char c = body.data[i];
        if (c == '\\' && i + 1 < body.len) {
            sb_putc(cx, out, c);
            sb_putc(cx, out, body.data[++i]);
            continue;
        }
        if (c == q) sb_putc(cx, out, '\\');
        sb_putc(cx, out, c);
    }
    sb_putc(cx, out, q);
    return true;
}

// Quote for an f-string whose literal parts are `lit` (escapes as in the source).
char fmt_pick_quote(const char *lit, size_t n) {
    size_t singles = 0, doubles = 0;
    for (size_t i = 0; i < n; i++) {
        char c = lit[i];
        if (c == '\\' && i + 1 < n) c = lit[++i];
        singles += c == '\'';
        doubles += c == '"';
    }
    return doubles > singles ? '\'' : '"';
}

// Appends literal text re-escaped for quote q.
void fmt_requote(ffq_ctx *cx, const char *lit, size_t n, char q, StrBuf *out) {
    char other = q == '"' ? '\'' : '"';
    for (size_t i = 0; i < n; i++) {
        char c = lit[i];
        if (c == '\\' && i + 1 < n) {
            char d = lit[i + 1];
            if (d != other) sb_putc(cx, out, c);
            sb_putc(cx, out, d);
            i++;
            continue;
        }
        if (c == q) sb_putc(cx, out, '\\');
        sb_putc(cx, out, c);
    }
}
