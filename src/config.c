// config.c: [tool.ffq] from pyproject.toml (see config.h).
//
// Consumes the bytes of one pyproject.toml; produces an FfqConfig. The reader
// is a small recursive-descent parser for the TOML that pyproject.toml files
// use. Values outside [tool.ffq] are parsed (so a stray `[` in a string or a
// multi-line array cannot be mistaken for a table header) and dropped.
// Afterwards every path in the FfqConfig is either absolute or relative to
// the current directory: relative paths in the file are relative to the
// file's own directory, as in every other tool configured by pyproject.toml.
#define _DEFAULT_SOURCE  // realpath
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"
#include "ffq.h"

enum { MAX_DEPTH = 64, MAX_KEY_PARTS = 32 };

typedef enum ValueKind { VAL_STRING, VAL_BOOL, VAL_ARRAY, VAL_TABLE, VAL_OTHER } ValueKind;

typedef struct Value Value;
struct Value {
    ValueKind kind;
    int line, col;  // where the value starts
    char *str;      // VAL_STRING: the decoded text
    bool b;         // VAL_BOOL
    Value *items;   // VAL_ARRAY: elements; VAL_TABLE: member values
    char **keys;    // VAL_TABLE: member keys (single segment; dotted keys are kept dotted)
    int *key_line, *key_col;
    size_t n;
};

typedef struct Parser {
    const char *path, *s;
    size_t len, pos;
    int line;
    size_t line_start;
    char *err;
    size_t errsize;
    bool failed;
    FfqConfig *cfg;
    char *base_dir;              // directory of the file, "" for the current one
    char *table[MAX_KEY_PARTS];  // the current [table] header
    size_t ntable;
    unsigned seen;  // [tool.ffq] keys already set (bit per known key)
} Parser;

// --- errors and small helpers ---

static int col_of(const Parser *p, size_t pos) { return (int)(pos - p->line_start) + 1; }

static bool fail_at(Parser *p, int line, int col, const char *fmt, ...) {
    if (p->failed) return false;
    p->failed = true;
    int n = snprintf(p->err, p->errsize, "%s:%d:%d: error: ", p->path, line, col);
    if (n >= 0 && (size_t)n < p->errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errsize - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

#define FAIL(p, ...) fail_at((p), (p)->line, col_of((p), (p)->pos), __VA_ARGS__)

static int peek(const Parser *p, size_t ahead) {
    return p->pos + ahead < p->len ? (unsigned char)p->s[p->pos + ahead] : -1;
}

static bool starts(const Parser *p, const char *lit) {
    size_t n = strlen(lit);
    return p->pos + n <= p->len && memcmp(p->s + p->pos, lit, n) == 0;
}

static void newline(Parser *p) {  // at '\n'
    p->pos++;
    p->line++;
    p->line_start = p->pos;
}

static void skip_ws(Parser *p) {
    while (peek(p, 0) == ' ' || peek(p, 0) == '\t') p->pos++;
}

static void skip_comment(Parser *p) {
    if (peek(p, 0) != '#') return;
    while (p->pos < p->len && p->s[p->pos] != '\n') p->pos++;
}

// Whitespace, comments and newlines (inside arrays).
static void skip_ws_nl(Parser *p) {
    for (;;) {
        skip_ws(p);
        skip_comment(p);
        if (peek(p, 0) == '\n') newline(p);
        else if (peek(p, 0) == '\r' && peek(p, 1) == '\n') p->pos++;
        else return;
    }
}

// After a key/value pair or a header: only a comment may follow on the line.
static bool end_of_line(Parser *p) {
    skip_ws(p);
    skip_comment(p);
    if (peek(p, 0) == '\r' && peek(p, 1) == '\n') p->pos++;
    if (p->pos >= p->len) return true;
    if (peek(p, 0) == '\n') {
        newline(p);
        return true;
    }
    return FAIL(p, "expected the end of the line, found '%c'", p->s[p->pos]);
}

typedef struct Buf {
    char *data;
    size_t len, cap;
    bool oom;
} Buf;

static void buf_add(Buf *b, const char *data, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->oom = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_utf8(Buf *b, uint32_t c) {
    char out[4];
    size_t n;
    if (c < 0x80) out[0] = (char)c, n = 1;
    else if (c < 0x800) out[0] = (char)(0xC0 | (c >> 6)), out[1] = (char)(0x80 | (c & 0x3F)), n = 2;
    else if (c < 0x10000)
        out[0] = (char)(0xE0 | (c >> 12)), out[1] = (char)(0x80 | ((c >> 6) & 0x3F)),
        out[2] = (char)(0x80 | (c & 0x3F)), n = 3;
    else
        out[0] = (char)(0xF0 | (c >> 18)), out[1] = (char)(0x80 | ((c >> 12) & 0x3F)),
        out[2] = (char)(0x80 | ((c >> 6) & 0x3F)), out[3] = (char)(0x80 | (c & 0x3F)), n = 4;
    buf_add(b, out, n);
}

static char *buf_take(Parser *p, Buf *b) {
    if (b->oom) {
        free(b->data);
        FAIL(p, "out of memory");
        return NULL;
    }
    if (!b->data) buf_add(b, "", 0);
    if (b->oom) return buf_take(p, b);
    return b->data;
}

// --- strings ---

static bool escape(Parser *p, Buf *b) {  // at the character after '\'
    int c = peek(p, 0);
    const char *simple = NULL;
    switch (c) {
    case 'b': simple = "\b"; break;
    case 't': simple = "\t"; break;
    case 'n': simple = "\n"; break;
    case 'f': simple = "\f"; break;
    case 'r': simple = "\r"; break;
    case 'e': simple = "\033"; break;
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    default: break;
    }
    if (simple) {
        buf_add(b, simple, 1);
        p->pos++;
        return true;
    }
    int digits = c == 'u' ? 4 : c == 'U' ? 8 : c == 'x' ? 2 : 0;
    if (!digits) return FAIL(p, "unknown escape sequence '\\%c' in a string", c < 0 ? ' ' : c);
    p->pos++;
    uint32_t code = 0;
    for (int i = 0; i < digits; i++) {
        int h = peek(p, 0);
        int v = h >= '0' && h <= '9'   ? h - '0'
                : h >= 'a' && h <= 'f' ? h - 'a' + 10
                : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                       : -1;
        if (v < 0) return FAIL(p, "expected %d hexadecimal digits after '\\%c'", digits, c);
        code = code * 16 + (uint32_t)v;
        p->pos++;
    }
    if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return FAIL(p, "'\\%c' names no Unicode scalar value", c);
    buf_utf8(b, code);
    return true;
}

// "...", '...', """...""", '''...'''. At the opening quote; returns the text.
static char *parse_string(Parser *p) {
    int line = p->line, col = col_of(p, p->pos);
    char q = p->s[p->pos];
    bool multi = (q == '"' && starts(p, "\"\"\"")) || (q == '\'' && starts(p, "'''"));
    bool literal = q == '\'';
    p->pos += multi ? 3 : 1;
    Buf b = {0};
    if (multi && peek(p, 0) == '\n') newline(p);  // a newline right after the quotes is dropped
    else if (multi && peek(p, 0) == '\r' && peek(p, 1) == '\n') p->pos++, newline(p);
    for (;;) {
        int c = peek(p, 0);
        if (c < 0) {
            free(b.data);
            fail_at(p, line, col, "unterminated string");
            return NULL;
        }
        if (c == q && (!multi || (peek(p, 1) == q && peek(p, 2) == q))) {
            if (multi) {  // up to two more quotes may belong to the string: """a"""""
                size_t extra = 0;
                while (extra < 2 && peek(p, 3 + extra) == q) extra++;
                buf_add(&b, p->s + p->pos, extra);
                p->pos += 3 + extra;
            } else {
                p->pos++;
            }
            return buf_take(p, &b);
        }
        if (c == '\n') {
            if (!multi) {
                free(b.data);
                FAIL(p, "a string in \"...\" or '...' must end on its line");
                return NULL;
            }
            buf_add(&b, "\n", 1);
            newline(p);
            continue;
        }
        if (c == '\\' && !literal) {
            p->pos++;
            if (multi) {  // a backslash at the end of a line joins it to the next
                size_t save = p->pos;
                skip_ws(p);
                if (peek(p, 0) == '\r' && peek(p, 1) == '\n') p->pos++;
                if (peek(p, 0) == '\n') {
                    while (peek(p, 0) == ' ' || peek(p, 0) == '\t' || peek(p, 0) == '\n' ||
                           peek(p, 0) == '\r') {
                        if (peek(p, 0) == '\n') newline(p);
                        else p->pos++;
                    }
                    continue;
                }
                p->pos = save;
            }
            if (!escape(p, &b)) {
                free(b.data);
                return NULL;
            }
            continue;
        }
        if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) {
            free(b.data);
            FAIL(p, "control character 0x%02x in a string", c);
            return NULL;
        }
        buf_add(&b, p->s + p->pos, 1);
        p->pos++;
    }
}

// --- keys ---

static bool is_bare(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// A dotted key: parts[0..*n). Returns false on error (parts freed).
static bool parse_key(Parser *p, char **parts, size_t *n, int *line, int *col) {
    *n = 0;
    *line = p->line;
    *col = col_of(p, p->pos);
    for (;;) {
        skip_ws(p);
        char *part = NULL;
        int c = peek(p, 0);
        if (c == '"' || c == '\'') {
            if (starts(p, "\"\"\"") || starts(p, "'''")) {
                FAIL(p, "a key cannot be a multi-line string");
            } else {
                part = parse_string(p);
            }
        } else if (is_bare(c)) {
            size_t start = p->pos;
            while (is_bare(peek(p, 0))) p->pos++;
            part = strndup(p->s + start, p->pos - start);
            if (!part) FAIL(p, "out of memory");
        } else {
            FAIL(p, c < 0 || c == '\n' ? "expected a key" : "expected a key, found '%c'", c);
        }
        if (part && *n == MAX_KEY_PARTS) {
            free(part);
            part = NULL;
            FAIL(p, "key with more than %d parts", MAX_KEY_PARTS);
        }
        if (!part) {
            for (size_t i = 0; i < *n; i++) free(parts[i]);
            *n = 0;
            return false;
        }
        parts[(*n)++] = part;
        skip_ws(p);
        if (peek(p, 0) != '.') return true;
        p->pos++;
    }
}

// --- values ---

static void value_fini(Value *v) {
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        value_fini(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->key_line);
    free(v->key_col);
    memset(v, 0, sizeof *v);
}

static bool parse_value(Parser *p, Value *v, int depth);

static bool grow_items(Parser *p, Value *v, size_t *cap, bool keyed) {
    if (v->n < *cap) return true;
    size_t cap2 = *cap ? *cap * 2 : 4;
    Value *items = realloc(v->items, cap2 * sizeof *items);
    if (items) v->items = items;
    if (items && keyed) {
        char **keys = realloc(v->keys, cap2 * sizeof *keys);
        if (keys) v->keys = keys;
        int *kl = keys ? realloc(v->key_line, cap2 * sizeof *kl) : NULL;
        if (kl) v->key_line = kl;
        int *kc = kl ? realloc(v->key_col, cap2 * sizeof *kc) : NULL;
        if (kc) v->key_col = kc;
        if (!kc) items = NULL;
    }
    if (!items) return FAIL(p, "out of memory");
    *cap = cap2;
    return true;
}

static bool parse_array(Parser *p, Value *v, int depth) {
    size_t cap = 0;
    v->kind = VAL_ARRAY;
    p->pos++;  // '['
    for (;;) {
        skip_ws_nl(p);
        if (peek(p, 0) == ']') {
            p->pos++;
            return true;
        }
        if (!grow_items(p, v, &cap, false)) return false;
        memset(&v->items[v->n], 0, sizeof v->items[0]);
        if (!parse_value(p, &v->items[v->n++], depth + 1)) return false;
        skip_ws_nl(p);
        if (peek(p, 0) == ',') {
            p->pos++;
        } else if (peek(p, 0) != ']') {
            return peek(p, 0) < 0 ? fail_at(p, v->line, v->col, "unterminated array")
                                  : FAIL(p, "expected ',' or ']' in an array");
        }
    }
}

static bool parse_inline_table(Parser *p, Value *v, int depth) {
    size_t cap = 0;
    v->kind = VAL_TABLE;
    p->pos++;  // '{'
    skip_ws_nl(p);
    if (peek(p, 0) == '}') {
        p->pos++;
        return true;
    }
    for (;;) {
        char *parts[MAX_KEY_PARTS];
        size_t nparts;
        int kline, kcol;
        skip_ws_nl(p);
        if (!parse_key(p, parts, &nparts, &kline, &kcol)) return false;
        Buf joined = {0};
        for (size_t i = 0; i < nparts; i++) {  // dotted keys inside {} stay joined
            if (i) buf_add(&joined, ".", 1);
            buf_add(&joined, parts[i], strlen(parts[i]));
            free(parts[i]);
        }
        char *key = buf_take(p, &joined);
        if (!key) return false;
        if (!grow_items(p, v, &cap, true)) {
            free(key);
            return false;
        }
        v->keys[v->n] = key;
        v->key_line[v->n] = kline;
        v->key_col[v->n] = kcol;
        memset(&v->items[v->n], 0, sizeof v->items[0]);
        v->n++;
        skip_ws(p);
        if (peek(p, 0) != '=') return FAIL(p, "expected '=' after the key");
        p->pos++;
        skip_ws(p);
        if (!parse_value(p, &v->items[v->n - 1], depth + 1)) return false;
        skip_ws_nl(p);
        if (peek(p, 0) == ',') {
            p->pos++;
        } else if (peek(p, 0) == '}') {
            p->pos++;
            return true;
        } else {
            return FAIL(p, "expected ',' or '}' in an inline table");
        }
    }
}

// Numbers, booleans, dates and times: kept as their text.
static bool parse_bare(Parser *p, Value *v) {
    size_t start = p->pos;
    while (is_bare(peek(p, 0)) || peek(p, 0) == '.' || peek(p, 0) == ':' || peek(p, 0) == '+') p->pos++;
    // A date and a time may be separated by one space: 1979-05-27 07:32:00
    if (p->pos - start == 10 && p->s[start + 4] == '-' && peek(p, 0) == ' ' && peek(p, 1) >= '0' &&
        peek(p, 1) <= '9') {
        p->pos++;
        while (is_bare(peek(p, 0)) || peek(p, 0) == '.' || peek(p, 0) == ':' || peek(p, 0) == '+') p->pos++;
    }
    size_t n = p->pos - start;
    if (n == 0) {
        int c = peek(p, 0);
        return FAIL(p, c < 0 || c == '\n' || c == '\r' ? "expected a value" : "expected a value, found '%c'",
                    c);
    }
    if (mem_is(p->s + start, n, "true")) v->kind = VAL_BOOL, v->b = true;
    else if (mem_is(p->s + start, n, "false")) v->kind = VAL_BOOL, v->b = false;
    else if (p->s[start] >= 'a' && p->s[start] <= 'z' && !str_has_prefix(p->s + start, "inf") &&
             !str_has_prefix(p->s + start, "nan"))
        return fail_at(p, v->line, v->col, "expected a value (strings need quotes), found '%.*s'",
                       (int)(n > 40 ? 40 : n), p->s + start);
    else v->kind = VAL_OTHER;
    return true;
}

static bool parse_value(Parser *p, Value *v, int depth) {
    v->line = p->line;
    v->col = col_of(p, p->pos);
    if (depth > MAX_DEPTH) return FAIL(p, "values nested more than %d deep", MAX_DEPTH);
    int c = peek(p, 0);
    if (c == '"' || c == '\'') {
        v->kind = VAL_STRING;
        v->str = parse_string(p);
        return v->str != NULL;
    }
    if (c == '[') return parse_array(p, v, depth);
    if (c == '{') return parse_inline_table(p, v, depth);
    return parse_bare(p, v);
}

// --- [tool.ffq] ---

static const char *const known_keys[] = {
    "optable", "replace", "search-path", "python", "type-inference", "stub-tags", "check",
};
enum { NKNOWN = sizeof known_keys / sizeof known_keys[0] };

static char *join_path(Parser *p, const char *rel) {
    if (rel[0] == '/' || !p->base_dir[0]) return strdup(rel);
    size_t n = strlen(p->base_dir) + strlen(rel) + 2;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%s/%s", p->base_dir, rel);
    return out;
}

// A string, or an array of strings, appended to list (paths joined to base_dir).
static bool take_strings(Parser *p, const char *key, const Value *v, char ***list, size_t *n, bool paths) {
    const Value *items = v->kind == VAL_ARRAY ? v->items : v;
    size_t count = v->kind == VAL_ARRAY ? v->n : 1;
    for (size_t i = 0; i < count; i++)
        if (items[i].kind != VAL_STRING)
            return fail_at(p, items[i].line, items[i].col, "'%s' must be a string or an array of strings",
                           key);
    char **grown = realloc(*list, (*n + count + 1) * sizeof(char *));
    if (!grown) return FAIL(p, "out of memory");
    *list = grown;
    for (size_t i = 0; i < count; i++) {
        if (!items[i].str[0]) return fail_at(p, items[i].line, items[i].col, "'%s' has an empty string", key);
        char *s = paths ? join_path(p, items[i].str) : strdup(items[i].str);
        if (!s) return FAIL(p, "out of memory");
        (*list)[(*n)++] = s;
    }
    return true;
}

static char *trimmed(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return strndup(s, n);
}

static bool take_check(Parser *p, const Value *v) {
    const Value *items = v->kind == VAL_ARRAY ? v->items : v;
    size_t count = v->kind == VAL_ARRAY ? v->n : 1;
    FfqConfig *cfg = p->cfg;
    FfqCheckPair *grown = realloc(cfg->check, (cfg->ncheck + count + 1) * sizeof *grown);
    if (!grown) return FAIL(p, "out of memory");
    cfg->check = grown;
    for (size_t i = 0; i < count; i++) {
        const Value *it = &items[i];
        const char *arrow = it->kind == VAL_STRING ? strstr(it->str, "->") : NULL;
        char *src = arrow ? trimmed(it->str, (size_t)(arrow - it->str)) : NULL;
        char *gen = arrow ? trimmed(arrow + 2, strlen(arrow + 2)) : NULL;
        bool ok = src && gen && *src && *gen && !strstr(gen, "->");
        char *jsrc = ok ? join_path(p, src) : NULL, *jgen = ok ? join_path(p, gen) : NULL;
        free(src);
        free(gen);
        if (!ok || !jsrc || !jgen) {
            free(jsrc);
            free(jgen);
            return ok ? FAIL(p, "out of memory")
                      : fail_at(p, it->line, it->col,
                                "'check' entries are strings \"SOURCE.py -> GENERATED.py\"");
        }
        cfg->check[cfg->ncheck].source = jsrc;
        cfg->check[cfg->ncheck].generated = jgen;
        cfg->ncheck++;
    }
    return true;
}

static bool take_bool(Parser *p, const char *key, const Value *v, int *out) {
    if (v->kind != VAL_BOOL) return fail_at(p, v->line, v->col, "'%s' must be true or false", key);
    *out = v->b;
    return true;
}

// One `key = value` of [tool.ffq].
static bool apply_key(Parser *p, const char *key, int kline, int kcol, const Value *v) {
    FfqConfig *cfg = p->cfg;
    size_t k = 0;
    while (k < NKNOWN && strcmp(key, known_keys[k]) != 0) k++;
    if (k == NKNOWN) {
        char alt[64];
        snprintf(alt, sizeof alt, "%s", key);
        for (char *c = alt; *c; c++)
            if (*c == '_') *c = '-';
        for (size_t j = 0; j < NKNOWN; j++)
            if (strcmp(alt, known_keys[j]) == 0)
                return fail_at(p, kline, kcol, "unknown key '%s' in [tool.ffq]; did you mean '%s'?", key,
                               known_keys[j]);
        return fail_at(p, kline, kcol,
                       "unknown key '%s' in [tool.ffq] (known: optable, replace, search-path, "
                       "python, type-inference, stub-tags, check)",
                       key);
    }
    if (p->seen & (1u << k)) return fail_at(p, kline, kcol, "'%s' is set twice in [tool.ffq]", key);
    p->seen |= 1u << k;
    if (strcmp(key, "optable") == 0) return take_strings(p, key, v, &cfg->optables, &cfg->noptables, true);
    if (strcmp(key, "replace") == 0) return take_strings(p, key, v, &cfg->replace, &cfg->nreplace, false);
    if (strcmp(key, "search-path") == 0)
        return take_strings(p, key, v, &cfg->search_path, &cfg->nsearch_path, true);
    if (strcmp(key, "type-inference") == 0) return take_bool(p, key, v, &cfg->type_inference);
    if (strcmp(key, "stub-tags") == 0) return take_bool(p, key, v, &cfg->stub_tags);
    if (strcmp(key, "check") == 0) return take_check(p, v);
    // python: a command name is looked up on PATH; a path is relative to the file.
    if (v->kind != VAL_STRING || !v->str[0])
        return fail_at(p, v->line, v->col, "'python' must be a non-empty string");
    cfg->python = strchr(v->str, '/') ? join_path(p, v->str) : strdup(v->str);
    return cfg->python ? true : FAIL(p, "out of memory");
}

// A key/value pair at full path table+key: does it fall in [tool.ffq]?
static bool handle_pair(Parser *p, char **key, size_t nkey, int kline, int kcol, const Value *v) {
    char *full[2 * MAX_KEY_PARTS];
    size_t n = 0;
    for (size_t i = 0; i < p->ntable; i++) full[n++] = p->table[i];
    for (size_t i = 0; i < nkey; i++) full[n++] = key[i];
    if (n < 2 || strcmp(full[0], "tool") != 0 || strcmp(full[1], "ffq") != 0) return true;
    p->cfg->has_table = true;
    if (n == 2) {  // tool.ffq = { ... } or [tool] ffq = { ... }
        if (v->kind != VAL_TABLE) return fail_at(p, v->line, v->col, "'tool.ffq' must be a table");
        for (size_t i = 0; i < v->n; i++)
            if (!apply_key(p, v->keys[i], v->key_line[i], v->key_col[i], &v->items[i])) return false;
        return true;
    }
    if (n > 3) return fail_at(p, kline, kcol, "[tool.ffq] has no sub-tables ('%s.%s')", full[2], full[3]);
    return apply_key(p, full[2], kline, kcol, v);
}

static void clear_table(Parser *p) {
    for (size_t i = 0; i < p->ntable; i++) free(p->table[i]);
    p->ntable = 0;
}

static bool parse_header(Parser *p) {
    int line = p->line, col = col_of(p, p->pos);
    bool array = starts(p, "[[");
    p->pos += array ? 2 : 1;
    clear_table(p);
    int kl, kc;
    if (!parse_key(p, p->table, &p->ntable, &kl, &kc)) return false;
    skip_ws(p);
    if (array ? !starts(p, "]]") : peek(p, 0) != ']')
        return FAIL(p, "expected '%s' to close the table header", array ? "]]" : "]");
    p->pos += array ? 2 : 1;
    bool in_ffq = p->ntable >= 2 && strcmp(p->table[0], "tool") == 0 && strcmp(p->table[1], "ffq") == 0;
    if (in_ffq && (array || p->ntable > 2))
        return fail_at(p, line, col, "[tool.ffq] has no sub-tables%s", array ? " and is not an array" : "");
    if (in_ffq) p->cfg->has_table = true;
    return end_of_line(p);
}

static bool parse_document(Parser *p) {
    if (starts(p, "\xEF\xBB\xBF")) p->pos += 3;  // byte-order mark
    while (!p->failed) {
        skip_ws_nl(p);
        if (p->pos >= p->len) return true;
        if (peek(p, 0) == '[') {
            if (!parse_header(p)) return false;
            continue;
        }
        char *key[MAX_KEY_PARTS];
        size_t nkey;
        int kline, kcol;
        if (!parse_key(p, key, &nkey, &kline, &kcol)) return false;
        Value v = {0};
        bool ok;
        skip_ws(p);
        if (peek(p, 0) != '=') {
            ok = FAIL(p, "expected '=' after the key");
        } else {
            p->pos++;
            skip_ws(p);
            ok = parse_value(p, &v, 0) && handle_pair(p, key, nkey, kline, kcol, &v) && end_of_line(p);
        }
        value_fini(&v);
        for (size_t i = 0; i < nkey; i++) free(key[i]);
        if (!ok) return false;
    }
    return false;
}

bool config_parse(FfqConfig *cfg, const char *path, const char *text, size_t len, char *err, size_t errsize) {
    memset(cfg, 0, sizeof *cfg);
    cfg->type_inference = -1;
    cfg->stub_tags = -1;
    cfg->path = strdup(path);
    if (errsize) err[0] = '\0';
    Parser p = {.path = path, .s = text, .len = len, .line = 1, .err = err, .errsize = errsize, .cfg = cfg};
    const char *slash = strrchr(path, '/');
    p.base_dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup("");
    if (!cfg->path || !p.base_dir) {
        free(p.base_dir);
        snprintf(err, errsize, "%s: error: out of memory", path);
        return false;
    }
    if (memchr(text, '\0', len)) {
        size_t at = (size_t)((const char *)memchr(text, '\0', len) - text);
        p.pos = at;
        for (size_t i = 0; i < at; i++)
            if (text[i] == '\n') p.line++, p.line_start = i + 1;
        FAIL(&p, "NUL byte in the file");
    } else {
        parse_document(&p);
    }
    clear_table(&p);
    free(p.base_dir);
    return !p.failed;
}

bool config_load(FfqConfig *cfg, const char *path, char *err, size_t errsize) {
    FILE *fp = fopen(path, "rb");
    size_t cap = 4096, n = 0;
    char *text = fp ? malloc(cap) : NULL;
    while (text) {
        n += fread(text + n, 1, cap - n, fp);
        if (n < cap) break;
        char *grown = realloc(text, cap * 2);
        if (!grown) free(text);
        text = grown;
        cap *= 2;
    }
    bool ok = text && !ferror(fp);
    int e = fp ? (text ? EIO : ENOMEM) : errno;
    if (fp) fclose(fp);
    if (!ok) {
        free(text);
        memset(cfg, 0, sizeof *cfg);
        snprintf(err, errsize, "%s: error: cannot read the file: %s", path, strerror(e));
        return false;
    }
    ok = config_parse(cfg, path, text, n, err, errsize);
    free(text);
    return ok;
}

static void free_list(char **list, size_t n) {
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
}

void config_fini(FfqConfig *cfg) {
    free(cfg->path);
    free_list(cfg->optables, cfg->noptables);
    free_list(cfg->replace, cfg->nreplace);
    free_list(cfg->search_path, cfg->nsearch_path);
    free(cfg->python);
    for (size_t i = 0; i < cfg->ncheck; i++) {
        free(cfg->check[i].source);
        free(cfg->check[i].generated);
    }
    free(cfg->check);
    memset(cfg, 0, sizeof *cfg);
}

// Does the file at `path` have a [tool.ffq] table? A file that does not
// parse counts when it mentions tool.ffq, so its error is reported.
static bool has_ffq_table(const char *path) {
    FfqConfig cfg;
    char err[16];
    bool ok = config_load(&cfg, path, err, sizeof err);
    bool has = cfg.has_table;
    config_fini(&cfg);
    if (ok || has) return has;
    FILE *fp = fopen(path, "rb");
    char line[4096];
    while (fp && fgets(line, sizeof line, fp))
        if (strstr(line, "tool.ffq") || (strstr(line, "[tool]") && line[0] == '[')) has = true;
    if (fp) fclose(fp);
    return has;
}

char *config_find(const char *start_dir) {
    char dir[PATH_MAX], cwd[PATH_MAX];
    if (!realpath(start_dir, dir)) return NULL;
    bool have_cwd = getcwd(cwd, sizeof cwd) != NULL;
    size_t ncwd = have_cwd ? strlen(cwd) : 0;
    for (;;) {
        char cand[PATH_MAX + 32];
        snprintf(cand, sizeof cand, "%s/pyproject.toml", strcmp(dir, "/") == 0 ? "" : dir);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && has_ffq_table(cand)) {
            // Shown relative to the current directory when it is below it.
            if (have_cwd && strncmp(cand, cwd, ncwd) == 0 && cand[ncwd] == '/')
                return strdup(cand + ncwd + 1);
            return strdup(cand);
        }
        char *slash = strrchr(dir, '/');
        if (!slash || strcmp(dir, "/") == 0) return NULL;
        if (slash == dir) slash[1] = '\0';
        else *slash = '\0';
    }
}

void config_apply(const FfqConfig *cfg, ffq_options *opt, const char **python, bool type_inference_flag,
                  bool stub_tags_flag) {
    if (!opt->noptables && cfg->noptables) {
        opt->optables = (const char *const *)cfg->optables;
        opt->noptables = cfg->noptables;
    }
    if (!opt->nreplace && cfg->nreplace) {
        opt->replace = (const char *const *)cfg->replace;
        opt->nreplace = cfg->nreplace;
    }
    if (!opt->nsearch_path && cfg->nsearch_path) {
        opt->search_path = (const char *const *)cfg->search_path;
        opt->nsearch_path = cfg->nsearch_path;
    }
    if (!type_inference_flag && cfg->type_inference >= 0) opt->type_inference = cfg->type_inference;
    if (!stub_tags_flag && cfg->stub_tags >= 0) opt->stub_tags = cfg->stub_tags;
    if (!*python && cfg->python) *python = cfg->python;
}
