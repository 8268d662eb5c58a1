// gemm_avx512vnni.c: AVX-512 VNNI GEMM over the packed panels (layout.h). One 64-byte
// weight group is one zmm: vpdpbusd multiplies 4 u8 activations (broadcast as an int32)
// by 16 outputs x 4 s8 weights and adds into int32 without intermediate saturation, so
// any u8 activation is exact.
//
// Blocking: rows in chunks of MC (their activations stay in L2 while the panels pass),
// output channels in blocks of NP panels (64 channels; the last block may have fewer), k
// in blocks of KC (a weight block of 64 x KC bytes stays in L1 while every row tile of the
// chunk passes over it; KC_SMALL for short chunks). The micro-kernel holds MR rows x NP
// zmm accumulators (24 of the 32 registers) and adds one k-block into an int32 buffer on
// the stack; in the last k-block the sums go from the registers through the output stage
// instead. Up to 2 rows (the GEMV case) it keeps two accumulator sets, for even and odd
// k-groups, so enough independent vpdpbusd chains are in flight to stream the weights.
#include <immintrin.h>
#include <string.h>

#include "gemm_zmm.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))
#define UNROLL        _Pragma("GCC unroll 16")

// KC: k per block for chunks of at least KC_ROWS rows, KC_SMALL below (fewer tiles share
// a block, so a shorter one streams better).
enum { MR = 6, NP = 4, NC = NP * FFQRT_NR, KC = 512, KC_SMALL = 256, KC_ROWS = 64, MC = 192 };
static_assert(KC % FFQRT_KR == 0 && KC_SMALL % FFQRT_KR == 0 && MC % MR == 0,
              "blocks are whole groups and tiles");

static ALWAYS_INLINE __m512i bcast4(const uint8_t *p, const int xor80) {
    int32_t v;
    memcpy(&v, p, 4);
    __m512i a = _mm512_set1_epi32(v);
    return xor80 ? _mm512_xor_si512(a, _mm512_set1_epi8((char)0x80)) : a;
}

// The first n (<= 4) bytes at p, then zeros (padding bytes meet zero weights), as bcast4;
// assembled in a register (a copy through memory would stall the store forwarding).
static ALWAYS_INLINE __m512i bcast_part(const uint8_t *p, size_t n, const int xor80) {
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint32_t)p[i] << (8 * i);
    if (xor80) v ^= 0x80808080u;
    return _mm512_set1_epi32((int32_t)v);
}

// buf[r][NC] (+)= dot of rows a + r * lda (kg full groups, then `rest` bytes) with np
// panels starting at w (panel j at w + j * pstride). first: buf is overwritten. last: the
// sums go through the output stage of rows m0 + r (panel constants po[j]) instead. The
// weight lines of npf k-groups from pf on (same panels) are prefetched into L2 meanwhile,
// one k-group per step: the tiles of a chunk share out the next weight block this way.
static ALWAYS_INLINE void ukernel(const ffqrt_gemm *gm, const panel_out *po, size_t m0, int last,
                                  int32_t *buf, const uint8_t *a, size_t lda, const int8_t *w, size_t pstride,
                                  size_t kg, size_t rest, int first, const int8_t *pf, size_t npf,
                                  const size_t mr, const size_t np, const int xor80) {
    enum { KS = 2 };
    const size_t ks = mr <= 2 ? 2 : 1;
    __m512i c[KS][MR][NP];
    UNROLL for (size_t s = 0; s < ks; s++) UNROLL for (size_t r = 0; r < mr; r++)
        UNROLL for (size_t j = 0; j < np; j++) c[s][r][j] = _mm512_setzero_si512();
    size_t g = 0;
    for (; g + ks <= kg; g += ks) {
        if (g < npf)
            UNROLL for (size_t j = 0; j < np; j++)
                _mm_prefetch((const char *)(pf + j * pstride + 64 * g), _MM_HINT_T1);
        UNROLL for (size_t s = 0; s < ks; s++) {
            __m512i wv[NP];
            UNROLL for (size_t j = 0; j < np; j++) wv[j] = _mm512_loadu_si512(w + j * pstride + 64 * (g + s));
            UNROLL for (size_t r = 0; r < mr; r++) {
                __m512i b = bcast4(a + r * lda + 4 * (g + s), xor80);
                UNROLL for (size_t j = 0; j < np; j++) c[s][r][j] = _mm512_dpbusd_epi32(c[s][r][j], b, wv[j]);
            }
        }
    }
    for (; g < kg + (rest != 0); g++) {  // an odd last group, then the partial one
        __m512i wv[NP];
        UNROLL for (size_t j = 0; j < np; j++) wv[j] = _mm512_loadu_si512(w + j * pstride + 64 * g);
        UNROLL for (size_t r = 0; r < mr; r++) {
            __m512i b = bcast_part(a + r * lda + 4 * g, g < kg ? 4 : rest, xor80);
            UNROLL for (size_t j = 0; j < np; j++) c[0][r][j] = _mm512_dpbusd_epi32(c[0][r][j], b, wv[j]);
        }
    }
    UNROLL for (size_t r = 0; r < mr; r++) UNROLL for (size_t j = 0; j < np; j++) {
        __m512i v = ks == 2 ? _mm512_add_epi32(c[0][r][j], c[1][r][j]) : c[0][r][j];
        int32_t *dst = buf + r * NC + 16 * j;
        if (!first) v = _mm512_add_epi32(v, _mm512_loadu_si512(dst));
        if (last) store_row(gm, &po[j], v, m0 + r);
        else _mm512_storeu_si512(dst, v);
    }
}

typedef void ukernel_fn(const ffqrt_gemm *gm, const panel_out *po, size_t m0, int last, int32_t *buf,
                        const uint8_t *a, size_t lda, const int8_t *w, size_t pstride, size_t kg, size_t rest,
                        int first, const int8_t *pf, size_t npf);

#define UK(mr, np, x)                                                                                        \
    static void uk_##mr##_##np##_##x(const ffqrt_gemm *gm, const panel_out *po, size_t m0, int last,         \
                                     int32_t *buf, const uint8_t *a, size_t lda, const int8_t *w,            \
                                     size_t pstride, size_t kg, size_t rest, int first, const int8_t *pf,    \
                                     size_t npf) {                                                           \
        ukernel(gm, po, m0, last, buf, a, lda, w, pstride, kg, rest, first, pf, npf, mr, np, x);             \
    }
#define UK_NP(np, x) UK(1, np, x) UK(2, np, x) UK(3, np, x) UK(4, np, x) UK(5, np, x) UK(6, np, x)
// Macro instantiations without semicolons: laid out by hand.
// clang-format off
UK_NP(1, 0) UK_NP(2, 0) UK_NP(3, 0) UK_NP(4, 0)
UK_NP(1, 1) UK_NP(2, 1) UK_NP(3, 1) UK_NP(4, 1)
#define ROW(np, x) \
    { uk_1_##np##_##x, uk_2_##np##_##x, uk_3_##np##_##x, uk_4_##np##_##x, uk_5_##np##_##x, uk_6_##np##_##x }
// [xor80][np - 1][mr - 1]
static ukernel_fn *const ukernels[2][4][6] = {{ROW(1, 0), ROW(2, 0), ROW(3, 0), ROW(4, 0)},
                                              {ROW(1, 1), ROW(2, 1), ROW(3, 1), ROW(4, 1)}};
// clang-format on
static_assert(MR == 6 && NP == 4, "the table covers 6 rows x 4 panels");

void ffqrt_gemm_panels_avx512vnni(const ffqrt_gemm *g, size_t p0, size_t p1, size_t m0, size_t m1) {
    _Alignas(64) int32_t buf[MC * NC];
    size_t pstride = g->k_pad / FFQRT_KR * sizeof(ffqrt_wgroup);
    int x = g->a_xor != 0;
    for (size_t c0 = m0; c0 < m1; c0 += MC) {
        size_t c1 = m1 - c0 < MC ? m1 : c0 + MC;
        size_t kc = c1 - c0 >= KC_ROWS ? KC : KC_SMALL, nkb = g->k ? (g->k + kc - 1) / kc : 1;
        for (size_t pb = p0, np; pb < p1; pb += np) {
            np = p1 - pb >= NP ? NP : p1 - pb;
            ukernel_fn *const *uk = ukernels[x][np - 1];
            const int8_t *wb = g->groups + pb * pstride;
            panel_out po[NP];
            for (size_t j = 0; j < np; j++) po[j] = panel_consts(g, pb + j);
            for (size_t kb = 0, k0 = 0; kb < nkb; kb++, k0 += kc) {
                size_t kl = g->k - k0 < kc ? g->k - k0 : kc;
                // the tiles share out the prefetch of the next block: the next k, else the next
                // panels' first k (np panels of it, at most what it has)
                const int8_t *next = kb + 1 < nkb   ? wb + (k0 + kc) / FFQRT_KR * 64
                                     : pb + np < p1 ? wb + np * pstride
                                                    : NULL;
                size_t ntiles = (c1 - c0 + MR - 1) / MR, per = (kc / FFQRT_KR + ntiles - 1) / ntiles;
                for (size_t t = c0, i = 0; t < c1; t += MR, i++) {
                    size_t mr = c1 - t < MR ? c1 - t : MR;
                    uk[mr - 1](g, po, t, kb + 1 == nkb, buf + (t - c0) * NC, g->a + t * g->lda + k0, g->lda,
                               wb + k0 / FFQRT_KR * 64, pstride, kl / 4, kl % 4, kb == 0,
                               next ? next + 64 * i * per : NULL, next ? per : 0);
                }
            }
        }
    }
}
