// ceiling_avxvnni.c: the int8 MAC ceiling with 256-bit AVX-VNNI: independent vpdpbusd
// chains on ymm (32 MACs each), all operands in registers.
#include <immintrin.h>
#include <stdint.h>

#include "ceiling.h"

#define STEP(c, w) c = _mm256_dpbusd_avx_epi32(c, a, w)

uint64_t bench_int8_loop_avxvnni(uint64_t iters, int32_t *sink) {
  __m256i a = _mm256_set1_epi8(3), w0 = _mm256_set1_epi8(-5), w1 = _mm256_set1_epi8(7);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
          c7 = c0, c8 = c0, c9 = c0;
  for (uint64_t i = 0; i < iters; i++) {
    STEP(c0, w0); STEP(c1, w1); STEP(c2, w0); STEP(c3, w1); STEP(c4, w0);
    STEP(c5, w1); STEP(c6, w0); STEP(c7, w1); STEP(c8, w0); STEP(c9, w1);
    __asm__ volatile("" : "+x"(a), "+x"(w0), "+x"(w1));
  }
  __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                               _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
  s = _mm256_add_epi32(s, _mm256_add_epi32(c8, c9));
  *sink = _mm_cvtsi128_si32(_mm256_castsi256_si128(s));
  return iters * 10 * 32;
}
