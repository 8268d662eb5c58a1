// kernels.h: the per-ISA kernel table and the scalar formulas every variant shares.
// The table entries are the inner loops; the drivers (quant.c, gemm.c, eltwise.c) walk
// the tensors, split work over threads and call them.
#ifndef FFQRT_KERNELS_H
#define FFQRT_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ffqrt.h"
#include "layout.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

// One GEMM call over packed weights: acc[m][n] = sum_k ((a[m][k] ^ a_xor) - za) * w[n][k]
// (a_xor = 0x80 turns s8 activations into u8, za is then shifted by 128 too), followed
// by the output stage of ffqrt.h.
typedef enum ffqrt_out_kind { FFQRT_OUT_F32 = 0, FFQRT_OUT_S8 = 1, FFQRT_OUT_U8 = 2 } ffqrt_out_kind;

typedef struct ffqrt_gemm {
    const uint8_t *a;
    size_t m, k, lda;
    uint8_t a_xor;
    int a_u7;                   // every (a ^ a_xor) <= 127: u8 x s8 pair sums cannot saturate int16
    int w_no_m128;              // no weight is -128 (the pack's FFQRT_PACK_NO_M128)
    const uint64_t *m128_bits;  // the pack's -128 bitmap (layout.h)
    int32_t za;
    float sa;
    const int8_t *groups;
    const int32_t *colsum;
    const float *wscale;
    size_t n, k_pad;
    const int32_t *rowcorr;  // NULL, or subtracted from row m's accumulators (matmul)
    const float *bias;       // may be NULL
    int out_kind;
    void *y;
    size_t ldy_m, ldy_n;         // y element (m, n) is at m * ldy_m + n * ldy_n
    float sy, ry, zy, ylo, yhi;  // ry = ffqrt_recip(sy)
} ffqrt_gemm;

typedef enum ffqrt_elt_op { FFQRT_ELT_ADD = 0, FFQRT_ELT_MUL = 1 } ffqrt_elt_op;

typedef struct ffqrt_elt {
    int op;
    uint8_t *y;
    const uint8_t *a, *b;
    int a_signed, b_signed, y_signed;
    float sa, sb, sy;
    int32_t za, zb;
    float zy, ylo, yhi;
    float ry;  // ffqrt_recip(sy)
} ffqrt_elt;

// One output row of a depthwise convolution (groups == c_in == c_out): for output pixel
// j < ow and channel ch < c, y[j * c + ch] = (float)acc * scale[ch] (+ bias[ch]) with
// acc = sum over the taps q of (x[j * step + off[q] + ch] - za) * w_q[ch], x the padded
// NHWC u8 copy (conv.c). The taps go in pairs (an odd count is padded with a zero-weight
// tap at off 0): w holds, for pair p and channel ch, w[(p * c_pad + ch) * 2 + e] = the
// weight of tap 2p + e, and wsum[ch] the sum of a channel's weights. A kernel reads the
// channels of x in whole vectors, up to c_pad - c bytes past a pixel's last channel.
typedef struct ffqrt_dw {
    size_t c, c_pad, ow, pairs, step;
    const size_t *off;    // 2 * pairs tap offsets in bytes
    const int16_t *w;     // [pairs][c_pad][2]
    const int32_t *wsum;  // [c_pad]
    const float *scale;   // [c_pad]: sa * the channel's weight scale
    const float *bias;    // [c], or NULL
    int32_t za;
} ffqrt_dw;

typedef struct ffqrt_kernels {
    int isa;
    int needs_u7;  // gemm_panels reads g->a_u7 (the driver scans the activations for it)
    // q[i] = quantize(x[i]) into [lo, hi], stored as one byte (two's complement if lo < 0).
    void (*quant_run)(uint8_t *restrict q, const float *restrict x, size_t n, float scale, int32_t zp,
                      int32_t lo, int32_t hi);
    // x[i] = dequantize(q[i]); q bytes are s8 when is_signed, else u8.
    void (*dequant_run)(float *restrict x, const uint8_t *restrict q, size_t n, float scale, int32_t zp,
                        int is_signed);
    // y[i] = dequantize(quantize(x[i])); y may equal x.
    void (*fakeq_run)(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo, int32_t hi);
    // y[i] = (float)quantize(x[i]) into [lo, hi] (+0 for -0); y may equal x.
    void (*quantf_run)(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo, int32_t hi);
    // Folds x into *mn / *mx (NaN ignored).
    void (*minmax_run)(float *mn, float *mx, const float *restrict x, size_t n);
    // mn[i] = min(mn[i], x[i]), mx[i] = max(mx[i], x[i]) (NaN ignored).
    void (*minmax_cols)(float *restrict mn, float *restrict mx, const float *restrict x, size_t n);
    // max over i of (a[i] ^ x), 0 for n == 0.
    uint8_t (*max_u8)(const uint8_t *restrict a, size_t n, uint8_t x);
    // Output channels of panels [p0, p1), rows [m0, m1).
    void (*gemm_panels)(const ffqrt_gemm *g, size_t p0, size_t p1, size_t m0, size_t m1);
    // Elements [i0, i1).
    void (*elt_run)(const ffqrt_elt *e, size_t i0, size_t i1);
    // y[i] = e[top - (x[i] ^ flip)] (a table of 256 floats indexed by byte differences;
    // top - (x[i] ^ flip) must not be negative).
    void (*gather_f32)(float *restrict y, const float *restrict e, const uint8_t *restrict x, size_t n,
                       uint8_t top, uint8_t flip);
    // y[i] = fmaf((float)(x[i] - z) * s, a[i * step], b[i * step]) for int8 codes x (step 0:
    // one affine map for all n, a plane of one channel; step 1: one per element, a row of
    // channels). One rounding for the dequantized value, one for the fused multiply-add.
    void (*affine_f32)(float *restrict y, const int8_t *restrict x, size_t n, float s, int32_t z,
                       const float *restrict a, const float *restrict b, int step);
    // y[i] = ffqrt_act1(x[i], act); y may equal x.
    void (*act_run)(float *y, const float *x, size_t n, int act);
    // One output row of a depthwise convolution (ffqrt_dw).
    void (*dw_row)(const ffqrt_dw *d, float *restrict y, const uint8_t *restrict x);
    // The first pixels of an NCHW image (channel ci at src + ci * plane) in channels-last
    // rows: pixel p's c bytes to dst + p / w * prow + p % w * c, each xor flip; returns how
    // many pixels it did, all channels of them (a multiple of 16, up to np; the ref: none).
    size_t (*to_pixels_u8)(uint8_t *restrict dst, size_t prow, const uint8_t *restrict src, size_t plane,
                           size_t c, size_t np, size_t w, uint8_t flip);
    // y[ch * ys + p] = x[p * xs + ch] for the first pixels of np and channels below nc / 16 *
    // 16; returns how many pixels (a multiple of 16, up to np; 0 when nc < 16; the ref: 0).
    size_t (*to_channels_u8)(uint8_t *restrict y, size_t ys, const uint8_t *restrict x, size_t xs, size_t np,
                             size_t nc);
} ffqrt_kernels;

struct ffqrt_ctx {
    const ffqrt_kernels *k;
    size_t nthreads;          // the pool's size, >= 1
    struct ffqrt_pool *pool;  // created with the context, reused by every call
};

// Threads for `work` units when each thread should get at least min_per_thread of them.
static inline size_t ffqrt_threads_for(const ffqrt_ctx *ctx, size_t work, size_t min_per_thread) {
    size_t t = work / min_per_thread;
    t = t < ctx->nthreads ? t : ctx->nthreads;
    return t ? t : 1;
}

// The table entries of each variant: ffqrt_<entry>_<isa>, isa in ref, avx2, avx512vnni.
// The scalar (ref) entries also finish the tails of the SIMD ones.
#define FFQRT_DECLARE_ISA(isa)                                                                               \
    void ffqrt_quant_run_##isa(uint8_t *restrict q, const float *restrict x, size_t n, float scale,          \
                               int32_t zp, int32_t lo, int32_t hi);                                          \
    void ffqrt_dequant_run_##isa(float *restrict x, const uint8_t *restrict q, size_t n, float scale,        \
                                 int32_t zp, int is_signed);                                                 \
    void ffqrt_fakeq_run_##isa(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo,      \
                               int32_t hi);                                                                  \
    void ffqrt_quantf_run_##isa(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo,     \
                                int32_t hi);                                                                 \
    void ffqrt_minmax_run_##isa(float *mn, float *mx, const float *restrict x, size_t n);                    \
    void ffqrt_minmax_cols_##isa(float *restrict mn, float *restrict mx, const float *restrict x, size_t n); \
    uint8_t ffqrt_max_u8_##isa(const uint8_t *restrict a, size_t n, uint8_t x);                              \
    void ffqrt_gemm_panels_##isa(const ffqrt_gemm *g, size_t p0, size_t p1, size_t m0, size_t m1);           \
    void ffqrt_elt_run_##isa(const ffqrt_elt *e, size_t i0, size_t i1);                                      \
    void ffqrt_gather_f32_##isa(float *restrict y, const float *restrict e, const uint8_t *restrict x,       \
                                size_t n, uint8_t top, uint8_t flip);                                        \
    void ffqrt_affine_f32_##isa(float *restrict y, const int8_t *restrict x, size_t n, float s, int32_t z,   \
                                const float *restrict a, const float *restrict b, int step);                 \
    void ffqrt_act_run_##isa(float *y, const float *x, size_t n, int act);                                   \
    void ffqrt_dw_row_##isa(const ffqrt_dw *d, float *restrict y, const uint8_t *restrict x);                \
    size_t ffqrt_to_pixels_u8_##isa(uint8_t *restrict dst, size_t prow, const uint8_t *restrict src,         \
                                    size_t plane, size_t c, size_t np, size_t w, uint8_t flip);              \
    size_t ffqrt_to_channels_u8_##isa(uint8_t *restrict y, size_t ys, const uint8_t *restrict x, size_t xs,  \
                                      size_t np, size_t nc);

FFQRT_DECLARE_ISA(ref)
FFQRT_DECLARE_ISA(avx2)
FFQRT_DECLARE_ISA(avx512vnni)
void ffqrt_gemm_panels_avxvnni(const ffqrt_gemm *g, size_t p0, size_t p1, size_t m0, size_t m1);
// AMX-INT8 tiles; the other entries of that table are AVX-512 VNNI's.
void ffqrt_gemm_panels_amx(const ffqrt_gemm *g, size_t p0, size_t p1, size_t m0, size_t m1);

// Driver internals shared between files.
// Per-tensor quantization of n floats to bytes in [lo, hi], each byte then xor'ed with flip
// (0x80 turns s8 codes into the u8 codes the GEMM reads without flipping them itself).
void ffqrt_quant_flat(const ffqrt_ctx *ctx, uint8_t *q, const float *x, size_t n, float scale, int32_t zp,
                      int32_t lo, int32_t hi, uint8_t flip);
// The same on the calling thread only.
void ffqrt_quant_range(const ffqrt_kernels *k, uint8_t *q, const float *x, size_t n, float scale, int32_t zp,
                       int32_t lo, int32_t hi, uint8_t flip);
const ffqrt_pack_hdr *ffqrt_pack_hdr_of(const void *packed);
void ffqrt_gemm_init(ffqrt_gemm *g, const ffqrt_pack_hdr *h, const void *a, const ffqrt_qparam *pa, size_t m,
                     size_t lda);
void ffqrt_gemm_out(ffqrt_gemm *g, void *y, const ffqrt_qparam *py, int relu, const float *bias, size_t ldy_m,
                    size_t ldy_n);
void ffqrt_gemm_run(const ffqrt_ctx *ctx, ffqrt_gemm *g);
void ffqrt_gemm_run1(const ffqrt_kernels *k, ffqrt_gemm *g);
ffqrt_status ffqrt_pack_cols(void *packed, const int8_t *w, const float *w_scale, size_t n, size_t k,
                             const uint32_t *col);
#define FFQRT_COL_ZERO UINT32_MAX  // a column of zero weights (ffqrt_pack_cols_n)
ffqrt_status ffqrt_pack_cols_n(void *packed, const int8_t *w, size_t ldw, const float *w_scale, size_t n,
                               size_t k, const uint32_t *col);

// ---- the shared scalar formulas (the SIMD code performs the same IEEE operations, except
// that the AVX-512 code forms x / scale without the division instruction, rounded
// identically) ----

// clamp(round_half_even(v + zp), lo, hi) with v = fl(x / scale), the rounding exact (in
// real arithmetic), in float; NaN gives lo. Same as max_ps(q, lo) then min_ps(q, hi) in
// vector code. round(v) + zp is that value except at exact ties (|v - round(v)| = 1/2, where
// an odd zp changes which neighbour is even): there v + zp is a half-integer computed
// exactly, and it is rounded. Adding zp to v before rounding, as fl(v + zp), would lose v's
// low bits when |zp| is larger than |v| and move values near a half-way point onto it or
// across it: one step off the formula (and off ONNX's QuantizeLinear, which rounds v and
// then adds the zero point).
static inline float ffqrt_qf(float x, float scale, float zp, float lo, float hi) {
    float v = x / scale;
    float r = nearbyintf(v);
    float q = fabsf(v - r) == 0.5f ? nearbyintf(v + zp) : r + zp;
    q = q > lo ? q : lo;
    q = q < hi ? q : hi;
    return q;
}

// 1 / s for the AVX-512 quantization, which divides without a division instruction (see
// simd_avx512.h), or 0 when s lies outside [2^-60, 2^60]: there the method is not exact
// (its residuals would reach the subnormal range) and that code divides.
static inline float ffqrt_recip(float s) { return s >= 0x1p-60f && s <= 0x1p60f ? 1.0f / s : 0.0f; }

static inline float ffqrt_dqf(int32_t q, int32_t zp, float scale) { return (float)(q - zp) * scale; }

static inline int32_t ffqrt_qmin(int dtype) {
    static const int32_t lo[] = {-128, 0, -8, 0};
    return lo[dtype];
}
static inline int32_t ffqrt_qmax(int dtype) {
    static const int32_t hi[] = {127, 255, 7, 15};
    return hi[dtype];
}
static inline int ffqrt_dtype_ok(int dtype) { return dtype >= FFQRT_S8 && dtype <= FFQRT_U4; }
static inline int ffqrt_dtype8_ok(int dtype) { return dtype == FFQRT_S8 || dtype == FFQRT_U8; }
static inline int32_t ffqrt_sym_zp(int dtype) {
    static const int32_t z[] = {0, 128, 0, 8};
    return z[dtype];
}

// A scale a grid can use: finite and > 0 (NaN is not).
static inline int ffqrt_scale_ok(float s) { return s > 0.0f && isfinite(s); }

static inline int ffqrt_qparam_ok(const ffqrt_qparam *p) {
    return p && ffqrt_dtype8_ok(p->dtype) && ffqrt_scale_ok(p->scale) &&
           p->zero_point >= ffqrt_qmin(p->dtype) && p->zero_point <= ffqrt_qmax(p->dtype);
}

// The lowest code of an output grid: the dtype's, or the zero point when a ReLU is folded in.
static inline int32_t ffqrt_out_lo(const ffqrt_qparam *py, int relu) {
    int32_t lo = ffqrt_qmin(py->dtype);
    return relu && py->zero_point > lo ? py->zero_point : lo;
}

// The zero point of an 8-bit operand as the kernels read its bytes (s8 flipped to u8).
static inline int32_t ffqrt_u8_zero_point(const ffqrt_qparam *p) {
    return p->zero_point + (p->dtype == FFQRT_S8 ? 128 : 0);
}

// sum_i (int8_t)(p[i] ^ flip) over n bytes: with SSE2 (every x86-64) psadbw sums 16
// bytes a step ((int8_t)(b ^ flip) = (b ^ flip ^ 0x80) - 128).
static inline int32_t ffqrt_sum_s8(const uint8_t *p, size_t n, uint8_t flip) {
    uint8_t x = (uint8_t)(flip ^ 0x80);
    uint64_t s = 0;
    size_t i = 0;
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128(), mask = _mm_set1_epi8((char)x);
    __m128i acc = zero;
    for (; i + 16 <= n; i += 16)
        acc = _mm_add_epi64(
            acc, _mm_sad_epu8(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(p + i)), mask), zero));
    s = (uint64_t)_mm_cvtsi128_si64(acc) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc));
#endif
    for (; i < n; i++) s += (uint8_t)(p[i] ^ x);
    return (int32_t)((int64_t)s - 128 * (int64_t)n);
}

// Byte value b read as s8 or u8.
static inline int32_t ffqrt_byte_val(uint8_t b, int is_signed) {
    return is_signed ? (int32_t)(int8_t)b : (int32_t)b;
}

// The GEMM output stage for one accumulator.
static inline float ffqrt_gemm_real(const ffqrt_gemm *g, int32_t acc, size_t n) {
    float v = (float)acc * (g->sa * g->wscale[n]);
    if (g->bias) v = v + g->bias[n];
    return v;
}
static inline void ffqrt_gemm_store1(const ffqrt_gemm *g, int32_t acc, size_t m, size_t n) {
    float v = ffqrt_gemm_real(g, acc, n);
    size_t at = m * g->ldy_m + n * g->ldy_n;
    if (g->out_kind == FFQRT_OUT_F32) ((float *)g->y)[at] = v;
    else ((uint8_t *)g->y)[at] = (uint8_t)(int32_t)ffqrt_qf(v, g->sy, g->zy, g->ylo, g->yhi);
}

// Wrapping dot - za * colsum (the SIMD code wraps the same way).
static inline int32_t ffqrt_fold_zp(uint32_t dot, int32_t za, int32_t colsum) {
    return (int32_t)(dot - (uint32_t)za * (uint32_t)colsum);
}

// The accumulator of (m, n) from the raw dot product: zero points folded out, wrapping.
static inline int32_t ffqrt_gemm_acc(const ffqrt_gemm *g, uint32_t dot, size_t m, size_t n) {
    int32_t acc = ffqrt_fold_zp(dot, g->za, g->colsum[n]);
    return g->rowcorr ? (int32_t)((uint32_t)acc - (uint32_t)g->rowcorr[m]) : acc;
}

static inline float ffqrt_elt_real(const ffqrt_elt *e, size_t i) {
    float fa = ffqrt_dqf(ffqrt_byte_val(e->a[i], e->a_signed), e->za, e->sa);
    float fb = ffqrt_dqf(ffqrt_byte_val(e->b[i], e->b_signed), e->zb, e->sb);
    return e->op == FFQRT_ELT_ADD ? fa + fb : fa * fb;
}

// ---- float activations (ffqrt_act_f32) ----
//
// exp(v) for v in [FFQRT_EXP_LO, FFQRT_EXP_HI]: v = n ln2 + r with n = round(v log2 e) and
// |r| <= ln2 / 2 (ln2 split in two parts, the first with trailing zero bits, so n * hi is
// exact), exp(r) by its Taylor polynomial of degree 7 (truncation below 2^-27 relative),
// times 2^n built in the exponent field (n in [-126, 127]: a normal number).
#define FFQRT_EXP_LO (-87.0f)
#define FFQRT_EXP_HI 88.0f
#define FFQRT_LOG2E  1.44269502f
#define FFQRT_LN2_HI 0.693145752f  // 0x1.62e4p-1
#define FFQRT_LN2_LO 1.42860677e-6f
#define FFQRT_EXP_C7 1.98412701e-4f  // 1/7!
#define FFQRT_EXP_C6 1.38888892e-3f
#define FFQRT_EXP_C5 8.33333377e-3f
#define FFQRT_EXP_C4 4.16666679e-2f
#define FFQRT_EXP_C3 1.66666672e-1f
#define FFQRT_EXP_C2 0.5f

static inline float ffqrt_exp1(float v) {
    float n = nearbyintf(v * FFQRT_LOG2E);
    float r = fmaf(-n, FFQRT_LN2_HI, v);
    r = fmaf(-n, FFQRT_LN2_LO, r);
    float p = fmaf(FFQRT_EXP_C7, r, FFQRT_EXP_C6);
    p = fmaf(p, r, FFQRT_EXP_C5);
    p = fmaf(p, r, FFQRT_EXP_C4);
    p = fmaf(p, r, FFQRT_EXP_C3);
    p = fmaf(p, r, FFQRT_EXP_C2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// clamp as max_ps(v, lo) then min_ps(v, hi) compute it (NaN gives lo).
static inline float ffqrt_clampf(float v, float lo, float hi) {
    v = v > lo ? v : lo;
    return v < hi ? v : hi;
}

// tanh GELU: 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
#define FFQRT_GELU_TANH_ZERO (-10.0f)  // below: -0 (|y| < 2^-120)
#define FFQRT_GELU_TANH_K    0.044715f
#define FFQRT_GELU_TANH_M2C  (-1.59576917f)  // -2 sqrt(2/pi)

static inline float ffqrt_gelu_tanh1(float x) {
    float w = fmaf(FFQRT_GELU_TANH_K, x * x, 1.0f);
    float v = ffqrt_clampf((x * w) * FFQRT_GELU_TANH_M2C, FFQRT_EXP_LO, FFQRT_EXP_HI);
    return x < FFQRT_GELU_TANH_ZERO ? -0.0f : x / (1.0f + ffqrt_exp1(v));
}

static inline float ffqrt_act1(float x, int act) {
    (void)act;  // FFQRT_ACT_GELU_TANH, the only one
    return ffqrt_gelu_tanh1(x);
}

#endif  // FFQRT_KERNELS_H
