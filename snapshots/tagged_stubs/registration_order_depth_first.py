import fastforward
from torch import Tensor
from torch.nn.modules.dropout import Dropout

from submodules.registration_order_depth_first import Leaf, Net, Pair


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_h: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub("activation")
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub("activation")

    def forward(self, x):
        h = self.pair(x)
        h = self.blocks(h)
        h = self.quantizer_h(h)
        _tmp_1 = self.head(h)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.add(_tmp_1, h, output_quantizer=self.quantizer_add)


class QuantizedPair(fastforward.nn.QuantizedModule, Pair):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub("activation")

    def forward(self, x):
        _tmp_2 = self.second(x)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        return fastforward.nn.functional.mul(_tmp_2, 2, output_quantizer=self.quantizer_mul)


class QuantizedLeaf(fastforward.nn.QuantizedModule, Leaf):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            input_quantizer=True
        )

    def forward(self, x):
        x = self.quantizer_x(x)
        return fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)


class QuantizedDropout(fastforward.nn.QuantizedModule, Dropout):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_dropout: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            output_quantizer=True
        )
        self.quantizer_input: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub(
            input_quantizer=True
        )

    def forward(self, input: Tensor) -> Tensor:
        """
        Runs the forward pass.
        """
        input = self.quantizer_input(input)
        return fastforward.nn.functional.dropout(
            input, self.p, self.training, self.inplace, output_quantizer=self.quantizer_dropout
        )
