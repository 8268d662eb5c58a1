import fastforward

from relative_imports.model import Gated


def quantized_gate(
    x,
    *,
    quantizer_sigmoid: fastforward.nn.Quantizer,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    _tmp_1 = fastforward.nn.functional.sigmoid(x, output_quantizer=quantizer_sigmoid)
    return fastforward.nn.functional.mul(x, _tmp_1, output_quantizer=quantizer_mul)


class QuantizedGated(fastforward.nn.QuantizedModule, Gated):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gate_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gate_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_gate_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_2 = quantized_gate(
            x,
            quantizer_sigmoid=self.quantizer_gate_sigmoid,
            quantizer_mul=self.quantizer_gate_mul,
            quantizer_x=self.quantizer_gate_x,
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        return fastforward.nn.functional.add(_tmp_2, _tmp_3, output_quantizer=self.quantizer_add)
