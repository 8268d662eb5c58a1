// containers.c: NodeMap and StrMap (see containers.h). Open addressing with
// linear probing over power-of-two tables, grown to stay at most half full.
#include "containers.h"

#include <string.h>

uint64_t hash_bytes(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static size_t node_slot(uint32_t key, size_t cap) { return (key * 2654435761u) & (cap - 1); }

void *nodemap_get(const NodeMap *m, uint32_t key) {
    if (!m->cap) return NULL;
    for (size_t i = node_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) return m->vals[i];
        if (m->keys[i] == UINT32_MAX) return NULL;
    }
}

void nodemap_put(ffq_ctx *cx, NodeMap *m, uint32_t key, void *val) {
    ffq_assert(key != UINT32_MAX);
    if ((m->len + 1) * 2 > m->cap) {
        NodeMap n = {0};
        n.cap = m->cap ? m->cap * 2 : 16;
        n.keys = ARENA_ARRAY(cx, uint32_t, n.cap);
        n.vals = ARENA_ARRAY(cx, void *, n.cap);
        memset(n.keys, 0xff, n.cap * sizeof(uint32_t));
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i] != UINT32_MAX) nodemap_put(cx, &n, m->keys[i], m->vals[i]);
        *m = n;
    }
    size_t i = node_slot(key, m->cap);
    while (m->keys[i] != UINT32_MAX && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == UINT32_MAX) m->len++;
    m->keys[i] = key;
    m->vals[i] = val;
}

PtrVec *nodemap_vec(ffq_ctx *cx, NodeMap *m, uint32_t key) {
    PtrVec *v = nodemap_get(m, key);
    if (!v) {
        v = ARENA_NEW(cx, PtrVec);
        nodemap_put(cx, m, key, v);
    }
    return v;
}

// The slot holding key, or the empty slot where it would go.
static StrSlot *str_slot(const StrMap *m, const char *key, size_t len) {
    size_t i = (size_t)hash_bytes(HASH_SEED, key, len) & (m->cap - 1);
    for (;; i = (i + 1) & (m->cap - 1)) {
        StrSlot *s = &m->slots[i];
        if (!s->key || (s->len == len && memcmp(s->key, key, len) == 0)) return s;
    }
}

void *strmap_get(const StrMap *m, const char *key, size_t len) {
    if (!m->cap) return NULL;
    return str_slot(m, key, len)->val;
}

static void strmap_grow(ffq_ctx *cx, StrMap *m) {
    StrMap n = {.cap = m->cap ? m->cap * 2 : 32};
    n.slots = ARENA_ARRAY(cx, StrSlot, n.cap);
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) *str_slot(&n, m->slots[i].key, m->slots[i].len) = m->slots[i];
    n.len = m->len;
    *m = n;
}

void strmap_put(ffq_ctx *cx, StrMap *m, const char *key, size_t len, void *val) {
    if ((m->len + 1) * 2 > m->cap) strmap_grow(cx, m);
    StrSlot *s = str_slot(m, key, len);
    if (!s->key) {
        s->key = key;
        s->len = len;
        m->len++;
    }
    s->val = val;
}

bool strset_add(ffq_ctx *cx, StrMap *m, const char *s) {
    size_t len = strlen(s);
    if (strmap_get(m, s, len)) return false;
    strmap_put(cx, m, s, len, (void *)s);
    return true;
}

const char *str_intern(ffq_ctx *cx, StrMap *m, const char *s, size_t len) {
    const char *have = strmap_get(m, s, len);
    if (have) return have;
    const char *copy = arena_strndup(cx, s, len);
    strmap_put(cx, m, copy, len, (void *)copy);
    return copy;
}
