"""The one codec between float64 values and JSON: non-finite numbers travel as strings.

JSON has no inf or NaN, so the record writes them as "Infinity", "-Infinity" and "NaN" (the
spellings of JavaScript's `String(x)`, which the frontend's codec in api.ts reads back). Every
other module encodes and decodes numbers through these functions only.
"""

from __future__ import annotations

import math
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

JSON = Any
# A number as JSON: a float, or the spelling of a non-finite one.
Number = float | Literal["Infinity", "-Infinity", "NaN"]
NONFINITE: dict[str, float] = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def encode_number(x: float) -> Number:
    """A float as JSON: itself (a Python float, never a NumPy scalar), or its non-finite
    spelling."""
    if math.isfinite(x):
        return float(x)
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


@overload
def encode(a: NDArray[Any]) -> Number | list[Any]: ...


@overload
def encode(a: None) -> None: ...


@overload
def encode(a: NDArray[Any] | None) -> Number | list[Any] | None: ...


def encode(a: NDArray[Any] | None) -> Number | list[Any] | None:
    """A NumPy value as JSON data: a float, or nested lists; non-finite numbers as strings."""
    if a is None:
        return None
    if a.ndim == 0:
        return encode_number(float(a))
    data: list[Any] = a.tolist()
    if np.isfinite(a).all():
        return data

    def fix(v: JSON) -> JSON:
        if isinstance(v, list):
            return [fix(i) for i in v]
        return encode_number(v)

    fixed: list[Any] = fix(data)
    return fixed


def encode_matrix(m: NDArray[Any]) -> list[list[Number]]:
    """A small 2-D array (a Jacobian, a Hessian) as rows of JSON numbers."""
    return [[encode_number(float(x)) for x in row] for row in m]


def decode_number(v: JSON) -> float:
    """A JSON number or non-finite spelling as a float (KeyError for any other string)."""
    if isinstance(v, str):
        return NONFINITE[v]
    return float(v)


def decode(v: JSON) -> NDArray[np.float64]:
    """The inverse of `encode`: JSON data (numbers, spellings, nested lists) as float64."""

    def fix(x: JSON) -> JSON:
        if isinstance(x, list):
            return [fix(i) for i in x]
        return NONFINITE[x] if isinstance(x, str) else x

    return np.asarray(fix(v), dtype=np.float64)
