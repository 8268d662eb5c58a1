// diff.c: unified diffs of two texts (for `ffq autoquant --check`).
//
// Consumes: two byte strings. Produces: a unified diff (`--- a`, `+++ b`,
// `@@ -l,n +l,n @@` hunks with three lines of context), empty when the texts
// are equal. Lines are compared byte for byte; the edit script is Myers'
// O((N+M)·D) greedy algorithm, so a small change to a large file is cheap.
#include <stdlib.h>
#include <string.h>

#include "ffq_int.h"

typedef struct Lines {
    const char **at;  // start of each line
    size_t *len;      // length including its '\n', if any
    size_t n;
} Lines;

static void split_lines(ffq_ctx *cx, const char *s, size_t n, Lines *out) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n') count++;
    if (n && s[n - 1] != '\n') count++;
    out->at = ARENA_ARRAY(cx, const char *, count + 1);
    out->len = ARENA_ARRAY(cx, size_t, count + 1);
    out->n = 0;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n') continue;
        out->at[out->n] = s + start;
        out->len[out->n++] = i + 1 - start;
        start = i + 1;
    }
    if (start < n) {
        out->at[out->n] = s + start;
        out->len[out->n++] = n - start;
    }
}

static bool same(const Lines *a, size_t i, const Lines *b, size_t j) {
    return a->len[i] == b->len[j] && memcmp(a->at[i], b->at[j], a->len[i]) == 0;
}

// Myers' forward search, keeping the V array of every step so the path can
// be traced back. Returns the edit script as ops: '=' keep, '-' delete, '+' insert.
// Myers' forward pass: trace gets a snapshot of the furthest-reaching x per
// diagonal (offset off) after each edit count d; returns the final d.
static size_t forward_trace(ffq_ctx *cx, const Lines *a, const Lines *b, long off, PtrVec *trace) {
    size_t n = a->n, m = b->n, max = n + m;
    size_t width = 2 * max + 3;
    long *v = ARENA_ARRAY(cx, long, width);
    size_t d_end = 0;
    bool done = n == 0 && m == 0;
    for (size_t d = 0; !done && d <= max; d++) {
        long *snap = ARENA_ARRAY(cx, long, width);
        for (long k = -(long)d; k <= (long)d; k += 2) {
            long x;
            if (k == -(long)d || (k != (long)d && v[off + k - 1] < v[off + k + 1])) x = v[off + k + 1];
            else x = v[off + k - 1] + 1;
            long y = x - k;
            while ((size_t)x < n && (size_t)y < m && same(a, (size_t)x, b, (size_t)y)) x++, y++;
            v[off + k] = x;
            if ((size_t)x >= n && (size_t)y >= m) {
                done = true;
                d_end = d;
            }
        }
        memcpy(snap, v, width * sizeof(long));
        vec_push(cx, trace, snap);
    }
    return d_end;
}

static char *edit_script(ffq_ctx *cx, const Lines *a, const Lines *b, size_t *nops) {
    size_t n = a->n, m = b->n, max = n + m;
    PtrVec trace = {0};
    long off = (long)max + 1;
    size_t d_end = forward_trace(cx, a, b, off, &trace);
    // trace back from (n, m)
    char *ops = ARENA_ARRAY(cx, char, n + m + 1);
    size_t pos = n + m;
    long x = (long)n, y = (long)m;
    for (size_t d = d_end + 1; d-- > 0 && (x > 0 || y > 0);) {
        const long *vd = d > 0 ? trace.items[d - 1] : NULL;
        long k = x - y, prev_k;
        if (d == 0) prev_k = k;
        else if (k == -(long)d || (k != (long)d && vd[off + k - 1] < vd[off + k + 1])) prev_k = k + 1;
        else prev_k = k - 1;
        long prev_x = d > 0 ? vd[off + prev_k] : 0, prev_y = prev_x - prev_k;
        while (x > prev_x && y > prev_y) ops[--pos] = '=', x--, y--;
        if (d == 0) break;
        if (x == prev_x) ops[--pos] = '+', y--;
        else ops[--pos] = '-', x--;
    }
    while (x > 0 && y > 0) ops[--pos] = '=', x--, y--;
    *nops = n + m - pos;
    return ops + pos;
}

static void put_line(ffq_ctx *cx, StrBuf *out, char mark, const char *s, size_t len, bool color) {
    const char *on = mark == '-' ? "\033[31m" : mark == '+' ? "\033[32m" : "";
    if (color && *on) sb_puts(cx, out, on);
    sb_putc(cx, out, mark == '=' ? ' ' : mark);
    bool nl = len && s[len - 1] == '\n';
    sb_putn(cx, out, s, nl ? len - 1 : len);
    if (color && *on) sb_puts(cx, out, "\033[0m");
    sb_putc(cx, out, '\n');
    if (!nl) sb_puts(cx, out, "\\ No newline at end of file\n");
}

const char *diff_unified(ffq_ctx *cx, const char *a, size_t alen, const char *b, size_t blen,
                         const char *aname, const char *bname, bool color) {
    Lines la, lb;
    split_lines(cx, a, alen, &la);
    split_lines(cx, b, blen, &lb);
    size_t nops;
    const char *ops = edit_script(cx, &la, &lb, &nops);
    StrBuf out = {0};
    const int ctx = 3;
    size_t i = 0;
    size_t ai = 0, bi = 0;  // line numbers before ops[i]
    while (i < nops) {
        if (ops[i] == '=') {
            i++, ai++, bi++;
            continue;
        }
        // a hunk: back up `ctx` context lines, run until `2*ctx` equal lines in a row
        size_t start = i, back = 0;
        while (start > 0 && ops[start - 1] == '=' && back < (size_t)ctx) start--, back++;
        size_t end = i, eq = 0;
        while (end < nops && eq <= 2 * (size_t)ctx) {
            eq = ops[end] == '=' ? eq + 1 : 0;
            end++;
        }
        if (eq > (size_t)ctx) end -= eq - (size_t)ctx;
        size_t a0 = ai - back, b0 = bi - back, an = 0, bn = 0;
        for (size_t k = start; k < end; k++) {
            if (ops[k] != '+') an++;
            if (ops[k] != '-') bn++;
        }
        if (!out.len) {
            sb_printf(cx, &out, "%s--- %s\n+++ %s\n%s", color ? "\033[1m" : "", aname, bname,
                      color ? "\033[0m" : "");
        }
        sb_printf(cx, &out, "%s@@ -%zu,%zu +%zu,%zu @@%s\n", color ? "\033[36m" : "", an ? a0 + 1 : a0, an,
                  bn ? b0 + 1 : b0, bn, color ? "\033[0m" : "");
        size_t x = a0, y = b0;
        for (size_t k = start; k < end; k++) {
            if (ops[k] == '=') put_line(cx, &out, '=', la.at[x], la.len[x], color), x++, y++;
            else if (ops[k] == '-') put_line(cx, &out, '-', la.at[x], la.len[x], color), x++;
            else put_line(cx, &out, '+', lb.at[y], lb.len[y], color), y++;
        }
        ai = x, bi = y, i = end;
    }
    return sb_cstr(cx, &out);
}

char *ffq_diff(const char *a, size_t alen, const char *b, size_t blen, const char *aname, const char *bname,
               bool color) {
    ffq_ctx *cx = ffq_ctx_new(NULL, NULL);
    if (!cx) return NULL;
    jmp_buf jb;
    cx->recover = &jb;
    char *result = NULL;
    if (!setjmp(jb)) {
        const char *d = diff_unified(cx, a, alen, b, blen, aname, bname, color);
        size_t n = strlen(d);
        result = malloc(n + 1);
        if (result) memcpy(result, d, n + 1);
    }
    ffq_ctx_free(cx);
    return result;
}
