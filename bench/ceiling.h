// ceiling.h: machine ceilings measured by the benchmark itself.
#ifndef FFQ_BENCH_CEILING_H
#define FFQ_BENCH_CEILING_H

#include <stdint.h>

// Run the MAC loop; return the number of int8 multiply-accumulates done.
uint64_t bench_int8_loop_avx2(uint64_t iters, int32_t *sink);
uint64_t bench_int8_loop_avx512vnni(uint64_t iters, int32_t *sink);
uint64_t bench_int8_loop_avxvnni(uint64_t iters, int32_t *sink);
uint64_t bench_int8_loop_amx(uint64_t iters, int32_t *sink);
void bench_copy_avx2(void *dst, const void *src, uint64_t n);

#endif
