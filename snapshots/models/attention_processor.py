import fastforward

from models.attention_processor import Attention


class QuantizedAttention(fastforward.nn.QuantizedModule, Attention):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_h: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, hidden_states):
        h = self.processor(self, hidden_states)
        _tmp_1 = self.scale(h)
        _tmp_2 = self.proj(_tmp_1)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.add(_tmp_2, 1, output_quantizer=self.quantizer_add)

    def scale(self, h):
        h = self.quantizer_h(h)
        return fastforward.nn.functional.mul(h, 2, output_quantizer=self.quantizer_mul)
