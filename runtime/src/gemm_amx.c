// gemm_amx.c: the int8 GEMM on AMX tiles (Intel AMX-INT8), over the same packed panels
// (layout.h) as every other variant; the output stage is gemm_zmm.h's.
//
// A tile is 16 rows x 64 bytes. tdpbusd multiplies an A tile (16 rows x 64 u8 activations)
// by a B tile (16 rows of 4 k-values x 16 outputs, s8) into a C tile of 16 x 16 int32,
// exactly. A B tile is 16 consecutive 64-byte groups of one panel: the packed layout as it
// is, so weights are read in place. Raw s8 activations (a_xor) go through tdpbssd instead
// (s8 x s8), which sums a * w where the panels' zero-point correction expects
// (a + 128) * w: 128 * colsum comes off the correction.
//
// Blocking: rows in chunks of MC; per chunk, output channels two panels at a time; per
// panel pair, row tiles two at a time: up to 2 x 2 C tiles (tmm0-3) accumulate over the
// whole of k from A tiles (tmm4-5) read straight from the activations and B tiles (tmm6-7)
// read from the panels, then go through a buffer on the stack to the output stage. The
// last k-step, when k is not a multiple of 64, reads both from zero-padded copies (a
// tile read may not run past the rows or the panel). Rows short of a 16-row tile go to
// the AVX-512 VNNI GEMM.
//
// Every thread configures its tiles on entry and releases them on return (a thread
// holding tile state makes every context switch save 8 KiB more).
#include <immintrin.h>
#include <string.h>

#include "gemm_zmm.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

enum { TM = 16, TK = 64, MC = 192, NC = 2 * FFQRT_NR };
static_assert(MC % (2 * TM) == 0, "a chunk is whole pairs of row tiles");
static_assert(TK / FFQRT_KR * sizeof(ffqrt_wgroup) == 1024, "a B tile is 16 groups");

typedef struct tile_config {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;
static_assert(sizeof(tile_config) == 64, "the tile configuration is 64 bytes");

// C tiles tmm0 (rows 0-15, panel 0), tmm1 (rows 0-15, panel 1), tmm2, tmm3 (rows 16-31);
// A tiles tmm4, tmm5; B tiles tmm6, tmm7. Every tile 16 x 64 bytes.
static void configure(void) {
    _Alignas(64) tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 8; t++) {
        c.colsb[t] = TK;
        c.rows[t] = TM;
    }
    _tile_loadconfig(&c);
}

#define DOT(c, a, b)                                                                                         \
    do {                                                                                                     \
        if (sgn) _tile_dpbssd(c, a, b);                                                                      \
        else _tile_dpbusd(c, a, b);                                                                          \
    } while (0)

// One k-step: A tiles at a (rows lda apart), B tiles at b0 / b1 (64 bytes apart).
static ALWAYS_INLINE void step(const uint8_t *a, size_t lda, const int8_t *b0, const int8_t *b1, const int ma,
                               const int nb, const int sgn) {
    _tile_loadd(6, b0, TK);
    if (nb > 1) _tile_loadd(7, b1, TK);
    _tile_loadd(4, a, lda);
    DOT(0, 4, 6);
    if (nb > 1) DOT(1, 4, 7);
    if (ma > 1) {
        _tile_loadd(5, a + TM * lda, lda);
        DOT(2, 5, 6);
        if (nb > 1) DOT(3, 5, 7);
    }
}

// buf[r][NC] = sums of ma row tiles at a x nb panels at w0 / w1: `steps` full k-steps, then
// the zero-padded last one from ta (rows TK apart) and tb0 / tb1 when ta is not NULL.
static ALWAYS_INLINE void block(int32_t *buf, const uint8_t *a, size_t lda, const int8_t *w0,
                                const int8_t *w1, size_t steps, const uint8_t *ta, const int8_t *tb0,
                                const int8_t *tb1, const int ma, const int nb, const int sgn) {
    _tile_zero(0);
    if (nb > 1) _tile_zero(1);
    if (ma > 1) _tile_zero(2);
    if (ma > 1 && nb > 1) _tile_zero(3);
    for (size_t s = 0; s < steps; s++) step(a + s * TK, lda, w0 + s * 1024, w1 + s * 1024, ma, nb, sgn);
    if (ta) step(ta, TK, tb0, tb1, ma, nb, sgn);
    const size_t ld = NC * sizeof(int32_t);
    _tile_stored(0, buf, ld);
    if (nb > 1) _tile_stored(1, buf + FFQRT_NR, ld);
    if (ma > 1) _tile_stored(2, buf + TM * NC, ld);
    if (ma > 1 && nb > 1) _tile_stored(3, buf + TM * NC + FFQRT_NR, ld);
}

typedef void block_fn(int32_t *buf, const uint8_t *a, size_t lda, const int8_t *w0, const int8_t *w1,
                      size_t steps, const uint8_t *ta, const int8_t *tb0, const int8_t *tb1);

#define BLOCK(ma, nb, sgn)                                                                                   \
    static void block_##ma##_##nb##_##sgn(int32_t *buf, const uint8_t *a, size_t lda, const int8_t *w0,      \
                                          const int8_t *w1, size_t steps, const uint8_t *ta,                 \
                                          const int8_t *tb0, const int8_t *tb1) {                            \
        block(buf, a, lda, w0, w1, steps, ta, tb0, tb1, ma, nb, sgn);                                        \
    }
// clang-format off
BLOCK(1, 1, 0) BLOCK(1, 2, 0) BLOCK(2, 1, 0) BLOCK(2, 2, 0)
BLOCK(1, 1, 1) BLOCK(1, 2, 1) BLOCK(2, 1, 1) BLOCK(2, 2, 1)
// [sgn][ma - 1][nb - 1]
static block_fn *const blocks[2][2][2] = {{{block_1_1_0, block_1_2_0}, {block_2_1_0, block_2_2_0}},
                                          {{block_1_1_1, block_1_2_1}, {block_2_1_1, block_2_2_1}}};
// clang-format on

void ffqrt_gemm_panels_amx(const ffqrt_gemm *g, size_t p0, size_t p1, size_t m0, size_t m1) {
    size_t full = (m1 - m0) / TM * TM;  // rows in whole tiles
    if (full && p0 < p1) {
        _Alignas(64) int32_t buf[2 * TM * NC];
        _Alignas(64) uint8_t tail_a[MC * TK];  // the chunk's rows past the last full k-step
        _Alignas(64) int8_t tail_b[2][TK / FFQRT_KR * sizeof(ffqrt_wgroup)];  // the panels' groups there
        const int sgn = g->a_xor != 0;
        size_t pstride = g->k_pad / FFQRT_KR * sizeof(ffqrt_wgroup);
        size_t steps = g->k / TK, kt = g->k - steps * TK;  // full k-steps, bytes in the last one
        size_t tail_groups = (g->k_pad - steps * TK) / FFQRT_KR;
        configure();
        for (size_t c0 = m0; c0 < m0 + full; c0 += MC) {
            size_t c1 = m0 + full - c0 < MC ? m0 + full : c0 + MC;
            if (kt) {
                memset(tail_a, 0, (c1 - c0) * TK);
                for (size_t r = c0; r < c1; r++)
                    memcpy(tail_a + (r - c0) * TK, g->a + r * g->lda + steps * TK, kt);
            }
            for (size_t pb = p0, nb; pb < p1; pb += nb) {
                nb = p1 - pb >= 2 ? 2 : 1;
                const int8_t *w[2] = {g->groups + pb * pstride, g->groups + (pb + nb - 1) * pstride};
                panel_out po[2];
                for (size_t j = 0; j < nb; j++) {
                    po[j] = panel_consts(g, pb + j);
                    if (sgn)  // tdpbssd sums a * w: the (a + 128) * w the correction expects, less 128 *
                              // colsum
                        po[j].corr = _mm512_sub_epi32(
                            po[j].corr, _mm512_slli_epi32(_mm512_loadu_si512(g->colsum + po[j].n0), 7));
                    if (kt) {
                        memset(tail_b[j], 0, sizeof tail_b[j]);
                        memcpy(tail_b[j], w[j] + steps * 1024, tail_groups * sizeof(ffqrt_wgroup));
                    }
                }
                for (size_t t = c0; t < c1; t += 2 * TM) {
                    size_t ma = c1 - t >= 2 * TM ? 2 : 1;
                    blocks[sgn][ma - 1][nb - 1](buf, g->a + t * g->lda, g->lda, w[0], w[1], steps,
                                                kt ? tail_a + (t - c0) * TK : NULL, tail_b[0], tail_b[1]);
                    for (size_t r = 0; r < ma * TM; r++)
                        for (size_t j = 0; j < nb; j++)
                            store_row(g, &po[j], _mm512_load_si512(buf + r * NC + j * FFQRT_NR), t + r);
                }
            }
        }
        _tile_release();
    }
    if (m0 + full < m1) ffqrt_gemm_panels_avx512vnni(g, p0, p1, m0 + full, m1);
}
