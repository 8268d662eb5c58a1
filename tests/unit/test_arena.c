// Unit tests of arena.c: zeroed allocations, strings, vectors, the allocator
// hook, and recovery from allocation failure.
#include "ffq_int.h"

#include <stdlib.h>

#include "check.h"

typedef struct Counting {
    size_t live, calls, fail_at;
} Counting;

static void *counting_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    Counting *c = ud;
    if (new_size == 0) {
        if (ptr) c->live -= old_size;
        free(ptr);
        return NULL;
    }
    if (c->fail_at && ++c->calls >= c->fail_at) return NULL;
    void *p = realloc(ptr, new_size);
    if (p) c->live += new_size - old_size;
    return p;
}

static void test_zeroed_and_strings(void) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    unsigned char *p = arena_alloc(cx, 100);
    bool zero = true;
    for (int i = 0; i < 100; i++) zero = zero && p[i] == 0;
    CHECK(zero);
    CHECK(((uintptr_t)p & 15) == 0);
    CHECK_EQ_STR(arena_printf(cx, "%s-%d", "a", 7), "a-7");
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(strlen(arena_printf(cx, "%s%s", big, big)) == 2 * (sizeof big - 1));
    CHECK_EQ_STR(arena_strndup(cx, "hello", 3), "hel");
    StrBuf sb = {0};
    CHECK_EQ_STR(sb_cstr(cx, &sb), "");
    for (int i = 0; i < 1000; i++) sb_putc(cx, &sb, 'a');
    sb_printf(cx, &sb, "%d", 42);
    CHECK(sb.len == 1002);
    CHECK(strcmp(sb.data + 1000, "42") == 0);
    PtrVec v = {0};
    for (intptr_t i = 0; i < 100; i++) vec_push(cx, &v, (void *)i);
    CHECK(v.len == 100 && (intptr_t)v.items[99] == 99);
    void *huge = arena_alloc(cx, 1 << 20);  // larger than a chunk
    CHECK(huge != NULL);
    ffq_ctx_free(cx);
}

static void test_hook_frees_everything(void) {
    Counting c = {0};
    ffq_ctx *cx = ffq_ctx_new(counting_alloc, &c);
    for (int i = 0; i < 1000; i++) arena_alloc(cx, 1000);
    CHECK(c.live > 1000 * 1000);
    ffq_ctx_free(cx);
    CHECK(c.live == 0);
}

// arena_release gives back every block made since its mark (chunks and blocks of their own,
// through the hook), keeps what came before, and the arena goes on from where the mark was.
static void test_mark_and_release(void) {
    Counting c = {0};
    ffq_ctx *cx = ffq_ctx_new(counting_alloc, &c);
    char *before = arena_strdup(cx, "kept");
    size_t live = c.live;
    for (int round = 0; round < 3; round++) {
        ArenaMark m = arena_mark(cx);
        for (int i = 0; i < 500; i++) arena_alloc(cx, 3000);  // new chunks
        void *big = arena_alloc(cx, 1 << 20);                 // a block of its own ..
        big = arena_grow(cx, big, 1 << 20, 3 << 20);          // .. grown
        CHECK(big != NULL && c.live > live + (3u << 20));
        arena_release(cx, m);
        CHECK(c.live == live);
        CHECK_EQ_STR(before, "kept");
        char *after = arena_strdup(cx, "next");  // the space after the mark is reused
        CHECK(after == before + 16);
        arena_release(cx, m);
    }
    ArenaMark empty = arena_mark(cx);
    arena_release(cx, empty);  // nothing since: nothing freed
    CHECK(c.live == live);
    ffq_ctx_free(cx);
    CHECK(c.live == 0);
}

int main(void) {
    test_zeroed_and_strings();
    test_hook_frees_everything();
    test_mark_and_release();
    return check_report("test_arena");
}
