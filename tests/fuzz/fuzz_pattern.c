// fuzz_pattern.c: libFuzzer target: parse pattern rules and apply them.
//
// Input: RULE, optionally followed by a NUL byte and a Python file. RULE is
// parsed with pattern_parse ("PATTERN=>REPLACEMENT"); when it parses, it is
// applied to the file (or, with no file part, to a small fixed model) and the
// rewritten text is parsed again, as ffq_compile would.
#include "fuzz_common.h"
#include "pattern.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_model[] =
    "import torch\nimport torch.nn.functional as F\n\n"
    "class M(torch.nn.Module):\n"
    "    def forward(self, x, y):\n"
    "        h = F.linear(x, self.weight, self.bias) + torch.relu(y)\n"
    "        h = torch.sigmoid(h * 2) if x.dim() == 2 else h @ y\n"
    "        return torch.cat([h, F.conv2d(x, self.w, stride=2)], dim=1)\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024) return -1;
    const uint8_t *nul = memchr(data, 0, size);
    size_t rule_len = nul ? (size_t)(nul - data) : size;
    FuzzAlloc a = {0};
    ffq_ctx *cx = ffq_ctx_new(fuzz_alloc, &a);
    if (!cx) return 0;
    jmp_buf jb;
    cx->recover = &jb;
    if (setjmp(jb) == 0) {
        char *rule = arena_strndup(cx, (const char *)data, rule_len);
        PatternRule *r = pattern_parse(cx, rule, NULL, 0);
        if (r) {
            (void)pattern_rule_text(r);
            const char *src = nul ? (const char *)nul + 1 : fixed_model;
            size_t len = nul ? size - rule_len - 1 : sizeof fixed_model - 1;
            SrcFile *f = srcfile_new(cx, "fuzz.py", src, len);
            PatternRule *rules[2] = {r, r};
            const SrcFile *out = pattern_apply(cx, f, "fuzz", rules, 2);
            if (out != f) (void)source_parse(cx, out);
        } else {
            ffq_assert(diag_has_errors(cx));
        }
        (void)ffq_diagnostics(cx);
    }
    cx->recover = NULL;
    fuzz_ctx_free(cx, &a);
    return 0;
}
