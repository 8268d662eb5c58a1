// compile.c: the whole pipeline, one call per stage.
//
// Consumes: a file (or buffer) and ffq_options. Produces: cx->output (the
// generated module) or error diagnostics. This is the only place with a
// recovery point for allocation failure (the one setjmp of the codebase).
#define _DEFAULT_SOURCE  // realpath
#include "ffq_int.h"
#include "emit.h"
#include "pattern.h"
#include "program.h"
#include "rewrite.h"
#include "types.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

// The input's package root: the directory above the outermost directory
// holding an __init__.py (its own directory when it is not in a package),
// and its dotted module name relative to that root
// ("pkg/sub/mod.py" -> "pkg.sub.mod"; "pkg/__init__.py" -> "pkg").
static const char *package_root(ffq_ctx *cx, const char *path, const char **modname) {
    char abs[PATH_MAX];
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".py") == 0) n -= 3;
    const char *name = strcmp(base, "__init__.py") == 0 ? "" : arena_strndup(cx, base, n);
    if (!realpath(path, abs)) {
        *modname = name[0] ? name : "__init__";
        return ".";
    }
    char *slash = strrchr(abs, '/');
    if (slash) *slash = '\0';
    for (;;) {
        const char *init = arena_printf(cx, "%s/__init__.py", abs);
        slash = strrchr(abs, '/');
        if (!exists(init) || !slash || slash == abs) break;
        name = name[0] ? arena_printf(cx, "%s.%s", slash + 1, name) : arena_strdup(cx, slash + 1);
        *slash = '\0';
    }
    *modname = name[0] ? name : "__init__";
    return arena_strdup(cx, abs);
}

static bool load_tables(ffq_ctx *cx, const ffq_options *opt) {
    OpTable *t = optable_new(cx);
    bool ok = true;
    if (!opt->no_default_optable) ok = optable_load_default(cx, t) && ok;
    for (size_t i = 0; i < opt->noptables; i++) ok = optable_load_file(cx, t, opt->optables[i]) && ok;
    cx->optable = t;
    return ok;
}

// `to` relative to directory `from` (both absolute): "sub/dir", "..", "../x".
static const char *relative_path(ffq_ctx *cx, const char *from, const char *to) {
    if (to[0] != '/') return to;
    size_t common = 0;  // length of the common directory prefix
    for (size_t i = 0;; i++) {
        bool end_from = from[i] == '\0' || from[i] == '/', end_to = to[i] == '\0' || to[i] == '/';
        if (end_from && end_to) common = i;
        if (from[i] != to[i] || from[i] == '\0') break;
    }
    StrBuf sb = {0};
    for (const char *p = from + common; *p; p++)
        if (*p == '/') sb_puts(cx, &sb, sb.len ? "/.." : "..");
    const char *rest = to + common;
    if (*rest == '/') rest++;
    if (*rest) sb_printf(cx, &sb, "%s%s", sb.len ? "/" : "", rest);
    return sb.len ? sb_cstr(cx, &sb) : ".";
}

// "-I dirs as given, the input's package root (relative to the current
// directory when below it), the site-packages of the interpreter": the
// search path as messages show it, without machine-specific paths.
static const char *describe_search(ffq_ctx *cx, const ffq_options *opt, const char *root) {
    StrBuf sb = {0};
    for (size_t i = 0; i < opt->nsearch_path; i++) sb_printf(cx, &sb, "'%s', ", opt->search_path[i]);
    char cwd[PATH_MAX];
    sb_printf(cx, &sb, "the package root '%s'", getcwd(cwd, sizeof cwd) ? relative_path(cx, cwd, root) : root);
    if (opt->nsite_path) sb_puts(cx, &sb, " and the interpreter's site-packages");
    return sb_cstr(cx, &sb);
}

// Pattern rules from --replace and from the tables' `patterns:` lists (§8).
// Returns false when a rule is malformed (already reported).
static bool load_rules(ffq_ctx *cx, const ffq_options *opt, PtrVec *rules) {
    bool ok = true;
    for (size_t i = 0; i < opt->nreplace; i++) {
        PatternRule *r = pattern_parse(cx, opt->replace[i], NULL, 0);
        if (r) vec_push(cx, rules, r);
        else ok = false;
    }
    for (size_t i = 0; i < optable_npatterns(cx->optable); i++) {
        const TablePattern *tp = optable_pattern(cx->optable, i);
        PatternRule *r = pattern_parse(cx, tp->rule, tp->file, tp->offset);
        if (r) vec_push(cx, rules, r);
        else ok = false;
    }
    return ok;
}

static void list_classes(ffq_ctx *cx, const Module *m, StrBuf *sb) {
    for (size_t i = 0; i < m->classes.len; i++) {
        ClassInfo *ci = VEC_AT(m->classes, ClassInfo, i);
        sb_printf(cx, sb, "%s%s%s", sb->len ? ", " : "", ci->name,
                  program_is_module_class(cx, ci) ? "" : " (not an nn.Module)");
    }
}

// Root classes: --class NAME..., or every nn.Module subclass of the input.
static bool find_roots(ffq_ctx *cx, const Module *m, const ffq_options *opt, PtrVec *roots) {
    if (opt->nclasses) {
        bool ok = true;
        for (size_t i = 0; i < opt->nclasses; i++) {
            ClassInfo *ci = program_class(m, opt->classes[i]);
            if (ci) {
                vec_push(cx, roots, ci);
                continue;
            }
            StrBuf names = {0};
            list_classes(cx, m, &names);
            diag_at(cx, DIAG_ERROR, NULL, 0, "unknown-class", "no class '%s' in %s; %s %s",
                    opt->classes[i], m->file->path,
                    names.len ? "classes defined there:" : "it defines no classes",
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

typedef struct Work {
    const FuncInfo *fn;
    GenClass *g;  // the generated class it belongs to; NULL for free helpers
    Conv *cv;
} Work;

typedef struct Queue {
    PtrVec items;  // Work *, in the order they were queued (FIFO)
    OutputPlan *plan;
} Queue;

static Work *find_work(const Queue *q, const FuncInfo *fn, const GenClass *g) {
    for (size_t i = 0; i < q->items.len; i++) {
        Work *w = q->items.items[i];
        if (w->fn == fn && w->g == g) return w;
        // a method name already present on the class builder is skipped
        if (g && w->g == g && strcmp(w->fn->name, fn->name) == 0) return w;
    }
    return NULL;
}

static Work *enqueue(ffq_ctx *cx, Queue *q, const FuncInfo *fn, GenClass *g) {
    Work *w = find_work(q, fn, g);
    if (w) return w;
    w = ARENA_NEW(cx, Work);
    w->fn = fn;
    w->g = g;
    vec_push(cx, &q->items, w);
    return w;
}

// §4.1: FastForward ships quantized versions of these; a submodule of
// exactly this class gets no generated class (its children are still walked).
static const char *const hand_quantized[] = {
    "Linear", "Conv1d", "Conv2d", "Embedding", "LayerNorm", "ReLU", "SiLU", "Sequential",
    "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
};

static bool is_hand_quantized(const char *qualname) {
    const char *last = strrchr(qualname, '.');
    if (!last || strncmp(qualname, "torch.nn.", 9) != 0) return false;
    for (size_t i = 0; i < sizeof hand_quantized / sizeof hand_quantized[0]; i++)
        if (strcmp(last + 1, hand_quantized[i]) == 0) return true;
    return false;
}

// The same check on a resolved class: torch.nn.modules.<file>.<Name>.
static bool is_hand_quantized_class(const ClassInfo *ci) {
    if (strncmp(ci->mod->name, "torch.nn.modules.", 17) != 0) return false;
    for (size_t i = 0; i < sizeof hand_quantized / sizeof hand_quantized[0]; i++)
        if (strcmp(ci->name, hand_quantized[i]) == 0) return true;
    return false;
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
    Queue *queue;
    PtrVec seen;          // ClassInfo * already visited
    PtrVec notes;         // torch classes reported as not generated
} Discovery;

static void discover(Discovery *d, ClassInfo *ci, int depth);

// Calls to classes inside a submodule expression: `Block(...)`,
// `nn.Sequential(A(), B())`, `nn.ModuleList([Layer() for _ in range(n)])`.
static void walk_submodule_expr(Discovery *d, const Module *m, uint32_t n, int depth) {
    const Cst *c = m->cst;
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_LAMBDA) return;
    if (kind == K_CALL) {
        Symbol sym = program_resolve(d->cx, (Module *)m, cst_field(c, n, F_FUNCTION));
        const char *q = program_qualname(d->cx, m, cst_field(c, n, F_FUNCTION));
        ClassInfo *sub = sym.kind == SYM_CLASS ? sym.cls : NULL;
        if (sub && is_hand_quantized_class(sub)) sub = NULL, q = NULL;  // children still walked
        if (sym.kind == SYM_NONE) {
            const char *missing = program_missing_import(d->cx, (Module *)m, cst_field(c, n, F_FUNCTION));
            if (missing)
                program_warn_missing(d->cx, (Module *)m, n,
                                     arena_printf(d->cx, "submodule class '%s'",
                                                  program_dotted_text(d->cx, c, cst_field(c, n, F_FUNCTION))),
                                     missing);
        }
        if (sub && program_is_module_class(d->cx, sub)) discover(d, sub, depth + 1);
        else if (!sub && q && strncmp(q, "torch.nn.", 9) == 0 && !is_hand_quantized(q)) {
            const char *last = strrchr(q, '.') + 1;
            bool known = false;
            for (size_t i = 0; i < d->notes.len && !known; i++) known = strcmp(d->notes.items[i], q) == 0;
            bool tensor_like = strcmp(last, "Parameter") == 0 || strcmp(last, "Buffer") == 0 ||
                               strncmp(last, "Uninitialized", 13) == 0;
            if (last[0] >= 'A' && last[0] <= 'Z' && !known && !tensor_like) {
                vec_push(d->cx, &d->notes, (void *)q);
                diag_at(d->cx, DIAG_NOTE, m->file, c->nodes[n].start, "torch-module-not-generated",
                        "submodule class '%s' is defined in torch; ffq does not read torch's "
                        "source yet, so it gets no generated class",
                        q);
            }
        }
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (c->nodes[c->nodes[n].first_child + k].named)
            walk_submodule_expr(d, m, c->nodes[n].first_child + k, depth);
}

// `self.<name> = <expr>` statements of __init__, in registration order;
// `super().__init__(...)` walks the base class's __init__ at that point.
static void walk_init(Discovery *d, const ClassInfo *ci, uint32_t n, const char *self, int depth) {
    const Module *m = ci->mod;
    const Cst *c = m->cst;
    uint32_t kind = c->nodes[n].kind;
    if (kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA || depth > 64) return;
    if (kind == K_ASSIGNMENT) {
        uint32_t left = cst_unparen(c, cst_field(c, n, F_LEFT)), right = cst_field(c, n, F_RIGHT);
        if (left != CST_NONE && right != CST_NONE && c->nodes[left].kind == K_ATTRIBUTE &&
            cst_text_is(c, cst_field(c, left, F_OBJECT), self)) {
            walk_submodule_expr(d, m, right, depth);
            return;
        }
    }
    if (kind == K_CALL) {  // super().__init__(...) / self.add_module("x", Block())
        uint32_t f = cst_field(c, n, F_FUNCTION);
        const char *text = program_dotted_text(d->cx, c, f);
        size_t len;
        const char *ft = f == CST_NONE ? "" : cst_text(c, f, &len);
        if (f != CST_NONE && len >= 16 && strncmp(ft, "super()", 7) == 0 &&
            strncmp(ft + len - 9, ".__init__", 9) == 0) {
            for (size_t i = 0; i < ci->bases.len; i++) {
                ClassInfo *base = program_base(d->cx, (ClassInfo *)ci, i);
                FuncInfo *init = base ? program_find_method(d->cx, base, "__init__") : NULL;
                if (init && init->owner != ci)
                    walk_init(d, init->owner, cst_field(init->mod->cst, init->def, F_BODY),
                              self, depth + 1);
                if (base) break;
            }
            return;
        }
        if (text && strcmp(text, arena_printf(d->cx, "%s.add_module", self)) == 0) {
            walk_submodule_expr(d, m, cst_field(c, n, F_ARGUMENTS), depth);
            return;
        }
    }
    for (uint32_t k = 0; k < c->nodes[n].nchildren; k++)
        if (c->nodes[c->nodes[n].first_child + k].named)
            walk_init(d, ci, c->nodes[n].first_child + k, self, depth);
}

// §4.2: depth-first in registration order; each class the first time it is seen.
static void discover(Discovery *d, ClassInfo *ci, int depth) {
    for (size_t i = 0; i < d->seen.len; i++)
        if (d->seen.items[i] == ci) return;
    vec_push(d->cx, &d->seen, ci);
    GenClass *g = new_class(d->cx, ci, d->plan);
    FuncInfo *fwd = program_find_method(d->cx, ci, "forward");
    if (fwd) enqueue(d->cx, d->queue, fwd, g);
    else
        diag_at(d->cx, DIAG_WARNING, ci->mod->file, ci->mod->cst->nodes[ci->node].start,
                "no-forward",
                "class '%s' has no forward method ffq can read in this file; its generated "
                "class has no converted forward",
                ci->name);
    FuncInfo *init = program_find_method(d->cx, ci, "__init__");
    if (!init || depth > 64) return;
    const Cst *c = init->mod->cst;
    uint32_t ps = cst_field(c, init->def, F_PARAMETERS);
    uint32_t p0 = ps == CST_NONE ? CST_NONE : cst_named_child(c, ps, 0);
    if (p0 == CST_NONE) return;
    if (c->nodes[p0].kind != K_IDENTIFIER) p0 = cst_named_child(c, p0, 0);
    if (p0 == CST_NONE) return;
    walk_init(d, init->owner, cst_field(c, init->def, F_BODY), cst_strdup(d->cx, c, p0), depth);
}

// §5.1: convert queued functions in FIFO order; each enqueues what it calls.
static void run_queue(ffq_ctx *cx, Queue *q) {
    for (size_t i = 0; i < q->items.len; i++) {
        Work *w = q->items.items[i];
        w->cv = rewrite_function(cx, w->fn, w->g ? w->g->ci : NULL);
        if (!w->cv) continue;
        if (w->g) vec_push(cx, &w->g->convs, w->cv);
        else vec_push(cx, &q->plan->helpers, w->cv);
        for (size_t k = 0; k < w->cv->sites.len; k++) {
            CallSite *site = w->cv->sites.items[k];
            GenClass *g = site->callee->owner ? w->g : NULL;
            if (site->callee->owner && !g) continue;  // a method outside any generated class
            enqueue(cx, q, site->callee, g);
        }
    }
    for (size_t i = 0; i < q->items.len; i++) {  // link call sites to the converted callees
        Work *w = q->items.items[i];
        for (size_t k = 0; w->cv && k < w->cv->sites.len; k++) {
            CallSite *site = w->cv->sites.items[k];
            Work *callee = find_work(q, site->callee, site->callee->owner ? w->g : NULL);
            site->callee_conv = callee ? callee->cv : NULL;
        }
    }
}

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
        const char *base = arena_printf(cx, "quantized_%s", cv->fn->name), *name = base;
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
}

// Threading, dropping, temporaries numbered in output order, then names.
static void finish_plan(ffq_ctx *cx, OutputPlan *plan) {
    name_classes(cx, plan);
    for (size_t i = 0; i < plan->classes.len; i++) {
        GenClass *g = plan->classes.items[i];
        for (size_t k = 0; k < g->convs.len; k++) rewrite_thread(cx, g->convs.items[k]);
    }
    for (size_t i = 0; i < plan->helpers.len; i++) {
        Conv *cv = plan->helpers.items[i];
        rewrite_thread(cx, cv);
        if (!cv->signature.len) cv->dropped = true;
    }
    name_helpers(cx, plan);
    for (size_t i = 0; i < plan->helpers.len; i++) {
        Conv *cv = plan->helpers.items[i];
        if (!cv->dropped) rewrite_number_tmps(cx, cv);
    }
    for (size_t i = 0; i < plan->classes.len; i++) {
        GenClass *g = plan->classes.items[i];
        PtrVec group = {0};  // instance methods share self.; class/static methods are their own
        for (size_t k = 0; k < g->convs.len; k++) {
            Conv *cv = g->convs.items[k];
            if (cv->instance) vec_push(cx, &group, cv);
            else cv->dropped = !cv->signature.len;
        }
        for (size_t k = 0; k < g->convs.len; k++) {
            Conv *cv = g->convs.items[k];
            if (cv->dropped) continue;
            rewrite_number_tmps(cx, cv);
            cx->stats.ops_rewritten += cv->nops;
            if (!cv->instance) rewrite_name_group(cx, &cv, 1);
        }
        rewrite_name_group(cx, (Conv *const *)group.items, group.len);
    }
    for (size_t i = 0; i < plan->helpers.len; i++) {
        Conv *cv = plan->helpers.items[i];
        if (cv->dropped) continue;
        cx->stats.ops_rewritten += cv->nops;
        rewrite_name_group(cx, &cv, 1);
    }
}

// Python source is UTF-8 (PEP 3120); the offset of the first byte that is
// not, or UINT32_MAX when the whole file is valid.
uint32_t compile_invalid_utf8(const char *s, uint32_t n) {
    for (uint32_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || (len == 2 && c < 0xc2) || i + len > n) return i;
        for (uint32_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] >> 6) != 2) return i;
        i += len;
    }
    return UINT32_MAX;
}

static ffq_status run(ffq_ctx *cx, const SrcFile *file, const ffq_options *opt) {
    if (cx->used) ffq_fail(__FILE__, __LINE__, "a context compiles once");
    cx->used = true;
    cx->opt = *opt;
    uint32_t bad = compile_invalid_utf8(file->data, file->len);
    if (bad != UINT32_MAX) {
        diag_at(cx, DIAG_ERROR, file, bad, "not-utf8",
                "byte 0x%02x is not valid UTF-8; ffq reads Python source as UTF-8 (re-encode "
                "the file)",
                (unsigned char)file->data[bad]);
        return FFQ_ERR_INPUT;
    }
    if (!load_tables(cx, opt)) return FFQ_ERR_INPUT;
    PtrVec rules = {0};
    if (!load_rules(cx, opt, &rules)) return opt->nreplace ? FFQ_ERR_USAGE : FFQ_ERR_INPUT;
    const char *derived = "__stdin__";
    const char *root = strcmp(file->path, "<stdin>") == 0 ? "." : package_root(cx, file->path, &derived);
    const char *modname = opt->module_name ? opt->module_name : derived;
    if (rules.len) file = pattern_apply(cx, file, modname, (PatternRule *const *)rules.items, rules.len);
    Cst *cst = source_parse(cx, file);
    if (!cst) {
        diag_at(cx, DIAG_ERROR, NULL, 0, "parser-failed", "could not parse %s", file->path);
        return FFQ_ERR_INPUT;
    }
    if (cst->has_errors) return FFQ_ERR_INPUT;
    Module *m = program_load(cx, file, cst, modname);
    PtrVec dirs = {0};  // -I, then the input's package root, then site-packages (§ issue 5)
    for (size_t i = 0; i < opt->nsearch_path; i++) vec_push(cx, &dirs, (void *)opt->search_path[i]);
    vec_push(cx, &dirs, (void *)root);
    for (size_t i = 0; i < opt->nsite_path; i++) vec_push(cx, &dirs, (void *)opt->site_path[i]);
    program_init(cx, (const char *const *)dirs.items, dirs.len, m);
    program_set_search_text(cx, describe_search(cx, opt, root));
    cx->stats.files_read = 1;
    PtrVec roots = {0};
    if (!find_roots(cx, m, opt, &roots)) return FFQ_ERR_INPUT;
    OutputPlan plan = {.mod = m};
    const char *dot = strchr(modname, '.');
    plan.first_party = dot ? arena_strndup(cx, modname, (size_t)(dot - modname)) : modname;
    Queue q = {.plan = &plan};
    Discovery d = {.cx = cx, .plan = &plan, .queue = &q};
    for (size_t i = 0; i < roots.len; i++) discover(&d, roots.items[i], 0);
    run_queue(cx, &q);
    finish_plan(cx, &plan);
    for (size_t i = 0; i < cx->missing_ops.len; i++) {
        const MissingOp *mo = cx->missing_ops.items[i];
        cx->stats.float_not_in_table += mo->count;
        diag_at(cx, DIAG_NOTE, mo->file, mo->offset, "not-in-optable",
                "'%s' is not in the operator table; %s in float (add it with --optable)",
                mo->name, mo->count == 1 ? "this call stays" : arena_printf(cx, "its %zu calls stay", mo->count));
    }
    StrBuf out = {0};
    if (opt->dump_types) {  // a developer view: what inference decided, per function
        Queue *qq = &q;
        for (size_t i = 0; i < qq->items.len; i++) {
            Work *w = qq->items.items[i];
            if (w->cv && w->cv->types) types_dump(cx, w->cv->types, &out);
        }
        cx->output = sb_cstr(cx, &out);
        cx->output_len = out.len;
        return FFQ_OK;
    }
    emit_module(cx, &plan, &out);
    cx->output = sb_cstr(cx, &out);
    cx->output_len = out.len;
    return FFQ_OK;
}

static ffq_status guarded(ffq_ctx *cx, const char *path, const char *data, size_t len,
                          const ffq_options *opt) {
    jmp_buf jb;
    cx->recover = &jb;
    if (setjmp(jb)) {
        cx->recover = NULL;
        cx->output = NULL;
        return FFQ_ERR_NOMEM;
    }
    ffq_status st;
    SrcFile *file = data ? srcfile_new(cx, path, data, len) : srcfile_read(cx, path);
    SrcFile *decoded = file ? srcfile_decode(cx, file) : NULL;  // PEP 263 coding declarations
    st = decoded ? run(cx, decoded, opt) : file ? FFQ_ERR_INPUT : FFQ_ERR_IO;
    if (st == FFQ_OK && diag_has_errors(cx)) st = FFQ_ERR_INPUT;
    if (st != FFQ_OK) cx->output = NULL;
    cx->recover = NULL;
    return st;
}

ffq_status ffq_compile_file(ffq_ctx *cx, const char *path, const ffq_options *opt) {
    return guarded(cx, path, NULL, 0, opt);
}

ffq_status ffq_compile_buffer(ffq_ctx *cx, const char *name, const char *data, size_t len,
                              const ffq_options *opt) {
    return guarded(cx, name, data ? data : "", len, opt);
}
