import fastforward

from errors.for_else_warning import Search


class QuantizedSearch(fastforward.nn.QuantizedModule, Search):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
