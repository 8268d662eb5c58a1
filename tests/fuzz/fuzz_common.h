// fuzz_common.h: what the three libFuzzer targets share: a counting allocator
// hook, so that a context that does not give back every byte it took is
// reported as a leak (libFuzzer's -detect_leaks only sees malloc, and the
// arena's chunks would hide a missing ffq_ctx_free), and a recovery point for
// the internal entry points that normally run under ffq_compile's.
#ifndef FFQ_FUZZ_COMMON_H
#define FFQ_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "ffq_int.h"

typedef struct FuzzAlloc {
    size_t live;
} FuzzAlloc;

static void *fuzz_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    FuzzAlloc *a = ud;
    if (new_size == 0) {
        if (ptr) a->live -= old_size;
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, new_size);
    if (p) a->live += new_size - (ptr ? old_size : 0);
    return p;
}

// Frees the context and aborts (a libFuzzer crash) if any byte is still live.
static void fuzz_ctx_free(ffq_ctx *cx, FuzzAlloc *a) {
    ffq_ctx_free(cx);
    if (a->live != 0) {
        fprintf(stderr, "fuzz: %zu bytes still allocated after ffq_ctx_free\n", a->live);
        abort();
    }
}

#endif
