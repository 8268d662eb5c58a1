xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx = fffffffffffffffffffffffffffffffffffffff(ddddddddddddd)
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx = fffffffffffffffffffffffffffffffffffffff(ddddddd, eeeee)
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx = aaaaaaaaaaaaa.fffffffffffffffffffffffff(ddddddd, eeeee)
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx = aaaaaaaaaaaaaaaaaaaaaaaaaaaaa + bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.cccccc(xxxxxxxxxxxxxxxxxxxxxxxxxx, yyyyyyyyyyyyyyy)
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx = aaaaaaaaaaaaaaaaaaaaaaaaaaaaa + bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb + cccccc(xxxxxxxxxxxxxxxxxxxxxxxxxx, yyyyyyyyyyyyyyy)
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
def f():
    return fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff(ddddddddddddd, e)
    return aaaaaaaaaaaaaaaaaa.fffffffffffffffffffffffffffffffffffffffffffffffffffffffff(ddddddddddddd, e)
    return aaaaaaaaaaaaaaaaaa.fffffffffffffffffffffffffffffffffffffffffffffffffffffffff(dddddddddddddddddddddddddddddddddddd, e)
    if aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa and bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb or cccccccccccccccccccccccc:
        pass
    x[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa] = fffffffffffffffffffffffffffffffffffffffffffffffff(ddddddddddddd, e)
    self.xxxxxxxxxxxxxxxxxxxxxxxxxxxx = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(inplace=True), nn.Conv2d(64, 64, 3))
