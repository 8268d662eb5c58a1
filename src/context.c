// context.c: the lifecycle of a compilation context.
//
// Consumes: an optional allocator hook. Produces: an ffq_ctx that owns the
// arena and every object with its own lifecycle (tree-sitter's pool, which
// holds the tree while a parse runs). ffq_ctx_free releases all of it at once.
#include <stdlib.h>
#include <string.h>

#include "ffq_int.h"

static void *default_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    (void)ud;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

ffq_options ffq_options_default(void) {
    ffq_options o;
    memset(&o, 0, sizeof o);
    o.type_inference = true;
    return o;
}

ffq_ctx *ffq_ctx_new(ffq_alloc_fn alloc, void *ud) {
    if (!alloc) alloc = default_alloc;
    ffq_ctx *cx = alloc(ud, NULL, 0, sizeof *cx);
    if (!cx) return NULL;
    memset(cx, 0, sizeof *cx);
    cx->alloc = alloc;
    cx->alloc_ud = ud;
    cx->opt = ffq_options_default();
    return cx;
}

void ffq_ctx_free(ffq_ctx *cx) {
    if (!cx) return;
    tspool_free(cx);  // the tree of a parse an allocation failure unwound, if any
    raw_free(cx, cx->live_scratch, cx->live_scratch_size);
    arena_free_all(cx);
    cx->alloc(cx->alloc_ud, cx, sizeof *cx, 0);
}

ffq_stats ffq_get_stats(const ffq_ctx *cx) { return cx->stats; }

const char *ffq_output(const ffq_ctx *cx, size_t *len) {
    if (len) *len = cx->output ? cx->output_len : 0;
    return cx->output;
}

const char *ffq_version(void) { return FFQ_VERSION; }
