// types_lattice.c: the type lattice of inference (spec §7): interned types,
// join and meet, printing. See types.h for the API.
#include <stdlib.h>

#include "types_int.h"

// ---------------------------------------------------------------------------
// The lattice
// ---------------------------------------------------------------------------

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

ClassInfo *types_instance_class(const Type *t) { return t && t->kind == TY_INSTANCE ? t->cls : NULL; }

TypeKind types_kind(const Type *t) { return t ? t->kind : TY_UNKNOWN; }

const Type *types_basic(TypeLattice *L, TypeKind k) {
    ffq_assert(k <= TY_OBJECT);
    return L->basic[k];
}

// The interning key of a composite type: kind, var, the member ids, the
// instance name. Written into `buf` when it fits, else into the arena.
static const char *type_key(TypeLattice *L, char *buf, size_t cap, TypeKind kind, const Type *const *elems,
                            uint32_t n, bool var, const char *name, size_t *len) {
    size_t nlen = name ? strlen(name) : 0;
    *len = 2 + 4 * (size_t)n + nlen;
    char *k = *len <= cap ? buf : arena_alloc(L->cx, *len);
    k[0] = (char)kind;
    k[1] = var;
    for (uint32_t i = 0; i < n; i++) memcpy(k + 2 + 4 * i, &elems[i]->id, 4);
    if (nlen) memcpy(k + 2 + 4 * (size_t)n, name, nlen);
    return k;
}

static const Type *intern(TypeLattice *L, TypeKind kind, const Type *const *elems, uint32_t n, bool var,
                          const char *name, ClassInfo *cls) {
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

const Type *types_list(TypeLattice *L, const Type *elem) {
    return intern(L, TY_LIST, &elem, 1, false, NULL, NULL);
}
const Type *types_set(TypeLattice *L, const Type *elem) {
    return intern(L, TY_SET, &elem, 1, false, NULL, NULL);
}
const Type *types_tuple(TypeLattice *L, const Type *const *elems, size_t n) {
    if (n > TUPLE_MAX) {  // a huge literal tuple: its element join is enough
        const Type *j = L->basic[TY_BOTTOM];
        for (size_t i = 0; i < n; i++) j = types_join(L, j, elems[i]);
        return types_tuple_of(L, j);
    }
    return intern(L, TY_TUPLE, elems, (uint32_t)n, false, NULL, NULL);
}
const Type *types_tuple_of(TypeLattice *L, const Type *elem) {
    return intern(L, TY_TUPLE, &elem, 1, true, NULL, NULL);
}
const Type *types_dict(TypeLattice *L, const Type *key, const Type *value) {
    const Type *kv[2] = {key, value};
    return intern(L, TY_DICT, kv, 2, false, NULL, NULL);
}
const Type *types_instance(TypeLattice *L, const char *qualname, ClassInfo *cls) {
    return intern(L, TY_INSTANCE, NULL, 0, false, qualname ? qualname : "?", cls);
}

static bool is_container(TypeKind k) { return k == TY_LIST || k == TY_SET || k == TY_TUPLE || k == TY_DICT; }

// A union of members (flattened, no Bottom, no duplicates): Unknown beyond UNION_MAX.
static const Type *make_union(TypeLattice *L, const Type **m, size_t n) {
    // sort by id (insertion sort: n is small), drop duplicates
    for (size_t i = 1; i < n; i++) {
        const Type *x = m[i];
        size_t j = i;
        while (j > 0 && m[j - 1]->id > x->id) {
            m[j] = m[j - 1];
            j--;
        }
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
    case TY_DICT:
        return types_dict(L, types_join(L, a->elems[0], b->elems[0]),
                          types_join(L, a->elems[1], b->elems[1]));
    case TY_TUPLE: {
        if (!a->var && !b->var && a->n == b->n) {
            const Type *e[TUPLE_MAX];
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
    if (a->kind == TY_UNION)
        for (uint32_t i = 0; i < a->n; i++) m[n++] = a->elems[i];
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
    case TY_DICT:
        return types_dict(L, types_meet(L, a->elems[0], b->elems[0]),
                          types_meet(L, a->elems[1], b->elems[1]));
    case TY_TUPLE: {
        if (a->var && b->var) return types_tuple_of(L, types_meet(L, a->elems[0], b->elems[0]));
        if (a->var || b->var) {
            const Type *v = a->var ? a : b, *f = v == a ? b : a;
            const Type *e[TUPLE_MAX];
            for (uint32_t i = 0; i < f->n; i++) e[i] = types_meet(L, f->elems[i], v->elems[0]);
            return types_tuple(L, e, f->n);
        }
        if (a->n != b->n) return L->basic[TY_BOTTOM];
        const Type *e[TUPLE_MAX];
        for (uint32_t i = 0; i < a->n; i++) e[i] = types_meet(L, a->elems[i], b->elems[i]);
        return types_tuple(L, e, a->n);
    }
    default: return L->basic[TY_BOTTOM];
    }
}

bool types_may_be_tensor(const Type *t) {
    if (!t) return true;
    switch (t->kind) {
    case TY_BOTTOM:
    case TY_UNKNOWN:
    case TY_TENSOR: return true;
    case TY_LIST:
    case TY_SET:
    case TY_TUPLE:
    case TY_DICT:
    case TY_UNION:
        for (uint32_t i = 0; i < t->n; i++)
            if (types_may_be_tensor(t->elems[i])) return true;
        return false;
    default: return false;
    }
}

bool types_is_container(const Type *t) {
    return t && (t->kind == TY_LIST || t->kind == TY_TUPLE || t->kind == TY_DICT || t->kind == TY_SET);
}

static void type_str(ffq_ctx *cx, const Type *t, StrBuf *sb) {
    static const char *const names[] = {
        [TY_BOTTOM] = "Never",  [TY_UNKNOWN] = "Unknown", [TY_TENSOR] = "Tensor",   [TY_BOOL] = "bool",
        [TY_INT] = "int",       [TY_FLOAT] = "float",     [TY_COMPLEX] = "complex", [TY_STR] = "str",
        [TY_BYTES] = "bytes",   [TY_NONE] = "None",       [TY_SIZE] = "Size",       [TY_DTYPE] = "dtype",
        [TY_DEVICE] = "device", [TY_RANGE] = "range",     [TY_SLICE] = "slice",     [TY_OBJECT] = "object",
    };
    switch (t->kind) {
    case TY_LIST:
    case TY_SET:
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
