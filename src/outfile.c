// outfile.c: how the ffq command writes a result file without destroying anything.
//
// Consumes: a path, the bytes to put there and whether --force was given.
// Produces: the file, complete, or an error message on standard error and
// nothing changed. The rules (docs/cli-safety.md):
//   - only regular files are ever replaced; an existing device, FIFO, socket
//     or directory at the path is an error, with or without --force;
//   - a symbolic link at the path is followed: the regular file it points to
//     is replaced (the link stays a link); a dangling link or one that leads
//     to anything but a regular file is refused;
//   - the bytes go to a temporary file in the target's directory, which is
//     flushed to disk and then moved into place in one step: without --force
//     with renameat2(RENAME_NOREPLACE) (or link(), where the filesystem lacks
//     it), so of several concurrent writers exactly one succeeds and nothing
//     that appears at the path meanwhile is overwritten; with --force with
//     RENAME_EXCHANGE, so whatever was swapped out can be checked (and put
//     back if it turns out not to be a regular file).
// This is CLI code: it prints its own messages.
#define _GNU_SOURCE  // renameat2
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *outfile_kind(mode_t mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

static void refuse_kind(const char *path, mode_t mode) {
    fprintf(stderr, "ffq: error: '%s' is %s, not a regular file; ffq only replaces regular files%s\n", path,
            outfile_kind(mode), S_ISCHR(mode) || S_ISFIFO(mode) ? " (use -o - for standard output)" : "");
}

static void refuse_exists(const char *path) {
    fprintf(stderr, "ffq: error: '%s' already exists; use --force to overwrite it\n", path);
}

// Where the bytes for `path` really go: `path` itself, or for a symbolic link
// the file it leads to. Returns OUT_OK and fills `target` (and *exists), or
// prints why not.
OutStatus outfile_resolve(const char *path, bool force, char *target, size_t size, bool *exists) {
    struct stat st;
    *exists = false;
    if (snprintf(target, size, "%s", path) >= (int)size) {
        fprintf(stderr, "ffq: error: output path too long: %s\n", path);
        return OUT_ERROR;
    }
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return OUT_OK;
        fprintf(stderr, "ffq: error: cannot write '%s': %s\n", path, strerror(errno));
        return OUT_ERROR;
    }
    if (S_ISLNK(st.st_mode)) {
        char real[PATH_MAX];
        if (!realpath(path, real) || stat(real, &st) != 0) {
            fprintf(stderr,
                    "ffq: error: '%s' is a symbolic link that leads nowhere (%s); refusing to "
                    "write through it\n",
                    path, strerror(errno));
            return OUT_ERROR;
        }
        if (!S_ISREG(st.st_mode)) {
            fprintf(stderr,
                    "ffq: error: '%s' is a symbolic link to %s, not to a regular file; ffq "
                    "only replaces regular files\n",
                    path, outfile_kind(st.st_mode));
            return OUT_ERROR;
        }
        if (snprintf(target, size, "%s", real) >= (int)size) return OUT_ERROR;
    } else if (!S_ISREG(st.st_mode)) {
        refuse_kind(path, st.st_mode);
        return OUT_ERROR;
    }
    *exists = true;
    if (!force) {
        refuse_exists(path);
        return OUT_EXISTS;
    }
    return OUT_OK;
}

static int make_temp(const char *target, char *tmpl, size_t size) {
    const char *slash = strrchr(target, '/');
    int n = slash ? snprintf(tmpl, size, "%.*s/.ffq-XXXXXX", (int)(slash - target), target)
                  : snprintf(tmpl, size, ".ffq-XXXXXX");
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkstemp(tmpl);
}

static bool write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        data += w;
        len -= (size_t)w;
    }
    return fsync(fd) == 0;
}

// The new file's permissions: those of the file it replaces, else what a
// plain creat() would give (0666 minus the umask).
static mode_t new_mode(const char *target) {
    struct stat st;
    if (stat(target, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
    mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

// Without --force: the temporary takes the name only if nothing is there.
static int place_noreplace(const char *tmp, const char *target) {
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -1;
    if (link(tmp, target) != 0) return -1;  // filesystems without RENAME_NOREPLACE
    unlink(tmp);
    return 0;
}

// With --force: swap the temporary and the target, then look at what came
// out. Only a regular file may be replaced; anything else that appeared at
// the path since it was checked is swapped back.
static OutStatus place_force(const char *tmp, const char *target) {
    if (place_noreplace(tmp, target) == 0) return OUT_OK;
    if (errno != EEXIST) return OUT_ERROR;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE) != 0) {
        if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return OUT_ERROR;
        struct stat st;  // no RENAME_EXCHANGE: check right before a plain rename
        if (lstat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
            unlink(tmp);
            refuse_kind(target, st.st_mode);
            return OUT_REFUSED;
        }
        return rename(tmp, target) == 0 ? OUT_OK : OUT_ERROR;
    }
    struct stat old;
    if (lstat(tmp, &old) == 0 && !S_ISREG(old.st_mode)) {
        // Put it back; only then is the name `tmp` ours again to remove.
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE) == 0) unlink(tmp);
        refuse_kind(target, old.st_mode);
        return OUT_REFUSED;
    }
    unlink(tmp);  // the old file
    return OUT_OK;
}

OutStatus outfile_write(const char *path, const char *data, size_t len, bool force) {
    char target[PATH_MAX], tmp[PATH_MAX];
    bool exists;
    OutStatus st = outfile_resolve(path, force, target, sizeof target, &exists);
    if (st != OUT_OK) return st;
    int fd = make_temp(target, tmp, sizeof tmp);
    if (fd < 0) {
        fprintf(stderr, "ffq: error: cannot write '%s': %s\n", path, strerror(errno));
        return OUT_ERROR;
    }
    bool ok = fchmod(fd, new_mode(target)) == 0 && write_all(fd, data, len);
    int err = errno;
    if (close(fd) != 0 && ok) ok = false, err = errno;
    if (!ok) {
        unlink(tmp);
        fprintf(stderr, "ffq: error: cannot write '%s': %s\n", path, strerror(err));
        return OUT_ERROR;
    }
    if (force) {
        st = place_force(tmp, target);
    } else if (place_noreplace(tmp, target) != 0) {
        st = errno == EEXIST ? OUT_EXISTS : OUT_ERROR;
    }
    err = errno;
    if (st == OUT_OK || st == OUT_REFUSED) return st;  // place_force cleaned up
    unlink(tmp);
    if (st == OUT_EXISTS) refuse_exists(path);
    else if (st == OUT_ERROR) fprintf(stderr, "ffq: error: cannot write '%s': %s\n", path, strerror(err));
    return st;
}
