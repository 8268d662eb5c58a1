// gemm_avxvnni.c: AVX-VNNI GEMM, for CPUs with 256-bit vpdpbusd but no AVX-512 VNNI (the
// shared 256-bit driver is gemm_ymm.h). vpdpbusd adds 4 u8 x s8 products straight into
// int32, so any u8 activation is exact and there is one instruction per 32 MACs.
#include <immintrin.h>

#include "gemm_modes.h"

static inline __attribute__((always_inline)) __m256i ymm_dot(__m256i c, __m256i a, __m256i aa, __m256i w,
                                                             const int mode) {
    (void)aa, (void)mode;  // always MODE_U8
    return _mm256_dpbusd_avx_epi32(c, a, w);
}

#define YMM_MR    6
#define YMM_U7    0
#define YMM_ENTRY ffqrt_gemm_panels_avxvnni
#include "gemm_ymm.h"
