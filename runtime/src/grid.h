// grid.h: quantization grid helpers shared by the reference and the drivers.
#ifndef FFQRT_GRID_H
#define FFQRT_GRID_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

// Tile extent along one dimension (0 means the whole extent; never 0 for a live dim).
static inline size_t ffqrt_tile(size_t dim, size_t tile) {
    return tile == 0 || tile > dim ? (dim ? dim : 1) : tile;
}
static inline size_t ffqrt_ntiles(size_t dim, size_t tile) {
    size_t t = ffqrt_tile(dim, tile);
    return (dim + t - 1) / t;
}
static inline size_t ffqrt_grid_numel(const ffqrt_grid *g) { return g->outer * g->mid * g->inner; }
// Number of tiles, one parameter each (ffqrt_grid_params is the exported name).
static inline size_t ffqrt_grid_tiles(const ffqrt_grid *g) {
    return ffqrt_ntiles(g->outer, g->tile_outer) * ffqrt_ntiles(g->mid, g->tile_mid) *
           ffqrt_ntiles(g->inner, g->tile_inner);
}

// Index of the parameter covering element (o, m, i).
static inline size_t ffqrt_param_index(const ffqrt_grid *g, size_t o, size_t m, size_t i) {
    size_t nm = ffqrt_ntiles(g->mid, g->tile_mid), ni = ffqrt_ntiles(g->inner, g->tile_inner);
    size_t to = o / ffqrt_tile(g->outer, g->tile_outer), tm = m / ffqrt_tile(g->mid, g->tile_mid);
    return (to * nm + tm) * ni + i / ffqrt_tile(g->inner, g->tile_inner);
}

static inline int32_t ffqrt_zp_at(const int32_t *zp, size_t t, int dtype) {
    return zp ? zp[t] : ffqrt_sym_zp(dtype);
}

// Arguments valid for a quantize-family call? Checks scales (finite, > 0) and zero points
// (within the dtype's range).
static inline int ffqrt_grid_args_ok(const void *out, const void *in, const ffqrt_grid *g, const float *scale,
                                     const int32_t *zp, int dtype) {
    if (!g || !ffqrt_dtype_ok(dtype)) return 0;
    if (g->mid && g->inner && g->outer > SIZE_MAX / g->mid / g->inner) return 0;
    if (ffqrt_grid_numel(g) == 0) return 1;
    if (!out || !in || !scale) return 0;
    size_t np = ffqrt_grid_tiles(g);
    for (size_t t = 0; t < np; t++) {
        if (!ffqrt_scale_ok(scale[t])) return 0;
        int32_t z = ffqrt_zp_at(zp, t, dtype);
        if (z < ffqrt_qmin(dtype) || z > ffqrt_qmax(dtype)) return 0;
    }
    return 1;
}

// Element e of a packed int tensor.
static inline int32_t ffqrt_load_elem(const uint8_t *q, int dtype, size_t e) {
    if (dtype == FFQRT_S8) return (int8_t)q[e];
    if (dtype == FFQRT_U8) return q[e];
    uint8_t nib = (uint8_t)((q[e / 2] >> (4 * (e % 2))) & 0xF);
    return dtype == FFQRT_S4 ? (int32_t)(nib ^ 8) - 8 : (int32_t)nib;
}

#endif  // FFQRT_GRID_H
