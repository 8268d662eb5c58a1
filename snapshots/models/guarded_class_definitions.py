import fastforward

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
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_3 = self.norm(x)
        _tmp_3 = self.quantizer__tmp_3(_tmp_3)
        _tmp_4 = fastforward.nn.functional.relu(_tmp_3, output_quantizer=self.quantizer_relu)
        return fastforward.nn.functional.add(_tmp_4, x, output_quantizer=self.quantizer_add)
