// compile.c: the whole pipeline, one call per stage.
//
// Consumes: a file (or buffer) and ffq_options. Produces: cx->output (the
// generated module) or error diagnostics. This is the only place with a
// recovery point for allocation failure (the one setjmp of the codebase).
#define _DEFAULT_SOURCE  // realpath
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emit.h"
#include "ffq_int.h"
#include "format/format.h"
#include "pattern.h"
#include "pkgpath.h"
#include "plan.h"
#include "program.h"
#include "rewrite.h"
#include "types.h"

// The input's package root (see package_split) and its dotted module name
// relative to that root ("pkg/sub/mod.py" -> "pkg.sub.mod"; "pkg/__init__.py"
// -> "pkg").
static const char *package_root(ffq_ctx *cx, const char *path, const char **modname) {
    char abs[PATH_MAX], pkg[PATH_MAX];
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
    package_split(abs, pkg, sizeof pkg);
    if (pkg[0]) name = name[0] ? arena_printf(cx, "%s.%s", pkg, name) : arena_strdup(cx, pkg);
    *modname = name[0] ? name : "__init__";
    return arena_strdup(cx, abs);
}

static bool load_tables(ffq_ctx *cx, const ffq_options *opt) {
    if (cx->cache && !opt->no_default_optable && !opt->noptables) {  // the run's shared copy
        cx->optable = (OpTable *)cache_default_optable(cx);          // only read from here on
        if (cx->optable) return true;
    }
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
    sb_printf(cx, &sb, "the package root '%s'",
              getcwd(cwd, sizeof cwd) ? relative_path(cx, cwd, root) : root);
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
        if (r && tp->on) pattern_set_scope(r, tp->on);
        if (r) vec_push(cx, rules, r);
        else ok = false;
    }
    return ok;
}

// --- the stages before the program exists ---

static bool check_utf8(ffq_ctx *cx, const SrcFile *file) {
    uint32_t bad = srcfile_invalid_utf8(file);
    if (bad == UINT32_MAX) return true;
    diag_at(cx, DIAG_ERROR, file, bad, "not-utf8",
            "byte 0x%02x is not valid UTF-8; ffq reads Python source as UTF-8 (re-encode "
            "the file)",
            (unsigned char)file->data[bad]);
    return false;
}

// Where the input lives: its package root and its dotted module name.
typedef struct Input {
    const char *root;
    const char *modname;
} Input;

static Input locate(ffq_ctx *cx, const SrcFile *file, const ffq_options *opt) {
    const char *derived = "__stdin__";
    Input in;
    in.root = strcmp(file->path, "<stdin>") == 0 ? "." : package_root(cx, file->path, &derived);
    in.modname = opt->module_name ? opt->module_name : derived;
    return in;
}

// §8: pattern rules rewrite the text before anything reads it.
static const SrcFile *apply_rules(ffq_ctx *cx, const SrcFile *file, const Input *in, const PtrVec *rules) {
    if (!rules->len) return file;
    return pattern_apply(cx, file, in->modname, (PatternRule *const *)rules->items, rules->len);
}

// NULL when the input has syntax errors (each already reported).
static Cst *parse(ffq_ctx *cx, const SrcFile *file) {
    Cst *cst = cache_input(cx, file);  // parsed already as an import of an earlier input
    if (cst) return cx->stats.files_read++, cst;
    cst = source_parse(cx, file);
    if (!cst) diag_at(cx, DIAG_ERROR, NULL, 0, "parser-failed", "could not parse %s", file->path);
    return cst && !cst->has_errors ? cst : NULL;
}

// The input module, and the search path for what it imports: -I, then the
// input's package root, then site-packages (issue 5).
static Module *load_program(ffq_ctx *cx, const SrcFile *file, Cst *cst, const Input *in,
                            const ffq_options *opt) {
    Module *m = program_load(cx, file, cst, in->modname);
    PtrVec dirs = {0};
    for (size_t i = 0; i < opt->nsearch_path; i++) vec_push(cx, &dirs, (void *)opt->search_path[i]);
    vec_push(cx, &dirs, (void *)in->root);
    for (size_t i = 0; i < opt->nsite_path; i++) vec_push(cx, &dirs, (void *)opt->site_path[i]);
    program_init(cx, (const char *const *)dirs.items, dirs.len, m);
    program_set_search_text(cx, describe_search(cx, opt, in->root));
    cx->stats.files_read = 1;
    return m;
}

// --- after the plan ---

// `--dump=STAGE`: a developer view of what a stage decided. Types are
// dumped per converted function in queue order.
static void dump(ffq_ctx *cx, const OutputPlan *plan, ffq_dump stage, StrBuf *out) {
    if (stage == FFQ_DUMP_PROGRAM) program_dump(cx, out);
    if (stage == FFQ_DUMP_PLAN) plan_dump(cx, plan, out);
    for (size_t i = 0; stage == FFQ_DUMP_TYPES && i < plan->work.len; i++) {
        const PlanWork *w = plan->work.items[i];
        if (w->cv && w->cv->types) types_dump(cx, w->cv->types, out);
    }
}

// §11 step 3: the whole module laid out as `ruff format --line-length 100`
// would; copied code is re-laid out too, so the file is a fixed point.
// tree: the text's parse when emit_module made one, else NULL.
static void format(ffq_ctx *cx, const StrBuf *text, const Cst *tree, StrBuf *out) {
    if (tree ? format_module_tree(cx, tree, out)
             : format_module(cx, text->data ? text->data : "", text->len, out))
        return;
    sb_putn(cx, out, text->data ? text->data : "", text->len);
}

static ffq_status set_output(ffq_ctx *cx, StrBuf *out) {
    cx->output = sb_cstr(cx, out);
    cx->output_len = out->len;
    return FFQ_OK;
}

// The pipeline. Each stage reads what the earlier ones produced.
static ffq_status run(ffq_ctx *cx, const SrcFile *file, const ffq_options *opt) {
    if (!check_utf8(cx, file) || !load_tables(cx, opt)) return FFQ_ERR_INPUT;
    PtrVec rules = {0};
    if (!load_rules(cx, opt, &rules)) return opt->nreplace ? FFQ_ERR_USAGE : FFQ_ERR_INPUT;
    Input in = locate(cx, file, opt);
    file = apply_rules(cx, file, &in, &rules);
    Cst *cst = parse(cx, file);
    if (!cst) return FFQ_ERR_INPUT;
    file = cst->file;  // the cache's copy when the parse came from there (diagnostics group by file)
    Module *m = load_program(cx, file, cst, &in, opt);
    program_set_rules(cx, (PatternRule *const *)rules.items, rules.len);
    OutputPlan *plan = plan_new(cx, m, in.modname);
    if (!plan_roots(cx, plan, opt)) return FFQ_ERR_INPUT;
    plan_discover(cx, plan);
    for (size_t i = 0; i < plan->work.len; i++) {  // the queue grows as calls are followed
        PlanWork *w = plan->work.items[i];
        const Types *t = opt->type_inference ? types_infer(cx, w->fn, plan_class_of(w)) : NULL;
        plan_add(cx, plan, w, rewrite_function(cx, w->fn, plan_class_of(w), t));
    }
    plan_finish(cx, plan);
    rewrite_report_missing(cx);
    StrBuf text = {0}, out = {0};
    if (opt->dump) dump(cx, plan, opt->dump, &out);
    else {
        Cst *tree;
        emit_module(cx, plan, &text, &tree);
        format(cx, &text, tree, &out);
    }
    return set_output(cx, &out);
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
    SrcFile *file = data ? srcfile_new(cx, path, data, len) : srcfile_read(cx, path);
    ffq_status st = FFQ_ERR_IO;
    if (file) {
        if (cx->used) ffq_fail(__FILE__, __LINE__, "a context compiles once");
        cx->used = true;
        cx->opt = *opt;
        SrcFile *decoded = srcfile_decode(cx, file);  // PEP 263 coding declarations
        st = decoded ? run(cx, decoded, opt) : FFQ_ERR_INPUT;
    }
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
