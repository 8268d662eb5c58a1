// gemm.c: weight packing and the drivers of the int8 linear layer and matmul. The GEMM is
// split over output-channel panels (or rows) between threads; the kernel table does the
// rest.
#define _GNU_SOURCE  // MADV_HUGEPAGE
#include <assert.h>
#include <string.h>
#include <sys/mman.h>

#include "kernels.h"
#include "threads.h"

enum {
    PAR_MIN_MACS = 1 << 19,        // per thread, at least
    PANEL_ALIGN = 4,               // panels per block of the SIMD kernels
    ROW_ALIGN = 24,                // threads split the rows only when each gets two units of this many
    ROW_ALIGN_AMX = 32,            // the same for the AMX kernel (pairs of 16-row tiles)
    UNIT_ROWS = 64,                // rows per unit when threads split the rows, about
    FUSE_MAX_WEIGHTS = 512 << 10,  // linear_static: row units quantize their own rows up to this pack size
    BATCH_SPLIT_MACS = 1 << 24     // matmul_batch: larger products are each split over the threads
};

typedef struct pack_dims {
    size_t n_pad, k_pad, colsum_off, scale_off, bits_off, group_off, total;
} pack_dims;

static pack_dims dims_of(size_t n, size_t k) {
    pack_dims d;
    d.n_pad = ffqrt_round_up(n, FFQRT_NR);
    d.k_pad = ffqrt_round_up(k, FFQRT_KR);
    d.colsum_off = sizeof(ffqrt_pack_hdr);
    d.scale_off = d.colsum_off + ffqrt_round_up(d.n_pad * sizeof(int32_t), 64);
    d.bits_off = d.scale_off + ffqrt_round_up(d.n_pad * sizeof(float), 64);
    d.group_off = d.bits_off + ffqrt_m128_bytes(d.n_pad, d.k_pad);
    d.total = d.group_off + d.n_pad * d.k_pad;
    return d;
}

size_t ffqrt_linear_pack_size(size_t n, size_t k) { return dims_of(n, k).total; }

// Marks k-group kk / FFQRT_KR of panel p in a pack's -128 bitmap (layout.h).
static void mark_m128(uint64_t *bits, size_t words, size_t p, size_t kk) {
    bits[p * words + kk / FFQRT_KR / 64] |= (uint64_t)1 << (kk / FFQRT_KR % 64);
}

// The header flags of a pack whose bitmap is complete.
static uint16_t m128_flags(const uint64_t *bits, size_t nwords) {
    for (size_t i = 0; i < nwords; i++)
        if (bits[i]) return 0;
    return FFQRT_PACK_NO_M128;
}

// Copies w (n x k, row-major) into panels, zero padded; colsum[j] = sum_k w[j][k].
ffqrt_status ffqrt_linear_pack(void *packed, const int8_t *w, const float *w_scale, size_t n, size_t k) {
    return ffqrt_pack_cols(packed, w, w_scale, n, k, NULL);
}

// As ffqrt_linear_pack, column kk of row j taken from w[j * k + col[kk]] (col NULL: kk).
ffqrt_status ffqrt_pack_cols(void *packed, const int8_t *w, const float *w_scale, size_t n, size_t k,
                             const uint32_t *col) {
    return ffqrt_pack_cols_n(packed, w, k, w_scale, n, k, col);
}

// The GEMM streams the packed weights from memory on every call (once per row chunk). On
// 4 KiB pages that is a TLB miss every 4 KiB of weights, and a costly one under
// virtualization: measured on a shared VM, 2 MiB pages made 4096 x 4096 linears 1.4-1.9x
// as fast for M <= 16 and 1.1-1.3x at M = 128. So the 2 MiB-aligned interior of
// a pack buffer is advised for transparent huge pages before its first write. A hint only:
// ignored where unsupported, and it does not move memory that is already in place.
static void advise_huge_pages(void *p, size_t n) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + n) & ~(huge - 1);
    if (b < e) (void)madvise((void *)b, e - b, MADV_HUGEPAGE);
#else
    (void)p, (void)n;
#endif
}

// As ffqrt_pack_cols with rows of w that are ldw long: column kk of row j is w[j * ldw +
// col[kk]], or 0 where col[kk] is FFQRT_COL_ZERO (col NULL: w[j * ldw + kk]).
ffqrt_status ffqrt_pack_cols_n(void *packed, const int8_t *w, size_t ldw, const float *w_scale, size_t n,
                               size_t k, const uint32_t *col) {
    if (!packed || k > FFQRT_MAX_K || (n && (!w_scale || (k && !w)))) return FFQRT_EINVAL;
    for (size_t j = 0; j < n; j++)
        if (!ffqrt_scale_ok(w_scale[j])) return FFQRT_EINVAL;
    pack_dims d = dims_of(n, k);
    advise_huge_pages(packed, d.total);
    memset(packed, 0, d.total);
    ffqrt_pack_hdr h = {FFQRT_PACK_MAGIC, FFQRT_PACK_VERSION, 0,           n,          k, d.n_pad,
                        d.k_pad,          d.colsum_off,       d.scale_off, d.group_off};
    int32_t *colsum = (int32_t *)((char *)packed + d.colsum_off);
    float *scale = (float *)((char *)packed + d.scale_off);
    int8_t *groups = (int8_t *)packed + d.group_off;
    uint64_t *bits = (uint64_t *)((char *)packed + d.bits_off);
    size_t words = ffqrt_m128_words(d.k_pad);
    for (size_t j = 0; j < n; j++) {
        scale[j] = w_scale[j];
        // row j's bytes go FFQRT_KR at a time into consecutive groups of its panel
        // (ffqrt_pack_index); the sum stays in a local (int8 stores may alias colsum[j])
        int8_t *dst = groups + ffqrt_pack_index(d.k_pad, j, 0);
        const int8_t *row = w + j * ldw;
        int32_t sum = 0;
        for (size_t kk = 0; kk < k; kk++) {
            size_t at = col ? col[kk] : kk;
            int8_t v = at == FFQRT_COL_ZERO ? 0 : row[at];
            sum += v;
            if (v == -128) mark_m128(bits, words, j / FFQRT_NR, kk);
            dst[kk / FFQRT_KR * sizeof(ffqrt_wgroup) + kk % FFQRT_KR] = v;
        }
        colsum[j] = sum;
    }
    h.flags = m128_flags(bits, d.n_pad / FFQRT_NR * words);
    memcpy(packed, &h, sizeof h);
    return FFQRT_OK;
}

// The header of a pack, or NULL when it is not one: every size and offset the kernels read
// must be the one its n and k give (a header written over, or bytes that are no pack, would
// otherwise send them outside the buffer).
const ffqrt_pack_hdr *ffqrt_pack_hdr_of(const void *packed) {
    const ffqrt_pack_hdr *h = packed;
    if (!h || (uintptr_t)h % _Alignof(ffqrt_pack_hdr)) return NULL;  // (bytes at an odd address)
    if (h->magic != FFQRT_PACK_MAGIC || h->version != FFQRT_PACK_VERSION) return NULL;
    if (h->k > FFQRT_MAX_K || h->n > ((uint64_t)1 << 40) || (h->flags & ~FFQRT_PACK_NO_M128)) return NULL;
    pack_dims d = dims_of(h->n, h->k);
    if (h->n_pad != d.n_pad || h->k_pad != d.k_pad || h->colsum_off != d.colsum_off ||
        h->scale_off != d.scale_off || h->group_off != d.group_off)
        return NULL;
    return h;
}

static size_t panels_of(const ffqrt_gemm *g) { return (g->n + FFQRT_NR - 1) / FFQRT_NR; }

// Threads take units of work: runs of whole panel blocks (all rows), or, when there are
// too few panel blocks to go round, runs of rows (all panels).
ffqrt_status ffqrt_linear_pack_dims(const void *packed, size_t *n, size_t *k) {
    const ffqrt_pack_hdr *h = ffqrt_pack_hdr_of(packed);
    if (!h || !n || !k) return FFQRT_EINVAL;
    *n = h->n;
    *k = h->k;
    return FFQRT_OK;
}

// Rows of the kernel's register tile (AMX: a pair of 16-row tiles); row units are whole tiles.
static size_t row_tile(int isa) { return isa == FFQRT_ISA_AMX ? 2 * 16 : isa == FFQRT_ISA_AVX2 ? 4 : 6; }

// Row units for m rows on nt threads: as many for every thread, of about UNIT_ROWS rows (at
// least one each), split evenly in whole tiles by ffqrt_split. Equal shares when the threads
// start at once (128 rows on 2 threads: 66 + 62 rows, where 24-row units gave 72 + 56), and
// on taller inputs a few a thread, so that a late thread's share is taken by the others.
static size_t row_parts(size_t m, size_t nt) {
    size_t parts = m / UNIT_ROWS / nt * nt, most = ffqrt_parts_for(nt);
    return parts < nt ? nt : parts > most ? most : parts;
}

typedef struct gjob {
    const ffqrt_kernels *k;
    const ffqrt_gemm *g;
    int by_rows;
    size_t per;    // panels per unit
    size_t parts;  // by rows: units (row_parts)
} gjob;

static void gemm_unit(void *arg, size_t u) {
    const gjob *j = arg;
    const ffqrt_gemm *g = j->g;
    size_t p0 = 0, p1 = panels_of(g), m0 = 0, m1 = g->m;
    if (j->by_rows) {
        ffqrt_split(g->m, row_tile(j->k->isa), u, j->parts, &m0, &m1);
    } else {
        p0 = u * j->per;
        p1 = p1 - p0 < j->per ? p1 : p0 + j->per;
    }
    j->k->gemm_panels(g, p0, p1, m0, m1);
}

// Fills the weight / activation part of g.
void ffqrt_gemm_init(ffqrt_gemm *g, const ffqrt_pack_hdr *h, const void *a, const ffqrt_qparam *pa, size_t m,
                     size_t lda) {
    memset(g, 0, sizeof *g);
    g->a = a;
    g->m = m;
    g->k = h->k;
    g->lda = lda;
    g->a_xor = pa->dtype == FFQRT_S8 ? 0x80 : 0;
    g->za = ffqrt_u8_zero_point(pa);
    g->sa = pa->scale;
    g->groups = ffqrt_pack_groups(h);
    g->colsum = ffqrt_pack_colsum(h);
    g->wscale = ffqrt_pack_scale(h);
    g->n = h->n;
    g->k_pad = h->k_pad;
    g->w_no_m128 = (h->flags & FFQRT_PACK_NO_M128) != 0;
    g->m128_bits = ffqrt_pack_m128(h);
}

// Output stage: f32 when py is NULL, else int8 with the relu-folded clamp.
void ffqrt_gemm_out(ffqrt_gemm *g, void *y, const ffqrt_qparam *py, int relu, const float *bias, size_t ldy_m,
                    size_t ldy_n) {
    g->y = y;
    g->bias = bias;
    g->ldy_m = ldy_m;
    g->ldy_n = ldy_n;
    g->out_kind = !py ? FFQRT_OUT_F32 : py->dtype == FFQRT_S8 ? FFQRT_OUT_S8 : FFQRT_OUT_U8;
    if (!py) return;
    int32_t lo = ffqrt_out_lo(py, relu);
    g->sy = py->scale;
    g->ry = ffqrt_recip(py->scale);
    g->zy = (float)py->zero_point;
    g->ylo = (float)lo;
    g->yhi = (float)ffqrt_qmax(py->dtype);
}

// All of g on the calling thread (a_u7 decided from the data as in ffqrt_gemm_run).
void ffqrt_gemm_run1(const ffqrt_kernels *k, ffqrt_gemm *g) {
    if (g->m == 0 || g->n == 0) return;
    if (k->needs_u7) g->a_u7 = k->max_u8(g->a, g->m * g->lda, g->a_xor) <= 127;
    k->gemm_panels(g, 0, panels_of(g), 0, g->m);
}

// a_u7 is decided here from the data (all m * lda bytes are scanned).
void ffqrt_gemm_run(const ffqrt_ctx *ctx, ffqrt_gemm *g) {
    if (g->m == 0 || g->n == 0) return;
    if (ctx->k->needs_u7) g->a_u7 = ctx->k->max_u8(g->a, g->m * g->lda, g->a_xor) <= 127;
    size_t nt = ffqrt_threads_for(ctx, g->m * g->n * (g->k ? g->k : 1), PAR_MIN_MACS);
    size_t panels = panels_of(g), blocks = (panels + PANEL_ALIGN - 1) / PANEL_ALIGN;
    if (nt == 1) {
        ctx->k->gemm_panels(g, 0, panels, 0, g->m);
        return;
    }
    size_t target = ffqrt_parts_for(nt);  // units wanted
    gjob j = {ctx->k, g, blocks < 2 * nt && g->m >= 2 * nt * ROW_ALIGN, 0, 0};
    if (j.by_rows) {
        j.parts = row_parts(g->m, nt);
        ffqrt_parallel_for(ctx->pool, nt, j.parts, gemm_unit, &j);
        return;
    }
    j.per = (blocks / target > 1 ? blocks / target : 1) * PANEL_ALIGN;
    ffqrt_parallel_for(ctx->pool, nt, (panels + j.per - 1) / j.per, gemm_unit, &j);
}

static ffqrt_status linear(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *a,
                           const ffqrt_qparam *pa, const void *packed, const float *bias, size_t m) {
    const ffqrt_pack_hdr *h = ffqrt_pack_hdr_of(packed);
    if (!ctx || !h || !ffqrt_qparam_ok(pa) || (py && !ffqrt_qparam_ok(py))) return FFQRT_EINVAL;
    if (m && h->n && (!y || (h->k && !a))) return FFQRT_EINVAL;
    ffqrt_gemm g;
    ffqrt_gemm_init(&g, h, a, pa, m, h->k);
    ffqrt_gemm_out(&g, y, py, relu, bias, h->n, 1);
    ffqrt_gemm_run(ctx, &g);
    return FFQRT_OK;
}

ffqrt_status ffqrt_linear_f32(const ffqrt_ctx *ctx, float *y, const void *a, const ffqrt_qparam *pa,
                              const void *packed, const float *bias, size_t m) {
    return linear(ctx, y, NULL, 0, a, pa, packed, bias, m);
}

ffqrt_status ffqrt_linear_q(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *a,
                            const ffqrt_qparam *pa, const void *packed, const float *bias, size_t m) {
    if (!py) return FFQRT_EINVAL;
    return linear(ctx, y, py, relu, a, pa, packed, bias, m);
}

size_t ffqrt_linear_dynamic_workspace_size(size_t m, size_t k) { return m * k; }

// linear_static with a small pack (read by every thread from its own cache) and several
// row units: each unit quantizes its rows of x into the workspace and runs them through
// the GEMM, all in one parallel call (the codes are still in the cache when the GEMM reads
// them, and there is one fork and join instead of two). Larger packs split by panels as
// ffqrt_gemm_run does, so that each thread streams only its share of the weights.
// Measured on 128 rows, 2 threads: 256 x 256 23.5 -> 15 us (AMX), 33 -> 28 us (AVX-512
// VNNI), 80 -> 71 us (AVX2); 1024 -> 256 63 -> 35 us (AMX), 101 -> 78 us (AVX-512 VNNI),
// 312 -> 270 us (AVX2), 121 -> 90 us (AVX-VNNI).
typedef struct static_rows {
    const ffqrt_kernels *k;
    const ffqrt_gemm *g;
    const float *x;
    uint8_t *ws;
    float scale;
    int32_t zp, lo, hi;
    uint8_t flip;
    size_t parts;  // units (row_parts)
} static_rows;

static void static_unit(void *arg, size_t u) {
    const static_rows *j = arg;
    const ffqrt_gemm *g = j->g;
    size_t m0, m1;
    ffqrt_split(g->m, row_tile(j->k->isa), u, j->parts, &m0, &m1);
    ffqrt_quant_range(j->k, j->ws + m0 * g->k, j->x + m0 * g->k, (m1 - m0) * g->k, j->scale, j->zp, j->lo,
                      j->hi, j->flip);
    ffqrt_gemm gl = *g;
    if (j->k->needs_u7) gl.a_u7 = j->k->max_u8(j->ws + m0 * g->k, (m1 - m0) * g->k, 0) <= 127;
    j->k->gemm_panels(&gl, 0, panels_of(g), m0, m1);
}

// j: the quantization of x (grid, bounds, flip), filled in by the caller; returns 0 (and does
// nothing) when the call should split by panels instead.
static int static_by_rows(const ffqrt_ctx *ctx, const ffqrt_pack_hdr *h, size_t m, void *y,
                          const ffqrt_qparam *py, int relu, const ffqrt_qparam *pu, const float *bias,
                          static_rows *j) {
    // every variant (the 256-bit ones were 5 % slower so while rows went in 24-row units, each
    // streaming the whole pack again; in row_parts' units 10-25 % faster on small packs)
    size_t ra = ctx->k->isa == FFQRT_ISA_AMX ? ROW_ALIGN_AMX : ROW_ALIGN;
    if (h->n == 0 || h->k == 0 || h->n_pad * h->k_pad > FUSE_MAX_WEIGHTS || m < 2 * ra) return 0;
    size_t nt = ffqrt_threads_for(ctx, m * h->n * h->k, PAR_MIN_MACS);
    if (nt == 1) return 0;
    ffqrt_gemm g;
    ffqrt_gemm_init(&g, h, j->ws, pu, m, h->k);
    ffqrt_gemm_out(&g, y, py, relu, bias, h->n, 1);
    j->g = &g;
    j->parts = row_parts(m, nt);
    ffqrt_parallel_for(ctx->pool, nt, j->parts, static_unit, j);
    return 1;
}

// x quantized onto (scale, zp) within [lo, hi], flipped by `flip`, into the workspace as the
// u8 codes of grid pu, then the linear: fused row units where static_by_rows takes the call,
// else one parallel pass to quantize and the GEMM after it.
static ffqrt_status quantized_linear(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                     const float *x, const ffqrt_pack_hdr *h, const void *packed,
                                     const float *bias, size_t m, void *workspace, const ffqrt_qparam *pu,
                                     float scale, int32_t zp, int32_t lo, int32_t hi, uint8_t flip) {
    static_rows j = {
        .k = ctx->k, .x = x, .ws = workspace, .scale = scale, .zp = zp, .lo = lo, .hi = hi, .flip = flip};
    if (static_by_rows(ctx, h, m, y, py, relu, pu, bias, &j)) return FFQRT_OK;
    ffqrt_quant_flat(ctx, workspace, x, m * h->k, scale, zp, lo, hi, flip);
    return linear(ctx, y, py, relu, workspace, pu, packed, bias, m);
}

ffqrt_status ffqrt_linear_static(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                 const float *x, const ffqrt_qparam *pa, const void *packed,
                                 const float *bias, size_t m, void *workspace) {
    const ffqrt_pack_hdr *h = ffqrt_pack_hdr_of(packed);
    if (!ctx || !h || !ffqrt_qparam_ok(pa) || (py && !ffqrt_qparam_ok(py))) return FFQRT_EINVAL;
    if (pa->dtype != FFQRT_S8 && pa->dtype != FFQRT_U8) return FFQRT_EINVAL;
    if (m && h->k && (!x || !workspace)) return FFQRT_EINVAL;
    // s8 codes are written flipped to u8 (zero point + 128: the same differences a - za), so
    // the GEMM reads them as they are instead of flipping every broadcast
    int flip = pa->dtype == FFQRT_S8;
    ffqrt_qparam pu = {pa->scale, pa->zero_point + (flip ? 128 : 0), FFQRT_U8};
    return quantized_linear(ctx, y, py, relu, x, h, packed, bias, m, workspace, &pu, pa->scale,
                            pa->zero_point, ffqrt_qmin(pa->dtype), ffqrt_qmax(pa->dtype), flip ? 0x80 : 0);
}

ffqrt_status ffqrt_linear_dynamic(const ffqrt_ctx *ctx, float *y, const float *x, const void *packed,
                                  const float *bias, size_t m, void *workspace) {
    const ffqrt_pack_hdr *h = ffqrt_pack_hdr_of(packed);
    if (!ctx || !h || (m && h->k && (!x || !workspace))) return FFQRT_EINVAL;
    float lo = 0.0f, hi = 0.0f;
    ffqrt_minmax(ctx, &lo, &hi, x, m * h->k);
    if (!(lo <= hi)) lo = hi = 0.0f;  // no data, or only NaN
    ffqrt_qparam pa = {1.0f, 0, FFQRT_U8};
    ffqrt_qparams_from_range(&pa.scale, &pa.zero_point, lo, hi, FFQRT_U8, 0, 1);
    // then as linear_static onto that 7-bit grid
    return quantized_linear(ctx, y, NULL, 0, x, h, packed, bias, m, workspace, &pa, pa.scale, pa.zero_point,
                            0, 127, 0);
}

// ---- matmul of two activation tensors ----
//
// Per product, the right-hand side x (k x n) is packed like linear weights: w[j][k] =
// x[k][j] as s8 (u8 bytes are flipped by 0x80, i.e. minus 128, and zx with them), with the
// per-tensor scale for every channel. Then (a - za) * (x - zx) = (a - za) * w - zw * (a - za),
// and the second term, summed over k, is a per-row correction: rowcorr[i] = zw * sum_k
// (a[i][k] - za), all in wrapping 32-bit arithmetic like the rest of the output stage.

static size_t rowcorr_off(size_t k, size_t n) { return ffqrt_round_up(dims_of(n, k).total, 64); }

size_t ffqrt_matmul_workspace_size(size_t m, size_t k, size_t n) {
    return rowcorr_off(k, n) + ffqrt_round_up(m * sizeof(int32_t), 64);
}

// Whether one of the 4 bytes of v is 0x80 (an s8 -128).
static inline int has_m128(uint32_t v) {
    uint32_t t = v ^ 0x80808080u;
    return ((t - 0x01010101u) & ~t & 0x80808080u) != 0;
}

// The pack's header, zeroed sums, bitmap and padding; the scales set to px's.
static pack_dims pack_begin(void *packed, const ffqrt_qparam *px, size_t k, size_t n) {
    pack_dims d = dims_of(n, k);
    memset((char *)packed + d.colsum_off, 0, d.total - d.colsum_off);
    float *scale = (float *)((char *)packed + d.scale_off);
    for (size_t j = 0; j < n; j++) scale[j] = px->scale;
    return d;
}

static void pack_end(void *packed, pack_dims d, size_t k, size_t n) {
    ffqrt_pack_hdr h = {FFQRT_PACK_MAGIC, FFQRT_PACK_VERSION, 0,           n,          k, d.n_pad,
                        d.k_pad,          d.colsum_off,       d.scale_off, d.group_off};
    h.flags =
        m128_flags((uint64_t *)((char *)packed + d.bits_off), d.n_pad / FFQRT_NR * ffqrt_m128_words(d.k_pad));
    memcpy(packed, &h, sizeof h);
}

// colsum[j] += sum_kk (int8_t)(x[kk * n + j] ^ flip) for j < n (SSE2: 16 columns at a time
// in 16-bit sums of the bytes flipped to unsigned, carried over every 256 rows).
static void col_sums(int32_t *colsum, const uint8_t *x, size_t k, size_t n, uint8_t flip) {
    size_t j = 0;
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128(), mask = _mm_set1_epi8((char)(flip ^ 0x80));
    for (; j + 16 <= n; j += 16) {
        int32_t total[16] = {0};
        for (size_t k0 = 0; k0 < k; k0 += 256) {
            size_t k1 = k - k0 < 256 ? k : k0 + 256;
            __m128i lo = zero, hi = zero;
            for (size_t kk = k0; kk < k1; kk++) {
                __m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + kk * n + j)), mask);
                lo = _mm_add_epi16(lo, _mm_unpacklo_epi8(v, zero));
                hi = _mm_add_epi16(hi, _mm_unpackhi_epi8(v, zero));
            }
            uint16_t l[8], h[8];
            _mm_storeu_si128((__m128i *)l, lo);
            _mm_storeu_si128((__m128i *)h, hi);
            for (int t = 0; t < 8; t++) total[t] += l[t], total[8 + t] += h[t];
        }
        for (int t = 0; t < 16; t++) colsum[j + t] += total[t] - 128 * (int32_t)k;
    }
#endif
    for (; j < n; j++) {
        int32_t sum = 0;
        for (size_t kk = 0; kk < k; kk++) sum += (int8_t)(x[kk * n + j] ^ flip);
        colsum[j] += sum;
    }
}

// Packs x (k x n, dtype of px) into packed (as ffqrt_linear_pack would pack w = x^T): four
// rows of x at a time make one group of every panel, whose 16 columns x 4 bytes are one
// contiguous 64-byte line (SSE2: interleaved from the four rows' 16 bytes).
static void pack_rhs(void *packed, const uint8_t *x, const ffqrt_qparam *px, size_t k, size_t n) {
    pack_dims d = pack_begin(packed, px, k, n);
    int32_t *colsum = (int32_t *)((char *)packed + d.colsum_off);
    int8_t *groups = (int8_t *)packed + d.group_off;
    uint8_t flip = px->dtype == FFQRT_U8 ? 0x80 : 0;
    uint64_t *bits = (uint64_t *)((char *)packed + d.bits_off);
    size_t words = ffqrt_m128_words(d.k_pad), kg = d.k_pad / FFQRT_KR;
    for (size_t g = 0; g < kg; g++) {
        size_t k0 = g * FFQRT_KR;
        const uint8_t *r[FFQRT_KR];
        for (size_t t = 0; t < FFQRT_KR; t++) r[t] = k0 + t < k ? x + (k0 + t) * n : NULL;
        for (size_t p = 0; p < d.n_pad / FFQRT_NR; p++) {
            uint8_t *dst = (uint8_t *)groups + (p * kg + g) * sizeof(ffqrt_wgroup);
            size_t j0 = p * FFQRT_NR, j1 = n - j0 < FFQRT_NR ? n - j0 : FFQRT_NR;
#if defined(__SSE2__) && FFQRT_KR == 4 && FFQRT_NR == 16
            if (j1 == FFQRT_NR && r[3]) {
                const __m128i f = _mm_set1_epi8((char)flip), m = _mm_set1_epi8((char)0x80);
                __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r[0] + j0)), f);
                __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r[1] + j0)), f);
                __m128i c = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r[2] + j0)), f);
                __m128i e = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r[3] + j0)), f);
                __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
                __m128i ce0 = _mm_unpacklo_epi8(c, e), ce1 = _mm_unpackhi_epi8(c, e);
                _mm_storeu_si128((__m128i *)dst, _mm_unpacklo_epi16(ab0, ce0));
                _mm_storeu_si128((__m128i *)(dst + 16), _mm_unpackhi_epi16(ab0, ce0));
                _mm_storeu_si128((__m128i *)(dst + 32), _mm_unpacklo_epi16(ab1, ce1));
                _mm_storeu_si128((__m128i *)(dst + 48), _mm_unpackhi_epi16(ab1, ce1));
                __m128i any = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, m), _mm_cmpeq_epi8(b, m)),
                                           _mm_or_si128(_mm_cmpeq_epi8(c, m), _mm_cmpeq_epi8(e, m)));
                if (_mm_movemask_epi8(any)) mark_m128(bits, words, p, k0);
                continue;
            }
#endif
            uint32_t m128 = 0;
            for (size_t j = 0; j < j1; j++) {
                uint32_t v = 0;
                for (size_t t = 0; t < FFQRT_KR; t++)
                    v |= (uint32_t)(r[t] ? (uint8_t)(r[t][j0 + j] ^ flip) : 0) << (8 * t);
                memcpy(dst + j * FFQRT_KR, &v, 4);
                m128 |= (uint32_t)has_m128(v);
            }
            if (m128) mark_m128(bits, words, p, k0);
        }
    }
    col_sums(colsum, x, k, n, flip);
    pack_end(packed, d, k, n);
}

// x^T given by rows (x is n x k, row j the right-hand side's column j: the key of q @ k^T)
// packed as pack_rhs packs the k x n x: each row's groups of 4 bytes go into its panel as
// linear weights do.
static void pack_rhs_nk(void *packed, const uint8_t *x, const ffqrt_qparam *px, size_t k, size_t n) {
    pack_dims d = pack_begin(packed, px, k, n);
    int32_t *colsum = (int32_t *)((char *)packed + d.colsum_off);
    int8_t *groups = (int8_t *)packed + d.group_off;
    uint8_t flip = px->dtype == FFQRT_U8 ? 0x80 : 0;
    uint32_t flip4 = flip * 0x01010101u;
    uint64_t *bits = (uint64_t *)((char *)packed + d.bits_off);
    size_t words = ffqrt_m128_words(d.k_pad), full = k / FFQRT_KR * FFQRT_KR;
    for (size_t j = 0; j < n; j++) {
        uint8_t *dst = (uint8_t *)groups + ffqrt_pack_index(d.k_pad, j, 0);
        const uint8_t *row = x + j * k;
        for (size_t kk = 0; kk < full; kk += FFQRT_KR) {
            uint32_t v;
            memcpy(&v, row + kk, 4);
            v ^= flip4;
            memcpy(dst + kk / FFQRT_KR * sizeof(ffqrt_wgroup), &v, 4);
            if (has_m128(v)) mark_m128(bits, words, j / FFQRT_NR, kk);
        }
        for (size_t kk = full; kk < k; kk++) {
            int8_t v = (int8_t)(row[kk] ^ flip);
            if (v == -128) mark_m128(bits, words, j / FFQRT_NR, kk);
            dst[kk / FFQRT_KR * sizeof(ffqrt_wgroup) + kk % FFQRT_KR] = (uint8_t)v;
        }
        colsum[j] = ffqrt_sum_s8(row, k, flip);
    }
    pack_end(packed, d, k, n);
}

// One product of a batch (a: m x k, b: k x n, or n x k with FFQRT_MATMUL_B_NK).
typedef struct mm_args {
    void *y;
    const ffqrt_qparam *py, *pa, *pb;
    int relu;
    const uint8_t *a, *b;
    size_t m, k, n, esz;
    unsigned flags;
} mm_args;

// Product t of the batch with its pack in ws: on the pool's threads with ctx, else on the
// calling thread (kernels k).
static void matmul_one(const ffqrt_ctx *ctx, const ffqrt_kernels *k, const mm_args *j, size_t t, void *ws) {
    size_t m = j->m, kk = j->k, n = j->n;
    const uint8_t *at = j->a + t * m * kk, *bt = j->b + t * kk * n;
    if (j->flags & FFQRT_MATMUL_B_NK) pack_rhs_nk(ws, bt, j->pb, kk, n);
    else pack_rhs(ws, bt, j->pb, kk, n);
    int32_t *rowcorr = (int32_t *)((char *)ws + rowcorr_off(kk, n));
    int32_t zw = j->pb->zero_point - (j->pb->dtype == FFQRT_U8 ? 128 : 0);
    int a_signed = j->pa->dtype == FFQRT_S8;
    for (size_t i = 0; i < m; i++) {
        // (no row sums needed when zw is 0)
        const uint8_t *row = at + i * kk;
        int32_t s = zw == 0    ? 0
                    : a_signed ? ffqrt_sum_s8(row, kk, 0)
                               : ffqrt_sum_s8(row, kk, 0x80) + 128 * (int32_t)kk;
        uint32_t d = (uint32_t)s - (uint32_t)kk * (uint32_t)j->pa->zero_point;
        rowcorr[i] = (int32_t)((uint32_t)zw * d);
    }
    ffqrt_gemm g;
    ffqrt_gemm_init(&g, ffqrt_pack_hdr_of(ws), at, j->pa, m, kk);
    ffqrt_gemm_out(&g, (char *)j->y + t * m * n * j->esz, j->py, j->relu, NULL, n, 1);
    g.rowcorr = rowcorr;
    if (ctx) ffqrt_gemm_run(ctx, &g);
    else ffqrt_gemm_run1(k, &g);
}

static ffqrt_status mm_check(const ffqrt_ctx *ctx, const void *y, const ffqrt_qparam *py, const void *a,
                             const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t batch,
                             size_t m, size_t k, size_t n, const void *ws) {
    if (!ctx || !ffqrt_qparam_ok(pa) || !ffqrt_qparam_ok(pb) || (py && !ffqrt_qparam_ok(py)) ||
        k > FFQRT_MATMUL_MAX_K)
        return FFQRT_EINVAL;
    if (batch == 0 || m == 0 || n == 0) return FFQRT_OK;
    if (!y || !ws || (k && (!a || !b))) return FFQRT_EINVAL;
    return FFQRT_OK;
}

// ffqrt_matmul_batch: products as units of the pool, each packing into its own part of the
// workspace, when the batch keeps the threads busy and the products are small (attention:
// 12 heads of 197 x 64 x 197 took 389 us one product after the other, each split over the
// threads, with its pack and row sums on one thread); else one after the other, each on
// all threads.
typedef struct mm_job {
    const ffqrt_ctx *ctx;
    const mm_args *args;
    char *ws;
    size_t slot;
} mm_job;

static void mm_unit(void *arg, size_t t) {
    const mm_job *j = arg;
    matmul_one(NULL, j->ctx->k, j->args, t, j->ws + t * j->slot);
}

static size_t mm_slot(size_t m, size_t k, size_t n) {
    return ffqrt_round_up(ffqrt_matmul_workspace_size(m, k, n), 64);
}

size_t ffqrt_matmul_batch_workspace_size(size_t batch, size_t m, size_t k, size_t n) {
    return (batch ? batch : 1) * mm_slot(m, k, n);
}

// The products of a batch; with `slots` (a workspace part for each product) as units of the
// pool when that pays, else one after the other in the one workspace, each on all threads.
static ffqrt_status matmul(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *a,
                           const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t batch,
                           size_t m, size_t k, size_t n, unsigned flags, void *workspace, int slots) {
    ffqrt_status st = mm_check(ctx, y, py, a, pa, b, pb, batch, m, k, n, workspace);
    if (st != FFQRT_OK || batch == 0 || m == 0 || n == 0) return st;
    if (flags & ~(unsigned)FFQRT_MATMUL_B_NK) return FFQRT_EINVAL;
    mm_args args = {y, py, pa, pb, relu, a, b, m, k, n, py ? 1 : sizeof(float), flags};
    size_t per = m * n * (k ? k : 1);
    size_t nt = ffqrt_threads_for(ctx, batch * per, PAR_MIN_MACS);
    if (slots && nt > 1 && batch >= nt && per < (size_t)BATCH_SPLIT_MACS) {
        mm_job j = {ctx, &args, workspace, mm_slot(m, k, n)};
        ffqrt_parallel_for(ctx->pool, nt, batch, mm_unit, &j);
        return FFQRT_OK;
    }
    for (size_t t = 0; t < batch; t++) matmul_one(ctx, ctx->k, &args, t, workspace);
    return FFQRT_OK;
}

ffqrt_status ffqrt_matmul_batch(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                const void *a, const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb,
                                size_t batch, size_t m, size_t k, size_t n, unsigned flags, void *workspace) {
    return matmul(ctx, y, py, relu, a, pa, b, pb, batch, m, k, n, flags, workspace, 1);
}

ffqrt_status ffqrt_matmul_f32(const ffqrt_ctx *ctx, float *y, const void *a, const ffqrt_qparam *pa,
                              const void *b, const ffqrt_qparam *pb, size_t batch, size_t m, size_t k,
                              size_t n, void *workspace) {
    return matmul(ctx, y, NULL, 0, a, pa, b, pb, batch, m, k, n, 0, workspace, 0);
}

ffqrt_status ffqrt_matmul_q(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *a,
                            const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t batch,
                            size_t m, size_t k, size_t n, void *workspace) {
    if (!py) return FFQRT_EINVAL;
    return matmul(ctx, y, py, relu, a, pa, b, pb, batch, m, k, n, 0, workspace, 0);
}
