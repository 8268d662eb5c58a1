// compile_driver.c: the in-process driver of bench/compile.py.
//
// Usage: ffq_bench_compile MODE LISTFILE
//   MODE full:  ffq_compile_buffer on each file, as `ffq autoquant DIR -o OUT`
//               does (a fresh context per file, default operator table, every
//               nn.Module subclass a root, one ffq_cache for the imported
//               modules of the whole run), minus process start and file I/O.
//   MODE parse: only source_parse (tree-sitter + flattening into the Cst) in
//               a fresh context per file: the floor of the same library code.
//   MODE ts:    tree-sitter alone (ts_parser_parse_string, no Cst), for
//               reference: what source.c adds on top of the grammar.
//   MODE syntax: as parse, and print the path of every file with syntax
//               errors first (bench/compile.py leaves them out of the
//               concatenated scaling inputs).
//   MODE digest: as full, and print `digest HASH STATUS PATH` for every file
//               first (FNV-1a of the output and the diagnostics): a speed-up
//               is checked against the corpus by comparing these lines before
//               and after it.
// LISTFILE holds one path per line. Files are read into memory before the
// clock starts. Prints one line:
//   files=N bytes=B secs=S ok=K maxrss_kb=R
// (secs: the CPU time of the processing loop only, user + system, so that
// other work on a busy machine does not count; maxrss: the peak resident set of this
// process, VmHWM, including the loaded files. Not getrusage: on Linux its
// ru_maxrss carries over the high-water mark of the parent that forked us.)
#include "ffq_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <tree_sitter/api.h>

const TSLanguage *tree_sitter_python(void);

typedef struct Input {
    char *path, *data, *module;
    size_t len;
} Input;

static char *read_all(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(fp);
    *len = n;
    return buf;
}

// "a/b/torch/nn/modules/linear.py" -> "linear" is enough for the benchmark:
// the module name only appears in the generated import line.
static char *module_of(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".py") == 0) n -= 3;
    char *m = malloc(n + 1);
    memcpy(m, base, n);
    m[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!(m[i] == '_' || (m[i] >= 'a' && m[i] <= 'z') || (m[i] >= 'A' && m[i] <= 'Z') ||
              (i && m[i] >= '0' && m[i] <= '9')))
            m[i] = '_';
    return m;
}

static bool parse_only(const Input *in) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    if (!cx) return false;
    jmp_buf jb;
    cx->recover = &jb;
    bool ok = false;
    if (setjmp(jb) == 0) {
        SrcFile *f = srcfile_new(cx, in->path, in->data, in->len);
        Cst *cst = source_parse(cx, f);
        ok = cst && !cst->has_errors;
    }
    cx->recover = NULL;
    ffq_ctx_free(cx);
    return ok;
}

static bool ts_only(const Input *in) {
    TSParser *p = ts_parser_new();
    ts_parser_set_language(p, tree_sitter_python());
    TSTree *t = ts_parser_parse_string(p, NULL, in->data, (uint32_t)in->len);
    bool ok = t && !ts_node_has_error(ts_tree_root_node(t));
    if (t) ts_tree_delete(t);
    ts_parser_delete(p);
    return ok;
}

static long peak_rss_kb(void) {
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    if (fp) fclose(fp);
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb;
}

static ffq_cache *run_cache;  // the run's import cache, as in batch mode
static bool print_digest;

static uint64_t fnv1a(uint64_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    return h;
}

static bool full(const Input *in) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    if (!cx) return false;
    ffq_ctx_use_cache(cx, run_cache);
    ffq_options opt = ffq_options_default();
    opt.module_name = in->module;
    ffq_status st = ffq_compile_buffer(cx, in->path, in->data, in->len, &opt);
    const char *diags = ffq_diagnostics(cx);  // the CLI renders them too
    if (print_digest) {
        size_t len;
        const char *out = ffq_output(cx, &len);
        uint64_t h = fnv1a(0xcbf29ce484222325u, out ? out : "", out ? len : 0);
        h = fnv1a(h, diags, strlen(diags));
        printf("digest %016llx %d %s\n", (unsigned long long)h, (int)st, in->path);
    }
    ffq_ctx_free(cx);
    return st == FFQ_OK;
}

int main(int argc, char **argv) {
    bool (*pass)(const Input *) = NULL;
    if (argc == 3 && strcmp(argv[1], "full") == 0) pass = full;
    if (argc == 3 && strcmp(argv[1], "parse") == 0) pass = parse_only;
    if (argc == 3 && strcmp(argv[1], "ts") == 0) pass = ts_only;
    bool list_failed = argc == 3 && strcmp(argv[1], "syntax") == 0;
    if (list_failed) pass = parse_only;
    print_digest = argc == 3 && strcmp(argv[1], "digest") == 0;
    if (print_digest) pass = full;
    if (!pass) {
        fprintf(stderr, "usage: ffq_bench_compile full|parse|ts|syntax|digest LISTFILE\n");
        return 2;
    }
    FILE *list = fopen(argv[2], "r");
    if (!list) {
        perror(argv[2]);
        return 2;
    }
    size_t n = 0, cap = 256;
    Input *in = malloc(cap * sizeof *in);
    char line[8192];
    size_t bytes = 0;
    while (fgets(line, sizeof line, list)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0]) continue;
        if (n == cap) in = realloc(in, (cap *= 2) * sizeof *in);
        in[n].data = read_all(line, &in[n].len);
        if (!in[n].data) {
            fprintf(stderr, "cannot read %s\n", line);
            return 2;
        }
        in[n].path = strdup(line);
        in[n].module = module_of(line);
        bytes += in[n].len;
        n++;
    }
    fclose(list);
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    run_cache = ffq_cache_new();  // created and filled inside the timed loop
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        bool good = pass(&in[i]);
        ok += good;
        if (list_failed && !good) printf("failed %s\n", in[i].path);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ffq_cache_free(run_cache);
    printf("files=%zu bytes=%zu secs=%.6f ok=%zu maxrss_kb=%ld\n", n, bytes, secs, ok, peak_rss_kb());
    for (size_t i = 0; i < n; i++) {
        free(in[i].data);
        free(in[i].path);
        free(in[i].module);
    }
    free(in);
    return 0;
}
