import fastforward

from statements.docstring_only_body_after_docstring import Doc


class QuantizedDoc(fastforward.nn.QuantizedModule, Doc):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        """Only a docstring and a return."""
        x = self.quantizer_x(x)
        return fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
