"""Test cases for the losses: mse, cross_entropy, nll_loss, binary cross-entropy, hinge
(see tests/cases.py).

Labels are made by `labels(C)`: whole numbers 0 to C - 1 for every shape of a row (a row's
shapes share their number of classes C, or have more); they take no gradient (`constant`).
References are written in loops and `math`, one example at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .cases import Case, Gen, Shape, normal

# ---------------------------------------------------------------------------------------------
# Generators


def labels(classes: int) -> Gen:
    """Class numbers 0 to classes - 1 (as floats, as the values of a request are)."""
    def gen(rng: np.random.Generator, shape: Shape) -> np.ndarray:
        return rng.integers(0, classes, size=shape).astype(float)
    return gen


def probabilities(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Rows that sum to 1 along the last axis (soft labels)."""
    e = np.exp(rng.normal(size=shape))
    return np.asarray(e / np.sum(e, axis=-1, keepdims=True))


def onehot_rows(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """One-hot rows along the last axis: a label written as probabilities."""
    out = np.zeros(shape)
    for idx in np.ndindex(shape[:-1]):
        out[(*idx, int(rng.integers(0, shape[-1])))] = 1.0
    return out


def unit(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Probabilities clear of 0 and 1."""
    return rng.uniform(0.05, 0.95, size=shape)


def bits(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return np.asarray(rng.choice([0.0, 1.0], size=shape))


def wide(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Logits up to +-8 (sigmoid near 0 and 1)."""
    return rng.uniform(-8.0, 8.0, size=shape)


def quarters(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Scores 0, 0.25 or 0.5: ties, but no margin term at its kink (with margin 1)."""
    return np.asarray(rng.choice([0.0, 0.25, 0.5], size=shape))


# ---------------------------------------------------------------------------------------------
# References


def reduce(per: np.ndarray, reduction: str) -> np.ndarray:
    flat = [float(v) for v in per.reshape(-1)]
    if reduction == "mean":
        return np.asarray(math.fsum(flat) / len(flat))
    if reduction == "sum":
        return np.asarray(math.fsum(flat))
    return per


def ref_log_softmax(row: list[float]) -> list[float]:
    m = max(row)
    lse = m + math.log(math.fsum(math.exp(v - m) for v in row))
    return [v - lse for v in row]


def examples(x: np.ndarray) -> list[tuple[int, ...]]:
    """The index of each example: rows of (N, C), the whole of (C,)."""
    return list(np.ndindex(x.shape[:-1]))


def ref_nll(reduction: str = "mean") -> Callable[..., np.ndarray]:
    def ref(logp: np.ndarray, y: np.ndarray) -> np.ndarray:
        per = np.empty(logp.shape[:-1])
        for i in examples(logp):
            per[i] = -float(logp[i][int(y[i])])
        return reduce(per, reduction)
    return ref


def ref_cross_entropy(reduction: str = "mean") -> Callable[..., np.ndarray]:
    def ref(x: np.ndarray, t: np.ndarray) -> np.ndarray:
        per = np.empty(x.shape[:-1])
        for i in examples(x):
            logp = ref_log_softmax([float(v) for v in x[i]])
            if t.shape == x.shape:
                per[i] = -math.fsum(float(p) * lp for p, lp in zip(t[i], logp, strict=True))
            else:
                per[i] = -logp[int(t[i])]
        return reduce(per, reduction)
    return ref


def ref_mse(reduction: str = "mean") -> Callable[..., np.ndarray]:
    def ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a2, b2 = np.broadcast_arrays(a, b)
        per = np.empty(a2.shape)
        for idx in np.ndindex(per.shape):
            per[idx] = (float(a2[idx]) - float(b2[idx])) ** 2
        return reduce(per, reduction)
    return ref


def ref_bce(reduction: str = "mean") -> Callable[..., np.ndarray]:
    def ref(p: np.ndarray, t: np.ndarray) -> np.ndarray:
        per = np.empty(p.shape)
        for idx in np.ndindex(p.shape):
            pi, ti = float(p[idx]), float(t[idx])
            per[idx] = -(ti * max(math.log(pi), -100.0)
                         + (1.0 - ti) * max(math.log1p(-pi), -100.0))
        return reduce(per, reduction)
    return ref


def ref_bce_logits(reduction: str = "mean") -> Callable[..., np.ndarray]:
    def ref(x: np.ndarray, t: np.ndarray) -> np.ndarray:
        per = np.empty(x.shape)
        for idx in np.ndindex(x.shape):
            xi, ti = float(x[idx]), float(t[idx])
            # max(x, 0) - x t + log(1 + e^-|x|): TensorFlow's stable form.
            per[idx] = max(xi, 0.0) - xi * ti + math.log1p(math.exp(-abs(xi)))
        return reduce(per, reduction)
    return ref


def ref_margin(margin: float = 1.0, reduction: str = "mean", p: int = 1,
               per_class: bool = False) -> Callable[..., np.ndarray]:
    """cs231n's loop: for each example, sum over j != y of max(0, s_j - s_y + margin)."""
    def ref(s: np.ndarray, y: np.ndarray) -> np.ndarray:
        per = np.empty(s.shape[:-1])
        for i in examples(s):
            row, yi = [float(v) for v in s[i]], int(y[i])
            terms = []
            for j, sj in enumerate(row):
                z = margin - row[yi] + sj
                if j != yi and z > 0:
                    terms.append(z ** p)
            per[i] = math.fsum(terms) / (len(row) if per_class else 1)
        return reduce(per, reduction)
    return ref


def ref_l2(x: np.ndarray) -> np.ndarray:
    return np.asarray(math.fsum(float(v) ** 2 for v in x.reshape(-1)))


def ref_class_mask(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    out = np.zeros(s.shape)
    for i in examples(s):
        out[(*i, int(y[i]))] = 1.0
    return out


# ---------------------------------------------------------------------------------------------
# Rows: a single example, a batch, another batch; C = 1 and ties in rows of their own.

SINGLE_AND_BATCH = (((4,), ()), ((3, 4), (3,)), ((6, 4), (6,)))
ONE_CLASS = (((1,), ()), ((3, 1), (3,)), ((2, 1), (2,)))
SAME = (((), ()), ((3,), (3,)), ((2, 3), (2, 3)))
SOFT = (((4,), (4,)), ((3, 4), (3, 4)), ((2, 1), (2, 1)))


def with_labels(scores: Gen, classes: int, shapes: tuple[tuple[Shape, ...], ...],
                reference: Callable[..., np.ndarray], expr: str,
                attrs: dict[str, object] | None = None) -> Case:
    return Case((scores, labels(classes)), shapes, reference, expr, attrs or {}, constant=(1,))


CASES: dict[str, Case] = {
    "class_mask": Case((labels(4), normal), (((3,), (3, 4)), ((), (4,)), ((2,), (2, 4))),
                       ref_class_mask, None, constant=(0,)),
    # nll_loss takes any log-probabilities: the pick does not need them normalised.
    "nll_loss": with_labels(normal, 4, SINGLE_AND_BATCH, ref_nll(), "nll_loss(a, b)"),
    "nll_loss:sum": with_labels(normal, 4, SINGLE_AND_BATCH, ref_nll("sum"),
                                "nll_loss(a, b, reduction='sum')", {"reduction": "sum"}),
    "nll_loss:none": with_labels(normal, 4, SINGLE_AND_BATCH, ref_nll("none"),
                                 "nll_loss(a, b, reduction='none')", {"reduction": "none"}),
    "nll_loss:one_class": with_labels(normal, 1, ONE_CLASS, ref_nll(), "nll_loss(a, b)"),
    "cross_entropy": with_labels(normal, 4, SINGLE_AND_BATCH, ref_cross_entropy(),
                                 "cross_entropy(a, b)"),
    "cross_entropy:sum": with_labels(normal, 4, SINGLE_AND_BATCH, ref_cross_entropy("sum"),
                                     "cross_entropy(a, b, reduction='sum')",
                                     {"reduction": "sum"}),
    "cross_entropy:none": with_labels(normal, 4, SINGLE_AND_BATCH, ref_cross_entropy("none"),
                                      "cross_entropy(a, b, reduction='none')",
                                      {"reduction": "none"}),
    "cross_entropy:one_class": with_labels(normal, 1, ONE_CLASS, ref_cross_entropy(),
                                           "cross_entropy(a, b)"),
    "cross_entropy:torch": with_labels(normal, 4, SINGLE_AND_BATCH, ref_cross_entropy(),
                                       "F.cross_entropy(a, target=b)"),
    # Probabilities of the logits' shape (soft labels, one-hot rows): they get a gradient, as in
    # PyTorch; the language reads probabilities=True off the shapes.
    "cross_entropy:soft": Case((normal, probabilities), SOFT, ref_cross_entropy(),
                               "cross_entropy(a, b)", {"probabilities": True}),
    "cross_entropy:soft_none": Case((normal, probabilities), SOFT, ref_cross_entropy("none"),
                                    "cross_entropy(a, b, reduction='none')",
                                    {"reduction": "none", "probabilities": True}),
    "cross_entropy:onehot": Case((normal, onehot_rows), SOFT, ref_cross_entropy("sum"),
                                 "cross_entropy(a, b, reduction='sum', probabilities=True)",
                                 {"reduction": "sum", "probabilities": True}),
    "mse": Case((normal, normal), (*SAME, ((2, 3), (3,))), ref_mse(), "mse(a, b)"),
    "mse:sum": Case((normal, normal), (*SAME, ((3,), ())), ref_mse("sum"),
                    "mse_loss(a, b, reduction='sum')", {"reduction": "sum"}),
    "mse:none": Case((normal, normal), (*SAME, ((2, 3), (3,))), ref_mse("none"),
                     "mse(a, b, reduction='none')", {"reduction": "none"}),
    # Probabilities: torch refuses infinities and NaN, so the edge values are the range's ends.
    "binary_cross_entropy": Case((unit, unit), SAME, ref_bce(), "binary_cross_entropy(a, b)",
                                 edges=(0.0, 1.0)),
    # Targets 0 and 1 are the ends of their range: the differences that check a gradient step
    # out of it, so these targets are held constant (the row above checks theirs).
    "binary_cross_entropy:hard": Case((unit, bits), SAME, ref_bce(), "bce(a, b)",
                                      constant=(1,), edges=(0.0, 1.0)),
    "binary_cross_entropy:sum": Case((unit, unit), SAME, ref_bce("sum"),
                                     "binary_cross_entropy(a, b, reduction='sum')",
                                     {"reduction": "sum"}, edges=(0.0, 1.0)),
    "binary_cross_entropy:none": Case((unit, unit), SAME, ref_bce("none"),
                                      "binary_cross_entropy(a, b, reduction='none')",
                                      {"reduction": "none"}, edges=(0.0, 1.0)),
    "binary_cross_entropy_with_logits": Case((normal, unit), SAME, ref_bce_logits(),
                                             "binary_cross_entropy_with_logits(a, b)"),
    "binary_cross_entropy_with_logits:wide": Case((wide, bits), SAME, ref_bce_logits(),
                                                  "bce_with_logits(a, b)"),
    "binary_cross_entropy_with_logits:sum": Case(
        (normal, unit), SAME, ref_bce_logits("sum"),
        "bce_with_logits(a, b, reduction='sum')", {"reduction": "sum"}),
    "binary_cross_entropy_with_logits:none": Case(
        (normal, unit), SAME, ref_bce_logits("none"),
        "bce_with_logits(a, b, reduction='none')", {"reduction": "none"}),
    "hinge": with_labels(normal, 4, SINGLE_AND_BATCH, ref_margin(), "hinge(a, b)"),
    "hinge:ties": with_labels(quarters, 3, (((3,), ()), ((4, 3), (4,)), ((3, 5), (3,))),
                              ref_margin(), "svm_loss(a, b)"),
    "hinge:one_class": with_labels(normal, 1, ONE_CLASS, ref_margin(), "hinge(a, b)"),
    "hinge:margin": with_labels(normal, 4, SINGLE_AND_BATCH, ref_margin(0.5),
                                "hinge(a, b, margin=0.5)", {"margin": 0.5}),
    "hinge:sum": with_labels(normal, 4, SINGLE_AND_BATCH, ref_margin(reduction="sum"),
                             "hinge(a, b, reduction='sum')", {"reduction": "sum"}),
    "hinge:none": with_labels(normal, 4, SINGLE_AND_BATCH, ref_margin(2.0, "none"),
                              "hinge(a, b, 2.0, 'none')", {"margin": 2.0, "reduction": "none"}),
    "multi_margin_loss": with_labels(normal, 4, SINGLE_AND_BATCH, ref_margin(per_class=True),
                                     "multi_margin_loss(a, b)"),
    "multi_margin_loss:p2": with_labels(normal, 4, SINGLE_AND_BATCH,
                                        ref_margin(p=2, per_class=True),
                                        "multi_margin_loss(a, b, p=2)", {"p": 2}),
    "multi_margin_loss:none": with_labels(
        normal, 4, SINGLE_AND_BATCH, ref_margin(0.3, "none", per_class=True),
        "F.multi_margin_loss(a, b, margin=0.3, reduction='none')",
        {"margin": 0.3, "reduction": "none"}),
    "l2": Case((normal,), (((),), ((3,),), ((2, 3),), ((2, 2, 3),)), ref_l2, "l2(a)"),
    "l2_loss": Case((normal,), (((),), ((3,),), ((2, 3),), ((2, 2, 3),)),
                    lambda x: np.asarray(float(ref_l2(x)) / 2), "l2_loss(a)"),
}
