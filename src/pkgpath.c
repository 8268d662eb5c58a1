// pkgpath.c: the package root and dotted package of a directory (pkgpath.h).
#include "pkgpath.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void package_split(char *dir, char *pkg, size_t size) {
    char init[PATH_MAX + sizeof "/__init__.py"], name[PATH_MAX];
    struct stat st;
    pkg[0] = '\0';
    for (;;) {
        if (snprintf(init, sizeof init, "%s/__init__.py", dir) >= (int)sizeof init || stat(init, &st) != 0)
            return;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir) return;
        int n = snprintf(name, sizeof name, "%s%s%s", slash + 1, pkg[0] ? "." : "", pkg);
        if (n < 0 || (size_t)n >= sizeof name || (size_t)n >= size) return;
        memcpy(pkg, name, (size_t)n + 1);
        *slash = '\0';
    }
}
