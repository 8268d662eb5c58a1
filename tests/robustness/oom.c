// oom.c: the out-of-memory loop (issue 8, part 4) over a few real inputs.
//
// For each case, make allocation 1 fail, then 2, then 3, ... until the run
// succeeds; then again with every allocation from the k-th on failing
// ("sticky": memory stays exhausted, so ffq_diagnostics and everything after
// the failure must cope too; each sticky loop runs in a child process so an
// abort is reported as a failure of that case only). Every failing step must return FFQ_ERR_NOMEM (or, when the very
// first allocation fails, ffq_ctx_new must return NULL), give back every byte
// through the allocator hook once the context is freed, and not crash (run it
// under ASan too). The successful run must produce the same output as a run
// with the default allocator.
//
// Usage: oom REPO_ROOT
// Prints one line per case and ends with `oom: N passed, M failed`.
#include "ffq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct Failing {
    size_t calls, fail_at, live, peak;
    bool sticky;
} Failing;

static void *failing_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    Failing *f = ud;
    if (new_size == 0) {
        if (ptr) f->live -= old_size;
        free(ptr);
        return NULL;
    }
    if (++f->calls == f->fail_at || (f->sticky && f->calls > f->fail_at)) return NULL;
    void *p = realloc(ptr, new_size);
    if (p) f->live += new_size - (ptr ? old_size : 0);
    if (f->live > f->peak) f->peak = f->live;
    return p;
}

typedef enum Kind { COMPILE, OPTABLE } Kind;

typedef struct Case {
    const char *name;
    Kind kind;
    const char *path;      // relative to the repo root
    const char *replace;   // a --replace rule, or NULL
    const char *optable;   // an extra table, relative to the repo root, or NULL
} Case;

static const Case cases[] = {
    {"examples/mlp.py", COMPILE, "examples/mlp.py", NULL, NULL},
    {"helpers/tutorial_helper_chain.py", COMPILE, "tests/cases/helpers/tutorial_helper_chain.py", NULL, NULL},
    {"helpers/recursive_helper_passes_params.py", COMPILE, "tests/cases/helpers/recursive_helper_passes_params.py", NULL, NULL},
    {"patterns + custom table", COMPILE, "tests/cases/patterns/tutorial_pattern_rule.py",
     "torch.nn.functional.{func}({a}, {b})=>my_own.{func}({a}, {b})", "tests/optable/bilinear.yaml"},
    {"syntax error", COMPILE, "tests/cases/errors/syntax_error_caret.py", NULL, NULL},
    {"optable --list (default + bilinear.yaml)", OPTABLE, "tests/optable/bilinear.yaml", NULL, NULL},
    {"optable --check (table with errors)", OPTABLE, "tests/optable/err-unknown-type.yaml", NULL, NULL},
};

static char *read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

// One run with the given allocator; *out gets a malloc'ed copy of the output
// (NULL when there is none). Returns the status, or -1 if ffq_ctx_new failed.
static int run_case(const Case *c, const char *root, const char *src, size_t len, ffq_alloc_fn fn,
                    void *ud, char **out) {
    *out = NULL;
    ffq_ctx *cx = ffq_ctx_new(fn, ud);
    if (!cx) return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, c->path);
    ffq_status st;
    if (c->kind == OPTABLE) {
        const char *files[] = {path};
        st = ffq_optable_run(cx, files, 1, false, true);
    } else {
        ffq_options opt = ffq_options_default();
        opt.module_name = "case";
        const char *rules[] = {c->replace};
        if (c->replace) {
            opt.replace = rules;
            opt.nreplace = 1;
        }
        char table[4096];
        const char *tables[] = {table};
        if (c->optable) {
            snprintf(table, sizeof table, "%s/%s", root, c->optable);
            opt.optables = tables;
            opt.noptables = 1;
        }
        st = ffq_compile_buffer(cx, c->path, src, len, &opt);
    }
    (void)ffq_diagnostics(cx);  // rendering allocates too
    size_t n = 0;
    const char *o = ffq_output(cx, &n);
    if (o) {
        *out = malloc(n + 1);
        memcpy(*out, o, n);
        (*out)[n] = '\0';
    }
    ffq_ctx_free(cx);
    return (int)st;
}

static bool oom_loop(const Case *c, const char *root, bool sticky) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, c->path);
    size_t len = 0;
    char *src = read_file(path, &len);
    if (!src) {
        printf("FAIL  %s: cannot read %s\n", c->name, path);
        return false;
    }
    char *want = NULL;
    int want_st = run_case(c, root, src, len, NULL, NULL, &want);
    bool ok = true;
    size_t k = 1, leaks = 0, bad = 0, peak = 0;
    for (;; k++) {
        Failing f = {.fail_at = k, .sticky = sticky};
        char *got = NULL;
        int st = run_case(c, root, src, len, failing_alloc, &f, &got);
        if (f.live != 0) {
            if (leaks++ < 3) printf("      step %zu: %zu bytes not given back\n", k, f.live);
            ok = false;
        }
        if (f.calls < k) {  // no allocation failed: this is the successful run
            peak = f.peak;
            if (st != want_st || (want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0)) {
                printf("      the run without failures differs from the default allocator's (status %d vs %d)\n",
                       st, want_st);
                ok = false;
            }
            free(got);
            break;
        }
        if (!(st == FFQ_ERR_NOMEM || (k == 1 && st == -1)) || got) {
            if (bad++ < 3) printf("      step %zu: status %d%s, expected FFQ_ERR_NOMEM\n", k, st, got ? " with output" : "");
            ok = false;
        }
        free(got);
        if (k > 1000000) {
            printf("      more than a million allocations?\n");
            ok = false;
            break;
        }
    }
    printf("%s  %s%s: %zu failing steps, then status %d (peak %zu KiB through the hook)\n", ok ? "ok  " : "FAIL",
           c->name, sticky ? " (sticky)" : "", k - 1, want_st, peak / 1024);
    free(want);
    free(src);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: oom REPO_ROOT\n");
        return 2;
    }
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (oom_loop(&cases[i], argv[1], false)) passed++;
        else failed++;
        fflush(stdout);
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(oom_loop(&cases[i], argv[1], true) ? 0 : 1);
        int ws = 0;
        if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
            if (pid > 0 && WIFSIGNALED(ws))
                printf("FAIL  %s (sticky): killed by signal %d\n", cases[i].name, WTERMSIG(ws));
            failed++;
        } else {
            passed++;
        }
        fflush(stdout);
    }
    printf("oom: %zu passed, %zu failed\n", passed, failed);
    return failed ? 1 : 0;
}
