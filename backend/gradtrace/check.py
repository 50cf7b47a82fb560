"""The numeric gradient check: analytic derivatives beside central finite differences.

Reverse mode: for every input x and every element i of it, the central difference of the scalar
L(x) = <seed, f(x)> (the quantity whose gradient the backward pass computes),

    numeric_i = (L(x + h_i e_i) - L(x - h_i e_i)) / (2 h_i),

next to the analytic gradient dL/dx_i. Forward mode: the central difference of f along the
tangent t of the input `wrt`, (f(x + h t) - f(x - h t)) / (2 h), next to `derivative` = J t.

Step: h = cbrt(eps) * max(1, |x_i|) (eps = 2^-52). A central difference has truncation error
h^2 |f'''| / 6 and rounding error about eps |L| / h; their sum is smallest at h ~ cbrt(3 eps) ~
eps^(1/3) (about 6e-6 for values of order 1), which leaves about eps^(2/3) ~ 4e-11 relative error
for smooth functions. `max(1, |x_i|)` keeps the step relative for large values and absolute near
0. The step is rounded so that x + h is exact ((x + h) - x), as Numerical Recipes advises.

Error: |analytic - numeric| / max(|analytic| + |numeric|, floor), the largest over elements, where
floor is the finite difference's own rounding noise, eps (|L(x+h)| + |L(x-h)|) / h, divided by the
tolerance: a difference that is pure noise (an analytic 0 beside a numeric 1e-12) then counts as
within tolerance instead of as a relative error of 1. Verdict: pass if the error is at most
TOLERANCE = 1e-5 (far above the ~1e-10 of smooth functions at this step, far below any wrong
derivative; torch.autograd.gradcheck uses rtol 1e-3 with a 1e-6 step).

Kinks: relu and abs at 0 and max/min at a tie have no derivative; the analytic value follows
PyTorch (relu'(0) = 0, abs'(0) = 0, a tie split evenly), while the finite difference straddles the
kink and sees the mean of the one-sided slopes. A kink is detected, not guessed: a perturbation
that changes the side of a kink (the sign of relu's or abs's operand, of a - b for max/min) at any
node is recorded, and the input gets a note; a disagreement there has verdict "kink", not "fail".

Cost: two forward passes per input element, on the graph already built (no re-parse). Before any
pass, the whole check's work (passes x (nodes + numbers per pass)) is held against the settings'
`max_check_evaluations` and `max_check_work`; past them the check answers a "limit" error with the
span of the largest input, instead of running for minutes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .codec import encode, encode_number
from .engine import Graph, forward
from .errors import GradtraceError
from .ops import Array
from .schema import Check, InputCheck, Verdict
from .settings import Settings

if TYPE_CHECKING:
    from .analysis import Analysis

EPS = float(np.finfo(np.float64).eps)
STEP = EPS ** (1.0 / 3.0)  # ~6.06e-6: the step of a central difference (see the module doc)
TOLERANCE = 1e-5

METHOD = ("central finite differences in float64, h = cbrt(eps) * max(1, |x_i|) per element; "
          "error |analytic - numeric| / max(|analytic| + |numeric|, noise floor)")


def _step(x: Array) -> Array:
    """Per-element step, rounded so that (x + h) - x == h exactly."""
    h = STEP * np.maximum(1.0, np.abs(x))
    with np.errstate(all="ignore"):
        exact = (x + h) - x
    return np.asarray(np.where(np.isfinite(exact) & (exact > 0), exact, h), dtype=np.float64)


def _kink_margins(graph: Graph, vals: Sequence[Array]) -> dict[int, Array]:
    """For every node of an op with kinks (its registry entry's `kink`): the sign of the quantity
    whose sign picks the branch."""
    out: dict[int, Array] = {}
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            kink = node.operation.kink if node.op else None
            if kink is not None:
                out[node.index] = np.sign(kink([vals[a] for a in node.args]))
    return out


def _crossed(graph: Graph, base: Mapping[int, Array], vals: Sequence[Array]) -> list[int]:
    moved = _kink_margins(graph, vals)
    return [i for i, s in base.items() if s.shape == moved[i].shape
            and not np.array_equal(s, moved[i], equal_nan=True)]


def _error(analytic: Array, numeric: Array, noise: Array) -> tuple[float, float]:
    """(the largest relative error with the noise floor, the largest absolute error)."""
    with np.errstate(all="ignore"):
        diff = np.abs(analytic - numeric)
        floor = np.maximum(noise / TOLERANCE, np.finfo(np.float64).tiny)
        rel = diff / np.maximum(np.abs(analytic) + np.abs(numeric), floor)
        # Identical values (both infinite too) agree exactly.
        rel = np.where(analytic == numeric, 0.0, rel)
        diff = np.where(analytic == numeric, 0.0, diff)
    if rel.size == 0:
        return 0.0, 0.0
    return float(np.max(rel)), float(np.max(diff))


def _verdict(rel: float, kinks: list[int]) -> Verdict:
    if not np.isfinite(rel):
        return "nonfinite"
    if rel <= TOLERANCE:
        return "pass"
    return "kink" if kinks else "fail"


def _kink_note(graph: Graph, name: str, kinks: list[int]) -> str:
    shown = ", ".join(
        f"{graph.nodes[i].op} at '{graph.source[graph.nodes[i].start:graph.nodes[i].end][:30]}'"
        for i in kinks[:3])
    return (f"'{name}': the finite difference crosses a kink ({shown}). There the derivative does "
            "not exist; the analytic value follows PyTorch (relu'(0) = 0, abs'(0) = 0, a max/min "
            "tie split evenly, a max-pooling window's gradient to its first largest entry) while "
            "the central difference sees the mean of the one-sided slopes, so the two may "
            "disagree without either being wrong.")


def _budget(graph: Graph, passes: int, vals: Sequence[Array], settings: Settings,
            largest: str | None) -> None:
    per_pass = len(graph.nodes) + sum(int(v.size) for v in vals)
    work = passes * per_pass
    if passes <= settings.max_check_evaluations and work <= settings.max_check_work:
        return
    span = graph.spans[largest] if largest else (0, len(graph.source))
    raise GradtraceError(
        "limit", f"the gradient check needs {passes:,} forward passes (2 per input element) of "
        f"{per_pass:,} nodes and numbers each: {work:,} in all, past the limits of "
        f"{settings.max_check_evaluations:,} passes and {settings.max_check_work:,} in all; "
        "check with smaller inputs", *span,
    )


def _loss(seed: Array, out: Array) -> float:
    with np.errstate(all="ignore"):
        return float(np.sum(seed * out))


def check_reverse(a: Analysis, grads: Mapping[str, Array]) -> Check:
    """The check of every input's gradient against central differences of <seed, f(x)>."""
    graph, inputs, vals, seed, settings = a.graph, a.inputs, a.values, a.seed, a.settings
    names = graph.differentiable  # labels are whole numbers: no step can move them
    passes = 2 * sum(int(inputs[n].size) for n in names)
    largest = max(names, key=lambda n: inputs[n].size, default=None)
    _budget(graph, passes, vals, settings, largest)
    base_kinks = _kink_margins(graph, vals)
    out_idx = graph.output
    report: dict[str, InputCheck] = {}
    notes: list[str] = []
    for name in names:
        x = inputs[name]
        flat = x.reshape(-1)
        steps = _step(flat)
        numeric = np.empty(flat.size)
        noise = np.empty(flat.size)
        kinks: set[int] = set()
        for i in range(flat.size):
            sides: list[float] = []
            for sign in (1.0, -1.0):
                moved = flat.copy()
                moved[i] = flat[i] + sign * steps[i]
                run = dict(inputs)
                run[name] = moved.reshape(x.shape)
                v = forward(graph, run, settings, a.cancel)
                sides.append(_loss(seed, v[out_idx]))
                kinks.update(_crossed(graph, base_kinks, v))
            with np.errstate(all="ignore"):
                numeric[i] = (sides[0] - sides[1]) / (2.0 * steps[i])
                noise[i] = EPS * (abs(sides[0]) + abs(sides[1])) / steps[i]
        analytic = np.asarray(grads[name], dtype=np.float64).reshape(-1)
        rel, err = _error(analytic, numeric, noise)
        ordered = sorted(kinks)
        verdict = _verdict(rel, ordered)
        note = _kink_note(graph, name, ordered) if ordered else None
        if verdict == "nonfinite":
            note = (f"'{name}': a value or a finite difference is not finite (overflow, a log or "
                    "sqrt outside its domain within the step, or a NaN input): no verdict")
        if note:
            notes.append(note)
        report[name] = {
            "analytic": encode(analytic.reshape(x.shape)),
            "numeric": encode(numeric.reshape(x.shape)),
            "rel_error": encode_number(rel),
            "abs_error": encode_number(err),
            "step": encode_number(float(np.max(steps)) if steps.size else 0.0),
            "verdict": verdict,
            "passed": verdict == "pass",
            "note": note,
        }
    return {
        "mode": "reverse",
        "of": "L = <seed, f(x)>",
        "method": METHOD,
        "tolerance": TOLERANCE,
        "evaluations": passes,
        "passed": all(r["passed"] for r in report.values()),
        "inputs": report,
        "notes": notes,
    }


def check_forward(a: Analysis, tangent: Array, derivative: Array) -> Check:
    """The check of forward mode's `derivative` (J t) against (f(x + h t) - f(x - h t)) / 2h."""
    graph, inputs, vals, settings = a.graph, a.inputs, a.values, a.settings
    wrt = a.request.wrt
    assert wrt is not None
    _budget(graph, 2, vals, settings, wrt)
    x = inputs[wrt]
    # One step for the whole direction: scaled to the input's size, divided by the direction's so
    # that the move h t is about cbrt(eps) * max(1, |x|) in its largest element.
    scale = float(np.max(np.abs(x))) if x.size else 0.0
    t_max = float(np.max(np.abs(tangent))) if tangent.size else 0.0
    h = STEP * max(1.0, scale if np.isfinite(scale) else 1.0)
    if np.isfinite(t_max) and t_max > 0:
        h /= t_max
    base_kinks = _kink_margins(graph, vals)
    outs: list[Array] = []
    kinks: set[int] = set()
    for sign in (1.0, -1.0):
        run = dict(inputs)
        with np.errstate(all="ignore"):
            run[wrt] = x + sign * h * tangent
        v = forward(graph, run, settings, a.cancel)
        outs.append(v[graph.output])
        kinks.update(_crossed(graph, base_kinks, v))
    with np.errstate(all="ignore"):
        numeric = (outs[0] - outs[1]) / (2.0 * h)
        noise = EPS * (np.abs(outs[0]) + np.abs(outs[1])) / h
    analytic = np.asarray(derivative, dtype=np.float64)
    rel, err = _error(analytic.reshape(-1), numeric.reshape(-1), noise.reshape(-1))
    ordered = sorted(kinks)
    verdict = _verdict(rel, ordered)
    note = _kink_note(graph, wrt, ordered) if ordered else None
    if verdict == "nonfinite":
        note = (f"'{wrt}': the derivative or its finite difference is not finite: no verdict")
    return {
        "mode": "forward",
        "of": "f(x + h t) along the tangent t of " + wrt,
        "method": METHOD.replace("h = cbrt(eps) * max(1, |x_i|) per element",
                                 "h = cbrt(eps) * max(1, max|x|) / max|t|"),
        "tolerance": TOLERANCE,
        "evaluations": 2,
        "passed": verdict == "pass",
        "inputs": {wrt: {
            "analytic": encode(analytic),
            "numeric": encode(numeric),
            "rel_error": encode_number(rel),
            "abs_error": encode_number(err),
            "step": encode_number(h),
            "verdict": verdict,
            "passed": verdict == "pass",
            "note": note,
        }},
        "notes": [note] if note else [],
    }
