# Found by the sweep (torchvision/models/detection/transform.py): when a
# comprehension whose element gets rewritten is broken over several lines,
# the `for a, b in` target is split at its comma, which is invalid Python.
import torch


class M(torch.nn.Module):
    def forward(self, new_size, original_size, boxes):
        ratios = [
            torch.div(torch.tensor(s, dtype=torch.float32, device=boxes.device), torch.tensor(s_orig, dtype=torch.float32))
            for s, s_orig in zip(new_size, original_size)
        ]
        return ratios
