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

int main(void) {
    test_flat_tree();
    test_syntax_errors_reported();
    test_linecol();
    return check_report("test_source");
}
