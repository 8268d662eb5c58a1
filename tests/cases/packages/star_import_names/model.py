# e2e: StarNet() <- torch.randn(2, 8)
from .common import *  # torch, nn, F and EPS come from here


class StarNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = F.relu(self.fc(x)) + EPS
        return torch.flatten(y, 1)
