// rewrite_int.h: what the files of the per-function rewrite plan share
// (rewrite.c, rewrite_candidates.c, rewrite_flow.c, rewrite_env.c, rewrite_place.c). Other passes use
// rewrite.h.
//
// Functions shared between these files are prefixed rw_.
#ifndef FFQ_REWRITE_INT_H
#define FFQ_REWRITE_INT_H

#include "containers.h"
#include "ffq_int.h"
#include "rewrite.h"
#include "types.h"

// --- the analysis state ---

typedef struct Scope Scope;

typedef enum ProdKind { PR_PARAM, PR_ASSIGN, PR_TMP, PR_FOR, PR_WITH, PR_COMP } ProdKind;

// RwState producer (§2.3): something that gives a variable its value.
typedef struct Prod {
    ProdKind kind;
    const char *key;  // variable name, or "#<id>" for a temporary
    const char *var;  // variable name (NULL for temporaries)
    TmpVar *tmp;
    uint32_t node;        // parameter / statement / for / with node
    GenLine *tmp_line;    // PR_TMP: the line defining the temporary
    uint32_t order;       // parameter index
    bool born_quantized;  // the value is the output of a quantized op
    bool marked;          // needs a quantizer
    QuantTag tag;         // PR_ASSIGN of a module tensor (`w = self.weight`): its tag
    QuantTag slot_tag;    // QT_WEIGHT / QT_BIAS: the value is passed as an operator's weight / bias
    Quantizer *q;
    PtrVec uses;           // PR_COMP: identifier nodes quantized inline (§2.5), in order
    uint64_t union_stamp;  // rewrite_env.c: the last join that saw this producer
} Prod;

// What may reach a point for one name (rewrite_env.c). An entry in an environment is never
// changed: setting or joining makes new entries.
// A list of producers; the joins (rewrite_env.c) share tails between lists.
typedef struct ProdList {
    Prod *p;
    const struct ProdList *next;
} ProdList;

typedef struct EnvEntry {
    const char *key;
    uint64_t hash;
    const ProdList *prods;        // at least one, each once, in order of first appearance
    const struct EnvEntry *next;  // the next entry whose key has the same hash
} EnvEntry;

// An environment: a persistent trie (rewrite_env.c). Copying the struct copies the
// environment; the copies never see each other's changes.
typedef struct EnvNode EnvNode;
typedef struct Env {
    const EnvNode *root;  // NULL: empty
} Env;

// An expression quantizer use (§2.4).
typedef struct ExprUse {
    const char *text;
    const char *ident;
    uint32_t node;
    bool is_inline;
    QuantTag tag;      // by the expression's shape: module state (self.<...>) or an activation
    const char *slot;  // the operator parameter it is passed as ("weight", "bias", ...)
} ExprUse;

struct Scope {
    Scope *parent;
    uint32_t block;   // the block this branch scope covers
    PtrVec children;  // Scope *
    PtrVec uses;      // ExprUse * used directly in this scope
    PtrVec avail;     // const char * texts available in this scope (bottom-up)
    PtrVec owned;     // ExprUse * (one per text) owned by this scope
};

typedef struct ExprQ {  // one per expression text in the function
    const char *text;
    const char *ident;
    bool is_inline;
    Quantizer *q;
    const char *var;  // the hoisted form's variable, once chosen
} ExprQ;

typedef struct Loop {
    struct Loop *outer;
    PtrVec breaks;  // Env * at each break
} Loop;

typedef struct RwState {
    ffq_ctx *cx;
    Conv *cv;
    const Cst *c;
    uint32_t stmt;  // simple statement whose candidates are being isolated
    uint32_t body;  // the function body block
    uint32_t ntmp;
    NodeMap tmp_lines;   // statement -> PtrVec of GenLine * (GEN_TMP, in order)
    NodeMap prods_of;    // statement/param node -> PtrVec of Prod *
    NodeMap scope_of;    // block -> Scope *
    NodeMap use_of;      // expression node -> its ExprUse * (loops are walked twice)
    NodeMap loop_state;  // for/while node -> Env * at its head (grows to the fixpoint)
    Scope *scope;        // current branch scope during flow
    Scope *root;
    PtrVec exprqs;  // ExprQ *
    Loop *loop;
    PtrVec params;         // Prod * of eligible parameters, in order
    const Types *types;    // NULL when type inference is off
    const Locals *locals;  // names bound inside the function (they shadow module names)
    PtrVec comp_prods;     // PR_COMP producers with uses, in order of first use
    int nwalrus;           // `__ffN` names handed out
    PtrVec in_place;  // changes in place in the body (uintptr_t nodes: `name.m_(...)`, `name[i] = v`), once
                      // listed
    PtrVec bindings;  // assignments to a name in the body (uintptr_t nodes), listed with them
    bool in_place_listed;
    StrMap changing_params;  // "<FuncInfo *>/<param>" -> 1 (kept) or 2 (changed in place by the callee)
    StrMap names;  // every name the function's text uses (hoisted variables avoid them), once listed
    bool names_listed;
    bool failed;
} RwState;

enum { ARGS_MAX = 64 };  // arguments of a call bound to an operator's parameters

typedef struct Args {
    uint32_t pos[ARGS_MAX];
    size_t npos;
    uint32_t kw[ARGS_MAX];  // keyword_argument nodes
    const char *kwnames[ARGS_MAX];
    size_t nkw;
    bool pos_after_kw;
} Args;

typedef struct Owned {
    ExprQ *eq;
    PtrVec uses;  // ExprUse * in this scope's subtree
} Owned;

// --- state, classification, operators, calls, walk 1 (rewrite_candidates.c) ---

void rw_absolute_imports(RwState *a, uint32_t n);
void rw_visit_block(RwState *a, uint32_t block);
void rw_order_sites(RwState *a);

void rw_mark_dirty(RwState *a, uint32_t n);
Quantizer *rw_new_quantizer(RwState *a, const char *base, TmpVar *tmp);
void rw_fail(RwState *a, uint32_t node, const char *code, const char *what);
bool rw_is_literal(const Cst *c, uint32_t n);
bool rw_collect_args(RwState *a, uint32_t call, Args *out);
const OpEntry *rw_lookup_op(RwState *a, uint32_t n, Args *args);
uint32_t rw_in_place_after(RwState *a, uint32_t binding, const char *name, size_t len);
// Whether attribute name node attr is a tensor method that changes its object in place:
// one trailing underscore, not a dunder or a private name (`add_`, `masked_fill_`).
bool rw_is_in_place_method(const Cst *c, uint32_t attr);
bool rw_is_scope_boundary(uint32_t kind);
// The names a value reads (not attribute names), appended to out (rewrite_share.c).
void rw_names_read(RwState *a, uint32_t n, PtrVec *out);

// --- walk 2: flow (rewrite_flow.c) ---

// Environments (rewrite_env.c): the entry of key, or NULL; name := {p}; dst := dst | src,
// true when dst gained a producer.
const EnvEntry *rw_env_find(const Env *e, const char *key);
void rw_env_set(RwState *a, Env *e, Prod *p);
bool rw_env_union(RwState *a, Env *dst, const Env *src);
// dst joined with every environment of envs (Env *), in order; envs' items are replaced.
void rw_env_union_all(RwState *a, Env *dst, PtrVec *envs);
// The bits of a key's hash the tries use: all of them; the unit tests narrow it so that keys
// share slots at every level and whole hashes (entry chains).
extern uint64_t rw_env_hash_mask;
Prod *rw_producer(RwState *a, ProdKind kind, uint32_t node, const char *key);
void rw_flow_block(RwState *a, uint32_t block, Env *env, bool *dead);
Scope *rw_new_scope(RwState *a, uint32_t block);

// --- parameters, expression quantizers, walk 3 (rewrite_place.c) ---

const char *rw_first_param_name(ffq_ctx *cx, const Cst *c, const FuncInfo *fn);
void rw_add_params(RwState *a, Env *env);
void rw_compute_avail(RwState *a, Scope *s);
void rw_assign_owners(RwState *a, Scope *s, const PtrVec *inherited);
void rw_keep_unsafe_inline(RwState *a, Scope *s);
void rw_place_owned(RwState *a, Scope *s, Owned *o, PtrVec *hoists);
void rw_create_block(RwState *a, uint32_t block);
// The tag of a module tensor by its attribute name: ...weight, ...bias, else parameter.
QuantTag rw_param_tag(const char *name);
// A module tensor (QT_PARAMETER) passed as an operator's `weight` / `bias` is that.
QuantTag rw_slot_tag(QuantTag tag, const char *slot);
void rw_finish_lines(RwState *a, PtrVec *hoists);
void rw_place_params(RwState *a);

// --- walk 4: one evaluation per block (rewrite_share.c) ---

// In an instance method, inline quantizer calls a block evaluates more than once on the same
// value run once into a temporary (§2.4).
void rw_share_block_quantizers(RwState *a);

#endif
