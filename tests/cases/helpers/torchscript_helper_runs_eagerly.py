import torch


@torch.jit.script
def scaled_sqrt(query: torch.Tensor, scale_factor: int):
    # TorchScript cannot compile the quantized copy (quantizer modules, fastforward's
    # operators): the copy drops @torch.jit.script and runs eagerly
    return torch.sqrt(torch.tensor(query.size(-1), dtype=torch.float) * scale_factor)


@torch.jit.script_if_tracing
def shift(x: torch.Tensor):
    return x - x.mean()


class Scripted(torch.nn.Module):
    def forward(self, q):
        return shift(q) / scaled_sqrt(q, 2)
