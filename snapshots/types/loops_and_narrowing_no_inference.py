import fastforward

from types.loops_and_narrowing_no_inference import Loops


class QuantizedLoops(fastforward.nn.QuantizedModule, Loops):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_total: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_i: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_j: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_k: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_out: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_t: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_steps: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, steps, depth: int):
        steps = self.quantizer_steps(steps)
        total = 0
        total = self.quantizer_total(total)
        for i in range(depth):
            i = self.quantizer_i(i)
            _tmp_1 = fastforward.nn.functional.mul(i, 2, output_quantizer=self.quantizer_mul_1)
            total = fastforward.nn.functional.add(
                total, _tmp_1, output_quantizer=self.quantizer_add_1
            )
        for j, s in enumerate(steps):
            j = self.quantizer_j(j)
            total = fastforward.nn.functional.add(total, j, output_quantizer=self.quantizer_add_2)
        for a, b in zip(range(2), [0.5, 1.5]):
            a = self.quantizer_a(a)
            b = self.quantizer_b(b)
            _tmp_2 = fastforward.nn.functional.mul(a, b, output_quantizer=self.quantizer_mul_2)
            total = fastforward.nn.functional.add(
                total, _tmp_2, output_quantizer=self.quantizer_add_3
            )
        k = 0
        k = self.quantizer_k(k)
        while k < depth:
            k = fastforward.nn.functional.add(k, 1, output_quantizer=self.quantizer_add_4)
        if isinstance(steps, int):
            steps = fastforward.nn.functional.mul(steps, 2, output_quantizer=self.quantizer_mul_3)
        out = x
        out = self.quantizer_out(out)
        for t in [x, x]:
            t = self.quantizer_t(t)
            out = fastforward.nn.functional.add(out, t, output_quantizer=self.quantizer_add_5)
        _tmp_3 = fastforward.nn.functional.mul(out, total, output_quantizer=self.quantizer_mul_4)
        return fastforward.nn.functional.add(_tmp_3, k, output_quantizer=self.quantizer_add_6)
