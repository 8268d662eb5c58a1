import fastforward

from helper_three_files_away.model import Far


def quantized_front_op(
    x,
    y,
    *,
    quantizer_mid_op_add: fastforward.nn.Quantizer,
    quantizer_mid_op__tmp_1: fastforward.nn.Quantizer,
    quantizer_mid_op_x: fastforward.nn.Quantizer,
    quantizer_mid_op_deep_op_matmul: fastforward.nn.Quantizer,
    quantizer_mid_op_deep_op_x: fastforward.nn.Quantizer,
    quantizer_mid_op_deep_op_y: fastforward.nn.Quantizer,
):
    return quantized_mid_op(
        x,
        y,
        quantizer_add=quantizer_mid_op_add,
        quantizer__tmp_1=quantizer_mid_op__tmp_1,
        quantizer_x=quantizer_mid_op_x,
        quantizer_deep_op_matmul=quantizer_mid_op_deep_op_matmul,
        quantizer_deep_op_x=quantizer_mid_op_deep_op_x,
        quantizer_deep_op_y=quantizer_mid_op_deep_op_y,
    )


def quantized_mid_op(
    x,
    y,
    *,
    quantizer_add: fastforward.nn.Quantizer,
    quantizer__tmp_1: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_deep_op_matmul: fastforward.nn.Quantizer,
    quantizer_deep_op_x: fastforward.nn.Quantizer,
    quantizer_deep_op_y: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    _tmp_1 = quantized_deep_op(
        x,
        y,
        quantizer_matmul=quantizer_deep_op_matmul,
        quantizer_x=quantizer_deep_op_x,
        quantizer_y=quantizer_deep_op_y,
    )
    _tmp_1 = quantizer__tmp_1(_tmp_1)
    return fastforward.nn.functional.add(_tmp_1, x, output_quantizer=quantizer_add)


# The helper that does the work, three files away from the model.
def quantized_deep_op(
    x,
    y,
    *,
    quantizer_matmul: fastforward.nn.Quantizer,
    quantizer_x: fastforward.nn.Quantizer,
    quantizer_y: fastforward.nn.Quantizer,
):
    x = quantizer_x(x)
    y = quantizer_y(y)
    return fastforward.nn.functional.matmul(x, y, output_quantizer=quantizer_matmul)


class QuantizedFar(fastforward.nn.QuantizedModule, Far):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_front_op_mid_op_add: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_front_op_mid_op__tmp_1: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_front_op_mid_op_x: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_front_op_mid_op_deep_op_matmul: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_front_op_mid_op_deep_op_x: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )
        self.quantizer_front_op_mid_op_deep_op_y: fastforward.nn.Quantizer = (
            fastforward.nn.QuantizerStub()
        )

    def forward(self, x, y):
        return quantized_front_op(
            x,
            y,
            quantizer_mid_op_add=self.quantizer_front_op_mid_op_add,
            quantizer_mid_op__tmp_1=self.quantizer_front_op_mid_op__tmp_1,
            quantizer_mid_op_x=self.quantizer_front_op_mid_op_x,
            quantizer_mid_op_deep_op_matmul=self.quantizer_front_op_mid_op_deep_op_matmul,
            quantizer_mid_op_deep_op_x=self.quantizer_front_op_mid_op_deep_op_x,
            quantizer_mid_op_deep_op_y=self.quantizer_front_op_mid_op_deep_op_y,
        )
