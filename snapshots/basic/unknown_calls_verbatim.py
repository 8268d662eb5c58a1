import fastforward
import torch

from basic.unknown_calls_verbatim import Reshape


class QuantizedReshape(fastforward.nn.QuantizedModule, Reshape):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, x):
        n = x.shape[0]
        flat = x.view(n, -1)
        zeros = torch.zeros(3)
        print("shape", flat.shape)
        return flat
