import fastforward

from star_import_names.common import EPS, F, torch
from star_import_names.model import StarNet


class QuantizedStarNet(fastforward.nn.QuantizedModule, StarNet):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.fc(x)
        _tmp_2 = F.relu(_tmp_1)
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        y = fastforward.nn.functional.add(_tmp_2, EPS, output_quantizer=self.quantizer_add)
        return torch.flatten(y, 1)
