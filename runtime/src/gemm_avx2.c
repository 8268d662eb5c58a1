// gemm_avx2.c: AVX2 GEMM (the shared 256-bit driver is gemm_ymm.h).
// Exactness: vpmaddubsw adds two u8 x s8 products into a saturating int16. When every
// activation is <= 127 (MODE_U7) the pair sum is within [-32512, 32258]: no saturation, one
// vpmaddubsw + vpmaddwd per 32 MACs. Otherwise (MODE_S8) the activations go in as s8
// values a (u8 - 128): |a| (at most 128) against the weights with a's sign (vpsignb), which
// the driver keeps within -127..127 (a -128 weight is taken as -127 and the difference added
// separately): pair sums within +-32512 again, with one vpsignb more per 32 MACs. (Splitting
// each u8 activation into 7 bits and a high bit instead costs two vpmaddubsw + vpmaddwd:
// 174 against 273 GOPS on 128 x 768 x 3072.)
#include <immintrin.h>

#include "gemm_modes.h"

// c + 4-activation dot products with 8 outputs x 4 weights. MODE_U7: u8 activations a
// (aa unused). MODE_S8: s8 activations a, their magnitudes aa, weights within -127..127:
// |a| against w with a's sign.
static inline __attribute__((always_inline)) __m256i ymm_dot(__m256i c, __m256i a, __m256i aa, __m256i w,
                                                             const int mode) {
    __m256i p =
        mode == MODE_S8 ? _mm256_maddubs_epi16(aa, _mm256_sign_epi8(w, a)) : _mm256_maddubs_epi16(a, w);
    return _mm256_add_epi32(c, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

#define YMM_MR    4
#define YMM_U7    1
#define YMM_ENTRY ffqrt_gemm_panels_avx2
#include "gemm_ymm.h"
