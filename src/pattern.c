// pattern.c: pattern rules (spec §8), source rewriting before any analysis.
//
// Consumes: rule strings ("PATTERN=>REPLACEMENT", from --replace or a table's
// `patterns:`) and a SrcFile. Produces: a new SrcFile with every match
// rewritten, or the input file itself when nothing matched. Code that no rule
// touched keeps its bytes exactly; a replacement is inserted as the text of
// the replacement string with each capture replaced by the matched text.
//
// How it works. Both sides of a rule and the file are turned into Terms:
// immutable trees that mirror the CST (every node, named and anonymous) and
// remember where each child sits in its parent's text. A term's text is its
// own source range with the children spliced in, so replacing a subtree is
// building a new parent whose slot points at another term; nothing is
// re-parsed. The file is walked bottom-up (node indices descending, since
// source.c appends children after their parent), so every node is matched
// with its children already rewritten, exactly like a libcst transformer.
// Matching and rendering use explicit stacks: inputs may nest deeply.
#include "pattern.h"

#include <string.h>

#include "ffq_int.h"

#define CAP_PREFIX            "__ffq_cap_"
#define MAX_REWRITES_PER_NODE 64
// A rewritten text longer than this (plus 4x the file) is refused: a replacement
// that copies a capture twice and matches its own pattern again doubles the
// code on every rewrite.
#define MAX_GROWTH ((size_t)1 << 20)

typedef struct Term Term;

// A child of a term: its byte range in the parent's source, and the term now there.
typedef struct Slot {
    uint32_t start, end;
    const Term *t;
} Slot;

struct Term {
    const char *src;  // the text start/end and the slot ranges index into
    uint32_t start, end;
    uint16_t kind, sym;
    bool named;
    bool dirty;    // some slot no longer holds its original text
    bool has_cap;  // (templates) a capture is somewhere below
    int32_t cap;   // (templates) capture index, or -1
    const Slot *slots;
    uint32_t nslots;
};

// What one side of a rule is: an expression, one statement, or (replacements
// only) several statements joined by ';'.
typedef enum Shape { SHAPE_EXPR, SHAPE_STMT, SHAPE_MULTI } Shape;

typedef struct Side {
    const Cst *cst;
    const Term **terms;  // one per CST node
    uint32_t root;       // the expression, the statement, or the module (MULTI)
    uint32_t stmt;       // the statement holding root (the module for MULTI)
    Shape shape;
} Side;

struct PatternRule {
    const char *text;  // as written
    const char *on;    // scope filter, NULL: everywhere
    Side pat, rep;
    size_t ncaps;
    const char *anchor;  // the pattern's longest name, which any match contains; NULL: none
    size_t anchor_len;
};

// --- rule parsing ---

typedef struct RuleParse {
    ffq_ctx *cx;
    const char *rule;
    const SrcFile *file;
    uint32_t offset;
    PtrVec names;  // capture names of the pattern, in order (char *)
} RuleParse;

static void rule_error(RuleParse *rp, const char *code, const char *fmt, ...) FFQ_PRINTF(3, 4);

static void rule_error(RuleParse *rp, const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const char *msg = arena_vprintf(rp->cx, fmt, ap);
    va_end(ap);
    if (rp->file)
        diag_at(rp->cx, DIAG_ERROR, rp->file, rp->offset, code, "pattern rule '%s': %s", rp->rule, msg);
    else diag_at(rp->cx, DIAG_ERROR, NULL, 0, code, "--replace '%s': %s", rp->rule, msg);
}

// Index of the first "=>" outside string literals and brackets, or -1.
static long find_arrow(const char *s) {
    int depth = 0;
    char quote = 0;
    bool triple = false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (quote) {
            if (c == '\\' && s[i + 1]) i++;
            else if (c == quote && !triple) quote = 0;
            else if (c == quote && s[i + 1] == quote && s[i + 2] == quote) quote = 0, i += 2;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            triple = s[i + 1] == c && s[i + 2] == c;
            if (triple) i += 2;
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
            depth--;
        } else if (c == '=' && s[i + 1] == '>' && depth == 0) {
            return (long)i;
        }
    }
    return -1;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

static char *trimmed(ffq_ctx *cx, const char *s, size_t n) {
    while (n && is_space(*s)) s++, n--;
    while (n && is_space(s[n - 1])) n--;
    return arena_strndup(cx, s, n);
}

// Python identifier: a letter or '_' then letters, digits, '_' (any non-ASCII
// byte is accepted as a letter, as Python accepts Unicode identifiers).
static bool is_identifier(const char *s, size_t n) {
    if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

static long name_index(const PtrVec *names, const char *s, size_t n) {
    for (size_t i = 0; i < names->len; i++) {
        const char *name = names->items[i];
        if (strlen(name) == n && memcmp(name, s, n) == 0) return (long)i;
    }
    return -1;
}

// One capture `{name}` (n bytes at `name`) of a side: checks it and returns
// its index, adding it to rp->names for the pattern; -1 after reporting.
static long add_capture(RuleParse *rp, const char *what, const char *name, size_t n, bool is_pattern) {
    if (!is_identifier(name, n)) {
        rule_error(rp, "pattern-capture", "capture '{%.*s}' in the %s: '%.*s' is not a valid identifier",
                   (int)n, name, what, (int)n, name);
        return -1;
    }
    long k = name_index(&rp->names, name, n);
    if (is_pattern && k >= 0) {
        rule_error(rp, "pattern-capture", "capture '{%.*s}' is used multiple times in the pattern", (int)n,
                   name);
        return -1;
    }
    if (!is_pattern && k < 0) {
        rule_error(rp, "pattern-capture",
                   "the replacement uses capture '{%.*s}', which is not in the pattern", (int)n, name);
        return -1;
    }
    if (is_pattern) {
        k = (long)rp->names.len;
        vec_push(rp->cx, &rp->names, arena_strndup(rp->cx, name, n));
    }
    return k;
}

// Replaces each {name} of one side by CAP_PREFIX name, with str.format
// conventions: {{ and }} stand for literal braces. Pattern captures are added
// to rp->names; replacement captures must already be there. `uses` counts the
// occurrences of each capture. NULL (after reporting) on error.
static const char *substitute(RuleParse *rp, const char *what, const char *s, bool is_pattern,
                              uint32_t *uses) {
    StrBuf out = {0};
    for (size_t i = 0; s[i]; i++) {
        if ((s[i] == '{' && s[i + 1] == '{') || (s[i] == '}' && s[i + 1] == '}')) {
            sb_putc(rp->cx, &out, s[i++]);
            continue;
        }
        if (s[i] == '}') {
            rule_error(rp, "pattern-syntax", "single '}' in the %s (write '}}' for a brace)", what);
            return NULL;
        }
        if (s[i] != '{') {
            sb_putc(rp->cx, &out, s[i]);
            continue;
        }
        const char *name = s + i + 1, *close = strchr(name, '}');
        if (!close) {
            rule_error(rp, "pattern-syntax", "unterminated '{' in the %s (write '{{' for a brace)", what);
            return NULL;
        }
        size_t n = (size_t)(close - name);
        long k = add_capture(rp, what, name, n, is_pattern);
        if (k < 0) return NULL;
        uses[k]++;
        sb_printf(rp->cx, &out, CAP_PREFIX "%.*s", (int)n, name);
        i += n + 1;
    }
    return sb_cstr(rp->cx, &out);
}

// Comments and backslash line continuations: ignored by matching.
static bool is_trivia(const Term *t) {
    if (t->kind == K_COMMENT) return true;
    return t->named && t->kind == K_OTHER && t->nslots == 0 && t->end > t->start && t->src[t->start] == '\\';
}

static bool cst_is_trivia(const Cst *c, uint32_t i) {
    const CstNode *n = &c->nodes[i];
    if (n->kind == K_COMMENT) return true;
    return n->named && n->kind == K_OTHER && n->nchildren == 0 && n->end > n->start &&
           c->file->data[n->start] == '\\';
}

// A term for CST node i whose children are the terms cur[child]. `slots`
// (nchildren entries) may be preallocated by the caller, else NULL.
static Term *make_term(ffq_ctx *cx, const Cst *c, uint32_t i, const Term *const *cur, Slot *slots, Term *t) {
    const CstNode *n = &c->nodes[i];
    if (!t) t = ARENA_NEW(cx, Term);
    if (!slots && n->nchildren) slots = ARENA_ARRAY(cx, Slot, n->nchildren);
    *t = (Term){.src = c->file->data,
                .start = n->start,
                .end = n->end,
                .kind = n->kind,
                .sym = n->sym,
                .named = n->named,
                .cap = -1,
                .slots = slots,
                .nslots = n->nchildren};
    for (uint32_t k = 0; k < n->nchildren; k++) {
        const CstNode *ch = &c->nodes[n->first_child + k];
        const Term *ct = cur[n->first_child + k];
        slots[k] = (Slot){.start = ch->start, .end = ch->end, .t = ct};
        if (ct->dirty || ct->src != t->src || ct->start != ch->start || ct->end != ch->end) t->dirty = true;
        if (ct->has_cap) t->has_cap = true;
    }
    return t;
}

static bool is_compound(uint32_t kind) {
    switch (kind) {
    case K_IF:
    case K_FOR:
    case K_WHILE:
    case K_WITH:
    case K_TRY:
    case K_FUNCTION_DEF:
    case K_CLASS_DEF:
    case K_DECORATED_DEF:
    case K_MATCH: return true;
    default: return false;
    }
}

// Template terms of a parsed side; placeholders become captures. Checks that
// every capture written in the side stands alone as a name (`nodes` counts
// the placeholder identifiers found per capture, against `uses`).
static bool side_terms(RuleParse *rp, const char *what, Side *s, const uint32_t *uses) {
    const Cst *c = s->cst;
    size_t ncaps = rp->names.len;
    uint32_t *nodes = ARENA_ARRAY(rp->cx, uint32_t, ncaps + 1);
    const Term **terms = ARENA_ARRAY(rp->cx, const Term *, c->count);
    size_t plen = strlen(CAP_PREFIX);
    for (uint32_t i = c->count; i-- > 0;) {
        Term *t = make_term(rp->cx, c, i, terms, NULL, NULL);
        size_t len;
        const char *txt = cst_text(c, i, &len);
        if (c->nodes[i].kind == K_IDENTIFIER && len > plen && memcmp(txt, CAP_PREFIX, plen) == 0) {
            long k = name_index(&rp->names, txt + plen, len - plen);
            if (k >= 0) t->cap = (int32_t)k, t->has_cap = true, nodes[k]++;
        }
        terms[i] = t;
    }
    for (size_t k = 0; k < ncaps; k++) {
        if (nodes[k] == uses[k]) continue;
        rule_error(rp, "pattern-capture",
                   "capture '{%s}' in the %s must stand where a name may appear (an expression, "
                   "an argument, a call target, an attribute name)",
                   (const char *)rp->names.items[k], what);
        return false;
    }
    s->terms = terms;
    return true;
}

// Counts the statements of a parsed side (several only if joined by ';' and
// allowed); 0 after reporting an error. *first receives the first one.
static uint32_t count_statements(RuleParse *rp, const char *what, const Cst *c, bool allow_multi,
                                 uint32_t *first) {
    uint32_t nstmts = 0;
    bool after_semicolon = false;
    for (uint32_t k = 0; k < c->nodes[0].nchildren; k++) {
        uint32_t ch = c->nodes[0].first_child + k;
        if (cst_is_trivia(c, ch)) continue;
        if (!c->nodes[ch].named) {
            after_semicolon = cst_text_is(c, ch, ";");
            continue;
        }
        if (nstmts && (!allow_multi || !after_semicolon)) {
            rule_error(rp, "pattern-not-single", "the %s must be a single statement or expression%s", what,
                       allow_multi ? " (join several statements with ';')" : "");
            return 0;
        }
        if (is_compound(c->nodes[ch].kind)) {
            rule_error(rp, "pattern-syntax",
                       "the %s must be a simple statement or expression, not a "
                       "compound statement",
                       what);
            return 0;
        }
        if (!nstmts) *first = ch;
        nstmts++;
        after_semicolon = false;
    }
    if (!nstmts) rule_error(rp, "pattern-syntax", "the %s is empty", what);
    return nstmts;
}

// Parses one side (already substituted) and decides its shape: `f(x)` is an
// expression, `x = f(y)` or `return x` a statement, `a = 1; b = 2` several.
static bool parse_side(RuleParse *rp, const char *what, const char *shown, const char *text, bool allow_multi,
                       const uint32_t *uses, Side *s) {
    const Cst *c = source_parse_text(rp->cx, what, text, strlen(text), false);
    if (!c || c->has_errors) {
        rule_error(rp, "pattern-syntax", "cannot parse the %s '%s'", what, shown);
        return false;
    }
    s->cst = c;
    uint32_t first = CST_NONE;
    uint32_t nstmts = count_statements(rp, what, c, allow_multi, &first);
    if (!nstmts || !side_terms(rp, what, s, uses)) return false;
    if (nstmts > 1) {
        s->shape = SHAPE_MULTI;
        s->root = s->stmt = 0;
        return true;
    }
    s->stmt = s->root = first;
    s->shape = SHAPE_STMT;
    uint32_t e = cst_named_child(c, first, 0);
    if (c->nodes[first].kind == K_EXPR_STMT && cst_named_count(c, first) == 1 &&
        c->nodes[e].kind != K_ASSIGNMENT && c->nodes[e].kind != K_AUG_ASSIGNMENT) {
        s->shape = SHAPE_EXPR;
        s->root = e;
    }
    return true;
}

PatternRule *pattern_parse(ffq_ctx *cx, const char *rule, const SrcFile *file, uint32_t offset) {
    RuleParse rp = {.cx = cx, .rule = rule, .file = file, .offset = offset};
    long arrow = find_arrow(rule);
    if (arrow < 0) {
        rule_error(&rp, "pattern-syntax", "expected PATTERN=>REPLACEMENT");
        return NULL;
    }
    const char *ptext = trimmed(cx, rule, (size_t)arrow);
    const char *rtext = trimmed(cx, rule + arrow + 2, strlen(rule + arrow + 2));
    if (!*ptext || !*rtext) {
        rule_error(&rp, "pattern-syntax", "the %s is empty", *ptext ? "replacement" : "pattern");
        return NULL;
    }
    uint32_t *uses = ARENA_ARRAY(cx, uint32_t, strlen(ptext) + 1);  // one per capture at most
    const char *psub = substitute(&rp, "pattern", ptext, true, uses);
    if (!psub) return NULL;
    PatternRule *r = ARENA_NEW(cx, PatternRule);
    r->text = arena_strdup(cx, rule);
    r->ncaps = rp.names.len;
    if (!parse_side(&rp, "pattern", ptext, psub, false, uses, &r->pat)) return NULL;
    if (r->pat.terms[r->pat.root]->cap >= 0) {
        rule_error(&rp, "pattern-capture", "the pattern is a lone capture, which would match everything");
        return NULL;
    }
    uint32_t *ruses = ARENA_ARRAY(cx, uint32_t, r->ncaps + 1);
    const char *rsub = substitute(&rp, "replacement", rtext, false, ruses);
    if (!rsub) return NULL;
    if (!parse_side(&rp, "replacement", rtext, rsub, true, ruses, &r->rep)) return NULL;
    // identifiers match by text: a file without the longest one cannot match
    const Cst *pc = r->pat.cst;
    for (uint32_t i = r->pat.root; i < pc->count; i++) {
        const Term *t = r->pat.terms[i];
        if (!t || t->cap >= 0 || pc->nodes[i].kind != K_IDENTIFIER) continue;
        size_t len = t->end - t->start;
        if (len > r->anchor_len) r->anchor = t->src + t->start, r->anchor_len = len;
    }
    return r;
}

static bool contains(const char *text, size_t len, const char *word, size_t n) {
    for (const char *p = text, *end = text + len; n && (size_t)(end - p) >= n; p++) {
        p = memchr(p, word[0], (size_t)(end - p) - n + 1);
        if (!p) return false;
        if (memcmp(p, word, n) == 0) return true;
    }
    return false;
}

// Whether scope `on` can hold code of module `mod`: one is a dotted prefix of the other
// (`torch.nn.modules` covers torch.nn.modules.activation; `m.Net.forward` lies in m).
static bool scope_meets_module(const char *on, const char *mod) {
    size_t a = strlen(on), b = strlen(mod), n = a < b ? a : b;
    if (strncmp(on, mod, n) != 0) return false;
    return a == b || (a < b ? mod[a] == '.' : on[b] == '.');
}

bool pattern_may_apply(PatternRule *const *rules, size_t n, const char *module_name, const char *text,
                       size_t len) {
    for (size_t k = 0; k < n; k++) {
        if (rules[k]->on && !scope_meets_module(rules[k]->on, module_name ? module_name : "")) continue;
        if (!rules[k]->anchor || contains(text, len, rules[k]->anchor, rules[k]->anchor_len)) return true;
    }
    return false;
}

void pattern_set_scope(PatternRule *r, const char *on) { r->on = on; }

const char *pattern_rule_text(const PatternRule *r) { return r->text; }

// --- matching ---

typedef struct Pair {
    const Term *t, *p;
} Pair;

typedef struct Frame {
    const Term *t;
    uint32_t k, pos;
} Frame;

typedef struct Seen {
    const char *text;
    size_t len;
} Seen;

typedef struct Apply {
    ffq_ctx *cx;
    const SrcFile *file;
    const Cst *cst;
    const char *const *scopes;  // per node, NULL when no rule has a scope
    PatternRule *const *rules;
    size_t nrules;
    const Term **bound;  // capture bindings of the current match
    const Term **inst;   // scratch for instantiate(), one per replacement node
    Pair *pairs;         // match stack
    size_t npairs, cap_pairs;
    Frame *frames;  // render stack
    size_t cap_frames;
    Seen *seen;  // results already produced at the current node
    size_t nseen, cap_seen;
    StrBuf scratch;
    size_t limit;  // longest text render() produces (MAX_GROWTH + 4 x the file)
    bool changed;
    bool too_big;  // a render reached the limit: the rules are not applied
} Apply;

static bool text_is(const Term *t, const char *s) {
    size_t n = strlen(s);
    return t->end - t->start == n && memcmp(t->src + t->start, s, n) == 0;
}

static bool trailing_comma_is_trivia(uint32_t kind) {
    switch (kind) {
    case K_ARGUMENT_LIST:
    case K_PARAMETERS:
    case K_LIST:
    case K_SET:
    case K_DICT:
    case K_TUPLE:
    case K_IMPORT_FROM: return true;
    default: return false;
    }
}

// `f(a, b,)`: the comma right before the closing bracket is trivia.
static bool is_trailing_comma(const Term *t, uint32_t k) {
    if (!trailing_comma_is_trivia(t->kind) || !text_is(t->slots[k].t, ",")) return false;
    uint32_t j = k + 1;
    while (j < t->nslots && is_trivia(t->slots[j].t)) j++;
    if (j + 1 != t->nslots) return false;
    const Term *c = t->slots[j].t;
    return !c->named && (text_is(c, ")") || text_is(c, "]") || text_is(c, "}"));
}

// The first slot at or after k that matching looks at (nslots if none).
static uint32_t next_sig(const Term *t, uint32_t k) {
    for (; k < t->nslots; k++) {
        const Term *s = t->slots[k].t;
        if (is_trivia(s) || (!s->named && is_trailing_comma(t, k))) continue;
        return k;
    }
    return k;
}

static void render(Apply *A, const Term *t, StrBuf *out) {
    if (!t->dirty) {
        sb_putn(A->cx, out, t->src + t->start, t->end - t->start);
        return;
    }
    size_t n = 0;
    A->frames[n++] = (Frame){t, 0, t->start};
    while (n) {
        Frame *f = &A->frames[n - 1];
        if (f->k == f->t->nslots) {
            sb_putn(A->cx, out, f->t->src + f->pos, f->t->end - f->pos);
            n--;
            continue;
        }
        if (out->len > A->limit) {  // stop expanding: the caller gives up on this rewrite
            A->too_big = true;
            return;
        }
        const Slot *s = &f->t->slots[f->k++];
        sb_putn(A->cx, out, f->t->src + f->pos, s->start - f->pos);
        f->pos = s->end;
        if (!s->t->dirty) {
            sb_putn(A->cx, out, s->t->src + s->t->start, s->t->end - s->t->start);
            continue;
        }
        if (n == A->cap_frames) {
            size_t cap = A->cap_frames * 2;
            A->frames = arena_grow(A->cx, A->frames, A->cap_frames * sizeof(Frame), cap * sizeof(Frame));
            A->cap_frames = cap;
        }
        A->frames[n++] = (Frame){s->t, 0, s->t->start};
    }
}

static bool same_text(Apply *A, const Term *t, const Term *p) {
    const char *s = t->src + t->start;
    size_t n = t->end - t->start;
    if (t->dirty) {
        A->scratch.len = 0;
        render(A, t, &A->scratch);
        s = A->scratch.data;
        n = A->scratch.len;
    }
    return n == p->end - p->start && memcmp(s, p->src + p->start, n) == 0;
}

static void push_pair(Apply *A, const Term *t, const Term *p) {
    if (A->npairs == A->cap_pairs) {
        size_t cap = A->cap_pairs ? A->cap_pairs * 2 : 64;
        A->pairs = arena_grow(A->cx, A->pairs, A->cap_pairs * sizeof(Pair), cap * sizeof(Pair));
        A->cap_pairs = cap;
    }
    A->pairs[A->npairs++] = (Pair){t, p};
}

// A capture stands for a name, so it matches any node except argument forms
// no name could be: `k=v`, `*xs`, `**kw` (keyword vs positional matters).
static bool capturable(const Term *t) {
    switch (t->kind) {
    case K_KEYWORD_ARGUMENT:
    case K_LIST_SPLAT:
    case K_DICT_SPLAT:
    case K_PAREN_LIST_SPLAT: return false;
    default: return true;
    }
}

// Structural match of term t against pattern term p; fills A->bound.
static bool match(Apply *A, const Term *t, const Term *p) {
    A->npairs = 0;
    push_pair(A, t, p);
    while (A->npairs) {
        Pair pr = A->pairs[--A->npairs];
        if (pr.p->cap >= 0) {
            if (!capturable(pr.t)) return false;
            A->bound[pr.p->cap] = pr.t;
            continue;
        }
        if (pr.t->sym != pr.p->sym) return false;
        if (pr.p->kind == K_STRING || pr.p->nslots == 0 || pr.t->nslots == 0) {
            if (!same_text(A, pr.t, pr.p)) return false;
            continue;
        }
        uint32_t i = next_sig(pr.t, 0), j = next_sig(pr.p, 0);
        while (i < pr.t->nslots && j < pr.p->nslots) {
            push_pair(A, pr.t->slots[i].t, pr.p->slots[j].t);
            i = next_sig(pr.t, i + 1);
            j = next_sig(pr.p, j + 1);
        }
        if (i < pr.t->nslots || j < pr.p->nslots) return false;
    }
    return true;
}

// The replacement side with the current bindings substituted. Template nodes
// without captures are shared; descendants have larger indices than their
// ancestors, so walking indices downwards builds children first.
static const Term *instantiate(Apply *A, const Side *s) {
    const Cst *c = s->cst;
    for (uint32_t k = c->count; k-- > s->root;) {
        const Term *tp = s->terms[k];
        if (!tp->has_cap) A->inst[k] = tp;
        else if (tp->cap >= 0) A->inst[k] = A->bound[tp->cap];
        else A->inst[k] = make_term(A->cx, c, k, A->inst, NULL, NULL);
    }
    return A->inst[s->root];
}

// The expression of a one-expression statement `f(x)`, else NULL.
static const Term *sole_expression(const Term *t) {
    if (t->kind != K_EXPR_STMT) return NULL;
    uint32_t i = next_sig(t, 0);
    if (i == t->nslots || next_sig(t, i + 1) != t->nslots) return NULL;
    return t->slots[i].t;
}

// One rule at one node: the new term, or NULL when the rule does not apply.
//   expression pattern, expression replacement:  any node
//   expression pattern, statement replacement:    a statement that is just that expression
//   statement pattern:                            a statement
// A replacement of several statements needs a statement alone on its line.
static const Term *try_rule(Apply *A, const PatternRule *r, const Term *t, bool is_stmt, bool alone) {
    const Term *pat = r->pat.terms[r->pat.root];
    if (r->pat.shape == SHAPE_EXPR && r->rep.shape == SHAPE_EXPR) {
        if (!match(A, t, pat)) return NULL;
        return instantiate(A, &r->rep);
    }
    if (!is_stmt || (r->rep.shape == SHAPE_MULTI && !alone)) return NULL;
    const Term *target = t;
    if (r->pat.shape == SHAPE_EXPR && !(target = sole_expression(t))) return NULL;
    if (!match(A, target, pat)) return NULL;
    Side stmt = r->rep;
    stmt.root = stmt.stmt;  // an expression replacing a statement becomes an expression statement
    return instantiate(A, &stmt);
}

// Cycle guard: has this text been produced at this node already? Else remember it.
static bool seen_before(Apply *A, const Term *t) {
    StrBuf sb = {0};
    render(A, t, &sb);
    for (size_t i = 0; i < A->nseen; i++)
        if (A->seen[i].len == sb.len && memcmp(A->seen[i].text, sb.data, sb.len) == 0) return true;
    if (A->nseen == A->cap_seen) {
        size_t cap = A->cap_seen ? A->cap_seen * 2 : 8;
        A->seen = arena_grow(A->cx, A->seen, A->cap_seen * sizeof(Seen), cap * sizeof(Seen));
        A->cap_seen = cap;
    }
    A->seen[A->nseen++] = (Seen){sb_cstr(A->cx, &sb), sb.len};
    return false;
}

// Does the rule's `on` cover this scope? Parts must be a prefix: "m.A" covers
// "m.A" and "m.A.f", not "m.AB".
static bool in_scope(const PatternRule *r, const char *scope) {
    if (!r->on) return true;
    size_t n = strlen(r->on);
    return strncmp(scope, r->on, n) == 0 && (scope[n] == '\0' || scope[n] == '.');
}

static bool is_statement(const Cst *c, uint32_t i) {
    const CstNode *n = &c->nodes[i];
    if (!n->named || n->parent == CST_NONE || cst_is_trivia(c, i)) return false;
    uint32_t pk = c->nodes[n->parent].kind;
    return pk == K_MODULE || pk == K_BLOCK;
}

// Not part of `a = 1; b = 2`.
static bool alone_on_line(const Cst *c, uint32_t i) {
    uint32_t first = c->nodes[c->nodes[i].parent].first_child;
    uint32_t last = first + c->nodes[c->nodes[i].parent].nchildren;
    uint32_t k = i;
    while (k > first && cst_is_trivia(c, k - 1)) k--;
    if (k > first && cst_text_is(c, k - 1, ";") && !c->nodes[k - 1].named) return false;
    k = i + 1;
    while (k < last && cst_is_trivia(c, k)) k++;
    return !(k < last && cst_text_is(c, k, ";") && !c->nodes[k].named);
}

// All rules at node i, restarting from the first rule after every change.
static const Term *rewrite_node(Apply *A, uint32_t i, const Term *t) {
    const Cst *c = A->cst;
    bool is_stmt = is_statement(c, i);
    bool alone = is_stmt && alone_on_line(c, i);
    A->nseen = 0;
    for (int nrewrites = 0;;) {
        const Term *res = NULL;
        for (size_t k = 0; k < A->nrules && !res && !A->too_big; k++) {
            const PatternRule *r = A->rules[k];
            if (A->scopes && !in_scope(r, A->scopes[i])) continue;
            res = try_rule(A, r, t, is_stmt, alone);
            if (res && seen_before(A, res)) res = NULL;
        }
        if (!res) return t;
        t = res;
        A->changed = true;
        if (++nrewrites == MAX_REWRITES_PER_NODE) {
            diag_at(A->cx, DIAG_WARNING, A->file, c->nodes[i].start, "pattern-loop",
                    "pattern rules rewrote this code %d times without settling; stopped here",
                    MAX_REWRITES_PER_NODE);
            return t;
        }
    }
}

// "<module>.<Class>.<func>..." for every node; a def's name counts for its body only.
static const char **node_scopes(ffq_ctx *cx, const Cst *c, const char *module_name) {
    const char **scopes = ARENA_ARRAY(cx, const char *, c->count);
    scopes[0] = module_name ? module_name : "";
    for (uint32_t i = 1; i < c->count; i++) {
        const CstNode *n = &c->nodes[i];
        const char *outer = scopes[n->parent];
        scopes[i] = outer;
        uint32_t pk = c->nodes[n->parent].kind;
        if (n->field != F_BODY || (pk != K_CLASS_DEF && pk != K_FUNCTION_DEF)) continue;
        uint32_t name = cst_field(c, n->parent, F_NAME);
        if (name == CST_NONE) continue;
        const char *nm = cst_strdup(cx, c, name);
        scopes[i] = *outer ? arena_printf(cx, "%s.%s", outer, nm) : nm;
    }
    return scopes;
}

static const SrcFile *too_big(Apply *A, uint32_t at) {
    diag_at(A->cx, DIAG_ERROR, A->file, at, "pattern-growth",
            "pattern rules make this code grow past %zu bytes (a replacement that contains its "
            "own pattern and copies a capture more than once?); no rule was applied",
            A->limit);
    return A->file;
}

const SrcFile *pattern_apply(ffq_ctx *cx, const SrcFile *file, const char *module_name,
                             PatternRule *const *rules, size_t n) {
    if (!n || !pattern_may_apply(rules, n, module_name, file->data, file->len)) return file;
    const Cst *c = source_parse_text(cx, file->path, file->data, file->len, false);
    if (!c || c->has_errors) return file;
    Apply A = {.cx = cx,
               .file = file,
               .cst = c,
               .rules = rules,
               .nrules = n,
               .limit = MAX_GROWTH + 4 * (size_t)file->len};
    size_t maxcaps = 1, maxnodes = 1;
    for (size_t k = 0; k < n; k++) {
        if (rules[k]->ncaps > maxcaps) maxcaps = rules[k]->ncaps;
        if (rules[k]->rep.cst->count > maxnodes) maxnodes = rules[k]->rep.cst->count;
        if (rules[k]->on && !A.scopes) A.scopes = node_scopes(cx, c, module_name);
    }
    A.bound = ARENA_ARRAY(cx, const Term *, maxcaps);
    A.inst = ARENA_ARRAY(cx, const Term *, maxnodes);
    A.cap_frames = 64;
    A.frames = ARENA_ARRAY(cx, Frame, A.cap_frames);
    // One term and one slot per node (node 0 has no slot): children are
    // contiguous, so node i's slots start at first_child - 1.
    Term *terms = ARENA_ARRAY(cx, Term, c->count);
    Slot *slots = ARENA_ARRAY(cx, Slot, c->count);
    const Term **cur = ARENA_ARRAY(cx, const Term *, c->count);
    for (uint32_t i = c->count; i-- > 0;) {
        const CstNode *node = &c->nodes[i];
        Slot *s = node->nchildren ? &slots[node->first_child - 1] : NULL;
        cur[i] = make_term(cx, c, i, cur, s, &terms[i]);
        if (node->named && !cst_is_trivia(c, i)) cur[i] = rewrite_node(&A, i, cur[i]);
        if (A.too_big) return too_big(&A, node->start);
    }
    if (!A.changed) return file;
    StrBuf out = {0};
    render(&A, cur[0], &out);
    if (A.too_big) return too_big(&A, 0);
    return srcfile_new(cx, file->path, sb_cstr(cx, &out), out.len);
}
