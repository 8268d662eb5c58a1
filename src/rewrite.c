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
//      quantizers in the order of §3.3 step 2-3 and attaches the lines;
//   4. sharing (rewrite_share.c): in an instance method, an inline quantizer
//      call a block evaluates several times on the same value runs once into
//      a temporary (§2.4).
// Invariant afterwards: every Quantizer in cv->quantizers is referenced by a
// QOp or a GenLine, and nothing in the Cst was modified.
#include "rewrite.h"

#include <string.h>

#include "rewrite_int.h"

// The first place the function reads self's children as a collection: `self._modules`,
// self.children() / named_children() / modules() / named_modules(); CST_NONE when there is
// none. Quantizers are children of their module, so such a loop would run them as layers
// (see plan_finish).
// (A Sequential/ModuleList/ModuleDict subclass reading its own container -- iteration, len,
// indexing, items/keys/values -- is fine: the runtime keeps quantizer slots out of those.)
static uint32_t children_self_use(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    const char *self = a->cv->self_name;
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_IDENTIFIER && self && cst_text_is(c, n, self)) {
        uint32_t p = c->nodes[n].parent;
        if (p == CST_NONE || c->nodes[p].kind != K_ATTRIBUTE || c->nodes[n].field != F_OBJECT)
            return CST_NONE;
        uint32_t at = cst_field(c, p, F_ATTRIBUTE);
        if (cst_text_is(c, at, "_modules")) return n;
        uint32_t call = c->nodes[p].parent;
        if (call == CST_NONE || c->nodes[call].kind != K_CALL || c->nodes[p].field != F_FUNCTION)
            return CST_NONE;
        static const char *const views[] = {"children", "named_children", "modules", "named_modules", NULL};
        for (size_t i = 0; views[i]; i++)
            if (cst_text_is(c, at, views[i])) return n;
        return CST_NONE;
    }
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA) return CST_NONE;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t r = children_self_use(a, cst_child(c, n, k));
        if (r != CST_NONE) return r;
    }
    return CST_NONE;
}

void rewrite_mark_dirty(ffq_ctx *cx, Conv *cv, uint32_t n) {
    for (; n != CST_NONE && !nodemap_get(&cv->dirty, n); n = cv->c->nodes[n].parent)
        nodemap_put(cx, &cv->dirty, n, (void *)1);
}

// Node n is written fastforward.nn.functional.dequantized(<n>) (emit.c's render).
static void mark_dequantized(ffq_ctx *cx, Conv *cv, uint32_t n) {
    nodemap_put(cx, &cv->dequant_arg, n, (void *)1);
    rewrite_mark_dirty(cx, cv, n);
}

// torch's constructors that copy a tensor argument's memory without asking the tensor (no
// __torch_function__): given a QuantizedTensor they would take its integers for its values.
// Each with the position and keyword of its data argument.
static const struct {
    const char *name;
    int pos;
    const char *kw;
} copying_ctors[] = {
    {"torch.tensor", 0, "data"},
    {"torch.Tensor", 0, NULL},
    {"torch.sparse_coo_tensor", 1, "values"},
    {"torch.sparse_csr_tensor", 2, "values"},
    {"torch.sparse_csc_tensor", 2, "values"},
    {"torch.sparse_bsr_tensor", 2, "values"},
    {"torch.sparse_bsc_tensor", 2, "values"},
    {"torch.sparse_compressed_tensor", 2, "values"},
    {"torch.nested.nested_tensor", 0, "tensor_list"},
};

// Index in copying_ctors of the constructor call n makes (`x.new_tensor(v)`: as torch.tensor),
// or -1.
static int copying_ctor(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    uint32_t f = cst_field(c, n, F_FUNCTION);
    if (f == CST_NONE) return -1;
    if (c->nodes[f].kind == K_ATTRIBUTE && cst_text_is(c, cst_field(c, f, F_ATTRIBUTE), "new_tensor"))
        return 0;
    const char *q = program_qualname(a->cx, a->cv->mod, f);
    for (size_t i = 0; q && i < sizeof copying_ctors / sizeof copying_ctors[0]; i++)
        if (strcmp(q, copying_ctors[i].name) == 0) return (int)i;
    return -1;
}

// An in-place method called on a value computed in the statement itself (`(h - 1).clamp_(min=0)`,
// `torch.zeros_like(m, dtype=f).masked_fill_(m, -inf)` in torch's _canonical_mask, a
// submodule's or converted helper's result): on the quantized path that value may be a
// QuantizedTensor, which takes no in-place change, while the float code changes a fresh float
// tensor nobody else holds. The receiver goes through fastforward.nn.functional.dequantized
// (which returns a plain tensor itself, so a view of a name keeps its meaning with stubs).
static void wrap_changed_receiver(RwState *a, uint32_t call) {
    const Cst *c = a->c;
    uint32_t f = cst_field(c, call, F_FUNCTION);
    if (f == CST_NONE || c->nodes[f].kind != K_ATTRIBUTE ||
        !rw_is_in_place_method(c, cst_field(c, f, F_ATTRIBUTE)))
        return;
    uint32_t recv = cst_field(c, f, F_OBJECT), r = cst_unparen(c, recv);
    if (r == CST_NONE) return;
    uint32_t kind = c->nodes[r].kind;
    bool fresh = kind == K_BINARY_OP || kind == K_UNARY_OP || nodemap_get(&a->cv->op_of, r) ||
                 nodemap_get(&a->cv->site_of, r);
    if (!fresh && kind == K_CALL) {  // self.<child>(...): a submodule's output
        uint32_t g = cst_field(c, r, F_FUNCTION);
        uint32_t obj =
            g != CST_NONE && c->nodes[g].kind == K_ATTRIBUTE ? cst_field(c, g, F_OBJECT) : CST_NONE;
        fresh = obj != CST_NONE && c->nodes[obj].kind == K_IDENTIFIER && a->cv->self_name &&
                cst_text_is(c, obj, a->cv->self_name);
    }
    if (fresh) mark_dequantized(a->cx, a->cv, recv);
}

// A literal, or a list / tuple display of literals.
static bool literal_data(const Cst *c, uint32_t n) {
    n = cst_unparen(c, n);
    if (n == CST_NONE || rw_is_literal(c, n)) return true;
    if (c->nodes[n].kind != K_LIST && c->nodes[n].kind != K_TUPLE) return false;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {  // (each child once: a long display is linear)
        uint32_t ch = cst_child(c, n, k);
        if (c->nodes[ch].named && c->nodes[ch].kind != K_COMMENT && !literal_data(c, ch)) return false;
    }
    return true;
}

// The data argument of every such call in the function is wrapped in
// fastforward.nn.functional.dequantized(...) (a plain value passes through unchanged), unless
// it is literal data.
static void wrap_copied_data(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA) return;
    int ctor = kind == K_CALL ? copying_ctor(a, n) : -1;
    if (ctor >= 0) {
        Args args;
        if (rw_collect_args(a, n, &args)) {
            uint32_t data = CST_NONE;
            if ((size_t)copying_ctors[ctor].pos < args.npos) data = args.pos[copying_ctors[ctor].pos];
            for (size_t k = 0; k < args.nkw && copying_ctors[ctor].kw; k++)
                if (strcmp(args.kwnames[k], copying_ctors[ctor].kw) == 0)
                    data = cst_field(c, args.kw[k], F_VALUE);
            // (type inference off: every non-literal; on: what may hold a tensor)
            const Type *t = data != CST_NONE && a->types ? types_of_node(a->types, data) : NULL;
            bool may_hold = !a->types || !t || types_may_be_tensor(t);
            bool splat = data != CST_NONE &&
                         (c->nodes[data].kind == K_LIST_SPLAT || c->nodes[data].kind == K_DICT_SPLAT);
            if (data != CST_NONE && !splat && !literal_data(c, data) && may_hold) {
                a->cv->copies_data = true;
                mark_dequantized(a->cx, a->cv, data);
            }
        }
    }
    if (kind == K_CALL) wrap_changed_receiver(a, n);
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) wrap_copied_data(a, cst_child(c, n, k));
}

void rewrite_dequantize_arguments(ffq_ctx *cx, Conv *cv, uint32_t call) {
    const Cst *c = cv->c;
    uint32_t al = cst_field(c, call, F_ARGUMENTS);
    if (al == CST_NONE || c->nodes[al].kind != K_ARGUMENT_LIST) return;
    for (uint32_t k = 0; k < c->nodes[al].nchildren; k++) {  // (each child once: linear)
        uint32_t arg = cst_child(c, al, k);
        if (!c->nodes[arg].named || c->nodes[arg].kind == K_COMMENT) continue;
        if (c->nodes[arg].kind == K_KEYWORD_ARGUMENT) arg = cst_field(c, arg, F_VALUE);
        if (arg == CST_NONE || c->nodes[arg].kind == K_LIST_SPLAT || c->nodes[arg].kind == K_DICT_SPLAT ||
            literal_data(c, arg))
            continue;
        mark_dequantized(cx, cv, arg);
    }
}

// §9.2: parentheses around a name, attribute, call or subscript are redundant,
// `torch.relu((x))` is `torch.relu(x)`, unless they hold a line break (a chain
// laid out over lines, perhaps with comments: without them `y = (x\n.f())` would
// not parse). Parentheses around operators and everything else stay. Nested
// ones (`((x))`) all go.
static bool redundant_parens(const Cst *c, uint32_t n) {
    if (c->nodes[n].kind != K_PAREN_EXPR) return false;
    uint32_t inner = CST_NONE;
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) {
        uint32_t ch = c->nodes[n].first_child + k;
        if (!c->nodes[ch].named) continue;
        if (c->nodes[ch].kind == K_COMMENT || inner != CST_NONE) return false;
        inner = ch;
    }
    if (inner == CST_NONE) return false;
    const char *d = c->file->data;
    for (uint32_t i = c->nodes[n].start; i < c->nodes[n].end; i++)
        if (d[i] == '\n' || d[i] == '\r') return false;
    uint32_t kind = c->nodes[inner].kind;
    return kind == K_IDENTIFIER || kind == K_ATTRIBUTE || kind == K_CALL || kind == K_SUBSCRIPT ||
           redundant_parens(c, inner);
}

static void mark_redundant_parens(RwState *a, uint32_t n) {
    const Cst *c = a->c;
    if (redundant_parens(c, n)) {
        nodemap_put(a->cx, &a->cv->unparen, n, (void *)1);
        nodemap_put(a->cx, &a->cv->unparen_at, c->nodes[n].start, (void *)1);
        nodemap_put(a->cx, &a->cv->unparen_at, c->nodes[n].end - 1, (void *)1);
        rw_mark_dirty(a, n);
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++) mark_redundant_parens(a, cst_child(c, n, k));
}

// Places what every scope under the root owns, breadth first; hoisted lines go to hoists.
static void place_all_owned(RwState *a, PtrVec *hoists) {
    PtrVec scopes = {0};  // every scope, to place what it owns
    vec_push(a->cx, &scopes, a->root);
    for (size_t i = 0; i < scopes.len; i++) {
        Scope *s = scopes.items[i];
        for (size_t k = 0; k < s->children.len; k++) vec_push(a->cx, &scopes, s->children.items[k]);
        for (size_t k = 0; k < s->owned.len; k++) rw_place_owned(a, s, s->owned.items[k], hoists);
    }
}

Conv *rewrite_function(ffq_ctx *cx, const FuncInfo *fn, ClassInfo *cls, const Types *types) {
    const Cst *c = program_cst(cx, fn->mod);
    // still the outline: the module's whole tree did not line up with it (program_cst),
    // so its function bodies are not read, as with a body that did not parse
    if (c->outline) return NULL;
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
    // (torch's own methods, ModuleDict.items() for one, quantize nothing: not checked;
    // plan_finish decides once it knows whether the class has quantizers at all)
    cv->children_use =
        cv->cls && fn->kind == FN_INSTANCE && !str_has_prefix(fn->mod->name, "torch.nn.modules.")
            ? children_self_use(&a, a.body)
            : CST_NONE;
    mark_redundant_parens(&a, a.body);
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
    rw_keep_unsafe_inline(&a, a.root);
    rw_create_block(&a, a.body);
    place_all_owned(&a, &hoists);
    rw_finish_lines(&a, &hoists);
    rw_place_params(&a);
    rw_share_block_quantizers(&a);
    wrap_copied_data(&a, a.body);
    return cv;
}

void rewrite_report_missing(ffq_ctx *cx) {
    for (size_t i = 0; i < cx->missing_ops.len; i++) {
        const MissingOp *mo = cx->missing_ops.items[i];
        cx->stats.float_not_in_table += mo->count;
        diag_at(cx, DIAG_NOTE, mo->file, mo->offset, "not-in-optable",
                "'%s' is not in the operator table; %s in float (add it with --optable)", mo->name,
                mo->count == 1 ? "this call stays" : arena_printf(cx, "its %zu calls stay", mo->count));
    }
}
