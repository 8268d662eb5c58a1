// gemm_modes.h: how the 256-bit GEMM (gemm_ymm.h) feeds activations to ymm_dot.
#ifndef FFQRT_GEMM_MODES_H
#define FFQRT_GEMM_MODES_H

enum {
    MODE_U8 = 0,  // u8 activations, any value (AVX-VNNI: vpdpbusd takes them all)
    MODE_U7 = 1,  // u8 activations, every one <= 127 (AVX2)
    MODE_S8 = 2   // s8 activations (u8 - 128), weights within -127..127 (AVX2; gemm_ymm.h)
};

#endif  // FFQRT_GEMM_MODES_H
