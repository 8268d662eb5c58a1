# A comprehension variable named like an outer variable is its own producer: the outer
# value keeps its entry quantizer, and the comprehension's is quantized inline.
# e2e: Net() <- torch.randn(2, 4), [torch.randn(2, 4), torch.randn(2, 4)]
import torch


class Net(torch.nn.Module):
    def forward(self, x, xs):
        ys = [torch.relu(x) for x in xs]
        s = sum(x * 2 for x in xs)
        return torch.sigmoid(x) + ys[0] + s
