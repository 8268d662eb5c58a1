// format/imports.c: the import block of a generated module (spec §1.2, §11).
//
// Consumes: the generated body text, the modules its pieces were copied
// from, the operator table (custom dispatch modules). Produces: the import
// statements the body needs, in isort's sections and order (future, stdlib,
// third party, first party), dynamic imports for names `from` cannot bind.
#include "imports.h"

#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "ffq_int.h"
#include "optable.h"
#include "pystdlib.h"

typedef enum Section { SEC_FUTURE, SEC_STDLIB, SEC_THIRD, SEC_FIRST } Section;

typedef struct Import {
    bool is_from;
    const char *module;
    const char *name;   // from-imports: the attribute
    const char *alias;  // NULL when not aliased
    bool guarded;       // bound under a guard in its source module (try/if): see import_for
} Import;

// The import equal to the one described (`name` NULL: any name), added when missing.
static Import *find_or_add(ffq_ctx *cx, PtrVec *v, bool is_from, const char *module, const char *name,
                           const char *alias) {
    for (size_t i = 0; i < v->len; i++) {
        Import *im = v->items[i];
        if (im->is_from == is_from && strcmp(im->module, module) == 0 &&
            (!name || (im->name && strcmp(im->name, name) == 0)) &&
            ((!alias && !im->alias) || (alias && im->alias && strcmp(alias, im->alias) == 0)))
            return im;
    }
    Import *im = ARENA_NEW(cx, Import);
    im->is_from = is_from;
    im->module = module;
    im->name = name;
    im->alias = alias;
    vec_push(cx, v, im);
    return im;
}

void imports_add(ffq_ctx *cx, PtrVec *v, bool is_from, const char *module, const char *name,
                 const char *alias) {
    find_or_add(cx, v, is_from, module, name, alias);
}

void imports_add_guarded(ffq_ctx *cx, PtrVec *v, const char *module, const char *name, const char *alias) {
    find_or_add(cx, v, true, module, name, alias)->guarded = true;
}

// Is `name`, used at node `at` of the generated code, bound by a function or
// lambda around it (locals.c decides what a scope binds)? memo: node -> Locals.
static bool bound_around(ffq_ctx *cx, const Cst *c, uint32_t at, const char *name, NodeMap *memo) {
    for (uint32_t s = c->nodes[at].parent; s != CST_NONE; s = c->nodes[s].parent) {
        if (c->nodes[s].kind != K_FUNCTION_DEF && c->nodes[s].kind != K_LAMBDA) continue;
        const Locals *l = nodemap_get(memo, s);
        if (!l) {
            l = locals_of_def(cx, c, s);
            nodemap_put(cx, memo, s, (void *)l);
        }
        if (locals_has(l, name, strlen(name))) return true;
    }
    return false;
}

// Is identifier n a read of a name (not a definition, attribute or keyword name)?
static bool is_name_use(const Cst *c, uint32_t n) {
    uint32_t p = c->nodes[n].parent;
    if (p == CST_NONE) return false;
    uint32_t pk = c->nodes[p].kind;
    uint16_t f = c->nodes[n].field;
    if (pk == K_ATTRIBUTE && f == F_ATTRIBUTE) return false;
    if (pk == K_KEYWORD_ARGUMENT && f == F_NAME) return false;
    if ((pk == K_FUNCTION_DEF || pk == K_CLASS_DEF) && f == F_NAME) return false;
    if (pk == K_PARAMETERS || pk == K_LAMBDA_PARAMS) return false;
    if ((pk == K_DEFAULT_PARAMETER || pk == K_TYPED_DEFAULT_PARAMETER) && f == F_NAME) return false;
    if (pk == K_TYPED_PARAMETER && f != F_TYPE) return false;
    if (pk == K_LIST_SPLAT_PATTERN || pk == K_DICT_SPLAT_PATTERN) return false;
    // the bases of a generated class header: imported by the class import
    uint32_t gp = c->nodes[p].parent;
    if (pk == K_ARGUMENT_LIST && gp != CST_NONE && c->nodes[gp].kind == K_CLASS_DEF &&
        c->nodes[p].field == F_SUPERCLASSES && c->nodes[gp].parent == 0)
        return false;
    return true;
}

// The dotted chain a use of identifier n starts (`torch.nn.functional.relu`).
static const char *use_chain(ffq_ctx *cx, const Cst *c, uint32_t n) {
    uint32_t top = n;
    while (c->nodes[top].parent != CST_NONE && c->nodes[c->nodes[top].parent].kind == K_ATTRIBUTE &&
           c->nodes[top].field == F_OBJECT)
        top = c->nodes[top].parent;
    const char *d = program_dotted_text(cx, c, top);
    return d ? d : cst_strdup(cx, c, n);
}

static void import_for(ffq_ctx *cx, const Module *m, const char *name, const char *chain, PtrVec *out) {
    const Binding *b = program_binding(m, name);
    if (!b) return;
    uint32_t parent = m->cst->nodes[b->node].parent;
    if (b->kind != BIND_DEF && b->kind != BIND_CLASS && b->kind != BIND_ASSIGN && parent != 0) {
        // An import under a guard (`try: from fast_kernels import f` / `except ImportError:`)
        // may have failed in the source module: the name is imported from that module,
        // under a guard of its own, so it exists here exactly when it exists there.
        imports_add_guarded(cx, out, m->name, b->name, NULL);
        return;
    }
    switch (b->kind) {
    case BIND_IMPORT: {  // the longest `import a.b.c` that prefixes the use
        const Binding *best = NULL;
        for (size_t i = 0; i < m->bindings.len; i++) {
            const Binding *x = VEC_AT(m->bindings, Binding, i);
            if (x->kind != BIND_IMPORT || strcmp(x->name, name) != 0) continue;
            size_t l = strlen(x->module);
            bool prefix = strncmp(chain, x->module, l) == 0 && (chain[l] == '\0' || chain[l] == '.');
            if (prefix && (!best || strlen(best->module) < l)) best = x;
        }
        if (!best) best = b;
        imports_add(cx, out, false, best->module, NULL, NULL);
        return;
    }
    case BIND_IMPORT_AS: imports_add(cx, out, false, b->module, NULL, b->name); return;
    case BIND_FROM:
        imports_add(cx, out, true, b->module, b->attr, strcmp(b->attr, b->name) != 0 ? b->name : NULL);
        return;
    case BIND_DEF:
    case BIND_CLASS:
    case BIND_ASSIGN: imports_add(cx, out, true, m->name, b->name, NULL); return;
    }
}

// The module of a custom dispatch function the chain calls (`pkg.ops.f` ->
// `pkg.ops`), or NULL. The whole module path is imported, not only its root,
// so the attribute chain resolves even when nothing else imported it.
static const char *dispatch_module(ffq_ctx *cx, const char *chain) {
    for (size_t i = 0; i < optable_count(cx->optable); i++) {
        const OpEntry *e = optable_entry(cx->optable, i);
        if (!e->custom_dispatch || strcmp(e->dispatch, chain) != 0) continue;
        const char *dot = strrchr(chain, '.');
        return dot ? arena_strndup(cx, chain, (size_t)(dot - chain)) : NULL;
    }
    return NULL;
}

// Names of the generated code that are bound at module level of the input.
// Origins are appended in text order: binary search for the one holding `at`.
static const Module *origin_of(const PtrVec *origins, size_t at, const Module *fallback) {
    size_t lo = 0, hi = origins->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ImportOrigin *o = origins->items[mid];
        if (at < o->start) hi = mid;
        else if (at >= o->end) lo = mid + 1;
        else return o->mod;
    }
    return fallback;
}

Cst *imports_collect(ffq_ctx *cx, const Module *input, const char *body, const PtrVec *origins, PtrVec *out) {
    Cst *c = source_parse_text(cx, "<output>", body, strlen(body), false);
    if (!c || c->too_deep) return c;
    StrMap seen = {0};  // names seen once per output
    NodeMap scopes = {0};
    for (uint32_t i = 0; i < c->count; i++) {
        if (c->nodes[i].kind != K_IDENTIFIER || !is_name_use(c, i)) continue;
        const char *name = cst_strdup(cx, c, i);
        if (bound_around(cx, c, i, name, &scopes)) continue;  // locals shadow module names
        const char *chain = use_chain(cx, c, i);
        const Module *mod = origin_of(origins, c->nodes[i].start, input);
        const char *key = arena_printf(cx, "%s|%s|%s", name, chain, mod->name);
        if (!strset_add(cx, &seen, key)) continue;
        if (strcmp(name, "fastforward") == 0) continue;
        if (!program_binding(mod, name)) {
            // a name the module has from a star import (`from base import *` bringing
            // torch): imported from the module that binds it, by name
            const char *star = program_star_source(cx, (Module *)mod, name);
            if (star) {
                imports_add(cx, out, true, star, name, NULL);
                continue;
            }
            const char *dm = dispatch_module(cx, chain);  // a custom `dispatch:` op: import its module
            if (dm) imports_add(cx, out, false, dm, NULL, NULL);
            continue;
        }
        import_for(cx, mod, name, chain, out);
    }
    return c;
}

static Section section_of(const char *first_party, const char *module) {
    const char *dot = strchr(module, '.');
    size_t n = dot ? (size_t)(dot - module) : strlen(module);
    char top[256];
    if (n >= sizeof top) n = sizeof top - 1;
    memcpy(top, module, n);
    top[n] = '\0';
    if (strcmp(top, "__future__") == 0) return SEC_FUTURE;
    if (first_party && strcmp(top, first_party) == 0) return SEC_FIRST;
    if (imports_is_stdlib(top)) return SEC_STDLIB;
    return SEC_THIRD;
}

// isort's force-sort-within-sections=false order: case-insensitive module
// names, `import x` lines before `from x import y` lines.
static int cmp_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a, y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
        if (x != y) return x - y;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

static int member_class(const char *s) {  // order-by-type: CONSTANTS, Classes, others
    bool upper = true, has_alpha = false;
    for (const char *p = s; *p; p++) {
        if (*p >= 'a' && *p <= 'z') upper = false;
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) has_alpha = true;
    }
    if (upper && has_alpha && strlen(s) > 1) return 0;
    return (s[0] >= 'A' && s[0] <= 'Z') ? 1 : 2;
}

static int cmp_import(const void *x, const void *y) {
    const Import *a = *(Import *const *)x, *b = *(Import *const *)y;
    if (a->is_from != b->is_from) return a->is_from ? 1 : -1;
    int r = cmp_ci(a->module, b->module);
    if (r) return r;
    r = strcmp(a->module, b->module);
    if (r) return r;
    if (a->name && b->name) {
        int ca = member_class(a->name), cb = member_class(b->name);
        if (ca != cb) return ca - cb;
        r = cmp_ci(a->name, b->name);
        if (r) return r;
        r = strcmp(a->name, b->name);
        if (r) return r;
    }
    return strcmp(a->alias ? a->alias : "", b->alias ? b->alias : "");
}

static void emit_from_group(ffq_ctx *cx, Import **ims, size_t n, StrBuf *out) {
    StrBuf one = {0};
    sb_printf(cx, &one, "from %s import ", ims[0]->module);
    for (size_t i = 0; i < n; i++) {
        if (i) sb_puts(cx, &one, ", ");
        sb_puts(cx, &one, ims[i]->name);
    }
    // isort wraps at ruff's default line length (88): FastForward's import
    // pass runs without a line-length setting; the formatter then keeps the
    // wrapped form because of its trailing comma.
    if (one.len <= 88) {
        sb_printf(cx, out, "%s\n", sb_cstr(cx, &one));
        return;
    }
    sb_printf(cx, out, "from %s import (\n", ims[0]->module);
    for (size_t i = 0; i < n; i++) sb_printf(cx, out, "    %s,\n", ims[i]->name);
    sb_puts(cx, out, ")\n");
}

static bool is_identifier(const char *s, size_t n) {
    if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch >= 0x80))
            return false;
    }
    return true;
}

static bool is_name(const char *s, size_t n) { return is_identifier(s, n) && !cst_is_keyword(s, n); }

static bool is_dotted(const char *s) {
    for (const char *p = s;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!is_name(p, n)) return false;
        if (!dot) return true;
        p = dot + 1;
    }
}

// §1.2: a module or name that is not a valid dotted identifier (a file named
// `my-model.py`) cannot be imported with `from`; it is bound dynamically.
static void emit_dynamic_imports(ffq_ctx *cx, const PtrVec *imports, StrBuf *out) {
    bool any = false;
    for (size_t i = 0; i < imports->len; i++) {
        const Import *im = imports->items[i];
        if (!im->is_from || im->guarded ||
            (is_dotted(im->module) && is_identifier(im->name, strlen(im->name))))
            continue;
        if (!any) sb_puts(cx, out, "\n");
        any = true;
        const char *local = im->alias ? im->alias : im->name;
        if (is_identifier(im->name, strlen(im->name)))
            sb_printf(cx, out, "%s = importlib.import_module(\"%s\").%s\n", local, im->module, im->name);
        else
            sb_printf(cx, out, "%s = getattr(importlib.import_module(\"%s\"), \"%s\")\n", local, im->module,
                      im->name);
    }
}

static void emit_guarded_imports(ffq_ctx *cx, const PtrVec *imports, StrBuf *out) {
    for (size_t i = 0; i < imports->len; i++) {
        const Import *im = imports->items[i];
        if (!im->guarded) continue;
        if (is_dotted(im->module) && is_identifier(im->name, strlen(im->name)))
            sb_printf(cx, out, "\ntry:\n    from %s import %s%s%s\nexcept ImportError:\n    pass\n",
                      im->module, im->name, im->alias ? " as " : "", im->alias ? im->alias : "");
        else  // (§1.2) bound dynamically; a missing attribute is a missing name too
            sb_printf(cx, out,
                      "\ntry:\n    %s = getattr(importlib.import_module(\"%s\"), \"%s\")\n"
                      "except (ImportError, AttributeError):\n    pass\n",
                      im->alias ? im->alias : im->name, im->module, im->name);
    }
}

static bool needs_dynamic(const Import *im) {
    return im->is_from && !(is_dotted(im->module) && is_identifier(im->name, strlen(im->name)));
}

// Writes the from-imports of v[i]'s module (a run starting at i); returns the run's end.
static size_t write_from_module(ffq_ctx *cx, const PtrVec *v, size_t i, StrBuf *out) {
    Import *im = v->items[i];
    // The statements of one module sort by their first member (isort):
    // `x as y` stands alone; plain members share one statement, placed
    // where its smallest member sorts.
    size_t j = i;
    while (j < v->len && ((Import *)v->items[j])->is_from &&
           strcmp(((Import *)v->items[j])->module, im->module) == 0)
        j++;
    PtrVec plain = {0};
    for (size_t k = i; k < j; k++)
        if (!((Import *)v->items[k])->alias) vec_push(cx, &plain, v->items[k]);
    bool plain_done = false;
    for (size_t k = i; k < j; k++) {
        Import *m = v->items[k];
        if (m->alias) {
            sb_printf(cx, out, "from %s import %s as %s\n", m->module, m->name, m->alias);
        } else if (!plain_done) {
            emit_from_group(cx, (Import **)plain.items, plain.len, out);
            plain_done = true;
        }
    }
    return j;
}

// Writes one section's sorted imports v, one statement per line.
static void write_section(ffq_ctx *cx, const PtrVec *v, StrBuf *out) {
    for (size_t i = 0; i < v->len;) {
        Import *im = v->items[i];
        if (im->is_from) {
            i = write_from_module(cx, v, i, out);
            continue;
        }
        if (im->alias) sb_printf(cx, out, "import %s as %s\n", im->module, im->alias);
        else sb_printf(cx, out, "import %s\n", im->module);
        i++;
    }
}

void imports_write(ffq_ctx *cx, const char *first_party, PtrVec *imports, StrBuf *out) {
    bool any_section = false;
    PtrVec statik = {0};  // the imports that can be written as import statements
    bool dynamic = false;
    for (size_t i = 0; i < imports->len; i++) {
        if (needs_dynamic(imports->items[i])) dynamic = true;  // (guarded ones too: importlib is needed)
        else if (!VEC_AT(*imports, Import, i)->guarded) vec_push(cx, &statik, imports->items[i]);
    }
    if (dynamic) imports_add(cx, &statik, false, "importlib", NULL, NULL);
    PtrVec *all = imports;
    imports = &statik;
    for (int sec = SEC_FUTURE; sec <= SEC_FIRST; sec++) {
        PtrVec v = {0};
        for (size_t i = 0; i < imports->len; i++)
            if (section_of(first_party, VEC_AT(*imports, Import, i)->module) == (Section)sec)
                vec_push(cx, &v, imports->items[i]);
        if (!v.len) continue;
        qsort(v.items, v.len, sizeof(void *), cmp_import);
        if (any_section) sb_putc(cx, out, '\n');
        any_section = true;
        write_section(cx, &v, out);
    }
    if (dynamic) emit_dynamic_imports(cx, all, out);
    emit_guarded_imports(cx, all, out);
}
