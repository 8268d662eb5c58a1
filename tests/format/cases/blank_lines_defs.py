"""Doc."""
def f():
    """Doc."""

    return 1
def g():
    """Doc."""
    return 1
def h(): ...
@overload
def k(): ...
@overload
def k(x): ...
def k(x=None): pass
x = 1
def m():
    # leading comment
    x = 1
    if x:
        # c
        pass

    # trailing in m

# after m
y = 2
class C:
    x: int
    def f(self):

        # comment first
        pass
    class D:
        pass
    y = 1
for i in x:

    # c
    pass
while x:

    pass
