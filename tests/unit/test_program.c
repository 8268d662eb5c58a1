// Unit tests of program.c: bindings, qualified names, nn.Module detection.
#include "ffq_int.h"
#include "program.h"
#include "rewrite.h"

#include "check.h"

static Module *load(ffq_ctx *cx, const char *src, const char *name) {
    SrcFile *f = srcfile_new(cx, "m.py", src, strlen(src));
    return program_load(cx, f, source_parse(cx, f), name);
}

static const char *qual(ffq_ctx *cx, Module *m, const char *expr) {
    // find the first node whose text is expr
    for (uint32_t i = 0; i < m->cst->count; i++)
        if ((m->cst->nodes[i].kind == K_IDENTIFIER || m->cst->nodes[i].kind == K_ATTRIBUTE) &&
            m->cst->nodes[i].parent != CST_NONE && m->cst->nodes[m->cst->nodes[i].parent].kind == K_EXPR_STMT &&
            cst_text_is(m->cst, i, expr))
            return program_qualname(cx, m, i);
    return NULL;
}

static void test_qualnames(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    Module *m = load(cx,
                     "import torch\nimport torch.nn.functional as F\nfrom torch import relu as r\n"
                     "from . import sibling\nfrom .. import up\nCONST = 3\n"
                     "def helper(): pass\n"
                     "F.relu\nr\ntorch.nn.Linear\nhelper\nsibling.x\nup\nCONST\nlocal\n",
                     "pkg.sub.mod");
    CHECK_EQ_STR(qual(cx, m, "F.relu"), "torch.nn.functional.relu");
    CHECK_EQ_STR(qual(cx, m, "r"), "torch.relu");
    CHECK_EQ_STR(qual(cx, m, "torch.nn.Linear"), "torch.nn.Linear");
    CHECK_EQ_STR(qual(cx, m, "helper"), "pkg.sub.mod.helper");
    CHECK_EQ_STR(qual(cx, m, "sibling.x"), "pkg.sub.sibling.x");
    CHECK_EQ_STR(qual(cx, m, "up"), "pkg.up");
    CHECK_EQ_STR(qual(cx, m, "CONST"), "pkg.sub.mod.CONST");
    CHECK(qual(cx, m, "local") == NULL);
    ffq_ctx_free(cx);
}

static void test_module_classes(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    Module *m = load(cx,
                     "import torch\nfrom torch import nn\n"
                     "class A(nn.Module): pass\nclass B(A): pass\nclass C: pass\n"
                     "class D(torch.nn.Linear): pass\nclass E(E): pass\n",
                     "m");
    CHECK(program_is_module_class(cx, program_class(m, "A")));
    CHECK(program_is_module_class(cx, program_class(m, "B")));
    CHECK(!program_is_module_class(cx, program_class(m, "C")));
    CHECK(program_is_module_class(cx, program_class(m, "D")));
    CHECK(!program_is_module_class(cx, program_class(m, "E")));  // inherits from itself
    ClassInfo *a = program_class(m, "A");
    CHECK(a && a->methods.len == 0);
    ffq_ctx_free(cx);
}

// The names of Locals, joined by spaces, in their order.
static const char *names_of(ffq_ctx *cx, const Locals *l) {
    StrBuf sb = {0};
    for (size_t i = 0; i < l->names.len; i++) sb_printf(cx, &sb, "%s%s", i ? " " : "", (char *)l->names.items[i]);
    return sb_cstr(cx, &sb);
}

static void test_locals(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    Module *m = load(cx,
                     "def f(a, b: int, c=1, *args, d: int = 2, **kw):\n"
                     "    global g\n"
                     "    g = 1\n"
                     "    x, (y, *z) = 1, (2, 3)\n"
                     "    self.attr = 0\n"
                     "    e[0] = 1\n"
                     "    for i in range(3): pass\n"
                     "    with open(a) as fh: pass\n"
                     "    try: pass\n"
                     "    except ValueError as err: pass\n"
                     "    import os.path, numpy as np\n"
                     "    from m import k as kk\n"
                     "    if (w := 3): pass\n"
                     "    sq = [v * v for v in range(3)]\n"
                     "    h = lambda lam: (lam2 := lam)\n"
                     "    def inner(p):\n"
                     "        q = p\n"
                     "    class K:\n"
                     "        r = 1\n"
                     "    a = 5\n",
                     "m");
    const FuncInfo *f = program_function(m, "f");
    CHECK(f != NULL);
    const Locals *l = locals_of(cx, f);
    CHECK_EQ_STR(names_of(cx, l),
                 "a b c args d kw x y z i fh err os np kk w sq v h inner K");
    CHECK(locals_has(l, "fh", 2) && !locals_has(l, "g", 1) && !locals_has(l, "lam", 3) && !locals_has(l, "q", 1));
    CHECK(locals_of(cx, f) == l);  // computed once
    ffq_ctx_free(cx);
}

// What a module's records say, node positions included.
static const char *records(ffq_ctx *cx, const Module *m) {
    StrBuf sb = {0};
    const CstNode *n = m->cst->nodes;
    for (size_t i = 0; i < m->bindings.len; i++) {
        const Binding *b = m->bindings.items[i];
        sb_printf(cx, &sb, "bind %s %d %s %s @%u\n", b->name, (int)b->kind, b->module ? b->module : "-",
                  b->attr ? b->attr : "-", n[b->node].start);
    }
    for (size_t i = 0; i < m->stars.len; i++) sb_printf(cx, &sb, "star %s\n", (const char *)m->stars.items[i]);
    for (size_t i = 0; i < m->classes.len; i++) {
        const ClassInfo *c = m->classes.items[i];
        sb_printf(cx, &sb, "class %s @%u-%u\n", c->name, n[c->node].start, n[cst_field(m->cst, c->node, F_NAME)].end);
        for (size_t k = 0; k < c->bases.len; k++)
            sb_printf(cx, &sb, "  base %s @%u\n", (const char *)c->bases.items[k],
                      n[(uint32_t)(uintptr_t)c->base_nodes.items[k]].start);
        for (size_t k = 0; k < c->methods.len; k++) {
            const FuncInfo *f = c->methods.items[k];
            sb_printf(cx, &sb, "  method %s %d %d @%u @%u\n", f->name, (int)f->kind, f->property, n[f->def].start,
                      n[f->outer].start);
        }
        for (size_t k = 0; k < c->aliases.len; k++) {
            const ClassAlias *a = c->aliases.items[k];
            sb_printf(cx, &sb, "  alias %s @%u\n", a->name, n[a->value].start);
        }
    }
    for (size_t i = 0; i < m->functions.len; i++) {
        const FuncInfo *f = m->functions.items[i];
        sb_printf(cx, &sb, "def %s @%u @%u lead %u\n", f->name, n[f->def].start, n[f->outer].start, f->lead);
    }
    return sb_cstr(cx, &sb);
}

// An imported module's records come from its outline, at the positions the
// full tree has them; program_cst then renumbers them into the full tree,
// alias copies included.
static void test_outline_records(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *src =
        "'''Module docstring.'''\n"
        "import sys\nfrom typing import (\n    TYPE_CHECKING,\n    Any,\n)\n"
        "try:\n    import numpy as np\nexcept ImportError:\n    np = None\n"
        "if TYPE_CHECKING:\n    from os import path\n"
        "_THIS = sys.modules[__name__]\nAlias = np.ndarray\nTABLE: dict[str, Any] = {'x': f\"{1:>{2}}\"}\n"
        "from json import *\n\n"
        "# about helper\n"
        "def helper(x, y=lambda: 0) -> int:\n    '''Doc.'''\n    z = [i for i in x]\n    return len(z)\n\n"
        "async def fetch(): return 1\n\n"
        "class Base(object):\n"
        "    '''Base doc.'''\n"
        "    size: int = 3\n"
        "    run = helper\n"
        "    @staticmethod\n    def s(a):\n        return a\n"
        "    @classmethod\n    def c(cls):\n        return cls\n"
        "    @property\n    def p(self):\n        return 1\n"
        "    @p.setter\n    def p(self, v):\n        pass\n"
        "    class Inner:\n        def deep(self):\n            return 2\n"
        "    def __init__(self, a: int,\n                 b: str = 'x(') -> None:\n"
        "        self.a = a\n# column 0 comment inside the body\n        self.b = b\n\n"
        "class Child(Base, metaclass=type):\n    forward = Base.s\n";
    SrcFile *file = srcfile_new(cx, "m.py", src, strlen(src));
    Cst *outline = source_parse_outline(cx, file), *full = source_parse(cx, file);
    CHECK(outline != NULL && outline->outline && outline->count < full->count);
    if (!outline) {
        ffq_ctx_free(cx);
        return;
    }
    Module *mo = program_load(cx, file, outline, "m"), *mf = program_load(cx, file, full, "m");
    CHECK_EQ_STR(records(cx, mo), records(cx, mf));
    // alias copies made while the module is an outline
    FuncInfo *run = program_find_method(cx, program_class(mo, "Base"), "run");
    FuncInfo *helper = program_function(mo, "helper");
    CHECK(run && run != helper && run->def == helper->def);
    FuncInfo *fwd = program_find_method(cx, program_class(mo, "Child"), "forward");
    FuncInfo *s = program_method(program_class(mo, "Base"), "s");
    CHECK(fwd && fwd != s && fwd->def == s->def);
    uint32_t s_def = s->def;
    Cst *c = program_cst(cx, mo);
    CHECK(c != outline && !c->outline && c == mo->cst);
    CHECK_EQ_STR(records(cx, mo), records(cx, mf));
    CHECK(s->def != s_def);  // (a nested node: its number differs in the two trees)
    CHECK(run && run->def == helper->def && c->nodes[run->def].kind == K_FUNCTION_DEF);
    CHECK(fwd && fwd->def == s->def && fwd->outer == s->outer);
    uint32_t body = cst_field(c, helper->def, F_BODY);
    CHECK(cst_named_count(c, body) == 3);  // the docstring, z = ..., return
    CHECK(program_cst(cx, mo) == c);       // once
    ffq_ctx_free(cx);
}

// When the whole tree's records are not the outline's (a body the full parse
// reads differently), the records are found by their places in it; when
// even that fails, the outline stays and no function body of the module is
// converted.
static void test_outline_disagrees(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    // tree-sitter reads `y = 2` as a module-level statement: one more binding
    const char *more = "import os\ndef f():\n    return 1\n  y = 2\nz = 3\ndef g(): pass\n";
    SrcFile *file = srcfile_new(cx, "m.py", more, strlen(more));
    Module *m = program_load(cx, file, source_parse_outline(cx, file), "m");
    CHECK(m->cst->outline && m->bindings.len == 4);
    Cst *c = program_cst(cx, m);
    CHECK(!c->outline);
    FuncInfo *g = program_function(m, "g");
    CHECK(g && c->nodes[g->def].kind == K_FUNCTION_DEF && cst_text_is(c, cst_field(c, g->def, F_NAME), "g"));
    const Binding *z = program_binding(m, "z");
    CHECK(z && c->nodes[z->node].start == (uint32_t)(strstr(more, "z = 3") - more));
    // `else:` with no `if`: the full tree loses `z = 3`
    const char *less = "import os\ndef f():\n    else:\n        pass\nz = 3\ndef g():\n    return os.sep\n";
    file = srcfile_new(cx, "n.py", less, strlen(less));
    m = program_load(cx, file, source_parse_outline(cx, file), "n");
    CHECK(m->cst->outline && program_binding(m, "z"));
    c = program_cst(cx, m);
    CHECK(c->outline && c == m->cst);
    g = program_function(m, "g");
    CHECK(g && rewrite_function(cx, g, NULL, NULL) == NULL);
    ffq_ctx_free(cx);
}

int main(void) {
    test_qualnames();
    test_outline_disagrees();
    test_outline_records();
    test_module_classes();
    test_locals();
    return check_report("test_program");
}
