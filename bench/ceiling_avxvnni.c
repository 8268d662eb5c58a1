// ceiling_avxvnni.c: the int8 MAC ceiling with 256-bit AVX-VNNI: independent vpdpbusd
// chains on ymm (32 MACs each), all operands in registers.
#include <stdint.h>

#include "ceiling.h"

// Twelve independent chains, in assembly (see ceiling_avx512vnni.c for why): ymm0
// activations, ymm1-2 weights, ymm4-15 accumulators.
uint64_t bench_int8_loop_avxvnni(uint64_t iters, int32_t *sink) {
  static const int32_t init[8] = {0x03050709, 0x0b0d0f11, -5, 7, 3, 5, 9, 11};
  int32_t out[8];
  uint64_t n = iters;
  if (n == 0) return 0;
#define ACC(i) "vpxor %%ymm" #i ", %%ymm" #i ", %%ymm" #i "\n\t"
#define STEP(i, w) "%{vex%} vpdpbusd %%ymm" #w ", %%ymm0, %%ymm" #i "\n\t"
  __asm__ volatile(
      "vmovdqu (%[init]), %%ymm0\n\t"
      "vpaddd %%ymm0, %%ymm0, %%ymm1\n\t"
      "vpsubd %%ymm0, %%ymm1, %%ymm2\n\t"
      "vpsubb %%ymm1, %%ymm2, %%ymm2\n\t"
      ACC(4) ACC(5) ACC(6) ACC(7) ACC(8) ACC(9) ACC(10) ACC(11) ACC(12) ACC(13) ACC(14) ACC(15)
      ".p2align 6\n\t"
      "1:\n\t"
      STEP(4, 1) STEP(5, 2) STEP(6, 1) STEP(7, 2) STEP(8, 1) STEP(9, 2)
      STEP(10, 1) STEP(11, 2) STEP(12, 1) STEP(13, 2) STEP(14, 1) STEP(15, 2)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%ymm4, %%ymm5, %%ymm4\n\t"
      "vpaddd %%ymm6, %%ymm7, %%ymm6\n\t"
      "vpaddd %%ymm8, %%ymm9, %%ymm8\n\t"
      "vpaddd %%ymm10, %%ymm11, %%ymm10\n\t"
      "vpaddd %%ymm12, %%ymm13, %%ymm12\n\t"
      "vpaddd %%ymm14, %%ymm15, %%ymm14\n\t"
      "vpaddd %%ymm4, %%ymm6, %%ymm4\n\t"
      "vpaddd %%ymm8, %%ymm10, %%ymm8\n\t"
      "vpaddd %%ymm12, %%ymm14, %%ymm12\n\t"
      "vpaddd %%ymm4, %%ymm8, %%ymm4\n\t"
      "vpaddd %%ymm4, %%ymm12, %%ymm4\n\t"
      "vmovdqu %%ymm4, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      : [init] "r"(init), [out] "r"(out)
      : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#undef ACC
#undef STEP
  *sink = out[0];
  return iters * 12 * 32;
}
