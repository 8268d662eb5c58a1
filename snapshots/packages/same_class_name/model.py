import fastforward

from same_class_name.model import Scale as __ffaq_base_Scale_0
from same_class_name.model import TwoScales
from same_class_name.other.norm import Scale as __ffaq_base_Scale_1


class QuantizedScale_0(fastforward.nn.QuantizedModule, __ffaq_base_Scale_0):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        return fastforward.nn.functional.div(_tmp_1, 2, output_quantizer=self.quantizer_div)


class QuantizedTwoScales(fastforward.nn.QuantizedModule, TwoScales):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_2 = self.mine(x)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        _tmp_3 = self.theirs(x)
        _tmp_3 = self.quantizer__tmp_3(_tmp_3)
        return fastforward.nn.functional.add(_tmp_2, _tmp_3, output_quantizer=self.quantizer_add)


class QuantizedScale_1(fastforward.nn.QuantizedModule, __ffaq_base_Scale_1):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_4 = fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        return fastforward.nn.functional.mul(x, _tmp_4, output_quantizer=self.quantizer_mul)
