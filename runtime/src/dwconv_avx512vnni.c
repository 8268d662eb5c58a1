// dwconv_avx512vnni.c: one output row of a depthwise convolution (ffqrt_dw), 16 channels a
// step. Two taps' bytes are interleaved and widened to 32 int16 lanes, and vpdpwssd adds
// both products of each channel into its int32 lane: exact (|x w| <= 255 * 128, and the
// sums stay far inside int32 for FFQRT_MAX_K taps). The output stage is the scalar one's
// IEEE operations: (float)acc, times the channel's scale, plus its bias.
#include <immintrin.h>

#include "kernels.h"

void ffqrt_dw_row_avx512vnni(const ffqrt_dw *d, float *restrict y, const uint8_t *restrict x) {
    const __m512i za = _mm512_set1_epi32(d->za);
    for (size_t j = 0; j < d->ow; j++, x += d->step, y += d->c) {
        for (size_t c0 = 0; c0 < d->c; c0 += 16) {
            __m512i acc = _mm512_setzero_si512();
            const int16_t *w = d->w + c0 * 2;
            for (size_t p = 0; p < d->pairs; p++, w += d->c_pad * 2) {
                __m128i a = _mm_loadu_si128((const __m128i *)(x + d->off[2 * p] + c0));
                __m128i b = _mm_loadu_si128((const __m128i *)(x + d->off[2 * p + 1] + c0));
                __m256i ab = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi8(a, b)),
                                                     _mm_unpackhi_epi8(a, b), 1);
                acc = _mm512_dpwssd_epi32(acc, _mm512_cvtepu8_epi16(ab), _mm512_loadu_si512(w));
            }
            acc = _mm512_sub_epi32(acc, _mm512_mullo_epi32(za, _mm512_loadu_si512(d->wsum + c0)));
            __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(d->scale + c0));
            size_t left = d->c - c0;
            __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
            if (d->bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, d->bias + c0));
            _mm512_mask_storeu_ps(y + c0, m, v);
        }
    }
}
