import fastforward

from ops.addmm import Addmm


class QuantizedAddmm(fastforward.nn.QuantizedModule, Addmm):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_addmm: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mat1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mat2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, mat1, mat2):
        input = self.quantizer_input(input)
        mat1 = self.quantizer_mat1(mat1)
        mat2 = self.quantizer_mat2(mat2)
        r0 = fastforward.nn.functional.addmm(
            input, mat1, mat2, output_quantizer=self.quantizer_addmm
        )
        return r0
