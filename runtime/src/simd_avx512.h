// simd_avx512.h: AVX-512 helpers shared by the *_avx512vnni.c files.
#ifndef FFQRT_SIMD_AVX512_H
#define FFQRT_SIMD_AVX512_H

#include <immintrin.h>

// The rounding mode of _mm*_round_ps (a constant expression, as clang requires).
#ifndef FFQRT_NEAREST
#define FFQRT_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#endif

// A divisor for ffqrt_qf16: s and r = ffqrt_recip(s) (0: divide).
typedef struct ffqrt_div16 {
    __m512 s, r;
    int fast;
} ffqrt_div16;

static inline ffqrt_div16 ffqrt_div16_of(float s, float r) {
    ffqrt_div16 d = {_mm512_set1_ps(s), _mm512_set1_ps(r), r != 0.0f};
    return d;
}

// x / s on 16 floats, rounded exactly as the division rounds, without the division
// instruction (one result per cycle at best, the bottleneck of quantization): the product
// y0 = x * r with r = 1/s rounded, then two corrections y' = y + r * (x - y * s), the
// residual exact in an fma. The first makes y faithful (within an ulp); the second then
// gives the correctly rounded quotient (Markstein's theorem, for s and 1/s well inside the
// normal range, which ffqrt_recip checks). Where |y0| >= 2^23 (and for inf, NaN) y0 itself
// is returned: such quotients are far past every clamp bound, with the right sign, or NaN.
// Quotients of magnitude below 2^-2 come out within 2^-40 of the true one: they cannot
// change a rounding to an integer either. Exactness is tested against the division in
// the runtime tests.
static inline __m512 ffqrt_div16_apply(__m512 x, ffqrt_div16 d) {
    if (!d.fast) return _mm512_div_ps(x, d.s);
    __m512 y = _mm512_mul_ps(x, d.r);
    __m512 y1 = _mm512_fmadd_ps(_mm512_fnmadd_ps(y, d.s, x), d.r, y);
    __m512 q = _mm512_fmadd_ps(_mm512_fnmadd_ps(y1, d.s, x), d.r, y1);
    __mmask16 in = _mm512_cmp_ps_mask(_mm512_abs_ps(y), _mm512_set1_ps(0x1p23f), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(in, y, q);
}

// clamp(round_half_even(x / s + z), lo, hi) on 16 floats, the rounding exact; the
// reference's ffqrt_qf (round(v) + z, at exact ties of v the half-integer v + z rounded).
// z_odd: whether the integer z is odd; an even z keeps the parity of round(v), so ties need
// no second rounding then.
static inline __m512 ffqrt_qf16(__m512 x, ffqrt_div16 d, __m512 z, __m512 lo, __m512 hi, int z_odd) {
    __m512 v = ffqrt_div16_apply(x, d);
    __m512 r = _mm512_roundscale_ps(v, FFQRT_NEAREST);
    if (!z_odd) return _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(r, z), lo), hi);
    __mmask16 tie = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, r)), _mm512_set1_ps(0.5f), _CMP_EQ_OQ);
    __m512 q = _mm512_mask_blend_ps(tie, _mm512_add_ps(r, z),
                                    _mm512_roundscale_ps(_mm512_add_ps(v, z), FFQRT_NEAREST));
    return _mm512_min_ps(_mm512_max_ps(q, lo), hi);
}

// 16 integer-valued floats within the byte range -> 16 bytes.
static inline __m128i ffqrt_bytes16(__m512 v, int is_signed) {
    __m512i i = _mm512_cvtps_epi32(v);
    return is_signed ? _mm512_cvtsepi32_epi8(i) : _mm512_cvtusepi32_epi8(i);
}

#endif  // FFQRT_SIMD_AVX512_H
