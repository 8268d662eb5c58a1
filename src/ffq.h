// ffq.h: the public API of libffq, the autoquant compiler.
//
// A compilation is a value: everything hangs off one ffq_ctx, there is no
// global mutable state, and two contexts on two threads never interact.
// Typical use:
//
//     ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
//     ffq_options opt = ffq_options_default();
//     opt.module_name = "models.mlp";
//     ffq_status st = ffq_compile_file(cx, "models/mlp.py", &opt);
//     fputs(ffq_diagnostics(cx), stderr);
//     size_t len;
//     const char *out = ffq_output(cx, &len);
//     if (st == FFQ_OK) fwrite(out, 1, len, stdout);
//     ffq_ctx_free(cx);
#ifndef FFQ_FFQ_H
#define FFQ_FFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define FFQ_API __attribute__((visibility("default")))
#else
#define FFQ_API
#endif

typedef struct ffq_ctx ffq_ctx;

typedef enum ffq_status {
    FFQ_OK = 0,         // output produced (warnings and notes allowed)
    FFQ_ERR_INPUT = 1,  // error diagnostics about the input (syntax, tables, --class, ...)
    FFQ_ERR_USAGE = 2,  // bad options (unparsable --replace, ...)
    FFQ_ERR_IO = 3,     // a file could not be read
    FFQ_ERR_NOMEM = 4,  // an allocation failed; the context is still valid and can be freed
} ffq_status;

// Allocator hook, Lua style: new_size == 0 frees ptr and returns NULL; otherwise
// returns a block of new_size bytes (or NULL on failure) holding the first
// min(old_size, new_size) bytes of ptr.
typedef void *(*ffq_alloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);

// A developer view of one stage (`--dump=STAGE`), deterministic text.
typedef enum ffq_dump {
    FFQ_DUMP_NONE,     // the generated module
    FFQ_DUMP_PROGRAM,  // modules, bindings, classes, functions (program.c)
    FFQ_DUMP_TYPES,    // the inferred type of every name (types.c)
    FFQ_DUMP_PLAN,     // generated classes and helpers, quantizers, calls (plan.c)
} ffq_dump;

typedef struct ffq_options {
    const char *module_name;     // dotted import name of the input; NULL: derived from its
                                 // package root (the directories holding __init__.py)
    const char *const *classes;  // root classes (--class); NULL/0: every nn.Module subclass
    size_t nclasses;
    const char *const *optables;  // extra operator-table YAML files, applied in order
    size_t noptables;
    bool no_default_optable;     // start from an empty table
    const char *const *replace;  // pattern rules "PATTERN=>REPLACEMENT"
    size_t nreplace;
    bool type_inference;             // default true
    bool stub_tags;                  // default false: QuantizerStub(), as FastForward's autoquant
                                     // writes it; true: QuantizerStub(weight_quantizer=True), ...
    const char *const *search_path;  // -I directories, searched first
    size_t nsearch_path;
    const char *const *site_path;  // the interpreter's site-packages, searched last
    size_t nsite_path;
    bool quiet;     // drop notes
    ffq_dump dump;  // print this stage instead of the code (--dump=STAGE)
    bool batch;     // one file of a tree: no warning for files without modules
} ffq_options;

typedef struct ffq_stats {
    size_t files_read;
    size_t classes_generated;
    size_t helpers_generated;
    size_t stubs_inserted;
    size_t ops_rewritten;
    size_t warnings;
    size_t errors;
    // call sites left in float, by reason
    size_t float_not_in_table;  // table-like calls missing from the operator table
    size_t float_unresolved;    // calls whose target could not be read
    size_t float_failed;        // functions that could not be converted
} ffq_stats;

FFQ_API ffq_options ffq_options_default(void);

// Returns NULL only if the first allocation fails. alloc == NULL uses malloc/realloc/free.
FFQ_API ffq_ctx *ffq_ctx_new(ffq_alloc_fn alloc, void *ud);
FFQ_API void ffq_ctx_free(ffq_ctx *cx);

// Compile one module file (or an in-memory buffer named `name` for diagnostics).
// A context compiles once; make a new one for the next file.
FFQ_API ffq_status ffq_compile_file(ffq_ctx *cx, const char *path, const ffq_options *opt);
FFQ_API ffq_status ffq_compile_buffer(ffq_ctx *cx, const char *name, const char *data, size_t len,
                                      const ffq_options *opt);

// The generated Python text, owned by cx (valid until ffq_ctx_free). NULL when
// the compilation failed. *len (if non-NULL) receives its length.
FFQ_API const char *ffq_output(const ffq_ctx *cx, size_t *len);

// All diagnostics, rendered as `file:line:col: severity: message [code]` lines
// followed by the source line and a caret, sorted by position. Owned by cx.
// Never NULL (empty string when there is nothing to say).
FFQ_API const char *ffq_diagnostics(ffq_ctx *cx);

FFQ_API ffq_stats ffq_get_stats(const ffq_ctx *cx);

// A cache of the imported modules' parsed source, for runs that compile many
// files (a package tree): each imported module file is read and parsed once
// per cache instead of once per compilation. Cached files are re-checked
// (device, inode, size, mtime) on every use; an input file the cache holds
// already (imported by an earlier compilation; same path and bytes) reuses
// that parse. The built-in operator table, the grammar's tables and the C
// extension lookups are also made once per cache. The cache may be shared by
// contexts on several threads; it must outlive every context that uses it.
// ffq_cache_new returns NULL when out of memory.
typedef struct ffq_cache ffq_cache;
FFQ_API ffq_cache *ffq_cache_new(void);
FFQ_API void ffq_cache_free(ffq_cache *cache);
// Use `cache` (NULL: none, the default) for the imports of cx's compilation.
FFQ_API void ffq_ctx_use_cache(ffq_ctx *cx, ffq_cache *cache);

// `ffq optable`: load the tables (default unless no_default, then each file),
// and render the effective table, one line per entry, into the output (list)
// or only validate (check). Diagnostics as above.
FFQ_API ffq_status ffq_optable_run(ffq_ctx *cx, const char *const *files, size_t nfiles, bool no_default,
                                   bool list);

// A unified diff from text a to text b (`--- aname` / `+++ bname`, three
// lines of context, ANSI colours when `color`), or "" when they are equal.
// The result is malloc'd: the caller frees it. NULL only when out of memory.
FFQ_API char *ffq_diff(const char *a, size_t alen, const char *b, size_t blen, const char *aname,
                       const char *bname, bool color);

FFQ_API const char *ffq_version(void);

#endif
