// kernels.c: libffqrt throughput and the machine's ceilings, one result per line:
//   ceiling int8 <loop> <GOPS>      (2 threads, per-thread CPU time; 1 MAC = 2 ops)
//   ceiling copy stream <GB/s>      (2 threads; bytes read + written)
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

// ---- ceilings (two threads) ----

typedef struct ceil_arg {
  int vnni;
  uint64_t iters, macs;
  int32_t sink;
  void *dst;
  const void *src;
  uint64_t bytes;
  double cpu_s;
} ceil_arg;

static double thread_cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Rate measured against the thread's own CPU time: the hardware's peak even when a
// neighbour preempts us (this only raises the ceiling we are compared with).
static void *int8_thread(void *p) {
  ceil_arg *a = p;
  double t0 = thread_cpu();
  a->macs = a->vnni ? bench_int8_loop_avx512vnni(a->iters, &a->sink)
                    : bench_int8_loop_avx2(a->iters, &a->sink);
  a->cpu_s = thread_cpu() - t0;
  return NULL;
}

static void *copy_thread(void *p) {
  ceil_arg *a = p;
  bench_copy_avx2(a->dst, a->src, a->bytes);
  return NULL;
}

static void *pinned(void *(*body)(void *), ceil_arg *a, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  return body(a);
}

typedef struct pin_arg {
  void *(*body)(void *);
  ceil_arg *a;
} pin_arg;

static void *pinned_cpu1(void *p) {
  pin_arg *pa = p;
  return pinned(pa->body, pa->a, 1);
}

// Runs body on two threads pinned to CPUs 0 and 1 with args a[0], a[1]; returns the wall
// time. The caller's affinity is restored afterwards.
static double two_threads(void *(*body)(void *), ceil_arg *a) {
  cpu_set_t saved;
  sched_getaffinity(0, sizeof saved, &saved);
  pthread_t th;
  pin_arg pa = {body, &a[1]};
  double t0 = now();
  if (pthread_create(&th, NULL, pinned_cpu1, &pa) != 0) abort();
  pinned(body, &a[0], 0);
  pthread_join(th, NULL);
  double t = now() - t0;
  sched_setaffinity(0, sizeof saved, &saved);
  return t;
}

static void int8_ceiling(void) {
  int vnni = ffqrt_isa_supported(FFQRT_ISA_AVX512VNNI);
  double best = 0;
  for (int rep = 0; rep < 8; rep++) {
    ceil_arg a[2] = {{vnni, 10000000, 0, 0, 0, 0, 0}, {vnni, 20000000, 0, 0, 0, 0, 0}};
    double t = two_threads(int8_thread, a);
    double gops = 2.0 * (double)(a[0].macs + a[1].macs) / t / 1e9;
    best = gops > best ? gops : best;
  }
  printf("ceiling int8 %s %.2f\n", vnni ? "vpdpbusd" : "vpmaddubsw+vpmaddwd+vpaddd", best);
}

static void copy_ceiling(void) {
  size_t n = (size_t)64 << 20;
  char *src = alloc64(n), *dst = alloc64(n);
  memset(src, 1, n);
  double best = 1e30;
  for (int rep = 0; rep < 12; rep++) {
    ceil_arg a[2] = {{0, 0, 0, 0, dst, src, n / 2, 0}, {0, 0, 0, 0, dst + n / 2, src + n / 2, n / 2, 0}};
    double t = two_threads(copy_thread, a);
    best = t < best ? t : best;
  }
  printf("ceiling copy stream %.2f\n", 2.0 * (double)n / best / 1e9);
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

// --ceilings: only the two ceilings; --quick: fewer linear shapes.
int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  int ceilings = argc > 1 && strcmp(argv[1], "--ceilings") == 0;
  ffqrt_ctx *ctx = ffqrt_ctx_new(FFQRT_ISA_AUTO, 2);
  if (!ctx) return 1;
  printf("isa %s\n", ffqrt_isa_name(ffqrt_ctx_isa(ctx)));
  int8_ceiling();
  copy_ceiling();
  if (ceilings) {
    ffqrt_ctx_free(ctx);
    return 0;
  }
  static const size_t shapes[][3] = {{1, 4096, 4096}, {16, 4096, 4096}, {128, 4096, 4096},
                                     {512, 4096, 4096}, {128, 768, 3072}};
  for (size_t i = 0; i < (quick ? 3u : 5u); i++) bench_linear(ctx, shapes[i][0], shapes[i][1], shapes[i][2]);
  bench_qdq(ctx, 4096, 4096);
  ffqrt_ctx_free(ctx);
  return 0;
}
