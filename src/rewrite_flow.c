// rewrite_flow.c: walk 2 of the rewrite plan (spec §2.2-§2.5): a
// reaching-definitions walk over the structured body of the function
// decides which producers (parameters, assignments, temporaries, loop and
// with targets, comprehension variables) and which expressions get a
// quantizer. It marks; walk 3 (rewrite_place.c) creates and places.
#include <stdlib.h>
#include <string.h>

#include "rewrite_int.h"

// --- walk 2: flow (reaching definitions) ---

static Env *env_copy(RwState *a, const Env *src) {
    Env *e = ARENA_NEW(a->cx, Env);
    *e = *src;
    return e;
}

// The rw_producer of `key` defined by `node`; the same object on every pass over a loop.
Prod *rw_producer(RwState *a, ProdKind kind, uint32_t node, const char *key) {
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

static const char *tmp_key(RwState *a, const TmpVar *t) { return arena_printf(a->cx, "#%u", t->id); }

// A local value changed in place after its name is bound (by a tensor method or an item
// assignment) gets no quantizer of its own: it would hold a QuantizedTensor, which cannot be
// changed in place (`out = torch.zeros_like(x)` then `out.index_add_(...)`; `dim_t //= 2;
// dim_t.mul_(s)`; `t = a * b` then `t[..., :k] *= s`); the ops reading it take it as it is.
// Parameters keep FF's quantizer at the top of the body (§2.3), whatever the body does.
static bool changed_in_place_later(RwState *a, const Prod *p) {
    if (!p->var || p->kind == PR_PARAM) return false;
    // loop and with targets: any change in their body counts
    return rw_in_place_after(a, p->kind == PR_ASSIGN ? p->node : CST_NONE, p->var, strlen(p->var)) !=
           CST_NONE;
}

static void use_name(RwState *a, Env *env, const char *key, uint32_t use) {
    const EnvEntry *en = rw_env_find(env, key);
    for (const ProdList *l = en ? en->prods : NULL; l; l = l->next) {
        Prod *p = l->p;
        if (p->born_quantized || changed_in_place_later(a, p)) continue;
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

static bool ident_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

// Normalised source text of an expression: runs of whitespace (outside
// strings) become one space, so `self .weight` and `self.weight` are one key,
// and redundant parentheses (§9.2) are left out, so `(k).T` is `k.T`.
static const char *expr_key(RwState *a, uint32_t n) {
    size_t len;
    const char *t = cst_text(a->c, n, &len);
    uint32_t start = a->c->nodes[n].start;
    bool strip = a->cv->unparen_at.len > 0;
    StrBuf sb = {0};
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = t[i];
        if (!quote && strip && (ch == '(' || ch == ')') &&
            nodemap_get(&a->cv->unparen_at, start + (uint32_t)i)) {
            // `not(x)` is `not x`: a space where two words would join
            if (sb.len && ident_char(sb.data[sb.len - 1]) && i + 1 < len && ident_char(t[i + 1]))
                sb_putc(a->cx, &sb, ' ');
            continue;
        }
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

// An expression that calls something (or reads a temporary) is not a stable
// value to hoist to the top of its scope: its quantizer stays where it is read.
static bool has_call(const Cst *c, uint32_t n) {
    if (c->nodes[n].kind == K_CALL) return true;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (has_call(c, cst_child(c, n, k))) return true;
    return false;
}

static const char *expr_key(RwState *a, uint32_t n);

// Adds the key of every attribute or item target in `left` (an assignment's left side,
// tuples and lists unpacked) to the function's set.
static void add_targets(RwState *a, uint32_t left) {
    const Cst *c = a->c;
    if (left == CST_NONE) return;
    if (c->nodes[left].kind == K_ATTRIBUTE || c->nodes[left].kind == K_SUBSCRIPT) {
        strset_add(a->cx, &a->cv->assigned, expr_key(a, left));
        return;
    }
    for (uint32_t k = 0; k < c->nodes[left].nchildren; k++) add_targets(a, cst_child(c, left, k));
}

// Adds the targets of every assignment in the subtree n to the function's set.
static void collect_assigned(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_ASSIGNMENT || kind == K_AUG_ASSIGNMENT) add_targets(a, cst_field(c, n, F_LEFT));
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) collect_assigned(a, cst_child(c, n, k));
}

// Is the expression `text` (self.acc) assigned anywhere in the function's body? The
// targets are collected in one walk, the first time a function asks: a body of many
// statements each reading state would otherwise walk the body once per read.
static bool assigned_in_body(RwState *a, const char *text) {
    Conv *cv = a->cv;
    if (!cv->assigned_ready) {
        cv->assigned_ready = true;
        uint32_t body = cst_field(a->c, cv->fn->def, F_BODY);
        if (body != CST_NONE) collect_assigned(a, body);
    }
    return strmap_get(&cv->assigned, text, strlen(text)) != NULL;
}

// The statement (a child of a block) that holds node n.
static uint32_t stmt_of(const Cst *c, uint32_t n) {
    while (n != CST_NONE && c->nodes[n].parent != CST_NONE && c->nodes[c->nodes[n].parent].kind != K_BLOCK)
        n = c->nodes[n].parent;
    return n;
}

// Does `text` occur in a statement other than `st` of the subtree n, or is n a loop
// around `st` (a later iteration reads what an earlier one assigned)?
static bool occurs_elsewhere(RwState *a, uint32_t n, const char *text, uint32_t st, uint32_t use) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if ((kind == K_FOR || kind == K_WHILE) && c->nodes[use].start >= c->nodes[n].start &&
        c->nodes[use].end <= c->nodes[n].end)
        return true;
    if ((kind == K_ATTRIBUTE || kind == K_SUBSCRIPT) && stmt_of(c, n) != st &&
        strcmp(expr_key(a, n), text) == 0)
        return true;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (occurs_elsewhere(a, cst_child(c, n, k), text, st, use)) return true;
    return false;
}

// The tag of a quantizer of expression n: a read of the module's state (`self.w`,
// `self.conv.weight`, `self.table[i]`, rooted at the instance parameter, not assigned by this
// function) is a parameter, weight or bias by its last attribute name; anything else is an
// activation.
static QuantTag expr_tag(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    if (!a->cv->instance) return QT_ACTIVATION;
    // a module attribute known not to be a tensor (`self.scale = 0.5`) is no parameter
    const Type *t = a->types ? types_of_node(a->types, n) : NULL;
    if (t && !types_may_be_tensor(t)) return QT_ACTIVATION;
    uint32_t attr = CST_NONE, chain = CST_NONE;  // the outermost attribute and its chain
    for (n = cst_unparen(c, n); n != CST_NONE; n = cst_unparen(c, n)) {
        uint32_t kind = c->nodes[n].kind;
        if (kind == K_ATTRIBUTE) {
            if (attr == CST_NONE) attr = cst_field(c, n, F_ATTRIBUTE), chain = n;
            n = cst_field(c, n, F_OBJECT);
        } else if (kind == K_SUBSCRIPT) {
            n = cst_field(c, n, F_VALUE);
        } else {
            break;
        }
    }
    if (n == CST_NONE || attr == CST_NONE || c->nodes[n].kind != K_IDENTIFIER ||
        !cst_text_is(c, n, a->cv->self_name))
        return QT_ACTIVATION;
    if (assigned_in_body(a, expr_key(a, chain))) return QT_ACTIVATION;
    return rw_param_tag(cst_strdup(a->cx, c, attr));
}

QuantTag rewrite_value_tag(ffq_ctx *cx, const Conv *cv, uint32_t node) {
    // a state around the finished plan: expr_tag only reads it
    RwState a = {.cx = cx, .cv = (Conv *)cv, .c = cv->c, .types = cv->types};
    return expr_tag(&a, node);
}

static void use_expr(RwState *a, uint32_t n, bool is_inline, const char *slot) {
    if (nodemap_get(&a->use_of, n)) return;  // loops are walked twice
    if (!is_inline && has_call(a->c, n)) is_inline = true;
    // an attribute the function assigns (self.acc = self.acc + s) has another value after
    // the assignment: each read is quantized where it is
    if (!is_inline) {
        const char *text = expr_key(a, n);
        uint32_t body = cst_field(a->c, a->cv->fn->def, F_BODY);
        if (assigned_in_body(a, text) && occurs_elsewhere(a, body, text, stmt_of(a->c, n), n))
            is_inline = true;
    }
    ExprUse *u = ARENA_NEW(a->cx, ExprUse);
    u->text = expr_key(a, n);
    u->ident = ident_of(a->cx, u->text);
    u->node = n;
    u->is_inline = is_inline;
    u->tag = expr_tag(a, n);
    u->slot = slot;
    nodemap_put(a->cx, &a->use_of, n, u);
    vec_push(a->cx, &a->scope->uses, u);
}

// §2.2: what an argument bound to a quantized slot needs.
static void slot_use(RwState *a, uint32_t arg, Env *env, const char *slot) {
    const Cst *c = a->c;
    if (c->nodes[arg].kind == K_LIST_SPLAT || c->nodes[arg].kind == K_DICT_SPLAT) return;
    TmpVar *t = nodemap_get(&a->cv->tmp_of, arg);
    uint32_t n = cst_unparen(c, arg);
    if (!t) t = nodemap_get(&a->cv->tmp_of, n);
    if (t) {
        use_name(a, env, tmp_key(a, t), CST_NONE);
        return;
    }
    if (rw_is_literal(c, n)) return;
    switch (c->nodes[n].kind) {
    case K_IDENTIFIER: {
        const char *name = cst_strdup(a->cx, c, n);
        use_name(a, env, name, n);
        const EnvEntry *en = rw_env_find(env, name);
        QuantTag slot_tag = rw_slot_tag(QT_PARAMETER, slot);
        for (const ProdList *l = en ? en->prods : NULL; l; l = l->next) {
            Prod *p = l->p;
            p->tag = rw_slot_tag(p->tag, slot);
            if (slot_tag != QT_PARAMETER) p->slot_tag = slot_tag;
        }
        return;
    }
    case K_CALL: return;  // an opaque call, or a quantized op: nothing to do
    case K_BINARY_OP:
    case K_UNARY_OP:
        if (nodemap_get(&a->cv->op_of, n)) return;
        use_expr(a, n, false, slot);
        return;
    case K_SUBSCRIPT:
    case K_LIST:
    case K_TUPLE:
    case K_SET:
    case K_DICT: use_expr(a, n, true, slot); return;
    default: use_expr(a, n, false, slot); return;
    }
}

static void op_uses(RwState *a, const QOp *op, Env *env) {
    Args args;
    const Cst *c = a->c;
    if (c->nodes[op->node].kind == K_CALL) rw_collect_args(a, op->node, &args);
    else rw_lookup_op(a, op->node, &args);  // operators: the operands, as lookup bound them
    const OpEntry *e = op->entry;
    for (size_t i = 0; i < args.npos && i < e->nparams; i++)
        if (e->params[i].is_quantized) slot_use(a, args.pos[i], env, e->params[i].name);
    for (size_t k = 0; k < args.nkw; k++) {
        const char *p = optable_keyword_param(e, args.kwnames[k]);  // (axis= binds dim)
        for (size_t i = 0; p && i < e->nparams; i++)
            if (strcmp(e->params[i].name, p) == 0 && e->params[i].is_quantized)
                slot_use(a, cst_field(c, args.kw[k], F_VALUE), env, e->params[i].name);
    }
}

// Uses inside an expression, in evaluation order (post-order). Subtrees that
// were isolated are evaluated on their own line and skipped here.
static void define_targets(RwState *a, Env *env, uint32_t target, ProdKind kind, uint32_t node,
                           bool born_quantized, QuantTag tag);
static void expr_uses(RwState *a, uint32_t n, Env *env, bool root);

// RwState comprehension has its own scope: the `for` targets are producers (§2.5)
// seen by later clauses and the element; clauses are evaluated in order.
static void comprehension_uses(RwState *a, uint32_t n, const Env *outer) {
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
            define_targets(a, env, cst_field(c, ch, F_LEFT), PR_COMP, ch, false, QT_ACTIVATION);
        } else if (kind == K_IF_CLAUSE) {
            expr_uses(a, ch, env, false);
        } else if (body == CST_NONE) {
            body = ch;  // the element (or key: value pair) comes first in the source
        }
    }
    if (body != CST_NONE) expr_uses(a, body, env, false);
}

static void expr_uses(RwState *a, uint32_t n, Env *env, bool root) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if (rw_is_scope_boundary(kind)) return;
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
static void define_targets(RwState *a, Env *env, uint32_t target, ProdKind kind, uint32_t node,
                           bool born_quantized, QuantTag tag) {
    const Cst *c = a->c;
    target = cst_unparen(c, target);
    if (target == CST_NONE) return;
    if (c->nodes[target].kind == K_IDENTIFIER) {
        Prod *p = rw_producer(a, kind, node, cst_strdup(a->cx, c, target));
        p->born_quantized = born_quantized;
        p->tag = tag;
        rw_env_set(a, env, p);
    } else if (cst_is_target_list(c->nodes[target].kind)) {
        for (uint32_t k = 0; k < cst_named_count(c, target); k++)
            define_targets(a, env, cst_named_child(c, target, k), kind, node, false, QT_ACTIVATION);
    }  // attribute / subscript targets are not producers
}

static bool is_quantized_value(RwState *a, uint32_t value) {
    value = cst_unparen(a->c, value);
    QOp *op = value == CST_NONE ? NULL : nodemap_get(&a->cv->op_of, value);
    return op && op->output;
}

static void flow_tmp_lines(RwState *a, uint32_t st, Env *env) {
    PtrVec *lines = nodemap_get(&a->tmp_lines, st);
    for (size_t i = 0; lines && i < lines->len; i++) {
        GenLine *g = lines->items[i];
        expr_uses(a, g->node, env, true);
        Prod *p = rw_producer(a, PR_TMP, st, tmp_key(a, g->tmp));
        p->var = NULL;
        p->tmp = g->tmp;
        p->tmp_line = g;
        p->born_quantized = is_quantized_value(a, g->node);
        rw_env_set(a, env, p);
    }
}

static void flow_assignment(RwState *a, uint32_t st, uint32_t asg, Env *env) {
    const Cst *c = a->c;
    // chained a = b = value: the value first, then each target left to right
    uint32_t value = asg;
    while (value != CST_NONE && c->nodes[value].kind == K_ASSIGNMENT) value = cst_field(c, value, F_RIGHT);
    if (value != CST_NONE) expr_uses(a, value, env, false);
    bool quantized = value != CST_NONE && is_quantized_value(a, value);
    // `w = self.weight`: the name's quantizer quantizes the module's tensor
    QuantTag tag = value != CST_NONE && !quantized ? expr_tag(a, value) : QT_ACTIVATION;
    for (uint32_t cur = asg; cur != CST_NONE && c->nodes[cur].kind == K_ASSIGNMENT;
         cur = cst_field(c, cur, F_RIGHT)) {
        uint32_t left = cst_field(c, cur, F_LEFT);
        uint32_t lk = c->nodes[cst_unparen(c, left)].kind;
        if (quantized && lk != K_IDENTIFIER && lk != K_ATTRIBUTE && lk != K_SUBSCRIPT) {
            rw_fail(a, st, "multiple-return-values",
                    "quantized operators and multiple return values are not supported");
            return;
        }
        if (lk != K_IDENTIFIER) expr_uses(a, left, env, false);
        if (cst_field(a->c, cur, F_RIGHT) == CST_NONE) break;  // `y: T` declares nothing
        define_targets(a, env, left, PR_ASSIGN, st, quantized, tag);
    }
}

Scope *rw_new_scope(RwState *a, uint32_t block) {
    Scope *s = ARENA_NEW(a->cx, Scope);
    s->parent = a->scope;
    s->block = block;
    if (a->scope) vec_push(a->cx, &a->scope->children, s);
    nodemap_put(a->cx, &a->scope_of, block, s);
    return s;
}

// RwState branch body in its own scope; returns its end state or NULL when it cannot fall through.
static Env *flow_branch(RwState *a, uint32_t block, const Env *env) {
    if (block == CST_NONE) return env_copy(a, env);
    Scope *saved = a->scope;
    Scope *s = nodemap_get(&a->scope_of, block);
    a->scope = s ? s : rw_new_scope(a, block);
    Env *e = env_copy(a, env);
    bool dead = false;
    rw_flow_block(a, block, e, &dead);
    a->scope = saved;
    return dead ? NULL : e;
}

static void flow_if(RwState *a, uint32_t st, Env *env, bool *dead) {
    const Cst *c = a->c;
    expr_uses(a, cst_field(c, st, F_CONDITION), env, false);
    PtrVec ends = {0};  // the branches that fall through, joined at the end
    bool has_else = false;
    Env *live = flow_branch(a, cst_field(c, st, F_CONSEQUENCE), env);
    if (live) vec_push(a->cx, &ends, live);
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t cl = cst_child(c, st, k);
        uint32_t kind = c->nodes[cl].kind;
        if (kind != K_ELIF && kind != K_ELSE) continue;
        if (kind == K_ELIF) expr_uses(a, cst_field(c, cl, F_CONDITION), env, false);
        else has_else = true;
        live = flow_branch(a, cst_field(c, cl, kind == K_ELIF ? F_CONSEQUENCE : F_BODY), env);
        if (live) vec_push(a->cx, &ends, live);
    }
    if (!has_else) vec_push(a->cx, &ends, env_copy(a, env));
    if (!ends.len) *dead = true;
    Env merged = {0};
    rw_env_union_all(a, &merged, &ends);
    *env = merged;
}

// for / while: the body is walked until the state at its head stops growing
// (reaching definitions: producers are only added, so this ends), then the
// state after the loop is the state before (zero iterations) joined with
// every pass's end state and breaks. The head state of each loop is kept
// across the walks of an enclosing loop: their states only grow, so a loop
// restarts from its last fixpoint joined with the new state before it, and
// nested loops cost one walk per enclosing walk plus one per growth, not
// 2^depth walks. Marks made on a walk are only ever added, so the result is
// that of walking every loop with its final head state.
// The body of loop st's else clause, or CST_NONE.
static uint32_t loop_else_body(const Cst *c, uint32_t st) {
    uint32_t else_body = CST_NONE;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++)
        if (c->nodes[cst_child(c, st, k)].kind == K_ELSE)
            else_body = cst_field(c, cst_child(c, st, k), F_BODY);
    return else_body;
}

// Joins the environments at the current loop's breaks into result and, when
// there is an else block (normal), into *brk; then forgets them.
static void take_breaks(RwState *a, Env *result, const Env *normal, Env **brk) {
    if (!a->loop->breaks.len) return;
    Env joined = {0};
    rw_env_union_all(a, &joined, &a->loop->breaks);
    rw_env_union(a, result, &joined);
    if (normal && !*brk) *brk = env_copy(a, &joined);
    else if (normal) rw_env_union(a, *brk, &joined);
    a->loop->breaks.len = 0;
}

// The environment after a loop with an else block: the else block run after a
// normal end, joined with the breaks' environment brk.
static Env *loop_join_else(RwState *a, uint32_t else_body, Env *normal, Env *brk) {
    bool dead = false;
    rw_flow_block(a, else_body, normal, &dead);
    if (dead && brk) return brk;
    if (dead) return normal;  // nothing continues after the loop
    if (brk) rw_env_union(a, normal, brk);
    return normal;
}

static void flow_loop(RwState *a, uint32_t st, Env *env) {
    const Cst *c = a->c;
    bool is_for = c->nodes[st].kind == K_FOR;
    // for/while ... else: the else block runs when the loop ends without a break
    uint32_t else_body = loop_else_body(c, st);
    Env *normal = NULL, *brk = NULL;
    if (else_body != CST_NONE) normal = env_copy(a, env);
    if (is_for) expr_uses(a, cst_field(c, st, F_RIGHT), env, false);
    else expr_uses(a, cst_field(c, st, F_CONDITION), env, false);
    Loop loop = {.outer = a->loop};
    a->loop = &loop;
    Env *state = nodemap_get(&a->loop_state, st);
    if (state) rw_env_union(a, state, env);
    else nodemap_put(a->cx, &a->loop_state, st, state = env_copy(a, env));
    Env *result = env_copy(a, env);
    for (bool grew = true; grew && !a->failed;) {
        Env *e = env_copy(a, state);
        if (is_for) define_targets(a, e, cst_field(c, st, F_LEFT), PR_FOR, st, false, QT_ACTIVATION);
        else expr_uses(a, cst_field(c, st, F_CONDITION), e, false);
        bool dead = false;
        rw_flow_block(a, cst_field(c, st, F_BODY), e, &dead);
        grew = !dead && rw_env_union(a, state, e);
        if (!dead) rw_env_union(a, result, e);
        if (!dead && normal) rw_env_union(a, normal, e);
        take_breaks(a, result, normal, &brk);
        if (is_for && !dead)
            define_targets(a, result, cst_field(c, st, F_LEFT), PR_FOR, st, false, QT_ACTIVATION);
    }
    if (is_for) {  // after the loop the target may hold any iteration's value
        Env *tmp = env_copy(a, env);
        define_targets(a, tmp, cst_field(c, st, F_LEFT), PR_FOR, st, false, QT_ACTIVATION);
        rw_env_union(a, result, tmp);
        if (normal) rw_env_union(a, normal, tmp);
    }
    a->loop = loop.outer;
    if (normal) result = loop_join_else(a, else_body, normal, brk);
    *env = *result;
}

static void flow_with(RwState *a, uint32_t st, Env *env, bool *dead) {
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
                define_targets(a, env, inner != CST_NONE ? inner : tgt, PR_WITH, st, false, QT_ACTIVATION);
            }
        } else {
            expr_uses(a, v, env, false);
        }
    }
    rw_flow_block(a, cst_field(c, st, F_BODY), env, dead);
}

static void flow_try(RwState *a, uint32_t st, Env *env, bool *dead) {
    const Cst *c = a->c;
    Env *before = env_copy(a, env);
    bool body_dead = false;
    rw_flow_block(a, cst_field(c, st, F_BODY), env, &body_dead);
    PtrVec ends = {0};  // the handlers that fall through, then the body (and else) if it does
    Env *after_body = body_dead ? NULL : env;
    uint32_t fin = CST_NONE;
    for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
        uint32_t cl = cst_child(c, st, k);
        uint32_t kind = c->nodes[cl].kind;
        if (kind == K_EXCEPT) {
            Env *h = env_copy(a, before);
            rw_env_union(a, h, env);
            bool d = false;
            uint32_t body = CST_NONE;
            for (uint32_t j = 0; j < c->nodes[cl].nchildren; j++)
                if (c->nodes[cst_child(c, cl, j)].kind == K_BLOCK) body = cst_child(c, cl, j);
            if (body != CST_NONE) rw_flow_block(a, body, h, &d);
            if (!d) vec_push(a->cx, &ends, h);
        } else if (kind == K_ELSE && after_body) {
            bool d = false;
            rw_flow_block(a, cst_field(c, cl, F_BODY), after_body, &d);
            if (d) after_body = NULL;
        } else if (kind == K_FINALLY) {
            fin = cl;
        }
    }
    if (after_body) vec_push(a->cx, &ends, env_copy(a, after_body));
    bool any_live = ends.len > 0;
    Env merged = {0};
    rw_env_union_all(a, &merged, &ends);
    *env = merged;
    if (fin != CST_NONE) {
        for (uint32_t j = 0; j < c->nodes[fin].nchildren; j++)
            if (c->nodes[cst_child(c, fin, j)].kind == K_BLOCK)
                rw_flow_block(a, cst_child(c, fin, j), env, dead);
    }
    if (!any_live) *dead = true;
}

// An expression statement: an assignment, an augmented assignment or a use.
static void flow_expr_stmt(RwState *a, uint32_t st, Env *env) {
    const Cst *c = a->c;
    uint32_t e = cst_named_child(c, st, 0);
    if (e != CST_NONE && c->nodes[e].kind == K_ASSIGNMENT) flow_assignment(a, st, e, env);
    else if (e != CST_NONE && c->nodes[e].kind == K_AUG_ASSIGNMENT) {
        expr_uses(a, e, env, false);
        define_targets(a, env, cst_field(c, e, F_LEFT), PR_ASSIGN, st, is_quantized_value(a, e),
                       QT_ACTIVATION);
    } else if (e != CST_NONE) expr_uses(a, e, env, false);
}

// The uses in every named child of st.
static void children_uses(RwState *a, uint32_t st, Env *env) {
    for (uint32_t k = 0; k < cst_named_count(a->c, st); k++)
        expr_uses(a, cst_named_child(a->c, st, k), env, false);
}

static void flow_stmt(RwState *a, uint32_t st, Env *env, bool *dead) {
    const Cst *c = a->c;
    flow_tmp_lines(a, st, env);
    switch (c->nodes[st].kind) {
    case K_COMMENT:
    case K_FUNCTION_DEF:
    case K_CLASS_DEF:
    case K_DECORATED_DEF: return;
    case K_EXPR_STMT: flow_expr_stmt(a, st, env); return;
    case K_RETURN:
    case K_RAISE:
        children_uses(a, st, env);
        *dead = true;
        return;
    case K_BREAK:
        if (a->loop) vec_push(a->cx, &a->loop->breaks, env_copy(a, env));
        *dead = true;
        return;
    case K_CONTINUE: *dead = true; return;
    case K_IF: flow_if(a, st, env, dead); return;
    case K_FOR:
    case K_WHILE: flow_loop(a, st, env); return;
    case K_WITH: flow_with(a, st, env, dead); return;
    case K_TRY: flow_try(a, st, env, dead); return;
    case K_MATCH:  // its cases take no statement lines between them
        rw_fail(a, st, "match-statement", "a 'match' statement is not supported");
        return;
    case K_GLOBAL:
    case K_NONLOCAL:  // the names live in the input's module, not the generated one
        rw_fail(a, st, "global-statement",
                c->nodes[st].kind == K_GLOBAL ? "a 'global' statement is not supported"
                                              : "a 'nonlocal' statement is not supported");
        return;
    default: children_uses(a, st, env); return;
    }
}

void rw_flow_block(RwState *a, uint32_t block, Env *env, bool *dead) {
    const Cst *c = a->c;
    if (block == CST_NONE) return;  // error-recovered trees may lack a body
    for (uint32_t k = 0; k < c->nodes[block].nchildren && !*dead && !a->failed; k++) {
        uint32_t st = cst_child(c, block, k);
        if (c->nodes[st].named) flow_stmt(a, st, env, dead);
    }
}
