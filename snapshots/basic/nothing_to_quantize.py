import fastforward

from basic.nothing_to_quantize import Identityish


class QuantizedIdentityish(fastforward.nn.QuantizedModule, Identityish):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, x):
        return x
