// program.c: the module model.
//
// Consumes: a parsed file (Cst). Produces: a Module with its top-level
// bindings in source order, its classes (methods, canonical base names) and
// free functions. Invariants afterwards: every ClassInfo's bases are
// canonical dotted names ("torch.nn.Module"), or the base's source text when
// it cannot be resolved statically.
#include "program.h"

#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "containers.h"
#include "ffq_int.h"
#include "format/pystdlib.h"
#include "pattern.h"

enum { RESOLVE_DEPTH_MAX = 24 };      // re-exports and aliases followed to resolve one name
enum { BIND_TARGET_DEPTH_MAX = 64 };  // nesting of an unpacking target at module level

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
    for (size_t i = m->is_package ? 1 : 0; i < dots; i++) {  // each dot climbs one package
        while (len > 0 && base[len - 1] != '.') len--;
        if (len > 0) len--;
    }
    const char *rest = rel + dots;
    if (len == 0) return rest[0] ? rest : arena_strdup(cx, "");
    return rest[0] ? arena_printf(cx, "%.*s.%s", (int)len, base, rest) : arena_strndup(cx, base, len);
}

const char *program_absolute_module(ffq_ctx *cx, const Module *m, const char *rel) {
    return absolutize(cx, m, rel);
}

static void load_from_import(ffq_ctx *cx, Module *m, uint32_t stmt) {
    const Cst *c = m->cst;
    uint32_t modn = cst_field(c, stmt, F_MODULE_NAME);
    if (modn == CST_NONE) return;
    const char *mod = absolutize(cx, m, cst_strdup(cx, c, modn));
    for (uint32_t k = 0; k < c->nodes[stmt].nchildren; k++) {
        uint32_t ch = cst_child(c, stmt, k);
        if (c->nodes[ch].kind == K_WILDCARD_IMPORT) vec_push(cx, &m->stars, (void *)mod);
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

// @property, @functools.cached_property, @<name>.setter/.getter/.deleter: the
// definition is read as an attribute, so a call through it is not a call of it.
static bool is_property(const Cst *c, uint32_t outer) {
    if (c->nodes[outer].kind != K_DECORATED_DEF) return false;
    for (uint32_t k = 0; k < c->nodes[outer].nchildren; k++) {
        uint32_t d = cst_child(c, outer, k);
        if (c->nodes[d].kind != K_DECORATOR) continue;
        uint32_t e = cst_unparen(c, cst_named_child(c, d, 0));
        if (e == CST_NONE) continue;
        if (c->nodes[e].kind == K_ATTRIBUTE) {
            uint32_t a = cst_field(c, e, F_ATTRIBUTE);
            if (cst_text_is(c, a, "setter") || cst_text_is(c, a, "getter") || cst_text_is(c, a, "deleter") ||
                cst_text_is(c, a, "cached_property"))
                return true;
        } else if (cst_text_is(c, e, "property") || cst_text_is(c, e, "cached_property")) {
            return true;
        }
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
        f->property = is_property(c, outer);
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
        vec_push(cx, &ci->base_nodes, (void *)(uintptr_t)b);
    }
    uint32_t body = cst_field(c, node, F_BODY);
    for (uint32_t k = 0; body != CST_NONE && k < c->nodes[body].nchildren; k++) {
        uint32_t st = cst_child(c, body, k);
        uint32_t def = definition(c, st, K_FUNCTION_DEF);
        if (def != CST_NONE) vec_push(cx, &ci->methods, new_func(cx, m, ci, st, def));
        uint32_t asg = c->nodes[st].kind == K_EXPR_STMT ? cst_named_child(c, st, 0) : CST_NONE;
        if (asg == CST_NONE || c->nodes[asg].kind != K_ASSIGNMENT) continue;
        uint32_t left = cst_field(c, asg, F_LEFT), right = cst_field(c, asg, F_RIGHT);
        if (left == CST_NONE || right == CST_NONE || c->nodes[left].kind != K_IDENTIFIER) continue;
        uint32_t rk = c->nodes[right].kind;
        if (rk != K_IDENTIFIER && rk != K_ATTRIBUTE) continue;  // `forward = some_function`
        ClassAlias *al = ARENA_NEW(cx, ClassAlias);
        al->name = cst_strdup(cx, c, left);
        al->value = right;
        vec_push(cx, &ci->aliases, al);
    }
    return ci;
}

// The names an assignment target binds: `x`, and those of unpacking targets (`a, b`,
// `(a, [b, *rest])`: monai's `rearrange, _ = optional_import("einops", ...)`, whose name
// the generated code must import like any other); attributes and subscripts bind none.
static void bind_target(ffq_ctx *cx, Module *m, uint32_t t, uint32_t stmt, int depth) {
    const Cst *c = m->cst;
    t = cst_unparen(c, t);
    if (t == CST_NONE || depth > BIND_TARGET_DEPTH_MAX) return;
    if (c->nodes[t].kind == K_IDENTIFIER) bind(cx, m, cst_strdup(cx, c, t), BIND_ASSIGN, NULL, NULL, stmt);
    else if (cst_is_target_list(c->nodes[t].kind))
        for (uint32_t k = 0; k < cst_named_count(c, t); k++)
            bind_target(cx, m, cst_named_child(c, t, k), stmt, depth + 1);
}

static void load_assignment(ffq_ctx *cx, Module *m, uint32_t stmt) {
    const Cst *c = m->cst;
    uint32_t a = cst_named_child(c, stmt, 0);
    while (a != CST_NONE && c->nodes[a].kind == K_ASSIGNMENT) {
        uint32_t left = cst_field(c, a, F_LEFT);
        if (left != CST_NONE) bind_target(cx, m, left, stmt, 0);
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
        for (uint32_t k = 0; k < c->nodes[st].nchildren; k++) load_statement(cx, m, cst_child(c, st, k));
        break;
    default: break;
    }
}

// --- the name index: module-level lookups in constant time ---
//
// Lookups by name happen for every identifier the later passes resolve; a
// linear scan over a module's bindings made them quadratic in the file size.
// The index maps each name to its newest binding, class and function (newer
// definitions shadow older ones, as in Python), built once the module is loaded.

typedef struct NameSlot {
    uint32_t binding, cls, func;  // index + 1 in the module's vectors; 0: none
} NameSlot;

struct NameIndex {
    StrMap names;                        // name -> NameSlot *
    size_t nbindings, nclasses, nfuncs;  // what was indexed (a mismatch: scan instead)
};

static const NameSlot NO_DEFINITION;  // what a name the module does not define finds

static const NameSlot *name_slot(const struct NameIndex *ix, const char *name) {
    const NameSlot *sl = strmap_get(&ix->names, name, strlen(name));
    return sl ? sl : &NO_DEFINITION;
}

static NameSlot *name_add(ffq_ctx *cx, struct NameIndex *ix, const char *name) {
    size_t n = strlen(name);
    NameSlot *sl = strmap_get(&ix->names, name, n);
    if (!sl) {
        sl = ARENA_NEW(cx, NameSlot);
        strmap_put(cx, &ix->names, name, n, sl);
    }
    return sl;
}

static void index_module(ffq_ctx *cx, Module *m) {
    struct NameIndex *ix = ARENA_NEW(cx, struct NameIndex);
    for (size_t i = 0; i < m->bindings.len; i++)
        name_add(cx, ix, VEC_AT(m->bindings, Binding, i)->name)->binding = (uint32_t)i + 1;
    for (size_t i = 0; i < m->classes.len; i++)
        name_add(cx, ix, VEC_AT(m->classes, ClassInfo, i)->name)->cls = (uint32_t)i + 1;
    for (size_t i = 0; i < m->functions.len; i++)
        name_add(cx, ix, VEC_AT(m->functions, FuncInfo, i)->name)->func = (uint32_t)i + 1;
    ix->nbindings = m->bindings.len;
    ix->nclasses = m->classes.len;
    ix->nfuncs = m->functions.len;
    m->index = ix;
}

// The module's index when it is up to date with its vectors, else NULL.
static const struct NameIndex *index_of(const Module *m) {
    const struct NameIndex *ix = m->index;
    if (!ix || ix->nbindings != m->bindings.len || ix->nclasses != m->classes.len ||
        ix->nfuncs != m->functions.len)
        return NULL;
    return ix;
}

void program_fill(ffq_ctx *cx, Module *m, const SrcFile *file, Cst *cst) {
    m->file = file;
    m->cst = cst;
    for (uint32_t k = 0; k < cst->nodes[0].nchildren; k++) load_statement(cx, m, cst_child(cst, 0, k));
    index_module(cx, m);
}

Module *program_load(ffq_ctx *cx, const SrcFile *file, Cst *cst, const char *name) {
    Module *m = ARENA_NEW(cx, Module);
    m->name = name;
    const char *base = strrchr(file->path, '/');
    m->is_package = strcmp(base ? base + 1 : file->path, "__init__.py") == 0;
    program_fill(cx, m, file, cst);
    return m;
}

// --- from the outline to the full tree ---

static bool same_funcs(const PtrVec *a, const PtrVec *b) {
    if (a->len != b->len) return false;
    for (size_t i = 0; i < a->len; i++) {
        const FuncInfo *x = a->items[i], *y = b->items[i];
        if (strcmp(x->name, y->name) != 0 || x->kind != y->kind || x->property != y->property) return false;
    }
    return true;
}

// Are the records of o (loaded from the outline) those of f (from the full
// tree), in the same order? Only then can o's node ids be renumbered.
static bool same_records(const Module *o, const Module *f) {
    if (o->bindings.len != f->bindings.len || o->classes.len != f->classes.len ||
        o->stars.len != f->stars.len || !same_funcs(&o->functions, &f->functions))
        return false;
    for (size_t i = 0; i < o->bindings.len; i++) {
        const Binding *x = o->bindings.items[i], *y = f->bindings.items[i];
        if (x->kind != y->kind || strcmp(x->name, y->name) != 0) return false;
    }
    for (size_t i = 0; i < o->classes.len; i++) {
        const ClassInfo *x = o->classes.items[i], *y = f->classes.items[i];
        if (strcmp(x->name, y->name) != 0 || x->base_nodes.len != y->base_nodes.len ||
            x->aliases.len != y->aliases.len || !same_funcs(&x->methods, &y->methods))
            return false;
        for (size_t k = 0; k < x->aliases.len; k++)
            if (strcmp(VEC_AT(x->aliases, ClassAlias, k)->name, VEC_AT(y->aliases, ClassAlias, k)->name) != 0)
                return false;
    }
    return true;
}

static void renumber_funcs(PtrVec *to, const PtrVec *from) {
    for (size_t i = 0; i < to->len; i++) {
        FuncInfo *x = to->items[i];
        const FuncInfo *y = from->items[i];
        x->def = y->def, x->outer = y->outer, x->lead = y->lead;
    }
}

// m's records renumbered into the full tree `full` when they are the same
// records; false (m unchanged) when they are not.
static bool renumber(ffq_ctx *cx, Module *m, Cst *full) {
    Module f = {.name = m->name, .is_package = m->is_package, .file = m->file, .cst = full};
    for (uint32_t k = 0; k < full->nodes[0].nchildren; k++) load_statement(cx, &f, cst_child(full, 0, k));
    if (!same_records(m, &f)) return false;
    for (size_t i = 0; i < m->bindings.len; i++)
        VEC_AT(m->bindings, Binding, i)->node = VEC_AT(f.bindings, Binding, i)->node;
    for (size_t i = 0; i < m->classes.len; i++) {
        ClassInfo *x = m->classes.items[i];
        const ClassInfo *y = f.classes.items[i];
        x->node = y->node;
        for (size_t k = 0; k < x->base_nodes.len; k++) x->base_nodes.items[k] = y->base_nodes.items[k];
        for (size_t k = 0; k < x->aliases.len; k++)
            VEC_AT(x->aliases, ClassAlias, k)->value = VEC_AT(y->aliases, ClassAlias, k)->value;
        renumber_funcs(&x->methods, &y->methods);
    }
    renumber_funcs(&m->functions, &f.functions);
    for (size_t i = 0; i < m->copies.len; i++) {
        FuncInfo *c = m->copies.items[i];
        c->def = c->copy_of->def, c->outer = c->copy_of->outer, c->lead = c->copy_of->lead;
    }
    m->cst = full;
    return true;
}

// The node of `full` at the outline node n's place: same start and kind, the
// same end if one has it (an expression), else the outermost (a definition,
// whose body the outline left out); CST_NONE when there is none.
static uint32_t at_place(ffq_ctx *cx, NodeMap *by_start, const Cst *full, const Cst *o, uint32_t n) {
    const PtrVec *v = nodemap_vec(cx, by_start, o->nodes[n].start);
    uint32_t found = CST_NONE;
    for (size_t i = 0; i < v->len; i++) {
        uint32_t k = (uint32_t)(uintptr_t)v->items[i];
        if (full->nodes[k].kind != o->nodes[n].kind) continue;
        if (full->nodes[k].end == o->nodes[n].end) return k;
        if (found == CST_NONE || k < found) found = k;
    }
    return found;
}

// When the two trees' records differ (a syntax error in a body that the full
// parse recovers from differently), each record's node is found by its place
// instead; false (m unchanged) when one is not there.
static bool renumber_by_place(ffq_ctx *cx, Module *m, Cst *full) {
    NodeMap by_start = {0};
    for (uint32_t i = 0; i < full->count; i++)
        vec_push(cx, nodemap_vec(cx, &by_start, full->nodes[i].start), (void *)(uintptr_t)i);
    PtrVec slots = {0};  // uint32_t * of every node id the records hold
    for (size_t i = 0; i < m->bindings.len; i++) vec_push(cx, &slots, &VEC_AT(m->bindings, Binding, i)->node);
    for (size_t i = 0; i < m->functions.len; i++) {
        FuncInfo *f = m->functions.items[i];
        vec_push(cx, &slots, &f->def), vec_push(cx, &slots, &f->outer);
    }
    for (size_t i = 0; i < m->classes.len; i++) {
        ClassInfo *c = m->classes.items[i];
        vec_push(cx, &slots, &c->node);
        for (size_t k = 0; k < c->methods.len; k++) {
            FuncInfo *f = c->methods.items[k];
            vec_push(cx, &slots, &f->def), vec_push(cx, &slots, &f->outer);
        }
        for (size_t k = 0; k < c->aliases.len; k++)
            vec_push(cx, &slots, &VEC_AT(c->aliases, ClassAlias, k)->value);
    }
    uint32_t *to = ARENA_ARRAY(cx, uint32_t, slots.len + 1);
    for (size_t i = 0; i < slots.len; i++)
        if ((to[i] = at_place(cx, &by_start, full, m->cst, *(uint32_t *)slots.items[i])) == CST_NONE)
            return false;
    PtrVec bases = {0}, base_to = {0};  // base nodes are stored as pointers
    for (size_t i = 0; i < m->classes.len; i++) {
        ClassInfo *c = m->classes.items[i];
        for (size_t k = 0; k < c->base_nodes.len; k++) {
            uint32_t b = at_place(cx, &by_start, full, m->cst, (uint32_t)(uintptr_t)c->base_nodes.items[k]);
            if (b == CST_NONE) return false;
            vec_push(cx, &bases, &c->base_nodes.items[k]);
            vec_push(cx, &base_to, (void *)(uintptr_t)b);
        }
    }
    for (size_t i = 0; i < slots.len; i++) *(uint32_t *)slots.items[i] = to[i];
    for (size_t i = 0; i < bases.len; i++) *(void **)bases.items[i] = base_to.items[i];
    for (size_t i = 0; i < m->copies.len; i++) {
        FuncInfo *c = m->copies.items[i];
        c->def = c->copy_of->def, c->outer = c->copy_of->outer;
    }
    m->cst = full;
    return true;
}

Cst *program_cst(ffq_ctx *cx, Module *m) {
    if (!m->cst->outline || m->full_tried) return m->cst;
    m->full_tried = true;
    Cst *full = m->cache_entry ? cache_module_full(cx, m->cache_entry) : source_parse_quiet(cx, m->file);
    if (full && !full->too_deep && !renumber(cx, m, full)) renumber_by_place(cx, m, full);
    return m->cst;
}

const Binding *program_binding(const Module *m, const char *name) {
    const struct NameIndex *ix = index_of(m);
    if (ix) {
        const NameSlot *sl = name_slot(ix, name);
        return sl->binding ? VEC_AT(m->bindings, Binding, sl->binding - 1) : NULL;
    }
    for (size_t i = m->bindings.len; i-- > 0;) {
        const Binding *b = VEC_AT(m->bindings, Binding, i);
        if (strcmp(b->name, name) == 0) return b;
    }
    return NULL;
}

ClassInfo *program_class(const Module *m, const char *name) {
    const struct NameIndex *ix = index_of(m);
    if (ix) {
        const NameSlot *sl = name_slot(ix, name);
        return sl->cls ? VEC_AT(m->classes, ClassInfo, sl->cls - 1) : NULL;
    }
    for (size_t i = m->classes.len; i-- > 0;) {
        ClassInfo *ci = VEC_AT(m->classes, ClassInfo, i);
        if (strcmp(ci->name, name) == 0) return ci;
    }
    return NULL;
}

FuncInfo *program_function(const Module *m, const char *name) {
    const struct NameIndex *ix = index_of(m);
    if (ix) {
        const NameSlot *sl = name_slot(ix, name);
        return sl->func ? VEC_AT(m->functions, FuncInfo, sl->func - 1) : NULL;
    }
    for (size_t i = m->functions.len; i-- > 0;) {
        FuncInfo *f = VEC_AT(m->functions, FuncInfo, i);
        if (strcmp(f->name, name) == 0) return f;
    }
    return NULL;
}

// Top-level statements are children of the module node (node 0); a binding inside an
// `if` / `try` / `with` / loop at module level is conditional.
// Whether statement n sits in the body of an `if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:`
// (not in its else branch): code that never runs, only type checkers read it.
static bool under_type_checking(const Cst *c, uint32_t n) {
    for (int up = 0; n != CST_NONE && n != 0 && up < 64; up++) {
        uint32_t p = c->nodes[n].parent;
        if (p == CST_NONE) return false;
        if (c->nodes[p].kind == K_IF && c->nodes[n].field == F_CONSEQUENCE) {
            uint32_t cond = cst_unparen(c, cst_field(c, p, F_CONDITION));
            if (cond != CST_NONE && c->nodes[cond].kind == K_ATTRIBUTE)
                cond = cst_field(c, cond, F_ATTRIBUTE);
            if (cond != CST_NONE && cst_text_is(c, cond, "TYPE_CHECKING")) return true;
        }
        n = p;
    }
    return false;
}

uint32_t program_function_other_binding(const Module *m, const FuncInfo *fn) {
    if (fn->owner) return CST_NONE;
    const Cst *c = m->cst;
    bool any_conditional = false;
    uint32_t other = CST_NONE;
    for (size_t i = 0; i < m->bindings.len; i++) {
        const Binding *b = VEC_AT(m->bindings, Binding, i);
        if (strcmp(b->name, fn->name) != 0 || b->node >= c->count) continue;
        // a definition for type checkers only (`if TYPE_CHECKING: def f(...)`, else the
        // real one: torch.meshgrid) never binds the name at run time
        if (b->node != fn->outer && b->node != fn->def && under_type_checking(c, b->node)) continue;
        if (c->nodes[b->node].parent != 0) any_conditional = true;
        if (b->node != fn->outer && b->node != fn->def && other == CST_NONE) other = b->node;
    }
    return any_conditional ? other : CST_NONE;
}

FuncInfo *program_method(const ClassInfo *ci, const char *name) {
    for (size_t i = ci->methods.len; i-- > 0;) {
        FuncInfo *f = VEC_AT(ci->methods, FuncInfo, i);
        if (strcmp(f->name, name) == 0) return f->property ? NULL : f;
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

// --- the program: modules loaded along the search path ---

struct Program {
    PtrVec dirs;     // const char *
    PtrVec modules;  // Module *, loaded (including the input)
    PtrVec missing;  // const char * dotted names looked for and not found
    PtrVec externs;  // const char * dotted names that are C extensions
    PtrVec warned;   // modules already reported as missing
    const char *search_text;
    PatternRule *const *rules;  // §8: applied to every module read, as to the input
    size_t nrules;
};

void program_init(ffq_ctx *cx, const char *const *dirs, size_t ndirs, Module *input) {
    Program *p = ARENA_NEW(cx, Program);
    StrBuf sb = {0};
    for (size_t i = 0; i < ndirs; i++) {
        vec_push(cx, &p->dirs, (void *)dirs[i]);
        sb_printf(cx, &sb, "%s%s", i ? ", " : "", dirs[i]);
    }
    p->search_text = sb_cstr(cx, &sb);
    if (input) vec_push(cx, &p->modules, input);
    cx->prog = p;
}

void program_set_search_text(ffq_ctx *cx, const char *text) { cx->prog->search_text = text; }

void program_set_rules(ffq_ctx *cx, PatternRule *const *rules, size_t n) {
    cx->prog->rules = rules;
    cx->prog->nrules = n;
}

// The module's text after the pattern rules (§8), or NULL when no rule changes it
// (pattern_apply returns the file itself, without parsing it when no rule can match).
static const SrcFile *rewritten(ffq_ctx *cx, const SrcFile *f, const char *dotted) {
    Program *p = cx->prog;
    const SrcFile *r = pattern_apply(cx, f, dotted, p->rules, p->nrules);
    return r == f ? NULL : r;
}

const char *program_search_text(ffq_ctx *cx) {
    return cx->prog && cx->prog->search_text[0] ? cx->prog->search_text : "(no search path)";
}

static bool in_list(const PtrVec *v, const char *s) {
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], s) == 0) return true;
    return false;
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool has_extension(const char *base) {  // base.so, base.cpython-311-x86_64-linux-gnu.so, ...
    char pat[4096];
    if (snprintf(pat, sizeof pat, "%s.*so", base) >= (int)sizeof pat) return false;
    glob_t g;
    bool found = glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0;
    globfree(&g);
    return found;
}

// Reads and parses the module's file; an unparsable file is still used
// (tree-sitter recovers) but its syntax errors are not the user's problem.
// Its outline is parsed first (source_parse_outline): most imported modules
// are only read for their names and base classes, and program_cst parses the
// rest of one when a pass reads a function body.
static Module *load_file(ffq_ctx *cx, const char *dotted, const char *path, bool package) {
    Cst *cst;
    void *entry = NULL;
    const SrcFile *f = NULL;
    if (cx->cache) {  // shared with the other compilations of the run (cache.c)
        const SrcFile *cf;
        bool usable = cache_module(cx, path, &cf, &cst, &entry);
        cx->stats.files_read++;
        if (!usable) return NULL;
        f = rewritten(cx, cf, dotted);  // the rules' text is this compilation's own
        if (f) entry = NULL;
    } else {
        SrcFile *raw = srcfile_read(cx, path);
        if (raw) raw = srcfile_decode(cx, raw);
        if (!raw || srcfile_invalid_utf8(raw) != UINT32_MAX) return NULL;
        cx->stats.files_read++;
        f = rewritten(cx, raw, dotted);
        if (!f) f = raw;
    }
    if (f) {
        cst = source_parse_outline(cx, f);
        if (!cst) cst = source_parse_quiet(cx, f);
        if (!cst || cst->too_deep) return NULL;
    }
    Module *m = ARENA_NEW(cx, Module);
    m->cache_entry = entry;
    m->name = dotted;
    m->is_package = package;
    vec_push(cx, &cx->prog->modules, m);  // before loading: import cycles find it
    program_fill(cx, m, cst->file, cst);
    return m;
}

Module *program_module(ffq_ctx *cx, const char *dotted) {
    Program *p = cx->prog;
    if (!p || !dotted || !dotted[0]) return NULL;
    for (size_t i = 0; i < p->modules.len; i++) {
        Module *m = p->modules.items[i];
        if (strcmp(m->name, dotted) == 0) return m;
    }
    if (in_list(&p->missing, dotted) || in_list(&p->externs, dotted)) return NULL;
    char rel[4096];
    size_t n = strlen(dotted);
    if (n >= sizeof rel - 16) return NULL;
    for (size_t i = 0; i <= n; i++) rel[i] = dotted[i] == '.' ? '/' : dotted[i];
    for (size_t i = 0; i < p->dirs.len; i++) {
        const char *dir = p->dirs.items[i];
        char path[8192];
        if (snprintf(path, sizeof path, "%s/%s/__init__.py", dir, rel) < (int)sizeof path && is_file(path))
            return load_file(cx, arena_strdup(cx, dotted), arena_strdup(cx, path), true);
        if (snprintf(path, sizeof path, "%s/%s.py", dir, rel) < (int)sizeof path && is_file(path))
            return load_file(cx, arena_strdup(cx, dotted), arena_strdup(cx, path), false);
        if (snprintf(path, sizeof path, "%s/%s", dir, rel) < (int)sizeof path &&
            (cx->cache ? cache_has_extension(cx, path, has_extension) : has_extension(path))) {
            vec_push(cx, &p->externs, arena_strdup(cx, dotted));
            return NULL;
        }
    }
    vec_push(cx, &p->missing, arena_strdup(cx, dotted));
    return NULL;
}

bool program_module_missing(ffq_ctx *cx, const char *dotted, bool *is_extension) {
    if (program_module(cx, dotted)) return false;
    *is_extension = cx->prog && in_list(&cx->prog->externs, dotted);
    return true;
}

static Symbol sym_none(void) {
    Symbol s;
    memset(&s, 0, sizeof s);
    return s;
}

static Symbol member(ffq_ctx *cx, Symbol s, const char *attr, int depth);

static Symbol module_sym(ffq_ctx *cx, const char *dotted) {
    Symbol s = sym_none();
    s.qualname = dotted;
    s.mod = program_module(cx, dotted);
    s.kind = s.mod ? SYM_MODULE : (cx->prog && in_list(&cx->prog->externs, dotted)) ? SYM_EXTERN : SYM_NONE;
    return s;
}

// `sys.modules[__name__]`: the module itself (`_THIS = sys.modules[__name__]`).
static bool is_this_module(ffq_ctx *cx, Module *m, uint32_t sub) {
    const Cst *c = m->cst;
    uint32_t val = cst_field(c, sub, F_VALUE), key = cst_field(c, sub, F_SUBSCRIPT);
    if (val == CST_NONE || key == CST_NONE || !cst_text_is(c, key, "__name__")) return false;
    const char *q = program_qualname(cx, m, val);
    return q && strcmp(q, "sys.modules") == 0;
}

static Symbol lookup(ffq_ctx *cx, Module *m, const char *name, int depth);

// name looked up in m's `from X import *` modules, newest first.
static Symbol lookup_stars(ffq_ctx *cx, Module *m, const char *name, int depth) {
    Symbol s = sym_none();
    for (size_t i = m->stars.len; i-- > 0;) {
        Module *x = program_module(cx, m->stars.items[i]);
        if (!x || x == m) continue;
        s = lookup(cx, x, name, depth + 1);
        if (s.kind != SYM_NONE) return s;
    }
    return s;
}

// Depth first through the star imports, each module once (they may import each other).
static const char *star_source(ffq_ctx *cx, Module *m, const char *name, PtrVec *seen) {
    for (size_t i = 0; i < seen->len; i++)
        if (seen->items[i] == m) return NULL;
    vec_push(cx, seen, m);
    for (size_t i = m->stars.len; i-- > 0;) {
        Module *x = program_module(cx, m->stars.items[i]);
        if (!x || x == m) continue;
        if (program_binding(x, name) || star_source(cx, x, name, seen)) return x->name;
    }
    return NULL;
}

const char *program_star_source(ffq_ctx *cx, Module *m, const char *name) {
    PtrVec seen = {0};
    return star_source(cx, m, name, &seen);
}

// name bound by assignment b in m: `Alias = other.Name` follows the alias, else a value.
static Symbol lookup_assigned(ffq_ctx *cx, Module *m, const Binding *b, const char *name, int depth) {
    const Cst *c = m->cst;
    uint32_t asg = cst_named_child(c, b->node, 0);
    uint32_t right = asg == CST_NONE ? CST_NONE : cst_field(c, asg, F_RIGHT);
    uint32_t left = asg == CST_NONE ? CST_NONE : cst_unparen(c, cst_field(c, asg, F_LEFT));
    uint32_t rk = right == CST_NONE ? K_OTHER : c->nodes[right].kind;
    Symbol s = sym_none();
    // `Alias = other.Name` (not one name of an unpacking `A, B = pair`)
    if ((rk == K_IDENTIFIER || rk == K_ATTRIBUTE) && left != CST_NONE &&
        c->nodes[left].kind == K_IDENTIFIER) {
        s = program_resolve_depth(cx, m, right, depth + 1);
        if (s.kind != SYM_NONE) return s;
    }
    if (rk == K_SUBSCRIPT && is_this_module(cx, m, right)) return module_sym(cx, m->name);
    s.kind = SYM_VALUE, s.mod = m;
    s.qualname = arena_printf(cx, "%s.%s", m->name, name);
    return s;
}

static Symbol lookup(ffq_ctx *cx, Module *m, const char *name, int depth) {
    Symbol s = sym_none();
    if (depth > RESOLVE_DEPTH_MAX) return s;
    const Binding *b = program_binding(m, name);
    if (!b) return lookup_stars(cx, m, name, depth);  // `from X import *`
    switch (b->kind) {
    case BIND_DEF:
        s.kind = SYM_FUNC, s.mod = m, s.fn = program_function(m, name);
        s.qualname = arena_printf(cx, "%s.%s", m->name, name);
        return s;
    case BIND_CLASS:
        s.kind = SYM_CLASS, s.mod = m, s.cls = program_class(m, name);
        s.qualname = arena_printf(cx, "%s.%s", m->name, name);
        return s;
    case BIND_ASSIGN: return lookup_assigned(cx, m, b, name, depth);  // `Alias = other.Name`
    case BIND_IMPORT: return module_sym(cx, name);                    // `import a.b` binds the package a
    case BIND_IMPORT_AS: return module_sym(cx, b->module);
    case BIND_FROM: {
        Symbol from = module_sym(cx, b->module);
        s = member(cx, from, b->attr, depth + 1);
        if (s.kind == SYM_NONE) s.qualname = arena_printf(cx, "%s.%s", b->module, b->attr);
        return s;
    }
    }
    return s;
}

// An attribute of a module (a binding there, or a submodule) or of a class (a method).
static Symbol member(ffq_ctx *cx, Symbol s, const char *attr, int depth) {
    Symbol r = sym_none();
    if (s.kind == SYM_MODULE) {
        r = lookup(cx, s.mod, attr, depth + 1);
        if (r.kind == SYM_NONE) r = module_sym(cx, arena_printf(cx, "%s.%s", s.mod->name, attr));
    } else if (s.kind == SYM_EXTERN) {
        r = module_sym(cx, arena_printf(cx, "%s.%s", s.qualname, attr));
        if (r.kind == SYM_NONE) r.kind = SYM_NONE;
    } else if (s.kind == SYM_CLASS && s.cls) {
        FuncInfo *f = program_find_method(cx, s.cls, attr);
        if (f) r.kind = SYM_FUNC, r.fn = f, r.mod = f->mod;
    }
    if (!r.qualname && s.qualname) r.qualname = arena_printf(cx, "%s.%s", s.qualname, attr);
    return r;
}

Symbol program_lookup(ffq_ctx *cx, Module *m, const char *name) { return lookup(cx, m, name, 0); }

Symbol program_resolve_depth(ffq_ctx *cx, Module *m, uint32_t node, int depth) {
    const Cst *c = m->cst;
    node = cst_unparen(c, node);
    if (node == CST_NONE || depth > RESOLVE_DEPTH_MAX) return sym_none();
    if (c->nodes[node].kind == K_IDENTIFIER) return lookup(cx, m, cst_strdup(cx, c, node), depth);
    if (c->nodes[node].kind != K_ATTRIBUTE) return sym_none();
    Symbol obj = program_resolve_depth(cx, m, cst_field(c, node, F_OBJECT), depth + 1);
    if (obj.kind == SYM_NONE) return obj;
    return member(cx, obj, cst_strdup(cx, c, cst_field(c, node, F_ATTRIBUTE)), depth + 1);
}

Symbol program_resolve(ffq_ctx *cx, Module *m, uint32_t node) {
    return program_resolve_depth(cx, m, node, 0);
}

ClassInfo *program_base(ffq_ctx *cx, ClassInfo *ci, size_t i) {
    if (!ci->bases_resolved) {
        ci->bases_resolved = true;  // before resolving: a class inheriting from itself stops here
        for (size_t k = 0; k < ci->base_nodes.len; k++) {
            Symbol s = program_resolve(cx, ci->mod, (uint32_t)(uintptr_t)ci->base_nodes.items[k]);
            vec_push(cx, &ci->base_infos, s.kind == SYM_CLASS ? s.cls : NULL);
        }
    }
    return i < ci->base_infos.len ? ci->base_infos.items[i] : NULL;
}

// A class-body alias `name = function`: the function's source, emitted as
// method `name` with the function's own signature (§5.2).
static FuncInfo *alias_method(ffq_ctx *cx, ClassInfo *ci, const char *name) {
    for (size_t i = 0; i < ci->aliases.len; i++) {
        ClassAlias *al = ci->aliases.items[i];
        if (strcmp(al->name, name) != 0) continue;
        if (!al->resolved) {
            al->resolved = true;
            Symbol s = program_resolve(cx, ci->mod, al->value);
            if (s.kind == SYM_FUNC && s.fn) {
                FuncInfo *f = ARENA_NEW(cx, FuncInfo);
                *f = *s.fn;
                f->copy_of = s.fn->copy_of ? s.fn->copy_of : s.fn;
                vec_push(cx, &s.fn->mod->copies, f);  // its node ids follow the original's
                f->owner = ci;
                f->kind = s.fn->owner ? s.fn->kind : FN_INSTANCE;
                f->alias = strcmp(s.fn->name, name) != 0 ? al->name : NULL;
                al->fn = f;
            }
        }
        return al->fn;
    }
    return NULL;
}

static bool has_property(const ClassInfo *ci, const char *name) {
    for (size_t i = 0; i < ci->methods.len; i++) {
        const FuncInfo *f = VEC_AT(ci->methods, FuncInfo, i);
        if (f->property && strcmp(f->name, name) == 0) return true;
    }
    return false;
}

static FuncInfo *find_method(ffq_ctx *cx, ClassInfo *ci, const char *name, int depth) {
    FuncInfo *f = program_method(ci, name);
    if (!f) f = alias_method(cx, ci, name);
    if (f || depth > BASES_DEPTH_MAX || has_property(ci, name)) return f;
    for (size_t i = 0; i < ci->bases.len; i++) {
        ClassInfo *base = program_base(cx, ci, i);
        if (base && base != ci && (f = find_method(cx, base, name, depth + 1))) return f;
    }
    return NULL;
}

FuncInfo *program_find_method(ffq_ctx *cx, ClassInfo *ci, const char *name) {
    return find_method(cx, ci, name, 0);
}

// Without torch on the search path, torch.nn.<Upper> names count as modules.
static bool is_torch_module_name(const char *q) {
    if (!str_has_prefix(q, "torch.nn.")) return false;
    const char *last = strrchr(q, '.') + 1;
    return last[0] >= 'A' && last[0] <= 'Z' && !str_has_prefix(q, "torch.nn.parameter") &&
           strcmp(last, "Parameter") != 0;
}

bool program_is_module_class(ffq_ctx *cx, ClassInfo *ci) {
    if (ci->is_module >= 0) return ci->is_module == 1;
    ci->is_module = 0;  // guards against a class inheriting from itself
    if (strcmp(ci->name, "Module") == 0 && strcmp(ci->mod->name, "torch.nn.modules.module") == 0) {
        ci->is_module = 1;
        return true;
    }
    for (size_t i = 0; i < ci->bases.len; i++) {
        ClassInfo *base = program_base(cx, ci, i);
        bool yes =
            base ? program_is_module_class(cx, base) : is_torch_module_name(VEC_AT(ci->bases, const char, i));
        if (yes) {
            ci->is_module = 1;
            break;
        }
    }
    return ci->is_module == 1;
}

// The module a name expression would come from when that module cannot be
// found (no source, not an extension); NULL otherwise.
const char *program_missing_import(ffq_ctx *cx, Module *m, uint32_t node) {
    const Cst *c = m->cst;
    node = cst_unparen(c, node);
    while (node != CST_NONE && c->nodes[node].kind == K_ATTRIBUTE)
        node = cst_unparen(c, cst_field(c, node, F_OBJECT));
    if (node == CST_NONE || c->nodes[node].kind != K_IDENTIFIER) return NULL;
    const Binding *b = program_binding(m, cst_strdup(cx, c, node));
    if (!b || b->kind == BIND_DEF || b->kind == BIND_CLASS || b->kind == BIND_ASSIGN) return NULL;
    const char *mod = b->kind == BIND_IMPORT ? b->name : b->module;
    // The standard library (math, itertools, os, ...) is not missing: its calls are not
    // tensor operations, and ffq need not read it.
    const char *dot = strchr(mod, '.');
    if (imports_is_stdlib(dot ? arena_strndup(cx, mod, (size_t)(dot - mod)) : mod)) return NULL;
    bool ext = false;
    if (!program_module_missing(cx, mod, &ext) || ext) return NULL;
    if (b->kind == BIND_FROM) {  // `from pkg import sub`: sub may be a module of its own
        const char *sub = arena_printf(cx, "%s.%s", b->module, b->attr);
        if (!program_module_missing(cx, sub, &ext) || ext) return NULL;
    }
    return mod;
}

void program_warn_missing(ffq_ctx *cx, Module *m, uint32_t at, const char *what, const char *mod) {
    Program *p = cx->prog;
    if (!p) return;
    for (size_t i = 0; i < p->warned.len; i++)
        if (strcmp(p->warned.items[i], mod) == 0) return;
    vec_push(cx, &p->warned, (void *)mod);
    diag_at(cx, DIAG_WARNING, m->file, m->cst->nodes[at].start, "unresolved-import",
            "cannot read %s: module '%s' was not found (looked in: %s); it is left as it is", what, mod,
            program_search_text(cx));
}

// --- --dump=program ---

static uint32_t line_of(const Module *m, uint32_t node) {
    uint32_t line, col;
    srcfile_linecol(m->file, m->cst->nodes[node].start, &line, &col);
    return line;
}

static void dump_binding(ffq_ctx *cx, const Module *m, const Binding *b, StrBuf *out) {
    sb_printf(cx, out, "  line %u: %s = ", line_of(m, b->node), b->name);
    switch (b->kind) {
    case BIND_IMPORT: sb_printf(cx, out, "import %s\n", b->module); return;
    case BIND_IMPORT_AS: sb_printf(cx, out, "import %s as %s\n", b->module, b->name); return;
    case BIND_FROM: sb_printf(cx, out, "from %s import %s\n", b->module, b->attr); return;
    case BIND_DEF: sb_puts(cx, out, "def\n"); return;
    case BIND_CLASS: sb_puts(cx, out, "class\n"); return;
    case BIND_ASSIGN: sb_puts(cx, out, "assignment\n"); return;
    }
}

static void dump_class(ffq_ctx *cx, const Module *m, const ClassInfo *ci, StrBuf *out) {
    static const char *const is_module[] = {"not resolved", "no", "yes"};
    sb_printf(cx, out, "  line %u: class %s(", line_of(m, ci->node), ci->name);
    for (size_t i = 0; i < ci->bases.len; i++)
        sb_printf(cx, out, "%s%s", i ? ", " : "", (const char *)ci->bases.items[i]);
    sb_printf(cx, out, "), nn.Module: %s\n", is_module[ci->is_module + 1]);
    static const char *const kinds[] = {"function", "method", "classmethod", "staticmethod"};
    for (size_t i = 0; i < ci->methods.len; i++) {
        const FuncInfo *f = ci->methods.items[i];
        sb_printf(cx, out, "    line %u: %s %s\n", line_of(m, f->outer), kinds[f->kind], f->name);
    }
    for (size_t i = 0; i < ci->aliases.len; i++) {
        const ClassAlias *a = ci->aliases.items[i];
        sb_printf(cx, out, "    alias %s = %s\n", a->name, a->fn ? a->fn->name : "?");
    }
}

void program_dump(ffq_ctx *cx, StrBuf *out) {
    const Program *p = cx->prog;
    for (size_t i = 0; p && i < p->modules.len; i++) {
        const Module *m = p->modules.items[i];
        if (strcmp(m->name, "torch") == 0 || str_has_prefix(m->name, "torch."))
            continue;  // varies by version
        sb_printf(cx, out, "# module %s%s\n", m->name, m->is_package ? " (package)" : "");
        for (size_t k = 0; k < m->bindings.len; k++) dump_binding(cx, m, m->bindings.items[k], out);
        for (size_t k = 0; k < m->stars.len; k++)
            sb_printf(cx, out, "  from %s import *\n", (const char *)m->stars.items[k]);
        for (size_t k = 0; k < m->classes.len; k++) dump_class(cx, m, m->classes.items[k], out);
        for (size_t k = 0; k < m->functions.len; k++) {
            const FuncInfo *f = m->functions.items[k];
            sb_printf(cx, out, "  line %u: function %s\n", line_of(m, f->outer), f->name);
        }
    }
}
