// layout.h: packed data layouts shared by every kernel variant. Change deliberately:
// the static asserts pin the sizes.
#ifndef FFQRT_LAYOUT_H
#define FFQRT_LAYOUT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

// Linear weights (n x k, s8) are packed in panels of FFQRT_NR output channels. A panel
// is a run of k_pad / FFQRT_KR groups; group g holds w[n0 + j][4g + t] at byte 4j + t,
// so one 64-byte group feeds 16 outputs x 4 k-values (one vpdpbusd, or two vpmaddubsw
// on 32-byte halves). n and k are zero-padded to multiples of FFQRT_NR and FFQRT_KR.
#define FFQRT_NR           16
#define FFQRT_KR           4
#define FFQRT_PACK_MAGIC   0x31514646u  // "FFQ1"
#define FFQRT_PACK_VERSION 2u           // 1: no flags, no -128 bitmap
#define FFQRT_PACK_NO_M128 1u           // flag: no weight is -128 (the bitmap is all zeros)
#define FFQRT_MAX_K        65536u       // keeps sum_k (a - za) * w within int32 (255 * 128 * 2^16 < 2^31)
#define FFQRT_MATMUL_MAX_K 32768u       // the same for (a - za) * (b - zb): 255 * 255 * 2^15 < 2^31

typedef struct ffqrt_wgroup {
    int8_t w[FFQRT_NR][FFQRT_KR];
} ffqrt_wgroup;
static_assert(sizeof(ffqrt_wgroup) == 64, "a weight group is one 64-byte line");

// Buffer: header | int32 colsum[n_pad] | float scale[n_pad] | uint64 m128 bitmap | groups
// (64-aligned offsets). colsum[n] = sum_k w[n][k], used to fold the activation zero point
// out of the dot product. The bitmap has ffqrt_m128_words(k_pad) words a panel: bit g of
// panel p is set when group g of panel p holds a weight of -128 (the AVX2 kernel's s8 form
// takes those weights as -127 and adds the difference over the marked groups only).
typedef struct ffqrt_pack_hdr {
    uint32_t magic;
    uint16_t version, flags;  // flags: FFQRT_PACK_NO_M128
    uint64_t n, k, n_pad, k_pad;
    uint64_t colsum_off, scale_off, group_off;
} ffqrt_pack_hdr;
static_assert(sizeof(ffqrt_pack_hdr) == 64, "pack header is 64 bytes");

// Conv weights: header, then `groups` linear packs of (c_out/groups) x (c_in/groups*kh*kw),
// each group_bytes long (a multiple of 64).
typedef struct ffqrt_conv_hdr {
    uint32_t magic, version;
    uint64_t groups, group_bytes;
    uint64_t reserved[5];
} ffqrt_conv_hdr;
static_assert(sizeof(ffqrt_conv_hdr) == 64, "conv pack header is 64 bytes");

static inline size_t ffqrt_round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

static inline const int32_t *ffqrt_pack_colsum(const ffqrt_pack_hdr *h) {
    return (const int32_t *)((const char *)h + h->colsum_off);
}
static inline const float *ffqrt_pack_scale(const ffqrt_pack_hdr *h) {
    return (const float *)((const char *)h + h->scale_off);
}
static inline size_t ffqrt_m128_words(size_t k_pad) { return (k_pad / FFQRT_KR + 63) / 64; }
static inline size_t ffqrt_m128_bytes(size_t n_pad, size_t k_pad) {
    return ffqrt_round_up(n_pad / FFQRT_NR * ffqrt_m128_words(k_pad) * sizeof(uint64_t), 64);
}
static inline const uint64_t *ffqrt_pack_m128(const ffqrt_pack_hdr *h) {
    return (const uint64_t *)((const char *)h + h->group_off - ffqrt_m128_bytes(h->n_pad, h->k_pad));
}
static inline const int8_t *ffqrt_pack_groups(const ffqrt_pack_hdr *h) {
    return (const int8_t *)((const char *)h + h->group_off);
}
// Byte offset of w[n][k] inside the groups area.
static inline size_t ffqrt_pack_index(size_t k_pad, size_t n, size_t k) {
    size_t panel = n / FFQRT_NR, j = n % FFQRT_NR;
    return (panel * (k_pad / FFQRT_KR) + k / FFQRT_KR) * sizeof(ffqrt_wgroup) + j * FFQRT_KR + k % FFQRT_KR;
}

#endif  // FFQRT_LAYOUT_H
