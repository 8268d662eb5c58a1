// ceiling_avx512vnni.c: the int8 MAC ceiling with AVX-512 VNNI: independent vpdpbusd
// chains (64 MACs each), all operands in registers.
#include <immintrin.h>
#include <stdint.h>

#include "ceiling.h"

#define STEP(c, w) c = _mm512_dpbusd_epi32(c, a, w)

uint64_t bench_int8_loop_avx512vnni(uint64_t iters, int32_t *sink) {
  __m512i a = _mm512_set1_epi8(3), w0 = _mm512_set1_epi8(-5), w1 = _mm512_set1_epi8(7);
  __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
          c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  for (uint64_t i = 0; i < iters; i++) {
    STEP(c0, w0); STEP(c1, w1); STEP(c2, w0); STEP(c3, w1); STEP(c4, w0); STEP(c5, w1);
    STEP(c6, w0); STEP(c7, w1); STEP(c8, w0); STEP(c9, w1); STEP(c10, w0); STEP(c11, w1);
    __asm__ volatile("" : "+v"(a), "+v"(w0), "+v"(w1));
  }
  __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                               _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
  s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11)));
  *sink = _mm_cvtsi128_si32(_mm512_castsi512_si128(s));
  return iters * 12 * 64;
}
