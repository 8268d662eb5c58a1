import fastforward

from types.loops_and_narrowing import Loops


class QuantizedLoops(fastforward.nn.QuantizedModule, Loops):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_total_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_total_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_total_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_total_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_out: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_t: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, steps, depth: int):
        total = 0
        total = self.quantizer_total_1(total)
        for i in range(depth):
            total = total + i * 2
            total = self.quantizer_total_2(total)
        for j, s in enumerate(steps):
            total = total + j
            total = self.quantizer_total_3(total)
        for a, b in zip(range(2), [0.5, 1.5]):
            total = total + a * b
            total = self.quantizer_total_4(total)
        k = 0
        k = self.quantizer_k_1(k)
        while k < depth:
            k = k + 1
            k = self.quantizer_k_2(k)
        if isinstance(steps, int):
            steps = steps * 2
        out = x
        out = self.quantizer_out(out)
        for t in [x, x]:
            t = self.quantizer_t(t)
            out = fastforward.nn.functional.add(out, t, output_quantizer=self.quantizer_add_1)
        _tmp_1 = fastforward.nn.functional.mul(out, total, output_quantizer=self.quantizer_mul)
        return fastforward.nn.functional.add(_tmp_1, k, output_quantizer=self.quantizer_add_2)
