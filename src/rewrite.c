// rewrite.c: plan the conversion of one function (spec §2, §3, §9.5).
//
// Consumes: a FuncInfo, its Module and Cst, its inferred types, the operator
// table. Produces: a Conv (see rewrite.h). Three walks, in order:
//   1. candidates (rewrite_candidates.c): every call / operator is examined
//      in post-order; table ops become QOps (creating their output
//      quantizers, §3.3 step 1) and candidates nested in a simple statement
//      are isolated into temporaries;
//   2. flow (rewrite_flow.c): a reaching-definitions walk over the
//      structured body decides which producers and which expressions are
//      quantized (§2.2-§2.4);
//   3. creation (rewrite_place.c): a depth-first walk creates the remaining
//      quantizers in the order of §3.3 step 2-3 and attaches the lines.
// Invariant afterwards: every Quantizer in cv->quantizers is referenced by a
// QOp or a GenLine, and nothing in the Cst was modified.
#include "rewrite.h"

#include <string.h>

#include "rewrite_int.h"

// Does ci derive from torch's Sequential, ModuleList or ModuleDict?
static bool is_container_class(ffq_ctx *cx, ClassInfo *ci, int depth) {
    if (strcmp(ci->mod->name, "torch.nn.modules.container") == 0 &&
        (strcmp(ci->name, "Sequential") == 0 || strcmp(ci->name, "ModuleList") == 0 ||
         strcmp(ci->name, "ModuleDict") == 0))
        return true;
    if (depth > BASES_DEPTH_MAX) return false;
    for (size_t i = 0; i < ci->bases.len; i++) {
        ClassInfo *base = program_base(cx, ci, i);
        if (base && base != ci && is_container_class(cx, base, depth + 1)) return true;
        const char *q = VEC_AT(ci->bases, const char, i);
        if (!base && (strcmp(q, "torch.nn.Sequential") == 0 || strcmp(q, "torch.nn.ModuleList") == 0 ||
                      strcmp(q, "torch.nn.ModuleDict") == 0))
            return true;
    }
    return false;
}

// The first place the function reads self as a container: `for m in self`, `self[i]`,
// len(self) / iter / list / enumerate / reversed / zip of self, self.items() / keys() /
// values() / children() / named_children(); CST_NONE when there is none.
static uint32_t container_self_use(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    const char *self = a->cv->self_name;
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_IDENTIFIER && self && cst_text_is(c, n, self)) {
        uint32_t p = c->nodes[n].parent;
        uint32_t pk = p == CST_NONE ? 0 : c->nodes[p].kind;
        uint16_t f = c->nodes[n].field;
        if ((pk == K_FOR || pk == K_FOR_IN_CLAUSE) && f == F_RIGHT) return n;
        if (pk == K_SUBSCRIPT && f == F_VALUE) return n;
        if (pk == K_ARGUMENT_LIST) {
            uint32_t call = c->nodes[p].parent;
            uint32_t fnn = call == CST_NONE ? CST_NONE : cst_field(c, call, F_FUNCTION);
            static const char *const readers[] = {"len", "iter", "list", "tuple", "enumerate", "reversed",
                                                  "zip", "dict", "next", "sorted", "map", NULL};
            for (size_t i = 0; fnn != CST_NONE && readers[i]; i++)
                if (cst_text_is(c, fnn, readers[i])) return n;
        }
        if (pk == K_ATTRIBUTE && f == F_OBJECT) {
            uint32_t at = cst_field(c, p, F_ATTRIBUTE);
            static const char *const views[] = {"items", "keys", "values", "children", "named_children",
                                                "__iter__", "__len__", "__getitem__", NULL};
            for (size_t i = 0; views[i]; i++)
                if (cst_text_is(c, at, views[i])) return n;
        }
        return CST_NONE;
    }
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA) return CST_NONE;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t r = container_self_use(a, cst_child(c, n, k));
        if (r != CST_NONE) return r;
    }
    return CST_NONE;
}


Conv *rewrite_function(ffq_ctx *cx, const FuncInfo *fn, ClassInfo *cls, const Types *types) {
    const Cst *c = fn->mod->cst;
    Conv *cv = ARENA_NEW(cx, Conv);
    cv->fn = fn;
    cv->mod = fn->mod;
    cv->c = c;
    cv->cls = cls;
    cv->instance = fn->kind == FN_INSTANCE;
    cv->self_name = rw_first_param_name(cx, c, fn);
    RwState a = {.cx = cx, .cv = cv, .c = c};
    a.body = cst_field(c, fn->def, F_BODY);
    if (a.body == CST_NONE) return NULL;
    a.types = cv->types = types;
    a.locals = locals_of(cx, fn);
    rw_absolute_imports(&a, a.body);
    // (torch's own container methods quantize nothing: they are left to the usual path)
    uint32_t own = cv->cls && fn->kind == FN_INSTANCE && strcmp(fn->mod->name, "torch.nn.modules.container") != 0 &&
                           is_container_class(cx, cv->cls, 0)
                       ? container_self_use(&a, a.body)
                       : CST_NONE;
    if (own != CST_NONE) {
        // Its quantizers would be children, seen by its own iteration / len / indexing.
        rw_fail(&a, own, "container-self-use",
                "a Sequential/ModuleList/ModuleDict subclass that reads its own container "
                "(iteration, len, indexing, items/keys/values) would see its quantizers");
        return NULL;
    }
    rw_visit_block(&a, a.body);
    rw_order_sites(&a);
    Env env = {0};
    rw_add_params(&a, &env);
    a.root = a.scope = rw_new_scope(&a, a.body);
    bool dead = false;
    rw_flow_block(&a, a.body, &env, &dead);
    if (a.failed) return NULL;
    rw_compute_avail(&a, a.root);
    PtrVec none = {0}, hoists = {0};
    rw_assign_owners(&a, a.root, &none);
    rw_create_block(&a, a.body);
    PtrVec scopes = {0};  // every scope, to place what it owns
    vec_push(cx, &scopes, a.root);
    for (size_t i = 0; i < scopes.len; i++) {
        Scope *s = scopes.items[i];
        for (size_t k = 0; k < s->children.len; k++) vec_push(cx, &scopes, s->children.items[k]);
        for (size_t k = 0; k < s->owned.len; k++) rw_place_owned(&a, s, s->owned.items[k], &hoists);
    }
    rw_finish_lines(&a, &hoists);
    rw_place_params(&a);
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
