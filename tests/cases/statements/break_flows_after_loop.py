import torch


class FirstPositive(torch.nn.Module):
    def forward(self, xs):
        best = xs[0].clone()
        for x in xs:
            if x.sum() > 0:
                best = x.clone()
                break
            if x.sum() == 0:
                continue
        return best * 2
