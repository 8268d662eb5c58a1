from .b.deep import deep_op


def mid_op(x, y):
    return deep_op(x, y) + x
