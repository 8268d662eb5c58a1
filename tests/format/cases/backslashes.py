if a and \
   b:
    pass
x = 1 + \
    2
with open(a) as f, \
     open(b) as g:
    pass
assert x, \
   "msg"
y = f(a, \
   b)
