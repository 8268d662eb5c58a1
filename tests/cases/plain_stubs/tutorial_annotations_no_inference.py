# ffq: --no-stub-tags --module __main__ --no-type-inference
# types/tutorial_annotations_no_inference.py with plain stubs: the expectation is FastForward's form, QuantizerStub().
import torch
import torch.nn.functional as F
import fastforward as ff


# helper function called from module
def helper(x: torch.Tensor, y: list[int]):
    y = y + y
    for y_ in y:
        x = x + y_
    return x


class MyModuleWithHelper(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return helper(x, [2])
