// fuzz_format.c: libFuzzer target: the formatter alone.
//
// Input: any bytes, formatted as a module with format_module, and the first
// line once more as a single statement with format_stmt. Checks, beyond the
// sanitizers and the allocation count: formatting the output again gives the
// same text (idempotence, as ruff's formatter has), whenever the output
// parses. That the output of valid Python parses is not checked here: the
// grammar accepts some text CPython rejects (`a: T = b: U = c`), and for
// that the formatter may produce text that does not parse; valid Python is
// checked against CPython by tests/format/check_corpus.py.
#include "format/format.h"
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024) return -1;
    FuzzAlloc a = {0};
    ffq_ctx *cx = ffq_ctx_new(fuzz_alloc, &a);
    if (!cx) return 0;
    jmp_buf jb;
    cx->recover = &jb;
    if (setjmp(jb) == 0) {
        const char *text = (const char *)data;
        StrBuf once = {0};
        if (format_module(cx, text, size, &once)) {
            Cst *c = source_parse_text(cx, "<formatted>", sb_cstr(cx, &once), once.len, false);
            StrBuf twice = {0};
            bool parses = c && !c->has_errors;
            if (parses && (!format_module(cx, once.data, once.len, &twice) || twice.len != once.len ||
                           memcmp(twice.data, once.data, once.len) != 0)) {
                fprintf(stderr, "fuzz_format: not idempotent:\n--- once\n%s\n--- twice\n%s\n", once.data,
                        sb_cstr(cx, &twice));
                abort();
            }
        }
        const char *nl = memchr(text, '\n', size);
        size_t line = nl ? (size_t)(nl - text) : size;
        StrBuf stmt = {0};
        (void)format_stmt(cx, text, line, 4, &stmt);
    }
    cx->recover = NULL;
    fuzz_ctx_free(cx, &a);
    return 0;
}
