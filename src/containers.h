// containers.h: the maps every pass uses, all in the arena, one hash function.
//
// NodeMap: CST node index -> pointer. StrMap: byte string -> pointer (also a
// set of strings, and an interning table). Lookups never allocate; a put may
// grow the table. Nothing iterates a map: output order always comes from
// source order or a PtrVec, never from the hash layout.
#ifndef FFQ_CONTAINERS_H
#define FFQ_CONTAINERS_H

#include "base.h"

// FNV-1a over n bytes, continuing from `h` (start with HASH_SEED).
#define HASH_SEED 14695981039346656037ull  // the FNV-1a offset basis
uint64_t hash_bytes(uint64_t h, const void *p, size_t n);

typedef struct NodeMap {
    uint32_t *keys;  // UINT32_MAX (CST_NONE) = empty slot
    void **vals;
    size_t cap, len;
} NodeMap;

void *nodemap_get(const NodeMap *m, uint32_t key);
void nodemap_put(ffq_ctx *cx, NodeMap *m, uint32_t key, void *val);  // replaces
// The PtrVec stored under key, created empty on first use.
PtrVec *nodemap_vec(ffq_ctx *cx, NodeMap *m, uint32_t key);

typedef struct StrSlot {
    const char *key;  // NULL = empty slot; not copied by strmap_put
    size_t len;
    void *val;
} StrSlot;

typedef struct StrMap {
    StrSlot *slots;
    size_t cap, len;
} StrMap;

// NULL when the key is absent.
void *strmap_get(const StrMap *m, const char *key, size_t len);
// Sets (or replaces) the value of key; key must live as long as the map.
void strmap_put(ffq_ctx *cx, StrMap *m, const char *key, size_t len, void *val);
// Set use: adds the NUL-terminated s; false when it was already present.
bool strset_add(ffq_ctx *cx, StrMap *m, const char *s);
// The one arena copy of the byte string (equal strings give equal pointers).
const char *str_intern(ffq_ctx *cx, StrMap *m, const char *s, size_t len);

#endif
