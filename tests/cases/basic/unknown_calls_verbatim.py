import torch


class Reshape(torch.nn.Module):
    def forward(self, x):
        n = x.shape[0]
        flat = x.view(n, -1)
        zeros = torch.zeros(3)
        print("shape", flat.shape)
        return flat
