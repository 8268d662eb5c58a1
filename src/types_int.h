// types_int.h: what the files of type inference share. Not for other
// passes: they use types.h. The files call downwards only:
//   types.c        statements, running a function, class attributes, API
//   types_expr.c   expressions, module-level values, assignment targets
//   types_names.c  names, annotations, literals, return annotations, narrowing
//   types_lattice.c
// The one question an expression asks that takes a whole inference (a
// class's instance attributes, from running its __init__) goes up through
// Shared.class_attr, which types.c sets.
//
// Functions shared between these files are prefixed ty_ (the public ones
// in types.h are types_).
#ifndef FFQ_TYPES_INT_H
#define FFQ_TYPES_INT_H

#include <string.h>

#include "containers.h"
#include "ffq_int.h"
#include "optable.h"
#include "torchinfo.h"
#include "types.h"

enum {
    UNION_MAX = 8,          // more members: Unknown
    TYPE_DEPTH_MAX = 6,     // container nesting; deeper: Unknown
    EXPR_DEPTH_MAX = 200,   // expression recursion
    LOOP_ITERS = 4,         // fixpoint iterations of a loop before widening
    NEST_MAX = 6,           // nested inferences (__init__ of classes, module values)
    NARROW_DEPTH_MAX = 64,  // and/or/not nesting a condition is narrowed through
    SCAN_DEPTH_MAX = 400,   // statement nesting scanned for self attributes (locals: locals.c)
    TUPLE_MAX = 64,         // tuple elements (and targets, type arguments) typed one by one
    CALL_ARGS_MAX = 16,     // arguments of a call typed one by one
    CLASS_DEPTH_MAX = 8,    // base classes searched for attributes / a tensor class
    ANN_DEPTH_MAX = 16,     // annotation nesting
};

// --- the lattice (types_lattice.c) ---

struct Type {
    TypeKind kind;
    uint32_t id;
    uint32_t n;                // number of elems
    bool var;                  // tuple[T, ...]
    uint8_t depth;             // nesting depth of containers
    const Type *const *elems;  // list/set: [elem]; dict: [k, v]; tuple; union members (sorted by id)
    const char *name;          // TY_INSTANCE qualname
    ClassInfo *cls;
};

struct TypeLattice {
    ffq_ctx *cx;
    const Type *basic[TY_OBJECT + 1];
    StrMap tab;  // interning key (type_key) -> composite Type
    uint32_t next_id;
};

// ---------------------------------------------------------------------------
// Small maps: node -> type, name -> index
// ---------------------------------------------------------------------------

// The maps come from containers.h. Types are stored as void * in a NodeMap
// (the lattice owns them; nothing writes through the pointer), variable
// indices as index + 1 in a StrMap (0 would read as "absent").

static inline void type_put(ffq_ctx *cx, NodeMap *m, uint32_t key, const Type *t) {
    nodemap_put(cx, m, key, (void *)t);
}

static inline const Type *type_get(const NodeMap *m, uint32_t key) { return nodemap_get(m, key); }

static inline uint32_t namemap_get(const StrMap *m, const char *s, size_t n) {
    uintptr_t v = (uintptr_t)strmap_get(m, s, n);
    return v ? (uint32_t)(v - 1) : UINT32_MAX;
}

static inline void namemap_put(ffq_ctx *cx, StrMap *m, const char *s, size_t n, uint32_t idx) {
    strmap_put(cx, m, s, n, (void *)((uintptr_t)idx + 1));
}

// ---------------------------------------------------------------------------
// Inference state
// ---------------------------------------------------------------------------

struct Types {
    const FuncInfo *fn;
    ClassInfo *cls;
    TypeLattice *L;
    NodeMap map;
};

typedef struct ClassAttrs {
    ClassInfo *cls;
    bool busy;
    PtrVec names;  // const char *
    PtrVec types;  // const Type *
} ClassAttrs;

typedef struct Inf Inf;

typedef struct Shared {
    ffq_ctx *cx;
    TypeLattice *L;
    PtrVec classes;  // ClassAttrs *
    int nest;        // nested inferences (__init__ of classes, module values)
    // The type of attribute `name` of instances of cls (types.c: class_attr).
    const Type *(*class_attr)(Inf *I, ClassInfo *cls, const char *name, size_t len);
} Shared;

typedef struct Env {
    const Type **v;
    bool dead;
} Env;

typedef struct Loop {
    Env brk, cont;  // joined states at `break` / `continue` (dead: none yet)
} Loop;

struct Inf {
    ffq_ctx *cx;
    TypeLattice *L;
    Shared *S;
    NodeMap *map;  // where types are recorded (NULL: nowhere)
    const Cst *c;
    Module *mod;
    const FuncInfo *fn;
    ClassInfo *cls;  // class of `self`
    const char *self_name;
    size_t self_len;
    StrMap locals, attrs;  // local names / self attributes -> variable index
    uint32_t nvars;
    PtrVec var_names;        // const char * of each variable (attributes without "self.")
    PtrVec attr_vars;        // variable index + 1 of each self attribute, in first-seen order
    const Type **decl;       // declared (annotated) type of each variable, or NULL
    bool *pinned;            // global/nonlocal: always Unknown
    const Type **acc;        // join of every value assigned to each variable
    uint32_t *nassign;       // assignments to each variable so far
    const Type **attr_init;  // initial type of self attributes (from the class)
    Loop *loop;
    int depth;
};

static inline const Type *T_(Inf *I, TypeKind k) { return I->L->basic[k]; }
#define TY(k) T_(I, k)

static inline void record(Inf *I, uint32_t node, const Type *t) {
    if (I->map && node != CST_NONE) type_put(I->cx, I->map, node, t);
}

static inline bool text_is(const Cst *c, uint32_t n, const char *s) {
    return n != CST_NONE && cst_text_is(c, n, s);
}

static inline bool str_in(const char *s, const char *const *list) {
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return true;
    return false;
}

// --- environments ---

static inline Env env_new(Inf *I) {
    Env e = {ARENA_ARRAY(I->cx, const Type *, I->nvars ? I->nvars : 1), false};
    for (uint32_t i = 0; i < I->nvars; i++) e.v[i] = TY(TY_BOTTOM);
    return e;
}

static inline Env env_copy(Inf *I, const Env *src) {
    Env e = {ARENA_ARRAY(I->cx, const Type *, I->nvars ? I->nvars : 1), src->dead};
    if (I->nvars) memcpy(e.v, src->v, sizeof *e.v * I->nvars);
    return e;
}

static inline Env env_dead(Inf *I) {
    Env e = env_new(I);
    e.dead = true;
    return e;
}

static inline void env_assign(Env *dst, const Env *src, uint32_t n) {
    if (n) memcpy(dst->v, src->v, sizeof *dst->v * n);
    dst->dead = src->dead;
}

static inline void env_join_into(Inf *I, Env *dst, const Env *src) {
    if (src->dead) return;
    if (dst->dead) {
        env_assign(dst, src, I->nvars);
        return;
    }
    for (uint32_t i = 0; i < I->nvars; i++) dst->v[i] = types_join(I->L, dst->v[i], src->v[i]);
}

static inline bool env_eq(Inf *I, const Env *a, const Env *b) {
    if (a->dead != b->dead) return false;
    return a->dead || I->nvars == 0 || memcmp(a->v, b->v, sizeof *a->v * I->nvars) == 0;
}

// --- names, annotations, literals, narrowing (types_names.c) ---

uint32_t ty_local_index(Inf *I, uint32_t ident);
uint32_t ty_attr_index(Inf *I, uint32_t node);
bool ty_is_self(Inf *I, uint32_t node);
bool ty_root_is_local(Inf *I, uint32_t node);
bool ty_root_is_global(Inf *I, uint32_t node);
const char *ty_qualname_of(Inf *I, uint32_t node);
const char *ty_builtin_of(Inf *I, uint32_t node);
const Type *ty_ann(Inf *I, Module *m, const Cst *c, uint32_t node, int depth);
const Type *ty_type_of_name(Inf *I, Module *m, const Cst *c, uint32_t node);
const Type *ty_literal_type(Inf *I, const Cst *c, uint32_t node);
const Type *ty_func_return(Inf *I, const FuncInfo *f);
bool ty_may_narrow(Inf *I, const Env *e, uint32_t cond, int depth);
void ty_narrow(Inf *I, Env *e, uint32_t cond, Env *then_e, Env *else_e);

// --- expressions, module values, targets (types_expr.c) ---

const Type *ty_ev(Inf *I, Env *e, uint32_t node);
void ty_bind_target(Inf *I, Env *e, uint32_t target, const Type *t);
const Type *ty_iter_elem(Inf *I, const Type *t);
const Type *ty_arith(Inf *I, const char *op, const Type *a, const Type *b);
const Type *ty_ev_children(Inf *I, Env *e, uint32_t node);
void ty_set_var(Inf *I, Env *e, uint32_t idx, const Type *t);
const Type *ty_module_value(Inf *I, Module *m, const char *name);

#endif
