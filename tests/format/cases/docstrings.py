def f():
    '''   Docstring.   '''

def g():
  """
  Multi   

    indented
	tabbed
  end"""

def h():
    """Ends with quote\""""

def i():
    """   """

def j():
    """Line
    """

def k():
    r"""Raw\n"""
    x = 1
class A:
    """Doc."""
    x = 1
class B:

    """Doc."""


    def f(self): pass
def l():
    """A very long docstring line that goes past the hundred character line width limit for sure yes"""
