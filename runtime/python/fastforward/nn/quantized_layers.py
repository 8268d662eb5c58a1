"""Quantized versions of the standard torch layers ffq leaves alone ("known modules").

ffq does not generate classes for these torch modules; the runtime has them here, recorded
in the module map, so ``quantize_model`` converts them. Every quantizer slot starts as a
``QuantizerStub`` carrying its tags:

=====================  =======================================  ==============================
slot                   tags                                     present on
=====================  =======================================  ==============================
``input_quantizer``    ``activation/input``                     all but Embedding, containers
``weight_quantizer``   ``parameter/weight`` (shape=weight)      Linear, Conv*, Embedding,
                                                                LayerNorm (affine)
``bias_quantizer``     ``parameter/bias`` (shape=bias)          Linear, Conv*, LayerNorm; the
                                                                slot is None without a bias
``output_quantizer``   ``activation/output``                    all but containers
=====================  =======================================  ==============================

Which torch class each of these classes quantizes is not recorded by defining the class: the
known-module list ``optable/known_modules.txt`` (installed as
``fastforward/_data/known_modules.txt``) says it, and ``BUILTIN_LAYERS`` and the module map
are filled from it when this module is imported. ffq compiles the same file in, so the
modules ffq leaves alone are exactly those the runtime converts.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

from fastforward import _integer, _layer_plan, dispatcher
from fastforward.flags import get_export_mode, get_strict_quantization
from fastforward._paths import known_modules_path
from fastforward.nn import functional
from fastforward.nn.quantized_module import QuantizedModule, float_base_of, record_quantized_class
from fastforward.nn.quantizer import QuantizerStub

__all__ = [
    "BUILTIN_LAYERS",
    "QuantizedConv1d",
    "QuantizedConv2d",
    "QuantizedConv3d",
    "QuantizedConvTranspose2d",
    "QuantizedEmbedding",
    "QuantizedGelu",
    "QuantizedLayerNorm",
    "QuantizedLinear",
    "QuantizedModuleDict",
    "QuantizedModuleList",
    "QuantizedParameterDict",
    "QuantizedParameterList",
    "QuantizedRelu",
    "QuantizedSequential",
    "QuantizedSigmoid",
    "QuantizedSilu",
    "QuantizedSoftmax",
    "read_known_modules",
]


def _weight_and_bias_slots(module: QuantizedModule, weight: Optional[torch.Tensor],
                           bias: Optional[torch.Tensor]) -> None:
    if weight is not None:
        module.weight_quantizer = QuantizerStub(weight_quantizer=True, shape=tuple(weight.shape))
    else:
        module.register_quantizer("weight_quantizer", None)
    if bias is not None:
        module.bias_quantizer = QuantizerStub(bias_quantizer=True, shape=tuple(bias.shape))
    else:
        module.register_quantizer("bias_quantizer", None)


def _torch_op_only(m: Any, op: str, x: Any) -> bool:
    """Whether ``m``'s forward on ``x`` could only end at torch's float op ``op`` with the
    same arguments, so that the forward may call it directly: ``x`` is a plain float tensor,
    every quantizer slot is empty or a QuantizerStub without hooks (calling it returns its
    argument and does nothing else), strict quantization is off (no check would raise), no
    module hooks are registered globally, nothing is traced or exported, and no kernel but
    fastforward's own integer one is registered for ``op`` (it takes QuantizedTensor
    operands with a static output quantizer only). Skips the stub calls and the dispatch,
    which cost about as much as torch's layer norm of a 128 x 256 activation."""
    if (type(x) is not torch.Tensor or not x.is_floating_point() or get_strict_quantization()
            or get_export_mode() or torch._C._get_tracing_state() is not None or _integer._global_hooks()):
        return False
    mods = m._modules
    for name in _layer_plan._SLOTS:  # the four quantizer slots
        q = mods.get(name)
        if q is not None and (type(q) is not QuantizerStub or q._forward_hooks or q._forward_pre_hooks
                              or q._backward_hooks or q.__dict__.get("_backward_pre_hooks")):
            return False
    entries = dispatcher._registry.get(op)
    return not entries or (len(entries) == 1 and entries[0][2].fn is _integer.KERNELS.get(op))


def _float_layer_norm(m: Any, input: torch.Tensor) -> torch.Tensor:
    """torch's layer norm with ``m``'s float parameters (its forward when every slot is a
    stub: never for a frozen weight, whose slot holds the integers)."""
    return functional.FLOAT_IMPLS["layer_norm"](input, tuple(m.normalized_shape), m.weight, m.bias, m.eps)


def _own(m: Any, name: str) -> Any:
    """``m.<name>`` (a parameter a layer reads when its quantizer slot is empty)."""
    return getattr(m, name)


def _quantized_param(quantizer: Any, value: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    if value is None or quantizer is None:
        return value
    return quantizer(value)


class QuantizedLinear(QuantizedModule, torch.nn.Linear, include_in_module_map=False):
    """``nn.Linear`` with input, weight, bias and output quantizers."""

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        _weight_and_bias_slots(self, self.weight, self.bias)
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        planned = _layer_plan.linear(self, input)  # the integer path's cached plan, if it applies
        if planned is not _layer_plan.MISS:
            return planned
        input = self.input_quantizer(input)
        weight = self.weight_quantizer(self.weight)
        bias = _quantized_param(self.bias_quantizer, self.bias)
        return functional.linear(input, weight, bias, output_quantizer=self.output_quantizer)


class _QuantizedConvNd(QuantizedModule, include_in_module_map=False):
    _op: Any = None

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        _weight_and_bias_slots(self, self.weight, self.bias)
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        padding = self.padding
        if self.padding_mode != "zeros":
            # As torch does: pad explicitly, then convolve without padding. The padded float
            # input is what the input quantizer sees.
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = 0
        input = self.input_quantizer(input)
        weight = self.weight_quantizer(self.weight)
        bias = _quantized_param(self.bias_quantizer, self.bias)
        return type(self)._op(input, weight, bias, self.stride, padding, self.dilation, self.groups,
                              output_quantizer=self.output_quantizer)


class QuantizedConv1d(_QuantizedConvNd, torch.nn.Conv1d, include_in_module_map=False):
    """``nn.Conv1d`` with input, weight, bias and output quantizers."""

    _op = staticmethod(functional.conv1d)


class QuantizedConv2d(_QuantizedConvNd, torch.nn.Conv2d, include_in_module_map=False):
    """``nn.Conv2d`` with input, weight, bias and output quantizers."""

    _op = staticmethod(functional.conv2d)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        planned = _layer_plan.conv2d(self, input)  # the integer path's cached plan, if it applies
        return super().forward(input) if planned is _layer_plan.MISS else planned


class QuantizedConv3d(_QuantizedConvNd, torch.nn.Conv3d, include_in_module_map=False):
    """``nn.Conv3d`` with input, weight, bias and output quantizers (video models: R(2+1)D,
    S3D, MViT's patch embedding)."""

    _op = staticmethod(functional.conv3d)


class QuantizedConvTranspose2d(QuantizedModule, torch.nn.ConvTranspose2d, include_in_module_map=False):
    """``nn.ConvTranspose2d`` with input, weight, bias and output quantizers."""

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        _weight_and_bias_slots(self, self.weight, self.bias)
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor, output_size: Optional[List[int]] = None) -> torch.Tensor:
        if self.padding_mode != "zeros":
            raise ValueError("Only 'zeros' padding mode is supported for ConvTranspose2d")
        output_padding = self.output_padding
        if output_size is not None:
            try:  # torch >= 2.0 takes num_spatial_dims
                output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                                      self.kernel_size, 2, self.dilation)
            except TypeError:
                output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                                      self.kernel_size, self.dilation)
        input = self.input_quantizer(input)
        weight = self.weight_quantizer(self.weight)
        bias = _quantized_param(self.bias_quantizer, self.bias)
        return functional.conv_transpose2d(input, weight, bias, self.stride, self.padding, output_padding,
                                           self.groups, self.dilation, output_quantizer=self.output_quantizer)


class QuantizedEmbedding(QuantizedModule, torch.nn.Embedding, include_in_module_map=False):
    """``nn.Embedding`` with weight and output quantizers (its input is indices)."""

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.weight_quantizer = QuantizerStub(weight_quantizer=True, shape=tuple(self.weight.shape))
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        weight = self.weight_quantizer(self.weight)
        return functional.embedding(input, weight, self.padding_idx, self.max_norm, self.norm_type,
                                    self.scale_grad_by_freq, self.sparse, output_quantizer=self.output_quantizer)


class QuantizedLayerNorm(QuantizedModule, torch.nn.LayerNorm, include_in_module_map=False):
    """``nn.LayerNorm`` with input, weight, bias and output quantizers (no weight/bias
    quantizer without ``elementwise_affine``)."""

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        _weight_and_bias_slots(self, getattr(self, "weight", None), getattr(self, "bias", None))
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        planned = _layer_plan.layer_norm(self, input)  # the integer path's cached plan, if it applies
        if planned is not _layer_plan.MISS:
            return planned
        if _torch_op_only(self, "layer_norm", input):
            return _float_layer_norm(self, input)
        input = self.input_quantizer(input)
        # The weight is read only as its quantizer's argument, so that freeze can replace it by
        # the stored integers (it reads the module's code for other reads of it); an emptied
        # slot (None) uses the weight as it is.
        weight = self.weight_quantizer(self.weight) if self.weight_quantizer is not None else _own(self, "weight")
        bias = _quantized_param(self.bias_quantizer, self.bias)
        return functional.layer_norm(input, tuple(self.normalized_shape), weight, bias, self.eps,
                                     output_quantizer=self.output_quantizer)


class _QuantizedActivation(QuantizedModule, include_in_module_map=False):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.input_quantizer = QuantizerStub(input_quantizer=True)
        self.output_quantizer = QuantizerStub(output_quantizer=True)

    _op = ""  # the functional op _apply_op calls

    def _apply_op(self, input: Any) -> Any:
        raise NotImplementedError

    def _op_args(self, input: Any) -> Tuple[Any, ...]:
        """The functional op's arguments after ``input``, in its schema's order."""
        return ()

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        planned = _layer_plan.activation(self, input)  # the integer path's cached plan, if it applies
        if planned is not _layer_plan.MISS:
            return planned
        if _torch_op_only(self, self._op, input):
            return functional.FLOAT_IMPLS[self._op](input, *self._op_args(input))
        return self._apply_op(self.input_quantizer(input))


class QuantizedRelu(_QuantizedActivation, torch.nn.ReLU, include_in_module_map=False):
    """``nn.ReLU`` with input and output quantizers (never in place)."""

    _op = "relu"

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.inplace = False  # the quantized op returns a new tensor; say so

    def _apply_op(self, input: Any) -> Any:
        return functional.relu(input, output_quantizer=self.output_quantizer)


class QuantizedSilu(_QuantizedActivation, torch.nn.SiLU, include_in_module_map=False):
    """``nn.SiLU`` with input and output quantizers (never in place)."""

    _op = "silu"

    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.inplace = False  # the quantized op returns a new tensor; say so

    def _apply_op(self, input: Any) -> Any:
        return functional.silu(input, output_quantizer=self.output_quantizer)


class QuantizedGelu(_QuantizedActivation, torch.nn.GELU, include_in_module_map=False):
    """``nn.GELU`` with input and output quantizers."""

    _op = "gelu"

    def _op_args(self, input: Any) -> Tuple[Any, ...]:
        return (getattr(self, "approximate", "none"),)

    def _apply_op(self, input: Any) -> Any:
        return functional.gelu(input, *self._op_args(input), output_quantizer=self.output_quantizer)


class QuantizedSigmoid(_QuantizedActivation, torch.nn.Sigmoid, include_in_module_map=False):
    """``nn.Sigmoid`` with input and output quantizers."""

    _op = "sigmoid"

    def _apply_op(self, input: Any) -> Any:
        return functional.sigmoid(input, output_quantizer=self.output_quantizer)


class QuantizedSoftmax(_QuantizedActivation, torch.nn.Softmax, include_in_module_map=False):
    """``nn.Softmax`` with input and output quantizers."""

    _op = "softmax"

    def _op_args(self, input: Any) -> Tuple[Any, ...]:
        dim = self.dim
        if dim is None:
            dim = F._get_softmax_dim("softmax", input.dim(), 5)
        return (dim,)

    def _apply_op(self, input: Any) -> Any:
        return functional.softmax(input, *self._op_args(input), output_quantizer=self.output_quantizer)


# the activations whose integer path is a table of their input grid's codes (_layer_plan.activation)
_layer_plan.ACTIVATIONS.update({QuantizedRelu: "relu", QuantizedSilu: "silu", QuantizedGelu: "gelu",
                                QuantizedSigmoid: "sigmoid"})


class QuantizedSequential(QuantizedModule, torch.nn.Sequential, include_in_module_map=False):
    """``nn.Sequential``; no quantizers of its own."""


class QuantizedModuleList(QuantizedModule, torch.nn.ModuleList, include_in_module_map=False):
    """``nn.ModuleList``; no quantizers of its own."""


class QuantizedModuleDict(QuantizedModule, torch.nn.ModuleDict, include_in_module_map=False):
    """``nn.ModuleDict``; no quantizers of its own."""


class QuantizedParameterList(QuantizedModule, torch.nn.ParameterList, include_in_module_map=False):
    """``nn.ParameterList``; no quantizers of its own."""


class QuantizedParameterDict(QuantizedModule, torch.nn.ParameterDict, include_in_module_map=False):
    """``nn.ParameterDict``; no quantizers of its own."""


def read_known_modules(path: Optional[str] = None) -> List[Tuple[str, str, int]]:
    """The entries of the known-module list (``optable/known_modules.txt``, installed as
    ``fastforward/_data/known_modules.txt``): ``(torch class path, quantized class name, line)``."""
    path = path or known_modules_path()
    if path is None:
        raise ImportError("fastforward: the known-module list (_data/known_modules.txt) is missing; "
                          "reinstall the package")
    entries = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            text = line.split("#", 1)[0].split()
            if not text:
                continue
            if len(text) != 2 or not text[0].startswith("torch.nn."):
                raise ImportError("%s:%d: expected 'torch.nn.<Class>  Quantized<Name>'" % (path, number))
            entries.append((text[0], text[1], number))
    return entries


def _builtin_layers() -> Dict[type, type]:
    """Record the class of each entry of the known-module list in the module map; the entries
    whose torch class this torch does not have are left out."""
    layers: Dict[type, type] = {}
    for torch_path, class_name, number in read_known_modules():
        float_cls: Any = torch
        for part in torch_path.split(".")[1:]:
            float_cls = getattr(float_cls, part, None)
        if not isinstance(float_cls, type):
            continue
        quantized_cls = globals().get(class_name)
        if not (isinstance(quantized_cls, type) and issubclass(quantized_cls, QuantizedModule)
                and float_base_of(quantized_cls) is float_cls):
            raise ImportError("known_modules.txt:%d: %s is not a quantized class of %s in %s"
                              % (number, class_name, torch_path, __name__))
        record_quantized_class(float_cls, quantized_cls)
        layers[float_cls] = quantized_cls
    return layers


# torch.nn class -> built-in quantized class, as the known-module list says.
BUILTIN_LAYERS: Dict[type, type] = _builtin_layers()
