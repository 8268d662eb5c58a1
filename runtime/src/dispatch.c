// dispatch.c: maps CPU features (and FFQRT_FORCE_REF / FFQRT_ISA) to one of the static
// const kernel tables, and creates the context's thread pool. The context only points at
// a table; nothing global is written.
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels.h"
#include "threads.h"

#define FFQRT_TABLE(id, qisa, gisa, u7)                                                                      \
    {                                                                                                        \
        id, u7, ffqrt_quant_run_##qisa, ffqrt_dequant_run_##qisa, ffqrt_fakeq_run_##qisa,                    \
            ffqrt_quantf_run_##qisa, ffqrt_minmax_run_##qisa, ffqrt_minmax_cols_##qisa, ffqrt_max_u8_##qisa, \
            ffqrt_gemm_panels_##gisa, ffqrt_elt_run_##qisa                                                   \
    }

// AVX-VNNI differs from AVX2 only in the GEMM: the elementwise entries are AVX2's.
static const ffqrt_kernels table_ref = FFQRT_TABLE(FFQRT_ISA_REF, ref, ref, 0);
static const ffqrt_kernels table_avx2 = FFQRT_TABLE(FFQRT_ISA_AVX2, avx2, avx2, 1);
static const ffqrt_kernels table_avxvnni = FFQRT_TABLE(FFQRT_ISA_AVXVNNI, avx2, avxvnni, 0);
static const ffqrt_kernels table_avx512vnni = FFQRT_TABLE(FFQRT_ISA_AVX512VNNI, avx512vnni, avx512vnni, 0);

// Best first: what FFQRT_ISA_AUTO picks.
static const int preference[] = {FFQRT_ISA_AVX512VNNI, FFQRT_ISA_AVXVNNI, FFQRT_ISA_AVX2};

// AVX-VNNI: CPUID leaf 7, sub-leaf 1, EAX bit 4 (older compilers, clang 14 among them,
// do not know the name "avxvnni" in __builtin_cpu_supports).
static int has_avxvnni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 4) & 1;
}

int ffqrt_isa_supported(int isa) {
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    switch (isa) {
    case FFQRT_ISA_REF: return 1;
    case FFQRT_ISA_AVX2: return avx2;
    case FFQRT_ISA_AVXVNNI: return avx2 && has_avxvnni();
    case FFQRT_ISA_AVX512VNNI:
        return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    default: return 0;
    }
}

const char *ffqrt_isa_name(int isa) {
    static const char *const names[] = {"auto", "ref", "avx2", "avx512vnni", "avxvnni"};
    return isa >= 0 && isa <= FFQRT_ISA_AVXVNNI ? names[isa] : "unknown";
}

// FFQRT_FORCE_REF=1 wins; then FFQRT_ISA=ref|avx2|avxvnni|avx512vnni; then the best
// supported. An FFQRT_ISA the CPU lacks makes ffqrt_ctx_new fail.
static int resolve_isa(void) {
    const char *force = getenv("FFQRT_FORCE_REF");
    if (force && strcmp(force, "1") == 0) return FFQRT_ISA_REF;
    const char *want = getenv("FFQRT_ISA");
    for (int isa = FFQRT_ISA_REF; want && isa <= FFQRT_ISA_AVXVNNI; isa++)
        if (strcmp(want, ffqrt_isa_name(isa)) == 0) return isa;
    for (size_t i = 0; i < sizeof preference / sizeof preference[0]; i++)
        if (ffqrt_isa_supported(preference[i])) return preference[i];
    return FFQRT_ISA_REF;
}

static const ffqrt_kernels *table_of(int isa) {
    switch (isa) {
    case FFQRT_ISA_AVX2: return &table_avx2;
    case FFQRT_ISA_AVXVNNI: return &table_avxvnni;
    case FFQRT_ISA_AVX512VNNI: return &table_avx512vnni;
    default: return &table_ref;
    }
}

// CPUs this process may run on.
static size_t cpus_allowed(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return (size_t)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

ffqrt_ctx *ffqrt_ctx_new(int isa, int max_threads) {
    if (isa == FFQRT_ISA_AUTO) isa = resolve_isa();
    if (!ffqrt_isa_supported(isa) || max_threads < 0) return NULL;
    size_t want = max_threads == 0 ? cpus_allowed() : (size_t)max_threads;
    want = want < FFQRT_MAX_THREADS ? want : FFQRT_MAX_THREADS;
    ffqrt_ctx *ctx = malloc(sizeof *ctx);
    if (!ctx) return NULL;
    ctx->k = table_of(isa);
    ctx->nthreads = want;
    ctx->pool = ffqrt_pool_new(want);
    if (!ctx->pool) {
        free(ctx);
        return NULL;
    }
    return ctx;
}

void ffqrt_ctx_free(ffqrt_ctx *ctx) {
    if (!ctx) return;
    ffqrt_pool_free(ctx->pool);
    free(ctx);
}

int ffqrt_ctx_isa(const ffqrt_ctx *ctx) { return ctx ? ctx->k->isa : FFQRT_ISA_REF; }

int ffqrt_ctx_threads(const ffqrt_ctx *ctx) { return ctx ? (int)ctx->nthreads : 0; }

int ffqrt_ctx_use_openmp(ffqrt_ctx *ctx, const char *library) {
    if (!ctx) return FFQRT_EINVAL;
    return ffqrt_pool_use_openmp(ctx->pool, library) ? FFQRT_OK : FFQRT_EUNSUPPORTED;
}

int ffqrt_ctx_uses_openmp(const ffqrt_ctx *ctx) { return ctx ? ffqrt_pool_uses_openmp(ctx->pool) : 0; }
