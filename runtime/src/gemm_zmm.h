// gemm_zmm.h: the output stage of the AVX-512 GEMMs (gemm_avx512vnni.c, gemm_amx.c): int32
// sums of 16 channels of one row -> zero-point correction, scale, bias, and f32 or
// requantized int8 out. Static: each including file compiles it with its own flags.
#ifndef FFQRT_GEMM_ZMM_H
#define FFQRT_GEMM_ZMM_H

#include <immintrin.h>

#include "kernels.h"
#include "simd_avx512.h"

typedef struct panel_out {
    __m512i corr;  // za * colsum
    __m512 scale;  // sa * sw
    __m512 bias;
    __mmask16 mask;  // valid channels
    size_t n0, valid;
} panel_out;

static panel_out panel_consts(const ffqrt_gemm *g, size_t p) {
    panel_out o;
    o.n0 = p * FFQRT_NR;
    o.valid = g->n - o.n0 < FFQRT_NR ? g->n - o.n0 : FFQRT_NR;
    o.mask = (__mmask16)((1u << o.valid) - 1);
    __m512i cs = _mm512_loadu_si512(g->colsum + o.n0);
    o.corr = _mm512_mullo_epi32(_mm512_set1_epi32(g->za), cs);
    o.scale = _mm512_mul_ps(_mm512_set1_ps(g->sa), _mm512_loadu_ps(g->wscale + o.n0));
    o.bias = g->bias ? _mm512_maskz_loadu_ps(o.mask, g->bias + o.n0) : _mm512_setzero_ps();
    return o;
}

// Strided outputs (conv2d writes channel-major): element by element, out of line.
static __attribute__((noinline)) void store_strided(const ffqrt_gemm *g, const panel_out *o, __m512i c,
                                                    size_t m) {
    int32_t v[FFQRT_NR];
    _mm512_storeu_si512(v, c);
    for (size_t j = 0; j < o->valid; j++) {
        float f = ffqrt_gemm_real(g, v[j], o->n0 + j);
        size_t at = m * g->ldy_m + (o->n0 + j) * g->ldy_n;
        if (g->out_kind == FFQRT_OUT_F32) ((float *)g->y)[at] = f;
        else ((uint8_t *)g->y)[at] = (uint8_t)(int32_t)ffqrt_qf(f, g->sy, g->zy, g->ylo, g->yhi);
    }
}

// The output stage of 16 channels of row m.
static inline __attribute__((always_inline)) void store_row(const ffqrt_gemm *g, const panel_out *o,
                                                            __m512i acc, size_t m) {
    __m512i c = _mm512_sub_epi32(acc, o->corr);
    if (g->rowcorr) c = _mm512_sub_epi32(c, _mm512_set1_epi32(g->rowcorr[m]));
    if (g->ldy_n != 1) {
        store_strided(g, o, c, m);
        return;
    }
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(c), o->scale);
    if (g->bias) v = _mm512_add_ps(v, o->bias);
    size_t at = m * g->ldy_m + o->n0;
    if (g->out_kind == FFQRT_OUT_F32) {
        _mm512_mask_storeu_ps((float *)g->y + at, o->mask, v);
        return;
    }
    __m512 q = ffqrt_qf16(v, ffqrt_div16_of(g->sy, g->ry), _mm512_set1_ps(g->zy), _mm512_set1_ps(g->ylo),
                          _mm512_set1_ps(g->yhi), (int32_t)g->zy & 1);
    _mm_mask_storeu_epi8((uint8_t *)g->y + at, o->mask, ffqrt_bytes16(q, g->out_kind == FFQRT_OUT_S8));
}

#endif  // FFQRT_GEMM_ZMM_H
