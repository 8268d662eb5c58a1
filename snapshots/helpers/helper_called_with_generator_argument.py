import fastforward

from helpers.helper_called_with_generator_argument import Net


def quantized_mean(
    values,
    empty=0,
    *,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer_div: fastforward.nn.Quantizer,
    quantizer_acc: fastforward.nn.Quantizer,
    quantizer_n: fastforward.nn.Quantizer,
    quantizer_v: fastforward.nn.Quantizer,
):
    values = iter(values)
    acc = next(values)
    acc = quantizer_acc(acc)
    n = 1
    for n, v in enumerate(values, 2):
        n = quantizer_n(n)
        v = quantizer_v(v)
        acc = fastforward.nn.functional.add(acc, v, output_quantizer=quantizer_add)
    return fastforward.nn.functional.div(acc, n, output_quantizer=quantizer_div)


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_stack: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_r_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_a: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_r_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_r_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_div_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_acc_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_n_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_v_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_div_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_acc_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_n_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mean_v_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        a = quantized_mean(
            (
                fastforward.nn.functional.mul(
                    self.quantizer_r_1(r), 2, output_quantizer=self.quantizer_mul
                )
                for r in x
            ),
            quantizer_add=self.quantizer_mean_add_1,
            quantizer_div=self.quantizer_mean_div_1,
            quantizer_acc=self.quantizer_mean_acc_1,
            quantizer_n=self.quantizer_mean_n_1,
            quantizer_v=self.quantizer_mean_v_1,
        )
        a = self.quantizer_a(a)
        _tmp_1 = list(
            fastforward.nn.functional.add(
                self.quantizer_r_2(r), 1, output_quantizer=self.quantizer_add_1
            )
            for r in x
        )
        b = fastforward.nn.functional.stack(_tmp_1, output_quantizer=self.quantizer_stack)
        _tmp_2 = quantized_mean(
            (
                fastforward.nn.functional.sub(
                    self.quantizer_r_3(r), 1, output_quantizer=self.quantizer_sub
                )
                for r in x
            ),
            empty=1,
            quantizer_add=self.quantizer_mean_add_2,
            quantizer_div=self.quantizer_mean_div_2,
            quantizer_acc=self.quantizer_mean_acc_2,
            quantizer_n=self.quantizer_mean_n_2,
            quantizer_v=self.quantizer_mean_v_2,
        )
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = fastforward.nn.functional.add(a, _tmp_2, output_quantizer=self.quantizer_add_2)
        _tmp_4 = b.sum()
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        return fastforward.nn.functional.add(_tmp_3, _tmp_4, output_quantizer=self.quantizer_add_3)
