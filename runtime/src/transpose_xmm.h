// transpose_xmm.h: the 16 x 16 byte tiles of the convolution transposes
// (transpose_avx2.c, transpose_avx512vnni.c), compiled into each with that file's flags:
// the pixels their wide tiles leave, and what the tiles of either width share.
#ifndef FFQRT_TRANSPOSE_XMM_H
#define FFQRT_TRANSPOSE_XMM_H

#include <immintrin.h>

#include "kernels.h"

// Rows r[0..16) of a 16 x 16 byte tile become its columns. Each round interleaves row i
// with row i + 8 into rows 2i, 2i + 1, which rotates the 8-bit index (row, column) left by
// one bit; four rounds swap them. The loops are unrolled whole so that the tile stays in
// registers (the wide versions do the same in every 128-bit lane).
static inline __attribute__((always_inline)) void transpose16(__m128i r[16]) {
#pragma GCC unroll 4
    for (int round = 0; round < 4; round++) {
        __m128i t[16];
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            t[2 * i] = _mm_unpacklo_epi8(r[i], r[i + 8]);
            t[2 * i + 1] = _mm_unpackhi_epi8(r[i], r[i + 8]);
        }
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) r[i] = t[i];
    }
}

// px[i] = where pixel p + i of rows of w pixels goes (rows prow bytes apart, c bytes a
// pixel), for i < n: one division for the first, then steps.
static inline void pixel_rows(uint8_t **px, int n, uint8_t *dst, size_t prow, size_t c, size_t p, size_t w) {
    size_t row = p / w, col = p % w;
    uint8_t *at = dst + row * prow + col * c;
    for (int i = 0; i < n; i++) {
        px[i] = at;
        at += c;
        if (++col == w) col = 0, row++, at = dst + row * prow;
    }
}

// Channels [ci, c) of pixels p..p + n - 1 byte by byte (those past the last whole tile).
static inline void channel_tail(uint8_t *const *px, int n, const uint8_t *src, size_t plane, size_t p,
                                size_t ci, size_t c, uint8_t flip) {
    for (; ci < c; ci++)
        for (int i = 0; i < n; i++) px[i][ci] = src[ci * plane + p + i] ^ flip;
}

// to_pixels_u8 from pixel p on, 16 pixels at a time; returns where it stopped.
static inline size_t to_pixels16(uint8_t *dst, size_t prow, const uint8_t *src, size_t plane, size_t c,
                                 size_t p, size_t np, size_t w, uint8_t flip) {
    const __m128i fx = _mm_set1_epi8((char)flip);
    for (; p + 16 <= np; p += 16) {
        uint8_t *px[16];
        pixel_rows(px, 16, dst, prow, c, p, w);
        size_t ci = 0;
        for (; ci + 16 <= c; ci += 16) {
            __m128i r[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
                r[i] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + (ci + i) * plane + p)), fx);
            transpose16(r);
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) _mm_storeu_si128((__m128i *)(px[i] + ci), r[i]);
        }
        channel_tail(px, 16, src, plane, p, ci, c, flip);
    }
    return p;
}

// to_channels_u8 for pixels [p, p1) (p1 - p a multiple of 16), 16 at a time.
static inline void to_channels16(uint8_t *y, size_t ys, const uint8_t *x, size_t xs, size_t p, size_t p1,
                                 size_t nc) {
    for (; p < p1; p += 16)
        for (size_t c = 0; c + 16 <= nc; c += 16) {
            __m128i r[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) r[i] = _mm_loadu_si128((const __m128i *)(x + (p + i) * xs + c));
            transpose16(r);
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) _mm_storeu_si128((__m128i *)(y + (c + i) * ys + p), r[i]);
        }
}

#endif
