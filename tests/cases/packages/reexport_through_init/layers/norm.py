def scale(x, s: float):
    return x * s
