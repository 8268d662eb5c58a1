"""Conformance of fastforward's core with runtime-spec.md sections 1 to 5 (package layout,
QuantizedTensor, quantization functions, quantizers, range setting): corners the larger
suites did not reach (other dtypes, empty tensors, inference mode, bit widths, views).

    python3 tests/python/test_spec_core.py      # plain runner (torch 1.13 too)
    python3 -m pytest -q tests/python/test_spec_core.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward.exceptions import QuantizationError  # noqa: E402
from fastforward.nn import LinearQuantizer  # noqa: E402
from fastforward.quantization import affine  # noqa: E402
from fastforward.quantization.function import QuantizationFunction  # noqa: E402
from fastforward.quantized_tensor import QuantizedTensor  # noqa: E402
from fastforward.range_setting import MinErrorGridRangeEstimator, RunningMinMaxRangeEstimator  # noqa: E402
from plain_runner import isolation, run  # noqa: E402

setup_function, teardown_function = isolation(strict=True)


def raises(exc, fn, *words):
    try:
        fn()
    except exc as e:
        for word in words:
            assert word in str(e), (word, str(e))
        return e
    raise AssertionError("%s not raised" % exc.__name__)


class _Scaled(QuantizationFunction):
    """A legacy-style function (no kernels of its own registered)."""

    @staticmethod
    def quantize(data, scale):
        return torch.round(data / scale)

    @staticmethod
    def dequantize(raw, scale):
        return raw * scale


def test_range_estimation_of_float16_data_per_tensor():
    # torch 1.13 has no aminmax kernel for float16 on the CPU: per-tensor range estimation
    # (min-max and the grid search, whose first step takes the same min and max) of a
    # float16 activation raised RuntimeError there.
    x = torch.linspace(-2.0, 3.0, 24).reshape(4, 6)
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        for estimator in (RunningMinMaxRangeEstimator, MinErrorGridRangeEstimator):
            q = LinearQuantizer(8, symmetric=False)
            with ff.estimate_ranges(q, estimator):
                out = q(x.to(dtype))
            assert isinstance(out, QuantizedTensor) and out.dtype == dtype
            lo, hi = q.quantization_range
            assert lo.shape == (1,) and hi.shape == (1,)
            if estimator is RunningMinMaxRangeEstimator:
                assert torch.allclose(lo, torch.tensor([-2.0]), atol=1e-5), (dtype, lo)
                assert torch.allclose(hi, torch.tensor([3.0]), atol=1e-5), (dtype, hi)


def test_same_shape_view_with_an_inferred_size_stays_quantized():
    # view/view_as that keep the shape work for any quantization function (spec 2.3); a
    # shape spelt with -1 (`x.view(n, -1)`, `x.view(-1)` of a vector) is the same shape, but
    # only literal sizes were recognised: strict quantization refused it as a dequantization.
    q = _Scaled.apply(torch.randn(3, 4), 0.1)
    for shape in ((3, -1), (-1, 4), ((3, -1),), (torch.Size([3, 4]),)):
        out = q.view(*shape)
        assert isinstance(out, QuantizedTensor) and out.shape == (3, 4), shape
        assert out.quantization_context is q.quantization_context
        assert torch.equal(out.dequantize(), q.dequantize())
    vector = _Scaled.apply(torch.randn(5), 0.1)
    assert isinstance(vector.view(-1), QuantizedTensor)
    assert isinstance(_Scaled.apply(torch.randn(0, 4), 0.1).view(-1, 4), QuantizedTensor)
    # other shapes are no same-shape views: the strict rules apply
    for shape in ((-1,), (12,), (4, 3), (2, -1)):
        raises(QuantizationError, lambda s=shape: q.view(*s), "view")
    raises(QuantizationError, lambda: q.view(torch.float32))


def test_parameter_count_of_empty_data():
    # PerChannel's parameter count is the product of the channel sizes (spec 3.5), also for
    # an empty tensor; it came out as 1 (numel / tile numel with 0 / 0), so calibrating a
    # per-channel quantizer whose first batch was empty sized its statistics for one channel
    # and the next batch failed with a tile-count mismatch.
    assert ff.PerChannel(1).parameter_dimensionality(torch.Size([0, 5])) == 5
    assert ff.PerChannel(-1).parameter_dimensionality(torch.Size([2, 0, 5])) == 5
    assert ff.PerChannel(0).parameter_dimensionality(torch.Size([0, 5])) == 0
    assert ff.PerChannel((0, 2)).parameter_dimensionality(torch.Size([3, 0, 2])) == 6
    assert ff.PerTensor().parameter_dimensionality(torch.Size([0, 5])) == 1
    assert ff.PerChannel(0).parameter_dimensionality(torch.Size([3, 5])) == 3
    assert ff.PerBlock(1, 4, 0).parameter_dimensionality(torch.Size([3, 8])) == 6
    assert ff.PerTile((2, 4)).parameter_dimensionality(torch.Size([4, 8])) == 4
    q = LinearQuantizer(8, symmetric=False, granularity=ff.PerChannel(1))
    x = torch.tensor([[-1.0, 2.0, 0.5], [3.0, -4.0, 1.5]])
    with ff.estimate_ranges(q, RunningMinMaxRangeEstimator):
        empty = q(torch.zeros(0, 3))
        q(x)
    assert isinstance(empty, torch.Tensor) and empty.shape == (0, 3)
    lo, hi = q.quantization_range
    assert torch.allclose(lo, torch.tensor([-1.0, -4.0, 0.5]), atol=1e-5), lo
    assert torch.allclose(hi, torch.tensor([3.0, 2.0, 1.5]), atol=1e-5), hi


def test_bit_widths_are_limited_by_the_storage_dtype():
    # Spec 3.4: the storage dtype must hold b-bit integers exactly (float32: 25 bits, float64
    # 54, bfloat16 9, float16 12, int16 16), else a RuntimeError naming dtype and width. Every
    # width above 16 was a ValueError before the storage was looked at.
    x = torch.linspace(-1.0, 1.0, 101)
    for bits, dtype, output_dtype in ((17, torch.float32, None), (24, torch.float32, None),
                                      (25, torch.float32, None), (32, torch.float32, torch.int32),
                                      (40, torch.float64, None), (54, torch.float64, None)):
        scale = 2.0 ** -(bits - 2)
        q = affine.quantize_per_tensor(x.to(dtype), scale, None, num_bits=bits, output_dtype=output_dtype)
        assert q.dtype == (output_dtype or dtype), (bits, q.dtype)
        expected = torch.round(x.to(torch.float64) / scale).clamp(-(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1)
        assert torch.equal(q.raw_data.to(torch.float64), expected), bits
        assert torch.allclose(q.dequantize().double(), x.double(), atol=scale), bits
    for bits, dtype, output_dtype in ((26, torch.float32, None), (55, torch.float64, None),
                                      (10, torch.float32, torch.bfloat16), (13, torch.float32, torch.float16),
                                      (17, torch.float32, torch.int16)):
        raises(RuntimeError, lambda: affine.quantize_per_tensor(x.to(dtype), 0.01, None, num_bits=bits,
                                                                output_dtype=output_dtype),
               str(output_dtype or dtype), str(bits))
    # a quantizer of a wide grid: range setting, quantization and its gradients
    q = LinearQuantizer(20, symmetric=False)
    with ff.estimate_ranges(q, RunningMinMaxRangeEstimator):
        q(x)
    data = x.clone().requires_grad_(True)
    out = q(data)
    assert (out.dequantize() - x).abs().max() <= q.scale.detach() / 2 + 1e-7
    assert out.raw_data.min() == -(2 ** 19) and out.raw_data.max() == 2 ** 19 - 1
    out.dequantize().sum().backward()
    # straight through inside the range (an end point may round one step off the grid: clipped)
    assert q.scale.grad is not None and torch.equal(data.grad[1:-1], torch.ones(99))
    assert affine.dynamic.quantize_per_tensor(x, num_bits=20).raw_data.max() == 2 ** 19 - 1
    raises(ValueError, lambda: LinearQuantizer(65), "num_bits")
    raises(ValueError, lambda: LinearQuantizer(1), "num_bits")


def test_float8_storage_dequantizes_and_unsigned_storage_is_refused():
    # Spec 3.4: a float8 storage dtype holds up to 5 (e4m3) / 4 (e5m2) bit grids; such a
    # tensor quantized, but dequantizing it raised ("Promotion for Float8 Types is not
    # supported"). And uint8 passed the check (8 bits >= 8) though the signed grid's
    # negative half wrapped around: values came back off by 256 steps, silently.
    x = torch.linspace(-1.0, 1.0, 41)
    f8 = [(getattr(torch, name), bits) for name, bits in (("float8_e4m3fn", 5), ("float8_e5m2", 4))
          if hasattr(torch, name)]
    for dtype, bits in f8:
        for offset in (None, torch.tensor(1.0)):
            q = affine.quantize_per_tensor(x, 0.125, offset, num_bits=bits, output_dtype=dtype)
            want = affine.quantize_per_tensor(x, 0.125, offset, num_bits=bits)
            assert q.dtype == dtype and torch.equal(q.raw_data.float(), want.raw_data)
            assert q.dequantize().dtype == torch.float32 and torch.equal(q.dequantize(), want.dequantize())
        qc = affine.quantize_per_channel(x.reshape(41, 1), torch.full((41,), 0.125), None, axis=0, num_bits=bits,
                                         output_dtype=dtype)
        plain = affine.quantize_per_tensor(x, 0.125, None, num_bits=bits)
        assert torch.equal(qc.dequantize().reshape(41), plain.dequantize())
        quantizer = LinearQuantizer(bits, symmetric=False, quantized_dtype=dtype)
        quantizer.quantization_range = (-1.0, 1.0)
        assert quantizer(x).dtype == dtype and (quantizer(x).dequantize() - x).abs().max() <= quantizer.scale.item()
    for bits in (2, 4, 8):
        raises(RuntimeError, lambda: affine.quantize_per_tensor(x, 0.125, None, num_bits=bits, output_dtype=torch.uint8),
               "torch.uint8", "signed")
    q8 = affine.quantize_per_tensor(x, 0.125, None, num_bits=8, output_dtype=torch.int8)  # signed: fine
    assert torch.allclose(q8.dequantize(), x, atol=0.0625)


def test_range_set_under_inference_mode_gives_ordinary_parameters():
    # The first range assignment materialises the lazy scale / offset; under inference_mode
    # they became inference tensors, and the quantizer could not be trained afterwards
    # ("Inference tensors cannot be saved for backward").
    for symmetric in (True, False):
        q = LinearQuantizer(8, symmetric=symmetric)
        with torch.inference_mode():
            q.quantization_range = (-1.0, 2.0)
            inside = q(torch.randn(4))
        assert isinstance(inside, QuantizedTensor)
        assert not q.scale.is_inference() and not q.offset.is_inference()
        assert isinstance(q.scale, torch.nn.Parameter) and q.scale.requires_grad
        data = torch.randn(6, requires_grad=True)
        q(data).dequantize().sum().backward()
        assert q.scale.grad is not None and data.grad is not None
        assert (q.offset.grad is None) == symmetric
    q = LinearQuantizer(8, granularity=ff.PerChannel(0))
    with torch.inference_mode(), ff.estimate_ranges(q, RunningMinMaxRangeEstimator):
        q(torch.randn(3, 4))
    assert not q.scale.is_inference() and q.scale.shape == (3,)
    q(torch.randn(3, 4, requires_grad=True)).dequantize().sum().backward()
    assert q.scale.grad.shape == (3,)


def test_functional_exports_its_hand_written_ops():
    # Spec 1.2: fastforward.nn.functional's public names include scaled_dot_product_attention
    # and sdpa_upcast; the star import left sdpa_upcast out.
    import fastforward.nn.functional as F

    namespace = {}
    exec("from fastforward.nn.functional import *", namespace)
    for name in ("scaled_dot_product_attention", "sdpa_upcast", "linear", "relu"):
        assert name in F.__all__ and namespace[name] is getattr(F, name), name
    assert F.__all__.count("scaled_dot_product_attention") == 1


def test_deepcopy_of_a_leaf_that_requires_grad():
    # copy.deepcopy works for graph leaves (runtime-spec 2.2), tested on the raw_data view;
    # for a leaf QuantizedTensor that requires grad that view is an alias node, not a leaf,
    # so deepcopy refused exactly the tensors it is meant for (a QuantizedTensor being
    # trained as a leaf, e.g. kept in a module's state).
    import copy

    for make in (lambda: affine.quantize_per_tensor(torch.randn(5), torch.tensor(0.1)),
                 lambda: _Scaled.apply(torch.randn(5), torch.tensor(0.1))):
        leaf = make().detach().requires_grad_()
        assert leaf.is_leaf and leaf.requires_grad
        twin = copy.deepcopy(leaf)
        assert isinstance(twin, QuantizedTensor) and twin.is_leaf and twin.requires_grad
        assert twin.data_ptr() != leaf.data_ptr() and torch.equal(twin.dequantize(), leaf.dequantize())
        assert type(twin.quant_func) is type(leaf.quant_func)
        twin.dequantize().sum().backward()
        assert torch.equal(twin.grad, torch.ones(5)) and leaf.grad is None
        plain = copy.deepcopy(make())
        assert plain.is_leaf and not plain.requires_grad
        copies = copy.deepcopy([leaf, leaf])
        assert copies[0] is copies[1]
        x = torch.randn(5, requires_grad=True)
        raises(RuntimeError, lambda: copy.deepcopy(affine.quantize_per_tensor(x, torch.tensor(0.1))), "leaves")


def test_static_quantization_of_integer_tensors():
    # Runtime-spec 3.4: number scale / offset arguments become tensors of the input's float
    # dtype, "or the default dtype for integer inputs": static quantization takes integer
    # tensors (values computed in the scale's float dtype, grid values stored in the input's
    # dtype, dequantized to it). They were refused with a TypeError.
    x = torch.arange(-6, 6)
    q = affine.quantize_per_tensor(x, 0.5)
    assert isinstance(q, QuantizedTensor) and q.dtype == torch.int64
    assert q.quant_args().scale.dtype == torch.get_default_dtype()
    assert q.quant_args().dequantize_dtype == torch.int64
    assert torch.equal(q.raw_data, x * 2)
    assert torch.equal(q.dequantize(), x)
    q = affine.quantize_per_tensor(x, 2.0, 1.0)
    assert q.quant_args().offset.dtype == torch.get_default_dtype()
    expected = torch.clamp(torch.round(x.double() / 2.0 - 1.0), -128, 127)
    assert torch.equal(q.raw_data, expected.long())
    assert torch.equal(q.dequantize(), ((expected + 1.0) * 2.0).long())
    # tensor parameters are used as given: a float64 scale computes in float64
    q = affine.quantize_per_tensor(x.to(torch.int32), torch.tensor(0.25, dtype=torch.float64), None, num_bits=6)
    assert q.dtype == torch.int32 and q.quant_args().scale.dtype == torch.float64
    assert torch.equal(q.raw_data, torch.clamp(x * 4, -32, 31).to(torch.int32))
    q = affine.quantize_per_channel(torch.arange(12).reshape(3, 4), torch.tensor([1.0, 2.0, 4.0, 8.0]))
    assert torch.equal(q.raw_data, torch.round(torch.arange(12.0).reshape(3, 4) / torch.tensor([1.0, 2.0, 4.0, 8.0])).long())
    assert q.dequantize().dtype == torch.int64
    q = affine.quantize_per_tensor(x.to(torch.int16), 1.0, None, output_dtype=torch.float32)
    assert q.dtype == torch.float32 and q.dequantize().dtype == torch.int16
    assert torch.equal(q.dequantize(), x.to(torch.int16))
    # integer storage carries no gradient (spec 3.4)
    scale = torch.tensor(0.5, requires_grad=True)
    assert not affine.quantize_per_tensor(x, scale).requires_grad
    q = LinearQuantizer(8)
    q.quantization_range = (-4.0, 3.96875)  # scale 1/32
    assert torch.equal(q.quantize(x).raw_data, torch.clamp(x * 32, -128, 127))
    assert torch.equal(q.quantize(x).dequantize(), torch.clamp(x, -4, 3))
    assert q(x) is x  # calling a quantizer passes integer tensors (position ids) on
    assert affine.quantize_per_tensor(torch.zeros(0, dtype=torch.int32), 0.5).dtype == torch.int32
    # the storage check and the refusals that stay
    raises(RuntimeError, lambda: affine.quantize_per_tensor(x.to(torch.int8), 0.5, None, num_bits=9), "torch.int8", "9")
    raises(TypeError, lambda: affine.quantize_per_tensor(torch.ones(2, dtype=torch.bool), 0.5), "torch.bool")
    raises(TypeError, lambda: q.quantize(torch.ones(2, dtype=torch.bool)), "torch.bool")
    raises(TypeError, lambda: affine.dynamic.quantize_per_tensor(x), "torch.int64")


def test_dynamic_parameter_inference_is_followed_by_static_quantization():
    # Runtime-spec 3.4: with parameter_inference_fn the function's (scale, offset) are used
    # and static quantization follows, its gradients included (the plain pass-through is the
    # min/max branch's). The data's gradient passed through everywhere, clipped values too,
    # and a scale the function computed with autograd got no gradient.
    from fastforward.nn import DynamicLinearQuantizer

    learnable = torch.tensor([0.1], requires_grad=True)
    seen = []

    def infer(params, data):
        seen.append((params.num_bits, tuple(data.shape)))
        return learnable * 1.0, None

    x = torch.tensor([-20.0, -1.26, 0.0, 0.5, 12.7, 30.0], requires_grad=True)
    q = DynamicLinearQuantizer(8, parameter_inference_fn=infer)
    out = q(x)
    assert seen == [(8, (6,))]
    assert isinstance(out.quant_args(), affine.StaticAffineQuantParams) and out.quant_args().offset is None
    expected = torch.clamp(torch.round(x.detach() / 0.1), -128, 127)
    assert torch.equal(out.raw_data, expected)
    out.dequantize().sum().backward()
    assert torch.equal(x.grad, torch.tensor([0.0, 1.0, 1.0, 1.0, 1.0, 0.0]))
    assert learnable.grad is not None and learnable.grad.shape == (1,)
    ref_scale = torch.tensor(0.1, requires_grad=True)
    affine.quantize_per_tensor(x.detach(), ref_scale, None).dequantize().sum().backward()
    assert torch.allclose(learnable.grad[0], ref_scale.grad)
    # the function's offset is used as given (rounded at use, not replaced by zeros)
    p = affine.DynamicAffineQuantParams(8, ff.PerTensor(), parameter_inference_fn=lambda params, data: (
        torch.tensor([0.5]), torch.tensor([2.4])))
    out = affine.AffineQuantizationFunction.quantize(torch.tensor([1.0, -3.0]), p)
    assert torch.equal(out.quant_args().offset, torch.tensor([2.4]))
    assert torch.equal(out.raw_data, torch.tensor([0.0, -8.0]))
    assert torch.equal(out.dequantize(), torch.tensor([1.0, -3.0]))
    # without a function: parameters from the data, gradient passed straight through
    x.grad = None
    DynamicLinearQuantizer(2)(x).dequantize().sum().backward()
    assert torch.equal(x.grad, torch.ones(6))


def test_quantizer_metadata_compares_by_tags_shape_and_attributes():
    # QuantizerMetadata had no __eq__: two built from the same arguments were unequal, so a
    # slot's metadata could not be compared with the one it was declared with.
    from fastforward.nn import QuantizedLinear, QuantizerMetadata

    weight = QuantizerMetadata(weight_quantizer=True, shape=(4, 3))
    assert weight == QuantizerMetadata("parameter/weight", shape=torch.Size([4, 3]))
    assert QuantizedLinear(3, 4).weight_quantizer.quant_metadata == weight
    assert QuantizerMetadata(weight_quantizer=True) == QuantizerMetadata("parameter", "parameter/weight")
    for other in (QuantizerMetadata(weight_quantizer=True, shape=(3, 4)), QuantizerMetadata(bias_quantizer=True, shape=(4, 3)),
                  QuantizerMetadata(weight_quantizer=True, shape=(4, 3), group=2), QuantizerMetadata("parameter", shape=(4, 3))):
        assert weight != other and not weight == other
    assert QuantizerMetadata(weight_quantizer=True, group=2) == QuantizerMetadata(weight_quantizer=True, group=2)
    assert weight != "parameter/weight"
    grown = QuantizerMetadata(weight_quantizer=True, shape=(4, 3))
    grown.add_tag("custom/tag")
    assert grown != weight and weight.is_extension(grown)


def test_a_format_spec_formats_the_value_of_a_zero_dim_quantized_tensor():
    # __format__ ran on the raw storage, where torch formats only an exact torch.Tensor's
    # value, so f"{x:.2f}" raised TypeError for a 0-d QuantizedTensor also without strict
    # quantization; it is an implicit dequantization like any other op.
    x = affine.quantize_per_tensor(torch.tensor(0.31), 0.1)
    with ff.strict_quantization(False):
        assert f"{x:.2f}" == "0.30" and format(x, ">7.3f") == "  0.300"
        assert f"{x}" == repr(x)
    assert f"{x}" == repr(x)  # the repr needs no dequantization
    try:
        f"{x:.2f}"
    except QuantizationError:
        pass
    else:
        raise AssertionError("formatting the value dequantizes: strict quantization forbids it")
    with ff.strict_quantization(False):
        try:
            f"{affine.quantize_per_tensor(torch.randn(3), 0.1):.2f}"
        except TypeError:
            pass  # as for a plain tensor of more than one element
        else:
            raise AssertionError("only a 0-d tensor has a formatted value")


def test_linear_quantizer_parameters_take_the_default_dtype_unless_given_one():
    # param_dtype=None made float32 parameters whatever torch's default dtype was; a
    # quantizer made under torch.set_default_dtype(torch.float64) (double-precision
    # training, gradcheck) now gets float64 ones, as a torch layer's weight does.
    previous = torch.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        for quantizer in (LinearQuantizer(8), LinearQuantizer(8, symmetric=False)):
            quantizer.quantization_range = (-1.0, 1.0)
            assert quantizer.scale.dtype == torch.float64 and quantizer.offset.dtype == torch.float64
            x = torch.randn(5, requires_grad=True)
            quantizer(x).dequantize().sum().backward()
            assert quantizer.scale.grad.dtype == torch.float64
            quantizer.reset_parameters()
            assert quantizer.scale.dtype == torch.float64
        explicit = LinearQuantizer(8, param_dtype=torch.float32)
    finally:
        torch.set_default_dtype(previous)
    explicit.quantization_range = (-1.0, 1.0)
    assert explicit.scale.dtype == torch.float32
    made_later = LinearQuantizer(8)  # the default when it was made, not when its range is set
    made_later.quantization_range = (-1.0, 1.0)
    assert made_later.scale.dtype == previous


def test_abstract_affine_quantizer_is_abstract():
    # Runtime-spec 4.3: quantization_function (a property) and quantization_parameters() are
    # abstract in AbstractAffineQuantizer; it could be instantiated and failed only when
    # used. A subclass that provides both works as a quantizer.
    from fastforward.nn.linear_quantizer import AbstractAffineQuantizer

    raises(TypeError, lambda: AbstractAffineQuantizer(8), "quantization_function", "quantization_parameters")

    class Half(AbstractAffineQuantizer):
        @property
        def quantization_function(self):
            return affine.AffineQuantizationFunction

        def quantization_parameters(self):
            return affine.StaticAffineQuantParams(torch.tensor(0.5), None, self.num_bits, self.granularity)

    class MissingParameters(AbstractAffineQuantizer):
        quantization_function = affine.AffineQuantizationFunction

    raises(TypeError, lambda: MissingParameters(8), "quantization_parameters")
    q = Half(4, granularity=ff.PerTensor())
    assert (q.num_bits, q.per_tensor, q.integer_minimum, q.integer_maximum) == (4, True, -8, 7)
    assert q.quantization_context().quantization_fn is affine.AffineQuantizationFunction
    out = q(torch.tensor([0.3, -9.0, 1.0]))
    assert torch.equal(out.raw_data, torch.tensor([1.0, -8.0, 2.0]))
    assert "num_bits=4" in repr(q) and "granularity=PerTensor()" in repr(q)
    for cls in (LinearQuantizer, ff.nn.DynamicLinearQuantizer):
        assert isinstance(cls(8), AbstractAffineQuantizer)


def test_generic_bases_take_their_parameters_type():
    # Runtime-spec 3.2 / 4.3: QuantizationContext and QuantizationFunction are Generic (and
    # FF's affine quantizers subclass AbstractAffineQuantizer[<params>]): subscripting them,
    # in an annotation evaluated at run time or as a base class, was a TypeError.
    from fastforward.nn.linear_quantizer import AbstractAffineQuantizer
    from fastforward.quantization.function import QuantizationContext

    params_type = affine.StaticAffineQuantParams
    for cls in (QuantizationContext, QuantizationFunction, AbstractAffineQuantizer,
                ff.range_setting.RangeEstimator):
        assert cls[params_type] is not None, cls

    class Halving(QuantizationFunction[dict]):
        @staticmethod
        def quantize(data, scale):
            return torch.round(data / scale)

        @staticmethod
        def dequantize(raw, scale):
            return raw * scale

    out = Halving.apply(torch.tensor([1.0, -0.75]), scale=0.5)
    assert torch.equal(out.raw_data, torch.tensor([2.0, -2.0])) and out.quant_func is Halving
    raises(TypeError, Halving)

    class Fixed(AbstractAffineQuantizer[affine.StaticAffineQuantParams]):
        @property
        def quantization_function(self):
            return affine.AffineQuantizationFunction

        def quantization_parameters(self) -> params_type:
            return params_type(torch.tensor(0.25), None, self.num_bits, self.granularity)

    q = Fixed(8)
    assert torch.equal(q(torch.tensor([0.5, 1.0])).raw_data, torch.tensor([2.0, 4.0]))
    context: QuantizationContext[params_type] = q.quantization_context()
    assert context.quantization_params.num_bits == 8


def test_empty_input_stays_on_the_autograd_graph():
    # An empty tensor quantizes to an empty QuantizedTensor; one that requires grad came out
    # detached (quantize and dequantize made fresh empty tensors), so a loss over a batch
    # that happened to be empty could not be back-propagated ("element 0 of tensors does not
    # require grad").
    for symmetric in (True, False):
        q = LinearQuantizer(8, symmetric=symmetric, granularity=ff.PerChannel(1))
        q.quantization_range = (torch.tensor([-1.0, -2.0, -3.0]), torch.tensor([1.0, 2.0, 3.0]))
        for dtype in (torch.float32, torch.float16, torch.float64):
            x = torch.zeros(0, 3, dtype=dtype, requires_grad=True)
            out = q(x)
            assert isinstance(out, QuantizedTensor) and out.shape == (0, 3) and out.requires_grad
            value = out.dequantize()
            assert value.dtype == dtype and value.shape == (0, 3) and value.requires_grad
            (value.sum() + (x * 0).sum()).backward()
            assert x.grad is not None and x.grad.shape == (0, 3) and x.grad.dtype == dtype
        assert not q(torch.zeros(0, 3)).requires_grad
    legacy = _Scaled.apply(torch.zeros(0, 2, requires_grad=True), 0.5)
    assert legacy.shape == (0, 2)
    with torch.no_grad():
        assert not affine.quantize_per_tensor(torch.zeros(0, requires_grad=True), 0.1).requires_grad


def test_a_model_pickles_in_the_middle_of_range_estimation():
    # Runtime-spec 4.2: whole-model pickling works (FF's does not); during the grid search
    # the quantizer's override holds the estimator, whose default search grid generator was
    # a closure: pickling the model raised "Can't pickle local object".
    import pickle

    from fastforward.range_setting import SmoothedMinMaxRangeEstimator
    from fastforward.range_setting.min_error import uniform_search_grid

    torch.manual_seed(0)
    data = [torch.randn(3, 8), torch.randn(3, 8) * 2]
    for estimator in (RunningMinMaxRangeEstimator, SmoothedMinMaxRangeEstimator, MinErrorGridRangeEstimator):
        model = torch.nn.Module()
        model.q = LinearQuantizer(8, symmetric=False, granularity=ff.PerChannel(0))
        twin = None
        with ff.estimate_ranges(model, estimator):
            model.q(data[0])
            twin = pickle.loads(pickle.dumps(model))
            assert len(list(twin.q.overrides)) == 1
            model.q(data[1])
            twin.q(data[1])  # the copy goes on estimating from where the model was
        assert torch.equal(twin.q.scale, model.q.scale) and torch.equal(twin.q.offset, model.q.offset), estimator
        assert list(model.q.overrides) == []
    grid = pickle.loads(pickle.dumps(uniform_search_grid(0.25, 2.0)))
    mins, maxs = grid(torch.tensor([-1.0]), torch.tensor([3.0]), 4, True)
    assert torch.allclose(maxs[:, 0], torch.tensor([1.5625, 3.125, 4.6875, 6.25])) and torch.equal(mins, -maxs)
    mins, maxs = grid(torch.tensor([0.0]), torch.tensor([3.0]), 4, False)
    assert torch.equal(mins, torch.zeros(4, 1)) and torch.allclose(maxs[:, 0], torch.tensor([1.5625, 3.125, 4.6875, 6.25]))


if __name__ == "__main__":
    sys.exit(run(globals()))
