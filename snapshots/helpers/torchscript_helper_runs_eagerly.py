import fastforward
import torch

from helpers.torchscript_helper_runs_eagerly import Scripted


def quantized_shift(
    x: torch.Tensor,
    *,
    quantizer_sub: fastforward.nn.Quantizer,
    quantizer__tmp_1: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    _tmp_1 = x.mean()
    _tmp_1 = quantizer__tmp_1(_tmp_1)
    return fastforward.nn.functional.sub(x, _tmp_1, output_quantizer=quantizer_sub)


def quantized_scaled_sqrt(
    query: torch.Tensor,
    scale_factor: int,
    *,
    quantizer_mul: fastforward.nn.Quantizer,
    quantizer_sqrt: fastforward.nn.Quantizer,
    quantizer__tmp_2: fastforward.nn.Quantizer,
    quantizer_scale_factor: fastforward.nn.Quantizer,
):
    scale_factor = quantizer_scale_factor(scale_factor)
    # TorchScript cannot compile the quantized copy (quantizer modules, fastforward's
    # operators): the copy drops @torch.jit.script and runs eagerly
    _tmp_2 = torch.tensor(query.size(-1), dtype=torch.float)
    _tmp_2 = quantizer__tmp_2(_tmp_2)
    _tmp_3 = fastforward.nn.functional.mul(_tmp_2, scale_factor, output_quantizer=quantizer_mul)
    return fastforward.nn.functional.sqrt(_tmp_3, output_quantizer=quantizer_sqrt)


class QuantizedScripted(fastforward.nn.QuantizedModule, Scripted):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_div: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shift_sub: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shift__tmp_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_shift_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_sqrt_mul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_sqrt_sqrt: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_sqrt__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_scaled_sqrt_scale_factor: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )

    def forward(self, q):
        _tmp_4 = quantized_shift(
            q,
            quantizer_sub=self.quantizer_shift_sub,
            quantizer__tmp_1=self.quantizer_shift__tmp_1,
            quantizer_x=self.quantizer_shift_x,
        )
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        _tmp_5 = quantized_scaled_sqrt(
            q,
            2,
            quantizer_mul=self.quantizer_scaled_sqrt_mul,
            quantizer_sqrt=self.quantizer_scaled_sqrt_sqrt,
            quantizer__tmp_2=self.quantizer_scaled_sqrt__tmp_2,
            quantizer_scale_factor=self.quantizer_scaled_sqrt_scale_factor,
        )
        _tmp_5 = self.quantizer__tmp_5(_tmp_5)
        return fastforward.nn.functional.div(_tmp_4, _tmp_5, output_quantizer=self.quantizer_div)
