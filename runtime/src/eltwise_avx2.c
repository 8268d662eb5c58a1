// eltwise_avx2.c: AVX2 int8 add / mul with requantization, 16 elements a step.
#include <immintrin.h>
#include <string.h>

#include "kernels.h"
#include "simd_avx2.h"

// (float)(q - z) * s for 8 bytes.
static inline __m256 dq8(const uint8_t *q, int is_signed, __m256i z, __m256 s) {
    __m128i b = _mm_loadl_epi64((const __m128i *)q);
    __m256i v = is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, z)), s);
}

static inline __m256i elt8(const ffqrt_elt *e, size_t i) {
    __m256 fa = dq8(e->a + i, e->a_signed, _mm256_set1_epi32(e->za), _mm256_set1_ps(e->sa));
    __m256 fb = dq8(e->b + i, e->b_signed, _mm256_set1_epi32(e->zb), _mm256_set1_ps(e->sb));
    __m256 v = e->op == FFQRT_ELT_ADD ? _mm256_add_ps(fa, fb) : _mm256_mul_ps(fa, fb);
    return _mm256_cvtps_epi32(ffqrt_qf8(v, _mm256_set1_ps(e->sy), _mm256_set1_ps(e->zy),
                                        _mm256_set1_ps(e->ylo), _mm256_set1_ps(e->yhi), (int32_t)e->zy & 1));
}

void ffqrt_elt_run_avx2(const ffqrt_elt *e, size_t i0, size_t i1) {
    size_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        __m128i r = ffqrt_pack16(elt8(e, i), elt8(e, i + 8), e->y_signed);
        _mm_storeu_si128((__m128i *)(e->y + i), r);
    }
    ffqrt_elt_run_ref(e, i, i1);
}

void ffqrt_affine_f32_avx2(float *restrict y, const int8_t *restrict x, size_t n, float s, int32_t z,
                           const float *restrict a, const float *restrict b, int step) {
    const __m256 vs = _mm256_set1_ps(s);
    const __m256i vz = _mm256_set1_epi32(z);
    __m256 va = _mm256_set1_ps(a[0]), vb = _mm256_set1_ps(b[0]);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(x + i)));
        __m256 d = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, vz)), vs);
        if (step) va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(d, va, vb));
    }
    if (i < n) ffqrt_affine_f32_ref(y + i, x + i, n - i, s, z, step ? a + i : a, step ? b + i : b, step);
}

void ffqrt_gather_f32_avx2(float *restrict y, const float *restrict e, const uint8_t *restrict x, size_t n,
                           uint8_t top, uint8_t flip) {
    const __m256i vt = _mm256_set1_epi32(top);
    const __m128i f = _mm_set1_epi8((char)flip);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i b = _mm_xor_si128(_mm_loadl_epi64((const __m128i *)(x + i)), f);
        _mm256_storeu_ps(y + i, _mm256_i32gather_ps(e, _mm256_sub_epi32(vt, _mm256_cvtepu8_epi32(b)), 4));
    }
    ffqrt_gather_f32_ref(y + i, e, x + i, n - i, top, flip);
}

// ---- float activations: ffqrt_act1's operations (kernels.h) on U vectors of 8 ----
//
// Each value is one chain of dependent operations (about 70 cycles of latency); U
// independent chains side by side keep the FMA units busy.

enum { U = 4 };
#define EACH _Pragma("GCC unroll 4") for (int u = 0; u < U; u++)

static inline void exp8(__m256 *v) {
    __m256 n[U], r[U], p[U];
    EACH n[u] = _mm256_round_ps(_mm256_mul_ps(v[u], _mm256_set1_ps(FFQRT_LOG2E)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    EACH r[u] = _mm256_fnmadd_ps(n[u], _mm256_set1_ps(FFQRT_LN2_HI), v[u]);
    EACH r[u] = _mm256_fnmadd_ps(n[u], _mm256_set1_ps(FFQRT_LN2_LO), r[u]);
    EACH p[u] = _mm256_fmadd_ps(_mm256_set1_ps(FFQRT_EXP_C7), r[u], _mm256_set1_ps(FFQRT_EXP_C6));
    EACH p[u] = _mm256_fmadd_ps(p[u], r[u], _mm256_set1_ps(FFQRT_EXP_C5));
    EACH p[u] = _mm256_fmadd_ps(p[u], r[u], _mm256_set1_ps(FFQRT_EXP_C4));
    EACH p[u] = _mm256_fmadd_ps(p[u], r[u], _mm256_set1_ps(FFQRT_EXP_C3));
    EACH p[u] = _mm256_fmadd_ps(p[u], r[u], _mm256_set1_ps(FFQRT_EXP_C2));
    EACH p[u] = _mm256_fmadd_ps(p[u], r[u], _mm256_set1_ps(1.0f));
    EACH p[u] = _mm256_fmadd_ps(p[u], r[u], _mm256_set1_ps(1.0f));
    EACH {
        __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n[u]), _mm256_set1_epi32(127)), 23);
        v[u] = _mm256_mul_ps(p[u], _mm256_castsi256_ps(e));
    }
}

static inline __m256 clamp8(__m256 v, float lo, float hi) {
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(lo)), _mm256_set1_ps(hi));
}

// x / (1 + exp(v)), -0 where x < bound (ordered).
static inline void by_exp8(__m256 *y, const __m256 *x, __m256 *v, float bound) {
    exp8(v);
    EACH {
        __m256 q = _mm256_div_ps(x[u], _mm256_add_ps(_mm256_set1_ps(1.0f), v[u]));
        __m256 m = _mm256_cmp_ps(x[u], _mm256_set1_ps(bound), _CMP_LT_OQ);
        y[u] = _mm256_blendv_ps(q, _mm256_set1_ps(-0.0f), m);
    }
}

static inline void gelu_tanh8(__m256 *y, const __m256 *x) {
    __m256 v[U];
    EACH {
        __m256 w = _mm256_fmadd_ps(_mm256_set1_ps(FFQRT_GELU_TANH_K), _mm256_mul_ps(x[u], x[u]),
                                   _mm256_set1_ps(1.0f));
        v[u] = clamp8(_mm256_mul_ps(_mm256_mul_ps(x[u], w), _mm256_set1_ps(FFQRT_GELU_TANH_M2C)),
                      FFQRT_EXP_LO, FFQRT_EXP_HI);
    }
    by_exp8(y, x, v, FFQRT_GELU_TANH_ZERO);
}

// Whole batches of 8 U values, then the rest through a zero-padded copy (the same
// operations: the same bits as the reference).
void ffqrt_act_run_avx2(float *y, const float *x, size_t n, int act) {
    (void)act;  // FFQRT_ACT_GELU_TANH, the only one
    size_t i = 0;
    __m256 xv[U], yv[U];
    for (; i + 8 * U <= n; i += 8 * U) {
        EACH xv[u] = _mm256_loadu_ps(x + i + 8 * u);
        gelu_tanh8(yv, xv);
        EACH _mm256_storeu_ps(y + i + 8 * u, yv[u]);
    }
    if (i < n) {
        float buf[8 * U] = {0};
        memcpy(buf, x + i, (n - i) * sizeof(float));
        EACH xv[u] = _mm256_loadu_ps(buf + 8 * u);
        gelu_tanh8(yv, xv);
        EACH _mm256_storeu_ps(buf + 8 * u, yv[u]);
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
}
