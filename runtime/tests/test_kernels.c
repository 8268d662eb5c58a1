// test_kernels.c: every compiled variant (ref table, avx2, avx512vnni; 1 and 2 threads)
// against the *_ref specification, on random data and edge cases. Integer outputs must
// match exactly and float outputs bit for bit (same IEEE operations in the same order,
// -ffp-contract=off): no tolerance anywhere. Also checks the reference itself on
// hand-computed values.
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ffqrt.h"

static int g_pass, g_fail;

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (cond) {                                                                                          \
            g_pass++;                                                                                        \
        } else {                                                                                             \
            g_fail++;                                                                                        \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                      \
            printf(__VA_ARGS__);                                                                             \
            printf("\n");                                                                                    \
        }                                                                                                    \
    } while (0)

// ---- data ----

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static float rndf(float lo, float hi) { return lo + (hi - lo) * (float)(rnd() % 1000001) / 1e6f; }

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

// Random floats with a sprinkle of edge values: ties at scale s, NaN, infinities, -0,
// huge, denormal.
static void fill_floats(float *x, size_t n, float range, float s) {
    static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 3e38f, -3e38f, 1e-42f};
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rnd() % 100;
        if (r < 10) x[i] = ((float)(int)(rnd() % 301) - 150.0f + 0.5f) * s;  // exact tie (s a power of 2)
        else if (r < 12) x[i] = special[rnd() % 8];
        else x[i] = rndf(-range, range);
    }
}

static void fill_bytes(uint8_t *b, size_t n, uint8_t lo, uint8_t hi) {
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(lo + rnd() % ((unsigned)hi - lo + 1));
}

// ---- variants ----

// GCC's OpenMP runtime, loaded here the way torch loads its own (the tests of the OpenMP
// hand-off need one in the process; libffqrt itself never loads it).
#define OMP_LIB "libgomp.so.1"
static int omp_runtime(void) {
    static void *h;
    if (!h) h = dlopen(OMP_LIB, RTLD_NOW | RTLD_GLOBAL);
    return h != NULL;
}

typedef struct variant {
    ffqrt_ctx *ctx;
    char name[32];
} variant;

static size_t make_variants(variant *v) {
    size_t n = 0;
    static const int isas[] = {FFQRT_ISA_REF, FFQRT_ISA_AVX2, FFQRT_ISA_AVXVNNI, FFQRT_ISA_AVX512VNNI,
                               FFQRT_ISA_AMX};
    static const int threads[] = {1, 2, 3};
    for (size_t ii = 0; ii < sizeof isas / sizeof isas[0]; ii++) {
        int isa = isas[ii];
        if (!ffqrt_isa_supported(isa)) {
            printf("SKIP variant %s: %s (ffqrt_isa_supported == 0)\n", ffqrt_isa_name(isa),
                   isa == FFQRT_ISA_AMX ? "no AMX-INT8 here, or the kernel refused the tile state"
                                        : "this CPU lacks the instructions");
            continue;
        }
        for (size_t ti = 0; ti < sizeof threads / sizeof threads[0]; ti++) {
            int t = threads[ti];
            v[n].ctx = ffqrt_ctx_new(isa, t);
            if (!v[n].ctx) abort();
            snprintf(v[n].name, sizeof v[n].name, "%s/%dt", ffqrt_isa_name(isa), t);
            n++;
        }
    }
    // The best variant once more, its work on an OpenMP runtime's threads (as under torch).
    if (omp_runtime()) {
        v[n].ctx = ffqrt_ctx_new(FFQRT_ISA_AUTO, 3);
        if (!v[n].ctx || ffqrt_ctx_use_openmp(v[n].ctx, OMP_LIB) != FFQRT_OK) abort();
        snprintf(v[n].name, sizeof v[n].name, "%s/3t-openmp", ffqrt_isa_name(ffqrt_ctx_isa(v[n].ctx)));
        n++;
    } else {
        printf("SKIP openmp variant: %s cannot be loaded (%s)\n", OMP_LIB, dlerror());
    }
    return n;
}

// ---- quantize family ----

static size_t nparams_scale(const ffqrt_grid *g, float *scale, int32_t *zp, int dtype, float base) {
    size_t np = ffqrt_grid_params(g);
    int32_t lo = dtype == FFQRT_S8 ? -128 : dtype == FFQRT_S4 ? -8 : 0;
    int32_t hi = dtype == FFQRT_S8 ? 127 : dtype == FFQRT_U8 ? 255 : dtype == FFQRT_S4 ? 7 : 15;
    for (size_t t = 0; t < np; t++) {
        scale[t] = ldexpf(base, (int)(rnd() % 5) - 2);  // powers of 2 keep ties exact
        zp[t] = lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
    }
    return np;
}

static void check_quant_grid(const variant *vs, size_t nv, const ffqrt_grid *g, int dtype, int sym,
                             float base, const char *what) {
    size_t n = g->outer * g->mid * g->inner, np = ffqrt_grid_params(g);
    float *x = xmalloc(n * 4), *scale = xmalloc(np * 4 + 4), *yr = xmalloc(n * 4), *yv = xmalloc(n * 4);
    int32_t *zp = xmalloc(np * 4 + 4);
    size_t qb = ffqrt_storage_bytes(dtype, n);
    uint8_t *qr = xmalloc(qb), *qv = xmalloc(qb);
    nparams_scale(g, scale, zp, dtype, base);
    fill_floats(x, n, base * 300.0f, base);
    const int32_t *z = sym ? NULL : zp;
    CHECK(ffqrt_quantize_ref(qr, x, g, scale, z, dtype) == FFQRT_OK, "quantize_ref %s", what);
    for (size_t i = 0; i < nv; i++) {
        memset(qv, 0xA5, qb);
        CHECK(ffqrt_quantize(vs[i].ctx, qv, x, g, scale, z, dtype) == FFQRT_OK, "quantize %s", what);
        CHECK(memcmp(qr, qv, qb) == 0, "quantize %s %s dtype %d sym %d n %zu", vs[i].name, what, dtype, sym,
              n);
    }
    // dequantize the reference's integers; fake-quantize the floats
    CHECK(ffqrt_dequantize_ref(yr, qr, g, scale, z, dtype) == FFQRT_OK, "dequantize_ref");
    for (size_t i = 0; i < nv; i++) {
        memset(yv, 0xA5, n * 4);  // an output left unwritten cannot keep the previous variant's value
        CHECK(ffqrt_dequantize(vs[i].ctx, yv, qr, g, scale, z, dtype) == FFQRT_OK, "dequantize");
        CHECK(memcmp(yr, yv, n * 4) == 0, "dequantize %s %s dtype %d n %zu", vs[i].name, what, dtype, n);
    }
    CHECK(ffqrt_fake_quantize_ref(yv, x, g, scale, z, dtype) == FFQRT_OK, "fakeq_ref");
    CHECK(memcmp(yr, yv, n * 4) == 0, "fake_quantize_ref != dequantize(quantize) %s", what);
    for (size_t i = 0; i < nv; i++) {
        memcpy(yv, x, n * 4);
        CHECK(ffqrt_fake_quantize(vs[i].ctx, yv, yv, g, scale, z, dtype) == FFQRT_OK, "fakeq");
        CHECK(memcmp(yr, yv, n * 4) == 0, "fake_quantize (in place) %s %s dtype %d", vs[i].name, what, dtype);
    }
    // quantize_float: the reference's integers as floats (dequantized at scale 1, zero point 0)
    float *ones = xmalloc(np * 4 + 4);
    int32_t *zeros = xmalloc(np * 4 + 4);
    for (size_t t = 0; t < np; t++) ones[t] = 1.0f, zeros[t] = 0;
    CHECK(ffqrt_dequantize_ref(yr, qr, g, ones, zeros, dtype) == FFQRT_OK, "dequantize_ref at 1");
    CHECK(ffqrt_quantize_float_ref(yv, x, g, scale, z, dtype) == FFQRT_OK, "quantize_float_ref");
    CHECK(memcmp(yr, yv, n * 4) == 0, "quantize_float_ref != quantize_ref %s dtype %d", what, dtype);
    for (size_t i = 0; i < nv; i++) {
        memset(yv, 0xA5, n * 4);
        CHECK(ffqrt_quantize_float(vs[i].ctx, yv, x, g, scale, z, dtype) == FFQRT_OK, "quantize_float");
        CHECK(memcmp(yr, yv, n * 4) == 0, "quantize_float %s %s dtype %d n %zu", vs[i].name, what, dtype, n);
        memcpy(yv, x, n * 4);
        CHECK(ffqrt_quantize_float(vs[i].ctx, yv, yv, g, scale, z, dtype) == FFQRT_OK, "quantize_float");
        CHECK(memcmp(yr, yv, n * 4) == 0, "quantize_float (in place) %s %s dtype %d", vs[i].name, what,
              dtype);
    }
    // quantize_dequantize (8 bits): quantize_float's values and fake_quantize's, both at once
    if (dtype == FFQRT_S8 || dtype == FFQRT_U8) {
        float *fq = xmalloc(n * 4 + 4), *dv = xmalloc(n * 4 + 4);
        CHECK(ffqrt_fake_quantize_ref(fq, x, g, scale, z, dtype) == FFQRT_OK, "fakeq_ref");
        for (size_t i = 0; i < nv; i++) {
            memset(yv, 0xA5, n * 4);
            memset(dv, 0xA5, n * 4);
            CHECK(ffqrt_quantize_dequantize(vs[i].ctx, yv, dv, x, g, scale, z, dtype) == FFQRT_OK, "qdq");
            CHECK(memcmp(yr, yv, n * 4) == 0 && memcmp(fq, dv, n * 4) == 0,
                  "quantize_dequantize %s %s dtype %d n %zu", vs[i].name, what, dtype, n);
        }
        free(fq), free(dv);
        // quantize_dual (8 bits): quantize's bytes and quantize_float's values, both at once
        for (size_t i = 0; i < nv; i++) {
            memset(qv, 0xA5, qb);
            memset(yv, 0xA5, n * 4);
            CHECK(ffqrt_quantize_dual(vs[i].ctx, qv, yv, x, g, scale, z, dtype) == FFQRT_OK, "dual");
            CHECK(memcmp(qr, qv, qb) == 0 && memcmp(yr, yv, n * 4) == 0, "quantize_dual %s %s dtype %d n %zu",
                  vs[i].name, what, dtype, n);
        }
    } else {
        CHECK(ffqrt_quantize_dequantize(vs[0].ctx, yv, yv, x, g, scale, z, dtype) == FFQRT_EINVAL,
              "quantize_dequantize refuses 4 bits");
        CHECK(ffqrt_quantize_dual(vs[0].ctx, qv, yv, x, g, scale, z, dtype) == FFQRT_EINVAL,
              "quantize_dual refuses 4 bits");
    }
    free(ones), free(zeros);
    free(x), free(scale), free(yr), free(yv), free(zp), free(qr), free(qv);
}

static void test_quant(const variant *vs, size_t nv) {
    static const ffqrt_grid grids[] = {
        {1, 1, 0, 0, 0, 0},     {1, 1, 1, 0, 0, 0},      {1, 1, 37, 0, 0, 0},    {1, 1, 1000, 0, 0, 0},
        {1, 1, 70001, 0, 0, 0}, {3, 5, 7, 0, 1, 0},      {1, 16, 100, 0, 1, 0},  {50, 3, 1, 0, 1, 0},
        {1, 9, 33, 0, 1, 32},   {2, 4, 65, 0, 1, 8},     {1, 300, 257, 0, 1, 3}, {3, 10, 13, 1, 4, 5},
        {2, 33, 35, 1, 32, 32}, {1, 1, 100003, 0, 0, 0}, {257, 4, 129, 0, 1, 0}, {1, 2, 50000, 0, 1, 4096},
        {2, 3, 5, 0, 0, 1},
    };
    for (size_t gi = 0; gi < sizeof grids / sizeof grids[0]; gi++)
        for (int dtype = FFQRT_S8; dtype <= FFQRT_U4; dtype++)
            for (int sym = 0; sym <= 1; sym++) {
                char what[64];
                snprintf(what, sizeof what, "grid#%zu", gi);
                check_quant_grid(vs, nv, &grids[gi], dtype, sym, 0.0625f, what);
            }
    // scale extremes: tiny (everything saturates) and huge (everything rounds to zp)
    ffqrt_grid g = {1, 4, 999, 0, 1, 0};
    for (int dtype = FFQRT_S8; dtype <= FFQRT_U4; dtype++) {
        check_quant_grid(vs, nv, &g, dtype, 0, 1e-30f, "tiny scale");
        check_quant_grid(vs, nv, &g, dtype, 0, 1e30f, "huge scale");
        check_quant_grid(vs, nv, &g, dtype, 1, 1e-38f, "denormal-ish scale");
    }
}

// The reference against hand-computed values.
// The SIMD quantization divides without a division instruction (simd_avx512.h): scales with
// any mantissa, next to the limits of the range where that method applies and past them,
// inputs at and next to rounding ties and integers, anywhere, and specials. Bitwise equal
// to the reference (which divides), for quantize, quantize_float, fake_quantize and add.
static float bits_step(float x, int steps) {
    uint32_t u;
    memcpy(&u, &x, 4);
    u += (uint32_t)steps;
    memcpy(&x, &u, 4);
    return x;
}

static void test_quant_division(const variant *vs, size_t nv) {
    enum { N = 4099, ROUNDS = 400 };
    static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 3e38f, -3e38f, 1e-42f, -1e-40f};
    float *x = xmalloc(N * 4), *yr = xmalloc(N * 4), *yv = xmalloc(N * 4);
    uint8_t *qr = xmalloc(N), *qv = xmalloc(N), *a = xmalloc(N), *b = xmalloc(N);
    for (int round = 0; round < ROUNDS; round++) {
        // exponents around -60 and 60 first, then anywhere in [-70, 70]
        int e = round < 40 ? (round % 2 ? 60 : -60) + (round / 2) % 5 - 2 : (int)(rnd() % 141) - 70;
        float s = ldexpf(1.0f + (float)(rnd() % (1u << 23)) * 0x1p-23f, e);
        int dtype = round % 2 ? FFQRT_S8 : FFQRT_U8;
        int32_t lo = dtype == FFQRT_S8 ? -128 : 0, zp = lo + (int32_t)(rnd() % 256);
        for (size_t i = 0; i < N; i++) {
            uint32_t r = rnd() % 100;
            float k = (float)((int)(rnd() % 801) - 400);
            if (r < 35) x[i] = bits_step((k + 0.5f) * s, (int)(rnd() % 9) - 4);  // at / next to a tie
            else if (r < 55) x[i] = bits_step(k * s, (int)(rnd() % 9) - 4);      // at / next to an integer
            else if (r < 85) x[i] = rndf(-300.0f, 300.0f) * s;
            else if (r < 95) x[i] = ldexpf(rndf(-1.0f, 1.0f), (int)(rnd() % 256) - 128);  // any magnitude
            else x[i] = special[rnd() % (sizeof special / sizeof special[0])];
        }
        ffqrt_grid g = {1, 1, N, 0, 0, 0};
        CHECK(ffqrt_quantize_ref(qr, x, &g, &s, &zp, dtype) == FFQRT_OK, "quantize_ref");
        CHECK(ffqrt_quantize_float_ref(yr, x, &g, &s, &zp, dtype) == FFQRT_OK, "quantize_float_ref");
        for (size_t i = 0; i < nv; i++) {
            memset(qv, 0xA5, N);
            memset(yv, 0xA5, N * 4);
            CHECK(ffqrt_quantize(vs[i].ctx, qv, x, &g, &s, &zp, dtype) == FFQRT_OK && memcmp(qr, qv, N) == 0,
                  "quantize %s, scale %a, zero point %d", vs[i].name, (double)s, zp);
            CHECK(ffqrt_quantize_float(vs[i].ctx, yv, x, &g, &s, &zp, dtype) == FFQRT_OK &&
                      memcmp(yr, yv, N * 4) == 0,
                  "quantize_float %s, scale %a", vs[i].name, (double)s);
        }
        CHECK(ffqrt_fake_quantize_ref(yr, x, &g, &s, &zp, dtype) == FFQRT_OK, "fake_quantize_ref");
        for (size_t i = 0; i < nv; i++) {
            memset(yv, 0xA5, N * 4);
            CHECK(ffqrt_fake_quantize(vs[i].ctx, yv, x, &g, &s, &zp, dtype) == FFQRT_OK &&
                      memcmp(yr, yv, N * 4) == 0,
                  "fake_quantize %s, scale %a", vs[i].name, (double)s);
        }
        // add: the sum of two grids requantized onto a grid with this scale
        fill_bytes(a, N, 0, 255);
        fill_bytes(b, N, 0, 255);
        ffqrt_qparam pa = {ldexpf(rndf(1.0f, 2.0f), e - 3), zp, dtype},
                     pb = {ldexpf(rndf(1.0f, 2.0f), e - 4), 0, dtype};
        ffqrt_qparam py = {s, zp, dtype};
        CHECK(ffqrt_add_ref(qr, &py, 0, a, &pa, b, &pb, N) == FFQRT_OK, "add_ref");
        for (size_t i = 0; i < nv; i++)
            CHECK(ffqrt_add(vs[i].ctx, qv, &py, 0, a, &pa, b, &pb, N) == FFQRT_OK && memcmp(qr, qv, N) == 0,
                  "add %s, output scale %a", vs[i].name, (double)s);
    }
    free(x), free(yr), free(yv), free(qr), free(qv), free(a), free(b);
}

static void test_ref_values(void) {
    ffqrt_grid g = {1, 1, 9, 0, 0, 0};
    const float x[9] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 1000.0f, -1000.0f, NAN};
    float s = 1.0f;
    int8_t q[9];
    const int8_t want[9] = {0, 2, 2, 0, -2, -2, 127, -128, -128};
    ffqrt_quantize_ref(q, x, &g, &s, NULL, FFQRT_S8);
    CHECK(memcmp(q, want, 9) == 0, "round half even / clamp / NaN -> qmin");
    int32_t z = 3;
    uint8_t u[9];
    // The zero point is added before rounding: 0.5 + 3 = 3.5 rounds to 4 (not 0 + 3).
    const uint8_t wantu[9] = {4, 4, 6, 2, 2, 0, 255, 0, 0};
    ffqrt_quantize_ref(u, x, &g, &s, &z, FFQRT_U8);
    CHECK(memcmp(u, wantu, 9) == 0, "u8 with zero point 3");
    // int4: element i in byte i/2, low nibble first; odd count leaves the last high nibble 0
    ffqrt_grid g4 = {1, 1, 5, 0, 0, 0};
    const float x4[5] = {1, -2, 7, -8, 3};
    uint8_t q4[3];
    ffqrt_quantize_ref(q4, x4, &g4, &s, NULL, FFQRT_S4);
    CHECK(q4[0] == 0xE1 && q4[1] == 0x87 && q4[2] == 0x03, "s4 packing %02x %02x %02x", q4[0], q4[1], q4[2]);
    float back[5];
    ffqrt_dequantize_ref(back, q4, &g4, &s, NULL, FFQRT_S4);
    CHECK(memcmp(back, x4, sizeof back) == 0, "s4 round trip");
    // per-channel parameter indexing: axis 1 of [2][3][2]
    ffqrt_grid gc = {2, 3, 2, 0, 1, 0};
    const float xc[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const float sc[3] = {1.0f, 0.5f, 0.25f};
    int8_t qc[12];
    const int8_t wantc[12] = {1, 1, 2, 2, 4, 4, 1, 1, 2, 2, 4, 4};
    ffqrt_quantize_ref(qc, xc, &gc, sc, NULL, FFQRT_S8);
    CHECK(memcmp(qc, wantc, 12) == 0, "per-channel indexing");
    float sp;
    int32_t zpp;
    ffqrt_qparams_from_range(&sp, &zpp, -1.0f, 3.0f, FFQRT_U8, 0, 0);
    CHECK(sp == 4.0f / 255.0f && zpp == 64, "qparams asym: %g %d", sp, zpp);
    ffqrt_qparams_from_range(&sp, &zpp, -1.0f, 3.0f, FFQRT_S8, 1, 0);
    CHECK(sp == 3.0f / 127.5f && zpp == 0, "qparams sym: %g %d", sp, zpp);
    ffqrt_qparams_from_range(&sp, &zpp, 0.0f, 0.0f, FFQRT_U8, 0, 1);
    CHECK(sp == 1.0f && zpp == 0, "qparams empty range");
    CHECK(ffqrt_quantize_ref(q, x, &g, &(float){0.0f}, NULL, FFQRT_S8) == FFQRT_EINVAL, "scale 0 rejected");
    CHECK(ffqrt_quantize_ref(q, x, &g, &s, NULL, 9) == FFQRT_EINVAL, "bad dtype rejected");
    // minmax: NaN skipped, -0 reported as +0, empty gives (+inf, -inf)
    const float mm[4] = {NAN, -0.0f, -0.0f, NAN};
    float mn, mx;
    ffqrt_minmax_ref(&mn, &mx, mm, 4);
    CHECK(mn == 0.0f && !signbit(mn) && mx == 0.0f && !signbit(mx), "minmax zeros");
    ffqrt_minmax_ref(&mn, &mx, mm, 0);
    CHECK(mn == INFINITY && mx == -INFINITY, "minmax empty");
}

// ---- min / max ----

static void test_minmax(const variant *vs, size_t nv) {
    static const size_t sizes[] = {0, 1, 7, 8, 31, 33, 64, 1000, 70001, 200000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        float *x = xmalloc(n * 4);
        fill_floats(x, n, 50.0f, 0.25f);
        float rmn, rmx;
        ffqrt_minmax_ref(&rmn, &rmx, x, n);
        for (size_t i = 0; i < nv; i++) {
            float mn, mx;
            CHECK(ffqrt_minmax(vs[i].ctx, &mn, &mx, x, n) == FFQRT_OK, "minmax");
            CHECK(memcmp(&mn, &rmn, 4) == 0 && memcmp(&mx, &rmx, 4) == 0, "minmax %s n %zu", vs[i].name, n);
        }
        free(x);
    }
    static const size_t shapes[][3] = {{3, 5, 7}, {100, 64, 1}, {7, 3, 1},    {1, 40, 100}, {2, 2, 0},
                                       {0, 4, 4}, {300, 33, 1}, {4, 1, 1000}, {5, 70, 300}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        size_t o = shapes[si][0], c = shapes[si][1], in = shapes[si][2], n = o * c * in;
        float *x = xmalloc(n * 4), *rmn = xmalloc(c * 4), *rmx = xmalloc(c * 4);
        float *mn = xmalloc(c * 4), *mx = xmalloc(c * 4);
        fill_floats(x, n, 50.0f, 0.25f);
        ffqrt_minmax_channel_ref(rmn, rmx, x, o, c, in);
        for (size_t i = 0; i < nv; i++) {
            CHECK(ffqrt_minmax_channel(vs[i].ctx, mn, mx, x, o, c, in) == FFQRT_OK, "minmax_channel");
            CHECK(memcmp(mn, rmn, c * 4) == 0 && memcmp(mx, rmx, c * 4) == 0, "minmax_channel %s %zux%zux%zu",
                  vs[i].name, o, c, in);
        }
        free(x), free(rmn), free(rmx), free(mn), free(mx);
    }
}

// ---- linear ----

typedef enum act_kind { ACT_RANDOM, ACT_U7, ACT_MAX, ACT_ZERO } act_kind;

static void fill_act(uint8_t *a, size_t n, int dtype, act_kind kind) {
    if (kind == ACT_RANDOM) fill_bytes(a, n, 0, 255);
    if (kind == ACT_U7) fill_bytes(a, n, dtype == FFQRT_S8 ? 0x80 : 0, dtype == FFQRT_S8 ? 0xFF : 127);
    if (kind == ACT_MAX) memset(a, dtype == FFQRT_S8 ? 0x7F : 0xFF, n);
    if (kind == ACT_ZERO) memset(a, dtype == FFQRT_S8 ? 0x80 : 0, n);
}

// Weight kinds: W_RANDOM any int8; W_EXTREME -128 / 127 alternating; W_EXTREME7 -127 / 127;
// W_RANDOM7 within -127..127; W_FEW128 W_RANDOM7 with up to three -128 an output (at k 0,
// the last k or anywhere). The AVX2 kernel's s8 form takes -128 as -127 and adds the rest
// over the groups the pack marks: no marks, every group, a few.
enum { W_RANDOM = 0, W_EXTREME = 1, W_EXTREME7 = 2, W_RANDOM7 = 3, W_FEW128 = 4, W_KINDS = 5 };

static void fill_weights(int8_t *w, float *ws, size_t n, size_t k, int kind) {
    for (size_t i = 0; i < n * k; i++)
        w[i] = kind == W_EXTREME                       ? (int8_t)(i % 2 ? -128 : 127)
               : kind == W_EXTREME7                    ? (int8_t)(i % 2 ? -127 : 127)
               : kind == W_RANDOM7 || kind == W_FEW128 ? (int8_t)(rnd() % 255 - 127)
                                                       : (int8_t)(rnd() % 256 - 128);
    if (kind == W_FEW128 && k)
        for (size_t j = 0; j < n; j++)
            for (size_t c = rnd() % 4; c > 0; c--) {
                size_t at[3] = {0, k - 1, rnd() % k};
                w[j * k + at[rnd() % 3]] = -128;
            }
    for (size_t j = 0; j < n; j++) ws[j] = ldexpf(1.0f, -(int)(rnd() % 12));
}

typedef struct lin_case {
    size_t m, n, k;
    int a_dtype;
    act_kind act;
    int w_kind;
} lin_case;

// One output flavour: py NULL (f32) or an int8 qparam; bias on or off.
static void check_linear_out(const variant *vs, size_t nv, const lin_case *c, const uint8_t *a,
                             const ffqrt_qparam *pa, const int8_t *w, const float *ws, const void *packed,
                             const float *bias, const ffqrt_qparam *py, int relu) {
    size_t esz = py ? 1 : 4, ny = c->m * c->n * esz;
    void *yr = xmalloc(ny), *yv = xmalloc(ny);
    CHECK(ffqrt_linear_ref(yr, py, relu, a, pa, w, ws, bias, c->m, c->n, c->k) == FFQRT_OK, "linear_ref");
    for (size_t i = 0; i < nv; i++) {
        memset(yv, 0x5A, ny);
        ffqrt_status st = py ? ffqrt_linear_q(vs[i].ctx, yv, py, relu, a, pa, packed, bias, c->m)
                             : ffqrt_linear_f32(vs[i].ctx, yv, a, pa, packed, bias, c->m);
        CHECK(st == FFQRT_OK, "linear status");
        CHECK(memcmp(yr, yv, ny) == 0, "linear %s m%zu n%zu k%zu a%d act%d out%s relu%d bias%d", vs[i].name,
              c->m, c->n, c->k, c->a_dtype, (int)c->act, py ? (py->dtype ? "u8" : "s8") : "f32", relu,
              bias != NULL);
    }
    free(yr), free(yv);
}

static void check_linear(const variant *vs, size_t nv, const lin_case *c) {
    uint8_t *a = xmalloc(c->m * c->k);
    int8_t *w = xmalloc(c->n * c->k);
    float *ws = xmalloc(c->n * 4), *bias = xmalloc(c->n * 4);
    fill_act(a, c->m * c->k, c->a_dtype, c->act);
    fill_weights(w, ws, c->n, c->k, c->w_kind);
    for (size_t j = 0; j < c->n; j++) bias[j] = rndf(-100.0f, 100.0f);
    void *packed = xmalloc(ffqrt_linear_pack_size(c->n, c->k));
    CHECK(ffqrt_linear_pack(packed, w, ws, c->n, c->k) == FFQRT_OK, "pack");
    size_t pn = 0, pk = 0;
    CHECK(ffqrt_linear_pack_dims(packed, &pn, &pk) == FFQRT_OK && pn == c->n && pk == c->k, "pack dims");
    CHECK(c->m * c->k < 8 || ffqrt_linear_pack_dims(a, &pn, &pk) == FFQRT_EINVAL, "not a pack");
    int32_t za = c->a_dtype == FFQRT_S8 ? (int32_t)(rnd() % 256) - 128 : (int32_t)(rnd() % 256);
    ffqrt_qparam pa = {0.03125f, za, c->a_dtype};
    // Exact int32 check: unit scales and no bias make y == (float)acc, exact below 2^24.
    ffqrt_qparam unit = {1.0f, za, c->a_dtype};
    float *one = xmalloc(c->n * 4);
    for (size_t j = 0; j < c->n; j++) one[j] = 1.0f;
    void *packed1 = xmalloc(ffqrt_linear_pack_size(c->n, c->k));
    ffqrt_linear_pack(packed1, w, one, c->n, c->k);
    check_linear_out(vs, nv, c, a, &unit, w, one, packed1, NULL, NULL, 0);
    free(packed1);
    check_linear_out(vs, nv, c, a, &pa, w, ws, packed, bias, NULL, 0);
    ffqrt_qparam ys8 = {4.0f, (int32_t)(rnd() % 40) - 20, FFQRT_S8};
    ffqrt_qparam yu8 = {0.5f, (int32_t)(rnd() % 256), FFQRT_U8};  // small scale: saturates
    check_linear_out(vs, nv, c, a, &pa, w, ws, packed, bias, &ys8, 0);
    check_linear_out(vs, nv, c, a, &pa, w, ws, packed, bias, &ys8, 1);
    check_linear_out(vs, nv, c, a, &pa, w, ws, packed, NULL, &yu8, 1);
    free(a), free(w), free(ws), free(bias), free(packed), free(one);
}

// The unit-scale f32 output above carries the exact int32 accumulator; the reference
// itself is checked against a direct sum here.
static void test_linear_ref_exact(void) {
    const uint8_t a[6] = {255, 0, 7, 128, 1, 2};
    const int8_t w[6] = {-128, 127, 3, -1, 5, -7};
    const float one[2] = {1.0f, 1.0f};
    ffqrt_qparam pa = {1.0f, 5, FFQRT_U8};
    float y[4];
    ffqrt_linear_ref(y, NULL, 0, a, &pa, w, one, NULL, 2, 2, 3);
    // row 0: (250, -5, 2) . (-128, 127, 3) and . (-1, 5, -7)
    CHECK(y[0] == (float)(250 * -128 + -5 * 127 + 2 * 3) && y[1] == (float)(-250 - 25 - 14),
          "linear_ref row 0: %g %g", y[0], y[1]);
    CHECK(y[2] == (float)(123 * -128 + -4 * 127 + -3 * 3) && y[3] == (float)(-123 - 20 + 21),
          "linear_ref row 1: %g %g", y[2], y[3]);
}

static void test_linear(const variant *vs, size_t nv) {
    static const size_t ms[] = {0, 1, 2, 5, 6, 7, 12, 13, 25};
    static const size_t ns[] = {1, 15, 16, 17, 40};
    static const size_t ks[] = {1, 3, 4, 5, 63, 64, 130};
    for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                lin_case c = {
                    ms[mi], ns[ni], ks[ki], (int)(rnd() % 2), (act_kind)(rnd() % 2), (int)(rnd() % W_KINDS)};
                check_linear(vs, nv, &c);
            }
    // saturation-prone extremes for the vpmaddubsw paths, both dtypes; threaded sizes
    for (int dt = FFQRT_S8; dt <= FFQRT_U8; dt++)
        for (int act = ACT_RANDOM; act <= ACT_ZERO; act++) {
            for (int wk = W_EXTREME; wk < W_KINDS; wk++) {
                lin_case c = {9, 33, 301, dt, (act_kind)act, wk};
                check_linear(vs, nv, &c);
            }
            lin_case big = {70, 200, 257, dt, (act_kind)act, act == ACT_MAX ? W_EXTREME : W_RANDOM};
            check_linear(vs, nv, &big);
            lin_case big7 = {70, 200, 257, dt, (act_kind)act, act == ACT_MAX ? W_EXTREME7 : W_FEW128};
            check_linear(vs, nv, &big7);
        }
    lin_case deep = {3, 20, 4097, FFQRT_U8, ACT_MAX, W_EXTREME};  // large |acc|
    check_linear(vs, nv, &deep);
    lin_case deep7 = {3, 20, 4097, FFQRT_S8, ACT_ZERO, W_EXTREME7};  // |acc| 128 * 127 * k
    check_linear(vs, nv, &deep7);
    // Zero-size dimensions, sizes around the SIMD blocks (4 / 6-row tiles, 96 / 192-row
    // chunks, 64-channel panel blocks, 256 / 512-deep k-blocks), thread splits by panels and by
    // rows, and the deepest K (|acc| up to 255 * 128 * 65536, just inside int32).
    // Last two: AMX with rows 4 KiB apart, over two 192-row chunks and a short tile.
    static const size_t edges[][3] = {
        {4, 0, 9},      {4, 9, 0},      {0, 0, 0},      {97, 65, 257},   {96, 64, 256},   {1, 80, 513},
        {2, 130, 1027}, {191, 47, 70},  {500, 40, 70},  {200, 300, 600}, {13, 200, 1},    {1, 1, 1},
        {3, 5, 65536},  {1, 17, 65535}, {70, 20, 1100}, {40, 48, 4096},  {200, 33, 8192},
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        for (int dt = FFQRT_S8; dt <= FFQRT_U8; dt++) {
            lin_case c = {edges[i][0], edges[i][1],           edges[i][2],
                          dt,          (act_kind)(rnd() % 2), (int)(rnd() % W_KINDS)};
            check_linear(vs, nv, &c);
        }
    for (int dt = FFQRT_S8; dt <= FFQRT_U8; dt++) {
        lin_case c = {2, 3, 65536, dt, ACT_MAX, W_EXTREME};
        check_linear(vs, nv, &c);
        lin_case c7 = {2, 3, 65536, dt, ACT_ZERO, W_EXTREME7};
        check_linear(vs, nv, &c7);
    }
    // Around the AMX blocks: 16-row tiles in pairs (rows short of a tile go to AVX-512), panel
    // pairs and a lone panel, 64-deep k-steps and a zero-padded last one, 192-row chunks.
    static const size_t ms_t[] = {16, 17, 31, 32, 33, 47, 48, 64, 200};
    static const size_t ns_t[] = {16, 32, 33, 48, 96};
    static const size_t ks_t[] = {1, 4, 63, 64, 65, 128, 130, 200};
    for (size_t mi = 0; mi < sizeof ms_t / sizeof ms_t[0]; mi++)
        for (size_t ni = 0; ni < sizeof ns_t / sizeof ns_t[0]; ni++)
            for (size_t ki = 0; ki < sizeof ks_t / sizeof ks_t[0]; ki++) {
                lin_case c = {ms_t[mi],
                              ns_t[ni],
                              ks_t[ki],
                              (int)(rnd() % 2),
                              (act_kind)(rnd() % 3),
                              (int)(rnd() % W_KINDS)};
                check_linear(vs, nv, &c);
            }
    // a few -128 weights an output: k within one word of the pack's bitmap, across words (64
    // groups) and k-blocks (512; a last remainder of at most 256 joins the block before it on
    // the 256-bit kernels: 768 is one block, 769 two, 1280 two, 1281 three), rows through a
    // 4-row tile, a 32-row chunk and a 96-row one, every activation kind, both dtypes
    static const size_t ks_f[] = {1, 3, 4, 5, 255, 256, 257, 513, 767, 768, 769, 1100, 1280, 1281, 2051};
    static const size_t ms_f[] = {1, 5, 13, 33, 97};
    for (size_t ki = 0; ki < sizeof ks_f / sizeof ks_f[0]; ki++)
        for (size_t mi = 0; mi < sizeof ms_f / sizeof ms_f[0]; mi++)
            for (int dt = FFQRT_S8; dt <= FFQRT_U8; dt++) {
                lin_case c = {ms_f[mi], 40, ks_f[ki], dt, (act_kind)(rnd() % 3), W_FEW128};
                check_linear(vs, nv, &c);
            }
    // a pack over 4 MiB: its 2 MiB-aligned interior is advised for huge pages while packing
    lin_case huge = {2, 1024, 4100, FFQRT_U8, ACT_RANDOM, W_RANDOM};
    check_linear(vs, nv, &huge);
}

// ---- matmul ----

static void check_matmul(const variant *vs, size_t nv, size_t batch, size_t m, size_t k, size_t n, int da,
                         int db, int extreme) {
    size_t na = batch * m * k, nb = batch * k * n, ny = batch * m * n;
    uint8_t *a = xmalloc(na), *b = xmalloc(nb);
    if (extreme) {  // a = 255, b = 0 with zb = 255: |acc| = 255 * 255 * k
        memset(a, da == FFQRT_S8 ? 0x7F : 0xFF, na);
        memset(b, db == FFQRT_S8 ? 0x80 : 0x00, nb);
    } else {
        fill_bytes(a, na, 0, 255);
        fill_bytes(b, nb, 0, 255);
    }
    int32_t za = extreme          ? (da == FFQRT_S8 ? -128 : 0)
                 : da == FFQRT_S8 ? (int32_t)(rnd() % 256) - 128
                                  : (int32_t)(rnd() % 256);
    int32_t zb = extreme          ? (db == FFQRT_S8 ? 127 : 255)
                 : db == FFQRT_S8 ? (int32_t)(rnd() % 256) - 128
                                  : (int32_t)(rnd() % 256);
    ffqrt_qparam unit_a = {1.0f, za, da}, unit_b = {1.0f, zb, db};
    ffqrt_qparam pa = {0.0625f, za, da}, pb = {0.125f, zb, db};
    ffqrt_qparam py = {(float)(k ? k : 1) * 2.0f, (int32_t)(rnd() % 256), FFQRT_U8};
    void *ws = xmalloc(ffqrt_matmul_workspace_size(m, k, n));
    float *yr = xmalloc(ny * 4), *yv = xmalloc(ny * 4);
    // f32 with unit scales: the exact int32 accumulator (as a float)
    CHECK(ffqrt_matmul_ref(yr, NULL, 0, a, &unit_a, b, &unit_b, batch, m, k, n) == FFQRT_OK, "matmul_ref");
    for (size_t i = 0; i < nv; i++) {
        memset(yv, 0x5A, ny * 4);
        CHECK(ffqrt_matmul_f32(vs[i].ctx, yv, a, &unit_a, b, &unit_b, batch, m, k, n, ws) == FFQRT_OK,
              "matmul");
        CHECK(memcmp(yr, yv, ny * 4) == 0, "matmul f32 %s b%zu m%zu k%zu n%zu a%d b%d", vs[i].name, batch, m,
              k, n, da, db);
    }
    for (int relu = 0; relu <= 1; relu++) {
        const ffqrt_qparam *q = relu ? &py : NULL;
        ffqrt_matmul_ref(yr, q, relu, a, &pa, b, &pb, batch, m, k, n);
        for (size_t i = 0; i < nv; i++) {
            memset(yv, 0x5A, ny * 4);
            ffqrt_status st = q ? ffqrt_matmul_q(vs[i].ctx, yv, q, relu, a, &pa, b, &pb, batch, m, k, n, ws)
                                : ffqrt_matmul_f32(vs[i].ctx, yv, a, &pa, b, &pb, batch, m, k, n, ws);
            CHECK(st == FFQRT_OK && memcmp(yr, yv, ny * (q ? 1 : 4)) == 0, "matmul %s %s b%zu m%zu k%zu n%zu",
                  q ? "q" : "f32", vs[i].name, batch, m, k, n);
        }
    }
    // ffqrt_matmul_batch: b as it is and transposed (FFQRT_MATMUL_B_NK), the same products
    uint8_t *bt = xmalloc(nb ? nb : 1);
    for (size_t t = 0; t < batch; t++)
        for (size_t kk = 0; kk < k; kk++)
            for (size_t j = 0; j < n; j++) bt[t * k * n + j * k + kk] = b[t * k * n + kk * n + j];
    void *wsb = xmalloc(ffqrt_matmul_batch_workspace_size(batch, m, k, n));
    for (int relu = 0; relu <= 1; relu++) {
        const ffqrt_qparam *q = relu ? &py : NULL;
        ffqrt_matmul_ref(yr, q, relu, a, &pa, b, &pb, batch, m, k, n);
        for (size_t i = 0; i < nv; i++)
            for (unsigned flags = 0; flags <= FFQRT_MATMUL_B_NK; flags++) {
                memset(yv, 0x5A, ny * 4);
                ffqrt_status st = ffqrt_matmul_batch(vs[i].ctx, yv, q, relu, a, &pa, flags ? bt : b, &pb,
                                                     batch, m, k, n, flags, wsb);
                CHECK(st == FFQRT_OK && memcmp(yr, yv, ny * (q ? 1 : 4)) == 0,
                      "matmul_batch %s %s flags %u b%zu m%zu k%zu n%zu", q ? "q" : "f32", vs[i].name, flags,
                      batch, m, k, n);
            }
    }
    CHECK(ffqrt_matmul_batch(vs[0].ctx, yv, NULL, 0, a, &pa, b, &pb, batch, m, k, n, 2u, wsb) ==
              (batch && m && n ? FFQRT_EINVAL : FFQRT_OK),
          "matmul_batch refuses unknown flags");
    free(bt), free(wsb);
    free(a), free(b), free(ws), free(yr), free(yv);
}

static void test_matmul(const variant *vs, size_t nv) {
    static const size_t shapes[][4] = {
        {1, 1, 1, 1},     {1, 7, 5, 3},     {3, 13, 64, 17},  {2, 6, 257, 65},  {1, 97, 33, 130},
        {0, 4, 4, 4},     {2, 0, 4, 4},     {2, 4, 0, 4},     {2, 4, 4, 0},     {4, 50, 96, 64},
        {1, 300, 70, 40}, {1, 2, 1000, 16}, {12, 37, 64, 37}, {5, 129, 80, 33},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int da = FFQRT_S8; da <= FFQRT_U8; da++)
            for (int db = FFQRT_S8; db <= FFQRT_U8; db++)
                check_matmul(vs, nv, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], da, db, 0);
    for (int da = FFQRT_S8; da <= FFQRT_U8; da++)
        for (int db = FFQRT_S8; db <= FFQRT_U8; db++) check_matmul(vs, nv, 1, 3, 32768, 5, da, db, 1);
    // K above the limit is refused; the reference checked against a direct sum
    ffqrt_qparam p = {1.0f, 0, FFQRT_U8};
    uint8_t one = 1;
    float y;
    CHECK(ffqrt_matmul_ref(&y, NULL, 0, &one, &p, &one, &p, 1, 1, 32769, 1) == FFQRT_EINVAL,
          "matmul K limit");
    const uint8_t a[4] = {1, 2, 3, 4}, b[6] = {10, 0, 255, 5, 7, 1};  // a 2x2 (u8, za 1), b 2x3 (u8, zb 5)
    ffqrt_qparam pa = {1.0f, 1, FFQRT_U8}, pb = {1.0f, 5, FFQRT_U8};
    float yy[6];
    ffqrt_matmul_ref(yy, NULL, 0, a, &pa, b, &pb, 1, 2, 2, 3);
    CHECK(yy[0] == 0 * 5 + 1 * 0 && yy[1] == 0 * -5 + 1 * 2 && yy[2] == 0 * 250 + 1 * -4 &&
              yy[3] == 2 * 5 + 3 * 0 && yy[4] == 2 * -5 + 3 * 2 && yy[5] == 2 * 250 + 3 * -4,
          "matmul_ref by hand: %g %g %g %g %g %g", yy[0], yy[1], yy[2], yy[3], yy[4], yy[5]);
}

static void test_linear_dynamic(const variant *vs, size_t nv) {
    static const size_t shapes[][3] = {{1, 16, 64},   {3, 17, 5},  {7, 100, 33},
                                       {64, 96, 256}, {0, 16, 16}, {2, 3, 0}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        size_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
        float *x = xmalloc(m * k * 4), *ws = xmalloc(n * 4), *bias = xmalloc(n * 4);
        float *yr = xmalloc(m * n * 4), *yv = xmalloc(m * n * 4);
        int8_t *w = xmalloc(n * k);
        for (size_t i = 0; i < m * k; i++) x[i] = rndf(-3.0f, 5.0f);
        fill_weights(w, ws, n, k, si % 3 == 2 ? W_FEW128 : si % 3 ? W_RANDOM7 : W_RANDOM);
        for (size_t j = 0; j < n; j++) bias[j] = rndf(-1.0f, 1.0f);
        void *packed = xmalloc(ffqrt_linear_pack_size(n, k));
        void *work = xmalloc(ffqrt_linear_dynamic_workspace_size(m, k));
        ffqrt_linear_pack(packed, w, ws, n, k);
        CHECK(ffqrt_linear_dynamic_ref(yr, x, w, ws, bias, m, n, k) == FFQRT_OK, "dynamic ref");
        for (size_t i = 0; i < nv; i++) {
            memset(yv, 0xA5, m * n * 4);
            CHECK(ffqrt_linear_dynamic(vs[i].ctx, yv, x, packed, bias, m, work) == FFQRT_OK, "dynamic");
            CHECK(memcmp(yr, yv, m * n * 4) == 0, "linear_dynamic %s %zux%zux%zu", vs[i].name, m, n, k);
        }
        free(x), free(ws), free(bias), free(yr), free(yv), free(w), free(packed), free(work);
    }
}

// linear_static: float input quantized onto a static grid inside the call, f32 or
// requantized output; the same bytes as quantize_ref then linear_ref.
static void test_linear_static(const variant *vs, size_t nv) {
    // small packs with two or more row units: each unit quantizes its rows and runs them
    // (48 / 64 rows: two units of 24 / 32); a pack over 512 KiB, and too few rows: by panels
    static const size_t shapes[][3] = {{1, 16, 64},   {3, 17, 5},       {7, 100, 33},    {130, 96, 256},
                                       {0, 16, 16},   {2, 3, 0},        {48, 40, 64},    {64, 33, 129},
                                       {97, 16, 300}, {200, 200, 1000}, {200, 700, 800}, {33, 64, 64}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        size_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
        float *x = xmalloc(m * k * 4), *ws = xmalloc(n * 4), *bias = xmalloc(n * 4);
        float *yr = xmalloc(m * n * 4), *yv = xmalloc(m * n * 4);
        uint8_t *a = xmalloc(m * k), *qr = xmalloc(m * n), *qv = xmalloc(m * n);
        int8_t *w = xmalloc(n * k);
        fill_floats(x, m * k, 4.0f, 0.03125f);
        fill_weights(w, ws, n, k, si % 3 == 2 ? W_FEW128 : si % 3 ? W_RANDOM7 : W_RANDOM);
        for (size_t j = 0; j < n; j++) bias[j] = rndf(-1.0f, 1.0f);
        void *packed = xmalloc(ffqrt_linear_pack_size(n, k));
        void *work = xmalloc(ffqrt_linear_dynamic_workspace_size(m, k));
        ffqrt_linear_pack(packed, w, ws, n, k);
        for (int dt = FFQRT_S8; dt <= FFQRT_U8; dt++) {
            ffqrt_qparam pa = {rndf(0.01f, 0.05f), dt == FFQRT_S8 ? -3 : 121, dt};
            ffqrt_qparam py = {rndf(0.05f, 0.3f), dt == FFQRT_S8 ? 5 : 100, dt};
            ffqrt_grid g = {1, 1, m * k, 0, 0, 0};
            CHECK(ffqrt_quantize_ref(a, x, &g, &pa.scale, &pa.zero_point, dt) == FFQRT_OK, "quantize_ref");
            CHECK(ffqrt_linear_ref(yr, NULL, 0, a, &pa, w, ws, bias, m, n, k) == FFQRT_OK, "linear_ref f32");
            CHECK(ffqrt_linear_ref(qr, &py, 1, a, &pa, w, ws, bias, m, n, k) == FFQRT_OK, "linear_ref q");
            size_t wsize = ffqrt_linear_dynamic_workspace_size(m, k);
            for (size_t i = 0; i < nv; i++) {
                memset(work, 0xA5, wsize);    // no codes left over from the call before
                memset(yv, 0x5A, m * n * 4);  // nor its results
                memset(qv, 0x5A, m * n);
                CHECK(ffqrt_linear_static(vs[i].ctx, yv, NULL, 0, x, &pa, packed, bias, m, work) ==
                              FFQRT_OK &&
                          memcmp(yr, yv, m * n * 4) == 0,
                      "linear_static f32 %s %zux%zux%zu dtype %d", vs[i].name, m, n, k, dt);
                memset(work, 0x5A, wsize);
                CHECK(ffqrt_linear_static(vs[i].ctx, qv, &py, 1, x, &pa, packed, bias, m, work) == FFQRT_OK &&
                          memcmp(qr, qv, m * n) == 0,
                      "linear_static q %s %zux%zux%zu dtype %d", vs[i].name, m, n, k, dt);
            }
        }
        ffqrt_qparam bad = {0.1f, 0, FFQRT_S4};
        CHECK(ffqrt_linear_static(vs[0].ctx, yv, NULL, 0, x, &bad, packed, bias, m, work) == FFQRT_EINVAL,
              "linear_static refuses a 4-bit input grid");
        free(x), free(ws), free(bias), free(yr), free(yv), free(a), free(qr), free(qv), free(w), free(packed),
            free(work);
    }
}

// Requantization onto output scales that are not powers of two, with outputs that are
// multiples of 0.05: many land on or next to a rounding tie of x / sy + zy. The test also
// counts the outputs where x * (1 / sy) would round differently, to show that the data
// catch an output stage that multiplies by the reciprocal instead of dividing.
static void test_requant_ties(const variant *vs, size_t nv) {
    enum { M = 512, N = 16 };
    static const float scales[] = {0.1f, 0.3f, 0.7f, 0.15f, 1.1f, 0.35f, 0.05f, 3.3f};
    uint8_t a[M];
    int8_t w[N];
    float ws[N], bias[N], one = 1.0f;
    for (size_t i = 0; i < M; i++) a[i] = (uint8_t)i;
    for (size_t j = 0; j < N; j++) {
        w[j] = (int8_t)((j % 2 ? 1 : -1) * (int)(1 + j));
        ws[j] = 1.0f;
        bias[j] = 0.05f * (float)j - 0.4f;
    }
    void *packed = xmalloc(ffqrt_linear_pack_size(N, 1));
    CHECK(ffqrt_linear_pack(packed, w, ws, N, 1) == FFQRT_OK, "pack");
    ffqrt_qparam pa = {0.05f, 0, FFQRT_S8};
    uint8_t yr[M * N], yv[M * N];
    size_t differ = 0;
    for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++)
        for (int dy = FFQRT_S8; dy <= FFQRT_U8; dy++)
            for (int32_t zy = -5; zy <= 5; zy += 5) {
                ffqrt_qparam py = {scales[si], dy == FFQRT_U8 ? zy + 128 : zy, dy};
                float r = one / py.scale;
                for (size_t i = 0; i < M; i++)
                    for (size_t j = 0; j < N; j++) {
                        float x = (float)((int32_t)(int8_t)a[i] * w[j]) * (pa.scale * ws[j]) + bias[j];
                        float q = x * r;
                        differ += nearbyintf(x / py.scale + (float)py.zero_point) !=
                                  nearbyintf(q + (float)py.zero_point);
                    }
                CHECK(ffqrt_linear_ref(yr, &py, 0, a, &pa, w, ws, bias, M, N, 1) == FFQRT_OK, "ref");
                for (size_t v = 0; v < nv; v++) {
                    CHECK(ffqrt_linear_q(vs[v].ctx, yv, &py, 0, a, &pa, packed, bias, M) == FFQRT_OK, "q");
                    CHECK(memcmp(yr, yv, sizeof yr) == 0, "requant ties %s scale %g zp %d", vs[v].name,
                          (double)py.scale, py.zero_point);
                }
            }
    CHECK(differ > 0, "the data reach outputs where multiplying by 1 / s rounds differently (%zu)", differ);
    printf("requant ties: %zu outputs where x * (1 / s) rounds differently from x / s\n", differ);
    free(packed);
}

// ---- conv2d ----

static void check_conv(const variant *vs, size_t nv, const ffqrt_conv2d_shape *s, int dt) {
    size_t oh = ffqrt_conv2d_out_h(s), ow = ffqrt_conv2d_out_w(s);
    size_t nx = s->n * s->c_in * s->h * s->w, nw = s->c_out * (s->c_in / s->groups) * s->kh * s->kw;
    size_t ny = s->n * s->c_out * oh * ow;
    uint8_t *x = xmalloc(nx);
    int8_t *w = xmalloc(nw);
    float *ws = xmalloc(s->c_out * 4), *bias = xmalloc(s->c_out * 4);
    fill_bytes(x, nx, 0, 255);
    fill_weights(w, ws, s->c_out, nw / s->c_out, (int)(rnd() % 2 ? W_FEW128 : W_RANDOM));
    for (size_t j = 0; j < s->c_out; j++) bias[j] = rndf(-10.0f, 10.0f);
    void *packed = xmalloc(ffqrt_conv2d_pack_size(s)), *work = xmalloc(ffqrt_conv2d_workspace_size(s));
    CHECK(ffqrt_conv2d_pack(packed, w, ws, s) == FFQRT_OK, "conv pack");
    ffqrt_qparam px = {0.05f, dt == FFQRT_S8 ? -3 : 131, dt}, py = {2.0f, 7, FFQRT_U8};
    float *yr = xmalloc(ny * 4), *yv = xmalloc(ny * 4);
    CHECK(ffqrt_conv2d_ref(yr, NULL, 0, x, &px, w, ws, bias, s) == FFQRT_OK, "conv ref");
    for (size_t i = 0; i < nv; i++) {
        memset(yv, 0xa5, ny * 4);  // an output left unwritten cannot keep the previous variant's value
        CHECK(ffqrt_conv2d_f32(vs[i].ctx, yv, x, &px, packed, bias, s, work) == FFQRT_OK, "conv f32");
        CHECK(memcmp(yr, yv, ny * 4) == 0, "conv2d f32 %s c%zu->%zu g%zu k%zux%zu layout %zu", vs[i].name,
              s->c_in, s->c_out, s->groups, s->kh, s->kw, s->layout);
    }
    ffqrt_conv2d_ref(yr, &py, 1, x, &px, w, ws, bias, s);
    for (size_t i = 0; i < nv; i++) {
        memset(yv, 0xa5, ny);
        CHECK(ffqrt_conv2d_q(vs[i].ctx, yv, &py, 1, x, &px, packed, bias, s, work) == FFQRT_OK, "conv q");
        CHECK(memcmp(yr, yv, ny) == 0, "conv2d q %s c%zu->%zu g%zu layout %zu", vs[i].name, s->c_in, s->c_out,
              s->groups, s->layout);
    }
    // conv2d_static: float input quantized onto px in the same call
    float *xf = xmalloc(nx * 4 + 4);
    fill_floats(xf, nx, 8.0f, 0.0625f);
    ffqrt_grid g = {1, 1, nx, 0, 0, 0};
    CHECK(ffqrt_quantize_ref(x, xf, &g, &px.scale, &px.zero_point, dt) == FFQRT_OK, "quantize_ref");
    void *swork = xmalloc(ffqrt_conv2d_static_workspace_size(s));
    float *ys = xmalloc(ny * 4 + 4);
    uint8_t *qs = xmalloc(ny + 1);
    CHECK(ffqrt_conv2d_ref(yr, NULL, 0, x, &px, w, ws, bias, s) == FFQRT_OK, "conv ref f32");
    CHECK(ffqrt_conv2d_ref(ys, &py, 1, x, &px, w, ws, bias, s) == FFQRT_OK, "conv ref q");
    memcpy(qs, ys, ny);
    for (size_t i = 0; i < nv; i++) {
        memset(yv, 0xa5, ny * 4);
        CHECK(ffqrt_conv2d_static(vs[i].ctx, yv, NULL, 0, xf, &px, packed, bias, s, swork) == FFQRT_OK &&
                  memcmp(yr, yv, ny * 4) == 0,
              "conv2d_static f32 %s c%zu->%zu g%zu layout %zu dtype %d", vs[i].name, s->c_in, s->c_out,
              s->groups, s->layout, dt);
        memset(yv, 0xa5, ny);
        CHECK(ffqrt_conv2d_static(vs[i].ctx, yv, &py, 1, xf, &px, packed, bias, s, swork) == FFQRT_OK &&
                  memcmp(qs, yv, ny) == 0,
              "conv2d_static q %s c%zu->%zu g%zu layout %zu dtype %d", vs[i].name, s->c_in, s->c_out,
              s->groups, s->layout, dt);
    }
    free(xf), free(swork), free(ys), free(qs);
    free(x), free(w), free(ws), free(bias), free(packed), free(work), free(yr), free(yv);
}

static void test_conv(const variant *vs, size_t nv) {
    static const ffqrt_conv2d_shape shapes[] = {
        // n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, dh, dw, groups
        {1, 3, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {2, 4, 9, 7, 6, 3, 2, 2, 1, 0, 1, 1, 1, 2},
        {1, 8, 10, 10, 8, 3, 3, 1, 1, 2, 2, 2, 2, 8},  // depthwise, dilated
        {1, 6, 5, 5, 33, 1, 1, 1, 1, 0, 0, 1, 1, 1},
        {1, 16, 12, 12, 40, 5, 5, 2, 2, 2, 2, 1, 1, 1},
        {1, 2, 3, 3, 4, 3, 3, 3, 3, 1, 1, 1, 1, 2},
        {2, 64, 14, 14, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1},  // several panel blocks and k-blocks
        {8, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1},  // several row blocks (threads take them)
        {50, 16, 8, 8, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1},   // strided, blocks across images
        {40, 1, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // one input channel (a window row per k-group)
        {3, 1, 9, 7, 8, 3, 3, 2, 1, 1, 0, 2, 1, 1},      // the same strided, dilated in h, 8 outputs
        {2, 2, 6, 6, 5, 4, 2, 1, 2, 1, 1, 1, 1, 1},      // 2 channels x 2 columns: 4-byte window rows
        {1, 4, 5, 5, 17, 2, 1, 1, 1, 0, 0, 1, 1, 1},     // 4 channels, 1 column
        {2, 1, 7, 9, 16, 5, 4, 1, 1, 2, 2, 1, 1, 1},     // 1 channel, 4 columns, 5 rows
        {1, 3, 6, 6, 8, 3, 1, 1, 1, 1, 0, 1, 1, 1},      // 3 channels (RGB) x 1 column
        {1, 1, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 2, 1},      // dilated in w: not a window row per group
        {1, 8, 1, 100, 24, 1, 5, 1, 2, 0, 2, 1, 1, 1},   // conv1d as h = kh = 1
        {3, 6, 1, 37, 6, 1, 3, 1, 1, 0, 1, 1, 2, 3},     // grouped, dilated conv1d
        // 1x1, stride 1, no padding: the input pixels are the column rows (no im2col), on
        // one thread, with the threads splitting the output channels, and the row blocks
        {2, 32, 9, 9, 48, 1, 1, 1, 1, 0, 0, 1, 1, 1},
        {1, 64, 20, 20, 96, 1, 1, 1, 1, 0, 0, 1, 1, 1},
        {8, 16, 24, 24, 32, 1, 1, 1, 1, 0, 0, 1, 1, 1},
        {1, 24, 16, 16, 80, 3, 3, 2, 2, 1, 1, 1, 1, 1},  // few output rows: threads split the channels
        {1, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2},  // grouped, one block: threads split its GEMM
        {2, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2},  // grouped, two blocks: a thread each
        {1, 32, 50, 44, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1},  // threads share the padded copy in bands of rows
        // depthwise (groups == c_in == c_out: their own kernel): channel counts around the
        // vector widths, odd and even tap counts, strides, dilation, several images and rows
        {2, 16, 9, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16},
        {1, 24, 14, 10, 24, 3, 3, 2, 2, 1, 1, 1, 1, 24},
        {3, 5, 7, 7, 5, 5, 5, 1, 1, 2, 2, 1, 1, 5},
        {1, 40, 11, 13, 40, 7, 7, 1, 1, 3, 3, 1, 1, 40},
        {2, 33, 6, 8, 33, 2, 2, 1, 2, 0, 1, 2, 1, 33},
        {1, 17, 1, 30, 17, 1, 4, 1, 1, 0, 2, 1, 3, 17},   // depthwise conv1d, even taps, dilated
        {4, 96, 20, 20, 96, 3, 3, 2, 2, 1, 1, 1, 1, 96},  // many rows: threads split them
        {1, 6, 5, 5, 12, 3, 3, 1, 1, 1, 1, 1, 1, 6},      // a channel multiplier of 2: the GEMMs
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (size_t layout = 0; layout <= (FFQRT_CONV_IN_NHWC | FFQRT_CONV_OUT_NHWC); layout++) {
            ffqrt_conv2d_shape s = shapes[i];
            s.layout = layout;
            for (int dt = FFQRT_S8; dt <= FFQRT_U8; dt++) check_conv(vs, nv, &s, dt);
        }
}

// ---- elementwise ----

static void test_eltwise(const variant *vs, size_t nv) {
    static const size_t sizes[] = {0, 1, 15, 16, 17, 100, 70001};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int rep = 0; rep < 6; rep++) {
            size_t n = sizes[si];
            uint8_t *a = xmalloc(n), *b = xmalloc(n), *yr = xmalloc(n), *yv = xmalloc(n);
            fill_bytes(a, n, 0, 255);
            fill_bytes(b, n, 0, 255);
            int da = rep % 2, db = (rep / 2) % 2, dy = rep % 3 == 0, relu = rep >= 3;
            ffqrt_qparam pa = {0.125f, da ? 100 : -7, da}, pb = {0.0625f, db ? 3 : 12, db};
            ffqrt_qparam py = {rep == 5 ? 0.01f : 0.25f, dy ? 128 : -1, dy};  // rep 5 saturates
            for (int op = 0; op < 2; op++) {
                (op ? ffqrt_mul_ref : ffqrt_add_ref)(yr, &py, relu, a, &pa, b, &pb, n);
                for (size_t i = 0; i < nv; i++) {
                    memset(yv, 0x33, n);
                    ffqrt_status st =
                        (op ? ffqrt_mul : ffqrt_add)(vs[i].ctx, yv, &py, relu, a, &pa, b, &pb, n);
                    CHECK(st == FFQRT_OK && memcmp(yr, yv, n) == 0, "%s %s n %zu rep %d", op ? "mul" : "add",
                          vs[i].name, n, rep);
                }
            }
            free(a), free(b), free(yr), free(yv);
        }
}

// ---- byte table lookup ----

static void test_lut(const variant *vs, size_t nv) {
    static const size_t sizes[] = {0, 1, 63, 64, 65, 1000, 300001};
    uint8_t table[256];
    fill_bytes(table, 256, 0, 255);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        uint8_t *x = xmalloc(n + 1), *yv = xmalloc(n + 1);
        fill_bytes(x, n + 1, 0, 255);
        for (size_t i = 0; i < nv; i++) {
            memset(yv, 0x33, n + 1);
            // from an odd offset too: no alignment assumed
            for (size_t off = 0; off < 2 && off <= n; off++) {
                CHECK(ffqrt_lut8(vs[i].ctx, yv + off, x + off, table, n - off) == FFQRT_OK, "lut8");
                size_t bad = 0;
                for (size_t e = off; e < n; e++) bad += yv[e] != table[x[e]];
                CHECK(bad == 0, "lut8 %s n %zu offset %zu: %zu bytes differ", vs[i].name, n, off, bad);
                CHECK(yv[n] == 0x33, "lut8 %s n %zu offset %zu wrote past its output", vs[i].name, n, off);
            }
            memcpy(yv, x, n);  // in place
            CHECK(ffqrt_lut8(vs[i].ctx, yv, yv, table, n) == FFQRT_OK, "lut8 in place");
            size_t bad = 0;
            for (size_t e = 0; e < n; e++) bad += yv[e] != table[x[e]];
            CHECK(bad == 0, "lut8 in place %s n %zu", vs[i].name, n);
        }
        free(x), free(yv);
    }
    CHECK(ffqrt_lut8(vs[0].ctx, NULL, NULL, table, 0) == FFQRT_OK, "lut8 of nothing");
    CHECK(ffqrt_lut8(vs[0].ctx, NULL, table, table, 4) == FFQRT_EINVAL, "lut8 without output");
    // the float table: every entry distinct (a wrong index cannot land on an equal value)
    float ftable[256];
    for (int t = 0; t < 256; t++) ftable[t] = (float)t * 0.37f - 11.0f;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        uint8_t *x = xmalloc(n + 1);
        float *yf = xmalloc((n + 1) * sizeof(float));
        fill_bytes(x, n + 1, 0, 255);
        if (n >= 64) x[3] = 0, x[40] = 255;  // both ends of the table, inside a vector step
        for (size_t i = 0; i < nv; i++)
            for (size_t off = 0; off < 2 && off <= n; off++) {
                memset(yf, 0, (n + 1) * sizeof(float));
                CHECK(ffqrt_lut_f32(vs[i].ctx, yf + off, x + off, ftable, n - off) == FFQRT_OK, "lut_f32");
                size_t bad = 0;
                for (size_t e = off; e < n; e++) bad += memcmp(&yf[e], &ftable[x[e]], sizeof(float)) != 0;
                CHECK(bad == 0, "lut_f32 %s n %zu offset %zu: %zu floats differ", vs[i].name, n, off, bad);
                CHECK(off == 0 || yf[0] == 0.0f, "lut_f32 wrote before its output");
            }
        free(x), free(yf);
    }
    CHECK(ffqrt_lut_f32(vs[0].ctx, NULL, NULL, ftable, 0) == FFQRT_OK, "lut_f32 of nothing");
    CHECK(ffqrt_lut_f32(vs[0].ctx, NULL, table, ftable, 4) == FFQRT_EINVAL, "lut_f32 without output");
    CHECK(ffqrt_lut_f32(vs[0].ctx, (float *)ftable, table, NULL, 4) == FFQRT_EINVAL, "lut_f32 without table");
}

// ---- byte table lookup a plane ----

static void test_lut_planes(const variant *vs, size_t nv) {
    static const size_t shapes[][2] = {{1, 1},  {3, 1},  {5, 7},   {4, 63},
                                       {7, 64}, {3, 65}, {40, 49}, {33, 12544}};
    uint8_t *tables = xmalloc(256 * 256);
    fill_bytes(tables, 256 * 256, 0, 255);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        size_t planes = shapes[si][0], inner = shapes[si][1], n = planes * inner;
        uint8_t *x = xmalloc(n), *y = xmalloc(n + 1), *sel = xmalloc(planes);
        fill_bytes(x, n, 0, 255);
        fill_bytes(sel, planes, 0, 255);
        sel[0] = 255;
        for (size_t i = 0; i < nv; i++) {
            memset(y, 0x5a, n + 1);
            CHECK(ffqrt_lut8_planes(vs[i].ctx, y, x, tables, sel, planes, inner) == FFQRT_OK, "lut8_planes");
            size_t bad = 0;
            for (size_t e = 0; e < n; e++) bad += y[e] != tables[(size_t)sel[e / inner] * 256 + x[e]];
            CHECK(bad == 0, "lut8_planes %s %zu x %zu: %zu bytes differ", vs[i].name, planes, inner, bad);
            CHECK(y[n] == 0x5a, "lut8_planes wrote past its output");
            memcpy(y, x, n);  // in place
            CHECK(ffqrt_lut8_planes(vs[i].ctx, y, y, tables, sel, planes, inner) == FFQRT_OK, "in place");
            bad = 0;
            for (size_t e = 0; e < n; e++) bad += y[e] != tables[(size_t)sel[e / inner] * 256 + x[e]];
            CHECK(bad == 0, "lut8_planes in place %s %zu x %zu", vs[i].name, planes, inner);
        }
        free(x), free(y), free(sel);
    }
    // a table a channel (ffqrt_lut8_channels): planes of one element and of many
    static const size_t cshapes[][3] = {{1, 1, 1},    {2, 3, 1},   {3, 5, 7},
                                        {2, 200, 49}, {1, 255, 1}, {2, 17, 65}};
    for (size_t si = 0; si < sizeof cshapes / sizeof cshapes[0]; si++) {
        size_t outer = cshapes[si][0], c = cshapes[si][1], inner = cshapes[si][2], n = outer * c * inner;
        uint8_t *x = xmalloc(n), *y = xmalloc(n + 1);
        fill_bytes(x, n, 0, 255);
        for (size_t i = 0; i < nv; i++) {
            memset(y, 0x5a, n + 1);
            CHECK(ffqrt_lut8_channels(vs[i].ctx, y, x, tables, outer, c, inner) == FFQRT_OK, "lut8_channels");
            size_t bad = 0;
            for (size_t e = 0; e < n; e++) bad += y[e] != tables[((e / inner) % c) * 256 + x[e]];
            CHECK(bad == 0, "lut8_channels %s %zu x %zu x %zu: %zu bytes differ", vs[i].name, outer, c, inner,
                  bad);
            CHECK(y[n] == 0x5a, "lut8_channels wrote past its output");
        }
        free(x), free(y);
    }
    CHECK(ffqrt_lut8_channels(vs[0].ctx, NULL, NULL, tables, 0, 3, 5) == FFQRT_OK,
          "lut8_channels of nothing");
    CHECK(ffqrt_lut8_channels(vs[0].ctx, tables, tables, NULL, 1, 3, 5) == FFQRT_EINVAL,
          "lut8_channels no tables");
    CHECK(ffqrt_lut8_planes(vs[0].ctx, NULL, NULL, tables, NULL, 0, 5) == FFQRT_OK, "lut8_planes of nothing");
    CHECK(ffqrt_lut8_planes(vs[0].ctx, tables, tables, tables, NULL, 1, 5) == FFQRT_EINVAL,
          "without selectors");
    CHECK(ffqrt_lut8_planes(vs[0].ctx, tables, tables, tables, tables, (size_t)1 << 40, (size_t)1 << 40) ==
              FFQRT_EINVAL,
          "size overflow");
    free(tables);
}

// ---- per-channel float table lookup ----

static void test_lut_channels(const variant *vs, size_t nv) {
    // (outer, channels, inner): planes of one element (NHWC), shorter and longer than a
    // vector step, and sizes that split between threads
    static const size_t shapes[][3] = {{1, 1, 1},   {2, 3, 1},   {3, 5, 7},   {1, 4, 16},    {2, 3, 17},
                                       {1, 64, 49}, {4, 7, 100}, {2, 960, 1}, {1, 16, 12544}};
    size_t maxc = 960;
    float *tables = xmalloc(maxc * 256 * sizeof(float));
    // every entry distinct: a wrong channel or index cannot land on an equal value
    for (size_t t = 0; t < maxc * 256; t++) tables[t] = (float)t * 0.37f - 11.0f;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        size_t outer = shapes[si][0], c = shapes[si][1], inner = shapes[si][2], n = outer * c * inner;
        uint8_t *x = xmalloc(n);
        float *y = xmalloc((n + 1) * sizeof(float));
        fill_bytes(x, n, 0, 255);
        x[0] = 255;
        if (n > 40) x[40] = 0;
        for (size_t i = 0; i < nv; i++) {
            memset(y, 0, (n + 1) * sizeof(float));
            CHECK(ffqrt_lut_f32_channels(vs[i].ctx, y, x, tables, outer, c, inner) == FFQRT_OK,
                  "lut_f32_channels");
            size_t bad = 0;
            for (size_t e = 0; e < n; e++) {
                size_t ch = (e / inner) % c;  // the scalar reference
                bad += memcmp(&y[e], &tables[ch * 256 + x[e]], sizeof(float)) != 0;
            }
            CHECK(bad == 0, "lut_f32_channels %s %zu x %zu x %zu: %zu floats differ", vs[i].name, outer, c,
                  inner, bad);
            CHECK(y[n] == 0.0f, "lut_f32_channels wrote past its output");
        }
        free(x), free(y);
    }
    size_t big = (size_t)1 << 40;
    CHECK(ffqrt_lut_f32_channels(vs[0].ctx, NULL, NULL, tables, 0, 3, 5) == FFQRT_OK,
          "lut_f32_channels of nothing");
    CHECK(ffqrt_lut_f32_channels(vs[0].ctx, NULL, tables, tables, 1, 3, 5) == FFQRT_EINVAL, "without output");
    CHECK(ffqrt_lut_f32_channels(vs[0].ctx, tables, tables, NULL, 1, 3, 5) == FFQRT_EINVAL, "without tables");
    CHECK(ffqrt_lut_f32_channels(vs[0].ctx, tables, tables, tables, big, big, 1) == FFQRT_EINVAL,
          "size overflow");
    CHECK(ffqrt_lut_f32_channels(NULL, tables, tables, tables, 1, 1, 1) == FFQRT_EINVAL, "without context");
    free(tables);
}

// ---- per-channel affine maps of codes ----

static void test_affine_channels(const variant *vs, size_t nv) {
    static const size_t shapes[][3] = {{1, 1, 1},   {2, 3, 1},      {3, 5, 7},   {1, 4, 16},
                                       {2, 3, 17},  {1, 37, 1},     {1, 64, 49}, {4, 7, 100},
                                       {2, 960, 1}, {1, 16, 12544}, {3, 33, 1}};
    size_t maxc = 960;
    float *a = xmalloc(maxc * sizeof(float)), *b = xmalloc(maxc * sizeof(float));
    for (size_t c = 0; c < maxc; c++) a[c] = rndf(-3.0f, 3.0f), b[c] = rndf(-5.0f, 5.0f);
    static const int32_t zps[] = {0, -128, 37};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        size_t outer = shapes[si][0], c = shapes[si][1], inner = shapes[si][2], n = outer * c * inner;
        int8_t *x = xmalloc(n);
        float *y = xmalloc((n + 1) * sizeof(float));
        fill_bytes((uint8_t *)x, n, 0, 255);
        ffqrt_qparam px = {rndf(0.001f, 0.2f), zps[si % 3], FFQRT_S8};
        for (size_t i = 0; i < nv; i++) {
            memset(y, 0, (n + 1) * sizeof(float));
            CHECK(ffqrt_affine_f32_channels(vs[i].ctx, y, x, &px, a, b, outer, c, inner) == FFQRT_OK,
                  "affine_f32_channels");
            size_t bad = 0;
            for (size_t e = 0; e < n; e++) {
                size_t ch = (e / inner) % c;  // the scalar reference: one rounding each
                float want = fmaf((float)((int32_t)x[e] - px.zero_point) * px.scale, a[ch], b[ch]);
                bad += memcmp(&y[e], &want, sizeof(float)) != 0;
            }
            CHECK(bad == 0, "affine_f32_channels %s %zu x %zu x %zu: %zu floats differ", vs[i].name, outer, c,
                  inner, bad);
            CHECK(y[n] == 0.0f, "affine_f32_channels wrote past its output");
        }
        free(x), free(y);
    }
    ffqrt_qparam px = {0.1f, 0, FFQRT_S8}, pu = {0.1f, 0, FFQRT_U8}, p0 = {0.0f, 0, FFQRT_S8};
    size_t big = (size_t)1 << 40;
    CHECK(ffqrt_affine_f32_channels(vs[0].ctx, NULL, NULL, &px, a, b, 0, 3, 5) == FFQRT_OK,
          "affine of nothing");
    CHECK(ffqrt_affine_f32_channels(vs[0].ctx, NULL, a, &px, a, b, 1, 3, 5) == FFQRT_EINVAL,
          "without output");
    CHECK(ffqrt_affine_f32_channels(vs[0].ctx, b, a, &px, NULL, b, 1, 3, 5) == FFQRT_EINVAL,
          "without scales");
    CHECK(ffqrt_affine_f32_channels(vs[0].ctx, b, a, &pu, a, b, 1, 1, 1) == FFQRT_EINVAL, "u8 codes");
    CHECK(ffqrt_affine_f32_channels(vs[0].ctx, b, a, &p0, a, b, 1, 1, 1) == FFQRT_EINVAL, "zero scale");
    CHECK(ffqrt_affine_f32_channels(vs[0].ctx, b, a, &px, a, b, big, big, 1) == FFQRT_EINVAL,
          "size overflow");
    free(a), free(b);
}

// ---- float activations ----

static double act_exact(double x, int act) {
    (void)act;  // FFQRT_ACT_GELU_TANH
    return x / (1.0 + exp(-2.0 * sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
}

static void test_act(const variant *vs, size_t nv) {
    static const char *const names[] = {"gelu_tanh"};
    static const size_t sizes[] = {0, 1, 7, 8, 15, 16, 17, 100, 70001};
    for (int act = FFQRT_ACT_GELU_TANH; act <= FFQRT_ACT_GELU_TANH; act++) {
        // the reference against the function in double precision, over every 211th float
        // in [-100, 100] (header: |y - f| <= 2^-22 max(1, |x|); relative 2^-16 where |f| >=
        // 2^-100; -0 past the negative bound, where |f| < 2^-120)
        static const float zero_below[] = {-10.0f};
        size_t bad_abs = 0, bad_rel = 0, seen = 0;
        for (uint32_t bits = 0; bits < 0x42c80000u; bits += 211)
            for (int sign = 0; sign < 2; sign++) {
                uint32_t b = bits | (sign ? 0x80000000u : 0);
                float x, y;
                memcpy(&x, &b, sizeof x);
                ffqrt_act_f32_ref(&y, &x, 1, act);
                double f = act_exact(x, act), err = fabs((double)y - f);
                bad_abs += !(err <= ldexp(fmax(1.0, fabs(x)), -22));
                bad_rel += fabs(f) >= ldexp(1.0, -100) && !(err <= ldexp(fabs(f), -16));
                bad_rel += x < zero_below[act] && !(y == 0.0f && signbit(y) && fabs(f) < ldexp(1.0, -120));
                seen++;
            }
        CHECK(bad_abs == 0 && bad_rel == 0,
              "%s reference vs the exact function: %zu absolute, %zu relative "
              "misses in %zu values",
              names[act], bad_abs, bad_rel, seen);
        // special values
        const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-42f, -1e-42f, 3e38f, -3e38f};
        float ys[9];
        ffqrt_act_f32_ref(ys, special, 9, act);
        CHECK(isnan(ys[0]) && ys[1] == INFINITY && ys[2] == 0.0f && signbit(ys[2]) && ys[3] == 0.0f &&
                  !signbit(ys[3]) && ys[4] == 0.0f && signbit(ys[4]) && ys[7] == 3e38f && ys[8] == 0.0f,
              "%s special values: %g %g %g %g %g %g %g", names[act], ys[0], ys[1], ys[2], ys[3], ys[4], ys[7],
              ys[8]);
        // every variant: the reference's bits, from an odd offset and in place
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            size_t n = sizes[si];
            float *x = xmalloc((n + 1) * sizeof(float)), *yr = xmalloc((n + 1) * sizeof(float));
            float *yv = xmalloc((n + 1) * sizeof(float));
            fill_floats(x, n + 1, 16.0f, 0.25f);
            for (size_t i = 0; i <= n; i += 5) x[i] = rndf(-1.5f, 1.5f);  // where the values vary most
            CHECK(ffqrt_act_f32_ref(yr, x, n + 1, act) == FFQRT_OK, "act ref");
            for (size_t i = 0; i < nv; i++) {
                for (size_t off = 0; off < 2 && off <= n; off++) {
                    memset(yv, 0, (n + 1) * sizeof(float));
                    CHECK(ffqrt_act_f32(vs[i].ctx, yv + off, x + off, n + 1 - off, act) == FFQRT_OK, "act");
                    CHECK(memcmp(yv + off, yr + off, (n + 1 - off) * sizeof(float)) == 0 &&
                              (off == 0 || yv[0] == 0.0f),
                          "%s %s n %zu offset %zu differs from the reference", names[act], vs[i].name, n + 1,
                          off);
                }
                memcpy(yv, x, (n + 1) * sizeof(float));
                CHECK(ffqrt_act_f32(vs[i].ctx, yv, yv, n + 1, act) == FFQRT_OK &&
                          memcmp(yv, yr, (n + 1) * sizeof(float)) == 0,
                      "%s %s n %zu in place", names[act], vs[i].name, n + 1);
            }
            free(x), free(yr), free(yv);
        }
    }
    float one = 1.0f;
    CHECK(ffqrt_act_f32(vs[0].ctx, NULL, NULL, 0, FFQRT_ACT_GELU_TANH) == FFQRT_OK, "act of nothing");
    CHECK(ffqrt_act_f32(vs[0].ctx, NULL, &one, 1, FFQRT_ACT_GELU_TANH) == FFQRT_EINVAL, "act without output");
    CHECK(ffqrt_act_f32(vs[0].ctx, &one, &one, 1, 1) == FFQRT_EINVAL, "act of an unknown kind");
    CHECK(ffqrt_act_f32(vs[0].ctx, &one, &one, 1, -1) == FFQRT_EINVAL, "act of a negative kind");
    CHECK(ffqrt_act_f32_ref(&one, &one, 1, 1) == FFQRT_EINVAL, "act ref of an unknown kind");
}

// ---- NHWC -> NCHW bytes ----

static void test_nchw8(const variant *vs, size_t nv) {
    static const size_t dims[][3] = {
        {1, 1, 1},   {2, 3, 5},   {3, 17, 33},  {400, 32, 16},
        {2, 64, 49}, {1, 16, 64}, {2, 40, 150}, {1, 33, 100}};  // 64- and 32-pixel tiles, then 16
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        size_t n = dims[d][0], c = dims[d][1], hw = dims[d][2], total = n * c * hw;
        uint8_t *x = xmalloc(total), *y = xmalloc(total);
        fill_bytes(x, total, 0, 255);
        for (size_t i = 0; i < nv; i++) {
            memset(y, 0x33, total);
            CHECK(ffqrt_nhwc_to_nchw8(vs[i].ctx, y, x, n, c, hw) == FFQRT_OK, "nhwc_to_nchw8");
            size_t bad = 0;
            for (size_t b = 0; b < n; b++)
                for (size_t ci = 0; ci < c; ci++)
                    for (size_t p = 0; p < hw; p++)
                        bad += y[(b * c + ci) * hw + p] != x[(b * hw + p) * c + ci];
            CHECK(bad == 0, "nhwc_to_nchw8 %s %zux%zux%zu", vs[i].name, n, c, hw);
        }
        free(x), free(y);
    }
}

// ---- threads ----

typedef struct shared_call {
    ffqrt_ctx *ctx;
    const uint8_t *a;
    const void *packed;
    size_t m, n;
    float *y;
    int rounds, bad;
    const float *want;
} shared_call;

static void *call_linear(void *p) {
    shared_call *c = p;
    ffqrt_qparam pa = {0.5f, 3, FFQRT_U8};
    for (int r = 0; r < c->rounds; r++) {
        memset(c->y, 0, c->m * c->n * 4);
        if (ffqrt_linear_f32(c->ctx, c->y, c->a, &pa, c->packed, NULL, c->m) != FFQRT_OK ||
            memcmp(c->y, c->want, c->m * c->n * 4) != 0)
            c->bad++;
    }
    return NULL;
}

// Pools of any size (more threads than CPUs too), and two callers sharing one context
// (one of them then runs alone on its own thread): same results as the reference.
static void test_threads(void) {
    enum { M = 150, N = 200, K = 300 };
    uint8_t *a = xmalloc(M * K);
    int8_t *w = xmalloc(N * K);
    float *ws = xmalloc(N * 4), *want = xmalloc(M * N * 4);
    fill_bytes(a, M * K, 0, 255);
    fill_weights(w, ws, N, K, 0);
    void *packed = xmalloc(ffqrt_linear_pack_size(N, K));
    ffqrt_linear_pack(packed, w, ws, N, K);
    ffqrt_qparam pa = {0.5f, 3, FFQRT_U8};
    ffqrt_linear_ref(want, NULL, 0, a, &pa, w, ws, NULL, M, N, K);
    static const int counts[] = {0, 1, 4, 7, 16};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        ffqrt_ctx *c = ffqrt_ctx_new(FFQRT_ISA_AUTO, counts[i]);
        CHECK(c && ffqrt_ctx_threads(c) >= 1 && (counts[i] == 0 || ffqrt_ctx_threads(c) == counts[i]),
              "ctx with %d threads", counts[i]);
        if (!c) continue;
        float *y0 = xmalloc(M * N * 4), *y1 = xmalloc(M * N * 4);
        shared_call s0 = {c, a, packed, M, N, y0, 20, 0, want}, s1 = {c, a, packed, M, N, y1, 20, 0, want};
        pthread_t th;
        int started = pthread_create(&th, NULL, call_linear, &s1) == 0;
        call_linear(&s0);
        if (started) pthread_join(th, NULL);
        CHECK(s0.bad == 0 && s1.bad == 0, "two callers on one ctx (%d threads): %d + %d bad", counts[i],
              s0.bad, s1.bad);
        free(y0), free(y1);
        ffqrt_ctx_free(c);
    }
    // The OpenMP hand-off: two callers, and switching back and forth between calls.
    ffqrt_ctx *c = ffqrt_ctx_new(FFQRT_ISA_AUTO, 2);
    CHECK(c && ffqrt_ctx_use_openmp(c, "libffqrt-no-such-runtime.so") == FFQRT_EUNSUPPORTED &&
              !ffqrt_ctx_uses_openmp(c),
          "a runtime that is not loaded is refused and changes nothing");
    CHECK(ffqrt_ctx_use_openmp(NULL, OMP_LIB) == FFQRT_EINVAL, "use_openmp(NULL ctx) refused");
    if (c && omp_runtime()) {
        float *y0 = xmalloc(M * N * 4), *y1 = xmalloc(M * N * 4);
        for (int round = 0; round < 4; round++) {
            const char *lib = round % 2 ? NULL : OMP_LIB;
            CHECK(ffqrt_ctx_use_openmp(c, lib) == FFQRT_OK && ffqrt_ctx_uses_openmp(c) == (lib != NULL),
                  "use_openmp(%s)", lib ? lib : "NULL");
            shared_call s0 = {c, a, packed, M, N, y0, 10, 0, want},
                        s1 = {c, a, packed, M, N, y1, 10, 0, want};
            pthread_t th;
            int started = pthread_create(&th, NULL, call_linear, &s1) == 0;
            call_linear(&s0);
            if (started) pthread_join(th, NULL);
            CHECK(s0.bad == 0 && s1.bad == 0, "two callers, %s: %d + %d bad", lib ? "openmp" : "pool", s0.bad,
                  s1.bad);
        }
        free(y0), free(y1);
    } else if (c) {
        printf("SKIP openmp hand-off: %s cannot be loaded\n", OMP_LIB);
    }
    ffqrt_ctx_free(c);
    // A forked child: every call on the calling thread (the parent's workers and OpenMP
    // threads are not there), same results, and freeing the parent's context does not wait
    // for them. The child is killed by SIGALRM if it blocks.
    for (int use_omp = 0; use_omp <= 1; use_omp++) {
        if (use_omp && !omp_runtime()) continue;
        ffqrt_ctx *fc = ffqrt_ctx_new(FFQRT_ISA_AUTO, 2);
        if (!fc) continue;
        if (use_omp) ffqrt_ctx_use_openmp(fc, OMP_LIB);
        float *y0 = xmalloc(M * N * 4);
        shared_call s0 = {fc, a, packed, M, N, y0, 3, 0, want};
        call_linear(&s0);  // the workers (or the OpenMP team) have run
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(60);
            shared_call s1 = {fc, a, packed, M, N, y0, 3, 0, want};
            call_linear(&s1);
            ffqrt_ctx_free(fc);
            _exit(s1.bad ? 3 : 0);
        }
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "forked child (%s): status %d", use_omp ? "openmp" : "pool", status);
        CHECK(s0.bad == 0, "parent before the fork");
        free(y0);
        ffqrt_ctx_free(fc);
    }
    CHECK(ffqrt_ctx_new(FFQRT_ISA_AUTO, -1) == NULL, "negative thread count refused");
    ffqrt_ctx *big = ffqrt_ctx_new(FFQRT_ISA_REF, 100000);
    CHECK(big && ffqrt_ctx_threads(big) == 256, "thread count clamped to 256");
    ffqrt_ctx_free(big);
    ffqrt_ctx_free(NULL);
    free(a), free(w), free(ws), free(want), free(packed);
}

// ---- dispatch ----

static void test_dispatch(void) {
    setenv("FFQRT_FORCE_REF", "1", 1);
    ffqrt_ctx *c = ffqrt_ctx_new(FFQRT_ISA_AUTO, 0);
    CHECK(c && ffqrt_ctx_isa(c) == FFQRT_ISA_REF, "FFQRT_FORCE_REF=1 selects ref");
    ffqrt_ctx_free(c);
    unsetenv("FFQRT_FORCE_REF");
    setenv("FFQRT_ISA", "ref", 1);
    c = ffqrt_ctx_new(FFQRT_ISA_AUTO, 0);
    CHECK(c && ffqrt_ctx_isa(c) == FFQRT_ISA_REF, "FFQRT_ISA=ref selects ref");
    ffqrt_ctx_free(c);
    setenv("FFQRT_ISA", "avxvnni", 1);
    c = ffqrt_ctx_new(FFQRT_ISA_AUTO, 1);
    CHECK(ffqrt_isa_supported(FFQRT_ISA_AVXVNNI) ? c && ffqrt_ctx_isa(c) == FFQRT_ISA_AVXVNNI : c == NULL,
          "FFQRT_ISA=avxvnni selects avxvnni where supported, else fails");
    ffqrt_ctx_free(c);
    unsetenv("FFQRT_ISA");
    c = ffqrt_ctx_new(FFQRT_ISA_AUTO, 0);
    int best = ffqrt_isa_supported(FFQRT_ISA_AMX)          ? FFQRT_ISA_AMX
               : ffqrt_isa_supported(FFQRT_ISA_AVX512VNNI) ? FFQRT_ISA_AVX512VNNI
               : ffqrt_isa_supported(FFQRT_ISA_AVXVNNI)    ? FFQRT_ISA_AVXVNNI
               : ffqrt_isa_supported(FFQRT_ISA_AVX2)       ? FFQRT_ISA_AVX2
                                                           : FFQRT_ISA_REF;
    CHECK(c && ffqrt_ctx_isa(c) == best, "auto selects the best ISA");
    printf("auto ISA: %s\n", c ? ffqrt_isa_name(ffqrt_ctx_isa(c)) : "none");
    ffqrt_ctx_free(c);
    for (int isa = FFQRT_ISA_AVX2; isa <= FFQRT_ISA_AMX; isa++)
        if (!ffqrt_isa_supported(isa)) CHECK(ffqrt_ctx_new(isa, 1) == NULL, "unsupported ISA refused");
    CHECK(strcmp(ffqrt_isa_name(FFQRT_ISA_AMX), "amx") == 0, "the AMX variant is named amx");
}

// ---- layer norm ----

static int ln_byte(uint8_t v, int dtype) { return dtype == FFQRT_S8 ? (int)(int8_t)v : (int)v; }

static void test_layer_norm(const variant *vs, size_t nv) {
    // (the last two: codes alternating between the extremes, and all -128 but one in the
    // longest row accepted: sums of squares past 2^32)
    static const size_t shapes[][2] = {{1, 1},  {3, 5}, {7, 192}, {2, 1500},   {5, 17},
                                       {4, 64}, {0, 8}, {3, 0},   {1, 300001}, {1, FFQRT_LAYER_NORM_MAX_D}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int dx = FFQRT_S8; dx <= FFQRT_U8; dx++)
            for (int affine = 0; affine <= 1; affine++) {
                size_t rows = shapes[si][0], d = shapes[si][1], n = rows * d;
                uint8_t *x = xmalloc(n ? n : 1), *y = xmalloc(n ? n : 1), *y0 = xmalloc(n ? n : 1);
                float *g = xmalloc((d ? d : 1) * 4), *b = xmalloc((d ? d : 1) * 4);
                fill_bytes(x, n, 0, 255);
                uint8_t to_dt = dx == FFQRT_U8 ? 0x80 : 0;
                if (d == FFQRT_LAYER_NORM_MAX_D) {
                    memset(x, 0x80 ^ to_dt, n);
                    x[n - 1] = to_dt;
                } else if (d > 100000) {
                    for (size_t i = 0; i < n; i++) x[i] = (uint8_t)(i % 2 ? 0x80 : 0x7F) ^ to_dt;
                }
                for (size_t i = 0; i < d; i++) {
                    g[i] = 0.5f + (float)(rnd() % 1000) / 1000.0f;
                    b[i] = ((float)(rnd() % 1000) - 500.0f) / 1000.0f;
                }
                int32_t zx = dx == FFQRT_S8 ? (int32_t)(rnd() % 256) - 128 : (int32_t)(rnd() % 256);
                ffqrt_qparam px = {0.05f, zx, dx}, py = {0.02f, (int32_t)(rnd() % 61) - 30, FFQRT_S8};
                const float *gg = affine ? g : NULL, *bb = affine ? b : NULL;
                for (size_t i = 0; i < nv; i++) {
                    memset(y, 0x5A, n);
                    CHECK(ffqrt_layer_norm8(vs[i].ctx, y, &py, x, &px, gg, bb, 1e-5f, rows, d) == FFQRT_OK,
                          "layer_norm8 %s", vs[i].name);
                    if (i == 0) memcpy(y0, y, n);
                    CHECK(n == 0 || memcmp(y, y0, n) == 0, "layer_norm8 %s differs from %s (%zu x %zu)",
                          vs[i].name, vs[0].name, rows, d);
                }
                // against the definition in double: within one step of the output grid
                int worst = 0;
                for (size_t r = 0; r < rows; r++) {
                    double mean = 0.0, var = 0.0;
                    for (size_t c = 0; c < d; c++) mean += 0.05 * (ln_byte(x[r * d + c], dx) - zx);
                    mean /= (double)d;
                    for (size_t c = 0; c < d; c++) {
                        double v = 0.05 * (ln_byte(x[r * d + c], dx) - zx) - mean;
                        var += v * v;
                    }
                    var /= (double)d;
                    for (size_t c = 0; c < d; c++) {
                        double v = (0.05 * (ln_byte(x[r * d + c], dx) - zx) - mean) / sqrt(var + 1e-5);
                        if (affine) v = v * g[c] + b[c];
                        double q = nearbyint(v / 0.02) + py.zero_point;
                        q = q < -128 ? -128 : q > 127 ? 127 : q;
                        int diff = abs((int)q - (int)(int8_t)y0[r * d + c]);
                        worst = diff > worst ? diff : worst;
                    }
                }
                CHECK(worst <= 1, "layer_norm8 %zu x %zu: %d steps from the definition", rows, d, worst);
                free(x), free(y), free(y0), free(g), free(b);
            }
    uint8_t one = 0;
    ffqrt_qparam p = {1.0f, 0, FFQRT_S8};
    CHECK(ffqrt_layer_norm8(vs[0].ctx, &one, &p, &one, &p, NULL, NULL, -1.0f, 1, 1) == FFQRT_EINVAL,
          "layer_norm8 refuses a negative eps");
    CHECK(ffqrt_layer_norm8(vs[0].ctx, &one, &p, &one, &p, NULL, NULL, 1e-5f, 1,
                            FFQRT_LAYER_NORM_MAX_D + 1) == FFQRT_EINVAL,
          "layer_norm8 refuses rows over the limit");
}

// ---- softmax ----

static void test_softmax(const variant *vs, size_t nv) {
    static const size_t shapes[][2] = {{1, 1},  {3, 5},  {12, 197}, {2, 1500},
                                       {5, 17}, {4, 64}, {0, 8},    {3, 0}};
    static const float scales[] = {0.002f, 0.05f, 0.3f};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int dx = FFQRT_S8; dx <= FFQRT_U8; dx++)
            for (size_t sc = 0; sc < sizeof scales / sizeof scales[0]; sc++) {
                size_t rows = shapes[si][0], d = shapes[si][1], n = rows * d;
                uint8_t *x = xmalloc(n ? n : 1), *y = xmalloc(n ? n : 1), *y0 = xmalloc(n ? n : 1);
                fill_bytes(x, n, 0, 255);
                int32_t zx = dx == FFQRT_S8 ? (int32_t)(rnd() % 256) - 128 : (int32_t)(rnd() % 256);
                // weights in [0, 1]: u8 over 1 / 255, or s8 with zero point -128
                ffqrt_qparam px = {scales[sc], zx, dx};
                ffqrt_qparam py = sc % 2 ? (ffqrt_qparam){1.0f / 255, 0, FFQRT_U8}
                                         : (ffqrt_qparam){1.0f / 256, -128, FFQRT_S8};
                for (size_t i = 0; i < nv; i++) {
                    memset(y, 0x5A, n);
                    CHECK(ffqrt_softmax8(vs[i].ctx, y, &py, x, &px, rows, d) == FFQRT_OK, "softmax8 %s",
                          vs[i].name);
                    if (i == 0) memcpy(y0, y, n);
                    CHECK(n == 0 || memcmp(y, y0, n) == 0, "softmax8 %s differs from %s (%zu x %zu)",
                          vs[i].name, vs[0].name, rows, d);
                }
                int worst = 0;
                for (size_t r = 0; r < rows; r++) {
                    double top = -1e300, sum = 0.0;
                    for (size_t c = 0; c < d; c++) {
                        double v = scales[sc] * (ln_byte(x[r * d + c], dx) - zx);
                        top = v > top ? v : top;
                    }
                    for (size_t c = 0; c < d; c++)
                        sum += exp(scales[sc] * (ln_byte(x[r * d + c], dx) - zx) - top);
                    for (size_t c = 0; c < d; c++) {
                        double w = exp(scales[sc] * (ln_byte(x[r * d + c], dx) - zx) - top) / sum;
                        double q = nearbyint(w / py.scale) + py.zero_point;
                        double lo = py.dtype == FFQRT_S8 ? -128 : 0, hi = py.dtype == FFQRT_S8 ? 127 : 255;
                        q = q < lo ? lo : q > hi ? hi : q;
                        int diff = abs((int)q - ln_byte(y0[r * d + c], py.dtype));
                        worst = diff > worst ? diff : worst;
                    }
                }
                CHECK(worst <= 1, "softmax8 %zu x %zu (scale %g): %d steps from the definition", rows, d,
                      (double)scales[sc], worst);
                free(x), free(y), free(y0);
            }
}

// ---- max pooling ----

// torch's output size of one dimension (ceil_mode: a last window that starts inside the
// image or its left padding counts).
// 0: no output. (With ceil_mode a window may be wider than the padded input.)
static size_t pool_out(size_t n, size_t k, size_t st, size_t pad, size_t dil, int ceil_mode) {
    long room = (long)(n + 2 * pad) - (long)(dil * (k - 1) + 1) + (ceil_mode ? (long)st - 1 : 0);
    if (room < 0) return 0;
    size_t o = (size_t)room / st + 1;
    if (ceil_mode && (o - 1) * st >= n + pad) o--;
    return o;
}

// Equal as max pooling promises: the same bits, or both NaN, or +0 and -0.
static int pool_same(const void *a, const void *b, size_t n, int elem) {
    if (elem != FFQRT_POOL_F32) return memcmp(a, b, n) == 0;
    const float *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (!(x[i] == y[i] || (isnan(x[i]) && isnan(y[i])))) return 0;
    return 1;
}

// A random shape torch takes (padding at most half the kernel), dilated when asked; 0 when
// it has no output.
static int random_pool_shape(ffqrt_pool2d_shape *s, int iter, int dilated) {
    memset(s, 0, sizeof *s);
    s->n = 1 + rnd() % 2;
    s->c = 1 + rnd() % (iter % 4 == 0 ? 40 : 6);
    s->h = 1 + rnd() % 19;
    s->w = 1 + rnd() % (iter % 3 == 0 ? 90 : 37);
    s->kh = 1 + rnd() % 4;
    s->kw = 1 + rnd() % 4;
    s->dh = dilated && rnd() % 4 == 0 ? 1 + rnd() % 3 : 1;
    s->dw = dilated && rnd() % 4 == 0 ? 1 + rnd() % 3 : 1;
    s->sh = 1 + rnd() % 3;
    s->sw = 1 + rnd() % 3;
    s->ph = rnd() % (s->kh / 2 + 1);
    s->pw = rnd() % (s->kw / 2 + 1);
    int ceil_mode = rnd() % 2;
    s->oh = pool_out(s->h, s->kh, s->sh, s->ph, s->dh, ceil_mode);
    s->ow = pool_out(s->w, s->kw, s->sw, s->pw, s->dw, ceil_mode);
    s->layout = (int)(rnd() % 2);
    return s->oh && s->ow;
}

static void test_max_pool(const variant *vs, size_t nv) {
    // the reference on a small case worked out by hand: 1 x 1 x 3 x 4, 2x2 windows, stride 2,
    // padding 1: windows clipped to the image
    {
        const float x[12] = {1, 5, 2, 0, -3, 4, NAN, 7, 8, -1, 6, 2};
        float y[6];
        ffqrt_pool2d_shape s = {1, 1, 3, 4, 2, 2, 2, 2, 1, 1, 1, 1, 2, 3, FFQRT_POOL_F32, FFQRT_POOL_NCHW};
        CHECK(ffqrt_max_pool2d_ref(y, x, &s) == FFQRT_OK, "max_pool2d_ref");
        CHECK(y[0] == 1 && y[1] == 5 && y[2] == 0 && y[3] == 8 && isnan(y[4]) && y[5] == 7,
              "max_pool2d_ref by hand: %g %g %g %g %g %g", y[0], y[1], y[2], y[3], y[4], y[5]);
        ffqrt_pool2d_shape bad = s;
        bad.oh = 4;  // a window starting past the padded image
        CHECK(ffqrt_max_pool2d_ref(y, x, &bad) == FFQRT_EINVAL, "max_pool2d: window outside rejected");
        bad = s;
        bad.elem = 7;
        CHECK(ffqrt_max_pool2d(vs[0].ctx, y, x, &bad) == FFQRT_EINVAL, "max_pool2d: bad elem rejected");
        bad = s;
        bad.kh = 0;
        CHECK(ffqrt_max_pool2d(vs[0].ctx, y, x, &bad) == FFQRT_EINVAL, "max_pool2d: zero kernel rejected");
    }
    for (int iter = 0; iter < 400; iter++) {
        ffqrt_pool2d_shape s;
        if (!random_pool_shape(&s, iter, 1)) continue;
        s.elem = (int)(rnd() % 3);
        size_t es = s.elem == FFQRT_POOL_F32 ? 4 : 1, nin = s.n * s.c * s.h * s.w,
               nout = s.n * s.c * s.oh * s.ow;
        void *x = xmalloc(nin * es), *yr = xmalloc(nout * es), *yv = xmalloc(nout * es);
        if (s.elem == FFQRT_POOL_F32) {
            float *f = x;
            fill_floats(f, nin, 4.0f, 1.0f);
            for (size_t i = 0; i < nin; i++) {
                unsigned r = rnd() % 64;
                f[i] = r == 0   ? NAN
                       : r == 1 ? -INFINITY
                       : r == 2 ? INFINITY
                       : r < 8  ? (float)(int)f[i]
                                : f[i];
            }
        } else {
            fill_bytes(x, nin, 0, 255);
        }
        CHECK(ffqrt_max_pool2d_ref(yr, x, &s) == FFQRT_OK, "max_pool2d_ref status");
        for (size_t i = 0; i < nv; i++) {
            memset(yv, 0x5a, nout * es);
            CHECK(ffqrt_max_pool2d(vs[i].ctx, yv, x, &s) == FFQRT_OK, "max_pool2d status");
            CHECK(pool_same(yr, yv, nout, s.elem),
                  "max_pool2d %s elem %d layout %d n%zu c%zu %zux%zu k%zux%zu s%zux%zu p%zux%zu d%zux%zu "
                  "o%zux%zu",
                  vs[i].name, s.elem, s.layout, s.n, s.c, s.h, s.w, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.dh,
                  s.dw, s.oh, s.ow);
        }
        free(x);
        free(yr);
        free(yv);
    }
}

static void test_avg_pool(const variant *vs, size_t nv) {
    {  // by hand: 1 x 1 x 2 x 3, 2x2 windows, stride 1, padding 1, with and without the padding counted
        const float x[6] = {1, 2, 3, 4, 5, 6};
        float y[12];
        ffqrt_pool2d_shape s = {1, 1, 2, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, 4, FFQRT_POOL_F32, FFQRT_POOL_NCHW,
                                0, 1};
        CHECK(ffqrt_avg_pool2d_ref(y, x, &s) == FFQRT_OK, "avg_pool2d_ref");
        CHECK(y[0] == 0.25f && y[1] == 0.75f && y[5] == 3.0f && y[11] == 1.5f,
              "avg_pool2d_ref counted: %g %g %g %g", y[0], y[1], y[5], y[11]);
        s.count_include_pad = 0;
        CHECK(ffqrt_avg_pool2d_ref(y, x, &s) == FFQRT_OK, "avg_pool2d_ref");
        CHECK(y[0] == 1.0f && y[1] == 1.5f && y[5] == 3.0f && y[11] == 6.0f,
              "avg_pool2d_ref not counted: %g %g %g %g", y[0], y[1], y[5], y[11]);
        s.divisor = 3;
        CHECK(ffqrt_avg_pool2d_ref(y, x, &s) == FFQRT_OK && y[5] == 4.0f, "avg_pool2d_ref divisor override");
        s.dh = 2;
        CHECK(ffqrt_avg_pool2d(vs[0].ctx, y, x, &s) == FFQRT_EINVAL, "avg_pool2d: dilation rejected");
    }
    for (int iter = 0; iter < 400; iter++) {
        ffqrt_pool2d_shape s;
        if (!random_pool_shape(&s, iter, 0)) continue;
        s.elem = FFQRT_POOL_F32;
        s.count_include_pad = (int)(rnd() % 2);
        s.divisor = rnd() % 4 ? 0 : 1 + rnd() % 9;
        size_t nin = s.n * s.c * s.h * s.w, nout = s.n * s.c * s.oh * s.ow;
        float *x = xmalloc(nin * 4), *yr = xmalloc(nout * 4), *yv = xmalloc(nout * 4);
        fill_floats(x, nin, 1e4f, 1.0f);  // wide magnitudes: the order of the sums shows
        CHECK(ffqrt_avg_pool2d_ref(yr, x, &s) == FFQRT_OK, "avg_pool2d_ref status");
        for (size_t i = 0; i < nv; i++) {
            memset(yv, 0x5a, nout * 4);
            CHECK(ffqrt_avg_pool2d(vs[i].ctx, yv, x, &s) == FFQRT_OK, "avg_pool2d status");
            CHECK(
                pool_same(yr, yv, nout, FFQRT_POOL_F32),
                "avg_pool2d %s layout %d n%zu c%zu %zux%zu k%zux%zu s%zux%zu p%zux%zu o%zux%zu pad%d div%zu",
                vs[i].name, s.layout, s.n, s.c, s.h, s.w, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.oh, s.ow,
                s.count_include_pad, s.divisor);
        }
        free(x);
        free(yr);
        free(yv);
    }
}

int main(void) {
    variant vs[20];
    size_t nv = make_variants(vs);
    test_ref_values();
    test_linear_ref_exact();
    test_dispatch();
    test_quant(vs, nv);
    test_quant_division(vs, nv);
    test_minmax(vs, nv);
    test_linear(vs, nv);
    test_linear_dynamic(vs, nv);
    test_linear_static(vs, nv);
    test_matmul(vs, nv);
    test_requant_ties(vs, nv);
    test_conv(vs, nv);
    test_eltwise(vs, nv);
    test_layer_norm(vs, nv);
    test_softmax(vs, nv);
    test_lut(vs, nv);
    test_lut_channels(vs, nv);
    test_lut_planes(vs, nv);
    test_affine_channels(vs, nv);
    test_act(vs, nv);
    test_nchw8(vs, nv);
    test_max_pool(vs, nv);
    test_avg_pool(vs, nv);
    test_threads();
    for (size_t i = 0; i < nv; i++) ffqrt_ctx_free(vs[i].ctx);
    printf("runtime: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
