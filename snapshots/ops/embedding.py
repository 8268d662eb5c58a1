import fastforward

from ops.embedding import Embedding


class QuantizedEmbedding(fastforward.nn.QuantizedModule, Embedding):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_embedding: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_weight: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, input, weight):
        weight = self.quantizer_weight(weight)
        r0 = fastforward.nn.functional.embedding(
            input, weight, output_quantizer=self.quantizer_embedding
        )
        return r0
