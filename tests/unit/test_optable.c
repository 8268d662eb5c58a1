// test_optable.c: unit tests for optable.c (default table, schema parsing,
// overload selection, Python operators, error reporting, --list).
//
// Usage: test_optable [FIXTURE_DIR]   (FIXTURE_DIR defaults to tests/optable)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffq_int.h"
#include "optable.h"

static int passed, failed;

#define CHECK(e)                                                          \
    do {                                                                  \
        if (e) passed++;                                                  \
        else failed++, printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #e); \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                           \
    do {                                                                             \
        const char *a_ = (a), *b_ = (b);                                             \
        if (a_ && b_ && strcmp(a_, b_) == 0) passed++;                               \
        else failed++, printf("%s:%d: CHECK_EQ_STR failed: %s == %s (\"%s\" vs \"%s\")\n", \
                              __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)

static const char *fixture_dir = "tests/optable";

// A fresh context whose table is the default (optional) plus `yaml` as t.yaml.
static ffq_ctx *load(bool with_default, const char *yaml, bool *ok) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    cx->optable = optable_new(cx);
    bool good = true;
    if (with_default) good = optable_load_default(cx, cx->optable);
    if (yaml) good = optable_load_buffer(cx, cx->optable, "t.yaml", yaml, strlen(yaml)) && good;
    if (ok) *ok = good;
    return cx;
}

static const OpParam *param(const OpEntry *e, const char *name) {
    for (size_t i = 0; e && i < e->nparams; i++)
        if (strcmp(e->params[i].name, name) == 0) return &e->params[i];
    return NULL;
}

static const OpEntry *select0(const OpTable *t, const char *name, size_t npos) {
    return optable_select(t, name, npos, NULL, 0);
}

// Does a diagnostic line start with "t.yaml:L:C: error:" (L:C of the first
// occurrence of `needle` in `yaml`, plus `delta` bytes) and end with [code]?
static bool diag_at_needle(ffq_ctx *cx, const char *yaml, const char *needle, size_t delta,
                           const char *sev, const char *code) {
    const char *p = strstr(yaml, needle);
    if (!p) return false;
    p += delta;
    unsigned line = 1, col = 1;
    for (const char *q = yaml; q < p; q++) {
        if (*q == '\n') line++, col = 1;
        else col++;
    }
    char head[128], tail[128];
    snprintf(head, sizeof head, "t.yaml:%u:%u: %s:", line, col, sev);
    snprintf(tail, sizeof tail, "[%s]\n", code);
    const char *text = ffq_diagnostics(cx);
    for (const char *l = text; (l = strstr(l, head)) != NULL; l++) {
        const char *eol = strchr(l, '\n');
        if (eol && (size_t)(eol + 1 - l) >= strlen(tail) &&
            strncmp(eol + 1 - strlen(tail), tail, strlen(tail)) == 0)
            return true;
    }
    printf("  expected %s ... %s in:\n%s", head, tail, text);
    return false;
}

static void test_default_loads(void) {
    bool ok;
    ffq_ctx *cx = load(true, NULL, &ok);
    CHECK(ok);
    CHECK_EQ_STR(ffq_diagnostics(cx), "");
    CHECK(optable_count(cx->optable) >= 50);
    // the default table's rules: torch's fused attention fast paths off in generated code
    CHECK(optable_npatterns(cx->optable) == 4);
    CHECK(strstr(optable_pattern(cx->optable, 0)->rule, "why_not_fast_path = \"\"=>") != NULL);
    const char *known[] = {
        "torch.nn.functional.linear", "torch.relu", "torch.nn.functional.relu", "torch.conv2d",
        "torch.nn.functional.conv2d", "torch.conv_transpose3d", "torch.softmax", "torch.sigmoid",
        "torch.rms_norm", "torch.cat", "torch.full_like", "torch.nn.functional.interpolate",
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) CHECK(optable_has(cx->optable, known[i]));
    CHECK(!optable_has(cx->optable, "torch.zeros"));
    CHECK(!optable_has(cx->optable, "torch.nn.functional.bilinear"));
    CHECK(!optable_has(cx->optable, "relu"));
    ffq_ctx_free(cx);
}

static void test_lookup_and_slots(void) {
    ffq_ctx *cx = load(true, NULL, NULL);
    const OpTable *t = cx->optable;

    const OpEntry *lin = select0(t, "torch.nn.functional.linear", 3);
    CHECK(lin != NULL);
    if (lin) {
        CHECK_EQ_STR(lin->identifier, "linear");
        CHECK_EQ_STR(lin->dispatch, "fastforward.nn.functional.linear");
        CHECK(!lin->custom_dispatch);
        CHECK(lin->returns_quantized);
        CHECK(lin->nparams == 3);
        CHECK(param(lin, "input")->is_quantized);
        CHECK(param(lin, "weight")->is_quantized);
        CHECK(param(lin, "bias")->is_quantized);
        CHECK_EQ_STR(param(lin, "bias")->type_text, "Optional[MaybeQuantized]");
        CHECK_EQ_STR(param(lin, "bias")->default_text, "None");
        CHECK(param(lin, "input")->default_text == NULL);
        CHECK_EQ_STR(optable_canonical_name(lin), "linear");
        CHECK_EQ_STR(lin->file, "<default>");
    }
    const OpEntry *relu = select0(t, "torch.relu", 1);
    CHECK(relu && relu == select0(t, "torch.nn.functional.relu", 1));
    if (relu) CHECK_EQ_STR(optable_canonical_name(relu), "relu");
    const OpEntry *conv = select0(t, "torch.conv2d", 2);
    CHECK(conv && conv == select0(t, "torch.nn.functional.conv2d", 2));
    if (conv) {
        CHECK_EQ_STR(conv->identifier, "conv2d");
        CHECK_EQ_STR(param(conv, "padding")->type_text, "int | Size | str");
        CHECK(!param(conv, "padding")->is_quantized);
    }
    const OpEntry *cat = select0(t, "torch.cat", 1);
    CHECK(cat && !param(cat, "tensors")->is_quantized && cat->returns_quantized);
    if (cat) CHECK_EQ_STR(param(cat, "tensors")->type_text, "Sequence[Quantized]");
    const OpEntry *add = select0(t, "torch.add", 2);
    CHECK(add && param(add, "input")->is_quantized && param(add, "other")->is_quantized);
    CHECK(add && !param(add, "alpha")->is_quantized);
    if (add) CHECK_EQ_STR(param(add, "other")->type_text, "Quantized | float");
    const OpEntry *emb = select0(t, "torch.nn.functional.embedding", 2);
    CHECK(emb && !param(emb, "input")->is_quantized && param(emb, "weight")->is_quantized);
    const OpEntry *ln = select0(t, "torch.nn.functional.layer_norm", 2);
    CHECK(ln && param(ln, "weight")->is_quantized && !param(ln, "normalized_shape")->is_quantized);
    if (ln) CHECK_EQ_STR(param(ln, "normalized_shape")->type_text, "tuple[int, ...]");
    const OpEntry *interp = select0(t, "torch.nn.functional.interpolate", 1);
    CHECK(interp && !param(interp, "scale_factor")->is_quantized);
    const OpEntry *gelu = select0(t, "torch.nn.functional.gelu", 1);
    if (gelu) CHECK_EQ_STR(param(gelu, "approximate")->default_text, "none");  // string by value
    CHECK(gelu != NULL);
    ffq_ctx_free(cx);
}

static void test_overload_selection(void) {
    ffq_ctx *cx = load(true, NULL, NULL);
    const OpTable *t = cx->optable;
    const char *lin = "torch.nn.functional.linear";
    CHECK(select0(t, lin, 2) != NULL);
    CHECK(select0(t, lin, 1) == NULL);  // weight unbound
    CHECK(select0(t, lin, 4) == NULL);  // too many
    const char *kw_weight[] = {"weight"}, *kw_input[] = {"input"}, *kw_bad[] = {"scale"};
    const char *kw_wb[] = {"weight", "bias"}, *kw_ww[] = {"weight", "weight"};
    CHECK(optable_select(t, lin, 1, kw_weight, 1) != NULL);
    CHECK(optable_select(t, lin, 1, kw_wb, 2) != NULL);
    CHECK(optable_select(t, lin, 0, kw_wb, 2) == NULL);     // input unbound
    CHECK(optable_select(t, lin, 2, kw_input, 1) == NULL);  // input already bound
    CHECK(optable_select(t, lin, 2, kw_bad, 1) == NULL);    // no such parameter
    CHECK(optable_select(t, lin, 1, kw_ww, 2) == NULL);     // keyword twice
    CHECK(select0(t, "torch.zeros", 1) == NULL);
    // torch's own functions also take NumPy's names (axis for dim, x for input), once each;
    // torch.nn.functional's Python functions do not
    const char *kw_axis[] = {"axis"}, *kw_dim_axis[] = {"dim", "axis"}, *kw_x_axis[] = {"x", "axis"};
    const OpEntry *cat = optable_select(t, "torch.cat", 1, kw_axis, 1);
    CHECK(cat != NULL);
    if (cat) CHECK_EQ_STR(optable_keyword_param(cat, "axis"), "dim");
    if (cat) CHECK_EQ_STR(optable_keyword_param(cat, "dim"), "dim");
    if (cat) CHECK(optable_keyword_param(cat, "keepdims") == NULL);
    CHECK(optable_select(t, "torch.cat", 1, kw_dim_axis, 2) == NULL);  // dim bound twice
    CHECK(optable_select(t, "torch.softmax", 0, kw_x_axis, 2) != NULL);
    CHECK(optable_select(t, "torch.nn.functional.softmax", 1, kw_axis, 1) == NULL);
    ffq_ctx_free(cx);

    // A custom two-argument linear wins for linear(x, w) (newest first) but does
    // not match linear(x, w, b), which falls through to the default.
    const char *custom =
        "- op: 'linear(input: Quantized, weight: Quantized) -> Quantized'\n"
        "  fallback: torch.nn.functional.linear\n"
        "  dispatch: mypkg.ops.linear2\n";
    bool ok;
    cx = load(true, custom, &ok);
    CHECK(ok);
    const OpEntry *two = select0(cx->optable, lin, 2), *three = select0(cx->optable, lin, 3);
    CHECK(two && two->custom_dispatch && strcmp(two->dispatch, "mypkg.ops.linear2") == 0);
    CHECK(three && !three->custom_dispatch && three->nparams == 3);
    CHECK(two && strcmp(two->file, "t.yaml") == 0 && two->line == 1);
    CHECK_EQ_STR(optable_entry(cx->optable, optable_count(cx->optable) - 1)->dispatch,
                 "mypkg.ops.linear2");
    ffq_ctx_free(cx);
}

static void test_python_operators(void) {
    ffq_ctx *cx = load(true, NULL, NULL);
    const OpTable *t = cx->optable;
    static const struct {
        const char *op;
        bool unary;
        const char *fn;
    } ops[] = {
        {"+", false, "torch.add"}, {"-", false, "torch.sub"}, {"*", false, "torch.mul"},
        {"/", false, "torch.div"}, {"//", false, "torch.floor_divide"},
        {"%", false, "torch.remainder"}, {"**", false, "torch.pow"}, {"@", false, "torch.matmul"},
        {"<<", false, "torch.bitwise_left_shift"}, {">>", false, "torch.bitwise_right_shift"},
        {"&", false, "torch.bitwise_and"}, {"|", false, "torch.bitwise_or"},
        {"^", false, "torch.bitwise_xor"}, {"~", true, "torch.bitwise_not"},
        {"-", true, "torch.negative"}, {"+", true, "torch.positive"},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const char *fn = optable_operator_fallback(t, ops[i].op, ops[i].unary);
        CHECK_EQ_STR(fn, ops[i].fn);
        CHECK(fn && optable_has(t, fn));
        const OpEntry *e = fn ? select0(t, fn, ops[i].unary ? 1 : 2) : NULL;
        CHECK(e != NULL);
    }
    const char *never[] = {"<", "==", "in", "is", "and", "or", "not"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        CHECK(optable_operator_fallback(t, never[i], false) == NULL);
        CHECK(optable_operator_fallback(t, never[i], true) == NULL);
    }
    CHECK(optable_operator_fallback(t, "~", false) == NULL);
    CHECK(optable_operator_fallback(t, "*", true) == NULL);
    CHECK(optable_operator_fallback(t, NULL, false) == NULL);
    ffq_ctx_free(cx);

    // A later table overrides a mapping.
    cx = load(true, "python_operators:\n  \"@\": mypkg.matmul\n", NULL);
    CHECK_EQ_STR(optable_operator_fallback(cx->optable, "@", false), "mypkg.matmul");
    CHECK_EQ_STR(optable_operator_fallback(cx->optable, "+", false), "torch.add");
    ffq_ctx_free(cx);
}

// The tutorial's custom bilinear entry, with an ffq `dispatch:` key.
static void test_bilinear_dispatch(void) {
    const char *yaml =
        "operators:\n"
        "  - op: >-\n"
        "      bilinear(input1: Quantized, input2: Quantized, weight: Quantized,\n"
        "      bias: Optional[MaybeQuantized] = None) -> Quantized\n"
        "    fallback: torch.nn.functional.bilinear\n"
        "    dispatch: __main__.my_quantized_bilinear\n"
        "    cast_output: true\n";
    bool ok;
    ffq_ctx *cx = load(true, yaml, &ok);
    CHECK(ok);
    CHECK_EQ_STR(ffq_diagnostics(cx), "");
    const OpEntry *e = select0(cx->optable, "torch.nn.functional.bilinear", 4);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_STR(e->dispatch, "__main__.my_quantized_bilinear");
        CHECK(e->custom_dispatch && e->returns_quantized && e->nparams == 4);
        CHECK(param(e, "input1")->is_quantized && param(e, "weight")->is_quantized);
        CHECK(param(e, "bias")->is_quantized && param(e, "bias")->default_text);
        CHECK_EQ_STR(optable_canonical_name(e), "bilinear");
        CHECK(e->line == 2);
    }
    CHECK(select0(cx->optable, "torch.nn.functional.bilinear", 2) == NULL);
    ffq_ctx_free(cx);
}

static void test_schema_forms(void) {
    const char *yaml =
        "- op: 'f(a: Union[Quantized, int], b: Optional[Quantized | float] = None,"
        " c: list[Quantized] = [], d: Tuple[int, int] = (1, 2), e: torch.Tensor = None,"
        " *, g: str = \"a,b)\", h: object = ..., i: Number = 1,) -> tuple[Quantized, int]'\n"
        "  fallback: mypkg.f\n"
        "  intermediate_quantizers: [mid, last]\n"
        "- op: 'g(x: Tensor)'\n"
        "  fallback: mypkg.g\n";
    bool ok;
    ffq_ctx *cx = load(false, yaml, &ok);
    CHECK(ok);
    CHECK(diag_at_needle(cx, yaml, "*, g", 0, "warning", "optable-param-marker"));
    const OpEntry *f = select0(cx->optable, "mypkg.f", 1);
    CHECK(f && f->nparams == 8 && f->returns_quantized && f->nintermediates == 2);
    if (f) {
        CHECK(param(f, "a")->is_quantized && param(f, "b")->is_quantized);
        CHECK(!param(f, "c")->is_quantized && !param(f, "d")->is_quantized);
        CHECK(!param(f, "e")->is_quantized);
        CHECK_EQ_STR(param(f, "b")->type_text, "Optional[Quantized | float]");
        CHECK_EQ_STR(param(f, "d")->default_text, "(1, 2)");
        CHECK_EQ_STR(param(f, "g")->default_text, "a,b)");
        CHECK_EQ_STR(param(f, "h")->default_text, "...");
        CHECK_EQ_STR(f->intermediates[1], "last");
        CHECK_EQ_STR(f->dispatch, "fastforward.nn.functional.f");
    }
    const OpEntry *g = select0(cx->optable, "mypkg.g", 1);
    CHECK(g && !g->returns_quantized);
    ffq_ctx_free(cx);
}

static void test_identity_without_default(void) {
    const char *yaml =
        "- op: 'conv2d(input: Quantized, weight: Quantized) -> Quantized'\n"
        "  fallback: torch.nn.functional.conv2d\n";
    ffq_ctx *cx = load(false, yaml, NULL);
    CHECK(optable_has(cx->optable, "torch.conv2d"));
    CHECK(!optable_has(cx->optable, "torch.conv1d"));
    CHECK(optable_operator_fallback(cx->optable, "+", false) == NULL);
    ffq_ctx_free(cx);
}

// Overload sets: entries with the same fallback (or one of its names) are fine.
static void test_same_fallback_is_overload(void) {
    const char *yaml =
        "- op: 'relu(input: Quantized, inplace: bool) -> Quantized'\n"
        "  fallback: torch.nn.functional.relu\n"
        "  aliases: [torch.relu]\n"
        "- op: 'relu(input: Quantized, inplace: bool, extra: int) -> Quantized'\n"
        "  fallback: torch.relu\n";
    bool ok;
    ffq_ctx *cx = load(true, yaml, &ok);
    CHECK(ok);
    CHECK_EQ_STR(ffq_diagnostics(cx), "");
    // one argument: only the default entry, relu(input, inplace = False), matches
    const OpEntry *one = select0(cx->optable, "torch.nn.functional.relu", 1);
    CHECK(one->nparams == 2 && one->params[1].default_text);
    CHECK(select0(cx->optable, "torch.nn.functional.relu", 2)->nparams == 2);
    CHECK(select0(cx->optable, "torch.nn.functional.relu", 3)->nparams == 3);
    ffq_ctx_free(cx);
}

static void test_errors(void) {
    bool ok;
    ffq_ctx *cx;

    const char *bad_yaml = "- op: 'relu(input: Quantized)'\n  fallback: [torch.relu\n";
    cx = load(false, bad_yaml, &ok);
    CHECK(!ok && strstr(ffq_diagnostics(cx), "t.yaml:3:1: error: malformed YAML"));
    CHECK(strstr(ffq_diagnostics(cx), "[optable-yaml]"));
    ffq_ctx_free(cx);

    const char *missing = "- op: 'f(x: Quantized) -> Quantized'\n- fallback: torch.g\n";
    cx = load(false, missing, &ok);
    CHECK(!ok);
    CHECK(diag_at_needle(cx, missing, "op:", 0, "error", "optable-missing-key"));
    CHECK(diag_at_needle(cx, missing, "fallback:", 0, "error", "optable-missing-key"));
    CHECK(strstr(ffq_diagnostics(cx), "no 'fallback' key") && strstr(ffq_diagnostics(cx), "no 'op' key"));
    ffq_ctx_free(cx);

    const char *unknown_type =
        "- op: \"f(x: Quantized, y: Tensr, z: Optional[Foo.Bar] = None) -> Quantized\"\n"
        "  fallback: mypkg.f\n";
    cx = load(false, unknown_type, &ok);
    CHECK(!ok);
    CHECK(diag_at_needle(cx, unknown_type, "Tensr", 0, "error", "optable-unknown-type"));
    CHECK(diag_at_needle(cx, unknown_type, "Foo.Bar", 0, "error", "optable-unknown-type"));
    CHECK(!optable_has(cx->optable, "mypkg.f"));
    ffq_ctx_free(cx);

    // Non-ASCII text earlier on the line: columns count bytes.
    const char *utf8 = "- {cast_output: \"\xc3\xa9\xc3\xa9\", op: 'f(x: Foo)', fallback: mypkg.f}\n";
    cx = load(false, utf8, &ok);
    CHECK(!ok && diag_at_needle(cx, utf8, "Foo", 0, "error", "optable-unknown-type"));
    ffq_ctx_free(cx);

    const char *dup_alias =
        "- op: 'myrelu(input: Quantized) -> Quantized'\n"
        "  fallback: mypkg.relu\n"
        "  aliases: [mypkg.relu2, torch.sigmoid]\n"
        "- op: 'exp(input: Quantized) -> Quantized'\n"
        "  fallback: mypkg.exp\n";
    cx = load(true, dup_alias, &ok);
    CHECK(!ok);
    CHECK(diag_at_needle(cx, dup_alias, "torch.sigmoid", 0, "error", "optable-duplicate-alias"));
    CHECK(!optable_has(cx->optable, "mypkg.relu") && !optable_has(cx->optable, "mypkg.exp"));
    CHECK(!optable_has(cx->optable, "mypkg.relu2"));
    ffq_ctx_free(cx);

    // An alias of one entry of this file that is another entry's fallback.
    const char *dup_alias2 =
        "- op: 'a(input: Quantized) -> Quantized'\n"
        "  fallback: mypkg.a\n"
        "- op: 'b(input: Quantized) -> Quantized'\n"
        "  fallback: mypkg.b\n"
        "  aliases:\n"
        "    - mypkg.a\n";
    cx = load(false, dup_alias2, &ok);
    CHECK(!ok && diag_at_needle(cx, dup_alias2, "- mypkg.a", 2, "error", "optable-duplicate-alias"));
    ffq_ctx_free(cx);

    const char *bad_schema =
        "- op: 'f(x: Quantized'\n"
        "  fallback: mypkg.f\n"
        "- op: 'g(x, y: int)'\n"
        "  fallback: mypkg.g\n"
        "- op: 'h(x: int[3])'\n"
        "  fallback: mypkg.h\n"
        "- op: 'k(x: Optional)'\n"
        "  fallback: mypkg.k\n"
        "- op: 'm(x: int) extra'\n"
        "  fallback: mypkg.m\n"
        "- op: 'n(*args: int)'\n"
        "  fallback: mypkg.n\n"
        "- op: 'p(x: int, x: int)'\n"
        "  fallback: mypkg.p\n"
        "- op: [1, 2]\n"
        "  fallback: mypkg.q\n";
    cx = load(false, bad_schema, &ok);
    CHECK(!ok);
    CHECK(diag_at_needle(cx, bad_schema, "Quantized'", 9, "error", "optable-bad-schema"));
    CHECK(diag_at_needle(cx, bad_schema, "x, y", 0, "error", "optable-bad-schema"));
    CHECK(strstr(ffq_diagnostics(cx), "parameter 'x' has no type annotation"));
    CHECK(diag_at_needle(cx, bad_schema, "[3]", 0, "error", "optable-bad-schema"));
    CHECK(diag_at_needle(cx, bad_schema, "Optional)", 0, "error", "optable-bad-schema"));
    CHECK(diag_at_needle(cx, bad_schema, "extra", 0, "error", "optable-bad-schema"));
    CHECK(diag_at_needle(cx, bad_schema, "*args", 0, "error", "optable-bad-schema"));
    CHECK(diag_at_needle(cx, bad_schema, "x: int)'\n  fallback: mypkg.p", 0, "error", "optable-bad-schema"));
    CHECK(diag_at_needle(cx, bad_schema, "[1, 2]", 0, "error", "optable-bad-schema"));
    ffq_ctx_free(cx);

    const char *unknown_key =
        "- op: 'f(x: Quantized) -> Quantized'\n"
        "  fallbak: mypkg.f\n"
        "  aliases: mypkg.g\n"
        "  dispatch: not a name\n";
    cx = load(false, unknown_key, &ok);
    CHECK(!ok);
    CHECK(diag_at_needle(cx, unknown_key, "fallbak", 0, "error", "optable-unknown-key"));
    CHECK(diag_at_needle(cx, unknown_key, "op:", 0, "error", "optable-missing-key"));
    CHECK(diag_at_needle(cx, unknown_key, "mypkg.g", 0, "error", "optable-bad-value"));
    CHECK(diag_at_needle(cx, unknown_key, "not a name", 0, "error", "optable-bad-value"));
    ffq_ctx_free(cx);

    const char *top =
        "operators: []\n"
        "python_operators:\n"
        "  \"<\": torch.lt\n"
        "  \"+\": torch.add\n"
        "  \"+\": torch.add\n"
        "patterns:\n"
        "  - no arrow here\n"
        "  - {pattern: a, replace: b}\n"
        "operator: []\n";
    cx = load(false, top, &ok);
    CHECK(!ok);
    CHECK(diag_at_needle(cx, top, "\"<\"", 0, "error", "optable-bad-operator"));
    CHECK(diag_at_needle(cx, top, "\"+\": torch.add\n  \"+\"", 17, "error", "optable-duplicate-key"));
    CHECK(diag_at_needle(cx, top, "no arrow", 0, "error", "optable-bad-pattern"));
    CHECK(diag_at_needle(cx, top, "replace:", 0, "error", "optable-unknown-key"));
    CHECK(diag_at_needle(cx, top, "operator:", 0, "error", "optable-unknown-key"));
    ffq_ctx_free(cx);

    const char *scalar_root = "just a string\n";
    cx = load(false, scalar_root, &ok);
    CHECK(!ok && diag_at_needle(cx, scalar_root, "just", 0, "error", "optable-yaml"));
    ffq_ctx_free(cx);

    const char *yaml_alias = "- &a {op: 'f(x: int)', fallback: m.f}\n- *a\n";
    cx = load(false, yaml_alias, &ok);
    CHECK(!ok && diag_at_needle(cx, yaml_alias, "*a", 0, "error", "optable-yaml"));
    ffq_ctx_free(cx);

    // Empty tables are fine.
    cx = load(false, "", &ok);
    CHECK(ok && optable_count(cx->optable) == 0);
    ffq_ctx_free(cx);
    cx = load(false, "# nothing\n---\n", &ok);
    CHECK(ok && optable_count(cx->optable) == 0);
    ffq_ctx_free(cx);
}

static void test_patterns(void) {
    const char *yaml =
        "patterns:\n"
        "  - \"torch.nn.functional.{func}({a}, {b})=>my_own.{func}({a}, {b})\"\n"
        "  - pattern: torch.sigmoid({x})\n"
        "    replacement: my_own.sigmoid({x})\n"
        "  - pattern: torch.tanh({x})\n"
        "    replacement: my_own.tanh({x})\n"
        "    on: pkg.model\n";
    bool ok;
    ffq_ctx *cx = load(true, yaml, &ok);
    CHECK(ok);
    CHECK(optable_npatterns(cx->optable) == 7);  // the default table's four, then these
    const TablePattern *p0 = optable_pattern(cx->optable, 4), *p1 = optable_pattern(cx->optable, 5);
    CHECK(p0->on == NULL && p1->on == NULL);
    CHECK_EQ_STR(optable_pattern(cx->optable, 6)->on, "pkg.model");
    CHECK_EQ_STR(optable_pattern(cx->optable, 0)->on, "torch.nn.modules");
    CHECK_EQ_STR(p0->rule, "torch.nn.functional.{func}({a}, {b})=>my_own.{func}({a}, {b})");
    CHECK_EQ_STR(p1->rule, "torch.sigmoid({x})=>my_own.sigmoid({x})");
    uint32_t line, col;
    srcfile_linecol(p1->file, p1->offset, &line, &col);
    CHECK(line == 3 && col == 5);
    CHECK_EQ_STR(p0->file->path, "t.yaml");
    ffq_ctx_free(cx);
}

static void test_render_and_run(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    CHECK(ffq_optable_run(cx, NULL, 0, false, true) == FFQ_OK);
    size_t len;
    const char *out = ffq_output(cx, &len);
    CHECK(out && len == strlen(out));
    size_t lines = 0;
    for (const char *p = out; p && *p; p++) lines += *p == '\n';
    CHECK(lines == optable_count(cx->optable));
    CHECK(out && strncmp(out, "linear\tlinear(input: Quantized, weight: Quantized, bias: "
                              "Optional[MaybeQuantized] = None) -> Quantized\t"
                              "torch.nn.functional.linear\t-\tfastforward.nn.functional.linear\n",
                         160) == 0);
    CHECK(out && strstr(out, "\ttorch.nn.functional.relu\ttorch.relu\tfastforward.nn.functional.relu\n"));
    ffq_ctx_free(cx);

    // A block-scalar schema still renders on one line.
    const char *block =
        "- op: |\n"
        "    f(x: Quantized,\n"
        "      y: int) -> Quantized\n"
        "  fallback: mypkg.f\n"
        "  aliases: [mypkg.g, mypkg.h]\n";
    cx = load(false, block, NULL);
    StrBuf sb = {0};
    optable_render_entry(cx, &sb, optable_entry(cx->optable, 0));
    CHECK_EQ_STR(sb_cstr(cx, &sb), "f\tf(x: Quantized, y: int) -> Quantized\tmypkg.f\tmypkg.g,mypkg.h\t"
                                   "fastforward.nn.functional.f\n");
    ffq_ctx_free(cx);

    char good[512], bad[512], missing[512];
    snprintf(good, sizeof good, "%s/bilinear.yaml", fixture_dir);
    snprintf(bad, sizeof bad, "%s/err-unknown-type.yaml", fixture_dir);
    snprintf(missing, sizeof missing, "%s/does-not-exist.yaml", fixture_dir);

    const char *files1[] = {good};
    cx = ffq_ctx_new(NULL, NULL);
    CHECK(ffq_optable_run(cx, files1, 1, false, true) == FFQ_OK);
    out = ffq_output(cx, NULL);
    CHECK(out && strstr(out, "\ttorch.nn.functional.bilinear\t-\t__main__.my_quantized_bilinear\n"));
    ffq_ctx_free(cx);

    cx = ffq_ctx_new(NULL, NULL);
    CHECK(ffq_optable_run(cx, files1, 1, true, true) == FFQ_OK);
    CHECK(optable_count(cx->optable) == 1);
    ffq_ctx_free(cx);

    const char *files2[] = {good, bad};
    cx = ffq_ctx_new(NULL, NULL);
    CHECK(ffq_optable_run(cx, files2, 2, false, false) == FFQ_ERR_INPUT);
    CHECK(strstr(ffq_diagnostics(cx), "err-unknown-type.yaml:5:38: error: unknown type 'Quantised'"));
    CHECK(ffq_output(cx, NULL) == NULL);
    ffq_ctx_free(cx);

    const char *files3[] = {missing};
    cx = ffq_ctx_new(NULL, NULL);
    CHECK(ffq_optable_run(cx, files3, 1, false, false) == FFQ_ERR_IO);
    CHECK(strstr(ffq_diagnostics(cx), "[cannot-read]"));
    ffq_ctx_free(cx);
}

static ffq_ctx *run_fixture(const char *name, bool no_default, ffq_status want) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fixture_dir, name);
    const char *files[] = {path};
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    ffq_status st = ffq_optable_run(cx, files, 1, no_default, false);
    if (st != want) printf("  %s: status %d, want %d\n%s", path, st, want, ffq_diagnostics(cx));
    CHECK(st == want);
    return cx;
}

static void test_fixture_files(void) {
    ffq_ctx *cx = run_fixture("minimal.yaml", true, FFQ_OK);
    CHECK(optable_count(cx->optable) == 3 && optable_has(cx->optable, "torch.relu"));
    CHECK_EQ_STR(optable_operator_fallback(cx->optable, "+", false), "torch.add");
    CHECK(optable_operator_fallback(cx->optable, "-", false) == NULL);
    ffq_ctx_free(cx);

    cx = run_fixture("custom-linear.yaml", false, FFQ_OK);
    const OpEntry *two = select0(cx->optable, "torch.nn.functional.linear", 2);
    CHECK(two && strcmp(two->dispatch, "mypkg.ops.custom_linear") == 0 && two->line == 4);
    CHECK(select0(cx->optable, "torch.nn.functional.linear", 3)->custom_dispatch == false);
    ffq_ctx_free(cx);

    cx = run_fixture("err-duplicate-alias.yaml", false, FFQ_ERR_INPUT);
    CHECK(strstr(ffq_diagnostics(cx), "err-duplicate-alias.yaml:4:13: error: alias 'torch.sigmoid' "
                                      "already names a different operator "
                                      "('torch.nn.functional.sigmoid') [optable-duplicate-alias]"));
    ffq_ctx_free(cx);
    cx = run_fixture("err-duplicate-alias.yaml", true, FFQ_OK);  // no conflict without the default
    ffq_ctx_free(cx);

    cx = run_fixture("err-missing-fallback.yaml", false, FFQ_ERR_INPUT);
    CHECK(strstr(ffq_diagnostics(cx), "err-missing-fallback.yaml:2:3: error: operator entry has no "
                                      "'fallback' key [optable-missing-key]"));
    CHECK(strstr(ffq_diagnostics(cx), "err-missing-fallback.yaml:3:3: error: unknown key 'fallbak'"));
    ffq_ctx_free(cx);
}

// Allocation n fails, for n = 1, 2, ...: ffq_optable_run returns FFQ_ERR_NOMEM
// cleanly (ASan reports any leak, libyaml objects included) until it succeeds.
typedef struct FailAlloc {
    size_t count, fail_at;
} FailAlloc;

static void *failing_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    (void)old_size;
    FailAlloc *fa = ud;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    if (++fa->count == fa->fail_at) return NULL;
    return realloc(ptr, new_size);
}

static void test_oom_loop(void) {
    bool succeeded = false;
    size_t nomem = 0;
    for (size_t n = 2; n < 200 && !succeeded; n++) {  // allocation 1 is the context
        FailAlloc fa = {0, n};
        ffq_ctx *cx = ffq_ctx_new(failing_alloc, &fa);
        ffq_status st = ffq_optable_run(cx, NULL, 0, false, true);
        CHECK(st == FFQ_OK || st == FFQ_ERR_NOMEM);
        succeeded = st == FFQ_OK;
        nomem += st == FFQ_ERR_NOMEM;
        ffq_ctx_free(cx);
    }
    CHECK(succeeded && nomem > 0);
}

int main(int argc, char **argv) {
    if (argc > 1) fixture_dir = argv[1];
    test_default_loads();
    test_lookup_and_slots();
    test_overload_selection();
    test_python_operators();
    test_bilinear_dispatch();
    test_schema_forms();
    test_identity_without_default();
    test_same_fallback_is_overload();
    test_errors();
    test_patterns();
    test_render_and_run();
    test_fixture_files();
    test_oom_loop();
    printf("test_optable: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
