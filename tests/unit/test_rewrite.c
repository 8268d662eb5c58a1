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
    const char *out = compile(cx, HEAD "        quantizer_a = x.exp()\n        return torch.relu(quantizer_a)\n");
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

int main(void) {
    test_suffixes_for_repeated_names();
    test_reassignment_new_producer();
    test_literals_not_quantized();
    test_helper_variable_named_quantizer();
    test_ident_of_expressions();
    return check_report("test_rewrite");
}
