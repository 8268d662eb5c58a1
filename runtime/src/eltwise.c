// eltwise.c: driver of int8 add / mul with requantization, and the byte table lookup.
#include <string.h>

#include "kernels.h"
#include "threads.h"

enum { PAR_MIN_ELEMS = 1 << 13 };  // per thread, at least

// Work over [0, n) split between the threads in parts whose inner bounds are multiples of
// align: run(job, b, e) on each part.
typedef struct rangejob {
    void (*run)(const void *job, size_t b, size_t e);
    const void *job;
    size_t n, align;
} rangejob;

static void range_task(void *arg, size_t part, size_t parts) {
    const rangejob *j = arg;
    size_t b, e;
    ffqrt_split(j->n, j->align, part, parts, &b, &e);
    if (b < e) j->run(j->job, b, e);
}

// `work` elements in all decide the threads (each gets PAR_MIN_ELEMS at least).
static void by_ranges(const ffqrt_ctx *ctx, size_t n, size_t align, size_t work,
                      void (*run)(const void *, size_t, size_t), const void *job) {
    rangejob j = {run, job, n, align};
    size_t nt = ffqrt_threads_for(ctx, work, PAR_MIN_ELEMS);
    ffqrt_parallel_parts(ctx->pool, nt, ffqrt_parts_for(nt), range_task, &j);
}

typedef struct ejob {
    const ffqrt_kernels *k;
    const ffqrt_elt *e;
} ejob;

static void elt_range(const void *job, size_t b, size_t e) {
    const ejob *j = job;
    j->k->elt_run(j->e, b, e);
}

static ffqrt_status elt(const ffqrt_ctx *ctx, int op, void *y, const ffqrt_qparam *py, int relu,
                        const void *a, const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb,
                        size_t n) {
    if (!ctx || !ffqrt_qparam_ok(py) || !ffqrt_qparam_ok(pa) || !ffqrt_qparam_ok(pb)) return FFQRT_EINVAL;
    if (n && (!y || !a || !b)) return FFQRT_EINVAL;
    int32_t lo = ffqrt_out_lo(py, relu);
    ffqrt_elt e = {op,
                   y,
                   a,
                   b,
                   pa->dtype == FFQRT_S8,
                   pb->dtype == FFQRT_S8,
                   py->dtype == FFQRT_S8,
                   pa->scale,
                   pb->scale,
                   py->scale,
                   pa->zero_point,
                   pb->zero_point,
                   (float)py->zero_point,
                   (float)lo,
                   (float)ffqrt_qmax(py->dtype),
                   ffqrt_recip(py->scale)};
    ejob j = {ctx->k, &e};
    by_ranges(ctx, n, 64, n, elt_range, &j);
    return FFQRT_OK;
}

ffqrt_status ffqrt_add(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *a,
                       const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t n) {
    return elt(ctx, FFQRT_ELT_ADD, y, py, relu, a, pa, b, pb, n);
}

ffqrt_status ffqrt_mul(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *a,
                       const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t n) {
    return elt(ctx, FFQRT_ELT_MUL, y, py, relu, a, pa, b, pb, n);
}

// ---- byte table lookup: y[i] = table[x[i]] ----
//
// Any function of one 8-bit operand onto an 8-bit grid (a requantization, relu, gelu, ...)
// is a table of 256 bytes. With AVX-512 VBMI, vpermi2b looks up 64 bytes in two 128-byte
// halves of the table and the sign bit of each index picks the half; otherwise a scalar loop.

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LUT_VBMI 1
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
lut_vbmi(uint8_t *y, const uint8_t *x, const uint8_t *restrict table, size_t n) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i v = _mm512_loadu_si512(x + i);
        __m512i lo = _mm512_permutex2var_epi8(t0, v, t1), hi = _mm512_permutex2var_epi8(t2, v, t3);
        _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
    }
    if (i < n) {  // the last n - i < 64 bytes, masked (a 7 x 7 plane is all tail)
        __mmask64 m = ((uint64_t)1 << (n - i)) - 1;
        __m512i v = _mm512_maskz_loadu_epi8(m, x + i);
        __m512i lo = _mm512_permutex2var_epi8(t0, v, t1), hi = _mm512_permutex2var_epi8(t2, v, t3);
        _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
    }
}
#else
#define LUT_VBMI 0
#endif

static void lut_scalar(uint8_t *y, const uint8_t *x, const uint8_t *restrict table, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = table[x[i]];
}

// Whether byte lookups use VBMI: the ref variant stays scalar; the others use it when the CPU
// has it.
static int use_vbmi(const ffqrt_ctx *ctx) {
#if LUT_VBMI
    return ctx->k->isa != FFQRT_ISA_REF && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512bw");
#else
    (void)ctx;
    return 0;
#endif
}

// The sizes of an [outer, channels, inner] tensor: its planes (outer x channels) and elements;
// 0 when they overflow.
static int channel_sizes(size_t outer, size_t channels, size_t inner, size_t *planes, size_t *n) {
    return !__builtin_mul_overflow(outer, channels, planes) && !__builtin_mul_overflow(*planes, inner, n);
}

// inner 1 ([n, c] or NHWC): element i on the table of channel i % channels; `job` type J with
// fields y, x, tables, channels.
#define CHANNEL_ELEMS(name, J)                                                                               \
    static void name(const void *job, size_t b, size_t e) {                                                  \
        const J *j = job;                                                                                    \
        size_t c = b % j->channels;                                                                          \
        for (size_t i = b; i < e; i++) {                                                                     \
            j->y[i] = j->tables[c * 256 + j->x[i]];                                                          \
            if (++c == j->channels) c = 0;                                                                   \
        }                                                                                                    \
    }

typedef struct ljob {
    uint8_t *y;
    const uint8_t *x, *table;
    size_t n;
    int vbmi;
} ljob;

static void lut_task(void *arg, size_t tid, size_t nt) {
    const ljob *j = arg;
    size_t b, e;
    ffqrt_split(j->n, 64, tid, nt, &b, &e);
    if (b >= e) return;
#if LUT_VBMI
    if (j->vbmi) {
        lut_vbmi(j->y + b, j->x + b, j->table, e - b);
        return;
    }
#endif
    lut_scalar(j->y + b, j->x + b, j->table, e - b);
}

ffqrt_status ffqrt_lut8(const ffqrt_ctx *ctx, void *y, const void *x, const uint8_t *table, size_t n) {
    if (!ctx || (n && (!y || !x || !table))) return FFQRT_EINVAL;
    ljob j = {y, x, table, n, use_vbmi(ctx)};
    size_t nt = ffqrt_threads_for(ctx, n, PAR_MIN_ELEMS * 4);
    ffqrt_parallel_parts(ctx->pool, nt, ffqrt_parts_for(nt), lut_task, &j);
    return FFQRT_OK;
}

// ---- byte table lookup a plane: y[p][i] = tables[sel[p]][x[p][i]] ----
//
// A product (or sum) of a tensor and one value a channel (squeeze-excite's x * gate, the
// gate [n, c, 1, 1]) onto an 8-bit grid: a table of the tensor's 256 codes for each of the
// 256 codes of the value, picked a plane at a time.

typedef struct lpjob {
    uint8_t *y;
    const uint8_t *x, *tables, *sel;  // sel NULL: plane p on the table of channel p % channels
    size_t inner, channels;
    int vbmi;
} lpjob;

static void lut_planes_range(const void *job, size_t pb, size_t pe) {
    const lpjob *j = job;
    for (size_t p = pb; p < pe; p++) {
        const uint8_t *t = j->tables + (j->sel ? (size_t)j->sel[p] : p % j->channels) * 256;
#if LUT_VBMI
        if (j->vbmi) {
            lut_vbmi(j->y + p * j->inner, j->x + p * j->inner, t, j->inner);
            continue;
        }
#endif
        lut_scalar(j->y + p * j->inner, j->x + p * j->inner, t, j->inner);
    }
}

ffqrt_status ffqrt_lut8_planes(const ffqrt_ctx *ctx, void *y, const void *x, const uint8_t *tables,
                               const uint8_t *sel, size_t planes, size_t inner) {
    size_t n;
    if (!ctx || __builtin_mul_overflow(planes, inner, &n)) return FFQRT_EINVAL;
    if (n && (!y || !x || !tables || !sel)) return FFQRT_EINVAL;
    if (!n) return FFQRT_OK;
    lpjob j = {y, x, tables, sel, inner, 0, use_vbmi(ctx)};
    by_ranges(ctx, planes, 1, n, lut_planes_range, &j);
    return FFQRT_OK;
}

CHANNEL_ELEMS(lut_channel_elems, lpjob)

ffqrt_status ffqrt_lut8_channels(const ffqrt_ctx *ctx, void *y, const void *x, const uint8_t *tables,
                                 size_t outer, size_t channels, size_t inner) {
    size_t planes, n;
    if (!ctx || !channel_sizes(outer, channels, inner, &planes, &n)) return FFQRT_EINVAL;
    if (n && (!y || !x || !tables)) return FFQRT_EINVAL;
    if (!n) return FFQRT_OK;
    lpjob j = {y, x, tables, NULL, inner, channels, use_vbmi(ctx)};
    if (inner == 1) by_ranges(ctx, n, 64, n, lut_channel_elems, &j);
    else by_ranges(ctx, planes, 1, n, lut_planes_range, &j);
    return FFQRT_OK;
}

// ---- float table lookup ----

typedef struct lfjob {
    const ffqrt_kernels *k;
    float *y;
    const uint8_t *x;
    const float *table;
} lfjob;

static void lutf_range(const void *job, size_t b, size_t e) {
    const lfjob *j = job;
    // gather_f32 reads e[top - (x ^ flip)]: top 255 and flip 0xff make that e[x]
    j->k->gather_f32(j->y + b, j->table, j->x + b, e - b, 0xff, 0xff);
}

ffqrt_status ffqrt_lut_f32(const ffqrt_ctx *ctx, float *y, const void *x, const float *table, size_t n) {
    if (!ctx || (n && (!y || !x || !table))) return FFQRT_EINVAL;
    lfjob j = {ctx->k, y, x, table};
    by_ranges(ctx, n, 16, n, lutf_range, &j);
    return FFQRT_OK;
}

// ---- per-channel float table lookup ----
//
// A per-channel function of 8-bit codes with a float result (a batch norm of a quantized
// input: each channel's 256 dequantized codes through its affine map, tabulated once).

typedef struct lfcjob {
    const ffqrt_kernels *k;
    float *y;
    const uint8_t *x;
    const float *tables;
    size_t channels, inner;
} lfcjob;

// planes [b, e) of `inner` elements, plane p on the table of channel p % channels
static void lutfc_planes(const void *job, size_t b, size_t e) {
    const lfcjob *j = job;
    for (size_t p = b; p < e; p++) {
        const float *t = j->tables + (p % j->channels) * 256;
        j->k->gather_f32(j->y + p * j->inner, t, j->x + p * j->inner, j->inner, 0xff, 0xff);
    }
}

CHANNEL_ELEMS(lutfc_elems, lfcjob)

ffqrt_status ffqrt_lut_f32_channels(const ffqrt_ctx *ctx, float *y, const void *x, const float *tables,
                                    size_t outer, size_t channels, size_t inner) {
    size_t planes, n;
    if (!ctx || !channel_sizes(outer, channels, inner, &planes, &n)) return FFQRT_EINVAL;
    if (n && (!y || !x || !tables)) return FFQRT_EINVAL;
    if (!n) return FFQRT_OK;
    lfcjob j = {ctx->k, y, x, tables, channels, inner};
    if (inner == 1) by_ranges(ctx, n, 16, n, lutfc_elems, &j);
    else by_ranges(ctx, planes, 1, n, lutfc_planes, &j);
    return FFQRT_OK;
}

// ---- per-channel affine maps of codes ----

typedef struct afjob {
    const ffqrt_kernels *k;
    float *y;
    const int8_t *x;
    const float *a, *b;
    float s;
    int32_t z;
    size_t channels, inner;
} afjob;

// planes [pb, pe) of `inner` elements, plane p on the map of channel p % channels
static void affine_planes(const void *job, size_t pb, size_t pe) {
    const afjob *j = job;
    for (size_t p = pb; p < pe; p++) {
        size_t c = p % j->channels;
        j->k->affine_f32(j->y + p * j->inner, j->x + p * j->inner, j->inner, j->s, j->z, j->a + c, j->b + c,
                         0);
    }
}

// rows [rb, re) of `channels` elements (inner 1), element c of a row on the map of channel c
static void affine_rows(const void *job, size_t rb, size_t re) {
    const afjob *j = job;
    for (size_t r = rb; r < re; r++)
        j->k->affine_f32(j->y + r * j->channels, j->x + r * j->channels, j->channels, j->s, j->z, j->a, j->b,
                         1);
}

ffqrt_status ffqrt_affine_f32_channels(const ffqrt_ctx *ctx, float *y, const void *x, const ffqrt_qparam *px,
                                       const float *a, const float *b, size_t outer, size_t channels,
                                       size_t inner) {
    size_t planes, n;
    if (!ctx || !ffqrt_qparam_ok(px) || px->dtype != FFQRT_S8 ||
        !channel_sizes(outer, channels, inner, &planes, &n))
        return FFQRT_EINVAL;
    if (n && (!y || !x || !a || !b)) return FFQRT_EINVAL;
    if (!n) return FFQRT_OK;
    afjob j = {ctx->k, y, x, a, b, px->scale, px->zero_point, channels, inner};
    if (inner == 1) by_ranges(ctx, outer, 1, n, affine_rows, &j);
    else by_ranges(ctx, planes, 1, n, affine_planes, &j);
    return FFQRT_OK;
}

// ---- float activations ----

typedef struct actjob {
    const ffqrt_kernels *k;
    float *y;
    const float *x;
    int act;
} actjob;

static void act_range(const void *job, size_t b, size_t e) {
    const actjob *j = job;
    j->k->act_run(j->y + b, j->x + b, e - b, j->act);
}

ffqrt_status ffqrt_act_f32(const ffqrt_ctx *ctx, float *y, const float *x, size_t n, int act) {
    if (!ctx || act != FFQRT_ACT_GELU_TANH || (n && (!y || !x))) return FFQRT_EINVAL;
    actjob j = {ctx->k, y, x, act};
    by_ranges(ctx, n, 16, n, act_range, &j);
    return FFQRT_OK;
}

// ---- row kernels (layer norm, softmax): int8 codes in rows of d, onto an output grid ----

typedef struct rowout {
    const ffqrt_kernels *k;
    uint8_t *y;
    const uint8_t *x;
    float sy;
    int32_t zy, lo, hi;
    uint8_t to_s8;  // xor turning the input bytes into s8 codes (0x80 for u8 input)
    size_t rows, d;
} rowout;

static rowout rowout_of(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, const void *x,
                        const ffqrt_qparam *px, size_t rows, size_t d) {
    rowout o = {ctx->k,
                y,
                x,
                py->scale,
                py->zero_point,
                ffqrt_qmin(py->dtype),
                ffqrt_qmax(py->dtype),
                px->dtype == FFQRT_U8 ? 0x80 : 0,
                rows,
                d};
    return o;
}

// row(job, r) for the rows of o, the rows split between the threads.
typedef struct rowjob {
    void (*row)(const void *job, size_t r);
    const void *job;
} rowjob;

static void row_range(const void *job, size_t b, size_t e) {
    const rowjob *j = job;
    for (size_t r = b; r < e; r++) j->row(j->job, r);
}

static void by_rows(const ffqrt_ctx *ctx, const rowout *o, void (*row)(const void *, size_t),
                    const void *job) {
    rowjob j = {row, job};
    by_ranges(ctx, o->rows, 1, o->rows * o->d, row_range, &j);
}

// ---- layer norm over the last dimension of int8 codes ----
//
// Per row: the moments of the codes (exact integer sums), mean and variance in double, then
// torch's formulation in float, y = (x * rstd - mean * rstd) * gamma + beta with x the
// dequantized code, quantized by the kernel table's quant_run (the quantizers' own
// rounding) onto the output grid.

typedef struct lnjob {
    rowout o;
    const float *gamma, *beta;
    double sx, eps;
    int32_t zx;
} lnjob;

enum { ROW_CHUNK = 1024 };  // floats a row kernel quantizes at a time

static void ln_row(const void *job, size_t r) {
    const lnjob *j = job;
    const size_t d = j->o.d;
    const uint8_t *xr = j->o.x + r * d;
    int32_t z = j->zx - (j->o.to_s8 ? 128 : 0);  // the zero point of the s8 codes
    int64_t s = ffqrt_sum_s8(xr, d, j->o.to_s8), ss = 0;
    size_t i = 0;
#ifdef __SSE2__
    const __m128i flip = _mm_set1_epi8((char)j->o.to_s8);
    while (i + 16 <= d) {
        // each step adds at most 4 * 128^2 = 2^16 to a lane: carried out every 2^14 steps
        size_t end = d - i > ((size_t)16 << 14) ? i + ((size_t)16 << 14) : d;
        __m128i acc = _mm_setzero_si128();
        for (; i + 16 <= end; i += 16) {
            __m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(xr + i)), flip);
            __m128i lo = _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8),
                    hi = _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8);
            acc = _mm_add_epi32(acc, _mm_add_epi32(_mm_madd_epi16(lo, lo), _mm_madd_epi16(hi, hi)));
        }
        uint32_t lanes[4];
        _mm_storeu_si128((__m128i *)lanes, acc);
        ss += (int64_t)lanes[0] + lanes[1] + lanes[2] + lanes[3];
    }
#endif
    for (; i < d; i++) {
        int32_t c = (int8_t)(xr[i] ^ j->o.to_s8);
        ss += c * c;
    }
    // moments of c - z, then torch's formulation in float: x = (c - z) * sx (the dequantized
    // value), y = (x * rstd + bias) * gamma + beta with bias = -mean * rstd
    double n = (double)d, mean = (double)s / n - z;
    double var = ((double)ss - 2.0 * z * (double)s + (double)z * z * n) / n - mean * mean;
    if (var < 0.0) var = 0.0;
    float sx = (float)j->sx, mean_f = (float)(j->sx * mean), var_f = (float)(j->sx * j->sx * var);
    float rstd = 1.0f / sqrtf(var_f + (float)j->eps), bias = -rstd * mean_f;
    float buf[ROW_CHUNK];
    for (size_t c0 = 0; c0 < d; c0 += ROW_CHUNK) {
        size_t len = d - c0 < ROW_CHUNK ? d - c0 : ROW_CHUNK, t = 0;
        const uint8_t *xc = xr + c0;
        const float *g = j->gamma ? j->gamma + c0 : NULL, *b = j->beta ? j->beta + c0 : NULL;
#ifdef __SSE2__
        // the same operations in the same order, four lanes at a time
        const __m128 vs = _mm_set1_ps(sx), vr = _mm_set1_ps(rstd), vb = _mm_set1_ps(bias);
        const __m128i vz = _mm_set1_epi32(z);
        for (; t + 16 <= len; t += 16) {
            __m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(xc + t)), flip);
            __m128i lo = _mm_unpacklo_epi8(v, v), hi = _mm_unpackhi_epi8(v, v);
            __m128i w[4] = {_mm_unpacklo_epi16(lo, lo), _mm_unpackhi_epi16(lo, lo),
                            _mm_unpacklo_epi16(hi, hi), _mm_unpackhi_epi16(hi, hi)};
            for (int u = 0; u < 4; u++) {
                __m128i c = _mm_sub_epi32(_mm_srai_epi32(w[u], 24), vz);
                __m128 y = _mm_add_ps(_mm_mul_ps(_mm_mul_ps(_mm_cvtepi32_ps(c), vs), vr), vb);
                if (g) y = _mm_mul_ps(y, _mm_loadu_ps(g + t + 4 * u));
                if (b) y = _mm_add_ps(y, _mm_loadu_ps(b + t + 4 * u));
                _mm_storeu_ps(buf + t + 4 * u, y);
            }
        }
#endif
        for (; t < len; t++) {
            float x = (float)((int8_t)(xc[t] ^ j->o.to_s8) - z) * sx;
            float v = x * rstd + bias;
            if (g) v *= g[t];
            if (b) v += b[t];
            buf[t] = v;
        }
        j->o.k->quant_run(j->o.y + r * d + c0, buf, len, j->o.sy, j->o.zy, j->o.lo, j->o.hi);
    }
}

ffqrt_status ffqrt_layer_norm8(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, const void *x,
                               const ffqrt_qparam *px, const float *gamma, const float *beta, float eps,
                               size_t rows, size_t d) {
    if (!ctx || !ffqrt_qparam_ok(py) || !ffqrt_qparam_ok(px) || !(eps >= 0.0f) || !isfinite(eps) ||
        d > FFQRT_LAYER_NORM_MAX_D)
        return FFQRT_EINVAL;
    if (rows == 0 || d == 0) return FFQRT_OK;
    if (!y || !x) return FFQRT_EINVAL;
    lnjob j = {rowout_of(ctx, y, py, x, px, rows, d), gamma, beta, px->scale, eps, px->zero_point};
    by_rows(ctx, &j.o, ln_row, &j);
    return FFQRT_OK;
}

// ---- softmax over the last dimension of int8 codes ----
//
// exp(v_j - max v) depends on the code difference cmax - c_j only: a table of 256 values
// exp(-sx * delta) per call. Per row: the largest code, the sum of the table entries, the
// entries times 1 / sum (as torch's softmax scales), quantized by the kernel table's
// quant_run onto the output grid.

typedef struct smjob {
    rowout o;
    const float *e;  // e[delta] = exp(-sx * delta)
} smjob;

static void sm_row(const void *job, size_t r) {
    const smjob *j = job;
    const ffqrt_kernels *k = j->o.k;
    const size_t d = j->o.d;
    const uint8_t *xr = j->o.x + r * d;
    uint8_t *yr = j->o.y + r * d;
    // the largest code, as an unsigned byte of the code + 128 (order preserving)
    const uint8_t to_u8 = (uint8_t)(j->o.to_s8 ^ 0x80), top = k->max_u8(xr, d, to_u8);
    // one gather per element (the ISA's vector gather): the row's entries go to buf chunk
    // by chunk, summed there in eight independent partial sums (one chain of dependent
    // float adds bound the sum at 4 cycles an element); rows longer than a chunk gather
    // their entries a second time
    float part[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}, sum = 0.0f, buf[ROW_CHUNK];
    for (size_t c0 = 0; c0 < d; c0 += ROW_CHUNK) {
        size_t len = d - c0 < ROW_CHUNK ? d - c0 : ROW_CHUNK, t = 0;
        k->gather_f32(buf, j->e, xr + c0, len, top, to_u8);
        for (; t + 8 <= len; t += 8)
            for (int u = 0; u < 8; u++) part[u] += buf[t + u];
        for (; t < len; t++) sum += buf[t];
    }
    for (int u = 0; u < 8; u++) sum += part[u];
    float inv = 1.0f / sum;
    for (size_t c0 = 0; c0 < d; c0 += ROW_CHUNK) {
        size_t len = d - c0 < ROW_CHUNK ? d - c0 : ROW_CHUNK;
        if (d > ROW_CHUNK) k->gather_f32(buf, j->e, xr + c0, len, top, to_u8);
        for (size_t t = 0; t < len; t++) buf[t] *= inv;
        k->quant_run(yr + c0, buf, len, j->o.sy, j->o.zy, j->o.lo, j->o.hi);
    }
}

ffqrt_status ffqrt_softmax8(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, const void *x,
                            const ffqrt_qparam *px, size_t rows, size_t d) {
    if (!ctx || !ffqrt_qparam_ok(py) || !ffqrt_qparam_ok(px)) return FFQRT_EINVAL;
    if (rows == 0 || d == 0) return FFQRT_OK;
    if (!y || !x) return FFQRT_EINVAL;
    float e[256];
    for (int t = 0; t < 256; t++) e[t] = expf(-px->scale * (float)t);
    smjob j = {rowout_of(ctx, y, py, x, px, rows, d), e};
    by_rows(ctx, &j.o, sm_row, &j);
    return FFQRT_OK;
}
