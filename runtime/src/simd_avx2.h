// simd_avx2.h: AVX2 helpers shared by the *_avx2.c files (each compiled with -mavx2).
#ifndef FFQRT_SIMD_AVX2_H
#define FFQRT_SIMD_AVX2_H

#include <immintrin.h>

// A divisor for ffqrt_qf8: s and r = ffqrt_recip(s) (0: divide).
typedef struct ffqrt_div8 {
    __m256 s, r;
    int fast;
} ffqrt_div8;

static inline ffqrt_div8 ffqrt_div8_of(float s, float r) {
    ffqrt_div8 d = {_mm256_set1_ps(s), _mm256_set1_ps(r), r != 0.0f};
    return d;
}

// x / s on 8 floats, rounded exactly as the division rounds: the method of
// ffqrt_div16_apply in simd_avx512.h (product, two fma corrections, the product itself
// where |x * r| >= 2^23 or not finite).
static inline __m256 ffqrt_div8_apply(__m256 x, ffqrt_div8 d) {
    if (!d.fast) return _mm256_div_ps(x, d.s);
    __m256 y = _mm256_mul_ps(x, d.r);
    __m256 y1 = _mm256_fmadd_ps(_mm256_fnmadd_ps(y, d.s, x), d.r, y);
    __m256 q = _mm256_fmadd_ps(_mm256_fnmadd_ps(y1, d.s, x), d.r, y1);
    __m256 ay = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), y);
    return _mm256_blendv_ps(y, q, _mm256_cmp_ps(ay, _mm256_set1_ps(0x1p23f), _CMP_LT_OQ));
}

// clamp(round_half_even(x / s + z), lo, hi) on 8 floats; the reference's ffqrt_qf.
static inline __m256 ffqrt_qf8(__m256 x, ffqrt_div8 d, __m256 z, __m256 lo, __m256 hi) {
    __m256 v = _mm256_add_ps(ffqrt_div8_apply(x, d), z);
    v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_min_ps(_mm256_max_ps(v, lo), hi);
}

// 16 int32 already within the byte range -> 16 bytes in order.
static inline __m128i ffqrt_pack16(__m256i a, __m256i b, int is_signed) {
    __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
    __m128i lo = _mm256_castsi256_si128(p), hi = _mm256_extracti128_si256(p, 1);
    return is_signed ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi);
}

#endif  // FFQRT_SIMD_AVX2_H
