// rewrite_env.c: the environments of walk 2 (rewrite_flow.c), name -> the producers that may
// reach a point, as persistent hash tries.
//
// The walk copies an environment at every branch, loop pass, comprehension and `try`, and
// joins the copies afterwards. With a copied list that costs the number of names at each
// of them: a long body with many names and many branches (generated code, unrolled layers)
// went quadratic in time and memory. Here an environment is a pointer to an immutable trie
// (32 slots a level, by 5 bits of the key's hash): a copy is the pointer, setting a name
// copies the few nodes on its path, and a join walks only where the two tries differ
// (subtries they share are the same pointer and are skipped), so a branch costs what it
// changes.
#include <string.h>

#include "rewrite_int.h"

enum { BITS = 5, FANOUT = 1 << BITS };

// A trie node: `bitmap` says which of the 32 slots are used; slot[i] holds, in slot order,
// an entry chain (its bit set in `leaves`) or a child node.
struct EnvNode {
    uint32_t bitmap, leaves;
    const void *slot[];
};

uint64_t rw_env_hash_mask = ~0ull;

static uint64_t key_hash(const char *key) {
    uint64_t h = hash_bytes(HASH_SEED, key, strlen(key));
    h ^= h >> 33;  // spread FNV's bits: the trie takes them 5 at a time from the low end
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h & rw_env_hash_mask;
}

static unsigned slot_of(uint64_t hash, unsigned depth) {
    return depth * BITS >= 64 ? 0 : (unsigned)(hash >> (depth * BITS)) & (FANOUT - 1);
}

static unsigned index_of(uint32_t bitmap, unsigned slot) {
    return (unsigned)__builtin_popcount(bitmap & ((1u << slot) - 1));
}

static EnvNode *node_new(ffq_ctx *cx, uint32_t bitmap, uint32_t leaves) {
    EnvNode *n = arena_alloc(cx, sizeof(EnvNode) + sizeof(void *) * (size_t)__builtin_popcount(bitmap));
    n->bitmap = bitmap;
    n->leaves = leaves;
    return n;
}

static EnvNode *node_clone(ffq_ctx *cx, const EnvNode *n) {
    EnvNode *m = node_new(cx, n->bitmap, n->leaves);
    memcpy(m->slot, n->slot, sizeof(void *) * (size_t)__builtin_popcount(n->bitmap));
    return m;
}

const EnvEntry *rw_env_find(const Env *e, const char *key) {
    uint64_t h = key_hash(key);
    const EnvNode *n = e->root;
    for (unsigned depth = 0; n; depth++) {
        unsigned s = slot_of(h, depth);
        if (!(n->bitmap & (1u << s))) return NULL;
        const void *p = n->slot[index_of(n->bitmap, s)];
        if (!(n->leaves & (1u << s))) {
            n = p;
            continue;
        }
        for (const EnvEntry *en = p; en; en = en->next)
            if (en->hash == h && strcmp(en->key, key) == 0) return en;
        return NULL;
    }
    return NULL;
}

// A copy of entry `en` (prods shared) that is followed by `next` in its chain.
static EnvEntry *entry_with_next(ffq_ctx *cx, const EnvEntry *en, const EnvEntry *next) {
    EnvEntry *c = ARENA_NEW(cx, EnvEntry);
    *c = *en;
    c->next = next;
    return c;
}

// The chain `chain` with `add` (an entry without successors) put in: replacing the entry of
// the same key, else appended.
static const EnvEntry *chain_put(ffq_ctx *cx, const EnvEntry *chain, const EnvEntry *add) {
    if (!chain) return add;
    if (strcmp(chain->key, add->key) == 0) return entry_with_next(cx, add, chain->next);
    return entry_with_next(cx, chain, chain_put(cx, chain->next, add));
}

// A node at `depth` holding the two chains a and b, whose hashes differ.
static const EnvNode *node_of_two(ffq_ctx *cx, const EnvEntry *a, const EnvEntry *b, unsigned depth) {
    unsigned sa = slot_of(a->hash, depth), sb = slot_of(b->hash, depth);
    if (sa == sb) {
        EnvNode *n = node_new(cx, 1u << sa, 0);
        n->slot[0] = node_of_two(cx, a, b, depth + 1);
        return n;
    }
    EnvNode *n = node_new(cx, (1u << sa) | (1u << sb), (1u << sa) | (1u << sb));
    n->slot[sa < sb ? 0 : 1] = a;
    n->slot[sa < sb ? 1 : 0] = b;
    return n;
}

// The trie n (at depth) with entry `add` put in.
static const EnvNode *node_put(ffq_ctx *cx, const EnvNode *n, const EnvEntry *add, unsigned depth) {
    unsigned s = slot_of(add->hash, depth);
    if (!n) {
        EnvNode *m = node_new(cx, 1u << s, 1u << s);
        m->slot[0] = add;
        return m;
    }
    unsigned i = index_of(n->bitmap, s);
    if (!(n->bitmap & (1u << s))) {  // a free slot: a node one slot wider
        unsigned count = (unsigned)__builtin_popcount(n->bitmap);
        EnvNode *m = node_new(cx, n->bitmap | (1u << s), n->leaves | (1u << s));
        memcpy(m->slot, n->slot, sizeof(void *) * i);
        m->slot[i] = add;
        memcpy(m->slot + i + 1, n->slot + i, sizeof(void *) * (count - i));
        return m;
    }
    EnvNode *m = node_clone(cx, n);
    if (!(n->leaves & (1u << s))) {
        m->slot[i] = node_put(cx, n->slot[i], add, depth + 1);
        return m;
    }
    const EnvEntry *chain = n->slot[i];
    if (chain->hash == add->hash) {
        m->slot[i] = chain_put(cx, chain, add);
    } else {
        m->slot[i] = node_of_two(cx, chain, add, depth + 1);
        m->leaves &= ~(1u << s);
    }
    return m;
}

void rw_env_set(RwState *a, Env *e, Prod *p) {
    EnvEntry *en = ARENA_NEW(a->cx, EnvEntry);
    en->key = p->key;
    en->hash = key_hash(p->key);
    ProdList *l = ARENA_NEW(a->cx, ProdList);
    l->p = p;
    en->prods = l;
    e->root = node_put(a->cx, e->root, en, 0);
}

// --- joins ---

// The joins below tell producers apart by a stamp, not by comparing every pair: a body of
// `if c: x = f(x)` statements gives x one more producer per statement, and comparing each
// producer of one side with those of the other made those joins cubic in the statements.
static _Thread_local uint64_t union_stamp;

// A new list node of p after *last (or as *head).
static void list_append(ffq_ctx *cx, ProdList **head, ProdList **last, Prod *p) {
    ProdList *n = ARENA_NEW(cx, ProdList);
    n->p = p;
    if (*last) (*last)->next = n;
    else *head = n;
    *last = n;
}

// d's producers followed by those of s it lacks: d itself when there are none. d's list is
// copied; s's list is shared when none of it is d's (`if c: x = f(x)`: the branch's one
// producer, then all of those before the if), else its new producers are copied.
static const EnvEntry *entry_union(ffq_ctx *cx, const EnvEntry *d, const EnvEntry *s, bool *grew) {
    if (d == s) return d;
    uint64_t stamp = ++union_stamp;
    for (const ProdList *l = d->prods; l; l = l->next) l->p->union_stamp = stamp;
    size_t fresh = 0, all = 0;
    for (const ProdList *l = s->prods; l; l = l->next, all++) fresh += l->p->union_stamp != stamp;
    if (!fresh) return d;
    ProdList *head = NULL, *last = NULL, *tail = NULL, *tail_last = NULL;
    if (fresh < all) {
        for (const ProdList *l = s->prods; l; l = l->next) {
            if (l->p->union_stamp == stamp) continue;
            l->p->union_stamp = stamp;
            list_append(cx, &tail, &tail_last, l->p);
        }
    }
    for (const ProdList *l = d->prods; l; l = l->next) list_append(cx, &head, &last, l->p);
    last->next = fresh < all ? tail : s->prods;
    EnvEntry *u = ARENA_NEW(cx, EnvEntry);
    u->key = d->key;
    u->hash = d->hash;
    u->prods = head;
    *grew = true;
    return u;
}

// Two chains of one hash joined: d's entries (each joined with s's of the same key), then
// s's other entries. d itself when nothing changes.
static const EnvEntry *chain_union(ffq_ctx *cx, const EnvEntry *d, const EnvEntry *s, bool *grew) {
    if (d == s) return d;
    const EnvEntry *out = d;
    for (const EnvEntry *se = s; se; se = se->next) {
        const EnvEntry *de = out;
        while (de && strcmp(de->key, se->key) != 0) de = de->next;
        const EnvEntry *joined = de ? entry_union(cx, de, se, grew) : entry_with_next(cx, se, NULL);
        if (!de) *grew = true;
        if (joined != de) out = chain_put(cx, out, joined);
    }
    return out;
}

static const EnvNode *node_union(ffq_ctx *cx, const EnvNode *d, const EnvNode *s, unsigned depth, bool *grew);

// A chain at `depth` as a node one level down (to be joined with a node there).
static const EnvNode *chain_as_node(ffq_ctx *cx, const EnvEntry *chain, unsigned depth) {
    EnvNode *n = node_new(cx, 1u << slot_of(chain->hash, depth), 1u << slot_of(chain->hash, depth));
    n->slot[0] = chain;
    return n;
}

// The join of two slots (each a chain when `leaf`, else a node) at `depth`; *is_leaf says
// what the result is.
static const void *slot_union(ffq_ctx *cx, const void *d, bool d_leaf, const void *s, bool s_leaf,
                              unsigned depth, bool *grew, bool *is_leaf) {
    if (d_leaf && s_leaf) {
        const EnvEntry *dc = d, *sc = s;
        if (dc->hash == sc->hash) {
            *is_leaf = true;
            return chain_union(cx, dc, sc, grew);
        }
        *is_leaf = false;
        *grew = true;
        return node_union(cx, chain_as_node(cx, dc, depth + 1), chain_as_node(cx, sc, depth + 1), depth + 1,
                          grew);
    }
    *is_leaf = false;
    const EnvNode *dn = d_leaf ? chain_as_node(cx, d, depth + 1) : d;
    const EnvNode *sn = s_leaf ? chain_as_node(cx, s, depth + 1) : s;
    return node_union(cx, dn, sn, depth + 1, grew);
}

static const EnvNode *node_union(ffq_ctx *cx, const EnvNode *d, const EnvNode *s, unsigned depth,
                                 bool *grew) {
    if (d == s || !s) return d;
    if (!d) {
        *grew = true;
        return s;
    }
    uint32_t bitmap = d->bitmap | s->bitmap;
    EnvNode *m = node_new(cx, bitmap, 0);
    bool changed = bitmap != d->bitmap;
    for (uint32_t rest = bitmap, i = 0; rest; rest &= rest - 1, i++) {
        unsigned slot = (unsigned)__builtin_ctz(rest);
        uint32_t bit = 1u << slot;
        bool in_d = d->bitmap & bit, in_s = s->bitmap & bit;
        const void *dp = in_d ? d->slot[index_of(d->bitmap, slot)] : NULL;
        const void *sp = in_s ? s->slot[index_of(s->bitmap, slot)] : NULL;
        bool leaf;
        const void *out;
        if (!in_s) {
            out = dp, leaf = d->leaves & bit;
        } else if (!in_d) {
            out = sp, leaf = s->leaves & bit, *grew = true;
        } else {
            out = slot_union(cx, dp, d->leaves & bit, sp, s->leaves & bit, depth, grew, &leaf);
            changed |= out != dp || leaf != (bool)(d->leaves & bit);
        }
        m->slot[i] = out;
        if (leaf) m->leaves |= bit;
    }
    return changed ? m : d;
}

bool rw_env_union(RwState *a, Env *dst, const Env *src) {
    bool grew = false;
    dst->root = node_union(a->cx, dst->root, src->root, 0, &grew);
    return grew;
}

// The join is associative (producers and names keep the order of their first appearance), so
// the environments are joined pairwise, as a balanced tree: joined one after another into
// one result, a name that each of n branches (an elif chain, except clauses, a loop's
// breaks) binds anew was copied n times with up to n producers.
void rw_env_union_all(RwState *a, Env *dst, PtrVec *envs) {
    size_t n = envs->len;
    while (n > 1) {
        size_t m = 0;
        for (size_t i = 0; i + 1 < n; i += 2) {
            Env *e = ARENA_NEW(a->cx, Env);
            *e = *(const Env *)envs->items[i];
            rw_env_union(a, e, envs->items[i + 1]);
            envs->items[m++] = e;
        }
        if (n % 2) envs->items[m++] = envs->items[n - 1];
        n = m;
    }
    if (n) rw_env_union(a, dst, envs->items[0]);
}
