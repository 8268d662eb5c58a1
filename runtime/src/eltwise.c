// eltwise.c: driver of int8 add / mul with requantization, and the byte table lookup.
#include <string.h>

#include "kernels.h"
#include "threads.h"

enum { PAR_MIN_ELEMS = 1 << 15 };  // per thread, at least

typedef struct ejob {
    const ffqrt_kernels *k;
    const ffqrt_elt *e;
    size_t n;
} ejob;

static void elt_task(void *arg, size_t tid, size_t nt) {
    const ejob *j = arg;
    size_t b, e;
    ffqrt_split(j->n, 64, tid, nt, &b, &e);
    if (b < e) j->k->elt_run(j->e, b, e);
}

static ffqrt_status elt(const ffqrt_ctx *ctx, int op, void *y, const ffqrt_qparam *py, int relu,
                        const void *a, const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb,
                        size_t n) {
    if (!ctx || !ffqrt_qparam_ok(py) || !ffqrt_qparam_ok(pa) || !ffqrt_qparam_ok(pb)) return FFQRT_EINVAL;
    if (n && (!y || !a || !b)) return FFQRT_EINVAL;
    int32_t lo = ffqrt_qmin(py->dtype);
    lo = relu && py->zero_point > lo ? py->zero_point : lo;
    ffqrt_elt e = {op,
                   y,
                   a,
                   b,
                   pa->dtype == FFQRT_S8,
                   pb->dtype == FFQRT_S8,
                   py->dtype == FFQRT_S8,
                   pa->scale,
                   pb->scale,
                   py->scale,
                   pa->zero_point,
                   pb->zero_point,
                   (float)py->zero_point,
                   (float)lo,
                   (float)ffqrt_qmax(py->dtype),
                   ffqrt_recip(py->scale)};
    ejob j = {ctx->k, &e, n};
    size_t nt = ffqrt_threads_for(ctx, n, PAR_MIN_ELEMS);
    ffqrt_parallel_parts(ctx->pool, nt, ffqrt_parts_for(nt), elt_task, &j);
    return FFQRT_OK;
}

ffqrt_status ffqrt_add(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *a,
                       const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t n) {
    return elt(ctx, FFQRT_ELT_ADD, y, py, relu, a, pa, b, pb, n);
}

ffqrt_status ffqrt_mul(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu, const void *a,
                       const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t n) {
    return elt(ctx, FFQRT_ELT_MUL, y, py, relu, a, pa, b, pb, n);
}

// ---- byte table lookup: y[i] = table[x[i]] ----
//
// Any function of one 8-bit operand onto an 8-bit grid (a requantization, relu, gelu, ...)
// is a table of 256 bytes. With AVX-512 VBMI, vpermi2b looks up 64 bytes in two 128-byte
// halves of the table and the sign bit of each index picks the half; otherwise a scalar loop.

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LUT_VBMI 1
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
lut_vbmi(uint8_t *y, const uint8_t *x, const uint8_t *restrict table, size_t n) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i v = _mm512_loadu_si512(x + i);
        __m512i lo = _mm512_permutex2var_epi8(t0, v, t1), hi = _mm512_permutex2var_epi8(t2, v, t3);
        _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
    }
    for (; i < n; i++) y[i] = table[x[i]];
}
#else
#define LUT_VBMI 0
#endif

static void lut_scalar(uint8_t *y, const uint8_t *x, const uint8_t *restrict table, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = table[x[i]];
}

typedef struct ljob {
    uint8_t *y;
    const uint8_t *x, *table;
    size_t n;
    int vbmi;
} ljob;

static void lut_task(void *arg, size_t tid, size_t nt) {
    const ljob *j = arg;
    size_t b, e;
    ffqrt_split(j->n, 64, tid, nt, &b, &e);
    if (b >= e) return;
#if LUT_VBMI
    if (j->vbmi) {
        lut_vbmi(j->y + b, j->x + b, j->table, e - b);
        return;
    }
#endif
    lut_scalar(j->y + b, j->x + b, j->table, e - b);
}

ffqrt_status ffqrt_lut8(const ffqrt_ctx *ctx, void *y, const void *x, const uint8_t *table, size_t n) {
    if (!ctx || (n && (!y || !x || !table))) return FFQRT_EINVAL;
    int vbmi = 0;
#if LUT_VBMI
    // the ref variant stays scalar; the others use VBMI when the CPU has it
    vbmi = ctx->k->isa != FFQRT_ISA_REF && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512bw");
#endif
    ljob j = {y, x, table, n, vbmi};
    size_t nt = ffqrt_threads_for(ctx, n, PAR_MIN_ELEMS * 4);
    ffqrt_parallel_parts(ctx->pool, nt, ffqrt_parts_for(nt), lut_task, &j);
    return FFQRT_OK;
}
