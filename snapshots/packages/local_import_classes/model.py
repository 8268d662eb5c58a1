import fastforward

from local_import_classes.model import Attn
from local_import_classes.model import Norm as __ffaq_base_Norm_0
from local_import_classes.norms import Gain
from local_import_classes.norms import Norm as __ffaq_base_Norm_1


class QuantizedNorm_0(fastforward.nn.QuantizedModule, __ffaq_base_Norm_0):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_relu: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_1 = fastforward.nn.functional.relu(x, output_quantizer=self.quantizer_relu)
        return fastforward.nn.functional.sub(_tmp_1, 1, output_quantizer=self.quantizer_sub)


class QuantizedAttn(fastforward.nn.QuantizedModule, Attn):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()

    def forward(self, x):
        _tmp_2 = self.proj(x)
        _tmp_3 = self.norm(_tmp_2)
        return self.amp(_tmp_3)


class QuantizedNorm_1(fastforward.nn.QuantizedModule, __ffaq_base_Norm_1):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sigmoid: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_4 = fastforward.nn.functional.sigmoid(x, output_quantizer=self.quantizer_sigmoid)
        _tmp_5 = fastforward.nn.functional.add(_tmp_4, 1, output_quantizer=self.quantizer_add)
        return fastforward.nn.functional.div(x, _tmp_5, output_quantizer=self.quantizer_div)


class QuantizedGain(fastforward.nn.QuantizedModule, Gain):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_tanh: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        x = self.quantizer_x(x)
        _tmp_6 = fastforward.nn.functional.tanh(x, output_quantizer=self.quantizer_tanh)
        return fastforward.nn.functional.mul(_tmp_6, 3, output_quantizer=self.quantizer_mul)
