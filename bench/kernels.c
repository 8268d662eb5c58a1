// kernels.c: libffqrt throughput and the machine's ceilings, one result per line:
//   isa <name> threads <n>
//   ceiling int8 <loop> <GOPS>      (n threads, per-thread CPU time; 1 MAC = 2 ops)
//   ceiling copy stream <GB/s>      (n threads, per-thread CPU time; bytes read + written)
//   linear <M> <K> <N> <seconds> <GOPS>   (ffqrt_linear_dynamic, fp32 in and out)
//   quantize|dequantize <rows> <cols> <seconds> <GB/s>
// bench/kernels.py runs this next to torch and prints the comparison table.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceiling.h"
#include "ffqrt.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *alloc64(size_t n) {
  void *p = aligned_alloc(64, (n + 63) / 64 * 64);
  if (!p) abort();
  memset(p, 0, n);
  return p;
}

// Best time of fn over repetitions lasting at least min_total seconds (at least 3 runs).
static double best_time(void (*fn)(void *), void *arg, double min_total) {
  fn(arg);
  double best = 1e30, start = now();
  for (int r = 0; r < 3 || (now() - start < min_total && r < 200); r++) {
    double t0 = now();
    fn(arg);
    double t = now() - t0;
    best = t < best ? t : best;
  }
  return best;
}

// ---- ceilings ----
//
// Each of `threads` threads runs the loop and divides its work by its own CPU time, and
// the rates add up: the machine's peak with every thread on its own core, even when a
// neighbour preempts us (this only raises the ceiling we are compared with).

typedef struct ceil_arg {
  int isa;
  uint64_t iters, work;
  int32_t sink;
  void *dst;
  const void *src;
  double cpu_s;
} ceil_arg;

static double thread_cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *int8_loop_name(int isa) {
  return isa == FFQRT_ISA_AMX           ? "tdpbusd-amx"
         : isa == FFQRT_ISA_AVX512VNNI ? "vpdpbusd-zmm"
         : isa == FFQRT_ISA_AVXVNNI  ? "vpdpbusd-ymm"
                                     : "vpmaddubsw+vpmaddwd+vpaddd";
}

static void *int8_thread(void *p) {
  ceil_arg *a = p;
  double t0 = thread_cpu();
  a->work = a->isa == FFQRT_ISA_AMX           ? bench_int8_loop_amx(a->iters, &a->sink)
            : a->isa == FFQRT_ISA_AVX512VNNI ? bench_int8_loop_avx512vnni(a->iters, &a->sink)
            : a->isa == FFQRT_ISA_AVXVNNI  ? bench_int8_loop_avxvnni(a->iters, &a->sink)
                                           : bench_int8_loop_avx2(a->iters, &a->sink);
  a->cpu_s = thread_cpu() - t0;
  return NULL;
}

static void *copy_thread(void *p) {
  ceil_arg *a = p;
  double t0 = thread_cpu();
  bench_copy_avx2(a->dst, a->src, a->iters);
  a->work = 2 * a->iters; // bytes read + written
  a->cpu_s = thread_cpu() - t0;
  return NULL;
}

enum { MAX_T = 64 };

// Sum over threads of work / CPU seconds.
static double run_threads(void *(*body)(void *), ceil_arg *a, int threads) {
  pthread_t th[MAX_T];
  for (int i = 1; i < threads; i++)
    if (pthread_create(&th[i], NULL, body, &a[i]) != 0) abort();
  body(&a[0]);
  for (int i = 1; i < threads; i++) pthread_join(th[i], NULL);
  double rate = 0;
  for (int i = 0; i < threads; i++) rate += (double)a[i].work / a[i].cpu_s;
  return rate;
}

static void int8_ceiling(int isa, int threads) {
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    ceil_arg a[MAX_T];
    for (int i = 0; i < threads; i++) a[i] = (ceil_arg){isa, 4000000, 0, 0, NULL, NULL, 0};
    double gops = 2.0 * run_threads(int8_thread, a, threads) / 1e9;
    best = gops > best ? gops : best;
  }
  printf("ceiling int8 %s %.2f\n", int8_loop_name(isa), best);
}

static void copy_ceiling(int threads) {
  size_t per = (size_t)32 << 20;
  char *src = alloc64(per * (size_t)threads), *dst = alloc64(per * (size_t)threads);
  memset(src, 1, per * (size_t)threads);
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    ceil_arg a[MAX_T];
    for (int i = 0; i < threads; i++)
      a[i] = (ceil_arg){0, per, 0, 0, dst + per * (size_t)i, src + per * (size_t)i, 0};
    double gbs = run_threads(copy_thread, a, threads) / 1e9;
    best = gbs > best ? gbs : best;
  }
  printf("ceiling copy stream %.2f\n", best);
  free(src), free(dst);
}

// ---- our kernels ----

typedef struct lin_arg {
  ffqrt_ctx *ctx;
  float *y, *x, *bias;
  void *packed, *work;
  size_t m;
} lin_arg;

static void run_linear(void *p) {
  lin_arg *a = p;
  if (ffqrt_linear_dynamic(a->ctx, a->y, a->x, a->packed, a->bias, a->m, a->work) != FFQRT_OK) abort();
}

static void bench_linear(ffqrt_ctx *ctx, size_t m, size_t k, size_t n) {
  lin_arg a = {ctx, alloc64(m * n * 4), alloc64(m * k * 4), alloc64(n * 4),
               alloc64(ffqrt_linear_pack_size(n, k)), alloc64(ffqrt_linear_dynamic_workspace_size(m, k)), m};
  int8_t *w = alloc64(n * k);
  float *ws = alloc64(n * 4);
  srand(7);
  for (size_t i = 0; i < m * k; i++) a.x[i] = (float)(rand() % 2001 - 1000) / 500.0f;
  for (size_t i = 0; i < n * k; i++) w[i] = (int8_t)(rand() % 255 - 127);
  for (size_t j = 0; j < n; j++) ws[j] = 0.01f, a.bias[j] = 0.5f;
  ffqrt_linear_pack(a.packed, w, ws, n, k);
  double t = best_time(run_linear, &a, 1.0);
  printf("linear %zu %zu %zu %.6f %.2f\n", m, k, n, t, 2.0 * (double)(m * n * k) / t / 1e9);
  free(a.y), free(a.x), free(a.bias), free(a.packed), free(a.work), free(w), free(ws);
}

typedef struct q_arg {
  ffqrt_ctx *ctx;
  float *x;
  uint8_t *q;
  ffqrt_grid g;
  float scale;
  int32_t zp;
} q_arg;

static void run_quant(void *p) {
  q_arg *a = p;
  ffqrt_quantize(a->ctx, a->q, a->x, &a->g, &a->scale, &a->zp, FFQRT_U8);
}

static void run_dequant(void *p) {
  q_arg *a = p;
  ffqrt_dequantize(a->ctx, a->x, a->q, &a->g, &a->scale, &a->zp, FFQRT_U8);
}

static void bench_qdq(ffqrt_ctx *ctx, size_t rows, size_t cols) {
  size_t n = rows * cols;
  q_arg a = {ctx, alloc64(n * 4), alloc64(n), {1, 1, n, 0, 0, 0}, 0.02f, 128};
  for (size_t i = 0; i < n; i++) a.x[i] = (float)((int)(i * 2654435761u % 20001) - 10000) / 4000.0f;
  double tq = best_time(run_quant, &a, 1.0), td = best_time(run_dequant, &a, 1.0);
  printf("quantize %zu %zu %.6f %.2f\n", rows, cols, tq, 5.0 * (double)n / tq / 1e9);
  printf("dequantize %zu %zu %.6f %.2f\n", rows, cols, td, 5.0 * (double)n / td / 1e9);
  free(a.x), free(a.q);
}

typedef struct conv_arg {
  ffqrt_ctx *ctx;
  ffqrt_conv2d_shape s;
  uint8_t *x, *y;
  void *packed, *work;
  float *bias;
  ffqrt_qparam px, py;
} conv_arg;

static void run_conv(void *p) {
  conv_arg *a = p;
  if (ffqrt_conv2d_q(a->ctx, a->y, &a->py, 0, a->x, &a->px, a->packed, a->bias, &a->s, a->work) != FFQRT_OK)
    abort();
}

// A requantized conv2d (int8 in and out, as the integer path runs the demo's layers).
static void bench_conv(ffqrt_ctx *ctx, const char *name, ffqrt_conv2d_shape s) {
  size_t nx = s.n * s.c_in * s.h * s.w, nw = s.c_out * s.c_in / s.groups * s.kh * s.kw;
  size_t oh = ffqrt_conv2d_out_h(&s), ow = ffqrt_conv2d_out_w(&s);
  conv_arg a = {ctx, s, alloc64(nx), alloc64(s.n * s.c_out * oh * ow), alloc64(ffqrt_conv2d_pack_size(&s)),
                alloc64(ffqrt_conv2d_workspace_size(&s)), alloc64(s.c_out * 4), {0.02f, 3, FFQRT_S8},
                {0.05f, -2, FFQRT_S8}};
  int8_t *w = alloc64(nw);
  float *ws = alloc64(s.c_out * 4);
  srand(11);
  for (size_t i = 0; i < nx; i++) a.x[i] = (uint8_t)rand();
  for (size_t i = 0; i < nw; i++) w[i] = (int8_t)(rand() % 255 - 127);
  for (size_t j = 0; j < s.c_out; j++) ws[j] = 0.001f, a.bias[j] = 0.5f;
  if (ffqrt_conv2d_pack(a.packed, w, ws, &s) != FFQRT_OK) abort();
  double t = best_time(run_conv, &a, 1.0);
  double macs = (double)(s.n * s.c_out * oh * ow) * (double)(s.c_in / s.groups * s.kh * s.kw);
  printf("conv2d %s %.6f %.2f\n", name, t, 2.0 * macs / t / 1e9);
  free(a.x), free(a.y), free(a.packed), free(a.work), free(a.bias), free(w), free(ws);
}

// Usage: ffqrt_bench_kernels [--ceilings | --quick] [THREADS]   (THREADS default 2)
// --ceilings: only the two ceilings; --quick: fewer linear shapes. Then quantize /
// dequantize and three requantized convolutions (seconds, GOPS). FFQRT_ISA picks the
// variant (and so the ceiling's loop).
int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  int ceilings = argc > 1 && strcmp(argv[1], "--ceilings") == 0;
  int threads = argc > 2 ? atoi(argv[2]) : 2;
  if (threads < 1 || threads > MAX_T) return 2;
  ffqrt_ctx *ctx = ffqrt_ctx_new(FFQRT_ISA_AUTO, threads);
  if (!ctx) return 1;
  int isa = ffqrt_ctx_isa(ctx);
  printf("isa %s threads %d\n", ffqrt_isa_name(isa), threads);
  int8_ceiling(isa, threads);
  copy_ceiling(threads);
  if (ceilings) {
    ffqrt_ctx_free(ctx);
    return 0;
  }
  static const size_t shapes[][3] = {{1, 4096, 4096}, {16, 4096, 4096}, {128, 4096, 4096},
                                     {512, 4096, 4096}, {128, 768, 3072}};
  for (size_t i = 0; i < (quick ? 3u : 5u); i++) bench_linear(ctx, shapes[i][0], shapes[i][1], shapes[i][2]);
  bench_qdq(ctx, 4096, 4096);
  // the demo's two convolutions (400 images of 8x8; the first on one channel, whose window
  // rows of 3 bytes take the row-per-k-group layout), and ResNet-18's RGB stem
  bench_conv(ctx, "400x1x8x8->16,3x3", (ffqrt_conv2d_shape){400, 1, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1,
                                                              FFQRT_CONV_OUT_NHWC});
  bench_conv(ctx, "400x16x8x8->32,3x3/2", (ffqrt_conv2d_shape){400, 16, 8, 8, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1,
                                                                 FFQRT_CONV_IN_NHWC | FFQRT_CONV_OUT_NHWC});
  bench_conv(ctx, "1x3x128x128->64,7x7/2", (ffqrt_conv2d_shape){1, 3, 128, 128, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1,
                                                                  FFQRT_CONV_OUT_NHWC});
  ffqrt_ctx_free(ctx);
  return 0;
}
