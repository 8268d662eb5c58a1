"""Float models the export tests quantize (ffq reads this file's source for autoquant)."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class TransformerBlock(nn.Module):
    """A pre-norm transformer block: multi-head self-attention and a GELU MLP, residuals."""

    def __init__(self, d: int = 32, heads: int = 4, hidden: int = 64) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.up = nn.Linear(d, hidden)
        self.down = nn.Linear(hidden, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.heads
        qkv = self.qkv(self.ln1(x)).reshape(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // h)
        attn = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(attn, v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(ctx)
        return x + self.down(F.gelu(self.up(self.ln2(x))))


class BasicBlock(nn.Module):
    """ResNet's basic block, batch norm folded into the convolutions' biases."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(x)))
        s = x if self.shortcut is None else self.shortcut(x)
        return F.relu(y + s)


class ResNet18Like(nn.Module):
    """ResNet-18's layout (stem, 4 stages of 2 basic blocks, pooling, head)."""

    def __init__(self, classes: int = 10, width: int = 64) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, width, 7, 2, 3)
        self.pool = nn.MaxPool2d(3, 2, 1)
        blocks = []
        cin = width
        for mult, stride in ((1, 1), (2, 2), (4, 2), (8, 2)):
            cout = width * mult
            blocks.append(BasicBlock(cin, cout, stride))
            blocks.append(BasicBlock(cout, cout, 1))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.stem(x)))
        x = self.blocks(x)
        return self.fc(torch.flatten(x.mean((2, 3)), 1))


def sdpa_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)


# chosen by name at run time, as transformers' ALL_ATTENTION_FUNCTIONS: autoquant cannot
# follow the call, so torch's fused attention runs in float between the quantized layers
ATTENTION_FUNCTIONS = {"sdpa": sdpa_attention}


class GroupedQueryAttention(nn.Module):
    """Attention with fewer key / value heads than query heads, handed to torch's fused
    attention with ``enable_gqa=True`` through a table of attention functions (as
    transformers' Llama, Mistral and Qwen call it)."""

    def __init__(self, d: int = 32, heads: int = 4, kv_heads: int = 2) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, d // heads
        self.implementation = "sdpa"
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * kv_heads * self.head_dim)
        self.out = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q = self.q(x).reshape(b, t, self.heads, self.head_dim).transpose(1, 2)
        k, v = self.kv(x).reshape(b, t, 2, self.kv_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        y = ATTENTION_FUNCTIONS[self.implementation](q, k, v)
        return self.out(y.transpose(1, 2).reshape(b, t, d))


class ReshapedMLP(nn.Module):
    """Linear layers with a reshape and a transpose between them (ONNX Runtime's optimiser
    moves QDQ pairs through those)."""

    def __init__(self, d: int = 16) -> None:
        super().__init__()
        self.up = nn.Linear(d, 2 * d)
        self.down = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        y = F.relu(self.up(x)).reshape(b, t, 2, d).transpose(1, 2)
        return self.down(y)


class Conv1DLike(nn.Module):
    """transformers' Conv1D (GPT-2): a linear layer storing its weight [in, out], torch.addmm."""

    def __init__(self, nx: int, nf: int) -> None:
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.2)
        self.bias = nn.Parameter(torch.randn(nf) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class Conv1DMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c_fc = Conv1DLike(64, 96)
        self.c_proj = Conv1DLike(96, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(F.relu(self.c_fc(x)))


class WideMLP(nn.Module):
    """Linear layers whose rows are long enough for ff.quantize's 4-bit weights per group of
    32 inputs (PerBlock), and a convolution."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 3, padding=1)
        self.up = nn.Linear(128, 64)
        self.down = nn.Linear(64, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv(x)).flatten(1)
        return self.down(F.relu(self.up(h)))


class KeyValueCache:
    """A key / value cache object, as transformers' decoders return one (``DynamicCache``)."""

    def __init__(self) -> None:
        self.keys = []


class CachingDecoder(nn.Module):
    """Returns ``{"logits": ..., "past_key_values": <a cache object>}``, as a transformers
    causal LM does by default; its positions go through ``torch.diff`` and a ``cumsum`` of
    booleans (transformers' packed-sequence ids, computed when a decoder runs without a cache
    and without an attention mask). ``logits_to_keep``: transformers' argument of that name
    (0: every position; a number n: the last n; a tensor: those positions)."""

    def __init__(self, d: int = 16) -> None:
        super().__init__()
        self.embed = nn.Linear(d, d)
        self.head = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, logits_to_keep: int = 0) -> dict:
        h = self.embed(x)
        positions = torch.arange(x.shape[1]).expand(x.shape[0], -1)
        starts = torch.diff(positions, prepend=positions[:, :1] - 1, dim=-1) != 1
        sequence = starts.cumsum(-1)
        cache = KeyValueCache()
        cache.keys.append(h)
        h = h * sequence.unsqueeze(-1).to(h.dtype)
        kept = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        return {"logits": self.head(h[:, kept, :]), "past_key_values": cache}


def fills_keywords(forward):
    """Passes ``scale`` on as a keyword, as transformers' decorators pass ``use_cache``."""
    def wrapper(self, *args, **kwargs):
        kwargs.setdefault("scale", None)
        return forward(self, *args, **kwargs)
    wrapper.__wrapped__ = forward
    return wrapper


class DecoratedMLP(nn.Module):
    """A forward behind a decorator that fills in one of its keyword arguments."""

    def __init__(self, d: int = 16) -> None:
        super().__init__()
        self.fc = nn.Linear(d, d)

    @fills_keywords
    def forward(self, x: torch.Tensor, scale: float = None) -> torch.Tensor:
        return self.fc(x) * (1.0 if scale is None else scale)
