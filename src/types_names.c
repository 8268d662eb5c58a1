// types_names.c: what a name, an annotation, a literal or a condition says
// without evaluating an expression (spec §7): variable indices of locals and
// self attributes, the qualified name behind a name, annotation types,
// literal types, a function's return annotation, and narrowing by a
// condition (isinstance, `is None`, truthiness) for if / while / assert /
// and / or / conditional expressions. The bottom of type inference above the
// lattice: types_expr.c and types.c call it, it calls neither.
#include <stdlib.h>

#include "types_int.h"

// ---------------------------------------------------------------------------
// Names and qualified names
// ---------------------------------------------------------------------------

uint32_t ty_local_index(Inf *I, uint32_t ident) {
    size_t n;
    const char *s = cst_text(I->c, ident, &n);
    return namemap_get(&I->locals, s, n);
}

// `self.x` -> the variable index of attribute x, or UINT32_MAX
uint32_t ty_attr_index(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    if (!I->self_name || c->nodes[node].kind != K_ATTRIBUTE) return UINT32_MAX;
    uint32_t obj = cst_unparen(c, cst_field(c, node, F_OBJECT));
    if (obj == CST_NONE || c->nodes[obj].kind != K_IDENTIFIER) return UINT32_MAX;
    size_t n;
    const char *s = cst_text(c, obj, &n);
    if (n != I->self_len || memcmp(s, I->self_name, n) != 0) return UINT32_MAX;
    uint32_t a = cst_field(c, node, F_ATTRIBUTE);
    if (a == CST_NONE) return UINT32_MAX;
    s = cst_text(c, a, &n);
    return namemap_get(&I->attrs, s, n);
}

// Is node the name of `self` (the first parameter of the method)?
bool ty_is_self(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    node = cst_unparen(c, node);
    if (!I->self_name || node == CST_NONE || c->nodes[node].kind != K_IDENTIFIER) return false;
    size_t n;
    const char *s = cst_text(c, node, &n);
    return n == I->self_len && memcmp(s, I->self_name, n) == 0 && ty_local_index(I, node) != UINT32_MAX;
}

bool ty_root_is_local(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    node = cst_unparen(c, node);
    while (node != CST_NONE && c->nodes[node].kind == K_ATTRIBUTE)
        node = cst_unparen(c, cst_field(c, node, F_OBJECT));
    return node != CST_NONE && c->nodes[node].kind == K_IDENTIFIER && ty_local_index(I, node) != UINT32_MAX;
}

// The canonical dotted name of a dotted text in module m (mirrors
// program_qualname, for nodes of other trees: string annotations).
static const char *qual_of_text(ffq_ctx *cx, const Module *m, const char *dotted) {
    const char *dot = strchr(dotted, '.');
    size_t rootlen = dot ? (size_t)(dot - dotted) : strlen(dotted);
    const char *root = arena_strndup(cx, dotted, rootlen);
    const char *rest = dotted + rootlen;
    const Binding *b = program_binding(m, root);
    if (!b) return NULL;
    switch (b->kind) {
    case BIND_IMPORT: return dotted;
    case BIND_IMPORT_AS: return arena_printf(cx, "%s%s", b->module, rest);
    case BIND_FROM:
        return b->module[0] ? arena_printf(cx, "%s.%s%s", b->module, b->attr, rest)
                            : arena_printf(cx, "%s%s", b->attr, rest);
    case BIND_DEF:
    case BIND_CLASS:
    case BIND_ASSIGN: return arena_printf(cx, "%s.%s", m->name, dotted);
    }
    return NULL;
}

static const char *const builtin_names[] = {
    "int",        "float",   "bool",      "complex",  "str",     "bytes",     "list",  "tuple",
    "dict",       "set",     "frozenset", "len",      "range",   "enumerate", "zip",   "isinstance",
    "issubclass", "hasattr", "callable",  "reversed", "sorted",  "iter",      "next",  "sum",
    "min",        "max",     "abs",       "round",    "divmod",  "pow",       "any",   "all",
    "repr",       "format",  "type",      "print",    "getattr", "setattr",   "id",    "hash",
    "ord",        "chr",     "slice",     "map",      "filter",  "object",    "super", "None",
    "True",       "False",   "bytearray", NULL,
};

// The builtin an identifier names (not a local, not bound in the module), or NULL.
const char *ty_builtin_of(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    node = cst_unparen(c, node);
    if (node == CST_NONE || c->nodes[node].kind != K_IDENTIFIER || ty_local_index(I, node) != UINT32_MAX)
        return NULL;
    size_t n;
    const char *s = cst_text(c, node, &n);
    for (const char *const *b = builtin_names; *b; b++)
        if (strlen(*b) == n && memcmp(*b, s, n) == 0) {
            if (program_binding(I->mod, *b)) return NULL;  // shadowed at module level
            return *b;
        }
    return NULL;
}

// Is node a dotted chain whose root is a name that is not a local?
bool ty_root_is_global(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    node = cst_unparen(c, node);
    while (node != CST_NONE && c->nodes[node].kind == K_ATTRIBUTE)
        node = cst_unparen(c, cst_field(c, node, F_OBJECT));
    return node != CST_NONE && c->nodes[node].kind == K_IDENTIFIER && ty_local_index(I, node) == UINT32_MAX;
}

// The canonical dotted name of a callee/value chain whose root is not a local.
const char *ty_qualname_of(Inf *I, uint32_t node) {
    if (ty_root_is_local(I, node)) return NULL;
    return program_qualname(I->cx, I->mod, node);
}

// ---------------------------------------------------------------------------
// Annotations
// ---------------------------------------------------------------------------

// A string annotation: parse its contents as an expression.
static const Type *ann_string(Inf *I, Module *m, const Cst *c, uint32_t node, int depth) {
    size_t len;
    const char *s = cst_text(c, node, &len);
    size_t i = 0;
    while (i < len && s[i] != '"' && s[i] != '\'') {
        if (s[i] == 'f' || s[i] == 'F' || s[i] == 'b' || s[i] == 'B') return TY(TY_UNKNOWN);
        i++;
    }
    if (i >= len) return TY(TY_UNKNOWN);
    size_t q = (len - i >= 6 && s[i + 1] == s[i] && s[i + 2] == s[i]) ? 3 : 1;
    if (len < i + 2 * q) return TY(TY_UNKNOWN);
    const char *body = s + i + q;
    size_t blen = len - i - 2 * q;
    for (size_t k = 0; k < blen; k++)
        if (body[k] == '\\' || body[k] == '\n') return TY(TY_UNKNOWN);
    Cst *sc = source_parse_text(I->cx, "<annotation>", body, blen, false);
    if (!sc || sc->has_errors) return TY(TY_UNKNOWN);
    uint32_t st = cst_named_child(sc, 0, 0);
    if (st == CST_NONE || sc->nodes[st].kind != K_EXPR_STMT || cst_named_count(sc, 0) != 1)
        return TY(TY_UNKNOWN);
    uint32_t e = cst_named_child(sc, st, 0);
    if (e == CST_NONE) return TY(TY_UNKNOWN);
    return ty_ann(I, m, sc, e, depth + 1);
}

// The type the builtin class name b denotes (int, str, list, ...); Unknown for the others.
static const Type *builtin_type_of(Inf *I, const char *b) {
    static const struct {
        const char *name;
        TypeKind k;
    } bs[] = {
        {"int", TY_INT},     {"float", TY_FLOAT}, {"bool", TY_BOOL},       {"complex", TY_COMPLEX},
        {"str", TY_STR},     {"bytes", TY_BYTES}, {"None", TY_NONE},       {"range", TY_RANGE},
        {"slice", TY_SLICE}, {"type", TY_OBJECT}, {"bytearray", TY_BYTES},
    };
    for (size_t i = 0; i < sizeof bs / sizeof bs[0]; i++)
        if (strcmp(b, bs[i].name) == 0) return TY(bs[i].k);
    if (strcmp(b, "list") == 0) return types_list(I->L, TY(TY_UNKNOWN));
    if (strcmp(b, "tuple") == 0) return types_tuple_of(I->L, TY(TY_UNKNOWN));
    if (strcmp(b, "dict") == 0) return types_dict(I->L, TY(TY_UNKNOWN), TY(TY_UNKNOWN));
    if (strcmp(b, "set") == 0 || strcmp(b, "frozenset") == 0) return types_set(I->L, TY(TY_UNKNOWN));
    return TY(TY_UNKNOWN);  // object, Tensor without an import, ...
}

// The type the typing / collections.abc name t denotes without parameters (List, Dict, ...).
static const Type *typing_type_of(Inf *I, const char *t) {
    static const char *const seqs[] = {"List",     "Sequence",   "Iterable",  "MutableSequence",
                                       "Iterator", "Collection", "Generator", "Reversible",
                                       NULL};
    if (str_in(t, seqs)) return types_list(I->L, TY(TY_UNKNOWN));
    if (strcmp(t, "Tuple") == 0) return types_tuple_of(I->L, TY(TY_UNKNOWN));
    if (strcmp(t, "Dict") == 0 || strcmp(t, "Mapping") == 0 || strcmp(t, "MutableMapping") == 0 ||
        strcmp(t, "OrderedDict") == 0 || strcmp(t, "DefaultDict") == 0)
        return types_dict(I->L, TY(TY_UNKNOWN), TY(TY_UNKNOWN));
    if (strcmp(t, "Set") == 0 || strcmp(t, "FrozenSet") == 0 || strcmp(t, "AbstractSet") == 0)
        return types_set(I->L, TY(TY_UNKNOWN));
    if (strcmp(t, "Callable") == 0 || strcmp(t, "Type") == 0) return TY(TY_OBJECT);
    return TY(TY_UNKNOWN);  // Any, TypeVar names, ...
}

// The type a torch.* re-export or alias denotes by its last name (`Tensor = torch.Tensor` in
// torch.nn.functional); NULL for other names.
static const Type *torch_alias_type(Inf *I, const char *q) {
    const char *last = strrchr(q, '.') + 1;
    if (strcmp(last, "Tensor") == 0 || strcmp(last, "Parameter") == 0) return TY(TY_TENSOR);
    if (strcmp(last, "Size") == 0) return TY(TY_SIZE);
    if (strcmp(last, "dtype") == 0) return TY(TY_DTYPE);
    if (strcmp(last, "device") == 0) return TY(TY_DEVICE);
    return NULL;
}

// The type a class/type name denotes (in an annotation or an isinstance()).
const Type *ty_type_of_name(Inf *I, Module *m, const Cst *c, uint32_t node) {
    const char *dotted = program_dotted_text(I->cx, c, node);
    if (!dotted) return TY(TY_UNKNOWN);
    const char *q = qual_of_text(I->cx, m, dotted);
    const char *b = q ? NULL : dotted;  // unbound: a builtin
    if (q && str_has_prefix(q, "builtins.")) b = str_after_prefix(q, "builtins.");
    if (b) return builtin_type_of(I, b);
    if (torchinfo_is_tensor_class(q)) return TY(TY_TENSOR);
    if (strcmp(q, "torch.Size") == 0) return TY(TY_SIZE);
    if (strcmp(q, "torch.dtype") == 0) return TY(TY_DTYPE);
    if (strcmp(q, "torch.device") == 0) return TY(TY_DEVICE);
    if (str_has_prefix(q, "typing.") || str_has_prefix(q, "typing_extensions.") ||
        str_has_prefix(q, "collections.abc."))
        return typing_type_of(I, strrchr(q, '.') + 1);
    // torch's own names are known by the tables above: reading torch's sources
    // for them (torch._jit_internal.BroadcastingList2, ...) costs more than it tells
    bool torch_name = torchinfo_is_opaque_library(q);
    const Type *alias = str_has_prefix(q, "torch.") ? torch_alias_type(I, q) : NULL;
    if (alias) return alias;
    Symbol s = torch_name             ? (Symbol){0}
               : c == m->cst          ? program_resolve(I->cx, m, node)
               : !strchr(dotted, '.') ? program_lookup(I->cx, m, dotted)
                                      : (Symbol){0};
    if (s.kind == SYM_CLASS && s.cls) {
        // a class of the program: its instances (a Tensor subclass stays a tensor)
        for (size_t i = 0; i < s.cls->bases.len; i++)
            if (torchinfo_is_tensor_class(VEC_AT(s.cls->bases, const char, i))) return TY(TY_TENSOR);
        return types_instance(I->L, s.qualname ? s.qualname : q, s.cls);
    }
    if (str_has_prefix(q, "torch.nn.")) {  // torch.nn.Module, nn.Linear, ...
        const char *t = strrchr(q, '.') + 1;
        if (t[0] >= 'A' && t[0] <= 'Z') return types_instance(I->L, q, NULL);
    }
    return TY(TY_UNKNOWN);
}

// The parameters of a generic: `X[A, B]` (subscript) or `X[A, B]` (generic_type).
static size_t generic_params(const Cst *c, uint32_t node, uint32_t *base, uint32_t *out, size_t max) {
    size_t n = 0;
    if (c->nodes[node].kind == K_SUBSCRIPT) {
        *base = cst_field(c, node, F_VALUE);
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
            uint32_t ch = c->nodes[node].first_child + k;
            if (c->nodes[ch].field == F_SUBSCRIPT && n < max) out[n++] = ch;
        }
        if (n == 1 && c->nodes[out[0]].kind == K_TUPLE) {  // X[(A, B)]
            uint32_t t = out[0];
            n = 0;
            for (uint32_t k = 0; k < cst_named_count(c, t) && n < max; k++)
                out[n++] = cst_named_child(c, t, k);
        }
        return n;
    }
    // generic_type: (identifier | attribute) type_parameter(type, type, ...)
    *base = cst_named_child(c, node, 0);
    uint32_t tp = cst_named_child(c, node, 1);
    if (tp == CST_NONE) return 0;
    for (uint32_t k = 0; k < c->nodes[tp].nchildren; k++) {
        uint32_t ch = c->nodes[tp].first_child + k;
        if (c->nodes[ch].named && c->nodes[ch].kind != K_COMMENT && n < max) out[n++] = ch;
    }
    return n;
}

// Tuple[A, B] / tuple[A, ...] / Tuple[()]: the n type arguments ps.
static const Type *ann_tuple(Inf *I, Module *m, const Cst *c, const uint32_t *ps, size_t n, const Type *a0,
                             int depth) {
    if (n == 2 && c->nodes[cst_unparen(c, ps[1])].kind == K_ELLIPSIS) return types_tuple_of(I->L, a0);
    if (n == 2 && c->nodes[ps[1]].kind == K_TYPE && c->nodes[cst_named_child(c, ps[1], 0)].kind == K_ELLIPSIS)
        return types_tuple_of(I->L, a0);
    if (n == 1) {  // Tuple[()]
        uint32_t e = ps[0];
        if (c->nodes[e].kind == K_TYPE) e = cst_named_child(c, e, 0);
        if (e != CST_NONE && c->nodes[e].kind == K_TUPLE && cst_named_count(c, e) == 0)
            return types_tuple(I->L, NULL, 0);
    }
    const Type *e[TUPLE_MAX];
    for (size_t i = 0; i < n; i++) e[i] = ty_ann(I, m, c, ps[i], depth + 1);
    return types_tuple(I->L, e, n);
}

// Union[ps...]: the join of the n parameter types.
static const Type *ann_union(Inf *I, Module *m, const Cst *c, const uint32_t *ps, size_t n, int depth) {
    const Type *j = TY(TY_BOTTOM);
    for (size_t i = 0; i < n; i++) j = types_join(I->L, j, ty_ann(I, m, c, ps[i], depth + 1));
    return n ? j : TY(TY_UNKNOWN);
}

// Literal[ps...]: the join of the n literals' types.
static const Type *ann_literal(Inf *I, const Cst *c, const uint32_t *ps, size_t n) {
    const Type *j = TY(TY_BOTTOM);
    for (size_t i = 0; i < n; i++) {
        uint32_t e = ps[i];
        if (c->nodes[e].kind == K_TYPE) e = cst_named_child(c, e, 0);
        j = types_join(I->L, j, e == CST_NONE ? TY(TY_UNKNOWN) : ty_literal_type(I, c, e));
    }
    return n ? j : TY(TY_UNKNOWN);
}

// A subscripted annotation, `base[args]`: the typing generics ffq knows
// (Optional, Union, List, Dict, Tuple, ...); any other base is its own type.
static const Type *ann_generic(Inf *I, Module *m, const Cst *c, uint32_t node, int depth) {
    uint32_t base = CST_NONE, ps[TUPLE_MAX];
    if (c->nodes[node].kind == K_OTHER && cst_named_count(c, node) != 2) return TY(TY_UNKNOWN);
    size_t n = generic_params(c, node, &base, ps, TUPLE_MAX);
    if (base == CST_NONE) return TY(TY_UNKNOWN);
    base = cst_unparen(c, base);
    uint32_t bk = c->nodes[base].kind;
    if (bk != K_IDENTIFIER && bk != K_ATTRIBUTE) return TY(TY_UNKNOWN);
    const char *dotted = program_dotted_text(I->cx, c, base);
    const char *q = dotted ? qual_of_text(I->cx, m, dotted) : NULL;
    const char *t = q ? strrchr(q, '.') ? strrchr(q, '.') + 1 : q : dotted;
    if (!t) return TY(TY_UNKNOWN);
    bool typing = !q || str_has_prefix(q, "typing.") || str_has_prefix(q, "typing_extensions.") ||
                  str_has_prefix(q, "collections.abc.") || str_has_prefix(q, "builtins.") ||
                  str_has_prefix(q, "collections.");
    if (!typing) return ty_type_of_name(I, m, c, base);
    const Type *a0 = n > 0 ? ty_ann(I, m, c, ps[0], depth + 1) : TY(TY_UNKNOWN);
    if (strcmp(t, "Optional") == 0) return types_join(I->L, a0, TY(TY_NONE));
    if (strcmp(t, "Union") == 0) return ann_union(I, m, c, ps, n, depth);
    static const char *const seqs[] = {"List",     "list",       "Sequence",  "Iterable",   "MutableSequence",
                                       "Iterator", "Collection", "Generator", "Reversible", "deque",
                                       NULL};
    if (str_in(t, seqs)) return types_list(I->L, a0);
    if (strcmp(t, "Set") == 0 || strcmp(t, "set") == 0 || strcmp(t, "FrozenSet") == 0 ||
        strcmp(t, "frozenset") == 0 || strcmp(t, "AbstractSet") == 0)
        return types_set(I->L, a0);
    if (strcmp(t, "Dict") == 0 || strcmp(t, "dict") == 0 || strcmp(t, "Mapping") == 0 ||
        strcmp(t, "MutableMapping") == 0 || strcmp(t, "OrderedDict") == 0 || strcmp(t, "DefaultDict") == 0 ||
        strcmp(t, "defaultdict") == 0)
        return types_dict(I->L, a0, n > 1 ? ty_ann(I, m, c, ps[1], depth + 1) : TY(TY_UNKNOWN));
    if (strcmp(t, "Tuple") == 0 || strcmp(t, "tuple") == 0) return ann_tuple(I, m, c, ps, n, a0, depth);
    if (strcmp(t, "Annotated") == 0 || strcmp(t, "Final") == 0 || strcmp(t, "ClassVar") == 0 ||
        strcmp(t, "Required") == 0 || strcmp(t, "NotRequired") == 0)
        return a0;
    if (strcmp(t, "Literal") == 0) return ann_literal(I, c, ps, n);
    if (strcmp(t, "Callable") == 0 || strcmp(t, "Type") == 0 || strcmp(t, "type") == 0) return TY(TY_OBJECT);
    return TY(TY_UNKNOWN);
}

const Type *ty_ann(Inf *I, Module *m, const Cst *c, uint32_t node, int depth) {
    if (node == CST_NONE || depth > ANN_DEPTH_MAX) return TY(TY_UNKNOWN);
    node = cst_unparen(c, node);
    switch (c->nodes[node].kind) {
    case K_TYPE: {
        uint32_t e = cst_named_child(c, node, 0);
        return e == CST_NONE ? TY(TY_UNKNOWN) : ty_ann(I, m, c, e, depth + 1);
    }
    case K_NONE: return TY(TY_NONE);
    case K_STRING: return ann_string(I, m, c, node, depth);
    case K_IDENTIFIER:
    case K_ATTRIBUTE: return ty_type_of_name(I, m, c, node);
    case K_BINARY_OP: {  // A | B
        uint32_t op = cst_field(c, node, F_OPERATOR);
        if (!text_is(c, op, "|")) return TY(TY_UNKNOWN);
        return types_join(I->L, ty_ann(I, m, c, cst_field(c, node, F_LEFT), depth + 1),
                          ty_ann(I, m, c, cst_field(c, node, F_RIGHT), depth + 1));
    }
    case K_SUBSCRIPT:
    case K_OTHER: return ann_generic(I, m, c, node, depth);
    default: return TY(TY_UNKNOWN);
    }
}

// ---------------------------------------------------------------------------
// Literals
// ---------------------------------------------------------------------------

const Type *ty_literal_type(Inf *I, const Cst *c, uint32_t node) {
    switch (c->nodes[node].kind) {
    case K_INTEGER:
    case K_FLOAT: {
        size_t n;
        const char *s = cst_text(c, node, &n);
        if (n && (s[n - 1] == 'j' || s[n - 1] == 'J')) return TY(TY_COMPLEX);
        return TY(c->nodes[node].kind == K_INTEGER ? TY_INT : TY_FLOAT);
    }
    case K_STRING:
    case K_CONCAT_STRING: {
        size_t n;
        const char *s = cst_text(c, node, &n);
        for (size_t i = 0; i < n && s[i] != '"' && s[i] != '\''; i++)
            if (s[i] == 'b' || s[i] == 'B') return TY(TY_BYTES);
        return TY(TY_STR);
    }
    case K_TRUE:
    case K_FALSE: return TY(TY_BOOL);
    case K_NONE: return TY(TY_NONE);
    case K_UNARY_OP: {
        uint32_t a = cst_field(c, node, F_ARGUMENT);
        return a == CST_NONE ? TY(TY_UNKNOWN) : ty_literal_type(I, c, a);
    }
    default: return TY(TY_UNKNOWN);
    }
}

// ---------------------------------------------------------------------------
// Return annotations
// ---------------------------------------------------------------------------

const Type *ty_func_return(Inf *I, const FuncInfo *f) {
    if (!f || !f->mod || !f->mod->cst) return TY(TY_UNKNOWN);
    const Cst *c = program_cst(I->cx, f->mod);  // before reading f->def
    uint32_t rt = cst_field(c, f->def, F_RETURN_TYPE);
    if (rt == CST_NONE) return TY(TY_UNKNOWN);
    const Type *t = ty_ann(I, f->mod, c, rt, 0);
    return t->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : t;
}

// ---------------------------------------------------------------------------
// Narrowing (if / while / assert / and / or / conditional expressions)
// ---------------------------------------------------------------------------

static const Type *isinstance_type(Inf *I, uint32_t cls_node, int depth) {
    const Cst *c = I->c;
    cls_node = cst_unparen(c, cls_node);
    if (cls_node == CST_NONE || depth > 4) return TY(TY_UNKNOWN);
    uint32_t k = c->nodes[cls_node].kind;
    if (k == K_TUPLE) {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t i = 0; i < cst_named_count(c, cls_node); i++)
            j = types_join(I->L, j, isinstance_type(I, cst_named_child(c, cls_node, i), depth + 1));
        return j;
    }
    if ((k != K_IDENTIFIER && k != K_ATTRIBUTE) || ty_root_is_local(I, cls_node)) return TY(TY_UNKNOWN);
    return ty_type_of_name(I, I->mod, c, cls_node);
}

static const Type *without_none(Inf *I, const Type *t) {
    if (t->kind == TY_NONE) return TY(TY_BOTTOM);
    if (t->kind != TY_UNION) return t;
    const Type *j = TY(TY_BOTTOM);
    for (uint32_t i = 0; i < t->n; i++)
        if (t->elems[i]->kind != TY_NONE) j = types_join(I->L, j, t->elems[i]);
    return j;
}

// The variable a narrowable expression denotes (a local or self.attr), or UINT32_MAX.
static uint32_t narrow_var(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    node = cst_unparen(c, node);
    if (node == CST_NONE) return UINT32_MAX;
    if (c->nodes[node].kind == K_IDENTIFIER) {
        uint32_t li = ty_local_index(I, node);
        return li != UINT32_MAX && !I->pinned[li] ? li : UINT32_MAX;
    }
    if (c->nodes[node].kind == K_ATTRIBUTE) {
        uint32_t ai = ty_attr_index(I, node);
        return ai;
    }
    return UINT32_MAX;
}

// then_e / else_e are copies of e; refine them with what cond being true/false says.
// The condition itself has already been evaluated.
static void narrow_inner(Inf *I, Env *e, uint32_t cond, Env *then_e, Env *else_e);

static bool has_none(const Type *t) {
    if (t->kind == TY_NONE) return true;
    if (t->kind != TY_UNION) return false;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->elems[i]->kind == TY_NONE) return true;
    return false;
}

// Could ty_narrow() refine anything for this condition? (Saves the copies of
// the environment for the common conditions that say nothing about types.)
bool ty_may_narrow(Inf *I, const Env *e, uint32_t cond, int depth) {
    const Cst *c = I->c;
    cond = cst_unparen(c, cond);
    if (cond == CST_NONE || depth > NARROW_DEPTH_MAX) return false;
    switch (c->nodes[cond].kind) {
    case K_NOT_OP: return ty_may_narrow(I, e, cst_field(c, cond, F_ARGUMENT), depth + 1);
    case K_BOOLEAN_OP:
        return ty_may_narrow(I, e, cst_field(c, cond, F_LEFT), depth + 1) ||
               ty_may_narrow(I, e, cst_field(c, cond, F_RIGHT), depth + 1);
    case K_CALL: {
        const char *b = ty_builtin_of(I, cst_field(c, cond, F_FUNCTION));
        return b && strcmp(b, "isinstance") == 0;
    }
    case K_COMPARISON: {
        uint32_t y = cst_named_child(c, cond, 1);
        return y != CST_NONE && c->nodes[cst_unparen(c, y)].kind == K_NONE;
    }
    case K_IDENTIFIER:
    case K_ATTRIBUTE: {
        uint32_t v = narrow_var(I, cond);
        return v != UINT32_MAX && has_none(e->v[v]);
    }
    default: return false;
    }
}

void ty_narrow(Inf *I, Env *e, uint32_t cond, Env *then_e, Env *else_e) {
    if (I->depth > EXPR_DEPTH_MAX) return;  // no refinement is always right
    I->depth++;
    narrow_inner(I, e, cond, then_e, else_e);
    I->depth--;
}

// `a and b` / `a or b`: narrows through both operands.
static void narrow_bool_op(Inf *I, Env *e, uint32_t cond, Env *then_e, Env *else_e) {
    const Cst *c = I->c;
    uint32_t l = cst_field(c, cond, F_LEFT), r = cst_field(c, cond, F_RIGHT);
    bool is_and = text_is(c, cst_field(c, cond, F_OPERATOR), "and");
    if (!ty_may_narrow(I, e, cond, 0)) return;
    Env lt = env_copy(I, e), lf = env_copy(I, e);
    ty_narrow(I, e, l, &lt, &lf);
    Env *mid = is_and ? &lt : &lf;
    Env rt = env_copy(I, mid), rf = env_copy(I, mid);
    ty_narrow(I, mid, r, &rt, &rf);
    if (is_and) {
        env_assign(then_e, &rt, I->nvars);
        env_assign(else_e, &lf, I->nvars);
        env_join_into(I, else_e, &rf);
    } else {
        env_assign(then_e, &lt, I->nvars);
        env_join_into(I, then_e, &rt);
        env_assign(else_e, &rf, I->nvars);
    }
}

// isinstance(x, T): x is a T on the true branch.
static void narrow_isinstance(Inf *I, uint32_t cond, Env *then_e) {
    const Cst *c = I->c;
    uint32_t f = cst_field(c, cond, F_FUNCTION);
    const char *b = ty_builtin_of(I, f);
    if (!b || strcmp(b, "isinstance") != 0) return;
    uint32_t al = cst_field(c, cond, F_ARGUMENTS);
    if (al == CST_NONE || c->nodes[al].kind != K_ARGUMENT_LIST || cst_named_count(c, al) != 2) return;
    uint32_t x = cst_named_child(c, al, 0), t = cst_named_child(c, al, 1);
    uint32_t v = narrow_var(I, x);
    if (v == UINT32_MAX) return;
    const Type *want = isinstance_type(I, t, 0);
    if (want->kind == TY_UNKNOWN) return;
    const Type *cur = then_e->v[v];
    if (cur->kind == TY_BOTTOM) cur = TY(TY_UNKNOWN);
    then_e->v[v] = types_meet(I->L, cur, want);
}

// x is None / x is not None (also == / !=): None on one branch, not None on the other.
static void narrow_none_test(Inf *I, uint32_t cond, Env *then_e, Env *else_e) {
    const Cst *c = I->c;
    if (cst_named_count(c, cond) != 2) return;
    uint32_t x = cst_named_child(c, cond, 0), y = cst_named_child(c, cond, 1);
    if (c->nodes[cst_unparen(c, y)].kind != K_NONE) return;
    uint32_t v = narrow_var(I, x);
    if (v == UINT32_MAX) return;
    bool pos = false, neg = false;
    for (uint32_t k = 0; k < c->nodes[cond].nchildren; k++) {
        uint32_t ch = c->nodes[cond].first_child + k;
        if (c->nodes[ch].named) continue;
        if (cst_text_is(c, ch, "is") || cst_text_is(c, ch, "==")) pos = true;
        else if (cst_text_is(c, ch, "is not") || cst_text_is(c, ch, "!=")) neg = true;
        else if (cst_text_is(c, ch, "not") && pos) {
            pos = false;
            neg = true;
        }
    }
    if (pos == neg) return;
    Env *not_none = neg ? then_e : else_e, *none = neg ? else_e : then_e;
    const Type *cur = not_none->v[v];
    if (cur->kind != TY_BOTTOM && cur->kind != TY_UNKNOWN) not_none->v[v] = without_none(I, cur);
    cur = none->v[v];
    if (cur->kind != TY_BOTTOM && cur->kind != TY_UNKNOWN) none->v[v] = types_meet(I->L, cur, TY(TY_NONE));
}

static void narrow_inner(Inf *I, Env *e, uint32_t cond, Env *then_e, Env *else_e) {
    const Cst *c = I->c;
    cond = cst_unparen(c, cond);
    if (cond == CST_NONE) return;
    switch (c->nodes[cond].kind) {
    case K_NOT_OP: ty_narrow(I, e, cst_field(c, cond, F_ARGUMENT), else_e, then_e); return;
    case K_BOOLEAN_OP: narrow_bool_op(I, e, cond, then_e, else_e); return;
    case K_CALL: narrow_isinstance(I, cond, then_e); return;
    case K_COMPARISON: narrow_none_test(I, cond, then_e, else_e); return;
    case K_IDENTIFIER:
    case K_ATTRIBUTE: {  // `if x:` rules out None
        uint32_t v = narrow_var(I, cond);
        if (v == UINT32_MAX) return;
        const Type *cur = then_e->v[v];
        if (cur->kind != TY_BOTTOM && cur->kind != TY_UNKNOWN) then_e->v[v] = without_none(I, cur);
        return;
    }
    default: return;
    }
}
