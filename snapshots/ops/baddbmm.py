import fastforward

from ops.baddbmm import Baddbmm


class QuantizedBaddbmm(fastforward.nn.QuantizedModule, Baddbmm):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_baddbmm: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_batch1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_batch2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, batch1, batch2):
        batch1 = self.quantizer_batch1(batch1)
        batch2 = self.quantizer_batch2(batch2)
        r0 = fastforward.nn.functional.baddbmm(
            input, batch1, batch2, output_quantizer=self.quantizer_baddbmm
        )
        return r0
