// eltwise_avx2.c: AVX2 int8 add / mul with requantization, 16 elements a step.
#include <immintrin.h>

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
                                        _mm256_set1_ps(e->ylo), _mm256_set1_ps(e->yhi)));
}

void ffqrt_elt_run_avx2(const ffqrt_elt *e, size_t i0, size_t i1) {
    size_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        __m128i r = ffqrt_pack16(elt8(e, i), elt8(e, i + 8), e->y_signed);
        _mm_storeu_si128((__m128i *)(e->y + i), r);
    }
    ffqrt_elt_run_ref(e, i, i1);
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
