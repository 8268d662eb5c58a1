// sitepkgs.c: the site-packages directories of a Python interpreter, for
// the ffq command, without starting the interpreter on every run.
//
// Consumes: --python (default python3). Produces: its site-packages and
// dist-packages directories, in sys.path order. The answer comes from asking
// the interpreter once; it is kept in $XDG_CACHE_HOME/ffq/site-packages/
// (default ~/.cache/ffq/) under a key that names the interpreter exactly: the
// path it was found at, the file it resolves to (with device, inode, size and
// mtime), its venv's pyvenv.cfg, and the environment variables that change
// sys.path. A pyenv shim is resolved to the version it would run (as pyenv
// does: PYENV_VERSION, then .python-version files up from the current
// directory, then $PYENV_ROOT/version), so the key follows version switches.
// A cached answer whose directories no longer all exist is asked again.
// FFQ_NO_CACHE=1 always asks. Cache write failures are ignored.
#define _DEFAULT_SOURCE  // realpath
#include "outfile.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers.h"

typedef struct Buf {
    char *s;
    size_t len, cap;
} Buf;

static void put(Buf *b, const char *s) {
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *grown = realloc(b->s, cap);
        if (!grown) return;
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

static void putf(Buf *b, const char *fmt, long long x) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, fmt, x);
    put(b, tmp);
}

static bool is_exec_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

// `name` along $PATH (or as given when it holds a '/').
static bool find_program(const char *name, char *out, size_t size) {
    if (strchr(name, '/')) return snprintf(out, size, "%s", name) < (int)size && is_exec_file(out);
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (snprintf(out, size, "%.*s/%s", (int)n, n ? path : ".", name) < (int)size && is_exec_file(out))
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

static bool read_line(const char *path, char *out, size_t size) {
    FILE *fp = fopen(path, "r");
    if (!fp) return false;
    bool ok = fgets(out, (int)size, fp) != NULL;
    fclose(fp);
    if (ok) out[strcspn(out, " \r\n:")] = '\0';  // the first version of a list
    return ok && out[0];
}

// The version a pyenv shim would run ("" when it cannot be told).
static void pyenv_version(const char *root, char *out, size_t size) {
    out[0] = '\0';
    const char *env = getenv("PYENV_VERSION");
    if (env && *env) {
        snprintf(out, size, "%.*s", (int)strcspn(env, ":"), env);
        return;
    }
    char dir[PATH_MAX], file[PATH_MAX + 32];
    if (getcwd(dir, sizeof dir)) {
        for (;;) {
            snprintf(file, sizeof file, "%s/.python-version", dir);
            if (read_line(file, out, size)) return;
            char *slash = strrchr(dir, '/');
            if (!slash || slash == dir) break;
            *slash = '\0';
        }
    }
    snprintf(file, sizeof file, "%s/version", root);
    if (!read_line(file, out, size)) out[0] = '\0';
}

// A pyenv shim at `found` (…/shims/NAME): the interpreter it runs, if known.
static bool resolve_shim(const char *found, char *out, size_t size) {
    const char *slash = strrchr(found, '/');
    if (!slash || !mem_ends(found, (size_t)(slash - found), "/shims")) return false;
    char root[PATH_MAX], ver[256];
    const char *env = getenv("PYENV_ROOT");
    if (env && *env) snprintf(root, sizeof root, "%s", env);
    else snprintf(root, sizeof root, "%.*s", (int)(slash - 6 - found), found);
    pyenv_version(root, ver, sizeof ver);
    if (!ver[0] || strcmp(ver, "system") == 0 || strchr(ver, '/')) return false;
    return snprintf(out, size, "%s/versions/%s/bin/%s", root, ver, slash + 1) < (int)size &&
           is_exec_file(out);
}

// The cache key of interpreter `python`, or false when it cannot be named
// well enough to cache (then it is simply asked).
static bool make_key(const char *python, Buf *key) {
    char found[PATH_MAX], shim[PATH_MAX], real[PATH_MAX];
    if (!find_program(python, found, sizeof found)) return false;
    const char *interp = resolve_shim(found, shim, sizeof shim) ? shim : found;
    struct stat st;
    if (!realpath(interp, real) || stat(real, &st) != 0) return false;
    put(key, "ffq-site-1\t");
    put(key, interp);
    put(key, "\t");
    put(key, real);
    putf(key, "\t%lld", (long long)st.st_dev);
    putf(key, ":%lld", (long long)st.st_ino);
    putf(key, ":%lld", (long long)st.st_size);
    putf(key, ":%lld", (long long)st.st_mtim.tv_sec);
    putf(key, ".%lld", (long long)st.st_mtim.tv_nsec);
    char cfg[PATH_MAX + 16];  // a venv: <venv>/bin/python -> <venv>/pyvenv.cfg
    const char *slash = strrchr(interp, '/');
    int dirlen = slash ? (int)(slash - interp) : 0;
    snprintf(cfg, sizeof cfg, "%.*s/../pyvenv.cfg", dirlen, interp);
    if (stat(cfg, &st) == 0) {
        putf(key, "\tvenv:%lld", (long long)st.st_mtim.tv_sec);
        putf(key, ".%lld", (long long)st.st_mtim.tv_nsec);
    }
    static const char *const vars[] = {
        "PYTHONPATH",  "PYTHONHOME", "PYTHONNOUSERSITE", "PYTHONUSERBASE", "PYTHONSAFEPATH",
        "VIRTUAL_ENV", "HOME"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        put(key, "\t");
        put(key, vars[i]);
        put(key, v ? "=" : "-");
        put(key, v ? v : "");
    }
    return key->s != NULL;
}

static bool cache_dir(char *out, size_t size) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/') return snprintf(out, size, "%s/ffq/site-packages", xdg) < (int)size;
    if (home && home[0] == '/') return snprintf(out, size, "%s/.cache/ffq/site-packages", home) < (int)size;
    return false;
}

static bool cache_file(const char *key, char *out, size_t size) {
    char dir[PATH_MAX];
    if (!cache_dir(dir, sizeof dir)) return false;
    uint64_t h = hash_bytes(HASH_SEED, key, strlen(key));
    return snprintf(out, size, "%s/%016llx", dir, (unsigned long long)h) < (int)size;
}

static void add_dir(SiteDirs *sd, const char *dir) {
    if (sd->n == sd->cap) {
        size_t cap = sd->cap ? sd->cap * 2 : 8;
        char **grown = realloc(sd->dirs, cap * sizeof(char *));
        if (!grown) return;
        sd->dirs = grown;
        sd->cap = cap;
    }
    char *copy = strdup(dir);
    if (copy) sd->dirs[sd->n++] = copy;
}

void site_dirs_free(SiteDirs *sd) {
    for (size_t i = 0; i < sd->n; i++) free(sd->dirs[i]);
    free(sd->dirs);
    memset(sd, 0, sizeof *sd);
}

// The cached answer for `key`, if there is one and all its directories exist.
static bool load_cached(const char *key, SiteDirs *sd) {
    char path[PATH_MAX];
    if (!cache_file(key, path, sizeof path)) return false;
    FILE *fp = fopen(path, "r");
    if (!fp) return false;
    size_t klen = strlen(key);
    char *line = malloc(klen + 2);
    bool ok = line && fgets(line, (int)klen + 2, fp) && strncmp(line, key, klen) == 0 && line[klen] == '\n';
    free(line);
    char dir[PATH_MAX + 2];
    while (ok && fgets(dir, sizeof dir, fp)) {
        dir[strcspn(dir, "\n")] = '\0';
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) ok = false;
        else add_dir(sd, dir);
    }
    fclose(fp);
    if (!ok) site_dirs_free(sd);
    return ok;
}

static int mkdir_p(const char *dir) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) return -1;
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return -1;
        if (!c) return 0;
        *p = c;
    }
}

static void store(const char *key, const SiteDirs *sd) {
    char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 16];
    if (!cache_file(key, path, sizeof path) || !cache_dir(dir, sizeof dir) || mkdir_p(dir) != 0) return;
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return;
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        close(fd);
        unlink(tmp);
        return;
    }
    bool ok = fprintf(fp, "%s\n", key) > 0;
    for (size_t i = 0; ok && i < sd->n; i++) ok = fprintf(fp, "%s\n", sd->dirs[i]) > 0;
    ok = fclose(fp) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);  // concurrent runs: the last rename wins, same content
}

// Runs the interpreter once. false when it could not be run or failed.
static bool ask(const char *python, SiteDirs *sd) {
    if (strchr(python, '\'')) return false;
    char cmd[PATH_MAX + 256];
    if (snprintf(cmd, sizeof cmd,
                 "'%s' -c 'import sys; print(\"\\n\".join(p for p in sys.path if "
                 "p.endswith((\"site-packages\", \"dist-packages\"))))' 2>/dev/null",
                 python) >= (int)sizeof cmd)
        return false;
    FILE *fp = popen(cmd, "r");
    if (!fp) return false;
    char line[PATH_MAX];
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0]) add_dir(sd, line);
    }
    return pclose(fp) == 0;
}

bool site_dirs(const char *python, SiteDirs *sd) {
    memset(sd, 0, sizeof *sd);
    const char *nc = getenv("FFQ_NO_CACHE");
    Buf key = {0};
    bool keyed = !(nc && *nc && strcmp(nc, "0") != 0) && make_key(python, &key);
    if (keyed && load_cached(key.s, sd)) {
        sd->cached = true;
        free(key.s);
        return true;
    }
    bool ok = ask(python, sd);
    if (ok && keyed) store(key.s, sd);
    free(key.s);
    return ok;
}
