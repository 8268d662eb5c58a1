// rewrite_candidates.c: walk 1 of the rewrite plan (spec §2.1, §5.1, §9.5):
// relative imports made absolute, which calls and operators are candidates,
// operator-table lookup (§6.3, §6.5, §6.6), followed calls; plus the state
// helpers the other walks share (rw_new_quantizer, rw_mark_dirty, rw_fail).
#include <stdlib.h>
#include <string.h>

#include "optable.h"
#include "rewrite_int.h"
#include "torchinfo.h"

void rw_mark_dirty(RwState *a, uint32_t n) { rewrite_mark_dirty(a->cx, a->cv, n); }

Quantizer *rw_new_quantizer(RwState *a, const char *base, TmpVar *tmp) {
    Quantizer *q = ARENA_NEW(a->cx, Quantizer);
    q->base = base;
    q->tmp = tmp;
    q->seq = (uint32_t)a->cv->quantizers.len;
    vec_push(a->cx, &a->cv->quantizers, q);
    return q;
}

void rw_fail(RwState *a, uint32_t node, const char *code, const char *what) {
    if (a->failed) return;
    a->failed = true;
    a->cx->stats.float_failed++;
    const FuncInfo *fn = a->cv->fn;
    diag_at(a->cx, DIAG_WARNING, a->c->file, a->c->nodes[node].start, code,
            "cannot quantize '%s'%s%s: %s; it is left out of the output", fn->name, fn->owner ? " of " : "",
            fn->owner ? fn->owner->name : "", what);
}

// --- classification ---

// Is the root name of a dotted expression bound inside the function
// (parameter, assignment, loop/with target, local import or def)?
static bool is_local_root(const RwState *a, uint32_t node) {
    const Cst *c = a->c;
    node = cst_unparen(c, node);
    while (node != CST_NONE && c->nodes[node].kind == K_ATTRIBUTE)
        node = cst_unparen(c, cst_field(c, node, F_OBJECT));
    if (node == CST_NONE || c->nodes[node].kind != K_IDENTIFIER) return false;
    size_t n;
    const char *s = cst_text(c, node, &n);
    return locals_has(a->locals, s, n);
}

// Relative imports in the function body made absolute (§9 step 1), so the
// copied code still imports. Nested defs and classes are left as they are.
void rw_absolute_imports(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    const CstNode *node = &c->nodes[n];
    if (node->kind == K_FUNCTION_DEF || node->kind == K_CLASS_DEF) return;
    if (node->kind == K_IMPORT_FROM) {
        uint32_t mn = cst_field(c, n, F_MODULE_NAME);
        if (mn != CST_NONE && c->nodes[mn].kind == K_RELATIVE_IMPORT) {
            const char *abs = program_absolute_module(a->cx, a->cv->mod, cst_strdup(a->cx, c, mn));
            if (abs[0]) {
                nodemap_put(a->cx, &a->cv->text_of, mn, (void *)abs);
                rw_mark_dirty(a, mn);
            }
        }
        return;
    }
    if (node->kind == K_IMPORT) return;
    for (uint32_t k = 0; k < node->nchildren; k++)
        if (c->nodes[node->first_child + k].named) rw_absolute_imports(a, node->first_child + k);
}

bool rw_is_literal(const Cst *c, uint32_t n) {
    n = cst_unparen(c, n);
    if (n == CST_NONE) return false;
    switch (c->nodes[n].kind) {
    case K_INTEGER:
    case K_FLOAT:
    case K_STRING:
    case K_CONCAT_STRING:
    case K_TRUE:
    case K_FALSE:
    case K_NONE:
    case K_ELLIPSIS: return true;
    case K_UNARY_OP: return rw_is_literal(c, cst_field(c, n, F_ARGUMENT));
    case K_BINARY_OP:
        return rw_is_literal(c, cst_field(c, n, F_LEFT)) && rw_is_literal(c, cst_field(c, n, F_RIGHT));
    default: return false;
    }
}

static bool is_super_call(const Cst *c, uint32_t call) {
    uint32_t f = cst_field(c, call, F_FUNCTION);
    return f != CST_NONE && cst_text_is(c, f, "super");
}

// §9.5 step 5 (type inference off): every call except super() and bypassed
// callables, every operator whose operands are not all simple literals.
static bool is_candidate(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    switch (c->nodes[n].kind) {
    case K_CALL: {
        if (is_super_call(c, n)) return false;
        uint32_t f = cst_field(c, n, F_FUNCTION);
        const char *dotted = program_dotted_text(a->cx, c, f);
        if (torchinfo_is_bypassed(dotted) || torchinfo_is_bypassed(program_qualname(a->cx, a->cv->mod, f)))
            return false;
        if (is_local_root(a, f)) return true;
        Symbol s = program_resolve(a->cx, a->cv->mod, f);
        return !torchinfo_is_bypassed(s.qualname);
    }
    case K_BINARY_OP:
    case K_UNARY_OP: return !rw_is_literal(c, n);
    default: return false;
    }
}

// --- operator lookup (§6.3, §6.5, §6.6) ---

bool rw_collect_args(RwState *a, uint32_t call, Args *out) {
    const Cst *c = a->c;
    memset(out, 0, sizeof *out);
    uint32_t al = cst_field(c, call, F_ARGUMENTS);
    if (al == CST_NONE || c->nodes[al].kind != K_ARGUMENT_LIST) return false;  // f"" / generator arg
    for (uint32_t k = 0; k < cst_named_count(c, al); k++) {
        uint32_t arg = cst_named_child(c, al, k);
        if (c->nodes[arg].kind == K_KEYWORD_ARGUMENT) {
            if (out->nkw == ARGS_MAX) return false;
            out->kw[out->nkw] = arg;
            out->kwnames[out->nkw++] = cst_strdup(a->cx, c, cst_field(c, arg, F_NAME));
        } else if (c->nodes[arg].kind == K_DICT_SPLAT) {
            // §6.3: `**kwargs`, like `*args`, counts as one positional argument (it binds
            // the next parameter; slot handling leaves a splat as it is). It may follow
            // keywords: that is no positional argument after a keyword.
            if (out->npos == ARGS_MAX) return false;
            out->pos[out->npos++] = arg;
        } else {
            if (out->npos == ARGS_MAX) return false;
            if (out->nkw) out->pos_after_kw = true;
            out->pos[out->npos++] = arg;
        }
    }
    return true;
}

static const char *operator_text(RwState *a, uint32_t n) {
    uint32_t op = cst_field(a->c, n, F_OPERATOR);
    return op == CST_NONE ? NULL : cst_strdup(a->cx, a->c, op);
}

// torch functions that make or inspect tensors rather than compute on them:
// not worth a note when they are missing from the table.
static const char *const not_ops[] = {
    "arange",
    "as_tensor",
    "autocast",
    "compile",
    "device",
    "dtype",
    "empty",
    "enable_grad",
    "eye",
    "finfo",
    "from_numpy",
    "full",
    "get_default_dtype",
    "iinfo",
    "inference_mode",
    "is_floating_point",
    "is_grad_enabled",
    "is_tensor",
    "linspace",
    "load",
    "logspace",
    "manual_seed",
    "no_grad",
    "numel",
    "ones",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "save",
    "set_grad_enabled",
    "tensor",
    "zeros",
};

// torch.nn.functional.<f> and torch.<f>: calls that look like tensor ops.
static bool looks_like_op(const char *q) {
    const char *name = str_after_prefix(q, "torch.nn.functional.");
    if (!name) {
        name = str_after_prefix(q, "torch.");
        if (name && strchr(name, '.')) name = NULL;
    }
    if (!name) return false;
    if (!(name[0] >= 'a' && name[0] <= 'z')) return false;
    for (size_t i = 0; i < sizeof not_ops / sizeof not_ops[0]; i++)
        if (strcmp(name, not_ops[i]) == 0) return false;
    return true;
}

// §12: one note per callable, at its first call, with the number of calls.
static void note_missing_op(RwState *a, uint32_t n, const char *q) {
    MissingOp *m = NULL;
    for (size_t i = 0; i < a->cx->missing_ops.len && !m; i++)
        if (strcmp(VEC_AT(a->cx->missing_ops, MissingOp, i)->name, q) == 0) m = a->cx->missing_ops.items[i];
    if (!m) {
        m = ARENA_NEW(a->cx, MissingOp);
        m->name = q;
        m->file = a->c->file;
        m->offset = a->c->nodes[n].start;
        vec_push(a->cx, &a->cx->missing_ops, m);
    }
    m->count++;
}

// The table entry for call n, resolving re-exports; notes a missing or unmatched operator.
static const OpEntry *lookup_call(RwState *a, uint32_t n, Args *args) {
    const Cst *c = a->c;
    const OpTable *t = a->cx->optable;
    if (!rw_collect_args(a, n, args)) return NULL;
    uint32_t fn = cst_field(c, n, F_FUNCTION);
    const char *q = program_qualname(a->cx, a->cv->mod, fn);
    if (!q) return NULL;
    if (!optable_has(t, q)) {  // a re-export: the table knows the defining name
        Symbol s = program_resolve(a->cx, a->cv->mod, fn);
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

// The fallback entry for operator fb applied to operands x (and y unless CST_NONE).
static const OpEntry *select_operator(RwState *a, const char *fb, uint32_t x, uint32_t y, Args *args) {
    if (!fb) return NULL;
    args->pos[0] = x;
    args->npos = 1;
    if (y != CST_NONE) args->pos[1] = y, args->npos = 2;
    return optable_select(a->cx->optable, fb, args->npos, NULL, 0);
}

const OpEntry *rw_lookup_op(RwState *a, uint32_t n, Args *args) {
    const Cst *c = a->c;
    const OpTable *t = a->cx->optable;
    switch (c->nodes[n].kind) {
    case K_CALL: return lookup_call(a, n, args);
    case K_AUG_ASSIGNMENT: {  // §2.6: `a op= b` is looked up as `a = a op b`
        memset(args, 0, sizeof *args);
        const char *op = operator_text(a, n);
        size_t len = op ? strlen(op) : 0;
        if (len < 2) return NULL;
        const char *fb = optable_operator_fallback(t, arena_strndup(a->cx, op, len - 1), false);
        return select_operator(a, fb, cst_field(c, n, F_LEFT), cst_field(c, n, F_RIGHT), args);
    }
    case K_BINARY_OP: {
        memset(args, 0, sizeof *args);
        const char *fb = optable_operator_fallback(t, operator_text(a, n), false);
        return select_operator(a, fb, cst_field(c, n, F_LEFT), cst_field(c, n, F_RIGHT), args);
    }
    case K_UNARY_OP: {
        memset(args, 0, sizeof *args);
        const char *fb = optable_operator_fallback(t, operator_text(a, n), true);
        return select_operator(a, fb, cst_field(c, n, F_ARGUMENT), CST_NONE, args);
    }
    default: return NULL;
    }
}

bool rw_is_in_place_method(const Cst *c, uint32_t attr) {
    if (attr == CST_NONE) return false;
    size_t len;
    const char *t = cst_text(c, attr, &len);
    return len >= 2 && t[len - 1] == '_' && t[len - 2] != '_' && t[0] != '_';
}

// The name under a chain of subscripts (`name`, `name[i]`, `name[i][:, j]`), or CST_NONE.
static uint32_t subscript_root(const Cst *c, uint32_t t) {
    while (t != CST_NONE && c->nodes[t].kind == K_SUBSCRIPT) t = cst_field(c, t, F_VALUE);
    return t != CST_NONE && c->nodes[t].kind == K_IDENTIFIER ? t : CST_NONE;
}

// The local that node n changes in place, or CST_NONE: `name.m_(...)`, a tensor method with
// one trailing underscore (not a dunder), also on an element or slice (`name[a:b].zero_()`,
// torchvision's Swin V2 zeroing the middle third of its cloned qkv bias), or an assignment
// into an element or slice, `name[i] = v`, `name[i][j] += v` (both write the tensor, or the
// tensor a view of it shares memory with).
static uint32_t in_place_receiver(const Cst *c, uint32_t n) {
    if (c->nodes[n].kind == K_ASSIGNMENT || c->nodes[n].kind == K_AUG_ASSIGNMENT) {
        uint32_t t = cst_field(c, n, F_LEFT);
        if (t == CST_NONE || c->nodes[t].kind != K_SUBSCRIPT) return CST_NONE;
        return subscript_root(c, t);
    }
    if (c->nodes[n].kind != K_CALL) return CST_NONE;
    uint32_t f = cst_field(c, n, F_FUNCTION);
    if (f == CST_NONE || c->nodes[f].kind != K_ATTRIBUTE) return CST_NONE;
    uint32_t obj = subscript_root(c, cst_field(c, f, F_OBJECT));
    if (obj == CST_NONE) return CST_NONE;
    return rw_is_in_place_method(c, cst_field(c, f, F_ATTRIBUTE)) ? obj : CST_NONE;
}

// An item assignment into a value inference knows to be a list, tuple, dict or set
// (`outs[i] = f(outs[i])`) changes no tensor.
static bool into_container(RwState *a, uint32_t n, uint32_t receiver) {
    uint32_t kind = a->c->nodes[n].kind;
    if ((kind != K_ASSIGNMENT && kind != K_AUG_ASSIGNMENT) || !a->types) return false;
    return types_is_container(types_of_node(a->types, receiver));
}

// The earliest in-place change of `name` (in_place_receiver) and the earliest assignment to it
// under n, by start offset (UINT32_MAX: none); nested functions, classes and lambdas skipped.
static void scan_param_use(const Cst *c, uint32_t n, const char *name, uint32_t *change, uint32_t *bind) {
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA) return;
    uint32_t r = in_place_receiver(c, n);
    if (r != CST_NONE && cst_text_is(c, r, name) && c->nodes[n].start < *change) *change = c->nodes[n].start;
    if (kind == K_ASSIGNMENT || kind == K_AUG_ASSIGNMENT) {
        uint32_t left = cst_field(c, n, F_LEFT);
        if (left != CST_NONE && c->nodes[left].kind == K_IDENTIFIER && cst_text_is(c, left, name) &&
            c->nodes[n].start < *bind)
            *bind = c->nodes[n].start;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        scan_param_use(c, c->nodes[n].first_child + k, name, change, bind);
}

// Whether free function fn changes the tensor its parameter `name` receives: an in-place method
// on it or an assignment into an element or slice of it, before any assignment to the name in
// the text (torchvision's MViT: `_add_rel_pos(attn, ...)` does `attn[:, :, 1:, 1:] = ...`).
static bool changes_param(RwState *a, const FuncInfo *fn, const char *name) {
    const char *key = arena_printf(a->cx, "%p/%s", (const void *)fn, name);
    void *known = strmap_get(&a->changing_params, key, strlen(key));
    if (known) return known == (void *)2;
    const Cst *c = program_cst(a->cx, fn->mod);
    uint32_t body = cst_field(c, fn->def, F_BODY), change = UINT32_MAX, bind = UINT32_MAX;
    if (body != CST_NONE) scan_param_use(c, body, name, &change, &bind);
    bool changes = change != UINT32_MAX && change < bind;
    strmap_put(a->cx, &a->changing_params, key, strlen(key), (void *)(uintptr_t)(changes ? 2 : 1));
    return changes;
}

// The parameter of free function fn that positional argument `index` or keyword `kw` (not
// NULL) binds, or NULL (past a `*`, `/` handled as positional).
static const char *param_for(RwState *a, const FuncInfo *fn, size_t index, const char *kw) {
    const Cst *c = program_cst(a->cx, fn->mod);
    uint32_t ps = cst_field(c, fn->def, F_PARAMETERS);
    size_t pos = 0;
    for (uint32_t k = 0; ps != CST_NONE && k < cst_named_count(c, ps); k++) {
        uint32_t p = cst_named_child(c, ps, k), kind = c->nodes[p].kind;
        if (kind == K_POSITIONAL_SEPARATOR) continue;
        uint32_t inner = kind == K_TYPED_PARAMETER ? c->nodes[cst_named_child(c, p, 0)].kind : kind;
        if (inner == K_KEYWORD_SEPARATOR || inner == K_LIST_SPLAT_PATTERN || inner == K_DICT_SPLAT_PATTERN)
            return NULL;
        uint32_t id = kind == K_IDENTIFIER ? p : cst_named_child(c, p, 0);
        if (kind == K_DEFAULT_PARAMETER || kind == K_TYPED_DEFAULT_PARAMETER) id = cst_field(c, p, F_NAME);
        if (id == CST_NONE || c->nodes[id].kind != K_IDENTIFIER) return NULL;
        if (kw ? cst_text_is(c, id, kw) : pos == index) return cst_strdup(a->cx, c, id);
        pos++;
    }
    return NULL;
}

// A call of a free function of the program that changes a parameter in place, with a local
// name as that argument: the argument node is listed as a change in place of the name, so
// that the value passed stays a float tensor (a QuantizedTensor takes no change in place).
static void list_changing_call(RwState *a, uint32_t call) {
    const Cst *c = a->c;
    uint32_t f = cst_unparen(c, cst_field(c, call, F_FUNCTION)), args = cst_field(c, call, F_ARGUMENTS);
    if (f == CST_NONE || args == CST_NONE || c->nodes[f].kind != K_IDENTIFIER || is_local_root(a, f) ||
        c->nodes[args].kind != K_ARGUMENT_LIST)
        return;
    Symbol s = program_resolve(a->cx, a->cv->mod, f);
    if (s.kind != SYM_FUNC || !s.fn || s.fn->owner || s.fn->property || s.fn->kind != FN_FREE) return;
    size_t index = 0;
    for (uint32_t k = 0; k < cst_named_count(c, args); k++) {
        uint32_t arg = cst_named_child(c, args, k), kind = c->nodes[arg].kind;
        if (kind == K_LIST_SPLAT || kind == K_DICT_SPLAT) return;
        const char *kw = NULL;
        uint32_t value = arg;
        if (kind == K_KEYWORD_ARGUMENT) {
            kw = cst_strdup(a->cx, c, cst_field(c, arg, F_NAME));
            value = cst_field(c, arg, F_VALUE);
        }
        if (value != CST_NONE && c->nodes[value].kind == K_IDENTIFIER) {
            const char *p = param_for(a, s.fn, index, kw);
            if (p && changes_param(a, s.fn, p)) vec_push(a->cx, &a->in_place, (void *)(uintptr_t)value);
        }
        if (!kw) index++;
    }
}

static void list_in_place(RwState *a, uint32_t n) {
    const CstNode *node = &a->c->nodes[n];
    uint32_t r = in_place_receiver(a->c, n);
    if (r != CST_NONE && !into_container(a, n, r)) vec_push(a->cx, &a->in_place, (void *)(uintptr_t)n);
    if (node->kind == K_CALL) list_changing_call(a, n);
    if ((node->kind == K_ASSIGNMENT || node->kind == K_AUG_ASSIGNMENT) &&
        cst_field(a->c, n, F_LEFT) != CST_NONE &&
        a->c->nodes[cst_field(a->c, n, F_LEFT)].kind == K_IDENTIFIER)
        vec_push(a->cx, &a->bindings, (void *)(uintptr_t)n);
    for (uint32_t k = 0; k < node->nchildren; k++) list_in_place(a, node->first_child + k);
}

// The in-place changes in the function (tensor methods `name.m_(...)`, item assignments),
// listed once per function.
static const PtrVec *in_place_changes(RwState *a) {
    if (!a->in_place_listed) {
        list_in_place(a, a->body);
        a->in_place_listed = true;
    }
    return &a->in_place;
}

// Whether in-place change `change` changes local `name` (len bytes).
static bool changes_name(RwState *a, uint32_t change, const char *name, size_t len) {
    size_t rlen;
    uint32_t recv = a->c->nodes[change].kind == K_IDENTIFIER ? change : in_place_receiver(a->c, change);
    const char *r = cst_text(a->c, recv, &rlen);
    return rlen == len && memcmp(r, name, len) == 0;
}

static uint32_t block_of(const Cst *c, uint32_t n) {
    while (n != CST_NONE && c->nodes[n].kind != K_BLOCK && c->nodes[n].kind != K_MODULE)
        n = c->nodes[n].parent;
    return n;
}

// Another assignment to the name that runs on every path from `binding` to the later
// `change`: after `binding` in the text, before `change`, in a block that holds `change`
// (so not in a branch `change` may skip). `binding`'s value is gone by then.
static bool rebound_between(RwState *a, uint32_t binding, uint32_t change, const char *name, size_t len) {
    const Cst *c = a->c;
    for (size_t i = 0; i < a->bindings.len; i++) {
        uint32_t k = (uint32_t)(uintptr_t)a->bindings.items[i];
        if (c->nodes[k].start <= c->nodes[binding].end || c->nodes[k].start >= c->nodes[change].start ||
            cst_within(c, change, k))
            continue;
        size_t klen;
        const char *kn = cst_text(c, cst_field(c, k, F_LEFT), &klen);
        if (klen == len && memcmp(kn, name, len) == 0 && cst_within(c, change, block_of(c, k))) return true;
    }
    return false;
}

// Whether in-place change `change` of local `name` may run while the value the statement
// or assignment `binding` bound is still the name's: the change is not part of `binding`,
// and comes after it without a rebinding on the way, or a loop around both runs it again.
static bool runs_after(RwState *a, uint32_t binding, uint32_t change, const char *name, size_t len) {
    const Cst *c = a->c;
    if (cst_within(c, change, binding)) return false;  // `m = m.masked_fill_(...)`: before the binding
    if (c->nodes[change].start > c->nodes[binding].start)
        return !rebound_between(a, binding, change, name, len);
    for (uint32_t l = c->nodes[change].parent; l != CST_NONE; l = c->nodes[l].parent)
        if ((c->nodes[l].kind == K_FOR || c->nodes[l].kind == K_WHILE) && cst_within(c, binding, l))
            return true;
    return false;
}

// The first change in place of local `name` (len bytes) that may run while the value bound
// by `binding` (an assignment or its statement) is still the name's, or CST_NONE;
// `binding` CST_NONE: the first change of the name at all.
uint32_t rw_in_place_after(RwState *a, uint32_t binding, const char *name, size_t len) {
    const PtrVec *changes = in_place_changes(a);
    for (size_t i = 0; i < changes->len; i++) {
        uint32_t change = (uint32_t)(uintptr_t)changes->items[i];
        if (changes_name(a, change, name, len) &&
            (binding == CST_NONE || runs_after(a, binding, change, name, len)))
            return change;
    }
    return CST_NONE;
}

// `v = op(...)` (or `v op= x`) with v changed in place after it (`v.index_add_(...)`,
// `v.masked_fill_(...)`, `v[i] = x`): an accumulator or a buffer being filled. Its output
// quantizer would make v a QuantizedTensor, which cannot be changed in place, on a grid set
// by its initial values (zeros); the op stays float. Returns the in-place change, or
// CST_NONE.
static uint32_t changed_in_place(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    uint32_t left = CST_NONE, binding = n;
    if (c->nodes[n].kind == K_AUG_ASSIGNMENT) {  // `v //= 2` is `v = v // 2` (§2.6)
        left = cst_field(c, n, F_LEFT);
    } else {
        uint32_t p = c->nodes[n].parent;
        if (p == CST_NONE || c->nodes[p].kind != K_ASSIGNMENT || cst_field(c, p, F_RIGHT) != n)
            return CST_NONE;
        left = cst_field(c, p, F_LEFT);
        binding = p;
    }
    if (left == CST_NONE || c->nodes[left].kind != K_IDENTIFIER) return CST_NONE;
    size_t len;
    const char *name = cst_text(c, left, &len);
    return rw_in_place_after(a, binding, name, len);
}

// Creates the op's intermediate and output quantizers (§2.1, §3.3 step 1).
static void make_op(RwState *a, uint32_t n) {
    Args args;
    const OpEntry *e = rw_lookup_op(a, n, &args);
    if (!e) return;
    uint32_t changed = e->returns_quantized ? changed_in_place(a, n) : CST_NONE;
    if (changed != CST_NONE) {
        const Cst *c = a->c;
        uint32_t line, col;
        srcfile_linecol(c->file, c->nodes[changed].start, &line, &col);
        diag_at(a->cx, DIAG_NOTE, c->file, c->nodes[n].start, "changed-in-place",
                "this %s stays in float: its result is changed in place on line %u, which a quantized "
                "tensor cannot be",
                c->nodes[n].kind == K_CALL ? "call" : "operation", line);
        return;
    }
    if (args.pos_after_kw) {
        rw_fail(a, n, "positional-after-keyword",
                "a positional argument follows a keyword argument in a quantized call");
        return;
    }
    QOp *op = ARENA_NEW(a->cx, QOp);
    op->entry = e;
    op->node = n;
    op->intermediates = ARENA_ARRAY(a->cx, Quantizer *, e->nintermediates + 1);
    for (size_t i = 0; i < e->nintermediates; i++)
        op->intermediates[i] = rw_new_quantizer(a, e->intermediates[i], NULL);
    if (e->returns_quantized) {
        op->output = rw_new_quantizer(a, optable_canonical_name(e), NULL);
        op->output->tag = QT_OUTPUT;
    }
    nodemap_put(a->cx, &a->cv->op_of, n, op);
    a->cv->nops++;
    rw_mark_dirty(a, n);
}

static void isolate(RwState *a, uint32_t n) {
    TmpVar *t = ARENA_NEW(a->cx, TmpVar);
    t->id = a->ntmp++;
    vec_push(a->cx, &a->cv->tmps, t);
    nodemap_put(a->cx, &a->cv->tmp_of, n, t);
    GenLine *g = ARENA_NEW(a->cx, GenLine);
    g->kind = GEN_TMP;
    g->tmp = t;
    g->node = n;
    vec_push(a->cx, nodemap_vec(a->cx, &a->tmp_lines, a->stmt), g);
    rw_mark_dirty(a, n);
    rw_mark_dirty(a, a->stmt);
}

// --- following calls (§5.1) ---

bool rw_is_scope_boundary(uint32_t kind) {
    return kind == K_LAMBDA || kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_DECORATED_DEF;
}

// A function of the program with source that an assignment `name = value` in the
// subtree n binds to the local `name`, or NULL.
static const FuncInfo *assigned_function(RwState *a, uint32_t n, const char *name) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA) return NULL;
    if (kind == K_ASSIGNMENT) {
        uint32_t left = cst_field(c, n, F_LEFT), right = cst_field(c, n, F_RIGHT);
        if (left != CST_NONE && right != CST_NONE && c->nodes[left].kind == K_IDENTIFIER &&
            cst_text_is(c, left, name) && !is_local_root(a, right)) {
            uint32_t rk = c->nodes[cst_unparen(c, right)].kind;
            if (rk == K_IDENTIFIER || rk == K_ATTRIBUTE) {
                Symbol s = program_resolve(a->cx, a->cv->mod, right);
                if (s.kind == SYM_FUNC && s.fn && !s.fn->owner && !optable_has(a->cx->optable, s.qualname))
                    return s.fn;
            }
        }
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        const FuncInfo *f = assigned_function(a, cst_child(c, n, k), name);
        if (f) return f;
    }
    return NULL;
}

// §5.1: a call through a local that may hold a function ffq would convert
// (`attention_interface = eager_attention_forward`, then maybe a registry's entry)
// is not followed; it is reported as a site left in float.
static void note_indirect_call(RwState *a, uint32_t call, uint32_t f) {
    const Cst *c = a->c;
    if (c->nodes[f].kind != K_IDENTIFIER) return;
    const char *name = cst_strdup(a->cx, c, f);
    const FuncInfo *fn = assigned_function(a, a->body, name);
    if (!fn) return;
    a->cx->stats.float_unresolved++;
    diag_at(a->cx, DIAG_NOTE, c->file, c->nodes[call].start, "indirect-call",
            "'%s' may hold '%s' or another callable chosen at run time; this call is not followed and "
            "stays in float",
            name, fn->name);
}

// §1.3: a call to a base class's method (`super().forward(x)`, `super(C, self).m(x)`,
// `Base.m(self, x)`) keeps its form and runs the base's code as it is: in float, with no
// quantizers. When that code is a method ffq could read (not torch.nn.Module's own), the
// call is reported as a site left in float, so the summary does not say "nothing left in
// float" while a whole base forward is.
static void note_base_call(RwState *a, uint32_t call, const FuncInfo *m) {
    const Cst *c = a->c;
    if (!m || !m->owner || m->kind != FN_INSTANCE || m->property || str_has_prefix(m->name, "__")) return;
    if (torchinfo_is_module_base(m->mod->name)) return;
    a->cx->stats.float_unresolved++;
    uint32_t f = cst_field(c, call, F_FUNCTION);
    diag_at(a->cx, DIAG_NOTE, c->file, c->nodes[call].start, "base-method-call",
            "'%s(...)' runs the base class's %s.%s as it is: ffq keeps calls to a base class's "
            "method (FastForward's form) and does not follow them, so its operations stay in float "
            "without quantizers",
            cst_strdup(a->cx, c, f), m->owner->name, m->name);
}

// A function the module binds in more than one branch (`if hasattr(F, "mish"): def act ...
// else: def act ...`; `try: from fast import act` / `except ImportError: def act ...`): ffq
// cannot tell which one the name is bound to, and converting the def would compute the
// other branch's code. The call keeps the module's function (in
// float) and is reported as a site left in float.
static void note_branch_function(RwState *a, uint32_t call, const FuncInfo *fn, uint32_t other) {
    const Cst *c = a->c;
    uint32_t l1, c1, l2, c2;
    const Cst *fc = fn->mod->cst;
    srcfile_linecol(fc->file, fc->nodes[fn->def].start, &l1, &c1);
    srcfile_linecol(fc->file, fc->nodes[other].start, &l2, &c2);
    a->cx->stats.float_unresolved++;
    diag_at(a->cx, DIAG_NOTE, c->file, c->nodes[call].start, "conditional-function",
            "'%s' is bound more than once under a condition in %s (lines %u and %u); which one it is "
            "is decided when the module runs, so this call is not followed and stays in float",
            fn->name, fn->mod->file->path, l2 < l1 ? l2 : l1, l2 < l1 ? l1 : l2);
}

// §5.1: a free function ffq does not follow, called or passed as a value: an operator of
// the table, a function of an array library other than torch, or of torch's machinery.
static bool never_followed(RwState *a, Symbol s) {
    return optable_has(a->cx->optable, s.qualname) || torchinfo_is_foreign_array_library(s.fn->mod->name) ||
           torchinfo_is_torch_machinery(s.fn->mod->name);
}

// Whether the call's first argument is the instance parameter (`Base.m(self, x)`).
static bool first_arg_is_self(RwState *a, uint32_t call) {
    const Cst *c = a->c;
    uint32_t al = cst_field(c, call, F_ARGUMENTS);
    if (al == CST_NONE || c->nodes[al].kind != K_ARGUMENT_LIST || !cst_named_count(c, al)) return false;
    uint32_t first = cst_named_child(c, al, 0);
    return c->nodes[first].kind == K_IDENTIFIER && cst_text_is(c, first, a->cv->self_name);
}

// `self.<attr>(self, ...)`: an object the module holds (not one of its methods) called with
// the module itself, the strategy form of diffusers' attention processors
// (`self.processor(self, hidden_states, ...)`, the processor chosen and replaceable at run
// time). A submodule is never handed its parent; such an object is not an nn.Module, so
// neither ffq nor quantize_model converts it, and its code (the attention's products and
// softmax) runs in float. Reported as a site left in float, so the summary does not say
// "nothing left in float".
static void note_callable_attribute(RwState *a, uint32_t call, const char *attr) {
    const Cst *c = a->c;
    a->cx->stats.float_unresolved++;
    diag_at(a->cx, DIAG_NOTE, c->file, c->nodes[call].start, "callable-attribute",
            "'%s.%s' is an object the module holds, called with the module itself (a processor or "
            "strategy chosen at run time, not a submodule); ffq does not follow it and quantize_model "
            "does not convert it, so what it computes stays in float without quantizers",
            a->cv->self_name, attr);
}

// The method `name` of a base of `owner` (depth first, as find_method searches), or NULL.
static const FuncInfo *base_method(RwState *a, ClassInfo *owner, const char *name) {
    for (size_t i = 0; owner && i < owner->bases.len; i++) {
        ClassInfo *base = program_base(a->cx, owner, i);
        const FuncInfo *m = base && base != owner ? program_find_method(a->cx, base, name) : NULL;
        if (m) return m;
    }
    return NULL;
}

// The function a call goes to, when ffq follows it: a method of the class
// being generated (self.m(...), cls.m(...), ClassName.m(...), self(...)) or
// a free function of the module that is not in the operator table.
static const FuncInfo *resolve_callee(RwState *a, uint32_t call) {
    const Cst *c = a->c;
    const Conv *cv = a->cv;
    uint32_t f = cst_unparen(c, cst_field(c, call, F_FUNCTION));
    if (f == CST_NONE) return NULL;
    if (c->nodes[f].kind == K_IDENTIFIER && cv->cls && cv->fn->kind == FN_INSTANCE &&
        cst_text_is(c, f, cv->self_name))
        return program_find_method(a->cx, cv->cls, "forward");  // self(...)
    uint32_t obj = c->nodes[f].kind == K_ATTRIBUTE ? cst_unparen(c, cst_field(c, f, F_OBJECT)) : CST_NONE;
    if (obj != CST_NONE && c->nodes[obj].kind == K_CALL && is_super_call(c, obj)) {  // super().m(...)
        if (cv->fn->kind == FN_INSTANCE && cv->fn->owner)
            note_base_call(a, call,
                           base_method(a, cv->fn->owner, cst_strdup(a->cx, c, cst_field(c, f, F_ATTRIBUTE))));
        return NULL;
    }
    bool via_self = obj != CST_NONE && c->nodes[obj].kind == K_IDENTIFIER && cv->cls &&
                    cv->fn->kind != FN_STATICMETHOD && cst_text_is(c, obj, cv->self_name);
    Symbol named = via_self || obj == CST_NONE || is_local_root(a, obj)
                       ? (Symbol){0}
                       : program_resolve(a->cx, cv->mod, obj);
    if (!via_self && !(named.kind == SYM_CLASS && cv->cls && named.cls == cv->cls)) {
        // a free function, here or in another module with source (§5.1)
        if (is_local_root(a, f)) {
            note_indirect_call(a, call, f);
            return NULL;
        }
        Symbol s = program_resolve(a->cx, cv->mod, f);
        if (s.kind == SYM_NONE) {
            const char *missing = program_missing_import(a->cx, cv->mod, f);
            if (missing) a->cx->stats.float_unresolved++;
            if (missing)
                program_warn_missing(a->cx, cv->mod, call,
                                     arena_printf(a->cx, "'%s'", program_dotted_text(a->cx, c, f)), missing);
        }
        if (s.kind == SYM_FUNC && s.fn && s.fn->owner && named.kind == SYM_CLASS && cv->fn->owner &&
            cv->fn->kind == FN_INSTANCE && first_arg_is_self(a, call) &&
            base_method(a, cv->fn->owner, s.fn->name) == s.fn)
            note_base_call(a, call, s.fn);  // Base.m(self, ...)
        if (s.kind != SYM_FUNC || !s.fn || s.fn->owner) return NULL;
        if (never_followed(a, s)) return NULL;
        uint32_t other = program_function_other_binding(s.fn->mod, s.fn);
        if (other != CST_NONE) {
            note_branch_function(a, call, s.fn, other);
            return NULL;
        }
        return s.fn;
    }
    const char *attr = cst_strdup(a->cx, c, cst_field(c, f, F_ATTRIBUTE));
    const FuncInfo *m = program_find_method(a->cx, cv->cls, attr);
    if (via_self && (!m || m->property) && cv->fn->kind == FN_INSTANCE && first_arg_is_self(a, call))
        note_callable_attribute(a, call, attr);
    if (m && !via_self) {  // §1.3: Name.member(...) -> QuantizedName.member(...)
        nodemap_put(a->cx, &a->cv->text_of, obj, arena_printf(a->cx, "Quantized%s", cv->cls->name));
        vec_push(a->cx, &a->cv->class_refs, (void *)(uintptr_t)obj);  // the class's final name: plan.c
        rw_mark_dirty(a, obj);
    }
    return m;
}

// `self.<child>.<method>(...)` (the object an attribute chain from self) where inference
// knows the child is an instance of a class of the program other than this one.
static void note_member_call(RwState *a, uint32_t call) {
    const Cst *c = a->c;
    if (!a->types || !a->cv->cls || a->cv->fn->kind != FN_INSTANCE) return;
    uint32_t f = cst_unparen(c, cst_field(c, call, F_FUNCTION));
    if (f == CST_NONE || c->nodes[f].kind != K_ATTRIBUTE) return;
    uint32_t obj = cst_unparen(c, cst_field(c, f, F_OBJECT));
    if (obj == CST_NONE || c->nodes[obj].kind != K_ATTRIBUTE) return;
    uint32_t root = obj;
    while (root != CST_NONE && c->nodes[root].kind == K_ATTRIBUTE) root = cst_field(c, root, F_OBJECT);
    if (root == CST_NONE || c->nodes[root].kind != K_IDENTIFIER || !cst_text_is(c, root, a->cv->self_name))
        return;
    ClassInfo *cls = types_instance_class(types_of_node(a->types, obj));
    if (!cls || cls == a->cv->cls) return;
    MemberCall *mc = ARENA_NEW(a->cx, MemberCall);
    mc->cls = cls;
    mc->method = cst_strdup(a->cx, c, cst_field(c, f, F_ATTRIBUTE));
    vec_push(a->cx, &a->cv->member_calls, mc);
}

static void note_site(RwState *a, uint32_t call) {
    note_member_call(a, call);
    const FuncInfo *callee = resolve_callee(a, call);
    if (!callee) return;
    CallSite *site = ARENA_NEW(a->cx, CallSite);
    site->node = call;
    site->callee = callee;
    nodemap_put(a->cx, &a->cv->site_of, call, site);
    rw_mark_dirty(a, call);
}

// §5.6: a helper passed as a value (`apply(helper, x)`, handle_torch_function(f, ...)) is
// a call site too: once the helper is generated it is passed as
// functools.partial(quantized_<helper>, <its quantizers>), so that whoever calls it later
// runs the quantized helper with its own quantizers. Only bare names in an argument list
// (positional or keyword value) count; other uses (`helper.__name__`, `fn is helper`) keep
// the float function.
static void note_value_site(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    uint32_t p = c->nodes[n].parent;
    if (p == CST_NONE) return;
    uint32_t pk = c->nodes[p].kind;
    if (!(pk == K_ARGUMENT_LIST || (pk == K_KEYWORD_ARGUMENT && c->nodes[n].field == F_VALUE))) return;
    if (is_local_root(a, n)) return;
    Symbol s = program_resolve(a->cx, (Module *)a->cv->mod, n);
    if (s.kind != SYM_FUNC || !s.fn || s.fn->owner || s.fn->property) return;
    if (never_followed(a, s)) return;
    CallSite *site = ARENA_NEW(a->cx, CallSite);
    site->node = n;
    site->callee = s.fn;
    nodemap_put(a->cx, &a->cv->site_of, n, site);
    rw_mark_dirty(a, n);
}

// §1.3: in an instance method a bare super() becomes super(<Owner>, <self>),
// so code copied into Quantized<Name> keeps its original MRO anchor.
static void anchor_super(RwState *a, uint32_t call) {
    const Cst *c = a->c;
    const FuncInfo *fn = a->cv->fn;
    uint32_t args = cst_field(c, call, F_ARGUMENTS);
    if (fn->kind != FN_INSTANCE || !fn->owner || args == CST_NONE || cst_named_count(c, args) != 0) return;
    nodemap_put(a->cx, &a->cv->text_of, call,
                arena_printf(a->cx, "super(%s, %s)", fn->owner->name, a->cv->self_name));
    rw_mark_dirty(a, call);
}

// Breadth-first order of the call sites (§5.1): statements of a block before
// anything nested in them. An isolated call is the value of its own statement
// `_tmp_N = call`, so it is one level below the statements, as the call of
// `a = h(x)` is: a queue entry `wrap` stands for that statement and queues the
// call when it is reached (`a = h(x)` then `return h(a) + 1` orders h(x) first).
void rw_order_sites(RwState *a) {
    const Cst *c = a->c;
    PtrVec queue = {0}, wrap = {0};
    vec_push(a->cx, &queue, (void *)(uintptr_t)a->body);
    vec_push(a->cx, &wrap, NULL);
    for (size_t i = 0; i < queue.len; i++) {
        uint32_t n = (uint32_t)(uintptr_t)queue.items[i];
        if (wrap.items[i]) {
            vec_push(a->cx, &queue, (void *)(uintptr_t)n);
            vec_push(a->cx, &wrap, NULL);
            continue;
        }
        const CstNode *node = &c->nodes[n];
        if (i > 0 && rw_is_scope_boundary(node->kind)) continue;
        CallSite *site = nodemap_get(&a->cv->site_of, n);
        if (site) vec_push(a->cx, &a->cv->sites, site);
        for (uint32_t k = 0; k < node->nchildren; k++) {
            uint32_t ch = node->first_child + k;
            if (!c->nodes[ch].named) continue;
            PtrVec *lines = node->kind == K_BLOCK ? nodemap_get(&a->tmp_lines, ch) : NULL;
            for (size_t j = 0; lines && j < lines->len; j++) {
                vec_push(a->cx, &queue, (void *)(uintptr_t)((GenLine *)lines->items[j])->node);
                vec_push(a->cx, &wrap, (void *)1);
            }
            if (nodemap_get(&a->cv->tmp_of, ch) && node->kind != K_BLOCK) continue;
            // `x = f()` and `return f()` put f() at the same depth, as a
            // statement-line tree does: the expression_statement level is skipped
            if (c->nodes[ch].kind == K_EXPR_STMT && c->nodes[ch].nchildren > 0) {
                for (uint32_t j = 0; j < c->nodes[ch].nchildren; j++) {
                    uint32_t g = c->nodes[ch].first_child + j;
                    if (c->nodes[g].named && !nodemap_get(&a->cv->tmp_of, g)) {
                        vec_push(a->cx, &queue, (void *)(uintptr_t)g);
                        vec_push(a->cx, &wrap, NULL);
                    }
                }
                continue;
            }
            vec_push(a->cx, &queue, (void *)(uintptr_t)ch);
            vec_push(a->cx, &wrap, NULL);
        }
    }
}

// --- walk 1: candidates ---

static bool is_deferred(uint32_t kind) {  // children may not run, or run many times
    return kind == K_LIST_COMP || kind == K_SET_COMP || kind == K_DICT_COMP || kind == K_GENERATOR ||
           kind == K_CONDITIONAL_EXPR;
}

// Post-order over an expression. `can_isolate`: nested candidates may be
// moved to a temporary before the current statement. `direct`: this node is
// the statement's own value (never isolated itself).
static void visit_expr(RwState *a, uint32_t n, bool can_isolate, bool direct) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if (rw_is_scope_boundary(kind)) return;
    if (kind == K_IDENTIFIER) note_value_site(a, n);
    bool child_iso = can_isolate && !is_deferred(kind);
    uint32_t operands = 0;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t ch = cst_child(c, n, k);
        if (!c->nodes[ch].named) continue;
        bool iso = child_iso;
        if (kind == K_BOOLEAN_OP && c->nodes[ch].field == F_RIGHT) iso = false;
        // `a < b < c` stops after a false comparison: operands after the second may not run
        if (kind == K_COMPARISON && operands++ >= 2) iso = false;
        // `return (op)`, `yield op`, `x = yield op`: the value of a yield is as direct as the yield
        bool ch_direct = direct && (kind == K_PAREN_EXPR || kind == K_YIELD);
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
    // known not to be tensors. RwState call whose own result may be a tensor (a tensor
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
// `x += f(y)` behaves as `x = x + f(y)`: f(y) is nested, the operator is the value.
static void visit_aug_assignment(RwState *a, uint32_t e) {
    const Cst *c = a->c;
    uint32_t left = cst_field(c, e, F_LEFT), right = cst_field(c, e, F_RIGHT);
    if (left != CST_NONE) visit_expr(a, left, true, false);
    if (right != CST_NONE) visit_expr(a, right, true, false);
    uint32_t lk = left == CST_NONE ? K_OTHER : c->nodes[cst_unparen(c, left)].kind;
    bool typed = !a->types || types_is_candidate(a->types, e);  // §7.1: both operands
    if ((lk == K_IDENTIFIER || lk == K_ATTRIBUTE || lk == K_SUBSCRIPT) && typed) make_op(a, e);
}

// Walks the chain a = b = value: targets may hold candidates too (x[f(i)] = v).
static void visit_assignment_chain(RwState *a, uint32_t e) {
    const Cst *c = a->c;
    uint32_t cur = e;
    while (cur != CST_NONE &&
           (c->nodes[cur].kind == K_ASSIGNMENT || c->nodes[cur].kind == K_AUG_ASSIGNMENT)) {
        uint32_t left = cst_field(c, cur, F_LEFT), right = cst_field(c, cur, F_RIGHT);
        uint32_t type = cst_field(c, cur, F_TYPE);
        (void)type;  // annotations are never rewritten
        // a target's expressions run after the value (`y[f(i)] = g(x)` calls g first): moved
        // before the statement they would run before it, so they are rewritten in place
        if (left != CST_NONE) visit_expr(a, left, c->nodes[cur].kind == K_AUG_ASSIGNMENT, false);
        if (right == CST_NONE) break;
        if (c->nodes[right].kind == K_ASSIGNMENT) cur = right;
        else {
            visit_expr(a, right, true, true);
            break;
        }
    }
}

static void visit_simple(RwState *a, uint32_t st) {
    const Cst *c = a->c;
    a->stmt = st;
    uint32_t kind = c->nodes[st].kind;
    if (kind == K_EXPR_STMT) {
        uint32_t e = cst_named_child(c, st, 0);
        if (e == CST_NONE) return;
        if (c->nodes[e].kind == K_AUG_ASSIGNMENT) {
            visit_aug_assignment(a, e);
            return;
        }
        if (c->nodes[e].kind == K_ASSIGNMENT) {
            visit_assignment_chain(a, e);
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
    // an assert's message runs only when its test fails: never moved before the statement
    for (uint32_t k = 0; k < cst_named_count(c, st); k++)
        visit_expr(a, cst_named_child(c, st, k), !(kind == K_ASSERT && k == 1), false);
}

// Compound statements: header expressions are rewritten in place, never isolated.
static void visit_stmt(RwState *a, uint32_t st) {
    const Cst *c = a->c;
    switch (c->nodes[st].kind) {
    case K_COMMENT: return;
    case K_FUNCTION_DEF:
    case K_CLASS_DEF:
    case K_DECORATED_DEF: return;
    case K_IF:
    case K_ELIF:
    case K_ELSE:
    case K_FOR:
    case K_WHILE:
    case K_WITH:
    case K_TRY:
    case K_EXCEPT:
    case K_FINALLY:
    case K_WITH_CLAUSE:
    case K_WITH_ITEM:
    case K_MATCH:
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
            uint32_t ch = cst_child(c, st, k);
            uint32_t kind = c->nodes[ch].kind;
            if (!c->nodes[ch].named || kind == K_COMMENT) continue;
            if (kind == K_BLOCK) rw_visit_block(a, ch);
            else if (kind == K_ELIF || kind == K_ELSE || kind == K_EXCEPT || kind == K_FINALLY ||
                     kind == K_WITH_CLAUSE || kind == K_WITH_ITEM)
                visit_stmt(a, ch);
            else visit_expr(a, ch, false, true);
        }
        return;
    default: visit_simple(a, st); return;
    }
}

void rw_visit_block(RwState *a, uint32_t block) {
    const Cst *c = a->c;
    for (uint32_t k = 0; k < c->nodes[block].nchildren; k++) {
        uint32_t st = cst_child(c, block, k);
        if (c->nodes[st].named) visit_stmt(a, st);
    }
}
