# e2e: skip it imports modules that do not exist: the case checks which calls warn
# A script's own statements that hand its model to functions of a library that is not
# installed: lower-case callees are functions (no warning that their module is missing);
# a capitalised one may be a submodule class, so its missing module is still reported.
# A class reached from the script keeps the warning for its own calls (one per module).
import torch
import not_installed_helpers as helpers
import not_installed_lib as lib
import not_installed_wrappers as wrappers
from not_installed_helpers import report


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)
        self.extra = lib.make_extra()

    def forward(self, x):
        return torch.relu(self.fc(x))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()

    def forward(self, x):
        return self.block(x) + 1


quantized = helpers.autoquantize(Net(), auto_import=True)
report(Net())
wrapped = wrappers.Wrapper(Net())
