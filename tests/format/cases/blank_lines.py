"""Module doc."""
import os
x = 1
# comment before def

def f():

    x = 1



    y = 2
    def g():
        pass
    z = 3
    if x:

        pass
    for a in b:
        # c
        pass
class A:

    x = 1
    def f(self):
        pass



    # trailing comment in class



# leading comment of y
y = 3
@dec
# between
def h(): pass
if x:
    pass
# comment at end of if
else:
    pass
try:
    pass
except E as e:
    pass
finally: pass
