// ceiling_avx2.c: the int8 MAC ceiling of an AVX2 machine: independent chains of
// vpmaddubsw -> vpmaddwd(ones) -> vpaddd (32 MACs each), all operands in registers.
#include <immintrin.h>
#include <stdint.h>

#include "ceiling.h"

// Six independent chains, in assembly so the compiler cannot spill or share anything:
// ymm0-2 activations, ymm3-4 weights, ymm5 ones, ymm8-13 accumulators.
uint64_t bench_int8_loop_avx2(uint64_t iters, int32_t *sink) {
  static const int8_t a[32] = {3, 5, 9, 11, 3, 5, 9, 11, 3, 5, 9, 11, 3, 5, 9, 11,
                               3, 5, 9, 11, 3, 5, 9, 11, 3, 5, 9, 11, 3, 5, 9, 11};
  static const int16_t ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  int32_t out[8];
  uint64_t n = iters;
  if (n == 0) return 0;
  __asm__ volatile(
      "vmovdqu (%[a]), %%ymm0\n\t"
      "vpaddb %%ymm0, %%ymm0, %%ymm1\n\t"
      "vpsubb %%ymm0, %%ymm1, %%ymm2\n\t"
      "vpsubb %%ymm1, %%ymm2, %%ymm3\n\t"
      "vpaddb %%ymm2, %%ymm0, %%ymm4\n\t"
      "vmovdqu (%[ones]), %%ymm5\n\t"
      "vpxor %%ymm8, %%ymm8, %%ymm8\n\t"
      "vpxor %%ymm9, %%ymm9, %%ymm9\n\t"
      "vpxor %%ymm10, %%ymm10, %%ymm10\n\t"
      "vpxor %%ymm11, %%ymm11, %%ymm11\n\t"
      "vpxor %%ymm12, %%ymm12, %%ymm12\n\t"
      "vpxor %%ymm13, %%ymm13, %%ymm13\n\t"
      "1:\n\t"
      "vpmaddubsw %%ymm3, %%ymm0, %%ymm6\n\t"
      "vpmaddubsw %%ymm4, %%ymm0, %%ymm7\n\t"
      "vpmaddubsw %%ymm3, %%ymm1, %%ymm14\n\t"
      "vpmaddubsw %%ymm4, %%ymm1, %%ymm15\n\t"
      "vpmaddwd %%ymm5, %%ymm6, %%ymm6\n\t"
      "vpmaddwd %%ymm5, %%ymm7, %%ymm7\n\t"
      "vpmaddwd %%ymm5, %%ymm14, %%ymm14\n\t"
      "vpmaddwd %%ymm5, %%ymm15, %%ymm15\n\t"
      "vpaddd %%ymm6, %%ymm8, %%ymm8\n\t"
      "vpaddd %%ymm7, %%ymm9, %%ymm9\n\t"
      "vpaddd %%ymm14, %%ymm10, %%ymm10\n\t"
      "vpaddd %%ymm15, %%ymm11, %%ymm11\n\t"
      "vpmaddubsw %%ymm3, %%ymm2, %%ymm6\n\t"
      "vpmaddubsw %%ymm4, %%ymm2, %%ymm7\n\t"
      "vpmaddwd %%ymm5, %%ymm6, %%ymm6\n\t"
      "vpmaddwd %%ymm5, %%ymm7, %%ymm7\n\t"
      "vpaddd %%ymm6, %%ymm12, %%ymm12\n\t"
      "vpaddd %%ymm7, %%ymm13, %%ymm13\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%ymm8, %%ymm9, %%ymm8\n\t"
      "vpaddd %%ymm10, %%ymm11, %%ymm10\n\t"
      "vpaddd %%ymm12, %%ymm13, %%ymm12\n\t"
      "vpaddd %%ymm8, %%ymm10, %%ymm8\n\t"
      "vpaddd %%ymm8, %%ymm12, %%ymm8\n\t"
      "vmovdqu %%ymm8, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      : [a] "r"(a), [ones] "r"(ones), [out] "r"(out)
      : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  *sink = out[0];
  return iters * 6 * 32;
}

// Streaming copy of n bytes (32-byte aligned buffers, n % 32 == 0).
void bench_copy_avx2(void *dst, const void *src, uint64_t n) {
  for (uint64_t i = 0; i < n; i += 32)
    _mm256_stream_si256((__m256i *)((char *)dst + i), _mm256_load_si256((const __m256i *)((const char *)src + i)));
  _mm_sfence();
}
