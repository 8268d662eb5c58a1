from .blocks import *  # noqa: F403
from .norm import scale as rescale
