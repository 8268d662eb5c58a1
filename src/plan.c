// plan.c: the whole-output plan: discovery, the work queue, threading and
// naming. See plan.h.
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "ffq_int.h"
#include "torchinfo.h"

// __init__ statement nesting walked for submodules, and submodule classes
// followed inside each other (§4.2).
enum { DISCOVER_DEPTH_MAX = 64 };

OutputPlan *plan_new(ffq_ctx *cx, const Module *input, const char *modname) {
    OutputPlan *plan = ARENA_NEW(cx, OutputPlan);
    plan->mod = input;
    const char *dot = strchr(modname, '.');
    plan->first_party = dot ? arena_strndup(cx, modname, (size_t)(dot - modname)) : modname;
    return plan;
}

// --- roots and discovery (§4) ---

static void list_classes(ffq_ctx *cx, const Module *m, StrBuf *sb) {
    for (size_t i = 0; i < m->classes.len; i++) {
        ClassInfo *ci = VEC_AT(m->classes, ClassInfo, i);
        sb_printf(cx, sb, "%s%s%s", sb->len ? ", " : "", ci->name,
                  program_is_module_class(cx, ci) ? "" : " (not an nn.Module)");
    }
}

// Root classes: --class NAME..., or every nn.Module subclass of the input.
bool plan_roots(ffq_ctx *cx, OutputPlan *plan, const ffq_options *opt) {
    const Module *m = plan->mod;
    PtrVec *roots = &plan->roots;
    if (opt->nclasses) {
        bool ok = true;
        for (size_t i = 0; i < opt->nclasses; i++) {
            // every class of that name: a module may define one per branch of an `if`
            // (each then gets its guarded quantized class, §4.3 names)
            bool found = false;
            for (size_t k = 0; k < m->classes.len; k++) {
                ClassInfo *ci = VEC_AT(m->classes, ClassInfo, k);
                if (strcmp(ci->name, opt->classes[i]) != 0) continue;
                vec_push(cx, roots, ci);
                found = true;
            }
            if (found) continue;
            StrBuf names = {0};
            list_classes(cx, m, &names);
            diag_at(cx, DIAG_ERROR, NULL, 0, "unknown-class", "no class '%s' in %s; %s %s", opt->classes[i],
                    m->file->path, names.len ? "classes defined there:" : "it defines no classes",
                    sb_cstr(cx, &names));
            ok = false;
        }
        return ok;
    }
    for (size_t i = 0; i < m->classes.len; i++) {
        ClassInfo *ci = VEC_AT(m->classes, ClassInfo, i);
        if (program_is_module_class(cx, ci)) vec_push(cx, roots, ci);
    }
    if (!roots->len && !opt->batch)
        diag_at(cx, DIAG_WARNING, NULL, 0, "no-modules",
                "%s defines no torch.nn.Module subclass; nothing to generate", m->file->path);
    return true;
}

static PlanWork *find_work(const OutputPlan *plan, const FuncInfo *fn, const GenClass *g) {
    for (size_t i = 0; i < plan->work.len; i++) {
        PlanWork *w = plan->work.items[i];
        if (w->fn == fn && w->g == g) return w;
        // a method name already present on the class builder is skipped
        if (g && w->g == g && strcmp(w->fn->name, fn->name) == 0) return w;
    }
    return NULL;
}

static PlanWork *enqueue(ffq_ctx *cx, OutputPlan *plan, const FuncInfo *fn, GenClass *g) {
    PlanWork *w = find_work(plan, fn, g);
    if (w) return w;
    w = ARENA_NEW(cx, PlanWork);
    w->fn = fn;
    w->g = g;
    vec_push(cx, &plan->work, w);
    return w;
}

// The same check on a resolved class: torch.nn.modules.<file>.<Name>.
static bool is_hand_quantized_class(const ClassInfo *ci) {
    return str_has_prefix(ci->mod->name, "torch.nn.modules.") && torchinfo_is_hand_quantized(ci->name);
}

// §4.1, on a qualified name: torch.nn.<...>.<Name>.
static bool is_hand_quantized(const char *qualname) {
    const char *last = strrchr(qualname, '.');
    return last && str_has_prefix(qualname, "torch.nn.") && torchinfo_is_hand_quantized(last + 1);
}

static GenClass *new_class(ffq_ctx *cx, ClassInfo *ci, OutputPlan *plan) {
    GenClass *g = ARENA_NEW(cx, GenClass);
    g->ci = ci;
    g->name = arena_printf(cx, "Quantized%s", ci->name);
    vec_push(cx, &plan->classes, g);
    cx->stats.classes_generated++;
    return g;
}

typedef struct Discovery {
    ffq_ctx *cx;
    OutputPlan *plan;
    PtrVec seen;       // ClassInfo * already visited
    PtrVec notes;      // torch classes reported as not generated
    PtrVec factories;  // FuncInfo * already walked as factories
    // local_import's last function: its `from X import ...` statements (nodes of imp_c)
    const Cst *imp_c;
    uint32_t imp_def;
    PtrVec imp_stmts;
    bool root_walk;  // walking a module-level statement of a script (walk_root_statements)
} Discovery;

static void discover(Discovery *d, ClassInfo *ci, int depth);
static void walk_factory(Discovery *d, FuncInfo *fn, int depth);

// The definition a `from X import name` statement in the body of the function that holds
// node n gives the identifier `name` (a function-local import: diffusers' MochiAttention
// builds `MochiRMSNorm` imported in its __init__), or SYM_NONE. Python makes such a name
// local to the whole function, so it takes precedence over the module's binding of it.
static Symbol local_import(Discovery *d, Module *m, const Cst *c, uint32_t n, uint32_t name) {
    if (name == CST_NONE || c->nodes[name].kind != K_IDENTIFIER) return (Symbol){0};
    uint32_t def = n;
    for (int up = 0; def != CST_NONE && c->nodes[def].kind != K_FUNCTION_DEF; up++) {
        if (up > DISCOVER_DEPTH_MAX * 4 || c->nodes[def].kind == K_CLASS_DEF ||
            c->nodes[def].kind == K_LAMBDA)
            return (Symbol){0};
        def = c->nodes[def].parent;
    }
    uint32_t body = def == CST_NONE ? CST_NONE : cst_field(c, def, F_BODY);
    if (body == CST_NONE) return (Symbol){0};
    if (d->imp_c != c || d->imp_def != def) {  // the body's imports, not nested definitions
        d->imp_c = c;
        d->imp_def = def;
        d->imp_stmts.len = 0;
        PtrVec todo = {0};
        vec_push(d->cx, &todo, (void *)(uintptr_t)body);
        for (size_t i = 0; i < todo.len; i++) {
            uint32_t st = (uint32_t)(uintptr_t)todo.items[i];
            uint32_t kind = c->nodes[st].kind;
            if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA || kind == K_DECORATED_DEF)
                continue;
            if (kind == K_IMPORT_FROM) vec_push(d->cx, &d->imp_stmts, (void *)(uintptr_t)st);
            else
                for (uint32_t k = 0; k < c->nodes[st].nchildren; k++)
                    if (c->nodes[cst_child(c, st, k)].named)
                        vec_push(d->cx, &todo, (void *)(uintptr_t)cst_child(c, st, k));
        }
    }
    const char *want = cst_strdup(d->cx, c, name);
    for (size_t i = 0; i < d->imp_stmts.len; i++) {
        uint32_t st = (uint32_t)(uintptr_t)d->imp_stmts.items[i];
        uint32_t modn = cst_field(c, st, F_MODULE_NAME);
        for (uint32_t k = 0; modn != CST_NONE && k < c->nodes[st].nchildren; k++) {
            uint32_t ch = cst_child(c, st, k);
            if (c->nodes[ch].field != F_NAME) continue;
            bool aliased = c->nodes[ch].kind == K_ALIASED_IMPORT;
            uint32_t bound = aliased ? cst_field(c, ch, F_ALIAS) : ch,
                     orig = aliased ? cst_field(c, ch, F_NAME) : ch;
            if (bound == CST_NONE || orig == CST_NONE || !cst_text_is(c, bound, want)) continue;
            Module *from =
                program_module(d->cx, program_absolute_module(d->cx, m, cst_strdup(d->cx, c, modn)));
            return from ? program_lookup(d->cx, from, cst_strdup(d->cx, c, orig)) : (Symbol){0};
        }
    }
    return (Symbol){0};
}

// Calls to classes inside a submodule expression: `Block(...)`,
// `nn.Sequential(A(), B())`, `nn.ModuleList([Layer() for _ in range(n)])`.
static void walk_submodule_expr(Discovery *d, Module *m, uint32_t n, int depth) {
    const Cst *c = program_cst(d->cx, m);
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_LAMBDA || depth > DISCOVER_DEPTH_MAX) return;
    if (kind == K_CALL) {
        Symbol sym = local_import(d, m, c, n, cst_unparen(c, cst_field(c, n, F_FUNCTION)));
        bool local = sym.kind != SYM_NONE;
        if (!local) sym = program_resolve(d->cx, m, cst_field(c, n, F_FUNCTION));
        const char *q = local ? sym.qualname : program_qualname(d->cx, m, cst_field(c, n, F_FUNCTION));
        ClassInfo *sub = sym.kind == SYM_CLASS ? sym.cls : NULL;
        if (sub && is_hand_quantized_class(sub)) sub = NULL, q = NULL;  // children still walked
        if (sym.kind == SYM_NONE) {
            const char *missing = program_missing_import(d->cx, m, cst_field(c, n, F_FUNCTION));
            // A script's own statements call library functions on its model
            // (`ff.autoquantize(Net())`, `report(Net())`): a lower-case callee there is taken
            // for a function, not a submodule class, and its module not being found is no news.
            const char *callee = program_dotted_text(d->cx, c, cst_field(c, n, F_FUNCTION));
            const char *last = callee ? strrchr(callee, '.') : NULL;
            last = last ? last + 1 : callee;
            if (missing && d->root_walk && last && *last >= 'a' && *last <= 'z') missing = NULL;
            if (missing)
                program_warn_missing(d->cx, m, n,
                                     arena_printf(d->cx, "submodule class '%s'",
                                                  program_dotted_text(d->cx, c, cst_field(c, n, F_FUNCTION))),
                                     missing);
        }
        bool at_root = d->root_walk;
        d->root_walk = false;  // a class's or factory's own code is not the script's
        if (sub && program_is_module_class(d->cx, sub)) discover(d, sub, depth + 1);
        else if (sym.kind == SYM_FUNC && sym.fn && !sym.fn->owner) walk_factory(d, sym.fn, depth);
        else if (sub && !program_is_module_class(d->cx, sub))  // a builder object: its methods
            for (size_t i = 0; i < sub->methods.len; i++) walk_factory(d, sub->methods.items[i], depth);
        else if (!sub && q && str_has_prefix(q, "torch.nn.") && !is_hand_quantized(q)) {
            const char *last = strrchr(q, '.') + 1;
            bool known = false;
            for (size_t i = 0; i < d->notes.len && !known; i++) known = strcmp(d->notes.items[i], q) == 0;
            bool tensor_like = strcmp(last, "Parameter") == 0 || strcmp(last, "Buffer") == 0 ||
                               str_has_prefix(last, "Uninitialized");
            if (last[0] >= 'A' && last[0] <= 'Z' && !known && !tensor_like) {
                vec_push(d->cx, &d->notes, (void *)q);
                diag_at(d->cx, DIAG_NOTE, m->file, c->nodes[n].start, "torch-module-not-generated",
                        "submodule class '%s' is defined in torch; ffq does not read torch's "
                        "source yet, so it gets no generated class",
                        q);
            }
        }
        d->root_walk = at_root;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (c->nodes[c->nodes[n].first_child + k].named)
            walk_submodule_expr(d, m, c->nodes[n].first_child + k, depth);
}

// A function called where submodules are built (`self.enc = make_encoder(...)`, or in the
// function that builds a root class) may return modules: the classes its body constructs
// are discovered, and the factories it calls are followed in turn. torch's own functions
// are not read.
static void walk_factory(Discovery *d, FuncInfo *fn, int depth) {
    if (!fn || depth > DISCOVER_DEPTH_MAX || str_has_prefix(fn->mod->name, "torch.") ||
        strcmp(fn->mod->name, "torch") == 0)
        return;
    for (size_t i = 0; i < d->factories.len; i++)
        if (d->factories.items[i] == fn) return;
    vec_push(d->cx, &d->factories, fn);
    const Cst *c = program_cst(d->cx, fn->mod);
    uint32_t body = cst_field(c, fn->def, F_BODY);
    if (body != CST_NONE) walk_submodule_expr(d, fn->mod, body, depth + 1);
}

// `self.<name> = <expr>` statements of __init__, in registration order;
// `super().__init__(...)` walks the base class's __init__ at that point.
static void walk_init(Discovery *d, ClassInfo *ci, uint32_t n, const char *self, int depth) {
    Module *m = ci->mod;
    const Cst *c = program_cst(d->cx, m);
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA || depth > DISCOVER_DEPTH_MAX)
        return;
    if (kind == K_ASSIGNMENT) {
        uint32_t left = cst_unparen(c, cst_field(c, n, F_LEFT)), right = cst_field(c, n, F_RIGHT);
        if (left != CST_NONE && right != CST_NONE && c->nodes[left].kind == K_ATTRIBUTE &&
            cst_text_is(c, cst_field(c, left, F_OBJECT), self)) {
            walk_submodule_expr(d, m, right, depth);
            return;
        }
        // a local (`enc = make_encoder(d)`, `layers = [Block(d) for ...]`): walked in case
        // it becomes a submodule later
        if (right != CST_NONE) {
            walk_init(d, ci, right, self, depth);
            return;
        }
    }
    if (kind == K_CALL) {  // super().__init__(...) / self.add_module("x", Block())
        uint32_t f = cst_field(c, n, F_FUNCTION);
        const char *text = program_dotted_text(d->cx, c, f);
        size_t len;
        const char *ft = f == CST_NONE ? "" : cst_text(c, f, &len);
        if (f != CST_NONE && mem_starts(ft, len, "super()") && mem_ends(ft, len, ".__init__")) {
            for (size_t i = 0; i < ci->bases.len; i++) {
                ClassInfo *base = program_base(d->cx, ci, i);
                FuncInfo *init = base ? program_find_method(d->cx, base, "__init__") : NULL;
                if (init && init->owner != ci) {
                    const Cst *ic = program_cst(d->cx, init->mod);
                    walk_init(d, init->owner, cst_field(ic, init->def, F_BODY), self, depth + 1);
                }
                if (base) break;
            }
            return;
        }
        if (text && strcmp(text, arena_printf(d->cx, "%s.add_module", self)) == 0) {
            walk_submodule_expr(d, m, cst_field(c, n, F_ARGUMENTS), depth);
            return;
        }
        // a builder method (`self._make_layer(...)`): its body is walked as a factory's
        const char *prefix = arena_printf(d->cx, "%s.", self);
        if (text && str_has_prefix(text, prefix) && !strchr(text + strlen(prefix), '.')) {
            FuncInfo *meth = program_find_method(d->cx, ci, text + strlen(prefix));
            if (meth && meth->kind == FN_INSTANCE && strcmp(meth->name, "forward") != 0 &&
                strcmp(meth->name, "__init__") != 0)
                walk_factory(d, meth, depth);
            walk_submodule_expr(d, m, cst_field(c, n, F_ARGUMENTS), depth);
            return;
        }
        // any other call (`layers.append(Block(d))`, `make_encoder(d)`)
        walk_submodule_expr(d, m, n, depth);
        return;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (c->nodes[c->nodes[n].first_child + k].named)
            walk_init(d, ci, c->nodes[n].first_child + k, self, depth);
}

// `return Other(...)` statements of a class's own __new__ (not in nested definitions): a
// class that builds an instance of another class in its place (a deprecation shim: diffusers'
// embeddings.FluxPosEmbed.__new__ imports transformer_flux's FluxPosEmbed and returns one).
// The module that exists at run time is of that class: it is discovered too, or the model's
// instance had no generated class (only quantize_model's float surrogate).
static void walk_new(Discovery *d, ClassInfo *ci, FuncInfo *fn, const Cst *c, uint32_t n, int tree_depth,
                     int depth) {
    uint32_t kind = c->nodes[n].kind;
    if (tree_depth > DISCOVER_DEPTH_MAX ||
        (tree_depth > 0 &&
         (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA || kind == K_DECORATED_DEF)))
        return;
    if (kind == K_RETURN) {
        uint32_t v = cst_named_count(c, n) ? cst_unparen(c, cst_named_child(c, n, 0)) : CST_NONE;
        uint32_t f = v != CST_NONE && c->nodes[v].kind == K_CALL ? cst_unparen(c, cst_field(c, v, F_FUNCTION))
                                                                 : CST_NONE;
        if (f == CST_NONE) return;
        Symbol s = local_import(d, fn->mod, c, n, f);
        if (s.kind == SYM_NONE) s = program_resolve(d->cx, fn->mod, f);
        ClassInfo *other = s.kind == SYM_CLASS ? s.cls : NULL;
        if (other && other != ci && program_is_module_class(d->cx, other) && !is_hand_quantized_class(other))
            discover(d, other, depth + 1);
        return;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        walk_new(d, ci, fn, c, cst_child(c, n, k), tree_depth + 1, depth);
}

// §4.2: depth-first in registration order; each class the first time it is seen.
static void discover(Discovery *d, ClassInfo *ci, int depth) {
    for (size_t i = 0; i < d->seen.len; i++)
        if (d->seen.items[i] == ci) return;
    vec_push(d->cx, &d->seen, ci);
    GenClass *g = new_class(d->cx, ci, d->plan);
    FuncInfo *fwd = program_find_method(d->cx, ci, "forward");
    if (fwd) enqueue(d->cx, d->plan, fwd, g);
    else
        diag_at(d->cx, DIAG_WARNING, ci->mod->file, program_cst(d->cx, ci->mod)->nodes[ci->node].start,
                "no-forward",
                "class '%s' has no forward method ffq can read in this file; its generated "
                "class has no converted forward",
                ci->name);
    FuncInfo *nw = program_method(ci, "__new__");
    if (nw && depth <= DISCOVER_DEPTH_MAX) {
        const Cst *nc = program_cst(d->cx, nw->mod);
        uint32_t body = cst_field(nc, nw->def, F_BODY);
        if (body != CST_NONE) walk_new(d, ci, nw, nc, body, 0, depth);
    }
    FuncInfo *init = program_find_method(d->cx, ci, "__init__");
    if (!init || depth > DISCOVER_DEPTH_MAX) return;
    const Cst *c = program_cst(d->cx, init->mod);
    uint32_t ps = cst_field(c, init->def, F_PARAMETERS);
    uint32_t p0 = ps == CST_NONE ? CST_NONE : cst_named_child(c, ps, 0);
    if (p0 == CST_NONE) return;
    if (c->nodes[p0].kind != K_IDENTIFIER) p0 = cst_named_child(c, p0, 0);
    if (p0 == CST_NONE) return;
    walk_init(d, init->owner, cst_field(c, init->def, F_BODY), cst_strdup(d->cx, c, p0), depth);
}

// Does n (not looking into nested definitions) construct one of the root classes?
static bool builds_root(Discovery *d, Module *m, uint32_t n, int depth) {
    const Cst *c = program_cst(d->cx, m);
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_DECORATED_DEF ||
        depth > DISCOVER_DEPTH_MAX)
        return false;
    if (kind == K_CALL) {
        Symbol sym = program_resolve(d->cx, m, cst_field(c, n, F_FUNCTION));
        for (size_t i = 0; sym.kind == SYM_CLASS && i < d->plan->roots.len; i++)
            if (d->plan->roots.items[i] == sym.cls) return true;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (builds_root(d, m, cst_child(c, n, k), depth + 1)) return true;
    return false;
}

// Module-level statements (outside definitions): each simple statement that constructs a
// root class (`model = Net(make_block())`, `seq = nn.Sequential(Net(), other.Block())`) is
// walked as a submodule expression, whatever compound statements hold it. Only those: the
// other statements of a script (`for i in ...: m = Net(); report(m)`) hand the root nothing,
// and walking a whole loop took every call in it for a possible submodule class (a warning
// for each one whose module is not installed).
static void walk_root_statements(Discovery *d, Module *m, uint32_t n, int depth) {
    const Cst *c = program_cst(d->cx, m);
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_DECORATED_DEF ||
        depth > DISCOVER_DEPTH_MAX)
        return;
    if (kind == K_EXPR_STMT || kind == K_RETURN || kind == K_ASSERT) {
        if (builds_root(d, m, n, 0)) {
            d->root_walk = true;
            walk_submodule_expr(d, m, n, 0);
            d->root_walk = false;
        }
        return;
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        walk_root_statements(d, m, cst_child(c, n, k), depth + 1);
}

// The code of the input file that builds a root class (a module-level function such as
// `def build(): return Model(make_encoder(4), Head())`, or module-level statements) may
// hand it submodules made elsewhere: the classes and factories it calls are discovered
// too, after the roots' own submodules.
static void walk_builders(Discovery *d) {
    if (!d->plan->roots.len) return;
    Module *m = ((ClassInfo *)d->plan->roots.items[0])->mod;  // the input module
    const Cst *c = program_cst(d->cx, m);
    for (size_t i = 0; i < m->functions.len; i++) {
        FuncInfo *fn = m->functions.items[i];
        uint32_t body = cst_field(c, fn->def, F_BODY);
        if (body != CST_NONE && builds_root(d, m, body, 0)) walk_factory(d, fn, 0);
    }
    walk_root_statements(d, m, 0, 0);
}

void plan_discover(ffq_ctx *cx, OutputPlan *plan) {
    Discovery d = {.cx = cx, .plan = plan};
    for (size_t i = 0; i < plan->roots.len; i++) discover(&d, plan->roots.items[i], 0);
    walk_builders(&d);
}

// --- the work queue (§5.1) ---

ClassInfo *plan_class_of(const PlanWork *w) { return w->g ? w->g->ci : NULL; }

// §5.2: the name a call site uses for a free helper (`public_act(x)`,
// `mod.public_act(x)`, `fn(public_act)`), when it differs from the definition's
// name and the helper's own module binds it to the same function; else NULL.
static const char *call_site_alias(ffq_ctx *cx, const Conv *caller, const CallSite *site) {
    const Cst *c = caller->c;
    uint32_t f = site->node;
    if (cst_kind(c, f) == K_CALL) f = cst_unparen(c, cst_field(c, f, F_FUNCTION));
    if (f != CST_NONE && cst_kind(c, f) == K_ATTRIBUTE) f = cst_field(c, f, F_ATTRIBUTE);
    if (f == CST_NONE || cst_kind(c, f) != K_IDENTIFIER) return NULL;
    const char *name = cst_strdup(cx, c, f);
    if (strcmp(name, site->callee->name) == 0) return NULL;
    Symbol s = program_lookup(cx, site->callee->mod, name);
    return s.kind == SYM_FUNC && s.fn == site->callee ? name : NULL;
}

// §5.1: each converted function queues what it calls, in call-site order.
void plan_add(ffq_ctx *cx, OutputPlan *plan, PlanWork *w, Conv *cv) {
    w->cv = cv;
    if (!cv) return;
    if (w->g) vec_push(cx, &w->g->convs, cv);
    else vec_push(cx, &plan->helpers, cv);
    for (size_t k = 0; k < cv->sites.len; k++) {
        CallSite *site = cv->sites.items[k];
        GenClass *g = site->callee->owner ? w->g : NULL;
        if (site->callee->owner && !g) continue;  // a method outside any generated class
        // torch's Module and container methods (self.children(), self.items(),
        // self.append(...)) quantize nothing, and the runtime wraps the container ones so
        // that they skip quantizer slots: never copied
        if (site->callee->owner && torchinfo_is_module_base(site->callee->mod->name) &&
            strcmp(site->callee->name, "forward") != 0)
            continue;
        size_t before = plan->work.len;
        PlanWork *nw = enqueue(cx, plan, site->callee, g);
        if (plan->work.len > before && !site->callee->owner) nw->call_name = call_site_alias(cx, cv, site);
    }
    // a child module's method this function calls runs on its values: converted with the
    // child's class (found by the class's generated forward), as one of its methods
    for (size_t k = 0; k < cv->member_calls.len; k++) {
        const MemberCall *mc = cv->member_calls.items[k];
        if (strcmp(mc->method, "forward") == 0) continue;
        const FuncInfo *fn = program_find_method(cx, mc->cls, mc->method);
        if (!fn || fn->kind != FN_INSTANCE || fn->property) continue;
        for (size_t i = 0; i < plan->classes.len; i++) {
            GenClass *g = plan->classes.items[i];
            if (g->ci == mc->cls) enqueue(cx, plan, fn, g);
        }
    }
}

// Each call site points at the rewrite plan of the function it calls.
static void link_sites(OutputPlan *plan) {
    for (size_t i = 0; i < plan->work.len; i++) {
        PlanWork *w = plan->work.items[i];
        for (size_t k = 0; w->cv && k < w->cv->sites.len; k++) {
            CallSite *site = w->cv->sites.items[k];
            PlanWork *callee = find_work(plan, site->callee, site->callee->owner ? w->g : NULL);
            site->callee_conv = callee ? callee->cv : NULL;
        }
    }
}

// --- temporaries and quantizer names (§3.1, §3.2) ---

// The name a decorator gives the function it decorates, given the name it had: a plain
// function returning a function defined in its body renames it to that function's name,
// unless that function is wrapped with (functools.)wraps; anything else keeps the name.
static const char *decorated_name(ffq_ctx *cx, Module *m, uint32_t expr, const char *name) {
    if (expr == CST_NONE || cst_kind(program_cst(cx, m), expr) == K_CALL) return name;
    Symbol sym = program_resolve(cx, m, expr);
    if (sym.kind != SYM_FUNC || !sym.fn || sym.fn->owner) return name;
    const Cst *c = program_cst(cx, sym.fn->mod);
    uint32_t body = cst_field(c, sym.fn->def, F_BODY);
    const char *inner = NULL;
    for (uint32_t k = 0; body != CST_NONE && k < cst_named_count(c, body); k++) {
        uint32_t st = cst_named_child(c, body, k);
        uint32_t v = cst_kind(c, st) == K_RETURN ? cst_named_child(c, st, 0) : CST_NONE;
        if (v != CST_NONE && cst_kind(c, v) == K_IDENTIFIER) inner = cst_strdup(cx, c, v);
    }
    for (uint32_t k = 0; inner && body != CST_NONE && k < cst_named_count(c, body); k++) {
        uint32_t st = cst_named_child(c, body, k);
        uint32_t def = cst_kind(c, st) == K_DECORATED_DEF ? cst_field(c, st, F_DEFINITION) : st;
        if (def == CST_NONE || cst_kind(c, def) != K_FUNCTION_DEF ||
            !cst_text_is(c, cst_field(c, def, F_NAME), inner))
            continue;
        for (uint32_t j = 0; def != st && j < c->nodes[st].nchildren; j++) {
            uint32_t d = cst_child(c, st, j);
            if (cst_kind(c, d) != K_DECORATOR) continue;
            size_t len;
            const char *t = cst_text(c, d, &len);
            for (size_t i = 0; i + 5 <= len; i++)
                if (memcmp(t + i, "wraps", 5) == 0) return name;  // functools.wraps keeps __name__
        }
        return inner;
    }
    return name;
}

// A function's __name__ at run time (§5.4): decorators apply from the innermost out.
static const char *runtime_name(ffq_ctx *cx, const FuncInfo *fn) {
    const Cst *c = program_cst(cx, fn->mod);
    const char *name = fn->name;
    if (cst_kind(c, fn->outer) != K_DECORATED_DEF) return name;
    for (uint32_t k = c->nodes[fn->outer].nchildren; k-- > 0;) {
        uint32_t d = cst_child(c, fn->outer, k);
        if (cst_kind(c, d) == K_DECORATOR) name = decorated_name(cx, fn->mod, cst_named_child(c, d, 0), name);
    }
    return name;
}

// Call for each function in output order, before naming, so `_tmp_N`
// counts up through the output file.
// §3.4: the file's counter, skipping a number whose `_tmp_<n>` the function's own
// source already uses as a name (the temporary would overwrite it).
static void number_tmps(ffq_ctx *cx, OutputPlan *plan, Conv *cv) {
    PtrVec taken = {0};
    if (cv->tmps.len) rewrite_source_tmp_numbers(cx, cv, &taken);
    for (size_t i = 0; i < cv->tmps.len; i++) {
        TmpVar *t = cv->tmps.items[i];
        if (t->number) continue;
        bool used;
        do {
            t->number = ++plan->tmp_counter;
            used = false;
            for (size_t k = 0; k < taken.len && !used; k++)
                used = (uintptr_t)taken.items[k] == (uintptr_t)t->number;
        } while (used);
    }
}

const char *plan_tmp_name(ffq_ctx *cx, const TmpVar *t) {
    ffq_assert(t->number > 0);
    return arena_printf(cx, "_tmp_%d", t->number);
}

// The base name (§3.1); forwarded quantizers prefix their origin's base
// name with the chain of callees. Computed once per quantizer.
static const char *base_of(ffq_ctx *cx, Quantizer *q) {
    if (q->base_cache) return q->base_cache;
    const char *b = q->origin ? arena_printf(cx, "%s_%s", q->prefix, base_of(cx, q->origin))
                    : q->tmp  ? plan_tmp_name(cx, q->tmp)
                              : q->base;
    q->base_cache = b;
    return b;
}

typedef struct Named {
    Quantizer *q;
    const char *base;
    size_t order;
} Named;

static int cmp_named(const void *x, const void *y) {
    const Named *a = x, *b = y;
    int r = strcmp(a->base, b->base);
    return r ? r : (a->order > b->order) - (a->order < b->order);
}

// Final names for the quantizers of one group: all instance methods of a
// generated class (own quantizers of each in order, then the forwarded ones
// of each), or a single helper / class or static method.
static void name_group(ffq_ctx *cx, Conv *const *convs, size_t n) {
    PtrVec all = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; convs[i] && k < convs[i]->quantizers.len; k++)
            vec_push(cx, &all, convs[i]->quantizers.items[k]);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; convs[i] && k < convs[i]->forwarded.len; k++)
            vec_push(cx, &all, convs[i]->forwarded.items[k]);
    if (!all.len) return;
    // Sort by base name (then creation order): equal bases are adjacent, and
    // a base that occurs more than once gets _1, _2, ... in creation order.
    Named *v = ARENA_ARRAY(cx, Named, all.len);
    for (size_t i = 0; i < all.len; i++) v[i] = (Named){all.items[i], base_of(cx, all.items[i]), i};
    qsort(v, all.len, sizeof *v, cmp_named);
    for (size_t i = 0; i < all.len;) {
        size_t j = i;
        while (j < all.len && strcmp(v[j].base, v[i].base) == 0) j++;
        const char *base = v[i].base;
        const char *full = str_has_prefix(base, "quantizer_") ? base : arena_printf(cx, "quantizer_%s", base);
        for (size_t k = i; k < j; k++)
            v[k].q->name = j - i > 1 ? arena_printf(cx, "%s_%zu", full, k - i + 1) : full;
        i = j;
    }
    // A suffixed name may still be another base's plain name (`x` twice gives
    // quantizer_x_1, the variable `x_1` gives quantizer_x_1 too): two stubs on one
    // attribute, or a helper with a duplicate parameter. The quantizer created first keeps
    // the name; a later one takes the first free `_1`, `_2`, ... after it. A helper's
    // quantizer parameters also leave alone the names its own source uses (a parameter or
    // local `quantizer_mul`).
    StrMap names = {0}, used = {0};
    if (n == 1 && convs[0] && !convs[0]->instance) rewrite_source_names(cx, convs[0], &used);
    for (size_t i = 0; i < all.len; i++) strset_add(cx, &names, ((Quantizer *)all.items[i])->name);
    for (size_t i = 0; i < all.len; i++) {
        Quantizer *q = all.items[i];
        if (strset_add(cx, &used, q->name)) continue;
        const char *name = q->name;
        for (int k = 1; strmap_get(&names, name, strlen(name)) || strmap_get(&used, name, strlen(name)); k++)
            name = arena_printf(cx, "%s_%d", q->name, k);
        q->name = name;
        strset_add(cx, &used, name);
    }
}

// --- quantizer threading (§5.4) ---

#define MAX_CHAIN     24    // helpers a quantizer may travel through
#define MAX_SIGNATURE 4096  // quantizers one function may take

static bool takes_quantizer_args(const Conv *callee) {
    return callee && !callee->instance && !callee->dropped;
}

// The argument of `call` bound to the parameter at position `pos` named `name`, or CST_NONE.
static uint32_t bound_argument(const Cst *c, uint32_t call, uint32_t pos, const char *name) {
    uint32_t al = cst_field(c, call, F_ARGUMENTS);
    if (al == CST_NONE || c->nodes[al].kind != K_ARGUMENT_LIST) return CST_NONE;
    uint32_t npos = 0;
    bool splat = false;  // positions after *args are unknown
    for (uint32_t k = 0; k < cst_named_count(c, al); k++) {
        uint32_t arg = cst_named_child(c, al, k);
        uint32_t kind = c->nodes[arg].kind;
        if (kind == K_KEYWORD_ARGUMENT) {
            if (cst_text_is(c, cst_field(c, arg, F_NAME), name)) return cst_field(c, arg, F_VALUE);
        } else if (kind == K_LIST_SPLAT || kind == K_DICT_SPLAT) {
            splat = true;
        } else if (kind != K_COMMENT && !splat && npos++ == pos) {
            return arg;
        }
    }
    return CST_NONE;
}

// §3.5: a stub standing for a helper's quantizer has its tag, except that the quantizer of a
// helper parameter this call site passes a module tensor to (`helper(x, self.weight)`) is a
// parameter, weight or bias quantizer, as the tensor's name or the helper's use of it says.
static QuantTag forwarded_tag(ffq_ctx *cx, const Conv *cv, uint32_t call, const Quantizer *cq) {
    if (!cq->param || cq->origin || !cq->base) return cq->tag;
    uint32_t arg = bound_argument(cv->c, call, cq->param - 1, cq->base);
    QuantTag tag = arg == CST_NONE ? QT_ACTIVATION : rewrite_value_tag(cx, cv, arg);
    if (tag == QT_PARAMETER && cq->slot_tag != QT_ACTIVATION) tag = cq->slot_tag;
    return tag == QT_ACTIVATION ? cq->tag : tag;
}

// §5.4: cv's quantizer signature and each call site's arguments, creating
// the forwarded quantizers. Recursive calls pass the function's own
// signature through; a cycle through other functions is not followed.
// A call left unquantized because it closes a cycle of helpers: reported once threading is
// done, and only when the helper it calls has quantizers (otherwise nothing is lost: a
// cycle through torch's own Python functions, for instance).
typedef struct Cycle {
    Conv *cv, *callee;
    const CallSite *site;
} Cycle;

static void thread(ffq_ctx *cx, Conv *cv, PtrVec *cycles) {
    if (cv->threaded || cv->on_stack) return;
    cv->on_stack = true;
    for (size_t i = 0; i < cv->quantizers.len; i++) vec_push(cx, &cv->signature, cv->quantizers.items[i]);
    for (size_t i = 0; i < cv->sites.len; i++) {
        CallSite *site = cv->sites.items[i];
        Conv *callee = site->callee_conv;
        if (!takes_quantizer_args(callee)) continue;
        if (callee == cv) continue;  // direct recursion: passes its own signature (below)
        if (callee->on_stack) {      // a cycle through other functions: not followed
            Cycle *cy = ARENA_NEW(cx, Cycle);
            *cy = (Cycle){cv, callee, site};
            vec_push(cx, cycles, cy);
            site->callee_conv = NULL;
            continue;
        }
        thread(cx, callee, cycles);
        if (!callee->signature.len) {  // §5.5: a helper with no quantizers is not emitted
            callee->dropped = true;
            // its float self hands a value to a constructor that copies memory
            // (torch_geometric's set_sparse_value): the call gives it real values
            if (callee->copies_data) rewrite_dequantize_arguments(cx, cv, site->node);
            continue;
        }
        // Every call site forwards the callee's whole signature, with names that
        // grow along the chain: a long chain of helpers grows the output with the
        // cube of its length. Past a bound the call stays in float instead.
        uint32_t depth = 0;
        for (size_t k = 0; k < callee->signature.len; k++) {
            const Quantizer *cq = callee->signature.items[k];
            if (cq->depth + 1 > depth) depth = cq->depth + 1;
        }
        if (depth > MAX_CHAIN || cv->signature.len + callee->signature.len > MAX_SIGNATURE) {
            diag_at(cx, DIAG_WARNING, cv->c->file, cv->c->nodes[site->node].start, "too-many-quantizers",
                    "threading the quantizers of '%s' through '%s' would pass them through more "
                    "than %d helpers or pass more than %d quantizers; this call is left unquantized",
                    callee->fn->name, cv->fn->name, MAX_CHAIN, MAX_SIGNATURE);
            site->callee_conv = NULL;
            continue;
        }
        for (size_t k = 0; k < callee->signature.len; k++) {
            Quantizer *cq = callee->signature.items[k];
            Quantizer *q = ARENA_NEW(cx, Quantizer);
            q->prefix = runtime_name(cx, callee->fn);
            q->origin = cq;
            q->tag = forwarded_tag(cx, cv, site->node, cq);
            q->depth = cq->depth + 1;
            vec_push(cx, &cv->forwarded, q);
            vec_push(cx, &site->args, q);
            if (!cv->instance) vec_push(cx, &cv->signature, q);
        }
    }
    for (size_t i = 0; i < cv->sites.len; i++) {  // recursive calls pass the parameters through
        CallSite *site = cv->sites.items[i];
        if (site->callee_conv != cv || cv->instance) continue;
        for (size_t k = 0; k < cv->signature.len; k++) vec_push(cx, &site->args, cv->signature.items[k]);
    }
    cv->on_stack = false;
    cv->threaded = true;
}

// --- helper and class names, the finished plan ---

// §5.6: quantized_<name>, with _2, _3, ... when the name is taken.
static void name_helpers(ffq_ctx *cx, OutputPlan *plan) {
    PtrVec taken = {0};  // module-level names of the input may be used by the output too
    for (size_t i = 0; i < plan->mod->bindings.len; i++)
        vec_push(cx, &taken, (void *)VEC_AT(plan->mod->bindings, Binding, i)->name);
    for (size_t i = 0; i < plan->classes.len; i++) {
        GenClass *g = plan->classes.items[i];
        vec_push(cx, &taken, (void *)g->name);
        for (size_t k = 0; k < g->convs.len; k++)
            vec_push(cx, &taken, (void *)((Conv *)g->convs.items[k])->fn->name);
    }
    for (size_t i = 0; i < plan->helpers.len; i++) {
        Conv *cv = plan->helpers.items[i];
        if (cv->dropped) continue;
        const PlanWork *w = find_work(plan, cv->fn, NULL);
        const char *called = w && w->call_name ? w->call_name : cv->fn->name;
        const char *base = arena_printf(cx, "quantized_%s", called), *name = base;
        for (int n = 2;; n++) {
            bool clash = false;
            for (size_t k = 0; k < taken.len && !clash; k++) clash = strcmp(taken.items[k], name) == 0;
            if (!clash) break;
            name = arena_printf(cx, "%s_%d", base, n);
        }
        cv->emit_name = name;
        vec_push(cx, &taken, (void *)name);
        cx->stats.helpers_generated++;
    }
}

// §4.3: different classes sharing a name are Quantized<Name>_<k> (k in
// discovery order, from 0), their bases imported as __ffaq_base_<Name>_<k>.
static void name_classes(ffq_ctx *cx, OutputPlan *plan) {
    for (size_t i = 0; i < plan->classes.len; i++) {
        GenClass *g = plan->classes.items[i];
        size_t k = 0, count = 0;
        for (size_t j = 0; j < plan->classes.len; j++) {
            const GenClass *h = plan->classes.items[j];
            if (strcmp(h->ci->name, g->ci->name) != 0) continue;
            if (j < i) k++;
            count++;
        }
        if (count < 2) continue;
        g->name = arena_printf(cx, "Quantized%s_%zu", g->ci->name, k);
        g->base = arena_printf(cx, "__ffaq_base_%s_%zu", g->ci->name, k);
    }
    // a name still taken gets _1, _2, ...: a base class the output imports (the input's
    // own `QuantizedFoo`, base of QuantizedQuantizedFoo, would be shadowed by the class
    // generated for `Foo`), any module-level name of the input (converted code may import
    // it), or a class named before
    PtrVec taken = {0};
    for (size_t i = 0; i < plan->mod->bindings.len; i++)
        vec_push(cx, &taken, (void *)VEC_AT(plan->mod->bindings, Binding, i)->name);
    for (size_t i = 0; i < plan->classes.len; i++) {
        const GenClass *g = plan->classes.items[i];
        vec_push(cx, &taken, (void *)(g->base ? g->base : g->ci->name));
    }
    for (size_t i = 0; i < plan->classes.len; i++) {
        GenClass *g = plan->classes.items[i];
        const char *name = g->name;
        for (int n = 1;; n++) {
            bool clash = false;
            for (size_t k = 0; k < taken.len && !clash; k++) clash = strcmp(taken.items[k], name) == 0;
            if (!clash) break;
            name = arena_printf(cx, "%s_%d", g->name, n);
        }
        g->name = name;
        vec_push(cx, &taken, (void *)name);
        // `Name.member(...)` in the class's methods calls the generated class (§1.3)
        for (size_t k = 0; k < g->convs.len; k++) {
            Conv *cv = g->convs.items[k];
            for (size_t j = 0; j < cv->class_refs.len; j++)
                nodemap_put(cx, &cv->text_of, (uint32_t)(uintptr_t)cv->class_refs.items[j], (void *)name);
        }
    }
}

// A class whose methods read its own children as a collection (`for m in
// self.children()`, self._modules) cannot hold quantizers: they would be children too, and
// run as layers. When it would have any, none of its methods is generated (they are
// inherited, float) and the read is reported; without quantizers it converts as usual.
static void drop_children_readers(ffq_ctx *cx, OutputPlan *plan) {
    for (size_t i = 0; i < plan->classes.len; i++) {
        GenClass *g = plan->classes.items[i];
        const Conv *reader = NULL;
        size_t nq = 0;
        for (size_t k = 0; k < g->convs.len; k++) {
            const Conv *cv = g->convs.items[k];
            if (!cv->instance) continue;
            if (cv->children_use != CST_NONE && !reader) reader = cv;
            nq += cv->quantizers.len + cv->forwarded.len;
        }
        if (!reader || !nq) continue;
        diag_at(cx, DIAG_WARNING, reader->c->file, reader->c->nodes[reader->children_use].start,
                "children-self-use",
                "cannot quantize class '%s': '%s' reads its own children (self._modules, children(), "
                "modules()), and the class's %zu quantizer%s would be children too; its methods are left "
                "out of the output",
                g->ci->name, reader->fn->name, nq, nq == 1 ? "" : "s");
        for (size_t k = 0; k < g->convs.len; k++) {
            Conv *cv = g->convs.items[k];
            cv->dropped = true;
            cv->quantizers.len = cv->forwarded.len = cv->signature.len = 0;
            cx->stats.float_failed++;
        }
    }
}

// Threading, dropping, temporaries numbered in output order, then names.
void plan_finish(ffq_ctx *cx, OutputPlan *plan) {
    link_sites(plan);
    name_classes(cx, plan);
    PtrVec cycles = {0};
    for (size_t i = 0; i < plan->classes.len; i++) {
        GenClass *g = plan->classes.items[i];
        for (size_t k = 0; k < g->convs.len; k++) thread(cx, g->convs.items[k], &cycles);
    }
    drop_children_readers(cx, plan);
    for (size_t i = 0; i < plan->helpers.len; i++) {
        Conv *cv = plan->helpers.items[i];
        thread(cx, cv, &cycles);
        if (!cv->signature.len) cv->dropped = true;
    }
    for (size_t i = 0; i < cycles.len; i++) {
        const Cycle *cy = cycles.items[i];
        if (!cy->callee->signature.len) continue;
        diag_at(cx, DIAG_WARNING, cy->cv->c->file, cy->cv->c->nodes[cy->site->node].start, "recursive-helper",
                "the call to '%s' closes a cycle of helpers; it is left unquantized", cy->callee->fn->name);
    }
    name_helpers(cx, plan);
    for (size_t i = 0; i < plan->helpers.len; i++) {
        Conv *cv = plan->helpers.items[i];
        if (!cv->dropped) number_tmps(cx, plan, cv);
    }
    for (size_t i = 0; i < plan->classes.len; i++) {
        GenClass *g = plan->classes.items[i];
        PtrVec group = {0};  // instance methods share self.; class/static methods are their own
        for (size_t k = 0; k < g->convs.len; k++) {
            Conv *cv = g->convs.items[k];
            if (cv->instance) vec_push(cx, &group, cv);
            else cv->dropped = cv->dropped || !cv->signature.len;
        }
        for (size_t k = 0; k < g->convs.len; k++) {
            Conv *cv = g->convs.items[k];
            if (cv->dropped) continue;
            number_tmps(cx, plan, cv);
            rewrite_number_shared(cx, cv);
            cx->stats.ops_rewritten += cv->nops;
            if (!cv->instance) name_group(cx, &cv, 1);
        }
        name_group(cx, (Conv *const *)group.items, group.len);
    }
    for (size_t i = 0; i < plan->helpers.len; i++) {
        Conv *cv = plan->helpers.items[i];
        if (cv->dropped) continue;
        cx->stats.ops_rewritten += cv->nops;
        name_group(cx, &cv, 1);
    }
}

// --- --dump=plan ---

static void dump_quantizers(ffq_ctx *cx, const char *what, const PtrVec *qs, StrBuf *out) {
    if (!qs->len) return;
    sb_printf(cx, out, "  %s:", what);
    for (size_t i = 0; i < qs->len; i++) sb_printf(cx, out, " %s", ((const Quantizer *)qs->items[i])->name);
    sb_putc(cx, out, '\n');
}

static void dump_at(ffq_ctx *cx, const Conv *cv, uint32_t node, StrBuf *out) {
    uint32_t line, col;
    srcfile_linecol(cv->c->file, cv->c->nodes[node].start, &line, &col);
    sb_printf(cx, out, "  %u:%u: ", line, col);
}

// The rewritten operators, in source order, then the followed calls.
static void dump_body(ffq_ctx *cx, const Conv *cv, StrBuf *out) {
    for (uint32_t n = 0; cv->op_of.len && n < cv->c->count; n++) {
        const QOp *op = nodemap_get(&cv->op_of, n);
        if (!op) continue;
        dump_at(cx, cv, n, out);
        sb_printf(cx, out, "op %s", op->entry->identifier);
        if (op->output) sb_printf(cx, out, " -> %s", op->output->name);
        for (size_t k = 0; k < op->entry->nintermediates; k++)
            sb_printf(cx, out, "%s%s", k ? ", " : " (intermediates: ", op->intermediates[k]->name);
        sb_puts(cx, out, op->entry->nintermediates ? ")\n" : "\n");
    }
    for (size_t i = 0; i < cv->sites.len; i++) {
        const CallSite *site = cv->sites.items[i];
        dump_at(cx, cv, site->node, out);
        const Conv *callee = site->callee_conv;
        if (!callee || callee->dropped) {
            sb_printf(cx, out, "call %s -> %s\n", site->callee->name, callee ? "dropped" : "not followed");
            continue;
        }
        sb_printf(cx, out, "call %s -> %s(", site->callee->name,
                  callee->emit_name ? callee->emit_name : callee->fn->name);
        for (size_t k = 0; k < site->args.len; k++)
            sb_printf(cx, out, "%s%s", k ? ", " : "", ((const Quantizer *)site->args.items[k])->name);
        sb_puts(cx, out, ")\n");
    }
}

static void dump_conv(ffq_ctx *cx, const Conv *cv, StrBuf *out) {
    static const char *const kinds[] = {"function", "method", "classmethod", "staticmethod"};
    const FuncInfo *fn = cv->fn;
    sb_printf(cx, out, "## %s %s%s%s", kinds[fn->kind], fn->owner ? fn->owner->name : "",
              fn->owner ? "." : "", fn->name);
    if (cv->emit_name) sb_printf(cx, out, " as %s", cv->emit_name);
    sb_puts(cx, out, cv->dropped ? " (dropped: no quantizers)\n" : "\n");
    if (cv->dropped) return;
    dump_quantizers(cx, "quantizers", &cv->quantizers, out);
    dump_quantizers(cx, "forwarded", &cv->forwarded, out);
    if (!cv->instance) dump_quantizers(cx, "signature", &cv->signature, out);
    dump_body(cx, cv, out);
}

void plan_dump(ffq_ctx *cx, const OutputPlan *plan, StrBuf *out) {
    for (size_t i = 0; i < plan->helpers.len; i++) dump_conv(cx, plan->helpers.items[i], out);
    for (size_t i = 0; i < plan->classes.len; i++) {
        const GenClass *g = plan->classes.items[i];
        sb_printf(cx, out, "# class %s for %s.%s", g->name, g->ci->mod->name, g->ci->name);
        if (g->base) sb_printf(cx, out, " (imported as %s)", g->base);
        sb_putc(cx, out, '\n');
        for (size_t k = 0; k < g->convs.len; k++) dump_conv(cx, g->convs.items[k], out);
    }
    for (size_t i = 0; i < plan->work.len; i++) {
        const PlanWork *w = plan->work.items[i];
        if (w->cv) continue;
        sb_printf(cx, out, "# not converted: %s%s%s\n", w->fn->owner ? w->fn->owner->name : "",
                  w->fn->owner ? "." : "", w->fn->name);
    }
}
