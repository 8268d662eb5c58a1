// rewrite_place.c: walk 3 of the rewrite plan (spec §2.4, §3.3): parameter
// quantizers, the scopes that own expression quantizers and where their
// lines are hoisted, then the quantizers created in the order of §3.3 and
// the lines attached before / after statements and at block starts.
#include <stdlib.h>
#include <string.h>

#include "rewrite_int.h"

// --- parameters ---

// The instance (or class) parameter's name; "self" when there is none.
const char *rw_first_param_name(ffq_ctx *cx, const Cst *c, const FuncInfo *fn) {
    if (fn->kind != FN_INSTANCE && fn->kind != FN_CLASSMETHOD) return "self";
    uint32_t ps = cst_field(c, fn->def, F_PARAMETERS);
    uint32_t p = ps == CST_NONE ? CST_NONE : cst_named_child(c, ps, 0);
    if (p == CST_NONE) return "self";
    if (c->nodes[p].kind != K_IDENTIFIER) p = cst_named_child(c, p, 0);
    return p != CST_NONE && c->nodes[p].kind == K_IDENTIFIER ? cst_strdup(cx, c, p) : "self";
}

void rw_add_params(RwState *a, Env *env) {
    const Cst *c = a->c;
    uint32_t ps = cst_field(c, a->cv->fn->def, F_PARAMETERS);
    bool skip_first = a->cv->fn->kind == FN_INSTANCE || a->cv->fn->kind == FN_CLASSMETHOD;
    uint32_t order = 0;
    for (uint32_t k = 0; k < cst_named_count(c, ps); k++) {
        uint32_t p = cst_named_child(c, ps, k);
        uint32_t kind = c->nodes[p].kind;
        if (kind == K_POSITIONAL_SEPARATOR) {  // everything so far was positional-only
            for (size_t i = 0; i < a->params.len; i++)
                VEC_AT(a->params, Prod, i)->kind = PR_ASSIGN;  // demoted: not eligible
            a->params.len = 0;
            continue;
        }
        uint32_t inner = kind == K_TYPED_PARAMETER ? c->nodes[cst_named_child(c, p, 0)].kind : kind;
        if (inner == K_KEYWORD_SEPARATOR || inner == K_LIST_SPLAT_PATTERN || inner == K_DICT_SPLAT_PATTERN)
            break;  // *args (also `*args: T`), keyword-only and **kwargs are not eligible
        uint32_t name = kind == K_IDENTIFIER ? p : cst_named_child(c, p, 0);
        if (kind == K_DEFAULT_PARAMETER || kind == K_TYPED_DEFAULT_PARAMETER) name = cst_field(c, p, F_NAME);
        if (name == CST_NONE || c->nodes[name].kind != K_IDENTIFIER) continue;
        const char *pname = cst_strdup(a->cx, c, name);
        if (k == 0 && skip_first) continue;
        Prod *pr = rw_producer(a, PR_PARAM, p, pname);
        pr->order = order++;
        rw_env_set(a, env, pr);
        vec_push(a->cx, &a->params, pr);
    }
}

// --- expression quantizers: scopes, hoisting, placement (§2.4) ---

static bool has_text(const PtrVec *v, const char *text) {
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], text) == 0) return true;
    return false;
}

// Whether block is the body of an `if` statement's `else`.
static bool is_else_of_if(const Cst *c, uint32_t block) {
    uint32_t e = c->nodes[block].parent;
    return e != CST_NONE && c->nodes[e].kind == K_ELSE && c->nodes[e].parent != CST_NONE &&
           c->nodes[c->nodes[e].parent].kind == K_IF;
}

void rw_compute_avail(RwState *a, Scope *s) {
    for (size_t i = 0; i < s->children.len; i++) rw_compute_avail(a, s->children.items[i]);
    for (size_t i = 0; i < s->uses.len; i++) {
        const char *t = VEC_AT(s->uses, ExprUse, i)->text;
        if (!has_text(&s->avail, t)) vec_push(a->cx, &s->avail, (void *)t);
    }
    // an expression every child branch reads is hoisted into the parent only when one of
    // the `if` statements they belong to has an `else`: then it runs on every path (without
    // one, `if self.p is not None: y = x * (1 - self.p)` would run `1 - self.p` always)
    bool exhaustive = false;
    for (size_t k = 0; k < s->children.len && !exhaustive; k++)
        exhaustive = is_else_of_if(a->c, ((Scope *)s->children.items[k])->block);
    if (!s->children.len || !exhaustive) return;
    Scope *first = s->children.items[0];
    for (size_t i = 0; i < first->avail.len; i++) {
        const char *t = first->avail.items[i];
        bool everywhere = true;
        for (size_t k = 1; k < s->children.len && everywhere; k++)
            everywhere = has_text(&((Scope *)s->children.items[k])->avail, t);
        if (everywhere && !has_text(&s->avail, t)) vec_push(a->cx, &s->avail, (void *)t);
    }
}

static ExprQ *exprq_for(RwState *a, const ExprUse *u) {
    for (size_t i = 0; i < a->exprqs.len; i++) {
        ExprQ *e = a->exprqs.items[i];
        if (strcmp(e->text, u->text) == 0) return e;
    }
    ExprQ *e = ARENA_NEW(a->cx, ExprQ);
    e->text = u->text;
    e->ident = u->ident;
    e->is_inline = u->is_inline;
    vec_push(a->cx, &a->exprqs, e);
    return e;
}

// RwState use belongs to the highest scope where its text is available.
static void collect_uses(ffq_ctx *cx, Scope *s, const char *text, PtrVec *out) {
    for (size_t i = 0; i < s->uses.len; i++) {
        ExprUse *u = s->uses.items[i];
        if (strcmp(u->text, text) == 0) vec_push(cx, out, u);
    }
    for (size_t i = 0; i < s->children.len; i++) collect_uses(cx, s->children.items[i], text, out);
}

void rw_assign_owners(RwState *a, Scope *s, const PtrVec *inherited) {
    PtrVec inh = {0};
    for (size_t i = 0; i < inherited->len; i++) vec_push(a->cx, &inh, inherited->items[i]);
    for (size_t i = 0; i < s->avail.len; i++) {
        const char *t = s->avail.items[i];
        if (has_text(inherited, t)) continue;
        Owned *o = ARENA_NEW(a->cx, Owned);
        collect_uses(a->cx, s, t, &o->uses);
        o->eq = exprq_for(a, o->uses.items[0]);
        vec_push(a->cx, &s->owned, o);
        vec_push(a->cx, &inh, (void *)t);
    }
    for (size_t i = 0; i < s->children.len; i++) rw_assign_owners(a, s->children.items[i], &inh);
}

// The statement of `block` (a direct child) that contains node n.
static uint32_t top_stmt_in(const Cst *c, uint32_t block, uint32_t n) {
    while (n != CST_NONE && c->nodes[n].parent != block) n = c->nodes[n].parent;
    return n;
}

// --- hoisted expressions that must be quantized where they are read ---
//
// The hoisted form evaluates `<ident> = <quantizer>(<expr>)` once, before the first statement
// of its block that reads expr, and every read becomes <ident>. That computes what the
// program computes only when every read sees the value that line computed and the line
// computes nothing the program would not. Not so when a name the expression reads is bound
// or changed in place between the line and a read (`x.T` read before and after `x = x + 1`;
// `labels == i` or `self.w[i].weight` inside `for i in ...`; `x > 0` in a loop that assigns
// x), nor when a read runs only under a condition the line would not check (a conditional
// expression's branch, the right operand of and / or, a comprehension or lambda, an elif
// test, an except or else clause). Such an expression takes the inline form instead:
// quantized in place at every read.

// The leftmost name of an attribute / subscript chain (`x` of `x.a[0].b`), or CST_NONE.
static uint32_t chain_root(const Cst *c, uint32_t n) {
    for (int depth = 0; depth < 64 && n != CST_NONE; depth++) {
        uint32_t kind = c->nodes[n].kind;
        if (kind == K_IDENTIFIER) return n;
        if (kind == K_ATTRIBUTE || kind == K_SUBSCRIPT)
            n = cst_field(c, n, kind == K_ATTRIBUTE ? F_OBJECT : F_VALUE);
        else if (kind == K_PAREN_EXPR) n = cst_unparen(c, n);
        else return CST_NONE;
    }
    return CST_NONE;
}

static bool name_in(const Cst *c, uint32_t id, const PtrVec *names) {
    if (id == CST_NONE) return false;
    size_t len;
    const char *s = cst_text(c, id, &len);
    for (size_t i = 0; i < names->len; i++)
        if (strlen(names->items[i]) == len && memcmp(names->items[i], s, len) == 0) return true;
    return false;
}

// A target binds one of names, or stores into an attribute or item of one.
static bool target_touches(const Cst *c, uint32_t t, const PtrVec *names) {
    t = cst_unparen(c, t);
    if (t == CST_NONE) return false;
    uint32_t kind = c->nodes[t].kind;
    if (kind == K_IDENTIFIER || kind == K_ATTRIBUTE || kind == K_SUBSCRIPT)
        return name_in(c, chain_root(c, t), names);
    for (uint32_t k = 0; k < c->nodes[t].nchildren; k++)
        if (c->nodes[cst_child(c, t, k)].named && target_touches(c, cst_child(c, t, k), names)) return true;
    return false;
}

// Whether running n may bind or change one of names: an assignment, augmented assignment,
// for / with / except target, walrus, import, def, class or del of one, a store into an
// attribute or item of one, or an in-place method (`x.add_(...)`) called on one. (A
// comprehension's own targets are its own; nested def, class and lambda bodies do not run.)
static bool touches(const Cst *c, uint32_t n, const PtrVec *names) {
    uint32_t kind = c->nodes[n].kind;
    switch (kind) {
    case K_FUNCTION_DEF:
    case K_CLASS_DEF: return name_in(c, cst_field(c, n, F_NAME), names);
    case K_LAMBDA: return false;
    case K_ASSIGNMENT:
    case K_AUG_ASSIGNMENT:
    case K_FOR:
        if (target_touches(c, cst_field(c, n, F_LEFT), names)) return true;
        break;
    case K_NAMED_EXPR:
        if (name_in(c, cst_field(c, n, F_NAME), names)) return true;
        break;
    case K_AS_PATTERN:
        if (target_touches(c, cst_field(c, n, F_ALIAS), names)) return true;
        break;
    case K_DELETE:
    case K_IMPORT:
    case K_IMPORT_FROM:
        for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
            if (c->nodes[cst_child(c, n, k)].named && target_touches(c, cst_child(c, n, k), names))
                return true;
        break;
    case K_CALL: {
        uint32_t f = cst_field(c, n, F_FUNCTION);
        if (f != CST_NONE && c->nodes[f].kind == K_ATTRIBUTE &&
            rw_is_in_place_method(c, cst_field(c, f, F_ATTRIBUTE)) &&
            name_in(c, chain_root(c, cst_field(c, f, F_OBJECT)), names))
            return true;
        break;
    }
    default: break;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (c->nodes[cst_child(c, n, k)].named && touches(c, cst_child(c, n, k), names)) return true;
    return false;
}

// A walrus under n binding one of names (lambda bodies do not run).
static bool walrus_touches(const Cst *c, uint32_t n, const PtrVec *names) {
    if (c->nodes[n].kind == K_LAMBDA) return false;
    if (c->nodes[n].kind == K_NAMED_EXPR && name_in(c, cst_field(c, n, F_NAME), names)) return true;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (walrus_touches(c, cst_child(c, n, k), names)) return true;
    return false;
}

// Whether the read at node use runs only under a condition that statement stmt checks
// after its first line would have run (branches of the `if` statements a text was hoisted
// out of are not: compute_avail hoists only out of a chain with an else, read in every
// branch).
static bool read_conditional(const Cst *c, uint32_t use, uint32_t stmt) {
    for (uint32_t n = use; n != stmt && c->nodes[n].parent != CST_NONE; n = c->nodes[n].parent) {
        uint32_t p = c->nodes[n].parent, kind = c->nodes[p].kind;
        if (kind == K_CONDITIONAL_EXPR && n != cst_named_child(c, p, 1)) return true;  // not the test
        if (kind == K_BOOLEAN_OP && c->nodes[n].field == F_RIGHT) return true;
        if (kind == K_LIST_COMP || kind == K_SET_COMP || kind == K_DICT_COMP || kind == K_GENERATOR ||
            kind == K_LAMBDA || kind == K_EXCEPT || kind == K_MATCH)
            return true;
        if (kind == K_ELIF && c->nodes[n].field == F_CONDITION) return true;
        if (kind == K_ELSE && c->nodes[p].parent != CST_NONE && c->nodes[c->nodes[p].parent].kind != K_IF)
            return true;  // a loop's or try's else
    }
    return false;
}

// Whether o's hoisted line, placed before the first statement of block that reads it, gives
// every read the value the program computes there.
static bool hoist_safe(RwState *a, uint32_t block, const Owned *o) {
    const Cst *c = a->c;
    PtrVec names = {0};
    rw_names_read(a, ((ExprUse *)o->uses.items[0])->node, &names);
    // the reads, by statement of the block; then one pass over the block's statements
    NodeMap reads_in = {0};  // statement -> (void *)1 when it holds a read
    uint32_t first = CST_NONE, last = CST_NONE;
    for (size_t i = 0; i < o->uses.len; i++) {
        uint32_t use = ((ExprUse *)o->uses.items[i])->node;
        uint32_t st = top_stmt_in(c, block, use);
        if (st == CST_NONE) continue;
        if (read_conditional(c, use, st)) return false;
        nodemap_put(a->cx, &reads_in, st, (void *)1);
        if (first == CST_NONE || c->nodes[st].start < c->nodes[first].start) first = st;
        if (last == CST_NONE || c->nodes[st].start > c->nodes[last].start) last = st;
    }
    if (first == CST_NONE) return true;
    bool changed = false;  // a statement since the hoisted line may have changed the value
    // (a block's children are contiguous nodes: the walk spans the reads only)
    for (uint32_t st = first; st <= last; st++) {
        if (!c->nodes[st].named || c->nodes[st].parent != block) continue;
        if (nodemap_get(&reads_in, st)) {
            if (changed) return false;
            // a compound statement may change the names before the read (or on an earlier
            // pass of a loop); a simple one binds its targets after reading its value, except
            // through a walrus
            uint32_t kind = c->nodes[st].kind;
            bool simple = kind == K_EXPR_STMT || kind == K_RETURN || kind == K_ASSERT || kind == K_RAISE ||
                          kind == K_DELETE;
            if (simple ? walrus_touches(c, st, &names) : touches(c, st, &names)) return false;
        }
        if (st == last) break;
        if (touches(c, st, &names)) changed = true;
    }
    return true;
}

void rw_keep_unsafe_inline(RwState *a, Scope *s) {
    for (size_t i = 0; i < s->owned.len; i++) {
        Owned *o = s->owned.items[i];
        if (!o->eq->is_inline && o->uses.len && !hoist_safe(a, s->block, o)) o->eq->is_inline = true;
    }
    for (size_t i = 0; i < s->children.len; i++) rw_keep_unsafe_inline(a, s->children.items[i]);
}

static int cmp_owned(const void *x, const void *y) {
    const Owned *p = *(Owned *const *)x, *q = *(Owned *const *)y;
    return strcmp(p->eq->ident, q->eq->ident);
}

// Where a hoisted line goes: before the innermost isolated candidate that
// contains the use (it runs on its own line), else before the statement.
static GenLine *anchor_line(RwState *a, uint32_t stmt, uint32_t use) {
    for (uint32_t n = use; n != CST_NONE && n != stmt; n = a->c->nodes[n].parent) {
        TmpVar *t = nodemap_get(&a->cv->tmp_of, n);
        if (!t) continue;
        PtrVec *lines = nodemap_get(&a->tmp_lines, stmt);
        for (size_t i = 0; lines && i < lines->len; i++)
            if (((GenLine *)lines->items[i])->tmp == t) return lines->items[i];
    }
    return NULL;
}

// Of the uses in statement `stmt`, the one whose line runs first: temporaries run
// in their order, before the statement itself (in `(w - x % w) % w` the right `w`
// runs first, in x % w's temporary). Returns that line (NULL: the statement).
static GenLine *first_anchor(RwState *a, const Owned *o, uint32_t block, uint32_t stmt, uint32_t *use) {
    PtrVec *lines = nodemap_get(&a->tmp_lines, stmt);
    size_t best = SIZE_MAX;
    GenLine *found = anchor_line(a, stmt, *use);
    for (size_t i = 0; i < o->uses.len; i++) {
        uint32_t n = ((ExprUse *)o->uses.items[i])->node;
        if (top_stmt_in(a->c, block, n) != stmt) continue;
        GenLine *g = anchor_line(a, stmt, n);
        size_t at = lines ? lines->len : 0;
        for (size_t k = 0; g && lines && k < lines->len; k++)
            if (lines->items[k] == g) at = k;
        if (at < best) best = at, found = g, *use = n;
    }
    return found;
}

typedef struct Hoist {
    uint32_t stmt;
    GenLine *before_tmp;  // NULL: before the statement itself
    GenLine *line;
} Hoist;

// Every name the function's text uses (parameters, locals, globals and builtins it reads;
// not attribute names or keyword-argument names), listed once.
static void list_names(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    if (c->nodes[n].kind == K_IDENTIFIER) {
        uint32_t p = c->nodes[n].parent;
        uint32_t pk = p == CST_NONE ? K_OTHER : c->nodes[p].kind;
        bool attr = pk == K_ATTRIBUTE && c->nodes[n].field == F_ATTRIBUTE;
        bool kwname = pk == K_KEYWORD_ARGUMENT && c->nodes[n].field == F_NAME;
        if (!attr && !kwname) strset_add(a->cx, &a->names, cst_strdup(a->cx, c, n));
        return;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) list_names(a, cst_child(c, n, k));
}

static bool name_taken(RwState *a, const ExprQ *eq, const char *name) {
    if (!a->names_listed) {
        a->names_listed = true;
        list_names(a, a->cv->fn->def);
    }
    if (strmap_get(&a->names, name, strlen(name))) return true;
    for (size_t i = 0; i < a->exprqs.len; i++) {
        const ExprQ *e = a->exprqs.items[i];
        if (e != eq && e->var && strcmp(e->var, name) == 0) return true;
    }
    return false;
}

// The variable of a hoisted expression: its ident, unless another text of the function
// gives the same ident (`labels != 1`, `labels == 1`): then ident_1, ident_2, ... in the
// order the texts were met, so that neither line overwrites the other's value. A name the
// function already uses (a local `self_w` beside `self.w`) would be overwritten, or would
// turn a global it reads into a local: the variable then takes the first free _1, _2, ...
static const char *hoist_var(RwState *a, ExprQ *eq) {
    if (eq->var) return eq->var;
    size_t same = 0, mine = 0;
    for (size_t i = 0; i < a->exprqs.len; i++) {
        const ExprQ *e = a->exprqs.items[i];
        if (strcmp(e->ident, eq->ident) != 0) continue;
        same++;
        if (e == eq) mine = same;
    }
    const char *base = same > 1 ? arena_printf(a->cx, "%s_%zu", eq->ident, mine) : eq->ident, *name = base;
    for (int n = 1; name_taken(a, eq, name); n++) name = arena_printf(a->cx, "%s_%d", base, n);
    eq->var = name;
    return name;
}

void rw_place_owned(RwState *a, Scope *s, Owned *o, PtrVec *hoists) {
    const Cst *c = a->c;
    const char *var = o->eq->is_inline ? NULL : hoist_var(a, o->eq);
    for (size_t i = 0; i < o->uses.len; i++) {
        ExprUse *u = o->uses.items[i];
        if (o->eq->is_inline) nodemap_put(a->cx, &a->cv->inline_q, u->node, o->eq->q);
        else nodemap_put(a->cx, &a->cv->hoisted, u->node, (void *)var);
        rw_mark_dirty(a, u->node);
    }
    if (o->eq->is_inline) return;
    // the first statement of the scope's block that reads the expression
    uint32_t best = CST_NONE, best_use = CST_NONE;
    for (size_t i = 0; i < o->uses.len; i++) {
        ExprUse *u = o->uses.items[i];
        uint32_t st = top_stmt_in(c, s->block, u->node);
        if (st == CST_NONE) continue;
        if (best == CST_NONE || c->nodes[st].start < c->nodes[best].start ||
            (st == best && c->nodes[u->node].start < c->nodes[best_use].start))
            best = st, best_use = u->node;
    }
    if (best == CST_NONE) return;
    Hoist *h = ARENA_NEW(a->cx, Hoist);
    h->stmt = best;
    h->before_tmp = first_anchor(a, o, s->block, best, &best_use);
    h->line = ARENA_NEW(a->cx, GenLine);
    h->line->kind = GEN_HOIST;
    h->line->var = var;
    h->line->q = o->eq->q;
    h->line->node = best_use;
    vec_push(a->cx, hoists, h);
    rw_mark_dirty(a, best);
}

// --- walk 3: creation order (§3.3) and line placement ---

QuantTag rw_param_tag(const char *name) {
    size_t n = strlen(name);
    if (n >= 6 && strcmp(name + n - 6, "weight") == 0) return QT_WEIGHT;
    if (n >= 4 && strcmp(name + n - 4, "bias") == 0) return QT_BIAS;
    return QT_PARAMETER;
}

// An expression quantizer's tag: its expression's (the same text everywhere); a module
// tensor of no telling name passed as an operator's weight or bias is that.
static QuantTag owned_tag(RwState *a, const ExprQ *eq) {
    PtrVec uses = {0};
    collect_uses(a->cx, a->root, eq->text, &uses);
    QuantTag tag = uses.len ? VEC_AT(uses, ExprUse, 0)->tag : QT_ACTIVATION;
    for (size_t i = 0; i < uses.len; i++) tag = rw_slot_tag(tag, VEC_AT(uses, ExprUse, i)->slot);
    return tag;
}

QuantTag rw_slot_tag(QuantTag tag, const char *slot) {
    if (tag != QT_PARAMETER || !slot) return tag;
    if (strcmp(slot, "weight") == 0) return QT_WEIGHT;
    if (strcmp(slot, "bias") == 0) return QT_BIAS;
    return tag;
}

static void create_for_owned(RwState *a, Scope *s, bool want_inline) {
    size_t n = s->owned.len;
    if (!n) return;
    Owned **sorted = ARENA_ARRAY(a->cx, Owned *, n);
    memcpy(sorted, s->owned.items, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_owned);
    for (size_t i = 0; i < n; i++) {
        ExprQ *eq = sorted[i]->eq;
        if (eq->is_inline != want_inline || eq->q) continue;
        eq->q = rw_new_quantizer(a, eq->ident, NULL);
        eq->q->tag = owned_tag(a, eq);
    }
}

static int cmp_prod(const void *x, const void *y) {
    const Prod *p = *(Prod *const *)x, *q = *(Prod *const *)y;
    if (!p->var || !q->var) return (p->var == NULL) - (q->var == NULL);
    return strcmp(p->var, q->var);
}

static void add_after(RwState *a, uint32_t key, NodeMap *map, Prod *p) {
    GenLine *g = ARENA_NEW(a->cx, GenLine);
    g->kind = GEN_QUANT;
    g->var = p->var;
    g->tmp = p->tmp;
    g->q = p->q;
    vec_push(a->cx, nodemap_vec(a->cx, map, key), g);
    rw_mark_dirty(a, key);
}

// Quantizers of the marked producers defined by `node`, sorted by name.
static void create_prods(RwState *a, uint32_t node, ProdKind kind, uint32_t place, NodeMap *map) {
    PtrVec *v = nodemap_get(&a->prods_of, node);
    if (!v) return;
    PtrVec marked = {0};
    for (size_t i = 0; i < v->len; i++) {
        Prod *p = v->items[i];
        if (p->kind == kind && p->marked && !p->q) vec_push(a->cx, &marked, p);
    }
    if (!marked.len) return;
    qsort(marked.items, marked.len, sizeof(void *), cmp_prod);
    for (size_t i = 0; i < marked.len; i++) {
        Prod *p = marked.items[i];
        p->q = rw_new_quantizer(a, p->var, p->tmp);
        p->q->tag = p->tag;
        add_after(a, place, map, p);
    }
}

// Whether Python takes an assignment expression at node n: not inside a comprehension's
// iterable (`for y in <here>`), and not in a comprehension whose scope is a class body
// (both SyntaxErrors); a lambda or def on the way up starts a scope of its own.
static bool walrus_allowed(const Cst *c, uint32_t n) {
    bool in_comprehension = false;
    for (uint32_t p = n; c->nodes[p].parent != CST_NONE; p = c->nodes[p].parent) {
        uint32_t kind = c->nodes[c->nodes[p].parent].kind;
        if (kind == K_FOR_IN_CLAUSE) {
            if (c->nodes[p].field == F_RIGHT) return false;
            in_comprehension = true;
        }
        if (kind == K_LAMBDA || kind == K_FUNCTION_DEF) return true;
        if (kind == K_CLASS_DEF) return !in_comprehension;
    }
    return true;
}

// §2.5: a comprehension variable is quantized inline at its use; used more
// than once, the first use (evaluation order) binds `__ffN` with a walrus, unless a
// use stands where Python refuses one: then every use calls the quantizer.
static void create_comp_quantizers(RwState *a, uint32_t st) {
    for (size_t i = 0; i < a->comp_prods.len; i++) {
        Prod *p = a->comp_prods.items[i];
        if (p->q || !cst_within(a->c, (uint32_t)(uintptr_t)p->uses.items[0], st)) continue;
        p->q = rw_new_quantizer(a, p->var, NULL);
        bool shared = p->uses.len > 1;
        for (size_t k = 0; k < p->uses.len && shared; k++)
            shared = walrus_allowed(a->c, (uint32_t)(uintptr_t)p->uses.items[k]);
        int walrus = shared ? a->nwalrus++ : -1;
        for (size_t k = 0; k < p->uses.len; k++) {
            CompUse *u = ARENA_NEW(a->cx, CompUse);
            u->q = p->q;
            u->walrus = walrus;
            u->first = k == 0;
            uint32_t node = (uint32_t)(uintptr_t)p->uses.items[k];
            nodemap_put(a->cx, &a->cv->comp_use, node, u);
            rw_mark_dirty(a, node);
        }
    }
}

static uint32_t first_block(const Cst *c, uint32_t n) {
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (c->nodes[cst_child(c, n, k)].kind == K_BLOCK) return cst_child(c, n, k);
    return CST_NONE;
}

// A builtin that hands back the values it is given (map, zip, list, tuple, ...), not rebound
// by the module.
static bool passes_values_on(ffq_ctx *cx, const Module *m, const Cst *c, uint32_t f) {
    static const char *const names[] = {"map",      "zip",  "list", "tuple", "sorted",
                                        "reversed", "iter", "next", NULL};
    for (const char *const *p = names; *p; p++)
        if (cst_text_is(c, f, *p)) return !program_binding(m, cst_strdup(cx, c, f));
    return false;
}

static bool derived_from_name(ffq_ctx *cx, const Module *m, const Cst *c, uint32_t n);

// Whether a named child of n is (each child once: a display of 350k items stays linear).
static bool any_child_derived(ffq_ctx *cx, const Module *m, const Cst *c, uint32_t n) {
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t ch = cst_child(c, n, k);
        if (c->nodes[ch].named && c->nodes[ch].kind != K_COMMENT && derived_from_name(cx, m, c, ch))
            return true;
    }
    return false;
}

// Is `n` a value read from a name through attributes, subscripts, method calls and
// operators (`x`, `kpts.clone()`, `h[:, 0].contiguous()`, `2 * emb`)? It may then be a
// QuantizedTensor whenever the name holds one.
static bool derived_from_name(ffq_ctx *cx, const Module *m, const Cst *c, uint32_t n) {
    for (int depth = 0; depth < 64; depth++) {
        n = cst_unparen(c, n);
        if (n == CST_NONE) return false;
        switch (c->nodes[n].kind) {
        case K_IDENTIFIER: {  // not a module or what the module imports (`torch.zeros_like(x)`)
            const Binding *b = program_binding(m, cst_strdup(cx, c, n));
            return !b || (b->kind != BIND_IMPORT && b->kind != BIND_IMPORT_AS && b->kind != BIND_FROM);
        }
        case K_ATTRIBUTE: n = cst_field(c, n, F_OBJECT); break;
        case K_SUBSCRIPT: n = cst_field(c, n, F_VALUE); break;
        // an operator left in float on such a value (`self.scale * emb` where emb holds a
        // QuantizedTensor): torch's operator on a QuantizedTensor may give one
        case K_BINARY_OP:
            if (derived_from_name(cx, m, c, cst_field(c, n, F_LEFT))) return true;
            n = cst_field(c, n, F_RIGHT);
            break;
        case K_UNARY_OP: n = cst_field(c, n, F_ARGUMENT); break;
        case K_CALL: {
            uint32_t f = cst_unparen(c, cst_field(c, n, F_FUNCTION));
            if (f != CST_NONE && c->nodes[f].kind == K_IDENTIFIER && passes_values_on(cx, m, c, f)) {
                // map(lambda t: t.reshape(...), (q, k, v)): the values it was given
                uint32_t args = cst_field(c, n, F_ARGUMENTS);
                return args != CST_NONE && any_child_derived(cx, m, c, args);
            }
            if (f == CST_NONE || c->nodes[f].kind != K_ATTRIBUTE) return false;  // a function's result
            n = cst_field(c, f, F_OBJECT);
            break;
        }
        case K_TUPLE:
        case K_LIST: return any_child_derived(cx, m, c, n);
        default: return false;
        }
    }
    return false;
}

// `v = <a name's value>` (`y = kpts.clone()`) with v changed in place afterwards (`y[:, 0::3]
// = ...`, `y.add_(...)`): v gets no quantizer (rewrite_flow.c), and when the name holds a
// QuantizedTensor the change fails (it cannot take values off its grid), where the float code
// changes a float tensor: `v = fastforward.nn.functional.dequantized(v)` after the binding.
static void float_line_for(RwState *a, uint32_t st, uint32_t target) {
    const Cst *c = a->c;
    size_t len;
    const char *name = cst_text(c, target, &len);
    if (rw_in_place_after(a, st, name, len) == CST_NONE) return;
    GenLine *g = ARENA_NEW(a->cx, GenLine);
    g->kind = GEN_FLOAT;
    g->var = cst_strdup(a->cx, c, target);
    vec_push(a->cx, nodemap_vec(a->cx, &a->cv->after, st), g);
    rw_mark_dirty(a, st);
}

static void create_float_lines(RwState *a, uint32_t st) {
    const Cst *c = a->c;
    uint32_t asg = cst_named_child(c, st, 0);
    if (asg == CST_NONE || c->nodes[asg].kind != K_ASSIGNMENT) return;
    uint32_t left = cst_unparen(c, cst_field(c, asg, F_LEFT)), right = cst_field(c, asg, F_RIGHT);
    if (left == CST_NONE || right == CST_NONE || c->nodes[right].kind == K_ASSIGNMENT ||
        nodemap_get(&a->cv->op_of, cst_unparen(c, right)) || !derived_from_name(a->cx, a->cv->mod, c, right))
        return;
    if (c->nodes[left].kind == K_IDENTIFIER) {
        float_line_for(a, st, left);
    } else if (cst_is_target_list(c->nodes[left].kind)) {  // `q, k, v = map(f, (q, k, v))`
        for (uint32_t k = 0; k < c->nodes[left].nchildren; k++) {
            if (!c->nodes[cst_child(c, left, k)].named) continue;
            uint32_t t = cst_unparen(c, cst_child(c, left, k));
            if (t != CST_NONE && c->nodes[t].kind == K_IDENTIFIER) float_line_for(a, st, t);
        }
    }
}

static void create_stmt(RwState *a, uint32_t st) {
    const Cst *c = a->c;
    PtrVec *lines = nodemap_get(&a->tmp_lines, st);
    for (size_t i = 0; lines && i < lines->len; i++) {
        GenLine *g = lines->items[i];
        PtrVec *v = nodemap_get(&a->prods_of, st);
        for (size_t k = 0; v && k < v->len; k++) {
            Prod *p = v->items[k];
            if (p->kind == PR_TMP && p->tmp == g->tmp && p->marked && !p->q)
                p->q = rw_new_quantizer(a, NULL, p->tmp);
        }
    }
    create_comp_quantizers(a, st);
    switch (c->nodes[st].kind) {
    case K_EXPR_STMT:
        create_prods(a, st, PR_ASSIGN, st, &a->cv->after);
        create_float_lines(a, st);
        return;
    case K_IF:
    case K_TRY:
    case K_WITH:
    case K_FOR:
    case K_WHILE:
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
            uint32_t ch = cst_child(c, st, k);
            uint32_t kind = c->nodes[ch].kind;
            if (kind == K_BLOCK) rw_create_block(a, ch);
            else if (kind == K_ELIF || kind == K_ELSE || kind == K_EXCEPT || kind == K_FINALLY) {
                uint32_t b = first_block(c, ch);
                if (b != CST_NONE) rw_create_block(a, b);
            }
        }
        if (c->nodes[st].kind == K_FOR) {
            uint32_t body = cst_field(c, st, F_BODY);
            create_prods(a, st, PR_FOR, body, &a->cv->prologue);
        } else if (c->nodes[st].kind == K_WITH) {
            uint32_t body = cst_field(c, st, F_BODY);
            create_prods(a, st, PR_WITH, body, &a->cv->prologue);
        }
        return;
    default: return;
    }
}

void rw_create_block(RwState *a, uint32_t block) {
    const Cst *c = a->c;
    Scope *s = nodemap_get(&a->scope_of, block);
    if (s) create_for_owned(a, s, true);
    for (uint32_t k = 0; k < c->nodes[block].nchildren; k++) {
        uint32_t st = cst_child(c, block, k);
        if (c->nodes[st].named) create_stmt(a, st);
    }
    if (s) create_for_owned(a, s, false);
}

// Builds the final "before" list of each statement: for each temporary line,
// the hoisted lines anchored at it, the line itself and its quantizer line;
// then the hoisted lines anchored at the statement.
static void build_before(RwState *a, PtrVec *hoists, uint32_t st, PtrVec *out) {
    PtrVec *lines = nodemap_get(&a->tmp_lines, st);
    size_t nl = lines ? lines->len : 0;
    for (size_t i = 0; i <= nl; i++) {
        GenLine *anchor = i < nl ? lines->items[i] : NULL;
        for (size_t h = 0; h < hoists->len; h++) {
            Hoist *ho = hoists->items[h];
            if (ho->stmt != st || ho->before_tmp != anchor) continue;
            vec_push(a->cx, out, ho->line);
        }
        if (!anchor) break;
        vec_push(a->cx, out, anchor);
        PtrVec *v = nodemap_get(&a->prods_of, st);
        for (size_t k = 0; v && k < v->len; k++) {
            Prod *p = v->items[k];
            if (p->kind != PR_TMP || p->tmp != anchor->tmp || !p->q) continue;
            GenLine *g = ARENA_NEW(a->cx, GenLine);
            g->kind = GEN_QUANT;
            g->tmp = p->tmp;
            g->q = p->q;
            vec_push(a->cx, out, g);
        }
    }
}

static int cmp_hoist(const void *x, const void *y) {
    const Hoist *p = *(Hoist *const *)x, *q = *(Hoist *const *)y;
    return strcmp(p->line->var, q->line->var);
}

void rw_finish_lines(RwState *a, PtrVec *hoists) {
    if (hoists->len) qsort(hoists->items, hoists->len, sizeof(void *), cmp_hoist);
    PtrVec stmts = {0};  // statements with tmp lines or hoists, in source order of discovery
    for (size_t i = 0; i < a->tmp_lines.cap; i++)
        if (a->tmp_lines.keys[i] != CST_NONE)
            vec_push(a->cx, &stmts, (void *)(uintptr_t)a->tmp_lines.keys[i]);
    for (size_t h = 0; h < hoists->len; h++)
        vec_push(a->cx, &stmts, (void *)(uintptr_t)((Hoist *)hoists->items[h])->stmt);
    for (size_t i = 0; i < stmts.len; i++) {
        uint32_t st = (uint32_t)(uintptr_t)stmts.items[i];
        if (nodemap_get(&a->cv->before, st)) continue;
        PtrVec *out = ARENA_NEW(a->cx, PtrVec);
        build_before(a, hoists, st, out);
        nodemap_put(a->cx, &a->cv->before, st, out);
    }
}

// Parameter quantizer lines go first in the body, after the docstring.
void rw_place_params(RwState *a) {
    PtrVec *v = NULL;
    // the module's inputs are the parameters of its forward; those of other methods and
    // helpers are values computed inside the module
    bool is_forward = a->cv->instance && a->cv->cls && strcmp(a->cv->fn->name, "forward") == 0;
    for (size_t i = 0; i < a->params.len; i++) {
        Prod *p = a->params.items[i];
        if (!p->marked) continue;
        p->q = rw_new_quantizer(a, p->var, NULL);
        p->q->tag = is_forward ? QT_INPUT : QT_ACTIVATION;
        p->q->param = p->order + 1;
        p->q->slot_tag = p->slot_tag;
        GenLine *g = ARENA_NEW(a->cx, GenLine);
        g->kind = GEN_QUANT;
        g->var = p->var;
        g->q = p->q;
        if (!v) v = nodemap_vec(a->cx, &a->cv->prologue, a->body);
        vec_push(a->cx, v, g);
    }
    if (v) rw_mark_dirty(a, a->body);
}
