// dispatch.c: maps CPU features (and FFQRT_FORCE_REF / FFQRT_ISA) to one of the static
// const kernel tables. The context only points at a table; nothing global is written.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels.h"

#define FFQRT_TABLE(id, isa)                                                                 \
  {                                                                                          \
    id, ffqrt_quant_run_##isa, ffqrt_dequant_run_##isa, ffqrt_fakeq_run_##isa,               \
        ffqrt_minmax_run_##isa, ffqrt_minmax_cols_##isa, ffqrt_max_u8_##isa,                 \
        ffqrt_gemm_panels_##isa, ffqrt_elt_run_##isa                                         \
  }

static const ffqrt_kernels table_ref = FFQRT_TABLE(FFQRT_ISA_REF, ref);
static const ffqrt_kernels table_avx2 = FFQRT_TABLE(FFQRT_ISA_AVX2, avx2);
static const ffqrt_kernels table_avx512vnni = FFQRT_TABLE(FFQRT_ISA_AVX512VNNI, avx512vnni);

int ffqrt_isa_supported(int isa) {
  __builtin_cpu_init();
  switch (isa) {
  case FFQRT_ISA_REF: return 1;
  case FFQRT_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case FFQRT_ISA_AVX512VNNI:
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  default: return 0;
  }
}

const char *ffqrt_isa_name(int isa) {
  static const char *const names[] = {"auto", "ref", "avx2", "avx512vnni"};
  return isa >= 0 && isa <= FFQRT_ISA_AVX512VNNI ? names[isa] : "unknown";
}

// FFQRT_FORCE_REF=1 wins; then FFQRT_ISA=ref|avx2|avx512vnni; then the best supported.
static int resolve_isa(void) {
  const char *force = getenv("FFQRT_FORCE_REF");
  if (force && strcmp(force, "1") == 0) return FFQRT_ISA_REF;
  const char *want = getenv("FFQRT_ISA");
  for (int isa = FFQRT_ISA_REF; want && isa <= FFQRT_ISA_AVX512VNNI; isa++)
    if (strcmp(want, ffqrt_isa_name(isa)) == 0) return isa;
  for (int isa = FFQRT_ISA_AVX512VNNI; isa > FFQRT_ISA_REF; isa--)
    if (ffqrt_isa_supported(isa)) return isa;
  return FFQRT_ISA_REF;
}

static const ffqrt_kernels *table_of(int isa) {
  switch (isa) {
  case FFQRT_ISA_AVX2: return &table_avx2;
  case FFQRT_ISA_AVX512VNNI: return &table_avx512vnni;
  default: return &table_ref;
  }
}

ffqrt_ctx *ffqrt_ctx_new(int isa, int max_threads) {
  if (isa == FFQRT_ISA_AUTO) isa = resolve_isa();
  if (!ffqrt_isa_supported(isa) || max_threads < 0) return NULL;
  ffqrt_ctx *ctx = malloc(sizeof *ctx);
  if (!ctx) return NULL;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  size_t want = max_threads == 0 ? 2 : (size_t)max_threads;
  ctx->k = table_of(isa);
  ctx->nthreads = want >= 2 && cpus >= 2 ? 2 : 1;
  return ctx;
}

void ffqrt_ctx_free(ffqrt_ctx *ctx) { free(ctx); }

int ffqrt_ctx_isa(const ffqrt_ctx *ctx) { return ctx ? ctx->k->isa : FFQRT_ISA_REF; }
