// arena.c: the per-compilation arena, growable strings and vectors.
//
// Consumes: the context's allocator hook. Produces: zeroed blocks that live
// until ffq_ctx_free. An allocation failure never returns to the caller: it
// jumps to the context's recovery point (set by ffq_compile), or aborts when
// no recovery point is active.
//
// Growable buffers (strings, vectors) double their capacity; in a pure bump
// arena every old copy would stay allocated, so a buffer that grows to N
// bytes would hold about 2N. Two exceptions keep that waste off the peak:
// the newest block of the current chunk grows in place when there is room,
// and blocks of BIG bytes or more get a heap block of their own (on the
// big_chunks list) that arena_grow reallocates.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffq_int.h"

#define CHUNK_MIN (64 * 1024)
#define ALIGN     16
#define BIG       (256 * 1024)
#define BIG_MAGIC 0x46465142u  // "FFQB": a block of its own

struct ArenaChunk {
    struct ArenaChunk *next, *prev;  // prev: only on the big_chunks list
    size_t size, used;
    uint32_t magic;
    _Alignas(16) unsigned char data[];
};

static size_t aligned(size_t size) {
    size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    return size ? size : ALIGN;
}

static void *big_alloc(ffq_ctx *cx, size_t size) {
    ArenaChunk *n = raw_alloc(cx, sizeof(ArenaChunk) + size);
    if (!n) arena_out_of_memory(cx);
    n->size = n->used = size;
    n->magic = BIG_MAGIC;
    n->prev = NULL;
    n->next = cx->big_chunks;
    if (n->next) n->next->prev = n;
    cx->big_chunks = n;
    cx->nbig++;
    memset(n->data, 0, size);
    return n->data;
}

static ArenaChunk *big_chunk_of(void *ptr, size_t old_size) {
    if (!ptr || old_size < BIG) return NULL;
    ArenaChunk *c = (ArenaChunk *)((unsigned char *)ptr - offsetof(ArenaChunk, data));
    return c->magic == BIG_MAGIC && c->size >= old_size ? c : NULL;
}

void ffq_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "ffq: internal error at %s:%d: %s\n", file, line, what);
    abort();
}

void arena_out_of_memory(ffq_ctx *cx) {
    cx->oom = true;
    if (cx->recover) longjmp(*cx->recover, 1);
    ffq_fail(__FILE__, __LINE__, "out of memory outside a compilation");
}

void *raw_alloc(ffq_ctx *cx, size_t size) { return cx->alloc(cx->alloc_ud, NULL, 0, size); }

void raw_free(ffq_ctx *cx, void *ptr, size_t size) {
    if (ptr) cx->alloc(cx->alloc_ud, ptr, size, 0);
}

void *arena_alloc(ffq_ctx *cx, size_t size) {
    size = aligned(size);
    if (size >= BIG) return big_alloc(cx, size);
    ArenaChunk *c = cx->chunks;
    if (!c || c->size - c->used < size) {
        size_t want = size > CHUNK_MIN ? size : CHUNK_MIN;
        if (c && c->size * 2 > want && c->size < 16 * 1024 * 1024) want = c->size * 2;
        ArenaChunk *n = raw_alloc(cx, sizeof(ArenaChunk) + want);
        if (!n) arena_out_of_memory(cx);
        n->size = want;
        n->used = 0;
        n->next = c;
        cx->chunks = n;
        c = n;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

void *arena_grow(ffq_ctx *cx, void *ptr, size_t old_size, size_t new_size) {
    if (new_size <= old_size) return ptr;
    ArenaChunk *big = big_chunk_of(ptr, old_size);
    if (big) {  // reallocate the block of its own
        size_t was = big->size;
        new_size = aligned(new_size);
        ArenaChunk *n = cx->alloc(cx->alloc_ud, big, sizeof(ArenaChunk) + was, sizeof(ArenaChunk) + new_size);
        if (!n) arena_out_of_memory(cx);
        if (n->prev) n->prev->next = n;
        else cx->big_chunks = n;
        if (n->next) n->next->prev = n;
        memset(n->data + was, 0, new_size - was);
        n->size = n->used = new_size;
        return n->data;
    }
    ArenaChunk *c = cx->chunks;
    size_t old_a = aligned(old_size), new_a = aligned(new_size);
    if (ptr && c && new_a < BIG && (unsigned char *)ptr + old_a == c->data + c->used &&
        c->size - c->used >= new_a - old_a) {  // the newest block: grow in place
        memset(c->data + c->used, 0, new_a - old_a);
        c->used += new_a - old_a;
        return ptr;
    }
    void *p = arena_alloc(cx, new_size);
    if (ptr && old_size) memcpy(p, ptr, old_size);
    return p;
}

static void free_list(ffq_ctx *cx, ArenaChunk *c) {
    while (c) {
        ArenaChunk *next = c->next;
        raw_free(cx, c, sizeof(ArenaChunk) + c->size);
        c = next;
    }
}

void arena_free_all(ffq_ctx *cx) {
    free_list(cx, cx->chunks);
    free_list(cx, cx->big_chunks);
    cx->chunks = cx->big_chunks = NULL;
    cx->nbig = 0;
}

ArenaMark arena_mark(ffq_ctx *cx) {
    return (ArenaMark){cx->chunks, cx->chunks ? cx->chunks->used : 0, cx->nbig};
}

// Chunks are pushed at the head of their lists (a big block keeps its place when it grows),
// so what came after the mark is the head of each list.
void arena_release(ffq_ctx *cx, ArenaMark m) {
    while (cx->chunks != m.chunk) {
        ffq_assert(cx->chunks);
        ArenaChunk *c = cx->chunks;
        cx->chunks = c->next;
        raw_free(cx, c, sizeof(ArenaChunk) + c->size);
    }
    if (m.chunk) {
        ffq_assert(m.chunk->used >= m.used);
        m.chunk->used = m.used;
    }
    for (; cx->nbig > m.nbig; cx->nbig--) {
        ArenaChunk *b = cx->big_chunks;
        cx->big_chunks = b->next;
        if (b->next) b->next->prev = NULL;
        raw_free(cx, b, sizeof(ArenaChunk) + b->size);
    }
}

char *arena_strndup(ffq_ctx *cx, const char *s, size_t n) {
    char *p = arena_alloc(cx, n + 1);
    if (n) memcpy(p, s, n);
    return p;
}

char *arena_strdup(ffq_ctx *cx, const char *s) { return arena_strndup(cx, s, strlen(s)); }

char *arena_vprintf(ffq_ctx *cx, const char *fmt, va_list ap) {
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    ffq_assert(n >= 0);
    char *p = arena_alloc(cx, (size_t)n + 1);
    if ((size_t)n < sizeof small) memcpy(p, small, (size_t)n + 1);
    else vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(ffq_ctx *cx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(cx, fmt, ap);
    va_end(ap);
    return p;
}

static void sb_reserve(ffq_ctx *cx, StrBuf *sb, size_t extra) {
    if (sb->len + extra + 1 <= sb->cap) return;
    size_t cap = sb->cap ? sb->cap * 2 : 64;
    while (cap < sb->len + extra + 1) cap *= 2;
    sb->data = arena_grow(cx, sb->data, sb->cap, cap);
    sb->cap = cap;
}

void sb_putn(ffq_ctx *cx, StrBuf *sb, const char *s, size_t n) {
    sb_reserve(cx, sb, n);
    if (n) memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void sb_puts(ffq_ctx *cx, StrBuf *sb, const char *s) { sb_putn(cx, sb, s, strlen(s)); }

void sb_putc(ffq_ctx *cx, StrBuf *sb, char c) { sb_putn(cx, sb, &c, 1); }

void sb_indent(ffq_ctx *cx, StrBuf *sb, int spaces) {
    for (int i = 0; i < spaces; i++) sb_putc(cx, sb, ' ');
}

void sb_printf(ffq_ctx *cx, StrBuf *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = arena_vprintf(cx, fmt, ap);
    va_end(ap);
    sb_puts(cx, sb, s);
}

const char *sb_cstr(ffq_ctx *cx, StrBuf *sb) {
    if (!sb->data) sb_reserve(cx, sb, 0), sb->data[0] = '\0';
    return sb->data;
}

void vec_push(ffq_ctx *cx, PtrVec *v, void *item) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        v->items = arena_grow(cx, v->items, v->cap * sizeof(void *), cap * sizeof(void *));
        v->cap = cap;
    }
    v->items[v->len++] = item;
}

bool str_has_prefix(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

const char *str_after_prefix(const char *s, const char *prefix) {
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

bool mem_is(const char *s, size_t n, const char *lit) { return strlen(lit) == n && memcmp(s, lit, n) == 0; }

bool mem_starts(const char *s, size_t n, const char *lit) {
    size_t m = strlen(lit);
    return m <= n && memcmp(s, lit, m) == 0;
}

bool mem_ends(const char *s, size_t n, const char *lit) {
    size_t m = strlen(lit);
    return m <= n && memcmp(s + n - m, lit, m) == 0;
}
