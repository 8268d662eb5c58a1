// rewrite.c: plan the conversion of one function (spec §2, §3, §9.5).
//
// Consumes: a FuncInfo, its Module and Cst, the operator table. Produces: a
// Conv (see rewrite.h). Three walks, in order:
//   1. candidates: every call / operator is examined in post-order; table ops
//      become QOps (creating their output quantizers, §3.3 step 1) and
//      candidates nested in a simple statement are isolated into temporaries;
//   2. flow: a reaching-definitions walk over the structured body decides
//      which producers and which expressions are quantized (§2.2-§2.4);
//   3. creation: a depth-first walk creates the remaining quantizers in the
//      order of §3.3 step 2-3 and attaches the lines to insert.
// Invariant afterwards: every Quantizer in cv->quantizers is referenced by a
// QOp or a GenLine, and nothing in the Cst was modified.
#include "ffq_int.h"
#include "torchinfo.h"
#include "rewrite.h"
#include "types.h"

#include <stdlib.h>
#include <string.h>

// --- the analysis state ---

typedef struct Scope Scope;

typedef enum ProdKind { PR_PARAM, PR_ASSIGN, PR_TMP, PR_FOR, PR_WITH, PR_COMP } ProdKind;

// A producer (§2.3): something that gives a variable its value.
typedef struct Prod {
    ProdKind kind;
    const char *key;      // variable name, or "#<id>" for a temporary
    const char *var;      // variable name (NULL for temporaries)
    TmpVar *tmp;
    uint32_t node;        // parameter / statement / for / with node
    GenLine *tmp_line;    // PR_TMP: the line defining the temporary
    uint32_t order;       // parameter index
    bool born_quantized;  // the value is the output of a quantized op
    bool marked;          // needs a quantizer
    Quantizer *q;
    PtrVec uses;          // PR_COMP: identifier nodes quantized inline (§2.5), in order
} Prod;

typedef struct EnvEntry {
    const char *key;
    PtrVec prods;  // Prod *
} EnvEntry;

typedef struct Env {
    PtrVec entries;  // EnvEntry *
} Env;

// An expression quantizer use (§2.4).
typedef struct ExprUse {
    const char *text;
    const char *ident;
    uint32_t node;
    bool is_inline;
} ExprUse;

struct Scope {
    Scope *parent;
    uint32_t block;     // the block this branch scope covers
    PtrVec children;    // Scope *
    PtrVec uses;        // ExprUse * used directly in this scope
    PtrVec avail;       // const char * texts available in this scope (bottom-up)
    PtrVec owned;       // ExprUse * (one per text) owned by this scope
};

typedef struct ExprQ {  // one per expression text in the function
    const char *text;
    const char *ident;
    bool is_inline;
    Quantizer *q;
} ExprQ;

typedef struct Loop {
    struct Loop *outer;
    PtrVec breaks;  // Env * at each break
} Loop;

typedef struct A {
    ffq_ctx *cx;
    Conv *cv;
    const Cst *c;
    uint32_t stmt;          // simple statement whose candidates are being isolated
    uint32_t body;          // the function body block
    uint32_t ntmp;
    NodeMap tmp_lines;      // statement -> PtrVec of GenLine * (GEN_TMP, in order)
    NodeMap prods_of;       // statement/param node -> PtrVec of Prod *
    NodeMap scope_of;       // block -> Scope *
    Scope *scope;           // current branch scope during flow
    Scope *root;
    PtrVec exprqs;          // ExprQ *
    Loop *loop;
    PtrVec params;          // Prod * of eligible parameters, in order
    const Types *types;     // NULL when type inference is off
    PtrVec locals;          // names bound inside the function (they shadow module names)
    PtrVec comp_prods;      // PR_COMP producers with uses, in order of first use
    int nwalrus;            // `__ffN` names handed out
    bool failed;
} A;

static void mark_dirty(A *a, uint32_t n) {
    for (; n != CST_NONE && !nodemap_get(&a->cv->dirty, n); n = a->c->nodes[n].parent)
        nodemap_put(a->cx, &a->cv->dirty, n, (void *)1);
}

static Quantizer *new_quantizer(A *a, const char *base, TmpVar *tmp) {
    Quantizer *q = ARENA_NEW(a->cx, Quantizer);
    q->base = base;
    q->tmp = tmp;
    q->seq = (uint32_t)a->cv->quantizers.len;
    vec_push(a->cx, &a->cv->quantizers, q);
    return q;
}

static void fail(A *a, uint32_t node, const char *code, const char *what) {
    if (a->failed) return;
    a->failed = true;
    a->cx->stats.float_failed++;
    const FuncInfo *fn = a->cv->fn;
    diag_at(a->cx, DIAG_WARNING, a->c->file, a->c->nodes[node].start, code,
            "cannot quantize '%s'%s%s: %s; it is left out of the output", fn->name,
            fn->owner ? " of " : "", fn->owner ? fn->owner->name : "", what);
}

// --- classification ---

// Is the root name of a dotted expression bound inside the function
// (parameter, assignment, loop/with target, local import or def)?
static bool is_local_root(const A *a, uint32_t node) {
    const Cst *c = a->c;
    node = cst_unparen(c, node);
    while (node != CST_NONE && c->nodes[node].kind == K_ATTRIBUTE) node = cst_unparen(c, cst_field(c, node, F_OBJECT));
    if (node == CST_NONE || c->nodes[node].kind != K_IDENTIFIER) return false;
    for (size_t i = 0; i < a->locals.len; i++)
        if (cst_text_is(c, node, a->locals.items[i])) return true;
    return false;
}

static void add_local(A *a, uint32_t n) {
    const Cst *c = a->c;
    n = cst_unparen(c, n);
    if (n == CST_NONE) return;
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_IDENTIFIER) {
        vec_push(a->cx, &a->locals, cst_strdup(a->cx, c, n));
        return;
    }
    if (kind == K_PATTERN_LIST || kind == K_TUPLE_PATTERN || kind == K_LIST_PATTERN || kind == K_TUPLE ||
        kind == K_LIST || kind == K_LIST_SPLAT_PATTERN || kind == K_LIST_SPLAT || kind == K_EXPRESSION_LIST ||
        kind == K_TYPED_PARAMETER || kind == K_DICT_SPLAT_PATTERN)
        for (uint32_t k = 0; k < cst_named_count(c, n); k++) add_local(a, cst_named_child(c, n, k));
}

// Names bound anywhere in the function body (Python scoping is per function),
// and relative imports made absolute (§9 step 1) so copied code still imports.
static void scan_locals(A *a, uint32_t n) {
    const Cst *c = a->c;
    const CstNode *node = &c->nodes[n];
    switch (node->kind) {
    case K_ASSIGNMENT: case K_AUG_ASSIGNMENT: case K_FOR: case K_FOR_IN_CLAUSE:
        add_local(a, cst_field(c, n, F_LEFT));
        break;
    case K_NAMED_EXPR: add_local(a, cst_field(c, n, F_NAME)); break;
    case K_AS_PATTERN: add_local(a, cst_field(c, n, F_ALIAS)); break;
    case K_FUNCTION_DEF: case K_CLASS_DEF:
        add_local(a, cst_field(c, n, F_NAME));
        return;  // its own scope
    case K_IMPORT: case K_IMPORT_FROM:
        for (uint32_t k = 0; k < node->nchildren; k++) {
            uint32_t ch = node->first_child + k;
            if (c->nodes[ch].field != F_NAME) continue;
            uint32_t al = c->nodes[ch].kind == K_ALIASED_IMPORT ? cst_field(c, ch, F_ALIAS) : ch;
            const char *t = cst_strdup(a->cx, c, al);
            char *dot = strchr(t, '.');
            if (dot) *dot = '\0';
            vec_push(a->cx, &a->locals, (void *)t);
        }
        if (node->kind == K_IMPORT_FROM) {
            uint32_t mn = cst_field(c, n, F_MODULE_NAME);
            if (mn != CST_NONE && c->nodes[mn].kind == K_RELATIVE_IMPORT) {
                const char *abs = program_absolute_module(a->cx, a->cv->mod, cst_strdup(a->cx, c, mn));
                if (abs[0]) {
                    nodemap_put(a->cx, &a->cv->text_of, mn, (void *)abs);
                    mark_dirty(a, mn);
                }
            }
        }
        return;
    default: break;
    }
    for (uint32_t k = 0; k < node->nchildren; k++)
        if (c->nodes[node->first_child + k].named) scan_locals(a, node->first_child + k);
}

static bool is_literal(const Cst *c, uint32_t n) {
    n = cst_unparen(c, n);
    if (n == CST_NONE) return false;
    switch (c->nodes[n].kind) {
    case K_INTEGER: case K_FLOAT: case K_STRING: case K_CONCAT_STRING: case K_TRUE:
    case K_FALSE: case K_NONE: case K_ELLIPSIS:
        return true;
    case K_UNARY_OP: return is_literal(c, cst_field(c, n, F_ARGUMENT));
    case K_BINARY_OP:
        return is_literal(c, cst_field(c, n, F_LEFT)) && is_literal(c, cst_field(c, n, F_RIGHT));
    default: return false;
    }
}

static bool is_super_call(const Cst *c, uint32_t call) {
    uint32_t f = cst_field(c, call, F_FUNCTION);
    return f != CST_NONE && cst_text_is(c, f, "super");
}

// §9.5 step 5 (type inference off): every call except super() and bypassed
// callables, every operator whose operands are not all simple literals.
static bool is_candidate(A *a, uint32_t n) {
    const Cst *c = a->c;
    switch (c->nodes[n].kind) {
    case K_CALL: {
        if (is_super_call(c, n)) return false;
        uint32_t f = cst_field(c, n, F_FUNCTION);
        const char *dotted = program_dotted_text(a->cx, c, f);
        if (torchinfo_is_bypassed(dotted) || torchinfo_is_bypassed(program_qualname(a->cx, a->cv->mod, f))) return false;
        if (is_local_root(a, f)) return true;
        Symbol s = program_resolve(a->cx, (Module *)a->cv->mod, f);
        return !torchinfo_is_bypassed(s.qualname);
    }
    case K_BINARY_OP:
    case K_UNARY_OP: return !is_literal(c, n);
    default: return false;
    }
}

// --- operator lookup (§6.3, §6.5, §6.6) ---

typedef struct Args {
    uint32_t pos[64];
    size_t npos;
    uint32_t kw[64];          // keyword_argument nodes
    const char *kwnames[64];
    size_t nkw;
    bool pos_after_kw;
} Args;

static bool collect_args(A *a, uint32_t call, Args *out) {
    const Cst *c = a->c;
    memset(out, 0, sizeof *out);
    uint32_t al = cst_field(c, call, F_ARGUMENTS);
    if (al == CST_NONE || c->nodes[al].kind != K_ARGUMENT_LIST) return false;  // f"" / generator arg
    for (uint32_t k = 0; k < cst_named_count(c, al); k++) {
        uint32_t arg = cst_named_child(c, al, k);
        if (c->nodes[arg].kind == K_KEYWORD_ARGUMENT) {
            if (out->nkw == 64) return false;
            out->kw[out->nkw] = arg;
            out->kwnames[out->nkw++] = cst_strdup(a->cx, c, cst_field(c, arg, F_NAME));
        } else if (c->nodes[arg].kind == K_DICT_SPLAT) {
            return false;  // **kwargs: cannot bind keywords statically
        } else {
            if (out->npos == 64) return false;
            if (out->nkw) out->pos_after_kw = true;
            out->pos[out->npos++] = arg;
        }
    }
    return true;
}

static const char *operator_text(A *a, uint32_t n) {
    uint32_t op = cst_field(a->c, n, F_OPERATOR);
    return op == CST_NONE ? NULL : cst_strdup(a->cx, a->c, op);
}

// torch functions that make or inspect tensors rather than compute on them:
// not worth a note when they are missing from the table.
static const char *const not_ops[] = {
    "arange", "as_tensor", "autocast", "compile", "device", "dtype", "empty", "enable_grad",
    "eye", "finfo", "from_numpy", "full", "get_default_dtype", "iinfo", "inference_mode",
    "is_floating_point", "is_grad_enabled", "is_tensor", "linspace", "load", "logspace",
    "manual_seed", "no_grad", "numel", "ones", "rand", "rand_like", "randint", "randn",
    "randn_like", "randperm", "save", "set_grad_enabled", "tensor", "zeros",
};

// torch.nn.functional.<f> and torch.<f>: calls that look like tensor ops.
static bool looks_like_op(const char *q) {
    const char *name;
    if (str_has_prefix(q, "torch.nn.functional.")) name = q + 20;
    else if (str_has_prefix(q, "torch.") && !strchr(q + 6, '.')) name = q + 6;
    else return false;
    if (!(name[0] >= 'a' && name[0] <= 'z')) return false;
    for (size_t i = 0; i < sizeof not_ops / sizeof not_ops[0]; i++)
        if (strcmp(name, not_ops[i]) == 0) return false;
    return true;
}

// §12: one note per callable, at its first call, with the number of calls.
static void note_missing_op(A *a, uint32_t n, const char *q) {
    MissingOp *m = NULL;
    for (size_t i = 0; i < a->cx->missing_ops.len && !m; i++)
        if (strcmp(VEC_AT(a->cx->missing_ops, MissingOp, i)->name, q) == 0)
            m = a->cx->missing_ops.items[i];
    if (!m) {
        m = ARENA_NEW(a->cx, MissingOp);
        m->name = q;
        m->file = a->c->file;
        m->offset = a->c->nodes[n].start;
        vec_push(a->cx, &a->cx->missing_ops, m);
    }
    m->count++;
}

static const OpEntry *lookup_op(A *a, uint32_t n, Args *args) {
    const Cst *c = a->c;
    const OpTable *t = a->cx->optable;
    switch (c->nodes[n].kind) {
    case K_CALL: {
        if (!collect_args(a, n, args)) return NULL;
        uint32_t fn = cst_field(c, n, F_FUNCTION);
        const char *q = program_qualname(a->cx, a->cv->mod, fn);
        if (!q) return NULL;
        if (!optable_has(t, q)) {  // a re-export: the table knows the defining name
            Symbol s = program_resolve(a->cx, (Module *)a->cv->mod, fn);
            if ((s.kind == SYM_FUNC || s.kind == SYM_NONE) && s.qualname && optable_has(t, s.qualname))
                q = s.qualname;
        }
        const OpEntry *e = optable_select(t, q, args->npos, args->kwnames, args->nkw);
        if (!e && !optable_has(t, q) && looks_like_op(q)) note_missing_op(a, n, q);
        if (!e && optable_has(t, q))
            diag_at(a->cx, DIAG_NOTE, c->file, c->nodes[n].start, "no-overload",
                    "'%s' is in the operator table but no overload matches this call", q);
        return e;
    }
    case K_AUG_ASSIGNMENT: {  // §2.6: `a op= b` is looked up as `a = a op b`
        memset(args, 0, sizeof *args);
        const char *op = operator_text(a, n);
        size_t len = op ? strlen(op) : 0;
        if (len < 2) return NULL;
        const char *fb = optable_operator_fallback(t, arena_strndup(a->cx, op, len - 1), false);
        if (!fb) return NULL;
        args->pos[0] = cst_field(c, n, F_LEFT);
        args->pos[1] = cst_field(c, n, F_RIGHT);
        args->npos = 2;
        return optable_select(t, fb, 2, NULL, 0);
    }
    case K_BINARY_OP: {
        memset(args, 0, sizeof *args);
        const char *fb = optable_operator_fallback(t, operator_text(a, n), false);
        if (!fb) return NULL;
        args->pos[0] = cst_field(c, n, F_LEFT);
        args->pos[1] = cst_field(c, n, F_RIGHT);
        args->npos = 2;
        return optable_select(t, fb, 2, NULL, 0);
    }
    case K_UNARY_OP: {
        memset(args, 0, sizeof *args);
        const char *fb = optable_operator_fallback(t, operator_text(a, n), true);
        if (!fb) return NULL;
        args->pos[0] = cst_field(c, n, F_ARGUMENT);
        args->npos = 1;
        return optable_select(t, fb, 1, NULL, 0);
    }
    default: return NULL;
    }
}

// Creates the op's intermediate and output quantizers (§2.1, §3.3 step 1).
static void make_op(A *a, uint32_t n) {
    Args args;
    const OpEntry *e = lookup_op(a, n, &args);
    if (!e) return;
    if (args.pos_after_kw) {
        fail(a, n, "positional-after-keyword",
             "a positional argument follows a keyword argument in a quantized call");
        return;
    }
    QOp *op = ARENA_NEW(a->cx, QOp);
    op->entry = e;
    op->node = n;
    op->intermediates = ARENA_ARRAY(a->cx, Quantizer *, e->nintermediates + 1);
    for (size_t i = 0; i < e->nintermediates; i++)
        op->intermediates[i] = new_quantizer(a, e->intermediates[i], NULL);
    if (e->returns_quantized) op->output = new_quantizer(a, optable_canonical_name(e), NULL);
    nodemap_put(a->cx, &a->cv->op_of, n, op);
    a->cv->nops++;
    mark_dirty(a, n);
}

static void isolate(A *a, uint32_t n) {
    TmpVar *t = ARENA_NEW(a->cx, TmpVar);
    t->id = a->ntmp++;
    vec_push(a->cx, &a->cv->tmps, t);
    nodemap_put(a->cx, &a->cv->tmp_of, n, t);
    GenLine *g = ARENA_NEW(a->cx, GenLine);
    g->kind = GEN_TMP;
    g->tmp = t;
    g->node = n;
    vec_push(a->cx, nodemap_vec(a->cx, &a->tmp_lines, a->stmt), g);
    mark_dirty(a, n);
    mark_dirty(a, a->stmt);
}

// --- following calls (§5.1) ---

static bool is_scope_boundary(uint32_t kind) {
    return kind == K_LAMBDA || kind == K_FUNCTION_DEF || kind == K_CLASS_DEF ||
           kind == K_DECORATED_DEF;
}


// The function a call goes to, when ffq follows it: a method of the class
// being generated (self.m(...), cls.m(...), ClassName.m(...), self(...)) or
// a free function of the module that is not in the operator table.
static const FuncInfo *resolve_callee(A *a, uint32_t call) {
    const Cst *c = a->c;
    const Conv *cv = a->cv;
    uint32_t f = cst_unparen(c, cst_field(c, call, F_FUNCTION));
    if (f == CST_NONE) return NULL;
    if (c->nodes[f].kind == K_IDENTIFIER && cv->cls && cv->fn->kind == FN_INSTANCE &&
        cst_text_is(c, f, cv->self_name))
        return program_find_method(a->cx, cv->cls, "forward");  // self(...)
    uint32_t obj = c->nodes[f].kind == K_ATTRIBUTE ? cst_unparen(c, cst_field(c, f, F_OBJECT)) : CST_NONE;
    bool via_self = obj != CST_NONE && c->nodes[obj].kind == K_IDENTIFIER && cv->cls &&
                    cv->fn->kind != FN_STATICMETHOD && cst_text_is(c, obj, cv->self_name);
    Symbol named = via_self || obj == CST_NONE || is_local_root(a, obj)
                       ? (Symbol){0}
                       : program_resolve(a->cx, (Module *)cv->mod, obj);
    if (!via_self && !(named.kind == SYM_CLASS && cv->cls && named.cls == cv->cls)) {
        // a free function, here or in another module with source (§5.1)
        if (is_local_root(a, f)) return NULL;
        Symbol s = program_resolve(a->cx, (Module *)cv->mod, f);
        if (s.kind == SYM_NONE) {
            const char *missing = program_missing_import(a->cx, (Module *)cv->mod, f);
            if (missing) a->cx->stats.float_unresolved++;
            if (missing)
                program_warn_missing(a->cx, (Module *)cv->mod, call,
                                     arena_printf(a->cx, "'%s'", program_dotted_text(a->cx, c, f)), missing);
        }
        if (s.kind != SYM_FUNC || !s.fn || s.fn->owner) return NULL;
        if (optable_has(a->cx->optable, s.qualname)) return NULL;
        return s.fn;
    }
    const char *attr = cst_strdup(a->cx, c, cst_field(c, f, F_ATTRIBUTE));
    const FuncInfo *m = program_find_method(a->cx, cv->cls, attr);
    if (m && !via_self) {  // §1.3: Name.member(...) -> QuantizedName.member(...)
        nodemap_put(a->cx, &a->cv->text_of, obj, arena_printf(a->cx, "Quantized%s", cv->cls->name));
        mark_dirty(a, obj);
    }
    return m;
}

static void note_site(A *a, uint32_t call) {
    const FuncInfo *callee = resolve_callee(a, call);
    if (!callee) return;
    CallSite *site = ARENA_NEW(a->cx, CallSite);
    site->node = call;
    site->callee = callee;
    nodemap_put(a->cx, &a->cv->site_of, call, site);
    mark_dirty(a, call);
}

// §1.3: in an instance method a bare super() becomes super(<Owner>, <self>),
// so code copied into Quantized<Name> keeps its original MRO anchor.
static void anchor_super(A *a, uint32_t call) {
    const Cst *c = a->c;
    const FuncInfo *fn = a->cv->fn;
    uint32_t args = cst_field(c, call, F_ARGUMENTS);
    if (fn->kind != FN_INSTANCE || !fn->owner || args == CST_NONE || cst_named_count(c, args) != 0)
        return;
    nodemap_put(a->cx, &a->cv->text_of, call,
                arena_printf(a->cx, "super(%s, %s)", fn->owner->name, a->cv->self_name));
    mark_dirty(a, call);
}

// Breadth-first order of the call sites (§5.1): statements of a block before
// anything nested in them, an isolated call counted at the statement level.
static void order_sites(A *a) {
    const Cst *c = a->c;
    PtrVec queue = {0};
    vec_push(a->cx, &queue, (void *)(uintptr_t)a->body);
    for (size_t i = 0; i < queue.len; i++) {
        uint32_t n = (uint32_t)(uintptr_t)queue.items[i];
        const CstNode *node = &c->nodes[n];
        if (i > 0 && is_scope_boundary(node->kind)) continue;
        CallSite *site = nodemap_get(&a->cv->site_of, n);
        if (site) vec_push(a->cx, &a->cv->sites, site);
        for (uint32_t k = 0; k < node->nchildren; k++) {
            uint32_t ch = node->first_child + k;
            if (!c->nodes[ch].named) continue;
            PtrVec *lines = node->kind == K_BLOCK ? nodemap_get(&a->tmp_lines, ch) : NULL;
            for (size_t j = 0; lines && j < lines->len; j++)
                vec_push(a->cx, &queue, (void *)(uintptr_t)((GenLine *)lines->items[j])->node);
            if (nodemap_get(&a->cv->tmp_of, ch) && node->kind != K_BLOCK) continue;
            // `x = f()` and `return f()` put f() at the same depth, as a
            // statement-line tree does: the expression_statement level is skipped
            if (c->nodes[ch].kind == K_EXPR_STMT && c->nodes[ch].nchildren > 0) {
                for (uint32_t j = 0; j < c->nodes[ch].nchildren; j++) {
                    uint32_t g = c->nodes[ch].first_child + j;
                    if (c->nodes[g].named && !nodemap_get(&a->cv->tmp_of, g))
                        vec_push(a->cx, &queue, (void *)(uintptr_t)g);
                }
                continue;
            }
            vec_push(a->cx, &queue, (void *)(uintptr_t)ch);
        }
    }
}

// --- walk 1: candidates ---

static bool is_deferred(uint32_t kind) {  // children may not run, or run many times
    return kind == K_LIST_COMP || kind == K_SET_COMP || kind == K_DICT_COMP ||
           kind == K_GENERATOR || kind == K_CONDITIONAL_EXPR;
}

// Post-order over an expression. `can_isolate`: nested candidates may be
// moved to a temporary before the current statement. `direct`: this node is
// the statement's own value (never isolated itself).
static void visit_expr(A *a, uint32_t n, bool can_isolate, bool direct) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if (is_scope_boundary(kind)) return;
    bool child_iso = can_isolate && !is_deferred(kind);
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t ch = cst_child(c, n, k);
        if (!c->nodes[ch].named) continue;
        bool iso = child_iso;
        if (kind == K_BOOLEAN_OP && c->nodes[ch].field == F_RIGHT) iso = false;
        bool ch_direct = direct && kind == K_PAREN_EXPR;
        if (kind == K_KEYWORD_ARGUMENT && c->nodes[ch].field == F_NAME) continue;
        visit_expr(a, ch, iso, ch_direct);
    }
    if (kind == K_CALL && is_super_call(c, n)) anchor_super(a, n);
    if (!is_candidate(a, n)) return;
    // §7.1: with inference on, a call or operator on known non-tensors is not
    // a candidate; a table op or followable helper call is still rewritten in
    // place (the "second chance"), never isolated. Operators are left alone.
    bool typed = !a->types || types_is_candidate(a->types, n);
    // ffq, stricter than §7.1: inference may only remove quantizers from values
    // known not to be tensors. A call whose own result may be a tensor (a tensor
    // method such as score.softmax(-1), a factory such as torch.zeros(3)) stays
    // a candidate whatever its arguments, so its result is quantized where an
    // op consumes it.
    if (!typed && kind == K_CALL) {
        const Type *rt = types_of_node(a->types, n);
        if (!rt || types_may_be_tensor(rt)) typed = true;
    }
    if (!typed && kind != K_CALL) return;
    make_op(a, n);
    if (kind == K_CALL && !nodemap_get(&a->cv->op_of, n)) note_site(a, n);
    if (typed && can_isolate && !direct) isolate(a, n);
}

// The expression(s) of a simple statement that count as "directly the value".
static void visit_simple(A *a, uint32_t st) {
    const Cst *c = a->c;
    a->stmt = st;
    uint32_t kind = c->nodes[st].kind;
    if (kind == K_EXPR_STMT) {
        uint32_t e = cst_named_child(c, st, 0);
        if (e == CST_NONE) return;
        if (c->nodes[e].kind == K_AUG_ASSIGNMENT) {
            // `x += f(y)` behaves as `x = x + f(y)`: f(y) is nested, the operator is the value
            uint32_t left = cst_field(c, e, F_LEFT), right = cst_field(c, e, F_RIGHT);
            if (left != CST_NONE) visit_expr(a, left, true, false);
            if (right != CST_NONE) visit_expr(a, right, true, false);
            uint32_t lk = left == CST_NONE ? K_OTHER : c->nodes[cst_unparen(c, left)].kind;
            bool typed = !a->types || types_is_candidate(a->types, e);  // §7.1: both operands
            if ((lk == K_IDENTIFIER || lk == K_ATTRIBUTE || lk == K_SUBSCRIPT) && typed) make_op(a, e);
            return;
        }
        if (c->nodes[e].kind == K_ASSIGNMENT) {
            // walk the chain a = b = value: targets may hold candidates too (x[f(i)] = v)
            uint32_t cur = e;
            while (cur != CST_NONE && (c->nodes[cur].kind == K_ASSIGNMENT ||
                                       c->nodes[cur].kind == K_AUG_ASSIGNMENT)) {
                uint32_t left = cst_field(c, cur, F_LEFT), right = cst_field(c, cur, F_RIGHT);
                uint32_t type = cst_field(c, cur, F_TYPE);
                (void)type;  // annotations are never rewritten
                if (left != CST_NONE) visit_expr(a, left, true, false);
                if (right == CST_NONE) break;
                if (c->nodes[right].kind == K_ASSIGNMENT) cur = right;
                else {
                    visit_expr(a, right, true, true);
                    break;
                }
            }
            return;
        }
        visit_expr(a, e, true, true);
        return;
    }
    if (kind == K_RETURN || kind == K_RAISE) {
        uint32_t e = cst_named_child(c, st, 0);
        if (e != CST_NONE) visit_expr(a, e, true, true);
        for (uint32_t k = 1; k < cst_named_count(c, st); k++)  // raise X from Y
            visit_expr(a, cst_named_child(c, st, k), true, false);
        return;
    }
    for (uint32_t k = 0; k < cst_named_count(c, st); k++)
        visit_expr(a, cst_named_child(c, st, k), true, false);
}

static void visit_block(A *a, uint32_t block);

// Compound statements: header expressions are rewritten in place, never isolated.
static void visit_stmt(A *a, uint32_t st) {
    const Cst *c = a->c;
    switch (c->nodes[st].kind) {
    case K_COMMENT: return;
    case K_FUNCTION_DEF: case K_CLASS_DEF: case K_DECORATED_DEF: return;
    case K_IF: case K_ELIF: case K_ELSE: case K_FOR: case K_WHILE: case K_WITH:
    case K_TRY: case K_EXCEPT: case K_FINALLY: case K_WITH_CLAUSE: case K_WITH_ITEM:
    case K_MATCH:
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
            uint32_t ch = cst_child(c, st, k);
            uint32_t kind = c->nodes[ch].kind;
            if (!c->nodes[ch].named || kind == K_COMMENT) continue;
            if (kind == K_BLOCK) visit_block(a, ch);
            else if (kind == K_ELIF || kind == K_ELSE || kind == K_EXCEPT || kind == K_FINALLY ||
                     kind == K_WITH_CLAUSE || kind == K_WITH_ITEM)
                visit_stmt(a, ch);
            else visit_expr(a, ch, false, true);
        }
        return;
    default: visit_simple(a, st); return;
    }
}

static void visit_block(A *a, uint32_t block) {
    const Cst *c = a->c;
    for (uint32_t k = 0; k < c->nodes[block].nchildren; k++) {
        uint32_t st = cst_child(c, block, k);
        if (c->nodes[st].named) visit_stmt(a, st);
    }
}

// --- walk 2: flow (reaching definitions) ---

static EnvEntry *env_find(const Env *e, const char *key) {
    for (size_t i = 0; i < e->entries.len; i++) {
        EnvEntry *en = VEC_AT(e->entries, EnvEntry, i);
        if (strcmp(en->key, key) == 0) return en;
    }
    return NULL;
}

static void env_set(A *a, Env *e, Prod *p) {
    EnvEntry *en = env_find(e, p->key);
    if (!en) {
        en = ARENA_NEW(a->cx, EnvEntry);
        en->key = p->key;
        vec_push(a->cx, &e->entries, en);
    }
    en->prods.len = 0;
    en->prods.cap = 0;
    en->prods.items = NULL;
    vec_push(a->cx, &en->prods, p);
}

static Env *env_copy(A *a, const Env *src) {
    Env *e = ARENA_NEW(a->cx, Env);
    for (size_t i = 0; i < src->entries.len; i++) {
        const EnvEntry *s = VEC_AT(src->entries, EnvEntry, i);
        EnvEntry *en = ARENA_NEW(a->cx, EnvEntry);
        en->key = s->key;
        for (size_t k = 0; k < s->prods.len; k++) vec_push(a->cx, &en->prods, s->prods.items[k]);
        vec_push(a->cx, &e->entries, en);
    }
    return e;
}

static void env_union(A *a, Env *dst, const Env *src) {
    for (size_t i = 0; i < src->entries.len; i++) {
        const EnvEntry *s = VEC_AT(src->entries, EnvEntry, i);
        EnvEntry *d = env_find(dst, s->key);
        if (!d) {
            d = ARENA_NEW(a->cx, EnvEntry);
            d->key = s->key;
            vec_push(a->cx, &dst->entries, d);
        }
        for (size_t k = 0; k < s->prods.len; k++) {
            size_t j = 0;
            while (j < d->prods.len && d->prods.items[j] != s->prods.items[k]) j++;
            if (j == d->prods.len) vec_push(a->cx, &d->prods, s->prods.items[k]);
        }
    }
}

// The producer of `key` defined by `node`; the same object on every pass over a loop.
static Prod *producer(A *a, ProdKind kind, uint32_t node, const char *key) {
    PtrVec *v = nodemap_vec(a->cx, &a->prods_of, node);
    for (size_t i = 0; i < v->len; i++) {
        Prod *p = v->items[i];
        if (strcmp(p->key, key) == 0) return p;
    }
    Prod *p = ARENA_NEW(a->cx, Prod);
    p->kind = kind;
    p->key = key;
    p->var = key;
    p->node = node;
    vec_push(a->cx, v, p);
    return p;
}

static const char *tmp_key(A *a, const TmpVar *t) { return arena_printf(a->cx, "#%u", t->id); }

static void use_name(A *a, Env *env, const char *key, uint32_t use) {
    EnvEntry *en = env_find(env, key);
    for (size_t i = 0; en && i < en->prods.len; i++) {
        Prod *p = en->prods.items[i];
        if (p->born_quantized) continue;
        p->marked = true;
        if (p->kind != PR_COMP || use == CST_NONE) continue;
        bool seen = false;  // comprehensions inside loops are walked twice
        for (size_t k = 0; k < p->uses.len && !seen; k++) seen = (uintptr_t)p->uses.items[k] == use;
        if (!seen) vec_push(a->cx, &p->uses, (void *)(uintptr_t)use);
        if (!seen && p->uses.len == 1) vec_push(a->cx, &a->comp_prods, p);
    }
}

// ident(expr) of §2.4.
static const char *ident_of(ffq_ctx *cx, const char *text) {
    StrBuf sb = {0};
    for (const char *p = text; *p; p++) {
        char ch = *p;
        if (ch == '+') sb_puts(cx, &sb, "_plus_");
        else if (ch == '-') sb_puts(cx, &sb, "_minus_");
        else if (ch == '*') sb_puts(cx, &sb, "_mul_");
        else if (ch == '/') {
            sb_puts(cx, &sb, "_div_");
            if (p[1] == '/') p++;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   ch == '_')
            sb_putc(cx, &sb, ch);
        else sb_putc(cx, &sb, '_');
    }
    StrBuf out = {0};  // collapse runs of '_', strip trailing '_'
    const char *s = sb_cstr(cx, &sb);
    for (size_t i = 0; s[i]; i++)
        if (!(s[i] == '_' && out.len && out.data[out.len - 1] == '_')) sb_putc(cx, &out, s[i]);
    while (out.len > 0 && out.data[out.len - 1] == '_') out.data[--out.len] = '\0';
    const char *r = sb_cstr(cx, &out);
    bool is_kw = cst_is_keyword(r, strlen(r));
    if (!r[0] || (r[0] >= '0' && r[0] <= '9') || is_kw) r = arena_printf(cx, "_%s", r);
    return r;
}

// Normalised source text of an expression: runs of whitespace (outside
// strings) become one space, so `self .weight` and `self.weight` are one key.
static const char *expr_key(A *a, uint32_t n) {
    size_t len;
    const char *t = cst_text(a->c, n, &len);
    StrBuf sb = {0};
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = t[i];
        if (quote) {
            sb_putc(a->cx, &sb, ch);
            if (ch == '\\' && i + 1 < len) sb_putc(a->cx, &sb, t[++i]);
            else if (ch == quote) quote = 0;
            continue;
        }
        if (ch == '\'' || ch == '"') quote = ch;
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\\') {
            if (sb.len && sb.data[sb.len - 1] != ' ') sb_putc(a->cx, &sb, ' ');
            continue;
        }
        sb_putc(a->cx, &sb, ch);
    }
    return sb_cstr(a->cx, &sb);
}

static void use_expr(A *a, uint32_t n, bool is_inline) {
    ExprUse *u = ARENA_NEW(a->cx, ExprUse);
    u->text = expr_key(a, n);
    u->ident = ident_of(a->cx, u->text);
    u->node = n;
    u->is_inline = is_inline;
    for (size_t i = 0; i < a->scope->uses.len; i++)  // loops are walked twice
        if (VEC_AT(a->scope->uses, ExprUse, i)->node == n) return;
    vec_push(a->cx, &a->scope->uses, u);
}

// §2.2: what an argument bound to a quantized slot needs.
static void slot_use(A *a, uint32_t arg, Env *env) {
    const Cst *c = a->c;
    if (c->nodes[arg].kind == K_LIST_SPLAT || c->nodes[arg].kind == K_DICT_SPLAT) return;
    TmpVar *t = nodemap_get(&a->cv->tmp_of, arg);
    uint32_t n = cst_unparen(c, arg);
    if (!t) t = nodemap_get(&a->cv->tmp_of, n);
    if (t) {
        use_name(a, env, tmp_key(a, t), CST_NONE);
        return;
    }
    if (is_literal(c, n)) return;
    switch (c->nodes[n].kind) {
    case K_IDENTIFIER: use_name(a, env, cst_strdup(a->cx, c, n), n); return;
    case K_CALL: return;  // an opaque call, or a quantized op: nothing to do
    case K_BINARY_OP:
    case K_UNARY_OP:
        if (nodemap_get(&a->cv->op_of, n)) return;
        use_expr(a, n, false);
        return;
    case K_SUBSCRIPT: case K_LIST: case K_TUPLE: case K_SET: case K_DICT:
        use_expr(a, n, true);
        return;
    default: use_expr(a, n, false); return;
    }
}

static void op_uses(A *a, const QOp *op, Env *env) {
    Args args;
    const Cst *c = a->c;
    if (c->nodes[op->node].kind == K_CALL) collect_args(a, op->node, &args);
    else lookup_op(a, op->node, &args);  // operators: the operands, as lookup bound them
    const OpEntry *e = op->entry;
    for (size_t i = 0; i < args.npos && i < e->nparams; i++)
        if (e->params[i].is_quantized) slot_use(a, args.pos[i], env);
    for (size_t k = 0; k < args.nkw; k++)
        for (size_t i = 0; i < e->nparams; i++)
            if (strcmp(e->params[i].name, args.kwnames[k]) == 0 && e->params[i].is_quantized)
                slot_use(a, cst_field(c, args.kw[k], F_VALUE), env);
}

// Uses inside an expression, in evaluation order (post-order). Subtrees that
// were isolated are evaluated on their own line and skipped here.
static void define_targets(A *a, Env *env, uint32_t target, ProdKind kind, uint32_t node,
                           bool born_quantized);
static void expr_uses(A *a, uint32_t n, Env *env, bool root);

// A comprehension has its own scope: the `for` targets are producers (§2.5)
// seen by later clauses and the element; clauses are evaluated in order.
static void comprehension_uses(A *a, uint32_t n, const Env *outer) {
    const Cst *c = a->c;
    Env *env = env_copy(a, outer);
    uint32_t body = CST_NONE;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t ch = cst_child(c, n, k);
        uint32_t kind = c->nodes[ch].kind;
        if (!c->nodes[ch].named || kind == K_COMMENT) continue;
        if (kind == K_FOR_IN_CLAUSE) {
            uint32_t right = cst_field(c, ch, F_RIGHT);
            if (right != CST_NONE) expr_uses(a, right, env, false);
            define_targets(a, env, cst_field(c, ch, F_LEFT), PR_COMP, ch, false);
        } else if (kind == K_IF_CLAUSE) {
            expr_uses(a, ch, env, false);
        } else if (body == CST_NONE) {
            body = ch;  // the element (or key: value pair) comes first in the source
        }
    }
    if (body != CST_NONE) expr_uses(a, body, env, false);
}

static void expr_uses(A *a, uint32_t n, Env *env, bool root) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if (is_scope_boundary(kind)) return;
    if (!root && nodemap_get(&a->cv->tmp_of, n)) return;
    if (kind == K_LIST_COMP || kind == K_SET_COMP || kind == K_DICT_COMP || kind == K_GENERATOR) {
        comprehension_uses(a, n, env);
        return;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t ch = cst_child(c, n, k);
        if (c->nodes[ch].named) expr_uses(a, ch, env, false);
    }
    QOp *op = nodemap_get(&a->cv->op_of, n);
    if (op) op_uses(a, op, env);
}

// Targets of an assignment / for / with: every plain name is produced.
static void define_targets(A *a, Env *env, uint32_t target, ProdKind kind, uint32_t node,
                           bool born_quantized) {
    const Cst *c = a->c;
    target = cst_unparen(c, target);
    if (target == CST_NONE) return;
    switch (c->nodes[target].kind) {
    case K_IDENTIFIER: {
        Prod *p = producer(a, kind, node, cst_strdup(a->cx, c, target));
        p->born_quantized = born_quantized;
        env_set(a, env, p);
        return;
    }
    case K_PATTERN_LIST: case K_TUPLE_PATTERN: case K_LIST_PATTERN: case K_TUPLE: case K_LIST:
    case K_LIST_SPLAT_PATTERN: case K_LIST_SPLAT: case K_EXPRESSION_LIST:
        for (uint32_t k = 0; k < cst_named_count(c, target); k++)
            define_targets(a, env, cst_named_child(c, target, k), kind, node, false);
        return;
    default: return;  // attribute / subscript targets are not producers
    }
}

static bool is_quantized_value(A *a, uint32_t value) {
    value = cst_unparen(a->c, value);
    QOp *op = value == CST_NONE ? NULL : nodemap_get(&a->cv->op_of, value);
    return op && op->output;
}

static void flow_block(A *a, uint32_t block, Env *env, bool *dead);

static void flow_tmp_lines(A *a, uint32_t st, Env *env) {
    PtrVec *lines = nodemap_get(&a->tmp_lines, st);
    for (size_t i = 0; lines && i < lines->len; i++) {
        GenLine *g = lines->items[i];
        expr_uses(a, g->node, env, true);
        Prod *p = producer(a, PR_TMP, st, tmp_key(a, g->tmp));
        p->var = NULL;
        p->tmp = g->tmp;
        p->tmp_line = g;
        p->born_quantized = is_quantized_value(a, g->node);
        env_set(a, env, p);
    }
}

static void flow_assignment(A *a, uint32_t st, uint32_t asg, Env *env) {
    const Cst *c = a->c;
    // chained a = b = value: the value first, then each target left to right
    uint32_t value = asg;
    while (value != CST_NONE && c->nodes[value].kind == K_ASSIGNMENT)
        value = cst_field(c, value, F_RIGHT);
    if (value != CST_NONE) expr_uses(a, value, env, false);
    bool quantized = value != CST_NONE && is_quantized_value(a, value);
    for (uint32_t cur = asg; cur != CST_NONE && c->nodes[cur].kind == K_ASSIGNMENT;
         cur = cst_field(c, cur, F_RIGHT)) {
        uint32_t left = cst_field(c, cur, F_LEFT);
        uint32_t lk = c->nodes[cst_unparen(c, left)].kind;
        if (quantized && lk != K_IDENTIFIER && lk != K_ATTRIBUTE && lk != K_SUBSCRIPT) {
            fail(a, st, "multiple-return-values",
                 "quantized operators and multiple return values are not supported");
            return;
        }
        if (lk != K_IDENTIFIER) expr_uses(a, left, env, false);
        if (cst_field(a->c, cur, F_RIGHT) == CST_NONE) break;  // `y: T` declares nothing
        define_targets(a, env, left, PR_ASSIGN, st, quantized);
    }
}

static Scope *new_scope(A *a, uint32_t block) {
    Scope *s = ARENA_NEW(a->cx, Scope);
    s->parent = a->scope;
    s->block = block;
    if (a->scope) vec_push(a->cx, &a->scope->children, s);
    nodemap_put(a->cx, &a->scope_of, block, s);
    return s;
}

// A branch body in its own scope; returns its end state or NULL when it cannot fall through.
static Env *flow_branch(A *a, uint32_t block, const Env *env) {
    if (block == CST_NONE) return env_copy(a, env);
    Scope *saved = a->scope;
    Scope *s = nodemap_get(&a->scope_of, block);
    a->scope = s ? s : new_scope(a, block);
    Env *e = env_copy(a, env);
    bool dead = false;
    flow_block(a, block, e, &dead);
    a->scope = saved;
    return dead ? NULL : e;
}

static void flow_if(A *a, uint32_t st, Env *env, bool *dead) {
    const Cst *c = a->c;
    expr_uses(a, cst_field(c, st, F_CONDITION), env, false);
    Env *merged = ARENA_NEW(a->cx, Env);
    bool any_live = false, has_else = false;
    Env *live = flow_branch(a, cst_field(c, st, F_CONSEQUENCE), env);
    if (live) env_union(a, merged, live), any_live = true;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t cl = cst_child(c, st, k);
        uint32_t kind = c->nodes[cl].kind;
        if (kind != K_ELIF && kind != K_ELSE) continue;
        if (kind == K_ELIF) expr_uses(a, cst_field(c, cl, F_CONDITION), env, false);
        else has_else = true;
        live = flow_branch(a, cst_field(c, cl, kind == K_ELIF ? F_CONSEQUENCE : F_BODY), env);
        if (live) env_union(a, merged, live), any_live = true;
    }
    if (!has_else) {
        env_union(a, merged, env);
        any_live = true;
    }
    if (!any_live) *dead = true;
    env->entries = merged->entries;
}

static bool has_else_clause(const Cst *c, uint32_t st) {
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++)
        if (c->nodes[cst_child(c, st, k)].kind == K_ELSE) return true;
    return false;
}

// for / while: the body twice (the second pass sees the first pass's
// producers), then merged with the state before (zero iterations) and breaks.
static void flow_loop(A *a, uint32_t st, Env *env) {
    const Cst *c = a->c;
    bool is_for = c->nodes[st].kind == K_FOR;
    if (has_else_clause(c, st)) {
        fail(a, st, "loop-else",
             is_for ? "the use of 'else' on 'for' is not supported"
                    : "the use of 'else' on 'while' is not supported");
        return;
    }
    if (is_for) expr_uses(a, cst_field(c, st, F_RIGHT), env, false);
    else expr_uses(a, cst_field(c, st, F_CONDITION), env, false);
    Loop loop = {.outer = a->loop};
    a->loop = &loop;
    Env *state = env_copy(a, env);
    Env *result = env_copy(a, env);
    for (int pass = 0; pass < 2; pass++) {
        Env *e = env_copy(a, state);
        if (is_for) define_targets(a, e, cst_field(c, st, F_LEFT), PR_FOR, st, false);
        else expr_uses(a, cst_field(c, st, F_CONDITION), e, false);
        bool dead = false;
        flow_block(a, cst_field(c, st, F_BODY), e, &dead);
        if (!dead) env_union(a, state, e), env_union(a, result, e);
        for (size_t i = 0; i < a->loop->breaks.len; i++)
            env_union(a, result, a->loop->breaks.items[i]);
        if (a->loop->breaks.len) loop.breaks.len = 0;
        if (is_for && !dead) define_targets(a, result, cst_field(c, st, F_LEFT), PR_FOR, st, false);
    }
    if (is_for) {  // after the loop the target may hold any iteration's value
        Env *tmp = env_copy(a, env);
        define_targets(a, tmp, cst_field(c, st, F_LEFT), PR_FOR, st, false);
        env_union(a, result, tmp);
    }
    a->loop = loop.outer;
    env->entries = result->entries;
}

static void flow_with(A *a, uint32_t st, Env *env, bool *dead) {
    const Cst *c = a->c;
    uint32_t clause = CST_NONE;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++)
        if (c->nodes[cst_child(c, st, k)].kind == K_WITH_CLAUSE) clause = cst_child(c, st, k);
    for (uint32_t k = 0; clause != CST_NONE && k < cst_named_count(c, clause); k++) {
        uint32_t item = cst_named_child(c, clause, k);
        uint32_t v = cst_field(c, item, F_VALUE);
        if (v == CST_NONE) continue;
        if (c->nodes[v].kind == K_AS_PATTERN) {
            expr_uses(a, cst_named_child(c, v, 0), env, false);
            uint32_t tgt = cst_field(c, v, F_ALIAS);
            if (tgt != CST_NONE) {
                uint32_t inner = cst_named_child(c, tgt, 0);
                define_targets(a, env, inner != CST_NONE ? inner : tgt, PR_WITH, st, false);
            }
        } else {
            expr_uses(a, v, env, false);
        }
    }
    flow_block(a, cst_field(c, st, F_BODY), env, dead);
}

static void flow_try(A *a, uint32_t st, Env *env, bool *dead) {
    const Cst *c = a->c;
    Env *before = env_copy(a, env);
    bool body_dead = false;
    flow_block(a, cst_field(c, st, F_BODY), env, &body_dead);
    Env *merged = ARENA_NEW(a->cx, Env);
    bool any_live = false;
    Env *after_body = body_dead ? NULL : env;
    uint32_t fin = CST_NONE;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t cl = cst_child(c, st, k);
        uint32_t kind = c->nodes[cl].kind;
        if (kind == K_EXCEPT) {
            Env *h = env_copy(a, before);
            env_union(a, h, env);
            bool d = false;
            uint32_t body = CST_NONE;
            for (uint32_t j = 0; j < c->nodes[cl].nchildren; j++)
                if (c->nodes[cst_child(c, cl, j)].kind == K_BLOCK) body = cst_child(c, cl, j);
            if (body != CST_NONE) flow_block(a, body, h, &d);
            if (!d) env_union(a, merged, h), any_live = true;
        } else if (kind == K_ELSE && after_body) {
            bool d = false;
            flow_block(a, cst_field(c, cl, F_BODY), after_body, &d);
            if (d) after_body = NULL;
        } else if (kind == K_FINALLY) {
            fin = cl;
        }
    }
    if (after_body) env_union(a, merged, after_body), any_live = true;
    env->entries = merged->entries;
    if (fin != CST_NONE) {
        for (uint32_t j = 0; j < c->nodes[fin].nchildren; j++)
            if (c->nodes[cst_child(c, fin, j)].kind == K_BLOCK)
                flow_block(a, cst_child(c, fin, j), env, dead);
    }
    if (!any_live) *dead = true;
}

static void flow_stmt(A *a, uint32_t st, Env *env, bool *dead) {
    const Cst *c = a->c;
    flow_tmp_lines(a, st, env);
    switch (c->nodes[st].kind) {
    case K_COMMENT: case K_FUNCTION_DEF: case K_CLASS_DEF: case K_DECORATED_DEF: return;
    case K_EXPR_STMT: {
        uint32_t e = cst_named_child(c, st, 0);
        if (e != CST_NONE && c->nodes[e].kind == K_ASSIGNMENT) flow_assignment(a, st, e, env);
        else if (e != CST_NONE && c->nodes[e].kind == K_AUG_ASSIGNMENT) {
            expr_uses(a, e, env, false);
            define_targets(a, env, cst_field(c, e, F_LEFT), PR_ASSIGN, st, is_quantized_value(a, e));
        } else if (e != CST_NONE) expr_uses(a, e, env, false);
        return;
    }
    case K_RETURN: case K_RAISE:
        for (uint32_t k = 0; k < cst_named_count(c, st); k++)
            expr_uses(a, cst_named_child(c, st, k), env, false);
        *dead = true;
        return;
    case K_BREAK:
        if (a->loop) vec_push(a->cx, &a->loop->breaks, env_copy(a, env));
        *dead = true;
        return;
    case K_CONTINUE: *dead = true; return;
    case K_IF: flow_if(a, st, env, dead); return;
    case K_FOR: case K_WHILE: flow_loop(a, st, env); return;
    case K_WITH: flow_with(a, st, env, dead); return;
    case K_TRY: flow_try(a, st, env, dead); return;
    default:
        for (uint32_t k = 0; k < cst_named_count(c, st); k++)
            expr_uses(a, cst_named_child(c, st, k), env, false);
        return;
    }
}

static void flow_block(A *a, uint32_t block, Env *env, bool *dead) {
    const Cst *c = a->c;
    if (block == CST_NONE) return;  // error-recovered trees may lack a body
    for (uint32_t k = 0; k < c->nodes[block].nchildren && !*dead && !a->failed; k++) {
        uint32_t st = cst_child(c, block, k);
        if (c->nodes[st].named) flow_stmt(a, st, env, dead);
    }
}

// --- parameters ---

// The instance (or class) parameter's name; "self" when there is none.
static const char *first_param_name(ffq_ctx *cx, const Cst *c, const FuncInfo *fn) {
    if (fn->kind != FN_INSTANCE && fn->kind != FN_CLASSMETHOD) return "self";
    uint32_t ps = cst_field(c, fn->def, F_PARAMETERS);
    uint32_t p = ps == CST_NONE ? CST_NONE : cst_named_child(c, ps, 0);
    if (p == CST_NONE) return "self";
    if (c->nodes[p].kind != K_IDENTIFIER) p = cst_named_child(c, p, 0);
    return p != CST_NONE && c->nodes[p].kind == K_IDENTIFIER ? cst_strdup(cx, c, p) : "self";
}

static void add_params(A *a, Env *env) {
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
        if (kind == K_DEFAULT_PARAMETER || kind == K_TYPED_DEFAULT_PARAMETER)
            name = cst_field(c, p, F_NAME);
        if (name == CST_NONE || c->nodes[name].kind != K_IDENTIFIER) continue;
        const char *pname = cst_strdup(a->cx, c, name);
        if (k == 0 && skip_first) continue;
        Prod *pr = producer(a, PR_PARAM, p, pname);
        pr->order = order++;
        env_set(a, env, pr);
        vec_push(a->cx, &a->params, pr);
    }
}

// --- expression quantizers: scopes, hoisting, placement (§2.4) ---

static bool has_text(const PtrVec *v, const char *text) {
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], text) == 0) return true;
    return false;
}

static void compute_avail(A *a, Scope *s) {
    for (size_t i = 0; i < s->children.len; i++) compute_avail(a, s->children.items[i]);
    for (size_t i = 0; i < s->uses.len; i++) {
        const char *t = VEC_AT(s->uses, ExprUse, i)->text;
        if (!has_text(&s->avail, t)) vec_push(a->cx, &s->avail, (void *)t);
    }
    if (!s->children.len) return;
    Scope *first = s->children.items[0];
    for (size_t i = 0; i < first->avail.len; i++) {
        const char *t = first->avail.items[i];
        bool everywhere = true;
        for (size_t k = 1; k < s->children.len && everywhere; k++)
            everywhere = has_text(&((Scope *)s->children.items[k])->avail, t);
        if (everywhere && !has_text(&s->avail, t)) vec_push(a->cx, &s->avail, (void *)t);
    }
}

static ExprQ *exprq_for(A *a, const ExprUse *u) {
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

// A use belongs to the highest scope where its text is available.
static void collect_uses(Scope *s, const char *text, PtrVec *out, ffq_ctx *cx) {
    for (size_t i = 0; i < s->uses.len; i++) {
        ExprUse *u = s->uses.items[i];
        if (strcmp(u->text, text) == 0) vec_push(cx, out, u);
    }
    for (size_t i = 0; i < s->children.len; i++) collect_uses(s->children.items[i], text, out, cx);
}

typedef struct Owned {
    ExprQ *eq;
    PtrVec uses;  // ExprUse * in this scope's subtree
} Owned;

static void assign_owners(A *a, Scope *s, const PtrVec *inherited) {
    PtrVec inh = {0};
    for (size_t i = 0; i < inherited->len; i++) vec_push(a->cx, &inh, inherited->items[i]);
    for (size_t i = 0; i < s->avail.len; i++) {
        const char *t = s->avail.items[i];
        if (has_text(inherited, t)) continue;
        Owned *o = ARENA_NEW(a->cx, Owned);
        collect_uses(s, t, &o->uses, a->cx);
        o->eq = exprq_for(a, o->uses.items[0]);
        vec_push(a->cx, &s->owned, o);
        vec_push(a->cx, &inh, (void *)t);
    }
    for (size_t i = 0; i < s->children.len; i++) assign_owners(a, s->children.items[i], &inh);
}

static int cmp_owned(const void *x, const void *y) {
    const Owned *p = *(Owned *const *)x, *q = *(Owned *const *)y;
    return strcmp(p->eq->ident, q->eq->ident);
}

// The statement of `block` (a direct child) that contains node n.
static uint32_t top_stmt_in(const Cst *c, uint32_t block, uint32_t n) {
    while (n != CST_NONE && c->nodes[n].parent != block) n = c->nodes[n].parent;
    return n;
}

// Where a hoisted line goes: before the innermost isolated candidate that
// contains the use (it runs on its own line), else before the statement.
static GenLine *anchor_line(A *a, uint32_t stmt, uint32_t use) {
    for (uint32_t n = use; n != CST_NONE && n != stmt; n = a->c->nodes[n].parent) {
        TmpVar *t = nodemap_get(&a->cv->tmp_of, n);
        if (!t) continue;
        PtrVec *lines = nodemap_get(&a->tmp_lines, stmt);
        for (size_t i = 0; lines && i < lines->len; i++)
            if (((GenLine *)lines->items[i])->tmp == t) return lines->items[i];
    }
    return NULL;
}

typedef struct Hoist {
    uint32_t stmt;
    GenLine *before_tmp;  // NULL: before the statement itself
    GenLine *line;
} Hoist;

static void place_owned(A *a, Scope *s, Owned *o, PtrVec *hoists) {
    const Cst *c = a->c;
    for (size_t i = 0; i < o->uses.len; i++) {
        ExprUse *u = o->uses.items[i];
        if (o->eq->is_inline) nodemap_put(a->cx, &a->cv->inline_q, u->node, o->eq->q);
        else nodemap_put(a->cx, &a->cv->hoisted, u->node, (void *)o->eq->ident);
        mark_dirty(a, u->node);
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
    h->before_tmp = anchor_line(a, best, best_use);
    h->line = ARENA_NEW(a->cx, GenLine);
    h->line->kind = GEN_HOIST;
    h->line->var = o->eq->ident;
    h->line->node = best_use;
    vec_push(a->cx, hoists, h);
    mark_dirty(a, best);
}

// --- walk 3: creation order (§3.3) and line placement ---

static void create_for_owned(A *a, Scope *s, bool want_inline) {
    size_t n = s->owned.len;
    if (!n) return;
    Owned **sorted = ARENA_ARRAY(a->cx, Owned *, n);
    memcpy(sorted, s->owned.items, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_owned);
    for (size_t i = 0; i < n; i++) {
        ExprQ *eq = sorted[i]->eq;
        if (eq->is_inline != want_inline || eq->q) continue;
        eq->q = new_quantizer(a, eq->ident, NULL);
    }
}

static int cmp_prod(const void *x, const void *y) {
    const Prod *p = *(Prod *const *)x, *q = *(Prod *const *)y;
    if (!p->var || !q->var) return (p->var == NULL) - (q->var == NULL);
    return strcmp(p->var, q->var);
}

static void add_after(A *a, uint32_t key, NodeMap *map, Prod *p) {
    GenLine *g = ARENA_NEW(a->cx, GenLine);
    g->kind = GEN_QUANT;
    g->var = p->var;
    g->tmp = p->tmp;
    g->q = p->q;
    vec_push(a->cx, nodemap_vec(a->cx, map, key), g);
    mark_dirty(a, key);
}

// Quantizers of the marked producers defined by `node`, sorted by name.
static void create_prods(A *a, uint32_t node, ProdKind kind, uint32_t place, NodeMap *map) {
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
        p->q = new_quantizer(a, p->var, p->tmp);
        add_after(a, place, map, p);
    }
}

static void create_block(A *a, uint32_t block);

static bool is_within(const Cst *c, uint32_t n, uint32_t ancestor) {
    for (; n != CST_NONE; n = c->nodes[n].parent)
        if (n == ancestor) return true;
    return false;
}

// §2.5: a comprehension variable is quantized inline at its use; used more
// than once, the first use (evaluation order) binds `__ffN` with a walrus.
static void create_comp_quantizers(A *a, uint32_t st) {
    for (size_t i = 0; i < a->comp_prods.len; i++) {
        Prod *p = a->comp_prods.items[i];
        if (p->q || !is_within(a->c, (uint32_t)(uintptr_t)p->uses.items[0], st)) continue;
        p->q = new_quantizer(a, p->var, NULL);
        int walrus = p->uses.len > 1 ? a->nwalrus++ : -1;
        for (size_t k = 0; k < p->uses.len; k++) {
            CompUse *u = ARENA_NEW(a->cx, CompUse);
            u->q = p->q;
            u->walrus = walrus;
            u->first = k == 0;
            uint32_t node = (uint32_t)(uintptr_t)p->uses.items[k];
            nodemap_put(a->cx, &a->cv->comp_use, node, u);
            mark_dirty(a, node);
        }
    }
}

static uint32_t first_block(const Cst *c, uint32_t n) {
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (c->nodes[cst_child(c, n, k)].kind == K_BLOCK) return cst_child(c, n, k);
    return CST_NONE;
}

static void create_stmt(A *a, uint32_t st) {
    const Cst *c = a->c;
    PtrVec *lines = nodemap_get(&a->tmp_lines, st);
    for (size_t i = 0; lines && i < lines->len; i++) {
        GenLine *g = lines->items[i];
        PtrVec *v = nodemap_get(&a->prods_of, st);
        for (size_t k = 0; v && k < v->len; k++) {
            Prod *p = v->items[k];
            if (p->kind == PR_TMP && p->tmp == g->tmp && p->marked && !p->q)
                p->q = new_quantizer(a, NULL, p->tmp);
        }
    }
    create_comp_quantizers(a, st);
    switch (c->nodes[st].kind) {
    case K_EXPR_STMT: create_prods(a, st, PR_ASSIGN, st, &a->cv->after); return;
    case K_IF: case K_TRY: case K_WITH: case K_FOR: case K_WHILE:
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
            uint32_t ch = cst_child(c, st, k);
            uint32_t kind = c->nodes[ch].kind;
            if (kind == K_BLOCK) create_block(a, ch);
            else if (kind == K_ELIF || kind == K_ELSE || kind == K_EXCEPT || kind == K_FINALLY) {
                uint32_t b = first_block(c, ch);
                if (b != CST_NONE) create_block(a, b);
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

static void create_block(A *a, uint32_t block) {
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
static void build_before(A *a, PtrVec *hoists, uint32_t st, PtrVec *out) {
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

static void finish_lines(A *a, PtrVec *hoists) {
    if (hoists->len) qsort(hoists->items, hoists->len, sizeof(void *), cmp_hoist);
    for (size_t h = 0; h < hoists->len; h++) {
        Hoist *ho = hoists->items[h];
        ExprQ *eq = NULL;
        for (size_t i = 0; i < a->exprqs.len && !eq; i++)
            if (strcmp(((ExprQ *)a->exprqs.items[i])->ident, ho->line->var) == 0)
                eq = a->exprqs.items[i];
        ho->line->q = eq ? eq->q : NULL;
    }
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
static void place_params(A *a) {
    PtrVec *v = NULL;
    for (size_t i = 0; i < a->params.len; i++) {
        Prod *p = a->params.items[i];
        if (!p->marked) continue;
        p->q = new_quantizer(a, p->var, NULL);
        GenLine *g = ARENA_NEW(a->cx, GenLine);
        g->kind = GEN_QUANT;
        g->var = p->var;
        g->q = p->q;
        if (!v) v = nodemap_vec(a->cx, &a->cv->prologue, a->body);
        vec_push(a->cx, v, g);
    }
    if (v) mark_dirty(a, a->body);
}

Conv *rewrite_function(ffq_ctx *cx, const FuncInfo *fn, const ClassInfo *cls, const Types *types) {
    const Cst *c = fn->mod->cst;
    Conv *cv = ARENA_NEW(cx, Conv);
    cv->fn = fn;
    cv->mod = fn->mod;
    cv->c = c;
    cv->cls = cls;
    cv->instance = fn->kind == FN_INSTANCE;
    cv->self_name = first_param_name(cx, c, fn);
    A a = {.cx = cx, .cv = cv, .c = c};
    a.body = cst_field(c, fn->def, F_BODY);
    if (a.body == CST_NONE) return NULL;
    a.types = cv->types = types;
    uint32_t ps = cst_field(c, fn->def, F_PARAMETERS);
    for (uint32_t k = 0; ps != CST_NONE && k < cst_named_count(c, ps); k++) {
        uint32_t p = cst_named_child(c, ps, k);
        uint32_t pk = c->nodes[p].kind;
        add_local(&a, pk == K_DEFAULT_PARAMETER || pk == K_TYPED_DEFAULT_PARAMETER ? cst_field(c, p, F_NAME) : p);
    }
    scan_locals(&a, a.body);
    visit_block(&a, a.body);
    order_sites(&a);
    Env env = {0};
    add_params(&a, &env);
    a.root = a.scope = new_scope(&a, a.body);
    bool dead = false;
    flow_block(&a, a.body, &env, &dead);
    if (a.failed) return NULL;
    compute_avail(&a, a.root);
    PtrVec none = {0}, hoists = {0};
    assign_owners(&a, a.root, &none);
    create_block(&a, a.body);
    PtrVec scopes = {0};  // every scope, to place what it owns
    vec_push(cx, &scopes, a.root);
    for (size_t i = 0; i < scopes.len; i++) {
        Scope *s = scopes.items[i];
        for (size_t k = 0; k < s->children.len; k++) vec_push(cx, &scopes, s->children.items[k]);
        for (size_t k = 0; k < s->owned.len; k++) place_owned(&a, s, s->owned.items[k], &hoists);
    }
    finish_lines(&a, &hoists);
    place_params(&a);
    return cv;
}

void rewrite_report_missing(ffq_ctx *cx) {
    for (size_t i = 0; i < cx->missing_ops.len; i++) {
        const MissingOp *mo = cx->missing_ops.items[i];
        cx->stats.float_not_in_table += mo->count;
        diag_at(cx, DIAG_NOTE, mo->file, mo->offset, "not-in-optable",
                "'%s' is not in the operator table; %s in float (add it with --optable)",
                mo->name, mo->count == 1 ? "this call stays" : arena_printf(cx, "its %zu calls stay", mo->count));
    }
}
