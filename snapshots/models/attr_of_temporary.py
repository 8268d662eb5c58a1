import fastforward
import torch

from models.attr_of_temporary import Clamp


class QuantizedClamp(fastforward.nn.QuantizedModule, Clamp):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_negative: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_clamp: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_torch_finfo_h_dtype_max: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_h: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, h):
        h = self.quantizer_h(h)
        if h.dtype == torch.float64:
            _tmp_1 = torch.finfo(h.dtype)
            c = fastforward.nn.functional.sub(
                self.quantizer_torch_finfo_h_dtype_max(_tmp_1.max),
                1000,
                output_quantizer=self.quantizer_sub,
            )
            _tmp_2 = fastforward.nn.functional.negative(c, output_quantizer=self.quantizer_negative)
            h = fastforward.nn.functional.clamp(
                h, min=_tmp_2, max=c, output_quantizer=self.quantizer_clamp
            )
        return h
