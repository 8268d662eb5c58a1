// ffq_fmt.c: test driver for the formatter (not installed).
//
// Usage: ffq-fmt [--cst|--doc] [FILE]   (stdin when FILE is missing or "-")
// Writes format_module's output to stdout; exit 1 if the input does not
// parse cleanly, 2 on I/O errors. --cst prints the syntax tree instead, --doc the layout document.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffq_int.h"
#include "format/format.h"
#include "format/internal.h"

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

static void dump(const Cst *c, uint32_t n, int depth) {
    const CstNode *nd = cst_node(c, n);
    size_t len;
    const char *t = cst_text(c, n, &len);
    printf("%*s%s%s [%u,%u)", depth * 2, "", nd->named ? cst_kind_name(nd->kind) : "tok",
           nd->kind == K_OTHER ? "?" : "", nd->start, nd->end);
    if (nd->nchildren == 0 || len < 40) printf(" %.*s", (int)(len < 60 ? len : 60), t);
    printf("  field=%u sym=%u\n", nd->field, nd->sym);
    for (uint32_t k = 0; k < nd->nchildren; k++) dump(c, nd->first_child + k, depth + 1);
}

int main(int argc, char **argv) {
    bool cst = false, docdump = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cst") == 0) cst = true;
        else if (strcmp(argv[i], "--doc") == 0) docdump = true;
        else path = argv[i];
    }
    FILE *f = stdin;
    if (path && strcmp(path, "-") != 0) f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 2;
    }
    size_t len;
    char *text = read_all(f, &len);
    if (f != stdin) fclose(f);
    if (!text) return 2;
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    int rc = 0;
    if (cst) {
        Cst *c = source_parse_text(cx, "<stdin>", text, len, false);
        if (c) dump(c, 0, 0);
    } else {
        StrBuf out = {0};
        if (docdump ? format_module_dump(cx, text, len, &out) : format_module(cx, text, len, &out)) fwrite(out.data ? out.data : "", 1, out.len, stdout);
        else rc = 1;
    }
    ffq_ctx_free(cx);
    free(text);
    return rc;
}
