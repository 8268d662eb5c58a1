# An operator with a list or tuple operand repeats or joins sequences (a tensor refuses
# such an operand), so it is not a quantized operator even when the elements are tensors:
# `[hidden_states] * 4` stays as written and its targets are ordinary values. (Had it been
# rewritten, the four targets would have been "multiple return values" of a quantized
# operator, and the whole forward left out.)
import torch


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)

    def forward(self, hidden_states, extra: torch.Tensor):
        query, key, value, rest = [hidden_states] * 4
        pair = (extra,) + (key,)
        parts = [query]
        parts += [value]
        return self.lin(parts[0]) + pair[0] * rest
