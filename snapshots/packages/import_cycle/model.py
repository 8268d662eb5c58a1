import fastforward

from import_cycle.model import Cycle


def quantized_left_half(
    x,
    *,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer__tmp_1: fastforward.nn.Quantizer,
    quantizer_right_half_mul: fastforward.nn.Quantizer,
    quantizer_right_half__tmp_2: fastforward.nn.Quantizer,
    quantizer_right_half_ping_relu: fastforward.nn.Quantizer,
    quantizer_right_half_ping_x: fastforward.nn.Quantizer,
):
    _tmp_1 = quantized_right_half(
        x,
        quantizer_mul=quantizer_right_half_mul,
        quantizer__tmp_2=quantizer_right_half__tmp_2,
        quantizer_ping_relu=quantizer_right_half_ping_relu,
        quantizer_ping_x=quantizer_right_half_ping_x,
    )
    _tmp_1 = quantizer__tmp_1(_tmp_1)
    return fastforward.nn.functional.add(_tmp_1, 1, output_quantizer=quantizer_add)


def quantized_right_half(
    x,
    *,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer__tmp_2: fastforward.nn.Quantizer,
    quantizer_ping_relu: fastforward.nn.Quantizer,
    quantizer_ping_x: fastforward.nn.Quantizer,
):
    _tmp_2 = quantized_ping(x, quantizer_relu=quantizer_ping_relu, quantizer_x=quantizer_ping_x)
    _tmp_2 = quantizer__tmp_2(_tmp_2)
    return fastforward.nn.functional.mul(_tmp_2, 2, output_quantizer=quantizer_mul)


def quantized_ping(
    x, *, quantizer_relu: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    return fastforward.nn.functional.relu(x, output_quantizer=quantizer_relu)


class QuantizedCycle(fastforward.nn.QuantizedModule, Cycle):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_left_half_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_left_half__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_left_half_right_half_mul: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_left_half_right_half__tmp_2: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_left_half_right_half_ping_relu: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_left_half_right_half_ping_x: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )

    def forward(self, x):
        return quantized_left_half(
            x,
            quantizer_add=self.quantizer_left_half_add,
            quantizer__tmp_1=self.quantizer_left_half__tmp_1,
            quantizer_right_half_mul=self.quantizer_left_half_right_half_mul,
            quantizer_right_half__tmp_2=self.quantizer_left_half_right_half__tmp_2,
            quantizer_right_half_ping_relu=self.quantizer_left_half_right_half_ping_relu,
            quantizer_right_half_ping_x=self.quantizer_left_half_right_half_ping_x,
        )
