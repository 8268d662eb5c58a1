// main.c: the ffq command line. It turns flags into ffq_options, calls the
// library, prints diagnostics and writes output files atomically.
//
// Exit codes: 0 success (warnings allowed), 1 errors in the input or a stale
// --check, 2 usage or I/O problems.
#define _DEFAULT_SOURCE  // realpath
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "config.h"
#include "ffq.h"
#include "outfile.h"
#include "pkgpath.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_HELP = -1 };

static const char usage_main[] =
    "usage: ffq <command> [options]\n"
    "\n"
    "ffq rewrites PyTorch modules into FastForward-style quantized modules, from source,\n"
    "without importing or running the model.\n"
    "\n"
    "commands:\n"
    "  autoquant INPUT.py   generate Quantized<Name> classes for the nn.Module subclasses in INPUT\n"
    "  optable              print or validate operator tables\n"
    "\n"
    "  ffq --help           this text;  ffq <command> --help: the command's options\n"
    "  ffq --version        print the version\n"
    "\n"
    "example:\n"
    "  ffq autoquant models/mlp.py -o models/quantized_mlp.py\n";

static const char usage_autoquant[] =
    "usage: ffq autoquant INPUT.py [options]\n"
    "       ffq autoquant DIR/ -o OUTDIR/ [options]     (every module file of a package tree)\n"
    "\n"
    "Reads INPUT.py, finds its torch.nn.Module subclasses and writes, for each, a class\n"
    "Quantized<Name>(fastforward.nn.QuantizedModule, <Name>) whose forward passes every tensor\n"
    "that a quantizable operator produces or consumes through a QuantizerStub.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE      write the result to FILE (default, or '-': standard output). An\n"
    "                         existing FILE is never overwritten without --force; the write is\n"
    "                         atomic. INPUT '-' reads standard input (then --module is needed).\n"
    "                         Only regular files are replaced (never a device, FIFO or socket);\n"
    "                         a symlink at FILE is followed and the file it leads to replaced.\n"
    "                         A FILE not ending in .py is a package directory: FILE/__init__.py\n"
    "                         is written (directories made).\n"
    "  -f, --force            allow overwriting FILE (a regular file, or a symlink to one)\n"
    "      --check FILE       compare with FILE instead of writing: exit 1 and print a unified\n"
    "                         diff when FILE is stale (for CI); with DIR/, check a whole tree\n"
    "      --module NAME      dotted import name of INPUT, used in `from NAME import <Class>`\n"
    "                         (default: derived from INPUT's package, the directories above it\n"
    "                         that hold an __init__.py)\n"
    "  -I, --search-path DIR  where imported modules are looked up first (repeatable); then\n"
    "                         INPUT's package root, then the site-packages of --python\n"
    "      --python PATH      the interpreter whose site-packages are searched (default: python3);\n"
    "                         its answer is cached per interpreter in $XDG_CACHE_HOME/ffq\n"
    "                         (FFQ_NO_CACHE=1: ask it every time)\n"
    "      --class NAME       convert only this class (repeatable; default: every nn.Module\n"
    "                         subclass defined in INPUT)\n"
    "      --optable FILE     extra operator-table entries over the built-in table (repeatable)\n"
    "      --no-default-optable  start from an empty operator table\n"
    "      --replace 'PATTERN=>REPLACEMENT'\n"
    "                         rewrite matching code before analysis (repeatable); {name}\n"
    "                         captures any expression, e.g.\n"
    "                         --replace 'torch.nn.functional.{f}({a}, {b})=>my_ops.{f}({a}, {b})'\n"
    "      --no-type-inference  treat every value as a possible tensor (annotations unused)\n"
    "      --type-inference   infer types (the default; overrides type-inference = false)\n"
    "      --stub-tags        tag each stub with what it quantizes, e.g.\n"
    "                         QuantizerStub(weight_quantizer=True) (default: plain\n"
    "                         QuantizerStub(), as FastForward's autoquant writes them)\n"
    "      --no-stub-tags     plain stubs (the default; overrides stub-tags = true)\n"
    "      --config FILE      read [tool.ffq] from FILE instead of the nearest pyproject.toml\n"
    "      --no-config        read no pyproject.toml\n"
    "      --dump=STAGE       print a stage instead of the code: program, types (the inferred\n"
    "                         type of every name) or plan\n"
    "      --follow-symlinks  with DIR/: follow symbolic links to directories (by default they\n"
    "                         are skipped); a link back into its own path is reported and skipped\n"
    "  -q, --quiet            print only errors: no notes, warnings, progress or summary\n"
    "  -h, --help             this text\n";
// The second half of the autoquant help (one literal would exceed C11's 4095 characters).
static const char usage_autoquant_more[] =
    "\n"
    "Settings also come from [tool.ffq] in the nearest pyproject.toml (above INPUT, or\n"
    "above the current directory): optable, replace, search-path, python, type-inference,\n"
    "stub-tags, check. A flag overrides the file. `ffq autoquant --check` with no file\n"
    "checks every \"SOURCE -> GENERATED\" pair listed in `check`.\n"
    "\n"
    "Diagnostics go to standard error as file:line:col: severity: message [code].\n"
    "exit status: 0 success (warnings allowed), 1 errors in the input, 2 usage or I/O errors.\n"
    "\n"
    "examples:\n"
    "  ffq autoquant model.py                       print the quantized module\n"
    "  ffq autoquant model.py -o quantized.py       write it (atomically)\n"
    "  ffq autoquant model.py --check quantized.py  is the committed file up to date?\n"
    "  ffq autoquant --check                        every pair of [tool.ffq] check\n"
    "  cat model.py | ffq autoquant - --module pkg.model -o -\n"
    "  ffq autoquant pkg/ -o quantized_pkg/ -f      convert a package tree\n"
    "  ffq autoquant pkg/model.py --module pkg.model --class Encoder -o q.py -f\n"
    "  ffq autoquant model.py --optable my_ops.yaml  add operators (see: ffq optable --help)\n";

static const char usage_optable[] =
    "usage: ffq optable [--optable FILE.yaml]... [--no-default-optable] [--list | --check]\n"
    "\n"
    "  --list      print the effective operator table, one entry per line (the default)\n"
    "  --check     only validate the tables; exit 1 if any has errors (for CI)\n";

static int usage_error(const char *fmt, const char *arg, const char *cmd) {
    fprintf(stderr, "ffq: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'ffq %s--help' for more information.\n", cmd);
    return EXIT_USAGE;
}

// --- "did you mean": the valid spelling nearest to a mistyped one ---

static const char *const autoquant_options[] = {
    "--output",
    "--force",
    "--check",
    "--module",
    "--search-path",
    "--python",
    "--class",
    "--optable",
    "--no-default-optable",
    "--replace",
    "--no-type-inference",
    "--type-inference",
    "--no-stub-tags",
    "--stub-tags",
    "--config",
    "--no-config",
    "--dump=program",
    "--dump=types",
    "--dump=plan",
    "--quiet",
    "--help",
    "--follow-symlinks",
    NULL,
};
static const char *const optable_options[] = {"--list", "--check", "--optable", "--no-default-optable",
                                              "--help", NULL};
static const char *const commands[] = {"autoquant", "optable", "--help", "--version", NULL};

// Edit distance (insertions, deletions, substitutions) of two short strings.
static size_t distance(const char *a, size_t na, const char *b) {
    size_t nb = strlen(b), row[64];
    if (na >= 63 || nb >= 63) return SIZE_MAX;
    for (size_t j = 0; j <= nb; j++) row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

// The candidate nearest to `word` (up to its '='), if it is near enough to
// be a typo: at most a third of the word's length, and at least 1, edits.
static const char *nearest(const char *word, const char *const *candidates) {
    size_t n = strcspn(word, "="), best = SIZE_MAX;
    const char *pick = NULL;
    for (size_t i = 0; candidates[i]; i++) {
        size_t d = distance(word, n, candidates[i]);
        if (d < best) best = d, pick = candidates[i];
    }
    size_t limit = n / 3 > 2 ? n / 3 : 2;
    return best <= limit ? pick : NULL;
}

static int unknown(const char *what, const char *arg, const char *const *candidates, const char *cmd) {
    const char *near = nearest(arg, candidates);
    fprintf(stderr, "ffq: error: unknown %s '%s'", what, arg);
    if (near) fprintf(stderr, "; did you mean '%s'?", near);
    fprintf(stderr, "\nTry 'ffq %s--help' for more information.\n", cmd);
    return EXIT_USAGE;
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

typedef struct Args {
    const char *input, *output, *check;
    bool force;
    bool output_package;         // -o is a package directory: output is <dir>/__init__.py
    char output_init[PATH_MAX];  // that path
    char check_init[PATH_MAX];   // --check of a package directory: its __init__.py
    bool follow_symlinks;        // batch mode: follow directory symlinks (loops detected)
    ffq_options opt;
    const char **classes, **optables, **replace, **search;
    size_t nclasses, noptables, nreplace, nsearch;
    const char *python;  // --python: the interpreter whose site-packages are searched
    char **site;         // its site-packages directories
    size_t nsite;
    const char *config;       // --config FILE
    bool no_config;           // --no-config
    bool type_inference_set;  // --type-inference or --no-type-inference was given
    bool stub_tags_set;       // --stub-tags or --no-stub-tags was given
    bool check_all;           // --check without a file: the pairs of [tool.ffq] check
    FfqConfig cfg;            // [tool.ffq], when a pyproject.toml has one
} Args;

// Option value: `--opt VALUE` or `--opt=VALUE`.
static const char *value(int argc, char **argv, int *i, const char *longname, const char *shortname) {
    const char *a = argv[*i];
    size_t ll = strlen(longname);
    if (strncmp(a, longname, ll) == 0 && a[ll] == '=') return a + ll + 1;
    if (strcmp(a, longname) != 0 && !(shortname && strcmp(a, shortname) == 0)) return NULL;
    if (*i + 1 >= argc) return "";
    return argv[++*i];
}

static bool is_opt(const char *a, const char *longname, const char *shortname) {
    size_t ll = strlen(longname);
    return strcmp(a, longname) == 0 || (strncmp(a, longname, ll) == 0 && a[ll] == '=') ||
           (shortname && strcmp(a, shortname) == 0);
}

// `ffq autoquant` arguments into a. A documented exception to the 80-line
// rule: one if-chain with a branch per option, read top to bottom like the
// --help text; splitting it would only scatter the table.
static int parse_autoquant(int argc, char **argv, Args *a) {
    a->opt = ffq_options_default();
    a->classes = calloc((size_t)argc, sizeof(char *));
    a->optables = calloc((size_t)argc, sizeof(char *));
    a->replace = calloc((size_t)argc, sizeof(char *));
    a->search = calloc((size_t)argc, sizeof(char *));
    if (!a->classes || !a->optables || !a->replace || !a->search) {
        fprintf(stderr, "ffq: error: out of memory\n");
        return EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *v;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage_autoquant, stdout);
            fputs(usage_autoquant_more, stdout);
            return EXIT_HELP;
        } else if (strcmp(arg, "-f") == 0 || strcmp(arg, "--force") == 0) {
            a->force = true;
        } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            a->opt.quiet = true;
        } else if (strcmp(arg, "--follow-symlinks") == 0) {
            a->follow_symlinks = true;
        } else if (strcmp(arg, "--no-default-optable") == 0) {
            a->opt.no_default_optable = true;
        } else if (strcmp(arg, "--no-type-inference") == 0 || strcmp(arg, "--type-inference") == 0) {
            a->opt.type_inference = arg[2] == 't';
            a->type_inference_set = true;
        } else if (strcmp(arg, "--no-stub-tags") == 0 || strcmp(arg, "--stub-tags") == 0) {
            a->opt.stub_tags = arg[2] == 's';
            a->stub_tags_set = true;
        } else if (strcmp(arg, "--no-config") == 0) {
            a->no_config = true;
        } else if (is_opt(arg, "--config", NULL)) {
            v = value(argc, argv, &i, "--config", NULL);
            if (!*v) return usage_error("option '%s' needs a pyproject.toml", arg, "autoquant ");
            a->config = v;
        } else if ((v = str_after_prefix(arg, "--dump="))) {
            a->opt.dump = strcmp(v, "program") == 0 ? FFQ_DUMP_PROGRAM
                          : strcmp(v, "types") == 0 ? FFQ_DUMP_TYPES
                          : strcmp(v, "plan") == 0  ? FFQ_DUMP_PLAN
                                                    : FFQ_DUMP_NONE;
            if (a->opt.dump == FFQ_DUMP_NONE)
                return usage_error("unknown stage in '%s' (program, types or plan)", arg, "autoquant ");
        } else if (is_opt(arg, "--search-path", "-I") || (str_has_prefix(arg, "-I") && arg[strlen("-I")])) {
            v = is_opt(arg, "--search-path", "-I") ? value(argc, argv, &i, "--search-path", "-I")
                                                   : str_after_prefix(arg, "-I");  // -IDIR
            if (!*v) return usage_error("option '%s' needs a directory", arg, "autoquant ");
            a->search[a->nsearch++] = v;
        } else if (is_opt(arg, "--python", NULL)) {
            v = value(argc, argv, &i, "--python", NULL);
            if (!*v) return usage_error("option '%s' needs a Python interpreter", arg, "autoquant ");
            a->python = v;
        } else if (is_opt(arg, "--replace", NULL)) {
            v = value(argc, argv, &i, "--replace", NULL);
            if (!*v) return usage_error("option '%s' needs a rule 'PATTERN=>REPLACEMENT'", arg, "autoquant ");
            a->replace[a->nreplace++] = v;
        } else if (is_opt(arg, "--output", "-o")) {
            v = value(argc, argv, &i, "--output", "-o");
            if (!*v) return usage_error("option '%s' needs a file name", arg, "autoquant ");
            a->output = v;
        } else if (strcmp(arg, "--check") == 0 &&
                   (i + 1 == argc || (argv[i + 1][0] == '-' && argv[i + 1][1]))) {
            a->check_all = true;  // no file after it: check [tool.ffq] check
        } else if (is_opt(arg, "--check", NULL)) {
            v = value(argc, argv, &i, "--check", NULL);
            if (!*v)
                return usage_error("option '%s' needs the generated file to compare with", arg, "autoquant ");
            a->check = v;
        } else if (is_opt(arg, "--module", NULL)) {
            v = value(argc, argv, &i, "--module", NULL);
            if (!*v) return usage_error("option '%s' needs a dotted module name", arg, "autoquant ");
            a->opt.module_name = v;
        } else if (is_opt(arg, "--class", NULL)) {
            v = value(argc, argv, &i, "--class", NULL);
            if (!*v) return usage_error("option '%s' needs a class name", arg, "autoquant ");
            a->classes[a->nclasses++] = v;
        } else if (is_opt(arg, "--optable", NULL)) {
            v = value(argc, argv, &i, "--optable", NULL);
            if (!*v) return usage_error("option '%s' needs a YAML file", arg, "autoquant ");
            a->optables[a->noptables++] = v;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return unknown("option", arg, autoquant_options, "autoquant ");
        } else if (a->input && strcmp(arg, "-") == 0 && strcmp(a->input, "-") != 0) {
            return usage_error("more than one input file ('%s')", arg, "autoquant ");
        } else if (a->input) {
            return usage_error("more than one input file ('%s')", arg, "autoquant ");
        } else {
            a->input = arg;
        }
    }
    if (a->check_all && (a->input || a->output || a->check))
        return usage_error("%s--check without a file checks the pairs of [tool.ffq] check; give "
                           "INPUT.py --check FILE for one file",
                           "", "autoquant ");
    if (!a->input && !a->check_all) return usage_error("%smissing INPUT.py", "", "autoquant ");
    if (a->check && a->output)
        return usage_error("%s--check and --output exclude each other", "", "autoquant ");
    if (a->input && strcmp(a->input, "-") == 0 && !a->opt.module_name)
        return usage_error("%sreading standard input ('-') needs --module NAME", "", "autoquant ");
    a->opt.classes = a->classes;
    a->opt.nclasses = a->nclasses;
    a->opt.optables = a->optables;
    a->opt.noptables = a->noptables;
    a->opt.replace = a->replace;
    a->opt.nreplace = a->nreplace;
    a->opt.search_path = a->search;
    a->opt.nsearch_path = a->nsearch;
    return EXIT_OK;
}

static bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static const char *plural(size_t n, const char *one, const char *many) { return n == 1 ? one : many; }

// One line at the end of every run (unless --quiet): what was read and made,
// and what stayed in float and why.
static void print_summary(const ffq_ctx *cx, const char *path, const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
    ffq_stats s = ffq_get_stats(cx);
    size_t fl = s.float_not_in_table + s.float_unresolved + s.float_failed;
    fprintf(
        stderr, "ffq: %s%s: %zu %s read, %zu %s and %zu %s generated, %zu quantizer %s, %zu %s rewritten; ",
        path ? "wrote " : "summary", path ? path : "", s.files_read, plural(s.files_read, "file", "files"),
        s.classes_generated, plural(s.classes_generated, "class", "classes"), s.helpers_generated,
        plural(s.helpers_generated, "helper", "helpers"), s.stubs_inserted,
        plural(s.stubs_inserted, "stub", "stubs"), s.ops_rewritten, plural(s.ops_rewritten, "op", "ops"));
    if (fl)
        fprintf(stderr,
                "%zu %s left in float (%zu not in the operator table, %zu unresolved, %zu in "
                "functions that could not be converted); ",
                fl, plural(fl, "site", "sites"), s.float_not_in_table, s.float_unresolved, s.float_failed);
    else fprintf(stderr, "nothing left in float; ");
    fprintf(stderr, "%zu %s (%.1f ms)\n", s.warnings, plural(s.warnings, "warning", "warnings"), ms);
}

// Checks that need no compilation: the input exists, the output is not the
// input, and an existing output is only replaced with --force.
static int precheck(const Args *a) {
    if (strcmp(a->input, "-") == 0) return EXIT_OK;
    if (!file_exists(a->input)) {
        fprintf(stderr, "ffq: error: cannot read '%s': %s\n", a->input, strerror(ENOENT));
        return EXIT_USAGE;
    }
    if (a->output && strcmp(a->output, "-") == 0) return EXIT_OK;
    if (a->output && same_file(a->input, a->output)) {
        fprintf(stderr, "ffq: error: the output '%s' is the input file; refusing to overwrite it\n",
                a->output);
        return EXIT_USAGE;
    }
    char target[PATH_MAX];
    bool exists;
    if (a->output && outfile_resolve(a->output, a->force, target, sizeof target, &exists) != OUT_OK)
        return EXIT_USAGE;  // checked again when writing: this only fails early
    return EXIT_OK;
}

static int mkdirs(const char *path);

// An output path that does not end in ".py" names a package directory: the
// module is written as <dir>/__init__.py, the directories made when writing;
// --check FILE with a module input compares with that file too.
static int package_init(const char *path, char *buf, size_t size, const char **out) {
    if (!path || strcmp(path, "-") == 0) return EXIT_OK;
    size_t n = strlen(path);
    if (n >= 3 && strcmp(path + n - 3, ".py") == 0) return EXIT_OK;
    while (n > 1 && path[n - 1] == '/') n--;
    if (snprintf(buf, size, "%.*s/__init__.py", (int)n, path) >= (int)size) {
        fprintf(stderr, "ffq: error: output path too long: %s\n", path);
        return EXIT_USAGE;
    }
    *out = buf;
    return EXIT_OK;
}

static int output_as_package(Args *a) {
    const char *given = a->output;
    int rc = package_init(a->output, a->output_init, sizeof a->output_init, &a->output);
    a->output_package = a->output != given;
    if (rc == EXIT_OK) rc = package_init(a->check, a->check_init, sizeof a->check_init, &a->check);
    return rc;
}

static char *read_all(FILE *fp, size_t *len) {
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap) break;
        char *grown = realloc(buf, cap * 2);
        if (!grown) free(buf);
        buf = grown;
        cap *= 2;
    }
    if (buf && ferror(fp)) {
        free(buf);
        buf = NULL;
    }
    *len = n;
    return buf;
}

static bool use_color(FILE *fp) {
    const char *nc = getenv("NO_COLOR");
    return isatty(fileno(fp)) && !(nc && *nc);
}

// --check FILE: 0 when FILE holds exactly what would be generated, else 1
// with a unified diff on standard output.
static int check_against(const char *path, const char *out, size_t len, bool quiet) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "ffq: error: '%s' does not exist (%s); generate it with -o %s\n", path,
                strerror(errno), path);
        return EXIT_INPUT;
    }
    size_t have_len;
    char *have = read_all(fp, &have_len);
    fclose(fp);
    if (!have) {
        fprintf(stderr, "ffq: error: cannot read '%s'\n", path);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    if (have_len != len || memcmp(have, out, len) != 0) {
        char *d = ffq_diff(have, have_len, out, len, path, "(generated)", use_color(stdout));
        if (d) fputs(d, stdout);
        free(d);
        fprintf(stderr, "ffq: '%s' is stale: regenerate it with -o %s --force\n", path, path);
        rc = EXIT_INPUT;
    } else if (!quiet) {
        fprintf(stderr, "ffq: '%s' is up to date\n", path);
    }
    free(have);
    return rc;
}

static ffq_status compile_input(ffq_ctx *cx, const Args *a) {
    if (strcmp(a->input, "-") != 0) return ffq_compile_file(cx, a->input, &a->opt);
    size_t len;
    char *data = read_all(stdin, &len);
    if (!data) {
        fprintf(stderr, "ffq: error: cannot read standard input\n");
        return FFQ_ERR_IO;
    }
    ffq_status st = ffq_compile_buffer(cx, "<stdin>", data, len, &a->opt);
    free(data);
    return st;
}

static int compile_and_write(const Args *a) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    if (!cx) {
        fprintf(stderr, "ffq: error: out of memory\n");
        return EXIT_USAGE;
    }
    ffq_status st = compile_input(cx, a);
    fputs(ffq_diagnostics(cx), stderr);
    size_t len = 0;
    const char *out = ffq_output(cx, &len);
    int rc = st == FFQ_OK ? EXIT_OK : st == FFQ_ERR_INPUT ? EXIT_INPUT : EXIT_USAGE;
    if (st == FFQ_ERR_NOMEM) fprintf(stderr, "ffq: error: out of memory\n");
    bool to_file = a->output && strcmp(a->output, "-") != 0;
    if (rc == EXIT_OK && out && a->check) {
        rc = check_against(a->check, out, len, a->opt.quiet);
    } else if (rc == EXIT_OK && out && to_file) {
        if (a->output_package && mkdirs(a->output) != 0) {
            fprintf(stderr, "ffq: error: cannot create the directory of '%s': %s\n", a->output,
                    strerror(errno));
            rc = EXIT_USAGE;
        } else {
            rc = outfile_write(a->output, out, len, a->force) == OUT_OK ? EXIT_OK : EXIT_USAGE;
        }
        if (rc == EXIT_OK && !a->opt.quiet) print_summary(cx, a->output, &t0);
    } else if (rc == EXIT_OK && out) {
        if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0) {
            fprintf(stderr, "ffq: error: cannot write to standard output: %s\n", strerror(errno));
            clearerr(stdout);
            rc = EXIT_USAGE;
        } else if (!a->opt.quiet && a->opt.dump == FFQ_DUMP_NONE) {
            print_summary(cx, NULL, &t0);
        }
    }
    ffq_ctx_free(cx);
    return rc;
}

// --- batch mode: a directory in, a directory out (the walk is in walk.c) ---

// The dotted package of directory `dir` ("" when dir is not a package).
static void package_of(const char *dir, char *out, size_t size) {
    char abs[PATH_MAX];
    out[0] = '\0';
    if (realpath(dir, abs)) package_split(abs, out, size);
}

static void module_for(const char *pkg, const char *rel, char *out, size_t size) {
    char m[PATH_MAX];
    if (snprintf(m, sizeof m, "%s", rel) >= (int)sizeof m) m[0] = '\0';
    size_t n = strlen(m);
    if (n > 3) m[n - 3] = '\0';
    n = strlen(m);
    if (n >= 9 && strcmp(m + n - 9, "/__init__") == 0) m[n - 9] = '\0';
    else if (strcmp(m, "__init__") == 0) m[0] = '\0';
    for (char *p = m; *p; p++)
        if (*p == '/') *p = '.';
    if (snprintf(out, size, "%s%s%s", pkg, pkg[0] && m[0] ? "." : "", m) >= (int)size) out[0] = '\0';
}

static int mkdirs(const char *path) {  // mkdir -p of path's directory
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

typedef struct BatchStats {
    size_t files, converted, classes, stubs, warnings, errors, stale, written;
} BatchStats;

static int batch_one(const Args *a, const char *rel, const char *pkg, const char *outdir, BatchStats *bs,
                     ffq_cache *cache) {
    char in[PATH_MAX], out[PATH_MAX], mod[PATH_MAX];
    if (snprintf(in, sizeof in, "%s/%s", a->input, rel) >= (int)sizeof in ||
        snprintf(out, sizeof out, "%s/%s", outdir, rel) >= (int)sizeof out) {
        fprintf(stderr, "ffq: error: path too long: %s\n", rel);
        bs->errors++;
        return EXIT_USAGE;
    }
    module_for(pkg, rel, mod, sizeof mod);
    ffq_options opt = a->opt;
    opt.module_name = mod;
    opt.batch = true;
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    if (!cx) {
        fprintf(stderr, "ffq: error: out of memory\n");
        bs->errors++;
        return EXIT_USAGE;
    }
    ffq_ctx_use_cache(cx, cache);
    ffq_status st = ffq_compile_file(cx, in, &opt);
    fputs(ffq_diagnostics(cx), stderr);
    if (st == FFQ_ERR_NOMEM) fprintf(stderr, "ffq: error: out of memory while compiling '%s'\n", in);
    ffq_stats s = ffq_get_stats(cx);
    bs->files++;
    bs->warnings += s.warnings;
    // Every failing file counts as at least one error, so that the summary
    // and the exit status never disagree.
    bs->errors += s.errors ? s.errors : st != FFQ_OK;
    size_t len;
    const char *text = ffq_output(cx, &len);
    int rc = st == FFQ_OK ? EXIT_OK : st == FFQ_ERR_INPUT ? EXIT_INPUT : EXIT_USAGE;
    if (rc == EXIT_OK && text && s.classes_generated > 0) {
        bs->converted++;
        bs->classes += s.classes_generated;
        bs->stubs += s.stubs_inserted;
        if (a->check) {
            if (check_against(out, text, len, true) != EXIT_OK) bs->stale++, rc = EXIT_INPUT;
        } else if (mkdirs(out) != 0) {
            fprintf(stderr, "ffq: error: cannot create the directory of '%s': %s\n", out, strerror(errno));
            rc = EXIT_USAGE;
        } else {
            rc = outfile_write(out, text, len, a->force) == OUT_OK ? EXIT_OK : EXIT_USAGE;
            bs->written += rc == EXIT_OK;
        }
        if (rc == EXIT_USAGE) bs->errors++;
    }
    ffq_ctx_free(cx);
    return rc;
}

static int run_batch(const Args *a) {
    const char *outdir = a->check ? a->check : a->output;
    if (!outdir || strcmp(outdir, "-") == 0)
        return usage_error("%sa directory input needs -o DIR (or --check DIR)", "", "autoquant ");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    WalkResult w = {0};
    walk_tree(a->input, a->follow_symlinks, a->opt.quiet, &w);
    char pkg[PATH_MAX];
    package_of(a->input, pkg, sizeof pkg);
    bool tty = !a->opt.quiet && isatty(fileno(stderr));
    BatchStats bs = {.warnings = w.loops, .errors = w.errors};
    int rc = w.errors ? EXIT_USAGE : EXIT_OK;
    ffq_cache *cache = ffq_cache_new();  // torch's modules are parsed once, not once per file
    for (size_t i = 0; i < w.n; i++) {
        if (tty) fprintf(stderr, "\r\033[K[%zu/%zu] %s", i + 1, w.n, w.files[i]);
        int r = batch_one(a, w.files[i], pkg, outdir, &bs, cache);
        if (r > rc) rc = r;
    }
    ffq_cache_free(cache);
    walk_free(&w);
    if (tty) fprintf(stderr, "\r\033[K");
    if (a->opt.quiet) return rc;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "ffq: %zu %s read, %zu converted (%zu %s, %zu quantizer %s), %zu %s, %zu %s", bs.files,
            plural(bs.files, "file", "files"), bs.converted, bs.classes,
            plural(bs.classes, "class", "classes"), bs.stubs, plural(bs.stubs, "stub", "stubs"), bs.warnings,
            plural(bs.warnings, "warning", "warnings"), bs.errors, plural(bs.errors, "error", "errors"));
    if (a->check) fputs(bs.stale ? ", stale files found" : bs.errors ? "" : ", all up to date", stderr);
    else if (bs.written == bs.converted && bs.written) fprintf(stderr, ", written to %s", outdir);
    else if (bs.written) fprintf(stderr, ", %zu of them written to %s", bs.written, outdir);
    fprintf(stderr, " (%.2f s)\n", s);
    return rc;
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// The interpreter's site-packages (sitepkgs.c: cached per interpreter, so
// the interpreter is not started on every run). The default `python3` may be
// missing (then nothing is added); an explicit --python that does not answer
// is an error.
static int find_site_packages(Args *a) {
    SiteDirs sd;
    bool ok = site_dirs(a->python ? a->python : "python3", &sd);
    if (!ok && a->python) {
        site_dirs_free(&sd);
        fprintf(stderr, "ffq: error: cannot run '%s' to find its site-packages\n", a->python);
        return EXIT_USAGE;
    }
    a->site = sd.dirs;
    a->nsite = sd.n;
    a->opt.site_path = (const char *const *)a->site;
    a->opt.nsite_path = a->nsite;
    return EXIT_OK;
}

// [tool.ffq] of --config FILE, else of the nearest pyproject.toml above the
// input (or the current directory); flags already given win.
static int load_config(Args *a) {
    if (a->no_config) return EXIT_OK;
    char *path = NULL;
    if (a->config) {
        path = strdup(a->config);
    } else {
        char dir[PATH_MAX] = ".";
        if (a->input && strcmp(a->input, "-") != 0) {
            const char *slash = strrchr(a->input, '/');
            if (is_dir(a->input)) snprintf(dir, sizeof dir, "%s", a->input);
            else if (slash)
                snprintf(dir, sizeof dir, "%.*s", (int)(slash - a->input + (slash == a->input)), a->input);
        }
        path = config_find(dir);
        if (!path) return EXIT_OK;
    }
    if (!path) {
        fprintf(stderr, "ffq: error: out of memory\n");
        return EXIT_USAGE;
    }
    char err[1024];
    bool ok = config_load(&a->cfg, path, err, sizeof err);
    free(path);
    if (!ok) {
        fprintf(stderr, "%s\n", err);
        return EXIT_USAGE;
    }
    config_apply(&a->cfg, &a->opt, &a->python, a->type_inference_set, a->stub_tags_set);
    return EXIT_OK;
}

// `ffq autoquant --check`: every "SOURCE -> GENERATED" pair of [tool.ffq].
static int check_all_pairs(Args *a) {
    if (!a->cfg.ncheck)
        return usage_error("%s--check without a file needs `check = [\"SOURCE.py -> GENERATED.py\"]` "
                           "under [tool.ffq] in pyproject.toml",
                           "", "autoquant ");
    int rc = EXIT_OK;
    for (size_t i = 0; i < a->cfg.ncheck; i++) {
        a->input = a->cfg.check[i].source;
        a->check = a->cfg.check[i].generated;
        int r = is_dir(a->input) ? EXIT_OK : output_as_package(a);
        if (r == EXIT_OK) r = precheck(a);
        if (r == EXIT_OK) r = is_dir(a->input) ? run_batch(a) : compile_and_write(a);
        if (r > rc) rc = r;
    }
    if (!a->opt.quiet || rc != EXIT_OK)
        fprintf(stderr, "ffq: %zu %s of [tool.ffq] check: %s\n", a->cfg.ncheck,
                plural(a->cfg.ncheck, "pair", "pairs"), rc == EXIT_OK ? "all up to date" : "NOT up to date");
    return rc;
}

static int cmd_autoquant(int argc, char **argv) {
    Args a;
    memset(&a, 0, sizeof a);
    int rc = parse_autoquant(argc, argv, &a);
    if (rc == EXIT_OK) rc = load_config(&a);
    if (rc == EXIT_OK) rc = find_site_packages(&a);
    if (rc == EXIT_OK && a.check_all) {
        rc = check_all_pairs(&a);
    } else if (rc == EXIT_OK && strcmp(a.input, "-") != 0 && is_dir(a.input)) {
        if (!a.output && !a.check)
            rc = usage_error("'%s' is a directory: converting a package tree needs -o OUTDIR (or "
                             "--check OUTDIR)",
                             a.input, "autoquant ");
        else rc = run_batch(&a);
    } else {
        if (rc == EXIT_OK) rc = output_as_package(&a);
        if (rc == EXIT_OK) rc = precheck(&a);
        if (rc == EXIT_OK) rc = compile_and_write(&a);
    }
    free(a.classes);
    free(a.optables);
    free(a.replace);
    free(a.search);
    for (size_t i = 0; i < a.nsite; i++) free(a.site[i]);
    free(a.site);
    config_fini(&a.cfg);
    return rc == EXIT_HELP ? EXIT_OK : rc;
}

static int cmd_optable(int argc, char **argv) {
    const char **files = calloc((size_t)argc, sizeof(char *));
    if (!files) return EXIT_USAGE;
    size_t nfiles = 0;
    bool no_default = false, list = true;
    int rc = EXIT_OK;
    for (int i = 2; i < argc && rc == EXIT_OK; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage_optable, stdout);
            free(files);
            return EXIT_OK;
        } else if (strcmp(arg, "--list") == 0) {
            list = true;
        } else if (strcmp(arg, "--check") == 0) {
            list = false;
        } else if (strcmp(arg, "--no-default-optable") == 0) {
            no_default = true;
        } else if (is_opt(arg, "--optable", NULL)) {
            const char *v = value(argc, argv, &i, "--optable", NULL);
            if (!*v) rc = usage_error("option '%s' needs a YAML file", arg, "optable ");
            else files[nfiles++] = v;
        } else if (arg[0] != '-') {
            files[nfiles++] = arg;  // `ffq optable --check my_ops.yaml`
        } else {
            rc = unknown("option", arg, optable_options, "optable ");
        }
    }
    if (rc == EXIT_OK) {
        ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
        ffq_status st = ffq_optable_run(cx, files, nfiles, no_default, list);
        fputs(ffq_diagnostics(cx), stderr);
        size_t len;
        const char *out = ffq_output(cx, &len);
        if (st == FFQ_OK && out) fwrite(out, 1, len, stdout);
        if (st == FFQ_OK && !list) fprintf(stderr, "ffq: operator tables are valid\n");
        rc = st == FFQ_OK ? EXIT_OK : st == FFQ_ERR_INPUT ? EXIT_INPUT : EXIT_USAGE;
        ffq_ctx_free(cx);
    }
    free(files);
    return rc;
}

static int run_command(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("ffq %s\n", ffq_version());
        return EXIT_OK;
    }
    if (strcmp(cmd, "autoquant") == 0) return cmd_autoquant(argc, argv);
    if (strcmp(cmd, "optable") == 0) return cmd_optable(argc, argv);
    return unknown("command", cmd, commands, "");
}

// Every write to standard output is checked: a full disk or a closed pipe is
// an error (exit 2), not a silent success. compile_and_write reports its own
// failure and clears the error indicator.
int main(int argc, char **argv) {
    int rc = run_command(argc, argv);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ffq: error: cannot write to standard output: %s\n", strerror(errno));
        return EXIT_USAGE;
    }
    return rc;
}
