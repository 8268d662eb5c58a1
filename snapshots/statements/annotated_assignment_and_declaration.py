import fastforward
import torch

from statements.annotated_assignment_and_declaration import Annotated


class QuantizedAnnotated(fastforward.nn.QuantizedModule, Annotated):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_y: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_z: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        y: torch.Tensor
        y = x.exp()
        y = self.quantizer_y(y)
        z: torch.Tensor = x.abs()
        z = self.quantizer_z(z)
        return fastforward.nn.functional.mul(y, z, output_quantizer=self.quantizer_mul)
