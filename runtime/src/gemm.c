// gemm.c: weight packing and the drivers of the int8 linear layer and conv2d. The GEMM
// is split over output-channel panels between threads; the kernel table does the rest.
#include <assert.h>
#include <string.h>

#include "kernels.h"
#include "threads.h"

enum { PAR_MIN_MACS = 1 << 19, // per thread, at least
       PANEL_ALIGN = 4,        // panels per block of the SIMD kernels
       ROW_ALIGN = 24 };       // rows per unit when threads split the rows

typedef struct pack_dims {
  size_t n_pad, k_pad, colsum_off, scale_off, group_off, total;
} pack_dims;

static pack_dims dims_of(size_t n, size_t k) {
  pack_dims d;
  d.n_pad = ffqrt_round_up(n, FFQRT_NR);
  d.k_pad = ffqrt_round_up(k, FFQRT_KR);
  d.colsum_off = sizeof(ffqrt_pack_hdr);
  d.scale_off = d.colsum_off + ffqrt_round_up(d.n_pad * sizeof(int32_t), 64);
  d.group_off = d.scale_off + ffqrt_round_up(d.n_pad * sizeof(float), 64);
  d.total = d.group_off + d.n_pad * d.k_pad;
  return d;
}

size_t ffqrt_linear_pack_size(size_t n, size_t k) { return dims_of(n, k).total; }

// Copies w (n x k, row-major) into panels, zero padded; colsum[j] = sum_k w[j][k].
ffqrt_status ffqrt_linear_pack(void *packed, const int8_t *w, const float *w_scale, size_t n,
                               size_t k) {
  if (!packed || k > FFQRT_MAX_K || (n && (!w_scale || (k && !w)))) return FFQRT_EINVAL;
  for (size_t j = 0; j < n; j++)
    if (!(w_scale[j] > 0.0f) || !isfinite(w_scale[j])) return FFQRT_EINVAL;
  pack_dims d = dims_of(n, k);
  memset(packed, 0, d.total);
  ffqrt_pack_hdr h = {FFQRT_PACK_MAGIC, FFQRT_PACK_VERSION, n, k, d.n_pad, d.k_pad,
                      d.colsum_off, d.scale_off, d.group_off};
  memcpy(packed, &h, sizeof h);
  int32_t *colsum = (int32_t *)((char *)packed + d.colsum_off);
  float *scale = (float *)((char *)packed + d.scale_off);
  int8_t *groups = (int8_t *)packed + d.group_off;
  for (size_t j = 0; j < n; j++) {
    scale[j] = w_scale[j];
    for (size_t kk = 0; kk < k; kk++) {
      colsum[j] += w[j * k + kk];
      groups[ffqrt_pack_index(d.k_pad, j, kk)] = w[j * k + kk];
    }
  }
  return FFQRT_OK;
}

const ffqrt_pack_hdr *ffqrt_pack_hdr_of(const void *packed) {
  const ffqrt_pack_hdr *h = packed;
  return h && h->magic == FFQRT_PACK_MAGIC && h->version == FFQRT_PACK_VERSION ? h : NULL;
}

typedef struct gjob {
  const ffqrt_kernels *k;
  const ffqrt_gemm *g;
} gjob;

static size_t panels_of(const ffqrt_gemm *g) { return (g->n + FFQRT_NR - 1) / FFQRT_NR; }

// Threads split the output channels when there are enough panel blocks for all of them,
// else the rows.
static int split_rows(const ffqrt_gemm *g, size_t nt) {
  return panels_of(g) < nt * PANEL_ALIGN && g->m >= nt * ROW_ALIGN;
}

static void gemm_task(void *arg, size_t tid, size_t nt) {
  const gjob *j = arg;
  const ffqrt_gemm *g = j->g;
  size_t p0 = 0, p1 = panels_of(g), m0 = 0, m1 = g->m;
  if (split_rows(g, nt))
    ffqrt_split(g->m, ROW_ALIGN, tid, nt, &m0, &m1);
  else
    ffqrt_split(p1, PANEL_ALIGN, tid, nt, &p0, &p1);
  if (p0 < p1 && m0 < m1) j->k->gemm_panels(g, p0, p1, m0, m1);
}

// Fills the weight / activation part of g.
void ffqrt_gemm_init(ffqrt_gemm *g, const ffqrt_pack_hdr *h, const void *a,
                      const ffqrt_qparam *pa, size_t m, size_t lda) {
  memset(g, 0, sizeof *g);
  g->a = a;
  g->m = m;
  g->k = h->k;
  g->lda = lda;
  g->a_xor = pa->dtype == FFQRT_S8 ? 0x80 : 0;
  g->za = pa->zero_point + (pa->dtype == FFQRT_S8 ? 128 : 0);
  g->sa = pa->scale;
  g->groups = ffqrt_pack_groups(h);
  g->colsum = ffqrt_pack_colsum(h);
  g->wscale = ffqrt_pack_scale(h);
  g->n = h->n;
  g->k_pad = h->k_pad;
}

// Output stage: f32 when py is NULL, else int8 with the relu-folded clamp.
void ffqrt_gemm_out(ffqrt_gemm *g, void *y, const ffqrt_qparam *py, int relu,
                     const float *bias, size_t ldy_m, size_t ldy_n) {
  g->y = y;
  g->bias = bias;
  g->ldy_m = ldy_m;
  g->ldy_n = ldy_n;
  g->out_kind = !py ? FFQRT_OUT_F32 : py->dtype == FFQRT_S8 ? FFQRT_OUT_S8 : FFQRT_OUT_U8;
  if (!py) return;
  int32_t lo = ffqrt_qmin(py->dtype);
  lo = relu && py->zero_point > lo ? py->zero_point : lo;
  g->sy = py->scale;
  g->zy = (float)py->zero_point;
  g->ylo = (float)lo;
  g->yhi = (float)ffqrt_qmax(py->dtype);
}

// a_u7 is decided here from the data (all m * lda bytes are scanned).
void ffqrt_gemm_run(const ffqrt_ctx *ctx, ffqrt_gemm *g) {
  if (g->m == 0 || g->n == 0) return;
  if (ctx->k->needs_u7) g->a_u7 = ctx->k->max_u8(g->a, g->m * g->lda, g->a_xor) <= 127;
  gjob j = {ctx->k, g};
  size_t nt = ffqrt_threads_for(ctx, g->m * g->n * (g->k ? g->k : 1), PAR_MIN_MACS);
  size_t units = panels_of(g) / PANEL_ALIGN > g->m / ROW_ALIGN ? panels_of(g) / PANEL_ALIGN : g->m / ROW_ALIGN;
  nt = nt < units ? nt : units ? units : 1;
  ffqrt_parallel(ctx->pool, nt, gemm_task, &j);
}

static ffqrt_status linear(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                           const void *a, const ffqrt_qparam *pa, const void *packed,
                           const float *bias, size_t m) {
  const ffqrt_pack_hdr *h = ffqrt_pack_hdr_of(packed);
  if (!ctx || !h || !ffqrt_qparam_ok(pa) || (py && !ffqrt_qparam_ok(py))) return FFQRT_EINVAL;
  if (m && h->n && (!y || (h->k && !a))) return FFQRT_EINVAL;
  ffqrt_gemm g;
  ffqrt_gemm_init(&g, h, a, pa, m, h->k);
  ffqrt_gemm_out(&g, y, py, relu, bias, h->n, 1);
  ffqrt_gemm_run(ctx, &g);
  return FFQRT_OK;
}

ffqrt_status ffqrt_linear_f32(const ffqrt_ctx *ctx, float *y, const void *a,
                              const ffqrt_qparam *pa, const void *packed, const float *bias,
                              size_t m) {
  return linear(ctx, y, NULL, 0, a, pa, packed, bias, m);
}

ffqrt_status ffqrt_linear_q(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                            const void *a, const ffqrt_qparam *pa, const void *packed,
                            const float *bias, size_t m) {
  if (!py) return FFQRT_EINVAL;
  return linear(ctx, y, py, relu, a, pa, packed, bias, m);
}

size_t ffqrt_linear_dynamic_workspace_size(size_t m, size_t k) { return m * k; }

ffqrt_status ffqrt_linear_dynamic(const ffqrt_ctx *ctx, float *y, const float *x,
                                  const void *packed, const float *bias, size_t m,
                                  void *workspace) {
  const ffqrt_pack_hdr *h = ffqrt_pack_hdr_of(packed);
  if (!ctx || !h || (m && h->k && (!x || !workspace))) return FFQRT_EINVAL;
  float lo = 0.0f, hi = 0.0f;
  ffqrt_minmax(ctx, &lo, &hi, x, m * h->k);
  if (!(lo <= hi)) lo = hi = 0.0f; // no data, or only NaN
  ffqrt_qparam pa = {1.0f, 0, FFQRT_U8};
  ffqrt_qparams_from_range(&pa.scale, &pa.zero_point, lo, hi, FFQRT_U8, 0, 1);
  ffqrt_quant_flat(ctx, workspace, x, m * h->k, pa.scale, pa.zero_point, 0, 127);
  return ffqrt_linear_f32(ctx, y, workspace, &pa, packed, bias, m);
}
