"""The explicit Jacobian of one tensor edge, for display only.

For an edge from source s (n numbers) to target z = op(..., s, ...) (m numbers), the Jacobian is
the m x n matrix J[i, j] = d z_i / d s_j, target and source flattened in C order. The engine never
forms it: the backward pass applies the op's VJP, g -> J^T g, to the upstream gradient. Here row i
is that same VJP applied to the unit upstream e_i (then summed back over broadcast axes, as the
engine does), so the matrix is exactly the linear map the engine's implicit VJP applies, and
upstream (flattened) @ J equals the edge's downstream.

Only small edges get it (m n at most `max_jacobian_entries`, 64 by default: an 8 x 8 matrix is
what a slide or a side panel can show legibly, and 64 VJPs of tiny tensors cost microseconds).
For any other tensor edge the record says how big it would be (`jacobian_size` = m n): for a
256 x 256 matmul weight edge with a 256 x 256 output, 65,536^2 ~ 4.3 billion numbers (34 GB of
float64), which is why backpropagation never builds it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .ops import Array, Op, unbroadcast


def jacobian_size(source_shape: tuple[int, ...], target_shape: tuple[int, ...]) -> int:
    return math.prod(target_shape) * math.prod(source_shape)


def edge_jacobian(op: Op, args: Sequence[Array], out: Array, arg: int) -> Array:
    """J[i, j] = d out_i / d args[arg]_j, one row per unit upstream vector through the VJP."""
    src_shape = args[arg].shape
    m, n = out.size, args[arg].size
    jac = np.zeros((m, n))
    with np.errstate(all="ignore"):
        for i in range(m):
            unit = np.zeros(m)
            unit[i] = 1.0
            row = op.vjp(unit.reshape(out.shape), args, out)[arg]
            jac[i] = np.asarray(unbroadcast(np.asarray(row, dtype=np.float64), src_shape),
                                dtype=np.float64).reshape(-1)
    return jac
