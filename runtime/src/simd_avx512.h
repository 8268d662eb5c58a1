// simd_avx512.h: AVX-512 helpers shared by the *_avx512vnni.c files.
#ifndef FFQRT_SIMD_AVX512_H
#define FFQRT_SIMD_AVX512_H

#include <immintrin.h>

// clamp(round_half_even(x / s + z), lo, hi) on 16 floats; the reference's ffqrt_qf.
static inline __m512 ffqrt_qf16(__m512 x, __m512 s, __m512 z, __m512 lo, __m512 hi) {
    __m512 v = _mm512_add_ps(_mm512_div_ps(x, s), z);
    v = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_min_ps(_mm512_max_ps(v, lo), hi);
}

// 16 integer-valued floats within the byte range -> 16 bytes.
static inline __m128i ffqrt_bytes16(__m512 v, int is_signed) {
    __m512i i = _mm512_cvtps_epi32(v);
    return is_signed ? _mm512_cvtsepi32_epi8(i) : _mm512_cvtusepi32_epi8(i);
}

#endif  // FFQRT_SIMD_AVX512_H
