// types.c: type inference (spec §7), the statement level. See types.h.
//
// One flow-sensitive pass over a function: an environment maps every local
// name (and every `self.attr` the function assigns) to a type of the lattice;
// statements transform it, branches join, loops iterate to a bounded fixpoint
// (then widen to Unknown). Every expression evaluated gets its type recorded
// in a node -> type map, which the §7.1 decision reads. Sources of types:
// annotations (parameters, locals, helper/method return types, __init__
// attributes), literals and displays, builtins, tensor methods, torch
// factories, operator-table entries. Whatever is not known is Unknown, which
// "may be a tensor": inference only ever removes quantizers.
//
// This file: statements, loops, the variables of a function, running
// inference over a function and the classes it reads, the API and
// --dump=types. The lattice is in types_lattice.c, names, annotations and
// narrowing in types_names.c, expressions in types_expr.c.
#include <stdlib.h>

#include "types_int.h"

// ---------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------

static void exec_block(Inf *I, Env *e, uint32_t block);

static const Type *exec_assignment(Inf *I, Env *e, uint32_t asg) {
    const Cst *c = I->c;
    uint32_t left = cst_field(c, asg, F_LEFT), right = cst_field(c, asg, F_RIGHT),
             type = cst_field(c, asg, F_TYPE);
    const Type *t;
    if (right == CST_NONE) t = NULL;                                                  // a bare declaration
    else if (c->nodes[right].kind == K_ASSIGNMENT) t = exec_assignment(I, e, right);  // a = b = value
    else t = ty_ev(I, e, right);
    if (type != CST_NONE) {
        const Type *at = ty_ann(I, I->mod, c, type, 0);
        if (!t) {  // `x: int` binds nothing, but the declaration holds from here
            uint32_t li = c->nodes[cst_unparen(c, left)].kind == K_IDENTIFIER ? ty_local_index(I, left)
                                                                              : ty_attr_index(I, left);
            if (li != UINT32_MAX) record(I, left, at);
            return at;
        }
        t = at;
    }
    if (!t) return TY(TY_UNKNOWN);
    ty_bind_target(I, e, left, t);
    return t;
}

// x += y: the operator without its `=`, then x is rebound to the result.
static void exec_aug_assignment(Inf *I, Env *e, uint32_t x) {
    const Cst *c = I->c;
    uint32_t left = cst_field(c, x, F_LEFT), right = cst_field(c, x, F_RIGHT);
    const Type *lt = ty_ev(I, e, left);
    const Type *rt = ty_ev(I, e, right);
    uint32_t op = cst_field(c, x, F_OPERATOR);
    const Type *t = TY(TY_UNKNOWN);
    if (op != CST_NONE) {
        char *o = cst_strdup(I->cx, c, op);
        size_t n = strlen(o);
        if (n >= 2) o[n - 1] = '\0';
        t = ty_arith(I, o, lt, rt);
    }
    record(I, x, t);
    uint32_t lu = cst_unparen(c, left);
    if (lu != CST_NONE && (c->nodes[lu].kind == K_IDENTIFIER || c->nodes[lu].kind == K_ATTRIBUTE))
        ty_bind_target(I, e, lu, t);
}

// del x, y[i]: a deleted local has no value; anything else is evaluated.
static void exec_delete(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t x = c->nodes[st].first_child + k;
        if (!c->nodes[x].named) continue;
        uint32_t kids[TUPLE_MAX];
        size_t n = 0;
        if (c->nodes[x].kind == K_EXPRESSION_LIST)
            for (uint32_t j = 0; j < cst_named_count(c, x) && n < TUPLE_MAX; j++)
                kids[n++] = cst_named_child(c, x, j);
        else kids[n++] = x;
        for (size_t j = 0; j < n; j++) {
            uint32_t t = cst_unparen(c, kids[j]);
            uint32_t li = c->nodes[t].kind == K_IDENTIFIER ? ty_local_index(I, t) : UINT32_MAX;
            if (li != UINT32_MAX) e->v[li] = TY(TY_BOTTOM);
            else ty_ev(I, e, t);
        }
    }
}

// An expression statement: assignments, augmented assignments and expressions in order.
static void exec_expr_stmt(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t x = c->nodes[st].first_child + k;
        if (!c->nodes[x].named || c->nodes[x].kind == K_COMMENT) continue;
        if (c->nodes[x].kind == K_ASSIGNMENT) exec_assignment(I, e, x);
        else if (c->nodes[x].kind == K_AUG_ASSIGNMENT) exec_aug_assignment(I, e, x);
        else if (!I->map && c->nodes[x].kind == K_CALL) {
            // a call for its effect while only attributes are wanted (an
            // __init__): its arguments may bind names, its callee is not read
            uint32_t al = cst_field(c, x, F_ARGUMENTS);
            if (al != CST_NONE) ty_ev_children(I, e, al);
        } else ty_ev(I, e, x);
    }
}

// assert cond: what cond establishes holds afterwards.
static void exec_assert(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    uint32_t cond = cst_named_child(c, st, 0);
    ty_ev_children(I, e, st);
    if (cond != CST_NONE) {
        Env te = env_copy(I, e), fe = env_copy(I, e);
        ty_narrow(I, e, cond, &te, &fe);
        env_assign(e, &te, I->nvars);
    }
}

// import / from-import: the names bound to modules (import) or unknown values (from).
static void exec_import(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t x = c->nodes[st].first_child + k;
        if (c->nodes[x].field != F_NAME) continue;
        uint32_t id = x;
        if (c->nodes[x].kind == K_ALIASED_IMPORT) id = cst_field(c, x, F_ALIAS);
        else if (c->nodes[x].kind == K_DOTTED_NAME) id = cst_named_child(c, x, 0);
        if (id != CST_NONE && c->nodes[id].kind == K_IDENTIFIER) {
            uint32_t li = ty_local_index(I, id);
            if (li != UINT32_MAX)
                ty_set_var(I, e, li, c->nodes[st].kind == K_IMPORT ? TY(TY_OBJECT) : TY(TY_UNKNOWN));
        }
    }
}

static void exec_simple(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    switch (c->nodes[st].kind) {
    case K_EXPR_STMT: exec_expr_stmt(I, e, st); return;
    case K_RETURN:
    case K_RAISE:
        ty_ev_children(I, e, st);
        e->dead = true;
        return;
    case K_BREAK:
        if (I->loop) env_join_into(I, &I->loop->brk, e);
        e->dead = true;
        return;
    case K_CONTINUE:
        if (I->loop) env_join_into(I, &I->loop->cont, e);
        e->dead = true;
        return;
    case K_DELETE: exec_delete(I, e, st); return;
    case K_ASSERT: exec_assert(I, e, st); return;
    case K_IMPORT:
    case K_IMPORT_FROM: exec_import(I, e, st); return;
    case K_PASS:
    case K_GLOBAL:
    case K_NONLOCAL:
    case K_COMMENT:
    case K_FUTURE_IMPORT: return;
    default: ty_ev_children(I, e, st); return;
    }
}

// Loops: iterate the body to a fixpoint of the environment at its head
// (bounded: after LOOP_ITERS rounds, whatever still changes becomes Unknown).
static void exec_loop(Inf *I, Env *e, uint32_t st, bool is_for, const Type *elem) {
    const Cst *c = I->c;
    uint32_t body = cst_field(c, st, F_BODY), left = cst_field(c, st, F_LEFT),
             cond = cst_field(c, st, F_CONDITION), alt = cst_field(c, st, F_ALTERNATIVE);
    Loop lp, *saved = I->loop;
    Env head = env_copy(I, e), exit_normal = {NULL, true};
    for (int iter = 0;; iter++) {
        lp.brk = env_dead(I);
        lp.cont = env_dead(I);
        Env cur = env_copy(I, &head);
        if (is_for) {
            exit_normal = env_copy(I, &head);  // the iterable is exhausted
            if (left != CST_NONE) ty_bind_target(I, &cur, left, elem);
        } else {
            exit_normal = env_copy(I, &cur);
            if (cond != CST_NONE) {
                ty_ev(I, &cur, cond);
                Env te = env_copy(I, &cur);
                exit_normal = env_copy(I, &cur);
                ty_narrow(I, &cur, cond, &te, &exit_normal);
                cur = te;
            }
        }
        I->loop = &lp;
        if (body != CST_NONE) exec_block(I, &cur, body);
        I->loop = saved;
        env_join_into(I, &cur, &lp.cont);
        Env next = env_copy(I, &head);  // heads only grow
        env_join_into(I, &next, &cur);
        if (iter >= LOOP_ITERS)
            for (uint32_t i = 0; i < I->nvars; i++)
                if (next.v[i] != head.v[i]) next.v[i] = TY(TY_UNKNOWN);
        if (env_eq(I, &next, &head)) break;
        head = next;
    }
    if (alt != CST_NONE) {  // `else` runs when the loop ends without break
        uint32_t ab = cst_field(c, alt, F_BODY);
        if (ab != CST_NONE && !exit_normal.dead) exec_block(I, &exit_normal, ab);
    }
    env_join_into(I, &exit_normal, &lp.brk);
    env_assign(e, &exit_normal, I->nvars);
}

// if / elif / else: each branch runs in the environment its condition narrows to.
static void exec_if(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    uint32_t cond = cst_field(c, st, F_CONDITION);
    ty_ev(I, e, cond);
    Env te = env_copy(I, e), fe = env_copy(I, e);
    ty_narrow(I, e, cond, &te, &fe);
    uint32_t cons = cst_field(c, st, F_CONSEQUENCE);
    if (cons != CST_NONE) exec_block(I, &te, cons);
    Env out = te;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t alt = c->nodes[st].first_child + k;
        if (c->nodes[alt].field != F_ALTERNATIVE) continue;
        if (fe.dead) break;
        if (c->nodes[alt].kind == K_ELIF) {
            uint32_t ec = cst_field(c, alt, F_CONDITION);
            ty_ev(I, &fe, ec);
            Env t2 = env_copy(I, &fe), f2 = env_copy(I, &fe);
            ty_narrow(I, &fe, ec, &t2, &f2);
            uint32_t b = cst_field(c, alt, F_CONSEQUENCE);
            if (b != CST_NONE) exec_block(I, &t2, b);
            env_join_into(I, &out, &t2);
            fe = f2;
        } else {
            uint32_t b = cst_field(c, alt, F_BODY);
            if (b != CST_NONE) exec_block(I, &fe, b);
            env_join_into(I, &out, &fe);
            fe.dead = true;
        }
    }
    env_join_into(I, &out, &fe);
    env_assign(e, &out, I->nvars);
}

// for x in it: the target gets the element type of it.
static void exec_for(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    uint32_t right = cst_field(c, st, F_RIGHT);
    const Type *it = right == CST_NONE ? TY(TY_UNKNOWN) : ty_ev(I, e, right);
    exec_loop(I, e, st, true, ty_iter_elem(I, it));
}

// with a as b: the value is evaluated, b is unknown.
static void exec_with(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t wc = c->nodes[st].first_child + k;
        if (c->nodes[wc].kind != K_WITH_CLAUSE) continue;
        for (uint32_t j = 0; j < c->nodes[wc].nchildren; j++) {
            uint32_t item = c->nodes[wc].first_child + j;
            if (c->nodes[item].kind != K_WITH_ITEM) continue;
            uint32_t v = cst_field(c, item, F_VALUE);
            if (v != CST_NONE && c->nodes[v].kind == K_AS_PATTERN) {
                ty_ev(I, e, cst_named_child(c, v, 0));
                uint32_t alias = cst_field(c, v, F_ALIAS);
                if (alias != CST_NONE) {
                    uint32_t tgt = cst_named_child(c, alias, 0);
                    if (tgt != CST_NONE) ty_bind_target(I, e, tgt, TY(TY_UNKNOWN));
                }
            } else if (v != CST_NONE) ty_ev(I, e, v);
        }
    }
    uint32_t body = cst_field(c, st, F_BODY);
    if (body != CST_NONE) exec_block(I, e, body);
}

// One except clause ch, entered with the handler environment *h; its outcome joins *handlers.
static void exec_except(Inf *I, const Env *h, uint32_t ch, Env *handlers) {
    const Cst *c = I->c;
    Env he = env_copy(I, h);
    uint32_t blk = CST_NONE;
    for (uint32_t j = 0; j < c->nodes[ch].nchildren; j++) {
        uint32_t x = c->nodes[ch].first_child + j;
        if (!c->nodes[x].named || c->nodes[x].kind == K_COMMENT) continue;
        if (c->nodes[x].kind == K_BLOCK) blk = x;
        else if (c->nodes[x].kind == K_AS_PATTERN) {
            ty_ev(I, &he, cst_named_child(c, x, 0));
            uint32_t alias = cst_field(c, x, F_ALIAS);
            uint32_t tgt = alias == CST_NONE ? CST_NONE : cst_named_child(c, alias, 0);
            if (tgt != CST_NONE) ty_bind_target(I, &he, tgt, TY(TY_OBJECT));
        } else ty_ev(I, &he, x);
    }
    if (blk != CST_NONE) exec_block(I, &he, blk);
    env_join_into(I, handlers, &he);
}

// try / except / else / finally: a handler may start anywhere in the body.
static void exec_try(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    Env in = env_copy(I, e);
    uint32_t *before = ARENA_ARRAY(I->cx, uint32_t, I->nvars ? I->nvars : 1);
    if (I->nvars) memcpy(before, I->nassign, sizeof *before * I->nvars);
    uint32_t body = cst_field(c, st, F_BODY);
    if (body != CST_NONE) exec_block(I, e, body);
    // a handler may start anywhere in the body: what the body assigns is unknown there
    Env h = env_copy(I, &in);
    for (uint32_t i = 0; i < I->nvars; i++)
        if (I->nassign[i] != before[i]) h.v[i] = I->decl[i] ? I->decl[i] : TY(TY_UNKNOWN);
    Env normal = env_copy(I, e), handlers = env_dead(I);
    uint32_t fin = CST_NONE;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t ch = c->nodes[st].first_child + k;
        uint32_t kind = c->nodes[ch].kind;
        if (kind == K_EXCEPT) exec_except(I, &h, ch, &handlers);
        else if (kind == K_ELSE) {
            uint32_t b = cst_field(c, ch, F_BODY);
            if (b != CST_NONE && !normal.dead) exec_block(I, &normal, b);
        } else if (kind == K_FINALLY) fin = ch;
    }
    Env out = normal;
    env_join_into(I, &out, &handlers);
    if (fin != CST_NONE) {
        // finally also runs on the exceptional paths (which then re-raise)
        Env fe = env_copy(I, &out);
        env_join_into(I, &fe, &h);
        for (uint32_t j = 0; j < c->nodes[fin].nchildren; j++) {
            uint32_t x = c->nodes[fin].first_child + j;
            if (c->nodes[x].kind == K_BLOCK) exec_block(I, &fe, x);
        }
        if (out.dead) fe.dead = true;
        out = fe;
    }
    env_assign(e, &out, I->nvars);
}

// match: each case starts from the subject's environment, captures unknown.
static void exec_match(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    uint32_t subj = cst_named_child(c, st, 0);
    if (subj != CST_NONE) ty_ev(I, e, subj);
    Env in = env_copy(I, e), out = env_copy(I, e);  // no case may match
    uint32_t body = cst_field(c, st, F_BODY);
    for (uint32_t k = 0; body != CST_NONE && k < c->nodes[body].nchildren; k++) {
        uint32_t cc = c->nodes[body].first_child + k;
        if (!c->nodes[cc].named || c->nodes[cc].kind == K_COMMENT) continue;
        Env ce = env_copy(I, &in);
        for (uint32_t i = 0; i < I->nvars; i++)  // pattern captures: unknown
            if (!I->decl[i]) ce.v[i] = types_join(I->L, ce.v[i], TY(TY_UNKNOWN));
        uint32_t blk = cst_field(c, cc, F_CONSEQUENCE);
        for (uint32_t j = 0; j < c->nodes[cc].nchildren; j++) {
            uint32_t x = c->nodes[cc].first_child + j;
            if (c->nodes[x].named && x != blk && c->nodes[x].kind == K_OTHER && c->nodes[x].field == F_NONE)
                continue;  // the pattern
            if (c->nodes[x].named && x != blk && c->nodes[x].field == F_NONE &&
                c->nodes[x].kind == K_IF_CLAUSE)
                ty_ev(I, &ce, cst_named_child(c, x, 0));
        }
        if (blk != CST_NONE) exec_block(I, &ce, blk);
        env_join_into(I, &out, &ce);
    }
    env_assign(e, &out, I->nvars);
}

// def f / class C inside the function: f is a non-tensor object.
static void exec_def(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    uint32_t nm = cst_field(c, st, F_NAME);
    if (nm != CST_NONE) {
        uint32_t li = ty_local_index(I, nm);
        if (li != UINT32_MAX) ty_set_var(I, e, li, TY(TY_OBJECT));
    }
}

static void exec_stmt(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    if (e->dead) return;
    switch (c->nodes[st].kind) {
    case K_IF: exec_if(I, e, st); return;
    case K_FOR: exec_for(I, e, st); return;
    case K_WHILE: exec_loop(I, e, st, false, NULL); return;
    case K_WITH: exec_with(I, e, st); return;
    case K_TRY: exec_try(I, e, st); return;
    case K_MATCH: exec_match(I, e, st); return;
    case K_FUNCTION_DEF:
    case K_CLASS_DEF: exec_def(I, e, st); return;
    case K_DECORATED_DEF: {
        uint32_t d = cst_field(c, st, F_DEFINITION);
        if (d != CST_NONE) exec_stmt(I, e, d);
        return;
    }
    case K_BLOCK: exec_block(I, e, st); return;
    default: exec_simple(I, e, st); return;
    }
}

static void exec_block(Inf *I, Env *e, uint32_t block) {
    const Cst *c = I->c;
    for (uint32_t k = 0; k < c->nodes[block].nchildren && !e->dead; k++) {
        uint32_t st = c->nodes[block].first_child + k;
        if (c->nodes[st].named) exec_stmt(I, e, st);
    }
}

// ---------------------------------------------------------------------------
// Locals: every name the function binds (and every self attribute it assigns)
// ---------------------------------------------------------------------------

static uint32_t add_var(Inf *I, StrMap *m, const char *s, size_t n) {
    uint32_t i = namemap_get(m, s, n);
    if (i != UINT32_MAX) return i;
    i = I->nvars++;
    namemap_put(I->cx, m, s, n, i);
    vec_push(I->cx, &I->var_names, arena_strndup(I->cx, s, n));
    if (m == &I->attrs) vec_push(I->cx, &I->attr_vars, (void *)((uintptr_t)i + 1));
    return i;
}

static uint32_t attr_var(const Inf *I, size_t h) { return (uint32_t)((uintptr_t)I->attr_vars.items[h] - 1); }

// Self attributes among the targets t assigns (the names it binds are the
// function's Locals).
static void collect_attr_target(Inf *I, uint32_t t) {
    const Cst *c = I->c;
    t = cst_unparen(c, t);
    if (t == CST_NONE) return;
    size_t n;
    switch (c->nodes[t].kind) {
    case K_ATTRIBUTE: {
        uint32_t obj = cst_unparen(c, cst_field(c, t, F_OBJECT)), a = cst_field(c, t, F_ATTRIBUTE);
        if (!I->self_name || obj == CST_NONE || a == CST_NONE || c->nodes[obj].kind != K_IDENTIFIER) return;
        const char *s = cst_text(c, obj, &n);
        if (n != I->self_len || memcmp(s, I->self_name, n) != 0) return;
        s = cst_text(c, a, &n);
        add_var(I, &I->attrs, s, n);
        return;
    }
    case K_AS_PATTERN:
    case K_OTHER: break;
    default:
        if (!cst_is_target_list(c->nodes[t].kind)) return;
    }
    for (uint32_t k = 0; k < c->nodes[t].nchildren; k++) {
        uint32_t ch = c->nodes[t].first_child + k;
        if (c->nodes[ch].named) collect_attr_target(I, ch);
    }
}

typedef struct Pending {  // declarations and pins found while collecting
    PtrVec decl_nodes;    // uint32_t: annotated assignment nodes
    PtrVec pins;          // uint32_t: identifiers of global/nonlocal
} Pending;

// The self attributes the function assigns, its annotated assignments, and
// its global/nonlocal names (variables too, always Unknown).
static void collect(Inf *I, uint32_t node, Pending *p, int depth) {
    const Cst *c = I->c;
    if (depth > SCAN_DEPTH_MAX) return;
    uint32_t kind = c->nodes[node].kind;
    switch (kind) {
    case K_FUNCTION_DEF:
    case K_CLASS_DEF:
    case K_LAMBDA:
    case K_IMPORT:
    case K_IMPORT_FROM: return;  // other scopes; imports bind names only
    case K_ASSIGNMENT:
    case K_AUG_ASSIGNMENT:
        collect_attr_target(I, cst_field(c, node, F_LEFT));
        if (kind == K_ASSIGNMENT && cst_field(c, node, F_TYPE) != CST_NONE)
            vec_push(I->cx, &p->decl_nodes, (void *)(uintptr_t)node);
        break;
    case K_FOR:
    case K_FOR_IN_CLAUSE: collect_attr_target(I, cst_field(c, node, F_LEFT)); break;
    case K_AS_PATTERN: {
        uint32_t alias = cst_field(c, node, F_ALIAS);
        if (alias != CST_NONE) collect_attr_target(I, alias);
        break;
    }
    case K_GLOBAL:
    case K_NONLOCAL:
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
            uint32_t x = c->nodes[node].first_child + k;
            if (c->nodes[x].kind != K_IDENTIFIER) continue;
            size_t n;
            const char *s = cst_text(c, x, &n);
            add_var(I, &I->locals, s, n);
            vec_push(I->cx, &p->pins, (void *)(uintptr_t)x);
        }
        return;
    default: break;
    }
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (c->nodes[ch].named) collect(I, ch, p, depth + 1);
    }
}

// ---------------------------------------------------------------------------
// Running a function
// ---------------------------------------------------------------------------

static uint32_t param_name(const Cst *c, uint32_t p) {
    switch (c->nodes[p].kind) {
    case K_IDENTIFIER: return p;
    case K_DEFAULT_PARAMETER:
    case K_TYPED_DEFAULT_PARAMETER: return cst_field(c, p, F_NAME);
    case K_TYPED_PARAMETER:
    case K_LIST_SPLAT_PATTERN:
    case K_DICT_SPLAT_PATTERN: {
        uint32_t x = cst_named_child(c, p, 0);
        if (x == CST_NONE) return CST_NONE;
        if (c->nodes[x].kind == K_IDENTIFIER) return x;
        return param_name(c, x);
    }
    default: return CST_NONE;
    }
}

static bool param_is(const Cst *c, uint32_t p, uint32_t kind) {
    if (c->nodes[p].kind == kind) return true;
    uint32_t x = c->nodes[p].kind == K_TYPED_PARAMETER ? cst_named_child(c, p, 0) : CST_NONE;
    return x != CST_NONE && c->nodes[x].kind == kind;
}

static const char *class_qualname(Inf *I, const ClassInfo *ci) {
    return arena_printf(I->cx, "%s.%s", ci->mod ? ci->mod->name : "?", ci->name);
}

// Records the name of the first parameter (self) of an instance method of a class, if it is a plain one.
static void set_self_name(Inf *I, const FuncInfo *fn) {
    const Cst *c = I->c;
    uint32_t ps = cst_field(c, fn->def, F_PARAMETERS);
    if (fn->kind == FN_INSTANCE && I->cls && ps != CST_NONE) {
        uint32_t p0 = cst_named_child(c, ps, 0);
        uint32_t nm = p0 == CST_NONE ? CST_NONE : param_name(c, p0);
        if (nm != CST_NONE && !param_is(c, p0, K_LIST_SPLAT_PATTERN) &&
            !param_is(c, p0, K_DICT_SPLAT_PATTERN)) {
            size_t n;
            I->self_name = cst_text(c, nm, &n);
            I->self_len = n;
        }
    }
}

// Applies what collect found: pinned variables, and `x: T = v` declaring x for the whole function.
static void apply_pending(Inf *I, const Pending *pend) {
    const Cst *c = I->c;
    for (size_t i = 0; i < pend->pins.len; i++) {
        uint32_t li = ty_local_index(I, (uint32_t)(uintptr_t)pend->pins.items[i]);
        if (li != UINT32_MAX) I->pinned[li] = true;
    }
    for (size_t i = 0; i < pend->decl_nodes.len; i++) {
        uint32_t asg = (uint32_t)(uintptr_t)pend->decl_nodes.items[i];
        uint32_t left = cst_unparen(c, cst_field(c, asg, F_LEFT));
        uint32_t li = CST_NONE;
        if (left != CST_NONE && c->nodes[left].kind == K_IDENTIFIER) li = ty_local_index(I, left);
        else if (left != CST_NONE && c->nodes[left].kind == K_ATTRIBUTE) li = ty_attr_index(I, left);
        if (li == UINT32_MAX || li == CST_NONE || I->decl[li]) continue;
        I->decl[li] = ty_ann(I, I->mod, c, cst_field(c, asg, F_TYPE), 0);
    }
}

static void inf_init(Inf *I, Shared *S, const FuncInfo *fn, ClassInfo *cls, NodeMap *map) {
    memset(I, 0, sizeof *I);
    I->cx = S->cx;
    I->L = S->L;
    I->S = S;
    I->map = map;
    I->fn = fn;
    I->mod = fn->mod;
    I->c = program_cst(I->cx, fn->mod);
    I->cls = cls ? cls : fn->owner;
    const Cst *c = I->c;
    set_self_name(I, fn);
    // the names it binds (parameters first), then what collect finds
    const Locals *loc = locals_of(I->cx, fn);
    for (size_t i = 0; i < loc->names.len; i++) {
        const char *name = loc->names.items[i];
        add_var(I, &I->locals, name, strlen(name));
    }
    Pending pend = {0};
    uint32_t body = cst_field(c, fn->def, F_BODY);
    if (body != CST_NONE) collect(I, body, &pend, 0);
    uint32_t nv = I->nvars ? I->nvars : 1;
    I->decl = ARENA_ARRAY(I->cx, const Type *, nv);
    I->pinned = ARENA_ARRAY(I->cx, bool, nv);
    I->acc = ARENA_ARRAY(I->cx, const Type *, nv);
    I->nassign = ARENA_ARRAY(I->cx, uint32_t, nv);
    for (uint32_t i = 0; i < I->nvars; i++) I->acc[i] = TY(TY_BOTTOM);
    apply_pending(I, &pend);
}

static const Type *class_attr(Inf *I, ClassInfo *cls, const char *name, size_t len);

static Env inf_entry(Inf *I) {
    const Cst *c = I->c;
    Env e = env_new(I);
    for (uint32_t i = 0; i < I->nvars; i++)
        if (I->pinned[i]) e.v[i] = TY(TY_UNKNOWN);
    uint32_t ps = cst_field(c, I->fn->def, F_PARAMETERS);
    bool first = true;
    for (uint32_t k = 0; ps != CST_NONE && k < c->nodes[ps].nchildren; k++) {
        uint32_t p = c->nodes[ps].first_child + k;
        if (!c->nodes[p].named) continue;
        uint32_t nm = param_name(c, p);
        if (nm == CST_NONE) continue;
        uint32_t li = ty_local_index(I, nm);
        if (li == UINT32_MAX) continue;
        uint32_t ty = cst_field(c, p, F_TYPE);
        const Type *t = ty != CST_NONE ? ty_ann(I, I->mod, c, ty, 0) : TY(TY_UNKNOWN);
        if (first && I->self_name && nm != CST_NONE && ty_local_index(I, nm) == li &&
            c->nodes[p].kind == K_IDENTIFIER)
            t = types_instance(I->L, class_qualname(I, I->cls), I->cls);
        else if (first && I->fn->kind == FN_CLASSMETHOD) t = TY(TY_OBJECT);
        if (param_is(c, p, K_LIST_SPLAT_PATTERN)) t = types_tuple_of(I->L, t);
        else if (param_is(c, p, K_DICT_SPLAT_PATTERN)) t = types_dict(I->L, TY(TY_STR), t);
        first = false;
        if (ty != CST_NONE && !I->decl[li]) I->decl[li] = t;
        e.v[li] = t;
        I->acc[li] = t;
        record(I, nm, t);
    }
    // self attributes the function assigns start as what the class says
    for (size_t h = 0; h < I->attr_vars.len; h++) {
        uint32_t idx = attr_var(I, h);
        const char *name = I->var_names.items[idx];
        if (I->decl[idx]) e.v[idx] = I->decl[idx];
        else if (I->cls) e.v[idx] = class_attr(I, I->cls, name, strlen(name));
        else e.v[idx] = TY(TY_UNKNOWN);
        if (e.v[idx]->kind == TY_BOTTOM) e.v[idx] = TY(TY_UNKNOWN);
    }
    return e;
}

static void inf_run(Inf *I) {
    uint32_t body = cst_field(I->c, I->fn->def, F_BODY);
    Env e = inf_entry(I);
    if (body != CST_NONE) exec_block(I, &e, body);
}

// --- class attributes ---

static void scan_assigned_attrs(Inf *I, const Cst *c, uint32_t node, const char *self, size_t slen,
                                PtrVec *out, int depth) {
    if (depth > SCAN_DEPTH_MAX) return;
    uint32_t kind = c->nodes[node].kind;
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA) return;
    if (kind == K_ASSIGNMENT || kind == K_AUG_ASSIGNMENT || kind == K_NAMED_EXPR || kind == K_FOR ||
        kind == K_FOR_IN_CLAUSE || kind == K_AS_PATTERN) {
        uint32_t stack[TUPLE_MAX], sp = 0;
        uint32_t t = cst_field(c, node, kind == K_AS_PATTERN ? F_ALIAS : F_LEFT);
        if (t != CST_NONE) stack[sp++] = t;
        while (sp) {
            uint32_t x = cst_unparen(c, stack[--sp]);
            if (x == CST_NONE) continue;
            if (c->nodes[x].kind == K_ATTRIBUTE) {
                uint32_t o = cst_unparen(c, cst_field(c, x, F_OBJECT)), a = cst_field(c, x, F_ATTRIBUTE);
                size_t n;
                const char *s = o != CST_NONE && c->nodes[o].kind == K_IDENTIFIER ? cst_text(c, o, &n) : NULL;
                if (s && n == slen && memcmp(s, self, n) == 0 && a != CST_NONE)
                    vec_push(I->cx, out, cst_strdup(I->cx, c, a));
                continue;
            }
            for (uint32_t k = 0; k < c->nodes[x].nchildren && sp < TUPLE_MAX; k++) {
                uint32_t ch = c->nodes[x].first_child + k;
                if (c->nodes[ch].named) stack[sp++] = ch;
            }
        }
    }
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (c->nodes[ch].named) scan_assigned_attrs(I, c, ch, self, slen, out, depth + 1);
    }
}

static void attrs_put(Inf *I, ClassAttrs *ca, const char *name, const Type *t) {
    for (size_t i = 0; i < ca->names.len; i++)
        if (strcmp(VEC_AT(ca->names, const char, i), name) == 0) {
            ca->types.items[i] = (void *)types_join(I->L, ca->types.items[i], t);
            return;
        }
    vec_push(I->cx, &ca->names, (void *)name);
    vec_push(I->cx, &ca->types, (void *)t);
}

// Class-level `x: int = 3` / `x = 3` in the body of ci.
static void gather_class_level(Inf *I, ClassAttrs *ca, ClassInfo *ci) {
    const Cst *c = program_cst(I->cx, ci->mod);
    uint32_t body = cst_field(c, ci->node, F_BODY);
    for (uint32_t k = 0; body != CST_NONE && k < c->nodes[body].nchildren; k++) {
        uint32_t st = c->nodes[body].first_child + k;
        if (c->nodes[st].kind != K_EXPR_STMT) continue;
        uint32_t asg = cst_named_child(c, st, 0);
        if (asg == CST_NONE || c->nodes[asg].kind != K_ASSIGNMENT) continue;
        uint32_t left = cst_unparen(c, cst_field(c, asg, F_LEFT)), type = cst_field(c, asg, F_TYPE),
                 right = cst_field(c, asg, F_RIGHT);
        if (left == CST_NONE || c->nodes[left].kind != K_IDENTIFIER) continue;
        const Type *t;
        if (type != CST_NONE) t = ty_ann(I, ci->mod, c, type, 0);
        else if (right != CST_NONE) {
            t = ty_literal_type(I, c, cst_unparen(c, right));
        } else continue;
        attrs_put(I, ca, cst_strdup(I->cx, c, left), t);
    }
}

// Runs inference over __init__ f: every value assigned to self.x.
static void gather_init(Inf *I, ClassAttrs *ca, FuncInfo *f) {
    Inf sub;
    I->S->nest++;
    inf_init(&sub, I->S, f, ca->cls, NULL);
    inf_run(&sub);
    I->S->nest--;
    for (size_t h = 0; h < sub.attr_vars.len; h++) {
        uint32_t idx = attr_var(&sub, h);
        const Type *t = sub.decl[idx] ? sub.decl[idx] : sub.acc[idx];
        if (t->kind == TY_BOTTOM) t = TY(TY_UNKNOWN);
        attrs_put(I, ca, sub.var_names.items[idx], t);
    }
}

// The attributes another method f (whose self parameter is named by node nm) assigns: nothing known
// about them (unless declared there).
static void gather_other_method(Inf *I, ClassAttrs *ca, const Cst *c, FuncInfo *f, uint32_t nm) {
    PtrVec names = {0};
    size_t n;
    const char *self = cst_text(c, nm, &n);
    uint32_t b = cst_field(c, f->def, F_BODY);
    if (b != CST_NONE) scan_assigned_attrs(I, c, b, self, n, &names, 0);
    for (size_t j = 0; j < names.len; j++) attrs_put(I, ca, names.items[j], TY(TY_UNKNOWN));
}

// Add what class ci (and its bases) says about instance attributes.
static void gather_class(Inf *I, ClassAttrs *ca, ClassInfo *ci, int depth) {
    if (!ci || depth > CLASS_DEPTH_MAX || !ci->mod || !ci->mod->cst) return;
    // torch's own classes (nn.Module, nn.Linear, ...): their attributes stay unknown
    const char *rest = str_after_prefix(ci->mod->name, "torch");
    if (rest && (*rest == '.' || *rest == '\0')) return;
    const Cst *c = program_cst(I->cx, ci->mod);
    gather_class_level(I, ca, ci);
    for (size_t i = 0; i < ci->methods.len; i++) {
        FuncInfo *f = ci->methods.items[i];
        uint32_t ps = cst_field(c, f->def, F_PARAMETERS);
        uint32_t p0 = ps == CST_NONE ? CST_NONE : cst_named_child(c, ps, 0);
        uint32_t nm = p0 == CST_NONE ? CST_NONE : param_name(c, p0);
        if (f->kind != FN_INSTANCE || nm == CST_NONE) continue;
        if (strcmp(f->name, "__init__") == 0 && I->S->nest <= NEST_MAX) gather_init(I, ca, f);
        else gather_other_method(I, ca, c, f, nm);
    }
    for (size_t i = 0; i < ci->bases.len; i++) {
        ClassInfo *b = program_base(I->cx, ci, i);
        if (b && b != ci) gather_class(I, ca, b, depth + 1);
    }
}

static ClassAttrs *class_attrs(Inf *I, ClassInfo *ci) {
    for (size_t i = 0; i < I->S->classes.len; i++) {
        ClassAttrs *ca = I->S->classes.items[i];
        if (ca->cls == ci) return ca;
    }
    ClassAttrs *ca = ARENA_NEW(I->cx, ClassAttrs);
    ca->cls = ci;
    vec_push(I->cx, &I->S->classes, ca);
    ca->busy = true;
    gather_class(I, ca, ci, 0);
    ca->busy = false;
    return ca;
}

static const Type *class_attr(Inf *I, ClassInfo *cls, const char *name, size_t len) {
    (void)len;
    ClassAttrs *ca = class_attrs(I, cls);
    if (ca->busy) return TY(TY_UNKNOWN);  // asked while inferring its own __init__
    for (size_t i = 0; i < ca->names.len; i++)
        if (strcmp(VEC_AT(ca->names, const char, i), name) == 0) return ca->types.items[i];
    if (program_find_method(I->cx, cls, name)) return TY(TY_OBJECT);  // a bound method
    if (strcmp(name, "training") == 0 && program_is_module_class(I->cx, cls)) return TY(TY_BOOL);
    return TY(TY_UNKNOWN);
}

// ---------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------

Types *types_infer(ffq_ctx *cx, const FuncInfo *fn, ClassInfo *cls) {
    Types *t = ARENA_NEW(cx, Types);
    t->fn = fn;
    t->cls = cls;
    t->L = types_lattice_new(cx);
    if (!fn || !fn->mod || !fn->mod->cst) return t;
    Shared *S = ARENA_NEW(cx, Shared);
    S->cx = cx;
    S->L = t->L;
    S->class_attr = class_attr;
    Inf I;
    inf_init(&I, S, fn, cls, &t->map);
    inf_run(&I);
    return t;
}

const Type *types_of_node(const Types *t, uint32_t node) { return t ? type_get(&t->map, node) : NULL; }

static bool arg_may_be_tensor(const Types *t, uint32_t node) {
    return types_may_be_tensor(types_of_node(t, node));
}

static bool is_sequence(const Types *t, uint32_t node) {
    const Type *ty = node == CST_NONE ? NULL : types_of_node(t, node);
    return ty && (ty->kind == TY_LIST || ty->kind == TY_TUPLE);  // not dicts and sets: `|`, `-`, `&`
}

bool types_is_candidate(const Types *t, uint32_t node) {
    if (!t || !t->fn || !t->fn->mod || !t->fn->mod->cst) return true;
    const Cst *c = t->fn->mod->cst;
    if (node >= c->count) return true;
    switch (c->nodes[node].kind) {
    case K_CALL: {
        uint32_t al = cst_field(c, node, F_ARGUMENTS);
        if (al == CST_NONE) return true;
        if (c->nodes[al].kind != K_ARGUMENT_LIST) return arg_may_be_tensor(t, al);  // f(x for x in y)
        size_t npos = 0;
        for (uint32_t k = 0; k < c->nodes[al].nchildren; k++) {
            uint32_t a = c->nodes[al].first_child + k;
            if (!c->nodes[a].named) continue;
            uint32_t kind = c->nodes[a].kind;
            if (kind == K_KEYWORD_ARGUMENT || kind == K_DICT_SPLAT || kind == K_COMMENT) continue;
            npos++;
            if (arg_may_be_tensor(t, a)) return true;
        }
        return npos == 0;
    }
    case K_BINARY_OP:
    case K_AUG_ASSIGNMENT: {
        const Type *r = types_of_node(t, node);  // `"%s" % x` is a str whatever x is
        if (r && (r->kind == TY_STR || r->kind == TY_BYTES)) return false;
        // `[h] * 4`, `(a,) + rest`: with a list or tuple operand the operator repeats or joins
        // sequences (a tensor refuses a list or tuple operand), whatever their elements are
        if (is_sequence(t, cst_field(c, node, F_LEFT)) || is_sequence(t, cst_field(c, node, F_RIGHT)))
            return false;
        return arg_may_be_tensor(t, cst_field(c, node, F_LEFT)) ||
               arg_may_be_tensor(t, cst_field(c, node, F_RIGHT));
    }
    case K_UNARY_OP: return arg_may_be_tensor(t, cst_field(c, node, F_ARGUMENT));
    default: return true;
    }
}

typedef struct DumpItem {
    uint32_t start, end, line;
    const char *text;
} DumpItem;

static int dump_cmp(const void *a, const void *b) {
    const DumpItem *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->text, y->text);
}

// The name node is dumped under (a name, or a one-dot attribute of an instance named by a
// local); NULL when node is not dumped.
static const char *dump_name(ffq_ctx *cx, const Types *t, const Cst *c, uint32_t node) {
    const CstNode *nd = &c->nodes[node];
    if (nd->kind == K_IDENTIFIER) {
        // names, not attribute parts, callees or keyword names
        if (nd->parent != CST_NONE) {
            const CstNode *p = &c->nodes[nd->parent];
            if (p->kind == K_ATTRIBUTE && nd->field == F_ATTRIBUTE) return NULL;
            if (p->kind == K_CALL && nd->field == F_FUNCTION) return NULL;
            if (p->kind == K_KEYWORD_ARGUMENT && nd->field == F_NAME) return NULL;
        }
        return cst_strdup(cx, c, node);
    }
    if (nd->kind == K_ATTRIBUTE) {
        const char *d = program_dotted_text(cx, c, node);
        if (!d || !strchr(d, '.') || strchr(strchr(d, '.') + 1, '.')) return NULL;
        uint32_t obj = cst_field(c, node, F_OBJECT);
        if (obj == CST_NONE || c->nodes[obj].kind != K_IDENTIFIER) return NULL;
        const Type *ot = type_get(&t->map, obj);
        if (!ot || ot->kind != TY_INSTANCE) return NULL;  // self.x and other instances' attributes
        if (nd->parent != CST_NONE && c->nodes[nd->parent].kind == K_CALL && nd->field == F_FUNCTION)
            return NULL;
        return d;
    }
    return NULL;
}

// Prints the sorted items, one output line per source line, without repeats within a line.
static void dump_lines(ffq_ctx *cx, const DumpItem *items, size_t n, StrBuf *out) {
    for (size_t i = 0; i < n;) {
        size_t j = i;
        sb_printf(cx, out, "line %u: ", items[i].line);
        bool first = true;
        for (; j < n && items[j].line == items[i].line; j++) {
            bool dup = false;
            for (size_t k = i; k < j && !dup; k++) dup = strcmp(items[k].text, items[j].text) == 0;
            if (dup) continue;
            sb_printf(cx, out, "%s%s", first ? "" : ", ", items[j].text);
            first = false;
        }
        sb_putc(cx, out, '\n');
        i = j;
    }
}

void types_dump(ffq_ctx *cx, const Types *t, StrBuf *out) {
    const FuncInfo *fn = t->fn;
    if (!fn) return;
    const ClassInfo *owner = t->cls ? t->cls : fn->owner;
    sb_printf(cx, out, "# types of %s%s%s\n", owner ? owner->name : "", owner ? "." : "", fn->name);
    const Cst *c = program_cst(cx, fn->mod);
    size_t n = 0;
    DumpItem *items = ARENA_ARRAY(cx, DumpItem, t->map.len ? t->map.len : 1);
    for (uint32_t node = 0; t->map.len && node < c->count; node++) {  // node order, then sorted
        const Type *ty = type_get(&t->map, node);
        if (!ty) continue;
        const CstNode *nd = &c->nodes[node];
        const char *name = dump_name(cx, t, c, node);
        if (!name) continue;
        uint32_t line, col;
        srcfile_linecol(c->file, nd->start, &line, &col);
        items[n].start = nd->start;
        items[n].end = nd->end;
        items[n].line = line;
        items[n].text = arena_printf(cx, "%s: %s", name, types_str(cx, ty));
        n++;
    }
    qsort(items, n, sizeof *items, dump_cmp);
    dump_lines(cx, items, n, out);
}
