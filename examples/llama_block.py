"""A Llama-style decoder block (RMSNorm, rotary-free causal self-attention, SwiGLU MLP),
quantized W8A8 and run on the integer path.

    python3 examples/llama_block.py

ffq autoquantizes this file's classes; the block is calibrated on random token embeddings,
then run with the integer kernels (libffqrt) and with the simulated path; the script prints
how many of the operations ran on the integer kernels and how far the two results are
apart, relative to the float block. Exit status 1 when a check fails.
"""

import copy
import os
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import fastforward as ff
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "runtime", "python"))
    import fastforward as ff


class RMSNorm(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
        return x * scale * self.weight


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.o_proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q = self.q_proj(x).view(b, t, self.heads, d // self.heads).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.heads, d // self.heads).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.heads, d // self.heads).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, d))


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False)
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderBlock(nn.Module):
    def __init__(self, dim: int = 128, heads: int = 4, hidden: int = 344) -> None:
        super().__init__()
        self.input_norm = RMSNorm(dim)
        self.attn = Attention(dim, heads)
        self.post_attn_norm = RMSNorm(dim)
        self.mlp = SwiGLU(dim, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x + self.attn(self.input_norm(x))
        return h + self.mlp(self.post_attn_norm(h))


def as_float(t):
    return t.dequantize() if type(t) is not torch.Tensor and hasattr(t, "dequantize") else t


def main():
    from fastforward import _integer
    from fastforward.nn import LinearQuantizer

    torch.manual_seed(0)
    block = DecoderBlock().eval()
    ff.set_strict_quantization(False)
    with tempfile.TemporaryDirectory() as d:
        ff.autoquantize(block, output_path=os.path.join(d, "quantized_llama_block.py"), auto_import=True)
        model = ff.quantize_model(copy.deepcopy(block))
    ff.find_quantizers(model, "**/[quantizer:parameter/weight]").initialize(
        LinearQuantizer, num_bits=8, symmetric=True, allow_one_sided=False, granularity=ff.PerChannel(0))
    ff.find_quantizers(model, "**/[quantizer:activation]").initialize(LinearQuantizer, num_bits=8, symmetric=False)
    calibration = [torch.randn(4, 32, 128) for _ in range(4)]
    with torch.no_grad(), ff.estimate_ranges(model, ff.range_setting.running_minmax):
        for x in calibration:
            model(x)

    x = torch.randn(2, 32, 128)
    with torch.no_grad():
        reference = block(x)
        seen = []
        note = _integer._note
        _integer._note = lambda op, path: (seen.append((op, path)), note(op, path))
        try:
            with _integer.integer_execution(True):
                y_int = as_float(model(x))
        finally:
            _integer._note = note
        with _integer.integer_execution(False):
            y_sim = as_float(model(x))

    def rel(a):
        return float((a - reference).norm() / reference.norm())

    linear_int = sum(1 for op, p in seen if op == "linear" and p == "integer")
    print("type: %s" % type(model).__name__)
    print("ops on the integer kernels: %d of %d offered (linear: %d of 7)"
          % (sum(p == "integer" for _, p in seen), len(seen), linear_int))
    print("relative error vs float: integer path %.4f, simulated path %.4f" % (rel(y_int), rel(y_sim)))
    ok = rel(y_sim) < 0.05 and rel(y_int) < 0.05
    if ff._ffqrt.available():
        ok = ok and linear_int == 7
    else:
        print("libffqrt is not loaded: the integer path was not available")
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
