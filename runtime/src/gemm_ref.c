// gemm_ref.c: the specification of the int8 linear layer and conv2d, and the scalar
// GEMM table entry (which reads the packed weights).
#include <assert.h>
#include <string.h>

#include "kernels.h"

// Output stage of ffqrt.h for one int32 accumulator of output channel n:
//   v = (float)acc * (sa * sw[n]) + bias[n];  y = v, or q = quantize(v, sy, zy) in [lo, hi]
static void store_out(void *y, size_t at, const ffqrt_qparam *py, int relu, int32_t acc, float sa, float sw,
                      const float *bias, size_t n) {
    float v = (float)acc * (sa * sw);
    if (bias) v = v + bias[n];
    if (!py) {
        ((float *)y)[at] = v;
        return;
    }
    int32_t lo = ffqrt_out_lo(py, relu), zy = py->zero_point;
    float q = ffqrt_qf(v, py->scale, (float)zy, (float)lo, (float)ffqrt_qmax(py->dtype));
    ((uint8_t *)y)[at] = (uint8_t)(int32_t)q;
}

static int32_t act(const void *a, int dtype, size_t i) {
    return ffqrt_byte_val(((const uint8_t *)a)[i], dtype == FFQRT_S8);
}

// acc[m][n] = sum_k (a[m][k] - za) * w[n][k]  (int32), then the output stage.
ffqrt_status ffqrt_linear_ref(void *y, const ffqrt_qparam *py, int relu, const void *a,
                              const ffqrt_qparam *pa, const int8_t *w, const float *w_scale,
                              const float *bias, size_t m, size_t n, size_t k) {
    if (!ffqrt_qparam_ok(pa) || (py && !ffqrt_qparam_ok(py)) || k > FFQRT_MAX_K) return FFQRT_EINVAL;
    if (m && n && (!y || !w_scale || (k && (!a || !w)))) return FFQRT_EINVAL;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            int32_t acc = 0;
            for (size_t kk = 0; kk < k; kk++)
                acc += (act(a, pa->dtype, i * k + kk) - pa->zero_point) * w[j * k + kk];
            store_out(y, i * n + j, py, relu, acc, pa->scale, w_scale[j], bias, j);
        }
    return FFQRT_OK;
}

// The dynamic linear layer: [lo, hi] = minmax(x); (sa, za) = qparams_from_range(lo, hi,
// U8, asymmetric, reduce_range); a = quantize(x) in [0, 127]; y = linear_f32(a).
ffqrt_status ffqrt_linear_dynamic_ref(float *y, const float *x, const int8_t *w, const float *w_scale,
                                      const float *bias, size_t m, size_t n, size_t k) {
    float lo, hi;
    ffqrt_qparam pa = {1.0f, 0, FFQRT_U8};
    if (ffqrt_minmax_ref(&lo, &hi, x, m * k) != FFQRT_OK) return FFQRT_EINVAL;
    if (!(lo <= hi)) lo = hi = 0.0f;  // no data, or only NaN
    ffqrt_qparams_from_range(&pa.scale, &pa.zero_point, lo, hi, FFQRT_U8, 0, 1);
    if (m && n && (!y || !w_scale || (k && !w))) return FFQRT_EINVAL;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            int32_t acc = 0;
            for (size_t kk = 0; kk < k; kk++) {
                float q = ffqrt_qf(x[i * k + kk], pa.scale, (float)pa.zero_point, 0.0f, 127.0f);
                acc += ((int32_t)q - pa.zero_point) * w[j * k + kk];
            }
            store_out(y, i * n + j, NULL, 0, acc, pa.scale, w_scale[j], bias, j);
        }
    return FFQRT_OK;
}

static int conv_shape_ok(const ffqrt_conv2d_shape *s) {
    return s && s->groups && s->stride_h && s->stride_w && s->dil_h && s->dil_w && s->c_in % s->groups == 0 &&
           s->c_out % s->groups == 0 && s->c_in / s->groups * s->kh * s->kw <= FFQRT_MAX_K &&
           s->layout <= (FFQRT_CONV_IN_NHWC | FFQRT_CONV_OUT_NHWC);
}

size_t ffqrt_conv2d_out_h(const ffqrt_conv2d_shape *s) {
    if (!conv_shape_ok(s) || s->kh == 0) return 0;
    size_t span = s->dil_h * (s->kh - 1) + 1, in = s->h + 2 * s->pad_h;
    return in < span ? 0 : (in - span) / s->stride_h + 1;
}

size_t ffqrt_conv2d_out_w(const ffqrt_conv2d_shape *s) {
    if (!conv_shape_ok(s) || s->kw == 0) return 0;
    size_t span = s->dil_w * (s->kw - 1) + 1, in = s->w + 2 * s->pad_w;
    return in < span ? 0 : (in - span) / s->stride_w + 1;
}

// acc = sum over ci in the group, r, t of (x[b][ci][ih][iw] - zx) (x[b][ih][iw][ci] in NHWC) *
// w[co][ci'][r][t], ih = oh * stride_h - pad_h + r * dil_h (likewise iw); outside the image x reads as zx.
static int32_t conv_acc(const void *x, const ffqrt_qparam *px, const int8_t *w, const ffqrt_conv2d_shape *s,
                        size_t b, size_t co, size_t oh, size_t ow) {
    size_t cg = s->c_in / s->groups, g = co / (s->c_out / s->groups);
    int32_t acc = 0;
    for (size_t ci = 0; ci < cg; ci++)
        for (size_t r = 0; r < s->kh; r++)
            for (size_t t = 0; t < s->kw; t++) {
                size_t ih = oh * s->stride_h + r * s->dil_h, iw = ow * s->stride_w + t * s->dil_w;
                if (ih < s->pad_h || iw < s->pad_w || ih - s->pad_h >= s->h || iw - s->pad_w >= s->w)
                    continue;  // (zx - zx) * w == 0
                size_t c = g * cg + ci, hh = ih - s->pad_h, ww = iw - s->pad_w;
                size_t xi = s->layout & FFQRT_CONV_IN_NHWC ? ((b * s->h + hh) * s->w + ww) * s->c_in + c
                                                           : ((b * s->c_in + c) * s->h + hh) * s->w + ww;
                acc += (act(x, px->dtype, xi) - px->zero_point) * w[((co * cg + ci) * s->kh + r) * s->kw + t];
            }
    return acc;
}

// y[b][co][oh][ow] (NCHW, or y[b][oh][ow][co]) = output stage of conv_acc; py == NULL selects the f32 output.
ffqrt_status ffqrt_conv2d_ref(void *y, const ffqrt_qparam *py, int relu, const void *x,
                              const ffqrt_qparam *px, const int8_t *w, const float *w_scale,
                              const float *bias, const ffqrt_conv2d_shape *s) {
    if (!conv_shape_ok(s) || !ffqrt_qparam_ok(px) || (py && !ffqrt_qparam_ok(py))) return FFQRT_EINVAL;
    size_t oh = ffqrt_conv2d_out_h(s), ow = ffqrt_conv2d_out_w(s);
    if (s->n * s->c_out * oh * ow == 0) return FFQRT_OK;
    if (!y || !x || !w || !w_scale) return FFQRT_EINVAL;
    for (size_t b = 0; b < s->n; b++)
        for (size_t co = 0; co < s->c_out; co++)
            for (size_t i = 0; i < oh; i++)
                for (size_t j = 0; j < ow; j++) {
                    int32_t acc = conv_acc(x, px, w, s, b, co, i, j);
                    size_t at = s->layout & FFQRT_CONV_OUT_NHWC ? ((b * oh + i) * ow + j) * s->c_out + co
                                                                : ((b * s->c_out + co) * oh + i) * ow + j;
                    store_out(y, at, py, relu, acc, px->scale, w_scale[co], bias, co);
                }
    return FFQRT_OK;
}

// ---- scalar table entry: the same sum, read from the packed panels ----

static int32_t packed_dot(const ffqrt_gemm *g, size_t m, size_t n) {
    uint32_t dot = 0;
    for (size_t k = 0; k < g->k; k++) {
        uint8_t a = (uint8_t)(g->a[m * g->lda + k] ^ g->a_xor);
        dot += (uint32_t)((int32_t)a * g->groups[ffqrt_pack_index(g->k_pad, n, k)]);
    }
    return ffqrt_gemm_acc(g, dot, m, n);
}

void ffqrt_gemm_panels_ref(const ffqrt_gemm *g, size_t p0, size_t p1, size_t m0, size_t m1) {
    size_t n1 = p1 * FFQRT_NR < g->n ? p1 * FFQRT_NR : g->n;
    for (size_t n = p0 * FFQRT_NR; n < n1; n++)
        for (size_t m = m0; m < m1; m++) ffqrt_gemm_store1(g, packed_dot(g, m, n), m, n);
}

// ---- matmul of two activation tensors ----

// y[b][i][j] = output stage of acc = sum_k (a[b][i][k] - za) * (x[b][k][j] - zx), int32,
// with the per-tensor scale sa * sx and no bias; py == NULL selects the f32 output.
ffqrt_status ffqrt_matmul_ref(void *y, const ffqrt_qparam *py, int relu, const void *a,
                              const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t batch,
                              size_t m, size_t k, size_t n) {
    if (!ffqrt_qparam_ok(pa) || !ffqrt_qparam_ok(pb) || (py && !ffqrt_qparam_ok(py)) ||
        k > FFQRT_MATMUL_MAX_K)
        return FFQRT_EINVAL;
    if (batch && m && n && (!y || (k && (!a || !b)))) return FFQRT_EINVAL;
    for (size_t t = 0; t < batch; t++)
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                int32_t acc = 0;
                for (size_t kk = 0; kk < k; kk++)
                    acc += (act(a, pa->dtype, (t * m + i) * k + kk) - pa->zero_point) *
                           (act(b, pb->dtype, (t * k + kk) * n + j) - pb->zero_point);
                store_out(y, (t * m + i) * n + j, py, relu, acc, pa->scale, pb->scale, NULL, j);
            }
    return FFQRT_OK;
}

// ---- scalar table entry: one output row of a depthwise convolution ----

void ffqrt_dw_row_ref(const ffqrt_dw *d, float *restrict y, const uint8_t *restrict x) {
    for (size_t j = 0; j < d->ow; j++, x += d->step, y += d->c)
        for (size_t ch = 0; ch < d->c; ch++) {
            uint32_t acc = 0;  // wrapping, as the vector lanes
            for (size_t p = 0; p < d->pairs; p++) {
                const int16_t *w = d->w + (p * d->c_pad + ch) * 2;
                acc +=
                    (uint32_t)(x[d->off[2 * p] + ch] * w[0]) + (uint32_t)(x[d->off[2 * p + 1] + ch] * w[1]);
            }
            acc -= (uint32_t)d->za * (uint32_t)d->wsum[ch];
            float v = (float)(int32_t)acc * d->scale[ch];
            if (d->bias) v = v + d->bias[ch];
            y[ch] = v;
        }
}
