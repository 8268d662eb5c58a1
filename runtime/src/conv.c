// conv.c: int8 conv2d as im2col + the GEMM kernels, over the whole batch at once.
//
// The input is first copied into the workspace as NHWC with its padding written out (the
// zero-point byte), so that every kernel window row is a run of memory with no bounds to
// check; an NCHW input is transposed on the way in (the kernel table's byte tiles), and s8
// bytes are flipped to u8 there, so the GEMM needs no per-load xor. The column matrix has one
// row per output pixel of the batch (m = (b * oh + i) * ow + j) and, per group, the columns k = (r *
// kw + t) * cg + ci: the order in which the padded image holds a window, so a window row is
// one copy (kw copies when dilated or grouped). The weights are packed in that order (the
// conv pack header records it). A 1x1 convolution with stride 1 and no padding needs no
// column matrix: its rows are the input pixels.
//
// Threads: the rows go in blocks of about BLOCK_BYTES of columns, which stay in L2 while
// the GEMM passes over them; threads take parts of the blocks, each part with its own slot
// of the workspace. With too few blocks to share (the late layers of a CNN: few pixels,
// many channels), one column matrix of every row is built and the threads split the output
// channels, so each streams only its share of the weights (grouped convolutions split the
// GEMM of each block instead). NHWC outputs are written by the GEMM in place; NCHW ones go
// through the workspace and are transposed out in 4 x 4 float tiles (bytes: the table's).
//
// Few input channels (a window row of kw * c_in <= 4 bytes, e.g. the first layer of an
// image model with one channel and 3x3 kernels): each window row gets a k-group of its
// own, the 4 bytes from its start, so a column row is kh 4-byte copies; the weights past
// the window row in each group are zero (pack version 3 records this layout), so what the
// extra bytes hold does not matter. The GEMM does the same work as with the rows packed
// tightly when kw * c_in is 3 or 4, and the copies are a fraction of the generic ones.
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "kernels.h"
#include "threads.h"

enum {
    BLOCK_BYTES = 128 << 10,
    ROW_ALIGN = 24,
    MAX_BLOCK_ROWS = 4096,
    PAR_MIN_MACS = 1 << 19,
    WHOLE_BYTES = 2 << 20,   // workspace the whole-matrix mode may take
    PANEL_UNIT = 4,          // panels per unit of work there (one block of the GEMM kernels)
    PAD_MIN_BYTES = 1 << 15  // input bytes per thread of the padded copy, at least
};

#define CONV_PACK_VERSION 3u  // 2: no row-per-group layout; 1: the columns packed as (ci, r, t)

static size_t group_k(const ffqrt_conv2d_shape *s) { return s->c_in / s->groups * s->kh * s->kw; }

// Each window row in a k-group of its own (see the top of the file).
static int row_groups(const ffqrt_conv2d_shape *s) {
    return s->groups == 1 && s->dil_w == 1 && s->kw * s->c_in <= FFQRT_KR && s->kh <= FFQRT_MAX_K / FFQRT_KR;
}

// The reduction length of the pack: kh groups of 4 in the row-group layout.
static size_t pack_k(const ffqrt_conv2d_shape *s) { return row_groups(s) ? s->kh * FFQRT_KR : group_k(s); }

static int shape_ok(const ffqrt_conv2d_shape *s) {
    return s && s->groups && s->c_in % s->groups == 0 && s->c_out % s->groups == 0 &&
           group_k(s) <= FFQRT_MAX_K && s->layout <= (FFQRT_CONV_IN_NHWC | FFQRT_CONV_OUT_NHWC) &&
           ffqrt_conv2d_out_h(s) && ffqrt_conv2d_out_w(s);
}

static int nchw_out(const ffqrt_conv2d_shape *s) { return !(s->layout & FFQRT_CONV_OUT_NHWC); }

// Copies are done 16 bytes at a time and may run up to SLACK bytes past their end, in
// both buffers (the padded input and the column block have that much room after them).
enum { SLACK = 64 };

typedef struct plan {
    size_t hw, m, k, k_pad, cog;
    size_t hp, wp;         // padded input height, width
    size_t rows, nblocks;  // rows per block, blocks
    size_t col_bytes, slot, in_bytes;
    int direct;          // 1x1, stride 1, no padding: the padded input is the column matrix
    size_t whole_bytes;  // the workspace of the whole-matrix mode (0: not for this shape)
} plan;

// A 1x1 convolution with stride 1 and no padding over whole k-groups of channels: row m of
// its column matrix is pixel m of the NHWC input.
static int direct_1x1(const ffqrt_conv2d_shape *s) {
    return s->groups == 1 && s->kh == 1 && s->kw == 1 && s->stride_h == 1 && s->stride_w == 1 &&
           s->pad_h == 0 && s->pad_w == 0 && s->c_in % FFQRT_KR == 0;
}

static plan plan_of(const ffqrt_conv2d_shape *s) {
    plan p;
    p.hw = ffqrt_conv2d_out_h(s) * ffqrt_conv2d_out_w(s);
    p.m = s->n * p.hw;
    p.k = pack_k(s);
    p.k_pad = ffqrt_round_up(p.k, FFQRT_KR);
    p.cog = s->c_out / s->groups;
    size_t per_row = p.k_pad + (nchw_out(s) ? p.cog * sizeof(float) : 0);
    size_t rows = BLOCK_BYTES / (per_row ? per_row : 1) / ROW_ALIGN * ROW_ALIGN;
    rows = rows < ROW_ALIGN ? ROW_ALIGN : rows > MAX_BLOCK_ROWS ? MAX_BLOCK_ROWS : rows;
    p.rows = rows < p.m ? rows : p.m;
    p.nblocks = p.rows ? (p.m + p.rows - 1) / p.rows : 0;
    p.col_bytes = ffqrt_round_up(p.rows * p.k_pad + SLACK, 64);
    p.slot = p.col_bytes + (nchw_out(s) ? ffqrt_round_up(p.rows * p.cog * sizeof(float), 64) : 0);
    p.hp = s->h + 2 * s->pad_h;
    p.wp = s->w + 2 * s->pad_w;
    p.in_bytes = ffqrt_round_up(s->n * p.hp * p.wp * s->c_in + SLACK, 64);
    p.direct = direct_1x1(s);
    // the column matrix and the channel-pixel outputs of every row at once (see conv())
    size_t whole =
        ffqrt_round_up(p.m * p.k_pad + SLACK, 64) + ffqrt_round_up(p.m * p.cog * sizeof(float), 64);
    p.whole_bytes = s->groups == 1 && p.nblocks < 2 * FFQRT_MAX_THREADS && whole <= WHOLE_BYTES ? whole : 0;
    return p;
}

static size_t slots_of(const plan *p) { return p->nblocks < FFQRT_MAX_PARTS ? p->nblocks : FFQRT_MAX_PARTS; }

// ---- depthwise convolutions ----
//
// groups == c_in == c_out (one input and one output channel per group, MobileNet's and
// ConvNeXt's): the GEMM of each group would be one output column with kh * kw taps, so
// these go through their own kernel (ffqrt_dw in kernels.h), which reads the padded NHWC
// copy and keeps the channels in vector lanes. Its pack (after the header, whose
// reserved[4] is 1) holds the weight scales [c_pad], the per-channel weight sums [c_pad]
// and the weights as int16 pairs of taps [pairs][c_pad][2]; the channels past c are zero.
static int depthwise(const ffqrt_conv2d_shape *s) {
    return s->groups > 1 && s->groups == s->c_in && s->c_out == s->c_in;
}
static size_t dw_pairs(const ffqrt_conv2d_shape *s) { return (s->kh * s->kw + 1) / 2; }
static size_t dw_cpad(const ffqrt_conv2d_shape *s) { return ffqrt_round_up(s->c_in, 16); }
static size_t dw_pack_bytes(const ffqrt_conv2d_shape *s) {
    return dw_cpad(s) * (sizeof(float) + sizeof(int32_t) + dw_pairs(s) * 2 * sizeof(int16_t));
}
// Output rows of the batch, and a slot per part: a float row [ow][c].
static size_t dw_rows(const ffqrt_conv2d_shape *s) { return s->n * ffqrt_conv2d_out_h(s); }
static size_t dw_slots(const ffqrt_conv2d_shape *s) {
    return dw_rows(s) < FFQRT_MAX_PARTS ? dw_rows(s) : FFQRT_MAX_PARTS;
}
static size_t dw_slot(const ffqrt_conv2d_shape *s) {
    return ffqrt_round_up(ffqrt_conv2d_out_w(s) * s->c_in * sizeof(float), 64);
}
// An NCHW output is first written NHWC here (then transposed an image at a time, so that
// whole 16 x 16 or 4 x 4 tiles cover all but the last hw % 16 pixels).
static size_t dw_nhwc_bytes(const ffqrt_conv2d_shape *s) {
    size_t e = sizeof(float);  // the larger element: the workspace size does not know py
    return nchw_out(s)
               ? ffqrt_round_up(s->n * ffqrt_conv2d_out_h(s) * ffqrt_conv2d_out_w(s) * s->c_in * e, 64)
               : 0;
}
// The call's tables at the start of the workspace after the padded copy: 2 * pairs tap
// offsets, c_pad scales.
static size_t dw_tables(const ffqrt_conv2d_shape *s) {
    return ffqrt_round_up(2 * dw_pairs(s) * sizeof(size_t), 64) +
           ffqrt_round_up(dw_cpad(s) * sizeof(float), 64);
}

size_t ffqrt_conv2d_pack_size(const ffqrt_conv2d_shape *s) {
    if (!shape_ok(s)) return sizeof(ffqrt_conv_hdr);
    if (depthwise(s)) return sizeof(ffqrt_conv_hdr) + dw_pack_bytes(s);
    return sizeof(ffqrt_conv_hdr) + s->groups * ffqrt_linear_pack_size(s->c_out / s->groups, pack_k(s));
}

static ffqrt_status dw_pack(void *packed, const int8_t *w, const float *w_scale,
                            const ffqrt_conv2d_shape *s) {
    size_t c = s->c_in, cp = dw_cpad(s), taps = s->kh * s->kw;
    ffqrt_conv_hdr h = {FFQRT_PACK_MAGIC, CONV_PACK_VERSION, s->groups, 0, {s->kh, s->kw, 1, 0, 1}};
    memcpy(packed, &h, sizeof h);
    char *at = (char *)packed + sizeof h;
    float *scale = (float *)at;
    int32_t *wsum = (int32_t *)(at + cp * sizeof(float));
    int16_t *wp = (int16_t *)(at + cp * (sizeof(float) + sizeof(int32_t)));
    memset(at, 0, dw_pack_bytes(s));
    for (size_t ch = 0; ch < c; ch++) {
        if (!ffqrt_scale_ok(w_scale[ch])) return FFQRT_EINVAL;
        scale[ch] = w_scale[ch];
        int32_t sum = 0;
        for (size_t q = 0; q < taps; q++) {
            int8_t v = w[ch * taps + q];
            sum += v;
            wp[((q / 2) * cp + ch) * 2 + q % 2] = v;
        }
        wsum[ch] = sum;
    }
    return FFQRT_OK;
}

ffqrt_status ffqrt_conv2d_pack(void *packed, const int8_t *w, const float *w_scale,
                               const ffqrt_conv2d_shape *s) {
    if (!packed || !shape_ok(s)) return FFQRT_EINVAL;
    if (depthwise(s)) return dw_pack(packed, w, w_scale, s);
    size_t cog = s->c_out / s->groups, k = pack_k(s), cg = s->c_in / s->groups, kg = group_k(s);
    // column (r * kw + t) * cg + ci of the pack is w[.][ci][r][t]; in the row-group layout
    // column r * 4 + t * cg + ci, and the columns past each window row are zero
    size_t row = row_groups(s) ? FFQRT_KR : s->kw * cg;
    uint32_t *col = malloc((k ? k : 1) * sizeof *col);
    if (!col) return FFQRT_ENOMEM;
    for (size_t kk = 0; kk < k; kk++) col[kk] = FFQRT_COL_ZERO;
    for (size_t ci = 0; ci < cg; ci++)
        for (size_t r = 0; r < s->kh; r++)
            for (size_t t = 0; t < s->kw; t++)
                col[r * row + t * cg + ci] = (uint32_t)((ci * s->kh + r) * s->kw + t);
    ffqrt_conv_hdr h = {FFQRT_PACK_MAGIC,
                        CONV_PACK_VERSION,
                        s->groups,
                        ffqrt_linear_pack_size(cog, k),
                        {s->kh, s->kw, cg, (uint64_t)row_groups(s), 0}};
    memcpy(packed, &h, sizeof h);
    ffqrt_status st = FFQRT_OK;
    for (size_t g = 0; g < s->groups && st == FFQRT_OK; g++) {
        char *dst = (char *)packed + sizeof h + g * h.group_bytes;
        st = ffqrt_pack_cols_n(dst, w + g * cog * kg, kg, w_scale + g * cog, cog, k, col);
    }
    free(col);
    return st;
}

size_t ffqrt_conv2d_workspace_size(const ffqrt_conv2d_shape *s) {
    if (!shape_ok(s)) return 0;
    plan p = plan_of(s);
    if (depthwise(s)) return p.in_bytes + dw_tables(s) + dw_nhwc_bytes(s) + dw_slots(s) * dw_slot(s);
    size_t blocks = slots_of(&p) * p.slot;
    return p.in_bytes + (blocks > p.whole_bytes ? blocks : p.whole_bytes);
}

// ---- tile transposes ----
//
// Bytes and floats move between pixel-major ([pixel][channel]) and channel-major
// ([channel][pixel]) order in square tiles that stay in registers; the parts of a matrix
// that do not fill a tile go element by element. They only move bits, so the results
// cannot depend on which path moved them. The byte tiles are the kernel table's
// (to_pixels_u8, to_channels_u8: transpose_<isa>.c); the ref's do nothing, leaving every
// byte to the scalar loops here, which are the reference.

size_t ffqrt_to_pixels_u8_ref(uint8_t *restrict dst, size_t prow, const uint8_t *restrict src, size_t plane,
                              size_t c, size_t np, size_t w, uint8_t flip) {
    (void)dst, (void)prow, (void)src, (void)plane, (void)c, (void)np, (void)w, (void)flip;
    return 0;
}

size_t ffqrt_to_channels_u8_ref(uint8_t *restrict y, size_t ys, const uint8_t *restrict x, size_t xs,
                                size_t np, size_t nc) {
    (void)y, (void)ys, (void)x, (void)xs, (void)np, (void)nc;
    return 0;
}

#if defined(__SSE2__)
// 4 x 4 float tiles, pixels in groups of 64 (4 lines); returns how many pixels it did (a
// multiple of 4), all channels of them below nc / 4 * 4.
static size_t tiles_f32(float *y, size_t ys, const float *x, size_t xs, size_t np, size_t nc) {
    size_t p1 = nc >= 4 ? np / 4 * 4 : 0;
    for (size_t p0 = 0; p0 < p1; p0 += 64)
        for (size_t c = 0; c + 4 <= nc; c += 4)
            for (size_t p = p0; p < p1 && p < p0 + 64; p += 4) {
                __m128 r0 = _mm_loadu_ps(x + p * xs + c), r1 = _mm_loadu_ps(x + (p + 1) * xs + c);
                __m128 r2 = _mm_loadu_ps(x + (p + 2) * xs + c), r3 = _mm_loadu_ps(x + (p + 3) * xs + c);
                _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                _mm_storeu_ps(y + c * ys + p, r0);
                _mm_storeu_ps(y + (c + 1) * ys + p, r1);
                _mm_storeu_ps(y + (c + 2) * ys + p, r2);
                _mm_storeu_ps(y + (c + 3) * ys + p, r3);
            }
    return p1;
}
#else
static size_t tiles_f32(float *y, size_t ys, const float *x, size_t xs, size_t np, size_t nc) {
    (void)y, (void)ys, (void)x, (void)xs, (void)np, (void)nc;
    return 0;
}
#endif

// y[c * ys + p] = x[p * xs + c] for p < np, c < nc, elements of esz (1 or 4) bytes.
static void to_channel_major(const ffqrt_kernels *k, void *y, size_t ys, const void *x, size_t xs, size_t np,
                             size_t nc, size_t esz) {
    size_t p0 = esz == 1 ? k->to_channels_u8(y, ys, x, xs, np, nc) : tiles_f32(y, ys, x, xs, np, nc);
    size_t tile = esz == 1 ? 16 : 4, c0 = p0 ? nc / tile * tile : 0;
    // the rest element by element, with a copy of known size (one move, not a library call)
    for (size_t p = 0; p < np; p++)
        for (size_t c = p < p0 ? c0 : 0; c < nc; c++)
            if (esz == 1) ((uint8_t *)y)[c * ys + p] = ((const uint8_t *)x)[p * xs + c];
            else memcpy((char *)y + (c * ys + p) * 4, (const char *)x + (p * xs + c) * 4, 4);
}

// The input into the padded NHWC copy, in units of a band of rows of one image. s8 inputs
// are stored flipped to u8 (xor 0x80): the GEMM then reads them as they are, with the zero
// point it uses for s8 anyway.
typedef struct pjob {
    const ffqrt_kernels *k;
    uint8_t *dst;
    const uint8_t *src;
    const ffqrt_conv2d_shape *s;
    size_t hp, wp, bands;  // bands per image
    uint8_t pad, flip;     // the padding byte; every input byte is xor flip
} pjob;

// h rows of w pixels of an NCHW image (channel ci at src + ci * plane) into the rows of the
// padded copy: pixel p goes to dst + p / w * prow + p % w * c, each byte xor `flip`. Whole
// tiles through registers (the table's to_pixels_u8), the rest byte by byte.
static void nchw_rows(const ffqrt_kernels *k, uint8_t *dst, size_t prow, const uint8_t *src, size_t plane,
                      size_t c, size_t h, size_t w, uint8_t flip) {
    size_t p = k->to_pixels_u8(dst, prow, src, plane, c, h * w, w, flip);
    for (size_t i = p / w; i < h; i++) {  // the rest row by row, from pixel p on
        size_t x0 = i == p / w ? p % w : 0;
        for (size_t ci = 0; ci < c; ci++)
            for (size_t x = x0; x < w; x++) dst[i * prow + x * c + ci] = src[ci * plane + i * w + x] ^ flip;
    }
}

static void pad_band(void *arg, size_t u) {
    const pjob *j = arg;
    const ffqrt_conv2d_shape *s = j->s;
    size_t b = u / j->bands, band = u % j->bands, i0 = s->h * band / j->bands,
           i1 = s->h * (band + 1) / j->bands;
    size_t c = s->c_in, prow = j->wp * c, img = s->h * s->w * c;
    uint8_t *dst = j->dst + b * j->hp * prow;
    const uint8_t *src = j->src + b * img;
    if (band == 0) memset(dst, j->pad, s->pad_h * prow);
    if (band + 1 == j->bands) memset(dst + (s->pad_h + s->h) * prow, j->pad, s->pad_h * prow);
    size_t side = s->pad_w * c;
    int nhwc = s->layout & FFQRT_CONV_IN_NHWC || c == 1;
    for (size_t i = i0; i < i1; i++) {
        uint8_t *row = dst + (s->pad_h + i) * prow;
        if (side <= 8) {  // few channels: the side bytes inline, not two library calls per row
            for (size_t e = 0; e < side; e++) row[e] = row[side + s->w * c + e] = j->pad;
        } else {
            memset(row, j->pad, side);
            memset(row + side + s->w * c, j->pad, side);
        }
        if (!nhwc) continue;
        uint8_t *d = row + side;
        const uint8_t *from = src + i * s->w * c;
        if (j->flip)
            for (size_t e = 0; e < s->w * c; e++) d[e] = from[e] ^ j->flip;
        else memcpy(d, from, s->w * c);
    }
    if (!nhwc)
        nchw_rows(j->k, dst + (s->pad_h + i0) * prow + side, prow, src + i0 * s->w, s->h * s->w, c, i1 - i0,
                  s->w, j->flip);
}

// dst[0, n) = src[0, n), 16 bytes at a time (may copy up to 15 bytes more).
static inline void copy_over(uint8_t *restrict dst, const uint8_t *restrict src, size_t n) {
    for (size_t o = 0; o < n; o += 16) memcpy(dst + o, src + o, 16);
}

// Rows [m0, m1) of group g's column matrix from the padded NHWC input xp; a row is k_pad
// bytes, the ones past k equal to `fill` (they meet zero weights). The rows are written in
// order, so what a copy writes past its end is overwritten by the next one.
__attribute__((noinline)) static void im2col(uint8_t *restrict col, const uint8_t *restrict xp,
                                             const ffqrt_conv2d_shape *s, const plan *p, size_t m0, size_t m1,
                                             size_t g, uint8_t fill) {
    size_t oh = ffqrt_conv2d_out_h(s), ow = ffqrt_conv2d_out_w(s), c = s->c_in;
    size_t cg = c / s->groups, rowlen = s->kw * cg, prow = p->wp * c;
    int whole_rows = s->dil_w == 1 && s->groups == 1;  // a window row is one run of the input
    size_t b = m0 / p->hw, i = m0 % p->hw / ow, j = m0 % ow;
    if (row_groups(s)) {  // a window row per k-group: 4 bytes from its start (row_groups)
        size_t kh = s->kh, dh = s->dil_h * prow, sh = s->stride_h * prow, sw = s->stride_w * c;
        size_t img = p->hp * prow;
        const uint8_t *rowp = xp + b * img + i * sh;
        for (size_t m = m0; m < m1; m++) {
            const uint8_t *win = rowp + j * sw;
            for (size_t r = 0; r < kh; r++, col += FFQRT_KR) memcpy(col, win + r * dh, FFQRT_KR);
            if (++j == ow) {
                j = 0;
                if (++i == oh) i = 0, b++;
                rowp = xp + b * img + i * sh;
            }
        }
        return;
    }
    if (whole_rows && rowlen <= 32) {  // short window rows (few channels): one or two 16-byte copies
        size_t kh = s->kh, dh = s->dil_h * prow, sh = s->stride_h * prow, sw = s->stride_w * c;
        size_t pad = p->k_pad - p->k, img = p->hp * prow;
        int two = rowlen > 16;
        const uint8_t *rowp = xp + b * img + i * sh;
        for (size_t m = m0; m < m1; m++) {
            const uint8_t *win = rowp + j * sw;
            for (size_t r = 0; r < kh; r++, col += rowlen) {
                memcpy(col, win + r * dh, 16);
                if (two) memcpy(col + 16, win + r * dh + 16, 16);
            }
            for (size_t e = 0; e < pad; e++) *col++ = fill;
            if (++j == ow) {
                j = 0;
                if (++i == oh) i = 0, b++;
                rowp = xp + b * img + i * sh;
            }
        }
        return;
    }
    for (size_t m = m0; m < m1; m++) {
        const uint8_t *win = xp + (b * p->hp + i * s->stride_h) * prow + j * s->stride_w * c + g * cg;
        for (size_t r = 0; r < s->kh; r++) {
            const uint8_t *src = win + r * s->dil_h * prow;
            if (whole_rows) {
                copy_over(col, src, rowlen);
                col += rowlen;
                continue;
            }
            for (size_t t = 0; t < s->kw; t++, col += cg) copy_over(col, src + t * s->dil_w * c, cg);
        }
        for (size_t e = p->k; e < p->k_pad; e++) *col++ = fill;
        if (++j == ow) {
            j = 0;
            if (++i == oh) i = 0, b++;
        }
    }
}

typedef struct cjob {
    const ffqrt_ctx *ctx;
    const ffqrt_conv2d_shape *s;
    const char *packed;
    plan p;
    const uint8_t *x;  // the padded NHWC copy
    const ffqrt_qparam *px, *py;
    int relu, threaded;
    const float *bias;
    char *y, *slots;
    size_t esz;
    uint8_t flip;  // x holds the input bytes xor flip (0x80: s8 made u8)
} cjob;

static const ffqrt_pack_hdr *group_pack(const cjob *j, size_t g) {
    const ffqrt_conv_hdr *h = (const ffqrt_conv_hdr *)j->packed;
    return (const ffqrt_pack_hdr *)(j->packed + sizeof *h + g * h->group_bytes);
}

// The GEMM of group g over output rows [m0, m1), whose column rows are at a (lda apart),
// writing y directly (NHWC) or tmp ([m1 - m0][cog]).
static void gemm_of(const cjob *j, ffqrt_gemm *gm, size_t g, const uint8_t *a, size_t lda, size_t m0,
                    size_t m1, char *tmp) {
    const ffqrt_conv2d_shape *s = j->s;
    size_t cog = j->p.cog;
    ffqrt_gemm_init(gm, group_pack(j, g), a, j->px, m1 - m0, lda);
    gm->k = j->p.k_pad;    // whole k-groups: the column padding meets the zero-padded weights
    gm->a_xor ^= j->flip;  // flipped already (za stays the one of the s8 operand)
    const float *bias = j->bias ? j->bias + g * cog : NULL;
    if (nchw_out(s)) ffqrt_gemm_out(gm, tmp, j->py, j->relu, bias, cog, 1);
    else ffqrt_gemm_out(gm, j->y + (m0 * s->c_out + g * cog) * j->esz, j->py, j->relu, bias, s->c_out, 1);
}

// Channels [c0, c1) of group g from tmp (output rows [m0, m1), cog per row) into the NCHW y.
// Rows m0.. are pixels q.. of image b, maybe running into the next images.
static void store_nchw(const cjob *j, const char *tmp, size_t m0, size_t m1, size_t g, size_t c0, size_t c1) {
    size_t hw = j->p.hw, b = m0 / hw, q = m0 % hw, cog = j->p.cog, rows = m1 - m0, e = j->esz;
    for (size_t r = 0; r < rows; b++, q = 0) {
        size_t run = hw - q < rows - r ? hw - q : rows - r;
        to_channel_major(j->ctx->k, j->y + ((b * j->s->c_out + g * cog + c0) * hw + q) * e, hw,
                         tmp + (r * cog + c0) * e, cog, run, c1 - c0, e);
        r += run;
    }
}

// Output rows [m0, m1) of every group, with the workspace slot `slot`.
static void run_block(const cjob *j, size_t m0, size_t m1, char *slot) {
    const ffqrt_conv2d_shape *s = j->s;
    char *tmp = slot + j->p.col_bytes;
    for (size_t g = 0; g < s->groups; g++) {
        ffqrt_gemm gm;
        if (j->p.direct) {
            gemm_of(j, &gm, g, j->x + m0 * s->c_in, s->c_in, m0, m1, tmp);
        } else {
            gemm_of(j, &gm, g, (const uint8_t *)slot, j->p.k_pad, m0, m1, tmp);
            im2col((uint8_t *)slot, j->x, s, &j->p, m0, m1, g, gm.a_xor);
        }
        if (j->threaded) ffqrt_gemm_run(j->ctx, &gm);
        else ffqrt_gemm_run1(j->ctx->k, &gm);
        if (nchw_out(s)) store_nchw(j, tmp, m0, m1, g, 0, j->p.cog);
    }
}

static void run_part(void *arg, size_t part, size_t parts) {
    const cjob *j = arg;
    size_t b0 = j->p.nblocks * part / parts, b1 = j->p.nblocks * (part + 1) / parts;
    char *slot = j->slots + part * j->p.slot;
    for (size_t b = b0; b < b1; b++) {
        size_t m0 = b * j->p.rows, m1 = m0 + j->p.rows < j->p.m ? m0 + j->p.rows : j->p.m;
        run_block(j, m0, m1, slot);
    }
}

// The whole-matrix mode (one group, few rows): the column matrix of every output row, then
// the threads take runs of output-channel panels, each over every row, so that each reads only
// its share of the weights; the NCHW output of a run's channels is written by its thread.
typedef struct wjob {
    const cjob *j;
    ffqrt_gemm gm;
    char *tmp;
    size_t per;  // panels per unit
} wjob;

static void panels_unit(void *arg, size_t u) {
    const wjob *w = arg;
    size_t panels = (w->gm.n + FFQRT_NR - 1) / FFQRT_NR, p0 = u * w->per;
    size_t p1 = panels - p0 < w->per ? panels : p0 + w->per;
    w->j->ctx->k->gemm_panels(&w->gm, p0, p1, 0, w->gm.m);
    if (!nchw_out(w->j->s)) return;
    size_t c1 = p1 * FFQRT_NR < w->gm.n ? p1 * FFQRT_NR : w->gm.n;
    store_nchw(w->j, w->tmp, 0, w->j->p.m, 0, p0 * FFQRT_NR, c1);
}

static void run_whole(const cjob *j, size_t nt) {
    const ffqrt_kernels *k = j->ctx->k;
    wjob w = {j, {0}, j->slots + ffqrt_round_up(j->p.m * j->p.k_pad + SLACK, 64), 0};
    if (j->p.direct) {
        gemm_of(j, &w.gm, 0, j->x, j->s->c_in, 0, j->p.m, w.tmp);
    } else {
        // on this thread: the copies of a row run into the next one's (SLACK), so rows
        // split between threads would race at the boundaries
        gemm_of(j, &w.gm, 0, (const uint8_t *)j->slots, j->p.k_pad, 0, j->p.m, w.tmp);
        im2col((uint8_t *)j->slots, j->x, j->s, &j->p, 0, j->p.m, 0, w.gm.a_xor);
    }
    if (k->needs_u7) w.gm.a_u7 = k->max_u8(w.gm.a, w.gm.m * w.gm.lda, w.gm.a_xor) <= 127;
    size_t panels = (w.gm.n + FFQRT_NR - 1) / FFQRT_NR;
    w.per = panels >= 2 * nt * PANEL_UNIT ? PANEL_UNIT : (panels + nt - 1) / nt;
    ffqrt_parallel_for(j->ctx->pool, nt, (panels + w.per - 1) / w.per, panels_unit, &w);
}

typedef struct djob {
    const ffqrt_ctx *ctx;
    const ffqrt_conv2d_shape *s;
    ffqrt_dw d;
    const uint8_t *x;     // the padded NHWC copy
    size_t img, rowstep;  // bytes per padded image, per output row
    const ffqrt_qparam *py;
    float lo;
    char *y;     // the output, NHWC (or the NHWC copy of an NCHW one)
    char *nchw;  // the NCHW output, or NULL
    char *slots;
    size_t slot, esz;
} djob;

static void dw_part(void *arg, size_t part, size_t parts) {
    const djob *j = arg;
    const ffqrt_kernels *k = j->ctx->k;
    size_t ow = j->d.ow, c = j->d.c, oh = ffqrt_conv2d_out_h(j->s), r0, r1;
    ffqrt_split(dw_rows(j->s), 1, part, parts, &r0, &r1);
    float *tmp = (float *)(j->slots + part * j->slot);
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *x = j->x + r / oh * j->img + r % oh * j->rowstep;
        char *row = j->y + r * ow * c * j->esz;
        if (!j->py) {
            k->dw_row(&j->d, (float *)row, x);
            continue;
        }
        k->dw_row(&j->d, tmp, x);
        k->quant_run((uint8_t *)row, tmp, ow * c, j->py->scale, j->py->zero_point, (int32_t)j->lo,
                     ffqrt_qmax(j->py->dtype));
    }
}

static void dw_to_nchw(void *arg, size_t b) {
    const djob *j = arg;
    size_t hw = ffqrt_conv2d_out_h(j->s) * j->d.ow, c = j->d.c, img = hw * c * j->esz;
    to_channel_major(j->ctx->k, j->nchw + b * img, hw, j->y + b * img, c, hw, c, j->esz);
}

static void run_depthwise(const ffqrt_ctx *ctx, const ffqrt_conv2d_shape *s, const plan *p, char *y,
                          const ffqrt_qparam *py, int relu, const ffqrt_qparam *px, const void *packed,
                          const float *bias, char *ws) {
    size_t c = s->c_in, cp = dw_cpad(s), pairs = dw_pairs(s), taps = s->kh * s->kw, prow = p->wp * c;
    const char *at = (const char *)packed + sizeof(ffqrt_conv_hdr);
    size_t *off = (size_t *)(ws + p->in_bytes);
    float *scale = (float *)((char *)off + ffqrt_round_up(2 * pairs * sizeof(size_t), 64));
    char *nhwc = ws + p->in_bytes + dw_tables(s);
    for (size_t q = 0; q < 2 * pairs; q++)
        off[q] = q < taps ? (q / s->kw) * s->dil_h * prow + (q % s->kw) * s->dil_w * c : 0;
    const float *wscale = (const float *)at;
    for (size_t ch = 0; ch < cp; ch++) scale[ch] = ch < c ? px->scale * wscale[ch] : 0.0f;
    int nchw = nchw_out(s);
    djob j = {.ctx = ctx,
              .s = s,
              .x = (const uint8_t *)ws,
              .img = p->hp * prow,
              .rowstep = s->stride_h * prow,
              .py = py,
              .y = nchw ? nhwc : y,  // NCHW: written NHWC first, then transposed into y
              .nchw = nchw ? y : NULL,
              .slots = nhwc + dw_nhwc_bytes(s),
              .slot = dw_slot(s),
              .esz = py ? 1 : sizeof(float)};
    j.d.c = c;
    j.d.c_pad = cp;
    j.d.ow = ffqrt_conv2d_out_w(s);
    j.d.pairs = pairs;
    j.d.step = s->stride_w * c;
    j.d.off = off;
    j.d.wsum = (const int32_t *)(at + cp * sizeof(float));
    j.d.w = (const int16_t *)(at + cp * (sizeof(float) + sizeof(int32_t)));
    j.d.scale = scale;
    j.d.bias = bias;
    j.d.za = ffqrt_u8_zero_point(px);  // of the u8 bytes of the copy
    if (py) j.lo = (float)ffqrt_out_lo(py, relu);
    size_t nt = ffqrt_threads_for(ctx, s->n * p->hw * c * taps, PAR_MIN_MACS);
    size_t parts = ffqrt_parts_for(nt), rows = dw_rows(s);
    parts = parts < dw_slots(s) ? parts : dw_slots(s);
    parts = parts < rows ? parts : rows;
    ffqrt_parallel_parts(ctx->pool, nt, parts ? parts : 1, dw_part, &j);
    if (j.nchw)
        ffqrt_parallel_for(ctx->pool, ffqrt_threads_for(ctx, s->n * p->hw * c, 1 << 16), s->n, dw_to_nchw,
                           &j);
}

static ffqrt_status conv(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *x,
                         const ffqrt_qparam *px, const void *packed, const float *bias,
                         const ffqrt_conv2d_shape *s, void *ws) {
    const ffqrt_conv_hdr *h = packed;
    if (!ctx || !shape_ok(s) || !ffqrt_qparam_ok(px) || (py && !ffqrt_qparam_ok(py))) return FFQRT_EINVAL;
    if (!h || (uintptr_t)h % _Alignof(ffqrt_conv_hdr) || h->magic != FFQRT_PACK_MAGIC ||
        h->version != CONV_PACK_VERSION || h->groups != s->groups || h->reserved[0] != s->kh ||
        h->reserved[1] != s->kw || h->reserved[2] != s->c_in / s->groups ||
        h->reserved[3] != (uint64_t)row_groups(s) || h->reserved[4] != (uint64_t)depthwise(s) ||
        h->group_bytes != (depthwise(s) ? 0 : ffqrt_linear_pack_size(s->c_out / s->groups, pack_k(s))))
        return FFQRT_EINVAL;
    for (size_t g = 0; g < s->groups && !depthwise(s); g++) {
        const ffqrt_pack_hdr *ph = ffqrt_pack_hdr_of((const char *)packed + sizeof *h + g * h->group_bytes);
        if (!ph || ph->n != s->c_out / s->groups || ph->k != pack_k(s)) return FFQRT_EINVAL;
    }
    if (s->n * s->c_out == 0) return FFQRT_OK;
    if (!y || !x || !ws) return FFQRT_EINVAL;
    cjob j = {ctx, s, packed, plan_of(s), ws, px, py, relu, 0, bias, y, (char *)ws, py ? 1 : sizeof(float)};
    if (j.p.direct && s->layout & FFQRT_CONV_IN_NHWC) {
        j.x = x;  // already the column matrix
    } else {
        j.flip = px->dtype == FFQRT_S8 ? 0x80 : 0;
        // bands of rows, so that the threads share an image or two too
        size_t pt = ffqrt_threads_for(ctx, s->n * s->c_in * s->h * s->w, PAD_MIN_BYTES);
        size_t bands = pt == 1 || s->n >= 2 * pt ? 1 : (2 * pt + s->n - 1) / s->n;
        bands = bands < s->h ? bands : s->h ? s->h : 1;
        pjob pj = {ctx->k, ws, x, s, j.p.hp, j.p.wp, bands, (uint8_t)((uint8_t)px->zero_point ^ j.flip),
                   j.flip};
        ffqrt_parallel_for(ctx->pool, pt, s->n * bands, pad_band, &pj);
    }
    if (depthwise(s)) {
        run_depthwise(ctx, s, &j.p, y, py, relu, px, packed, bias, ws);
        return FFQRT_OK;
    }
    j.slots += j.p.in_bytes;
    size_t nt = ffqrt_threads_for(ctx, j.p.m * s->c_out * (j.p.k ? j.p.k : 1), PAR_MIN_MACS);
    size_t panels = (j.p.cog + FFQRT_NR - 1) / FFQRT_NR;
    if (nt > 1 && j.p.whole_bytes && j.p.nblocks < 2 * nt && panels >= nt) {
        run_whole(&j, nt);
    } else if (nt > 1 && j.p.nblocks >= nt) {
        size_t parts = ffqrt_parts_for(nt);
        parts = parts < slots_of(&j.p) ? parts : slots_of(&j.p);
        ffqrt_parallel_parts(ctx->pool, nt, parts, run_part, &j);
    } else {
        j.threaded = nt > 1;
        run_part(&j, 0, 1);
    }
    return FFQRT_OK;
}

ffqrt_status ffqrt_conv2d_f32(const ffqrt_ctx *ctx, float *y, const void *x, const ffqrt_qparam *px,
                              const void *packed, const float *bias, const ffqrt_conv2d_shape *s,
                              void *workspace) {
    return conv(ctx, y, NULL, 0, x, px, packed, bias, s, workspace);
}

ffqrt_status ffqrt_conv2d_q(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *x,
                            const ffqrt_qparam *px, const void *packed, const float *bias,
                            const ffqrt_conv2d_shape *s, void *workspace) {
    if (!py) return FFQRT_EINVAL;
    return conv(ctx, y, py, relu, x, px, packed, bias, s, workspace);
}

size_t ffqrt_conv2d_static_workspace_size(const ffqrt_conv2d_shape *s) {
    if (!shape_ok(s)) return 0;
    return ffqrt_round_up(s->n * s->c_in * s->h * s->w, 64) + ffqrt_conv2d_workspace_size(s);
}

ffqrt_status ffqrt_conv2d_static(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                 const float *x, const ffqrt_qparam *px, const void *packed,
                                 const float *bias, const ffqrt_conv2d_shape *s, void *workspace) {
    if (!ctx || !shape_ok(s) || !ffqrt_qparam_ok(px) || (px->dtype != FFQRT_S8 && px->dtype != FFQRT_U8))
        return FFQRT_EINVAL;
    size_t nx = s->n * s->c_in * s->h * s->w;
    if (nx && (!x || !workspace)) return FFQRT_EINVAL;
    uint8_t *q = workspace;
    ffqrt_quant_flat(ctx, q, x, nx, px->scale, px->zero_point, ffqrt_qmin(px->dtype), ffqrt_qmax(px->dtype),
                     0);
    return conv(ctx, y, py, relu, q, px, packed, bias, s, workspace ? q + ffqrt_round_up(nx, 64) : NULL);
}

// ---- NHWC -> NCHW for bytes ----

typedef struct xjob {
    const ffqrt_kernels *k;
    uint8_t *y;
    const uint8_t *x;
    size_t hw, c;
} xjob;

static void nchw_image(void *arg, size_t b) {
    const xjob *j = arg;
    to_channel_major(j->k, j->y + b * j->hw * j->c, j->hw, j->x + b * j->hw * j->c, j->c, j->hw, j->c, 1);
}

ffqrt_status ffqrt_nhwc_to_nchw8(const ffqrt_ctx *ctx, void *y, const void *x, size_t n, size_t c,
                                 size_t hw) {
    if (!ctx || (n * c * hw != 0 && (!x || !y))) return FFQRT_EINVAL;
    xjob j = {ctx->k, y, x, hw, c};
    ffqrt_parallel_for(ctx->pool, ffqrt_threads_for(ctx, n * c * hw, 1 << 16), n, nchw_image, &j);
    return FFQRT_OK;
}
