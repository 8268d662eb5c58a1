// quant_avx2.c: AVX2 quantize / dequantize / fake-quantize / min-max runs. Same IEEE
// operations as the reference, in the same order; tails go to the reference.
#include <immintrin.h>

#include "kernels.h"
#include "simd_avx2.h"

enum { NT_MIN = 1 << 21 };  // runs this long stream their output past the caches

// 32 integer-valued floats in range -> 32 bytes, in order.
static inline __m256i pack32(__m256 a, __m256 b, __m256 c, __m256 d, int is_signed) {
    __m256i ab = _mm256_packs_epi32(_mm256_cvtps_epi32(a), _mm256_cvtps_epi32(b));
    __m256i cd = _mm256_packs_epi32(_mm256_cvtps_epi32(c), _mm256_cvtps_epi32(d));
    __m256i r = is_signed ? _mm256_packs_epi16(ab, cd) : _mm256_packus_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Elements of size esz before p reaches 32-byte alignment (p is esz-aligned), at most n.
static size_t head_to_align(const void *p, size_t esz, size_t n) {
    size_t mis = (size_t)((uintptr_t)p % 32), h = mis ? (32 - mis) / esz : 0;
    return h < n ? h : n;
}

void ffqrt_quant_run_avx2(uint8_t *restrict q, const float *restrict x, size_t n, float scale, int32_t zp,
                          int32_t lo, int32_t hi) {
    const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps((float)zp);
    const __m256 vlo = _mm256_set1_ps((float)lo), vhi = _mm256_set1_ps((float)hi);
    int nt = n >= NT_MIN, sgn = lo < 0;
    size_t i = nt ? head_to_align(q, 1, n) : 0;
    ffqrt_quant_run_ref(q, x, i, scale, zp, lo, hi);
    for (; i + 32 <= n; i += 32) {
        __m256 a = ffqrt_qf8(_mm256_loadu_ps(x + i), s, z, vlo, vhi, zp & 1);
        __m256 b = ffqrt_qf8(_mm256_loadu_ps(x + i + 8), s, z, vlo, vhi, zp & 1);
        __m256 c = ffqrt_qf8(_mm256_loadu_ps(x + i + 16), s, z, vlo, vhi, zp & 1);
        __m256 d = ffqrt_qf8(_mm256_loadu_ps(x + i + 24), s, z, vlo, vhi, zp & 1);
        __m256i r = pack32(a, b, c, d, sgn);
        if (nt) _mm256_stream_si256((__m256i *)(q + i), r);
        else _mm256_storeu_si256((__m256i *)(q + i), r);
    }
    if (nt) _mm_sfence();
    ffqrt_quant_run_ref(q + i, x + i, n - i, scale, zp, lo, hi);
}

// (float)(q - zp) * scale on 8 bytes.
static inline __m256 dq8(const uint8_t *q, __m256i z, __m256 s, int is_signed) {
    __m128i b = _mm_loadl_epi64((const __m128i *)q);
    __m256i v = is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, z)), s);
}

void ffqrt_dequant_run_avx2(float *restrict x, const uint8_t *restrict q, size_t n, float scale, int32_t zp,
                            int is_signed) {
    const __m256 s = _mm256_set1_ps(scale);
    const __m256i z = _mm256_set1_epi32(zp);
    int nt = n >= NT_MIN && (uintptr_t)x % sizeof(float) == 0;
    size_t i = nt ? head_to_align(x, sizeof(float), n) : 0;
    ffqrt_dequant_run_ref(x, q, i, scale, zp, is_signed);
    for (; i + 32 <= n; i += 32)
        for (size_t j = 0; j < 32; j += 8) {
            __m256 v = dq8(q + i + j, z, s, is_signed);
            if (nt) _mm256_stream_ps(x + i + j, v);
            else _mm256_storeu_ps(x + i + j, v);
        }
    if (nt) _mm_sfence();
    ffqrt_dequant_run_ref(x + i, q + i, n - i, scale, zp, is_signed);
}

void ffqrt_fakeq_run_avx2(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo,
                          int32_t hi) {
    const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps((float)zp);
    const __m256 vlo = _mm256_set1_ps((float)lo), vhi = _mm256_set1_ps((float)hi);
    const __m256i zi = _mm256_set1_epi32(zp);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i q = _mm256_cvtps_epi32(ffqrt_qf8(_mm256_loadu_ps(x + i), s, z, vlo, vhi, zp & 1));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, zi)), s));
    }
    ffqrt_fakeq_run_ref(y + i, x + i, n - i, scale, zp, lo, hi);
}

// v + 0 is the reference's round trip through int32 for integer values in range: -0 -> +0.
void ffqrt_quantf_run_avx2(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo,
                           int32_t hi) {
    const __m256 s = _mm256_set1_ps(scale), z = _mm256_set1_ps((float)zp);
    const __m256 vlo = _mm256_set1_ps((float)lo), vhi = _mm256_set1_ps((float)hi);
    const __m256 zero = _mm256_setzero_ps();
    int nt = n >= NT_MIN && (uintptr_t)y % sizeof(float) == 0 && y != x;
    size_t i = nt ? head_to_align(y, sizeof(float), n) : 0;
    ffqrt_quantf_run_ref(y, x, i, scale, zp, lo, hi);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_add_ps(ffqrt_qf8(_mm256_loadu_ps(x + i), s, z, vlo, vhi, zp & 1), zero);
        if (nt) _mm256_stream_ps(y + i, v);
        else _mm256_storeu_ps(y + i, v);
    }
    if (nt) _mm_sfence();
    ffqrt_quantf_run_ref(y + i, x + i, n - i, scale, zp, lo, hi);
}

// min_ps(x, acc) keeps acc when x is NaN, as the reference's x < acc ? x : acc does.
void ffqrt_minmax_run_avx2(float *mn, float *mx, const float *restrict x, size_t n) {
    __m256 lo[4], hi[4];
    for (int j = 0; j < 4; j++) {
        lo[j] = _mm256_set1_ps(*mn);
        hi[j] = _mm256_set1_ps(*mx);
    }
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; j++) {
            __m256 v = _mm256_loadu_ps(x + i + 8 * j);
            lo[j] = _mm256_min_ps(v, lo[j]);
            hi[j] = _mm256_max_ps(v, hi[j]);
        }
    __m256 l = _mm256_min_ps(_mm256_min_ps(lo[0], lo[1]), _mm256_min_ps(lo[2], lo[3]));
    __m256 h = _mm256_max_ps(_mm256_max_ps(hi[0], hi[1]), _mm256_max_ps(hi[2], hi[3]));
    float lv[8], hv[8], unused_lo = INFINITY, unused_hi = -INFINITY;
    _mm256_storeu_ps(lv, l);
    _mm256_storeu_ps(hv, h);
    ffqrt_minmax_run_ref(mn, &unused_hi, lv, 8);
    ffqrt_minmax_run_ref(&unused_lo, mx, hv, 8);
    ffqrt_minmax_run_ref(mn, mx, x + i, n - i);
}

void ffqrt_minmax_cols_avx2(float *restrict mn, float *restrict mx, const float *restrict x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(mn + i, _mm256_min_ps(v, _mm256_loadu_ps(mn + i)));
        _mm256_storeu_ps(mx + i, _mm256_max_ps(v, _mm256_loadu_ps(mx + i)));
    }
    ffqrt_minmax_cols_ref(mn + i, mx + i, x + i, n - i);
}

uint8_t ffqrt_max_u8_avx2(const uint8_t *restrict a, size_t n, uint8_t x) {
    const __m256i vx = _mm256_set1_epi8((char)x);
    __m256i m = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        m = _mm256_max_epu8(m, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(a + i)), vx));
    uint8_t lanes[32];
    _mm256_storeu_si256((__m256i *)lanes, m);
    uint8_t r = ffqrt_max_u8_ref(lanes, 32, 0), t = ffqrt_max_u8_ref(a + i, n - i, x);
    return r > t ? r : t;
}
