// transpose_avx512vnni.c: the byte transposes around a convolution (conv.c: an NCHW input
// into the padded channels-last copy, a channels-last result out to NCHW). Tiles of 16
// channels by 64 pixels: the 16 x 16 byte transpose of transpose_xmm.h done in the four
// 128-bit lanes of 16 zmm registers at once (AVX-512's 32 registers hold a tile and its
// temporaries), then 16 x 16 tiles in xmm registers for the pixels left. They only move
// bytes: the results are the scalar loops' (conv.c finishes what they leave).
#include <immintrin.h>

#include "kernels.h"
#include "transpose_xmm.h"

// transpose16 (transpose_xmm.h) in each 128-bit lane of r[0..16) at once.
static inline __attribute__((always_inline)) void transpose_lanes(__m512i r[16]) {
#pragma GCC unroll 4
    for (int round = 0; round < 4; round++) {
        __m512i t[16];
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            t[2 * i] = _mm512_unpacklo_epi8(r[i], r[i + 8]);
            t[2 * i + 1] = _mm512_unpackhi_epi8(r[i], r[i + 8]);
        }
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) r[i] = t[i];
    }
}

size_t ffqrt_to_pixels_u8_avx512vnni(uint8_t *restrict dst, size_t prow, const uint8_t *restrict src,
                                     size_t plane, size_t c, size_t np, size_t w, uint8_t flip) {
    if (c < 16) return 0;
    const __m512i fz = _mm512_set1_epi8((char)flip);
    size_t p = 0;
    for (; p + 64 <= np; p += 64) {
        uint8_t *px[64];
        pixel_rows(px, 64, dst, prow, c, p, w);
        size_t ci = 0;
        for (; ci + 16 <= c; ci += 16) {
            __m512i r[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
                r[i] = _mm512_xor_si512(_mm512_loadu_si512(src + (ci + i) * plane + p), fz);
            transpose_lanes(r);
            // lane l of r[i]: pixel p + 16 l + i, channels ci..ci + 15
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) {
                _mm_storeu_si128((__m128i *)(px[i] + ci), _mm512_castsi512_si128(r[i]));
                _mm_storeu_si128((__m128i *)(px[16 + i] + ci), _mm512_extracti32x4_epi32(r[i], 1));
                _mm_storeu_si128((__m128i *)(px[32 + i] + ci), _mm512_extracti32x4_epi32(r[i], 2));
                _mm_storeu_si128((__m128i *)(px[48 + i] + ci), _mm512_extracti32x4_epi32(r[i], 3));
            }
        }
        channel_tail(px, 64, src, plane, p, ci, c, flip);
    }
    return to_pixels16(dst, prow, src, plane, c, p, np, w, flip);
}

size_t ffqrt_to_channels_u8_avx512vnni(uint8_t *restrict y, size_t ys, const uint8_t *restrict x, size_t xs,
                                       size_t np, size_t nc) {
    size_t p1 = nc >= 16 ? np / 16 * 16 : 0, p = 0;
    for (; p + 64 <= p1; p += 64)
        for (size_t c = 0; c + 16 <= nc; c += 16) {
            __m512i r[16];
            // lane l of r[i]: pixel p + 16 l + i, channels c..c + 15
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) {
                const uint8_t *at = x + (p + i) * xs + c;
                __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)at));
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(at + 16 * xs)), 1);
                v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(at + 32 * xs)), 2);
                r[i] = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(at + 48 * xs)), 3);
            }
            transpose_lanes(r);
            // r[i]: channel c + i at pixels p..p + 63, one whole line
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) _mm512_storeu_si512(y + (c + i) * ys + p, r[i]);
        }
    to_channels16(y, ys, x, xs, p, p1, nc);
    return p1;
}
