// walk.c: the module files of a package tree, for batch mode (`ffq autoquant DIR -o OUTDIR`).
//
// Consumes: a root directory. Produces: the relative paths of its .py files,
// sorted. Hidden entries and __pycache__ are skipped. Symbolic links to
// directories are not followed unless asked; when followed, every directory
// (by st_dev and st_ino) is walked at most once: a link back to a directory
// of the current path is a loop (skipped with a warning), a second way into
// a directory already walked is skipped with a note. So the walk always ends,
// in time linear in the number of distinct directories, and no output is
// written twice. Anything but a regular file (FIFOs, devices, sockets) is
// never opened: reading a FIFO would block.
#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "containers.h"

enum { MAX_WALK_DEPTH = 64 };

typedef struct DirId {  // a set key: every byte set (no padding left undefined)
    dev_t dev;
    ino_t ino;
} DirId;

typedef struct Walk {
    const char *root;
    bool follow, quiet;
    dev_t dev[MAX_WALK_DEPTH + 1];  // the directories of the current path
    ino_t ino[MAX_WALK_DEPTH + 1];
    int depth;
    ffq_ctx *cx;  // the arena of `seen` (this walk's own context)
    StrMap seen;  // every directory walked: DirId bytes

    WalkResult *out;
} Walk;

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static bool is_py(const char *name) {
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".py") == 0;
}

static void add_file(WalkResult *w, const char *rel) {
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        char **grown = realloc(w->files, cap * sizeof(char *));
        if (!grown) return;
        w->files = grown;
        w->cap = cap;
    }
    char *copy = strdup(rel);
    if (copy) w->files[w->n++] = copy;
}

// The names in one directory, sorted, so that the walk (and its messages)
// does not depend on the order readdir happens to return.
static char **list_dir(const char *dir, size_t *n) {
    DIR *d = opendir(dir);
    *n = 0;
    if (!d) return NULL;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "__pycache__") == 0) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(names, cap * sizeof(char *));
            if (!grown) break;
            names = grown;
        }
        char *copy = strdup(e->d_name);
        if (copy) names[(*n)++] = copy;
    }
    closedir(d);
    if (*n) qsort(names, *n, sizeof(char *), cmp_str);
    if (!names) names = calloc(1, sizeof(char *));
    return names;
}

static bool on_path(const Walk *w, const struct stat *st) {
    for (int i = 0; i <= w->depth; i++)
        if (w->dev[i] == st->st_dev && w->ino[i] == st->st_ino) return true;
    return false;
}

// Adds the directory; false when it was already there.
static bool first_visit(Walk *w, const struct stat *st) {
    DirId id;
    memset(&id, 0, sizeof id);
    id.dev = st->st_dev;
    id.ino = st->st_ino;
    if (strmap_get(&w->seen, (const char *)&id, sizeof id)) return false;
    char *key = arena_alloc(w->cx, sizeof id);
    memcpy(key, &id, sizeof id);
    strmap_put(w->cx, &w->seen, key, sizeof id, key);
    return true;
}

static void visit(Walk *w, const char *rel);

// Descends into directory st (reached through a symlink when link) unless
// it is a symlink not to follow, a loop, already visited or too deep.
static void enter_dir(Walk *w, const char *rel, const char *full, const struct stat *st, bool link) {
    if (link && !w->follow) {
        w->out->links_skipped++;
        if (!w->quiet)
            fprintf(stderr,
                    "ffq: note: not following the directory symlink '%s' (--follow-symlinks "
                    "follows them)\n",
                    full);
        return;
    }
    if (on_path(w, st)) {
        w->out->loops++;
        if (!w->quiet)
            fprintf(stderr,
                    "ffq: warning: '%s' leads back to a directory it is in (a symlink loop); "
                    "skipped\n",
                    full);
        return;
    }
    if (!first_visit(w, st)) {
        if (!w->quiet)
            fprintf(stderr,
                    "ffq: note: skipped '%s': the directory it leads to was already "
                    "converted by another path\n",
                    full);
        return;
    }
    if (w->depth >= MAX_WALK_DEPTH) {
        w->out->errors++;
        fprintf(stderr, "ffq: error: '%s' is nested more than %d directories deep; skipped\n", full,
                MAX_WALK_DEPTH);
        return;
    }
    w->depth++;
    w->dev[w->depth] = st->st_dev;
    w->ino[w->depth] = st->st_ino;
    visit(w, rel);
    w->depth--;
}

static void entry(Walk *w, const char *rel, const char *full) {
    struct stat lst, st;
    if (lstat(full, &lst) != 0) return;
    bool link = S_ISLNK(lst.st_mode);
    if (link && stat(full, &st) != 0) return;  // dangling: nothing to read
    if (!link) st = lst;
    if (S_ISDIR(st.st_mode)) {
        enter_dir(w, rel, full, &st, link);
    } else if (is_py(rel) && S_ISREG(st.st_mode)) {
        add_file(w->out, rel);
    } else if (is_py(rel) && !w->quiet) {
        fprintf(stderr, "ffq: note: skipped '%s': %s, not a regular file\n", full, outfile_kind(st.st_mode));
    }
}

static void visit(Walk *w, const char *rel) {
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s%s%s", w->root, *rel ? "/" : "", rel) >= (int)sizeof dir) return;
    size_t n;
    char **names = list_dir(dir, &n);
    if (!names) {
        w->out->errors++;
        fprintf(stderr, "ffq: error: cannot read the directory '%s': %s\n", dir, strerror(errno));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char sub[PATH_MAX], full[PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i]) < (int)sizeof sub &&
            snprintf(full, sizeof full, "%s/%s", w->root, sub) < (int)sizeof full)
            entry(w, sub, full);
        free(names[i]);
    }
    free(names);
}

void walk_tree(const char *root, bool follow, bool quiet, WalkResult *out) {
    Walk w = {.root = root, .follow = follow, .quiet = quiet, .out = out, .cx = ffq_ctx_new(NULL, NULL)};
    if (!w.cx) {
        fprintf(stderr, "ffq: error: out of memory\n");
        out->errors++;
        return;
    }
    struct stat st;
    if (stat(root, &st) == 0) {  // the root itself may be a link: it was named explicitly
        w.dev[0] = st.st_dev;
        w.ino[0] = st.st_ino;
        first_visit(&w, &st);
    }
    visit(&w, "");
    ffq_ctx_free(w.cx);
    if (out->n) qsort(out->files, out->n, sizeof(char *), cmp_str);
}

void walk_free(WalkResult *w) {
    for (size_t i = 0; i < w->n; i++) free(w->files[i]);
    free(w->files);
    w->files = NULL;
    w->n = w->cap = 0;
}
