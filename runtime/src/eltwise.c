// eltwise.c: driver of int8 add / mul with requantization.
#include "kernels.h"
#include "threads.h"

enum { PAR_MIN_ELEMS = 1 << 15 }; // per thread, at least

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

static ffqrt_status elt(const ffqrt_ctx *ctx, int op, void *y, const ffqrt_qparam *py,
                        int relu, const void *a, const ffqrt_qparam *pa, const void *b,
                        const ffqrt_qparam *pb, size_t n) {
  if (!ctx || !ffqrt_qparam_ok(py) || !ffqrt_qparam_ok(pa) || !ffqrt_qparam_ok(pb))
    return FFQRT_EINVAL;
  if (n && (!y || !a || !b)) return FFQRT_EINVAL;
  int32_t lo = ffqrt_qmin(py->dtype);
  lo = relu && py->zero_point > lo ? py->zero_point : lo;
  ffqrt_elt e = {op, y, a, b, pa->dtype == FFQRT_S8, pb->dtype == FFQRT_S8,
                 py->dtype == FFQRT_S8, pa->scale, pb->scale, py->scale, pa->zero_point,
                 pb->zero_point, (float)py->zero_point, (float)lo,
                 (float)ffqrt_qmax(py->dtype)};
  ejob j = {ctx->k, &e, n};
  size_t nt = ffqrt_threads_for(ctx, n, PAR_MIN_ELEMS);
  ffqrt_parallel_parts(ctx->pool, nt, ffqrt_parts_for(nt), elt_task, &j);
  return FFQRT_OK;
}

ffqrt_status ffqrt_add(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                       const void *a, const ffqrt_qparam *pa, const void *b,
                       const ffqrt_qparam *pb, size_t n) {
  return elt(ctx, FFQRT_ELT_ADD, y, py, relu, a, pa, b, pb, n);
}

ffqrt_status ffqrt_mul(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                       const void *a, const ffqrt_qparam *pa, const void *b,
                       const ffqrt_qparam *pb, size_t n) {
  return elt(ctx, FFQRT_ELT_MUL, y, py, relu, a, pa, b, pb, n);
}
