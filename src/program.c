// program.c: the module model.
//
// Consumes: a parsed file (Cst). Produces: a Module with its top-level
// bindings in source order, its classes (methods, canonical base names) and
// free functions. Invariants afterwards: every ClassInfo's bases are
// canonical dotted names ("torch.nn.Module"), or the base's source text when
// it cannot be resolved statically.
#include "ffq_int.h"
#include "program.h"

#include <string.h>

static void bind(ffq_ctx *cx, Module *m, const char *name, BindKind kind, const char *module,
                 const char *attr, uint32_t node) {
    Binding *b = ARENA_NEW(cx, Binding);
    b->name = name;
    b->kind = kind;
    b->module = module;
    b->attr = attr;
    b->node = node;
    vec_push(cx, &m->bindings, b);
}

// `import a.b.c` binds a; `import a.b as c` binds c.
static void load_import(ffq_ctx *cx, Module *m, uint32_t stmt) {
    const Cst *c = m->cst;
    for (uint32_t k = 0; k < c->nodes[stmt].nchildren; k++) {
        uint32_t ch = cst_child(c, stmt, k);
        if (c->nodes[ch].field != F_NAME) continue;
        if (c->nodes[ch].kind == K_ALIASED_IMPORT) {
            uint32_t dn = cst_field(c, ch, F_NAME), al = cst_field(c, ch, F_ALIAS);
            bind(cx, m, cst_strdup(cx, c, al), BIND_IMPORT_AS, cst_strdup(cx, c, dn), NULL, stmt);
        } else {
            char *dotted = cst_strdup(cx, c, ch);
            char *dot = strchr(dotted, '.');
            const char *root = dot ? arena_strndup(cx, dotted, (size_t)(dot - dotted)) : dotted;
            bind(cx, m, root, BIND_IMPORT, dotted, NULL, stmt);
        }
    }
}

// Absolute module name of a relative import, from the current module's name.
static const char *absolutize(ffq_ctx *cx, const Module *m, const char *rel) {
    size_t dots = 0;
    while (rel[dots] == '.') dots++;
    if (dots == 0) return rel;
    const char *base = m->name;
    size_t len = strlen(base);
    for (size_t i = 0; i < dots; i++) {  // each dot climbs one package
        while (len > 0 && base[len - 1] != '.') len--;
        if (len > 0) len--;
    }
    const char *rest = rel + dots;
    if (len == 0) return rest[0] ? rest : arena_strdup(cx, "");
    return rest[0] ? arena_printf(cx, "%.*s.%s", (int)len, base, rest)
                   : arena_strndup(cx, base, len);
}

static void load_from_import(ffq_ctx *cx, Module *m, uint32_t stmt) {
    const Cst *c = m->cst;
    uint32_t modn = cst_field(c, stmt, F_MODULE_NAME);
    if (modn == CST_NONE) return;
    const char *mod = absolutize(cx, m, cst_strdup(cx, c, modn));
    for (uint32_t k = 0; k < c->nodes[stmt].nchildren; k++) {
        uint32_t ch = cst_child(c, stmt, k);
        if (c->nodes[ch].field != F_NAME) continue;
        if (c->nodes[ch].kind == K_ALIASED_IMPORT) {
            uint32_t dn = cst_field(c, ch, F_NAME), al = cst_field(c, ch, F_ALIAS);
            bind(cx, m, cst_strdup(cx, c, al), BIND_FROM, mod, cst_strdup(cx, c, dn), stmt);
        } else {
            const char *name = cst_strdup(cx, c, ch);
            bind(cx, m, name, BIND_FROM, mod, name, stmt);
        }
    }
}

static bool has_decorator(const Cst *c, uint32_t outer, const char *name) {
    if (c->nodes[outer].kind != K_DECORATED_DEF) return false;
    for (uint32_t k = 0; k < c->nodes[outer].nchildren; k++) {
        uint32_t d = cst_child(c, outer, k);
        if (c->nodes[d].kind != K_DECORATOR) continue;
        uint32_t e = cst_named_child(c, d, 0);
        if (e != CST_NONE && cst_text_is(c, e, name)) return true;
    }
    return false;
}

static FuncInfo *new_func(ffq_ctx *cx, Module *m, ClassInfo *owner, uint32_t outer, uint32_t def) {
    const Cst *c = m->cst;
    FuncInfo *f = ARENA_NEW(cx, FuncInfo);
    f->name = cst_strdup(cx, c, cst_field(c, def, F_NAME));
    f->def = def;
    f->outer = outer;
    f->owner = owner;
    f->mod = m;
    f->kind = FN_FREE;
    if (owner) {
        if (has_decorator(c, outer, "staticmethod")) f->kind = FN_STATICMETHOD;
        else if (has_decorator(c, outer, "classmethod")) f->kind = FN_CLASSMETHOD;
        else f->kind = FN_INSTANCE;
    }
    return f;
}

// The definition inside a (possibly decorated) statement, or CST_NONE.
static uint32_t definition(const Cst *c, uint32_t stmt, NodeKind want) {
    if (c->nodes[stmt].kind == K_DECORATED_DEF) stmt = cst_field(c, stmt, F_DEFINITION);
    return stmt != CST_NONE && c->nodes[stmt].kind == want ? stmt : CST_NONE;
}

static ClassInfo *load_class(ffq_ctx *cx, Module *m, uint32_t node) {
    const Cst *c = m->cst;
    ClassInfo *ci = ARENA_NEW(cx, ClassInfo);
    ci->name = cst_strdup(cx, c, cst_field(c, node, F_NAME));
    ci->node = node;
    ci->mod = m;
    ci->is_module = -1;
    uint32_t sup = cst_field(c, node, F_SUPERCLASSES);
    for (uint32_t k = 0; sup != CST_NONE && k < cst_named_count(c, sup); k++) {
        uint32_t b = cst_named_child(c, sup, k);
        if (c->nodes[b].kind == K_KEYWORD_ARGUMENT) continue;  // metaclass=...
        const char *q = program_qualname(cx, m, b);
        vec_push(cx, &ci->bases, (void *)(q ? q : cst_strdup(cx, c, b)));
    }
    uint32_t body = cst_field(c, node, F_BODY);
    for (uint32_t k = 0; body != CST_NONE && k < c->nodes[body].nchildren; k++) {
        uint32_t st = cst_child(c, body, k);
        uint32_t def = definition(c, st, K_FUNCTION_DEF);
        if (def != CST_NONE) vec_push(cx, &ci->methods, new_func(cx, m, ci, st, def));
    }
    return ci;
}

static void load_assignment(ffq_ctx *cx, Module *m, uint32_t stmt) {
    const Cst *c = m->cst;
    uint32_t a = cst_named_child(c, stmt, 0);
    while (a != CST_NONE && c->nodes[a].kind == K_ASSIGNMENT) {
        uint32_t left = cst_field(c, a, F_LEFT);
        if (left != CST_NONE && c->nodes[left].kind == K_IDENTIFIER)
            bind(cx, m, cst_strdup(cx, c, left), BIND_ASSIGN, NULL, NULL, stmt);
        a = cst_field(c, a, F_RIGHT);  // chained a = b = value
    }
}

// Start of the run of comment lines directly above statement st (its
// siblings back to the previous statement), or st's own start.
static uint32_t leading_comments(const Cst *c, uint32_t st) {
    uint32_t lead = c->nodes[st].start;
    uint32_t parent = c->nodes[st].parent;
    if (parent == CST_NONE) return lead;
    uint32_t first = c->nodes[parent].first_child;
    for (uint32_t i = st; i > first && c->nodes[i - 1].kind == K_COMMENT; i--) lead = c->nodes[i - 1].start;
    return lead;
}

static void load_statement(ffq_ctx *cx, Module *m, uint32_t st) {
    const Cst *c = m->cst;
    switch (c->nodes[st].kind) {
    case K_IMPORT: load_import(cx, m, st); break;
    case K_IMPORT_FROM: load_from_import(cx, m, st); break;
    case K_EXPR_STMT: load_assignment(cx, m, st); break;
    case K_CLASS_DEF:
    case K_FUNCTION_DEF:
    case K_DECORATED_DEF: {
        uint32_t cls = definition(c, st, K_CLASS_DEF);
        if (cls != CST_NONE) {
            ClassInfo *ci = load_class(cx, m, cls);
            vec_push(cx, &m->classes, ci);
            bind(cx, m, ci->name, BIND_CLASS, NULL, NULL, st);
            break;
        }
        uint32_t def = definition(c, st, K_FUNCTION_DEF);
        if (def == CST_NONE) break;
        FuncInfo *f = new_func(cx, m, NULL, st, def);
        f->lead = leading_comments(c, st);
        vec_push(cx, &m->functions, f);
        bind(cx, m, f->name, BIND_DEF, NULL, NULL, st);
        break;
    }
    case K_IF:  // `if TYPE_CHECKING:` / try-import blocks: bindings inside count too
    case K_TRY:
    case K_BLOCK:
    case K_ELSE:
    case K_ELIF:
    case K_EXCEPT:
    case K_FINALLY:
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++)
            load_statement(cx, m, cst_child(c, st, k));
        break;
    default: break;
    }
}

Module *program_load(ffq_ctx *cx, const SrcFile *file, Cst *cst, const char *name) {
    Module *m = ARENA_NEW(cx, Module);
    m->name = name;
    m->file = file;
    m->cst = cst;
    for (uint32_t k = 0; k < cst->nodes[0].nchildren; k++)
        load_statement(cx, m, cst_child(cst, 0, k));
    return m;
}

const Binding *program_binding(const Module *m, const char *name) {
    for (size_t i = m->bindings.len; i-- > 0;) {
        const Binding *b = VEC_AT(m->bindings, Binding, i);
        if (strcmp(b->name, name) == 0) return b;
    }
    return NULL;
}

ClassInfo *program_class(const Module *m, const char *name) {
    for (size_t i = m->classes.len; i-- > 0;) {
        ClassInfo *ci = VEC_AT(m->classes, ClassInfo, i);
        if (strcmp(ci->name, name) == 0) return ci;
    }
    return NULL;
}

FuncInfo *program_function(const Module *m, const char *name) {
    for (size_t i = m->functions.len; i-- > 0;) {
        FuncInfo *f = VEC_AT(m->functions, FuncInfo, i);
        if (strcmp(f->name, name) == 0) return f;
    }
    return NULL;
}

FuncInfo *program_method(const ClassInfo *ci, const char *name) {
    for (size_t i = ci->methods.len; i-- > 0;) {
        FuncInfo *f = VEC_AT(ci->methods, FuncInfo, i);
        if (strcmp(f->name, name) == 0) return f;
    }
    return NULL;
}

const char *program_dotted_text(ffq_ctx *cx, const Cst *c, uint32_t node) {
    node = cst_unparen(c, node);
    if (node == CST_NONE) return NULL;
    if (c->nodes[node].kind == K_IDENTIFIER) return cst_strdup(cx, c, node);
    if (c->nodes[node].kind != K_ATTRIBUTE) return NULL;
    const char *obj = program_dotted_text(cx, c, cst_field(c, node, F_OBJECT));
    if (!obj) return NULL;
    return arena_printf(cx, "%s.%s", obj, cst_strdup(cx, c, cst_field(c, node, F_ATTRIBUTE)));
}

const char *program_qualname(ffq_ctx *cx, const Module *m, uint32_t node) {
    const char *dotted = program_dotted_text(cx, m->cst, node);
    if (!dotted) return NULL;
    const char *dot = strchr(dotted, '.');
    size_t rootlen = dot ? (size_t)(dot - dotted) : strlen(dotted);
    const char *root = arena_strndup(cx, dotted, rootlen);
    const char *rest = dotted + rootlen;  // "" or ".a.b"
    const Binding *b = program_binding(m, root);
    if (!b) return NULL;
    switch (b->kind) {
    case BIND_IMPORT: return dotted;  // `import torch.nn` -> torch.x.y
    case BIND_IMPORT_AS: return arena_printf(cx, "%s%s", b->module, rest);
    case BIND_FROM:
        return b->module[0] ? arena_printf(cx, "%s.%s%s", b->module, b->attr, rest)
                            : arena_printf(cx, "%s%s", b->attr, rest);
    case BIND_DEF:
    case BIND_CLASS:
    case BIND_ASSIGN: return arena_printf(cx, "%s.%s", m->name, dotted);
    }
    return NULL;
}

// Known torch.nn module classes count as nn.Module; anything under torch.nn
// whose last component starts with an upper-case letter is taken as a module
// class (Linear, Conv2d, modules.linear.Identity, ...).
static bool is_torch_module_name(const char *q) {
    if (strncmp(q, "torch.nn.", 9) != 0) return false;
    const char *last = strrchr(q, '.') + 1;
    return last[0] >= 'A' && last[0] <= 'Z' && strncmp(q, "torch.nn.parameter", 18) != 0 &&
           strcmp(last, "Parameter") != 0;
}

ClassInfo *program_class_by_qualname(const Module *m, const char *q) {
    size_t ml = strlen(m->name);
    if (!q || strncmp(q, m->name, ml) != 0 || q[ml] != '.') return NULL;
    return program_class(m, q + ml + 1);
}

static FuncInfo *find_method(const ClassInfo *ci, const char *name, int depth) {
    FuncInfo *f = program_method(ci, name);
    if (f || depth > 32) return f;
    for (size_t i = 0; i < ci->bases.len; i++) {
        ClassInfo *base = program_class_by_qualname(ci->mod, VEC_AT(ci->bases, const char, i));
        if (base && base != ci && (f = find_method(base, name, depth + 1))) return f;
    }
    return NULL;
}

FuncInfo *program_find_method(const ClassInfo *ci, const char *name) {
    return find_method(ci, name, 0);
}

bool program_is_module_class(ffq_ctx *cx, ClassInfo *ci) {
    if (ci->is_module >= 0) return ci->is_module == 1;
    ci->is_module = 0;  // guards against a class inheriting from itself
    for (size_t i = 0; i < ci->bases.len; i++) {
        const char *b = VEC_AT(ci->bases, const char, i);
        if (is_torch_module_name(b)) {
            ci->is_module = 1;
            break;
        }
        size_t ml = strlen(ci->mod->name);
        if (strncmp(b, ci->mod->name, ml) == 0 && b[ml] == '.') {
            ClassInfo *base = program_class(ci->mod, b + ml + 1);
            if (base && program_is_module_class(cx, base)) {
                ci->is_module = 1;
                break;
            }
        }
    }
    return ci->is_module == 1;
}
