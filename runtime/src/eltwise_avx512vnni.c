// eltwise_avx512vnni.c: AVX-512 int8 add / mul with requantization, 16 elements a step.
#include <immintrin.h>
#include <string.h>

#include "kernels.h"
#include "simd_avx512.h"

// (float)(q - z) * s for 16 bytes.
static inline __m512 dq16(const uint8_t *q, int is_signed, int32_t z, float s) {
    __m128i b = _mm_loadu_si128((const __m128i *)q);
    __m512i v = is_signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(v, _mm512_set1_epi32(z))), _mm512_set1_ps(s));
}

void ffqrt_elt_run_avx512vnni(const ffqrt_elt *e, size_t i0, size_t i1) {
    const ffqrt_div16 s = ffqrt_div16_of(e->sy, e->ry);
    const __m512 z = _mm512_set1_ps(e->zy);
    const __m512 lo = _mm512_set1_ps(e->ylo), hi = _mm512_set1_ps(e->yhi);
    const int z_odd = (int32_t)e->zy & 1;
    size_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        __m512 fa = dq16(e->a + i, e->a_signed, e->za, e->sa);
        __m512 fb = dq16(e->b + i, e->b_signed, e->zb, e->sb);
        __m512 v = e->op == FFQRT_ELT_ADD ? _mm512_add_ps(fa, fb) : _mm512_mul_ps(fa, fb);
        _mm_storeu_si128((__m128i *)(e->y + i),
                         ffqrt_bytes16(ffqrt_qf16(v, s, z, lo, hi, z_odd), e->y_signed));
    }
    ffqrt_elt_run_ref(e, i, i1);
}

void ffqrt_affine_f32_avx512vnni(float *restrict y, const int8_t *restrict x, size_t n, float s, int32_t z,
                                 const float *restrict a, const float *restrict b, int step) {
    const __m512 vs = _mm512_set1_ps(s);
    const __m512i vz = _mm512_set1_epi32(z);
    __m512 va = _mm512_set1_ps(a[0]), vb = _mm512_set1_ps(b[0]);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i v = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(x + i)));
        __m512 d = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(v, vz)), vs);
        if (step) va = _mm512_loadu_ps(a + i), vb = _mm512_loadu_ps(b + i);
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(d, va, vb));
    }
    if (i < n) {  // the last n - i < 16, masked (the same fused multiply-add as fmaf)
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512i v = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, x + i));
        __m512 d = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(v, vz)), vs);
        if (step) va = _mm512_maskz_loadu_ps(m, a + i), vb = _mm512_maskz_loadu_ps(m, b + i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(d, va, vb));
    }
}

void ffqrt_gather_f32_avx512vnni(float *restrict y, const float *restrict e, const uint8_t *restrict x,
                                 size_t n, uint8_t top, uint8_t flip) {
    const __m512i vt = _mm512_set1_epi32(top);
    const __m128i f = _mm_set1_epi8((char)flip);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + i)), f);
        _mm512_storeu_ps(y + i, _mm512_i32gather_ps(_mm512_sub_epi32(vt, _mm512_cvtepu8_epi32(b)), e, 4));
    }
    ffqrt_gather_f32_ref(y + i, e, x + i, n - i, top, flip);
}

// ---- float activations: ffqrt_act1's operations (kernels.h) on U vectors of 16 ----
//
// Each value is one chain of dependent operations (about 70 cycles of latency); U
// independent chains side by side keep the FMA units busy.

enum { U = 4 };
#define EACH _Pragma("GCC unroll 4") for (int u = 0; u < U; u++)

static inline void exp16(__m512 *v) {
    __m512 n[U], r[U], p[U];
    EACH n[u] = _mm512_roundscale_ps(_mm512_mul_ps(v[u], _mm512_set1_ps(FFQRT_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    EACH r[u] = _mm512_fnmadd_ps(n[u], _mm512_set1_ps(FFQRT_LN2_HI), v[u]);
    EACH r[u] = _mm512_fnmadd_ps(n[u], _mm512_set1_ps(FFQRT_LN2_LO), r[u]);
    EACH p[u] = _mm512_fmadd_ps(_mm512_set1_ps(FFQRT_EXP_C7), r[u], _mm512_set1_ps(FFQRT_EXP_C6));
    EACH p[u] = _mm512_fmadd_ps(p[u], r[u], _mm512_set1_ps(FFQRT_EXP_C5));
    EACH p[u] = _mm512_fmadd_ps(p[u], r[u], _mm512_set1_ps(FFQRT_EXP_C4));
    EACH p[u] = _mm512_fmadd_ps(p[u], r[u], _mm512_set1_ps(FFQRT_EXP_C3));
    EACH p[u] = _mm512_fmadd_ps(p[u], r[u], _mm512_set1_ps(FFQRT_EXP_C2));
    EACH p[u] = _mm512_fmadd_ps(p[u], r[u], _mm512_set1_ps(1.0f));
    EACH p[u] = _mm512_fmadd_ps(p[u], r[u], _mm512_set1_ps(1.0f));
    EACH {
        __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n[u]), _mm512_set1_epi32(127)), 23);
        v[u] = _mm512_mul_ps(p[u], _mm512_castsi512_ps(e));
    }
}

static inline __m512 clamp16(__m512 v, float lo, float hi) {
    return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(lo)), _mm512_set1_ps(hi));
}

// x < bound (ordered) gives -0.
static inline __m512 zero_below16(__m512 y, __m512 x, float bound) {
    __mmask16 m = _mm512_cmp_ps_mask(x, _mm512_set1_ps(bound), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(m, y, _mm512_set1_ps(-0.0f));
}

// x / (1 + exp(v)), -0 below the bound.
static inline void by_exp16(__m512 *y, const __m512 *x, __m512 *v, float bound) {
    exp16(v);
    EACH y[u] = zero_below16(_mm512_div_ps(x[u], _mm512_add_ps(_mm512_set1_ps(1.0f), v[u])), x[u], bound);
}

static inline void gelu_tanh16(__m512 *y, const __m512 *x) {
    __m512 v[U];
    EACH {
        __m512 w = _mm512_fmadd_ps(_mm512_set1_ps(FFQRT_GELU_TANH_K), _mm512_mul_ps(x[u], x[u]),
                                   _mm512_set1_ps(1.0f));
        v[u] = clamp16(_mm512_mul_ps(_mm512_mul_ps(x[u], w), _mm512_set1_ps(FFQRT_GELU_TANH_M2C)),
                       FFQRT_EXP_LO, FFQRT_EXP_HI);
    }
    by_exp16(y, x, v, FFQRT_GELU_TANH_ZERO);
}

// Whole batches of 16 U values, then the rest through a zero-padded copy (the same
// operations: the same bits as the reference).
void ffqrt_act_run_avx512vnni(float *y, const float *x, size_t n, int act) {
    (void)act;  // FFQRT_ACT_GELU_TANH, the only one
    size_t i = 0;
    __m512 xv[U], yv[U];
    for (; i + 16 * U <= n; i += 16 * U) {
        EACH xv[u] = _mm512_loadu_ps(x + i + 16 * u);
        gelu_tanh16(yv, xv);
        EACH _mm512_storeu_ps(y + i + 16 * u, yv[u]);
    }
    if (i < n) {
        float buf[16 * U] = {0};
        memcpy(buf, x + i, (n - i) * sizeof(float));
        EACH xv[u] = _mm512_loadu_ps(buf + 16 * u);
        gelu_tanh16(yv, xv);
        EACH _mm512_storeu_ps(buf + 16 * u, yv[u]);
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
}
