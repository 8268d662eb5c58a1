// quant.c: drivers for quantize / dequantize / fake-quantize and min-max. They walk the
// grid in runs of elements sharing one (scale, zero point), hand each run to the
// context's kernel table and split large tensors over the pool's threads.
#include <assert.h>
#include <math.h>
#include <string.h>

#include "grid.h"
#include "kernels.h"
#include "threads.h"

enum { MODE_QUANT, MODE_DEQUANT, MODE_FAKEQ, MODE_QFLOAT, MODE_QDQ, MODE_DUAL };
enum { PAR_MIN_ELEMS = 1 << 17, NIB_CHUNK = 256, QDQ_CHUNK = 4096 };  // elements per thread, at least

typedef struct qjob {
    const ffqrt_kernels *k;
    int mode, dtype;
    void *out, *out2;  // out2: the dequantized values (MODE_QDQ), the float32 codes (MODE_DUAL)
    const void *in;
    const ffqrt_grid *g;
    const float *scale;
    const int32_t *zp;
} qjob;

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static int is4(int dtype) { return dtype == FFQRT_S4 || dtype == FFQRT_U4; }

// Quantizes n values to 4 bits at element offset e (e even, or e odd after e - 1 was set).
static void quant4(const qjob *j, size_t e, size_t n, float s, int32_t zp) {
    uint8_t buf[NIB_CHUNK], *q = j->out;
    for (size_t c = 0; c < n; c += NIB_CHUNK) {
        size_t len = min_sz(NIB_CHUNK, n - c);
        j->k->quant_run(buf, (const float *)j->in + e + c, len, s, zp, ffqrt_qmin(j->dtype),
                        ffqrt_qmax(j->dtype));
        for (size_t i = 0; i < len; i++) {
            size_t at = e + c + i;
            uint8_t v = buf[i] & 0xF;
            q[at / 2] = at % 2 ? (uint8_t)(q[at / 2] | v << 4) : v;
        }
    }
}

// Dequantizes n 4-bit values from element offset e: widen to bytes, then the byte kernel.
static void dequant4(const qjob *j, size_t e, size_t n, float s, int32_t zp) {
    uint8_t buf[NIB_CHUNK];
    const uint8_t *q = j->in;
    int sgn = j->dtype == FFQRT_S4;
    for (size_t c = 0; c < n; c += NIB_CHUNK) {
        size_t len = min_sz(NIB_CHUNK, n - c);
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)ffqrt_load_elem(q, j->dtype, e + c + i);
        j->k->dequant_run((float *)j->out + e + c, buf, len, s, zp, sgn);
    }
}

static void segment(const qjob *j, size_t e, size_t n, size_t t) {
    float s = j->scale[t];
    int32_t zp = ffqrt_zp_at(j->zp, t, j->dtype), lo = ffqrt_qmin(j->dtype), hi = ffqrt_qmax(j->dtype);
    if (j->mode == MODE_QDQ) {
        // through bytes, a chunk at a time (in L1): raw = their value, dq = dequantized
        uint8_t q[QDQ_CHUNK];
        float *raw = (float *)j->out + e, *dq = (float *)j->out2 + e;
        const float *x = (const float *)j->in + e;
        int sgn = j->dtype == FFQRT_S8;
        for (size_t c = 0; c < n; c += QDQ_CHUNK) {
            size_t len = min_sz(QDQ_CHUNK, n - c);
            j->k->quant_run(q, x + c, len, s, zp, lo, hi);
            j->k->dequant_run(raw + c, q, len, 1.0f, 0, sgn);
            j->k->dequant_run(dq + c, q, len, s, zp, sgn);
        }
        return;
    }
    if (j->mode == MODE_DUAL) {
        // the bytes, then the same bytes widened to float32 while they are still in L1
        uint8_t *q = (uint8_t *)j->out + e;
        float *raw = (float *)j->out2 + e;
        const float *x = (const float *)j->in + e;
        int sgn = j->dtype == FFQRT_S8;
        for (size_t c = 0; c < n; c += QDQ_CHUNK) {
            size_t len = min_sz(QDQ_CHUNK, n - c);
            j->k->quant_run(q + c, x + c, len, s, zp, lo, hi);
            j->k->dequant_run(raw + c, q + c, len, 1.0f, 0, sgn);
        }
        return;
    }
    if (j->mode == MODE_FAKEQ)
        j->k->fakeq_run((float *)j->out + e, (const float *)j->in + e, n, s, zp, lo, hi);
    else if (j->mode == MODE_QFLOAT)
        j->k->quantf_run((float *)j->out + e, (const float *)j->in + e, n, s, zp, lo, hi);
    else if (j->mode == MODE_QUANT && is4(j->dtype)) quant4(j, e, n, s, zp);
    else if (j->mode == MODE_QUANT)
        j->k->quant_run((uint8_t *)j->out + e, (const float *)j->in + e, n, s, zp, lo, hi);
    else if (is4(j->dtype)) dequant4(j, e, n, s, zp);
    else j->k->dequant_run((float *)j->out + e, (const uint8_t *)j->in + e, n, s, zp, j->dtype == FFQRT_S8);
}

// Elements [e0, e1) in runs that share a parameter: a run ends at a tile edge along
// inner, at a row end, or at e1.
static void walk(void *arg, size_t tid, size_t nt) {
    const qjob *j = arg;
    const ffqrt_grid *g = j->g;
    size_t e0, e1, ti = ffqrt_tile(g->inner, g->tile_inner);
    ffqrt_split(ffqrt_grid_numel(g), 64, tid, nt, &e0, &e1);
    for (size_t e = e0; e < e1;) {
        size_t row = e / g->inner, i = e % g->inner;
        size_t n = min_sz(min_sz(ti - i % ti, g->inner - i), e1 - e);
        segment(j, e, n, ffqrt_param_index(g, row / g->mid, row % g->mid, i));
        e += n;
    }
}

static size_t threads_for(const ffqrt_ctx *ctx, size_t work) {
    return ffqrt_threads_for(ctx, work, PAR_MIN_ELEMS);
}

static ffqrt_status run_grid(const ffqrt_ctx *ctx, int mode, void *out, const void *in, const ffqrt_grid *g,
                             const float *scale, const int32_t *zp, int dtype) {
    if (!ctx || !ffqrt_grid_args_ok(out, in, g, scale, zp, dtype)) return FFQRT_EINVAL;
    if (mode == MODE_FAKEQ && dtype != FFQRT_S8 && dtype != FFQRT_U8 && !is4(dtype)) return FFQRT_EINVAL;
    qjob j = {ctx->k, mode, dtype, out, NULL, in, g, scale, zp};
    size_t nt = threads_for(ctx, ffqrt_grid_numel(g));
    ffqrt_parallel_parts(ctx->pool, nt, ffqrt_parts_for(nt), walk, &j);
    return FFQRT_OK;
}

ffqrt_status ffqrt_quantize(const ffqrt_ctx *ctx, void *q, const float *x, const ffqrt_grid *g,
                            const float *scale, const int32_t *zero_point, int dtype) {
    return run_grid(ctx, MODE_QUANT, q, x, g, scale, zero_point, dtype);
}

ffqrt_status ffqrt_quantize_float(const ffqrt_ctx *ctx, float *y, const float *x, const ffqrt_grid *g,
                                  const float *scale, const int32_t *zero_point, int dtype) {
    return run_grid(ctx, MODE_QFLOAT, y, x, g, scale, zero_point, dtype);
}

ffqrt_status ffqrt_dequantize(const ffqrt_ctx *ctx, float *x, const void *q, const ffqrt_grid *g,
                              const float *scale, const int32_t *zero_point, int dtype) {
    return run_grid(ctx, MODE_DEQUANT, x, q, g, scale, zero_point, dtype);
}

// The 8-bit modes with two outputs (MODE_QDQ, MODE_DUAL): out2 is required like out.
static ffqrt_status run_grid2(const ffqrt_ctx *ctx, int mode, void *out, void *out2, const float *x,
                              const ffqrt_grid *g, const float *scale, const int32_t *zp, int dtype) {
    if (!ctx || !ffqrt_grid_args_ok(out, x, g, scale, zp, dtype) || (!out2 && ffqrt_grid_numel(g)) ||
        (dtype != FFQRT_S8 && dtype != FFQRT_U8))
        return FFQRT_EINVAL;
    qjob j = {ctx->k, mode, dtype, out, out2, x, g, scale, zp};
    size_t nt = threads_for(ctx, ffqrt_grid_numel(g));
    ffqrt_parallel_parts(ctx->pool, nt, ffqrt_parts_for(nt), walk, &j);
    return FFQRT_OK;
}

ffqrt_status ffqrt_quantize_dequantize(const ffqrt_ctx *ctx, float *raw, float *dq, const float *x,
                                       const ffqrt_grid *g, const float *scale, const int32_t *zero_point,
                                       int dtype) {
    return run_grid2(ctx, MODE_QDQ, raw, dq, x, g, scale, zero_point, dtype);
}

ffqrt_status ffqrt_quantize_dual(const ffqrt_ctx *ctx, void *q, float *raw, const float *x,
                                 const ffqrt_grid *g, const float *scale, const int32_t *zero_point,
                                 int dtype) {
    return run_grid2(ctx, MODE_DUAL, q, raw, x, g, scale, zero_point, dtype);
}

ffqrt_status ffqrt_fake_quantize(const ffqrt_ctx *ctx, float *y, const float *x, const ffqrt_grid *g,
                                 const float *scale, const int32_t *zero_point, int dtype) {
    return run_grid(ctx, MODE_FAKEQ, y, x, g, scale, zero_point, dtype);
}

// ---- min / max ----

typedef struct mmjob {
    const ffqrt_kernels *k;
    const float *x;
    size_t outer, channels, inner;
    float *mn, *mx;  // per thread (flat) or per channel
} mmjob;

static void mm_flat(void *arg, size_t tid, size_t nt) {
    const mmjob *j = arg;
    size_t b, e;
    ffqrt_split(j->inner, 64, tid, nt, &b, &e);
    j->mn[tid] = INFINITY;
    j->mx[tid] = -INFINITY;
    j->k->minmax_run(&j->mn[tid], &j->mx[tid], j->x + b, e - b);
}

ffqrt_status ffqrt_minmax(const ffqrt_ctx *ctx, float *min, float *max, const float *x, size_t n) {
    if (!ctx || !min || !max || (n && !x)) return FFQRT_EINVAL;
    float mn[FFQRT_MAX_PARTS], mx[FFQRT_MAX_PARTS];
    mmjob j = {ctx->k, x, 1, 1, n, mn, mx};
    size_t nt = threads_for(ctx, n), parts = ffqrt_parts_for(nt);
    ffqrt_parallel_parts(ctx->pool, nt, parts, mm_flat, &j);
    for (size_t t = 1; t < parts; t++) {
        mn[0] = mn[t] < mn[0] ? mn[t] : mn[0];
        mx[0] = mx[t] > mx[0] ? mx[t] : mx[0];
    }
    *min = mn[0] + 0.0f;
    *max = mx[0] + 0.0f;
    return FFQRT_OK;
}

// Channels [c0, c1): contiguous runs when inner is long, column folds when inner == 1.
static void mm_channels(void *arg, size_t tid, size_t nt) {
    const mmjob *j = arg;
    size_t c0, c1;
    ffqrt_split(j->channels, 16, tid, nt, &c0, &c1);
    for (size_t c = c0; c < c1; c++) {
        j->mn[c] = INFINITY;
        j->mx[c] = -INFINITY;
    }
    for (size_t o = 0; o < j->outer; o++) {
        const float *row = j->x + o * j->channels * j->inner;
        if (j->inner == 1) {
            j->k->minmax_cols(j->mn + c0, j->mx + c0, row + c0, c1 - c0);
            continue;
        }
        for (size_t c = c0; c < c1; c++) j->k->minmax_run(&j->mn[c], &j->mx[c], row + c * j->inner, j->inner);
    }
    for (size_t c = c0; c < c1; c++) {
        j->mn[c] += 0.0f;
        j->mx[c] += 0.0f;
    }
}

ffqrt_status ffqrt_minmax_channel(const ffqrt_ctx *ctx, float *min, float *max, const float *x, size_t outer,
                                  size_t channels, size_t inner) {
    if (!ctx || (channels && (!min || !max))) return FFQRT_EINVAL;
    size_t n = outer * channels * inner;
    if (n && !x) return FFQRT_EINVAL;
    if (channels == 1) return ffqrt_minmax(ctx, min, max, x, n);
    mmjob j = {ctx->k, x, outer, channels, inner, min, max};
    size_t nt = channels >= 32 ? threads_for(ctx, n) : 1;
    ffqrt_parallel_parts(ctx->pool, nt, ffqrt_parts_for(nt), mm_channels, &j);
    return FFQRT_OK;
}

// ---- flat per-tensor quantization with explicit bounds (the dynamic linear layer) ----

typedef struct flatjob {
    const ffqrt_kernels *k;
    uint8_t *q;
    const float *x;
    size_t n;
    float scale;
    int32_t zp, lo, hi;
    uint8_t flip;
} flatjob;

void ffqrt_quant_range(const ffqrt_kernels *k, uint8_t *q, const float *x, size_t n, float scale, int32_t zp,
                       int32_t lo, int32_t hi, uint8_t flip) {
    if (!flip) {
        k->quant_run(q, x, n, scale, zp, lo, hi);
        return;
    }
    // a chunk at a time, flipped while it is in L1 (64 bits at a time)
    uint64_t flip8 = 0x0101010101010101u * flip;
    for (size_t c = 0; c < n; c += QDQ_CHUNK) {
        size_t len = min_sz(QDQ_CHUNK, n - c), i = 0;
        uint8_t *qc = q + c;
        k->quant_run(qc, x + c, len, scale, zp, lo, hi);
        for (; i + 8 <= len; i += 8) {
            uint64_t v;
            memcpy(&v, qc + i, 8);
            v ^= flip8;
            memcpy(qc + i, &v, 8);
        }
        for (; i < len; i++) qc[i] ^= (uint8_t)flip8;
    }
}

static void flat_task(void *arg, size_t tid, size_t nt) {
    const flatjob *j = arg;
    size_t b, e;
    ffqrt_split(j->n, 64, tid, nt, &b, &e);
    ffqrt_quant_range(j->k, j->q + b, j->x + b, e - b, j->scale, j->zp, j->lo, j->hi, j->flip);
}

void ffqrt_quant_flat(const ffqrt_ctx *ctx, uint8_t *q, const float *x, size_t n, float scale, int32_t zp,
                      int32_t lo, int32_t hi, uint8_t flip) {
    flatjob j = {ctx->k, q, x, n, scale, zp, lo, hi, flip};
    size_t nt = threads_for(ctx, n);
    ffqrt_parallel_parts(ctx->pool, nt, ffqrt_parts_for(nt), flat_task, &j);
}
