"""gradtrace: step through the forward and backward passes of an expression, node by node."""

from .codec import decode, encode
from .errors import GradtraceError
from .trace import Trace, trace

__all__ = ["GradtraceError", "Trace", "decode", "encode", "trace"]
__version__ = "0.1.0"
