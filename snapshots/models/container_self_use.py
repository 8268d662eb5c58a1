from __future__ import annotations

import fastforward

from models.container_self_use import (
    ByChildren,
    Chain,
    DenseBlock,
    Head,
    Layer,
    Layer2,
    Net,
    Stack,
    Stage,
    ViaMethod,
)


class QuantizedLayer(fastforward.nn.QuantizedModule, Layer):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, feats):
        x = fastforward.nn.functional.cat(feats, 1, output_quantizer=self.quantizer_cat)
        _tmp_1 = self.conv(x)
        _tmp_1 = self.quantizer__tmp_1(_tmp_1)
        return fastforward.nn.functional.relu(_tmp_1, output_quantizer=self.quantizer_relu)


class QuantizedDenseBlock(fastforward.nn.QuantizedModule, DenseBlock):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        features = [x]
        for name, layer in self.items():
            _tmp_2 = layer(features)
            features.append(_tmp_2)
        return fastforward.nn.functional.cat(features, 1, output_quantizer=self.quantizer_cat)


class QuantizedStack(fastforward.nn.QuantizedModule, Stack):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, input):
        """
        Runs the forward pass.
        """
        for module in self:
            input = module(input)
        return input


class QuantizedHead(fastforward.nn.QuantizedModule, Head):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        for m in self:
            _tmp_3 = m(x)
            _tmp_3 = self.quantizer__tmp_3(_tmp_3)
            x = fastforward.nn.functional.add(_tmp_3, x, output_quantizer=self.quantizer_add)
        return x


class QuantizedNet(fastforward.nn.QuantizedModule, Net):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_4 = self.stack(x)
        _tmp_5 = self.head(_tmp_4)
        _tmp_5 = self.quantizer__tmp_5(_tmp_5)
        return fastforward.nn.functional.mul(_tmp_5, 2, output_quantizer=self.quantizer_mul)


class QuantizedChain(fastforward.nn.QuantizedModule, Chain):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_7: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        for i in range(len(self) - 1):
            _tmp_6 = self[i](x)
            _tmp_6 = self.quantizer__tmp_6(_tmp_6)
            x = fastforward.nn.functional.mul(_tmp_6, 0.5, output_quantizer=self.quantizer_mul)
        _tmp_7 = self[-1](x)
        _tmp_7 = self.quantizer__tmp_7(_tmp_7)
        return fastforward.nn.functional.add(_tmp_7, len(self), output_quantizer=self.quantizer_add)


class QuantizedByChildren(fastforward.nn.QuantizedModule, ByChildren):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()


class QuantizedStage(fastforward.nn.QuantizedModule, Stage):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, x):
        for block in self.children():
            x = block(x)
        return x


class QuantizedLayer2(fastforward.nn.QuantizedModule, Layer2):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_8: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_8 = self.lin(x)
        _tmp_8 = self.quantizer__tmp_8(_tmp_8)
        return fastforward.nn.functional.sigmoid(_tmp_8, output_quantizer=self.quantizer_sigmoid)


class QuantizedViaMethod(fastforward.nn.QuantizedModule, ViaMethod):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
