# A starred element unpacks the whole expression after its star: `[*y.size()[:-1]]` is
# `[*(y.size()[:-1])]`. (tree-sitter-python hangs the star of a lone or first starred
# element on the leftmost name; ffq's tree puts it back over the element.) Nested calls
# move to temporaries without the star, and the star stays in place.
import torch


class Starred(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)

    def forward(self, x):
        y = self.lin(x)
        shape = [*y.size()[:-1]]
        rows = [*torch.relu(y)]
        dims = {*y.shape[:-1]}
        joined = torch.cat([*torch.sigmoid(y).unbind(0)])
        pair = *y.shape[:-1], 2
        return shape, rows, dims, joined, pair
