import fastforward
import torch

from helpers.helper_changes_argument_in_place import Attn, scaled_copy


def quantized_add_shortcut(
    x,
    q,
    *,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer_q_1: fastforward.nn.Quantizer,
    quantizer_x_1: fastforward.nn.Quantizer,
):
    x[:, 1:] = fastforward.nn.functional.add(
        quantizer_x_1(x[:, 1:]), quantizer_q_1(q[:, 1:]), output_quantizer=quantizer_add
    )


def quantized_add_bias(
    attn,
    bias,
    *,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer_attn_1_1: fastforward.nn.Quantizer,
    quantizer_bias: fastforward.nn.Quantizer,
):
    bias = quantizer_bias(bias)
    attn[:, 1:, 1:] = fastforward.nn.functional.add(
        quantizer_attn_1_1(attn[:, 1:, 1:]), bias, output_quantizer=quantizer_add
    )
    return attn


class QuantizedAttn(fastforward.nn.QuantizedModule, Attn):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_matmul: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_shortcut_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_shortcut_q_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_shortcut_x_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_bias_add: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_bias_attn_1_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_bias_bias: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, q):
        _tmp_1 = q.transpose(1, 2)
        attn = torch.matmul(q, _tmp_1)
        attn = quantized_add_bias(
            attn,
            self.bias,
            quantizer_add=self.quantizer_add_bias_add,
            quantizer_attn_1_1=self.quantizer_add_bias_attn_1_1,
            quantizer_bias=self.quantizer_add_bias_bias,
        )
        _tmp_2 = attn.softmax(dim=-1)
        x = torch.matmul(_tmp_2, q)
        quantized_add_shortcut(
            q=q,
            x=x,
            quantizer_add=self.quantizer_add_shortcut_add,
            quantizer_q_1=self.quantizer_add_shortcut_q_1,
            quantizer_x_1=self.quantizer_add_shortcut_x_1,
        )
        _tmp_3 = q.transpose(1, 2)
        _tmp_3 = self.quantizer__tmp_3(_tmp_3)
        y = fastforward.nn.functional.matmul(x, _tmp_3, output_quantizer=self.quantizer_matmul)
        _tmp_4 = scaled_copy(y, 2.0)
        _tmp_4 = self.quantizer__tmp_4(_tmp_4)
        return fastforward.nn.functional.add(_tmp_4, y, output_quantizer=self.quantizer_add)
