import fastforward

from statements.multiple_return_values_not_supported import Multi


class QuantizedMulti(fastforward.nn.QuantizedModule, Multi):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
