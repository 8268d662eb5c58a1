// diag.c: source files with line tables, and the diagnostics sink.
//
// Passes report with diag_at/diag_linecol and never print. Diagnostics are
// kept as data, sorted by file and position when rendered, and rendered as
//     file:line:col: severity: message [code]
//         <the source line>
//         <caret under the column>
// Lines are 1-based; columns are 1-based and count bytes.
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ffq_int.h"

// The file record over `data`, which must be arena memory holding len bytes
// and a NUL after them: no copy is made.
static SrcFile *srcfile_adopt(ffq_ctx *cx, const char *path, const char *data, size_t len) {
    SrcFile *f = ARENA_NEW(cx, SrcFile);
    f->path = arena_strdup(cx, path);
    f->data = data;
    f->len = (uint32_t)len;
    uint32_t n = 1;
    for (const char *p = data; (p = memchr(p, '\n', len - (size_t)(p - data))) != NULL; p++) n++;
    f->line_starts = ARENA_ARRAY(cx, uint32_t, n);
    f->nlines = n;
    uint32_t k = 1;
    for (const char *p = data; (p = memchr(p, '\n', len - (size_t)(p - data))) != NULL; p++)
        f->line_starts[k++] = (uint32_t)(p - data) + 1;
    return f;
}

SrcFile *srcfile_new(ffq_ctx *cx, const char *path, const char *data, size_t len) {
    return srcfile_adopt(cx, path, arena_strndup(cx, data, len), len);
}

// Reads the whole file into one arena block: sized by fstat when the file is
// regular (one copy of the bytes at the peak, not the doubling buffer and a
// copy of it), grown when it is a pipe or its size changes while reading.
SrcFile *srcfile_read(ffq_ctx *cx, const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        diag_at(cx, DIAG_ERROR, NULL, 0, "cannot-read", "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    size_t cap = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
                         (uint64_t)st.st_size < UINT32_MAX / 2
                     ? (size_t)st.st_size + 1
                     : 65536;
    char *buf = arena_alloc(cx, cap + 1);
    size_t len = 0, n;
    while ((n = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += n;
        if (len < cap) continue;
        if (cap > UINT32_MAX / 2) break;
        buf = arena_grow(cx, buf, cap + 1, cap * 2 + 1);
        cap *= 2;
    }
    bool bad = ferror(fp);
    fclose(fp);
    if (bad) {
        diag_at(cx, DIAG_ERROR, NULL, 0, "cannot-read", "error while reading '%s'", path);
        return NULL;
    }
    if (len > UINT32_MAX / 2) {
        diag_at(cx, DIAG_ERROR, NULL, 0, "file-too-large", "'%s' is too large", path);
        return NULL;
    }
    buf[len] = '\0';
    return srcfile_adopt(cx, path, buf, len);
}

// --- PEP 263: `# -*- coding: NAME -*-` on line 1 or 2 ---

// The encoding named by a coding declaration in the first two lines, into
// out ("" when there is none). *at receives the declaration's offset.
static void coding_of(const SrcFile *f, char *out, size_t size, uint32_t *at) {
    out[0] = '\0';
    for (uint32_t line = 0; line < 2 && line < f->nlines; line++) {
        uint32_t start = f->line_starts[line], end = start;
        while (end < f->len && f->data[end] != '\n') end++;
        const char *p = f->data + start, *e = f->data + end;
        if (line == 0 && mem_starts(p, (size_t)(e - p), "\xef\xbb\xbf")) return;  // a UTF-8 BOM
        while (p < e && (*p == ' ' || *p == '\t' || *p == '\f')) p++;
        if (p == e || *p != '#') {
            if (p == e) continue;  // a blank line: the declaration may be on line 2
            return;                // code: no declaration after it
        }
        for (const char *q = p; q < e; q++) {
            const char *v = mem_starts(q, (size_t)(e - q), "coding") ? q + strlen("coding") : NULL;
            if (!v || v == e || (*v != ':' && *v != '=')) continue;
            v++;
            while (v < e && (*v == ' ' || *v == '\t')) v++;
            size_t n = 0;
            while (v + n < e && n + 1 < size &&
                   ((v[n] >= 'a' && v[n] <= 'z') || (v[n] >= 'A' && v[n] <= 'Z') ||
                    (v[n] >= '0' && v[n] <= '9') || v[n] == '-' || v[n] == '_' || v[n] == '.'))
                n++;
            memcpy(out, v, n);
            out[n] = '\0';
            *at = (uint32_t)(q - f->data);
            return;
        }
    }
}

static bool is_utf8_name(const char *enc) {
    char low[32];
    size_t n = 0;
    for (; enc[n] && n + 1 < sizeof low; n++) low[n] = enc[n] == '_' ? '-' : (char)(enc[n] | 0x20);
    low[n] = '\0';
    return strcmp(low, "utf-8") == 0 || strcmp(low, "utf8") == 0 || str_has_prefix(low, "utf-8-");
}

// iconv names most of Python's codecs a little differently: latin-1 is
// LATIN1, euc_jp is EUC-JP. Try the name, then with '-' for '_', then with
// neither.
static iconv_t open_decoder(const char *enc) {
    iconv_t cd = iconv_open("UTF-8", enc);
    char alt[64], bare[64];
    size_t n = 0, k = 0;
    for (; enc[n] && n + 1 < sizeof alt; n++) {
        alt[n] = enc[n] == '_' ? '-' : enc[n];
        if (enc[n] != '_' && enc[n] != '-') bare[k++] = enc[n];
    }
    alt[n] = bare[k] = '\0';
    if (cd == (iconv_t)-1) cd = iconv_open("UTF-8", alt);
    if (cd == (iconv_t)-1) cd = iconv_open("UTF-8", bare);
    return cd;
}

SrcFile *srcfile_decode(ffq_ctx *cx, SrcFile *f) {
    char enc[64];
    uint32_t at = 0;
    coding_of(f, enc, sizeof enc, &at);
    if (!enc[0] || is_utf8_name(enc)) return f;
    iconv_t cd = open_decoder(enc);
    if (cd == (iconv_t)-1) {
        diag_at(cx, DIAG_ERROR, f, at, "unknown-encoding",
                "unknown encoding '%s' in the coding declaration (PEP 263)", enc);
        return NULL;
    }
    StrBuf out = {0};
    char *in = (char *)f->data;  // iconv's prototype; it does not write through it
    size_t left = f->len;
    bool ok = true;
    while (left > 0 && ok) {
        char chunk[65536], *o = chunk;
        size_t room = sizeof chunk;
        size_t r = iconv(cd, &in, &left, &o, &room);
        sb_putn(cx, &out, chunk, sizeof chunk - room);
        if (r == (size_t)-1 && errno != E2BIG) ok = false;
    }
    iconv_close(cd);
    if (!ok) {
        diag_at(cx, DIAG_ERROR, f, (uint32_t)(in - f->data), "bad-encoding",
                "byte 0x%02x cannot be decoded as %s, the file's declared encoding (PEP 263)",
                (unsigned char)*in, enc);
        return NULL;
    }
    return srcfile_adopt(cx, f->path, sb_cstr(cx, &out), out.len);
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
        uint64_t w;  // eight ASCII bytes at a time (most source is ASCII)
        if (i + 8 <= n && (memcpy(&w, s + i, 8), (w & 0x8080808080808080u) == 0)) {
            i += 8;
            continue;
        }
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

void diag_linecol(ffq_ctx *cx, DiagSeverity sev, const SrcFile *file, uint32_t line1, uint32_t col1,
                  const char *code, const char *fmt, ...) {
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

// Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid.
static size_t utf8_len(const unsigned char *s, size_t n) {
    size_t len = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 0;
    if (!len || (len == 2 && s[0] < 0xc2) || len > n) return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] >> 6) != 2) return 0;
    return len;
}

// Writes s[0..n) for a terminal: control characters (NUL included), DEL and
// bytes that are not UTF-8 become visible \xNN escapes, so source text can
// never send escape sequences to the terminal or cut a line short. With
// `cols` (per input byte: the display columns it took, 0 for continuation
// bytes) the caret can be placed under the right character.
static void put_escaped(ffq_ctx *cx, StrBuf *out, const char *s, size_t n, uint8_t *cols) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(u + i, n - i);
        if (len == 1 && (u[i] >= 0x20 || u[i] == '\t') && u[i] != 0x7f) {
            sb_putc(cx, out, s[i]);
            if (cols) cols[i] = 1;
        } else if (len > 1) {
            sb_putn(cx, out, s + i, len);
            if (cols) cols[i] = 1, memset(cols + i + 1, 0, len - 1);
        } else {
            sb_printf(cx, out, "\\x%02x", u[i]);
            if (cols) cols[i] = 4;
            len = 1;
        }
        i += len;
    }
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
    // A long line is shown cut: the caret at most QUOTE_CARET_MAX columns in
    // (else QUOTE_LEFT_KEEP columns of context are kept before it), at most
    // QUOTE_WIDTH_MAX bytes in all.
    enum { QUOTE_CARET_MAX = 120, QUOTE_LEFT_KEEP = 60, QUOTE_WIDTH_MAX = 200 };
    if (at - from > QUOTE_CARET_MAX) from = at - QUOTE_LEFT_KEEP, cut_left = true;
    if (to - from > QUOTE_WIDTH_MAX) to = from + QUOTE_WIDTH_MAX, cut_right = true;
    if (at > to) at = to;
    while (cut_left && from < at && ((unsigned char)f->data[from] >> 6) == 2) from++;  // not mid-character
    uint8_t cols[201];
    sb_puts(cx, out, "    ");
    if (cut_left) sb_puts(cx, out, "...");
    put_escaped(cx, out, f->data + from, to - from, cols);
    if (cut_right) sb_puts(cx, out, "...");
    sb_puts(cx, out, "\n    ");
    if (cut_left) sb_puts(cx, out, "   ");
    for (uint32_t i = from; i < at; i++) {
        if (f->data[i] == '\t') sb_putc(cx, out, '\t');
        else sb_indent(cx, out, cols[i - from]);
    }
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
        if (d->sev != DIAG_ERROR && cx->opt.quiet) continue;  // -q: errors only
        if (d->file) {
            put_escaped(cx, &out, d->file->path, strlen(d->file->path), NULL);
            sb_printf(cx, &out, ":%u:%u: ", d->line, d->col);
        } else {
            sb_puts(cx, &out, "ffq: ");
        }
        sb_printf(cx, &out, "%s: ", sev_name(d->sev));
        put_escaped(cx, &out, d->msg, strlen(d->msg), NULL);  // messages quote source text
        if (d->code) sb_printf(cx, &out, " [%s]", d->code);
        sb_putc(cx, &out, '\n');
        if (d->file) render_excerpt(cx, &out, d);
    }
    cx->diag_text = sb_cstr(cx, &out);
    return cx->diag_text;
}
