# ffq: --stub-tags --module statements.augmented_assignment_all_targets
# statements/augmented_assignment_all_targets.py with --stub-tags: each stub says what it quantizes (docs/autoquant.md §3.5).
# e2e: with_attrs(Aug(), acc=torch.zeros(2, 4)) <- torch.randn(2, 4), torch.randn(2, 4), slice(None) ignore-input-mutation
import torch


class Aug(torch.nn.Module):
    def forward(self, x, y, idx):
        x += y
        x *= torch.sigmoid(y)
        self.acc += x
        y[idx] -= x
        return x, y
