// ceiling_avx512vnni.c: the int8 MAC ceiling with AVX-512 VNNI: independent vpdpbusd
// chains (64 MACs each), all operands in registers.
#include <stdint.h>

#include "ceiling.h"

// Twelve independent chains, in assembly: written in C, chains that start equal and see
// the same operands are merged by the compiler (GCC folded twelve into two, which made the
// loop latency-bound and the reported ceiling meaningless). zmm0 activations, zmm1-2
// weights, zmm8-19 accumulators (the target attribute lets the asm name zmm16 and up).
__attribute__((target("avx512f"))) uint64_t bench_int8_loop_avx512vnni(uint64_t iters, int32_t *sink) {
  static const int32_t init[16] = {0x03050709, 0x0b0d0f11, -5, 7, 3, 5, 9, 11, 3, 5, 9, 11, 3, 5, 9, 11};
  int32_t out[16];
  uint64_t n = iters;
  if (n == 0) return 0;
#define ACC(i) "vpxord %%zmm" #i ", %%zmm" #i ", %%zmm" #i "\n\t"
#define STEP(i, w) "vpdpbusd %%zmm" #w ", %%zmm0, %%zmm" #i "\n\t"
  __asm__ volatile(
      "vmovdqu32 (%[init]), %%zmm0\n\t"
      "vpaddd %%zmm0, %%zmm0, %%zmm1\n\t"
      "vpsubd %%zmm0, %%zmm1, %%zmm2\n\t"
      "vpsubb %%zmm1, %%zmm2, %%zmm2\n\t"
      ACC(8) ACC(9) ACC(10) ACC(11) ACC(12) ACC(13) ACC(14) ACC(15) ACC(16) ACC(17) ACC(18) ACC(19)
      ".p2align 6\n\t"
      "1:\n\t"
      STEP(8, 1) STEP(9, 2) STEP(10, 1) STEP(11, 2) STEP(12, 1) STEP(13, 2)
      STEP(14, 1) STEP(15, 2) STEP(16, 1) STEP(17, 2) STEP(18, 1) STEP(19, 2)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%zmm8, %%zmm9, %%zmm8\n\t"
      "vpaddd %%zmm10, %%zmm11, %%zmm10\n\t"
      "vpaddd %%zmm12, %%zmm13, %%zmm12\n\t"
      "vpaddd %%zmm14, %%zmm15, %%zmm14\n\t"
      "vpaddd %%zmm16, %%zmm17, %%zmm16\n\t"
      "vpaddd %%zmm18, %%zmm19, %%zmm18\n\t"
      "vpaddd %%zmm8, %%zmm10, %%zmm8\n\t"
      "vpaddd %%zmm12, %%zmm14, %%zmm12\n\t"
      "vpaddd %%zmm16, %%zmm18, %%zmm16\n\t"
      "vpaddd %%zmm8, %%zmm12, %%zmm8\n\t"
      "vpaddd %%zmm8, %%zmm16, %%zmm8\n\t"
      "vmovdqu32 %%zmm8, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      : [init] "r"(init), [out] "r"(out)
      : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
        "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19");
#undef ACC
#undef STEP
  *sink = out[0];
  return iters * 12 * 64;
}
