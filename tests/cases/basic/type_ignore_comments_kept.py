# Trailing `# type: ignore[...]` comments stay on the statement they annotate, also when
# the statement is rewritten or gets lines inserted before it.
# e2e: Net() <- torch.randn(2, 4)
import torch


class Net(torch.nn.Module):
    def forward(self, x):
        y = torch.relu(x)  # type: ignore[arg-type]
        z = torch.sigmoid(y) * x.sum()  # type: ignore[operator]
        return y + z  # type: ignore
