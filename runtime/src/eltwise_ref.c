// eltwise_ref.c: the specification of int8 add / mul with requantization, and the scalar
// table entry.
#include "kernels.h"

// fa = (float)(a - za) * sa, fb = (float)(b - zb) * sb,
// y = clamp(round_half_even((fa op fb) / sy + zy), relu ? max(qmin, zy) : qmin, qmax).
static ffqrt_status elt_ref(int op, void *y, const ffqrt_qparam *py, int relu, const void *a,
                            const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t n) {
    if (!ffqrt_qparam_ok(py) || !ffqrt_qparam_ok(pa) || !ffqrt_qparam_ok(pb)) return FFQRT_EINVAL;
    if (n && (!y || !a || !b)) return FFQRT_EINVAL;
    int32_t lo = ffqrt_out_lo(py, relu);
    for (size_t i = 0; i < n; i++) {
        int32_t qa = ffqrt_byte_val(((const uint8_t *)a)[i], pa->dtype == FFQRT_S8);
        int32_t qb = ffqrt_byte_val(((const uint8_t *)b)[i], pb->dtype == FFQRT_S8);
        float fa = ffqrt_dqf(qa, pa->zero_point, pa->scale);
        float fb = ffqrt_dqf(qb, pb->zero_point, pb->scale);
        float v = op == FFQRT_ELT_ADD ? fa + fb : fa * fb;
        float q = ffqrt_qf(v, py->scale, (float)py->zero_point, (float)lo, (float)ffqrt_qmax(py->dtype));
        ((uint8_t *)y)[i] = (uint8_t)(int32_t)q;
    }
    return FFQRT_OK;
}

ffqrt_status ffqrt_add_ref(void *y, const ffqrt_qparam *py, int relu, const void *a, const ffqrt_qparam *pa,
                           const void *b, const ffqrt_qparam *pb, size_t n) {
    return elt_ref(FFQRT_ELT_ADD, y, py, relu, a, pa, b, pb, n);
}

ffqrt_status ffqrt_mul_ref(void *y, const ffqrt_qparam *py, int relu, const void *a, const ffqrt_qparam *pa,
                           const void *b, const ffqrt_qparam *pb, size_t n) {
    return elt_ref(FFQRT_ELT_MUL, y, py, relu, a, pa, b, pb, n);
}

void ffqrt_elt_run_ref(const ffqrt_elt *e, size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++)
        e->y[i] = (uint8_t)(int32_t)ffqrt_qf(ffqrt_elt_real(e, i), e->sy, e->zy, e->ylo, e->yhi);
}

void ffqrt_gather_f32_ref(float *restrict y, const float *restrict e, const uint8_t *restrict x, size_t n,
                          uint8_t top, uint8_t flip) {
    for (size_t i = 0; i < n; i++) y[i] = e[top - (uint8_t)(x[i] ^ flip)];
}

void ffqrt_affine_f32_ref(float *restrict y, const int8_t *restrict x, size_t n, float s, int32_t z,
                          const float *restrict a, const float *restrict b, int step) {
    for (size_t i = 0; i < n; i++) {
        size_t c = step ? i : 0;
        y[i] = fmaf((float)((int32_t)x[i] - z) * s, a[c], b[c]);
    }
}

void ffqrt_act_run_ref(float *y, const float *x, size_t n, int act) {
    for (size_t i = 0; i < n; i++) y[i] = ffqrt_act1(x[i], act);
}

ffqrt_status ffqrt_act_f32_ref(float *y, const float *x, size_t n, int act) {
    if (act != FFQRT_ACT_GELU_TANH || (n && (!y || !x))) return FFQRT_EINVAL;
    ffqrt_act_run_ref(y, x, n, act);
    return FFQRT_OK;
}
