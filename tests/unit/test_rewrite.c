// Unit tests of rewrite.c, through small compilations: naming (§3), creation
// order, stub placement (§2) and the producers that reach a use.
#include "ffq_int.h"

#include "check.h"

static const char *compile(ffq_ctx *cx, const char *src) {
    ffq_options opt = ffq_options_default();
    opt.module_name = "m";
    if (ffq_compile_buffer(cx, "m.py", src, strlen(src), &opt) != FFQ_OK) {
        fprintf(stderr, "%s", ffq_diagnostics(cx));
        return NULL;
    }
    return ffq_output(cx, NULL);
}

#define HEAD "import torch\n\nclass M(torch.nn.Module):\n    def forward(self, x, y):\n"

static void test_suffixes_for_repeated_names(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        a = torch.relu(x)\n        b = torch.relu(y)\n"
                                       "        return a + b\n");
    CHECK_CONTAINS(out, "self.quantizer_relu_1: fastforward.nn.Quantizer");
    CHECK_CONTAINS(out, "self.quantizer_relu_2: fastforward.nn.Quantizer");
    CHECK_CONTAINS(out, "self.quantizer_add: fastforward.nn.Quantizer");
    // op quantizers first, parameters last (§3.3)
    CHECK(strstr(out, "quantizer_relu_1:") < strstr(out, "quantizer_add:"));
    CHECK(strstr(out, "quantizer_add:") < strstr(out, "quantizer_x:"));
    ffq_ctx_free(cx);
}

static void test_reassignment_new_producer(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        h = x.exp()\n        z = h * y\n"
                                       "        h = x.abs()\n        return h - z\n");
    CHECK_CONTAINS(out, "h = self.quantizer_h_1(h)");
    CHECK_CONTAINS(out, "h = self.quantizer_h_2(h)");
    ffq_ctx_free(cx);
}

static void test_literals_not_quantized(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        return x * 2 + (-1 + 3)\n");
    CHECK_CONTAINS(out, "fastforward.nn.functional.mul(x, 2");
    CHECK(strstr(out, "quantizer_y") == NULL);  // y unused
    ffq_ctx_free(cx);
}

static void test_helper_variable_named_quantizer(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out =
        compile(cx, HEAD "        quantizer_a = x.exp()\n        return torch.relu(quantizer_a)\n");
    CHECK_CONTAINS(out, "self.quantizer_a(quantizer_a)");  // no quantizer_quantizer_a
    ffq_ctx_free(cx);
}

static void test_ident_of_expressions(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        return torch.relu(x.T) + torch.relu([y])\n");
    CHECK_CONTAINS(out, "x_T = self.quantizer_x_T(x.T)");
    CHECK_CONTAINS(out, "self.quantizer__y([y])");
    ffq_ctx_free(cx);
}

static size_t count_of(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle)) n++;
    return n;
}

// §2.4: a nested block's shared temporary is numbered first; the block around it then takes
// the smallest number none of its `_tmp_` names (the nested one included) uses.
static void test_shared_numbering_nested_first(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        if y is None:\n            z = x[0] * x[0]\n"
                                       "        else:\n            z = x\n"
                                       "        return z + x[1] * x[1]\n");
    CHECK_CONTAINS(out, "            _tmp_1 = self.quantizer_x_0(x[0])\n            z = ");
    CHECK_CONTAINS(out, "_tmp_1 = fastforward.nn.functional.mul(\n            _tmp_2, _tmp_2,");
    CHECK_CONTAINS(out, "        _tmp_2 = self.quantizer_x_1(x[1])\n        _tmp_1 = ");
    CHECK(count_of(out, "self.quantizer_x_0(") == 1);
    CHECK(count_of(out, "self.quantizer_x_1(") == 1);
    ffq_ctx_free(cx);
}

// §2.4: a store into a subscript between two reads ends a run; the reads after it share.
static void test_shared_run_split_by_store(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, HEAD "        a = x[0] * 2\n        x[0] = a\n"
                                       "        b = x[0] * 3\n        return b - x[0]\n");
    CHECK_CONTAINS(out, "mul(\n            self.quantizer_x_0(x[0]), 2,");
    CHECK_CONTAINS(out, "x[0] = a\n        _tmp_1 = self.quantizer_x_0(x[0])\n        b = ");
    CHECK_CONTAINS(out, "sub(b, _tmp_1,");
    CHECK(count_of(out, "self.quantizer_x_0(") == 2);
    ffq_ctx_free(cx);
}

// §2.4: helpers' quantizers are not `self.` calls; their repeated calls stay.
static void test_shared_only_in_methods(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *out = compile(cx, "import torch\n\ndef helper(x):\n    return x[0] * x[0]\n\n"
                                  "class M(torch.nn.Module):\n    def forward(self, x):\n"
                                  "        return helper(x)\n");
    CHECK(count_of(out, "quantizer_x_0(x[0])") == 2);
    CHECK(strstr(out, "_tmp_") == NULL);
    ffq_ctx_free(cx);
}

int main(void) {
    test_suffixes_for_repeated_names();
    test_reassignment_new_producer();
    test_literals_not_quantized();
    test_helper_variable_named_quantizer();
    test_ident_of_expressions();
    test_shared_numbering_nested_first();
    test_shared_run_split_by_store();
    test_shared_only_in_methods();
    return check_report("test_rewrite");
}
