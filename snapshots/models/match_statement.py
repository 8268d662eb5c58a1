import fastforward

from models.match_statement import Matcher


class QuantizedMatcher(fastforward.nn.QuantizedModule, Matcher):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
