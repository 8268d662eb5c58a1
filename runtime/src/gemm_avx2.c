// gemm_avx2.c: AVX2 GEMM (the shared 256-bit driver is gemm_ymm.h).
// Exactness: vpmaddubsw adds two u8 x s8 products into a saturating int16. When every
// activation is <= 127 (MODE_U7) the pair sum is within [-32512, 32258]: no saturation, one
// vpmaddubsw + vpmaddwd per 32 MACs. When no weight is -128 (MODE_S8), s8 activations a
// go in as |a| (at most 128) against the weights with a's sign (vpsignb: at most 127 in
// magnitude): pair sums within +-32512 again, one vpsignb more. Otherwise (MODE_U8) each
// activation byte splits as lo + 128 * hi (lo = a & 127, hi = a >> 7) and both halves go
// through the MODE_U7 path.
#include <immintrin.h>

#include "gemm_modes.h"

static inline __attribute__((always_inline)) __m256i ymm_dot(__m256i c, __m256i a, __m256i w,
                                                             const int mode) {
    if (mode == MODE_U7)
        return _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(a, w), _mm256_set1_epi16(1)));
    if (mode == MODE_S8)
        return _mm256_add_epi32(
            c, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(a), _mm256_sign_epi8(w, a)),
                                 _mm256_set1_epi16(1)));
    __m256i lo = _mm256_and_si256(a, _mm256_set1_epi8(0x7f));
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(a, 7), _mm256_set1_epi8(1));
    __m256i plo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, w), _mm256_set1_epi16(1));
    __m256i phi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, w), _mm256_set1_epi16(128));
    return _mm256_add_epi32(c, _mm256_add_epi32(plo, phi));
}

#define YMM_MR    4
#define YMM_U7    1
#define YMM_ENTRY ffqrt_gemm_panels_avx2
#include "gemm_ymm.h"
