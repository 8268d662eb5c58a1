// torchinfo.c: what ffq knows about torch (and a few other libraries)
// without reading their source: which callables return tensors, which
// classes are tensors, which modules FastForward quantizes by hand.
//
// Constant tables only. Type inference (types_expr.c, types_names.c) reads
// the return-type tables, plan.c the hand-quantized modules (§4.1, generated
// from optable/known_modules.txt), rewrite_candidates.c the bypassed callables.
#include "torchinfo.h"

#include <string.h>

#include "base.h"

bool torchinfo_in(const char *s, const char *const *list) {
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return true;
    return false;
}

// §4.1: the runtime ships quantized versions of these; a submodule of
// exactly this class gets no generated class (its children are still walked).
// The list is optable/known_modules.txt, compiled in by tools/known_modules.py.
bool torchinfo_is_hand_quantized(const char *name) { return torchinfo_in(name, ffq_known_modules); }

// Callables that run their argument or only check something: never candidates.
bool torchinfo_is_bypassed(const char *qualname) {
    static const char *const names[] = {
        "torch.utils.checkpoint.checkpoint", "torch.overrides.handle_torch_function",
        "torch.compiler.is_exporting", "torch._check_with", NULL,
    };
    return qualname && torchinfo_in(qualname, names);
}

// Libraries whose sources are never read for a type: what matters of them
// is in the tables below, and reading them (torch.backends, numpy, ...)
// costs more than it tells.
bool torchinfo_is_opaque_library(const char *q) {
    static const char *const roots[] = {"torch", "numpy", "math", "typing", "typing_extensions",
                                        "collections", "functools", "itertools", "warnings", "os",
                                        "sys", "re", "copy", "inspect", "abc", "dataclasses", "enum",
                                        "builtins", "operator", "logging", "einops", NULL};
    size_t n = strcspn(q, ".");
    for (const char *const *r = roots; *r; r++)
        if (strlen(*r) == n && memcmp(*r, q, n) == 0) return true;
    return false;
}

bool torchinfo_is_tensor_class(const char *q) {
    static const char *const names[] = {
        "torch.Tensor", "torch._tensor.Tensor", "torch.nn.Parameter", "torch.nn.parameter.Parameter",
        "torch.FloatTensor", "torch.LongTensor", "torch.IntTensor", "torch.BoolTensor",
        "torch.HalfTensor", "torch.DoubleTensor", "torch.ByteTensor", "torch.cuda.FloatTensor",
        "torch.nn.parameter.Buffer", "torch.nn.Buffer", "torch._C.TensorBase", "torch._C._TensorBase",
        "torch.nn.parameter.UninitializedParameter", NULL,
    };
    return torchinfo_in(q, names);
}

bool torchinfo_is_dtype(const char *q) {
    static const char *const names[] = {
        "float", "float32", "float16", "float64", "half", "double", "bfloat16", "int", "int8",
        "int16", "int32", "int64", "long", "short", "uint8", "bool", "complex64", "complex128",
        "cfloat", "cdouble", NULL,
    };
    const char *name = str_after_prefix(q, "torch.");
    return name && torchinfo_in(name, names);
}

// torch functions (torch.<name>) that return a tensor
const char *const torchinfo_tensor_fns[] = {
    "zeros", "ones", "empty", "full", "arange", "range", "tensor", "as_tensor", "from_numpy",
    "randn", "rand", "randint", "randperm", "randn_like", "rand_like", "randint_like", "zeros_like",
    "ones_like", "empty_like", "full_like", "linspace", "logspace", "eye", "cat", "concat",
    "concatenate", "stack", "hstack", "vstack", "dstack", "where", "matmul", "mm", "bmm", "einsum",
    "flatten", "reshape", "transpose", "permute", "squeeze", "unsqueeze", "exp", "log", "abs",
    "sqrt", "rsqrt", "sigmoid", "tanh", "relu", "softmax", "log_softmax", "sum", "mean", "clamp",
    "clip", "tril", "triu", "cumsum", "cumprod", "gather", "masked_fill", "flip", "roll",
    "bucketize", "multinomial", "argmax", "argmin", "norm", "erf", "sin", "cos", "pow", "add", "sub",
    "mul", "div", "maximum", "minimum", "outer", "diag", "baddbmm", "addmm", "atan2", "floor",
    "ceil", "round", "sign", "nonzero", "neg", "negative", "reciprocal", "square", "amax", "amin",
    "logsumexp", "prod", "std", "var", "index_select", "narrow", "select", "repeat_interleave",
    "tile", "broadcast_to", "expand_copy", "zeros_like", "scatter", "scatter_add", "index_add",
    "gelu", "conv1d", "conv2d", "conv3d", "layer_norm", "group_norm", "batch_norm", "dropout",
    "lerp", "cdist", "dist", "logical_and", "logical_or", "logical_not", "eq", "ne", "lt", "le",
    "gt", "ge", "isnan", "isinf", "isfinite", "cummax", "tensordot", "kron", "cross", "matrix_exp",
    "trace", "searchsorted", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "floor_divide", "remainder", "fmod", "true_divide", "clamp_min", "clamp_max", "addcmul",
    "addcdiv", "erfinv", "expm1", "log1p", "log2", "log10", "sinh", "cosh", "atan", "asin", "acos",
    "deg2rad", "rad2deg", "hypot", "diagonal", "diag_embed", "block_diag", "cartesian_prod",
    "combinations", "fft", "view_as_real", "view_as_complex", "polar", "complex", "real", "imag",
    "angle", "conj", "adaptive_avg_pool1d", "avg_pool1d", "max_pool1d", "max_pool2d", "embedding",
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_layer_norm", "instance_norm",
    "bilinear", "threshold", "hardtanh", "prelu", "rrelu", "selu", "celu", "softplus", "logit",
    "masked_select", "take", "take_along_dim", "unique_consecutive", "count_nonzero", "frac",
    "trunc", "fix", "heaviside", "inner", "vdot", "dot", "mv", "ger", "chain_matmul", "t", "any",
    "all", "clone", "detach", "quantile", "nanquantile", "median", "nanmean", "nansum",
    "movedim", "moveaxis", "swapaxes", "swapdims", "flipud", "fliplr", "rot90", "unflatten",
    "atleast_1d", "atleast_2d", "atleast_3d", "sort_values", "cov", "corrcoef", "histc",
    "bincount", "tril_indices", "triu_indices", "scalar_tensor", "empty_strided", "full",
    "normal", "poisson", "bernoulli", "sigmoid_", "relu_", "argsort", "msort", "diff",
    NULL,
};

const char *const torchinfo_tuple_fns[] = {  // -> tuple[Tensor, ...]
    "split", "chunk", "unbind", "meshgrid", "tensor_split", "hsplit", "vsplit", "dsplit",
    "broadcast_tensors", "split_with_sizes", "atleast_1d", NULL,
};

const char *const torchinfo_bool_fns[] = {
    "is_tensor", "is_floating_point", "is_complex", "is_grad_enabled", "is_storage",
    "is_nonzero", "equal", "allclose", "is_inference_mode_enabled", "are_deterministic_algorithms_enabled",
    "is_autocast_enabled", "is_same_size", NULL,
};

// tensor methods that return a tensor
const char *const torchinfo_tensor_methods[] = {
    "view", "view_as", "reshape", "reshape_as", "permute", "transpose", "t", "contiguous",
    "flatten", "unflatten", "unsqueeze", "squeeze", "clone", "detach", "to", "float", "half",
    "double", "bfloat16", "int", "long", "bool", "byte", "char", "short", "cuda", "cpu", "type_as",
    "expand", "expand_as", "repeat", "repeat_interleave", "narrow", "select", "index_select",
    "gather", "scatter", "scatter_", "scatter_add", "scatter_add_", "masked_fill", "masked_fill_",
    "exp", "log", "abs", "sqrt", "rsqrt", "sum", "mean", "std", "var", "prod", "softmax",
    "log_softmax", "relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "neg", "pow", "add",
    "sub", "mul", "div", "matmul", "mm", "bmm", "clamp", "clamp_", "clip", "clamp_min", "clamp_max",
    "round", "floor", "ceil", "sign", "norm", "cumsum", "cumprod", "flip", "roll", "new_zeros",
    "new_ones", "new_empty", "new_full", "new_tensor", "zero_", "fill_", "add_", "mul_", "sub_",
    "div_", "copy_", "normal_", "uniform_", "sin", "cos", "argmax", "argmin", "any", "all", "eq",
    "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and", "logical_or", "nonzero", "tril",
    "triu", "diagonal", "diag", "masked_select", "where", "erf", "reciprocal", "square", "amax",
    "amin", "logsumexp", "requires_grad_", "pin_memory", "softplus", "exp_", "log_", "abs_",
    "sqrt_", "pow_", "floor_divide", "remainder", "fmod", "index_add", "index_add_", "index_copy",
    "index_fill", "index_fill_", "put_", "masked_scatter", "lerp", "addmm", "baddbmm", "addcmul",
    "addcdiv", "outer", "dot", "mv", "expm1", "log1p", "log2", "log10", "sinh", "cosh", "atan",
    "asin", "acos", "trunc", "frac", "neg_", "reciprocal_", "float_power", "true_divide",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "movedim", "swapaxes", "unfold",
    "as_strided", "type", "detach_", "isnan", "isinf", "isfinite", "argsort", "bernoulli_",
    "clamp_max_", "clamp_min_", "sign_", "nan_to_num", "maximum", "minimum", "cumsum_",
    "logit", "erfinv", "gelu", "hardtanh", "squeeze_", "unsqueeze_", "t_", "transpose_",
    "resize_", "resize_as_", "set_", "sort_values", "median", "nansum", "nanmean", "mode_values",
    "count_nonzero", "flipud", "fliplr", "rot90", "tile", "broadcast_to", "T", NULL,
};

const char *const torchinfo_tensor_int_methods[] = {  // -> int
    "dim", "ndimension", "numel", "nelement", "element_size", "get_device", "__len__",
    "data_ptr", "storage_offset", NULL,
};

const char *const torchinfo_tensor_bool_methods[] = {
    "is_contiguous", "is_floating_point", "is_complex", "equal", "allclose", "is_pinned",
    "is_set_to", "is_shared", "is_signed", "is_nonzero", NULL,
};

const char *const torchinfo_tensor_tuple_methods[] = {"split", "chunk", "unbind", "tensor_split", NULL};

const char *const torchinfo_math_float_fns[] = {
    "sqrt", "log", "log2", "log10", "log1p", "exp", "expm1", "cos", "sin", "tan", "acos", "asin",
    "atan", "atan2", "cosh", "sinh", "tanh", "pow", "fabs", "hypot", "erf", "erfc", "gamma",
    "lgamma", "radians", "degrees", "fmod", "copysign", "fsum", "dist", "cbrt", "exp2", NULL,
};
const char *const torchinfo_math_int_fns[] = {"floor", "ceil", "trunc", "gcd", "lcm", "factorial",
                                            "comb", "perm", "isqrt", NULL};
const char *const torchinfo_math_bool_fns[] = {"isclose", "isnan", "isinf", "isfinite", NULL};
