# torch's own functions take NumPy's names for some parameters (axis for dim, x for input):
# the calls are table ops, emitted under the table's names (fastforward.nn.functional takes
# those only). torch.nn.functional's Python functions do not: softmax(axis=) stays as written.
import torch
import torch.nn.functional as F


class NumpyNames(torch.nn.Module):
    def forward(self, a, b):
        joined = torch.cat([a, b], axis=1)
        total = torch.sum(joined, axis=-1)
        probs = torch.softmax(x=joined, axis=0)
        return total, probs, F.softmax(a, axis=0)
