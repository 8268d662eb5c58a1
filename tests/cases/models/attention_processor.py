# An object the module holds and calls with the module itself (diffusers' attention
# processors: `self.processor(self, h)`, chosen and replaceable at run time) is not a
# submodule: neither ffq nor quantize_model converts it, so its products and softmax run in
# float. The call is reported as a site left in float [callable-attribute]; a submodule
# called without the module (`self.proj(h)`) and a method are not.
# e2e: Attention(4) <- torch.randn(2, 3, 4)
import torch


class DotProductProcessor:
    def __call__(self, attn, hidden_states):
        q = attn.to_q(hidden_states)
        w = torch.softmax(q @ q.transpose(-1, -2), dim=-1)
        return w @ q


class Attention(torch.nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.to_q = torch.nn.Linear(dim, dim)
        self.proj = torch.nn.Linear(dim, dim)
        self.set_processor(DotProductProcessor())

    def set_processor(self, processor) -> None:
        self.processor = processor

    def scale(self, h):
        return h * 2

    def forward(self, hidden_states):
        h = self.processor(self, hidden_states)
        return self.proj(self.scale(h)) + 1
