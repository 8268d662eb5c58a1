// quant_ref.c: the specification of quantize / dequantize / fake-quantize / min-max, and
// the scalar kernel table entries for them.
#include <assert.h>
#include <math.h>
#include <string.h>

#include "grid.h"
#include "kernels.h"

size_t ffqrt_grid_params(const ffqrt_grid *g) { return g ? ffqrt_grid_tiles(g) : 0; }

size_t ffqrt_storage_bytes(int dtype, size_t n) {
    return dtype == FFQRT_S4 || dtype == FFQRT_U4 ? (n + 1) / 2 : n;
}

// Stores v as element e. 4-bit elements must be stored in increasing e: an even element
// clears the high nibble, so an odd count leaves the last high nibble 0.
static void store_elem(uint8_t *q, int dtype, size_t e, int32_t v) {
    if (dtype == FFQRT_S8 || dtype == FFQRT_U8) {
        q[e] = (uint8_t)v;
    } else if (e % 2 == 0) {
        q[e / 2] = (uint8_t)(v & 0xF);
    } else {
        q[e / 2] = (uint8_t)(q[e / 2] | ((v & 0xF) << 4));
    }
}

// q[e] = clamp(round_half_even(x[e] / scale[t] + zp[t]), qmin, qmax), t = tile of e.
ffqrt_status ffqrt_quantize_ref(void *q, const float *x, const ffqrt_grid *g, const float *scale,
                                const int32_t *zero_point, int dtype) {
    if (!ffqrt_grid_args_ok(q, x, g, scale, zero_point, dtype)) return FFQRT_EINVAL;
    float lo = (float)ffqrt_qmin(dtype), hi = (float)ffqrt_qmax(dtype);
    size_t e = 0;
    for (size_t o = 0; o < g->outer; o++)
        for (size_t m = 0; m < g->mid; m++)
            for (size_t i = 0; i < g->inner; i++, e++) {
                size_t t = ffqrt_param_index(g, o, m, i);
                float zp = (float)ffqrt_zp_at(zero_point, t, dtype);
                store_elem(q, dtype, e, (int32_t)ffqrt_qf(x[e], scale[t], zp, lo, hi));
            }
    return FFQRT_OK;
}

// x[e] = (float)(q[e] - zp[t]) * scale[t].
ffqrt_status ffqrt_dequantize_ref(float *x, const void *q, const ffqrt_grid *g, const float *scale,
                                  const int32_t *zero_point, int dtype) {
    if (!ffqrt_grid_args_ok(x, q, g, scale, zero_point, dtype)) return FFQRT_EINVAL;
    size_t e = 0;
    for (size_t o = 0; o < g->outer; o++)
        for (size_t m = 0; m < g->mid; m++)
            for (size_t i = 0; i < g->inner; i++, e++) {
                size_t t = ffqrt_param_index(g, o, m, i);
                int32_t v = ffqrt_load_elem(q, dtype, e);
                x[e] = ffqrt_dqf(v, ffqrt_zp_at(zero_point, t, dtype), scale[t]);
            }
    return FFQRT_OK;
}

// y[e] = dequantize(quantize(x[e])), with the two formulas above.
ffqrt_status ffqrt_fake_quantize_ref(float *y, const float *x, const ffqrt_grid *g, const float *scale,
                                     const int32_t *zero_point, int dtype) {
    if (!ffqrt_grid_args_ok(y, x, g, scale, zero_point, dtype)) return FFQRT_EINVAL;
    float lo = (float)ffqrt_qmin(dtype), hi = (float)ffqrt_qmax(dtype);
    size_t e = 0;
    for (size_t o = 0; o < g->outer; o++)
        for (size_t m = 0; m < g->mid; m++)
            for (size_t i = 0; i < g->inner; i++, e++) {
                size_t t = ffqrt_param_index(g, o, m, i);
                int32_t zp = ffqrt_zp_at(zero_point, t, dtype);
                int32_t v = (int32_t)ffqrt_qf(x[e], scale[t], (float)zp, lo, hi);
                y[e] = ffqrt_dqf(v, zp, scale[t]);
            }
    return FFQRT_OK;
}

// y[e] = (float)quantize(x[e]): the integer converted back, so -0 becomes +0.
ffqrt_status ffqrt_quantize_float_ref(float *y, const float *x, const ffqrt_grid *g, const float *scale,
                                      const int32_t *zero_point, int dtype) {
    if (!ffqrt_grid_args_ok(y, x, g, scale, zero_point, dtype)) return FFQRT_EINVAL;
    float lo = (float)ffqrt_qmin(dtype), hi = (float)ffqrt_qmax(dtype);
    size_t e = 0;
    for (size_t o = 0; o < g->outer; o++)
        for (size_t m = 0; m < g->mid; m++)
            for (size_t i = 0; i < g->inner; i++, e++) {
                size_t t = ffqrt_param_index(g, o, m, i);
                float zp = (float)ffqrt_zp_at(zero_point, t, dtype);
                y[e] = (float)(int32_t)ffqrt_qf(x[e], scale[t], zp, lo, hi);
            }
    return FFQRT_OK;
}

// Range [lo, hi] widened to contain 0; [qmin, qmax] from dtype (or [0, 127]).
//   asymmetric: scale = (hi - lo) / (qmax - qmin), zp = clamp(qmin - round(lo / scale))
//   symmetric:  scale = max(|lo|, |hi|) / ((qmax - qmin) / 2), zp = symmetric zero point
// A zero or non-finite scale becomes 1 (the range holds only 0).
ffqrt_status ffqrt_qparams_from_range(float *scale, int32_t *zero_point, float lo, float hi, int dtype,
                                      int symmetric, int reduce_range) {
    if (!scale || !zero_point || !ffqrt_dtype_ok(dtype) || !(lo <= hi)) return FFQRT_EINVAL;
    int32_t qmin = ffqrt_qmin(dtype), qmax = ffqrt_qmax(dtype);
    if (reduce_range && dtype == FFQRT_U8) qmax = 127;
    lo = lo < 0.0f ? lo : 0.0f;
    hi = hi > 0.0f ? hi : 0.0f;
    float s;
    int32_t z;
    if (symmetric) {
        float amax = -lo > hi ? -lo : hi;
        s = amax / ((float)(qmax - qmin) / 2.0f);
        z = dtype == FFQRT_U8 && reduce_range ? 64 : ffqrt_sym_zp(dtype);
    } else {
        s = (hi - lo) / (float)(qmax - qmin);
        z = 0;
    }
    if (!ffqrt_scale_ok(s)) s = 1.0f;
    if (!symmetric) {
        float v = nearbyintf(-lo / s) + (float)qmin;  // qmin is even: same as rounding after
        v = v > (float)qmin ? v : (float)qmin;
        z = (int32_t)(v < (float)qmax ? v : (float)qmax);
    }
    *scale = s;
    *zero_point = z;
    return FFQRT_OK;
}

// min = the smallest x[i], max = the largest, NaN skipped (x < acc is false for NaN);
// +0.0f turns a -0 result into +0.
ffqrt_status ffqrt_minmax_ref(float *min, float *max, const float *x, size_t n) {
    if (!min || !max || (n && !x)) return FFQRT_EINVAL;
    float mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    *min = mn + 0.0f;
    *max = mx + 0.0f;
    return FFQRT_OK;
}

// min[c] / max[c] over x[o][c][i] for all o, i; same rules as ffqrt_minmax_ref.
ffqrt_status ffqrt_minmax_channel_ref(float *min, float *max, const float *x, size_t outer, size_t channels,
                                      size_t inner) {
    if (channels && (!min || !max)) return FFQRT_EINVAL;
    if (outer && channels && inner && !x) return FFQRT_EINVAL;
    for (size_t c = 0; c < channels; c++) {
        float mn = INFINITY, mx = -INFINITY;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                float v = x[(o * channels + c) * inner + i];
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
        min[c] = mn + 0.0f;
        max[c] = mx + 0.0f;
    }
    return FFQRT_OK;
}

// ---- scalar table entries ----

void ffqrt_quant_run_ref(uint8_t *restrict q, const float *restrict x, size_t n, float scale, int32_t zp,
                         int32_t lo, int32_t hi) {
    for (size_t i = 0; i < n; i++)
        q[i] = (uint8_t)(int32_t)ffqrt_qf(x[i], scale, (float)zp, (float)lo, (float)hi);
}

void ffqrt_dequant_run_ref(float *restrict x, const uint8_t *restrict q, size_t n, float scale, int32_t zp,
                           int is_signed) {
    for (size_t i = 0; i < n; i++) x[i] = ffqrt_dqf(ffqrt_byte_val(q[i], is_signed), zp, scale);
}

void ffqrt_fakeq_run_ref(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo,
                         int32_t hi) {
    for (size_t i = 0; i < n; i++) {
        int32_t v = (int32_t)ffqrt_qf(x[i], scale, (float)zp, (float)lo, (float)hi);
        y[i] = ffqrt_dqf(v, zp, scale);
    }
}

void ffqrt_quantf_run_ref(float *y, const float *x, size_t n, float scale, int32_t zp, int32_t lo,
                          int32_t hi) {
    for (size_t i = 0; i < n; i++)
        y[i] = (float)(int32_t)ffqrt_qf(x[i], scale, (float)zp, (float)lo, (float)hi);
}

void ffqrt_minmax_run_ref(float *mn, float *mx, const float *restrict x, size_t n) {
    float a = *mn, b = *mx;
    for (size_t i = 0; i < n; i++) {
        a = x[i] < a ? x[i] : a;
        b = x[i] > b ? x[i] : b;
    }
    *mn = a;
    *mx = b;
}

void ffqrt_minmax_cols_ref(float *restrict mn, float *restrict mx, const float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        mn[i] = x[i] < mn[i] ? x[i] : mn[i];
        mx[i] = x[i] > mx[i] ? x[i] : mx[i];
    }
}

uint8_t ffqrt_max_u8_ref(const uint8_t *restrict a, size_t n, uint8_t x) {
    uint8_t m = 0;
    for (size_t i = 0; i < n; i++) m = (uint8_t)(a[i] ^ x) > m ? (uint8_t)(a[i] ^ x) : m;
    return m;
}
