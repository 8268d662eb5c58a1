# optable: tables/err-malformed-yaml.yaml
import torch


class M(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)
