"""The op registry: one entry per op, everything about it in one place (core.py says what).

Importing this package registers every op: elementwise.py (arithmetic, comparisons, functions
of one number), functions.py (softplus, gelu, leaky_relu, elu, clamp), reductions.py (sum, mean,
amax, logsumexp, var, norm over axes; softmax, log_softmax), shapes.py (reshape, cat, stack, ...),
indexing.py (x[...], index assignment, zeros/ones/arange), tensor.py (dot, matmul, conv2d),
layers.py (pools, linear, layer_norm, batch_norm), losses.py, composites.py (square) and
gradient.py (the ops only gradient graphs use). The language's tables below are read off the
registry; calls.py maps a call's arguments onto an op's operands and attributes.
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
    tex_name,
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
    "register", "resolve", "tex_name",
    "unbroadcast", "vjp_tex",
]
