import fastforward
import torch.nn.functional as F

from ops.numpy_keyword_names import NumpyNames


class QuantizedNumpyNames(fastforward.nn.QuantizedModule, NumpyNames):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sum: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_softmax: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, a, b):
        joined = fastforward.nn.functional.cat([a, b], dim=1, output_quantizer=self.quantizer_cat)
        total = fastforward.nn.functional.sum(joined, dim=-1, output_quantizer=self.quantizer_sum)
        probs = fastforward.nn.functional.softmax(
            input=joined, dim=0, output_quantizer=self.quantizer_softmax
        )
        _tmp_1 = F.softmax(a, axis=0)
        return total, probs, _tmp_1
