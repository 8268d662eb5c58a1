import fastforward
import torch

from statements.union_annotation_members import StridePool


class QuantizedStridePool(fastforward.nn.QuantizedModule, StridePool):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_cat: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x):
        _tmp_1 = self.proj(x)
        return self.stride_pool(_tmp_1, (1,))

    def stride_pool(
        self, tensor: torch.Tensor | tuple[torch.Tensor], axis: int | tuple[int] | list[int]
    ):
        if isinstance(axis, (list, tuple)):
            for ax in axis:
                tensor = self.stride_pool(tensor, ax)
            return tensor
        axis %= tensor.ndim
        dim = axis % 4
        return fastforward.nn.functional.cat(
            [tensor[:, :1], tensor], dim + 0, output_quantizer=self.quantizer_cat
        )
