// dispatch.c: maps CPU features (and FFQRT_FORCE_REF / FFQRT_ISA) to one of the static
// const kernel tables, and creates the context's thread pool. The context only points at
// a table; nothing global is written.
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernels.h"
#include "threads.h"

#define FFQRT_TABLE(id, qisa, gisa, u7)                                                                      \
    {                                                                                                        \
        id, u7, ffqrt_quant_run_##qisa, ffqrt_dequant_run_##qisa, ffqrt_fakeq_run_##qisa,                    \
            ffqrt_quantf_run_##qisa, ffqrt_minmax_run_##qisa, ffqrt_minmax_cols_##qisa, ffqrt_max_u8_##qisa, \
            ffqrt_gemm_panels_##gisa, ffqrt_elt_run_##qisa, ffqrt_gather_f32_##qisa,                         \
            ffqrt_affine_f32_##qisa, ffqrt_act_run_##qisa, ffqrt_dw_row_##qisa, ffqrt_to_pixels_u8_##qisa,   \
            ffqrt_to_channels_u8_##qisa                                                                      \
    }

// AVX-VNNI differs from AVX2 only in the GEMM: the elementwise entries are AVX2's.
static const ffqrt_kernels table_ref = FFQRT_TABLE(FFQRT_ISA_REF, ref, ref, 0);
static const ffqrt_kernels table_avx2 = FFQRT_TABLE(FFQRT_ISA_AVX2, avx2, avx2, 1);
static const ffqrt_kernels table_avxvnni = FFQRT_TABLE(FFQRT_ISA_AVXVNNI, avx2, avxvnni, 0);
static const ffqrt_kernels table_avx512vnni = FFQRT_TABLE(FFQRT_ISA_AVX512VNNI, avx512vnni, avx512vnni, 0);
// AMX differs from AVX-512 VNNI only in the GEMM.
static const ffqrt_kernels table_amx = FFQRT_TABLE(FFQRT_ISA_AMX, avx512vnni, amx, 0);

// Best first: what FFQRT_ISA_AUTO picks.
static const int preference[] = {FFQRT_ISA_AMX, FFQRT_ISA_AVX512VNNI, FFQRT_ISA_AVXVNNI, FFQRT_ISA_AVX2};

// AVX-VNNI: CPUID leaf 7, sub-leaf 1, EAX bit 4 (older compilers, clang 14 among them,
// do not know the name "avxvnni" in __builtin_cpu_supports).
static int has_avxvnni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 4) & 1;
}

// AMX-TILE and AMX-INT8 (CPUID leaf 7, EDX bits 24 and 25), the tile state enabled by the
// OS (XCR0 bits 17 and 18), and the kernel's permission for this process to use the tile
// data (Linux 5.16+: asked once; granted for every thread of the process, and kept
// across fork).
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA  18
static int has_amx(void) {
    static int state;  // 0 not asked yet, 1 usable, -1 not
    int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (s) return s > 0;
    unsigned a, b, c, d;
    int ok = __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((d >> 24) & 3) == 3;
    if (ok) {
        __get_cpuid(1, &a, &b, &c, &d);
        ok = (c >> 27) & 1;  // OSXSAVE: xgetbv may be used
    }
    if (ok) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        ok = ((lo >> 17) & 3) == 3;
    }
#ifdef SYS_arch_prctl
    ok = ok && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    ok = 0;
#endif
    __atomic_store_n(&state, ok ? 1 : -1, __ATOMIC_RELEASE);
    return ok;
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
    case FFQRT_ISA_AMX: return ffqrt_isa_supported(FFQRT_ISA_AVX512VNNI) && has_amx();
    default: return 0;
    }
}

const char *ffqrt_isa_name(int isa) {
    static const char *const names[] = {"auto", "ref", "avx2", "avx512vnni", "avxvnni", "amx"};
    return isa >= 0 && isa <= FFQRT_ISA_AMX ? names[isa] : "unknown";
}

// FFQRT_FORCE_REF=1 wins; then FFQRT_ISA=ref|avx2|avxvnni|avx512vnni|amx; then the best
// supported. An FFQRT_ISA the CPU lacks makes ffqrt_ctx_new fail.
static int resolve_isa(void) {
    const char *force = getenv("FFQRT_FORCE_REF");
    if (force && strcmp(force, "1") == 0) return FFQRT_ISA_REF;
    const char *want = getenv("FFQRT_ISA");
    for (int isa = FFQRT_ISA_REF; want && isa <= FFQRT_ISA_AMX; isa++)
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
    case FFQRT_ISA_AMX: return &table_amx;
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
