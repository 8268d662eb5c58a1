// dwconv_avx2.c: one output row of a depthwise convolution (ffqrt_dw), 8 channels a step:
// two taps' bytes interleaved and widened to 16 int16 lanes, vpmaddwd adds both products of
// each channel into its int32 lane (exact, as in dwconv_avx512vnni.c); the same output
// stage as the scalar code.
#include <immintrin.h>

#include "kernels.h"

void ffqrt_dw_row_avx2(const ffqrt_dw *d, float *restrict y, const uint8_t *restrict x) {
    const __m256i za = _mm256_set1_epi32(d->za);
    for (size_t j = 0; j < d->ow; j++, x += d->step, y += d->c) {
        for (size_t c0 = 0; c0 < d->c; c0 += 8) {
            __m256i acc = _mm256_setzero_si256();
            const int16_t *w = d->w + c0 * 2;
            for (size_t p = 0; p < d->pairs; p++, w += d->c_pad * 2) {
                __m128i a = _mm_loadl_epi64((const __m128i *)(x + d->off[2 * p] + c0));
                __m128i b = _mm_loadl_epi64((const __m128i *)(x + d->off[2 * p + 1] + c0));
                __m256i ab = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ab, _mm256_loadu_si256((const __m256i *)w)));
            }
            acc = _mm256_sub_epi32(
                acc, _mm256_mullo_epi32(za, _mm256_loadu_si256((const __m256i *)(d->wsum + c0))));
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(d->scale + c0));
            size_t left = d->c - c0;
            if (left >= 8) {
                if (d->bias) v = _mm256_add_ps(v, _mm256_loadu_ps(d->bias + c0));
                _mm256_storeu_ps(y + c0, v);
                continue;
            }
            __m256i m =
                _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            if (d->bias) v = _mm256_add_ps(v, _mm256_maskload_ps(d->bias + c0, m));
            _mm256_maskstore_ps(y + c0, m, v);
        }
    }
}
