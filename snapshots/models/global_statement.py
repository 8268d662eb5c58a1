import fastforward

from models.global_statement import Counting


class QuantizedCounting(fastforward.nn.QuantizedModule, Counting):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
