// fuzz_compile.c: libFuzzer target: compile arbitrary bytes as a module file
// with the default operator table (every nn.Module subclass is a root), then
// read the output, the diagnostics and the stats, and free the context.
//
// A crash, a sanitizer report, an internal error (ffq_fail aborts) or a byte
// not given back by ffq_ctx_free is a failure. Inputs larger than 256 KiB are
// ignored (tree-sitter time, not ffq, would dominate).
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 256 * 1024) return -1;
    FuzzAlloc a = {0};
    ffq_ctx *cx = ffq_ctx_new(fuzz_alloc, &a);
    if (!cx) return 0;
    ffq_options opt = ffq_options_default();
    opt.module_name = "fuzz.model";
    ffq_status st = ffq_compile_buffer(cx, "fuzz.py", (const char *)data, size, &opt);
    size_t len = 0;
    const char *out = ffq_output(cx, &len);
    const char *diags = ffq_diagnostics(cx);
    ffq_assert(diags != NULL);
    ffq_assert((st == FFQ_OK) == (out != NULL));
    ffq_assert(!out || strlen(out) == len);  // the output never holds a NUL byte of its own
    (void)ffq_get_stats(cx);
    fuzz_ctx_free(cx, &a);
    return 0;
}
