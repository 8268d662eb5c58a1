// compile.c: the whole pipeline, one call per stage.
//
// Consumes: a file (or buffer) and ffq_options. Produces: cx->output (the
// generated module) or error diagnostics. This is the only place with a
// recovery point for allocation failure (the one setjmp of the codebase).
#include "ffq_int.h"
#include "emit.h"
#include "program.h"
#include "rewrite.h"

#include <string.h>

// "models/mlp.py" -> "mlp"
static const char *module_from_path(ffq_ctx *cx, const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".py") == 0) n -= 3;
    return arena_strndup(cx, base, n);
}

static bool load_tables(ffq_ctx *cx, const ffq_options *opt) {
    OpTable *t = optable_new(cx);
    bool ok = true;
    if (!opt->no_default_optable) ok = optable_load_default(cx, t) && ok;
    for (size_t i = 0; i < opt->noptables; i++) ok = optable_load_file(cx, t, opt->optables[i]) && ok;
    cx->optable = t;
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
    if (!roots->len)
        diag_at(cx, DIAG_WARNING, NULL, 0, "no-modules",
                "%s defines no torch.nn.Module subclass; nothing to generate", m->file->path);
    return true;
}

// The class's forward, own or inherited from a base class in the same file.
static FuncInfo *find_forward(ffq_ctx *cx, const ClassInfo *ci, int depth) {
    FuncInfo *f = program_method(ci, "forward");
    if (f || depth > 64) return f;
    for (size_t i = 0; i < ci->bases.len; i++) {
        const char *b = VEC_AT(ci->bases, const char, i);
        size_t ml = strlen(ci->mod->name);
        if (strncmp(b, ci->mod->name, ml) != 0 || b[ml] != '.') continue;
        ClassInfo *base = program_class(ci->mod, b + ml + 1);
        if (base && base != ci && (f = find_forward(cx, base, depth + 1))) return f;
    }
    return NULL;
}

static void convert_class(ffq_ctx *cx, ClassInfo *ci, OutputPlan *plan) {
    GenClass *g = ARENA_NEW(cx, GenClass);
    g->ci = ci;
    g->name = arena_printf(cx, "Quantized%s", ci->name);
    FuncInfo *fwd = find_forward(cx, ci, 0);
    if (!fwd) {
        diag_at(cx, DIAG_WARNING, ci->mod->file, ci->mod->cst->nodes[ci->node].start, "no-forward",
                "class '%s' has no forward method ffq can read in this file; its generated "
                "class has no converted forward",
                ci->name);
    } else {
        Conv *cv = rewrite_function(cx, fwd);
        if (cv) vec_push(cx, &g->convs, cv);
    }
    vec_push(cx, &plan->classes, g);
    cx->stats.classes_generated++;
}

static ffq_status run(ffq_ctx *cx, SrcFile *file, const ffq_options *opt) {
    if (cx->used) ffq_fail(__FILE__, __LINE__, "a context compiles once");
    cx->used = true;
    cx->opt = *opt;
    if (!load_tables(cx, opt)) return FFQ_ERR_INPUT;
    Cst *cst = source_parse(cx, file);
    if (!cst) {
        diag_at(cx, DIAG_ERROR, NULL, 0, "parser-failed", "could not parse %s", file->path);
        return FFQ_ERR_INPUT;
    }
    if (cst->has_errors) return FFQ_ERR_INPUT;
    const char *modname = opt->module_name ? opt->module_name : module_from_path(cx, file->path);
    Module *m = program_load(cx, file, cst, modname);
    PtrVec roots = {0};
    if (!find_roots(cx, m, opt, &roots)) return FFQ_ERR_INPUT;
    OutputPlan plan = {.mod = m};
    const char *dot = strchr(modname, '.');
    plan.first_party = dot ? arena_strndup(cx, modname, (size_t)(dot - modname)) : modname;
    for (size_t i = 0; i < roots.len; i++) convert_class(cx, roots.items[i], &plan);
    for (size_t i = 0; i < plan.helpers.len; i++) rewrite_number_tmps(cx, plan.helpers.items[i]);
    for (size_t i = 0; i < plan.classes.len; i++) {
        GenClass *g = plan.classes.items[i];
        for (size_t k = 0; k < g->convs.len; k++) {
            Conv *cv = g->convs.items[k];
            rewrite_number_tmps(cx, cv);
            cx->stats.ops_rewritten += cv->nops;
        }
        rewrite_name_group(cx, (Conv *const *)g->convs.items, g->convs.len);
    }
    for (size_t i = 0; i < plan.helpers.len; i++) rewrite_name_group(cx, (Conv *const *)&plan.helpers.items[i], 1);
    StrBuf out = {0};
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
    st = file ? run(cx, file, opt) : FFQ_ERR_IO;
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
