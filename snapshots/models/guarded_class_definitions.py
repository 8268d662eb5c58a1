import fastforward
import torch

from models.guarded_class_definitions import Block

try:
    from models.guarded_class_definitions import LayerNorm
except ImportError:
    pass

try:
    from models.guarded_class_definitions import FusedGelu
except ImportError:
    pass

try:
    from models.guarded_class_definitions import fused_gelu
except ImportError:
    pass

try:
    from models.guarded_class_definitions import Scale as __ffaq_base_Scale_0
except ImportError:
    pass

try:
    from models.guarded_class_definitions import Scale as __ffaq_base_Scale_1
except ImportError:
    pass


# LayerNorm is defined under a condition in its module: this class is made only
# when the name is bound to that class (not to another one, nor to None)
if (
    isinstance(globals().get("LayerNorm"), type)
    and LayerNorm.__module__ == "models.guarded_class_definitions"
    and LayerNorm.__qualname__ == "LayerNorm"
):

    class QuantizedLayerNorm(fastforward.nn.QuantizedModule, LayerNorm):
        def __init_quantization__(self) -> None:
            super().__init_quantization__()
            self.quantizer_layer_norm: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
            self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
            self.quantizer_self_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
            self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

        def forward(self, x):
            x = self.quantizer_x(x)
            self_weight = self.quantizer_self_weight(self.weight)
            _tmp_1 = fastforward.nn.functional.layer_norm(
                x, (self.dim,), self_weight, output_quantizer=self.quantizer_layer_norm
            )
            return fastforward.nn.functional.mul(_tmp_1, 2, output_quantizer=self.quantizer_mul)


# Scale is defined under a condition in its module: this class is made only
# when the name is bound to that class (not to another one, nor to None)
if (
    isinstance(globals().get("__ffaq_base_Scale_0"), type)
    and __ffaq_base_Scale_0.__module__ == "models.guarded_class_definitions"
    and __ffaq_base_Scale_0.__qualname__ == "Scale"
    and getattr(
        getattr(
            getattr(
                __ffaq_base_Scale_0.__dict__.get("forward"),
                "__wrapped__",
                __ffaq_base_Scale_0.__dict__.get("forward"),
            ),
            "__code__",
            None,
        ),
        "co_firstlineno",
        None,
    )
    == 26
):

    class QuantizedScale_0(fastforward.nn.QuantizedModule, __ffaq_base_Scale_0):
        def __init_quantization__(self) -> None:
            super().__init_quantization__()
            self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
            self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

        def forward(self, x):
            x = self.quantizer_x(x)
            return fastforward.nn.functional.add(x, 1, output_quantizer=self.quantizer_add)


# Scale is defined under a condition in its module: this class is made only
# when the name is bound to that class (not to another one, nor to None)
if (
    isinstance(globals().get("__ffaq_base_Scale_1"), type)
    and __ffaq_base_Scale_1.__module__ == "models.guarded_class_definitions"
    and __ffaq_base_Scale_1.__qualname__ == "Scale"
    and getattr(
        getattr(
            getattr(
                __ffaq_base_Scale_1.__dict__.get("forward"),
                "__wrapped__",
                __ffaq_base_Scale_1.__dict__.get("forward"),
            ),
            "__code__",
            None,
        ),
        "co_firstlineno",
        None,
    )
    == 32
):

    class QuantizedScale_1(fastforward.nn.QuantizedModule, __ffaq_base_Scale_1):
        def __init_quantization__(self) -> None:
            super().__init_quantization__()
            self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
            self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

        @torch.no_grad()
        def forward(self, x):
            x = self.quantizer_x(x)
            return fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul)


# FusedGelu is defined under a condition in its module: this class is made only
# when the name is bound to that class (not to another one, nor to None)
if (
    isinstance(globals().get("FusedGelu"), type)
    and FusedGelu.__module__ == "models.guarded_class_definitions"
    and FusedGelu.__qualname__ == "FusedGelu"
):

    class QuantizedFusedGelu(fastforward.nn.QuantizedModule, FusedGelu):
        def __init_quantization__(self) -> None:
            super().__init_quantization__()
            self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
            self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
            self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

        def forward(self, x):
            x = self.quantizer_x(x)
            _tmp_2 = fused_gelu(x)
            _tmp_2 = self.quantizer__tmp_2(_tmp_2)
            return fastforward.nn.functional.add(_tmp_2, x, output_quantizer=self.quantizer_add)


class QuantizedBlock(fastforward.nn.QuantizedModule, Block):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_3 = self.norm(x)
        _tmp_3 = self.quantizer__tmp_3(_tmp_3)
        _tmp_4 = fastforward.nn.functional.relu(_tmp_3, output_quantizer=self.quantizer_relu)
        _tmp_5 = self.scale(_tmp_4)
        _tmp_5 = self.quantizer__tmp_5(_tmp_5)
        return fastforward.nn.functional.add(_tmp_5, x, output_quantizer=self.quantizer_add)
