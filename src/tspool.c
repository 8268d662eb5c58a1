// tspool.c: the memory tree-sitter uses during one parse, from a pool of the
// parsing context.
//
// Consumes: tree-sitter's allocation calls (its process-wide allocator hook,
// installed once, before the first parser exists). Produces: blocks carved
// from the pool of the context whose parse runs on the calling thread. A
// freed block goes to a free list of its size class and serves the next
// request of that class; when the parse has been flattened (source.c) the
// whole pool is reset at once, the tree included: nothing walks the tree to
// free it node by node. On the torch corpus, malloc and free of tree-sitter's
// millions of small blocks, and ts_tree_delete's walk, were about a tenth of
// the time of a batch.
//
// Invariants: a pool is current on a thread only inside tspool_enter ..
// tspool_leave, around tree-sitter calls that cannot unwind; every block
// made from a pool is freed or abandoned before that pool is reset (the
// parser is deleted inside the parse, the tree is abandoned after
// flattening). With no pool current, the hooks use malloc (nothing in ffq
// calls tree-sitter there, but the hooks stay correct). The hook has no user
// data, hence the one thread-local pointer; two contexts on two threads
// still never touch the same pool.
//
// Each block has an 8-byte head just before it: its size class and where it
// comes from. Blocks are 8-byte aligned, tree-sitter's largest alignment.
// Chunks come from malloc, as tree-sitter's memory did (not from the
// context's allocator hook: a failure aborts, as tree-sitter's own default
// does, since the parser cannot be unwound).
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "ffq_int.h"

enum {
    SMALL_MAX = 1024,        // 8-byte size classes up to here
    NSMALL = SMALL_MAX / 8,  // classes 1 .. NSMALL
    MEDIUM_LOG_MIN = 11,     // then powers of two: 2 KiB ..
    MEDIUM_LOG_MAX = 16,     // .. 64 KiB
    NCLASSES = NSMALL + 1 + MEDIUM_LOG_MAX - MEDIUM_LOG_MIN + 1,
    CHUNK_FIRST = 64 * 1024,      // bytes; each new chunk doubles ..
    CHUNK_MAX = 4 * 1024 * 1024,  // .. up to this
    RETAIN = 8 * 1024 * 1024,     // bytes of chunks a reset keeps for the next parse
};

enum { FROM_POOL = 0x706f6f6c, FROM_BIG = 0x62696721, FROM_HEAP = 0x68656170 };

typedef struct Head {
    uint32_t cls;   // size class (FROM_POOL)
    uint32_t from;  // FROM_*
} Head;

// A block above the largest class: malloc'd on its own, listed so that a
// reset frees the ones tree-sitter abandoned.
typedef struct Big {
    struct Big *prev, *next;
    size_t cap;
    Head head;  // last: the block follows it
} Big;

typedef struct Chunk {
    struct Chunk *next;
    size_t size;
    _Alignas(16) unsigned char data[];
} Chunk;

struct TsPool {
    void *free[NCLASSES];  // per class: freed blocks, linked through their first word
    Chunk *chunks;         // in order of creation
    Chunk *cur;            // the chunk being carved
    unsigned char *at, *end;
    Big *bigs;
    TsPool *outer;  // the thread's current pool before tspool_enter
};

static _Thread_local TsPool *current;

_Static_assert(sizeof(Head) == 8 && sizeof(Big) % 16 == 0, "block heads keep 8-byte alignment");

static void out_of_memory(void) { ffq_fail(__FILE__, __LINE__, "out of memory in the parser"); }

static Head *head_of(void *p) { return (Head *)p - 1; }

// The class of an n-byte request (n <= 64 KiB) and its capacity.
static uint32_t class_of(size_t n, size_t *cap) {
    if (n <= SMALL_MAX) {
        uint32_t c = n ? (uint32_t)((n + 7) / 8) : 1;
        *cap = (size_t)c * 8;
        return c;
    }
    uint32_t lg = MEDIUM_LOG_MIN;
    while (((size_t)1 << lg) < n) lg++;
    *cap = (size_t)1 << lg;
    return NSMALL + 1 + lg - MEDIUM_LOG_MIN;
}

static size_t cap_of(uint32_t cls) {
    return cls <= NSMALL ? (size_t)cls * 8 : (size_t)1 << (cls - NSMALL - 1 + MEDIUM_LOG_MIN);
}

// Moves the carving to a chunk with room for `need` bytes: the next kept one, or a new one.
static void next_chunk(TsPool *p, size_t need) {
    Chunk *c = p->cur ? p->cur->next : p->chunks;
    while (c && c->size < need) c = c->next;  // a kept chunk too small for this block is skipped
    if (!c) {
        size_t size = !p->cur ? CHUNK_FIRST : p->cur->size < CHUNK_MAX ? p->cur->size * 2 : CHUNK_MAX;
        if (size < need) size = need;
        c = malloc(sizeof(Chunk) + size);
        if (!c) out_of_memory();
        c->size = size;
        if (p->cur) c->next = p->cur->next, p->cur->next = c;
        else c->next = p->chunks, p->chunks = c;
    }
    p->cur = c;
    p->at = c->data;
    p->end = c->data + c->size;
}

static void *big_alloc(TsPool *p, size_t n) {
    Big *b = malloc(sizeof(Big) + n);
    if (!b) out_of_memory();
    b->cap = n;
    b->head = (Head){0, FROM_BIG};
    b->prev = NULL;
    b->next = p->bigs;
    if (b->next) b->next->prev = b;
    p->bigs = b;
    return b + 1;
}

static void big_unlink(TsPool *p, Big *b) {
    if (b->prev) b->prev->next = b->next;
    else p->bigs = b->next;
    if (b->next) b->next->prev = b->prev;
}

static void *pool_alloc(TsPool *p, size_t n) {
    if (n > ((size_t)1 << MEDIUM_LOG_MAX)) return big_alloc(p, n);
    size_t cap;
    uint32_t cls = class_of(n, &cap);
    void *blk = p->free[cls];
    if (blk) {
        p->free[cls] = *(void **)blk;
        return blk;
    }
    if ((size_t)(p->end - p->at) < sizeof(Head) + cap) next_chunk(p, sizeof(Head) + cap);
    Head *h = (Head *)p->at;
    *h = (Head){cls, FROM_POOL};
    p->at += sizeof(Head) + cap;
    return h + 1;
}

static void *heap_alloc(size_t n) {
    Head *h = malloc(sizeof(Head) + n);
    if (!h) out_of_memory();
    *h = (Head){0, FROM_HEAP};
    return h + 1;
}

static void *hook_malloc(size_t n) { return current ? pool_alloc(current, n) : heap_alloc(n); }

static void *hook_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) out_of_memory();
    void *blk = hook_malloc(count * size);
    memset(blk, 0, count * size);
    return blk;
}

static void hook_free(void *blk) {
    if (!blk) return;
    Head *h = head_of(blk);
    if (h->from == FROM_HEAP) {
        free(h);
        return;
    }
    ffq_assert(current && (h->from == FROM_POOL || h->from == FROM_BIG));
    if (h->from == FROM_BIG) {
        Big *b = (Big *)blk - 1;
        big_unlink(current, b);
        free(b);
        return;
    }
    *(void **)blk = current->free[h->cls];
    current->free[h->cls] = blk;
}

static void *hook_realloc(void *blk, size_t n) {
    if (!blk) return hook_malloc(n);
    Head *h = head_of(blk);
    if (h->from == FROM_HEAP) {
        Head *g = realloc(h, sizeof(Head) + n);
        if (!g) out_of_memory();
        return g + 1;
    }
    ffq_assert(current && (h->from == FROM_POOL || h->from == FROM_BIG));
    if (h->from == FROM_BIG) {
        Big *b = (Big *)blk - 1;
        if (n <= b->cap) return blk;
        big_unlink(current, b);
        Big *g = realloc(b, sizeof(Big) + n);
        if (!g) out_of_memory();
        g->cap = n;
        g->prev = NULL;
        g->next = current->bigs;
        if (g->next) g->next->prev = g;
        current->bigs = g;
        return g + 1;
    }
    size_t cap = cap_of(h->cls);
    if (n <= cap) return blk;
    void *to = pool_alloc(current, n);
    memcpy(to, blk, cap);
    hook_free(blk);
    return to;
}

static void install(void) { ts_set_allocator(hook_malloc, hook_calloc, hook_realloc, hook_free); }

void tspool_prepare(ffq_ctx *cx) {
    if (!cx->ts_pool) cx->ts_pool = ARENA_NEW(cx, TsPool);
}

void tspool_enter(ffq_ctx *cx) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
    tspool_prepare(cx);
    cx->ts_pool->outer = current;
    current = cx->ts_pool;
}

void tspool_leave(ffq_ctx *cx) {
    ffq_assert(current == cx->ts_pool);
    current = cx->ts_pool->outer;
}

// Drops every block; the first chunks, up to RETAIN bytes, stay for the next parse.
void tspool_reset(ffq_ctx *cx) {
    TsPool *p = cx->ts_pool;
    if (!p) return;
    while (p->bigs) {
        Big *b = p->bigs;
        p->bigs = b->next;
        free(b);
    }
    memset(p->free, 0, sizeof p->free);
    size_t kept = 0;
    Chunk **link = &p->chunks;
    while (*link) {
        Chunk *c = *link;
        if (kept + c->size <= RETAIN) {
            kept += c->size;
            link = &c->next;
        } else {
            *link = c->next;
            free(c);
        }
    }
    p->cur = NULL;
    p->at = p->end = NULL;
}

void tspool_free(ffq_ctx *cx) {
    TsPool *p = cx->ts_pool;
    if (!p) return;
    tspool_reset(cx);
    while (p->chunks) {
        Chunk *c = p->chunks;
        p->chunks = c->next;
        free(c);
    }
    cx->ts_pool = NULL;
}
