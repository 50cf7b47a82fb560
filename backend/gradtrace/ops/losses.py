"""The losses, as torch.nn.functional writes them: mse, cross_entropy, nll_loss, binary
cross-entropy (on probabilities and on logits), the multiclass SVM (hinge) loss and torch's
multi_margin_loss, and L2 regularisation (l2, and l2_loss as tf.nn.l2_loss).

Each is a composite, a gate the lecture notes open: cross_entropy opens into log_softmax and
nll_loss, nll_loss into the pick of each example's class, hinge into max(0, s_j - s_y + margin)
summed over the wrong classes. Their gradients follow from the parts; the binary cross-entropies
carry PyTorch's fused backward (its formula at p = 0 or 1 and for huge logits).

Labels (class numbers) are an operand that takes no gradient: whole numbers from 0 to C - 1, one
per example, of the scores' shape without the class axis (scores (N, C), labels (N,); or one
example, scores (C,) and a single label). Any other label is an error in the forward pass, with
the call's span, as PyTorch refuses it ("Target 3 is out of bounds"). cross_entropy tells labels
from probabilities by the target's shape (one axis less than the logits, or the same); its target
takes no gradient either way (which operands take one is fixed per op), though its VJP and JVP
give probabilities PyTorch's, -log_softmax(logits).

`reduction` is PyTorch's: 'mean' (the default) averages the examples' losses, 'sum' adds them,
'none' gives one loss per example (per element for mse and the binary cross-entropies).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from . import elementwise, functions, reductions  # noqa: F401 (the parts must be registered first)
from .core import (
    Array,
    Attr,
    AttrError,
    Builder,
    CodeArgs,
    Op,
    OpCode,
    OperandTangents,
    Shape,
    ShapeError,
    Spellings,
    composite,
    family,
    fmt_shape,
    no_gradient,
    register,
    total,
)
from .elementwise import _sigmoid

REDUCTION = Attr(
    "reduction", "str", "mean", "'mean': the average of the examples' losses (PyTorch's "
    "default); 'sum': their total; 'none': one loss per example.",
    choices=("mean", "sum", "none"))


def _reduce(b: Builder, per: int, reduction: str) -> int:
    if reduction == "mean":
        return b.op("mean", per)
    if reduction == "sum":
        return b.op("sum", per)
    return per


def _reduce_tex(reduction: str, body: str, count: str = "N") -> str:
    """The reduced loss: `count` is N (examples) or n (elements)."""
    if reduction == "mean":
        return f"\\frac{{1}}{{{count}}} \\sum_i {body}"
    if reduction == "sum":
        return f"\\sum_i {body}"
    return body


def _mean_tex(reduction: str, body: str, count: str = "N") -> str:
    """A local derivative of a loss: `body` (a product or in parentheses), over `count` for
    'mean'."""
    return f"\\tfrac{{1}}{{{count}}}{body}" if reduction == "mean" else body


def _at(sym: str, sub: str) -> str:
    """`sym` with a subscript; braced, since the symbol may have one already (x_{1})."""
    return f"{{{sym}}}_{{{sub}}}"


def _spread(g: Array, shape: Shape, reduction: str) -> Array:
    """Each example's share of the upstream gradient of the reduced loss."""
    if reduction == "mean":
        g = g / max(math.prod(shape), 1)
    return np.broadcast_to(g, shape)


def _reduced(per: Array, reduction: str) -> Array:
    if reduction == "mean":
        return np.asarray(np.mean(per))
    if reduction == "sum":
        return np.asarray(np.sum(per))
    return np.asarray(per)


def _num(v: float) -> str:
    return repr(float(v))


def _tex_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


# ---------------------------------------------------------------------------------------------
# Labels: checked in words a student reads.


def _label_shapes(name: str, scores: Shape, labels: Shape, what: str = "scores") -> None:
    if len(scores) not in (1, 2):
        raise ShapeError(
            f"{name} takes {what} of shape (C,) for one example or (N, C) for a batch of N "
            f"examples (C classes), got {fmt_shape(scores)}")
    if scores[-1] == 0:
        raise ShapeError(f"{name}: the {what} have no classes")
    if labels != scores[:-1]:
        one = ("a single label (a scalar)" if len(scores) == 1
               else f"labels of shape {fmt_shape(scores[:-1])}, one class number per example")
        raise ShapeError(f"{name}: {what} of shape {fmt_shape(scores)} take {one}; got "
                         f"{fmt_shape(labels)}")


def _classes(c: int) -> str:
    return "there is 1 class, so every label is 0" if c == 1 else (
        f"there are {c} classes, numbered 0 to {c - 1}")


def _shown(v: float) -> str:
    return f"{v:.12g}"


def check_labels(name: str, labels: Array, classes: int) -> None:
    """Whole numbers from 0 to classes - 1, or a ShapeError saying which label is wrong (`name`:
    the loss, or "" where no loss is at hand)."""
    where = f"{name}: " if name else ""
    flat = np.asarray(labels, dtype=np.float64).reshape(-1)
    with np.errstate(invalid="ignore"):
        odd = flat[~np.isfinite(flat) | (flat != np.round(flat))]
    if odd.size:
        raise ShapeError(f"{where}labels are class numbers, whole numbers, but one is "
                         f"{_shown(float(odd[0]))} ({_classes(classes)})")
    out = flat[(flat < 0) | (flat >= classes)]
    if out.size:
        raise ShapeError(f"{where}the label {_shown(float(out[0]))} is out of range: "
                         f"{_classes(classes)}")


def _onehot(labels: Array, classes: int) -> Array:
    return np.asarray(np.asarray(labels)[..., None] == np.arange(classes))


# class_mask(labels, scores): 1 at each example's class, 0 elsewhere, of the scores' shape. The
# pick of a class (nll_loss, the SVM's correct score) is a `where` on it, so that what is not
# picked gives exactly 0 (a multiply would make 0 * -inf a NaN, which PyTorch's pick does not).


def _mask_shape(shapes: Sequence[Shape]) -> Shape:
    _label_shapes("class_mask", shapes[1], shapes[0])
    return shapes[1]


def _mask_forward(labels: Array, scores: Array) -> Array:
    classes = np.shape(scores)[-1]
    check_labels("", labels, classes)
    return np.asarray(_onehot(labels, classes), dtype=np.float64)


_MASK_NUMPY = '''
def class_mask(labels, scores):
    """1 at each example's class (its label), 0 elsewhere, of the scores' shape."""
    classes = np.shape(scores)[-1]
    return (np.asarray(labels)[..., None] == np.arange(classes)) * 1.0
'''

register(Op(
    "class_mask", 2, "onehot", _mask_shape, _mask_forward,
    lambda g, args, out: (np.zeros(np.shape(args[0])), np.zeros(np.shape(args[1]))),
    jvp=lambda t, args, out: np.zeros(out.shape),
    rule=no_gradient,
    tex=lambda s: f"\\operatorname{{onehot}}({s[0]})",
    local_tex=(lambda s: "0", lambda s: "0"),
    elementwise=False,
    code=OpCode("class_mask({0}, {1})",
                "torch.nn.functional.one_hot({0}.long(), {1}.shape[-1]).double()",
                ("np.zeros_like({0})", "np.zeros_like({1})"),
                tangent=("np.zeros_like({out})", "np.zeros_like({out})"),
                numpy_helper=_MASK_NUMPY),
    no_grad=(0,),
    internal=True,
    differentiable=False,
    doc="1 at each example's class (its label), 0 elsewhere, in the shape of the scores: how a "
    "loss picks the score of the right class.",
))


def _pick(b: Builder, mask: int, x: int) -> int:
    """x at each example's class: the sum along the classes of where(mask, x, 0)."""
    return b.op("sum", b.op("where", mask, x, b.const(0.0)), axis=-1)


def _with_checks(op: Op, shape: Callable[[Sequence[Shape]], Shape],
                 check: Callable[[Sequence[Array]], None]) -> Op:
    """The composite `op` with a shape rule that speaks of the loss, and a forward that checks
    the operand values first (labels, probabilities)."""
    forward = op.forward

    def checked(*args: Array) -> Array:
        check(args)
        return forward(*args)

    return replace(op, shape=shape, forward=checked)


# The NumPy helpers of the generated files, by family (a file has those of the ops it uses):
# the losses written out, with their gradients and tangents, the engine's numbers (the same
# picks and the same order of operations).
_COMMON = '''
def loss_reduce(per, reduction):
    """The examples' losses as PyTorch's `reduction` says: their mean, sum, or each one."""
    if reduction == "mean":
        return np.mean(per)
    if reduction == "sum":
        return np.sum(per)
    return per


def loss_spread(g, shape, reduction):
    """Each example's share of the gradient of the reduced loss."""
    if reduction == "mean":
        g = g / max(int(np.prod(shape)), 1)
    return np.broadcast_to(g, shape)


def loss_onehot(labels, classes):
    """True at each example's class (its label)."""
    return np.asarray(labels)[..., None] == np.arange(classes)
'''

_NUMPY_CE = _COMMON + '''

def loss_log_softmax(x):
    """log softmax along the classes, shifted by the maximum (as PyTorch)."""
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def nll_loss(logp, labels, reduction):
    """minus the log-probability of each example's class, reduced."""
    picked = np.sum(np.where(loss_onehot(labels, np.shape(logp)[-1]), logp, 0.0), axis=-1)
    return loss_reduce(-picked, reduction)


def nll_loss_grad(g, logp, labels, reduction):
    """-g at each example's class (over N for the mean), 0 elsewhere."""
    per = loss_spread(g, np.shape(logp)[:-1], reduction)[..., None]
    return np.where(loss_onehot(labels, np.shape(logp)[-1]), -per, 0.0)


def cross_entropy_logp(logp, target, reduction):
    """The cross-entropy from log-probabilities: of the labels' classes, or against
    probabilities of the same shape."""
    if np.shape(target) == np.shape(logp):
        return loss_reduce(-np.sum(target * logp, axis=-1), reduction)
    return nll_loss(logp, target, reduction)


def cross_entropy(x, target, reduction):
    return cross_entropy_logp(loss_log_softmax(x), target, reduction)


def cross_entropy_grad(g, x, target, reduction):
    """softmax(x) times the target's total, minus the target (one-hot for labels), times g."""
    logp = loss_log_softmax(x)
    per = loss_spread(g, np.shape(x)[:-1], reduction)[..., None]
    if np.shape(target) == np.shape(x):
        dlogp = -per * target
    else:
        dlogp = np.where(loss_onehot(target, np.shape(x)[-1]), -per, 0.0)
    return dlogp - np.exp(logp) * np.sum(dlogp, axis=-1, keepdims=True)


def cross_entropy_target_grad(g, x, target, reduction):
    """-log softmax(x) times g: the gradient of probabilities (labels take none)."""
    if np.shape(target) != np.shape(x):
        return np.zeros_like(target)
    per = loss_spread(g, np.shape(x)[:-1], reduction)[..., None]
    return -per * loss_log_softmax(x)


def cross_entropy_tangent(dx, x, target, reduction):
    logp = loss_log_softmax(x)
    dlogp = dx - np.sum(np.exp(logp) * dx, axis=-1, keepdims=True)
    return cross_entropy_logp(dlogp, target, reduction)


def cross_entropy_target_tangent(dt, x, target, reduction):
    if np.shape(target) != np.shape(x):
        return np.zeros_like(cross_entropy(x, target, reduction))
    return loss_reduce(-np.sum(dt * loss_log_softmax(x), axis=-1), reduction)
'''

_NUMPY_BCE = _COMMON + '''

def binary_cross_entropy(p, t, reduction):
    """-(t log p + (1 - t) log(1 - p)), each log at least -100 (as PyTorch)."""
    per = (t - 1.0) * np.maximum(np.log1p(-p), -100.0) - t * np.maximum(np.log(p), -100.0)
    return loss_reduce(per, reduction)


def binary_cross_entropy_grad(g, p, t, reduction):
    """PyTorch's: g (p - t) / max(p (1 - p), eps), eps the float 1e-12."""
    eps = float(np.float32(1e-12))
    return loss_spread(g, np.shape(p), reduction) * (p - t) / np.maximum((1.0 - p) * p, eps)


def binary_cross_entropy_target_grad(g, p, t, reduction):
    """PyTorch's: -g logit(p)."""
    return loss_spread(g, np.shape(p), reduction) * -np.log(p / (1.0 - p))


def loss_softplus(x):
    """log(1 + e^x), x itself past 20 (torch.nn.functional.softplus)."""
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))


def loss_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def bce_with_logits(x, t, reduction):
    """(1 - t) x + softplus(-x): -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)))."""
    return loss_reduce((1.0 - t) * x + loss_softplus(-x), reduction)


def bce_with_logits_grad(g, x, t, reduction):
    return loss_spread(g, np.shape(x), reduction) * (loss_sigmoid(x) - t)


def bce_with_logits_target_grad(g, x, t, reduction):
    return loss_spread(g, np.shape(x), reduction) * -x
'''

_NUMPY_MARGIN = _COMMON + '''

def multi_margin_parts(s, labels, p, margin):
    """Each class's margin term max(0, margin - s_y + s_j) (squared for p = 2), 0 at the right
    class, with its local derivative; and the mask of the right classes."""
    mask = loss_onehot(labels, np.shape(s)[-1])
    correct = np.sum(np.where(mask, s, 0.0), axis=-1, keepdims=True)
    z = (margin - correct) + s
    live = (z > 0) & ~mask
    term = np.where(live, z if p == 1 else z * z, 0.0)
    local = np.where(live, 1.0 if p == 1 else 2.0 * z, 0.0)
    return term, local, mask


def multi_margin(s, labels, p, margin, reduction, per_class):
    """The multiclass SVM loss: sum over the wrong classes of the margin terms; divided by the
    number of classes for torch's multi_margin_loss (`per_class`)."""
    term = multi_margin_parts(s, labels, p, margin)[0]
    per = np.mean(term, axis=-1) if per_class else np.sum(term, axis=-1)
    return loss_reduce(per, reduction)


def multi_margin_grad(g, s, labels, p, margin, reduction, per_class):
    _, local, mask = multi_margin_parts(s, labels, p, margin)
    per = loss_spread(g, np.shape(s)[:-1], reduction)[..., None]
    if per_class:
        per = per / np.shape(s)[-1]
    dz = np.where(local != 0, per * local, 0.0)
    return np.where(mask, -np.sum(dz, axis=-1, keepdims=True), dz)


def multi_margin_tangent(ds, s, labels, p, margin, reduction, per_class):
    _, local, mask = multi_margin_parts(s, labels, p, margin)
    dz = ds - np.sum(np.where(mask, ds, 0.0), axis=-1, keepdims=True)
    terms = np.where(local != 0, local * dz, 0.0)
    per = np.mean(terms, axis=-1) if per_class else np.sum(terms, axis=-1)
    return loss_reduce(per, reduction)
'''


# ---------------------------------------------------------------------------------------------
# nll_loss(logp, labels): -logp[i, y_i], reduced; as torch.nn.functional.nll_loss.


def _nll_shape(shapes: Sequence[Shape], reduction: str, name: str = "nll_loss",
               what: str = "log-probabilities") -> Shape:
    _label_shapes(name, shapes[0], shapes[1], what)
    return shapes[0][:-1] if reduction == "none" else ()


def _make_nll(reduction: str) -> Op:
    def compose(b: Builder, x: Sequence[int]) -> int:
        logp, labels = x
        per = b.op("neg", _pick(b, b.op("class_mask", labels, logp), logp))
        return _reduce(b, per, reduction)

    def check(args: Sequence[Array]) -> None:
        check_labels("nll_loss", args[1], np.shape(args[0])[-1])

    r = repr(reduction)
    op = composite(
        "nll_loss", 2, "NLL", compose,
        tex=lambda s: _reduce_tex(reduction, "-" + _at(s[0], f"i, {_at(s[1], 'i')}")),
        local_tex=(lambda s: "-" + _mean_tex(reduction, f"\\mathbb{{1}}[j = {_at(s[1], 'i')}]"),
                   lambda s: "0"),
        vjp_tex=(lambda s, z: f"d{s[0]} = -\\operatorname{{onehot}}({s[1]})"
                 + (f"\\,\\frac{{d{z}}}{{N}}" if reduction == "mean" else f" \\odot d{z}"),
                 lambda s, z: f"d{s[1]} = 0"),
        code=OpCode(f"nll_loss({{0}}, {{1}}, {r})",
                    f"torch.nn.functional.nll_loss({{0}}, {{1}}.long(), reduction={r})",
                    (f"nll_loss_grad({{g}}, {{0}}, {{1}}, {r})", "np.zeros_like({1})"),
                    tangent=(f"nll_loss({{g}}, {{1}}, {r})", "np.zeros_like({out})"),
                    numpy_helper=_NUMPY_CE),
        spellings=Spellings((), ("torch.nn.functional.nll_loss",), (), ()),
        no_grad=(1,),
        operand_names=("input", "target"),
        doc="The negative log-likelihood: minus the log-probability of each example's class "
        "(its label), averaged over the examples ('mean'), added ('sum') or each ('none'); as "
        "torch.nn.functional.nll_loss. logp is (C,) with a single label, or (N, C) with N "
        "labels; the labels (whole numbers 0 to C - 1) take no gradient.",
    )
    return _with_checks(op, lambda shapes: _nll_shape(shapes, reduction), check)


register(family(_make_nll, (REDUCTION,)))


# ---------------------------------------------------------------------------------------------
# cross_entropy(logits, target): log_softmax, then nll_loss; or against probabilities.


def _soft(shapes: Sequence[Shape | None]) -> bool:
    """Whether the target holds probabilities: it has the logits' own shape (labels have one
    axis less). Where the shapes are unknown, labels."""
    return shapes[0] is not None and shapes[0] == shapes[1]


def _ce_shape(shapes: Sequence[Shape], reduction: str, soft: bool) -> Shape:
    x, t = shapes
    if len(x) not in (1, 2):
        raise ShapeError(
            "cross_entropy takes logits of shape (C,) for one example or (N, C) for a batch of N "
            f"examples (C classes), got {fmt_shape(x)}")
    if t != x and t != x[:-1]:
        one = "a single label (a scalar)" if len(x) == 1 else (
            f"labels of shape {fmt_shape(x[:-1])}, one class number per example")
        raise ShapeError(
            f"cross_entropy: logits of shape {fmt_shape(x)} take {one}, or probabilities of "
            f"the logits' shape {fmt_shape(x)}; got a target of shape {fmt_shape(t)}")
    if soft != (t == x):
        raise ShapeError(
            f"cross_entropy: probabilities={soft}, but a target of shape {fmt_shape(t)} holds "
            f"{'labels' if soft else 'probabilities'} for logits of shape {fmt_shape(x)}")
    if t == x[:-1]:
        _label_shapes("cross_entropy", x, t, "logits")
    return x[:-1] if reduction == "none" else ()


def _infer_target(shapes: Sequence[Shape | None]) -> dict[str, Any]:
    return {"probabilities": True} if _soft(shapes) else {}


def _make_cross_entropy(reduction: str, probabilities: bool) -> Op:
    soft = probabilities

    def _tgt(s: Sequence[str]) -> str:
        # What the softmax is compared with: the probabilities, or the labels' one-hot rows.
        return s[1] if soft else f"\\operatorname{{onehot}}({s[1]})"

    def compose(b: Builder, x: Sequence[int]) -> int:
        logits, target = x
        logp = b.op("log_softmax", logits)
        if soft:
            per = b.op("neg", b.op("sum", b.op("mul", target, logp), axis=-1))
            return _reduce(b, per, reduction)
        return b.op("nll_loss", logp, target, reduction=reduction)

    def check(args: Sequence[Array]) -> None:
        if not soft:
            check_labels("cross_entropy", args[1], np.shape(args[0])[-1])

    r = repr(reduction)
    op = composite(
        "cross_entropy", 2, "CE", compose,
        tex=lambda s: _reduce_tex(reduction, f"-\\log \\operatorname{{softmax}}({s[0]})"
                                  f"_{{i, {_at(s[1], 'i')}}}"),
        local_tex=(lambda s: _mean_tex(reduction, f"(\\operatorname{{softmax}}({s[0]}) - "
                                                  f"{_tgt(s)})")
                   if reduction == "mean" else f"\\operatorname{{softmax}}({s[0]}) - "
                   f"{_tgt(s)}",
                   # The target's, where it holds probabilities (labels take none).
                   lambda s: ("-" + _mean_tex(reduction,
                                              f"\\log \\operatorname{{softmax}}({s[0]})"))
                   if soft else "0"),
        vjp_tex=(lambda s, z: f"d{s[0]} = (\\operatorname{{softmax}}({s[0]}) - "
                 f"{_tgt(s)})"
                 + (f"\\,\\frac{{d{z}}}{{N}}" if reduction == "mean" else f" \\odot d{z}"),
                 lambda s, z: (f"d{s[1]} = -\\log \\operatorname{{softmax}}({s[0]})"
                               + (f"\\,\\frac{{d{z}}}{{N}}" if reduction == "mean"
                                  else f" \\odot d{z}")) if soft else f"d{s[1]} = 0"),
        code=OpCode(f"cross_entropy({{0}}, {{1}}, {r})",
                    "torch.nn.functional.cross_entropy({0}, {1} if {1}.shape == {0}.shape else "
                    f"{{1}}.long(), reduction={r})",
                    (f"cross_entropy_grad({{g}}, {{0}}, {{1}}, {r})",
                     f"cross_entropy_target_grad({{g}}, {{0}}, {{1}}, {r})"),
                    tangent=(f"cross_entropy_tangent({{g}}, {{0}}, {{1}}, {r})",
                             f"cross_entropy_target_tangent({{g}}, {{0}}, {{1}}, {r})"),
                    numpy_helper=_NUMPY_CE),
        spellings=Spellings((), ("torch.nn.functional.cross_entropy",), (), ()),
        no_grad=() if soft else (1,),
        operand_names=("input", "target"),
        infer=_infer_target,
        doc="Softmax cross-entropy, as torch.nn.functional.cross_entropy: log_softmax of the "
        "logits, then nll_loss, averaged over the examples ('mean'), added ('sum') or each "
        "('none'). The target's shape says what it holds: one axis less than the logits "
        "(logits (N, C), target (N,); logits (C,), a scalar) are labels, whole numbers 0 to "
        "C - 1; the logits' own shape are probabilities (soft labels, one-hot rows), and the "
        "loss is -sum(target * log_softmax(logits)) per example, and the target gets its "
        "gradient, -log_softmax(logits), as in PyTorch. The option probabilities=True or False "
        "is read off the shapes when the call does not give it.",
    )
    return _with_checks(op, lambda shapes: _ce_shape(shapes, reduction, soft), check)


register(family(_make_cross_entropy, (REDUCTION, Attr(
    "probabilities", "bool", False, "whether the target holds probabilities (the logits' "
    "shape) rather than class numbers (one axis less); read off the shapes if not given"))))


# ---------------------------------------------------------------------------------------------
# mse(pred, target): (pred - target)^2, reduced over every element; as F.mse_loss.


def _make_mse(reduction: str) -> Op:
    def compose(b: Builder, x: Sequence[int]) -> int:
        return _reduce(b, b.op("square", b.op("sub", x[0], x[1])), reduction)

    def back(sign: str) -> Callable[[CodeArgs], str]:
        def code(c: CodeArgs) -> str:
            g = c.g
            if reduction == "mean":
                g = f"({c.g} / {max(math.prod(np.broadcast_shapes(*c.shapes)), 1)})"
            expr = f"{sign}2 * ({c.args[0]} - {c.args[1]}) * {g}"
            if reduction != "none" and c.shapes[c.k] != np.broadcast_shapes(*c.shapes):
                expr = f"unbroadcast({expr}, np.shape({c.args[c.k]}))"
            return expr
        return code

    def tangent(sign: str) -> Callable[[CodeArgs], str]:
        def code(c: CodeArgs) -> str:
            local = f"{sign}2 * ({c.args[0]} - {c.args[1]}) * {c.g}"
            return {"mean": f"np.mean({local})", "sum": f"np.sum({local})"}.get(
                reduction, local)
        return code

    r = repr(reduction)
    n = "\\frac{1}{n}" if reduction == "mean" else ""
    two = "\\tfrac{2}{n}" if reduction == "mean" else "2"
    return composite(
        "mse", 2, "MSE", compose,
        tex=lambda s: ((f"{n}\\sum" if reduction != "none" else "")
                       + f"({s[0]} - {s[1]})^{{2}}"),
        local_tex=(lambda s: f"{two}\\,({s[0]} - {s[1]})",
                   lambda s: f"-{two}\\,({s[0]} - {s[1]})"),
        vjp_tex=(lambda s, z: f"d{s[0]} = {two}\\,({s[0]} - {s[1]}) \\odot d{z}",
                 lambda s, z: f"d{s[1]} = -{two}\\,({s[0]} - {s[1]}) \\odot d{z}"),
        code=OpCode(
            {"mean": "np.mean(({0} - {1}) ** 2)", "sum": "np.sum(({0} - {1}) ** 2)"}.get(
                reduction, "({0} - {1}) ** 2"),
            f"torch.nn.functional.mse_loss({{0}}, {{1}}, reduction={r})",
            (back(""), back("-")), tangent=(tangent(""), tangent("-"))),
        spellings=Spellings((), ("torch.nn.functional.mse_loss",),
                            ("tf.keras.losses.mean_squared_error",), ()),
        aliases=("mse_loss",),
        operand_names=("input", "target"),
        doc="The mean squared error, as torch.nn.functional.mse_loss: (pred - target)^2 "
        "averaged over every element ('mean'), added ('sum') or each ('none'). Shapes that "
        "differ broadcast, as in PyTorch (which warns: a (N, 1) prediction against (N,) "
        "targets makes N x N differences).",
    )


register(family(_make_mse, (REDUCTION,)))


# ---------------------------------------------------------------------------------------------
# binary_cross_entropy(p, target): -(t log p + (1 - t) log(1 - p)), each log clamped at -100,
# as PyTorch's kernel; its backward is PyTorch's fused one: g (p - t) / max(p (1 - p), 1e-12)
# for p (finite at p = 0 and 1, where the clamped logs' chain rule gives 0 * inf), and
# -g logit(p) for the target.


# PyTorch's EPSILON of binary_cross_entropy_backward is the float 1e-12 (9.99999996e-13).
_BCE_EPS = float(np.float32(1e-12))


def _same_shape(name: str, what: str) -> Callable[[Sequence[Shape]], Shape]:
    def shape(shapes: Sequence[Shape]) -> Shape:
        a, t = shapes
        if a != t:
            raise ShapeError(f"{name}: the target must have the {what}' shape {fmt_shape(a)} "
                             f"(one target per {what[:-1]}), got {fmt_shape(t)}")
        return a

    return shape


def _check_unit(name: str, what: str, x: Array) -> None:
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    with np.errstate(invalid="ignore"):
        bad = flat[~((flat >= 0) & (flat <= 1))]
    if bad.size:
        hint = (" (for scores of any size, use binary_cross_entropy_with_logits)"
                if what == "probabilities" else "")
        raise ShapeError(f"{name}: the {what} must be between 0 and 1, but one is "
                         f"{_shown(float(bad[0]))}{hint}")


def _reduced_shape(shape: Callable[[Sequence[Shape]], Shape], reduction: str
                   ) -> Callable[[Sequence[Shape]], Shape]:
    def rule(shapes: Sequence[Shape]) -> Shape:
        elements = shape(shapes)
        return elements if reduction == "none" else ()

    return rule


def _expand(b: Builder, g: int, like: int, reduction: str) -> int:
    """The rule's spread of the reduced loss's gradient over the elements."""
    if reduction == "mean":
        return b.op("div", g, b.op("count", like))
    return g


def _make_bce(reduction: str) -> Op:
    def compose(b: Builder, x: Sequence[int]) -> int:
        p, t = x
        # PyTorch's kernel: (t - 1) max(log(1 - p), -100) - t max(log p, -100).
        log_p = b.op("clamp", b.op("log", p), min=-100.0)
        log_q = b.op("clamp", b.op("log1p", b.op("neg", p)), min=-100.0)
        per = b.op("sub", b.op("mul", b.op("sub", t, b.const(1.0)), log_q),
                   b.op("mul", t, log_p))
        return _reduce(b, per, reduction)

    def local(p: Array, t: Array) -> tuple[Array, Array]:
        with np.errstate(all="ignore"):
            return ((p - t) / np.maximum((1.0 - p) * p, _BCE_EPS), -np.log(p / (1.0 - p)))

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        p, t = args
        lp, lt = local(p, t)
        spread = _spread(g, p.shape, reduction)
        return spread * lp, spread * lt

    def jvp(ts: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        p, t = args
        lp, lt = local(p, t)
        parts = [None if d is None else d * lo for d, lo in zip(ts, (lp, lt), strict=True)]
        if all(x is None for x in parts):
            return np.zeros(out.shape)
        return total(out, _reduced(total(np.zeros(p.shape), *parts), reduction))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        p, t = args
        up = _expand(b, g, p, reduction)
        dp = dt = None
        if needs[0]:
            one_minus = b.op("sub", b.const(1.0), p)
            denom = b.op("max", b.op("mul", one_minus, p), b.const(_BCE_EPS))
            dp = b.op("mul", up, b.op("div", b.op("sub", p, t), denom))
        if needs[1]:
            logit = b.op("log", b.op("div", p, b.op("sub", b.const(1.0), p)))
            dt = b.op("mul", up, b.op("neg", logit))
        return dp, dt

    def back(fn: str) -> Callable[[CodeArgs], str]:
        return lambda c: f"{fn}({c.g}, {c.args[0]}, {c.args[1]}, {reduction!r})"

    def tangent(fn: str) -> Callable[[CodeArgs], str]:
        return lambda c: (f"loss_reduce({fn}(np.ones_like({c.args[0]}), {c.args[0]}, "
                          f"{c.args[1]}, 'none') * {c.g}, {reduction!r})")

    def check(args: Sequence[Array]) -> None:
        # p as PyTorch checks it. The targets are not checked (PyTorch refuses them outside
        # [0, 1] too): the loss is linear in t, and the gradient check steps hard targets 0
        # and 1 just outside.
        _check_unit("binary_cross_entropy", "probabilities", args[0])

    over_n = "n\\," if reduction == "mean" else ""
    op = composite(
        "binary_cross_entropy", 2, "BCE", compose, vjp=vjp, jvp=jvp,
        tex=lambda s: _reduce_tex(reduction, f"-({s[1]} \\log {s[0]} + (1 - {s[1]}) "
                                  f"\\log(1 - {s[0]}))", "n"),
        local_tex=(lambda s: f"\\frac{{{s[0]} - {s[1]}}}{{{over_n}{s[0]}\\,(1 - {s[0]})}}",
                   lambda s: _mean_tex(reduction, f"(\\log(1 - {s[0]}) - \\log {s[0]})", "n")
                   if reduction == "mean" else f"\\log(1 - {s[0]}) - \\log {s[0]}"),
        vjp_tex=(lambda s, z: f"d{s[0]} = \\frac{{{s[0]} - {s[1]}}}{{{s[0]}\\,(1 - {s[0]})}}"
                 + (f"\\,\\frac{{d{z}}}{{n}}" if reduction == "mean" else f" \\odot d{z}"),
                 lambda s, z: f"d{s[1]} = (\\log(1 - {s[0]}) - \\log {s[0]})"
                 + (f"\\,\\frac{{d{z}}}{{n}}" if reduction == "mean" else f" \\odot d{z}")),
        code=OpCode(f"binary_cross_entropy({{0}}, {{1}}, {reduction!r})",
                    f"torch.nn.functional.binary_cross_entropy({{0}}, {{1}}, "
                    f"reduction={reduction!r})",
                    (back("binary_cross_entropy_grad"), back("binary_cross_entropy_target_grad")),
                    tangent=(tangent("binary_cross_entropy_grad"),
                             tangent("binary_cross_entropy_target_grad")),
                    numpy_helper=_NUMPY_BCE),
        spellings=Spellings((), ("torch.nn.functional.binary_cross_entropy",),
                            ("tf.keras.losses.binary_crossentropy",), ()),
        aliases=("bce",),
        operand_names=("input", "target"),
        # Not elementwise even with 'none': its operands are checked (probabilities), so it
        # takes no part in the elementwise ops' checks at NaN, negative and large values.
        elementwise=False,
        doc="Binary cross-entropy of probabilities p (between 0 and 1, else an error) against "
        "targets t of the same shape (0 and 1, or between; others are taken as they are, where "
        "PyTorch refuses them), as torch.nn.functional.binary_cross_entropy: -(t log p + (1 - t) "
        "log(1 - p)) with each log at least -100, averaged over the elements ('mean'), added "
        "('sum') or each ('none'). Its gradient is PyTorch's: (p - t) / max(p (1 - p), 1e-12) "
        "for p, finite at p = 0 and 1 (opened, the clamped logs' chain rule gives NaN there); "
        "-logit(p) for t.",
    )
    return _with_checks(op, _reduced_shape(_same_shape("binary_cross_entropy",
                                                       "probabilities"), reduction), check)


register(family(_make_bce, (REDUCTION,)))


# ---------------------------------------------------------------------------------------------
# binary_cross_entropy_with_logits(x, target): (1 - t) x + softplus(-x), which is
# -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))) without overflow at x = +-1000; the
# backward is PyTorch's: g (sigmoid(x) - t) for x, -g x for the target.


def _make_bce_logits(reduction: str) -> Op:
    def compose(b: Builder, x: Sequence[int]) -> int:
        z, t = x
        per = b.op("add", b.op("mul", b.op("sub", b.const(1.0), t), z),
                   b.op("softplus", b.op("neg", z)))
        return _reduce(b, per, reduction)

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        z, t = args
        spread = _spread(g, z.shape, reduction)
        return spread * (_sigmoid(z) - t), spread * -z

    def jvp(ts: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        z, t = args
        parts = [None if ts[0] is None else ts[0] * (_sigmoid(z) - t),
                 None if ts[1] is None else ts[1] * -z]
        if all(x is None for x in parts):
            return np.zeros(out.shape)
        return total(out, _reduced(total(np.zeros(z.shape), *parts), reduction))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        z, t = args
        up = _expand(b, g, z, reduction)
        return (b.op("mul", up, b.op("sub", b.op("sigmoid", z), t)) if needs[0] else None,
                b.op("mul", up, b.op("neg", z)) if needs[1] else None)

    def back(fn: str) -> Callable[[CodeArgs], str]:
        return lambda c: f"{fn}({c.g}, {c.args[0]}, {c.args[1]}, {reduction!r})"

    def tangent(fn: str) -> Callable[[CodeArgs], str]:
        return lambda c: (f"loss_reduce({fn}(np.ones_like({c.args[0]}), {c.args[0]}, "
                          f"{c.args[1]}, 'none') * {c.g}, {reduction!r})")

    def summed(body: str) -> str:
        # A sum of two terms, in parentheses under the reduction's sum.
        return body if reduction == "none" else f"\\left({body}\\right)"

    op = composite(
        "binary_cross_entropy_with_logits", 2, "BCE(σ)", compose, vjp=vjp, jvp=jvp,
        tex=lambda s: _reduce_tex(reduction, summed(f"(1 - {s[1]})\\,{s[0]} + "
                                                    f"\\operatorname{{softplus}}(-{s[0]})"), "n"),
        local_tex=(lambda s: _mean_tex(reduction, f"(\\sigma({s[0]}) - {s[1]})", "n")
                   if reduction == "mean" else f"\\sigma({s[0]}) - {s[1]}",
                   lambda s: "-" + _mean_tex(reduction, s[0], "n")),
        vjp_tex=(lambda s, z: f"d{s[0]} = (\\sigma({s[0]}) - {s[1]})"
                 + (f"\\,\\frac{{d{z}}}{{n}}" if reduction == "mean" else f" \\odot d{z}"),
                 lambda s, z: f"d{s[1]} = -{s[0]}"
                 + (f"\\,\\frac{{d{z}}}{{n}}" if reduction == "mean" else f" \\odot d{z}")),
        code=OpCode(f"bce_with_logits({{0}}, {{1}}, {reduction!r})",
                    f"torch.nn.functional.binary_cross_entropy_with_logits({{0}}, {{1}}, "
                    f"reduction={reduction!r})",
                    (back("bce_with_logits_grad"), back("bce_with_logits_target_grad")),
                    tangent=(tangent("bce_with_logits_grad"),
                             tangent("bce_with_logits_target_grad")),
                    numpy_helper=_NUMPY_BCE),
        spellings=Spellings((), ("torch.nn.functional.binary_cross_entropy_with_logits",),
                            ("tf.nn.sigmoid_cross_entropy_with_logits",), ()),
        aliases=("bce_with_logits",),
        operand_names=("input", "target"),
        doc="Binary cross-entropy of sigmoid(x) against targets t, from the logits x, as "
        "torch.nn.functional.binary_cross_entropy_with_logits: (1 - t) x + softplus(-x), which "
        "does not overflow at x = +-1000; averaged over the elements ('mean'), added ('sum') or "
        "each ('none'). Its gradient is PyTorch's: sigmoid(x) - t for x, -x for t.",
    )
    return replace(op, shape=_reduced_shape(
        _same_shape("binary_cross_entropy_with_logits", "logits"), reduction))


register(family(_make_bce_logits, (REDUCTION,)))


# ---------------------------------------------------------------------------------------------
# The multiclass SVM loss (cs231n): L_i = sum over j != y_i of max(0, s_j - s_{y_i} + margin).
# torch.nn.functional.multi_margin_loss is the same divided by the number of classes C; hinge is
# cs231n's (not divided). The margin term is PyTorch's kernel: z = margin - s_y + s_j, counted
# where z > 0 (so at the kink z = 0 no gradient flows, and a NaN z counts 0, as in PyTorch).

_MARGIN_TORCH = '''
def multi_margin_reference(s, labels, p, margin, reduction, per_class):
    """torch.nn.functional.multi_margin_loss written with torch ops (its kernel has no forward
    mode or double backward): the margin terms max(0, margin - s_y + s_j) (squared for p = 2)
    of the wrong classes j, their mean (per_class) or sum (cs231n's hinge), then `reduction`."""
    labels = labels.long()
    correct = s.gather(-1, labels.unsqueeze(-1))
    z = margin - correct + s
    term = torch.where(z > 0, z, torch.zeros_like(z))
    term = term if p == 1 else term * term
    term = term.masked_fill(torch.nn.functional.one_hot(labels, s.shape[-1]).bool(), 0.0)
    per = term.mean(-1) if per_class else term.sum(-1)
    return per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per
'''


def _margin_kink(margin: float) -> Callable[[Sequence[Array]], Array]:
    def kink(args: Sequence[Array]) -> Array:
        s, labels = (np.asarray(a, dtype=np.float64) for a in args)
        mask = _onehot(labels, s.shape[-1])
        correct = np.sum(np.where(mask, s, 0.0), axis=-1, keepdims=True)
        return np.ravel(((margin - correct) + s)[~mask])

    return kink


def _make_margin(per_class: bool) -> Callable[..., Op]:
    name = "multi_margin_loss" if per_class else "hinge"

    def make(margin: float, reduction: str, p: int = 1) -> Op:
        if p not in (1, 2):
            raise AttrError(f"{name}: p={p}: p is 1 or 2, as in PyTorch")

        def compose(b: Builder, x: Sequence[int]) -> int:
            s, labels = x
            mask = b.op("class_mask", labels, s)
            correct = b.op("sum", b.op("where", mask, s, b.const(0.0)), axis=-1, keepdims=True)
            z = b.op("add", b.op("sub", b.const(margin), correct), s)
            # max(0, z) first, then its square: a NaN z is 0 before it is squared, so that no
            # 0 * NaN reaches the gradient (as PyTorch's kernel, which skips it).
            term = b.op("where", b.op("gt", z, b.const(0.0)), z, b.const(0.0))
            if p == 2:
                term = b.op("mul", term, term)
            term = b.op("where", mask, b.const(0.0), term)
            per = b.op("mean" if per_class else "sum", term, axis=-1)
            return _reduce(b, per, reduction)

        def check(args: Sequence[Array]) -> None:
            check_labels(name, args[1], np.shape(args[0])[-1])

        def shape(shapes: Sequence[Shape]) -> Shape:
            _label_shapes(name, shapes[0], shapes[1])
            return shapes[0][:-1] if reduction == "none" else ()

        args = f"{p}, {_num(margin)}, {reduction!r}, {per_class}"
        delta = _tex_num(margin)
        c = "\\frac{1}{C}" if per_class else ""
        per_c = "C" if per_class else ""

        def term(s: Sequence[str]) -> str:
            """The margin term of score x_ij: x_ij - x_i,y_i + margin."""
            return f"{_at(s[0], 'ij')} - {_at(s[0], 'i' + _at(s[1], 'i'))} + {delta}"

        def slope(s: Sequence[str]) -> str:
            """m_ij, the slope of a wrong class's max(0, term)^p (0 for the right class)."""
            wrong = f"\\mathbb{{1}}[j \\neq {_at(s[1], 'i')}]"
            return (f"m_{{ij}} = {wrong}\\,\\mathbb{{1}}[{term(s)} > 0]" if p == 1 else
                    f"m_{{ij}} = {wrong}\\,2\\max(0, {term(s)})")

        # The score x_ij gets m_ij; the right class's, minus the sum of its row's m.
        over = {"mean": f"\\tfrac{{1}}{{N{per_c}}}", "sum": c and "\\tfrac{1}{C}",
                "none": c and "\\tfrac{1}{C}"}[reduction]

        def scaled(body: str) -> str:
            return f"{over}\\left({body}\\right)" if over else body

        def up(z: str) -> str:
            """The upstream gradient as each example's share."""
            if reduction == "mean":
                return f"\\frac{{d{z}}}{{N{per_c}}}"
            if reduction == "sum":
                return f"\\frac{{d{z}}}{{C}}" if per_class else f"d{z}\\,"
            return f"\\tfrac{{1}}{{C}}\\,d{z} \\odot " if per_class else f"d{z} \\odot "

        op = composite(
            name, 2, "SVM" if not per_class else "margin", compose,
            tex=lambda s: _reduce_tex(reduction, f"{c}\\sum_{{j \\neq {_at(s[1], 'i')}}} "
                                      f"\\max(0, {term(s)})" + ("" if p == 1 else "^{2}")),
            local_tex=(lambda s: scaled(f"m_{{ij}} - \\mathbb{{1}}[j = {_at(s[1], 'i')}]"
                                        f"\\textstyle\\sum_{{j'}} m_{{ij'}}") + f",\\ {slope(s)}",
                       lambda s: "0"),
            vjp_tex=(lambda s, z: f"d{s[0]} = {up(z)}\\left(m - \\operatorname{{onehot}}({s[1]})"
                     f" \\odot \\textstyle\\sum_{{j'}} m_{{ij'}}\\right)",
                     lambda s, z: f"d{s[1]} = 0"),
            kink=_margin_kink(margin),
            code=OpCode(f"multi_margin({{0}}, {{1}}, {args})",
                        f"multi_margin_reference({{0}}, {{1}}, {args})",
                        (f"multi_margin_grad({{g}}, {{0}}, {{1}}, {args})", "np.zeros_like({1})"),
                        tangent=(f"multi_margin_tangent({{g}}, {{0}}, {{1}}, {args})",
                                 "np.zeros_like({out})"),
                        numpy_helper=_NUMPY_MARGIN, torch_helper=_MARGIN_TORCH),
            spellings=Spellings((), ("torch.nn.functional.multi_margin_loss",), (), ())
            if per_class else Spellings(),
            no_grad=(1,),
            operand_names=("input", "target"),
            aliases=() if per_class else ("svm_loss",),
            doc=("torch.nn.functional.multi_margin_loss: for each example, the mean over the "
                 "classes of max(0, margin - s_y + s_j)^p for the wrong classes j (0 for the "
                 "right one), p = 1 or 2; averaged over the examples ('mean'), added ('sum') or "
                 "each ('none'). cs231n's hinge is C times it." if per_class else
                 "The multiclass SVM loss of cs231n: for each example, the sum over the wrong "
                 "classes j of max(0, s_j - s_y + margin), s_y the score of the right class "
                 "(its label); averaged over the examples ('mean'), added ('sum') or each "
                 "('none'); in PyTorch, torch.nn.functional.multi_margin_loss(s, y, "
                 "margin=margin) * C, since PyTorch divides by the number of classes C. At the "
                 "kink s_j - s_y + margin = 0 no gradient flows, as in PyTorch."),
        )
        return _with_checks(op, shape, check)

    return make


register(family(_make_margin(False), (
    Attr("margin", "float", 1.0, "The margin Δ by which the right class should win."),
    REDUCTION,
)))
register(family(_make_margin(True), (
    Attr("p", "int", 1, "1: the margin terms; 2: their squares."),
    Attr("margin", "float", 1.0, "The margin by which the right class should win."),
    REDUCTION,
)))


# ---------------------------------------------------------------------------------------------
# L2 regularisation: l2(W) = sum(W * W) (the notes write reg * sum(W * W)); l2_loss(W) =
# sum(W^2) / 2, as tf.nn.l2_loss.

register(composite(
    "l2", 1, "L2", lambda b, x: b.op("sum", b.op("mul", x[0], x[0])),
    tex=lambda s: f"\\textstyle\\sum {s[0]}^{{2}}",
    local_tex=(lambda s: f"2\\,{s[0]}",),
    vjp_tex=(lambda s, z: f"d{s[0]} = 2\\,{s[0]}\\,d{z}",),
    code=OpCode("np.sum({0} * {0})", "torch.sum({0} * {0})", ("2 * {0} * {g}",),
                tangent=("np.sum(2 * {0} * {g})",)),
    doc="The squared L2 norm, sum(W * W): the regulariser of the notes' reg * sum(W * W). Its "
    "gradient is 2 W.",
))

register(composite(
    "l2_loss", 1, "L2/2", lambda b, x: b.op("div", b.op("sum", b.op("mul", x[0], x[0])),
                                            b.const(2.0)),
    tex=lambda s: f"\\tfrac{{1}}{{2}} \\textstyle\\sum {s[0]}^{{2}}",
    local_tex=(lambda s: s[0],),
    vjp_tex=(lambda s, z: f"d{s[0]} = {s[0]}\\,d{z}",),
    code=OpCode("np.sum({0} * {0}) / 2", "torch.sum({0} * {0}) / 2", ("{0} * {g}",),
                tangent=("np.sum({0} * {g})",)),
    spellings=Spellings((), (), ("tf.nn.l2_loss",), ()),
    doc="sum(W^2) / 2, as tf.nn.l2_loss (its gradient is W itself); 0.5 * reg * sum(W * W) "
    "in the notes.",
))
