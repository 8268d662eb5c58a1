// types.c: type inference (spec §7). See types.h.
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
#include "types.h"

#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "ffq_int.h"
#include "optable.h"
#include "torchinfo.h"

enum { UNION_MAX = 8, TYPE_DEPTH_MAX = 6, EXPR_DEPTH_MAX = 200, LOOP_ITERS = 4,
       NEST_MAX = 6 };

// ---------------------------------------------------------------------------
// The lattice
// ---------------------------------------------------------------------------

struct Type {
    TypeKind kind;
    uint32_t id;
    uint32_t n;                 // number of elems
    bool var;                   // tuple[T, ...]
    uint8_t depth;              // nesting depth of containers
    const Type *const *elems;   // list/set: [elem]; dict: [k, v]; tuple; union members (sorted by id)
    const char *name;           // TY_INSTANCE qualname
    const ClassInfo *cls;
};

struct TypeLattice {
    ffq_ctx *cx;
    const Type *basic[TY_OBJECT + 1];
    StrMap tab;        // interning key (type_key) -> composite Type
    uint32_t next_id;
};

TypeLattice *types_lattice_new(ffq_ctx *cx) {
    TypeLattice *L = ARENA_NEW(cx, TypeLattice);
    L->cx = cx;
    for (int k = 0; k <= TY_OBJECT; k++) {
        Type *t = ARENA_NEW(cx, Type);
        t->kind = (TypeKind)k;
        t->id = L->next_id++;
        L->basic[k] = t;
    }
    return L;
}

TypeKind types_kind(const Type *t) { return t ? t->kind : TY_UNKNOWN; }

const Type *types_basic(TypeLattice *L, TypeKind k) {
    ffq_assert(k <= TY_OBJECT);
    return L->basic[k];
}

// The interning key of a composite type: kind, var, the member ids, the
// instance name. Written into `buf` when it fits, else into the arena.
static const char *type_key(TypeLattice *L, char *buf, size_t cap, TypeKind kind,
                            const Type *const *elems, uint32_t n, bool var, const char *name,
                            size_t *len) {
    size_t nlen = name ? strlen(name) : 0;
    *len = 2 + 4 * (size_t)n + nlen;
    char *k = *len <= cap ? buf : arena_alloc(L->cx, *len);
    k[0] = (char)kind;
    k[1] = var;
    for (uint32_t i = 0; i < n; i++) memcpy(k + 2 + 4 * i, &elems[i]->id, 4);
    if (nlen) memcpy(k + 2 + 4 * (size_t)n, name, nlen);
    return k;
}

static const Type *intern(TypeLattice *L, TypeKind kind, const Type *const *elems, uint32_t n,
                          bool var, const char *name, const ClassInfo *cls) {
    uint8_t depth = 0;
    for (uint32_t i = 0; i < n; i++)
        if (elems[i]->depth > depth) depth = elems[i]->depth;
    if (kind != TY_UNION) depth++;
    if (depth > TYPE_DEPTH_MAX) return L->basic[TY_UNKNOWN];
    char buf[128];
    size_t len;
    const char *key = type_key(L, buf, sizeof buf, kind, elems, n, var, name, &len);
    const Type *have = strmap_get(&L->tab, key, len);
    if (have) return have;
    Type *t = ARENA_NEW(L->cx, Type);
    t->kind = kind;
    t->id = L->next_id++;
    t->n = n;
    t->var = var;
    t->depth = depth;
    t->name = name ? arena_strdup(L->cx, name) : NULL;
    t->cls = cls;
    if (n) {
        const Type **e = ARENA_ARRAY(L->cx, const Type *, n);
        memcpy(e, elems, sizeof *e * n);
        t->elems = e;
    }
    strmap_put(L->cx, &L->tab, key == buf ? arena_strndup(L->cx, key, len) : key, len, t);
    return t;
}

const Type *types_list(TypeLattice *L, const Type *elem) { return intern(L, TY_LIST, &elem, 1, false, NULL, NULL); }
const Type *types_set(TypeLattice *L, const Type *elem) { return intern(L, TY_SET, &elem, 1, false, NULL, NULL); }
const Type *types_tuple(TypeLattice *L, const Type *const *elems, size_t n) {
    if (n > 64) {  // a huge literal tuple: its element join is enough
        const Type *j = L->basic[TY_BOTTOM];
        for (size_t i = 0; i < n; i++) j = types_join(L, j, elems[i]);
        return types_tuple_of(L, j);
    }
    return intern(L, TY_TUPLE, elems, (uint32_t)n, false, NULL, NULL);
}
const Type *types_tuple_of(TypeLattice *L, const Type *elem) { return intern(L, TY_TUPLE, &elem, 1, true, NULL, NULL); }
const Type *types_dict(TypeLattice *L, const Type *key, const Type *value) {
    const Type *kv[2] = {key, value};
    return intern(L, TY_DICT, kv, 2, false, NULL, NULL);
}
const Type *types_instance(TypeLattice *L, const char *qualname, const ClassInfo *cls) {
    return intern(L, TY_INSTANCE, NULL, 0, false, qualname ? qualname : "?", cls);
}

static bool is_container(TypeKind k) { return k == TY_LIST || k == TY_SET || k == TY_TUPLE || k == TY_DICT; }

// A union of members (flattened, no Bottom, no duplicates): Unknown beyond UNION_MAX.
static const Type *make_union(TypeLattice *L, const Type **m, size_t n) {
    // sort by id (insertion sort: n is small), drop duplicates
    for (size_t i = 1; i < n; i++) {
        const Type *x = m[i];
        size_t j = i;
        while (j > 0 && m[j - 1]->id > x->id) { m[j] = m[j - 1]; j--; }
        m[j] = x;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || m[k - 1] != m[i]) m[k++] = m[i];
    if (k == 0) return L->basic[TY_BOTTOM];
    if (k == 1) return m[0];
    if (k > UNION_MAX) return L->basic[TY_UNKNOWN];
    return intern(L, TY_UNION, m, (uint32_t)k, false, NULL, NULL);
}

// Two non-union types that join into one (not a union), or NULL.
static const Type *join_same(TypeLattice *L, const Type *a, const Type *b) {
    if (a == b) return a;
    if ((a->kind == TY_BOOL && b->kind == TY_INT) || (a->kind == TY_INT && b->kind == TY_BOOL))
        return L->basic[TY_INT];
    if (a->kind != b->kind || !is_container(a->kind)) return NULL;
    switch (a->kind) {
    case TY_LIST: return types_list(L, types_join(L, a->elems[0], b->elems[0]));
    case TY_SET: return types_set(L, types_join(L, a->elems[0], b->elems[0]));
    case TY_DICT: return types_dict(L, types_join(L, a->elems[0], b->elems[0]),
                                    types_join(L, a->elems[1], b->elems[1]));
    case TY_TUPLE: {
        if (!a->var && !b->var && a->n == b->n) {
            const Type *e[64];
            for (uint32_t i = 0; i < a->n; i++) e[i] = types_join(L, a->elems[i], b->elems[i]);
            return types_tuple(L, e, a->n);
        }
        const Type *j = L->basic[TY_BOTTOM];
        for (uint32_t i = 0; i < a->n; i++) j = types_join(L, j, a->elems[i]);
        for (uint32_t i = 0; i < b->n; i++) j = types_join(L, j, b->elems[i]);
        return types_tuple_of(L, j);
    }
    default: return NULL;
    }
}

const Type *types_join(TypeLattice *L, const Type *a, const Type *b) {
    if (a == b) return a;
    if (a->kind == TY_BOTTOM) return b;
    if (b->kind == TY_BOTTOM) return a;
    if (a->kind == TY_UNKNOWN || b->kind == TY_UNKNOWN) return L->basic[TY_UNKNOWN];
    const Type *m[2 * UNION_MAX + 2];
    size_t n = 0;
    if (a->kind == TY_UNION) for (uint32_t i = 0; i < a->n; i++) m[n++] = a->elems[i];
    else m[n++] = a;
    const Type *const *bs = b->kind == TY_UNION ? b->elems : &b;
    uint32_t nb = b->kind == TY_UNION ? b->n : 1;
    for (uint32_t i = 0; i < nb; i++) {
        const Type *x = bs[i];
        bool merged = false;
        for (size_t k = 0; k < n && !merged; k++) {
            const Type *j = join_same(L, m[k], x);
            if (j) {
                m[k] = j;
                merged = true;
            }
        }
        if (!merged) m[n++] = x;
        if (n > UNION_MAX) return L->basic[TY_UNKNOWN];
    }
    for (size_t k = 0; k < n; k++)
        if (m[k]->kind == TY_UNKNOWN) return L->basic[TY_UNKNOWN];
    return make_union(L, m, n);
}

const Type *types_meet(TypeLattice *L, const Type *a, const Type *b) {
    if (a == b) return a;
    if (a->kind == TY_UNKNOWN) return b;
    if (b->kind == TY_UNKNOWN) return a;
    if (a->kind == TY_BOTTOM || b->kind == TY_BOTTOM) return L->basic[TY_BOTTOM];
    if (a->kind == TY_UNION || b->kind == TY_UNION) {
        const Type *u = a->kind == TY_UNION ? a : b, *o = u == a ? b : a;
        const Type *j = L->basic[TY_BOTTOM];
        for (uint32_t i = 0; i < u->n; i++) j = types_join(L, j, types_meet(L, u->elems[i], o));
        return j;
    }
    if ((a->kind == TY_BOOL && b->kind == TY_INT) || (a->kind == TY_INT && b->kind == TY_BOOL))
        return L->basic[TY_BOOL];
    // an instance of some class might be a Tensor subclass: keep the tensor
    if ((a->kind == TY_TENSOR && b->kind == TY_INSTANCE) || (b->kind == TY_TENSOR && a->kind == TY_INSTANCE))
        return L->basic[TY_TENSOR];
    if (a->kind != b->kind || !is_container(a->kind)) return L->basic[TY_BOTTOM];
    switch (a->kind) {
    case TY_LIST: return types_list(L, types_meet(L, a->elems[0], b->elems[0]));
    case TY_SET: return types_set(L, types_meet(L, a->elems[0], b->elems[0]));
    case TY_DICT: return types_dict(L, types_meet(L, a->elems[0], b->elems[0]),
                                    types_meet(L, a->elems[1], b->elems[1]));
    case TY_TUPLE: {
        if (a->var && b->var) return types_tuple_of(L, types_meet(L, a->elems[0], b->elems[0]));
        if (a->var || b->var) {
            const Type *v = a->var ? a : b, *f = v == a ? b : a;
            const Type *e[64];
            for (uint32_t i = 0; i < f->n; i++) e[i] = types_meet(L, f->elems[i], v->elems[0]);
            return types_tuple(L, e, f->n);
        }
        if (a->n != b->n) return L->basic[TY_BOTTOM];
        const Type *e[64];
        for (uint32_t i = 0; i < a->n; i++) e[i] = types_meet(L, a->elems[i], b->elems[i]);
        return types_tuple(L, e, a->n);
    }
    default: return L->basic[TY_BOTTOM];
    }
}

bool types_may_be_tensor(const Type *t) {
    if (!t) return true;
    switch (t->kind) {
    case TY_BOTTOM: case TY_UNKNOWN: case TY_TENSOR: return true;
    case TY_LIST: case TY_SET: case TY_TUPLE: case TY_DICT: case TY_UNION:
        for (uint32_t i = 0; i < t->n; i++)
            if (types_may_be_tensor(t->elems[i])) return true;
        return false;
    default: return false;
    }
}

static void type_str(ffq_ctx *cx, const Type *t, StrBuf *sb) {
    static const char *const names[] = {
        [TY_BOTTOM] = "Never", [TY_UNKNOWN] = "Unknown", [TY_TENSOR] = "Tensor",
        [TY_BOOL] = "bool", [TY_INT] = "int", [TY_FLOAT] = "float", [TY_COMPLEX] = "complex",
        [TY_STR] = "str", [TY_BYTES] = "bytes", [TY_NONE] = "None", [TY_SIZE] = "Size",
        [TY_DTYPE] = "dtype", [TY_DEVICE] = "device", [TY_RANGE] = "range", [TY_SLICE] = "slice",
        [TY_OBJECT] = "object",
    };
    switch (t->kind) {
    case TY_LIST: case TY_SET:
        sb_puts(cx, sb, t->kind == TY_LIST ? "list[" : "set[");
        type_str(cx, t->elems[0], sb);
        sb_putc(cx, sb, ']');
        return;
    case TY_DICT:
        sb_puts(cx, sb, "dict[");
        type_str(cx, t->elems[0], sb);
        sb_puts(cx, sb, ", ");
        type_str(cx, t->elems[1], sb);
        sb_putc(cx, sb, ']');
        return;
    case TY_TUPLE:
        sb_puts(cx, sb, "tuple[");
        if (t->n == 0) sb_puts(cx, sb, "()");
        for (uint32_t i = 0; i < t->n; i++) {
            if (i) sb_puts(cx, sb, ", ");
            type_str(cx, t->elems[i], sb);
        }
        if (t->var) sb_puts(cx, sb, ", ...");
        sb_putc(cx, sb, ']');
        return;
    case TY_UNION:
        for (uint32_t i = 0; i < t->n; i++) {
            if (i) sb_puts(cx, sb, " | ");
            type_str(cx, t->elems[i], sb);
        }
        return;
    case TY_INSTANCE: sb_puts(cx, sb, t->name); return;
    default: sb_puts(cx, sb, t->kind < TY_LIST ? names[t->kind] : "?"); return;
    }
}

const char *types_str(ffq_ctx *cx, const Type *t) {
    if (!t) return "Unknown";
    StrBuf sb = {0};
    type_str(cx, t, &sb);
    return sb_cstr(cx, &sb);
}

// ---------------------------------------------------------------------------
// Small maps: node -> type, name -> index
// ---------------------------------------------------------------------------

// The maps come from containers.h. Types are stored as void * in a NodeMap
// (the lattice owns them; nothing writes through the pointer), variable
// indices as index + 1 in a StrMap (0 would read as "absent").

static void type_put(ffq_ctx *cx, NodeMap *m, uint32_t key, const Type *t) {
    nodemap_put(cx, m, key, (void *)t);
}

static const Type *type_get(const NodeMap *m, uint32_t key) { return nodemap_get(m, key); }

static uint32_t namemap_get(const StrMap *m, const char *s, size_t n) {
    uintptr_t v = (uintptr_t)strmap_get(m, s, n);
    return v ? (uint32_t)(v - 1) : UINT32_MAX;
}

static void namemap_put(ffq_ctx *cx, StrMap *m, const char *s, size_t n, uint32_t idx) {
    strmap_put(cx, m, s, n, (void *)((uintptr_t)idx + 1));
}

// ---------------------------------------------------------------------------
// Inference state
// ---------------------------------------------------------------------------

struct Types {
    const FuncInfo *fn;
    const ClassInfo *cls;
    TypeLattice *L;
    NodeMap map;
};

typedef struct ClassAttrs {
    const ClassInfo *cls;
    bool busy;
    PtrVec names;  // const char *
    PtrVec types;  // const Type *
} ClassAttrs;

typedef struct Shared {
    ffq_ctx *cx;
    TypeLattice *L;
    PtrVec classes;  // ClassAttrs *
    int nest;        // nested inferences (__init__ of classes, module values)
} Shared;

typedef struct Env {
    const Type **v;
    bool dead;
} Env;

typedef struct Loop {
    Env brk, cont;  // joined states at `break` / `continue` (dead: none yet)
} Loop;

typedef struct Inf {
    ffq_ctx *cx;
    TypeLattice *L;
    Shared *S;
    NodeMap *map;          // where types are recorded (NULL: nowhere)
    const Cst *c;
    Module *mod;
    const FuncInfo *fn;
    const ClassInfo *cls;  // class of `self`
    const char *self_name;
    size_t self_len;
    StrMap locals, attrs;  // local names / self attributes -> variable index
    uint32_t nvars;
    PtrVec var_names;      // const char * of each variable (attributes without "self.")
    PtrVec attr_vars;      // variable index + 1 of each self attribute, in first-seen order
    const Type **decl;     // declared (annotated) type of each variable, or NULL
    bool *pinned;          // global/nonlocal: always Unknown
    const Type **acc;      // join of every value assigned to each variable
    uint32_t *nassign;     // assignments to each variable so far
    const Type **attr_init;// initial type of self attributes (from the class)
    Loop *loop;
    int depth;
} Inf;

static const Type *T_(Inf *I, TypeKind k) { return I->L->basic[k]; }
#define TY(k) T_(I, k)

static void record(Inf *I, uint32_t node, const Type *t) {
    if (I->map && node != CST_NONE) type_put(I->cx, I->map, node, t);
}

static bool text_is(const Cst *c, uint32_t n, const char *s) { return n != CST_NONE && cst_text_is(c, n, s); }

static bool str_in(const char *s, const char *const *list) {
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return true;
    return false;
}

// --- environments ---

static Env env_new(Inf *I) {
    Env e = {ARENA_ARRAY(I->cx, const Type *, I->nvars ? I->nvars : 1), false};
    for (uint32_t i = 0; i < I->nvars; i++) e.v[i] = TY(TY_BOTTOM);
    return e;
}

static Env env_copy(Inf *I, const Env *src) {
    Env e = {ARENA_ARRAY(I->cx, const Type *, I->nvars ? I->nvars : 1), src->dead};
    if (I->nvars) memcpy(e.v, src->v, sizeof *e.v * I->nvars);
    return e;
}

static Env env_dead(Inf *I) {
    Env e = env_new(I);
    e.dead = true;
    return e;
}

static void env_assign(Env *dst, const Env *src, uint32_t n) {
    if (n) memcpy(dst->v, src->v, sizeof *dst->v * n);
    dst->dead = src->dead;
}

static void env_join_into(Inf *I, Env *dst, const Env *src) {
    if (src->dead) return;
    if (dst->dead) {
        env_assign(dst, src, I->nvars);
        return;
    }
    for (uint32_t i = 0; i < I->nvars; i++) dst->v[i] = types_join(I->L, dst->v[i], src->v[i]);
}

static bool env_eq(Inf *I, const Env *a, const Env *b) {
    if (a->dead != b->dead) return false;
    return a->dead || I->nvars == 0 || memcmp(a->v, b->v, sizeof *a->v * I->nvars) == 0;
}

// ---------------------------------------------------------------------------
// Names and qualified names
// ---------------------------------------------------------------------------

static uint32_t local_index(Inf *I, uint32_t ident) {
    size_t n;
    const char *s = cst_text(I->c, ident, &n);
    return namemap_get(&I->locals, s, n);
}

// `self.x` -> the variable index of attribute x, or UINT32_MAX
static uint32_t attr_index(Inf *I, uint32_t node) {
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

static bool is_self(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    node = cst_unparen(c, node);
    if (!I->self_name || node == CST_NONE || c->nodes[node].kind != K_IDENTIFIER) return false;
    size_t n;
    const char *s = cst_text(c, node, &n);
    return n == I->self_len && memcmp(s, I->self_name, n) == 0 && local_index(I, node) != UINT32_MAX;
}

static bool root_is_local(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    node = cst_unparen(c, node);
    while (node != CST_NONE && c->nodes[node].kind == K_ATTRIBUTE) node = cst_unparen(c, cst_field(c, node, F_OBJECT));
    return node != CST_NONE && c->nodes[node].kind == K_IDENTIFIER && local_index(I, node) != UINT32_MAX;
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
    case BIND_DEF: case BIND_CLASS: case BIND_ASSIGN: return arena_printf(cx, "%s.%s", m->name, dotted);
    }
    return NULL;
}

static const char *const builtin_names[] = {
    "int", "float", "bool", "complex", "str", "bytes", "list", "tuple", "dict", "set", "frozenset",
    "len", "range", "enumerate", "zip", "isinstance", "issubclass", "hasattr", "callable",
    "reversed", "sorted", "iter", "next", "sum", "min", "max", "abs", "round", "divmod", "pow",
    "any", "all", "repr", "format", "type", "print", "getattr", "setattr", "id", "hash", "ord",
    "chr", "slice", "map", "filter", "object", "super", "None", "True", "False", "bytearray",
    NULL,
};

// The builtin an identifier names (not a local, not bound in the module), or NULL.
static const char *builtin_of(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    node = cst_unparen(c, node);
    if (node == CST_NONE || c->nodes[node].kind != K_IDENTIFIER || local_index(I, node) != UINT32_MAX)
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
static bool root_is_global(Inf *I, uint32_t node) {
    const Cst *c = I->c;
    node = cst_unparen(c, node);
    while (node != CST_NONE && c->nodes[node].kind == K_ATTRIBUTE) node = cst_unparen(c, cst_field(c, node, F_OBJECT));
    return node != CST_NONE && c->nodes[node].kind == K_IDENTIFIER && local_index(I, node) == UINT32_MAX;
}

// The canonical dotted name of a callee/value chain whose root is not a local.
static const char *qualname_of(Inf *I, uint32_t node) {
    if (root_is_local(I, node)) return NULL;
    return program_qualname(I->cx, I->mod, node);
}

// ---------------------------------------------------------------------------
// Annotations
// ---------------------------------------------------------------------------

static const Type *ann(Inf *I, Module *m, const Cst *c, uint32_t node, int depth);

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
    return ann(I, m, sc, e, depth + 1);
}

// The type a class/type name denotes (in an annotation or an isinstance()).
static const Type *type_of_name(Inf *I, Module *m, const Cst *c, uint32_t node) {
    const char *dotted = program_dotted_text(I->cx, c, node);
    if (!dotted) return TY(TY_UNKNOWN);
    const char *q = qual_of_text(I->cx, m, dotted);
    const char *b = q ? NULL : dotted;  // unbound: a builtin
    if (q && str_has_prefix(q, "builtins.")) b = q + 9;
    if (b) {
        static const struct { const char *name; TypeKind k; } bs[] = {
            {"int", TY_INT}, {"float", TY_FLOAT}, {"bool", TY_BOOL}, {"complex", TY_COMPLEX},
            {"str", TY_STR}, {"bytes", TY_BYTES}, {"None", TY_NONE}, {"range", TY_RANGE},
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
    if (torchinfo_is_tensor_class(q)) return TY(TY_TENSOR);
    if (strcmp(q, "torch.Size") == 0) return TY(TY_SIZE);
    if (strcmp(q, "torch.dtype") == 0) return TY(TY_DTYPE);
    if (strcmp(q, "torch.device") == 0) return TY(TY_DEVICE);
    if (str_has_prefix(q, "typing.") || str_has_prefix(q, "typing_extensions.") ||
        str_has_prefix(q, "collections.abc.")) {
        const char *t = strrchr(q, '.') + 1;
        static const char *const seqs[] = {"List", "Sequence", "Iterable", "MutableSequence",
                                           "Iterator", "Collection", "Generator", "Reversible", NULL};
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
    // torch's own names are known by the tables above: reading torch's sources
    // for them (torch._jit_internal.BroadcastingList2, ...) costs more than it tells
    bool torch_name = torchinfo_is_opaque_library(q);
    if (str_has_prefix(q, "torch.")) {  // re-exports and aliases: `Tensor = torch.Tensor` in torch.nn.functional
        const char *last = strrchr(q, '.') + 1;
        if (strcmp(last, "Tensor") == 0 || strcmp(last, "Parameter") == 0) return TY(TY_TENSOR);
        if (strcmp(last, "Size") == 0) return TY(TY_SIZE);
        if (strcmp(last, "dtype") == 0) return TY(TY_DTYPE);
        if (strcmp(last, "device") == 0) return TY(TY_DEVICE);
    }
    Symbol s = torch_name ? (Symbol){0}
               : c == m->cst ? program_resolve(I->cx, m, node)
               : !strchr(dotted, '.') ? program_lookup(I->cx, m, dotted) : (Symbol){0};
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
            for (uint32_t k = 0; k < cst_named_count(c, t) && n < max; k++) out[n++] = cst_named_child(c, t, k);
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

static const Type *literal_type(Inf *I, const Cst *c, uint32_t node);

static const Type *ann(Inf *I, Module *m, const Cst *c, uint32_t node, int depth) {
    if (node == CST_NONE || depth > 16) return TY(TY_UNKNOWN);
    node = cst_unparen(c, node);
    switch (c->nodes[node].kind) {
    case K_TYPE: {
        uint32_t e = cst_named_child(c, node, 0);
        return e == CST_NONE ? TY(TY_UNKNOWN) : ann(I, m, c, e, depth + 1);
    }
    case K_NONE: return TY(TY_NONE);
    case K_STRING: return ann_string(I, m, c, node, depth);
    case K_IDENTIFIER: case K_ATTRIBUTE: return type_of_name(I, m, c, node);
    case K_BINARY_OP: {  // A | B
        uint32_t op = cst_field(c, node, F_OPERATOR);
        if (!text_is(c, op, "|")) return TY(TY_UNKNOWN);
        return types_join(I->L, ann(I, m, c, cst_field(c, node, F_LEFT), depth + 1),
                          ann(I, m, c, cst_field(c, node, F_RIGHT), depth + 1));
    }
    case K_SUBSCRIPT: case K_OTHER: {
        uint32_t base = CST_NONE, ps[64];
        if (c->nodes[node].kind == K_OTHER && cst_named_count(c, node) != 2) return TY(TY_UNKNOWN);
        size_t n = generic_params(c, node, &base, ps, 64);
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
        if (!typing) return type_of_name(I, m, c, base);
        const Type *a0 = n > 0 ? ann(I, m, c, ps[0], depth + 1) : TY(TY_UNKNOWN);
        if (strcmp(t, "Optional") == 0) return types_join(I->L, a0, TY(TY_NONE));
        if (strcmp(t, "Union") == 0) {
            const Type *j = TY(TY_BOTTOM);
            for (size_t i = 0; i < n; i++) j = types_join(I->L, j, ann(I, m, c, ps[i], depth + 1));
            return n ? j : TY(TY_UNKNOWN);
        }
        static const char *const seqs[] = {"List", "list", "Sequence", "Iterable", "MutableSequence",
                                           "Iterator", "Collection", "Generator", "Reversible", "deque", NULL};
        if (str_in(t, seqs)) return types_list(I->L, a0);
        if (strcmp(t, "Set") == 0 || strcmp(t, "set") == 0 || strcmp(t, "FrozenSet") == 0 ||
            strcmp(t, "frozenset") == 0 || strcmp(t, "AbstractSet") == 0)
            return types_set(I->L, a0);
        if (strcmp(t, "Dict") == 0 || strcmp(t, "dict") == 0 || strcmp(t, "Mapping") == 0 ||
            strcmp(t, "MutableMapping") == 0 || strcmp(t, "OrderedDict") == 0 || strcmp(t, "DefaultDict") == 0 ||
            strcmp(t, "defaultdict") == 0)
            return types_dict(I->L, a0, n > 1 ? ann(I, m, c, ps[1], depth + 1) : TY(TY_UNKNOWN));
        if (strcmp(t, "Tuple") == 0 || strcmp(t, "tuple") == 0) {
            if (n == 2 && c->nodes[cst_unparen(c, ps[1])].kind == K_ELLIPSIS) return types_tuple_of(I->L, a0);
            if (n == 2 && c->nodes[ps[1]].kind == K_TYPE &&
                c->nodes[cst_named_child(c, ps[1], 0)].kind == K_ELLIPSIS)
                return types_tuple_of(I->L, a0);
            if (n == 1) {  // Tuple[()]
                uint32_t e = ps[0];
                if (c->nodes[e].kind == K_TYPE) e = cst_named_child(c, e, 0);
                if (e != CST_NONE && c->nodes[e].kind == K_TUPLE && cst_named_count(c, e) == 0)
                    return types_tuple(I->L, NULL, 0);
            }
            const Type *e[64];
            for (size_t i = 0; i < n; i++) e[i] = ann(I, m, c, ps[i], depth + 1);
            return types_tuple(I->L, e, n);
        }
        if (strcmp(t, "Annotated") == 0 || strcmp(t, "Final") == 0 || strcmp(t, "ClassVar") == 0 ||
            strcmp(t, "Required") == 0 || strcmp(t, "NotRequired") == 0)
            return a0;
        if (strcmp(t, "Literal") == 0) {
            const Type *j = TY(TY_BOTTOM);
            for (size_t i = 0; i < n; i++) {
                uint32_t e = ps[i];
                if (c->nodes[e].kind == K_TYPE) e = cst_named_child(c, e, 0);
                j = types_join(I->L, j, e == CST_NONE ? TY(TY_UNKNOWN) : literal_type(I, c, e));
            }
            return n ? j : TY(TY_UNKNOWN);
        }
        if (strcmp(t, "Callable") == 0 || strcmp(t, "Type") == 0 || strcmp(t, "type") == 0) return TY(TY_OBJECT);
        return TY(TY_UNKNOWN);
    }
    default: return TY(TY_UNKNOWN);
    }
}

// ---------------------------------------------------------------------------
// Literals
// ---------------------------------------------------------------------------

static const Type *literal_type(Inf *I, const Cst *c, uint32_t node) {
    switch (c->nodes[node].kind) {
    case K_INTEGER: case K_FLOAT: {
        size_t n;
        const char *s = cst_text(c, node, &n);
        if (n && (s[n - 1] == 'j' || s[n - 1] == 'J')) return TY(TY_COMPLEX);
        return TY(c->nodes[node].kind == K_INTEGER ? TY_INT : TY_FLOAT);
    }
    case K_STRING: case K_CONCAT_STRING: {
        size_t n;
        const char *s = cst_text(c, node, &n);
        for (size_t i = 0; i < n && s[i] != '"' && s[i] != '\''; i++)
            if (s[i] == 'b' || s[i] == 'B') return TY(TY_BYTES);
        return TY(TY_STR);
    }
    case K_TRUE: case K_FALSE: return TY(TY_BOOL);
    case K_NONE: return TY(TY_NONE);
    case K_UNARY_OP: {
        uint32_t a = cst_field(c, node, F_ARGUMENT);
        return a == CST_NONE ? TY(TY_UNKNOWN) : literal_type(I, c, a);
    }
    default: return TY(TY_UNKNOWN);
    }
}

// ---------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------

static const Type *ev(Inf *I, Env *e, uint32_t node);
static void bind_target(Inf *I, Env *e, uint32_t target, const Type *t);
static const Type *class_attr(Inf *I, const ClassInfo *cls, const char *name, size_t len);
static const Type *func_return(Inf *I, const FuncInfo *f);
static const Type *module_value(Inf *I, Module *m, const char *name);

static const Type *read_var(Inf *I, const Env *e, uint32_t idx) {
    if (I->pinned[idx]) return TY(TY_UNKNOWN);
    return e->v[idx];
}

// The element type of iterating over a value of type t.
static const Type *iter_elem(Inf *I, const Type *t) {
    switch (t->kind) {
    case TY_LIST: case TY_SET: return t->elems[0];
    case TY_DICT: return t->elems[0];
    case TY_TUPLE: {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t i = 0; i < t->n; i++) j = types_join(I->L, j, t->elems[i]);
        return t->n ? j : TY(TY_UNKNOWN);
    }
    case TY_STR: return TY(TY_STR);
    case TY_BYTES: case TY_RANGE: case TY_SIZE: return TY(TY_INT);
    case TY_TENSOR: return TY(TY_TENSOR);
    case TY_UNION: {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t i = 0; i < t->n; i++) {
            if (t->elems[i]->kind == TY_NONE) continue;  // iterating None fails
            j = types_join(I->L, j, iter_elem(I, t->elems[i]));
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
        if (is_slice) return types_tuple_of(I->L, iter_elem(I, t));
        if (!t->var && idx != CST_NONE) {
            const Type *lt = literal_type(I, c, idx);
            if (lt->kind == TY_INT && (c->nodes[idx].kind == K_INTEGER || c->nodes[idx].kind == K_UNARY_OP)) {
                char *s = cst_strdup(I->cx, c, idx), *end;
                long v = strtol(s[0] == '-' ? s + 1 : s, &end, 0);
                if (*end == '\0') {
                    if (s[0] == '-') v = (long)t->n - v;
                    if (v >= 0 && v < (long)t->n) return t->elems[v];
                }
            }
        }
        return iter_elem(I, t);
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

static const Type *arith1(Inf *I, const char *op, const Type *a, const Type *b) {
    if (a->kind == TY_BOTTOM || a->kind == TY_UNKNOWN || b->kind == TY_BOTTOM || b->kind == TY_UNKNOWN)
        return TY(TY_UNKNOWN);
    if (a->kind == TY_TENSOR || b->kind == TY_TENSOR) return TY(TY_TENSOR);
    int ra = num_rank(a->kind), rb = num_rank(b->kind);
    if (ra && rb) {
        int r = ra > rb ? ra : rb;
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
    bool add = strcmp(op, "+") == 0, mul = strcmp(op, "*") == 0;
    if (a->kind == TY_STR && (add || strcmp(op, "%") == 0)) return TY(TY_STR);
    if (((a->kind == TY_STR || a->kind == TY_BYTES) && rb == 2 && mul) ||
        (b->kind == TY_STR && ra == 2 && mul))
        return a->kind == TY_STR || b->kind == TY_STR ? TY(TY_STR) : TY(TY_BYTES);
    if (a->kind == TY_BYTES && b->kind == TY_BYTES && add) return TY(TY_BYTES);
    if (a->kind == TY_LIST && b->kind == TY_LIST && add) return types_join(I->L, a, b);
    if (a->kind == TY_LIST && (rb == 2 || rb == 1) && mul) return a;
    if (b->kind == TY_LIST && (ra == 2 || ra == 1) && mul) return b;
    if ((a->kind == TY_SIZE || a->kind == TY_TUPLE) && (b->kind == TY_SIZE || b->kind == TY_TUPLE) && add) {
        if (a->kind == TY_SIZE) return TY(TY_SIZE);  // torch.Size.__add__ keeps a Size
        if (b->kind == TY_SIZE) return types_tuple_of(I->L, types_join(I->L, iter_elem(I, a), TY(TY_INT)));
        if (!a->var && !b->var && a->n + b->n <= 64) {
            const Type *e[128];
            memcpy(e, a->elems, sizeof *e * a->n);
            memcpy(e + a->n, b->elems, sizeof *e * b->n);
            return types_tuple(I->L, e, a->n + b->n);
        }
        return types_tuple_of(I->L, types_join(I->L, iter_elem(I, a), iter_elem(I, b)));
    }
    if ((a->kind == TY_SIZE && (rb == 2 || rb == 1) && mul)) return TY(TY_SIZE);
    if (a->kind == TY_TUPLE && (rb == 2 || rb == 1) && mul) return types_tuple_of(I->L, iter_elem(I, a));
    if ((a->kind == TY_SET && b->kind == TY_SET) &&
        (strcmp(op, "|") == 0 || strcmp(op, "&") == 0 || strcmp(op, "-") == 0 || strcmp(op, "^") == 0))
        return types_join(I->L, a, b);
    if (a->kind == TY_DICT && b->kind == TY_DICT && strcmp(op, "|") == 0) return types_join(I->L, a, b);
    return TY(TY_UNKNOWN);  // instances (user operators), None (an error), ...
}

static const Type *arith(Inf *I, const char *op, const Type *a, const Type *b) {
    if (a->kind == TY_UNION || b->kind == TY_UNION) {
        const Type *j = TY(TY_BOTTOM);
        const Type *const *as = a->kind == TY_UNION ? a->elems : &a;
        const Type *const *bs = b->kind == TY_UNION ? b->elems : &b;
        uint32_t na = a->kind == TY_UNION ? a->n : 1, nb = b->kind == TY_UNION ? b->n : 1;
        for (uint32_t i = 0; i < na; i++)
            for (uint32_t k = 0; k < nb; k++) {
                if (as[i]->kind == TY_NONE || bs[k]->kind == TY_NONE) continue;  // a TypeError
                j = types_join(I->L, j, arith1(I, op, as[i], bs[k]));
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
    const Type *pos[16];
    uint32_t pos_nodes[16];
    size_t npos;
    const char *kwnames[16];
    size_t nkw;
    bool splat, kwsplat;
} CallArgs;

static void eval_args(Inf *I, Env *e, uint32_t call, CallArgs *ca) {
    const Cst *c = I->c;
    memset(ca, 0, sizeof *ca);
    uint32_t al = cst_field(c, call, F_ARGUMENTS);
    if (al == CST_NONE) return;
    if (c->nodes[al].kind != K_ARGUMENT_LIST) {  // f(x for x in y)
        ca->pos[0] = ev(I, e, al);
        ca->pos_nodes[0] = al;
        ca->npos = 1;
        return;
    }
    for (uint32_t k = 0; k < c->nodes[al].nchildren; k++) {
        uint32_t a = c->nodes[al].first_child + k;
        if (!c->nodes[a].named || c->nodes[a].kind == K_COMMENT) continue;
        uint32_t kind = c->nodes[a].kind;
        if (kind == K_KEYWORD_ARGUMENT) {
            ev(I, e, cst_field(c, a, F_VALUE));
            if (ca->nkw < 16) ca->kwnames[ca->nkw++] = cst_strdup(I->cx, c, cst_field(c, a, F_NAME));
        } else if (kind == K_DICT_SPLAT) {
            ev(I, e, a);
            ca->kwsplat = true;
        } else {
            const Type *t = ev(I, e, a);
            if (kind == K_LIST_SPLAT) ca->splat = true;
            if (ca->npos < 16) {
                ca->pos_nodes[ca->npos] = a;
                ca->pos[ca->npos++] = t;
            } else ca->npos++;
        }
    }
}

static const Type *arg0(const CallArgs *ca, Inf *I) { return ca->npos ? ca->pos[0] : TY(TY_UNKNOWN); }

static const Type *builtin_call(Inf *I, const char *b, const CallArgs *ca) {
    const Type *a = arg0(ca, I);
    if (ca->splat) {
        if (!strcmp(b, "len") || !strcmp(b, "hash") || !strcmp(b, "id")) return TY(TY_INT);
        if (!strcmp(b, "isinstance") || !strcmp(b, "hasattr") || !strcmp(b, "any") || !strcmp(b, "all"))
            return TY(TY_BOOL);
        return TY(TY_UNKNOWN);
    }
    static const struct { const char *name; TypeKind k; } simple[] = {
        {"int", TY_INT}, {"float", TY_FLOAT}, {"bool", TY_BOOL}, {"complex", TY_COMPLEX},
        {"str", TY_STR}, {"repr", TY_STR}, {"format", TY_STR}, {"chr", TY_STR}, {"bytes", TY_BYTES},
        {"bytearray", TY_BYTES}, {"len", TY_INT}, {"hash", TY_INT}, {"id", TY_INT}, {"ord", TY_INT},
        {"range", TY_RANGE}, {"isinstance", TY_BOOL}, {"issubclass", TY_BOOL}, {"hasattr", TY_BOOL},
        {"callable", TY_BOOL}, {"any", TY_BOOL}, {"all", TY_BOOL}, {"print", TY_NONE},
        {"setattr", TY_NONE}, {"slice", TY_SLICE}, {"type", TY_OBJECT}, {"object", TY_OBJECT},
        {"map", TY_UNKNOWN}, {"getattr", TY_UNKNOWN}, {"next", TY_UNKNOWN}, {"super", TY_OBJECT},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(b, simple[i].name) == 0) {
            return TY(simple[i].k);
        }
    if (!strcmp(b, "list") || !strcmp(b, "sorted") || !strcmp(b, "reversed") || !strcmp(b, "iter") ||
        !strcmp(b, "filter"))
        return types_list(I->L, ca->npos ? iter_elem(I, ca->pos[ca->npos - 1]) : TY(TY_BOTTOM));
    if (!strcmp(b, "tuple")) {
        if (!ca->npos) return types_tuple(I->L, NULL, 0);
        if (a->kind == TY_TUPLE) return a;
        return types_tuple_of(I->L, iter_elem(I, a));
    }
    if (!strcmp(b, "set") || !strcmp(b, "frozenset"))
        return types_set(I->L, ca->npos ? iter_elem(I, a) : TY(TY_BOTTOM));
    if (!strcmp(b, "dict")) {
        if (!ca->npos) return types_dict(I->L, ca->nkw ? TY(TY_STR) : TY(TY_BOTTOM), ca->nkw ? TY(TY_UNKNOWN) : TY(TY_BOTTOM));
        if (a->kind == TY_DICT) return a;
        return types_dict(I->L, TY(TY_UNKNOWN), TY(TY_UNKNOWN));
    }
    if (!strcmp(b, "enumerate")) {
        const Type *p[2] = {TY(TY_INT), iter_elem(I, a)};
        return types_list(I->L, types_tuple(I->L, p, 2));
    }
    if (!strcmp(b, "zip")) {
        const Type *p[16];
        size_t n = ca->npos < 16 ? ca->npos : 16;
        for (size_t i = 0; i < n; i++) p[i] = iter_elem(I, ca->pos[i]);
        return types_list(I->L, types_tuple(I->L, p, n));
    }
    if (!strcmp(b, "abs")) {
        if (a->kind == TY_TENSOR || num_rank(a->kind) >= 2) return a;
        return num_rank(a->kind) == 1 ? TY(TY_INT) : TY(TY_UNKNOWN);
    }
    if (!strcmp(b, "round")) {
        if (num_rank(a->kind) >= 1 && num_rank(a->kind) <= 3) return ca->npos >= 2 ? a : TY(TY_INT);
        return TY(TY_UNKNOWN);
    }
    if (!strcmp(b, "min") || !strcmp(b, "max")) {
        if (ca->npos == 1) return iter_elem(I, a);
        const Type *j = TY(TY_BOTTOM);
        for (size_t i = 0; i < ca->npos && i < 16; i++) j = types_join(I->L, j, ca->pos[i]);
        return j;
    }
    if (!strcmp(b, "sum")) {
        if (!ca->npos) return TY(TY_UNKNOWN);
        const Type *el = iter_elem(I, a);
        const Type *st = ca->npos > 1 ? ca->pos[1] : TY(TY_INT);
        if (el->kind == TY_BOTTOM) return st;
        return arith(I, "+", st, el);
    }
    if (!strcmp(b, "pow")) return ca->npos >= 2 ? arith(I, "**", ca->pos[0], ca->pos[1]) : TY(TY_UNKNOWN);
    if (!strcmp(b, "divmod")) {
        if (ca->npos < 2) return TY(TY_UNKNOWN);
        const Type *p[2] = {arith(I, "//", ca->pos[0], ca->pos[1]), arith(I, "%", ca->pos[0], ca->pos[1])};
        return types_tuple(I->L, p, 2);
    }
    return TY(TY_UNKNOWN);
}

static bool class_is_tensor(Inf *I, ClassInfo *ci, int depth) {
    if (!ci || depth > 8) return false;
    if (ci->mod && torchinfo_is_tensor_class(arena_printf(I->cx, "%s.%s", ci->mod->name, ci->name))) return true;
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

// A call to the callable with canonical name q (a chain not rooted at a local).
static const Type *qualified_call(Inf *I, uint32_t fnode, const char *q, const CallArgs *ca) {
    const OpTable *tab = I->cx->optable;
    if (tab && optable_has(tab, q)) {
        const OpEntry *en = optable_select(tab, q, ca->npos, ca->kwnames, ca->nkw);
        if (en && en->returns_quantized) return TY(TY_TENSOR);
        if (en) return TY(TY_UNKNOWN);
    }
    if (torchinfo_is_tensor_class(q)) return TY(TY_TENSOR);
    if (direct_member(q, "torch.")) {
        const char *n = q + 6;
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
    }
    if (direct_member(q, "torch.nn.functional.")) {
        static const char *const not_tensor[] = {"multi_head_attention_forward", "has_torch_function",
                                                 "handle_torch_function", "_in_projection_packed",
                                                 "_canonical_mask", "_none_or_dtype", NULL};
        if (!str_in(q + 20, not_tensor)) {
            for (size_t i = 0; i < ca->nkw; i++)
                if (!strcmp(ca->kwnames[i], "return_indices")) return TY(TY_UNKNOWN);
            return TY(TY_TENSOR);
        }
    }
    if (str_has_prefix(q, "torch.nn.init.")) return TY(TY_TENSOR);
    if (direct_member(q, "math.")) {
        if (str_in(q + 5, torchinfo_math_float_fns)) return TY(TY_FLOAT);
        if (str_in(q + 5, torchinfo_math_int_fns)) return TY(TY_INT);
        if (str_in(q + 5, torchinfo_math_bool_fns)) return TY(TY_BOOL);
    }
    if (!strcmp(q, "torch.jit.is_scripting") || !strcmp(q, "torch.jit.is_tracing") ||
        !strcmp(q, "torch.is_grad_enabled") || !strcmp(q, "torch.cuda.is_available") ||
        !strcmp(q, "torch.compiler.is_compiling") || !strcmp(q, "torch._C._get_tracing_state"))
        return TY(TY_BOOL);
    if (!strcmp(q, "warnings.warn") || !strcmp(q, "torch._assert") || !strcmp(q, "torch._C._log_api_usage_once"))
        return TY(TY_NONE);
    if (torchinfo_is_opaque_library(q)) {
        if (str_has_prefix(q, "torch.nn.")) {  // torch.nn.Linear(...)
            const char *t = strrchr(q, '.') + 1;
            if (t[0] >= 'A' && t[0] <= 'Z') return types_instance(I->L, q, NULL);
        }
        return TY(TY_UNKNOWN);
    }
    Symbol s = program_resolve(I->cx, I->mod, fnode);
    if (tab && (s.kind == SYM_FUNC || s.kind == SYM_NONE) && s.qualname && strcmp(s.qualname, q) != 0 &&
        optable_has(tab, s.qualname)) {  // a re-export of a table op
        const OpEntry *en = optable_select(tab, s.qualname, ca->npos, ca->kwnames, ca->nkw);
        if (en && en->returns_quantized) return TY(TY_TENSOR);
        if (en) return TY(TY_UNKNOWN);
    }
    if (s.kind == SYM_FUNC && s.fn) return func_return(I, s.fn);
    if (s.kind == SYM_CLASS && s.cls) return instance_of(I, s.cls, s.qualname ? s.qualname : q);
    if (s.kind == SYM_NONE || s.kind == SYM_EXTERN) {
        if (str_has_prefix(q, "torch.nn.")) {  // torch.nn.Linear without torch sources
            const char *t = strrchr(q, '.') + 1;
            if (t[0] >= 'A' && t[0] <= 'Z') return types_instance(I->L, q, NULL);
        }
    }
    return TY(TY_UNKNOWN);
}

// A method call recv.name(...) on a value of type rt.
static const Type *method_call(Inf *I, const Type *rt, const char *name, const CallArgs *ca) {
    switch (rt->kind) {
    case TY_TENSOR: case TY_UNKNOWN: case TY_BOTTOM: {
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
    case TY_SIZE:
        if (!strcmp(name, "numel") || !strcmp(name, "index") || !strcmp(name, "count")) return TY(TY_INT);
        return TY(TY_UNKNOWN);
    case TY_STR: {
        static const char *const strs[] = {"format", "join", "lower", "upper", "strip", "lstrip", "rstrip",
                                           "replace", "capitalize", "title", "zfill", "ljust", "rjust",
                                           "center", "removeprefix", "removesuffix", NULL};
        static const char *const bools[] = {"startswith", "endswith", "isdigit", "isalpha", "isalnum",
                                            "isspace", "isupper", "islower", "isidentifier", NULL};
        if (str_in(name, strs)) return TY(TY_STR);
        if (str_in(name, bools)) return TY(TY_BOOL);
        if (!strcmp(name, "split") || !strcmp(name, "rsplit") || !strcmp(name, "splitlines"))
            return types_list(I->L, TY(TY_STR));
        if (!strcmp(name, "find") || !strcmp(name, "index") || !strcmp(name, "count") || !strcmp(name, "rfind"))
            return TY(TY_INT);
        if (!strcmp(name, "encode")) return TY(TY_BYTES);
        return TY(TY_UNKNOWN);
    }
    case TY_LIST:
        if (!strcmp(name, "index") || !strcmp(name, "count")) return TY(TY_INT);
        if (!strcmp(name, "pop")) return rt->elems[0];
        if (!strcmp(name, "copy")) return rt;
        if (!strcmp(name, "append") || !strcmp(name, "extend") || !strcmp(name, "insert") ||
            !strcmp(name, "sort") || !strcmp(name, "reverse") || !strcmp(name, "clear") ||
            !strcmp(name, "remove"))
            return TY(TY_NONE);
        return TY(TY_UNKNOWN);
    case TY_TUPLE:
        if (!strcmp(name, "index") || !strcmp(name, "count")) return TY(TY_INT);
        return TY(TY_UNKNOWN);
    case TY_DICT: {
        const Type *k = rt->elems[0], *v = rt->elems[1];
        if (!strcmp(name, "keys")) return types_list(I->L, k);
        if (!strcmp(name, "values")) return types_list(I->L, v);
        if (!strcmp(name, "items")) {
            const Type *p[2] = {k, v};
            return types_list(I->L, types_tuple(I->L, p, 2));
        }
        if (!strcmp(name, "get")) return ca->npos >= 2 ? types_join(I->L, v, ca->pos[1]) : types_join(I->L, v, TY(TY_NONE));
        if (!strcmp(name, "pop")) return ca->npos >= 2 ? types_join(I->L, v, ca->pos[1]) : v;
        if (!strcmp(name, "copy")) return rt;
        return TY(TY_UNKNOWN);
    }
    case TY_INT: case TY_FLOAT:
        if (!strcmp(name, "bit_length")) return TY(TY_INT);
        if (!strcmp(name, "is_integer")) return TY(TY_BOOL);
        return TY(TY_UNKNOWN);
    case TY_INSTANCE:
        if (rt->cls) {
            FuncInfo *f = program_find_method(I->cx, rt->cls, name);
            if (f) return func_return(I, f);
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
        if (local_index(I, f) != UINT32_MAX) return TY(TY_UNKNOWN);  // a local callable
        const char *b = builtin_of(I, f);
        if (b) return builtin_call(I, b, &ca);
        const char *q = qualname_of(I, f);
        return q ? qualified_call(I, f, q, &ca) : TY(TY_UNKNOWN);
    }
    if (fk == K_ATTRIBUTE) {
        uint32_t obj = cst_field(c, f, F_OBJECT), an = cst_field(c, f, F_ATTRIBUTE);
        if (root_is_global(I, f)) {  // module.function(...)
            eval_args(I, e, node, &ca);
            const char *q = program_qualname(I->cx, I->mod, f);
            if (q) return qualified_call(I, f, q, &ca);
            ev(I, e, obj);
            return TY(TY_UNKNOWN);
        }
        size_t nl;
        const char *name = cst_text(c, an, &nl);
        char *nm = arena_strndup(I->cx, name, nl);
        if (is_self(I, obj) && I->cls) {
            ev(I, e, obj);
            eval_args(I, e, node, &ca);
            uint32_t ai = attr_index(I, f);
            if (ai != UINT32_MAX) return TY(TY_UNKNOWN);  // an attribute holding a callable
            FuncInfo *m = program_find_method(I->cx, I->cls, nm);
            if (m) return func_return(I, m);
            return TY(TY_UNKNOWN);  // self.sub(x): a submodule may return tensors
        }
        const Type *rt = ev(I, e, obj);
        eval_args(I, e, node, &ca);
        return method_call(I, rt, nm, &ca);
    }
    ev(I, e, f);
    eval_args(I, e, node, &ca);
    return TY(TY_UNKNOWN);
}

// Values of libraries known by name (torch.float32, math.pi); Unknown for the
// rest of those libraries; NULL: look the name up.
static const Type *known_value(Inf *I, const char *q) {
    if (torchinfo_is_dtype(q)) return TY(TY_DTYPE);
    static const char *const floats[] = {"math.pi", "math.e", "math.inf", "math.nan", "math.tau",
                                         "torch.pi", "torch.e", "torch.inf", "torch.nan", NULL};
    if (str_in(q, floats)) return TY(TY_FLOAT);
    if (!strcmp(q, "sys.maxsize")) return TY(TY_INT);
    if (torchinfo_is_opaque_library(q)) return TY(TY_UNKNOWN);
    return NULL;
}

static const Type *ev_attribute(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    uint32_t obj = cst_field(c, node, F_OBJECT), an = cst_field(c, node, F_ATTRIBUTE);
    if (an == CST_NONE) return TY(TY_UNKNOWN);
    size_t nl;
    const char *name = cst_text(c, an, &nl);
    uint32_t ai = attr_index(I, node);
    if (ai != UINT32_MAX) {
        ev(I, e, obj);
        const Type *t = read_var(I, e, ai);
        return t->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : t;
    }
    if (root_is_global(I, node)) {  // torch.float32, math.pi, module constants
        const char *q = program_qualname(I->cx, I->mod, node);
        if (q) {
            const Type *kt = known_value(I, q);
            if (kt) return kt;
            Symbol s = program_resolve(I->cx, I->mod, node);
            if (s.kind == SYM_MODULE || s.kind == SYM_EXTERN || s.kind == SYM_CLASS || s.kind == SYM_FUNC)
                return TY(TY_OBJECT);
            if (s.kind == SYM_VALUE && s.mod && s.qualname) {
                size_t ml = strlen(s.mod->name);
                if (!strncmp(s.qualname, s.mod->name, ml) && s.qualname[ml] == '.' &&
                    !strchr(s.qualname + ml + 1, '.'))
                    return module_value(I, s.mod, s.qualname + ml + 1);
            }
            return TY(TY_UNKNOWN);
        }
    }
    const Type *ot = ev(I, e, obj);
    char *nm = arena_strndup(I->cx, name, nl);
    if (is_self(I, obj) && I->cls) return class_attr(I, I->cls, nm, nl);
    switch (ot->kind) {
    case TY_TENSOR: case TY_UNKNOWN: case TY_BOTTOM: {
        if (!strcmp(nm, "shape")) return TY(TY_SIZE);
        if (!strcmp(nm, "ndim")) return TY(TY_INT);
        if (ot->kind != TY_TENSOR) return TY(TY_UNKNOWN);
        static const char *const tens[] = {"T", "mT", "H", "mH", "data", "grad", "real", "imag", NULL};
        static const char *const bools[] = {"is_cuda", "requires_grad", "is_leaf", "is_sparse",
                                            "is_quantized", "is_meta", NULL};
        if (str_in(nm, tens)) return TY(TY_TENSOR);
        if (str_in(nm, bools)) return TY(TY_BOOL);
        if (!strcmp(nm, "dtype")) return TY(TY_DTYPE);
        if (!strcmp(nm, "device")) return TY(TY_DEVICE);
        return TY(TY_UNKNOWN);
    }
    case TY_INSTANCE:
        if (ot->cls) return class_attr(I, ot->cls, nm, nl);
        return TY(TY_UNKNOWN);
    case TY_COMPLEX: case TY_FLOAT:
        if (!strcmp(nm, "real") || !strcmp(nm, "imag")) return TY(TY_FLOAT);
        return TY(TY_UNKNOWN);
    default: return TY(TY_UNKNOWN);
    }
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
            const Type *it = right == CST_NONE ? TY(TY_UNKNOWN) : ev(I, &ce, right);
            // `for x in a, b` has several right children
            for (uint32_t j = 0; j < c->nodes[ch].nchildren; j++) {
                uint32_t r2 = c->nodes[ch].first_child + j;
                if (r2 != right && c->nodes[r2].field == F_RIGHT) {
                    ev(I, &ce, r2);
                    it = TY(TY_UNKNOWN);
                }
            }
            if (left != CST_NONE) bind_target(I, &ce, left, iter_elem(I, it));
        } else if (c->nodes[ch].kind == K_IF_CLAUSE) {
            uint32_t cond = cst_named_child(c, ch, 0);
            if (cond != CST_NONE) ev(I, &ce, cond);
        }
    }
    if (body == CST_NONE) return TY(TY_UNKNOWN);
    uint32_t kind = c->nodes[node].kind;
    if (kind == K_DICT_COMP && c->nodes[body].kind == K_PAIR) {
        const Type *kt = ev(I, &ce, cst_field(c, body, F_KEY));
        const Type *vt = ev(I, &ce, cst_field(c, body, F_VALUE));
        record(I, body, TY(TY_UNKNOWN));
        return types_dict(I->L, kt, vt);
    }
    const Type *bt = ev(I, &ce, body);
    return kind == K_SET_COMP ? types_set(I->L, bt) : types_list(I->L, bt);
}

static const Type *ev_children(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
        uint32_t ch = c->nodes[node].first_child + k;
        if (c->nodes[ch].named && c->nodes[ch].kind != K_COMMENT) ev(I, e, ch);
    }
    return TY(TY_UNKNOWN);
}

static void narrow(Inf *I, Env *e, uint32_t cond, Env *then_e, Env *else_e);
static bool may_narrow(Inf *I, const Env *e, uint32_t cond, int depth);

static const Type *ev_inner(Inf *I, Env *e, uint32_t node) {
    const Cst *c = I->c;
    switch (c->nodes[node].kind) {
    case K_INTEGER: case K_FLOAT: case K_TRUE: case K_FALSE: case K_NONE: case K_CONCAT_STRING:
        if (c->nodes[node].kind == K_CONCAT_STRING) ev_children(I, e, node);
        return literal_type(I, c, node);
    case K_STRING:
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {  // f-string interpolations
            uint32_t ch = c->nodes[node].first_child + k;
            if (c->nodes[ch].named && c->nodes[ch].nchildren) ev_children(I, e, ch);
        }
        return literal_type(I, c, node);
    case K_ELLIPSIS: return TY(TY_OBJECT);
    case K_IDENTIFIER: {
        uint32_t li = local_index(I, node);
        if (li != UINT32_MAX) return read_var(I, e, li);
        const char *b = builtin_of(I, node);
        if (b) return TY(TY_OBJECT);
        const char *q = program_qualname(I->cx, I->mod, node);
        const Type *kt = q ? known_value(I, q) : NULL;
        if (kt) return kt;
        Symbol s = program_lookup(I->cx, I->mod, cst_strdup(I->cx, c, node));
        if (s.kind == SYM_MODULE || s.kind == SYM_EXTERN || s.kind == SYM_CLASS || s.kind == SYM_FUNC)
            return TY(TY_OBJECT);
        if (s.kind == SYM_VALUE && s.mod && s.qualname) {
            const char *dot = strrchr(s.qualname, '.');
            return module_value(I, s.mod, dot ? dot + 1 : s.qualname);
        }
        return TY(TY_UNKNOWN);
    }
    case K_ATTRIBUTE: return ev_attribute(I, e, node);
    case K_CALL: return ev_call(I, e, node);
    case K_PAREN_EXPR: {
        uint32_t in = cst_named_child(c, node, 0);
        return in == CST_NONE ? TY(TY_UNKNOWN) : ev(I, e, in);
    }
    case K_SUBSCRIPT: {
        const Type *vt = ev(I, e, cst_field(c, node, F_VALUE));
        uint32_t idx = CST_NONE;
        size_t nidx = 0;
        const Type *it = TY(TY_UNKNOWN);
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
            uint32_t ch = c->nodes[node].first_child + k;
            if (c->nodes[ch].field != F_SUBSCRIPT) continue;
            it = ev(I, e, ch);
            idx = ch;
            nidx++;
        }
        if (nidx != 1) return vt->kind == TY_TENSOR ? TY(TY_TENSOR) : TY(TY_UNKNOWN);
        return subscript_type(I, vt, c, idx, it);
    }
    case K_SLICE: ev_children(I, e, node); return TY(TY_SLICE);
    case K_BINARY_OP: {
        const Type *l = ev(I, e, cst_field(c, node, F_LEFT));
        const Type *r = ev(I, e, cst_field(c, node, F_RIGHT));
        uint32_t op = cst_field(c, node, F_OPERATOR);
        if (op == CST_NONE) return TY(TY_UNKNOWN);
        return arith(I, cst_strdup(I->cx, c, op), l, r);
    }
    case K_UNARY_OP: {
        const Type *a = ev(I, e, cst_field(c, node, F_ARGUMENT));
        uint32_t op = cst_field(c, node, F_OPERATOR);
        return op == CST_NONE ? TY(TY_UNKNOWN) : unary_type(I, cst_strdup(I->cx, c, op), a);
    }
    case K_NOT_OP: ev_children(I, e, node); return TY(TY_BOOL);
    case K_COMPARISON: ev_children(I, e, node); return TY(TY_BOOL);
    case K_BOOLEAN_OP: {
        uint32_t l = cst_field(c, node, F_LEFT), r = cst_field(c, node, F_RIGHT);
        const Type *lt = ev(I, e, l);
        if (!may_narrow(I, e, l, 0)) return types_join(I->L, lt, ev(I, e, r));
        // the right operand runs only when the left one is true (and) / false (or)
        Env te = env_copy(I, e), fe = env_copy(I, e);
        narrow(I, e, l, &te, &fe);
        bool is_and = text_is(c, cst_field(c, node, F_OPERATOR), "and");
        const Type *rt = ev(I, is_and ? &te : &fe, r);
        return types_join(I->L, lt, rt);
    }
    case K_CONDITIONAL_EXPR: {
        uint32_t a = cst_named_child(c, node, 0), cond = cst_named_child(c, node, 1),
                 b = cst_named_child(c, node, 2);
        if (cond != CST_NONE) ev(I, e, cond);
        if (cond == CST_NONE || !may_narrow(I, e, cond, 0)) {
            const Type *at = a == CST_NONE ? TY(TY_UNKNOWN) : ev(I, e, a);
            return types_join(I->L, at, b == CST_NONE ? TY(TY_UNKNOWN) : ev(I, e, b));
        }
        Env te = env_copy(I, e), fe = env_copy(I, e);
        if (cond != CST_NONE) narrow(I, e, cond, &te, &fe);
        const Type *at = a == CST_NONE ? TY(TY_UNKNOWN) : ev(I, &te, a);
        const Type *bt = b == CST_NONE ? TY(TY_UNKNOWN) : ev(I, &fe, b);
        return types_join(I->L, at, bt);
    }
    case K_TUPLE: case K_EXPRESSION_LIST: case K_PATTERN_LIST: {
        const Type *el[64];
        size_t n = 0;
        bool star = false;
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
            uint32_t ch = c->nodes[node].first_child + k;
            if (!c->nodes[ch].named || c->nodes[ch].kind == K_COMMENT) continue;
            const Type *t = ev(I, e, ch);
            if (c->nodes[ch].kind == K_LIST_SPLAT) {
                star = true;
                t = iter_elem(I, t);
            }
            j = types_join(I->L, j, t);
            if (n < 64) el[n] = t;
            n++;
        }
        if (star || n > 64) return types_tuple_of(I->L, j);
        return types_tuple(I->L, el, n);
    }
    case K_LIST: case K_SET: {
        const Type *j = TY(TY_BOTTOM);
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
            uint32_t ch = c->nodes[node].first_child + k;
            if (!c->nodes[ch].named || c->nodes[ch].kind == K_COMMENT) continue;
            const Type *t = ev(I, e, ch);
            if (c->nodes[ch].kind == K_LIST_SPLAT) t = iter_elem(I, t);
            j = types_join(I->L, j, t);
        }
        return c->nodes[node].kind == K_LIST ? types_list(I->L, j) : types_set(I->L, j);
    }
    case K_DICT: {
        const Type *kj = TY(TY_BOTTOM), *vj = TY(TY_BOTTOM);
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
            uint32_t ch = c->nodes[node].first_child + k;
            if (!c->nodes[ch].named || c->nodes[ch].kind == K_COMMENT) continue;
            if (c->nodes[ch].kind == K_PAIR) {
                kj = types_join(I->L, kj, ev(I, e, cst_field(c, ch, F_KEY)));
                vj = types_join(I->L, vj, ev(I, e, cst_field(c, ch, F_VALUE)));
            } else {
                const Type *t = ev(I, e, ch);
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
    case K_LIST_COMP: case K_SET_COMP: case K_DICT_COMP: case K_GENERATOR:
        return ev_comprehension(I, e, node);
    case K_LIST_SPLAT: case K_DICT_SPLAT: {
        uint32_t in = cst_named_child(c, node, 0);
        return in == CST_NONE ? TY(TY_UNKNOWN) : ev(I, e, in);
    }
    case K_KEYWORD_ARGUMENT: {
        uint32_t v = cst_field(c, node, F_VALUE);
        return v == CST_NONE ? TY(TY_UNKNOWN) : ev(I, e, v);
    }
    case K_NAMED_EXPR: {
        const Type *t = ev(I, e, cst_field(c, node, F_VALUE));
        uint32_t nm = cst_field(c, node, F_NAME);
        if (nm != CST_NONE) bind_target(I, e, nm, t);
        return t;
    }
    case K_LAMBDA: return TY(TY_OBJECT);
    case K_AWAIT: case K_YIELD: ev_children(I, e, node); return TY(TY_UNKNOWN);
    default: return ev_children(I, e, node);
    }
}

static const Type *ev(Inf *I, Env *e, uint32_t node) {
    if (node == CST_NONE) return TY(TY_UNKNOWN);
    if (I->depth > EXPR_DEPTH_MAX) return TY(TY_UNKNOWN);  // nothing below is recorded: candidates
    I->depth++;
    const Type *t = ev_inner(I, e, node);
    I->depth--;
    record(I, node, t);
    return t;
}

// ---------------------------------------------------------------------------
// Assignment targets
// ---------------------------------------------------------------------------

static void set_var(Inf *I, Env *e, uint32_t idx, const Type *t) {
    if (I->decl[idx]) t = I->decl[idx];
    if (I->pinned[idx]) t = TY(TY_UNKNOWN);
    e->v[idx] = t;
    I->acc[idx] = types_join(I->L, I->acc[idx], t);
    I->nassign[idx]++;
}

// Element i of n when unpacking a value of type t (star: the starred one).
static const Type *unpack_elem(Inf *I, const Type *t, size_t i, size_t n, bool star_here, size_t star_at) {
    if (t->kind == TY_TUPLE && !t->var) {
        if (star_at == SIZE_MAX) return t->n == n ? t->elems[i] : iter_elem(I, t);
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
        for (uint32_t k = 0; k < t->n; k++) j = types_join(I->L, j, unpack_elem(I, t->elems[k], i, n, star_here, star_at));
        return j;
    }
    const Type *el = iter_elem(I, t);
    return star_here ? types_list(I->L, el) : el;
}

static void bind_target(Inf *I, Env *e, uint32_t target, const Type *t) {
    const Cst *c = I->c;
    target = cst_unparen(c, target);
    if (target == CST_NONE) return;
    switch (c->nodes[target].kind) {
    case K_IDENTIFIER: {
        uint32_t li = local_index(I, target);
        if (li != UINT32_MAX) {
            set_var(I, e, li, t);
            record(I, target, e->v[li]);
        }
        return;
    }
    case K_ATTRIBUTE: {
        uint32_t ai = attr_index(I, target);
        ev(I, e, cst_field(c, target, F_OBJECT));
        if (ai != UINT32_MAX) {
            set_var(I, e, ai, t);
            record(I, target, e->v[ai]);
        }
        return;
    }
    case K_SUBSCRIPT:
        ev(I, e, cst_field(c, target, F_VALUE));
        for (uint32_t k = 0; k < c->nodes[target].nchildren; k++) {
            uint32_t ch = c->nodes[target].first_child + k;
            if (c->nodes[ch].field == F_SUBSCRIPT) ev(I, e, ch);
        }
        return;
    case K_LIST_SPLAT_PATTERN: case K_LIST_SPLAT: {
        uint32_t in = cst_named_child(c, target, 0);
        if (in != CST_NONE) bind_target(I, e, in, t);
        return;
    }
    case K_PATTERN_LIST: case K_TUPLE_PATTERN: case K_LIST_PATTERN: case K_TUPLE: case K_LIST:
    case K_EXPRESSION_LIST: {
        uint32_t kids[64];
        size_t n = 0, star_at = SIZE_MAX;
        for (uint32_t k = 0; k < c->nodes[target].nchildren; k++) {
            uint32_t ch = c->nodes[target].first_child + k;
            if (!c->nodes[ch].named || c->nodes[ch].kind == K_COMMENT) continue;
            if (n == 64) {  // too many targets: nothing known
                for (size_t i = 0; i < n; i++) bind_target(I, e, kids[i], TY(TY_UNKNOWN));
                n = 0;
            }
            uint32_t ck = c->nodes[ch].kind;
            if (ck == K_LIST_SPLAT_PATTERN || ck == K_LIST_SPLAT) star_at = n;
            kids[n++] = ch;
        }
        for (size_t i = 0; i < n; i++)
            bind_target(I, e, kids[i], unpack_elem(I, t, i, n, i == star_at, star_at));
        return;
    }
    default: ev(I, e, target); return;
    }
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
    if ((k != K_IDENTIFIER && k != K_ATTRIBUTE) || root_is_local(I, cls_node)) return TY(TY_UNKNOWN);
    return type_of_name(I, I->mod, c, cls_node);
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
        uint32_t li = local_index(I, node);
        return li != UINT32_MAX && !I->pinned[li] ? li : UINT32_MAX;
    }
    if (c->nodes[node].kind == K_ATTRIBUTE) {
        uint32_t ai = attr_index(I, node);
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

// Could narrow() refine anything for this condition? (Saves the copies of
// the environment for the common conditions that say nothing about types.)
static bool may_narrow(Inf *I, const Env *e, uint32_t cond, int depth) {
    const Cst *c = I->c;
    cond = cst_unparen(c, cond);
    if (cond == CST_NONE || depth > 64) return false;
    switch (c->nodes[cond].kind) {
    case K_NOT_OP: return may_narrow(I, e, cst_field(c, cond, F_ARGUMENT), depth + 1);
    case K_BOOLEAN_OP:
        return may_narrow(I, e, cst_field(c, cond, F_LEFT), depth + 1) ||
               may_narrow(I, e, cst_field(c, cond, F_RIGHT), depth + 1);
    case K_CALL: {
        const char *b = builtin_of(I, cst_field(c, cond, F_FUNCTION));
        return b && strcmp(b, "isinstance") == 0;
    }
    case K_COMPARISON: {
        uint32_t y = cst_named_child(c, cond, 1);
        return y != CST_NONE && c->nodes[cst_unparen(c, y)].kind == K_NONE;
    }
    case K_IDENTIFIER: case K_ATTRIBUTE: {
        uint32_t v = narrow_var(I, cond);
        return v != UINT32_MAX && has_none(e->v[v]);
    }
    default: return false;
    }
}

static void narrow(Inf *I, Env *e, uint32_t cond, Env *then_e, Env *else_e) {
    if (I->depth > EXPR_DEPTH_MAX) return;  // no refinement is always right
    I->depth++;
    narrow_inner(I, e, cond, then_e, else_e);
    I->depth--;
}

static void narrow_inner(Inf *I, Env *e, uint32_t cond, Env *then_e, Env *else_e) {
    const Cst *c = I->c;
    cond = cst_unparen(c, cond);
    if (cond == CST_NONE) return;
    switch (c->nodes[cond].kind) {
    case K_NOT_OP: narrow(I, e, cst_field(c, cond, F_ARGUMENT), else_e, then_e); return;
    case K_BOOLEAN_OP: {
        uint32_t l = cst_field(c, cond, F_LEFT), r = cst_field(c, cond, F_RIGHT);
        bool is_and = text_is(c, cst_field(c, cond, F_OPERATOR), "and");
        if (!may_narrow(I, e, cond, 0)) return;
        Env lt = env_copy(I, e), lf = env_copy(I, e);
        narrow(I, e, l, &lt, &lf);
        Env *mid = is_and ? &lt : &lf;
        Env rt = env_copy(I, mid), rf = env_copy(I, mid);
        narrow(I, mid, r, &rt, &rf);
        if (is_and) {
            env_assign(then_e, &rt, I->nvars);
            env_assign(else_e, &lf, I->nvars);
            env_join_into(I, else_e, &rf);
        } else {
            env_assign(then_e, &lt, I->nvars);
            env_join_into(I, then_e, &rt);
            env_assign(else_e, &rf, I->nvars);
        }
        return;
    }
    case K_CALL: {
        uint32_t f = cst_field(c, cond, F_FUNCTION);
        const char *b = builtin_of(I, f);
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
        return;
    }
    case K_COMPARISON: {  // x is None / x is not None
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
            else if (cst_text_is(c, ch, "not") && pos) { pos = false; neg = true; }
        }
        if (pos == neg) return;
        Env *not_none = neg ? then_e : else_e, *none = neg ? else_e : then_e;
        const Type *cur = not_none->v[v];
        if (cur->kind != TY_BOTTOM && cur->kind != TY_UNKNOWN) not_none->v[v] = without_none(I, cur);
        cur = none->v[v];
        if (cur->kind != TY_BOTTOM && cur->kind != TY_UNKNOWN) none->v[v] = types_meet(I->L, cur, TY(TY_NONE));
        return;
    }
    case K_IDENTIFIER: case K_ATTRIBUTE: {  // `if x:` rules out None
        uint32_t v = narrow_var(I, cond);
        if (v == UINT32_MAX) return;
        const Type *cur = then_e->v[v];
        if (cur->kind != TY_BOTTOM && cur->kind != TY_UNKNOWN) then_e->v[v] = without_none(I, cur);
        return;
    }
    default: return;
    }
}

// ---------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------

static void exec_block(Inf *I, Env *e, uint32_t block);

static const Type *exec_assignment(Inf *I, Env *e, uint32_t asg) {
    const Cst *c = I->c;
    uint32_t left = cst_field(c, asg, F_LEFT), right = cst_field(c, asg, F_RIGHT), type = cst_field(c, asg, F_TYPE);
    const Type *t;
    if (right == CST_NONE) t = NULL;  // a bare declaration
    else if (c->nodes[right].kind == K_ASSIGNMENT) t = exec_assignment(I, e, right);  // a = b = value
    else t = ev(I, e, right);
    if (type != CST_NONE) {
        const Type *at = ann(I, I->mod, c, type, 0);
        if (!t) {  // `x: int` binds nothing, but the declaration holds from here
            uint32_t li = c->nodes[cst_unparen(c, left)].kind == K_IDENTIFIER ? local_index(I, left) : attr_index(I, left);
            if (li != UINT32_MAX) record(I, left, at);
            return at;
        }
        t = at;
    }
    if (!t) return TY(TY_UNKNOWN);
    bind_target(I, e, left, t);
    return t;
}

static void exec_simple(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    switch (c->nodes[st].kind) {
    case K_EXPR_STMT:
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
            uint32_t x = c->nodes[st].first_child + k;
            if (!c->nodes[x].named || c->nodes[x].kind == K_COMMENT) continue;
            if (c->nodes[x].kind == K_ASSIGNMENT) exec_assignment(I, e, x);
            else if (c->nodes[x].kind == K_AUG_ASSIGNMENT) {
                uint32_t left = cst_field(c, x, F_LEFT), right = cst_field(c, x, F_RIGHT);
                const Type *lt = ev(I, e, left);
                const Type *rt = ev(I, e, right);
                uint32_t op = cst_field(c, x, F_OPERATOR);
                const Type *t = TY(TY_UNKNOWN);
                if (op != CST_NONE) {
                    char *o = cst_strdup(I->cx, c, op);
                    size_t n = strlen(o);
                    if (n >= 2) o[n - 1] = '\0';
                    t = arith(I, o, lt, rt);
                }
                record(I, x, t);
                uint32_t lu = cst_unparen(c, left);
                if (lu != CST_NONE && (c->nodes[lu].kind == K_IDENTIFIER || c->nodes[lu].kind == K_ATTRIBUTE))
                    bind_target(I, e, lu, t);
            } else if (!I->map && c->nodes[x].kind == K_CALL) {
                // a call for its effect while only attributes are wanted (an
                // __init__): its arguments may bind names, its callee is not read
                uint32_t al = cst_field(c, x, F_ARGUMENTS);
                if (al != CST_NONE) ev_children(I, e, al);
            } else ev(I, e, x);
        }
        return;
    case K_RETURN: case K_RAISE:
        ev_children(I, e, st);
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
    case K_DELETE:
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
            uint32_t x = c->nodes[st].first_child + k;
            if (!c->nodes[x].named) continue;
            uint32_t kids[64];
            size_t n = 0;
            if (c->nodes[x].kind == K_EXPRESSION_LIST)
                for (uint32_t j = 0; j < cst_named_count(c, x) && n < 64; j++) kids[n++] = cst_named_child(c, x, j);
            else kids[n++] = x;
            for (size_t j = 0; j < n; j++) {
                uint32_t t = cst_unparen(c, kids[j]);
                uint32_t li = c->nodes[t].kind == K_IDENTIFIER ? local_index(I, t) : UINT32_MAX;
                if (li != UINT32_MAX) e->v[li] = TY(TY_BOTTOM);
                else ev(I, e, t);
            }
        }
        return;
    case K_ASSERT: {
        uint32_t cond = cst_named_child(c, st, 0);
        ev_children(I, e, st);
        if (cond != CST_NONE) {
            Env te = env_copy(I, e), fe = env_copy(I, e);
            narrow(I, e, cond, &te, &fe);
            env_assign(e, &te, I->nvars);
        }
        return;
    }
    case K_IMPORT: case K_IMPORT_FROM: {  // names bound to modules / unknown values
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
            uint32_t x = c->nodes[st].first_child + k;
            if (c->nodes[x].field != F_NAME) continue;
            uint32_t id = x;
            if (c->nodes[x].kind == K_ALIASED_IMPORT) id = cst_field(c, x, F_ALIAS);
            else if (c->nodes[x].kind == K_DOTTED_NAME) id = cst_named_child(c, x, 0);
            if (id != CST_NONE && c->nodes[id].kind == K_IDENTIFIER) {
                uint32_t li = local_index(I, id);
                if (li != UINT32_MAX) set_var(I, e, li, c->nodes[st].kind == K_IMPORT ? TY(TY_OBJECT) : TY(TY_UNKNOWN));
            }
        }
        return;
    }
    case K_PASS: case K_GLOBAL: case K_NONLOCAL: case K_COMMENT: case K_FUTURE_IMPORT: return;
    default: ev_children(I, e, st); return;
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
            if (left != CST_NONE) bind_target(I, &cur, left, elem);
        } else {
            exit_normal = env_copy(I, &cur);
            if (cond != CST_NONE) {
                ev(I, &cur, cond);
                Env te = env_copy(I, &cur);
                exit_normal = env_copy(I, &cur);
                narrow(I, &cur, cond, &te, &exit_normal);
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

static void exec_stmt(Inf *I, Env *e, uint32_t st) {
    const Cst *c = I->c;
    if (e->dead) return;
    switch (c->nodes[st].kind) {
    case K_IF: {
        uint32_t cond = cst_field(c, st, F_CONDITION);
        ev(I, e, cond);
        Env te = env_copy(I, e), fe = env_copy(I, e);
        narrow(I, e, cond, &te, &fe);
        uint32_t cons = cst_field(c, st, F_CONSEQUENCE);
        if (cons != CST_NONE) exec_block(I, &te, cons);
        Env out = te;
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
            uint32_t alt = c->nodes[st].first_child + k;
            if (c->nodes[alt].field != F_ALTERNATIVE) continue;
            if (fe.dead) break;
            if (c->nodes[alt].kind == K_ELIF) {
                uint32_t ec = cst_field(c, alt, F_CONDITION);
                ev(I, &fe, ec);
                Env t2 = env_copy(I, &fe), f2 = env_copy(I, &fe);
                narrow(I, &fe, ec, &t2, &f2);
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
        return;
    }
    case K_FOR: {
        uint32_t right = cst_field(c, st, F_RIGHT);
        const Type *it = right == CST_NONE ? TY(TY_UNKNOWN) : ev(I, e, right);
        exec_loop(I, e, st, true, iter_elem(I, it));
        return;
    }
    case K_WHILE: exec_loop(I, e, st, false, NULL); return;
    case K_WITH: {
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) {
            uint32_t wc = c->nodes[st].first_child + k;
            if (c->nodes[wc].kind != K_WITH_CLAUSE) continue;
            for (uint32_t j = 0; j < c->nodes[wc].nchildren; j++) {
                uint32_t item = c->nodes[wc].first_child + j;
                if (c->nodes[item].kind != K_WITH_ITEM) continue;
                uint32_t v = cst_field(c, item, F_VALUE);
                if (v != CST_NONE && c->nodes[v].kind == K_AS_PATTERN) {
                    ev(I, e, cst_named_child(c, v, 0));
                    uint32_t alias = cst_field(c, v, F_ALIAS);
                    if (alias != CST_NONE) {
                        uint32_t tgt = cst_named_child(c, alias, 0);
                        if (tgt != CST_NONE) bind_target(I, e, tgt, TY(TY_UNKNOWN));
                    }
                } else if (v != CST_NONE) ev(I, e, v);
            }
        }
        uint32_t body = cst_field(c, st, F_BODY);
        if (body != CST_NONE) exec_block(I, e, body);
        return;
    }
    case K_TRY: {
        Env in = env_copy(I, e);
        uint32_t *before = ARENA_ARRAY(I->cx, uint32_t, I->nvars ? I->nvars : 1);
        memcpy(before, I->nassign, sizeof *before * I->nvars);
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
            if (kind == K_EXCEPT) {
                Env he = env_copy(I, &h);
                uint32_t blk = CST_NONE;
                for (uint32_t j = 0; j < c->nodes[ch].nchildren; j++) {
                    uint32_t x = c->nodes[ch].first_child + j;
                    if (!c->nodes[x].named || c->nodes[x].kind == K_COMMENT) continue;
                    if (c->nodes[x].kind == K_BLOCK) blk = x;
                    else if (c->nodes[x].kind == K_AS_PATTERN) {
                        ev(I, &he, cst_named_child(c, x, 0));
                        uint32_t alias = cst_field(c, x, F_ALIAS);
                        uint32_t tgt = alias == CST_NONE ? CST_NONE : cst_named_child(c, alias, 0);
                        if (tgt != CST_NONE) bind_target(I, &he, tgt, TY(TY_OBJECT));
                    } else ev(I, &he, x);
                }
                if (blk != CST_NONE) exec_block(I, &he, blk);
                env_join_into(I, &handlers, &he);
            } else if (kind == K_ELSE) {
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
        return;
    }
    case K_MATCH: {
        uint32_t subj = cst_named_child(c, st, 0);
        if (subj != CST_NONE) ev(I, e, subj);
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
                if (c->nodes[x].named && x != blk && c->nodes[x].field == F_NONE && c->nodes[x].kind == K_IF_CLAUSE)
                    ev(I, &ce, cst_named_child(c, x, 0));
            }
            if (blk != CST_NONE) exec_block(I, &ce, blk);
            env_join_into(I, &out, &ce);
        }
        env_assign(e, &out, I->nvars);
        return;
    }
    case K_FUNCTION_DEF: case K_CLASS_DEF: {
        uint32_t nm = cst_field(c, st, F_NAME);
        if (nm != CST_NONE) {
            uint32_t li = local_index(I, nm);
            if (li != UINT32_MAX) set_var(I, e, li, TY(TY_OBJECT));
        }
        return;
    }
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

static void collect_target(Inf *I, uint32_t t) {
    const Cst *c = I->c;
    t = cst_unparen(c, t);
    if (t == CST_NONE) return;
    size_t n;
    switch (c->nodes[t].kind) {
    case K_IDENTIFIER: {
        const char *s = cst_text(c, t, &n);
        add_var(I, &I->locals, s, n);
        return;
    }
    case K_ATTRIBUTE: {
        uint32_t obj = cst_unparen(c, cst_field(c, t, F_OBJECT)), a = cst_field(c, t, F_ATTRIBUTE);
        if (!I->self_name || obj == CST_NONE || a == CST_NONE || c->nodes[obj].kind != K_IDENTIFIER) return;
        const char *s = cst_text(c, obj, &n);
        if (n != I->self_len || memcmp(s, I->self_name, n) != 0) return;
        s = cst_text(c, a, &n);
        add_var(I, &I->attrs, s, n);
        return;
    }
    case K_PATTERN_LIST: case K_TUPLE_PATTERN: case K_LIST_PATTERN: case K_TUPLE: case K_LIST:
    case K_EXPRESSION_LIST: case K_LIST_SPLAT_PATTERN: case K_LIST_SPLAT: case K_AS_PATTERN: case K_OTHER:
        for (uint32_t k = 0; k < c->nodes[t].nchildren; k++) {
            uint32_t ch = c->nodes[t].first_child + k;
            if (c->nodes[ch].named) collect_target(I, ch);
        }
        return;
    default: return;
    }
}

typedef struct Pending {  // declarations and pins found while collecting
    PtrVec decl_nodes;    // uint32_t: annotated assignment nodes
    PtrVec pins;          // uint32_t: identifiers of global/nonlocal
} Pending;

static void collect(Inf *I, uint32_t node, Pending *p, int depth) {
    const Cst *c = I->c;
    if (depth > 400) return;
    uint32_t kind = c->nodes[node].kind;
    switch (kind) {
    case K_FUNCTION_DEF: case K_CLASS_DEF:
        collect_target(I, cst_field(c, node, F_NAME));
        return;  // their bodies are other scopes
    case K_LAMBDA: return;
    case K_ASSIGNMENT: case K_AUG_ASSIGNMENT:
        collect_target(I, cst_field(c, node, F_LEFT));
        if (kind == K_ASSIGNMENT && cst_field(c, node, F_TYPE) != CST_NONE)
            vec_push(I->cx, &p->decl_nodes, (void *)(uintptr_t)node);
        break;
    case K_FOR: case K_FOR_IN_CLAUSE: collect_target(I, cst_field(c, node, F_LEFT)); break;
    case K_NAMED_EXPR: collect_target(I, cst_field(c, node, F_NAME)); break;
    case K_AS_PATTERN: {
        uint32_t alias = cst_field(c, node, F_ALIAS);
        if (alias != CST_NONE) collect_target(I, alias);
        break;
    }
    case K_IMPORT: case K_IMPORT_FROM:
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
            uint32_t x = c->nodes[node].first_child + k;
            if (c->nodes[x].field != F_NAME) continue;
            if (c->nodes[x].kind == K_ALIASED_IMPORT) collect_target(I, cst_field(c, x, F_ALIAS));
            else if (c->nodes[x].kind == K_DOTTED_NAME) collect_target(I, cst_named_child(c, x, 0));
        }
        return;
    case K_GLOBAL: case K_NONLOCAL:
        for (uint32_t k = 0; k < c->nodes[node].nchildren; k++) {
            uint32_t x = c->nodes[node].first_child + k;
            if (c->nodes[x].kind == K_IDENTIFIER) {
                collect_target(I, x);
                vec_push(I->cx, &p->pins, (void *)(uintptr_t)x);
            }
        }
        return;
    case K_MATCH: {  // capture patterns bind names
        uint32_t body = cst_field(c, node, F_BODY);
        for (uint32_t k = 0; body != CST_NONE && k < c->nodes[body].nchildren; k++) {
            uint32_t cc = c->nodes[body].first_child + k;
            for (uint32_t j = 0; j < c->nodes[cc].nchildren; j++) {
                uint32_t x = c->nodes[cc].first_child + j;
                if (c->nodes[x].named && c->nodes[x].kind == K_OTHER && c->nodes[x].field == F_NONE) {
                    // every identifier in the pattern (conservative: dotted values too)
                    uint32_t stack[256];
                    size_t sp = 0;
                    stack[sp++] = x;
                    while (sp) {
                        uint32_t y = stack[--sp];
                        if (c->nodes[y].kind == K_IDENTIFIER) collect_target(I, y);
                        for (uint32_t q = 0; q < c->nodes[y].nchildren && sp < 256; q++)
                            stack[sp++] = c->nodes[y].first_child + q;
                    }
                }
            }
        }
        break;
    }
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
    case K_DEFAULT_PARAMETER: case K_TYPED_DEFAULT_PARAMETER: return cst_field(c, p, F_NAME);
    case K_TYPED_PARAMETER: case K_LIST_SPLAT_PATTERN: case K_DICT_SPLAT_PATTERN: {
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

static void inf_init(Inf *I, Shared *S, const FuncInfo *fn, const ClassInfo *cls, NodeMap *map) {
    memset(I, 0, sizeof *I);
    I->cx = S->cx;
    I->L = S->L;
    I->S = S;
    I->map = map;
    I->fn = fn;
    I->mod = fn->mod;
    I->c = fn->mod->cst;
    I->cls = cls ? cls : fn->owner;
    const Cst *c = I->c;
    uint32_t ps = cst_field(c, fn->def, F_PARAMETERS);
    if (fn->kind == FN_INSTANCE && I->cls && ps != CST_NONE) {
        uint32_t p0 = cst_named_child(c, ps, 0);
        uint32_t nm = p0 == CST_NONE ? CST_NONE : param_name(c, p0);
        if (nm != CST_NONE && !param_is(c, p0, K_LIST_SPLAT_PATTERN) && !param_is(c, p0, K_DICT_SPLAT_PATTERN)) {
            size_t n;
            I->self_name = cst_text(c, nm, &n);
            I->self_len = n;
        }
    }
    // parameters first, then every other binding of the body
    for (uint32_t k = 0; ps != CST_NONE && k < c->nodes[ps].nchildren; k++) {
        uint32_t p = c->nodes[ps].first_child + k;
        if (!c->nodes[p].named) continue;
        uint32_t nm = param_name(c, p);
        if (nm != CST_NONE) collect_target(I, nm);
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
    for (size_t i = 0; i < pend.pins.len; i++) {
        uint32_t li = local_index(I, (uint32_t)(uintptr_t)pend.pins.items[i]);
        if (li != UINT32_MAX) I->pinned[li] = true;
    }
    for (size_t i = 0; i < pend.decl_nodes.len; i++) {  // `x: T = v` declares x for the whole function
        uint32_t asg = (uint32_t)(uintptr_t)pend.decl_nodes.items[i];
        uint32_t left = cst_unparen(c, cst_field(c, asg, F_LEFT));
        uint32_t li = CST_NONE;
        if (left != CST_NONE && c->nodes[left].kind == K_IDENTIFIER) li = local_index(I, left);
        else if (left != CST_NONE && c->nodes[left].kind == K_ATTRIBUTE) li = attr_index(I, left);
        if (li == UINT32_MAX || li == CST_NONE || I->decl[li]) continue;
        I->decl[li] = ann(I, I->mod, c, cst_field(c, asg, F_TYPE), 0);
    }
}

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
        uint32_t li = local_index(I, nm);
        if (li == UINT32_MAX) continue;
        uint32_t ty = cst_field(c, p, F_TYPE);
        const Type *t = ty != CST_NONE ? ann(I, I->mod, c, ty, 0) : TY(TY_UNKNOWN);
        if (first && I->self_name && nm != CST_NONE && local_index(I, nm) == li &&
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

// --- return annotations, module values, class attributes ---

static const Type *func_return(Inf *I, const FuncInfo *f) {
    if (!f || !f->mod || !f->mod->cst) return TY(TY_UNKNOWN);
    uint32_t rt = cst_field(f->mod->cst, f->def, F_RETURN_TYPE);
    if (rt == CST_NONE) return TY(TY_UNKNOWN);
    const Type *t = ann(I, f->mod, f->mod->cst, rt, 0);
    return t->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : t;
}

// A module-level `NAME = value` / `NAME: T = value`: its annotation or the
// value's type (evaluated with no locals).
static const Type *module_value(Inf *I, Module *m, const char *name) {
    if (!m || !m->cst || I->S->nest > NEST_MAX) return TY(TY_UNKNOWN);
    const Binding *b = program_binding(m, name);
    if (!b || b->kind != BIND_ASSIGN) return TY(TY_UNKNOWN);
    // a name assigned more than once at module level: unknown
    size_t count = 0;
    for (size_t i = 0; i < m->bindings.len; i++)
        if (strcmp(VEC_AT(m->bindings, Binding, i)->name, name) == 0) count++;
    if (count != 1) return TY(TY_UNKNOWN);
    const Cst *c = m->cst;
    uint32_t st = b->node;
    uint32_t asg = c->nodes[st].kind == K_EXPR_STMT ? cst_named_child(c, st, 0) : st;
    if (asg == CST_NONE || c->nodes[asg].kind != K_ASSIGNMENT) return TY(TY_UNKNOWN);
    uint32_t left = cst_unparen(c, cst_field(c, asg, F_LEFT)), right = cst_field(c, asg, F_RIGHT),
             type = cst_field(c, asg, F_TYPE);
    if (left == CST_NONE || c->nodes[left].kind != K_IDENTIFIER || !cst_text_is(c, left, name)) return TY(TY_UNKNOWN);
    if (type != CST_NONE) return ann(I, m, c, type, 0);
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
    const Type *t = ev(&sub, &e, right);
    I->S->nest--;
    return t->kind == TY_BOTTOM ? TY(TY_UNKNOWN) : t;
}

static void scan_assigned_attrs(Inf *I, const Cst *c, uint32_t node, const char *self, size_t slen,
                                PtrVec *out, int depth) {
    if (depth > 400) return;
    uint32_t kind = c->nodes[node].kind;
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA) return;
    if (kind == K_ASSIGNMENT || kind == K_AUG_ASSIGNMENT || kind == K_NAMED_EXPR || kind == K_FOR ||
        kind == K_FOR_IN_CLAUSE || kind == K_AS_PATTERN) {
        uint32_t stack[64], sp = 0;
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
            for (uint32_t k = 0; k < c->nodes[x].nchildren && sp < 64; k++) {
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

// Add what class ci (and its bases) says about instance attributes.
static void gather_class(Inf *I, ClassAttrs *ca, ClassInfo *ci, int depth) {
    if (!ci || depth > 8 || !ci->mod || !ci->mod->cst) return;
    // torch's own classes (nn.Module, nn.Linear, ...): their attributes stay unknown
    if (str_has_prefix(ci->mod->name, "torch") && (ci->mod->name[5] == '.' || ci->mod->name[5] == '\0')) return;
    const Cst *c = ci->mod->cst;
    // class-level `x: int = 3` / `x = 3`
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
        if (type != CST_NONE) t = ann(I, ci->mod, c, type, 0);
        else if (right != CST_NONE) {
            t = literal_type(I, c, cst_unparen(c, right));
        } else continue;
        attrs_put(I, ca, cst_strdup(I->cx, c, left), t);
    }
    for (size_t i = 0; i < ci->methods.len; i++) {
        FuncInfo *f = ci->methods.items[i];
        uint32_t ps = cst_field(c, f->def, F_PARAMETERS);
        uint32_t p0 = ps == CST_NONE ? CST_NONE : cst_named_child(c, ps, 0);
        uint32_t nm = p0 == CST_NONE ? CST_NONE : param_name(c, p0);
        if (f->kind != FN_INSTANCE || nm == CST_NONE) continue;
        if (strcmp(f->name, "__init__") == 0 && I->S->nest <= NEST_MAX) {
            // run inference over __init__: every value assigned to self.x
            Inf sub;
            I->S->nest++;
            inf_init(&sub, I->S, f, (ClassInfo *)ca->cls, NULL);
            inf_run(&sub);
            I->S->nest--;
            for (size_t h = 0; h < sub.attr_vars.len; h++) {
                uint32_t idx = attr_var(&sub, h);
                const Type *t = sub.decl[idx] ? sub.decl[idx] : sub.acc[idx];
                if (t->kind == TY_BOTTOM) t = TY(TY_UNKNOWN);
                attrs_put(I, ca, sub.var_names.items[idx], t);
            }
        } else {
            // assigned by another method: nothing known (unless declared there)
            PtrVec names = {0};
            size_t n;
            const char *self = cst_text(c, nm, &n);
            uint32_t b = cst_field(c, f->def, F_BODY);
            if (b != CST_NONE) scan_assigned_attrs(I, c, b, self, n, &names, 0);
            for (size_t j = 0; j < names.len; j++) attrs_put(I, ca, names.items[j], TY(TY_UNKNOWN));
        }
    }
    for (size_t i = 0; i < ci->bases.len; i++) {
        ClassInfo *b = program_base(I->cx, ci, i);
        if (b && b != ci) gather_class(I, ca, b, depth + 1);
    }
}

static ClassAttrs *class_attrs(Inf *I, const ClassInfo *ci) {
    for (size_t i = 0; i < I->S->classes.len; i++) {
        ClassAttrs *ca = I->S->classes.items[i];
        if (ca->cls == ci) return ca;
    }
    ClassAttrs *ca = ARENA_NEW(I->cx, ClassAttrs);
    ca->cls = ci;
    vec_push(I->cx, &I->S->classes, ca);
    ca->busy = true;
    gather_class(I, ca, (ClassInfo *)ci, 0);
    ca->busy = false;
    return ca;
}

static const Type *class_attr(Inf *I, const ClassInfo *cls, const char *name, size_t len) {
    (void)len;
    ClassAttrs *ca = class_attrs(I, cls);
    if (ca->busy) return TY(TY_UNKNOWN);  // asked while inferring its own __init__
    for (size_t i = 0; i < ca->names.len; i++)
        if (strcmp(VEC_AT(ca->names, const char, i), name) == 0) return ca->types.items[i];
    if (program_find_method(I->cx, cls, name)) return TY(TY_OBJECT);  // a bound method
    if (strcmp(name, "training") == 0 && program_is_module_class(I->cx, (ClassInfo *)cls)) return TY(TY_BOOL);
    return TY(TY_UNKNOWN);
}

// ---------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------

Types *types_infer(ffq_ctx *cx, const FuncInfo *fn, const ClassInfo *cls) {
    Types *t = ARENA_NEW(cx, Types);
    t->fn = fn;
    t->cls = cls;
    t->L = types_lattice_new(cx);
    if (!fn || !fn->mod || !fn->mod->cst) return t;
    Shared *S = ARENA_NEW(cx, Shared);
    S->cx = cx;
    S->L = t->L;
    Inf I;
    inf_init(&I, S, fn, cls, &t->map);
    inf_run(&I);
    return t;
}

const Type *types_of_node(const Types *t, uint32_t node) { return t ? type_get(&t->map, node) : NULL; }

static bool arg_may_be_tensor(const Types *t, uint32_t node) {
    return types_may_be_tensor(types_of_node(t, node));
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
    case K_BINARY_OP: case K_AUG_ASSIGNMENT:
        return arg_may_be_tensor(t, cst_field(c, node, F_LEFT)) || arg_may_be_tensor(t, cst_field(c, node, F_RIGHT));
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

void types_dump(ffq_ctx *cx, const Types *t, StrBuf *out) {
    const FuncInfo *fn = t->fn;
    if (!fn) return;
    const ClassInfo *owner = t->cls ? t->cls : fn->owner;
    sb_printf(cx, out, "# types of %s%s%s\n", owner ? owner->name : "", owner ? "." : "", fn->name);
    const Cst *c = fn->mod->cst;
    size_t n = 0;
    DumpItem *items = ARENA_ARRAY(cx, DumpItem, t->map.len ? t->map.len : 1);
    for (uint32_t node = 0; t->map.len && node < c->count; node++) {  // node order, then sorted
        const Type *ty = type_get(&t->map, node);
        if (!ty) continue;
        const CstNode *nd = &c->nodes[node];
        const char *name = NULL;
        if (nd->kind == K_IDENTIFIER) {
            // names, not attribute parts, callees or keyword names
            if (nd->parent != CST_NONE) {
                const CstNode *p = &c->nodes[nd->parent];
                if (p->kind == K_ATTRIBUTE && nd->field == F_ATTRIBUTE) continue;
                if (p->kind == K_CALL && nd->field == F_FUNCTION) continue;
                if (p->kind == K_KEYWORD_ARGUMENT && nd->field == F_NAME) continue;
            }
            name = cst_strdup(cx, c, node);
        } else if (nd->kind == K_ATTRIBUTE) {
            const char *d = program_dotted_text(cx, c, node);
            if (!d || !strchr(d, '.') || strchr(strchr(d, '.') + 1, '.')) continue;
            uint32_t obj = cst_field(c, node, F_OBJECT);
            if (obj == CST_NONE || c->nodes[obj].kind != K_IDENTIFIER) continue;
            const Type *ot = type_get(&t->map, obj);
            if (!ot || ot->kind != TY_INSTANCE) continue;  // self.x and other instances' attributes
            if (nd->parent != CST_NONE && c->nodes[nd->parent].kind == K_CALL && nd->field == F_FUNCTION) continue;
            name = d;
        } else continue;
        uint32_t line, col;
        srcfile_linecol(c->file, nd->start, &line, &col);
        items[n].start = nd->start;
        items[n].end = nd->end;
        items[n].line = line;
        items[n].text = arena_printf(cx, "%s: %s", name, types_str(cx, ty));
        n++;
    }
    qsort(items, n, sizeof *items, dump_cmp);
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
