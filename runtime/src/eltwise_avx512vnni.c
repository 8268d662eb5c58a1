// eltwise_avx512vnni.c: AVX-512 int8 add / mul with requantization, 16 elements a step.
#include <immintrin.h>

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
    size_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        __m512 fa = dq16(e->a + i, e->a_signed, e->za, e->sa);
        __m512 fb = dq16(e->b + i, e->b_signed, e->zb, e->sb);
        __m512 v = e->op == FFQRT_ELT_ADD ? _mm512_add_ps(fa, fb) : _mm512_mul_ps(fa, fb);
        _mm_storeu_si128((__m128i *)(e->y + i), ffqrt_bytes16(ffqrt_qf16(v, s, z, lo, hi), e->y_signed));
    }
    ffqrt_elt_run_ref(e, i, i1);
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
