"""Ops that are exact compositions of others: no derivative code of their own.

Each entry says what it is made of (`compose`, written with the same `Builder` as rules); its
forward, shape, VJP, JVP and rule for `grad` follow from the parts' (core.py `composite`).
"""

from __future__ import annotations

from . import elementwise, reductions, tensor  # noqa: F401 (the parts must be registered first)
from .core import OpCode, Spellings, composite, register

register(composite(
    "square", 1, "²", lambda b, x: b.op("mul", x[0], x[0]),
    tex=lambda s: f"{s[0]}^{{2}}",
    local_tex=(lambda s: f"2\\,{s[0]}",),
    code=OpCode("np.square({0})", "torch.square({0})", ("2 * {0} * {g}",)),
    spellings=Spellings(("numpy.square",), ("torch.square",), ("tf.math.square",)),
    doc="x times itself.",
))
