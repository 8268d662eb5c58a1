# Parentheses around a name, attribute, call or subscript are redundant (§9.2) and go, in
# any position: `torch.relu((x))` is `relu(x, ...)`, `(k).T` is the hoisted `k.T` with ident
# k_T, `((h))` loses both pairs, `not(m)` keeps its words apart. Parentheses that hold a
# line break stay (without them `s = (x\n.sum())` would not parse), as do parentheses around
# operators.
# e2e: Parens() <- torch.randn(3, 3), torch.randn(3, 3), True
# e2e: Parens() <- torch.randn(3, 3), torch.randn(3, 3), False
import torch


class Parens(torch.nn.Module):
    def forward(self, x, k, flag: bool):
        a = torch.relu((x))
        b = torch.matmul(a, (k).T)
        c = torch.add(((b)), (k[0]), alpha=(2))
        d = (c)if(flag)else(x)
        e = torch.mul(d, (
            k.mT
        ))
        f = torch.mul(e, (k  # the key
                          ))
        g = torch.mul(f, (x + k))
        s = (g
             .sum(0))
        g = g + s
        h = [torch.sigmoid((v)) for v in (x, k)]
        if not(flag):
            return(g)
        return g, h, (x.mean())
