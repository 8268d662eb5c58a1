"""Conformance of fastforward's public API with the runtime spec (runtime-spec.md): behaviour
a user reaches through the documented names and that the larger suites did not cover.

    python3 tests/python/test_api_conformance.py      # plain runner
    python3 -m pytest -q tests/python/test_api_conformance.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "python"))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import fastforward as ff  # noqa: E402
from fastforward.nn import (  # noqa: E402
    QuantizedConv1d,
    QuantizedConv2d,
    QuantizedModule,
    QuantizedRelu,
    QuantizedSilu,
    QuantizerStub,
)
from plain_runner import isolation, run  # noqa: E402

setup_function, teardown_function = isolation()


def test_builtin_layers_construct_directly_with_their_float_arguments():
    # A quantized class built on a quantizer-only mixin (QuantizedConv2d(_QuantizedConvNd,
    # nn.Conv2d), QuantizedRelu(_QuantizedActivation, nn.ReLU)) inherited the mixin's
    # construction wrapper, which ran nn.Module.__init__ instead of the float class's:
    # QuantizedConv2d(3, 4, 3) and QuantizedRelu(inplace=True) raised TypeError, and
    # QuantizedRelu() had no 'inplace' (its repr raised AttributeError).
    conv = QuantizedConv2d(3, 4, 3, padding=1)
    assert conv.weight.shape == (4, 3, 3, 3) and conv.padding == (1, 1)
    assert isinstance(conv.weight_quantizer, QuantizerStub)
    assert tuple(conv.weight_quantizer.quant_metadata.shape) == (4, 3, 3, 3)
    conv1 = QuantizedConv1d(2, 5, kernel_size=3, bias=False)
    assert conv1.weight.shape == (5, 2, 3) and conv1.bias_quantizer is None
    for cls in (QuantizedRelu, QuantizedSilu):
        act = cls(inplace=True)
        assert act.inplace is False  # the spec: forces inplace=False
        assert isinstance(act.input_quantizer, QuantizerStub) and "inplace" not in repr(act).split("(")[1]
        assert cls().inplace is False
    with ff.strict_quantization(False):
        x = torch.randn(2, 3, 5, 5)
        assert torch.equal(conv(x), torch.nn.functional.conv2d(x, conv.weight, conv.bias, padding=1))
        y = torch.randn(4)
        assert torch.equal(QuantizedRelu(inplace=True)(y), torch.relu(y))


def test_user_mixin_without_float_base_keeps_the_float_init():
    class Mixin(QuantizedModule):
        def __init_quantization__(self):
            super().__init_quantization__()
            self.output_quantizer = QuantizerStub(output_quantizer=True)

    class QuantizedMyLinear(Mixin, torch.nn.Linear, include_in_module_map=False):
        pass

    layer = QuantizedMyLinear(3, 2, bias=False)
    assert layer.weight.shape == (2, 3) and layer.bias is None
    assert isinstance(layer.output_quantizer, QuantizerStub)


if __name__ == "__main__":
    sys.exit(run(globals()))
