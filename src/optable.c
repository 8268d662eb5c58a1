// optable.c: the operator table (spec §6), loaded from YAML.
//
// Consumes: the embedded default table (optable/default.yaml) and --optable
// files. Produces: an OpTable in the context arena holding
//   * operator entries in the order they were added (for --list),
//   * a hash index from dotted name (fallback, alias, built-in identity) to an
//     overload set (entries sharing one fallback), searched newest first,
//   * the Python operator mapping (§6.5) and pattern rules listed in tables.
// Invariants afterwards: every entry has a parsed schema, a fallback and a
// dispatch name; a table file with any error adds nothing. An entry whose
// fallback is already a name of an op (its fallback, an alias, or a built-in
// identity) joins that op's overload set; an alias naming a different op is
// an error. Nothing iterates
// the hash index, so no output depends on hash order. Lookups are const: the
// table is immutable once loading is done and may be shared across threads.
//
// Reading YAML (libyaml). libyaml mallocs on its own, and an arena allocation
// failure unwinds by longjmp, so a live yaml_parser_t could leak. We avoid that
// by construction: a first libyaml pass only counts events and scalar bytes
// (no arena allocation while the parser is live), then the event and text
// arrays are allocated, and a second libyaml pass fills them (again without
// allocating). The parser is deleted before anything else happens; all
// further work walks a small node tree built from the flat events.
#include "optable.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "containers.h"
#include "ffq_int.h"

extern const char *const ffq_default_optable;
extern const size_t ffq_default_optable_len;

#define MAX_YAML_DEPTH 64

// ---------------------------------------------------------------------------
// Types and the table

typedef enum TypeName {
    TN_ERROR,
    TN_QUANTIZED,
    TN_MAYBE_QUANTIZED,
    TN_TENSOR,
    TN_INT,
    TN_FLOAT,
    TN_BOOL,
    TN_STR,
    TN_NUMBER,
    TN_SIZE,
    TN_DTYPE,
    TN_DEVICE,
    TN_LAYOUT,
    TN_MEMORY_FORMAT,
    TN_QUANTIZER,
    TN_NONE,
    TN_ELLIPSIS,
    TN_OBJECT,
    // generics
    TN_OPTIONAL,
    TN_UNION,
    TN_TUPLE,
    TN_LIST,
    TN_SEQUENCE,
} TypeName;

struct OpType {
    TypeName tn;
    const char *name;     // as written ("torch.Tensor", "Optional"); NULL for `A | B`
    const OpType **args;  // generic arguments or union members
    size_t nargs;
    bool has_brackets;  // written with [...] (a bare `tuple` has none)
};

// The names of §6.2. Anything else is an unknown type.
static const struct {
    const char *name;
    TypeName tn;
} simple_types[] = {
    {"Quantized", TN_QUANTIZED},
    {"QuantizedTensor", TN_QUANTIZED},
    {"MaybeQuantized", TN_MAYBE_QUANTIZED},
    {"Tensor", TN_TENSOR},
    {"torch.Tensor", TN_TENSOR},
    {"int", TN_INT},
    {"float", TN_FLOAT},
    {"bool", TN_BOOL},
    {"Bool", TN_BOOL},
    {"str", TN_STR},
    {"Number", TN_NUMBER},
    {"Size", TN_SIZE},
    {"torch.Size", TN_SIZE},
    {"DType", TN_DTYPE},
    {"dtype", TN_DTYPE},
    {"torch.dtype", TN_DTYPE},
    {"Device", TN_DEVICE},
    {"torch.device", TN_DEVICE},
    {"Layout", TN_LAYOUT},
    {"torch.layout", TN_LAYOUT},
    {"MemoryFormat", TN_MEMORY_FORMAT},
    {"torch.memory_format", TN_MEMORY_FORMAT},
    {"Quantizer", TN_QUANTIZER},
    {"None", TN_NONE},
    {"object", TN_OBJECT},
};

static const struct {
    const char *name;
    TypeName tn;
    size_t min_args, max_args;  // max 0: any number
    bool bare_ok;               // may be written without [...]
} generic_types[] = {
    {"Optional", TN_OPTIONAL, 1, 1, false}, {"Union", TN_UNION, 1, 0, false}, {"tuple", TN_TUPLE, 1, 0, true},
    {"Tuple", TN_TUPLE, 1, 0, true},        {"list", TN_LIST, 1, 1, true},    {"List", TN_LIST, 1, 1, true},
    {"Sequence", TN_SEQUENCE, 1, 1, true},
};

// Built-in identities (§6.4): these torch names are the very same objects, so a
// table entry for one is found under the other too.
static const char *const identities[][2] = {
    {"torch.conv1d", "torch.nn.functional.conv1d"},
    {"torch.conv2d", "torch.nn.functional.conv2d"},
    {"torch.conv3d", "torch.nn.functional.conv3d"},
    {"torch.conv_transpose1d", "torch.nn.functional.conv_transpose1d"},
    {"torch.conv_transpose2d", "torch.nn.functional.conv_transpose2d"},
    {"torch.conv_transpose3d", "torch.nn.functional.conv_transpose3d"},
};

// Keys of `python_operators:` (§6.5). Comparisons and boolean operators are
// never rewritten, so they are not here.
static const struct {
    const char *key;
    const char *op;
    bool unary;
} pyop_keys[] = {
    {"+", "+", false},      {"-", "-", false},   {"*", "*", false},      {"/", "/", false},
    {"//", "//", false},    {"%", "%", false},   {"**", "**", false},    {"@", "@", false},
    {"<<", "<<", false},    {">>", ">>", false}, {"&", "&", false},      {"|", "|", false},
    {"^", "^", false},      {"~", "~", true},    {"unary ~", "~", true}, {"unary -", "-", true},
    {"unary +", "+", true},
};

typedef struct OpGroup {  // an overload set: entries sharing a fallback
    const char *fallback;
    PtrVec entries;  // OpEntry *, in the order added
} OpGroup;

typedef struct NameSlot {
    const char *name;
    OpGroup *group;
} NameSlot;

typedef struct PyOp {
    const char *op;
    bool unary;
    const char *fallback;
} PyOp;

struct OpTable {
    PtrVec entries;   // OpEntry *, in the order added
    StrMap names;     // dotted name -> OpGroup
    PtrVec pyops;     // PyOp *, in the order added (searched from the end)
    PtrVec patterns;  // TablePattern *
};

static OpGroup *map_get(const StrMap *m, const char *name) { return strmap_get(m, name, strlen(name)); }

// The caller makes sure `name` is not a key yet.
static void map_put(ffq_ctx *cx, StrMap *m, const char *name, OpGroup *g) {
    strmap_put(cx, m, name, strlen(name), g);
}

OpTable *optable_new(ffq_ctx *cx) { return ARENA_NEW(cx, OpTable); }

// ---------------------------------------------------------------------------
// YAML: two libyaml passes into flat events, then a node tree

typedef enum YEventKind { YE_SCALAR, YE_SEQ, YE_SEQ_END, YE_MAP, YE_MAP_END } YEventKind;

typedef struct YEvent {
    YEventKind kind;
    bool is_plain;       // unquoted scalar
    bool is_quoted;      // single- or double-quoted scalar
    uint32_t line, col;  // libyaml start mark (0-based; col counts characters)
    uint32_t end_line;
    size_t off, len;  // scalar value in the text block
} YEvent;

typedef struct YamlScan {
    YEvent *events;  // NULL in the counting pass
    char *text;
    size_t nevents, nbytes, ndocs, depth;
    bool failed;
    const char *problem;
    bool has_offset;  // position is a byte offset (reader errors)
    size_t offset;
    uint32_t line, col;   // position of the problem (0-based mark)
    const char *context;  // "while parsing a flow sequence", or NULL
    uint32_t context_line, context_col;
} YamlScan;

typedef enum YNodeKind { YN_SCALAR, YN_SEQ, YN_MAP } YNodeKind;

typedef struct YNode {
    YNodeKind kind;
    bool is_plain, is_quoted;
    uint32_t line, col, end_line;
    const char *text;  // scalar value, NUL-terminated
    size_t len;
    struct YNode **items;  // sequence items; mapping: key, value, key, value, ...
    size_t n;
} YNode;

static void scan_fail(YamlScan *s, const char *problem, yaml_mark_t mark) {
    s->failed = true;
    s->problem = problem;
    s->line = (uint32_t)mark.line;
    s->col = (uint32_t)mark.column;
}

// Records one event (or only counts it when s->events is NULL). Never allocates.
static void scan_event(YamlScan *s, const yaml_event_t *ev) {
    YEventKind kind;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++s->ndocs > 1) scan_fail(s, "a table file holds a single YAML document", ev->start_mark);
        return;
    case YAML_ALIAS_EVENT:
        scan_fail(s, "YAML aliases (*name) are not supported in tables", ev->start_mark);
        return;
    case YAML_SCALAR_EVENT: kind = YE_SCALAR; break;
    case YAML_SEQUENCE_START_EVENT: kind = YE_SEQ; break;
    case YAML_MAPPING_START_EVENT: kind = YE_MAP; break;
    case YAML_SEQUENCE_END_EVENT: kind = YE_SEQ_END; break;
    case YAML_MAPPING_END_EVENT: kind = YE_MAP_END; break;
    default: return;  // stream and document boundaries
    }
    if (kind == YE_SEQ || kind == YE_MAP) {
        if (++s->depth > MAX_YAML_DEPTH) {
            scan_fail(s, "YAML nested too deeply", ev->start_mark);
            return;
        }
    }
    if (kind == YE_SEQ_END || kind == YE_MAP_END) s->depth--;
    size_t len = kind == YE_SCALAR ? ev->data.scalar.length : 0;
    if (s->events) {
        YEvent *e = &s->events[s->nevents];
        e->kind = kind;
        e->line = (uint32_t)ev->start_mark.line;
        e->col = (uint32_t)ev->start_mark.column;
        e->end_line = (uint32_t)ev->end_mark.line;
        e->off = s->nbytes;
        e->len = len;
        if (kind == YE_SCALAR) {
            yaml_scalar_style_t st = ev->data.scalar.style;
            e->is_plain = st == YAML_PLAIN_SCALAR_STYLE;
            e->is_quoted = st == YAML_SINGLE_QUOTED_SCALAR_STYLE || st == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
            if (len) memcpy(s->text + s->nbytes, ev->data.scalar.value, len);
            s->text[s->nbytes + len] = '\0';
        }
    }
    s->nevents++;
    if (kind == YE_SCALAR) s->nbytes += len + 1;
}

// One libyaml pass over the file. The parser lives only inside this function.
static void scan_yaml(const SrcFile *f, YamlScan *s) {
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        s->failed = true;
        s->problem = "cannot initialise the YAML parser (out of memory)";
        return;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)f->data, f->len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            scan_fail(s, p.problem ? p.problem : "malformed YAML", p.problem_mark);
            if (p.error == YAML_READER_ERROR) s->has_offset = true, s->offset = p.problem_offset;
            if (p.context) {
                s->context = p.context;
                s->context_line = (uint32_t)p.context_mark.line;
                s->context_col = (uint32_t)p.context_mark.column;
            }
            if (p.error == YAML_MEMORY_ERROR) s->problem = "out of memory while reading YAML";
            break;
        }
        bool done = ev.type == YAML_STREAM_END_EVENT;
        scan_event(s, &ev);
        yaml_event_delete(&ev);
        if (done || s->failed) break;
    }
    yaml_parser_delete(&p);
}

static YNode *build_node(ffq_ctx *cx, const YamlScan *s, size_t *i) {
    const YEvent *e = &s->events[(*i)++];
    YNode *n = ARENA_NEW(cx, YNode);
    n->line = e->line;
    n->col = e->col;
    n->end_line = e->end_line;
    if (e->kind == YE_SCALAR) {
        n->kind = YN_SCALAR;
        n->is_plain = e->is_plain;
        n->is_quoted = e->is_quoted;
        n->text = s->text + e->off;
        n->len = e->len;
        return n;
    }
    ffq_assert(e->kind == YE_SEQ || e->kind == YE_MAP);
    n->kind = e->kind == YE_SEQ ? YN_SEQ : YN_MAP;
    YEventKind end = e->kind == YE_SEQ ? YE_SEQ_END : YE_MAP_END;
    PtrVec items = {0};
    while (*i < s->nevents && s->events[*i].kind != end) vec_push(cx, &items, build_node(cx, s, i));
    ffq_assert(*i < s->nevents);
    (*i)++;
    n->items = (YNode **)items.items;
    n->n = items.len;
    return n;
}

// ---------------------------------------------------------------------------
// The loader: one table file

typedef struct Pending {
    OpEntry *entry;
    OpGroup *group;
} Pending;

typedef struct Loader {
    ffq_ctx *cx;
    OpTable *t;
    const SrcFile *file;
    size_t nerrors;
    StrMap staged;        // names this file adds, committed only if it has no errors
    PtrVec staged_names;  // NameSlot *, in order
    PtrVec pending;       // Pending *
    PtrVec pyops, patterns;
} Loader;

// Byte offset of a libyaml mark (0-based line, column in characters).
static uint32_t mark_offset(const SrcFile *f, uint32_t line0, uint32_t col0) {
    if (f->nlines == 0) return 0;
    if (line0 >= f->nlines) line0 = f->nlines - 1;
    uint32_t off = f->line_starts[line0];
    for (uint32_t c = 0; c < col0 && off < f->len && f->data[off] != '\n'; c++) {
        off++;
        while (off < f->len && ((unsigned char)f->data[off] & 0xC0) == 0x80) off++;
    }
    return off;
}

static uint32_t node_offset(const Loader *L, const YNode *n) { return mark_offset(L->file, n->line, n->col); }

// Offset of byte `at` of a scalar's value in the file, when the value is the
// literal text of a one-line scalar; else the scalar's start.
static uint32_t scalar_offset(const Loader *L, const YNode *n, size_t at) {
    uint32_t base = node_offset(L, n);
    if (n->line != n->end_line || !(n->is_plain || n->is_quoted)) return base;
    uint32_t start = base + (n->is_quoted ? 1 : 0);
    if ((size_t)start + n->len > L->file->len) return base;
    if (memcmp(L->file->data + start, n->text, n->len) != 0) return base;
    return start + (uint32_t)at;
}

static void report(Loader *L, DiagSeverity sev, uint32_t offset, const char *code, const char *fmt, ...)
    FFQ_PRINTF(5, 6);

static void report(Loader *L, DiagSeverity sev, uint32_t offset, const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const char *msg = arena_vprintf(L->cx, fmt, ap);
    va_end(ap);
    diag_at(L->cx, sev, L->file, offset, code, "%s", msg);
    if (sev == DIAG_ERROR) L->nerrors++;
}

static bool is_null(const YNode *n) {
    if (n->kind != YN_SCALAR || !n->is_plain) return false;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

static bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

static bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

// dotted_name := IDENT ('.' IDENT)*
static bool is_dotted_name(const char *s, size_t len) {
    size_t i = 0;
    for (;;) {
        if (i >= len || !is_ident_start(s[i])) return false;
        while (i < len && is_ident_char(s[i])) i++;
        if (i == len) return true;
        if (s[i] != '.') return false;
        i++;
    }
}

static const char *get_dotted(Loader *L, const YNode *n, const char *what) {
    if (n->kind != YN_SCALAR) {
        report(L, DIAG_ERROR, node_offset(L, n), "optable-bad-value", "%s must be a dotted name", what);
        return NULL;
    }
    if (!is_dotted_name(n->text, n->len)) {
        report(L, DIAG_ERROR, node_offset(L, n), "optable-bad-value", "%s '%s' is not a dotted name", what,
               n->text);
        return NULL;
    }
    return n->text;
}

// A sequence, or null for an empty one. NULL (after an error) otherwise.
static const YNode *get_list(Loader *L, const YNode *n, const char *what) {
    static const YNode empty = {.kind = YN_SEQ};
    if (is_null(n)) return &empty;
    if (n->kind == YN_SEQ) return n;
    report(L, DIAG_ERROR, node_offset(L, n), "optable-bad-value", "%s must be a list", what);
    return NULL;
}

// Finds the value of each known key of a mapping; reports unknown and repeated keys.
static void get_keys(Loader *L, const YNode *map, const char *const *keys, const YNode **vals, size_t nkeys,
                     const char *where) {
    for (size_t k = 0; k < nkeys; k++) vals[k] = NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const YNode *key = map->items[i];
        size_t k = 0;
        while (k < nkeys && !(key->kind == YN_SCALAR && strcmp(key->text, keys[k]) == 0)) k++;
        if (k == nkeys) {
            StrBuf expected = {0};
            for (size_t j = 0; j < nkeys; j++) sb_printf(L->cx, &expected, "%s%s", j ? ", " : "", keys[j]);
            report(L, DIAG_ERROR, node_offset(L, key), "optable-unknown-key",
                   "unknown key '%s' in %s (expected one of: %s)",
                   key->kind == YN_SCALAR ? key->text : "<non-scalar>", where, expected.data);
        } else if (vals[k]) {
            report(L, DIAG_ERROR, node_offset(L, key), "optable-duplicate-key", "key '%s' given twice in %s",
                   keys[k], where);
        } else {
            vals[k] = map->items[i + 1];
        }
    }
}

// ---------------------------------------------------------------------------
// Schema parser (§6.2), recursive descent over the `op:` string
//
//   schema := IDENT '(' [param (',' param)* [',']] ')' ['->' type]
//   param  := '*' | '/' | IDENT ':' type ['=' default]
//   type   := primary ('|' primary)*
//   primary:= '...' | dotted ['[' type (',' type)* [','] ']']
//   default:= raw text up to the next ',' or ')' outside brackets and strings

typedef struct Schema {
    Loader *L;
    const YNode *node;
    const char *s;
    size_t len, pos;
    bool failed;  // a syntax error: parsing stops
    bool bad;     // any error (unknown types keep parsing)
} Schema;

static void schema_error(Schema *P, size_t at, const char *code, const char *fmt, ...) FFQ_PRINTF(4, 5);

static void schema_error(Schema *P, size_t at, const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const char *msg = arena_vprintf(P->L->cx, fmt, ap);
    va_end(ap);
    report(P->L, DIAG_ERROR, scalar_offset(P->L, P->node, at), code, "%s", msg);
    P->bad = true;
}

static void syntax_error(Schema *P, const char *what) {
    if (P->failed) return;
    if (P->pos >= P->len)
        schema_error(P, P->pos, "optable-bad-schema", "bad schema: expected %s at end of schema", what);
    else
        schema_error(P, P->pos, "optable-bad-schema", "bad schema: expected %s before '%c'", what,
                     P->s[P->pos]);
    P->failed = true;
}

static void skip_ws(Schema *P) {
    while (P->pos < P->len &&
           (P->s[P->pos] == ' ' || P->s[P->pos] == '\t' || P->s[P->pos] == '\n' || P->s[P->pos] == '\r'))
        P->pos++;
}

static bool accept(Schema *P, const char *tok) {
    skip_ws(P);
    size_t n = strlen(tok);
    if (P->pos + n > P->len || memcmp(P->s + P->pos, tok, n) != 0) return false;
    P->pos += n;
    return true;
}

static bool expect(Schema *P, const char *tok, const char *what) {
    if (accept(P, tok)) return true;
    syntax_error(P, what);
    return false;
}

static const char *ident(Schema *P) {
    skip_ws(P);
    if (P->pos >= P->len || !is_ident_start(P->s[P->pos])) return NULL;
    size_t start = P->pos;
    while (P->pos < P->len && is_ident_char(P->s[P->pos])) P->pos++;
    return arena_strndup(P->L->cx, P->s + start, P->pos - start);
}

static const OpType *parse_type(Schema *P);

static OpType *new_type(Schema *P, TypeName tn, const char *name) {
    OpType *t = ARENA_NEW(P->L->cx, OpType);
    t->tn = tn;
    t->name = name;
    return t;
}

// '[' type (',' type)* [','] ']'
static void parse_type_args(Schema *P, OpType *t) {
    PtrVec args = {0};
    do {
        skip_ws(P);
        if (P->pos < P->len && P->s[P->pos] == ']' && args.len) break;  // trailing comma
        const OpType *a = parse_type(P);
        if (P->failed) return;
        vec_push(P->L->cx, &args, (void *)a);
    } while (accept(P, ","));
    if (!expect(P, "]", "',' or ']'")) return;
    t->args = (const OpType **)args.items;
    t->nargs = args.len;
    t->has_brackets = true;
}

// Reads a dotted name (`torch.Tensor`) into *name; false, after a syntax error, when a part is missing.
static bool parse_dotted_name(Schema *P, StrBuf *name) {
    const char *part = ident(P);
    if (!part) {
        syntax_error(P, "a type");
        return false;
    }
    sb_puts(P->L->cx, name, part);
    while (accept(P, ".")) {
        part = ident(P);
        if (!part) {
            syntax_error(P, "a name after '.'");
            return false;
        }
        sb_printf(P->L->cx, name, ".%s", part);
    }
    return true;
}

// A name, possibly generic: `int`, `torch.Tensor`, `Optional[Quantized]`.
static const OpType *parse_named_type(Schema *P) {
    size_t at = P->pos;
    StrBuf name = {0};
    if (!parse_dotted_name(P, &name)) return NULL;
    for (size_t i = 0; i < sizeof generic_types / sizeof generic_types[0]; i++) {
        if (strcmp(name.data, generic_types[i].name) != 0) continue;
        OpType *t = new_type(P, generic_types[i].tn, name.data);
        if (accept(P, "[")) {
            parse_type_args(P, t);
            if (P->failed) return NULL;
            bool too_few = t->nargs < generic_types[i].min_args;
            bool too_many = generic_types[i].max_args && t->nargs > generic_types[i].max_args;
            if (too_few || too_many)
                schema_error(P, at, "optable-bad-schema", "bad schema: '%s' takes %zu type argument%s",
                             name.data, generic_types[i].min_args,
                             generic_types[i].min_args == 1 ? "" : "s or more");
        } else if (!generic_types[i].bare_ok) {
            schema_error(P, at, "optable-bad-schema", "bad schema: '%s' needs type arguments", name.data);
        }
        return t;
    }
    TypeName tn = TN_ERROR;
    for (size_t i = 0; i < sizeof simple_types / sizeof simple_types[0]; i++)
        if (strcmp(name.data, simple_types[i].name) == 0) tn = simple_types[i].tn;
    if (tn == TN_ERROR) schema_error(P, at, "optable-unknown-type", "unknown type '%s' in schema", name.data);
    OpType *t = new_type(P, tn, name.data);
    skip_ws(P);
    if (P->pos < P->len && P->s[P->pos] == '[') {
        schema_error(P, P->pos, "optable-bad-schema", "bad schema: '%s' takes no type arguments", name.data);
        P->failed = true;
    }
    return t;
}

static const OpType *parse_primary(Schema *P) {
    if (accept(P, "...")) return new_type(P, TN_ELLIPSIS, "...");
    skip_ws(P);
    return parse_named_type(P);
}

// type := primary ('|' primary)*
static const OpType *parse_type(Schema *P) {
    const OpType *first = parse_primary(P);
    if (P->failed) return NULL;
    skip_ws(P);
    if (P->pos >= P->len || P->s[P->pos] != '|') return first;
    PtrVec members = {0};
    vec_push(P->L->cx, &members, (void *)first);
    while (accept(P, "|")) {
        const OpType *m = parse_primary(P);
        if (P->failed) return NULL;
        vec_push(P->L->cx, &members, (void *)m);
    }
    OpType *u = new_type(P, TN_UNION, NULL);
    u->args = (const OpType **)members.items;
    u->nargs = members.len;
    return u;
}

// The default's text, kept as written except that a plain string literal is
// kept by value ('none' -> none).
static const char *parse_default(Schema *P) {
    skip_ws(P);
    size_t start = P->pos;
    int depth = 0;
    while (P->pos < P->len) {
        char c = P->s[P->pos];
        if (c == '\'' || c == '"') {
            P->pos++;
            while (P->pos < P->len && P->s[P->pos] != c) P->pos += P->s[P->pos] == '\\' ? 2 : 1;
            if (P->pos >= P->len) {
                schema_error(P, start, "optable-bad-schema", "bad schema: unterminated string in default");
                P->failed = true;
                return NULL;
            }
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
            depth--;
        } else if ((c == ',' || c == ')') && depth == 0) {
            break;
        }
        P->pos++;
    }
    size_t end = P->pos;
    while (end > start && (P->s[end - 1] == ' ' || P->s[end - 1] == '\t')) end--;
    if (end == start) {
        syntax_error(P, "a default value");
        return NULL;
    }
    const char *d = P->s + start;
    size_t n = end - start;
    bool is_str = n >= 2 && (d[0] == '\'' || d[0] == '"') && d[n - 1] == d[0] &&
                  !memchr(d + 1, d[0], n - 2) && !memchr(d, '\\', n);
    if (is_str) return arena_strndup(P->L->cx, d + 1, n - 2);
    return arena_strndup(P->L->cx, d, n);
}

static void render_type(ffq_ctx *cx, StrBuf *out, const OpType *t) {
    if (!t->name) {  // A | B
        for (size_t i = 0; i < t->nargs; i++) {
            if (i) sb_puts(cx, out, " | ");
            render_type(cx, out, t->args[i]);
        }
        return;
    }
    sb_puts(cx, out, t->name);
    if (!t->has_brackets) return;
    sb_putc(cx, out, '[');
    for (size_t i = 0; i < t->nargs; i++) {
        if (i) sb_puts(cx, out, ", ");
        render_type(cx, out, t->args[i]);
    }
    sb_putc(cx, out, ']');
}

// Quantized, MaybeQuantized, or a union (A | B, Union, Optional) with one of
// them at top level. Sequence[Quantized] is not a slot.
static bool is_quantized_slot(const OpType *t) {
    switch (t->tn) {
    case TN_QUANTIZED:
    case TN_MAYBE_QUANTIZED: return true;
    case TN_OPTIONAL:
    case TN_UNION:
        for (size_t i = 0; i < t->nargs; i++)
            if (is_quantized_slot(t->args[i])) return true;
        return false;
    default: return false;
    }
}

static bool contains_quantized(const OpType *t) {
    if (t->tn == TN_QUANTIZED || t->tn == TN_MAYBE_QUANTIZED) return true;
    for (size_t i = 0; i < t->nargs; i++)
        if (contains_quantized(t->args[i])) return true;
    return false;
}

// param := '*' | '/' | IDENT ':' type ['=' default]. Returns false for markers.
static bool parse_param(Schema *P, OpParam *out, const PtrVec *seen) {
    skip_ws(P);
    size_t at = P->pos;
    if (accept(P, "**") || accept(P, "*") || accept(P, "/")) {
        skip_ws(P);
        if (P->pos < P->len && is_ident_start(P->s[P->pos])) {
            schema_error(P, at, "optable-bad-schema", "bad schema: variadic parameters are not supported");
            P->failed = true;
            return false;
        }
        if (P->s[at] == '*' && at + 1 < P->len && P->s[at + 1] == '*') {
            syntax_error(P, "a parameter name after '**'");
            return false;
        }
        report(P->L, DIAG_WARNING, scalar_offset(P->L, P->node, at), "optable-param-marker",
               "'%c' marker in schema is ignored; all parameters are treated as ordinary ones", P->s[at]);
        return false;
    }
    const char *name = ident(P);
    if (!name) {
        syntax_error(P, "a parameter name");
        return false;
    }
    for (size_t i = 0; i < seen->len; i++)
        if (strcmp(VEC_AT(*seen, OpParam, i)->name, name) == 0) {
            schema_error(P, at, "optable-bad-schema", "bad schema: parameter '%s' given twice", name);
            break;
        }
    if (!accept(P, ":")) {
        schema_error(P, at, "optable-bad-schema", "bad schema: parameter '%s' has no type annotation", name);
        P->failed = true;
        return false;
    }
    const OpType *type = parse_type(P);
    if (P->failed) return false;
    out->name = name;
    out->type = type;
    StrBuf text = {0};
    render_type(P->L->cx, &text, type);
    out->type_text = text.data;
    out->is_quantized = is_quantized_slot(type);
    if (accept(P, "=")) out->default_text = parse_default(P);
    return !P->failed;
}

// Parses an `op:` scalar into e (identifier, params, returns_quantized).
static bool parse_schema(Loader *L, const YNode *node, OpEntry *e) {
    if (node->kind != YN_SCALAR || node->len == 0) {
        report(L, DIAG_ERROR, node_offset(L, node), "optable-bad-schema",
               "bad schema: 'op' must be a string like 'name(param: Type, ...) -> Quantized'");
        return false;
    }
    Schema P = {.L = L, .node = node, .s = node->text, .len = node->len};
    e->schema_text = node->text;
    e->identifier = ident(&P);
    if (!e->identifier) {
        syntax_error(&P, "the operator name");
        return false;
    }
    if (!expect(&P, "(", "'('")) return false;
    PtrVec params = {0};
    if (!accept(&P, ")")) {
        do {
            skip_ws(&P);
            if (P.pos < P.len && P.s[P.pos] == ')' && params.len) break;  // trailing comma
            OpParam p = {0};
            if (parse_param(&P, &p, &params)) {
                OpParam *keep = ARENA_NEW(L->cx, OpParam);
                *keep = p;
                vec_push(L->cx, &params, keep);
            }
            if (P.failed) return false;
        } while (accept(&P, ","));
        if (!expect(&P, ")", "',' or ')'")) return false;
    }
    if (accept(&P, "->")) {
        const OpType *ret = parse_type(&P);
        if (P.failed) return false;
        e->returns_quantized = contains_quantized(ret);
    }
    skip_ws(&P);
    if (P.pos < P.len) {
        schema_error(&P, P.pos, "optable-bad-schema", "bad schema: unexpected text after the schema");
        return false;
    }
    OpParam *arr = ARENA_ARRAY(L->cx, OpParam, params.len ? params.len : 1);
    for (size_t i = 0; i < params.len; i++) arr[i] = *VEC_AT(params, OpParam, i);
    e->params = arr;
    e->nparams = params.len;
    return !P.bad;
}

// ---------------------------------------------------------------------------
// Entries

static OpGroup *lookup(const Loader *L, const char *name) {
    OpGroup *g = map_get(&L->t->names, name);
    return g ? g : map_get(&L->staged, name);
}

static void stage(Loader *L, const char *name, OpGroup *g) {
    map_put(L->cx, &L->staged, name, g);
    NameSlot *s = ARENA_NEW(L->cx, NameSlot);
    s->name = name;
    s->group = g;
    vec_push(L->cx, &L->staged_names, s);
}

// The overload set of a fallback, created (with its built-in identities) on first use.
static OpGroup *group_for(Loader *L, const char *fallback) {
    OpGroup *g = lookup(L, fallback);
    if (g) return g;
    g = ARENA_NEW(L->cx, OpGroup);
    g->fallback = fallback;
    stage(L, fallback, g);
    for (size_t i = 0; i < sizeof identities / sizeof identities[0]; i++)
        for (int k = 0; k < 2; k++)
            if (strcmp(identities[i][k], fallback) == 0 && !lookup(L, identities[i][1 - k]))
                stage(L, identities[i][1 - k], g);
    return g;
}

static const char *const entry_keys[] = {
    "op", "fallback", "aliases", "dispatch", "intermediate_quantizers", "cast_output",
};
enum { EK_OP, EK_FALLBACK, EK_ALIASES, EK_DISPATCH, EK_INTERMEDIATES, EK_CAST_OUTPUT, EK__COUNT };

// A list of names; `nodes` (if non-NULL) receives the scalar of each name kept.
static const char *const *get_names(Loader *L, const YNode *list, size_t *n, bool dotted, const char *what,
                                    const YNode ***nodes) {
    *n = 0;
    if (!list) return NULL;
    const YNode *seq = get_list(L, list, what);
    if (!seq) return NULL;
    const char **names = ARENA_ARRAY(L->cx, const char *, seq->n ? seq->n : 1);
    const YNode **at = ARENA_ARRAY(L->cx, const YNode *, seq->n ? seq->n : 1);
    for (size_t i = 0; i < seq->n; i++) {
        const YNode *item = seq->items[i];
        const char *name = get_dotted(L, item, what);
        if (!name) continue;
        if (!dotted && strchr(name, '.')) {
            report(L, DIAG_ERROR, node_offset(L, item), "optable-bad-value",
                   "%s '%s' must be a plain identifier", what, name);
            continue;
        }
        at[*n] = item;
        names[(*n)++] = name;
    }
    if (nodes) *nodes = at;
    return names;
}

// Stages entry e's aliases as names of group g; an alias naming another group is an error.
static void stage_aliases(Loader *L, const OpEntry *e, OpGroup *g, const YNode **alias_nodes) {
    for (size_t i = 0; i < e->naliases; i++) {
        const char *a = e->aliases[i];
        OpGroup *h = lookup(L, a);
        if (h == g) continue;
        if (h) {
            report(L, DIAG_ERROR, node_offset(L, alias_nodes[i]), "optable-duplicate-alias",
                   "alias '%s' already names a different operator ('%s')", a, h->fallback);
            continue;
        }
        stage(L, a, g);
    }
}

static void load_entry(Loader *L, const YNode *n) {
    if (n->kind != YN_MAP) {
        report(L, DIAG_ERROR, node_offset(L, n), "optable-bad-value",
               "an operator entry must be a mapping with 'op' and 'fallback'");
        return;
    }
    const YNode *v[EK__COUNT];
    get_keys(L, n, entry_keys, v, EK__COUNT, "operator entry");
    for (int k = EK_OP; k <= EK_FALLBACK; k++)
        if (!v[k])
            report(L, DIAG_ERROR, node_offset(L, n), "optable-missing-key", "operator entry has no '%s' key",
                   entry_keys[k]);
    OpEntry *e = ARENA_NEW(L->cx, OpEntry);
    e->file = L->file->path;
    e->line = n->line + 1;
    bool ok = v[EK_OP] && parse_schema(L, v[EK_OP], e);
    e->fallback = v[EK_FALLBACK] ? get_dotted(L, v[EK_FALLBACK], "fallback") : NULL;
    const YNode **alias_nodes = NULL;
    e->aliases = get_names(L, v[EK_ALIASES], &e->naliases, true, "alias", &alias_nodes);
    e->intermediates =
        get_names(L, v[EK_INTERMEDIATES], &e->nintermediates, false, "intermediate quantizer name", NULL);
    if (v[EK_DISPATCH]) {
        e->dispatch = get_dotted(L, v[EK_DISPATCH], "dispatch");
        e->custom_dispatch = true;
        ok = ok && e->dispatch;
    } else if (e->identifier) {
        e->dispatch = arena_printf(L->cx, "fastforward.nn.functional.%s", e->identifier);
    }
    if (!e->fallback) return;
    OpGroup *g = group_for(L, e->fallback);
    stage_aliases(L, e, g, alias_nodes);
    if (!ok) return;
    Pending *p = ARENA_NEW(L->cx, Pending);
    p->entry = e;
    p->group = g;
    vec_push(L->cx, &L->pending, p);
}

static void load_operators(Loader *L, const YNode *n) {
    const YNode *seq = get_list(L, n, "operators");
    for (size_t i = 0; seq && i < seq->n; i++) load_entry(L, seq->items[i]);
}

static void load_pyops(Loader *L, const YNode *n) {
    if (is_null(n)) return;
    if (n->kind != YN_MAP) {
        report(L, DIAG_ERROR, node_offset(L, n), "optable-bad-value",
               "python_operators must be a mapping from operator to torch function");
        return;
    }
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const YNode *key = n->items[i];
        size_t k = 0, nk = sizeof pyop_keys / sizeof pyop_keys[0];
        while (k < nk && !(key->kind == YN_SCALAR && strcmp(key->text, pyop_keys[k].key) == 0)) k++;
        if (k == nk) {
            report(L, DIAG_ERROR, node_offset(L, key), "optable-bad-operator",
                   "'%s' is not a Python operator that can be rewritten (use e.g. \"+\", \"unary -\", \"~\")",
                   key->kind == YN_SCALAR ? key->text : "<non-scalar>");
            continue;
        }
        for (size_t j = 0; j < i; j += 2) {
            const YNode *prev = n->items[j];
            if (prev->kind == YN_SCALAR && strcmp(prev->text, key->text) == 0)
                report(L, DIAG_ERROR, node_offset(L, key), "optable-duplicate-key",
                       "operator '%s' given twice", key->text);
        }
        const char *fallback = get_dotted(L, n->items[i + 1], "operator function");
        if (!fallback) continue;
        PyOp *op = ARENA_NEW(L->cx, PyOp);
        op->op = pyop_keys[k].op;
        op->unary = pyop_keys[k].unary;
        op->fallback = fallback;
        vec_push(L->cx, &L->pyops, op);
    }
}

static const char *const pattern_keys[] = {"pattern", "replacement", "on"};

static void load_pattern(Loader *L, const YNode *n) {
    const char *rule = NULL, *on = NULL;
    if (n->kind == YN_SCALAR) {
        if (!strstr(n->text, "=>")) {
            report(L, DIAG_ERROR, node_offset(L, n), "optable-bad-pattern",
                   "pattern rule must have the form PATTERN=>REPLACEMENT");
            return;
        }
        rule = n->text;
    } else if (n->kind == YN_MAP) {
        const YNode *v[3];
        get_keys(L, n, pattern_keys, v, 3, "pattern rule");
        if (v[2]) {  // `on`: a dotted scope (module prefix, or <module>.<Class>.<function>)
            if (v[2]->kind != YN_SCALAR || v[2]->len == 0) {
                report(L, DIAG_ERROR, node_offset(L, v[2]), "optable-bad-pattern",
                       "'on' must be a dotted scope such as torch.nn.modules");
                return;
            }
            on = v[2]->text;
        }
        for (int k = 0; k < 2; k++) {
            if (!v[k]) {
                report(L, DIAG_ERROR, node_offset(L, n), "optable-missing-key",
                       "pattern rule has no '%s' key", pattern_keys[k]);
                return;
            }
            if (v[k]->kind != YN_SCALAR || v[k]->len == 0) {
                report(L, DIAG_ERROR, node_offset(L, v[k]), "optable-bad-pattern",
                       "'%s' must be a non-empty string", pattern_keys[k]);
                return;
            }
        }
        rule = arena_printf(L->cx, "%s=>%s", v[0]->text, v[1]->text);
    } else {
        report(L, DIAG_ERROR, node_offset(L, n), "optable-bad-pattern",
               "a pattern rule must be a string or a mapping {pattern, replacement[, on]}");
        return;
    }
    TablePattern *p = ARENA_NEW(L->cx, TablePattern);
    p->rule = rule;
    p->on = on;
    p->file = L->file;
    p->offset = node_offset(L, n);
    vec_push(L->cx, &L->patterns, p);
}

static const char *const root_keys[] = {"operators", "python_operators", "patterns"};

static void load_root(Loader *L, const YNode *root) {
    if (!root || is_null(root)) return;  // an empty table
    if (root->kind == YN_SEQ) {
        load_operators(L, root);
        return;
    }
    if (root->kind != YN_MAP) {
        report(L, DIAG_ERROR, node_offset(L, root), "optable-yaml",
               "a table must be a list of operator entries or a mapping with 'operators'");
        return;
    }
    const YNode *v[3];
    get_keys(L, root, root_keys, v, 3, "table");
    if (v[0]) load_operators(L, v[0]);
    if (v[1]) load_pyops(L, v[1]);
    const YNode *pats = v[2] ? get_list(L, v[2], "patterns") : NULL;
    for (size_t i = 0; pats && i < pats->n; i++) load_pattern(L, pats->items[i]);
}

static void commit(Loader *L) {
    OpTable *t = L->t;
    for (size_t i = 0; i < L->staged_names.len; i++) {
        const NameSlot *s = VEC_AT(L->staged_names, NameSlot, i);
        map_put(L->cx, &t->names, s->name, s->group);
    }
    for (size_t i = 0; i < L->pending.len; i++) {
        Pending *p = VEC_AT(L->pending, Pending, i);
        vec_push(L->cx, &p->group->entries, p->entry);
        vec_push(L->cx, &t->entries, p->entry);
    }
    for (size_t i = 0; i < L->pyops.len; i++) vec_push(L->cx, &t->pyops, L->pyops.items[i]);
    for (size_t i = 0; i < L->patterns.len; i++) vec_push(L->cx, &t->patterns, L->patterns.items[i]);
}

static bool load_srcfile(ffq_ctx *cx, OpTable *t, const SrcFile *f) {
    Loader L = {.cx = cx, .t = t, .file = f};
    YamlScan count = {0};
    scan_yaml(f, &count);  // pass 1: count only
    if (count.failed) {
        uint32_t off = count.has_offset ? (uint32_t)(count.offset < f->len ? count.offset : f->len)
                                        : mark_offset(f, count.line, count.col);
        diag_at(cx, DIAG_ERROR, f, off, "optable-yaml", "malformed YAML: %s", count.problem);
        if (count.context)
            diag_at(cx, DIAG_NOTE, f, mark_offset(f, count.context_line, count.context_col), "optable-yaml",
                    "%s that started here", count.context);
        return false;
    }
    YamlScan fill = {0};
    fill.events = ARENA_ARRAY(cx, YEvent, count.nevents ? count.nevents : 1);
    fill.text = arena_alloc(cx, count.nbytes ? count.nbytes : 1);
    scan_yaml(f, &fill);  // pass 2: the same events, into the arrays
    ffq_assert(!fill.failed && fill.nevents == count.nevents && fill.nbytes == count.nbytes);
    size_t i = 0;
    const YNode *root = fill.nevents ? build_node(cx, &fill, &i) : NULL;
    load_root(&L, root);
    if (L.nerrors) return false;
    commit(&L);
    return true;
}

// ---------------------------------------------------------------------------
// Public functions

bool optable_load_buffer(ffq_ctx *cx, OpTable *t, const char *name, const char *data, size_t len) {
    return load_srcfile(cx, t, srcfile_new(cx, name, data, len));
}

bool optable_load_default(ffq_ctx *cx, OpTable *t) {
    return optable_load_buffer(cx, t, "<default>", ffq_default_optable, ffq_default_optable_len);
}

bool optable_load_file(ffq_ctx *cx, OpTable *t, const char *path) {
    const SrcFile *f = srcfile_read(cx, path);
    return f && load_srcfile(cx, t, f);
}

bool optable_has(const OpTable *t, const char *qualname) { return map_get(&t->names, qualname) != NULL; }

#define KEYWORDS_MAX 64  // keyword arguments of one call (more: no overload)

// torch's own functions (torch.cat, torch.sum: its C argument parser) also take NumPy's
// names for some parameters: axis for dim, keepdims for keepdim, x / a / x1 for input,
// x2 for other. torch.nn.functional's Python functions do not.
static const char *numpy_name_of(const char *kw) {
    static const char *const pairs[][2] = {
        {"axis", "dim"}, {"keepdims", "keepdim"}, {"x", "input"},
        {"a", "input"},  {"x1", "input"},         {"x2", "other"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (strcmp(kw, pairs[i][0]) == 0) return pairs[i][1];
    return NULL;
}

// The index of the parameter keyword kw binds (with NumPy's names when numpy), or nparams.
static size_t keyword_param(const OpEntry *e, const char *kw, bool numpy) {
    for (size_t i = 0; i < e->nparams; i++)
        if (strcmp(e->params[i].name, kw) == 0) return i;
    const char *alias = numpy ? numpy_name_of(kw) : NULL;
    if (alias)
        for (size_t i = 0; i < e->nparams; i++)
            if (strcmp(e->params[i].name, alias) == 0) return i;
    return e->nparams;
}

const char *optable_keyword_param(const OpEntry *e, const char *kw) {
    size_t i = keyword_param(e, kw, true);
    return i < e->nparams ? e->params[i].name : NULL;
}

// §6.3: positional arguments bind to the first parameters, each keyword names a
// parameter not bound yet, and every parameter without a default is bound.
static bool matches(const OpEntry *e, size_t npos, const char *const *kwnames, size_t nkw, bool numpy) {
    if (npos + nkw > e->nparams) return false;
    size_t bound[KEYWORDS_MAX];
    if (nkw > KEYWORDS_MAX) return false;
    for (size_t k = 0; k < nkw; k++) {
        size_t i = keyword_param(e, kwnames[k], numpy);
        if (i == e->nparams || i < npos) return false;
        for (size_t j = 0; j < k; j++)
            if (bound[j] == i) return false;  // the same parameter twice (dim= and axis= too)
        bound[k] = i;
    }
    for (size_t i = npos; i < e->nparams; i++) {
        if (e->params[i].default_text) continue;
        size_t k = 0;
        while (k < nkw && bound[k] != i) k++;
        if (k == nkw) return false;
    }
    return true;
}

const OpEntry *optable_select(const OpTable *t, const char *qualname, size_t npos, const char *const *kwnames,
                              size_t nkw) {
    const OpGroup *g = map_get(&t->names, qualname);
    if (!g) return NULL;
    const char *member = str_after_prefix(qualname, "torch.");
    bool numpy = member && !strchr(member, '.');
    for (size_t i = g->entries.len; i-- > 0;) {
        const OpEntry *e = g->entries.items[i];
        if (matches(e, npos, kwnames, nkw, numpy)) return e;
    }
    return NULL;
}

const char *optable_operator_fallback(const OpTable *t, const char *op, bool unary) {
    if (!op) return NULL;
    for (size_t i = t->pyops.len; i-- > 0;) {
        const PyOp *p = t->pyops.items[i];
        if (p->unary == unary && strcmp(p->op, op) == 0) return p->fallback;
    }
    return NULL;
}

const char *optable_canonical_name(const OpEntry *e) {
    const char *dot = strrchr(e->fallback, '.');
    return dot ? dot + 1 : e->fallback;
}

size_t optable_count(const OpTable *t) { return t->entries.len; }

const OpEntry *optable_entry(const OpTable *t, size_t i) {
    ffq_assert(i < t->entries.len);
    return t->entries.items[i];
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Appends `s` with each inner run of whitespace (a block scalar's line breaks) as one space.
static void put_one_line(ffq_ctx *cx, StrBuf *out, const char *s) {
    bool started = false, pending_space = false;
    for (; *s; s++) {
        if (is_space(*s)) {
            pending_space = started;
            continue;
        }
        if (pending_space) sb_putc(cx, out, ' ');
        started = true;
        pending_space = false;
        sb_putc(cx, out, *s);
    }
}

// One line, newline included:
// identifier <TAB> schema <TAB> fallback <TAB> aliases (comma-separated, or -) <TAB> dispatch
void optable_render_entry(ffq_ctx *cx, StrBuf *out, const OpEntry *e) {
    sb_printf(cx, out, "%s\t", e->identifier);
    put_one_line(cx, out, e->schema_text);
    sb_printf(cx, out, "\t%s\t", e->fallback);
    for (size_t i = 0; i < e->naliases; i++) sb_printf(cx, out, "%s%s", i ? "," : "", e->aliases[i]);
    if (!e->naliases) sb_putc(cx, out, '-');
    sb_printf(cx, out, "\t%s\n", e->dispatch);
}

size_t optable_npatterns(const OpTable *t) { return t->patterns.len; }

const TablePattern *optable_pattern(const OpTable *t, size_t i) {
    ffq_assert(i < t->patterns.len);
    return t->patterns.items[i];
}

static ffq_status run(ffq_ctx *cx, const char *const *files, size_t nfiles, bool no_default, bool list) {
    OpTable *t = optable_new(cx);
    cx->optable = t;
    bool ok = no_default || optable_load_default(cx, t);
    bool io_error = false;
    for (size_t i = 0; i < nfiles; i++) {
        const SrcFile *f = srcfile_read(cx, files[i]);
        if (!f) io_error = true;
        else if (!load_srcfile(cx, t, f)) ok = false;
    }
    if (io_error) return FFQ_ERR_IO;
    if (!ok) return FFQ_ERR_INPUT;
    if (list) {
        StrBuf out = {0};
        for (size_t i = 0; i < optable_count(t); i++) optable_render_entry(cx, &out, optable_entry(t, i));
        cx->output = sb_cstr(cx, &out);
        cx->output_len = out.len;
    }
    return FFQ_OK;
}

// An API entry point, so it has its own recovery point for allocation failures.
ffq_status ffq_optable_run(ffq_ctx *cx, const char *const *files, size_t nfiles, bool no_default, bool list) {
    jmp_buf jb;
    jmp_buf *saved = cx->recover;
    cx->recover = &jb;
    if (setjmp(jb)) {
        cx->recover = saved;
        return FFQ_ERR_NOMEM;
    }
    ffq_status st = run(cx, files, nfiles, no_default, list);
    cx->recover = saved;
    return st;
}
