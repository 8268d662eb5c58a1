// quant_avx512vnni.c: AVX-512 quantize / dequantize / fake-quantize / min-max runs. Same
// results as the reference, bit for bit (the quotient x / scale without the division
// instruction: see simd_avx512.h); tails go to the reference.
#include <immintrin.h>

#include "kernels.h"
#include "simd_avx512.h"

enum { NT_MIN = 1 << 21 };  // runs this long stream their output past the caches

// Elements of size esz before p reaches 64-byte alignment (p is esz-aligned), at most n.
static size_t head_to_align(const void *p, size_t esz, size_t n) {
    size_t mis = (size_t)((uintptr_t)p % 64), h = mis ? (64 - mis) / esz : 0;
    return h < n ? h : n;
}

void ffqrt_quant_run_avx512vnni(uint8_t *restrict q, const float *restrict x, size_t n, float scale,
                                int32_t zp, int32_t lo, int32_t hi) {
    const ffqrt_div16 s = ffqrt_div16_of(scale, ffqrt_recip(scale));
    const __m512 z = _mm512_set1_ps((float)zp);
    const __m512 vlo = _mm512_set1_ps((float)lo), vhi = _mm512_set1_ps((float)hi);
    int nt = n >= NT_MIN, sgn = lo < 0;
    size_t i = nt ? head_to_align(q, 1, n) : 0;
    ffqrt_quant_run_ref(q, x, i, scale, zp, lo, hi);
    for (; i + 64 <= n; i += 64)
        for (size_t j = 0; j < 64; j += 16) {
            __m128i b = ffqrt_bytes16(ffqrt_qf16(_mm512_loadu_ps(x + i + j), s, z, vlo, vhi, zp & 1), sgn);
            if (nt) _mm_stream_si128((__m128i *)(q + i + j), b);
            else _mm_storeu_si128((__m128i *)(q + i + j), b);
        }
    if (nt) _mm_sfence();
    ffqrt_quant_run_ref(q + i, x + i, n - i, scale, zp, lo, hi);
}

// (float)(q - zp) * scale on 16 bytes.
static inline __m512 dq16(const uint8_t *q, __m512i z, __m512 s, int is_signed) {
    __m128i b = _mm_loadu_si128((const __m128i *)q);
    __m512i v = is_signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(v, z)), s);
}

void ffqrt_dequant_run_avx512vnni(float *restrict x, const uint8_t *restrict q, size_t n, float scale,
                                  int32_t zp, int is_signed) {
    const __m512 s = _mm512_set1_ps(scale);
    const __m512i z = _mm512_set1_epi32(zp);
    int nt = n >= NT_MIN && (uintptr_t)x % sizeof(float) == 0;
    size_t i = nt ? head_to_align(x, sizeof(float), n) : 0;
    ffqrt_dequant_run_ref(x, q, i, scale, zp, is_signed);
    for (; i + 64 <= n; i += 64)
        for (size_t j = 0; j < 64; j += 16) {
            __m512 v = dq16(q + i + j, z, s, is_signed);
            if (nt) _mm512_stream_ps(x + i + j, v);
            else _mm512_storeu_ps(x + i + j, v);
        }
    if (nt) _mm_sfence();
    ffqrt_dequant_run_ref(x + i, q + i, n - i, scale, zp, is_signed);
}

void ffqrt_fakeq_run_avx512vnni(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo,
                                int32_t hi) {
    const ffqrt_div16 d = ffqrt_div16_of(scale, ffqrt_recip(scale));
    const __m512 s = _mm512_set1_ps(scale), z = _mm512_set1_ps((float)zp);
    const __m512 vlo = _mm512_set1_ps((float)lo), vhi = _mm512_set1_ps((float)hi);
    const __m512i zi = _mm512_set1_epi32(zp);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i q = _mm512_cvtps_epi32(ffqrt_qf16(_mm512_loadu_ps(x + i), d, z, vlo, vhi, zp & 1));
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, zi)), s));
    }
    ffqrt_fakeq_run_ref(y + i, x + i, n - i, scale, zp, lo, hi);
}

// v + 0 is the reference's round trip through int32 for integer values in range: -0 -> +0.
void ffqrt_quantf_run_avx512vnni(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo,
                                 int32_t hi) {
    const ffqrt_div16 s = ffqrt_div16_of(scale, ffqrt_recip(scale));
    const __m512 z = _mm512_set1_ps((float)zp);
    const __m512 vlo = _mm512_set1_ps((float)lo), vhi = _mm512_set1_ps((float)hi);
    const __m512 zero = _mm512_setzero_ps();
    int nt = n >= NT_MIN && (uintptr_t)y % sizeof(float) == 0 && y != x;
    size_t i = nt ? head_to_align(y, sizeof(float), n) : 0;
    ffqrt_quantf_run_ref(y, x, i, scale, zp, lo, hi);
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_add_ps(ffqrt_qf16(_mm512_loadu_ps(x + i), s, z, vlo, vhi, zp & 1), zero);
        if (nt) _mm512_stream_ps(y + i, v);
        else _mm512_storeu_ps(y + i, v);
    }
    if (nt) _mm_sfence();
    ffqrt_quantf_run_ref(y + i, x + i, n - i, scale, zp, lo, hi);
}

// min_ps(x, acc) keeps acc when x is NaN, as the reference's x < acc ? x : acc does.
void ffqrt_minmax_run_avx512vnni(float *mn, float *mx, const float *restrict x, size_t n) {
    __m512 lo[4], hi[4];
    for (int j = 0; j < 4; j++) {
        lo[j] = _mm512_set1_ps(*mn);
        hi[j] = _mm512_set1_ps(*mx);
    }
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int j = 0; j < 4; j++) {
            __m512 v = _mm512_loadu_ps(x + i + 16 * j);
            lo[j] = _mm512_min_ps(v, lo[j]);
            hi[j] = _mm512_max_ps(v, hi[j]);
        }
    __m512 l = _mm512_min_ps(_mm512_min_ps(lo[0], lo[1]), _mm512_min_ps(lo[2], lo[3]));
    __m512 h = _mm512_max_ps(_mm512_max_ps(hi[0], hi[1]), _mm512_max_ps(hi[2], hi[3]));
    float lv[16], hv[16], unused_lo = INFINITY, unused_hi = -INFINITY;
    _mm512_storeu_ps(lv, l);
    _mm512_storeu_ps(hv, h);
    ffqrt_minmax_run_ref(mn, &unused_hi, lv, 16);
    ffqrt_minmax_run_ref(&unused_lo, mx, hv, 16);
    ffqrt_minmax_run_ref(mn, mx, x + i, n - i);
}

void ffqrt_minmax_cols_avx512vnni(float *restrict mn, float *restrict mx, const float *restrict x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        _mm512_storeu_ps(mn + i, _mm512_min_ps(v, _mm512_loadu_ps(mn + i)));
        _mm512_storeu_ps(mx + i, _mm512_max_ps(v, _mm512_loadu_ps(mx + i)));
    }
    ffqrt_minmax_cols_ref(mn + i, mx + i, x + i, n - i);
}

uint8_t ffqrt_max_u8_avx512vnni(const uint8_t *restrict a, size_t n, uint8_t x) {
    const __m512i vx = _mm512_set1_epi8((char)x);
    __m512i m = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) m = _mm512_max_epu8(m, _mm512_xor_si512(_mm512_loadu_si512(a + i), vx));
    uint8_t lanes[64];
    _mm512_storeu_si512(lanes, m);
    uint8_t r = ffqrt_max_u8_ref(lanes, 64, 0), t = ffqrt_max_u8_ref(a + i, n - i, x);
    return r > t ? r : t;
}
