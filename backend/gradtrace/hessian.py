"""The Hessian of a scalar output: second derivatives by forward mode over the gradient graph.

`gradient_graph` extends the expression's graph with the nodes of every d f / d x_i, built from
differentiable ops as `grad(f, x_i)` builds them. The Hessian is the Jacobian of that gradient:
one forward-mode pass (the ops' JVPs) per input number j, along the unit direction e_j, gives the
column H[:, j] as the tangents of the gradient nodes (forward-over-reverse, as JAX's `hessian`).
It is symmetric up to rounding where f is twice differentiable. At kinks (relu, abs, max, min)
it follows the first derivatives' PyTorch conventions, whose own derivative is 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from .engine import Graph, forward, forward_tangents, gradient_graph
from .errors import GradtraceError
from .ops import Array, fmt_shape

if TYPE_CHECKING:
    from .analysis import Analysis


def _labels(name: str, shape: tuple[int, ...]) -> list[str]:
    if shape == ():
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(shape)]


class SecondDerivatives(TypedDict):
    inputs: list[str]  # the inputs, in order of first use
    labels: list[str]  # one per row and column: x, or W[0,1]
    matrix: Array  # H[i][j] = d^2 f / d v_i d v_j


def hessian(a: Analysis) -> SecondDerivatives:
    """{"inputs", "labels", "matrix"}: H[i][j] = d^2 f / d v_i d v_j over the input numbers v
    (inputs in order of first use, tensors flattened in C order).

    The limits are checked before anything is built: the gradient graph is made from the
    analysis's program (no second parse), its forward pass once, then one pass per column."""
    settings, inputs = a.settings, a.inputs
    whole = (0, len(a.graph.source))
    names = a.graph.differentiable  # not labels: they take no gradient
    size = sum(inputs[n].size for n in names)
    if size > settings.max_hessian_elements:
        raise GradtraceError(
            "limit", f"the Hessian is for at most {settings.max_hessian_elements} input numbers "
            f"(a {settings.max_hessian_elements}x{settings.max_hessian_elements} matrix); the "
            f"inputs here have {size:,}", *whole,
        )
    out = a.output
    if out.shape != ():
        raise GradtraceError(
            "shape", f"the Hessian is for a scalar output, and this one has shape "
            f"{fmt_shape(out.shape)}: take sum(...) or mean(...) of it", *whole,
        )
    # The gradient graph begins with the analysed graph's nodes: only its new nodes are computed.
    graph, grads = gradient_graph(a.program, a.request.values, settings)
    work = size * len(graph.nodes)  # one tangent pass over the gradient graph per column
    if work > settings.max_hessian_work:
        raise GradtraceError(
            "limit", f"the Hessian needs {size:,} passes over a gradient graph of "
            f"{len(graph.nodes):,} nodes ({work:,} in all), past the limit of "
            f"{settings.max_hessian_work:,}: ask for it on a smaller expression or fewer "
            "inputs", *whole,
        )
    values = forward(graph, inputs, settings, a.cancel, known=a.values)
    columns = []
    for name in names:
        for j in range(inputs[name].size):
            a.cancel.raise_if_cancelled()
            columns.append(_column(graph, values, grads, names, inputs, name, j))
    matrix = np.array(columns, dtype=np.float64).T if columns else np.zeros((0, 0))
    labels = [label for n in names for label in _labels(n, inputs[n].shape)]
    return SecondDerivatives(inputs=names, labels=labels, matrix=matrix)


def _column(graph: Graph, values: list[Array], grads: Mapping[str, int], names: list[str],
            inputs: Mapping[str, Array], wrt: str, j: int) -> list[float]:
    unit = np.zeros(inputs[wrt].shape)
    unit.flat[j] = 1.0
    tangents = forward_tangents(graph, values, wrt, unit)
    col: list[float] = []
    for name in names:
        t = tangents[grads[name]]
        col.extend([0.0] * inputs[name].size if t is None
                   else np.broadcast_to(t, inputs[name].shape).reshape(-1).tolist())
    return col


def is_symmetric(matrix: Array) -> bool:
    """Whether H = H^T up to rounding (it is wherever f is twice continuously differentiable)."""
    finite = np.abs(matrix[np.isfinite(matrix)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    return bool(np.allclose(matrix, matrix.T, rtol=1e-9, atol=1e-12 * scale, equal_nan=True))
