// conv.c: int8 conv2d (NCHW) as im2col + the GEMM, per image and group. The column
// matrix has one row per output pixel and k = (ci * kh + r) * kw + t, matching the
// weight layout, so each group's weights pack as an ordinary linear layer.
#include <string.h>

#include "kernels.h"

static size_t group_k(const ffqrt_conv2d_shape *s) { return s->c_in / s->groups * s->kh * s->kw; }

static int shape_ok(const ffqrt_conv2d_shape *s) {
  return s && s->groups && s->c_in % s->groups == 0 && s->c_out % s->groups == 0 &&
         group_k(s) <= FFQRT_MAX_K && ffqrt_conv2d_out_h(s) && ffqrt_conv2d_out_w(s);
}

size_t ffqrt_conv2d_pack_size(const ffqrt_conv2d_shape *s) {
  if (!shape_ok(s)) return sizeof(ffqrt_conv_hdr);
  return sizeof(ffqrt_conv_hdr) + s->groups * ffqrt_linear_pack_size(s->c_out / s->groups, group_k(s));
}

ffqrt_status ffqrt_conv2d_pack(void *packed, const int8_t *w, const float *w_scale,
                               const ffqrt_conv2d_shape *s) {
  if (!packed || !shape_ok(s)) return FFQRT_EINVAL;
  size_t cog = s->c_out / s->groups, k = group_k(s);
  ffqrt_conv_hdr h = {FFQRT_PACK_MAGIC, FFQRT_PACK_VERSION, s->groups,
                      ffqrt_linear_pack_size(cog, k), {0}};
  memcpy(packed, &h, sizeof h);
  for (size_t g = 0; g < s->groups; g++) {
    char *dst = (char *)packed + sizeof h + g * h.group_bytes;
    ffqrt_status st = ffqrt_linear_pack(dst, w + g * cog * k, w_scale + g * cog, cog, k);
    if (st != FFQRT_OK) return st;
  }
  return FFQRT_OK;
}

size_t ffqrt_conv2d_workspace_size(const ffqrt_conv2d_shape *s) {
  if (!shape_ok(s)) return 0;
  return ffqrt_conv2d_out_h(s) * ffqrt_conv2d_out_w(s) * group_k(s);
}

// Column matrix of image b, group g: col[p][k], padding reads as the zero-point byte.
static void im2col(uint8_t *restrict col, const uint8_t *restrict x, uint8_t pad,
                   const ffqrt_conv2d_shape *s, size_t b, size_t g) {
  size_t oh = ffqrt_conv2d_out_h(s), ow = ffqrt_conv2d_out_w(s), cg = s->c_in / s->groups;
  for (size_t i = 0; i < oh; i++)
    for (size_t j = 0; j < ow; j++)
      for (size_t ci = 0; ci < cg; ci++) {
        const uint8_t *plane = x + (b * s->c_in + g * cg + ci) * s->h * s->w;
        for (size_t r = 0; r < s->kh; r++) {
          size_t ih = i * s->stride_h + r * s->dil_h;
          int row_in = ih >= s->pad_h && ih - s->pad_h < s->h;
          for (size_t t = 0; t < s->kw; t++) {
            size_t iw = j * s->stride_w + t * s->dil_w;
            int in = row_in && iw >= s->pad_w && iw - s->pad_w < s->w;
            *col++ = in ? plane[(ih - s->pad_h) * s->w + iw - s->pad_w] : pad;
          }
        }
      }
}

static ffqrt_status conv(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                         const void *x, const ffqrt_qparam *px, const void *packed,
                         const float *bias, const ffqrt_conv2d_shape *s, void *ws) {
  const ffqrt_conv_hdr *h = packed;
  if (!ctx || !shape_ok(s) || !ffqrt_qparam_ok(px) || (py && !ffqrt_qparam_ok(py)))
    return FFQRT_EINVAL;
  if (!h || h->magic != FFQRT_PACK_MAGIC || h->groups != s->groups) return FFQRT_EINVAL;
  size_t hw = ffqrt_conv2d_out_h(s) * ffqrt_conv2d_out_w(s), cog = s->c_out / s->groups;
  size_t esz = py ? 1 : sizeof(float);
  if (s->n * s->c_out == 0) return FFQRT_OK;
  if (!y || !x || !ws) return FFQRT_EINVAL;
  for (size_t b = 0; b < s->n; b++)
    for (size_t g = 0; g < s->groups; g++) {
      const ffqrt_pack_hdr *ph = ffqrt_pack_hdr_of((const char *)packed + sizeof *h + g * h->group_bytes);
      if (!ph) return FFQRT_EINVAL;
      im2col(ws, x, (uint8_t)px->zero_point, s, b, g);
      ffqrt_gemm gm;
      ffqrt_gemm_init(&gm, ph, ws, px, hw, group_k(s));
      char *yb = (char *)y + (b * s->c_out + g * cog) * hw * esz;
      ffqrt_gemm_out(&gm, yb, py, relu, bias ? bias + g * cog : NULL, 1, hw);
      ffqrt_gemm_run(ctx, &gm);
    }
  return FFQRT_OK;
}

ffqrt_status ffqrt_conv2d_f32(const ffqrt_ctx *ctx, float *y, const void *x,
                              const ffqrt_qparam *px, const void *packed, const float *bias,
                              const ffqrt_conv2d_shape *s, void *workspace) {
  return conv(ctx, y, NULL, 0, x, px, packed, bias, s, workspace);
}

ffqrt_status ffqrt_conv2d_q(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                            const void *x, const ffqrt_qparam *px, const void *packed,
                            const float *bias, const ffqrt_conv2d_shape *s, void *workspace) {
  if (!py) return FFQRT_EINVAL;
  return conv(ctx, y, py, relu, x, px, packed, bias, s, workspace);
}
