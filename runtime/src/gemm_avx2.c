// gemm_avx2.c: AVX2 GEMM over the packed panels (layout.h). A tile is up to MR rows x one
// panel of 16 output channels, held as MR x 2 int32 vectors.
// Exactness: vpmaddubsw adds two u8 x s8 products into a saturating int16. When every
// activation is <= 127 (a_u7) the pair sum is within [-32512, 32258]: no saturation, one
// vpmaddubsw per 32 MACs. Otherwise each activation byte splits as lo + 128 * hi
// (lo = a & 127, hi = a >> 7) and both halves go through the same exact path.
#include <immintrin.h>
#include <string.h>

#include "kernels.h"
#include "simd_avx2.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))
// Row loops run over a compile-time mr: unrolled, the accumulators live in registers.
#define UNROLL _Pragma("GCC unroll 16")

enum { MR = 6 };

typedef struct tile {
  __m256i c[MR][2];
} tile;

static ALWAYS_INLINE __m256i bcast4(const uint8_t *p, int xor80) {
  int32_t v;
  memcpy(&v, p, 4);
  __m256i a = _mm256_set1_epi32(v);
  return xor80 ? _mm256_xor_si256(a, _mm256_set1_epi8((char)0x80)) : a;
}

// c += dot(a, w) over 4 k-values for 8 outputs; a holds values <= 127.
static ALWAYS_INLINE __m256i dot_u7(__m256i c, __m256i a, __m256i w) {
  return _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(a, w), _mm256_set1_epi16(1)));
}

// Same for any u8 a: a = lo + 128 * hi.
static ALWAYS_INLINE __m256i dot_u8(__m256i c, __m256i a, __m256i w) {
  __m256i lo = _mm256_and_si256(a, _mm256_set1_epi8(0x7f));
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(a, 7), _mm256_set1_epi8(1));
  __m256i plo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, w), _mm256_set1_epi16(1));
  __m256i phi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, w), _mm256_set1_epi16(128));
  return _mm256_add_epi32(c, _mm256_add_epi32(plo, phi));
}

// One 64-byte weight group against 4 activation bytes at a + r * lda for each row.
static ALWAYS_INLINE void step(tile *t, const uint8_t *a, size_t lda, const int8_t *wg,
                               const size_t mr, const int xor80, const int u7) {
  const __m256i w0 = _mm256_loadu_si256((const __m256i *)wg);
  const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wg + 32));
  UNROLL
  for (size_t r = 0; r < mr; r++) {
    __m256i v = bcast4(a + r * lda, xor80);
    t->c[r][0] = u7 ? dot_u7(t->c[r][0], v, w0) : dot_u8(t->c[r][0], v, w0);
    t->c[r][1] = u7 ? dot_u7(t->c[r][1], v, w1) : dot_u8(t->c[r][1], v, w1);
  }
}

// The last, partial k-group through a zero-padded copy of the activations.
static ALWAYS_INLINE void tail_step(tile *t, const uint8_t *a, size_t lda, size_t rest,
                                    const int8_t *wg, const size_t mr, const int xor80,
                                    const int u7) {
  uint8_t last[MR][4] = {{0}};
  for (size_t r = 0; r < mr; r++) memcpy(last[r], a + r * lda, rest);
  step(t, &last[0][0], 4, wg, mr, xor80, u7);
}

// Raw dot products of rows [m0, m0 + mr) with one panel.
static ALWAYS_INLINE void tile_dot(tile *out, const ffqrt_gemm *g, const int8_t *panel,
                                   size_t m0, const size_t mr, const int xor80, const int u7) {
  const uint8_t *a = g->a + m0 * g->lda;
  tile acc, *t = &acc; // a local, so the accumulators stay in registers
  UNROLL
  for (size_t r = 0; r < mr; r++) t->c[r][0] = t->c[r][1] = _mm256_setzero_si256();
  size_t full = g->k / 4, rest = g->k % 4, lda = g->lda;
  for (size_t kg = 0; kg < full; kg++) step(t, a + 4 * kg, lda, panel + 64 * kg, mr, xor80, u7);
  if (rest) tail_step(t, a + 4 * full, lda, rest, panel + 64 * full, mr, xor80, u7);
  *out = acc;
}

#define TILE_FN(name, xor80, u7)                                                             \
  static void name(tile *t, const ffqrt_gemm *g, const int8_t *panel, size_t m0, size_t mr) { \
    switch (mr) {                                                                            \
    case 1: tile_dot(t, g, panel, m0, 1, xor80, u7); break;                                  \
    case 2: tile_dot(t, g, panel, m0, 2, xor80, u7); break;                                  \
    case 3: tile_dot(t, g, panel, m0, 3, xor80, u7); break;                                  \
    case 4: tile_dot(t, g, panel, m0, 4, xor80, u7); break;                                  \
    case 5: tile_dot(t, g, panel, m0, 5, xor80, u7); break;                                  \
    default: tile_dot(t, g, panel, m0, MR, xor80, u7); break;                                \
    }                                                                                        \
  }
TILE_FN(tile_u7, 0, 1)
TILE_FN(tile_u7_s8, 1, 1)
TILE_FN(tile_u8, 0, 0)
TILE_FN(tile_u8_s8, 1, 0)

typedef void tile_fn(tile *t, const ffqrt_gemm *g, const int8_t *panel, size_t m0, size_t mr);

// Per-panel constants of the output stage.
typedef struct panel_out {
  __m256i corr[2]; // za * colsum
  __m256 scale[2]; // sa * sw
  __m256 bias[2];
  size_t n0, valid;
} panel_out;

static panel_out panel_consts(const ffqrt_gemm *g, size_t p) {
  panel_out o;
  o.n0 = p * FFQRT_NR;
  o.valid = g->n - o.n0 < FFQRT_NR ? g->n - o.n0 : FFQRT_NR;
  for (int h = 0; h < 2; h++) {
    __m256i cs = _mm256_loadu_si256((const __m256i *)(g->colsum + o.n0 + 8 * h));
    o.corr[h] = _mm256_mullo_epi32(_mm256_set1_epi32(g->za), cs);
    o.scale[h] = _mm256_mul_ps(_mm256_set1_ps(g->sa), _mm256_loadu_ps(g->wscale + o.n0 + 8 * h));
    o.bias[h] = o.valid == FFQRT_NR && g->bias ? _mm256_loadu_ps(g->bias + o.n0 + 8 * h)
                                               : _mm256_setzero_ps();
  }
  return o;
}

// 16 outputs of row m, contiguous in y: (float)acc * scale (+ bias), then maybe quantize.
static void store_vec(const ffqrt_gemm *g, const panel_out *o, const __m256i c[2], size_t m) {
  __m256 v[2];
  for (int h = 0; h < 2; h++) {
    v[h] = _mm256_mul_ps(_mm256_cvtepi32_ps(c[h]), o->scale[h]);
    if (g->bias) v[h] = _mm256_add_ps(v[h], o->bias[h]);
  }
  size_t at = m * g->ldy_m + o->n0;
  if (g->out_kind == FFQRT_OUT_F32) {
    _mm256_storeu_ps((float *)g->y + at, v[0]);
    _mm256_storeu_ps((float *)g->y + at + 8, v[1]);
    return;
  }
  const __m256 s = _mm256_set1_ps(g->sy), z = _mm256_set1_ps(g->zy);
  const __m256 lo = _mm256_set1_ps(g->ylo), hi = _mm256_set1_ps(g->yhi);
  __m256i q0 = _mm256_cvtps_epi32(ffqrt_qf8(v[0], s, z, lo, hi));
  __m256i q1 = _mm256_cvtps_epi32(ffqrt_qf8(v[1], s, z, lo, hi));
  _mm_storeu_si128((__m128i *)((uint8_t *)g->y + at), ffqrt_pack16(q0, q1, g->out_kind == FFQRT_OUT_S8));
}

static void store_row(const ffqrt_gemm *g, const panel_out *o, const tile *t, size_t r,
                      size_t m) {
  __m256i c[2];
  for (int h = 0; h < 2; h++) c[h] = _mm256_sub_epi32(t->c[r][h], o->corr[h]);
  if (o->valid == FFQRT_NR && g->ldy_n == 1) {
    store_vec(g, o, c, m);
    return;
  }
  int32_t acc[FFQRT_NR];
  _mm256_storeu_si256((__m256i *)acc, c[0]);
  _mm256_storeu_si256((__m256i *)(acc + 8), c[1]);
  for (size_t j = 0; j < o->valid; j++) ffqrt_gemm_store1(g, acc[j], m, o->n0 + j);
}

// Rows per chunk: a chunk of activations (rows x k bytes) stays in L2 while every panel
// of the thread passes over it.
static size_t chunk_rows(size_t k) {
  size_t rows = (size_t)(192 * 1024) / (k ? k : 1) / MR * MR;
  return rows > MR ? rows : MR;
}

void ffqrt_gemm_panels_avx2(const ffqrt_gemm *g, size_t p0, size_t p1) {
  tile_fn *fn = g->a_u7 ? (g->a_xor ? tile_u7_s8 : tile_u7) : (g->a_xor ? tile_u8_s8 : tile_u8);
  size_t panel_bytes = g->k_pad / FFQRT_KR * sizeof(ffqrt_wgroup), mc = chunk_rows(g->k);
  for (size_t c0 = 0; c0 < g->m; c0 += mc) {
    size_t c1 = g->m - c0 < mc ? g->m : c0 + mc;
    for (size_t p = p0; p < p1; p++) {
      const int8_t *panel = g->groups + p * panel_bytes;
      panel_out o = panel_consts(g, p);
      for (size_t m0 = c0; m0 < c1; m0 += MR) {
        size_t mr = c1 - m0 < MR ? c1 - m0 : MR;
        tile t;
        fn(&t, g, panel, m0, mr);
        for (size_t r = 0; r < mr; r++) store_row(g, &o, &t, r, m0 + r);
      }
    }
  }
}
