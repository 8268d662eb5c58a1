// types_expr.c: the type of an expression (spec §7): names, attributes,
// calls (builtins, torch, the operator table, helpers and methods of the
// program), operators, displays, module-level values, assignment targets.
// Names, annotations and literals are in types_names.c; a class's instance
// attributes come from types.c through Shared.class_attr.
//
// Every expression evaluated gets its type recorded in the function's node
// -> type map; unknown means "may be a tensor".
#include <stdlib.h>

#include "types_int.h"
#include "format/pystdlib.h"

// ---------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------

static const Type *read_var(Inf *I, const Env *e, uint32_t idx) {
    if (I->pinned[idx]) return TY(TY_UNKNOWN);
    return e->v[idx];
}

// The element type of iterating over a value of type t.
const Type *ty_iter_elem(Inf *I, const Type *t) {
    switch (t->kind) {
    case TY_LIST:
    case TY_SET: return t->elems[0];
    case TY_DICT: return t->elems[0];
    case TY_TUPLE: {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t i = 0; i < t->n; i++) j = types_join(I->L, j, t->elems[i]);
        return t->n ? j : TY(TY_UNKNOWN);
    }
    case TY_STR: return TY(TY_STR);
    case TY_BYTES:
    case TY_RANGE:
    case TY_SIZE: return TY(TY_INT);
    case TY_TENSOR: return TY(TY_TENSOR);
    case TY_UNION: {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t i = 0; i < t->n; i++) {
            if (t->elems[i]->kind == TY_NONE) continue;  // iterating None fails
            j = types_join(I->L, j, ty_iter_elem(I, t->elems[i]));
        }
        return j->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : j;
    }
    default: return TY(TY_UNKNOWN);
    }
}

// Type of t[index]
static const Type *subscript_type(Inf *I, const Type *t, const Cst *c, uint32_t idx, const Type *it) {
    bool is_slice = idx != CST_NONE && c->nodes[idx].kind == K_SLICE;
    switch (t->kind) {
    case TY_TENSOR: return TY(TY_TENSOR);
    case TY_SIZE:
        if (is_slice) return TY(TY_SIZE);
        return it->kind == TY_INT || it->kind == TY_BOOL ? TY(TY_INT) : TY(TY_UNKNOWN);
    case TY_LIST: return is_slice ? t : t->elems[0];
    case TY_DICT: return t->elems[1];
    case TY_STR: return TY(TY_STR);
    case TY_BYTES: return is_slice ? t : TY(TY_INT);
    case TY_RANGE: return is_slice ? t : TY(TY_INT);
    case TY_TUPLE: {
        if (is_slice) return types_tuple_of(I->L, ty_iter_elem(I, t));
        if (!t->var && idx != CST_NONE) {
            const Type *lt = ty_literal_type(I, c, idx);
            if (lt->kind == TY_INT && (c->nodes[idx].kind == K_INTEGER || c->nodes[idx].kind == K_UNARY_OP)) {
                char *s = cst_strdup(I->cx, c, idx), *end;
                long v = strtol(s[0] == '-' ? s + 1 : s, &end, 0);
                if (*end == '\0') {
                    if (s[0] == '-') v = (long)t->n - v;
                    if (v >= 0 && v < (long)t->n) return t->elems[v];
                }
            }
        }
        return ty_iter_elem(I, t);
    }
    case TY_UNION: {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t i = 0; i < t->n; i++) {
            if (t->elems[i]->kind == TY_NONE) continue;
            j = types_join(I->L, j, subscript_type(I, t->elems[i], c, idx, it));
        }
        return j->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : j;
    }
    default: return TY(TY_UNKNOWN);
    }
}

static int num_rank(TypeKind k) {
    switch (k) {
    case TY_BOOL: return 1;
    case TY_INT: return 2;
    case TY_FLOAT: return 3;
    case TY_COMPLEX: return 4;
    default: return 0;
    }
}

// The result of a op b on two numbers whose wider numeric rank (num_rank) is r.
static const Type *num_arith(Inf *I, const char *op, int r) {
    if (strcmp(op, "/") == 0) return TY(r == 4 ? TY_COMPLEX : TY_FLOAT);
    if (strcmp(op, "&") == 0 || strcmp(op, "|") == 0 || strcmp(op, "^") == 0) {
        if (r == 1) return TY(TY_BOOL);
        return r == 2 ? TY(TY_INT) : TY(TY_UNKNOWN);
    }
    if (strcmp(op, "<<") == 0 || strcmp(op, ">>") == 0) return r <= 2 ? TY(TY_INT) : TY(TY_UNKNOWN);
    if (strcmp(op, "@") == 0) return TY(TY_UNKNOWN);
    if (strcmp(op, "**") == 0 && r <= 2) return types_join(I->L, TY(TY_INT), TY(TY_FLOAT));
    if (r == 1) return TY(TY_INT);
    return TY(r == 2 ? TY_INT : r == 3 ? TY_FLOAT : TY_COMPLEX);
}

static const Type *arith1(Inf *I, const char *op, const Type *a, const Type *b) {
    // `"%s" % x` formats whatever x is (a tensor too): str.__mod__ runs first and succeeds
    if ((a->kind == TY_STR || a->kind == TY_BYTES) && strcmp(op, "%") == 0)
        return a->kind == TY_STR ? TY(TY_STR) : TY(TY_BYTES);
    // a list or tuple repeated or extended stays one, whatever the other operand (anything
    // else is a TypeError): `[w] * (n // w)`, `outs + extra`
    bool add = strcmp(op, "+") == 0, mul = strcmp(op, "*") == 0;
    if ((a->kind == TY_LIST || a->kind == TY_TUPLE) &&
        (mul || (add && b->kind != a->kind && b->kind != TY_SIZE)))
        return a->kind == TY_LIST ? a : types_tuple_of(I->L, ty_iter_elem(I, a));
    if ((b->kind == TY_LIST || b->kind == TY_TUPLE) && mul)
        return b->kind == TY_LIST ? b : types_tuple_of(I->L, ty_iter_elem(I, b));
    if (a->kind == TY_BOTTOM || a->kind == TY_UNKNOWN || b->kind == TY_BOTTOM || b->kind == TY_UNKNOWN)
        return TY(TY_UNKNOWN);
    if (a->kind == TY_TENSOR || b->kind == TY_TENSOR) return TY(TY_TENSOR);
    int ra = num_rank(a->kind), rb = num_rank(b->kind);
    if (ra && rb) return num_arith(I, op, ra > rb ? ra : rb);
    if (a->kind == TY_STR && (add || strcmp(op, "%") == 0)) return TY(TY_STR);
    if (((a->kind == TY_STR || a->kind == TY_BYTES) && rb == 2 && mul) ||
        (b->kind == TY_STR && ra == 2 && mul))
        return a->kind == TY_STR || b->kind == TY_STR ? TY(TY_STR) : TY(TY_BYTES);
    if (a->kind == TY_BYTES && b->kind == TY_BYTES && add) return TY(TY_BYTES);
    if (a->kind == TY_LIST && b->kind == TY_LIST && add) return types_join(I->L, a, b);
    if ((a->kind == TY_SIZE || a->kind == TY_TUPLE) && (b->kind == TY_SIZE || b->kind == TY_TUPLE) && add) {
        if (a->kind == TY_SIZE) return TY(TY_SIZE);  // torch.Size.__add__ keeps a Size
        if (b->kind == TY_SIZE) return types_tuple_of(I->L, types_join(I->L, ty_iter_elem(I, a), TY(TY_INT)));
        if (!a->var && !b->var && a->n + b->n <= TUPLE_MAX) {
            const Type *e[TUPLE_MAX];
            if (a->n) memcpy(e, a->elems, sizeof *e * a->n);  // `() + t`: an empty tuple has no elems
            if (b->n) memcpy(e + a->n, b->elems, sizeof *e * b->n);
            return types_tuple(I->L, e, a->n + b->n);
        }
        return types_tuple_of(I->L, types_join(I->L, ty_iter_elem(I, a), ty_iter_elem(I, b)));
    }
    if ((a->kind == TY_SIZE && (rb == 2 || rb == 1) && mul)) return TY(TY_SIZE);
    if ((a->kind == TY_SET && b->kind == TY_SET) &&
        (strcmp(op, "|") == 0 || strcmp(op, "&") == 0 || strcmp(op, "-") == 0 || strcmp(op, "^") == 0))
        return types_join(I->L, a, b);
    if (a->kind == TY_DICT && b->kind == TY_DICT && strcmp(op, "|") == 0) return types_join(I->L, a, b);
    return TY(TY_UNKNOWN);  // instances (user operators), None (an error), ...
}

// A value of one of Python's or torch's own non-tensor types (no user operator can apply).
static bool builtin_value(const Type *t) {
    switch (t->kind) {
    case TY_BOOL:
    case TY_INT:
    case TY_FLOAT:
    case TY_COMPLEX:
    case TY_STR:
    case TY_BYTES:
    case TY_NONE:
    case TY_SIZE:
    case TY_DTYPE:
    case TY_DEVICE:
    case TY_RANGE:
    case TY_SLICE:
    case TY_LIST:
    case TY_SET:
    case TY_TUPLE:
    case TY_DICT: return true;
    default: return false;
    }
}

const Type *ty_arith(Inf *I, const char *op, const Type *a, const Type *b) {
    if (a->kind == TY_UNION || b->kind == TY_UNION) {
        const Type *j = TY(TY_BOTTOM);
        const Type *const *as = a->kind == TY_UNION ? a->elems : &a;
        const Type *const *bs = b->kind == TY_UNION ? b->elems : &b;
        uint32_t na = a->kind == TY_UNION ? a->n : 1, nb = b->kind == TY_UNION ? b->n : 1;
        for (uint32_t i = 0; i < na; i++)
            for (uint32_t k = 0; k < nb; k++) {
                if (as[i]->kind == TY_NONE || bs[k]->kind == TY_NONE) continue;  // a TypeError
                const Type *r = arith1(I, op, as[i], bs[k]);
                // two of Python's own types arith1 has no result for: a TypeError too (the
                // list or tuple member of `axis: int | list[int]` in `axis %= x.ndim`)
                if (r->kind == TY_UNKNOWN && builtin_value(as[i]) && builtin_value(bs[k])) continue;
                j = types_join(I->L, j, r);
            }
        return j->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : j;
    }
    return arith1(I, op, a, b);
}

static const Type *unary_type(Inf *I, const char *op, const Type *a) {
    if (a->kind == TY_UNION) {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t i = 0; i < a->n; i++) j = types_join(I->L, j, unary_type(I, op, a->elems[i]));
        return j;
    }
    if (a->kind == TY_TENSOR) return a;
    int r = num_rank(a->kind);
    if (!r) return TY(TY_UNKNOWN);
    if (strcmp(op, "~") == 0) return r <= 2 ? TY(TY_INT) : TY(TY_UNKNOWN);
    return r == 1 ? TY(TY_INT) : a;
}

// Evaluate the arguments of a call; fills the positional ones' types.
typedef struct CallArgs {
    const Type *pos[CALL_ARGS_MAX];
    uint32_t pos_nodes[CALL_ARGS_MAX];
    size_t npos;
    const char *kwnames[CALL_ARGS_MAX];
    size_t nkw;
    bool splat, kwsplat;
} CallArgs;

static void eval_args(Inf *I, Env *e, uint32_t call, CallArgs *ca) {
    const Cst *c = I->c;
    memset(ca, 0, sizeof *ca);
    uint32_t al = cst_field(c, call, F_ARGUMENTS);
    if (al == CST_NONE) return;
    if (c->nodes[al].kind != K_ARGUMENT_LIST) {  // f(x for x in y)
        ca->pos[0] = ty_ev(I, e, al);
        ca->pos_nodes[0] = al;
        ca->npos = 1;
        return;
    }
    for (uint32_t k = 0; k < c->nodes[al].nchildren; k++) {
        uint32_t a = c->nodes[al].first_child + k;
        if (!c->nodes[a].named || c->nodes[a].kind == K_COMMENT) continue;
        uint32_t kind = c->nodes[a].kind;
        if (kind == K_KEYWORD_ARGUMENT) {
            ty_ev(I, e, cst_field(c, a, F_VALUE));
            if (ca->nkw < CALL_ARGS_MAX)
                ca->kwnames[ca->nkw++] = cst_strdup(I->cx, c, cst_field(c, a, F_NAME));
        } else if (kind == K_DICT_SPLAT) {
            ty_ev(I, e, a);
            ca->kwsplat = true;
        } else {
            const Type *t = ty_ev(I, e, a);
            if (kind == K_LIST_SPLAT) ca->splat = true;
            if (ca->npos < CALL_ARGS_MAX) {
                ca->pos_nodes[ca->npos] = a;
                ca->pos[ca->npos++] = t;
            } else ca->npos++;
        }
    }
}

static const Type *arg0(const CallArgs *ca, Inf *I) { return ca->npos ? ca->pos[0] : TY(TY_UNKNOWN); }

// The result of builtin b called with a *splat argument (the count is unknown).
static const Type *builtin_splat(Inf *I, const char *b) {
    if (!strcmp(b, "len") || !strcmp(b, "hash") || !strcmp(b, "id")) return TY(TY_INT);
    if (!strcmp(b, "isinstance") || !strcmp(b, "hasattr") || !strcmp(b, "any") || !strcmp(b, "all"))
        return TY(TY_BOOL);
    return TY(TY_UNKNOWN);
}

// The fixed result of builtin b whatever its arguments; NULL when b's result depends on them.
static const Type *builtin_fixed(Inf *I, const char *b) {
    static const struct {
        const char *name;
        TypeKind k;
    } simple[] = {
        {"int", TY_INT},         {"float", TY_FLOAT},     {"bool", TY_BOOL},     {"complex", TY_COMPLEX},
        {"str", TY_STR},         {"repr", TY_STR},        {"format", TY_STR},    {"chr", TY_STR},
        {"bytes", TY_BYTES},     {"bytearray", TY_BYTES}, {"len", TY_INT},       {"hash", TY_INT},
        {"id", TY_INT},          {"ord", TY_INT},         {"range", TY_RANGE},   {"isinstance", TY_BOOL},
        {"issubclass", TY_BOOL}, {"hasattr", TY_BOOL},    {"callable", TY_BOOL}, {"any", TY_BOOL},
        {"all", TY_BOOL},        {"print", TY_NONE},      {"setattr", TY_NONE},  {"slice", TY_SLICE},
        {"type", TY_OBJECT},     {"object", TY_OBJECT},   {"map", TY_UNKNOWN},   {"getattr", TY_UNKNOWN},
        {"next", TY_UNKNOWN},    {"super", TY_OBJECT},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(b, simple[i].name) == 0) {
            return TY(simple[i].k);
        }
    return NULL;
}

// The container a container builtin (list, tuple, set, dict, enumerate, zip, ...) builds; NULL for other
// names.
static const Type *builtin_container(Inf *I, const char *b, const CallArgs *ca, const Type *a) {
    if (!strcmp(b, "list") || !strcmp(b, "sorted") || !strcmp(b, "reversed") || !strcmp(b, "iter") ||
        !strcmp(b, "filter"))
        return types_list(I->L, ca->npos ? ty_iter_elem(I, ca->pos[ca->npos - 1]) : TY(TY_BOTTOM));
    if (!strcmp(b, "tuple")) {
        if (!ca->npos) return types_tuple(I->L, NULL, 0);
        if (a->kind == TY_TUPLE) return a;
        return types_tuple_of(I->L, ty_iter_elem(I, a));
    }
    if (!strcmp(b, "set") || !strcmp(b, "frozenset"))
        return types_set(I->L, ca->npos ? ty_iter_elem(I, a) : TY(TY_BOTTOM));
    if (!strcmp(b, "dict")) {
        if (!ca->npos)
            return types_dict(I->L, ca->nkw ? TY(TY_STR) : TY(TY_BOTTOM),
                              ca->nkw ? TY(TY_UNKNOWN) : TY(TY_BOTTOM));
        if (a->kind == TY_DICT) return a;
        return types_dict(I->L, TY(TY_UNKNOWN), TY(TY_UNKNOWN));
    }
    if (!strcmp(b, "enumerate")) {
        const Type *p[2] = {TY(TY_INT), ty_iter_elem(I, a)};
        return types_list(I->L, types_tuple(I->L, p, 2));
    }
    if (!strcmp(b, "zip")) {
        const Type *p[CALL_ARGS_MAX];
        size_t n = ca->npos < CALL_ARGS_MAX ? ca->npos : CALL_ARGS_MAX;
        for (size_t i = 0; i < n; i++) p[i] = ty_iter_elem(I, ca->pos[i]);
        return types_list(I->L, types_tuple(I->L, p, n));
    }
    return NULL;
}

// The result of a numeric builtin (abs, round, min, max, sum, pow, divmod); NULL for other names.
static const Type *builtin_numeric(Inf *I, const char *b, const CallArgs *ca, const Type *a) {
    if (!strcmp(b, "abs")) {
        if (a->kind == TY_TENSOR || num_rank(a->kind) >= 2) return a;
        return num_rank(a->kind) == 1 ? TY(TY_INT) : TY(TY_UNKNOWN);
    }
    if (!strcmp(b, "round")) {
        if (num_rank(a->kind) >= 1 && num_rank(a->kind) <= 3) return ca->npos >= 2 ? a : TY(TY_INT);
        return TY(TY_UNKNOWN);
    }
    if (!strcmp(b, "min") || !strcmp(b, "max")) {
        if (ca->npos == 1) return ty_iter_elem(I, a);
        const Type *j = TY(TY_BOTTOM);
        for (size_t i = 0; i < ca->npos && i < CALL_ARGS_MAX; i++) j = types_join(I->L, j, ca->pos[i]);
        return j;
    }
    if (!strcmp(b, "sum")) {
        if (!ca->npos) return TY(TY_UNKNOWN);
        const Type *el = ty_iter_elem(I, a);
        const Type *st = ca->npos > 1 ? ca->pos[1] : TY(TY_INT);
        if (el->kind == TY_BOTTOM) return st;
        return ty_arith(I, "+", st, el);
    }
    if (!strcmp(b, "pow")) return ca->npos >= 2 ? ty_arith(I, "**", ca->pos[0], ca->pos[1]) : TY(TY_UNKNOWN);
    if (!strcmp(b, "divmod")) {
        if (ca->npos < 2) return TY(TY_UNKNOWN);
        const Type *p[2] = {ty_arith(I, "//", ca->pos[0], ca->pos[1]),
                            ty_arith(I, "%", ca->pos[0], ca->pos[1])};
        return types_tuple(I->L, p, 2);
    }
    return NULL;
}

static const Type *builtin_call(Inf *I, const char *b, const CallArgs *ca) {
    const Type *a = arg0(ca, I);
    if (ca->splat) return builtin_splat(I, b);
    const Type *t = builtin_fixed(I, b);
    if (!t) t = builtin_container(I, b, ca, a);
    if (!t) t = builtin_numeric(I, b, ca, a);
    return t ? t : TY(TY_UNKNOWN);
}

static bool class_is_tensor(Inf *I, ClassInfo *ci, int depth) {
    if (!ci || depth > CLASS_DEPTH_MAX) return false;
    if (ci->mod && torchinfo_is_tensor_class(arena_printf(I->cx, "%s.%s", ci->mod->name, ci->name)))
        return true;
    for (size_t i = 0; i < ci->bases.len; i++) {
        if (torchinfo_is_tensor_class(VEC_AT(ci->bases, const char, i))) return true;
        ClassInfo *b = program_base(I->cx, ci, i);
        if (b && b != ci && class_is_tensor(I, b, depth + 1)) return true;
    }
    return false;
}

static const Type *instance_of(Inf *I, ClassInfo *ci, const char *q) {
    if (class_is_tensor(I, ci, 0)) return TY(TY_TENSOR);
    return types_instance(I->L, q, ci);
}

// Is q `prefix` followed by one name (no further dot)?
static bool direct_member(const char *q, const char *prefix) {
    size_t pl = strlen(prefix), ql = strlen(q);
    return ql > pl && memcmp(q, prefix, pl) == 0 && !memchr(q + pl, '.', ql - pl);
}

// The type a table op call returns: a tensor when the selected entry returns a quantized value,
// unknown for any other entry; NULL when no entry fits the call.
static const Type *table_op_call(Inf *I, const OpTable *tab, const char *q, const CallArgs *ca) {
    const OpEntry *en = optable_select(tab, q, ca->npos, ca->kwnames, ca->nkw);
    if (en && en->returns_quantized) return TY(TY_TENSOR);
    if (en) return TY(TY_UNKNOWN);
    return NULL;
}

// The result of math.<n>(...): the standard library computes no tensors.
static const Type *math_call(Inf *I, const char *n) {
    static const char *const ints[] = {"floor",     "ceil", "trunc", "comb",  "perm",
                                       "factorial", "gcd",  "lcm",   "isqrt", NULL};
    static const char *const bools[] = {"isnan", "isinf", "isfinite", "isclose", NULL};
    if (str_in(n, ints)) return TY(TY_INT);
    if (str_in(n, bools)) return TY(TY_BOOL);
    return TY(TY_FLOAT);
}

// The result of torch.<n>(...) for the functions known by name; NULL for the others.
static const Type *torch_member_call(Inf *I, const char *n) {
    if (str_in(n, torchinfo_tensor_fns)) return TY(TY_TENSOR);
    if (str_in(n, torchinfo_tuple_fns)) return types_tuple_of(I->L, TY(TY_TENSOR));
    if (str_in(n, torchinfo_bool_fns)) return TY(TY_BOOL);
    if (!strcmp(n, "numel")) return TY(TY_INT);
    if (!strcmp(n, "Size")) return TY(TY_SIZE);
    if (!strcmp(n, "device")) return TY(TY_DEVICE);
    if (!strcmp(n, "get_default_dtype") || !strcmp(n, "promote_types") || !strcmp(n, "result_type"))
        return TY(TY_DTYPE);
    if (!strcmp(n, "no_grad") || !strcmp(n, "enable_grad") || !strcmp(n, "inference_mode") ||
        !strcmp(n, "finfo") || !strcmp(n, "iinfo") || !strcmp(n, "set_grad_enabled") ||
        !strcmp(n, "autocast"))
        return TY(TY_OBJECT);
    if (!strcmp(n, "_assert") || !strcmp(n, "manual_seed")) return TY(TY_OBJECT);
    return NULL;
}

// The result of torch.nn.functional.<n>(...): a tensor, unknown with return_indices (a tuple);
// NULL for the helpers that compute no tensor.
static const Type *functional_call(Inf *I, const char *n, const CallArgs *ca) {
    static const char *const not_tensor[] = {"multi_head_attention_forward",
                                             "has_torch_function",
                                             "handle_torch_function",
                                             "_in_projection_packed",
                                             "_canonical_mask",
                                             "_none_or_dtype",
                                             NULL};
    if (str_in(n, not_tensor)) return NULL;
    for (size_t i = 0; i < ca->nkw; i++)
        if (!strcmp(ca->kwnames[i], "return_indices")) return TY(TY_UNKNOWN);
    return TY(TY_TENSOR);
}

// The result of the few library calls whose value is a fixed bool or None; NULL for others.
static const Type *fixed_library_call(Inf *I, const char *q) {
    if (!strcmp(q, "torch.jit.is_scripting") || !strcmp(q, "torch.jit.is_tracing") ||
        !strcmp(q, "torch.is_grad_enabled") || !strcmp(q, "torch.cuda.is_available") ||
        !strcmp(q, "torch.compiler.is_compiling") || !strcmp(q, "torch._C._get_tracing_state"))
        return TY(TY_BOOL);
    if (!strcmp(q, "warnings.warn") || !strcmp(q, "torch._assert") ||
        !strcmp(q, "torch._C._log_api_usage_once"))
        return TY(TY_NONE);
    return NULL;
}

// An instance of torch.nn.<Class> when q names a capitalised torch.nn member; NULL otherwise.
static const Type *nn_class_instance(Inf *I, const char *q) {
    if (!str_has_prefix(q, "torch.nn.")) return NULL;
    const char *t = strrchr(q, '.') + 1;
    if (t[0] >= 'A' && t[0] <= 'Z') return types_instance(I->L, q, NULL);
    return NULL;
}

// A call to q typed through what fnode resolves to in the program (re-exported table op, user
// function or class, or an unresolved torch.nn class).
static const Type *resolved_call(Inf *I, uint32_t fnode, const char *q, const CallArgs *ca) {
    const OpTable *tab = I->cx->optable;
    Symbol s = program_resolve(I->cx, I->mod, fnode);
    if (tab && (s.kind == SYM_FUNC || s.kind == SYM_NONE) && s.qualname && strcmp(s.qualname, q) != 0 &&
        optable_has(tab, s.qualname)) {  // a re-export of a table op
        const Type *t = table_op_call(I, tab, s.qualname, ca);
        if (t) return t;
    }
    if (s.kind == SYM_FUNC && s.fn) return ty_func_return(I, s.fn);
    if (s.kind == SYM_CLASS && s.cls) return instance_of(I, s.cls, s.qualname ? s.qualname : q);
    if (s.kind == SYM_NONE || s.kind == SYM_EXTERN) {
        const Type *t = nn_class_instance(I, q);  // torch.nn.Linear without torch sources
        if (t) return t;
    }
    return TY(TY_UNKNOWN);
}

// A call to the callable with canonical name q (a chain not rooted at a local).
static const Type *qualified_call(Inf *I, uint32_t fnode, const char *q, const CallArgs *ca) {
    const OpTable *tab = I->cx->optable;
    const Type *t = tab && optable_has(tab, q) ? table_op_call(I, tab, q, ca) : NULL;
    if (t) return t;
    if (torchinfo_is_tensor_class(q)) return TY(TY_TENSOR);
    if (direct_member(q, "math.")) return math_call(I, q + 5);
    if (strchr(q, '.') && imports_is_stdlib(arena_strndup(I->cx, q, (size_t)(strchr(q, '.') - q))))
        return TY(TY_OBJECT);
    if (direct_member(q, "torch.") && (t = torch_member_call(I, q + 6))) return t;
    if (direct_member(q, "torch.nn.functional.") && (t = functional_call(I, q + 20, ca))) return t;
    if (str_has_prefix(q, "torch.nn.init.")) return TY(TY_TENSOR);
    if ((t = fixed_library_call(I, q))) return t;
    if (torchinfo_is_foreign_array_library(q)) return TY(TY_OBJECT);  // numpy arrays, PIL images, ...
    if (torchinfo_is_opaque_library(q)) {                             // torch.nn.Linear(...)
        t = nn_class_instance(I, q);
        return t ? t : TY(TY_UNKNOWN);
    }
    return resolved_call(I, fnode, q, ca);
}

// A method call recv.name(...) on a value of type rt.
// Tensor methods (x.view(...), x.size(), x.item(), ...) on a tensor or a
// value that may be one.
static const Type *tensor_method(Inf *I, const Type *rt, const char *name, const CallArgs *ca) {
    bool tensor = rt->kind == TY_TENSOR;
    if (!strcmp(name, "size")) return ca->npos == 0 && !ca->splat && !ca->nkw ? TY(TY_SIZE) : TY(TY_INT);
    if (str_in(name, torchinfo_tensor_int_methods)) return TY(TY_INT);
    if (!strcmp(name, "item")) {
        const Type *p[3] = {TY(TY_INT), TY(TY_FLOAT), TY(TY_BOOL)};
        return types_join(I->L, types_join(I->L, p[0], p[1]), p[2]);
    }
    if (!tensor) return TY(TY_UNKNOWN);
    if (!strcmp(name, "stride")) return ca->npos ? TY(TY_INT) : types_tuple_of(I->L, TY(TY_INT));
    if (str_in(name, torchinfo_tensor_bool_methods)) return TY(TY_BOOL);
    if (str_in(name, torchinfo_tensor_tuple_methods)) return types_tuple_of(I->L, TY(TY_TENSOR));
    if (!strcmp(name, "tolist")) return TY(TY_UNKNOWN);
    if ((!strcmp(name, "max") || !strcmp(name, "min") || !strcmp(name, "sort") || !strcmp(name, "topk") ||
         !strcmp(name, "median") || !strcmp(name, "mode") || !strcmp(name, "kthvalue")) &&
        (ca->npos || ca->nkw || !strcmp(name, "sort") || !strcmp(name, "topk")))
        return TY(TY_UNKNOWN);  // (values, indices)
    if (!strcmp(name, "max") || !strcmp(name, "min")) return TY(TY_TENSOR);
    if (str_in(name, torchinfo_tensor_methods)) return TY(TY_TENSOR);
    return TY(TY_UNKNOWN);
}

// The result of the str method name.
static const Type *str_method(Inf *I, const char *name) {
    static const char *const strs[] = {"format", "join",    "lower",        "upper",        "strip", "lstrip",
                                       "rstrip", "replace", "capitalize",   "title",        "zfill", "ljust",
                                       "rjust",  "center",  "removeprefix", "removesuffix", NULL};
    static const char *const bools[] = {"startswith", "endswith", "isdigit", "isalpha",      "isalnum",
                                        "isspace",    "isupper",  "islower", "isidentifier", NULL};
    if (str_in(name, strs)) return TY(TY_STR);
    if (str_in(name, bools)) return TY(TY_BOOL);
    if (!strcmp(name, "split") || !strcmp(name, "rsplit") || !strcmp(name, "splitlines"))
        return types_list(I->L, TY(TY_STR));
    if (!strcmp(name, "find") || !strcmp(name, "index") || !strcmp(name, "count") || !strcmp(name, "rfind"))
        return TY(TY_INT);
    if (!strcmp(name, "encode")) return TY(TY_BYTES);
    return TY(TY_UNKNOWN);
}

// The result of the list method name on a list of type rt.
static const Type *list_method(Inf *I, const Type *rt, const char *name) {
    if (!strcmp(name, "index") || !strcmp(name, "count")) return TY(TY_INT);
    if (!strcmp(name, "pop")) return rt->elems[0];
    if (!strcmp(name, "copy")) return rt;
    if (!strcmp(name, "append") || !strcmp(name, "extend") || !strcmp(name, "insert") ||
        !strcmp(name, "sort") || !strcmp(name, "reverse") || !strcmp(name, "clear") ||
        !strcmp(name, "remove"))
        return TY(TY_NONE);
    return TY(TY_UNKNOWN);
}

// The result of the dict method name on a dict of type rt.
static const Type *dict_method(Inf *I, const Type *rt, const char *name, const CallArgs *ca) {
    const Type *k = rt->elems[0], *v = rt->elems[1];
    if (!strcmp(name, "keys")) return types_list(I->L, k);
    if (!strcmp(name, "values")) return types_list(I->L, v);
    if (!strcmp(name, "items")) {
        const Type *p[2] = {k, v};
        return types_list(I->L, types_tuple(I->L, p, 2));
    }
    if (!strcmp(name, "get"))
        return ca->npos >= 2 ? types_join(I->L, v, ca->pos[1]) : types_join(I->L, v, TY(TY_NONE));
    if (!strcmp(name, "pop")) return ca->npos >= 2 ? types_join(I->L, v, ca->pos[1]) : v;
    if (!strcmp(name, "copy")) return rt;
    return TY(TY_UNKNOWN);
}

static const Type *method_call(Inf *I, const Type *rt, const char *name, const CallArgs *ca) {
    switch (rt->kind) {
    case TY_TENSOR:
    case TY_UNKNOWN:
    case TY_BOTTOM: return tensor_method(I, rt, name, ca);
    case TY_SIZE:
        if (!strcmp(name, "numel") || !strcmp(name, "index") || !strcmp(name, "count")) return TY(TY_INT);
        return TY(TY_UNKNOWN);
    case TY_STR: return str_method(I, name);
    case TY_LIST: return list_method(I, rt, name);
    case TY_TUPLE:
        if (!strcmp(name, "index") || !strcmp(name, "count")) return TY(TY_INT);
        return TY(TY_UNKNOWN);
    case TY_DICT: return dict_method(I, rt, name, ca);
    case TY_INT:
    case TY_FLOAT:
        if (!strcmp(name, "bit_length")) return TY(TY_INT);
        if (!strcmp(name, "is_integer")) return TY(TY_BOOL);
        return TY(TY_UNKNOWN);
    case TY_INSTANCE:
        if (rt->cls) {
            FuncInfo *f = program_find_method(I->cx, rt->cls, name);
            if (f) return ty_func_return(I, f);
        }
        return TY(TY_UNKNOWN);
    case TY_UNION: {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t i = 0; i < rt->n; i++) {
            if (rt->elems[i]->kind == TY_NONE) continue;
            j = types_join(I->L, j, method_call(I, rt->elems[i], name, ca));
        }
        return j->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : j;
    }
    default: return TY(TY_UNKNOWN);
    }
}

// The result of the call node whose callee f is an attribute (module.function(...), self.method(...),
// value.method(...)); evaluates the arguments into *ca.
static const Type *ev_attribute_call(Inf *I, Env *e, uint32_t node, uint32_t f, CallArgs *ca) {
    const Cst *c = I->c;
    uint32_t obj = cst_field(c, f, F_OBJECT), an = cst_field(c, f, F_ATTRIBUTE);
    if (ty_root_is_global(I, f)) {  // module.function(...)
        eval_args(I, e, node, ca);
        const char *q = program_qualname(I->cx, I->mod, f);
        if (q) return qualified_call(I, f, q, ca);
        ty_ev(I, e, obj);
        return TY(TY_UNKNOWN);
    }
    size_t nl;
    const char *name = cst_text(c, an, &nl);
    char *nm = arena_strndup(I->cx, name, nl);
    if (ty_is_self(I, obj) && I->cls) {
        ty_ev(I, e, obj);
        eval_args(I, e, node, ca);
        uint32_t ai = ty_attr_index(I, f);
        if (ai != UINT32_MAX) return TY(TY_UNKNOWN);  // an attribute holding a callable
        FuncInfo *m = program_find_method(I->cx, I->cls, nm);
        if (m) return ty_func_return(I, m);
        return TY(TY_UNKNOWN);  // self.sub(x): a submodule may return tensors
    }
    const Type *rt = ty_ev(I, e, obj);
    eval_args(I, e, node, ca);
    return method_call(I, rt, nm, ca);
}

static const Type *ev_call(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    uint32_t f = cst_unparen(c, cst_field(c, node, F_FUNCTION));
    CallArgs ca;
    if (f == CST_NONE) {
        eval_args(I, e, node, &ca);
        return TY(TY_UNKNOWN);
    }
    uint32_t fk = c->nodes[f].kind;
    if (fk == K_IDENTIFIER) {
        eval_args(I, e, node, &ca);
        record(I, f, TY(TY_OBJECT));
        if (ty_local_index(I, f) != UINT32_MAX) return TY(TY_UNKNOWN);  // a local callable
        const char *b = ty_builtin_of(I, f);
        if (b) return builtin_call(I, b, &ca);
        const char *q = ty_qualname_of(I, f);
        return q ? qualified_call(I, f, q, &ca) : TY(TY_UNKNOWN);
    }
    if (fk == K_ATTRIBUTE) return ev_attribute_call(I, e, node, f, &ca);
    ty_ev(I, e, f);
    eval_args(I, e, node, &ca);
    return TY(TY_UNKNOWN);
}

// The attribute nm of a value of type ot that is, or may be, a tensor (x.shape, x.dtype, x.T, ...).
static const Type *tensor_attribute(Inf *I, const Type *ot, const char *nm) {
    if (!strcmp(nm, "shape")) return TY(TY_SIZE);
    if (!strcmp(nm, "ndim")) return TY(TY_INT);
    if (ot->kind != TY_TENSOR) return TY(TY_UNKNOWN);
    static const char *const tens[] = {"T", "mT", "H", "mH", "data", "grad", "real", "imag", NULL};
    static const char *const bools[] = {"is_cuda",      "requires_grad", "is_leaf", "is_sparse",
                                        "is_quantized", "is_meta",       NULL};
    if (str_in(nm, tens)) return TY(TY_TENSOR);
    if (str_in(nm, bools)) return TY(TY_BOOL);
    if (!strcmp(nm, "dtype")) return TY(TY_DTYPE);
    if (!strcmp(nm, "device")) return TY(TY_DEVICE);
    return TY(TY_UNKNOWN);
}

// Values of libraries known by name (torch.float32, math.pi); Unknown for the
// rest of those libraries; NULL: look the name up.
static const Type *known_value(Inf *I, const char *q) {
    if (torchinfo_is_dtype(q)) return TY(TY_DTYPE);
    static const char *const floats[] = {"math.pi",  "math.e",  "math.inf",  "math.nan",  "math.tau",
                                         "torch.pi", "torch.e", "torch.inf", "torch.nan", NULL};
    if (str_in(q, floats)) return TY(TY_FLOAT);
    if (!strcmp(q, "sys.maxsize")) return TY(TY_INT);
    if (torchinfo_is_opaque_library(q)) return TY(TY_UNKNOWN);
    return NULL;
}

// The value of the global attribute chain node (torch.float32, math.pi, module constants);
// NULL when the chain has no qualified name.
static const Type *global_attribute(Inf *I, uint32_t node) {
    const char *q = program_qualname(I->cx, I->mod, node);
    if (!q) return NULL;
    const Type *kt = known_value(I, q);
    if (kt) return kt;
    Symbol s = program_resolve(I->cx, I->mod, node);
    if (s.kind == SYM_MODULE || s.kind == SYM_EXTERN || s.kind == SYM_CLASS || s.kind == SYM_FUNC)
        return TY(TY_OBJECT);
    if (s.kind == SYM_VALUE && s.mod && s.qualname) {
        size_t ml = strlen(s.mod->name);
        if (!strncmp(s.qualname, s.mod->name, ml) && s.qualname[ml] == '.' &&
            !strchr(s.qualname + ml + 1, '.'))
            return ty_module_value(I, s.mod, s.qualname + ml + 1);
    }
    return TY(TY_UNKNOWN);
}

// A tensor attribute Python's own containers, strings and None lack (x.ndim of a
// `x: Tensor | tuple[Tensor]` is the tensor's, or an AttributeError).
static bool tensor_only_attribute(const Type *t, const char *nm) {
    static const char *const names[] = {
        "shape",   "ndim",          "T",         "mT",           "H",      "mH",
        "data",    "grad",          "is_cuda",   "dtype",        "device", "is_leaf",
        "is_meta", "requires_grad", "is_sparse", "is_quantized", NULL};
    switch (t->kind) {
    case TY_STR:
    case TY_BYTES:
    case TY_NONE:
    case TY_SIZE:
    case TY_RANGE:
    case TY_SLICE:
    case TY_LIST:
    case TY_SET:
    case TY_TUPLE:
    case TY_DICT: return str_in(nm, names);
    default: return false;
    }
}

// The attribute nm of a value of type ot.
static const Type *value_attribute(Inf *I, const Type *ot, const char *nm, size_t nl) {
    switch (ot->kind) {
    case TY_TENSOR:
    case TY_UNKNOWN:
    case TY_BOTTOM: return tensor_attribute(I, ot, nm);
    case TY_INSTANCE:
        if (ot->cls) return I->S->class_attr(I, ot->cls, nm, nl);
        return TY(TY_UNKNOWN);
    case TY_COMPLEX:
    case TY_FLOAT:
        if (!strcmp(nm, "real") || !strcmp(nm, "imag")) return TY(TY_FLOAT);
        return TY(TY_UNKNOWN);
    case TY_UNION: {  // the members that have it
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t i = 0; i < ot->n; i++)
            if (!tensor_only_attribute(ot->elems[i], nm))
                j = types_join(I->L, j, value_attribute(I, ot->elems[i], nm, nl));
        return j->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : j;
    }
    default: return TY(TY_UNKNOWN);
    }
}

static const Type *ev_attribute(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    uint32_t obj = cst_field(c, node, F_OBJECT), an = cst_field(c, node, F_ATTRIBUTE);
    if (an == CST_NONE) return TY(TY_UNKNOWN);
    size_t nl;
    const char *name = cst_text(c, an, &nl);
    uint32_t ai = ty_attr_index(I, node);
    if (ai != UINT32_MAX) {
        ty_ev(I, e, obj);
        const Type *t = read_var(I, e, ai);
        return t->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : t;
    }
    if (ty_root_is_global(I, node)) {  // torch.float32, math.pi, module constants
        const Type *gt = global_attribute(I, node);
        if (gt) return gt;
    }
    const Type *ot = ty_ev(I, e, obj);
    char *nm = arena_strndup(I->cx, name, nl);
    if (ty_is_self(I, obj) && I->cls) return I->S->class_attr(I, I->cls, nm, nl);
    return value_attribute(I, ot, nm, nl);
}

// Comprehensions: bind the clauses in a copy of the environment.
static const Type *ev_comprehension(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    Env ce = env_copy(I, e);
    uint32_t body = cst_field(c, node, F_BODY);
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (c->nodes[ch].kind == K_FOR_IN_CLAUSE) {
            uint32_t right = cst_field(c, ch, F_RIGHT), left = cst_field(c, ch, F_LEFT);
            const Type *it = right == CST_NONE ? TY(TY_UNKNOWN) : ty_ev(I, &ce, right);
            // `for x in a, b` has several right children
            for (uint32_t j = 0; j < c->nodes[ch].nchildren; j++) {
                uint32_t r2 = c->nodes[ch].first_child + j;
                if (r2 != right && c->nodes[r2].field == F_RIGHT) {
                    ty_ev(I, &ce, r2);
                    it = TY(TY_UNKNOWN);
                }
            }
            if (left != CST_NONE) ty_bind_target(I, &ce, left, ty_iter_elem(I, it));
        } else if (c->nodes[ch].kind == K_IF_CLAUSE) {
            uint32_t cond = cst_named_child(c, ch, 0);
            if (cond != CST_NONE) ty_ev(I, &ce, cond);
        }
    }
    if (body == CST_NONE) return TY(TY_UNKNOWN);
    uint32_t kind = c->nodes[node].kind;
    if (kind == K_DICT_COMP && c->nodes[body].kind == K_PAIR) {
        const Type *kt = ty_ev(I, &ce, cst_field(c, body, F_KEY));
        const Type *vt = ty_ev(I, &ce, cst_field(c, body, F_VALUE));
        record(I, body, TY(TY_UNKNOWN));
        return types_dict(I->L, kt, vt);
    }
    const Type *bt = ty_ev(I, &ce, body);
    return kind == K_SET_COMP ? types_set(I->L, bt) : types_list(I->L, bt);
}

const Type *ty_ev_children(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (c->nodes[ch].named && c->nodes[ch].kind != K_COMMENT) ty_ev(I, e, ch);
    }
    return TY(TY_UNKNOWN);
}

// x: a local, a builtin, a known library value, or a module-level binding.
static const Type *ev_name(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    uint32_t li = ty_local_index(I, node);
    if (li != UINT32_MAX) return read_var(I, e, li);
    const char *b = ty_builtin_of(I, node);
    if (b) return TY(TY_OBJECT);
    const char *q = program_qualname(I->cx, I->mod, node);
    const Type *kt = q ? known_value(I, q) : NULL;
    if (kt) return kt;
    Symbol s = program_lookup(I->cx, I->mod, cst_strdup(I->cx, c, node));
    if (s.kind == SYM_MODULE || s.kind == SYM_EXTERN || s.kind == SYM_CLASS || s.kind == SYM_FUNC)
        return TY(TY_OBJECT);
    if (s.kind == SYM_VALUE && s.mod && s.qualname) {
        const char *dot = strrchr(s.qualname, '.');
        return ty_module_value(I, s.mod, dot ? dot + 1 : s.qualname);
    }
    return TY(TY_UNKNOWN);
}

// v[i]
static const Type *ev_subscript(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    const Type *vt = ty_ev(I, e, cst_field(c, node, F_VALUE));
    uint32_t idx = CST_NONE;
    size_t nidx = 0;
    const Type *it = TY(TY_UNKNOWN);
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (c->nodes[ch].field != F_SUBSCRIPT) continue;
        it = ty_ev(I, e, ch);
        idx = ch;
        nidx++;
    }
    if (nidx != 1) return vt->kind == TY_TENSOR ? TY(TY_TENSOR) : TY(TY_UNKNOWN);
    return subscript_type(I, vt, c, idx, it);
}

// a + b, a @ b, ...
static const Type *ev_binary(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    const Type *l = ty_ev(I, e, cst_field(c, node, F_LEFT));
    const Type *r = ty_ev(I, e, cst_field(c, node, F_RIGHT));
    uint32_t op = cst_field(c, node, F_OPERATOR);
    if (op == CST_NONE) return TY(TY_UNKNOWN);
    return ty_arith(I, cst_strdup(I->cx, c, op), l, r);
}

// -a, ~a, +a
static const Type *ev_unary(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    const Type *a = ty_ev(I, e, cst_field(c, node, F_ARGUMENT));
    uint32_t op = cst_field(c, node, F_OPERATOR);
    return op == CST_NONE ? TY(TY_UNKNOWN) : unary_type(I, cst_strdup(I->cx, c, op), a);
}

// a < b, a == b, a in b, a is b. A rich comparison (<, <=, >, >=, ==, !=) with a
// tensor operand is a tensor, an elementwise mask (`x > 0`, like `x.gt(0)` and
// `torch.eq(x, 0)`); with an operand of unknown type it is unknown (it may be
// one). `in`, `not in`, `is`, `is not` and comparisons of known non-tensors are
// bool.
static bool operand_is_tensor(const Type *t) {
    if (t->kind == TY_TENSOR) return true;
    if (t->kind != TY_UNION) return false;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->elems[i]->kind == TY_TENSOR) return true;
    return false;
}

static const Type *ev_comparison(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    bool rich = false, tensor = false, unknown = false;
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (!c->nodes[ch].named) {
            rich |= text_is(c, ch, "<") || text_is(c, ch, "<=") || text_is(c, ch, ">") ||
                    text_is(c, ch, ">=") || text_is(c, ch, "==") || text_is(c, ch, "!=") ||
                    text_is(c, ch, "<>");
            continue;
        }
        if (c->nodes[ch].kind == K_COMMENT) continue;
        const Type *t = ty_ev(I, e, ch);
        tensor |= operand_is_tensor(t);
        unknown |= t->kind == TY_UNKNOWN || t->kind == TY_BOTTOM;
    }
    if (rich && tensor) return TY(TY_TENSOR);
    return rich && unknown ? TY(TY_UNKNOWN) : TY(TY_BOOL);
}

// a and b, a or b: b runs narrowed by a.
static const Type *ev_boolean(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    uint32_t l = cst_field(c, node, F_LEFT), r = cst_field(c, node, F_RIGHT);
    const Type *lt = ty_ev(I, e, l);
    if (!ty_may_narrow(I, e, l, 0)) return types_join(I->L, lt, ty_ev(I, e, r));
    // the right operand runs only when the left one is true (and) / false (or)
    Env te = env_copy(I, e), fe = env_copy(I, e);
    ty_narrow(I, e, l, &te, &fe);
    bool is_and = text_is(c, cst_field(c, node, F_OPERATOR), "and");
    const Type *rt = ty_ev(I, is_and ? &te : &fe, r);
    return types_join(I->L, lt, rt);
}

// a if cond else b
static const Type *ev_conditional(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    uint32_t a = cst_named_child(c, node, 0), cond = cst_named_child(c, node, 1),
             b = cst_named_child(c, node, 2);
    if (cond != CST_NONE) ty_ev(I, e, cond);
    if (cond == CST_NONE || !ty_may_narrow(I, e, cond, 0)) {
        const Type *at = a == CST_NONE ? TY(TY_UNKNOWN) : ty_ev(I, e, a);
        return types_join(I->L, at, b == CST_NONE ? TY(TY_UNKNOWN) : ty_ev(I, e, b));
    }
    Env te = env_copy(I, e), fe = env_copy(I, e);
    if (cond != CST_NONE) ty_narrow(I, e, cond, &te, &fe);
    const Type *at = a == CST_NONE ? TY(TY_UNKNOWN) : ty_ev(I, &te, a);
    const Type *bt = b == CST_NONE ? TY(TY_UNKNOWN) : ty_ev(I, &fe, b);
    return types_join(I->L, at, bt);
}

// (a, b), a, b, (*xs, c)
static const Type *ev_tuple(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    const Type *el[TUPLE_MAX];
    size_t n = 0;
    bool star = false;
    const Type *j = TY(TY_BOTTOM);
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (!c->nodes[ch].named || c->nodes[ch].kind == K_COMMENT) continue;
        const Type *t = ty_ev(I, e, ch);
        if (c->nodes[ch].kind == K_LIST_SPLAT) {
            star = true;
            t = ty_iter_elem(I, t);
        }
        j = types_join(I->L, j, t);
        if (n < TUPLE_MAX) el[n] = t;
        n++;
    }
    if (star || n > TUPLE_MAX) return types_tuple_of(I->L, j);
    return types_tuple(I->L, el, n);
}

// [a, b], {a, b}
static const Type *ev_list_or_set(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    const Type *j = TY(TY_BOTTOM);
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (!c->nodes[ch].named || c->nodes[ch].kind == K_COMMENT) continue;
        const Type *t = ty_ev(I, e, ch);
        if (c->nodes[ch].kind == K_LIST_SPLAT) t = ty_iter_elem(I, t);
        j = types_join(I->L, j, t);
    }
    return c->nodes[node].kind == K_LIST ? types_list(I->L, j) : types_set(I->L, j);
}

// {k: v, **other}
static const Type *ev_dict(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    const Type *kj = TY(TY_BOTTOM), *vj = TY(TY_BOTTOM);
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (!c->nodes[ch].named || c->nodes[ch].kind == K_COMMENT) continue;
        if (c->nodes[ch].kind == K_PAIR) {
            kj = types_join(I->L, kj, ty_ev(I, e, cst_field(c, ch, F_KEY)));
            vj = types_join(I->L, vj, ty_ev(I, e, cst_field(c, ch, F_VALUE)));
        } else {
            const Type *t = ty_ev(I, e, ch);
            if (t->kind == TY_DICT) {
                kj = types_join(I->L, kj, t->elems[0]);
                vj = types_join(I->L, vj, t->elems[1]);
            } else {
                kj = vj = TY(TY_UNKNOWN);
            }
        }
    }
    return types_dict(I->L, kj, vj);
}

// (name := value)
static const Type *ev_walrus(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    const Type *t = ty_ev(I, e, cst_field(c, node, F_VALUE));
    uint32_t nm = cst_field(c, node, F_NAME);
    if (nm != CST_NONE) ty_bind_target(I, e, nm, t);
    return t;
}

static const Type *ev_inner(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    switch (c->nodes[node].kind) {
    case K_INTEGER:
    case K_FLOAT:
    case K_TRUE:
    case K_FALSE:
    case K_NONE:
    case K_CONCAT_STRING:
        if (c->nodes[node].kind == K_CONCAT_STRING) ty_ev_children(I, e, node);
        return ty_literal_type(I, c, node);
    case K_STRING:
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {  // f-string interpolations
            uint32_t ch = c->nodes[node].first_child + k;
            if (c->nodes[ch].named && c->nodes[ch].nchildren) ty_ev_children(I, e, ch);
        }
        return ty_literal_type(I, c, node);
    case K_ELLIPSIS: return TY(TY_OBJECT);
    case K_IDENTIFIER: return ev_name(I, e, node);
    case K_ATTRIBUTE: return ev_attribute(I, e, node);
    case K_CALL: return ev_call(I, e, node);
    case K_PAREN_EXPR: {
        uint32_t in = cst_named_child(c, node, 0);
        return in == CST_NONE ? TY(TY_UNKNOWN) : ty_ev(I, e, in);
    }
    case K_SUBSCRIPT: return ev_subscript(I, e, node);
    case K_SLICE: ty_ev_children(I, e, node); return TY(TY_SLICE);
    case K_BINARY_OP: return ev_binary(I, e, node);
    case K_UNARY_OP: return ev_unary(I, e, node);
    case K_NOT_OP: ty_ev_children(I, e, node); return TY(TY_BOOL);
    case K_COMPARISON: return ev_comparison(I, e, node);
    case K_BOOLEAN_OP: return ev_boolean(I, e, node);
    case K_CONDITIONAL_EXPR: return ev_conditional(I, e, node);
    case K_TUPLE:
    case K_EXPRESSION_LIST:
    case K_PATTERN_LIST: return ev_tuple(I, e, node);
    case K_LIST:
    case K_SET: return ev_list_or_set(I, e, node);
    case K_DICT: return ev_dict(I, e, node);
    case K_LIST_COMP:
    case K_SET_COMP:
    case K_DICT_COMP:
    case K_GENERATOR: return ev_comprehension(I, e, node);
    case K_LIST_SPLAT:
    case K_DICT_SPLAT: {
        uint32_t in = cst_named_child(c, node, 0);
        return in == CST_NONE ? TY(TY_UNKNOWN) : ty_ev(I, e, in);
    }
    case K_KEYWORD_ARGUMENT: {
        uint32_t v = cst_field(c, node, F_VALUE);
        return v == CST_NONE ? TY(TY_UNKNOWN) : ty_ev(I, e, v);
    }
    case K_NAMED_EXPR: return ev_walrus(I, e, node);
    case K_LAMBDA: return TY(TY_OBJECT);
    case K_AWAIT:
    case K_YIELD: ty_ev_children(I, e, node); return TY(TY_UNKNOWN);
    default: return ty_ev_children(I, e, node);
    }
}

const Type *ty_ev(Inf *I, Env *e, uint32_t node) {
    if (node == CST_NONE) return TY(TY_UNKNOWN);
    if (I->depth > EXPR_DEPTH_MAX) return TY(TY_UNKNOWN);  // nothing below is recorded: candidates
    I->depth++;
    const Type *t = ev_inner(I, e, node);
    I->depth--;
    record(I, node, t);
    return t;
}

// A module-level `NAME = value` / `NAME: T = value`: its annotation or the
// value's type (evaluated with no locals).
const Type *ty_module_value(Inf *I, Module *m, const char *name) {
    if (!m || !m->cst || I->S->nest > NEST_MAX) return TY(TY_UNKNOWN);
    const Binding *b = program_binding(m, name);
    if (!b || b->kind != BIND_ASSIGN) return TY(TY_UNKNOWN);
    // a name assigned more than once at module level: unknown
    size_t count = 0;
    for (size_t i = 0; i < m->bindings.len; i++)
        if (strcmp(VEC_AT(m->bindings, Binding, i)->name, name) == 0) count++;
    if (count != 1) return TY(TY_UNKNOWN);
    const Cst *c = program_cst(I->cx, m);  // before reading b->node
    uint32_t st = b->node;
    uint32_t asg = c->nodes[st].kind == K_EXPR_STMT ? cst_named_child(c, st, 0) : st;
    if (asg == CST_NONE || c->nodes[asg].kind != K_ASSIGNMENT) return TY(TY_UNKNOWN);
    uint32_t left = cst_unparen(c, cst_field(c, asg, F_LEFT)), right = cst_field(c, asg, F_RIGHT),
             type = cst_field(c, asg, F_TYPE);
    if (left == CST_NONE || c->nodes[left].kind != K_IDENTIFIER || !cst_text_is(c, left, name))
        return TY(TY_UNKNOWN);
    if (type != CST_NONE) return ty_ann(I, m, c, type, 0);
    if (right == CST_NONE || c->nodes[right].kind == K_ASSIGNMENT) return TY(TY_UNKNOWN);
    Inf sub;
    memset(&sub, 0, sizeof sub);
    sub.cx = I->cx;
    sub.L = I->L;
    sub.S = I->S;
    sub.c = c;
    sub.mod = m;
    sub.decl = NULL;
    Env e = {NULL, false};
    I->S->nest++;
    const Type *t = ty_ev(&sub, &e, right);
    I->S->nest--;
    return t->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : t;
}

// ---------------------------------------------------------------------------
// Assignment targets
// ---------------------------------------------------------------------------

void ty_set_var(Inf *I, Env *e, uint32_t idx, const Type *t) {
    if (I->decl[idx]) t = I->decl[idx];
    if (I->pinned[idx]) t = TY(TY_UNKNOWN);
    e->v[idx] = t;
    I->acc[idx] = types_join(I->L, I->acc[idx], t);
    I->nassign[idx]++;
}

// Element i of n when unpacking a value of type t (star: the starred one).
static const Type *unpack_elem(Inf *I, const Type *t, size_t i, size_t n, bool star_here, size_t star_at) {
    if (t->kind == TY_TUPLE && !t->var) {
        if (star_at == SIZE_MAX) return t->n == n ? t->elems[i] : ty_iter_elem(I, t);
        if (star_here) {
            size_t after = n - star_at - 1;
            const Type *j = TY(TY_BOTTOM);
            for (size_t k = star_at; k + after < t->n; k++) j = types_join(I->L, j, t->elems[k]);
            return types_list(I->L, j);
        }
        if (i < star_at) return i < t->n ? t->elems[i] : TY(TY_UNKNOWN);
        size_t from_end = n - i;
        return from_end <= t->n ? t->elems[t->n - from_end] : TY(TY_UNKNOWN);
    }
    if (t->kind == TY_UNION) {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t k = 0; k < t->n; k++)
            j = types_join(I->L, j, unpack_elem(I, t->elems[k], i, n, star_here, star_at));
        return j;
    }
    const Type *el = ty_iter_elem(I, t);
    return star_here ? types_list(I->L, el) : el;
}

// Sets variable slot (a local or a self attribute; none when UINT32_MAX) to t and records its
// new type at the target node.
static void bind_slot(Inf *I, Env *e, uint32_t slot, uint32_t target, const Type *t) {
    if (slot == UINT32_MAX) return;
    ty_set_var(I, e, slot, t);
    record(I, target, e->v[slot]);
}

// Binds each element of the sequence target (a, *b, c = ...) to its part of t.
static void bind_sequence(Inf *I, Env *e, uint32_t target, const Type *t) {
    const Cst *c = I->c;
    uint32_t kids[TUPLE_MAX];
    size_t n = 0, star_at = SIZE_MAX;
    for (uint32_t k = 0; k < c->nodes[target].nchildren; k++) {
        uint32_t ch = c->nodes[target].first_child + k;
        if (!c->nodes[ch].named || c->nodes[ch].kind == K_COMMENT) continue;
        if (n == TUPLE_MAX) {  // too many targets: nothing known
            for (size_t i = 0; i < n; i++) ty_bind_target(I, e, kids[i], TY(TY_UNKNOWN));
            n = 0;
        }
        uint32_t ck = c->nodes[ch].kind;
        if (ck == K_LIST_SPLAT_PATTERN || ck == K_LIST_SPLAT) star_at = n;
        kids[n++] = ch;
    }
    for (size_t i = 0; i < n; i++)
        ty_bind_target(I, e, kids[i], unpack_elem(I, t, i, n, i == star_at, star_at));
}

void ty_bind_target(Inf *I, Env *e, uint32_t target, const Type *t) {
    const Cst *c = I->c;
    target = cst_unparen(c, target);
    if (target == CST_NONE) return;
    switch (c->nodes[target].kind) {
    case K_IDENTIFIER: bind_slot(I, e, ty_local_index(I, target), target, t); return;
    case K_ATTRIBUTE: {
        uint32_t ai = ty_attr_index(I, target);
        ty_ev(I, e, cst_field(c, target, F_OBJECT));
        bind_slot(I, e, ai, target, t);
        return;
    }
    case K_SUBSCRIPT:
        ty_ev(I, e, cst_field(c, target, F_VALUE));
        for (uint32_t k = 0; k < c->nodes[target].nchildren; k++) {
            uint32_t ch = c->nodes[target].first_child + k;
            if (c->nodes[ch].field == F_SUBSCRIPT) ty_ev(I, e, ch);
        }
        return;
    case K_LIST_SPLAT_PATTERN:
    case K_LIST_SPLAT: {
        uint32_t in = cst_named_child(c, target, 0);
        if (in != CST_NONE) ty_bind_target(I, e, in, t);
        return;
    }
    case K_PATTERN_LIST:
    case K_TUPLE_PATTERN:
    case K_LIST_PATTERN:
    case K_TUPLE:
    case K_LIST:
    case K_EXPRESSION_LIST: bind_sequence(I, e, target, t); return;
    default: ty_ev(I, e, target); return;
    }
}
