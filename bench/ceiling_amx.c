// ceiling_amx.c: the int8 MAC ceiling with AMX-INT8: tdpbusd into four independent C
// tiles (16 x 16 int32 each, 16 x 16 x 64 MACs per instruction), every operand in tiles.
// The caller must hold the process's permission for the tile data (libffqrt asks for it
// when it selects the amx variant).
#include <immintrin.h>
#include <string.h>

#include "ceiling.h"

uint64_t bench_int8_loop_amx(uint64_t iters, int32_t *sink) {
    struct {
        uint8_t palette, start_row, reserved[14];
        uint16_t colsb[16];
        uint8_t rows[16];
    } __attribute__((aligned(64))) cfg;
    static uint8_t a[16 * 64];
    static int8_t b[16 * 64];
    int32_t c[16 * 16];
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    for (int i = 0; i < 16 * 64; i++) a[i] = (uint8_t)(i * 7 + 1), b[i] = (int8_t)(i * 13 + 3);
    _tile_loadconfig(&cfg);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, a, 64);
    _tile_loadd(5, a, 64);
    _tile_loadd(6, b, 64);
    _tile_loadd(7, b, 64);
    for (uint64_t i = 0; i < iters; i++) {
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
    }
    _tile_stored(0, c, 64);
    _tile_release();
    *sink = c[0];
    return iters * 4 * 16 * 16 * 64;
}
