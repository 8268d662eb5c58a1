// test_config.c: unit tests for config.c: the TOML that pyproject.toml files
// use is read (and everything outside [tool.ffq] skipped), the [tool.ffq]
// keys land in FfqConfig with paths joined to the file's directory, every
// malformed input gives one `path:line:col: error:` message, config_find
// picks the nearest file that has the table, and config_apply lets flags win.
//
// Usage: test_config
#define _DEFAULT_SOURCE  // mkdtemp
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#include "check.h"

static char err[1024];

static bool parse(FfqConfig *cfg, const char *path, const char *text) {
    return config_parse(cfg, path, text, strlen(text), err, sizeof err);
}

// The error message for `text`, or "(parsed)" when it parses.
static const char *error_of(const char *text) {
    FfqConfig cfg;
    bool ok = parse(&cfg, "pyproject.toml", text);
    config_fini(&cfg);
    return ok ? "(parsed)" : err;
}

static void test_full_table(void) {
    FfqConfig cfg;
    bool ok = parse(&cfg, "proj/pyproject.toml",
                    "# a comment\n"
                    "[tool.ffq]\n"
                    "optable = [\"ops/a.yaml\", '/abs/b.yaml']  # trailing comment\n"
                    "replace = \"torch.relu({x})=>my.relu({x})\"\n"
                    "search-path = [\n"
                    "  \"vendor\",\n"
                    "  # a comment inside the array\n"
                    "  \"third_party\",   \n"
                    "]\n"
                    "python = \"venv/bin/python\"\n"
                    "type-inference = false\n"
                    "check = [\"models/mlp.py -> models/q_mlp.py\", \"pkg/ ->  q_pkg/ \"]\n");
    CHECK(ok);
    if (!ok) fprintf(stderr, "  %s\n", err);
    CHECK(cfg.has_table);
    CHECK_EQ_STR(cfg.path, "proj/pyproject.toml");
    CHECK(cfg.noptables == 2);
    if (cfg.noptables == 2) {
        CHECK_EQ_STR(cfg.optables[0], "proj/ops/a.yaml");
        CHECK_EQ_STR(cfg.optables[1], "/abs/b.yaml");
    }
    CHECK(cfg.nreplace == 1);
    if (cfg.nreplace == 1) CHECK_EQ_STR(cfg.replace[0], "torch.relu({x})=>my.relu({x})");  // not a path
    CHECK(cfg.nsearch_path == 2);
    if (cfg.nsearch_path == 2) CHECK_EQ_STR(cfg.search_path[1], "proj/third_party");
    CHECK_EQ_STR(cfg.python, "proj/venv/bin/python");
    CHECK(cfg.type_inference == 0);
    CHECK(cfg.ncheck == 2);
    if (cfg.ncheck == 2) {
        CHECK_EQ_STR(cfg.check[0].source, "proj/models/mlp.py");
        CHECK_EQ_STR(cfg.check[0].generated, "proj/models/q_mlp.py");
        CHECK_EQ_STR(cfg.check[1].source, "proj/pkg/");
        CHECK_EQ_STR(cfg.check[1].generated, "proj/q_pkg/");
    }
    config_fini(&cfg);
}

// Everything else a pyproject.toml holds is read and skipped, even text that
// looks like a [tool.ffq] header inside strings and arrays.
static void test_other_tables_skipped(void) {
    FfqConfig cfg;
    bool ok = parse(&cfg, "pyproject.toml",
                    "\xEF\xBB\xBF[build-system]\n"
                    "requires = [\"meson-python==0.22.1\", 'ninja']\n"
                    "[project]\n"
                    "name = \"demo\"\n"
                    "version = \"1.0\"\n"
                    "description = \"\"\"\n"
                    "[tool.ffq]\n"
                    "python = \\\"evil\\\"\n"
                    "\"\"\"\n"
                    "readme = '''\n[tool.ffq]\n'''\n"
                    "authors = [{ name = \"A\", email = \"a@b.c\" }, {name='B'}]\n"
                    "numbers = [1, -2.5e3, 0x1F, inf, nan, +1_000]\n"
                    "dates = [1979-05-27, 1979-05-27T07:32:00Z, 1979-05-27 07:32:00, 07:32:00]\n"
                    "nested = [[1, 2], [\"[tool.ffq]\"], []]\n"
                    "\"quoted key\".'other' = true\n"
                    "escapes = \"tab\\t quote\\\" uni\\u00e9 \\U0001F600\"\n"
                    "[[tool.other.list]]\n"
                    "x = 1\n"
                    "[tool.ruff.lint]\n"
                    "select = [\"E\",\n  \"F\"]\n");
    CHECK(ok);
    if (!ok) fprintf(stderr, "  %s\n", err);
    CHECK(!cfg.has_table);
    CHECK(cfg.python == NULL);
    CHECK(cfg.type_inference == -1);
    CHECK(cfg.stub_tags == -1);
    config_fini(&cfg);
}

// [tool.ffq] written as dotted keys or an inline table means the same.
static void test_other_spellings(void) {
    FfqConfig cfg;
    CHECK(parse(&cfg, "pyproject.toml", "tool.ffq.python = \"py3\"\n[tool]\nffq.type-inference = true\n"));
    CHECK(cfg.has_table);
    CHECK_EQ_STR(cfg.python, "py3");  // a command name stays as it is
    CHECK(cfg.type_inference == 1);
    config_fini(&cfg);

    CHECK(parse(&cfg, "pyproject.toml", "[tool]\nffq = { optable = \"x.yaml\", check = [] }\n"));
    CHECK(cfg.has_table);
    CHECK(cfg.noptables == 1);
    if (cfg.noptables == 1) CHECK_EQ_STR(cfg.optables[0], "x.yaml");
    CHECK(cfg.ncheck == 0);
    config_fini(&cfg);

    CHECK(parse(&cfg, "pyproject.toml", "[tool.ffq]\n"));  // an empty table still counts
    CHECK(cfg.has_table);
    config_fini(&cfg);

    CHECK(parse(&cfg, "pyproject.toml", "[tool.\"ffq\"]\r\npython = 'p'\r\n"));  // CRLF, quoted key
    CHECK_EQ_STR(cfg.python, "p");
    config_fini(&cfg);
}

static void test_errors(void) {
    CHECK_EQ_STR(error_of("[tool.ffq]\npython = 3\n"),
                 "pyproject.toml:2:10: error: 'python' must be a non-empty string");
    CHECK_EQ_STR(error_of("[tool.ffq]\n\noptable = [\"a.yaml\", 2]\n"),
                 "pyproject.toml:3:22: error: 'optable' must be a string or an array of strings");
    CHECK_EQ_STR(error_of("[tool.ffq]\ntype-inference = \"no\"\n"),
                 "pyproject.toml:2:18: error: 'type-inference' must be true or false");
    CHECK_EQ_STR(error_of("[tool.ffq]\n  search_path = []\n"),
                 "pyproject.toml:2:3: error: unknown key 'search_path' in [tool.ffq]; did you mean "
                 "'search-path'?");
    CHECK_CONTAINS(error_of("[tool.ffq]\nfoo = 1\n"), "pyproject.toml:2:1: error: unknown key 'foo'");
    CHECK_EQ_STR(error_of("[tool.ffq]\npython = 'a'\npython = 'b'\n"),
                 "pyproject.toml:3:1: error: 'python' is set twice in [tool.ffq]");
    CHECK_EQ_STR(error_of("[tool.ffq]\ncheck = [\"a.py\"]\n"),
                 "pyproject.toml:2:10: error: 'check' entries are strings \"SOURCE.py -> GENERATED.py\"");
    CHECK_EQ_STR(error_of("[tool.ffq]\ncheck = [\"a.py -> \"]\n"),
                 "pyproject.toml:2:10: error: 'check' entries are strings \"SOURCE.py -> GENERATED.py\"");
    CHECK_EQ_STR(error_of("[tool.ffq.sub]\n"), "pyproject.toml:1:1: error: [tool.ffq] has no sub-tables");
    CHECK_EQ_STR(error_of("[tool.ffq]\npython = \"unterminated\n"),
                 "pyproject.toml:2:23: error: a string in \"...\" or '...' must end on its line");
    CHECK_EQ_STR(error_of("[project]\ndescription = \"\"\"never closed\n\n"),
                 "pyproject.toml:2:15: error: unterminated string");
    CHECK_EQ_STR(error_of("[tool.ffq]\noptable = [\"a.yaml\"\n"),
                 "pyproject.toml:2:11: error: unterminated array");
    CHECK_EQ_STR(error_of("[tool.ffq]\noptable = [\"a\" \"b\"]\n"),
                 "pyproject.toml:2:16: error: expected ',' or ']' in an array");
    CHECK_EQ_STR(error_of("[tool.ffq\n"), "pyproject.toml:1:10: error: expected ']' to close the table header");
    CHECK_EQ_STR(error_of("[tool.ffq]\npython 'x'\n"), "pyproject.toml:2:8: error: expected '=' after the key");
    CHECK_EQ_STR(error_of("[tool.ffq]\npython = 'x' y\n"),
                 "pyproject.toml:2:14: error: expected the end of the line, found 'y'");
    CHECK_EQ_STR(error_of("[tool.ffq]\npython = venv/bin/python\n"),
                 "pyproject.toml:2:10: error: expected a value (strings need quotes), found 'venv'");
    CHECK_EQ_STR(error_of("[tool.ffq]\npython =\n"), "pyproject.toml:2:9: error: expected a value");
    CHECK_EQ_STR(error_of("name = \"bad \\q escape\"\n"),
                 "pyproject.toml:1:14: error: unknown escape sequence '\\q' in a string");
    CHECK_EQ_STR(error_of("x = \"\\u12\"\n"), "pyproject.toml:1:10: error: expected 4 hexadecimal digits after '\\u'");
    CHECK_EQ_STR(error_of("= 1\n"), "pyproject.toml:1:1: error: expected a key, found '='");
    CHECK_EQ_STR(error_of("[tool.ffq]\ncheck = { source = 'a.py' }\n"),
                 "pyproject.toml:2:9: error: 'check' entries are strings \"SOURCE.py -> GENERATED.py\"");
    CHECK_EQ_STR(error_of("tool.ffq = 1\n"), "pyproject.toml:1:12: error: 'tool.ffq' must be a table");
    // Deep nesting is refused, not a stack overflow.
    char deep[400];
    memset(deep, '[', sizeof deep);
    memcpy(deep, "x = ", 4);
    deep[sizeof deep - 1] = '\0';
    CHECK_CONTAINS(error_of(deep), "nested more than");
    // NUL bytes are reported with their place.
    FfqConfig cfg;
    CHECK(!config_parse(&cfg, "p.toml", "a = 1\nb = \"x\0\"\n", 14, err, sizeof err));
    CHECK_EQ_STR(err, "p.toml:2:7: error: NUL byte in the file");
    config_fini(&cfg);
}

static void write_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(text, fp);
    fclose(fp);
}

// The nearest pyproject.toml that has [tool.ffq]; one without it is passed over.
static void test_find(void) {
    char root[] = "/tmp/ffq-config-XXXXXX", path[512], cwd[4096];
    if (!mkdtemp(root) || !getcwd(cwd, sizeof cwd)) {
        CHECK(!"cannot make a temporary directory");
        return;
    }
    snprintf(path, sizeof path, "%s/a", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/a/b", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/pyproject.toml", root);
    write_file(path, "[tool.ffq]\npython = \"top\"\n");
    snprintf(path, sizeof path, "%s/a/b/pyproject.toml", root);
    write_file(path, "[project]\nname = \"no ffq here\"\n");

    snprintf(path, sizeof path, "%s/a/b", root);
    char *found = config_find(path);
    char want[512];
    snprintf(want, sizeof want, "%s/pyproject.toml", root);
    CHECK_EQ_STR(found, want);
    free(found);

    snprintf(path, sizeof path, "%s/a/pyproject.toml", root);
    write_file(path, "[tool.ffq]\npython = \"middle\"\n");
    CHECK(chdir(root) == 0);
    found = config_find("a/b");
    CHECK_EQ_STR(found, "a/pyproject.toml");  // relative to the current directory below it
    FfqConfig cfg;
    CHECK(found && config_load(&cfg, found, err, sizeof err));
    CHECK_EQ_STR(cfg.python, "middle");
    config_fini(&cfg);
    free(found);

    // A file that mentions tool.ffq but does not parse is found, so its error shows.
    snprintf(path, sizeof path, "%s/a/b/pyproject.toml", root);
    write_file(path, "[tool.ffq\n");
    found = config_find("a/b");
    CHECK_EQ_STR(found, "a/b/pyproject.toml");
    CHECK(found && !config_load(&cfg, found, err, sizeof err));
    CHECK_EQ_STR(err, "a/b/pyproject.toml:1:10: error: expected ']' to close the table header");
    config_fini(&cfg);
    free(found);

    CHECK(!config_load(&cfg, "a/missing.toml", err, sizeof err));
    CHECK_CONTAINS(err, "a/missing.toml: error: cannot read the file: No such file");
    config_fini(&cfg);

    CHECK(chdir(cwd) == 0);
    const char *files[] = {"a/b/pyproject.toml", "a/pyproject.toml", "pyproject.toml", "a/b", "a", ""};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        CHECK(remove(path) == 0);
    }
}

// Flags win over the file; what the flags leave unset comes from it.
static void test_apply(void) {
    FfqConfig cfg;
    CHECK(parse(&cfg, "pyproject.toml",
                "[tool.ffq]\noptable = ['t.yaml']\nreplace = ['a=>b']\nsearch-path = ['s']\n"
                "python = 'py'\ntype-inference = false\nstub-tags = true\n"));
    CHECK(cfg.stub_tags == 1);
    ffq_options opt = ffq_options_default();
    CHECK(!opt.stub_tags);
    const char *python = NULL;
    config_apply(&cfg, &opt, &python, false, false);
    CHECK(opt.noptables == 1 && strcmp(opt.optables[0], "t.yaml") == 0);
    CHECK(opt.nreplace == 1 && strcmp(opt.replace[0], "a=>b") == 0);
    CHECK(opt.nsearch_path == 1 && strcmp(opt.search_path[0], "s") == 0);
    CHECK_EQ_STR(python, "py");
    CHECK(!opt.type_inference);
    CHECK(opt.stub_tags);

    const char *flag_tables[] = {"flag.yaml"};
    opt = ffq_options_default();
    opt.optables = flag_tables;
    opt.noptables = 1;
    opt.type_inference = true;  // --type-inference
    opt.stub_tags = false;      // --no-stub-tags
    python = "flagpy";
    config_apply(&cfg, &opt, &python, true, true);
    CHECK(opt.noptables == 1 && strcmp(opt.optables[0], "flag.yaml") == 0);
    CHECK(opt.nreplace == 1);
    CHECK_EQ_STR(python, "flagpy");
    CHECK(opt.type_inference);
    CHECK(!opt.stub_tags);
    config_fini(&cfg);
}

int main(void) {
    test_full_table();
    test_other_tables_skipped();
    test_other_spellings();
    test_errors();
    test_find();
    test_apply();
    return check_report("test_config");
}
