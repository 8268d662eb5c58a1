from .a.mid import mid_op


def front_op(x, y):
    return mid_op(x, y)
