import fastforward

from helpers.mutual_recursion_not_followed import PingPong, ping


def quantized_ping(
    x,
    n: int,
    *,
    quantizer_relu: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_pong_mul: fastforward.nn.Quantizer,
    quantizer_pong_x: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    if n <= 0:
        return fastforward.nn.functional.relu(x, output_quantizer=quantizer_relu)
    return quantized_pong(x, n, quantizer_mul=quantizer_pong_mul, quantizer_x=quantizer_pong_x)


def quantized_pong(
    x, n: int, *, quantizer_mul: fastforward.nn.Quantizer, quantizer_x: fastforward.nn.Quantizer
):
    x = quantizer_x(x)
    _tmp_1 = fastforward.nn.functional.mul(x, 2, output_quantizer=quantizer_mul)
    return ping(_tmp_1, n - 1)


class QuantizedPingPong(fastforward.nn.QuantizedModule, PingPong):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_ping_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_ping_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_ping_pong_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_ping_pong_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        return quantized_ping(
            x,
            2,
            quantizer_relu=self.quantizer_ping_relu,
            quantizer_x=self.quantizer_ping_x,
            quantizer_pong_mul=self.quantizer_ping_pong_mul,
            quantizer_pong_x=self.quantizer_ping_pong_x,
        )
