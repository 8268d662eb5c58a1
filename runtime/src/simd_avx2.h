// simd_avx2.h: AVX2 helpers shared by the *_avx2.c files (each compiled with -mavx2).
#ifndef FFQRT_SIMD_AVX2_H
#define FFQRT_SIMD_AVX2_H

#include <immintrin.h>

// The rounding mode of _mm*_round_ps (a constant expression, as clang requires).
#ifndef FFQRT_NEAREST
#define FFQRT_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#endif

// clamp(round_half_even(x / s + z), lo, hi) on 8 floats, the rounding exact; the
// reference's ffqrt_qf (round(v) + z, at exact ties of v the half-integer v + z rounded).
// z_odd: whether the integer z is odd; an even z keeps the parity of round(v), so ties need
// no second rounding then.
static inline __m256 ffqrt_qf8(__m256 x, __m256 s, __m256 z, __m256 lo, __m256 hi, int z_odd) {
    __m256 v = _mm256_div_ps(x, s);
    __m256 r = _mm256_round_ps(v, FFQRT_NEAREST);
    __m256 q = _mm256_add_ps(r, z);
    if (z_odd) {
        __m256 d = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, r));
        __m256 tie = _mm256_cmp_ps(d, _mm256_set1_ps(0.5f), _CMP_EQ_OQ);
        q = _mm256_blendv_ps(q, _mm256_round_ps(_mm256_add_ps(v, z), FFQRT_NEAREST), tie);
    }
    return _mm256_min_ps(_mm256_max_ps(q, lo), hi);
}

// 16 int32 already within the byte range -> 16 bytes in order.
static inline __m128i ffqrt_pack16(__m256i a, __m256i b, int is_signed) {
    __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
    __m128i lo = _mm256_castsi256_si128(p), hi = _mm256_extracti128_si256(p, 1);
    return is_signed ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi);
}

#endif  // FFQRT_SIMD_AVX2_H
