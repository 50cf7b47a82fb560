"""`trace(expr, values, ...)`: the whole pipeline from Python, returning the API's record.

It is `analyse` (analysis.py) then `record.build` (record.py), the same two calls the API makes.
The record is a plain dict (the JSON the API answers); it keeps its `Analysis`, so that a notebook
can show it as the offline stepping page, and `standalone_html` can lay it out, without tracing
again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from . import record as records
from .analysis import Analysis, analyse, request
from .settings import Settings

Mode = Literal["reverse", "forward"]


class Trace(dict[str, Any]):
    """The trace record: a plain dict (what the API answers), shown as a table by the CLI and,
    in a Jupyter notebook, as the same self-contained stepping page that "Download" gives."""

    analysis: Analysis | None = None

    def _repr_html_(self) -> str | None:
        from .standalone import repr_html  # imported late: the notebook view needs the bundle

        return repr_html(self)


def record_of(a: Analysis) -> Trace:
    """The record of an analysis, as a `Trace` that keeps it."""
    rec = Trace(records.build(a))
    rec.analysis = a
    return rec


def trace(expr: str, values: Mapping[str, object] | None = None, seed: object = None,
          settings: Settings | None = None, mode: Mode = "reverse", wrt: str | None = None,
          tangent: object = None, check: bool = False, hessian: bool = False,
          expand: Iterable[str] = (), rng: int = 0) -> Trace:
    """Trace `expr` with `values` (numbers or nested lists) and output gradient `seed`.

    `mode="forward"` traces forward-mode differentiation instead: the tangents along the input
    `wrt` in the direction `tangent` (ones of the input's shape by default; one number
    broadcasts). `wrt` and `tangent` are ignored in reverse mode; `seed` is checked and recorded
    in both modes but only the reverse pass uses it.

    `check=True` adds `check`: the analytic derivatives beside central finite differences
    (check.py); the rest of the record is the same. `hessian=True` adds `hessian`, the matrix of
    second derivatives of a scalar output over the input numbers (hessian.py). Either holds
    `{"error": {...}}` instead where it cannot be made (over its limit; a vector output).

    `expand` names the gates to open into their parts (`["g3", "g3.2"]`, gates.py), as the
    URL's `expand=`; all are closed by default.

    Inputs that neither `values` nor the text gives get a shape that fits the ops and a value
    (infer.py): 1 for a scalar, else normal numbers drawn by generator `rng`.

    Raises `GradtraceError` (with the span in `expr`) for any problem with the input.
    """
    req = request(expr, values, seed, mode, wrt, tangent, check, hessian, expand, rng)
    return record_of(analyse(req, settings))
