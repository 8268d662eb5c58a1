// test_pattern.c: unit tests for pattern.c (spec §8): rule parsing and its
// errors, structural matching, bottom-up application, the cycle guard,
// statement patterns, multi-statement replacements and `on` scopes.
//
// Usage: test_pattern
#include <stdlib.h>
#include <string.h>

#include "ffq_int.h"
#include "pattern.h"

#include "check.h"

// Applies "P=>R" rules (NULL-terminated; a rule "@SCOPE" sets the scope of the
// rule before it) to `src` as module `m`, and returns the result text, or
// "<unchanged>" when pattern_apply returned the input file itself, or
// "<error>" when a rule did not parse. Diagnostics go to *diags if non-NULL.
static const char *run_in(ffq_ctx *cx, const char *src, const char *const *rules, const char **diags) {
    PatternRule *parsed[16];
    size_t n = 0;
    for (size_t i = 0; rules[i]; i++) {
        if (rules[i][0] == '@') {
            pattern_set_scope(parsed[n - 1], rules[i] + 1);
            continue;
        }
        parsed[n] = pattern_parse(cx, rules[i], NULL, 0);
        if (!parsed[n]) {
            if (diags) *diags = ffq_diagnostics(cx);
            return "<error>";
        }
        n++;
    }
    SrcFile *f = srcfile_new(cx, "m.py", src, strlen(src));
    const SrcFile *out = pattern_apply(cx, f, "m", parsed, n);
    if (diags) *diags = ffq_diagnostics(cx);
    if (out == f) return "<unchanged>";
    CHECK(strcmp(out->path, "m.py") == 0);
    return out->data;
}

// Same, in a fresh context; the result is copied out of the context.
static char *run(const char *src, const char *const *rules) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *diags = NULL;
    const char *res = run_in(cx, src, rules, &diags);
    if (*diags) fprintf(stderr, "(diagnostics: %s)", diags);
    size_t n = strlen(res);
    char *copy = malloc(n + 1);
    memcpy(copy, res, n + 1);
    ffq_ctx_free(cx);
    return copy;
}

#define CHECK_REWRITE(src, want, ...)                        \
    do {                                                     \
        const char *rules_[] = {__VA_ARGS__, NULL};          \
        char *got_ = run((src), rules_);                     \
        CHECK_EQ_STR(got_, (want));                          \
        free(got_);                                          \
    } while (0)

// Does parsing `rule` report exactly one error whose text contains `needle` and `code`?
static bool rule_error_has(const char *rule, const char *needle, const char *code) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    PatternRule *r = pattern_parse(cx, rule, NULL, 0);
    const char *d = ffq_diagnostics(cx);
    bool ok = !r && cx->stats.errors == 1 && strncmp(d, "ffq: error: --replace '", 23) == 0 &&
              strstr(d, needle) && strstr(d, code);
    if (!ok) fprintf(stderr, "rule %s: diagnostics: %s", rule, d);
    ffq_ctx_free(cx);
    return ok;
}

static void test_tutorial(void) {
    const char *src =
        "class ExampleModule1B(torch.nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        y = torch.nn.functional.conv2d(x, x)\n"
        "        return torch.nn.functional.linear(y, y)\n";
    const char *want =
        "class ExampleModule1B(torch.nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        y = my_own.conv2d(x, x)\n"
        "        return my_own.linear(y, y)\n";
    CHECK_REWRITE(src, want, "torch.nn.functional.{func}({a}, {b})=>my_own.{func}({a}, {b})");
    // Whitespace around "=>" and inside the pattern is not significant.
    CHECK_REWRITE(src, want, "  torch.nn.functional.{func}( {a},{b} )  =>  my_own.{func}({a}, {b}) ");
}

static void test_no_match(void) {
    const char *rule = "torch.nn.functional.{func}({a}, {b})=>my_own.{func}({a}, {b})";
    CHECK_REWRITE("y = torch.nn.functional.conv2d(x, x, w)\n", "<unchanged>", rule);
    CHECK_REWRITE("y = torch.nn.functional.conv2d(x, weight=x)\n", "<unchanged>", rule);
    CHECK_REWRITE("y = torch.nn.functional.conv2d(*x, x)\n", "<unchanged>", rule);
    CHECK_REWRITE("y = torch.nn.conv2d(x, x)\n", "<unchanged>", rule);
    CHECK_REWRITE("y = nn.functional.conv2d(x, x)\n", "<unchanged>", rule);
    CHECK_REWRITE("y = torch.nn.functional.conv2d\n", "<unchanged>", rule);
    // Keyword arguments match by name and value.
    CHECK_REWRITE("f(x, k=1)\nf(x, j=1)\nf(x, k=2)\n", "g(x)\nf(x, j=1)\nf(x, k=2)\n", "f({a}, k=1)=>g({a})");
    // Literals match by text.
    CHECK_REWRITE("f('a')\nf(\"a\")\nf(\"b\")\nf(1)\nf(0x1)\n", "<unchanged>", "f(\"c\")=>g()");
    CHECK_REWRITE("f('a')\nf(\"a\")\nf(\"b\")\n", "f('a')\ng()\nf(\"b\")\n", "f(\"a\")=>g()");
    CHECK_REWRITE("f(1)\nf(0x1)\n", "g()\nf(0x1)\n", "f(1)=>g()");
    // A syntax error in the file: left alone for source_parse to report.
    CHECK_REWRITE("f(x\n", "<unchanged>", "f({a})=>g({a})");
}

static void test_trivia_and_formatting(void) {
    const char *rule = "torch.nn.functional.{func}({a}, {b})=>my_own.{func}({a}, {b})";
    // Trailing comma, comments, line breaks and spacing are trivia.
    CHECK_REWRITE("y = torch.nn.functional.conv2d(x, x,)\n", "y = my_own.conv2d(x, x)\n", rule);
    CHECK_REWRITE("y = torch.nn.functional.conv2d(  # c\n    x,\n    x\n)\n", "y = my_own.conv2d(x, x)\n",
                  rule);
    // Captured text keeps its own formatting; everything around keeps its bytes.
    CHECK_REWRITE("#  head\ny  =  f( a+b )   # tail\n\n\nz=f(c)\n",
                  "#  head\ny  =  g(a+b)   # tail\n\n\nz=g(c)\n", "f({x})=>g({x})");
    // Parentheses are significant.
    CHECK_REWRITE("f((x))\nf(x)\n", "g(x)\nf(x)\n", "f(({a}))=>g({a})");
    CHECK_REWRITE("y = (a + b) * c\nz = a + b * c\n", "y = mul(a + b, c)\nz = a + b * c\n",
                  "({a} + {b}) * {c}=>mul({a} + {b}, {c})");
    // {{ and }} stand for braces.
    CHECK_REWRITE("s = {x}\nd = {x: 1}\n", "s = set_of(x)\nd = {x: 1}\n", "{{{a}}}=>set_of({a})");
}

static void test_nested_and_complex(void) {
    CHECK_REWRITE("y = f(f(x))\n", "y = g(g(x))\n", "f({a})=>g({a})");
    CHECK_REWRITE("y = f(h(f(x)), f(z))\n", "y = f(h(g(x)), g(z))\n", "f({a})=>g({a})");
    CHECK_REWRITE("y = f(x[1:2] + y.z())\n", "y = g(x[1:2] + y.z(), x[1:2] + y.z())\n",
                  "f({a})=>g({a}, {a})");
    // A capture as call target and as attribute name; a capture may be dropped.
    CHECK_REWRITE("y = torch.relu(x)\n", "y = wrap(torch.relu, x)\n", "{func}({arg})=>wrap({func}, {arg})");
    CHECK_REWRITE("y = a.b.c\n", "y = c_of(a.b)\n", "{obj}.c=>c_of({obj})");
    CHECK_REWRITE("y = f(a, b)\n", "y = g(b)\n", "f({a}, {b})=>g({b})");
    // The replacement may be just a capture; splats match splats, never a capture.
    CHECK_REWRITE("y = f(g(x))\n", "y = g(x)\n", "f({a})=>{a}");
    CHECK_REWRITE("f(*xs)\nf(xs)\n", "g(xs)\nf(xs)\n", "f(*{a})=>g({a})");
    CHECK_REWRITE("f(*xs)\nf(**kw)\nf(k=1)\n", "<unchanged>", "f({a})=>g({a})");
    // CRLF line endings are kept.
    CHECK_REWRITE("y = f(x)\r\nz = 1\r\n", "y = g(x)\r\nz = 1\r\n", "f({a})=>g({a})");
    // A rule whose result does not match itself again is applied once per node.
    CHECK_REWRITE("y = f(x)\n", "y = g(f(x))\n", "f({a})=>g(f({a}))");
    // Rules chain on the same node: the list restarts after each change.
    CHECK_REWRITE("y = a(x)\n", "y = c(x)\n", "b({x})=>c({x})", "a({x})=>b({x})");
    // Deep nesting uses no deep recursion.
    enum { DEPTH = 500 };
    char *src = malloc(DEPTH * 3 + 16), *want = malloc(DEPTH * 3 + 16);
    char *p = src, *q = want;
    for (int i = 0; i < DEPTH; i++) *p++ = 'f', *p++ = '(', *q++ = 'g', *q++ = '(';
    *p++ = 'x', *q++ = 'x';
    for (int i = 0; i < DEPTH; i++) *p++ = ')', *q++ = ')';
    *p++ = '\n', *q++ = '\n';
    *p = *q = '\0';
    CHECK_REWRITE(src, want, "f({a})=>g({a})");
    CHECK_REWRITE(src, "<unchanged>", "h({a})=>g({a})");
    free(src);
    free(want);
}

// A starred first element, whose tree source.c rewires after parsing (repair_splats): the
// rules see the star over the whole element and rewrite inside it (the fuzzer found the
// rewired tree once numbered a node before its children, which the bottom-up walk needs).
static void test_starred_element(void) {
    CHECK_REWRITE("a = [*torch.tanh(x).shape[:-1]]\n", "a = [*torch.relu(x).shape[:-1]]\n",
                  "torch.tanh({a})=>torch.relu({a})");
    CHECK_REWRITE("*self.fc = torch.tanh(x), 1\n", "*self.fc = torch.relu(x), 1\n",
                  "torch.tanh({a})=>torch.relu({a})");
    CHECK_REWRITE("b = {*y.keys()}\n", "b = {*keys(y)}\n", "{o}.keys()=>keys({o})");
}

static void test_cycle_guard(void) {
    // * -> + -> - -> * terminates: the second "a + b" at this node is refused.
    CHECK_REWRITE("z = a * b\n", "z = a * b\n", "{x} * {y}=>{x} + {y}", "{x} + {y}=>{x} - {y}",
                  "{x} - {y}=>{x} * {y}");
    // A rule that keeps growing its own result is stopped with a warning.
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *rules[] = {"f({a})=>f(f({a}))", NULL};
    const char *diags = NULL;
    const char *out = run_in(cx, "y = 1\nz = f(x)\n", rules, &diags);
    CHECK(strncmp(out, "y = 1\nz = f(f(f(", 16) == 0);
    CHECK_CONTAINS(diags, "m.py:2:5: warning:");
    CHECK_CONTAINS(diags, "[pattern-loop]");
    CHECK(cx->stats.warnings == 1 && cx->stats.errors == 0);
    ffq_ctx_free(cx);
}

static void test_statements(void) {
    // Small-statement patterns; the replacement text is inserted as written.
    CHECK_REWRITE("class A:\n    def __init__(self, property):\n        self.property=property\n",
                  "class A:\n    def __init__(self, property):\n        self.property: int = property\n",
                  "self.{name}={value}=>self.{name}: int = {value}");
    CHECK_REWRITE("x = 1; y = 2\nz = 3\n", "x = 0; y = 2\nz = 3\n", "x = {v}=>x = 0");
    CHECK_REWRITE("if c: x = 1\n", "if c: x = 0\n", "x = {v}=>x = 0");
    CHECK_REWRITE("def f():\n    return a + b\n", "def f():\n    return add(a, b)\n",
                  "return {x} + {y}=>return add({x}, {y})");
    // A statement pattern does not match expressions, nor chained assignments.
    CHECK_REWRITE("f(x)\ny = z = 1\n", "<unchanged>", "{a} = 1=>pass");
    // Statement replaced by an expression (an expression statement).
    CHECK_REWRITE("a = b\n", "print(b)\n", "{x} = {y}=>print({y})");
    // Expression pattern, statement replacement: only a whole expression statement.
    CHECK_REWRITE("f(x)\ny = f(x)\n", "x = 1\ny = f(x)\n", "f({a})=>{a} = 1");
    CHECK_REWRITE("f(x); y = 1\n", "x = 1; y = 1\n", "f({a})=>{a} = 1");
}

static void test_multi_statement(void) {
    const char *rule = "{a} = g({b})=>{a} = h({b}); log({a})";
    CHECK_REWRITE("def f(x):\n    y = g(x)  # note\n    return y\n",
                  "def f(x):\n    y = h(x); log(y)  # note\n    return y\n", rule);
    // Only a statement alone on its line.
    CHECK_REWRITE("y = g(x); z = 1\n", "<unchanged>", rule);
    CHECK_REWRITE("z = 1; y = g(x)\n", "<unchanged>", rule);
    CHECK_REWRITE("if c: y = g(x)\n", "if c: y = h(x); log(y)\n", rule);
    // A trailing ';' leaves a single statement.
    CHECK_REWRITE("y = g(x); z = 1\n", "y = h(x); z = 1\n", "{a} = g({b})=>{a} = h({b});");
    // Expression pattern with several statements: only a whole line.
    CHECK_REWRITE("f(x)\ny = f(x)\n", "a(x); b(x)\ny = f(x)\n", "f({v})=>a({v}); b({v})");
}

static void test_scope(void) {
    const char *src =
        "def helper(x):\n"
        "    return f(x)\n"
        "class Model:\n"
        "    def __init__(self):\n"
        "        self.a = f(1)\n"
        "    def forward(self, x):\n"
        "        return f(x)\n"
        "class ModelB:\n"
        "    def forward(self, x):\n"
        "        return f(x)\n"
        "y = f(2)\n";
    const char *rule = "f({a})=>g({a})";
    CHECK_REWRITE(src,
                  "def helper(x):\n    return f(x)\nclass Model:\n    def __init__(self):\n"
                  "        self.a = f(1)\n    def forward(self, x):\n        return g(x)\n"
                  "class ModelB:\n    def forward(self, x):\n        return f(x)\ny = f(2)\n",
                  rule, "@m.Model.forward");
    CHECK_REWRITE(src,
                  "def helper(x):\n    return f(x)\nclass Model:\n    def __init__(self):\n"
                  "        self.a = g(1)\n    def forward(self, x):\n        return g(x)\n"
                  "class ModelB:\n    def forward(self, x):\n        return f(x)\ny = f(2)\n",
                  rule, "@m.Model");
    CHECK_REWRITE(src,
                  "def helper(x):\n    return g(x)\nclass Model:\n    def __init__(self):\n"
                  "        self.a = f(1)\n    def forward(self, x):\n        return f(x)\n"
                  "class ModelB:\n    def forward(self, x):\n        return f(x)\ny = f(2)\n",
                  rule, "@m.helper");
    // The module covers everything; names must start with the full module name
    // and match whole parts.
    char *all = run(src, (const char *const[]){rule, "@m", NULL});
    CHECK(strstr(all, "f(") == NULL);
    free(all);
    CHECK_REWRITE(src, "<unchanged>", rule, "@Model.forward");
    CHECK_REWRITE(src, "<unchanged>", rule, "@forward");
    CHECK_REWRITE(src, "<unchanged>", rule, "@m.Mod");
    CHECK_REWRITE(src, "<unchanged>", rule, "@pkg.m");
    // A scoped rule next to an unscoped one.
    CHECK_REWRITE("class Model:\n    def forward(self, x):\n        return f(h(x))\ny = h(f(1))\n",
                  "class Model:\n    def forward(self, x):\n        return g(k(x))\ny = k(f(1))\n",
                  rule, "@m.Model", "h({a})=>k({a})");
}

// The cheap test before a file is parsed for the rules: the pattern's longest name must
// occur in the text, and a scoped rule's scope must be able to hold the module.
static void test_may_apply(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    PatternRule *r = pattern_parse(cx, "torch.sigmoid({x})=>torch.tanh({x})", NULL, 0);
    CHECK(r != NULL);
    const char *with = "y = torch.sigmoid(x)\n", *without = "y = torch.relu(x)\n";
    CHECK(pattern_may_apply(&r, 1, "m", with, strlen(with)));
    CHECK(!pattern_may_apply(&r, 1, "m", without, strlen(without)));
    pattern_set_scope(r, "torch.nn.modules");
    CHECK(!pattern_may_apply(&r, 1, "m", with, strlen(with)));
    CHECK(pattern_may_apply(&r, 1, "torch.nn.modules.activation", with, strlen(with)));
    CHECK(!pattern_may_apply(&r, 1, "torch.nn.modulesx", with, strlen(with)));
    pattern_set_scope(r, "m.Model.forward");  // a scope inside the module
    CHECK(pattern_may_apply(&r, 1, "m", with, strlen(with)));
    CHECK(!pattern_may_apply(&r, 1, "mm", with, strlen(with)));
    PatternRule *any = pattern_parse(cx, "{a} + {b}=>add({a}, {b})", NULL, 0);  // no name: always
    CHECK(any != NULL && pattern_may_apply(&any, 1, "m", without, strlen(without)));
    ffq_ctx_free(cx);
}

static void test_errors(void) {
    CHECK(rule_error_has("f({a}, {a})=>g({a})", "capture '{a}' is used multiple times", "[pattern-capture]"));
    CHECK(rule_error_has("f({a})=>g({b})", "capture '{b}', which is not in the pattern", "[pattern-capture]"));
    CHECK(rule_error_has("f({a b})=>g()", "'a b' is not a valid identifier", "[pattern-capture]"));
    CHECK(rule_error_has("f({1a})=>g()", "'1a' is not a valid identifier", "[pattern-capture]"));
    CHECK(rule_error_has("f({})=>g()", "'' is not a valid identifier", "[pattern-capture]"));
    CHECK(rule_error_has("f({a})=>g({a-b})", "'a-b' is not a valid identifier", "[pattern-capture]"));
    CHECK(rule_error_has("f({a})\ng({b})=>h({a})", "pattern must be a single statement or expression",
                         "[pattern-not-single]"));
    CHECK(rule_error_has("f({a}); g()=>h({a})", "pattern must be a single statement or expression",
                         "[pattern-not-single]"));
    CHECK(rule_error_has("f({a})=>g({a})\nh()", "replacement must be a single statement or expression",
                         "[pattern-not-single]"));
    CHECK(rule_error_has("f(({a})=>g({a})", "expected PATTERN=>REPLACEMENT", "[pattern-syntax]"));
    CHECK(rule_error_has("f({a}))=>g({a})", "cannot parse the pattern 'f({a}))'", "[pattern-syntax]"));
    CHECK(rule_error_has("f({a})=>g({a}", "cannot parse the replacement", "[pattern-syntax]"));
    CHECK(rule_error_has("f({a})", "expected PATTERN=>REPLACEMENT", "[pattern-syntax]"));
    CHECK(rule_error_has("=>g()", "the pattern is empty", "[pattern-syntax]"));
    CHECK(rule_error_has("f()=>  ", "the replacement is empty", "[pattern-syntax]"));
    CHECK(rule_error_has("f({a})=>g({b)", "unterminated '{'", "[pattern-syntax]"));
    CHECK(rule_error_has("f(a})=>g()", "single '}'", "[pattern-syntax]"));
    CHECK(rule_error_has("{a}=>g({a})", "lone capture", "[pattern-capture]"));
    CHECK(rule_error_has("f(x_{a})=>g({a})", "capture '{a}' in the pattern must stand where a name may appear",
                         "[pattern-capture]"));
    CHECK(rule_error_has("f({a})=>g('{a}')", "capture '{a}' in the replacement must stand", "[pattern-capture]"));
    CHECK(rule_error_has("if {a}: pass=>g()", "not a compound statement", "[pattern-syntax]"));
    // "=>" inside a string or brackets does not split the rule.
    CHECK_REWRITE("f('=>')\n", "g('=>')\n", "f('=>')=>g('=>')");
    CHECK_REWRITE("f(x)\n", "g([a for a in x])\n", "f({v})=>g([a for a in {v}])");
    // A rule from a table is reported at its position.
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    const char *yaml = "patterns:\n  - 'f({a}, {a})=>g({a})'\n";
    SrcFile *tf = srcfile_new(cx, "t.yaml", yaml, strlen(yaml));
    CHECK(pattern_parse(cx, "f({a}, {a})=>g({a})", tf, 14) == NULL);
    const char *d = ffq_diagnostics(cx);
    CHECK(strncmp(d, "t.yaml:2:5: error: pattern rule 'f({a}, {a})=>g({a})': capture '{a}' is used "
                     "multiple times in the pattern [pattern-capture]\n", 115) == 0);
    ffq_ctx_free(cx);
}

static void test_api(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    PatternRule *r = pattern_parse(cx, "f({a})=>g({a})", NULL, 0);
    CHECK(r != NULL);
    CHECK_EQ_STR(pattern_rule_text(r), "f({a})=>g({a})");
    SrcFile *f = srcfile_new(cx, "m.py", "f(x)\n", 5);
    CHECK(pattern_apply(cx, f, "m", NULL, 0) == f);
    CHECK(pattern_apply(cx, f, NULL, &r, 1) != f);
    // Rules are reusable across files.
    SrcFile *f2 = srcfile_new(cx, "n.py", "y = f(f(z))\n", 12);
    const SrcFile *o2 = pattern_apply(cx, f2, "n", &r, 1);
    CHECK_EQ_STR(o2->data, "y = g(g(z))\n");
    CHECK_EQ_STR(o2->path, "n.py");
    CHECK(o2->len == strlen(o2->data) && o2->nlines == 2);
    // A package prefix covers every module below it.
    PatternRule *scoped = pattern_parse(cx, "f({a})=>h({a})", NULL, 0);
    pattern_set_scope(scoped, "proj.pkg");
    SrcFile *f3 = srcfile_new(cx, "mod.py", "f(z)\n", 5);
    CHECK_EQ_STR(pattern_apply(cx, f3, "proj.pkg.mod", &scoped, 1)->data, "h(z)\n");
    CHECK(pattern_apply(cx, f3, "proj.pkgx.mod", &scoped, 1) == f3);
    CHECK(pattern_apply(cx, f3, "proj", &scoped, 1) == f3);
    CHECK(cx->stats.errors == 0 && cx->stats.warnings == 0);
    ffq_ctx_free(cx);
}

int main(void) {
    test_tutorial();
    test_no_match();
    test_trivia_and_formatting();
    test_nested_and_complex();
    test_cycle_guard();
    test_starred_element();
    test_statements();
    test_multi_statement();
    test_scope();
    test_may_apply();
    test_errors();
    test_api();
    return check_report("test_pattern");
}
