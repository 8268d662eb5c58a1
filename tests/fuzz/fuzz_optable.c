// fuzz_optable.c: libFuzzer target: load arbitrary bytes as an operator table
// (YAML), over an empty table and again over the default one; when a table
// loads, render every entry (`ffq optable --list`), look each one up by its
// fallback name, and parse the table's pattern rules.
#include "fuzz_common.h"
#include "optable.h"
#include "pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(ffq_ctx *cx, const OpTable *t) {
    StrBuf sb = {0};
    for (size_t i = 0; i < optable_count(t); i++) {
        const OpEntry *e = optable_entry(t, i);
        optable_render_entry(cx, &sb, e);
        (void)optable_has(t, e->fallback);
        (void)optable_canonical_name(e);
        const char *kw[] = {"input", "out"};
        for (size_t npos = 0; npos < 4; npos++) (void)optable_select(t, e->fallback, npos, kw, npos & 1);
    }
    for (size_t i = 0; i < optable_npatterns(t); i++) {
        const TablePattern *tp = optable_pattern(t, i);
        (void)pattern_parse(cx, tp->rule, tp->file, tp->offset);
    }
    (void)optable_operator_fallback(t, "+", false);
    (void)optable_operator_fallback(t, "-", true);
}

static void load(const uint8_t *data, size_t size, bool with_default) {
    FuzzAlloc a = {0};
    ffq_ctx *cx = ffq_ctx_new(fuzz_alloc, &a);
    if (!cx) return;
    jmp_buf jb;
    cx->recover = &jb;
    if (setjmp(jb) == 0) {
        OpTable *t = optable_new(cx);
        bool ok = !with_default || optable_load_default(cx, t);
        ffq_assert(ok);
        if (optable_load_buffer(cx, t, "fuzz.yaml", (const char *)data, size)) exercise(cx, t);
        else ffq_assert(diag_has_errors(cx));
        (void)ffq_diagnostics(cx);
    }
    cx->recover = NULL;
    fuzz_ctx_free(cx, &a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024) return -1;
    load(data, size, false);
    load(data, size, true);
    return 0;
}
