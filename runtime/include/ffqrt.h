// ffqrt.h: the C API of libffqrt, the integer kernels of the ffq runtime.
//
// Conventions
// - Every entry point returns an ffqrt_status (0 = FFQRT_OK). Bad arguments give
//   FFQRT_EINVAL; nothing is written then.
// - Outputs come first, then inputs, then sizes. Sizes are size_t, zero points int32_t,
//   scales float. Tensors are dense, row-major (C order).
// - Kernels never allocate. The only allocating call is ffqrt_ctx_new (the context and
//   its thread pool): packed weights and scratch live in caller buffers whose sizes the
//   *_size functions give (align them to 64 bytes for speed; any alignment is correct).
// - Threads: each context owns a pool of worker threads, started by ffqrt_ctx_new and
//   stopped by ffqrt_ctx_free; calls hand work to it, no thread is created per call
//   (or to an OpenMP runtime's threads, see ffqrt_ctx_use_openmp). In a child process
//   forked from one that had contexts, every call runs on the calling thread (threads do
//   not survive a fork), and freeing an inherited context does not wait for its workers.
//   A context may be shared by several calling threads: a call that finds the pool busy
//   runs on its caller's thread alone (same results).
// - The *_ref functions are the specification: plain scalar loops, always compiled,
//   single threaded. The ctx-taking functions run the fastest variant for this CPU and
//   give bit-identical results (integers exactly; floats too, see README.md).
//
// Quantization (one formula for every kernel):
//   q = clamp(round_half_even(fl(x / scale) + zero_point), qmin, qmax)
//   (rounded exactly: round(v) + zero_point, and at an exact tie of v, where an odd zero
//   point changes which neighbour is even, the half-integer v + zero_point rounded)
//   x' = (float)(q - zero_point) * scale
// NaN quantizes to qmin. Clamping happens in float, before the conversion to integer.
#ifndef FFQRT_H
#define FFQRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FFQRT_BUILDING)
#define FFQRT_API __attribute__((visibility("default")))
#else
#define FFQRT_API
#endif

typedef enum ffqrt_status {
    FFQRT_OK = 0,
    FFQRT_EINVAL = 1,        // a pointer is NULL, a size or dtype is out of range
    FFQRT_EUNSUPPORTED = 2,  // the requested ISA is not available on this CPU
    FFQRT_ENOMEM = 3,        // ffqrt_ctx_new could not allocate
} ffqrt_status;

// Integer element types. S4/U4 store two values per byte: element i lives in byte i/2,
// in the low nibble when i is even and in the high nibble when i is odd.
typedef enum ffqrt_dtype {
    FFQRT_S8 = 0,  // [-128, 127]
    FFQRT_U8 = 1,  // [0, 255]
    FFQRT_S4 = 2,  // [-8, 7]
    FFQRT_U4 = 3,  // [0, 15]
} ffqrt_dtype;

// Kernel variants. AUTO picks AMX > AVX512VNNI > AVXVNNI > AVX2 > REF, the first this
// CPU supports, unless the environment says otherwise: FFQRT_FORCE_REF=1 selects REF,
// FFQRT_ISA=ref|avx2|avxvnni|avx512vnni|amx that variant (ffqrt_ctx_new fails if the CPU
// lacks it). Every variant gives the same results.
typedef enum ffqrt_isa {
    FFQRT_ISA_AUTO = 0,
    FFQRT_ISA_REF = 1,
    FFQRT_ISA_AVX2 = 2,
    FFQRT_ISA_AVX512VNNI = 3,
    FFQRT_ISA_AVXVNNI = 4,  // AVX2 + 256-bit VNNI (vpdpbusd on ymm), without AVX-512
    // AVX512VNNI with the GEMMs (linear, matmul, conv) on AMX-INT8 tiles. Supported where
    // the CPU has AMX-TILE and AMX-INT8 and the kernel lets the process use the tile data
    // (asked once, with arch_prctl(ARCH_REQ_XCOMP_PERM); Linux refuses it when a thread's
    // alternate signal stack is too small for the larger signal frame).
    FFQRT_ISA_AMX = 5,
} ffqrt_isa;

// ---------------------------------------------------------------------------------------
// Context: which kernel table, and a pool of threads. Caller owns it.

typedef struct ffqrt_ctx ffqrt_ctx;

// isa: an ffqrt_isa (FFQRT_ISA_AUTO: see the enum). max_threads: the pool size, caller
// included: 0 = the CPUs this process may run on, n >= 1 = n (e.g. torch.get_num_threads(),
// more than the CPUs is allowed), clamped to 256. Small calls use fewer threads.
// Returns NULL when the ISA is unsupported on this CPU, max_threads < 0, or allocation or
// thread creation fails.
FFQRT_API ffqrt_ctx *ffqrt_ctx_new(int isa, int max_threads);
FFQRT_API void ffqrt_ctx_free(ffqrt_ctx *ctx);          // joins the pool; NULL is a no-op
FFQRT_API int ffqrt_ctx_isa(const ffqrt_ctx *ctx);      // the resolved ffqrt_isa
FFQRT_API int ffqrt_ctx_threads(const ffqrt_ctx *ctx);  // the pool size (0 for NULL)
// Threads from an OpenMP runtime the process has loaded already, instead of the context's
// own pool: `library` is its path or soname (libgomp, or LLVM's / Intel's runtime, which
// provide GOMP_parallel too); it is never loaded by this call. Meant for a host such as
// torch whose OpenMP threads keep spinning for a while after each of its parallel
// regions: the context's work then starts at once on those threads instead of competing
// with them for the cores. NULL goes back to the pool. Same results either way.
// FFQRT_EUNSUPPORTED when the runtime is not loaded or lacks GOMP_parallel (nothing
// changes then), FFQRT_EINVAL for a NULL ctx.
FFQRT_API int ffqrt_ctx_use_openmp(ffqrt_ctx *ctx, const char *library);
FFQRT_API int ffqrt_ctx_uses_openmp(const ffqrt_ctx *ctx);  // 1 while it does
FFQRT_API int ffqrt_isa_supported(int isa);                 // 1 if this CPU can run it
// "auto", "ref", "avx2", "avx512vnni", "avxvnni", "amx"; "unknown" otherwise.
FFQRT_API const char *ffqrt_isa_name(int isa);

// ---------------------------------------------------------------------------------------
// Quantization grids. The tensor is viewed as [outer][mid][inner]; one (scale, zero
// point) pair covers each tile of tile_outer x tile_mid x tile_inner elements (a tile
// size of 0 means the whole extent; edge tiles may be partial). Parameters are stored
// row-major over the tile grid. Examples for a tensor of shape d0..d(r-1):
//   per tensor:            [1][1][numel],            tiles 0,0,0
//   per channel, axis a:   [prod(d<a)][d_a][prod(d>a)], tiles 0,1,0
//   blocks of b, last dim: [1][numel/d_last][d_last],  tiles 0,1,b
//   2-D tiles th x tw:     [prod(d<r-2)][d_r-2][d_r-1], tiles 1,th,tw
typedef struct ffqrt_grid {
    size_t outer, mid, inner;
    size_t tile_outer, tile_mid, tile_inner;
} ffqrt_grid;

FFQRT_API size_t ffqrt_grid_params(const ffqrt_grid *g);    // number of tiles
FFQRT_API size_t ffqrt_storage_bytes(int dtype, size_t n);  // bytes for n elements

// zero_point may be NULL: symmetric, i.e. 0 for S8/S4 and 128 / 8 for U8 / U4.
// scale[i] must be finite and > 0.
FFQRT_API ffqrt_status ffqrt_quantize(const ffqrt_ctx *ctx, void *q, const float *x, const ffqrt_grid *g,
                                      const float *scale, const int32_t *zero_point, int dtype);
FFQRT_API ffqrt_status ffqrt_dequantize(const ffqrt_ctx *ctx, float *x, const void *q, const ffqrt_grid *g,
                                        const float *scale, const int32_t *zero_point, int dtype);
// y = quantize(x) as float32 (the grid's integers, -0 as +0), any dtype's range; y may
// equal x. One pass: for callers that keep integer values in float tensors.
FFQRT_API ffqrt_status ffqrt_quantize_float(const ffqrt_ctx *ctx, float *y, const float *x,
                                            const ffqrt_grid *g, const float *scale,
                                            const int32_t *zero_point, int dtype);
// Both at once, 8-bit dtypes: raw = quantize(x) as float32 (as ffqrt_quantize_float) and
// dq = dequantize(quantize(x)) (as ffqrt_fake_quantize); raw, dq and x do not overlap.
FFQRT_API ffqrt_status ffqrt_quantize_dequantize(const ffqrt_ctx *ctx, float *raw, float *dq, const float *x,
                                                 const ffqrt_grid *g, const float *scale,
                                                 const int32_t *zero_point, int dtype);
// Both at once, 8-bit dtypes: q = quantize(x) (as ffqrt_quantize) and raw = the same
// integers as float32 (as ffqrt_quantize_float); q, raw and x do not overlap.
FFQRT_API ffqrt_status ffqrt_quantize_dual(const ffqrt_ctx *ctx, void *q, float *raw, const float *x,
                                           const ffqrt_grid *g, const float *scale, const int32_t *zero_point,
                                           int dtype);
// y = dequantize(quantize(x)); y may equal x.
FFQRT_API ffqrt_status ffqrt_fake_quantize(const ffqrt_ctx *ctx, float *y, const float *x,
                                           const ffqrt_grid *g, const float *scale, const int32_t *zero_point,
                                           int dtype);

// Scale and zero point for the range [lo, hi] (widened to include 0) and the integer
// range of dtype, or [qmin, qmax] = [0, 127] when dtype is U8 and reduce_range is 1.
// symmetric: zero point as for zero_point == NULL above, scale = max|.| / half range.
FFQRT_API ffqrt_status ffqrt_qparams_from_range(float *scale, int32_t *zero_point, float lo, float hi,
                                                int dtype, int symmetric, int reduce_range);

// ---------------------------------------------------------------------------------------
// Range estimation, one pass. NaN is ignored; -0 is reported as +0; no data gives
// min = +inf, max = -inf.
FFQRT_API ffqrt_status ffqrt_minmax(const ffqrt_ctx *ctx, float *min, float *max, const float *x, size_t n);
// Per channel over x viewed as [outer][channels][inner]: min[c], max[c].
FFQRT_API ffqrt_status ffqrt_minmax_channel(const ffqrt_ctx *ctx, float *min, float *max, const float *x,
                                            size_t outer, size_t channels, size_t inner);

// ---------------------------------------------------------------------------------------
// Per-tensor quantization parameters of an int8 operand (dtype FFQRT_S8 or FFQRT_U8).
typedef struct ffqrt_qparam {
    float scale;
    int32_t zero_point;
    int32_t dtype;
} ffqrt_qparam;

// int8 linear layer: y[m][n] = sum_k (a[m][k] - za) * w[n][k], as int32, then
//   f32 output: y = (float)acc * (sa * sw[n]) + bias[n]
//   int8 output: q = quantize(that, sy, zy), clamped to [zy, qmax] when relu is set.
// Weights are s8, symmetric, one scale per output channel, packed once. K <= 65536.
// Every call streams the packed weights, so packing advises the buffer's 2 MiB-aligned
// interior for transparent huge pages (Linux MADV_HUGEPAGE; a buffer not yet written, as
// from malloc or torch.empty, gets them as the pack fills it). Buffers allocated 2 MiB
// aligned benefit fully.
FFQRT_API size_t ffqrt_linear_pack_size(size_t n, size_t k);
FFQRT_API ffqrt_status ffqrt_linear_pack(void *packed, const int8_t *w, const float *w_scale, size_t n,
                                         size_t k);
// The (n, k) a packed buffer was made for; FFQRT_EINVAL if it is not a linear pack (a
// bridge can check a cached pack against the call's shapes before using it).
FFQRT_API ffqrt_status ffqrt_linear_pack_dims(const void *packed, size_t *n, size_t *k);
// a: m x k of dtype pa->dtype. bias may be NULL. y: m x n.
FFQRT_API ffqrt_status ffqrt_linear_f32(const ffqrt_ctx *ctx, float *y, const void *a, const ffqrt_qparam *pa,
                                        const void *packed, const float *bias, size_t m);
FFQRT_API ffqrt_status ffqrt_linear_q(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                      const void *a, const ffqrt_qparam *pa, const void *packed,
                                      const float *bias, size_t m);
// fp32 in, fp32 out: activations quantized per tensor to u8 in [0, 127] (reduce range:
// like fbgemm, it keeps every u8 x s8 pair sum within int16) from their min/max, GEMM,
// dequantized with bias. workspace: ffqrt_linear_dynamic_workspace_size(m, k) bytes.
FFQRT_API size_t ffqrt_linear_dynamic_workspace_size(size_t m, size_t k);
// fp32 in, with a static per-tensor grid pa (s8 or u8): x quantized onto pa into the
// workspace (ffqrt_linear_dynamic_workspace_size(m, k) bytes), then ffqrt_linear_f32
// (py == NULL; y is float*) or ffqrt_linear_q (py: the output grid). Same results as
// ffqrt_quantize followed by that call, in one call.
FFQRT_API ffqrt_status ffqrt_linear_static(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                           const float *x, const ffqrt_qparam *pa, const void *packed,
                                           const float *bias, size_t m, void *workspace);
FFQRT_API ffqrt_status ffqrt_linear_dynamic(const ffqrt_ctx *ctx, float *y, const float *x,
                                            const void *packed, const float *bias, size_t m, void *workspace);

// ---------------------------------------------------------------------------------------
// int8 matmul / bmm of two activation tensors, both per tensor (s8 or u8, any zero point):
//   acc[t][i][j] = sum_k (a[t][i][k] - za) * (b[t][k][j] - zb)   (int32), K <= 32768
//   f32 output: y = (float)acc * (sa * sb)
//   int8 output: q = quantize(that, sy, zy), clamped to [zy, qmax] when relu is set.
// a: batch x m x k, b: batch x k x n, y: batch x m x n, all dense (batch = 1 for matmul).
// b is packed per call into the workspace (ffqrt_matmul_workspace_size(m, k, n) bytes,
// reused for every t). batch, m or n of 0 writes nothing and returns FFQRT_OK.
FFQRT_API size_t ffqrt_matmul_workspace_size(size_t m, size_t k, size_t n);
FFQRT_API ffqrt_status ffqrt_matmul_f32(const ffqrt_ctx *ctx, float *y, const void *a, const ffqrt_qparam *pa,
                                        const void *b, const ffqrt_qparam *pb, size_t batch, size_t m,
                                        size_t k, size_t n, void *workspace);
FFQRT_API ffqrt_status ffqrt_matmul_q(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                      const void *a, const ffqrt_qparam *pa, const void *b,
                                      const ffqrt_qparam *pb, size_t batch, size_t m, size_t k, size_t n,
                                      void *workspace);

// The same products with options, the batch spread over the threads (each product packs
// its own b: the workspace is ffqrt_matmul_batch_workspace_size(batch, m, k, n) bytes).
// flags: 0, or FFQRT_MATMUL_B_NK: b is batch x n x k, the transpose of the right-hand side
// (q @ k^T reads k as it is stored). py NULL: f32 output (y is float*).
#define FFQRT_MATMUL_B_NK 1u
FFQRT_API size_t ffqrt_matmul_batch_workspace_size(size_t batch, size_t m, size_t k, size_t n);
FFQRT_API ffqrt_status ffqrt_matmul_batch(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                          const void *a, const ffqrt_qparam *pa, const void *b,
                                          const ffqrt_qparam *pb, size_t batch, size_t m, size_t k, size_t n,
                                          unsigned flags, void *workspace);

// ---------------------------------------------------------------------------------------
// int8 conv2d. Weights [c_out][c_in/groups][kh][kw], s8, per output channel. Input and
// output are NCHW ([n][c][h][w]) unless `layout` says NHWC ([n][h][w][c], torch's
// channels_last memory format) for either. conv1d on [n][c][l] is this with h = kh = 1,
// stride_h = dil_h = 1 and pad_h = 0.
enum { FFQRT_CONV_IN_NHWC = 1, FFQRT_CONV_OUT_NHWC = 2 };
typedef struct ffqrt_conv2d_shape {
    size_t n, c_in, h, w;  // input
    size_t c_out, kh, kw;  // weights
    size_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
    size_t layout;  // FFQRT_CONV_IN_NHWC | FFQRT_CONV_OUT_NHWC, or 0 (NCHW both)
} ffqrt_conv2d_shape;

// Output height / width (0 if the kernel does not fit).
FFQRT_API size_t ffqrt_conv2d_out_h(const ffqrt_conv2d_shape *s);
FFQRT_API size_t ffqrt_conv2d_out_w(const ffqrt_conv2d_shape *s);
FFQRT_API size_t ffqrt_conv2d_pack_size(const ffqrt_conv2d_shape *s);
FFQRT_API ffqrt_status ffqrt_conv2d_pack(void *packed, const int8_t *w, const float *w_scale,
                                         const ffqrt_conv2d_shape *s);
// The workspace a call needs (bytes), for any context: a padded NHWC copy of the input,
// plus up to 64 column blocks of about 128 KB or, when there are few output pixels, the
// whole column matrix if it takes at most 2 MB.
FFQRT_API size_t ffqrt_conv2d_workspace_size(const ffqrt_conv2d_shape *s);
// Same output formulas as the linear layer; padding reads as the input zero point.
// Float input with a static per-tensor grid px (s8 or u8), dense in the layout s says: x is
// quantized onto px into the workspace (ffqrt_conv2d_static_workspace_size bytes), then
// convolved as ffqrt_conv2d_f32 (py == NULL; y is float*) or ffqrt_conv2d_q would. Same
// results as ffqrt_quantize followed by that call.
FFQRT_API size_t ffqrt_conv2d_static_workspace_size(const ffqrt_conv2d_shape *s);
FFQRT_API ffqrt_status ffqrt_conv2d_static(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                           const float *x, const ffqrt_qparam *px, const void *packed,
                                           const float *bias, const ffqrt_conv2d_shape *s, void *workspace);
FFQRT_API ffqrt_status ffqrt_conv2d_f32(const ffqrt_ctx *ctx, float *y, const void *x, const ffqrt_qparam *px,
                                        const void *packed, const float *bias, const ffqrt_conv2d_shape *s,
                                        void *workspace);
FFQRT_API ffqrt_status ffqrt_conv2d_q(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                      const void *x, const ffqrt_qparam *px, const void *packed,
                                      const float *bias, const ffqrt_conv2d_shape *s, void *workspace);

// ---------------------------------------------------------------------------------------
// Elementwise on int8 tensors of n elements:
//   fa = (float)(a - za) * sa;  fb = (float)(b - zb) * sb
//   add: q = quantize(fa + fb, sy, zy)    mul: q = quantize(fa * fb, sy, zy)
// relu: the clamp's lower bound becomes max(qmin, zy).
FFQRT_API ffqrt_status ffqrt_add(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                 const void *a, const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb,
                                 size_t n);
FFQRT_API ffqrt_status ffqrt_mul(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, int relu,
                                 const void *a, const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb,
                                 size_t n);
// Bytes in NHWC order ([n][hw][c]) to NCHW ([n][c][hw]); y and x do not overlap.
FFQRT_API ffqrt_status ffqrt_nhwc_to_nchw8(const ffqrt_ctx *ctx, void *y, const void *x, size_t n, size_t c,
                                           size_t hw);
// y[i] = table[x[i]] for n bytes (table: 256 bytes), e.g. a requantization or any unary
// op of an 8-bit operand onto an 8-bit grid, tabulated once. y may equal x.
FFQRT_API ffqrt_status ffqrt_lut8(const ffqrt_ctx *ctx, void *y, const void *x, const uint8_t *table,
                                  size_t n);
// y[p * inner + i] = tables[sel[p] * 256 + x[p * inner + i]] for `planes` planes of `inner`
// bytes: a byte table a plane, picked by the plane's selector byte (tables: 256 x 256
// bytes), e.g. an 8-bit tensor times one 8-bit value a channel onto an 8-bit grid, each
// product tabulated once. y may equal x.
FFQRT_API ffqrt_status ffqrt_lut8_planes(const ffqrt_ctx *ctx, void *y, const void *x, const uint8_t *tables,
                                         const uint8_t *sel, size_t planes, size_t inner);
// Per-channel byte tables, laid out as for ffqrt_lut_f32_channels: y[i] = tables[c * 256 +
// x[i]] with c the channel of element i (tables: channels x 256 bytes), e.g. a batch norm's
// float result quantized onto a grid, a function of the codes it was computed from. y may
// equal x.
FFQRT_API ffqrt_status ffqrt_lut8_channels(const ffqrt_ctx *ctx, void *y, const void *x,
                                           const uint8_t *tables, size_t outer, size_t channels,
                                           size_t inner);
// y[i] = table[x[i]] for n bytes and a table of 256 floats: a unary op with a float result
// of an 8-bit operand (its dequantized values through the op), tabulated once. y and x do
// not overlap.
FFQRT_API ffqrt_status ffqrt_lut_f32(const ffqrt_ctx *ctx, float *y, const void *x, const float *table,
                                     size_t n);

// Per-channel float tables: x holds outer x channels x inner bytes (NCHW: outer = n, inner =
// h * w; NHWC or [n, c]: outer = n * h * w, inner = 1), and y[i] = tables[c * 256 + x[i]]
// with c the channel of element i (tables: channels x 256 floats), e.g. a batch norm of an
// 8-bit operand, each channel's dequantized codes through its affine map, tabulated once.
// y and x do not overlap.
FFQRT_API ffqrt_status ffqrt_lut_f32_channels(const ffqrt_ctx *ctx, float *y, const void *x,
                                              const float *tables, size_t outer, size_t channels,
                                              size_t inner);

// Per-channel affine maps of int8 codes (px: FFQRT_S8), laid out as for
// ffqrt_lut_f32_channels: y[i] = fmaf((float)(x[i] - z) * s, a[c], b[c]) with c the channel of
// element i (s, z: px's scale and zero point): the dequantized value rounded once, then one
// fused multiply-add, e.g. a batch norm in eval mode of an 8-bit operand (a: the channel's
// scale, b: its shift), where torch's float kernel computes the same fused form.
FFQRT_API ffqrt_status ffqrt_affine_f32_channels(const ffqrt_ctx *ctx, float *y, const void *x,
                                                 const ffqrt_qparam *px, const float *a, const float *b,
                                                 size_t outer, size_t channels, size_t inner);

// Float activations of n float32 values: y[i] = act(x[i]), y may equal x. One so far:
//   FFQRT_ACT_GELU_TANH  x / (1 + exp(-2 sqrt(2/pi) (x + 0.044715 x^3))), the tanh GELU
//                        0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
// Accuracy against the exact function f: |y - f(x)| <= 2^-22 max(1, |x|) for every finite
// x, and a relative error below 2^-16 where |f(x)| >= 2^-100 (within 3 float steps for x >=
// 1; the relative error grows in the far negative tail, where the values are tiny); past x
// < -10 (|f(x)| < 2^-120) the result is -0. NaN gives NaN, +inf gives +inf, -inf gives -0.
// Every variant performs the same IEEE operations (the reference's): the same bits on every
// ISA and thread count.
enum { FFQRT_ACT_GELU_TANH = 0 };
FFQRT_API ffqrt_status ffqrt_act_f32(const ffqrt_ctx *ctx, float *y, const float *x, size_t n, int act);

// 2-D max pooling of float32, int8 or uint8 tensors (elem), NCHW or NHWC (layout), as
// torch's max_pool2d computes it: each window takes the positions inside the image (kernel
// kh x kw, stride sh x sw, padding ph x pw, dilation dh x dw); a float window with a NaN gives
// NaN. oh x ow: the output size (torch's formula, with ceil_mode or not); every window must
// start inside the padded image, (oh - 1) * sh < h + ph. Exact: it only picks elements (of
// quantized codes with a positive scale, the code of the maximum).
enum { FFQRT_POOL_F32 = 0, FFQRT_POOL_S8 = 1, FFQRT_POOL_U8 = 2 };
enum { FFQRT_POOL_NCHW = 0, FFQRT_POOL_NHWC = 1 };
typedef struct ffqrt_pool2d_shape {
    size_t n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
    int elem, layout;
    // average pooling only: the divisor override (0: none; at most 2^24), and whether the
    // divisor counts the padding
    size_t divisor;
    int count_include_pad;
} ffqrt_pool2d_shape;
FFQRT_API ffqrt_status ffqrt_max_pool2d(const ffqrt_ctx *ctx, void *y, const void *x,
                                        const ffqrt_pool2d_shape *s);
// 2-D average pooling of float32 tensors (elem FFQRT_POOL_F32, dilation 1), as torch's CPU
// avg_pool2d computes it, bit for bit: each window's elements inside the image summed in
// row-major order in float32, divided by the divisor (override, or the window's size within
// the padded image with count_include_pad, else the number of elements summed); a window
// with no element inside the image gives 0.
FFQRT_API ffqrt_status ffqrt_avg_pool2d(const ffqrt_ctx *ctx, float *y, const float *x,
                                        const ffqrt_pool2d_shape *s);

// Layer norm over the last dimension of rows x d codes (x: grid px), onto the grid py:
//   v = dequantize(x[r]); y[r] = quantize((v - mean(v)) / sqrt(var(v) + eps) * gamma + beta)
// (biased variance; gamma / beta: d floats each, or NULL for 1 / 0), with the moments taken
// exactly from the integer codes. d <= FFQRT_LAYER_NORM_MAX_D.
#define FFQRT_LAYER_NORM_MAX_D 524288u
FFQRT_API ffqrt_status ffqrt_layer_norm8(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, const void *x,
                                         const ffqrt_qparam *px, const float *gamma, const float *beta,
                                         float eps, size_t rows, size_t d);

// Softmax over the last dimension of rows x d codes (x: grid px), onto the grid py:
//   v = dequantize(x[r]); y[r] = quantize(exp(v - max v) / sum exp(v - max v))
// exp(v_j - max v) is exp(-sx * (cmax - c_j)), from a table of the 256 differences.
FFQRT_API ffqrt_status ffqrt_softmax8(const ffqrt_ctx *ctx, void *y, const ffqrt_qparam *py, const void *x,
                                      const ffqrt_qparam *px, size_t rows, size_t d);

// ---------------------------------------------------------------------------------------
// References (the specification). Same arguments as above, minus ctx; weights unpacked.
FFQRT_API ffqrt_status ffqrt_quantize_ref(void *q, const float *x, const ffqrt_grid *g, const float *scale,
                                          const int32_t *zero_point, int dtype);
FFQRT_API ffqrt_status ffqrt_dequantize_ref(float *x, const void *q, const ffqrt_grid *g, const float *scale,
                                            const int32_t *zero_point, int dtype);
FFQRT_API ffqrt_status ffqrt_fake_quantize_ref(float *y, const float *x, const ffqrt_grid *g,
                                               const float *scale, const int32_t *zero_point, int dtype);
FFQRT_API ffqrt_status ffqrt_quantize_float_ref(float *y, const float *x, const ffqrt_grid *g,
                                                const float *scale, const int32_t *zero_point, int dtype);
FFQRT_API ffqrt_status ffqrt_minmax_ref(float *min, float *max, const float *x, size_t n);
FFQRT_API ffqrt_status ffqrt_minmax_channel_ref(float *min, float *max, const float *x, size_t outer,
                                                size_t channels, size_t inner);
// w: n x k s8, row-major. py == NULL selects the f32 output (y is float*).
FFQRT_API ffqrt_status ffqrt_linear_ref(void *y, const ffqrt_qparam *py, int relu, const void *a,
                                        const ffqrt_qparam *pa, const int8_t *w, const float *w_scale,
                                        const float *bias, size_t m, size_t n, size_t k);
FFQRT_API ffqrt_status ffqrt_linear_dynamic_ref(float *y, const float *x, const int8_t *w,
                                                const float *w_scale, const float *bias, size_t m, size_t n,
                                                size_t k);
FFQRT_API ffqrt_status ffqrt_conv2d_ref(void *y, const ffqrt_qparam *py, int relu, const void *x,
                                        const ffqrt_qparam *px, const int8_t *w, const float *w_scale,
                                        const float *bias, const ffqrt_conv2d_shape *s);
// py == NULL selects the f32 output (y is float*).
FFQRT_API ffqrt_status ffqrt_matmul_ref(void *y, const ffqrt_qparam *py, int relu, const void *a,
                                        const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb,
                                        size_t batch, size_t m, size_t k, size_t n);
FFQRT_API ffqrt_status ffqrt_max_pool2d_ref(void *y, const void *x, const ffqrt_pool2d_shape *s);
FFQRT_API ffqrt_status ffqrt_avg_pool2d_ref(float *y, const float *x, const ffqrt_pool2d_shape *s);
FFQRT_API ffqrt_status ffqrt_act_f32_ref(float *y, const float *x, size_t n, int act);
FFQRT_API ffqrt_status ffqrt_add_ref(void *y, const ffqrt_qparam *py, int relu, const void *a,
                                     const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t n);
FFQRT_API ffqrt_status ffqrt_mul_ref(void *y, const ffqrt_qparam *py, int relu, const void *a,
                                     const ffqrt_qparam *pa, const void *b, const ffqrt_qparam *pb, size_t n);

#ifdef __cplusplus
}
#endif

#endif  // FFQRT_H
