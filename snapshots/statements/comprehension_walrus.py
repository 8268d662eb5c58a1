import fastforward

from statements.comprehension_walrus import Comp


class QuantizedComp(fastforward.nn.QuantizedModule, Comp):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_v: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_w: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, xs, w):
        w = self.quantizer_w(w)
        squares = [
            fastforward.nn.functional.mul(
                (__ff0 := self.quantizer_x_1(x)), __ff0, output_quantizer=self.quantizer_mul
            )
            for x in xs
        ]
        scaled = [
            fastforward.nn.functional.relu(
                self.quantizer_x_2(x), output_quantizer=self.quantizer_relu
            )
            for x in xs
            if x.sum() > 0
        ]
        pairs = {
            k: fastforward.nn.functional.add(
                self.quantizer_v(v), w, output_quantizer=self.quantizer_add
            )
            for k, v in zip(range(3), xs)
        }
        return squares, scaled, pairs
