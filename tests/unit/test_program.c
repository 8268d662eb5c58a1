// Unit tests of program.c: bindings, qualified names, nn.Module detection.
#include "ffq_int.h"
#include "program.h"

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

int main(void) {
    test_qualnames();
    test_module_classes();
    test_locals();
    return check_report("test_program");
}
