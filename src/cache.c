// cache.c: parsed imported modules shared by the compilations of one run.
//
// Consumes: the path of a module file a compilation imports. Produces: its
// SrcFile and Cst (its outline when it has one, and its whole tree once a
// compilation asks for it), read and parsed once per run instead of once per input
// file (converting a package tree imports torch's own modules for every file:
// re-parsing them was most of the time of a batch). Entries are keyed by path
// and checked against the file's device, inode, size and modification time on
// every use, so an edited file is parsed again. What is cached is immutable
// once made and lives in the cache's own arena (a private context) until
// ffq_cache_free; a mutex makes lookups safe from several threads.
// Without a cache (the default) every context parses for itself.
// The cache also holds the built-in operator table, parsed once: loading its
// YAML was most of the fixed cost of compiling one small file. And an input
// file that an earlier compilation of the run imported (converting a package
// tree, some of its modules are imported by others first) reuses that parse
// when its whole tree was made (not only its outline): same path, unchanged
// on disk, same bytes.
#include "containers.h"
#include "ffq_int.h"
#include "optable.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct CacheEntry {
    const char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    const SrcFile *file;  // NULL: the file is unusable (not UTF-8, too deep, unreadable)
    Cst *cst;             // its outline (source_parse_outline) when it has one, else the full tree
    Cst *full;            // the full tree once parsed (cst itself when that is not an outline)
    bool full_tried;
} CacheEntry;

struct ffq_cache {
    pthread_mutex_t lock;
    ffq_ctx *own;            // arena of the maps, entries, files and trees
    StrMap entries;          // path -> CacheEntry *, the newest per path
    const OpTable *optable;  // the built-in table, once loaded
    bool optable_tried;
    StrMap externs;  // "dir/pkg/mod" -> EXT_YES / EXT_NO: is there a C extension
};

ffq_cache *ffq_cache_new(void) {
    ffq_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->own = ffq_ctx_new(NULL, NULL);
    if (!c->own || pthread_mutex_init(&c->lock, NULL) != 0) {
        ffq_ctx_free(c->own);
        free(c);
        return NULL;
    }
    return c;
}

void ffq_cache_free(ffq_cache *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->lock);
    ffq_ctx_free(c->own);
    free(c);
}

void ffq_ctx_use_cache(ffq_ctx *cx, ffq_cache *cache) { cx->cache = cache; }

static bool same_version(const CacheEntry *e, const struct stat *st) {
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

// A new entry for the file at `path`, read and parsed into the cache's own
// context and stored as the path's newest; NULL if that ran out of memory
// (the map then still holds the entry it had).
static CacheEntry *parse_into(ffq_cache *c, const char *path, const struct stat *st) {
    ffq_ctx *own = c->own;
    jmp_buf jb;
    own->recover = &jb;
    if (setjmp(jb)) {
        own->recover = NULL;
        return NULL;
    }
    CacheEntry *e = ARENA_NEW(own, CacheEntry);
    e->path = arena_strdup(own, path);
    e->dev = st->st_dev, e->ino = st->st_ino, e->size = st->st_size, e->mtime = st->st_mtim;
    SrcFile *f = srcfile_read(own, path);
    if (f) f = srcfile_decode(own, f);
    own->diags.len = 0;  // a read error is the importer's business, not a diagnostic
    own->stats.errors = 0;
    if (f && srcfile_invalid_utf8(f) == UINT32_MAX) {
        Cst *cst = source_parse_outline(own, f);
        if (!cst) cst = source_parse_quiet(own, f);
        if (cst && !cst->too_deep) e->file = cst->file, e->cst = cst;
        if (cst && !cst->outline) e->full = cst, e->full_tried = true;
    }
    strmap_put(own, &c->entries, e->path, strlen(e->path), e);
    own->recover = NULL;
    return e;
}

// The parsed module file at `path` from cx's cache, parsing it on first use
// (its outline when it has one). False when the file cannot be used; an
// allocation failure unwinds cx.
bool cache_module(ffq_ctx *cx, const char *path, const SrcFile **file, Cst **cst, void **entry) {
    ffq_cache *c = cx->cache;
    struct stat st;
    if (stat(path, &st) != 0) return false;
    pthread_mutex_lock(&c->lock);
    CacheEntry *e = strmap_get(&c->entries, path, strlen(path));
    if (!e || !same_version(e, &st)) e = parse_into(c, path, &st);
    *file = e ? e->file : NULL;
    *cst = e ? e->cst : NULL;
    *entry = e;
    pthread_mutex_unlock(&c->lock);
    if (!e) arena_out_of_memory(cx);
    return *file != NULL;
}

// The full tree of an entry cache_module returned, parsed from the same bytes
// on first use; NULL when it cannot be made.
Cst *cache_module_full(ffq_ctx *cx, void *entry) {
    ffq_cache *c = cx->cache;
    CacheEntry *e = entry;
    pthread_mutex_lock(&c->lock);
    if (!e->full_tried && e->file) {
        ffq_ctx *own = c->own;
        jmp_buf jb;
        own->recover = &jb;
        if (setjmp(jb) == 0) {
            e->full = source_parse_quiet(own, e->file);
            e->full_tried = true;  // out of memory: tried again next time
        }
        own->recover = NULL;
    }
    Cst *full = e->full;
    pthread_mutex_unlock(&c->lock);
    return full;
}

const OpTable *cache_default_optable(ffq_ctx *cx) {
    ffq_cache *c = cx->cache;
    pthread_mutex_lock(&c->lock);
    if (!c->optable_tried) {
        c->optable_tried = true;
        ffq_ctx *own = c->own;
        jmp_buf jb;
        own->recover = &jb;
        if (setjmp(jb) == 0) {
            OpTable *t = optable_new(own);
            if (optable_load_default(own, t)) c->optable = t;
        }
        own->recover = NULL;
        own->diags.len = 0;
        own->stats.errors = 0;
    }
    const OpTable *t = c->optable;
    pthread_mutex_unlock(&c->lock);
    return t;
}

Cst *cache_input(ffq_ctx *cx, const SrcFile *file) {
    ffq_cache *c = cx->cache;
    struct stat st;
    if (!c || stat(file->path, &st) != 0) return NULL;
    pthread_mutex_lock(&c->lock);
    const CacheEntry *e = strmap_get(&c->entries, file->path, strlen(file->path));
    bool same = e && e->file && e->full && same_version(e, &st) && !e->full->has_errors &&
                !e->full->too_deep && e->file->len == file->len &&
                memcmp(e->file->data, file->data, file->len) == 0;
    Cst *cst = same ? e->full : NULL;
    pthread_mutex_unlock(&c->lock);
    return cst;
}

enum { EXT_NO = 1, EXT_YES = 2 };

bool cache_has_extension(ffq_ctx *cx, const char *base, bool (*probe)(const char *base)) {
    ffq_cache *c = cx->cache;
    size_t n = strlen(base);
    pthread_mutex_lock(&c->lock);
    uintptr_t known = (uintptr_t)strmap_get(&c->externs, base, n);
    pthread_mutex_unlock(&c->lock);
    if (known) return known == EXT_YES;
    bool found = probe(base);
    ffq_ctx *own = c->own;
    jmp_buf jb;
    pthread_mutex_lock(&c->lock);
    own->recover = &jb;
    if (setjmp(jb) == 0 && !strmap_get(&c->externs, base, n))  // out of memory: not remembered
        strmap_put(own, &c->externs, arena_strndup(own, base, n), n,
                   (void *)(uintptr_t)(found ? EXT_YES : EXT_NO));
    own->recover = NULL;
    pthread_mutex_unlock(&c->lock);
    return found;
}

bool cache_lang(ffq_ctx *cx, void (*init)(ffq_ctx *own)) {
    ffq_cache *c = cx->cache;
    ffq_ctx *own = c->own;
    jmp_buf jb;
    pthread_mutex_lock(&c->lock);
    own->recover = &jb;
    if (setjmp(jb) == 0 && !own->lang.lang) init(own);
    own->recover = NULL;
    bool ok = own->lang.lang && own->lang.kind_of_sym && own->lang.field_of_id;
    if (ok) cx->lang = own->lang;
    pthread_mutex_unlock(&c->lock);
    return ok;
}
