import fastforward
import torch

from ops.copying_constructors_get_real_values import Build


class QuantizedBuild(fastforward.nn.QuantizedModule, Build):
    def __init_quantization__(self) -> None:
        super().__init_quantization__()
        self.quantizer_mul_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_mul_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_3: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_4: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_5: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_6: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_7: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_add_8: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_v_0: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_v_1: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_2: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_b: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_c: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer_size: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_9: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_12: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()
        self.quantizer__tmp_14: fastforward.nn.Quantizer = fastforward.nn.QuantizerStub()

    def forward(self, x, idx):
        _tmp_1 = self.lin(x)
        _tmp_2 = _tmp_1.relu()
        _tmp_2 = self.quantizer__tmp_2(_tmp_2)
        v = fastforward.nn.functional.mul(_tmp_2, 2, output_quantizer=self.quantizer_mul_1)
        _tmp_3 = torch.sparse_coo_tensor(idx, fastforward.nn.functional.dequantized(v[0]), (3, 3))
        a = _tmp_3.to_dense()
        _tmp_4 = fastforward.nn.functional.add(
            self.quantizer_v_1(v[1]), 1, output_quantizer=self.quantizer_add_1
        )
        b = torch.tensor(fastforward.nn.functional.dequantized(_tmp_4), dtype=torch.float32)
        b = self.quantizer_b(b)
        _tmp_5 = fastforward.nn.functional.mul(
            self.quantizer_v_0(v[0]), 3, output_quantizer=self.quantizer_mul_2
        )
        c = x.new_tensor(fastforward.nn.functional.dequantized(_tmp_5))
        c = self.quantizer_c(c)
        _tmp_6 = fastforward.nn.functional.add(
            self.quantizer_v_0(v[0]), 0, output_quantizer=self.quantizer_add_2
        )
        _tmp_7 = fastforward.nn.functional.add(
            self.quantizer_v_1(v[1]), 0, output_quantizer=self.quantizer_add_3
        )
        _tmp_8 = torch.nested.nested_tensor(fastforward.nn.functional.dequantized([_tmp_6, _tmp_7]))
        n = _tmp_8.to_padded_tensor(0.0)
        size = torch.tensor(x.size(-1))
        size = self.quantizer_size(size)
        _tmp_9 = a.sum(0)
        _tmp_9 = self.quantizer__tmp_9(_tmp_9)
        _tmp_10 = fastforward.nn.functional.add(_tmp_9, b, output_quantizer=self.quantizer_add_4)
        _tmp_11 = fastforward.nn.functional.add(_tmp_10, c, output_quantizer=self.quantizer_add_5)
        _tmp_12 = n.sum(0)
        _tmp_12 = self.quantizer__tmp_12(_tmp_12)
        _tmp_13 = fastforward.nn.functional.add(
            _tmp_11, _tmp_12, output_quantizer=self.quantizer_add_6
        )
        _tmp_14 = torch.tensor([1.0, 2.0, 3.0])
        _tmp_14 = self.quantizer__tmp_14(_tmp_14)
        _tmp_15 = fastforward.nn.functional.add(
            _tmp_13, _tmp_14, output_quantizer=self.quantizer_add_7
        )
        return fastforward.nn.functional.add(_tmp_15, size, output_quantizer=self.quantizer_add_8)
