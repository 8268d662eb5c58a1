// Unit tests of compile.c: the pipeline as a library user sees it — the
// out-of-memory loop, determinism, reentrancy, error statuses; and the
// package root of an input (pkgpath.c).
#define _DEFAULT_SOURCE  // mkdtemp, realpath
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ffq_int.h"
#include "pkgpath.h"

#include "check.h"

static const char model[] =
    "import torch\nimport torch.nn.functional as F\n\n"
    "class M(torch.nn.Linear):\n"
    "    def forward(self, x, y):\n"
    "        if x.dim() == 2:\n            h = F.linear(x, self.weight, self.bias)\n"
    "        else:\n            h = x.flatten(1) @ y\n"
    "        for i in range(3):\n            h = h + torch.relu(h[i])\n"
    "        return torch.sigmoid(h)\n";

typedef struct Failing {
    size_t calls, fail_at, live;
} Failing;

static void *failing_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    Failing *f = ud;
    if (new_size == 0) {
        if (ptr) f->live -= old_size;
        free(ptr);
        return NULL;
    }
    if (++f->calls == f->fail_at) return NULL;
    void *p = realloc(ptr, new_size);
    if (p) f->live += new_size - old_size;
    return p;
}

static ffq_status compile_with(ffq_alloc_fn fn, void *ud, const char **out) {
    ffq_ctx *cx = ffq_ctx_new(fn, ud);
    if (!cx) return FFQ_ERR_NOMEM;
    ffq_options opt = ffq_options_default();
    opt.module_name = "m";
    ffq_status st = ffq_compile_buffer(cx, "m.py", model, sizeof model - 1, &opt);
    if (out) *out = st == FFQ_OK ? strdup(ffq_output(cx, NULL)) : NULL;
    ffq_ctx_free(cx);
    return st;
}

// Fail the 1st, 2nd, 3rd ... allocation until compilation succeeds: every
// step must return FFQ_ERR_NOMEM cleanly and free everything.
static void test_oom_loop(void) {
    size_t steps = 0;
    bool clean = true;
    for (size_t k = 1; k < 100000; k++) {
        Failing f = {.fail_at = k};
        ffq_status st = compile_with(failing_alloc, &f, NULL);
        if (f.live != 0) clean = false;
        if (st == FFQ_OK) break;
        if (st != FFQ_ERR_NOMEM) clean = false;
        steps++;
    }
    CHECK(clean);
    CHECK(steps > 0);
}

static void test_deterministic(void) {
    const char *a = NULL, *b = NULL;
    CHECK(compile_with(NULL, NULL, &a) == FFQ_OK);
    CHECK(compile_with(NULL, NULL, &b) == FFQ_OK);
    CHECK(a && b && strcmp(a, b) == 0);
    free((void *)a);
    free((void *)b);
}

static void test_contexts_independent(void) {
    ffq_ctx *c1 = ffq_ctx_new(NULL, NULL), *c2 = ffq_ctx_new(NULL, NULL);
    ffq_options opt = ffq_options_default();
    const char bad[] = "class (:\n";
    CHECK(ffq_compile_buffer(c1, "bad.py", bad, sizeof bad - 1, &opt) == FFQ_ERR_INPUT);
    CHECK(ffq_compile_buffer(c2, "m.py", model, sizeof model - 1, &opt) == FFQ_OK);
    CHECK(ffq_output(c1, NULL) == NULL);
    CHECK_CONTAINS(ffq_diagnostics(c1), "bad.py:1:");
    CHECK_EQ_STR(ffq_diagnostics(c2), "");
    ffq_ctx_free(c1);
    ffq_ctx_free(c2);
}

static void test_missing_file(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    ffq_options opt = ffq_options_default();
    CHECK(ffq_compile_file(cx, "/nonexistent/model.py", &opt) == FFQ_ERR_IO);
    CHECK_CONTAINS(ffq_diagnostics(cx), "cannot read '/nonexistent/model.py'");
    ffq_ctx_free(cx);
}

static void touch(const char *path) {
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
}

// root/a/b/c with __init__.py in a, b and c; root/plain without one.
static void test_package_split(void) {
    char root[] = "/tmp/ffq-pkg-XXXXXX", path[PATH_MAX], dir[PATH_MAX], pkg[PATH_MAX], want[PATH_MAX];
    if (!mkdtemp(root) || !realpath(root, want)) {
        CHECK(!"mkdtemp");
        return;
    }
    const char *dirs[] = {"a", "a/b", "a/b/c", "plain"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", root, dirs[i]);
        mkdir(path, 0755);
        if (i < 3) {
            snprintf(path, sizeof path, "%s/%s/__init__.py", root, dirs[i]);
            touch(path);
        }
    }
    snprintf(path, sizeof path, "%s/a/b/c", root);
    CHECK(realpath(path, dir) != NULL);
    package_split(dir, pkg, sizeof pkg);
    CHECK_EQ_STR(pkg, "a.b.c");
    CHECK_EQ_STR(dir, want);  // the directory above a
    snprintf(path, sizeof path, "%s/plain", root);
    CHECK(realpath(path, dir) != NULL);
    char plain[PATH_MAX];
    snprintf(plain, sizeof plain, "%s", dir);
    package_split(dir, pkg, sizeof pkg);
    CHECK_EQ_STR(pkg, "");
    CHECK_EQ_STR(dir, plain);  // not a package: its own directory
    snprintf(path, sizeof path, "%s/a/b/c", root);
    CHECK(realpath(path, dir) != NULL);
    char small[4];
    package_split(dir, small, sizeof small);  // "c" fits, "b.c" fits, "a.b.c" does not
    CHECK_EQ_STR(small, "b.c");
    for (size_t i = 4; i-- > 0;) {
        if (i < 3) {
            snprintf(path, sizeof path, "%s/%s/__init__.py", root, dirs[i]);
            unlink(path);
        }
        snprintf(path, sizeof path, "%s/%s", root, dirs[i]);
        rmdir(path);
    }
    rmdir(root);
}

// A run's cache holds one copy of the built-in operator table for all its
// contexts; the output is the same as without a cache, and a context with an
// extra table (or none) loads its own.
static void test_cache_shares_default_table(void) {
    const char *alone = NULL;
    CHECK(compile_with(NULL, NULL, &alone) == FFQ_OK);
    ffq_cache *cache = ffq_cache_new();
    CHECK(cache != NULL);
    const OpTable *first = NULL;
    for (int i = 0; i < 2; i++) {
        ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
        ffq_ctx_use_cache(cx, cache);
        ffq_options opt = ffq_options_default();
        opt.module_name = "m";
        CHECK(ffq_compile_buffer(cx, "m.py", model, sizeof model - 1, &opt) == FFQ_OK);
        CHECK(alone && strcmp(ffq_output(cx, NULL), alone) == 0);
        if (i == 0) first = cx->optable;
        else CHECK(cx->optable == first);
        ffq_ctx_free(cx);
    }
    // an extra table: sigmoid dispatched to a custom function in this context only
    const char *path = "test_compile_extra.yaml";
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs("- op: \"sigmoid(input: Quantized) -> Quantized\"\n  fallback: torch.sigmoid\n"
              "  dispatch: my_ops.sigmoid\n", fp);
        fclose(fp);
    }
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    ffq_ctx_use_cache(cx, cache);
    ffq_options opt = ffq_options_default();
    opt.module_name = "m";
    const char *tables[] = {path};
    opt.optables = tables;
    opt.noptables = 1;
    CHECK(ffq_compile_buffer(cx, "m.py", model, sizeof model - 1, &opt) == FFQ_OK);
    CHECK(cx->optable != first);
    CHECK_CONTAINS(ffq_output(cx, NULL), "my_ops.sigmoid(");
    ffq_ctx_free(cx);
    remove(path);
    ffq_cache_free(cache);
    free((void *)alone);
}

static void write_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(text, fp);
    fclose(fp);
}

// Compiles `path` (in a fresh context, with `cache` or none); returns a heap
// copy of the output, or of the diagnostics when it fails.
static char *compile_path(ffq_cache *cache, const char *path, ffq_status *st) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    ffq_ctx_use_cache(cx, cache);
    ffq_options opt = ffq_options_default();
    *st = ffq_compile_file(cx, path, &opt);
    char *r = strdup(*st == FFQ_OK ? ffq_output(cx, NULL) : ffq_diagnostics(cx));
    ffq_ctx_free(cx);
    return r;
}

// An input that an earlier compilation of the run imported reuses the cached
// parse: the output (or the error report) is the same as without a cache.
static void test_cache_input_reuse(void) {
    char dir[] = "/tmp/ffq-test-compile-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char a[256], b[256], bad[256], c[256];
    snprintf(a, sizeof a, "%s/a.py", dir);
    snprintf(b, sizeof b, "%s/b.py", dir);
    snprintf(bad, sizeof bad, "%s/bad.py", dir);
    snprintf(c, sizeof c, "%s/c.py", dir);
    write_file(a, "import torch\nfrom b import Base\nfrom bad import Other\n\n\n"
                  "class A(Base):\n    def forward(self, x):\n        return torch.relu(self.f(x))\n");
    write_file(b, "import torch\n\n\nclass Base(torch.nn.Module):\n"
                  "    def f(self, x):\n        return torch.sigmoid(x) * 2\n\n"
                  "    def forward(self, x):\n        return self.f(x) + x\n");
    write_file(bad, "import torch\n\n\nclass Other(torch.nn.Module):\n    def forward(self, x:\n");
    write_file(c, "x = 1\n");
    ffq_status st1, st2, st3, st4;
    char *b_alone = compile_path(NULL, b, &st1), *bad_alone = compile_path(NULL, bad, &st2);
    ffq_cache *cache = ffq_cache_new();
    char *a_out = compile_path(cache, a, &st3);  // imports b and bad: both parsed into the cache
    CHECK(st3 == FFQ_OK);
    char *b_cached = compile_path(cache, b, &st4);
    CHECK(st1 == FFQ_OK && st4 == FFQ_OK);
    CHECK(b_alone && b_cached && strcmp(b_alone, b_cached) == 0);
    char *bad_cached = compile_path(cache, bad, &st4);  // syntax errors: parsed again, reported
    CHECK(st2 == FFQ_ERR_INPUT && st4 == FFQ_ERR_INPUT);
    CHECK(bad_alone && bad_cached && strcmp(bad_alone, bad_cached) == 0);
    CHECK_CONTAINS(bad_cached, "bad.py:5:");
    free(b_cached);
    write_file(b, "import torch\n\n\nclass Base(torch.nn.Module):\n"
                  "    def forward(self, x):\n        return torch.tanh(x)\n");  // edited: parsed again
    b_cached = compile_path(cache, b, &st4);
    CHECK(st4 == FFQ_OK && b_cached && strstr(b_cached, "tanh") && !strstr(b_cached, "sigmoid"));
    ffq_cache_free(cache);
    free(b_alone), free(bad_alone), free(a_out), free(b_cached), free(bad_cached);
    remove(a), remove(b), remove(bad), remove(c);
    rmdir(dir);
}

int main(void) {
    test_package_split();
    test_oom_loop();
    test_deterministic();
    test_contexts_independent();
    test_missing_file();
    test_cache_shares_default_table();
    test_cache_input_reuse();
    return check_report("test_compile");
}
