import fastforward

from statements.while_else_not_supported import WhileElse


class QuantizedWhileElse(fastforward.nn.QuantizedModule, WhileElse):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
