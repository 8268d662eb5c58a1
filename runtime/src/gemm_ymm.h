// gemm_ymm.h: the 256-bit GEMM over the packed panels (layout.h), shared by
// gemm_avx2.c and gemm_avxvnni.c. Each of them defines, before including this file,
//   ymm_dot(c, a, aa, w, mode): c + the int32 dot products of 4 activations (a, an int32
//                         broadcast) with 8 outputs x 4 s8 weights (w); exact. mode
//                         (gemm_modes.h) MODE_U8: u8 activations; MODE_U7: u8 activations,
//                         every one <= 127; MODE_S8 (AVX2 only): s8 activations a (the u8
//                         codes - 128), their magnitudes aa, weights of at least -127 (the
//                         driver takes -128 weights as -127, then adds what that left out
//                         over the groups the pack's bitmap marks). aa: unused by the others
//   YMM_MR                rows per micro-kernel tile
//   YMM_U7                1: the MODE_U7 and MODE_S8 forms (AVX2), 0: MODE_U8 (AVX-VNNI)
//   YMM_ENTRY             the name of the table entry
// and compiles it with its own target flags. A 64-byte weight group is two ymm halves
// (8 outputs each). Blocking as in gemm_avx512vnni.c: rows in chunks of MC, one panel
// (16 channels) at a time, k in blocks of KC into an int32 buffer on the stack (the last
// block goes from the registers through the output stage), and for up to 2 rows two
// accumulator sets (even / odd k-groups) to keep enough chains in flight.
#ifndef YMM_ENTRY
#error "define ymm_dot, YMM_MR, YMM_U7 and YMM_ENTRY before including gemm_ymm.h"
#endif

#include <immintrin.h>
#include <string.h>

#include "kernels.h"
#include "simd_avx2.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))
#define UNROLL        _Pragma("GCC unroll 16")

enum { MR = YMM_MR, KC = 512, MC = 96 / YMM_MR * YMM_MR };
static_assert(KC / FFQRT_KR % 64 == 0, "a k-block is whole words of the -128 bitmap");

// k in blocks of KC, where a remainder of at most KC / 2 joins the last block instead of
// making one of its own (a short block pays a pass through the int32 buffer for little
// work: 3 x 3 convolutions over 64 channels, k = 576, went 2-4 % faster; k = 768 in one
// block made 128 x 768 x 3072 3 % faster with 7-bit activations, 6 % with AVX-VNNI and 10 %
// with 8-bit ones, which then split once per chunk). Blocks start at multiples of KC, so
// each still starts on a word of the -128 bitmap.
static size_t k_blocks(size_t k) {
    size_t n = k / KC + (k % KC > KC / 2);
    return n ? n : 1;
}

static ALWAYS_INLINE __m256i bcast4(const uint8_t *p, const int xor80) {
    int32_t v;
    memcpy(&v, p, 4);
    __m256i a = _mm256_set1_epi32(v);
    return xor80 ? _mm256_xor_si256(a, _mm256_set1_epi8((char)0x80)) : a;
}

// The first n (<= 4) bytes at p, then zeros (padding bytes meet zero weights), as bcast4;
// assembled in a register (a copy through memory would stall the store forwarding).
static ALWAYS_INLINE __m256i bcast_part(const uint8_t *p, size_t n, const int xor80) {
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint32_t)p[i] << (8 * i);
    if (xor80) v ^= 0x80808080u;
    return _mm256_set1_epi32((int32_t)v);
}

// Per-panel constants of the output stage.
typedef struct panel_out {
    __m256i corr[2];  // za * colsum
    __m256 scale[2];  // sa * sw
    __m256 bias[2];
    size_t n0, valid;
} panel_out;

static panel_out panel_consts(const ffqrt_gemm *g, size_t p) {
    panel_out o;
    o.n0 = p * FFQRT_NR;
    o.valid = g->n - o.n0 < FFQRT_NR ? g->n - o.n0 : FFQRT_NR;
    for (int h = 0; h < 2; h++) {
        __m256i cs = _mm256_loadu_si256((const __m256i *)(g->colsum + o.n0 + 8 * h));
        o.corr[h] = _mm256_mullo_epi32(_mm256_set1_epi32(g->za), cs);
        o.scale[h] = _mm256_mul_ps(_mm256_set1_ps(g->sa), _mm256_loadu_ps(g->wscale + o.n0 + 8 * h));
        o.bias[h] =
            o.valid == FFQRT_NR && g->bias ? _mm256_loadu_ps(g->bias + o.n0 + 8 * h) : _mm256_setzero_ps();
    }
    return o;
}

// 16 outputs of row m, contiguous in y: (float)acc * scale (+ bias), then maybe quantize.
static ALWAYS_INLINE void store_vec(const ffqrt_gemm *g, const panel_out *o, const __m256i c[2], size_t m) {
    __m256 v[2];
    for (int h = 0; h < 2; h++) {
        v[h] = _mm256_mul_ps(_mm256_cvtepi32_ps(c[h]), o->scale[h]);
        if (g->bias) v[h] = _mm256_add_ps(v[h], o->bias[h]);
    }
    size_t at = m * g->ldy_m + o->n0;
    if (g->out_kind == FFQRT_OUT_F32) {
        _mm256_storeu_ps((float *)g->y + at, v[0]);
        _mm256_storeu_ps((float *)g->y + at + 8, v[1]);
        return;
    }
    const __m256 s = _mm256_set1_ps(g->sy), z = _mm256_set1_ps(g->zy);
    const __m256 lo = _mm256_set1_ps(g->ylo), hi = _mm256_set1_ps(g->yhi);
    const int z_odd = (int32_t)g->zy & 1;
    __m256i q0 = _mm256_cvtps_epi32(ffqrt_qf8(v[0], s, z, lo, hi, z_odd));
    __m256i q1 = _mm256_cvtps_epi32(ffqrt_qf8(v[1], s, z, lo, hi, z_odd));
    _mm_storeu_si128((__m128i *)((uint8_t *)g->y + at), ffqrt_pack16(q0, q1, g->out_kind == FFQRT_OUT_S8));
}

// Partial panels or strided outputs: element by element, out of line.
static __attribute__((noinline)) void store_partial(const ffqrt_gemm *g, const panel_out *o,
                                                    const __m256i c[2], size_t m) {
    int32_t acc[FFQRT_NR];
    _mm256_storeu_si256((__m256i *)acc, c[0]);
    _mm256_storeu_si256((__m256i *)(acc + 8), c[1]);
    for (size_t j = 0; j < o->valid; j++) {
        float f = ffqrt_gemm_real(g, acc[j], o->n0 + j);
        size_t at = m * g->ldy_m + (o->n0 + j) * g->ldy_n;
        if (g->out_kind == FFQRT_OUT_F32) ((float *)g->y)[at] = f;
        else ((uint8_t *)g->y)[at] = (uint8_t)(int32_t)ffqrt_qf(f, g->sy, g->zy, g->ylo, g->yhi);
    }
}

static ALWAYS_INLINE void store_row(const ffqrt_gemm *g, const panel_out *o, __m256i v0, __m256i v1,
                                    size_t m) {
    __m256i c[2] = {v0, v1};
    for (int h = 0; h < 2; h++) {
        c[h] = _mm256_sub_epi32(c[h], o->corr[h]);
        if (g->rowcorr) c[h] = _mm256_sub_epi32(c[h], _mm256_set1_epi32(g->rowcorr[m]));
    }
    if (o->valid == FFQRT_NR && g->ldy_n == 1) {
        store_vec(g, o, c, m);
        return;
    }
    store_partial(g, o, c, m);
}

#if YMM_U7
// bytes of the longest k-block (k_blocks), whole groups; rows of the MODE_S8 chunks of a
// single k-block, whose activations are split once for all panels
enum { KB_MAX = KC + KC / 2, SPLIT_LS = KB_MAX + 32, MC_S8 = 32 / YMM_MR * YMM_MR };

// rows a (lda apart, kl bytes each) -> s8 values (flipped from u8 codes when flip) in sa and
// their magnitudes in aa, ls apart. The bytes after a row's kl, up to a multiple of 32, hold
// values as well (never read from past the row): they meet the pack's zero weights.
static ALWAYS_INLINE void split_rows(uint8_t *sa, uint8_t *aa, size_t ls, const uint8_t *a, size_t lda,
                                     size_t rows, size_t kl, int flip) {
    const __m256i x80 = _mm256_set1_epi8((char)(flip ? 0x80 : 0));
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *src = a + r * lda;
        for (size_t j = 0; j < kl; j += 32) {
            __m256i v;
            if (j + 32 <= kl) {
                v = _mm256_loadu_si256((const __m256i *)(src + j));
            } else {  // the row's last bytes
                _Alignas(32) uint8_t tail[32] = {0};
                memcpy(tail, src + j, kl - j);
                v = _mm256_load_si256((const __m256i *)tail);
            }
            v = _mm256_xor_si256(v, x80);
            _mm256_store_si256((__m256i *)(sa + r * ls + j), v);
            _mm256_store_si256((__m256i *)(aa + r * ls + j), _mm256_abs_epi8(v));
        }
    }
}
#endif

// buf[r][16] (+)= dot of rows a + r * lda (kg full groups, then `rest` bytes) with the
// panel's groups at w. first: buf is overwritten. last: the sums go through the output
// stage of rows m0 + r instead. The lines of npf k-groups from pf on are prefetched into L2
// meanwhile, one per step (the tiles of a chunk share out the next panel this way).
// MODE_U8, MODE_U7: u8 activations (bytes as stored, flipped by xor80). MODE_S8 (AVX2): the
// rows split beforehand (split_rows) into s8 values (a) and magnitudes (aa), rest 0 (the
// bytes of a partial last group past k meet zero weights); the weights within -127..127,
// from a copy the driver clamps once per chunk and panel, or (clamp) clamped here, for
// chunks of one tile. The inner loop is then vpsignb + vpmaddubsw + vpmaddwd + vpaddd per 32
// MACs, without the vpabsb, the vpxor turning u8 codes into s8 and the vpmaxsb on the
// weights that an in-loop form needs (+24 % on a 4-row tile from L1, AVX2 on an Intel
// core). A -128 weight, taken as -127, then gets `a * -1` added over the groups the pack's
// bitmap marks (bits; wp: the pack's own weights of the block, g0: its first group).
static ALWAYS_INLINE void ukernel(const ffqrt_gemm *gm, const panel_out *po, size_t m0, int last,
                                  int32_t *buf, const uint8_t *a, const uint8_t *aa, size_t lda,
                                  const int8_t *w, const int8_t *wp, size_t kg, size_t rest, int first,
                                  const int8_t *pf, size_t npf, const uint64_t *bits, size_t g0,
                                  const size_t mr, const int xor80, const int mode, const int clamp) {
    const __m256i m127 = _mm256_set1_epi8(-127);
    enum { KS = 2 };
    const size_t ks = mr <= 2 ? 2 : 1;
    __m256i c[KS][MR][2];
    UNROLL for (size_t s = 0; s < ks; s++) UNROLL for (size_t r = 0; r < mr; r++) c[s][r][0] = c[s][r][1] =
        _mm256_setzero_si256();
    size_t g = 0;
    for (; g + ks <= kg; g += ks) {
        if (g < npf) _mm_prefetch((const char *)(pf + 64 * g), _MM_HINT_T1);
        UNROLL for (size_t s = 0; s < ks; s++) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + 64 * (g + s)));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + 64 * (g + s) + 32));
            if (clamp) w0 = _mm256_max_epi8(w0, m127), w1 = _mm256_max_epi8(w1, m127);
            UNROLL for (size_t r = 0; r < mr; r++) {
                size_t at = r * lda + 4 * (g + s);
                __m256i b = bcast4(a + at, xor80), ab = mode == MODE_S8 ? bcast4(aa + at, 0) : b;
                c[s][r][0] = ymm_dot(c[s][r][0], b, ab, w0, mode);
                c[s][r][1] = ymm_dot(c[s][r][1], b, ab, w1, mode);
            }
        }
    }
    for (; g < kg + (rest != 0); g++) {  // an odd last group, then the partial one
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + 64 * g));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + 64 * g + 32));
        if (clamp) w0 = _mm256_max_epi8(w0, m127), w1 = _mm256_max_epi8(w1, m127);
        UNROLL for (size_t r = 0; r < mr; r++) {
            size_t at = r * lda + 4 * g;
            __m256i b = bcast_part(a + at, g < kg ? 4 : rest, xor80);
            __m256i ab = mode == MODE_S8 ? bcast4(aa + at, 0) : b;
            c[0][r][0] = ymm_dot(c[0][r][0], b, ab, w0, mode);
            c[0][r][1] = ymm_dot(c[0][r][1], b, ab, w1, mode);
        }
    }
    // MODE_S8, the groups holding a -128 weight (bits, from group g0 on; a k-block starts on a
    // word of the bitmap, and groups past k have no bits): a * (w == -128 ? -1 : 0) once more
    if (mode == MODE_S8 && bits) {
        const __m256i m128 = _mm256_set1_epi8(-128);
        for (size_t wi = g0 / 64; wi * 64 < g0 + kg; wi++) {
            uint64_t word = bits[wi];
            while (word) {
                size_t gi = wi * 64 + (size_t)__builtin_ctzll(word) - g0;
                word &= word - 1;
                const __m256i e0 =
                    _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(wp + 64 * gi)), m128);
                const __m256i e1 =
                    _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(wp + 64 * gi + 32)), m128);
                UNROLL for (size_t r = 0; r < mr; r++) {
                    size_t at = r * lda + 4 * gi;
                    __m256i b = bcast4(a + at, 0), ab = bcast4(aa + at, 0);
                    c[0][r][0] = ymm_dot(c[0][r][0], b, ab, e0, mode);
                    c[0][r][1] = ymm_dot(c[0][r][1], b, ab, e1, mode);
                }
            }
        }
    }
    UNROLL for (size_t r = 0; r < mr; r++) {
        __m256i v[2];
        UNROLL for (size_t h = 0; h < 2; h++) {
            v[h] = ks == 2 ? _mm256_add_epi32(c[0][r][h], c[1][r][h]) : c[0][r][h];
            int32_t *dst = buf + r * FFQRT_NR + 8 * h;
            if (!first) v[h] = _mm256_add_epi32(v[h], _mm256_loadu_si256((const __m256i *)dst));
            if (!last) _mm256_storeu_si256((__m256i *)dst, v[h]);
        }
        if (last) store_row(gm, po, v[0], v[1], m0 + r);
    }
}

typedef void ukernel_fn(const ffqrt_gemm *gm, const panel_out *po, size_t m0, int last, int32_t *buf,
                        const uint8_t *a, const uint8_t *aa, size_t lda, const int8_t *w, const int8_t *wp,
                        size_t kg, size_t rest, int first, const int8_t *pf, size_t npf, const uint64_t *bits,
                        size_t g0);

// uk_<rows>_<xor80>_<mode>_<clamp>
#define UK(mr, x, u, cl)                                                                                     \
    static void uk_##mr##_##x##_##u##_##cl(                                                                  \
        const ffqrt_gemm *gm, const panel_out *po, size_t m0, int last, int32_t *buf, const uint8_t *a,      \
        const uint8_t *aa, size_t lda, const int8_t *w, const int8_t *wp, size_t kg, size_t rest, int first, \
        const int8_t *pf, size_t npf, const uint64_t *bits, size_t g0) {                                     \
        ukernel(gm, po, m0, last, buf, a, aa, lda, w, wp, kg, rest, first, pf, npf, bits, g0,                \
                mr < MR ? mr : MR, x, u, cl);                                                                \
    }
#define UK_ALL(x, u, cl)                                                                                     \
    UK(1, x, u, cl) UK(2, x, u, cl) UK(3, x, u, cl) UK(4, x, u, cl) UK(5, x, u, cl) UK(6, x, u, cl)
#define ROW(x, u, cl)                                                                                        \
    {                                                                                                        \
        uk_1_##x##_##u##_##cl, uk_2_##x##_##u##_##cl, uk_3_##x##_##u##_##cl, uk_4_##x##_##u##_##cl,          \
            uk_5_##x##_##u##_##cl, uk_6_##x##_##u##_##cl                                                     \
    }
// Macro instantiations without semicolons: laid out by hand.
// clang-format off
#if YMM_U7
UK_ALL(0, 1, 0)
UK_ALL(1, 1, 0)
UK_ALL(0, 2, 0)
UK_ALL(0, 2, 1)
// [xor80][mr - 1]: MODE_U7
static ukernel_fn *const ukernels[2][6] = {ROW(0, 1, 0), ROW(1, 1, 0)};
// [clamp][mr - 1]: MODE_S8 on split rows (no flip left to do), weights clamped by the driver or here
static ukernel_fn *const ukernels_s8[2][6] = {ROW(0, 2, 0), ROW(0, 2, 1)};
#else
UK_ALL(0, 0, 0)
UK_ALL(1, 0, 0)
// [xor80][mr - 1]: MODE_U8
static ukernel_fn *const ukernels[2][6] = {ROW(0, 0, 0), ROW(1, 0, 0)};
#endif
static_assert(MODE_U8 == 0 && MODE_U7 == 1 && MODE_S8 == 2, "the instantiations above");
// clang-format on
static_assert(MR <= 6, "at most 6 rows per tile");

void YMM_ENTRY(const ffqrt_gemm *g, size_t p0, size_t p1, size_t m0, size_t m1) {
    _Alignas(32) int32_t buf[MC * FFQRT_NR];
    size_t pstride = g->k_pad / FFQRT_KR * sizeof(ffqrt_wgroup);
    size_t nkb = k_blocks(g->k), mc = MC;
#if YMM_U7
    // u7 activations take the fastest form, the others the s8 one, MODE_S8 (whose sums are
    // short of 128 * colsum: the correction below gives it back)
    int s8 = !g->a_u7;
    int flip = g->a_xor == 0;  // s8 values: the stored bytes flipped when they are u8 codes
    _Alignas(32) int8_t wclamp[KB_MAX / FFQRT_KR * 64];  // the k-block's weights, clamped
    // the activations split: per chunk (of MC_S8 rows) when k is one block, else per tile
    _Alignas(32) uint8_t sa[MC_S8 * SPLIT_LS], aa[MC_S8 * SPLIT_LS];
    size_t words = ffqrt_m128_words(g->k_pad);
    if (s8 && nkb == 1) mc = MC_S8;
#endif
    for (size_t c0 = m0; c0 < m1; c0 += mc) {
        size_t c1 = m1 - c0 < mc ? m1 : c0 + mc;
        size_t ntiles = (c1 - c0 + MR - 1) / MR, per = (KC / FFQRT_KR + ntiles - 1) / ntiles;
#if YMM_U7
        if (s8 && nkb == 1) split_rows(sa, aa, SPLIT_LS, g->a + c0 * g->lda, g->lda, c1 - c0, g->k, flip);
#endif
        for (size_t p = p0; p < p1; p++) {
            const int8_t *wp = g->groups + p * pstride;
            const uint64_t *bits = NULL;
            panel_out o = panel_consts(g, p);
#if YMM_U7
            if (s8) {
                bits = g->w_no_m128 ? NULL : g->m128_bits + p * words;
                for (int h = 0; h < 2; h++)
                    o.corr[h] = _mm256_sub_epi32(
                        o.corr[h], _mm256_slli_epi32(
                                       _mm256_loadu_si256((const __m256i *)(g->colsum + o.n0 + 8 * h)), 7));
            }
#endif
            for (size_t kb = 0, k0 = 0; kb < nkb; kb++, k0 += KC) {
                size_t kl = kb + 1 == nkb ? g->k - k0 : KC;
                const int8_t *wb = wp + k0 / FFQRT_KR * 64;
                // the next block: the next k, else the next panel's first k
                const int8_t *next = kb + 1 < nkb ? wp + (k0 + KC) / FFQRT_KR * 64
                                     : p + 1 < p1 ? wp + pstride
                                                  : NULL;
                // the kernels and weights of this block: u8 rows as stored, kl / 4 groups and a
                // partial one; or split rows in whole groups, weights clamped here once for the
                // chunk's tiles (a lone tile clamps as it goes)
                ukernel_fn *const *uk = ukernels[g->a_xor != 0];
                const int8_t *wk = wb;
                size_t kg = kl / 4, rest = kl % 4;
#if YMM_U7
                if (s8) {
                    int clamp = ntiles > 1;
                    kg = (kl + FFQRT_KR - 1) / FFQRT_KR, rest = 0;
                    if (clamp)
                        for (size_t i = 0; i < 2 * kg; i++)
                            _mm256_store_si256(
                                (__m256i *)(wclamp + 32 * i),
                                _mm256_max_epi8(_mm256_loadu_si256((const __m256i *)(wb + 32 * i)),
                                                _mm256_set1_epi8(-127)));
                    uk = ukernels_s8[!clamp];
                    wk = clamp ? wclamp : wb;
                }
#endif
                for (size_t t = c0, i = 0; t < c1; t += MR, i++) {
                    size_t mr = c1 - t < MR ? c1 - t : MR, lda = g->lda;
                    const uint8_t *a = g->a + t * lda + k0, *am = NULL;
#if YMM_U7
                    if (s8) {
                        size_t at = (t - c0) * SPLIT_LS;
                        if (nkb > 1) {
                            split_rows(sa, aa, SPLIT_LS, a, lda, mr, kl, flip);
                            at = 0;
                        }
                        a = sa + at, am = aa + at, lda = SPLIT_LS;
                    }
#endif
                    uk[mr - 1](g, &o, t, kb + 1 == nkb, buf + (t - c0) * FFQRT_NR, a, am, lda, wk, wb, kg,
                               rest, kb == 0, next ? next + 64 * i * per : NULL, next ? per : 0, bits,
                               k0 / FFQRT_KR);
                }
            }
        }
    }
}
