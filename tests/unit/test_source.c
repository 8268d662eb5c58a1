// Unit tests of source.c: the flat CST (contiguous children, fields, kinds)
// and syntax diagnostics.
#include "ffq_int.h"

#include "check.h"

static void test_flat_tree(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *src = "def f(x):\n    return g(x, y=1)\n";
    Cst *c = source_parse_text(cx, "t.py", src, strlen(src), true);
    CHECK(c != NULL && !c->has_errors);
    CHECK(c->nodes[0].kind == K_MODULE);
    uint32_t def = cst_named_child(c, 0, 0);
    CHECK(c->nodes[def].kind == K_FUNCTION_DEF);
    CHECK(cst_text_is(c, cst_field(c, def, F_NAME), "f"));
    uint32_t body = cst_field(c, def, F_BODY);
    CHECK(c->nodes[body].kind == K_BLOCK);
    uint32_t ret = cst_named_child(c, body, 0);
    CHECK(c->nodes[ret].kind == K_RETURN);
    uint32_t call = cst_named_child(c, ret, 0);
    CHECK(c->nodes[call].kind == K_CALL);
    CHECK(cst_text_is(c, cst_field(c, call, F_FUNCTION), "g"));
    uint32_t args = cst_field(c, call, F_ARGUMENTS);
    CHECK(cst_named_count(c, args) == 2);
    CHECK(c->nodes[cst_named_child(c, args, 1)].kind == K_KEYWORD_ARGUMENT);
    // children are contiguous and their parent is the node
    for (uint32_t i = 0; i < c->count; i++)
        for (uint32_t k = 0; k < c->nodes[i].nchildren; k++)
            CHECK(c->nodes[c->nodes[i].first_child + k].parent == i);
    CHECK(cst_token(c, ret, "return") != CST_NONE);
    ffq_ctx_free(cx);
}

// Every parent/child link agrees and every child lies within its parent, in order.
static void check_links(const Cst *c) {
    for (uint32_t i = 0; i < c->count; i++) {
        uint32_t at = c->nodes[i].start;
        for (uint32_t k = 0; k < c->nodes[i].nchildren; k++) {
            const CstNode *ch = &c->nodes[c->nodes[i].first_child + k];
            CHECK(ch->parent == i);
            CHECK(c->nodes[i].first_child > i);  // after the parent: passes walk the array backwards
            CHECK(ch->start >= at && ch->end <= c->nodes[i].end);
            at = ch->end;
        }
    }
}

// The text of the starred expression of the first list_splat in the file, or "".
static const char *first_splat(ffq_ctx *cx, const Cst *c) {
    for (uint32_t i = 0; i < c->count; i++)
        if (c->nodes[i].kind == K_LIST_SPLAT) return cst_strdup(cx, c, cst_named_child(c, i, 0));
    return "";
}

// tree-sitter-python puts the star of a lone starred element on its leftmost name
// (`[*y.size()]` as `(*y).size()`); the tree is repaired so that it covers the element.
static void test_starred_element_repaired(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    static const char *const cases[][2] = {
        {"a = [*y.size()]\n", "y.size()"},
        {"a = [*y.size()[:-1]]\n", "y.size()[:-1]"},
        {"a = {*y.shape}\n", "y.shape"},
        {"a = [*y.x + 1]\n", "y.x + 1"},
        {"a = *  y.shape[0], 2\n", "y.shape[0]"},
        {"a = x[*y().z]\n", "y().z"},
        {"a = [*y]\n", "y"},
        {"f(*y.x)\n", "y.x"},
        {"a = [1, *y.x(2)]\n", "y.x(2)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Cst *c = source_parse_text(cx, "t.py", cases[i][0], strlen(cases[i][0]), true);
        CHECK(c != NULL && !c->has_errors);
        check_links(c);
        CHECK_EQ_STR(first_splat(cx, c), cases[i][1]);
    }
    // the repaired call: its function is an attribute of y, not of a list_splat
    const char *src = "a = [*y.size()]\n";
    Cst *c = source_parse_text(cx, "t.py", src, strlen(src), true);
    uint32_t splat = CST_NONE;
    for (uint32_t i = 0; i < c->count && splat == CST_NONE; i++)
        if (c->nodes[i].kind == K_LIST_SPLAT) splat = i;
    uint32_t call = cst_named_child(c, splat, 0);
    CHECK(c->nodes[call].kind == K_CALL);
    CHECK(c->nodes[c->nodes[splat].parent].kind == K_LIST);
    uint32_t fn = cst_field(c, call, F_FUNCTION);
    CHECK(c->nodes[fn].kind == K_ATTRIBUTE);
    CHECK(c->nodes[cst_field(c, fn, F_OBJECT)].kind == K_IDENTIFIER);
    CHECK(cst_text_is(c, cst_field(c, fn, F_OBJECT), "y"));
    CHECK(cst_token(c, splat, "*") != CST_NONE);
    ffq_ctx_free(cx);
}

static void test_syntax_errors_reported(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *src = "x = (1 +\ny = 2\n";
    SrcFile *f = srcfile_new(cx, "bad.py", src, strlen(src));
    Cst *c = source_parse(cx, f);
    CHECK(c != NULL && c->has_errors);
    CHECK_CONTAINS(ffq_diagnostics(cx), "bad.py:1:");
    CHECK_CONTAINS(ffq_diagnostics(cx), "[syntax-error]");
    ffq_ctx_free(cx);
}

static void test_linecol(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    SrcFile *f = srcfile_new(cx, "a.py", "ab\ncd\n", 6);
    uint32_t l, col;
    srcfile_linecol(f, 4, &l, &col);
    CHECK(l == 2 && col == 2);
    srcfile_linecol(f, 0, &l, &col);
    CHECK(l == 1 && col == 1);
    ffq_ctx_free(cx);
}

// Same node, children included, in both trees (node ids may differ).
static bool same_tree(const Cst *a, uint32_t i, const Cst *b, uint32_t j) {
    const CstNode *x = &a->nodes[i], *y = &b->nodes[j];
    if (x->start != y->start || x->end != y->end || x->kind != y->kind || x->sym != y->sym ||
        x->field != y->field || x->named != y->named || x->nchildren != y->nchildren)
        return false;
    for (uint32_t k = 0; k < x->nchildren; k++)
        if (!same_tree(a, x->first_child + k, b, y->first_child + k)) return false;
    return true;
}

// cst_concat: the tree of head + body made from the trees of the two is the
// tree of parsing the whole text, node for node; children stay contiguous.
static void test_concat(void) {
    static const char *const heads[] = {
        "", "\n\n", "from __future__ import annotations\n\nimport torch\nfrom a import (b,\n    c)\n\n\n",
        "# leading comment\nimport x  # trailing\n\n"};
    static const char *const bodies[] = {
        "", "x = 1\n", "# first\n@dec\nclass A(B):\n    def f(self):\n        return g(1)  # c\n\n\nclass C: ...\n",
        "def h(a, *, b=2):\n    if a:\n        return [i for i in b]\n    # tail\n"};
    for (size_t i = 0; i < sizeof heads / sizeof *heads; i++)
        for (size_t k = 0; k < sizeof bodies / sizeof *bodies; k++) {
            ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
            char text[1024];
            snprintf(text, sizeof text, "%s%s", heads[i], bodies[k]);
            size_t hl = strlen(heads[i]), n = strlen(text);
            Cst *h = source_parse_text(cx, "h", heads[i], hl, false);
            Cst *b = source_parse_text(cx, "b", bodies[k], strlen(bodies[k]), false);
            Cst *whole = source_parse_text(cx, "w", text, n, false);
            Cst *c = cst_concat(cx, srcfile_new(cx, "w", text, n), h, b, (uint32_t)hl);
            CHECK(c->count == whole->count && !c->has_errors);
            CHECK(same_tree(c, 0, whole, 0));
            for (uint32_t j = 0; j < c->count; j++)
                for (uint32_t m = 0; m < c->nodes[j].nchildren; m++)
                    CHECK(c->nodes[c->nodes[j].first_child + m].parent == j);
            ffq_ctx_free(cx);
        }
}

// The outline leaves function bodies, parameters and the inside of
// brackets and strings of assignments out; its nodes keep the file's offsets.
static void test_outline(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *src =
        "\"\"\"Doc with def fake(: and ( brackets\"\"\"\n"
        "import os\n"
        "TABLE = {\n    'a': [1, 2],\n    \"b\": f\"{os.sep!r:>{3}}\",\n}\n"
        "def f(x: int = (1, 2), *a, **k) -> dict[str, int]:\n"
        "    s = '''\n  def inner(:\n'''\n"
        "# a comment at column 0 inside the body\n"
        "    return x + \\\n        1\n"
        "class A(os.PathLike):\n"
        "    run = f\n"
        "    def g(self): return 1\n";
    SrcFile *file = srcfile_new(cx, "m.py", src, strlen(src));
    Cst *o = source_parse_outline(cx, file), *full = source_parse(cx, file);
    CHECK(o != NULL && o->outline && !o->has_errors && o->file == file);
    CHECK(o && o->count < full->count);
    uint32_t def = o ? cst_named_child(o, 0, 3) : 0;  // docstring, import, TABLE, def f
    CHECK(o && o->nodes[def].kind == K_FUNCTION_DEF && cst_text_is(o, cst_field(o, def, F_NAME), "f"));
    uint32_t body = o ? cst_field(o, def, F_BODY) : 0;
    CHECK(o && cst_named_count(o, body) == 1);  // `...`, where `s = ...` starts
    CHECK(o && o->nodes[body].start == (uint32_t)(strstr(src, "s = '''") - src));
    uint32_t cls = o ? cst_named_child(o, 0, 4) : 0;
    CHECK(o && o->nodes[cls].kind == K_CLASS_DEF &&
          cst_text_is(o, cst_field(o, cls, F_SUPERCLASSES), "(os.PathLike)"));
    // not outlined: tabs, an unterminated string, an unbalanced bracket
    const char *bad[] = {"def f():\n\treturn 1\n", "x = '''\n", "def f():\n    return (1\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(source_parse_outline(cx, srcfile_new(cx, "b.py", bad[i], strlen(bad[i]))) == NULL);
    // nor a line whose operators could nest deeper than the passes walk (its
    // inside would be left out of the outline, not out of the full tree)
    StrBuf chain = {0};
    sb_puts(cx, &chain, "X = (1");
    for (int i = 0; i < 1100; i++) sb_puts(cx, &chain, " + 1");
    sb_puts(cx, &chain, ")\n");
    CHECK(source_parse_outline(cx, srcfile_new(cx, "c.py", chain.data, chain.len)) == NULL);
    chain.len = 0;
    sb_puts(cx, &chain, "X = (1");
    for (int i = 0; i < 900; i++) sb_puts(cx, &chain, " + 1");
    sb_puts(cx, &chain, ")\n");
    CHECK(source_parse_outline(cx, srcfile_new(cx, "c.py", chain.data, chain.len)) != NULL);
    ffq_ctx_free(cx);
}

// tree-sitter's memory comes from each context's pool (tspool.c), reset
// after every parse: parses of one context after a larger one (more than
// the pool keeps, and a module whose child list is above the largest size
// class), interleaved with another context's, give the same trees.
static bool same_nodes(const Cst *a, const Cst *b) {
    if (a->count != b->count) return false;
    for (uint32_t i = 0; i < a->count; i++)
        if (a->nodes[i].start != b->nodes[i].start || a->nodes[i].end != b->nodes[i].end ||
            a->nodes[i].kind != b->nodes[i].kind || a->nodes[i].parent != b->nodes[i].parent)
            return false;
    return true;
}

static void test_pool_reuse(void) {
    enum { N = 30000 };
    StrBuf big = {0};
    ffq_ctx *a = ffq_ctx_new(NULL, NULL), *b = ffq_ctx_new(NULL, NULL);
    for (int i = 0; i < N; i++) sb_printf(a, &big, "x%d = f(%d, [y, 'z'])\n", i, i);
    const char *small = "class C(nn.Module):\n    def forward(self, x):\n        return x + 1\n";
    Cst *big1 = source_parse_text(a, "big.py", big.data, big.len, true);
    Cst *small1 = source_parse_text(a, "s.py", small, strlen(small), true);
    Cst *other = source_parse_text(b, "s.py", small, strlen(small), true);
    Cst *big2 = source_parse_text(a, "big.py", big.data, big.len, true);
    Cst *small2 = source_parse_text(a, "s.py", small, strlen(small), true);
    CHECK(big1 && !big1->has_errors && cst_named_count(big1, 0) == N);
    CHECK(big1 && big2 && same_nodes(big1, big2));
    CHECK(small1 && small2 && other && !small1->has_errors);
    CHECK(small1 && small2 && other && same_nodes(small1, small2) && same_nodes(small1, other));
    ffq_ctx_free(b);
    ffq_ctx_free(a);
}

int main(void) {
    test_flat_tree();
    test_starred_element_repaired();
    test_concat();
    test_outline();
    test_syntax_errors_reported();
    test_linecol();
    test_pool_reuse();
    return check_report("test_source");
}
