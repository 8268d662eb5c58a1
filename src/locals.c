// locals.c: the names a function binds in its own scope, one definition for
// every pass: type inference (its variables), the rewrite (a local shadows a
// module name: no operator lookup through it) and the import block (a local
// of the generated code is not imported).
//
// Consumes: a function definition of a Cst. Produces: a Locals (program.h),
// computed once per function of the program (memoized in its module).
#include <string.h>

#include "containers.h"
#include "program.h"

enum { LOCALS_DEPTH_MAX = 400 };  // statement and expression nesting walked

typedef struct Collect {
    ffq_ctx *cx;
    const Cst *c;
    Locals *l;
    StrMap declared;  // global / nonlocal names: they live outside the function
} Collect;

static void add_name(Collect *k, uint32_t ident) {
    size_t n;
    const char *s = cst_text(k->c, ident, &n);
    if (strmap_get(&k->declared, s, n) || strmap_get(&k->l->set, s, n)) return;
    const char *copy = arena_strndup(k->cx, s, n);
    strmap_put(k->cx, &k->l->set, copy, n, (void *)copy);
    vec_push(k->cx, &k->l->names, (void *)copy);
}

// The identifiers of an assignment target or parameter (not attributes or subscripts).
static void add_target(Collect *k, uint32_t t) {
    const Cst *c = k->c;
    t = cst_unparen(c, t);
    if (t == CST_NONE) return;
    switch (c->nodes[t].kind) {
    case K_IDENTIFIER: add_name(k, t); return;
    case K_DEFAULT_PARAMETER:
    case K_TYPED_DEFAULT_PARAMETER: add_target(k, cst_field(c, t, F_NAME)); return;
    case K_TYPED_PARAMETER:  // `x: T`, `*args: T`: the first child names it
        add_target(k, cst_named_child(c, t, 0));
        return;
    case K_DICT_SPLAT_PATTERN:
    case K_AS_PATTERN:
    case K_OTHER: break;
    default:
        if (!cst_is_target_list(c->nodes[t].kind)) return;
    }
    for (uint32_t i = 0; i < c->nodes[t].nchildren; i++) {
        uint32_t ch = c->nodes[t].first_child + i;
        if (c->nodes[ch].named) add_target(k, ch);
    }
}

static void add_import(Collect *k, uint32_t node) {
    const Cst *c = k->c;
    for (uint32_t i = 0; i < c->nodes[node].nchildren; i++) {
        uint32_t x = c->nodes[node].first_child + i;
        if (c->nodes[x].field != F_NAME) continue;
        if (c->nodes[x].kind == K_ALIASED_IMPORT) add_target(k, cst_field(c, x, F_ALIAS));
        else if (c->nodes[x].kind == K_DOTTED_NAME) add_target(k, cst_named_child(c, x, 0));
    }
}

// Capture patterns of a match statement: every identifier of each case's
// pattern (conservative: the names of dotted values and classes too).
static void add_match(Collect *k, uint32_t node) {
    const Cst *c = k->c;
    uint32_t body = cst_field(c, node, F_BODY);
    PtrVec stack = {0};
    for (uint32_t i = 0; body != CST_NONE && i < c->nodes[body].nchildren; i++) {
        uint32_t cc = c->nodes[body].first_child + i;
        for (uint32_t j = 0; j < c->nodes[cc].nchildren; j++) {
            uint32_t x = c->nodes[cc].first_child + j;
            if (!c->nodes[x].named || c->nodes[x].kind != K_OTHER || c->nodes[x].field != F_NONE) continue;
            stack.len = 0;
            vec_push(k->cx, &stack, (void *)(uintptr_t)x);
            while (stack.len) {
                uint32_t y = (uint32_t)(uintptr_t)stack.items[--stack.len];
                if (c->nodes[y].kind == K_IDENTIFIER) add_name(k, y);
                for (uint32_t q = c->nodes[y].nchildren; q-- > 0;)
                    vec_push(k->cx, &stack, (void *)(uintptr_t)(c->nodes[y].first_child + q));
            }
        }
    }
}

static void collect(Collect *k, uint32_t node, int depth) {
    const Cst *c = k->c;
    if (depth > LOCALS_DEPTH_MAX) return;
    switch (c->nodes[node].kind) {
    case K_FUNCTION_DEF:
    case K_CLASS_DEF: add_target(k, cst_field(c, node, F_NAME)); return;  // their bodies are other scopes
    case K_LAMBDA: return;
    case K_ASSIGNMENT:
    case K_AUG_ASSIGNMENT:
    case K_FOR:
    case K_FOR_IN_CLAUSE: add_target(k, cst_field(c, node, F_LEFT)); break;
    case K_NAMED_EXPR: add_target(k, cst_field(c, node, F_NAME)); break;
    case K_AS_PATTERN: add_target(k, cst_field(c, node, F_ALIAS)); break;
    case K_IMPORT:
    case K_IMPORT_FROM: add_import(k, node); return;
    case K_GLOBAL:
    case K_NONLOCAL: return;  // found beforehand (find_declared)
    case K_MATCH: add_match(k, node); break;
    default: break;
    }
    for (uint32_t i = 0; i < c->nodes[node].nchildren; i++) {
        uint32_t ch = c->nodes[node].first_child + i;
        if (c->nodes[ch].named) collect(k, ch, depth + 1);
    }
}

// Names declared global or nonlocal anywhere in the function's own scope.
static void find_declared(Collect *k, uint32_t node, int depth) {
    const Cst *c = k->c;
    uint32_t kind = c->nodes[node].kind;
    if (depth > LOCALS_DEPTH_MAX || kind == K_FUNCTION_DEF || kind == K_CLASS_DEF || kind == K_LAMBDA) return;
    for (uint32_t i = 0; i < c->nodes[node].nchildren; i++) {
        uint32_t ch = c->nodes[node].first_child + i;
        if ((kind == K_GLOBAL || kind == K_NONLOCAL) && c->nodes[ch].kind == K_IDENTIFIER) {
            size_t n;
            const char *s = cst_text(c, ch, &n);
            strmap_put(k->cx, &k->declared, s, n, (void *)s);
        } else if (c->nodes[ch].named) {
            find_declared(k, ch, depth + 1);
        }
    }
}

const Locals *locals_of_def(ffq_ctx *cx, const Cst *c, uint32_t def) {
    Locals *l = ARENA_NEW(cx, Locals);
    Collect k = {.cx = cx, .c = c, .l = l};
    uint32_t ps = cst_field(c, def, F_PARAMETERS), body = cst_field(c, def, F_BODY);
    if (body != CST_NONE) find_declared(&k, body, 0);
    for (uint32_t i = 0; ps != CST_NONE && i < c->nodes[ps].nchildren; i++) {
        uint32_t p = c->nodes[ps].first_child + i;
        if (c->nodes[p].named) add_target(&k, p);
    }
    if (body != CST_NONE) collect(&k, body, 0);
    return l;
}

const Locals *locals_of(ffq_ctx *cx, const FuncInfo *fn) {
    const Cst *c = program_cst(cx, fn->mod);  // before reading fn->def
    const Locals *l = nodemap_get(&fn->mod->locals, fn->def);
    if (!l) {
        l = locals_of_def(cx, c, fn->def);
        nodemap_put(cx, &fn->mod->locals, fn->def, (void *)l);
    }
    return l;
}

bool locals_has(const Locals *l, const char *name, size_t len) {
    return strmap_get(&l->set, name, len) != NULL;
}
