// outfile.h: the ffq command's file-system layer (main.c uses it): safe
// result files (outfile.c), the batch-mode tree walk (walk.c) and the
// interpreter's site-packages (sitepkgs.c). The rules are in docs/cli-safety.md.
#ifndef FFQ_OUTFILE_H
#define FFQ_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef enum OutStatus {
    OUT_OK = 0,
    OUT_EXISTS,   // the path exists and --force was not given
    OUT_REFUSED,  // the path is not a regular file (or a link to one)
    OUT_ERROR,    // an I/O error (the message says which)
} OutStatus;

// "a FIFO", "a character device", ... for messages.
const char *outfile_kind(mode_t mode);

// Checks, without writing, that `path` may be written: `target` receives the
// file that would be replaced (a symbolic link's destination) and *exists
// whether it is there. Prints the reason on standard error unless OUT_OK.
OutStatus outfile_resolve(const char *path, bool force, char *target, size_t size, bool *exists);

// Writes data to path atomically under the rules of outfile.c. Prints the
// reason on standard error unless OUT_OK; on failure nothing is changed.
OutStatus outfile_write(const char *path, const char *data, size_t len, bool force);

// Batch mode: the .py files under `root`, as sorted relative paths.
typedef struct WalkResult {
    char **files;
    size_t n, cap;
    size_t links_skipped;  // directory symlinks not followed
    size_t loops;          // symlink loops found (when following)
    size_t errors;         // directories that could not be read
} WalkResult;

// Directory symlinks are followed only when `follow`; then every directory
// (same device and inode) is walked once, and a link back to a directory on
// the current path is a loop, skipped with a warning. Symlinks to files are
// read when they lead to a regular file. `quiet` drops notes and warnings.
void walk_tree(const char *root, bool follow, bool quiet, WalkResult *out);
void walk_free(WalkResult *w);

// The site-packages directories of interpreter `python` (a name looked up
// along $PATH, or a path), from the cache when it still holds for that exact
// interpreter, else by running it once. false when it could not be run.
typedef struct SiteDirs {
    char **dirs;
    size_t n, cap;
    bool cached;  // the answer came from the cache
} SiteDirs;
bool site_dirs(const char *python, SiteDirs *sd);
void site_dirs_free(SiteDirs *sd);

#endif
