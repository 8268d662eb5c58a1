import torch


class Documented(torch.nn.Module):
    """A module with comments everywhere."""

    def forward(self, x, y):
        """Adds and squashes.

        The docstring stays where it is.
        """
        # first the sum
        s = x + y  # trailing comment
        # then the squash
        return torch.sigmoid(s)
