import torch


# The helper that does the work, three files away from the model.
def deep_op(x, y):
    return torch.matmul(x, y)
