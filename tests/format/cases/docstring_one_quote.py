class Stripped:
    '  Single quotes, padded.  '


class KeepsSingle:
    '  Holds a " quote.  '


class Unescaped:
    ' It\'s fine. '


class ContinuedSingle:
    ' first\
      second  '


class ContinuedDouble:
    "  first\
      second  "


class OddBackslash:
    '  ends in a backslash\ '


def f():
    "   double quotes, padded   "
