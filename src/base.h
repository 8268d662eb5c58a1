// base.h: what every pass uses: the arena, growable strings and vectors,
// source files with line tables, and the diagnostics sink.
//
// Arena allocations are zeroed and never return NULL: an allocation failure
// unwinds to the single recovery point in ffq_compile (see arena.c), so pass
// code carries no error checks. Nothing allocated here is ever freed
// individually; ffq_ctx_free releases it all.
#ifndef FFQ_BASE_H
#define FFQ_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ffq.h"

#if defined(__GNUC__)
#define FFQ_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define FFQ_NORETURN          __attribute__((noreturn))
#else
#define FFQ_PRINTF(fmt, args)
#define FFQ_NORETURN
#endif

// Internal bugs, not diagnostics: abort with file:line in every build.
FFQ_NORETURN void ffq_fail(const char *file, int line, const char *what);
#define ffq_assert(cond)  ((cond) ? (void)0 : ffq_fail(__FILE__, __LINE__, #cond))
#define ffq_unreachable() ffq_fail(__FILE__, __LINE__, "unreachable")

// --- arena.c ---

void *arena_alloc(ffq_ctx *cx, size_t size);  // zeroed, never NULL
void *arena_grow(ffq_ctx *cx, void *ptr, size_t old_size, size_t new_size);
char *arena_strndup(ffq_ctx *cx, const char *s, size_t n);
// A point in the arena's history: arena_release frees every block allocated since the mark.
// Between the two, nothing may grow a block made before the mark, and nothing made after it
// may be kept (copy a result out first). For scratch work repeated per item of a large input.
typedef struct ArenaMark {
    struct ArenaChunk *chunk;
    size_t used, nbig;
} ArenaMark;
ArenaMark arena_mark(ffq_ctx *cx);
void arena_release(ffq_ctx *cx, ArenaMark m);
char *arena_strdup(ffq_ctx *cx, const char *s);
char *arena_printf(ffq_ctx *cx, const char *fmt, ...) FFQ_PRINTF(2, 3);
char *arena_vprintf(ffq_ctx *cx, const char *fmt, va_list ap);
// String tests with the literal's length taken from the literal (never a
// hand-counted number). No allocation; here for want of a better home.
bool str_has_prefix(const char *s, const char *prefix);
const char *str_after_prefix(const char *s, const char *prefix);  // s past prefix, or NULL
// The same over n bytes at s (not NUL-terminated): equal to, starts with,
// ends with the NUL-terminated lit.
bool mem_is(const char *s, size_t n, const char *lit);
bool mem_starts(const char *s, size_t n, const char *lit);
bool mem_ends(const char *s, size_t n, const char *lit);
#define ARENA_NEW(cx, T)      ((T *)arena_alloc((cx), sizeof(T)))
#define ARENA_ARRAY(cx, T, n) ((T *)arena_alloc((cx), sizeof(T) * (size_t)(n)))

// Heap memory outside the arena, through the context's allocator hook (for
// objects with their own lifecycle). raw_alloc returns NULL on failure.
void *raw_alloc(ffq_ctx *cx, size_t size);
void raw_free(ffq_ctx *cx, void *ptr, size_t size);

// Growable byte string living in the arena. Always NUL-terminated after a put.
typedef struct StrBuf {
    char *data;
    size_t len, cap;
} StrBuf;

void sb_putn(ffq_ctx *cx, StrBuf *sb, const char *s, size_t n);
void sb_puts(ffq_ctx *cx, StrBuf *sb, const char *s);
void sb_putc(ffq_ctx *cx, StrBuf *sb, char c);
void sb_printf(ffq_ctx *cx, StrBuf *sb, const char *fmt, ...) FFQ_PRINTF(3, 4);
void sb_indent(ffq_ctx *cx, StrBuf *sb, int spaces);
const char *sb_cstr(ffq_ctx *cx, StrBuf *sb);  // "" for an empty buffer

// Growable vector of pointers living in the arena.
typedef struct PtrVec {
    void **items;
    size_t len, cap;
} PtrVec;

void vec_push(ffq_ctx *cx, PtrVec *v, void *item);
#define VEC_AT(v, T, i) ((T *)(v).items[(i)])

// --- source files (diag.c) ---

// A file's bytes and line-start table. Positions in diagnostics are 1-based
// lines and 1-based byte columns.
typedef struct SrcFile {
    const char *path;  // as shown in diagnostics
    const char *data;  // NUL-terminated copy in the arena
    uint32_t len;
    uint32_t *line_starts;  // byte offset of each line
    uint32_t nlines;
} SrcFile;

SrcFile *srcfile_new(ffq_ctx *cx, const char *path, const char *data, size_t len);
// Reads a whole file into a new SrcFile; NULL (with an error diagnostic) if it cannot.
SrcFile *srcfile_read(ffq_ctx *cx, const char *path);
// PEP 263: f decoded to UTF-8 when its first two lines declare another
// encoding (f itself when not); NULL, with an error, when it cannot be.
SrcFile *srcfile_decode(ffq_ctx *cx, SrcFile *f);
void srcfile_linecol(const SrcFile *f, uint32_t offset, uint32_t *line1, uint32_t *col1);
// Python source is UTF-8 (PEP 3120): the offset of the first byte that is
// not, or UINT32_MAX when the whole file is valid.
uint32_t srcfile_invalid_utf8(const SrcFile *f);

// --- diag.c ---

typedef enum DiagSeverity { DIAG_NOTE, DIAG_WARNING, DIAG_ERROR } DiagSeverity;

// Report at a byte offset of a file (file may be NULL for messages with no position).
// `code` is a stable kebab-case identifier shown in brackets.
void diag_at(ffq_ctx *cx, DiagSeverity sev, const SrcFile *file, uint32_t offset, const char *code,
             const char *fmt, ...) FFQ_PRINTF(6, 7);
// Report at a 1-based line and column (e.g. from a libyaml mark).
void diag_linecol(ffq_ctx *cx, DiagSeverity sev, const SrcFile *file, uint32_t line1, uint32_t col1,
                  const char *code, const char *fmt, ...) FFQ_PRINTF(7, 8);
bool diag_has_errors(const ffq_ctx *cx);

#endif
