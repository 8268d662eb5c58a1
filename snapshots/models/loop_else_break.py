import fastforward

from models.loop_else_break import Loop


class QuantizedLoop(fastforward.nn.QuantizedModule, Loop):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, n: int = 3):
        x = self.quantizer_x(x)
        i = 0
        while i < n:
            x = fastforward.nn.functional.add(x, 1, output_quantizer=self.quantizer_add_1)
            if x.sum() > 100:
                y = fastforward.nn.functional.mul(x, 3, output_quantizer=self.quantizer_mul_1)
                break
            i += 1
        else:
            y = fastforward.nn.functional.mul(x, 2, output_quantizer=self.quantizer_mul_2)
        for k in range(n):
            k = self.quantizer_k(k)
            y = fastforward.nn.functional.sub(y, k, output_quantizer=self.quantizer_sub)
        else:
            _tmp_1 = fastforward.nn.functional.relu(y, output_quantizer=self.quantizer_relu)
            y = fastforward.nn.functional.add(_tmp_1, x, output_quantizer=self.quantizer_add_2)
        return y
