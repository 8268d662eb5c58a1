def f():
    '   ''   Docstring.   '''


def g():
    x = 1
    '  a ''  b  '


'  a ''  b  '
x = 1
'  a ''  b  '
x = 1


class C:
    '  c ''  d  '
    y = 2


def h():
    '  e ' f'  d  '


def k():
    '  e ' '  d  '  # c


def m():
    (
        'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa '
        '  bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  '
    )


def n():
    b'  e ' b'  d  '


def o():
    '''  e ''' '  d  '
