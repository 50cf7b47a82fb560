"""The op registry: one entry per op, everything about it in one place (core.py says what).

Importing this package registers every op: elementwise.py (arithmetic and functions of one
number), reductions.py (sum, mean, softmax), tensor.py (matmul, conv2d), composites.py (ops made
of others) and gradient.py (the ops only gradient graphs use). The language's tables below are
read off the registry.
"""

from __future__ import annotations

import numpy as np

from . import (  # noqa: F401 (they register the ops)
    composites,
    elementwise,
    functions,
    gradient,
    indexing,
    layers,
    losses,
    reductions,
    shapes,
    tensor,
)
from .core import (
    GATE_TEXT,
    OUT_SLOT,
    REGISTRY,
    SLOT,
    Array,
    Attr,
    AttrError,
    Attrs,
    Builder,
    CodeArgs,
    Op,
    OpCode,
    Rule,
    Shape,
    ShapeError,
    Spellings,
    catalogue,
    composite,
    family,
    fmt_shape,
    gradient_nodes,
    no_gradient,
    register,
    resolve,
    unbroadcast,
    vjp_tex,
)

# The language: operators and functions, by the names the parser sees, read off the entries.
BINARY_OPERATORS = {op.operator: name for name, op in REGISTRY.items()
                    if op.operator is not None and op.arity == 2}
FUNCTIONS = {alias: name for name, op in REGISTRY.items() if op.named and not op.internal
             for alias in (name, *op.aliases)}
CONSTANTS = {"pi": float(np.pi), "e": float(np.e)}

__all__ = [
    "BINARY_OPERATORS", "CONSTANTS", "FUNCTIONS", "GATE_TEXT", "OUT_SLOT", "REGISTRY", "SLOT",
    "Array", "Attr", "AttrError", "Attrs", "Builder", "CodeArgs", "Op", "OpCode", "Rule", "Shape",
    "ShapeError",
    "Spellings", "catalogue", "composite", "family", "fmt_shape", "gradient_nodes", "no_gradient",
    "register", "resolve",
    "unbroadcast", "vjp_tex",
]
