// rewrite_share.c: walk 4 of the rewrite plan (docs/autoquant.md §2.4, "one evaluation per
// block"). In an instance method, an inline quantizer call `self.quantizer_<e>(<e>)` that one
// block evaluates more than once on the same value is evaluated once, into `_tmp_<n>`, just
// before the first line that reads it, and every read becomes `_tmp_<n>`:
//
//     y = x[i] * x[i]          ->  _tmp_1 = self.quantizer_x_i(x[i])
//                                  y = fastforward.nn.functional.mul(_tmp_1, _tmp_1, ...)
//
// Consumes the finished plan of walks 1-3: the inline quantizers, the isolated temporaries and
// the lines before and after each statement. Produces GEN_SHARE lines in `before`, the map
// `shared` (read -> its temporary) and `shared_tmps`; plan_finish numbers the temporaries
// (rewrite_number_shared) once the isolated ones have their numbers.
//
// Only what keeps the program's meaning is shared. A read takes part only where its line
// evaluates it exactly once whenever the line runs: not under a conditional expression, the
// right operand of and/or, a later operand of a chained comparison, a lambda or a
// comprehension, nor in a compound statement's header other than an `if` test or a `for`
// iterable (an `elif` test may not run, a `while` test runs again on every iteration). The
// expression must be a plain value (no call, walrus, await or yield in it, nothing rewritten
// inside). And nothing that runs between two reads, nor what runs before the first read in its
// line (the shared line goes before that line), may change the value: no store to a name the
// expression reads, no store to any attribute or subscript, no call other than a quantized
// operator or a quantizer, no await or yield, no import, def, class, with, except or match.
// A read that breaks the chain starts a new one; a chain of one read keeps its inline call.
#include <stdlib.h>
#include <string.h>

#include "rewrite_int.h"

// One line of a block in output order: a generated line, or a statement (its nested blocks
// are part of it).
typedef struct Line {
    GenLine *g;     // NULL: the statement itself
    uint32_t stmt;  // the statement this line belongs to; CST_NONE for the block's prologue
    bool before;    // a line of the statement's `before` list
} Line;

// An inline quantizer call a block evaluates exactly once when its line runs.
typedef struct Read {
    uint32_t node;  // the quantized expression
    size_t line;    // index in the block's lines
    Quantizer *q;
} Read;

// What running some code may do to a value: change anything (a call, a store to an attribute or
// subscript, ...) or rebind the names in `names`.
typedef struct Effects {
    bool changes_all;
    PtrVec names;  // const char *
} Effects;

// A run of reads of one value shared by one temporary.
typedef struct Run {
    size_t first;  // index of its first read in the block's reads
    PtrVec reads;  // Read *
} Run;

static bool is_comprehension(uint32_t kind) {
    return kind == K_LIST_COMP || kind == K_SET_COMP || kind == K_DICT_COMP || kind == K_GENERATOR;
}

// --- the lines of a block ---

static void push_gen(RwState *a, PtrVec *lines, const PtrVec *gens, uint32_t stmt, bool before) {
    for (size_t i = 0; gens && i < gens->len; i++) {
        Line *l = ARENA_NEW(a->cx, Line);
        l->g = gens->items[i];
        l->stmt = stmt;
        l->before = before;
        vec_push(a->cx, lines, l);
    }
}

static void block_lines(RwState *a, uint32_t block, PtrVec *lines) {
    const Cst *c = a->c;
    push_gen(a, lines, nodemap_get(&a->cv->prologue, block), CST_NONE, false);
    for (uint32_t k = 0; k < c->nodes[block].nchildren; k++) {
        uint32_t st = cst_child(c, block, k);
        if (!c->nodes[st].named || c->nodes[st].kind == K_COMMENT) continue;
        push_gen(a, lines, nodemap_get(&a->cv->before, st), st, true);
        Line *l = ARENA_NEW(a->cx, Line);
        l->stmt = st;
        vec_push(a->cx, lines, l);
        push_gen(a, lines, nodemap_get(&a->cv->after, st), st, false);
    }
}

// --- reads ---

// A value that is the same however often it is read: no call, walrus, await, yield or
// comprehension, nothing rewritten inside, no name ffq generates.
static bool is_plain(RwState *a, uint32_t n, uint32_t root) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_CALL || kind == K_NAMED_EXPR || kind == K_AWAIT || kind == K_YIELD || kind == K_LAMBDA ||
        is_comprehension(kind))
        return false;
    if (n != root && nodemap_get(&a->cv->dirty, n)) return false;
    if (kind == K_IDENTIFIER) {
        size_t len;
        const char *s = cst_text(c, n, &len);
        if ((len > 5 && memcmp(s, "_tmp_", 5) == 0) || (len > 4 && memcmp(s, "__ff", 4) == 0)) return false;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (!is_plain(a, cst_child(c, n, k), root)) return false;
    return true;
}

// The names a plain value reads (not attribute names).
void rw_names_read(RwState *a, uint32_t n, PtrVec *out) {
    const Cst *c = a->c;
    if (c->nodes[n].kind == K_IDENTIFIER) {
        uint32_t p = c->nodes[n].parent;
        if (!(c->nodes[p].kind == K_ATTRIBUTE && c->nodes[n].field == F_ATTRIBUTE))
            vec_push(a->cx, out, cst_strdup(a->cx, c, n));
        return;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) rw_names_read(a, cst_child(c, n, k), out);
}

// Inline quantizer calls under n evaluated exactly once when the line rooted at `root` runs,
// in evaluation order (an outer call before the calls inside it, left to right).
static void collect_reads(RwState *a, uint32_t n, uint32_t root, size_t line, PtrVec *reads) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if (n != root && nodemap_get(&a->cv->tmp_of, n)) return;  // runs on a line of its own
    Quantizer *q = nodemap_get(&a->cv->inline_q, n);
    if (q) {
        if (!is_plain(a, n, n)) return;
        Read *r = ARENA_NEW(a->cx, Read);
        r->node = n;
        r->line = line;
        r->q = q;
        vec_push(a->cx, reads, r);
        return;
    }
    if (rw_is_scope_boundary(kind) || is_comprehension(kind) || kind == K_CONDITIONAL_EXPR) return;
    if (kind == K_BOOLEAN_OP) {  // the right operand may not run
        uint32_t left = cst_field(c, n, F_LEFT);
        if (left != CST_NONE) collect_reads(a, left, root, line, reads);
        return;
    }
    if (kind == K_ASSIGNMENT || kind == K_AUG_ASSIGNMENT) {
        // targets run after the value; `x[0] += v` reads its target first, as `x[0] = x[0] + v`
        uint32_t left = cst_field(c, n, F_LEFT), right = cst_field(c, n, F_RIGHT);
        if (kind == K_AUG_ASSIGNMENT && left != CST_NONE && nodemap_get(&a->cv->inline_q, left))
            collect_reads(a, left, root, line, reads);
        if (right != CST_NONE) collect_reads(a, right, root, line, reads);
        return;
    }
    uint32_t operands = 0;  // a < b < c: c runs only when a < b
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t ch = cst_child(c, n, k);
        if (!c->nodes[ch].named) continue;
        if (kind == K_COMPARISON && operands++ == 2) return;
        collect_reads(a, ch, root, line, reads);
    }
}

// The reads of one line: a statement's own expressions (of a compound statement, only an
// `if` test or a `for` iterable: they run once when the statement does), an isolated
// temporary's expression.
static void line_reads(RwState *a, const Line *l, size_t line, PtrVec *reads) {
    const Cst *c = a->c;
    if (l->g) {
        if (l->g->kind == GEN_TMP) collect_reads(a, l->g->node, l->g->node, line, reads);
        return;
    }
    uint32_t st = l->stmt;
    uint32_t part = CST_NONE;
    switch (c->nodes[st].kind) {
    case K_EXPR_STMT:
    case K_RETURN:
    case K_RAISE: part = st; break;
    case K_ASSERT: part = cst_named_child(c, st, 0); break;  // the message runs only on failure
    case K_IF: part = cst_field(c, st, F_CONDITION); break;
    case K_FOR: part = cst_field(c, st, F_RIGHT); break;
    default: return;  // while, with, try, match, def, class, and the rest
    }
    if (part != CST_NONE) collect_reads(a, part, part == st ? st : CST_NONE, line, reads);
}

// --- effects ---

static void add_name(RwState *a, Effects *ef, const char *name) {
    if (name) vec_push(a->cx, &ef->names, (void *)name);
}

static void scan(RwState *a, uint32_t n, uint32_t root, bool full, Effects *ef);

// An assignment target: names are rebound; attributes and subscripts change an object.
static void store_target(RwState *a, uint32_t t, Effects *ef) {
    const Cst *c = a->c;
    t = cst_unparen(c, t);
    if (t == CST_NONE) return;
    switch (c->nodes[t].kind) {
    case K_IDENTIFIER: add_name(a, ef, cst_strdup(a->cx, c, t)); return;
    case K_PATTERN_LIST:
    case K_TUPLE_PATTERN:
    case K_LIST_PATTERN:
    case K_TUPLE:
    case K_LIST:
    case K_LIST_SPLAT_PATTERN:
    case K_LIST_SPLAT:
    case K_EXPRESSION_LIST:
        for (uint32_t k = 0; k < cst_named_count(c, t); k++) store_target(a, cst_named_child(c, t, k), ef);
        return;
    default: ef->changes_all = true; return;  // x.a = ..., x[i] = ..., anything else
    }
}

// Names the lines ffq generates at node n bind (before / after a statement, a block's start).
static void generated_stores(RwState *a, uint32_t n, Effects *ef) {
    const PtrVec *lists[] = {nodemap_get(&a->cv->before, n), nodemap_get(&a->cv->after, n),
                             nodemap_get(&a->cv->prologue, n)};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        for (size_t k = 0; lists[i] && k < lists[i]->len; k++)
            add_name(a, ef, VEC_AT(*lists[i], GenLine, k)->var);
}

// A quantized operator changes none of its arguments unless asked to (`inplace=`, `out=`).
static bool op_writes(RwState *a, uint32_t call) {
    const Cst *c = a->c;
    uint32_t al = cst_field(c, call, F_ARGUMENTS);
    for (uint32_t k = 0; al != CST_NONE && k < cst_named_count(c, al); k++) {
        uint32_t arg = cst_named_child(c, al, k);
        if (c->nodes[arg].kind != K_KEYWORD_ARGUMENT) continue;
        uint32_t name = cst_field(c, arg, F_NAME);
        if (name != CST_NONE && (cst_text_is(c, name, "inplace") || cst_text_is(c, name, "out"))) return true;
    }
    return false;
}

// An assignment: its value runs first; the stores to its targets (a chain: left to right)
// happen after, so they count only for `full`.
static void scan_assignment(RwState *a, uint32_t n, bool full, Effects *ef) {
    const Cst *c = a->c;
    uint32_t left = cst_field(c, n, F_LEFT), right = cst_field(c, n, F_RIGHT);
    if (c->nodes[n].kind == K_AUG_ASSIGNMENT && !nodemap_get(&a->cv->op_of, n)) {
        ef->changes_all = true;  // `lst += [v]` updates the object in place
        return;
    }
    if (full && left != CST_NONE) store_target(a, left, ef);
    if (right != CST_NONE) scan(a, right, CST_NONE, full, ef);
}

// The effects n has itself; false when its children are not to be scanned (they were, or
// they do not matter).
static bool node_effects(RwState *a, uint32_t n, uint32_t root, bool full, Effects *ef) {
    const Cst *c = a->c;
    switch (c->nodes[n].kind) {
    case K_CALL:
        if (!nodemap_get(&a->cv->op_of, n) || op_writes(a, n)) ef->changes_all = true;
        return true;
    case K_AWAIT:
    case K_YIELD:
    case K_WITH:  // __enter__ and __exit__ run
    case K_EXCEPT:
    case K_MATCH:
    case K_DELETE:
    case K_IMPORT:
    case K_IMPORT_FROM:
    case K_FUTURE_IMPORT:
    case K_FUNCTION_DEF:
    case K_CLASS_DEF:
    case K_DECORATED_DEF:
    case K_GLOBAL:
    case K_NONLOCAL: ef->changes_all = true; return false;
    case K_ASSIGNMENT:
    case K_AUG_ASSIGNMENT: scan_assignment(a, n, full, ef); return false;
    case K_NAMED_EXPR: {
        uint32_t name = cst_field(c, n, F_NAME), value = cst_field(c, n, F_VALUE);
        if (name != CST_NONE) add_name(a, ef, cst_strdup(a->cx, c, name));
        if (value != CST_NONE) scan(a, value, root, full, ef);
        return false;
    }
    case K_IF:
        if (full) return true;
        scan(a, cst_field(c, n, F_CONDITION), CST_NONE, false, ef);
        return false;
    case K_FOR:
        if (full) {
            store_target(a, cst_field(c, n, F_LEFT), ef);
            return true;
        }
        scan(a, cst_field(c, n, F_RIGHT), CST_NONE, false, ef);  // the target is bound after
        return false;
    default: return true;
    }
}

// What evaluating n may change. Not `full`: the expressions of the line rooted at `root`, up
// to its own stores (an isolated temporary inside ran on an earlier line). `full`: all of n,
// its stores and nested blocks included, and the lines ffq generates inside it.
static void scan(RwState *a, uint32_t n, uint32_t root, bool full, Effects *ef) {
    const Cst *c = a->c;
    if (n == CST_NONE || ef->changes_all) return;
    if (!full && n != root && nodemap_get(&a->cv->tmp_of, n)) return;
    if (full) generated_stores(a, n, ef);
    if (!node_effects(a, n, root, full, ef)) return;
    for (uint32_t k = 0; k < c->nodes[n].nchildren && !ef->changes_all; k++) {
        uint32_t ch = cst_child(c, n, k);
        if (c->nodes[ch].named) scan(a, ch, root, full, ef);
    }
}

static void line_effects(RwState *a, const Line *l, bool full, Effects *ef) {
    if (!l->g) {
        scan(a, l->stmt, l->stmt, full, ef);
        return;
    }
    if (l->g->kind == GEN_TMP) scan(a, l->g->node, l->g->node, full, ef);
    if (full) add_name(a, ef, l->g->var);
}

static bool changes(const Effects *ef, const PtrVec *names) {
    if (ef->changes_all) return true;
    for (size_t i = 0; i < ef->names.len; i++)
        for (size_t k = 0; k < names->len; k++)
            if (strcmp(ef->names.items[i], names->items[k]) == 0) return true;
    return false;
}

// Does a read `r` see the value `p` (an earlier read of the same expression) saw, and may it
// be evaluated where `p` is? What runs from the start of p's line up to r may not change it.
static bool same_value(RwState *a, const PtrVec *lines, const Read *p, const Read *r, const PtrVec *names) {
    Effects ef = {0};
    line_effects(a, lines->items[p->line], p->line != r->line, &ef);
    for (size_t i = p->line + 1; i < r->line && !ef.changes_all; i++)
        line_effects(a, lines->items[i], true, &ef);
    if (p->line != r->line) line_effects(a, lines->items[r->line], false, &ef);
    return !changes(&ef, names);
}

// --- runs and their lines ---

// The reads of quantizer q split into runs of one value each.
static void runs_of(RwState *a, const PtrVec *lines, const PtrVec *reads, size_t from, PtrVec *runs) {
    const Read *first = reads->items[from];
    PtrVec names = {0};
    rw_names_read(a, first->node, &names);
    Run *run = NULL;
    const Read *prev = NULL;
    for (size_t i = from; i < reads->len; i++) {
        const Read *r = reads->items[i];
        if (r->q != first->q) continue;
        if (!prev || !same_value(a, lines, prev, r, &names)) {
            run = ARENA_NEW(a->cx, Run);
            run->first = i;
            vec_push(a->cx, runs, run);
        }
        vec_push(a->cx, &run->reads, (void *)r);
        prev = r;
    }
}

static int cmp_run(const void *x, const void *y) {
    const Run *p = *(Run *const *)x, *q = *(Run *const *)y;
    return (p->first > q->first) - (p->first < q->first);
}

// The shared line of a run, waiting to go before the line of its first read.
static void share_run(RwState *a, uint32_t block, const Run *run, PtrVec **pending) {
    const Read *first = run->reads.items[0];
    TmpVar *t = ARENA_NEW(a->cx, TmpVar);
    t->id = a->ntmp++;
    SharedTmp *s = ARENA_NEW(a->cx, SharedTmp);
    s->tmp = t;
    s->block = block;
    vec_push(a->cx, &a->cv->shared_tmps, s);
    GenLine *g = ARENA_NEW(a->cx, GenLine);
    g->kind = GEN_SHARE;
    g->tmp = t;
    g->q = first->q;
    g->node = first->node;
    if (!pending[first->line]) pending[first->line] = ARENA_NEW(a->cx, PtrVec);
    vec_push(a->cx, pending[first->line], g);
    for (size_t i = 0; i < run->reads.len; i++) {
        const Read *r = run->reads.items[i];
        nodemap_put(a->cx, &a->cv->shared, r->node, t);
        rw_mark_dirty(a, r->node);
    }
}

// Rebuilds the `before` list of every statement that gets shared lines.
static void insert_pending(RwState *a, const PtrVec *lines, PtrVec **pending) {
    PtrVec *out = NULL;
    bool changed = false;
    for (size_t i = 0; i < lines->len; i++) {
        const Line *l = lines->items[i];
        if (!l->before && l->g) continue;
        if (!out) out = ARENA_NEW(a->cx, PtrVec);
        for (size_t k = 0; pending[i] && k < pending[i]->len; k++) vec_push(a->cx, out, pending[i]->items[k]);
        changed = changed || pending[i];
        if (l->g) {
            vec_push(a->cx, out, l->g);
            continue;
        }
        if (changed) {
            nodemap_put(a->cx, &a->cv->before, l->stmt, out);
            rw_mark_dirty(a, l->stmt);
        }
        out = NULL;
        changed = false;
    }
}

static void share_block(RwState *a, uint32_t block);

// The blocks nested in n (not in nested functions, classes or lambdas).
static void share_nested(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t ch = cst_child(c, n, k);
        uint32_t kind = c->nodes[ch].kind;
        if (rw_is_scope_boundary(kind)) continue;
        if (kind == K_BLOCK) share_block(a, ch);
        else share_nested(a, ch);
    }
}

// Nested blocks first (their temporaries are numbered first, as §2.4 counts them).
static void share_block(RwState *a, uint32_t block) {
    const Cst *c = a->c;
    for (uint32_t k = 0; k < c->nodes[block].nchildren; k++) share_nested(a, cst_child(c, block, k));
    PtrVec lines = {0}, reads = {0}, runs = {0};
    block_lines(a, block, &lines);
    for (size_t i = 0; i < lines.len; i++) line_reads(a, lines.items[i], i, &reads);
    for (size_t i = 0; i < reads.len; i++) {
        bool seen = false;  // quantizers are taken in order of their first read
        for (size_t k = 0; k < i && !seen; k++) seen = VEC_AT(reads, Read, k)->q == VEC_AT(reads, Read, i)->q;
        if (!seen) runs_of(a, &lines, &reads, i, &runs);
    }
    if (runs.len) qsort(runs.items, runs.len, sizeof(void *), cmp_run);
    PtrVec **pending = ARENA_ARRAY(a->cx, PtrVec *, lines.len + 1);
    bool any = false;
    for (size_t i = 0; i < runs.len; i++) {
        const Run *run = runs.items[i];
        if (run->reads.len < 2) continue;
        share_run(a, block, run, pending);
        any = true;
    }
    if (any) insert_pending(a, &lines, pending);
}

// §2.4: only calls whose receiver is literally `self` are considered: a method that names
// its instance otherwise (`def forward(me, x)`) keeps every inline call.
void rw_share_block_quantizers(RwState *a) {
    if (a->cv->instance && a->cv->self_name && strcmp(a->cv->self_name, "self") == 0) share_block(a, a->body);
}

// --- numbering (plan_finish) ---

static bool has_number(const PtrVec *v, uintptr_t k) {
    for (size_t i = 0; i < v->len; i++)
        if ((uintptr_t)v->items[i] == k) return true;
    return false;
}

// The numbers of the `_tmp_<k>` names under n: written in the source and, unless
// `names_only`, isolated temporaries and shared ones already numbered.
static void used_numbers(ffq_ctx *cx, const Conv *cv, uint32_t n, bool names_only, PtrVec *out) {
    const Cst *c = cv->c;
    const TmpVar *t = names_only ? NULL : nodemap_get(&cv->tmp_of, n);
    if (!t && !names_only) t = nodemap_get(&cv->shared, n);
    if (t && t->number > 0) vec_push(cx, out, (void *)(uintptr_t)t->number);
    if (c->nodes[n].kind == K_IDENTIFIER) {
        size_t len;
        const char *s = cst_text(c, n, &len);
        uintptr_t v = 0;
        size_t k = 5;
        if (len > 5 && len <= 14 && memcmp(s, "_tmp_", 5) == 0) {
            while (k < len && s[k] >= '0' && s[k] <= '9') v = v * 10 + (uintptr_t)(s[k++] - '0');
            if (k == len) vec_push(cx, out, (void *)v);
        }
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        used_numbers(cx, cv, cst_child(c, n, k), names_only, out);
}

static void source_names(ffq_ctx *cx, const Cst *c, uint32_t n, StrMap *out) {
    if (c->nodes[n].kind == K_IDENTIFIER) {
        uint32_t p = c->nodes[n].parent;
        uint32_t pk = p == CST_NONE ? K_OTHER : c->nodes[p].kind;
        bool attr = pk == K_ATTRIBUTE && c->nodes[n].field == F_ATTRIBUTE;
        bool kwname = pk == K_KEYWORD_ARGUMENT && c->nodes[n].field == F_NAME;
        if (!attr && !kwname) strset_add(cx, out, cst_strdup(cx, c, n));
        return;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) source_names(cx, c, cst_child(c, n, k), out);
}

void rewrite_source_names(ffq_ctx *cx, const Conv *cv, StrMap *out) {
    source_names(cx, cv->c, cv->fn->def, out);
}

void rewrite_source_tmp_numbers(ffq_ctx *cx, const Conv *cv, PtrVec *out) {
    used_numbers(cx, cv, cv->fn->def, true, out);
}

void rewrite_number_shared(ffq_ctx *cx, Conv *cv) {
    for (size_t i = 0; i < cv->shared_tmps.len; i++) {
        SharedTmp *s = cv->shared_tmps.items[i];
        // the smallest number no `_tmp_` of the block uses (§2.4); the function's own names of
        // that form count wherever they are, as they may live across the block
        PtrVec used = {0};
        used_numbers(cx, cv, s->block, false, &used);
        used_numbers(cx, cv, cv->fn->def, true, &used);
        uintptr_t n = 1;
        while (has_number(&used, n)) n++;
        s->tmp->number = (int)n;
    }
}
