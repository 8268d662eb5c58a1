// types.c: type inference (spec §7). See types.h.
//
// This first version knows nothing yet: every node's type is unknown, so
// every syntactic candidate stays a candidate (the inference-off rule).
#include "ffq_int.h"
#include "types.h"

struct Types {
    const FuncInfo *fn;
};

Types *types_infer(ffq_ctx *cx, const FuncInfo *fn, const ClassInfo *cls) {
    (void)cls;
    Types *t = ARENA_NEW(cx, Types);
    t->fn = fn;
    return t;
}

bool types_is_candidate(const Types *t, uint32_t node) {
    (void)t;
    (void)node;
    return true;
}

void types_dump(ffq_ctx *cx, const Types *t, StrBuf *out) {
    sb_printf(cx, out, "# types of %s: nothing inferred\n", t->fn->name);
}
