// config.h: the [tool.ffq] table of pyproject.toml, for the command line.
//
// config.c consumes the text of a pyproject.toml and produces an FfqConfig:
// the [tool.ffq] settings, with every relative path already joined to the
// directory of the file. It reads a subset of TOML (enough for any
// pyproject.toml: tables, dotted and quoted keys, all four string forms,
// arrays, inline tables, and numbers, booleans and dates as bare values) and
// interprets only [tool.ffq]; everything else is read and skipped.
// A malformed file gives one message `path:line:col: error: ...`.
#ifndef FFQ_CONFIG_H
#define FFQ_CONFIG_H

#include "ffq.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct FfqCheckPair {
    char *source;     // the module ffq reads
    char *generated;  // the committed output it must equal
} FfqCheckPair;

typedef struct FfqConfig {
    char *path;       // the file read; NULL when none was found
    bool has_table;   // it has a [tool.ffq] table
    char **optables;  // `optable`: extra operator tables, in order
    size_t noptables;
    char **replace;  // `replace`: pattern rules "PATTERN=>REPLACEMENT"
    size_t nreplace;
    char **search_path;  // `search-path`: -I directories
    size_t nsearch_path;
    char *python;         // `python`: the interpreter whose site-packages are read
    int type_inference;   // `type-inference`: 0 or 1; -1 when not set
    int stub_tags;        // `stub-tags`: 0 or 1; -1 when not set
    FfqCheckPair *check;  // `check`: "SOURCE -> GENERATED" pairs
    size_t ncheck;
} FfqConfig;

// The nearest pyproject.toml with a [tool.ffq] table, looking in `start_dir`
// and its parents. Returns a malloc'd path, or NULL when there is none.
char *config_find(const char *start_dir);

// Parse `len` bytes of `text` (the contents of `path`). Returns true on
// success; on failure writes `path:line:col: error: message` (no newline)
// into err. `cfg` is filled either way and must be released with config_fini.
bool config_parse(FfqConfig *cfg, const char *path, const char *text, size_t len, char *err, size_t errsize);

// Read and parse `path`. Returns true on success; on failure writes the
// message into err (as config_parse does, or `path: error: ...` for I/O).
bool config_load(FfqConfig *cfg, const char *path, char *err, size_t errsize);

void config_fini(FfqConfig *cfg);

// Fill in what the command line left unset: a list option given as a flag
// replaces the file's list; `python`, `type-inference` and `stub-tags` likewise
// (pass type_inference_flag when --type-inference or --no-type-inference was given,
// stub_tags_flag when --stub-tags or --no-stub-tags was).
// `opt` then points into `cfg`, which must outlive it.
void config_apply(const FfqConfig *cfg, ffq_options *opt, const char **python, bool type_inference_flag,
                  bool stub_tags_flag);

#endif
