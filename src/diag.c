// diag.c: source files with line tables, and the diagnostics sink.
//
// Passes report with diag_at/diag_linecol and never print. Diagnostics are
// kept as data, sorted by file and position when rendered, and rendered as
//     file:line:col: severity: message [code]
//         <the source line>
//         <caret under the column>
// Lines are 1-based; columns are 1-based and count bytes.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffq_int.h"

SrcFile *srcfile_new(ffq_ctx *cx, const char *path, const char *data, size_t len) {
    SrcFile *f = ARENA_NEW(cx, SrcFile);
    f->path = arena_strdup(cx, path);
    f->data = arena_strndup(cx, data, len);
    f->len = (uint32_t)len;
    uint32_t n = 1;
    for (size_t i = 0; i < len; i++)
        if (data[i] == '\n') n++;
    f->line_starts = ARENA_ARRAY(cx, uint32_t, n);
    f->nlines = n;
    uint32_t k = 1;
    for (size_t i = 0; i < len; i++)
        if (data[i] == '\n') f->line_starts[k++] = (uint32_t)i + 1;
    return f;
}

SrcFile *srcfile_read(ffq_ctx *cx, const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        diag_at(cx, DIAG_ERROR, NULL, 0, "cannot-read", "cannot read '%s': %s", path,
                strerror(errno));
        return NULL;
    }
    StrBuf sb = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) sb_putn(cx, &sb, buf, n);
    bool bad = ferror(fp);
    fclose(fp);
    if (bad) {
        diag_at(cx, DIAG_ERROR, NULL, 0, "cannot-read", "error while reading '%s'", path);
        return NULL;
    }
    if (sb.len > UINT32_MAX / 2) {
        diag_at(cx, DIAG_ERROR, NULL, 0, "file-too-large", "'%s' is too large", path);
        return NULL;
    }
    return srcfile_new(cx, path, sb_cstr(cx, &sb), sb.len);
}

void srcfile_linecol(const SrcFile *f, uint32_t offset, uint32_t *line1, uint32_t *col1) {
    uint32_t lo = 0, hi = f->nlines;  // find the last line start <= offset
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (f->line_starts[mid] <= offset) lo = mid;
        else hi = mid;
    }
    *line1 = lo + 1;
    *col1 = offset - f->line_starts[lo] + 1;
}

// Python source is UTF-8 (PEP 3120); the offset of the first byte that is
// not, or UINT32_MAX when the whole file is valid.
uint32_t srcfile_invalid_utf8(const SrcFile *f) {
    const char *s = f->data;
    uint32_t n = f->len;
    for (uint32_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || (len == 2 && c < 0xc2) || i + len > n) return i;
        for (uint32_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] >> 6) != 2) return i;
        i += len;
    }
    return UINT32_MAX;
}

static void add(ffq_ctx *cx, DiagSeverity sev, const SrcFile *file, uint32_t line1, uint32_t col1,
                const char *code, const char *fmt, va_list ap) {
    Diag *d = ARENA_NEW(cx, Diag);
    d->sev = sev;
    d->file = file;
    d->line = line1;
    d->col = col1;
    d->code = code;
    d->msg = arena_vprintf(cx, fmt, ap);
    d->seq = (uint32_t)cx->diags.len;
    vec_push(cx, &cx->diags, d);
    if (sev == DIAG_ERROR) cx->stats.errors++;
    if (sev == DIAG_WARNING) cx->stats.warnings++;
}

void diag_at(ffq_ctx *cx, DiagSeverity sev, const SrcFile *file, uint32_t offset, const char *code,
             const char *fmt, ...) {
    uint32_t line = 0, col = 0;
    if (file) srcfile_linecol(file, offset, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    add(cx, sev, file, line, col, code, fmt, ap);
    va_end(ap);
}

void diag_linecol(ffq_ctx *cx, DiagSeverity sev, const SrcFile *file, uint32_t line1,
                  uint32_t col1, const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add(cx, sev, file, line1, col1, code, fmt, ap);
    va_end(ap);
}

bool diag_has_errors(const ffq_ctx *cx) { return cx->stats.errors > 0; }

static int cmp_diag(const void *a, const void *b) {
    const Diag *x = *(Diag *const *)a, *y = *(Diag *const *)b;
    // Positionless messages first, then by file (in the order files were first
    // reported), line, column, and report order.
    if ((x->file != NULL) != (y->file != NULL)) return x->file ? 1 : -1;
    if (x->file != y->file) return x->file_rank < y->file_rank ? -1 : 1;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *sev_name(DiagSeverity s) {
    return s == DIAG_ERROR ? "error" : s == DIAG_WARNING ? "warning" : "note";
}

// The offending source line and a caret. Very long lines are shown as a
// window around the column so a 1 MB line does not flood the terminal.
static void render_excerpt(ffq_ctx *cx, StrBuf *out, const Diag *d) {
    const SrcFile *f = d->file;
    if (d->line == 0 || d->line > f->nlines) return;
    uint32_t start = f->line_starts[d->line - 1];
    uint32_t end = start;
    while (end < f->len && f->data[end] != '\n' && f->data[end] != '\r') end++;
    uint32_t at = start + d->col - 1;
    if (at > end) at = end;
    uint32_t from = start, to = end;
    bool cut_left = false, cut_right = false;
    if (at - from > 120) from = at - 60, cut_left = true;
    if (to - from > 200) to = from + 200, cut_right = true;
    if (at > to) at = to;
    sb_puts(cx, out, "    ");
    if (cut_left) sb_puts(cx, out, "...");
    sb_putn(cx, out, f->data + from, to - from);
    if (cut_right) sb_puts(cx, out, "...");
    sb_puts(cx, out, "\n    ");
    if (cut_left) sb_puts(cx, out, "   ");
    for (uint32_t i = from; i < at; i++) sb_putc(cx, out, f->data[i] == '\t' ? '\t' : ' ');
    sb_puts(cx, out, "^\n");
}

static const char *render_all(ffq_ctx *cx);

// Rendering allocates; if memory runs out here, a fixed message is returned
// instead of aborting (the compilation's own recovery point has ended).
const char *ffq_diagnostics(ffq_ctx *cx) {
    if (cx->diag_text) return cx->diag_text;
    jmp_buf jb, *outer = cx->recover;
    cx->recover = &jb;
    const char *text;
    if (setjmp(jb)) text = "ffq: error: out of memory while rendering the diagnostics\n";
    else text = render_all(cx);
    cx->recover = outer;
    return text;
}

static const char *render_all(ffq_ctx *cx) {
    size_t n = cx->diags.len;
    Diag **sorted = ARENA_ARRAY(cx, Diag *, n ? n : 1);
    PtrVec files = {0};
    for (size_t i = 0; i < n; i++) {
        Diag *d = VEC_AT(cx->diags, Diag, i);
        sorted[i] = d;
        if (!d->file) continue;
        size_t k = 0;
        while (k < files.len && files.items[k] != d->file) k++;
        if (k == files.len) vec_push(cx, &files, (void *)d->file);
        d->file_rank = (uint32_t)k;
    }
    qsort(sorted, n, sizeof *sorted, cmp_diag);
    StrBuf out = {0};
    for (size_t i = 0; i < n; i++) {
        const Diag *d = sorted[i];
        if (d->sev == DIAG_NOTE && cx->opt.quiet) continue;
        if (d->file) sb_printf(cx, &out, "%s:%u:%u: ", d->file->path, d->line, d->col);
        else sb_puts(cx, &out, "ffq: ");
        sb_printf(cx, &out, "%s: %s", sev_name(d->sev), d->msg);
        if (d->code) sb_printf(cx, &out, " [%s]", d->code);
        sb_putc(cx, &out, '\n');
        if (d->file) render_excerpt(cx, &out, d);
    }
    cx->diag_text = (char *)sb_cstr(cx, &out);
    return cx->diag_text;
}
