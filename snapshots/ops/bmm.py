import fastforward

from ops.bmm import Bmm


class QuantizedBmm(fastforward.nn.QuantizedModule, Bmm):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_bmm: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mat2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, mat2):
        input = self.quantizer_input(input)
        mat2 = self.quantizer_mat2(mat2)
        r0 = fastforward.nn.functional.bmm(input, mat2, output_quantizer=self.quantizer_bmm)
        return r0
