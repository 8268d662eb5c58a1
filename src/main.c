// main.c: the ffq command line. It turns flags into ffq_options, calls the
// library, prints diagnostics and writes output files atomically.
//
// Exit codes: 0 success (warnings allowed), 1 errors in the input or a stale
// --check, 2 usage or I/O problems.
#include "ffq.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
    "\n"
    "Reads INPUT.py, finds its torch.nn.Module subclasses and writes, for each, a class\n"
    "Quantized<Name>(fastforward.nn.QuantizedModule, <Name>) whose forward passes every tensor\n"
    "that a quantizable operator produces or consumes through a QuantizerStub.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE      write the result to FILE (default: standard output). An existing\n"
    "                         FILE is never overwritten without --force; the write is atomic.\n"
    "  -f, --force            allow overwriting FILE\n"
    "      --module NAME      dotted import name of INPUT, used in `from NAME import <Class>`\n"
    "                         (default: INPUT's file name without .py)\n"
    "      --class NAME       convert only this class (repeatable; default: every nn.Module\n"
    "                         subclass defined in INPUT)\n"
    "      --optable FILE     extra operator-table entries over the built-in table (repeatable)\n"
    "      --no-default-optable  start from an empty operator table\n"
    "      --replace 'PATTERN=>REPLACEMENT'\n"
    "                         rewrite matching code before analysis (repeatable); {name}\n"
    "                         captures any expression, e.g.\n"
    "                         --replace 'torch.nn.functional.{f}({a}, {b})=>my_ops.{f}({a}, {b})'\n"
    "      --no-type-inference  treat every unannotated value as a possible tensor\n"
    "      --dump=types       print the inferred type of every name instead of the code\n"
    "  -q, --quiet            print no notes and no summary (warnings and errors are always printed)\n"
    "  -h, --help             this text\n"
    "\n"
    "Diagnostics go to standard error as file:line:col: severity: message [code].\n"
    "exit status: 0 success (warnings allowed), 1 errors in the input, 2 usage or I/O errors.\n"
    "\n"
    "examples:\n"
    "  ffq autoquant model.py                       print the quantized module\n"
    "  ffq autoquant model.py -o quantized.py       write it (atomically)\n"
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

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

// Write to a temporary file in the target's directory, then rename over the
// target: a failure at any point leaves the old file (or no file) in place.
static int write_atomic(const char *path, const char *data, size_t len) {
    const char *slash = strrchr(path, '/');
    char tmpl[PATH_MAX];
    int n = slash ? snprintf(tmpl, sizeof tmpl, "%.*s/.ffq-XXXXXX", (int)(slash - path), path)
                  : snprintf(tmpl, sizeof tmpl, ".ffq-XXXXXX");
    if (n < 0 || (size_t)n >= sizeof tmpl) {
        fprintf(stderr, "ffq: error: output path too long: %s\n", path);
        return EXIT_USAGE;
    }
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        fprintf(stderr, "ffq: error: cannot write '%s': %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    FILE *fp = fdopen(fd, "wb");
    bool ok = fp && fwrite(data, 1, len, fp) == len && fflush(fp) == 0 && fsync(fd) == 0;
    int err = errno;
    if (fp) ok = fclose(fp) == 0 && ok;
    else close(fd);
    if (ok) (void)chmod(tmpl, 0644);
    if (!ok || rename(tmpl, path) != 0) {
        if (ok) err = errno;
        unlink(tmpl);
        fprintf(stderr, "ffq: error: cannot write '%s': %s\n", path, strerror(err));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

typedef struct Args {
    const char *input, *output;
    bool force;
    ffq_options opt;
    const char **classes, **optables, **replace;
    size_t nclasses, noptables, nreplace;
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

static int parse_autoquant(int argc, char **argv, Args *a) {
    a->opt = ffq_options_default();
    a->classes = calloc((size_t)argc, sizeof(char *));
    a->optables = calloc((size_t)argc, sizeof(char *));
    a->replace = calloc((size_t)argc, sizeof(char *));
    if (!a->classes || !a->optables || !a->replace) {
        fprintf(stderr, "ffq: error: out of memory\n");
        return EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *v;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage_autoquant, stdout);
            return EXIT_HELP;
        } else if (strcmp(arg, "-f") == 0 || strcmp(arg, "--force") == 0) {
            a->force = true;
        } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            a->opt.quiet = true;
        } else if (strcmp(arg, "--no-default-optable") == 0) {
            a->opt.no_default_optable = true;
        } else if (strcmp(arg, "--no-type-inference") == 0) {
            a->opt.type_inference = false;
        } else if (strcmp(arg, "--dump=types") == 0) {
            a->opt.dump_types = true;
        } else if (is_opt(arg, "--replace", NULL)) {
            v = value(argc, argv, &i, "--replace", NULL);
            if (!*v) return usage_error("option '%s' needs a rule 'PATTERN=>REPLACEMENT'", arg, "autoquant ");
            a->replace[a->nreplace++] = v;
        } else if (is_opt(arg, "--output", "-o")) {
            v = value(argc, argv, &i, "--output", "-o");
            if (!*v) return usage_error("option '%s' needs a file name", arg, "autoquant ");
            a->output = v;
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
            return usage_error("unknown option '%s'", arg, "autoquant ");
        } else if (a->input) {
            return usage_error("more than one input file ('%s')", arg, "autoquant ");
        } else {
            a->input = arg;
        }
    }
    if (!a->input) return usage_error("%smissing INPUT.py", "", "autoquant ");
    a->opt.classes = a->classes;
    a->opt.nclasses = a->nclasses;
    a->opt.optables = a->optables;
    a->opt.noptables = a->noptables;
    a->opt.replace = a->replace;
    a->opt.nreplace = a->nreplace;
    return EXIT_OK;
}

static bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void print_summary(const ffq_ctx *cx, const char *path, const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
    ffq_stats s = ffq_get_stats(cx);
    fprintf(stderr,
            "ffq: wrote %s: %zu class%s generated, %zu quantizer stub%s, %zu op%s rewritten, "
            "%zu warning%s (%.1f ms)\n",
            path, s.classes_generated, s.classes_generated == 1 ? "" : "es", s.stubs_inserted,
            s.stubs_inserted == 1 ? "" : "s", s.ops_rewritten, s.ops_rewritten == 1 ? "" : "s",
            s.warnings, s.warnings == 1 ? "" : "s", ms);
}

// Checks that need no compilation: the input exists, the output is not the
// input, and an existing output is only replaced with --force.
static int precheck(const Args *a) {
    if (!file_exists(a->input)) {
        fprintf(stderr, "ffq: error: cannot read '%s': %s\n", a->input, strerror(ENOENT));
        return EXIT_USAGE;
    }
    if (a->output && same_file(a->input, a->output)) {
        fprintf(stderr, "ffq: error: the output '%s' is the input file; refusing to overwrite it\n",
                a->output);
        return EXIT_USAGE;
    }
    if (a->output && !a->force && file_exists(a->output)) {
        fprintf(stderr, "ffq: error: '%s' already exists; use --force to overwrite it\n", a->output);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int compile_and_write(const Args *a) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    if (!cx) {
        fprintf(stderr, "ffq: error: out of memory\n");
        return EXIT_USAGE;
    }
    ffq_status st = ffq_compile_file(cx, a->input, &a->opt);
    fputs(ffq_diagnostics(cx), stderr);
    size_t len = 0;
    const char *out = ffq_output(cx, &len);
    int rc = st == FFQ_OK ? EXIT_OK : st == FFQ_ERR_INPUT ? EXIT_INPUT : EXIT_USAGE;
    if (st == FFQ_ERR_NOMEM) fprintf(stderr, "ffq: error: out of memory\n");
    if (rc == EXIT_OK && out && a->output) {
        rc = write_atomic(a->output, out, len);
        if (rc == EXIT_OK && !a->opt.quiet) print_summary(cx, a->output, &t0);
    } else if (rc == EXIT_OK && out) {
        fwrite(out, 1, len, stdout);
    }
    ffq_ctx_free(cx);
    return rc;
}

static int cmd_autoquant(int argc, char **argv) {
    Args a;
    memset(&a, 0, sizeof a);
    int rc = parse_autoquant(argc, argv, &a);
    if (rc == EXIT_OK) rc = precheck(&a);
    if (rc == EXIT_OK) rc = compile_and_write(&a);
    free(a.classes);
    free(a.optables);
    free(a.replace);
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
            rc = usage_error("unknown option '%s'", arg, "optable ");
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

int main(int argc, char **argv) {
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
    return usage_error("unknown command '%s'", cmd, "");
}
