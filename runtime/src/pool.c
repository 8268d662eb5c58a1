// pool.c: 2-D max pooling of float32, int8 and uint8 tensors, NCHW or NHWC.
//
// Max pooling only picks elements, so it is exact in any order and on quantized codes (the
// maximum of the codes is the code of the maximum when the scale is positive). A window
// takes the positions inside the image (padding never wins); a float window holding a NaN
// gives NaN, as torch's max_pool2d does. Equal values are equal, but of +0 and -0 in one
// window either may come out (torch keeps the first in row-major window order).
//
// NCHW: each plane (one channel of one image) is pooled by rows. For an output row the
// valid input rows of its windows are combined element by element into a row buffer (a
// loop the compiler vectorizes), and the output row is then taken from that buffer with
// the windows' columns; stride 1 and 2 get their own loops so that those vectorize too.
// Threads take planes. NHWC: every output pixel combines the channel vectors of its
// window's pixels; threads take output rows.
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "threads.h"

enum { POOL_MIN_ELEMS = 1 << 14 };  // input elements per thread, at least

// `b` replaces `a` when larger, or (floats) when NaN: NaN sticks once it is in.
#define BETTER_F(a, b) (((b) > (a)) | ((b) != (b)))
#define BETTER_I(a, b) ((b) > (a))

// 16-byte vectors (GCC / clang vector extensions: SSE2 on x86-64, whatever the target has
// elsewhere); comparisons give lanes of all ones or zeros, so a select is three bit ops and
// no branch (random data would mispredict every other compare).
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef int8_t s8x16 __attribute__((vector_size(16)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));

static inline f32x4 better_f32x4(f32x4 a, f32x4 b) {
    i32x4 m = (b > a) | (b != b);
    return (f32x4)((m & (i32x4)b) | (~m & (i32x4)a));
}
static inline s8x16 better_s8x16(s8x16 a, s8x16 b) {
    s8x16 m = b > a;
    return (m & b) | (~m & a);
}
static inline u8x16 better_u8x16(u8x16 a, u8x16 b) {
    u8x16 m = (u8x16)(b > a);
    return (m & b) | (~m & a);
}

// o[i] = better(o[i], v[i]) for i < n. A tail of n >= one vector is one more vector
// ending at n, overlapping the last one (taking the better element twice changes nothing);
// it is loaded before the loop stores anything, since a load that straddles a recent store
// waits for it (store-to-load forwarding fails), and stored last.
#define COMBINE(NAME, T, VT, VBETTER, BETTER)                                                                \
    static void NAME(T *restrict o, const T *restrict v, size_t n) {                                         \
        size_t i = 0, lanes = sizeof(VT) / sizeof(T);                                                        \
        VT a, b, tail;                                                                                       \
        if (n >= lanes) {                                                                                    \
            memcpy(&tail, o + n - lanes, sizeof tail);                                                       \
            memcpy(&b, v + n - lanes, sizeof b);                                                             \
            tail = VBETTER(tail, b);                                                                         \
            for (; i + lanes <= n; i += lanes) {                                                             \
                memcpy(&a, o + i, sizeof a);                                                                 \
                memcpy(&b, v + i, sizeof b);                                                                 \
                a = VBETTER(a, b);                                                                           \
                memcpy(o + i, &a, sizeof a);                                                                 \
            }                                                                                                \
            if (i < n) memcpy(o + n - lanes, &tail, sizeof tail);                                            \
            return;                                                                                          \
        }                                                                                                    \
        for (; i < n; i++) o[i] = BETTER(o[i], v[i]) ? v[i] : o[i];                                          \
    }

COMBINE(combine_f32, float, f32x4, better_f32x4, BETTER_F)
COMBINE(combine_s8, int8_t, s8x16, better_s8x16, BETTER_I)
COMBINE(combine_u8, uint8_t, u8x16, better_u8x16, BETTER_I)

// Columns of a row in stride-2 phases: ev[q] = x[2q], od[q] = x[2q + 1], for w elements.
#if defined(__SSE2__)
#include <emmintrin.h>
static inline void split2_f32_at(float *restrict ev, float *restrict od, const float *restrict x, size_t q) {
    __m128 a = _mm_loadu_ps(x + 2 * q), b = _mm_loadu_ps(x + 2 * q + 4);
    _mm_storeu_ps(ev + q, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
    _mm_storeu_ps(od + q, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}
static inline void split2_8_at(uint8_t *restrict ev, uint8_t *restrict od, const uint8_t *restrict x,
                               size_t q) {
    const __m128i lo = _mm_set1_epi16(0xff);
    __m128i a = _mm_loadu_si128((const __m128i *)(x + 2 * q)),
            b = _mm_loadu_si128((const __m128i *)(x + 2 * q + 16));
    _mm_storeu_si128((__m128i *)(ev + q), _mm_packus_epi16(_mm_and_si128(a, lo), _mm_and_si128(b, lo)));
    _mm_storeu_si128((__m128i *)(od + q), _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8)));
}
// Chunks of `step` columns; a row of at least one chunk ends with a chunk overlapping the one
// before (the same copies again), starting at an even column so the phases stay in place; an
// odd last column is copied alone.
#define SPLIT2(NAME, T, STEP)                                                                                \
    static void NAME(T *restrict ev, T *restrict od, const T *restrict x, size_t w) {                        \
        size_t q = 0;                                                                                        \
        for (; 2 * q + (STEP) <= w; q += (STEP) / 2) NAME##_at(ev, od, x, q);                                \
        if (2 * q < w && w >= (STEP)) {                                                                      \
            q = ((w - (STEP)) & ~(size_t)1) / 2;                                                             \
            NAME##_at(ev, od, x, q);                                                                         \
            q += (STEP) / 2;                                                                                 \
        }                                                                                                    \
        for (size_t c = 2 * q; c < w; c++) (c & 1 ? od : ev)[c / 2] = x[c];                                  \
    }
SPLIT2(split2_f32, float, 8)
SPLIT2(split2_8, uint8_t, 32)
#else
static void split2_f32(float *restrict ev, float *restrict od, const float *restrict x, size_t w) {
    for (size_t c = 0; c < w; c++) (c & 1 ? od : ev)[c / 2] = x[c];
}
static void split2_8(uint8_t *restrict ev, uint8_t *restrict od, const uint8_t *restrict x, size_t w) {
    for (size_t c = 0; c < w; c++) (c & 1 ? od : ev)[c / 2] = x[c];
}
#endif

static void split_phases(void *phases, const void *tmp, size_t w, size_t sw, size_t plen, size_t esize) {
    if (sw == 2 && esize == 4) {
        split2_f32(phases, (float *)phases + plen, tmp, w);
    } else if (sw == 2) {
        split2_8(phases, (uint8_t *)phases + plen, tmp, w);
    } else {
        for (size_t r = 0; r < sw; r++)
            for (size_t q = 0, c = r; c < w; q++, c += sw)
                memcpy((char *)phases + (r * plen + q) * esize, (const char *)tmp + c * esize, esize);
    }
}

typedef struct pjob {
    void *y;
    const void *x;
    const ffqrt_pool2d_shape *s;
    size_t units;        // planes (NCHW) or output rows (NHWC)
    size_t row_cap;      // elements of each part's buffers (a row, then its stride phases)
    unsigned char *buf;  // parts * 2 * row_cap elements (NCHW)
    size_t esize;
} pjob;

// First and last + 1 window index t with 0 <= start + t * d < n, t < k (first == last: none).
static void valid_taps(ptrdiff_t start, size_t k, size_t d, size_t n, size_t *first, size_t *last) {
    size_t f = 0;
    if (start < 0) f = (size_t)((-start + (ptrdiff_t)d - 1) / (ptrdiff_t)d);
    size_t l = k;
    // start + (l - 1) * d < n
    if (start + (ptrdiff_t)((k - 1) * d) >= (ptrdiff_t)n) {
        ptrdiff_t room = (ptrdiff_t)n - 1 - start;
        l = room < 0 ? 0 : (size_t)(room / (ptrdiff_t)d) + 1;
    }
    *first = f < l ? f : l;
    *last = l;
}

// The outputs [*lo, *hi) of an NCHW row whose whole window lies inside the row.
static void interior(const ffqrt_pool2d_shape *s, size_t *lo, size_t *hi) {
    size_t span = (s->kw - 1) * s->dw;
    *lo = (s->pw + s->sw - 1) / s->sw;
    *hi = s->w + s->pw > span ? (s->w + s->pw - span - 1) / s->sw + 1 : 0;
    if (*hi > s->ow) *hi = s->ow;
    if (*lo > *hi) *lo = *hi;
}

// Where tap t's run for the interior outputs starts in a row split into its stride phases
// (plen elements each; the row itself when the stride is 1): output lo + q reads column
// (lo + q) * sw - pw + t * dw, phase e mod sw, index q + e div sw, e = lo * sw - pw + t * dw
// (>= 0: lo * sw >= pw).
static size_t tap_run(const ffqrt_pool2d_shape *s, size_t lo, size_t plen, size_t t) {
    size_t e = lo * s->sw - s->pw + t * s->dw;
    return (e % s->sw) * plen + e / s->sw;
}

// One NCHW output row of type T from the rows of one plane: the valid input rows combined
// into `tmp`, then (stride > 1) `tmp` split into its stride phases (phase r holds columns
// r, r + sw, ...), so that each tap of the window is a contiguous run for the interior
// outputs; the outputs near the edges take their valid columns one by one.
#define NCHW_ROW(NAME, T, COMB, BETTER, LOWEST)                                                              \
    static void NAME(T *restrict out, const T *plane, T *restrict tmp, T *restrict phases,                   \
                     const ffqrt_pool2d_shape *s, size_t i) {                                                \
        size_t w = s->w, sw = s->sw, r0, r1;                                                                 \
        valid_taps((ptrdiff_t)(i * s->sh) - (ptrdiff_t)s->ph, s->kh, s->dh, s->h, &r0, &r1);                 \
        if (r0 == r1) {                                                                                      \
            for (size_t j = 0; j < s->ow; j++) out[j] = LOWEST;                                              \
            return;                                                                                          \
        }                                                                                                    \
        size_t base = i * s->sh - s->ph; /* wraps when negative; only base + t * dh is used */               \
        memcpy(tmp, plane + (base + r0 * s->dh) * w, w * sizeof(T));                                         \
        for (size_t t = r0 + 1; t < r1; t++) COMB(tmp, plane + (base + t * s->dh) * w, w);                   \
        size_t lo, hi;                                                                                       \
        interior(s, &lo, &hi);                                                                               \
        if (lo < hi) {                                                                                       \
            const T *src = tmp;                                                                              \
            size_t plen = w; /* elements per phase */                                                        \
            if (sw > 1) {                                                                                    \
                plen = (w + sw - 1) / sw;                                                                    \
                split_phases(phases, tmp, w, sw, plen, sizeof(T));                                           \
                src = phases;                                                                                \
            }                                                                                                \
            size_t cnt = hi - lo;                                                                            \
            for (size_t t = 0; t < s->kw; t++) {                                                             \
                const T *v = src + tap_run(s, lo, plen, t);                                                  \
                if (t == 0) memcpy(out + lo, v, cnt * sizeof(T));                                            \
                else COMB(out + lo, v, cnt);                                                                 \
            }                                                                                                \
        }                                                                                                    \
        for (size_t j = 0; j < s->ow; j++) {                                                                 \
            if (j == lo && lo < hi) {                                                                        \
                j = hi - 1;                                                                                  \
                continue;                                                                                    \
            }                                                                                                \
            size_t c0, c1;                                                                                   \
            valid_taps((ptrdiff_t)(j * sw) - (ptrdiff_t)s->pw, s->kw, s->dw, w, &c0, &c1);                   \
            if (c0 == c1) {                                                                                  \
                out[j] = LOWEST;                                                                             \
                continue;                                                                                    \
            }                                                                                                \
            size_t at = j * sw - s->pw; /* wraps when negative; at + t * dw is in the row */                 \
            T m = tmp[at + c0 * s->dw];                                                                      \
            for (size_t t = c0 + 1; t < c1; t++) {                                                           \
                T v = tmp[at + t * s->dw];                                                                   \
                m = BETTER(m, v) ? v : m;                                                                    \
            }                                                                                                \
            out[j] = m;                                                                                      \
        }                                                                                                    \
    }

NCHW_ROW(nchw_row_f32, float, combine_f32, BETTER_F, -INFINITY)
NCHW_ROW(nchw_row_s8, int8_t, combine_s8, BETTER_I, INT8_MIN)
NCHW_ROW(nchw_row_u8, uint8_t, combine_u8, BETTER_I, 0)

// One NHWC output pixel of type T: the channel vectors of its window combined.
#define NHWC_PIXEL(NAME, T, COMB, LOWEST)                                                                    \
    static void NAME(T *restrict out, const T *image, const ffqrt_pool2d_shape *s, size_t i, size_t j) {     \
        size_t c = s->c, r0, r1, c0, c1;                                                                     \
        valid_taps((ptrdiff_t)(i * s->sh) - (ptrdiff_t)s->ph, s->kh, s->dh, s->h, &r0, &r1);                 \
        valid_taps((ptrdiff_t)(j * s->sw) - (ptrdiff_t)s->pw, s->kw, s->dw, s->w, &c0, &c1);                 \
        if (r0 == r1 || c0 == c1) {                                                                          \
            for (size_t k = 0; k < c; k++) out[k] = LOWEST;                                                  \
            return;                                                                                          \
        }                                                                                                    \
        size_t rb = i * s->sh - s->ph, cb = j * s->sw - s->pw;                                               \
        int first = 1;                                                                                       \
        for (size_t t = r0; t < r1; t++) {                                                                   \
            const T *row = image + (rb + t * s->dh) * s->w * c;                                              \
            for (size_t u = c0; u < c1; u++) {                                                               \
                const T *v = row + (cb + u * s->dw) * c;                                                     \
                if (first) {                                                                                 \
                    memcpy(out, v, c * sizeof(T));                                                           \
                    first = 0;                                                                               \
                    continue;                                                                                \
                }                                                                                            \
                COMB(out, v, c);                                                                             \
            }                                                                                                \
        }                                                                                                    \
    }

NHWC_PIXEL(nhwc_pixel_f32, float, combine_f32, -INFINITY)
NHWC_PIXEL(nhwc_pixel_s8, int8_t, combine_s8, INT8_MIN)
NHWC_PIXEL(nhwc_pixel_u8, uint8_t, combine_u8, 0)

static void pool_task(void *arg, size_t part, size_t parts) {
    const pjob *j = arg;
    const ffqrt_pool2d_shape *s = j->s;
    size_t b, e;
    ffqrt_split(j->units, 1, part, parts, &b, &e);
    if (s->layout == FFQRT_POOL_NCHW) {
        void *tmp = j->buf + 2 * part * j->row_cap * j->esize, *phases = (char *)tmp + j->row_cap * j->esize;
        size_t in_plane = s->h * s->w, out_plane = s->oh * s->ow;
        for (size_t p = b; p < e; p++) {
            for (size_t i = 0; i < s->oh; i++) {
                size_t o = p * out_plane + i * s->ow;
                switch (s->elem) {
                case FFQRT_POOL_F32:
                    nchw_row_f32((float *)j->y + o, (const float *)j->x + p * in_plane, tmp, phases, s, i);
                    break;
                case FFQRT_POOL_S8:
                    nchw_row_s8((int8_t *)j->y + o, (const int8_t *)j->x + p * in_plane, tmp, phases, s, i);
                    break;
                default:
                    nchw_row_u8((uint8_t *)j->y + o, (const uint8_t *)j->x + p * in_plane, tmp, phases, s, i);
                }
            }
        }
        return;
    }
    size_t in_image = s->h * s->w * s->c;
    for (size_t r = b; r < e; r++) {
        size_t n = r / s->oh, i = r % s->oh;
        for (size_t q = 0; q < s->ow; q++) {
            size_t o = (r * s->ow + q) * s->c;
            switch (s->elem) {
            case FFQRT_POOL_F32:
                nhwc_pixel_f32((float *)j->y + o, (const float *)j->x + n * in_image, s, i, q);
                break;
            case FFQRT_POOL_S8:
                nhwc_pixel_s8((int8_t *)j->y + o, (const int8_t *)j->x + n * in_image, s, i, q);
                break;
            default: nhwc_pixel_u8((uint8_t *)j->y + o, (const uint8_t *)j->x + n * in_image, s, i, q);
            }
        }
    }
}

static size_t elem_size(int elem) { return elem == FFQRT_POOL_F32 ? 4 : 1; }

// a * b, or 0 when it overflows size_t (or either is 0)
static size_t mul_ok(size_t a, size_t b) { return a && b && a <= SIZE_MAX / b ? a * b : 0; }

static int shape_ok(const ffqrt_pool2d_shape *s) {
    if (!s || (s->elem != FFQRT_POOL_F32 && s->elem != FFQRT_POOL_S8 && s->elem != FFQRT_POOL_U8) ||
        (s->layout != FFQRT_POOL_NCHW && s->layout != FFQRT_POOL_NHWC))
        return 0;
    if (!s->kh || !s->kw || !s->sh || !s->sw || !s->dh || !s->dw || !s->oh || !s->ow) return 0;
    // sizes that keep every index computation far from overflow
    const size_t big = (size_t)1 << 40, dim = (size_t)1 << 30;
    if (s->h > dim || s->w > dim || s->kh > dim || s->kw > dim || s->sh > dim || s->sw > dim || s->dh > dim ||
        s->dw > dim || s->ph > dim || s->pw > dim || s->oh > dim || s->ow > dim)
        return 0;
    if (mul_ok(s->kh, s->dh) > big || mul_ok(s->kw, s->dw) > big) return 0;
    size_t in = mul_ok(mul_ok(mul_ok(s->n, s->c), s->h), s->w),
           out = mul_ok(mul_ok(mul_ok(s->n, s->c), s->oh), s->ow);
    if (!in || !out || in > big || out > big) return 0;
    // the output's windows start inside the padded image
    if (mul_ok(s->oh, s->sh) > big || mul_ok(s->ow, s->sw) > big) return 0;
    if ((s->oh - 1) * s->sh >= s->h + s->ph || (s->ow - 1) * s->sw >= s->w + s->pw) return 0;
    return 1;
}

// The threads take planes (NCHW; each part with a row buffer and its phases: w elements,
// and w + sw - 1, each phase rounded up) or output rows (NHWC).
static ffqrt_status run_pool(const ffqrt_ctx *ctx, void *y, const void *x, const ffqrt_pool2d_shape *s,
                             ffqrt_task_fn task) {
    size_t nt = ffqrt_threads_for(ctx, s->n * s->c * s->h * s->w, POOL_MIN_ELEMS);
    size_t parts = ffqrt_parts_for(nt);
    pjob j = {y,
              x,
              s,
              s->layout == FFQRT_POOL_NCHW ? s->n * s->c : s->n * s->oh,
              s->w + s->sw,
              NULL,
              elem_size(s->elem)};
    if (parts > j.units) parts = j.units;
    if (s->layout == FFQRT_POOL_NCHW) {
        j.buf = malloc(2 * parts * j.row_cap * j.esize);
        if (!j.buf) return FFQRT_ENOMEM;
    }
    ffqrt_parallel_parts(ctx->pool, nt, parts, task, &j);
    free(j.buf);
    return FFQRT_OK;
}

ffqrt_status ffqrt_max_pool2d(const ffqrt_ctx *ctx, void *y, const void *x, const ffqrt_pool2d_shape *s) {
    if (!ctx || !y || !x || !shape_ok(s)) return FFQRT_EINVAL;
    return run_pool(ctx, y, x, s, pool_task);
}

// Element (n, c, r, q) of an input of shape s, and of its output (the references' indexing).
static size_t in_at(const ffqrt_pool2d_shape *s, size_t n, size_t c, size_t r, size_t q) {
    return s->layout == FFQRT_POOL_NHWC ? ((n * s->h + r) * s->w + q) * s->c + c
                                        : ((n * s->c + c) * s->h + r) * s->w + q;
}
static size_t out_at(const ffqrt_pool2d_shape *s, size_t n, size_t c, size_t i, size_t j) {
    return s->layout == FFQRT_POOL_NHWC ? ((n * s->oh + i) * s->ow + j) * s->c + c
                                        : ((n * s->c + c) * s->oh + i) * s->ow + j;
}

// ---- average pooling (float32) ----
//
// Each output is the sum of its window's elements inside the image, taken in row-major
// window order in float32 from +0, divided by the divisor (the override, or the window's
// size within the padded image with count_include_pad, else the count of elements summed):
// the operations torch's CPU kernels do, in the same order, so the results are the same
// bits. Float addition does not reassociate, so there is no separable shortcut: the
// vectors run across outputs instead (NCHW: the interior outputs of a row, each tap a
// contiguous run, through the stride phases for stride 2; NHWC: the channels of a pixel).

// o[i] += v[i] for i < n, one IEEE add per element (the vector lanes add independently)
static void accumulate_f32(float *restrict o, const float *restrict v, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        f32x4 a, b;
        memcpy(&a, o + i, sizeof a);
        memcpy(&b, v + i, sizeof b);
        a = a + b;
        memcpy(o + i, &a, sizeof a);
    }
    for (; i < n; i++) o[i] = o[i] + v[i];
}

// The window of output i along one dimension: [*b, *e) inside [0, n), and its size within
// the padded image (torch's pool size, before clipping to the image).
static void avg_window(size_t i, size_t k, size_t st, size_t pad, size_t n, size_t *b, size_t *e,
                       size_t *padded) {
    ptrdiff_t s0 = (ptrdiff_t)(i * st) - (ptrdiff_t)pad, e0 = s0 + (ptrdiff_t)k;
    if (e0 > (ptrdiff_t)(n + pad)) e0 = (ptrdiff_t)(n + pad);
    *padded = (size_t)(e0 - s0);
    *b = s0 < 0 ? 0 : (size_t)s0;
    *e = e0 > (ptrdiff_t)n ? n : (size_t)e0;
    if (*e < *b) *e = *b;
}

static float avg_divisor(const ffqrt_pool2d_shape *s, size_t ph_size, size_t pw_size, size_t rows,
                         size_t cols) {
    if (s->divisor) return (float)s->divisor;
    return (float)(s->count_include_pad ? ph_size * pw_size : rows * cols);
}

// One NCHW output row of one plane.
static void avg_nchw_row(float *restrict out, const float *plane, float *restrict acc, float *restrict phases,
                         const ffqrt_pool2d_shape *s, size_t i) {
    size_t w = s->w, sw = s->sw, r0, r1, ph_size;
    avg_window(i, s->kh, s->sh, s->ph, s->h, &r0, &r1, &ph_size);
    size_t lo, hi;
    interior(s, &lo, &hi);
    if (lo < hi && r0 < r1) {
        size_t cnt = hi - lo, plen = (w + sw - 1) / sw;
        memset(acc, 0, cnt * sizeof(float));  // +0
        for (size_t r = r0; r < r1; r++) {
            const float *row = plane + r * w, *src = row;
            if (sw > 1) {
                split_phases(phases, row, w, sw, plen, sizeof(float));
                src = phases;
            } else {
                plen = w;
            }
            for (size_t u = 0; u < s->kw; u++) accumulate_f32(acc, src + tap_run(s, lo, plen, u), cnt);
        }
        float div = avg_divisor(s, ph_size, s->kw, r1 - r0, s->kw);
        for (size_t q = 0; q < cnt; q++) out[lo + q] = acc[q] / div;
    }
    for (size_t j = 0; j < s->ow; j++) {
        if (j == lo && lo < hi && r0 < r1) {
            j = hi - 1;
            continue;
        }
        size_t c0, c1, pw_size;
        avg_window(j, s->kw, sw, s->pw, w, &c0, &c1, &pw_size);
        if (r0 >= r1 || c0 >= c1) {
            out[j] = 0.0f;  // no element of the image in the window (torch writes 0)
            continue;
        }
        float sum = 0.0f;
        for (size_t r = r0; r < r1; r++)
            for (size_t c = c0; c < c1; c++) sum = sum + plane[r * w + c];
        out[j] = sum / avg_divisor(s, ph_size, pw_size, r1 - r0, c1 - c0);
    }
}

static void avg_task(void *arg, size_t part, size_t parts) {
    const pjob *j = arg;
    const ffqrt_pool2d_shape *s = j->s;
    float *y = j->y;
    const float *x = j->x;
    size_t b, e;
    ffqrt_split(j->units, 1, part, parts, &b, &e);
    if (s->layout == FFQRT_POOL_NCHW) {
        float *acc = (float *)j->buf + 2 * part * j->row_cap, *phases = acc + j->row_cap;
        for (size_t p = b; p < e; p++)
            for (size_t i = 0; i < s->oh; i++)
                avg_nchw_row(y + (p * s->oh + i) * s->ow, x + p * s->h * s->w, acc, phases, s, i);
        return;
    }
    size_t c = s->c;
    for (size_t r = b; r < e; r++) {
        size_t n = r / s->oh, i = r % s->oh, r0, r1, ph_size;
        avg_window(i, s->kh, s->sh, s->ph, s->h, &r0, &r1, &ph_size);
        const float *image = x + n * s->h * s->w * c;
        for (size_t q = 0; q < s->ow; q++) {
            float *out = y + (r * s->ow + q) * c;
            size_t c0, c1, pw_size;
            avg_window(q, s->kw, s->sw, s->pw, s->w, &c0, &c1, &pw_size);
            memset(out, 0, c * sizeof(float));  // +0 sums (and torch's 0 for an empty window)
            if (r0 >= r1 || c0 >= c1) continue;
            for (size_t rr = r0; rr < r1; rr++)
                for (size_t cc = c0; cc < c1; cc++) accumulate_f32(out, image + (rr * s->w + cc) * c, c);
            float div = avg_divisor(s, ph_size, pw_size, r1 - r0, c1 - c0);
            for (size_t k = 0; k < c; k++) out[k] = out[k] / div;
        }
    }
}

static int avg_shape_ok(const ffqrt_pool2d_shape *s) {
    // no dilation in average pooling; the divisor override fits a float exactly
    return shape_ok(s) && s->elem == FFQRT_POOL_F32 && s->dh == 1 && s->dw == 1 && s->divisor <= (1u << 24);
}

ffqrt_status ffqrt_avg_pool2d(const ffqrt_ctx *ctx, float *y, const float *x, const ffqrt_pool2d_shape *s) {
    if (!ctx || !y || !x || !avg_shape_ok(s)) return FFQRT_EINVAL;
    return run_pool(ctx, y, x, s, avg_task);
}

ffqrt_status ffqrt_avg_pool2d_ref(float *y, const float *x, const ffqrt_pool2d_shape *s) {
    if (!y || !x || !avg_shape_ok(s)) return FFQRT_EINVAL;
    for (size_t n = 0; n < s->n; n++)
        for (size_t c = 0; c < s->c; c++)
            for (size_t i = 0; i < s->oh; i++)
                for (size_t j = 0; j < s->ow; j++) {
                    size_t r0, r1, c0, c1, ph_size, pw_size;
                    avg_window(i, s->kh, s->sh, s->ph, s->h, &r0, &r1, &ph_size);
                    avg_window(j, s->kw, s->sw, s->pw, s->w, &c0, &c1, &pw_size);
                    float sum = 0.0f;
                    for (size_t r = r0; r < r1; r++)
                        for (size_t q = c0; q < c1; q++) sum = sum + x[in_at(s, n, c, r, q)];
                    y[out_at(s, n, c, i, j)] =
                        r0 < r1 && c0 < c1 ? sum / avg_divisor(s, ph_size, pw_size, r1 - r0, c1 - c0) : 0.0f;
                }
    return FFQRT_OK;
}

// The specification: every window in row-major order, torch's rule for each element.
ffqrt_status ffqrt_max_pool2d_ref(void *y, const void *x, const ffqrt_pool2d_shape *s) {
    if (!y || !x || !shape_ok(s)) return FFQRT_EINVAL;
    for (size_t n = 0; n < s->n; n++)
        for (size_t c = 0; c < s->c; c++)
            for (size_t i = 0; i < s->oh; i++)
                for (size_t j = 0; j < s->ow; j++) {
                    double best = 0;  // holds every float32, int8 and uint8 value exactly
                    int have = 0;
                    for (size_t t = 0; t < s->kh; t++) {
                        ptrdiff_t r = (ptrdiff_t)(i * s->sh + t * s->dh) - (ptrdiff_t)s->ph;
                        if (r < 0 || r >= (ptrdiff_t)s->h) continue;
                        for (size_t u = 0; u < s->kw; u++) {
                            ptrdiff_t q = (ptrdiff_t)(j * s->sw + u * s->dw) - (ptrdiff_t)s->pw;
                            if (q < 0 || q >= (ptrdiff_t)s->w) continue;
                            size_t at = in_at(s, n, c, (size_t)r, (size_t)q);
                            double v = s->elem == FFQRT_POOL_F32  ? ((const float *)x)[at]
                                       : s->elem == FFQRT_POOL_S8 ? ((const int8_t *)x)[at]
                                                                  : ((const uint8_t *)x)[at];
                            if (!have || v > best || isnan(v)) best = v;
                            have = 1;
                        }
                    }
                    size_t o = out_at(s, n, c, i, j);
                    if (s->elem == FFQRT_POOL_F32) ((float *)y)[o] = have ? (float)best : -INFINITY;
                    else if (s->elem == FFQRT_POOL_S8) ((int8_t *)y)[o] = have ? (int8_t)best : INT8_MIN;
                    else ((uint8_t *)y)[o] = have ? (uint8_t)best : 0;
                }
    return FFQRT_OK;
}
