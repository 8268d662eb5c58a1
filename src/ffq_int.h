// ffq_int.h: the compilation context and the small shared internal types.
// Each pass has its own header (base.h, containers.h, cst.h, optable.h,
// program.h, types.h, rewrite.h, plan.h, emit.h, format.h); this one holds
// only what the context needs to name.
#ifndef FFQ_FFQ_INT_H
#define FFQ_FFQ_INT_H

#include <setjmp.h>

#include "base.h"
#include "cst.h"

typedef struct OpTable OpTable;  // optable.h

// --- arena.c ---

typedef struct ArenaChunk ArenaChunk;
void arena_free_all(ffq_ctx *cx);
FFQ_NORETURN void arena_out_of_memory(ffq_ctx *cx);

// --- diag.c ---

typedef struct Diag {
    DiagSeverity sev;
    const SrcFile *file;  // NULL: no position
    uint32_t line, col;   // 1-based
    uint32_t seq, file_rank;
    const char *code;
    const char *msg;
} Diag;

// --- rewrite_candidates.c ---

typedef struct MissingOp {  // a table-like callable not in the operator table
    const char *name;
    const SrcFile *file;
    uint32_t offset;  // its first call
    size_t count;
} MissingOp;

// --- cache.c ---

// The parsed module file at path from cx->cache (which must be set), parsed on
// first use: its outline when it has one (cst->outline), else its full tree;
// false when the file cannot be used. *entry is for cache_module_full.
bool cache_module(ffq_ctx *cx, const char *path, const SrcFile **file, Cst **cst, void **entry);
// The full tree of that file (the same bytes), parsed once per run; NULL when
// it cannot be made.
Cst *cache_module_full(ffq_ctx *cx, void *entry);
// The built-in operator table, loaded once per cache (immutable, shared by
// the compilations of the run); NULL when it could not be loaded there (the
// caller loads its own copy, which reports what went wrong).
const OpTable *cache_default_optable(ffq_ctx *cx);
// The parse of an input file that the run's cache already holds (imported by
// an earlier compilation, whole tree made: same path, unchanged, same bytes,
// no syntax errors);
// its file is cst->file. NULL when there is none (or no cache).
Cst *cache_input(ffq_ctx *cx, const SrcFile *file);
// probe(base) ("is there a C extension base.*so?"), answered once per run.
bool cache_has_extension(ffq_ctx *cx, const char *base, bool (*probe)(const char *base));
// cx's grammar tables (cx->lang) from the cache, made by init(own) once per
// run and read-only; false when they could not be made there.
bool cache_lang(ffq_ctx *cx, void (*init)(ffq_ctx *own));

// --- diff.c ---

const char *diff_unified(ffq_ctx *cx, const char *a, size_t alen, const char *b, size_t blen,
                         const char *aname, const char *bname, bool color);

// --- tspool.c: tree-sitter's memory ---

typedef struct TsPool TsPool;
// Around tree-sitter calls that allocate (no unwinding in between): what
// tree-sitter allocates on this thread comes from cx's pool.
void tspool_enter(ffq_ctx *cx);
void tspool_leave(ffq_ctx *cx);
// Makes cx's pool now (it lives in the arena; see source_prepare).
void tspool_prepare(ffq_ctx *cx);
// Everything tree-sitter allocated from cx's pool is gone (trees included).
void tspool_reset(ffq_ctx *cx);
void tspool_free(ffq_ctx *cx);

// --- the context (context.c; compile.c runs it) ---

struct ffq_ctx {
    ffq_alloc_fn alloc;
    void *alloc_ud;
    ArenaChunk *chunks;
    ArenaChunk *big_chunks;  // one block each, grown in place (arena.c)
    size_t nbig;             // how many (arena_release frees the newest ones)
    ffq_cache *cache;        // parsed imported modules shared across contexts (cache.c)
    jmp_buf *recover;        // the recovery point of the running ffq_compile, if any
    bool oom;
    bool used;  // a context compiles once

    ffq_options opt;
    PtrVec diags;  // Diag *
    const char *diag_text;
    ffq_stats stats;

    OpTable *optable;      // read-only once loaded (it may be the cache's shared copy)
    struct Program *prog;  // the modules of the run (program.c)
    CstLang lang;          // symbol and field ids of the Python grammar
    TsPool *ts_pool;       // tree-sitter's memory while a parse runs (tspool.c), kept for the next parse
    void *live_scratch;    // the flattening walk's stack (source.c), kept for the next parse
    size_t live_scratch_size;

    PtrVec missing_ops;  // MissingOp *, reported as notes at the end

    const char *output;
    size_t output_len;
};

#endif
