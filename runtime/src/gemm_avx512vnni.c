// gemm_avx512vnni.c: AVX-512 VNNI GEMM over the packed panels (layout.h). One 64-byte
// weight group is one zmm: vpdpbusd multiplies 4 u8 activations (broadcast as an int32)
// by 16 outputs x 4 s8 weights and adds into int32 without intermediate saturation, so
// any u8 activation is exact. A tile is up to MR rows x one panel (MR zmm accumulators).
#include <immintrin.h>
#include <string.h>

#include "kernels.h"
#include "simd_avx512.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))
// Row loops run over a compile-time mr: unrolled, the accumulators live in registers.
#define UNROLL _Pragma("GCC unroll 16")

enum { MR = 12 };

typedef struct tile {
  __m512i c[MR];
} tile;

static ALWAYS_INLINE __m512i bcast4(const uint8_t *p, int xor80) {
  int32_t v;
  memcpy(&v, p, 4);
  __m512i a = _mm512_set1_epi32(v);
  return xor80 ? _mm512_xor_si512(a, _mm512_set1_epi8((char)0x80)) : a;
}

static ALWAYS_INLINE void step(tile *t, const uint8_t *const *a, size_t off, const int8_t *wg,
                               const size_t mr, const int xor80) {
  const __m512i w = _mm512_loadu_si512(wg);
  UNROLL
  for (size_t r = 0; r < mr; r++) t->c[r] = _mm512_dpbusd_epi32(t->c[r], bcast4(a[r] + off, xor80), w);
}

// The last, partial k-group through a zero-padded copy of the activations.
static ALWAYS_INLINE void tail_step(tile *t, const uint8_t *const *a, size_t off, size_t rest,
                                    const int8_t *wg, const size_t mr, const int xor80) {
  uint8_t last[MR][4] = {{0}};
  const uint8_t *lp[MR];
  for (size_t r = 0; r < mr; r++) {
    memcpy(last[r], a[r] + off, rest);
    lp[r] = last[r];
  }
  step(t, lp, 0, wg, mr, xor80);
}

// Raw dot products of rows [m0, m0 + mr) with one panel.
static ALWAYS_INLINE void tile_dot(tile *out, const ffqrt_gemm *g, const int8_t *panel,
                                   size_t m0, const size_t mr, const int xor80) {
  const uint8_t *a[MR];
  tile acc, *t = &acc; // a local, so the accumulators stay in registers
  UNROLL
  for (size_t r = 0; r < mr; r++) {
    a[r] = g->a + (m0 + r) * g->lda;
    t->c[r] = _mm512_setzero_si512();
  }
  size_t full = g->k / 4, rest = g->k % 4;
  for (size_t kg = 0; kg < full; kg++) step(t, a, 4 * kg, panel + 64 * kg, mr, xor80);
  if (rest) tail_step(t, a, 4 * full, rest, panel + 64 * full, mr, xor80);
  *out = acc;
}

#define TILE_CASE(n, x) case n: tile_dot(t, g, panel, m0, n, x); break;
#define TILE_FN(name, x)                                                                     \
  static void name(tile *t, const ffqrt_gemm *g, const int8_t *panel, size_t m0, size_t mr) { \
    switch (mr) {                                                                            \
      TILE_CASE(1, x) TILE_CASE(2, x) TILE_CASE(3, x) TILE_CASE(4, x) TILE_CASE(5, x)        \
      TILE_CASE(6, x) TILE_CASE(7, x) TILE_CASE(8, x) TILE_CASE(9, x) TILE_CASE(10, x)       \
      TILE_CASE(11, x)                                                                       \
    default: tile_dot(t, g, panel, m0, MR, x); break;                                        \
    }                                                                                        \
  }
TILE_FN(tile_u8, 0)
TILE_FN(tile_s8, 1)

typedef struct panel_out {
  __m512i corr;  // za * colsum
  __m512 scale;  // sa * sw
  __m512 bias;
  __mmask16 mask; // valid channels
  size_t n0, valid;
} panel_out;

static panel_out panel_consts(const ffqrt_gemm *g, size_t p) {
  panel_out o;
  o.n0 = p * FFQRT_NR;
  o.valid = g->n - o.n0 < FFQRT_NR ? g->n - o.n0 : FFQRT_NR;
  o.mask = (__mmask16)((1u << o.valid) - 1);
  __m512i cs = _mm512_loadu_si512(g->colsum + o.n0);
  o.corr = _mm512_mullo_epi32(_mm512_set1_epi32(g->za), cs);
  o.scale = _mm512_mul_ps(_mm512_set1_ps(g->sa), _mm512_loadu_ps(g->wscale + o.n0));
  o.bias = g->bias ? _mm512_maskz_loadu_ps(o.mask, g->bias + o.n0) : _mm512_setzero_ps();
  return o;
}

static void store_row(const ffqrt_gemm *g, const panel_out *o, __m512i acc, size_t m) {
  __m512i c = _mm512_sub_epi32(acc, o->corr);
  if (g->ldy_n != 1) {
    int32_t v[FFQRT_NR];
    _mm512_storeu_si512(v, c);
    for (size_t j = 0; j < o->valid; j++) ffqrt_gemm_store1(g, v[j], m, o->n0 + j);
    return;
  }
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(c), o->scale);
  if (g->bias) v = _mm512_add_ps(v, o->bias);
  size_t at = m * g->ldy_m + o->n0;
  if (g->out_kind == FFQRT_OUT_F32) {
    _mm512_mask_storeu_ps((float *)g->y + at, o->mask, v);
    return;
  }
  __m512 q = ffqrt_qf16(v, _mm512_set1_ps(g->sy), _mm512_set1_ps(g->zy),
                        _mm512_set1_ps(g->ylo), _mm512_set1_ps(g->yhi));
  _mm_mask_storeu_epi8((uint8_t *)g->y + at, o->mask, ffqrt_bytes16(q, g->out_kind == FFQRT_OUT_S8));
}

void ffqrt_gemm_panels_avx512vnni(const ffqrt_gemm *g, size_t p0, size_t p1) {
  size_t panel_bytes = g->k_pad / FFQRT_KR * sizeof(ffqrt_wgroup);
  for (size_t p = p0; p < p1; p++) {
    const int8_t *panel = g->groups + p * panel_bytes;
    panel_out o = panel_consts(g, p);
    for (size_t m0 = 0; m0 < g->m; m0 += MR) {
      size_t mr = g->m - m0 < MR ? g->m - m0 : MR;
      tile t;
      (g->a_xor ? tile_s8 : tile_u8)(&t, g, panel, m0, mr);
      for (size_t r = 0; r < mr; r++) store_row(g, &o, t.c[r], m0 + r);
    }
  }
}
