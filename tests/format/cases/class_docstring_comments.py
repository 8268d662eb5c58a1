class NormalDist:
    "Normal distribution"

    # https://a
    # https://b

    __slots__ = 1
