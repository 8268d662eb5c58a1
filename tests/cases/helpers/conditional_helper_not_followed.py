import torch
import torch.nn.functional as F

# The module binds `act` in one of two branches: which one runs is known only when the
# module runs, so calls to it are not followed (converting the last definition would
# compute the fallback where the module uses F.mish).
if hasattr(F, "mish"):

    def act(x):
        return F.mish(x)

else:

    def act(x):
        return x * torch.tanh(F.softplus(x))


def scale(x):  # one unconditional definition: followed
    return x * 2


class M(torch.nn.Module):
    def forward(self, x):
        return act(x) + scale(x)
