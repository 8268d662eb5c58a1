// source.c: load and parse Python source; the only file that walks tree-sitter.
//
// Consumes: a SrcFile (bytes + line table). Produces: a Cst, a flat array of
// every node (named and anonymous) in which the children of a node are
// contiguous and in source order, plus one syntax diagnostic per outermost
// ERROR node and per MISSING node. The tree-sitter tree is freed before
// source_parse returns: later passes never see a TSNode.
#include <string.h>
#include <tree_sitter/api.h>
// tree-sitter's internal headers, for the flattening walk below (see flatten).
#include <src/language.h>
#include <src/subtree.h>
#include <src/tree.h>

#include "ffq_int.h"

const TSLanguage *tree_sitter_python(void);

static const struct {
    NodeKind kind;
    const char *name;
} kind_names[] = {
    {K_ERROR, "ERROR"},
    {K_MODULE, "module"},
    {K_CLASS_DEF, "class_definition"},
    {K_FUNCTION_DEF, "function_definition"},
    {K_DECORATED_DEF, "decorated_definition"},
    {K_DECORATOR, "decorator"},
    {K_BLOCK, "block"},
    {K_EXPR_STMT, "expression_statement"},
    {K_RETURN, "return_statement"},
    {K_PASS, "pass_statement"},
    {K_BREAK, "break_statement"},
    {K_CONTINUE, "continue_statement"},
    {K_RAISE, "raise_statement"},
    {K_DELETE, "delete_statement"},
    {K_ASSERT, "assert_statement"},
    {K_GLOBAL, "global_statement"},
    {K_NONLOCAL, "nonlocal_statement"},
    {K_IF, "if_statement"},
    {K_ELIF, "elif_clause"},
    {K_ELSE, "else_clause"},
    {K_FOR, "for_statement"},
    {K_WHILE, "while_statement"},
    {K_WITH, "with_statement"},
    {K_WITH_CLAUSE, "with_clause"},
    {K_WITH_ITEM, "with_item"},
    {K_TRY, "try_statement"},
    {K_EXCEPT, "except_clause"},
    {K_FINALLY, "finally_clause"},
    {K_MATCH, "match_statement"},
    {K_TYPE_ALIAS, "type_alias_statement"},
    {K_IMPORT, "import_statement"},
    {K_IMPORT_FROM, "import_from_statement"},
    {K_FUTURE_IMPORT, "future_import_statement"},
    {K_ALIASED_IMPORT, "aliased_import"},
    {K_DOTTED_NAME, "dotted_name"},
    {K_RELATIVE_IMPORT, "relative_import"},
    {K_IMPORT_PREFIX, "import_prefix"},
    {K_WILDCARD_IMPORT, "wildcard_import"},
    {K_PRINT, "print_statement"},
    {K_EXEC, "exec_statement"},
    {K_ASSIGNMENT, "assignment"},
    {K_AUG_ASSIGNMENT, "augmented_assignment"},
    {K_IDENTIFIER, "identifier"},
    {K_ATTRIBUTE, "attribute"},
    {K_SUBSCRIPT, "subscript"},
    {K_SLICE, "slice"},
    {K_CALL, "call"},
    {K_ARGUMENT_LIST, "argument_list"},
    {K_KEYWORD_ARGUMENT, "keyword_argument"},
    {K_LIST_SPLAT, "list_splat"},
    {K_DICT_SPLAT, "dictionary_splat"},
    {K_PAREN_LIST_SPLAT, "parenthesized_list_splat"},
    {K_BINARY_OP, "binary_operator"},
    {K_UNARY_OP, "unary_operator"},
    {K_BOOLEAN_OP, "boolean_operator"},
    {K_NOT_OP, "not_operator"},
    {K_COMPARISON, "comparison_operator"},
    {K_CONDITIONAL_EXPR, "conditional_expression"},
    {K_PAREN_EXPR, "parenthesized_expression"},
    {K_TUPLE, "tuple"},
    {K_LIST, "list"},
    {K_SET, "set"},
    {K_DICT, "dictionary"},
    {K_PAIR, "pair"},
    {K_LIST_COMP, "list_comprehension"},
    {K_SET_COMP, "set_comprehension"},
    {K_DICT_COMP, "dictionary_comprehension"},
    {K_GENERATOR, "generator_expression"},
    {K_FOR_IN_CLAUSE, "for_in_clause"},
    {K_IF_CLAUSE, "if_clause"},
    {K_LAMBDA, "lambda"},
    {K_LAMBDA_PARAMS, "lambda_parameters"},
    {K_NAMED_EXPR, "named_expression"},
    {K_AWAIT, "await"},
    {K_YIELD, "yield"},
    {K_EXPRESSION_LIST, "expression_list"},
    {K_PATTERN_LIST, "pattern_list"},
    {K_TUPLE_PATTERN, "tuple_pattern"},
    {K_LIST_PATTERN, "list_pattern"},
    {K_LIST_SPLAT_PATTERN, "list_splat_pattern"},
    {K_DICT_SPLAT_PATTERN, "dictionary_splat_pattern"},
    {K_AS_PATTERN, "as_pattern"},
    {K_INTEGER, "integer"},
    {K_FLOAT, "float"},
    {K_STRING, "string"},
    {K_CONCAT_STRING, "concatenated_string"},
    {K_TRUE, "true"},
    {K_FALSE, "false"},
    {K_NONE, "none"},
    {K_ELLIPSIS, "ellipsis"},
    {K_COMMENT, "comment"},
    {K_PARAMETERS, "parameters"},
    {K_TYPED_PARAMETER, "typed_parameter"},
    {K_DEFAULT_PARAMETER, "default_parameter"},
    {K_TYPED_DEFAULT_PARAMETER, "typed_default_parameter"},
    {K_KEYWORD_SEPARATOR, "keyword_separator"},
    {K_POSITIONAL_SEPARATOR, "positional_separator"},
    {K_TYPE, "type"},
};

static const struct {
    FieldKind field;
    const char *name;
} field_names[] = {
    {F_ALIAS, "alias"},
    {F_ALTERNATIVE, "alternative"},
    {F_ARGUMENT, "argument"},
    {F_ARGUMENTS, "arguments"},
    {F_ATTRIBUTE, "attribute"},
    {F_BODY, "body"},
    {F_CAUSE, "cause"},
    {F_CONDITION, "condition"},
    {F_CONSEQUENCE, "consequence"},
    {F_DEFINITION, "definition"},
    {F_FUNCTION, "function"},
    {F_KEY, "key"},
    {F_LEFT, "left"},
    {F_MODULE_NAME, "module_name"},
    {F_NAME, "name"},
    {F_OBJECT, "object"},
    {F_OPERATOR, "operator"},
    {F_OPERATORS, "operators"},
    {F_PARAMETERS, "parameters"},
    {F_RETURN_TYPE, "return_type"},
    {F_RIGHT, "right"},
    {F_SUBSCRIPT, "subscript"},
    {F_SUPERCLASSES, "superclasses"},
    {F_TYPE, "type"},
    {F_VALUE, "value"},
};

static const char *const keywords[] = {
    "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
    "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
    "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
    "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield",
};

bool cst_is_keyword(const char *s, size_t n) {
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i]) == n && memcmp(keywords[i], s, n) == 0) return true;
    return false;
}

const char *cst_kind_name(uint32_t kind) {
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if ((uint32_t)kind_names[i].kind == kind) return kind_names[i].name;
    return kind == K_TOKEN ? "token" : "other";
}

static void init_lang(ffq_ctx *cx) {
    CstLang *L = &cx->lang;
    if (L->lang) return;
    if (cx->cache && cache_lang(cx, init_lang)) return;  // made once per run, shared read-only
    const TSLanguage *lang = tree_sitter_python();
    L->lang = lang;
    L->nsyms = ts_language_symbol_count(lang);
    L->kind_of_sym = ARENA_ARRAY(cx, uint16_t, L->nsyms);
    for (uint32_t s = 0; s < L->nsyms; s++) {
        const char *name = ts_language_symbol_name(lang, (TSSymbol)s);
        TSSymbolType type = ts_language_symbol_type(lang, (TSSymbol)s);
        L->kind_of_sym[s] = type == TSSymbolTypeAnonymous ? K_TOKEN : K_OTHER;
        if (!name || type == TSSymbolTypeAnonymous) continue;
        for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
            if (strcmp(name, kind_names[i].name) == 0) L->kind_of_sym[s] = kind_names[i].kind;
    }
    L->nfields = ts_language_field_count(lang) + 1;
    L->field_of_id = ARENA_ARRAY(cx, uint16_t, L->nfields);
    for (uint32_t f = 1; f < L->nfields; f++) {
        const char *name = ts_language_field_name_for_id(lang, (TSFieldId)f);
        for (size_t i = 0; name && i < sizeof field_names / sizeof field_names[0]; i++)
            if (strcmp(name, field_names[i].name) == 0) L->field_of_id[f] = field_names[i].field;
    }
}

void source_prepare(ffq_ctx *cx) {
    init_lang(cx);
    tspool_prepare(cx);
}

// Flattening walks tree-sitter's subtrees directly (its internal headers),
// as its tree cursor does but without the cursor's per-step bookkeeping: a
// cursor re-derives each node's alias, field and position from its stack at
// every step (on the torch corpus that made our parse ~18% slower than
// tree-sitter's alone; the direct walk is a small fraction of it). A node hidden by the
// grammar (a rule whose name starts with '_', not aliased) is walked through,
// its visible descendants becoming children of the nearest visible ancestor.
// Every child list is contiguous: when a visible node is reached, a block of
// its visible child count is reserved at the end of the table, and its
// children fill that block in order (the parent's nchildren counts them so
// far). So a parent always comes before its children, and the numbering is
// the depth-first order.

typedef struct Frame {
    Subtree tree;                          // the node whose children are walked
    const TSSymbol *aliases;               // its production's alias sequence, or NULL
    const TSFieldMapEntry *fields, *fend;  // its production's field map
    uint32_t child, structural;            // next child, next non-extra child
    uint32_t pos;                          // start byte of the next child
    uint32_t owner;                        // the nearest visible node (itself when visible)
    uint32_t depth;                        // the owner's depth (the module's is 0)
    TSFieldId inherit;                     // field passed to its children when it is hidden
} Frame;

typedef struct Walk {
    Frame *at;  // cx->live_scratch, kept for the context's next parse
    uint32_t depth, cap;
} Walk;

static Frame *walk_push(ffq_ctx *cx, Walk *w, const TSLanguage *lang, Subtree t, uint32_t pos, uint32_t owner,
                        uint32_t depth, TSFieldId inherit) {
    if (w->depth == w->cap) {
        size_t cap = w->cap ? (size_t)w->cap * 2 : 64;
        Frame *at = raw_alloc(cx, cap * sizeof(Frame));
        if (!at) arena_out_of_memory(cx);
        if (w->depth) memcpy(at, w->at, w->depth * sizeof(Frame));
        raw_free(cx, cx->live_scratch, cx->live_scratch_size);
        cx->live_scratch = w->at = at;
        cx->live_scratch_size = cap * sizeof(Frame);
        w->cap = (uint32_t)cap;
    }
    Frame *f = &w->at[w->depth++];
    uint16_t prod = ts_subtree_production_id(t);
    *f = (Frame){.tree = t,
                 .aliases = ts_language_alias_sequence(lang, prod),
                 .pos = pos,
                 .owner = owner,
                 .depth = depth,
                 .inherit = inherit};
    ts_language_field_map(lang, prod, &f->fields, &f->fend);
    return f;
}

// Reserves the block of visible node i's children.
static void reserve_children(Cst *cst, uint32_t i, Subtree t, uint32_t *count, uint32_t cap) {
    uint32_t k = ts_subtree_visible_child_count(t);
    if (!k) return;
    ffq_assert(*count + k <= cap);
    cst->nodes[i].first_child = *count;
    *count += k;
}

static void fill(CstNode *n, const TSLanguage *lang, Subtree t, TSSymbol alias, uint32_t start,
                 uint32_t parent, uint16_t field, const CstLang *L) {
    n->start = start;
    n->end = start + ts_subtree_size(t).bytes;
    n->parent = parent;
    n->field = field;
    n->sym = ts_language_public_symbol(lang, alias ? alias : ts_subtree_symbol(t));
    n->kind = n->sym == ts_builtin_sym_error ? K_ERROR : n->sym < L->nsyms ? L->kind_of_sym[n->sym] : K_OTHER;
    n->named = alias ? ts_language_symbol_metadata(lang, alias).named : ts_subtree_named(t);
    n->missing = ts_subtree_missing(t);
    n->first_child = CST_NONE;
}

// tree-sitter-python parses a starred first element of a list, set, subscript or bare tuple
// with the star on the leftmost name only: `[*y.size()[:-1]]` becomes
// subscript(call(attribute(list_splat(y), size)), ...), which is `(*y).size()[:-1]`. Python
// reads `*` + the whole element (a bitwise-or level expression). The star is where a
// list_splat is the leftmost operand of an attribute, call, subscript or binary operator;
// the node E that tops that chain of leftmost operands is the starred expression. Rewired in
// place, without moving any other node: the list_splat's slot takes its operand X (X's slot
// and the star's are the list_splat's children block), E's slot becomes the list_splat over
// the star and E's content, moved into X's old slot, and the nodes between E and X, which
// started at the star, start at X; renumber then restores flatten's order. Returns the
// number of repairs.
static bool leftmost_operand_kind(uint32_t kind) {
    return kind == K_ATTRIBUTE || kind == K_CALL || kind == K_SUBSCRIPT || kind == K_BINARY_OP;
}

static void reparent_children(Cst *cst, uint32_t n) {
    for (uint32_t k = 0; k < cst->nodes[n].nchildren; k++)
        cst->nodes[cst->nodes[n].first_child + k].parent = n;
}

static uint32_t repair_splats(Cst *cst) {
    uint32_t repaired = 0;
    CstNode *nd = cst->nodes;
    for (uint32_t s = 0; s < cst->count; s++) {
        if (nd[s].kind != K_LIST_SPLAT || nd[s].nchildren != 2) continue;
        uint32_t star = nd[s].first_child, x = star + 1, p = nd[s].parent;
        if (nd[star].named || !nd[x].named || p == CST_NONE || !leftmost_operand_kind(nd[p].kind) ||
            nd[p].first_child != s)
            continue;
        uint32_t e = p;  // climb the leftmost operands to the starred expression
        while (nd[e].parent != CST_NONE && leftmost_operand_kind(nd[nd[e].parent].kind) &&
               nd[nd[e].parent].first_child == e)
            e = nd[e].parent;
        CstNode splat = nd[s], top = nd[e];
        // the operand into the list_splat's slot
        nd[s] = nd[x];
        nd[s].parent = p;
        nd[s].field = splat.field;
        reparent_children(cst, s);
        // E's content into the operand's old slot, E's slot the list_splat over it
        nd[x] = top;
        nd[x].parent = e;
        nd[x].field = F_NONE;
        reparent_children(cst, x);
        nd[star].parent = e;
        nd[e] = splat;
        nd[e].start = top.start;
        nd[e].end = top.end;
        nd[e].parent = top.parent;
        nd[e].field = top.field;
        nd[e].first_child = star;
        nd[e].nchildren = 2;
        for (uint32_t q = x; q != s; q = nd[q].first_child) nd[q].start = nd[s].start;
        repaired++;
    }
    return repaired;
}

// After repair_splats, which moves nodes between slots: the nodes numbered again as flatten
// numbers them (a node's children block reserved when the node is reached, depth first, so
// every child comes after its parent, which the passes walking the array backwards rely
// on). *deepest follows its node.
static void renumber(ffq_ctx *cx, Cst *cst, uint32_t *deepest) {
    const CstNode *old = cst->nodes;
    CstNode *nodes = ARENA_ARRAY(cx, CstNode, cst->count);
    uint32_t *to = ARENA_ARRAY(cx, uint32_t, cst->count);  // old index -> new
    uint32_t *stack = ARENA_ARRAY(cx, uint32_t, cst->count), depth = 0, next = 1;
    to[0] = 0;
    stack[depth++] = 0;
    while (depth) {
        uint32_t o = stack[--depth];
        for (uint32_t k = 0; k < old[o].nchildren; k++) to[old[o].first_child + k] = next++;
        for (uint32_t k = old[o].nchildren; k-- > 0;) stack[depth++] = old[o].first_child + k;
    }
    for (uint32_t o = 0; o < cst->count; o++) {
        CstNode *n = &nodes[to[o]];
        *n = old[o];
        if (n->parent != CST_NONE) n->parent = to[n->parent];
        if (n->nchildren) n->first_child = to[n->first_child];
    }
    cst->nodes = nodes;
    *deepest = to[*deepest];
}

// Also returns the depth of the deepest node (the module's is 0), and in
// *deepest the first such node.
static uint32_t flatten(ffq_ctx *cx, Cst *cst, const TSTree *tree, uint32_t *deepest) {
    const CstLang *L = &cx->lang;
    const TSLanguage *lang = tree->language;
    Subtree root = tree->root;
    uint32_t cap = ts_subtree_visible_descendant_count(root) + 1;
    cst->nodes = ARENA_ARRAY(cx, CstNode, cap);
    uint32_t start = ts_subtree_padding(root).bytes, count = 1;
    fill(&cst->nodes[0], lang, root, 0, start, CST_NONE, F_NONE, L);
    reserve_children(cst, 0, root, &count, cap);
    Walk w = {.at = cx->live_scratch, .cap = (uint32_t)(cx->live_scratch_size / sizeof(Frame))};
    uint32_t max = 0;
    *deepest = 0;
    if (ts_subtree_visible_child_count(root)) walk_push(cx, &w, lang, root, start, 0, 0, 0);
    while (w.depth) {
        Frame *f = &w.at[w.depth - 1];
        if (f->child == ts_subtree_child_count(f->tree)) {
            w.depth--;
            continue;
        }
        Subtree c = ts_subtree_children(f->tree)[f->child];
        uint32_t at = f->pos;
        if (++f->child < ts_subtree_child_count(f->tree))
            f->pos +=
                ts_subtree_size(c).bytes + ts_subtree_padding(ts_subtree_children(f->tree)[f->child]).bytes;
        TSSymbol alias = 0;
        TSFieldId fid = 0;
        if (!ts_subtree_extra(c)) {
            uint32_t sci = f->structural++;
            if (f->aliases) alias = f->aliases[sci];
            for (const TSFieldMapEntry *m = f->fields; m < f->fend && !fid; m++)
                if (!m->inherited && m->child_index == sci) fid = m->field_id;
            if (!fid) fid = f->inherit;
        }
        uint32_t owner = f->owner, depth = f->depth;
        if (ts_subtree_visible(c) || alias) {
            CstNode *p = &cst->nodes[owner];
            uint32_t i = p->first_child + p->nchildren++;
            uint16_t field = fid < L->nfields ? L->field_of_id[fid] : F_NONE;
            fill(&cst->nodes[i], lang, c, alias, at, owner, field, L);
            reserve_children(cst, i, c, &count, cap);
            // nodes are numbered out of the walk's order: the deepest is the lowest numbered
            if (depth + 1 > max || (depth + 1 == max && i < *deepest)) max = depth + 1, *deepest = i;
            if (ts_subtree_visible_child_count(c)) walk_push(cx, &w, lang, c, at, i, depth + 1, 0);
        } else if (ts_subtree_visible_child_count(c)) {
            walk_push(cx, &w, lang, c, at, owner, depth, fid);
        }
    }
    cst->count = count;
    if (!repair_splats(cst)) return max;
    renumber(cx, cst, deepest);
    return max + 1;
}

static const char *const compound_keywords[] = {"def",   "class", "if",  "elif",   "else",   "for",
                                                "while", "with",  "try", "except", "finally"};

// "def f(x)" at the end of a line: a compound statement header missing its colon.
static const char *missing_colon(const char *t, size_t len) {
    size_t end = len;
    while (end > 0 && (t[end - 1] == ' ' || t[end - 1] == '\t')) end--;
    if (end == 0 || t[end - 1] == ':') return NULL;
    for (size_t i = 0; i < sizeof compound_keywords / sizeof compound_keywords[0]; i++) {
        size_t kl = strlen(compound_keywords[i]);
        if (end >= kl && memcmp(t, compound_keywords[i], kl) == 0 &&
            (end == kl || t[kl] == ' ' || t[kl] == '(' || t[kl] == ':'))
            return compound_keywords[i];
    }
    return NULL;
}

// Source text for a message: printf would stop at a NUL byte, so NULs are
// spelled \x00 here (the renderer escapes every other control character).
static const char *quote_source(ffq_ctx *cx, const char *t, size_t n) {
    StrBuf sb = {0};
    for (size_t i = 0; i < n; i++) {
        if (t[i]) sb_putc(cx, &sb, t[i]);
        else sb_puts(cx, &sb, "\\x00");
    }
    return sb_cstr(cx, &sb);
}

// One diagnostic per innermost ERROR node (outer ones only wrap the region
// tree-sitter resynchronised over), at its first non-blank byte, and one
// per MISSING node.
static void report_syntax(ffq_ctx *cx, Cst *cst) {
    uint32_t first = 0;  // the first node in error (most files have none: nothing to allocate)
    while (first < cst->count && cst->nodes[first].kind != K_ERROR && !cst->nodes[first].missing) first++;
    if (first == cst->count) return;
    bool *outer = ARENA_ARRAY(cx, bool, cst->count);
    for (uint32_t i = first; i < cst->count; i++) {
        if (cst->nodes[i].kind != K_ERROR) continue;
        for (uint32_t p = cst->nodes[i].parent; p != CST_NONE; p = cst->nodes[p].parent)
            if (cst->nodes[p].kind == K_ERROR) outer[p] = true;
    }
    const char *d = cst->file->data;
    for (uint32_t i = first; i < cst->count; i++) {
        const CstNode *n = &cst->nodes[i];
        if (n->kind == K_ERROR && !outer[i]) {
            uint32_t at = n->start;
            while (at < n->end && (d[at] == ' ' || d[at] == '\t' || d[at] == '\n' || d[at] == '\r')) at++;
            size_t line = 0;
            while (at + line < n->end && d[at + line] != '\n' && d[at + line] != '\r') line++;
            const char *kw = missing_colon(d + at, line);
            if (kw && at + line == n->end)
                diag_at(cx, DIAG_ERROR, cst->file, n->end, "syntax-error",
                        "invalid syntax: expected ':' at the end of the '%s' statement", kw);
            else
                diag_at(cx, DIAG_ERROR, cst->file, at, "syntax-error", "invalid syntax near '%s'",
                        quote_source(cx, d + at, line < 40 ? line : 40));
            cst->has_errors = true;
        } else if (n->missing) {
            const char *what = ts_language_symbol_name(cx->lang.lang, n->sym);
            diag_at(cx, DIAG_ERROR, cst->file, n->start, "syntax-error", "invalid syntax: expected '%s'",
                    what ? what : "?");
            cst->has_errors = true;
        }
    }
}

// --- deep indentation ---
//
// tree-sitter-python's scanner keeps each indentation width in one byte when
// it saves its state, so a line indented more than 255 columns (64 levels of
// four spaces, which CPython accepts: its limit is 100 levels) breaks the
// parse. Only the order of the widths matters to the grammar, so such a file
// is parsed from a copy in which every distinct width is replaced by its rank
// among the file's widths, keeping every byte offset: a line's leading
// whitespace becomes form feeds (which reset the scanner's column count)
// followed by rank-many spaces. The CST still points into the original bytes.

enum { INDENT_LIMIT = 255 };

typedef struct Indent {
    uint32_t at, bytes, width;  // line start, leading whitespace bytes, columns
} Indent;

static Indent indent_at(const char *d, uint32_t len, uint32_t at) {
    Indent in = {.at = at};
    while (at + in.bytes < len && (d[at + in.bytes] == ' ' || d[at + in.bytes] == '\t')) {
        in.width = d[at + in.bytes] == '\t' ? (in.width / 8 + 1) * 8 : in.width + 1;
        in.bytes++;
    }
    return in;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t rank_of(const uint32_t *widths, uint32_t n, uint32_t w) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (widths[mid] < w) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

// The text to parse: file->data itself, or the rank-indented copy. *deepest
// receives the offset of the first line indented beyond the limit (UINT32_MAX
// when none); *squeezed whether the copy is used.
static const char *parse_text(ffq_ctx *cx, const SrcFile *file, uint32_t *deepest, bool *squeezed) {
    const char *d = file->data;
    *deepest = UINT32_MAX;
    *squeezed = false;
    for (uint32_t l = 0; l < file->nlines && *deepest == UINT32_MAX; l++)
        if (indent_at(d, file->len, file->line_starts[l]).width > INDENT_LIMIT)
            *deepest = file->line_starts[l];
    if (*deepest == UINT32_MAX) return d;
    uint32_t *widths = ARENA_ARRAY(cx, uint32_t, file->nlines), n = 0;
    for (uint32_t l = 0; l < file->nlines; l++)
        widths[l] = indent_at(d, file->len, file->line_starts[l]).width;
    qsort(widths, file->nlines, sizeof *widths, cmp_u32);
    for (uint32_t l = 0; l < file->nlines; l++)
        if (n == 0 || widths[l] != widths[n - 1]) widths[n++] = widths[l];
    if (n > INDENT_LIMIT + 1) return d;
    char *copy = arena_strndup(cx, d, file->len);
    for (uint32_t l = 0; l < file->nlines; l++) {
        Indent in = indent_at(d, file->len, file->line_starts[l]);
        uint32_t r = rank_of(widths, n, in.width);
        if (r > in.bytes) return d;  // tabs: too few bytes to spell the rank
        memset(copy + in.at, '\f', in.bytes - r);
        memset(copy + in.at + in.bytes - r, ' ', r);
    }
    *squeezed = true;
    return copy;
}

// *depth receives the depth of the deepest node, *deepest that node.
// tree-sitter allocates from the context's pool (tspool.c): a parser per
// parse, deleted as soon as the tree is made (before flattening, the peak of
// the run), and the tree dropped with the pool once flattened.
static Cst *parse(ffq_ctx *cx, const SrcFile *file, bool report, uint32_t *depth, uint32_t *deepest_node) {
    init_lang(cx);
    uint32_t deepest;
    bool squeezed;
    const char *text = parse_text(cx, file, &deepest, &squeezed);
    tspool_enter(cx);
    TSParser *p = ts_parser_new();
    TSTree *tree = NULL;
    if (p && ts_parser_set_language(p, cx->lang.lang))
        tree = ts_parser_parse_string(p, NULL, text, file->len);
    ts_parser_delete(p);
    tspool_leave(cx);
    if (!tree) {
        tspool_reset(cx);
        return NULL;
    }
    Cst *cst = ARENA_NEW(cx, Cst);
    cst->file = file;
    *depth = flatten(cx, cst, tree, deepest_node);
    tspool_reset(cx);  // the tree
    if (report && deepest != UINT32_MAX && !squeezed) {
        diag_at(cx, DIAG_ERROR, file, deepest, "too-deep",
                "this line is indented more than %d columns, in a file whose indentation ffq cannot "
                "renumber (more than %d distinct widths, or tabs); the grammar ffq uses "
                "(tree-sitter-python) keeps at most %d columns of indentation",
                INDENT_LIMIT, INDENT_LIMIT + 1, INDENT_LIMIT);
        cst->has_errors = true;
    } else if (report) {
        report_syntax(cx, cst);
    } else {
        for (uint32_t i = 0; i < cst->count; i++)
            if (cst->nodes[i].kind == K_ERROR || cst->nodes[i].missing) cst->has_errors = true;
    }
    return cst;
}

// Later passes recurse over expressions; beyond this depth (far deeper than
// CPython's own parser accepts) a file is refused instead of overflowing the stack.
#define MAX_DEPTH 2000

Cst *source_parse(ffq_ctx *cx, const SrcFile *file) {
    cx->stats.files_read++;
    uint32_t depth, deepest;
    Cst *c = parse(cx, file, true, &depth, &deepest);
    if (c && depth > MAX_DEPTH) {
        diag_at(cx, DIAG_ERROR, file, c->nodes[deepest].start, "too-deep",
                "the code nests more than %d levels deep here; ffq (like CPython) does not "
                "support that",
                MAX_DEPTH);
        c->has_errors = c->too_deep = true;
    }
    return c;
}

Cst *source_parse_quiet(ffq_ctx *cx, const SrcFile *file) {
    uint32_t depth, deepest;
    Cst *c = parse(cx, file, false, &depth, &deepest);
    if (c && depth > MAX_DEPTH) c->has_errors = c->too_deep = true;
    return c;
}

// Offsets into the outline's text back to offsets into the file: gaps are
// (start, end) pairs of file offsets; at[i] is where gap i was cut out of the
// outline's text and shift[i] how many bytes were cut before it.
typedef struct Gaps {
    uint32_t n, *at, *shift;  // shift has n + 1 entries: shift[n] is all of them
} Gaps;

static Gaps gaps_of(ffq_ctx *cx, const PtrVec *v) {
    Gaps g = {.n = (uint32_t)(v->len / 2)};
    g.at = ARENA_ARRAY(cx, uint32_t, g.n + 1);
    g.shift = ARENA_ARRAY(cx, uint32_t, g.n + 1);
    for (uint32_t i = 0; i < g.n; i++) {
        uint32_t from = (uint32_t)(uintptr_t)v->items[2 * i], to = (uint32_t)(uintptr_t)v->items[2 * i + 1];
        g.at[i] = from - g.shift[i];
        g.shift[i + 1] = g.shift[i] + (to - from);
    }
    return g;
}

// The file offset of outline offset p: a node starting at p starts after the
// gaps cut at p (after = true), a node ending there ends before them.
static uint32_t unshift(const Gaps *g, uint32_t p, bool after) {
    uint32_t lo = 0, hi = g->n;  // the number of gaps cut before p (or at p, after)
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->at[mid] < p || (after && g->at[mid] == p)) lo = mid + 1;
        else hi = mid;
    }
    return p + g->shift[lo];
}

Cst *source_parse_outline(ffq_ctx *cx, const SrcFile *file) {
    PtrVec v = {0};
    uint32_t len;
    const char *text = outline_text(cx, file->data, file->len, &v, &len);
    if (!text) return NULL;
    Cst *c = source_parse_quiet(cx, srcfile_new(cx, file->path, text, len));
    if (!c || c->has_errors) return NULL;
    Gaps g = gaps_of(cx, &v);
    for (uint32_t i = 0; g.n && i < c->count; i++) {
        c->nodes[i].start = unshift(&g, c->nodes[i].start, true);
        c->nodes[i].end = unshift(&g, c->nodes[i].end, false);
    }
    c->file = file;  // node text is read from the file itself
    c->outline = true;
    return c;
}

// Node i of a tree that goes to the concatenation: the root's children to
// [first, first + n), its other nodes (not the root) from `rest` on.
typedef struct Place {
    uint32_t fc, n, first, rest;
} Place;

static uint32_t place(const Place *p, uint32_t i) {
    if (i == 0 || i == CST_NONE) return i;
    if (i >= p->fc && i < p->fc + p->n) return p->first + (i - p->fc);
    return p->rest + (i < p->fc ? i - 1 : i - 1 - p->n);
}

static void place_nodes(Cst *c, const Cst *from, const Place *p, uint32_t shift) {
    for (uint32_t i = 1; i < from->count; i++) {
        CstNode nd = from->nodes[i];
        nd.start += shift, nd.end += shift;
        nd.parent = place(p, nd.parent);
        if (nd.nchildren) nd.first_child = place(p, nd.first_child);
        c->nodes[place(p, i)] = nd;
    }
}

Cst *cst_concat(ffq_ctx *cx, const SrcFile *file, const Cst *head, const Cst *body, uint32_t at) {
    uint32_t hn = head->nodes[0].nchildren, bn = body->nodes[0].nchildren;
    Cst *c = ARENA_NEW(cx, Cst);
    c->file = file;
    c->count = head->count + body->count - 1;
    c->nodes = ARENA_ARRAY(cx, CstNode, c->count);
    c->has_errors = head->has_errors || body->has_errors;
    c->too_deep = head->too_deep || body->too_deep;
    Place ph = {hn ? head->nodes[0].first_child : 1, hn, 1, 1 + hn + bn};
    Place pb = {bn ? body->nodes[0].first_child : 1, bn, 1 + hn, ph.rest + (head->count - 1 - hn)};
    place_nodes(c, head, &ph, 0);
    place_nodes(c, body, &pb, at);
    c->nodes[0] = body->nodes[0];
    c->nodes[0].start = hn ? head->nodes[0].start : body->nodes[0].start + at;
    c->nodes[0].end = bn ? body->nodes[0].end + at : head->nodes[0].end;
    c->nodes[0].nchildren = hn + bn;
    c->nodes[0].first_child = 1;
    return c;
}

Cst *source_parse_text(ffq_ctx *cx, const char *name, const char *text, size_t len, bool report) {
    uint32_t depth, deepest;
    Cst *c = parse(cx, srcfile_new(cx, name, text, len), report, &depth, &deepest);
    if (c && depth > MAX_DEPTH) c->has_errors = c->too_deep = true;
    return c;
}

// --- accessors ---

uint32_t cst_child(const Cst *c, uint32_t n, uint32_t k) {
    const CstNode *p = &c->nodes[n];
    return k < p->nchildren ? p->first_child + k : CST_NONE;
}

uint32_t cst_field(const Cst *c, uint32_t n, FieldKind f) {
    const CstNode *p = &c->nodes[n];
    for (uint32_t k = 0; k < p->nchildren; k++)
        if (c->nodes[p->first_child + k].field == f) return p->first_child + k;
    return CST_NONE;
}

uint32_t cst_named_child(const Cst *c, uint32_t n, uint32_t k) {
    const CstNode *p = &c->nodes[n];
    for (uint32_t i = 0; i < p->nchildren; i++) {
        const CstNode *ch = &c->nodes[p->first_child + i];
        if (!ch->named || ch->kind == K_COMMENT) continue;
        if (k-- == 0) return p->first_child + i;
    }
    return CST_NONE;
}

uint32_t cst_named_count(const Cst *c, uint32_t n) {
    const CstNode *p = &c->nodes[n];
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->nchildren; i++) {
        const CstNode *ch = &c->nodes[p->first_child + i];
        if (ch->named && ch->kind != K_COMMENT) k++;
    }
    return k;
}

const char *cst_text(const Cst *c, uint32_t n, size_t *len) {
    const CstNode *p = &c->nodes[n];
    *len = p->end - p->start;
    return c->file->data + p->start;
}

char *cst_strdup(ffq_ctx *cx, const Cst *c, uint32_t n) {
    size_t len;
    const char *t = cst_text(c, n, &len);
    return arena_strndup(cx, t, len);
}

bool cst_text_is(const Cst *c, uint32_t n, const char *s) {
    size_t len;
    const char *t = cst_text(c, n, &len);
    return strlen(s) == len && memcmp(t, s, len) == 0;
}

uint32_t cst_token(const Cst *c, uint32_t n, const char *s) {
    const CstNode *p = &c->nodes[n];
    for (uint32_t k = 0; k < p->nchildren; k++) {
        uint32_t ch = p->first_child + k;
        if (!c->nodes[ch].named && cst_text_is(c, ch, s)) return ch;
    }
    return CST_NONE;
}

bool cst_within(const Cst *c, uint32_t n, uint32_t ancestor) {
    for (; n != CST_NONE; n = c->nodes[n].parent)
        if (n == ancestor) return true;
    return false;
}

uint32_t cst_unparen(const Cst *c, uint32_t n) {
    while (n != CST_NONE && c->nodes[n].kind == K_PAREN_EXPR && cst_named_count(c, n) == 1)
        n = cst_named_child(c, n, 0);
    return n;
}
