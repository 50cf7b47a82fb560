"""The losses (ops/losses.py) at their edges, against PyTorch float64 directly: log(0) in the
binary cross-entropy, logits of +-1000 in cross_entropy and bce_with_logits, ties and kinks in the
multiclass SVM loss, probabilities as cross_entropy's target, labels out of range; the classic
examples end to end (cs231n's linear classifier with the SVM loss and L2 regularisation, softmax
cross-entropy on a batch with integer labels); and cross_entropy opening into log_softmax and
nll_loss.

tests/cases_losses.py holds the ordinary rows (every op against its reference, finite
differences, its PyTorch reference in tests/test_torch_reference.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from gradtrace import GradtraceError, decode, trace
from gradtrace import record as records
from gradtrace.analysis import analyse, request
from gradtrace.ops import REGISTRY, ShapeError, resolve

from .helpers import check_invariants, require_torch

INF, NAN = math.inf, math.nan


def close(got: Any, want: Any, what: str = "", rtol: float = 1e-12) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300, equal_nan=True, err_msg=what)


def torch_grads(f: Any, args: list[np.ndarray], wrt: tuple[int, ...], labels: tuple[int, ...] = ()
                ) -> tuple[np.ndarray, list[np.ndarray]]:
    """f's value and gradients in PyTorch float64 (operands in `labels` as integer tensors)."""
    torch = require_torch()
    ts = [torch.tensor(a, dtype=torch.long) if i in labels
          else torch.tensor(a, dtype=torch.float64, requires_grad=i in wrt)
          for i, a in enumerate(args)]
    out = f(*ts)
    gs = torch.autograd.grad(out.sum(), [ts[i] for i in wrt])
    return out.detach().numpy(), [g.numpy() for g in gs]


def engine(name: str, args: list[np.ndarray], **attrs: Any) -> tuple[np.ndarray, Any]:
    """The op's value and its VJP with an upstream gradient of ones."""
    op = resolve(name, attrs)
    with np.errstate(all="ignore"):
        out = np.asarray(op.forward(*args))
        return out, op.vjp(np.ones(out.shape), args, out)


# ---------------------------------------------------------------------------------------------
# binary_cross_entropy: log(0) clamped at -100, PyTorch's fused gradient at p = 0 and 1


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_at_zero_and_one_is_pytorchs(reduction: str) -> None:
    torch = require_torch()
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-300, 1 - 1e-16])
    t = np.array([0.0, 0.0, 1.0, 1.0, 0.3, 1.0, 0.0])
    want, (dp, dt) = torch_grads(lambda a, b: torch.nn.functional.binary_cross_entropy(
        a, b, reduction=reduction), [p, t], (0, 1))
    out, (gp, gt) = engine("binary_cross_entropy", [p, t], reduction=reduction)
    close(out, want, "value")  # log(0) is -100: a loss of 100 where p = 0 and t = 1
    close(gp, dp, "dp")  # 1e12 where p(1 - p) is 0 (PyTorch's eps)
    close(gt, dt, "dt")  # -logit(p): +-inf at 0 and 1
    if reduction == "none":
        assert out[2] == 100.0 and out[0] == 0.0
    rec = trace(f"binary_cross_entropy(p, t, reduction='{reduction}')",
                {"p": p.tolist(), "t": t.tolist()})
    check_invariants(rec)
    close(decode(rec["gradients"]["p"]), dp, "dp through trace")
    close(decode(rec["gradients"]["t"]), dt, "dt through trace")


@pytest.mark.parametrize(("p", "t", "words"), [
    ([0.5, 1.5], [0.0, 1.0], "probabilities must be between 0 and 1, but one is 1.5"),
    ([-0.1], [0.0], "-0.1"),
    (["NaN"], [0.0], "nan"),
])
def test_bce_refuses_what_is_not_a_probability(p: list[Any], t: list[float], words: str
                                                ) -> None:
    """As PyTorch ("all elements of input should be between 0 and 1"): an error with the span of
    the call, which points to the logits' form."""
    src = "2 * bce(p, t)"
    with pytest.raises(GradtraceError) as info:
        trace(src, {"p": p, "t": t})
    err = info.value
    assert err.type == "shape" and words in err.message, err.message
    assert src[err.start:err.end] == "bce(p, t)"
    assert "binary_cross_entropy_with_logits" in err.message


def test_bce_targets_are_taken_as_they_are() -> None:
    """PyTorch refuses targets outside [0, 1]; here the loss, linear in t, takes them, so that
    the gradient check can step hard targets 0 and 1 (its verdict: pass)."""
    rec = trace("bce(p, t)", {"p": [0.3, 0.9], "t": [0.0, 1.0]}, check=True)
    assert rec["check"]["passed"], rec["check"]
    rec = trace("bce(p, t)", {"p": [0.5], "t": [2.0]})
    close(decode(rec["value"]), -2 * math.log(0.5) + math.log(0.5))


# ---------------------------------------------------------------------------------------------
# binary_cross_entropy_with_logits: +-1000, +-inf, NaN as PyTorch


def test_bce_with_logits_at_huge_logits() -> None:
    torch = require_torch()
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0, 30.0, -30.0, INF, -INF, NAN, INF])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.0, 1.0, 0.0, 1.0, 0.5, 1.0])
    for reduction in ("none", "mean"):
        want, (dx, dt) = torch_grads(
            lambda a, b, r=reduction: torch.nn.functional.binary_cross_entropy_with_logits(
                a, b, reduction=r), [x, t], (0, 1))
        out, (gx, gt) = engine("binary_cross_entropy_with_logits", [x, t], reduction=reduction)
        close(out, want, f"value {reduction}", rtol=1e-13)
        close(gx, dx, f"dx {reduction}")
        close(gt, dt, f"dt {reduction}")
    out, _ = engine("binary_cross_entropy_with_logits", [x, t], reduction="none")
    assert out[:4].tolist() == [1000.0, 1000.0, 0.0, 0.0]  # no overflow, no NaN
    rec = trace("bce_with_logits(x, t)", {"x": [1000.0, -1000.0], "t": [0.0, 1.0]})
    assert decode(rec["value"]) == 1000.0 and rec["warnings"] == []
    assert decode(rec["gradients"]["x"]).tolist() == [0.5, -0.5]


# ---------------------------------------------------------------------------------------------
# cross_entropy: +-1000, infinities, soft labels


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_huge_logits(reduction: str) -> None:
    torch = require_torch()
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [0.0, 0.0, 0.0],
                  [-INF, 1.0, 2.0], [1e308, -1e308, 0.0]])
    y = np.array([1.0, 2.0, 0.0, 2.0, 0.0])
    want, (dx,) = torch_grads(lambda a, b: torch.nn.functional.cross_entropy(
        a, b, reduction=reduction), [x, y], (0,), labels=(1,))
    out, (gx, _) = engine("cross_entropy", [x, y], reduction=reduction)
    close(out, want, "value")
    close(gx, dx, "dx")
    assert np.isfinite(out).all() and np.isfinite(gx).all()
    rec = trace(f"cross_entropy(x, y, reduction='{reduction}')", {"x": x.tolist(),
                                                                   "y": y.tolist()})
    check_invariants(rec)
    close(decode(rec["gradients"]["x"]), dx, "dx through trace")
    assert set(rec["gradients"]) == {"x"}  # the labels take none


def test_cross_entropy_with_nan_and_inf_as_pytorch() -> None:
    torch = require_torch()
    x = np.array([[INF, 0.0, 1.0], [NAN, 0.0, 1.0], [0.0, -INF, -INF]])
    y = np.array([0.0, 1.0, 0.0])
    want, (dx,) = torch_grads(lambda a, b: torch.nn.functional.cross_entropy(
        a, b, reduction="none"), [x, y], (0,), labels=(1,))
    out, (gx, _) = engine("cross_entropy", [x, y], reduction="none")
    close(out, want, "value")
    close(gx, dx, "dx")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_probabilities(reduction: str) -> None:
    """Soft labels (the logits' shape): -sum(t log_softmax(x)) per example, as PyTorch, whose
    gradient of the target (-log_softmax(x)) the VJP and JVP give too; 0 * -inf is NaN, as in
    PyTorch."""
    torch = require_torch()
    x = np.array([[0.5, -1.0, 2.0], [1000.0, -1000.0, 0.0], [-INF, 0.0, 1.0]])
    t = np.array([[0.2, 0.3, 0.5], [0.0, 0.5, 0.5], [0.0, 0.5, 0.5]])

    def f(a: Any, b: Any) -> Any:
        return torch.nn.functional.cross_entropy(a, b, reduction=reduction)

    want, (dx, dt) = torch_grads(f, [x, t], (0, 1))
    op = resolve("cross_entropy", {"reduction": reduction, "probabilities": True})
    out, (gx, gt) = engine("cross_entropy", [x, t], reduction=reduction, probabilities=True)
    close(out, want, "value")
    close(gx, dx, "dx")
    close(gt, dt, "dt")
    # Forward mode along the target, and along both.
    rng = np.random.default_rng(0)
    tx, tt = rng.normal(size=x.shape), rng.normal(size=t.shape)
    fine = np.isfinite(x).all(axis=-1)
    for tangents in ([tx, None], [None, tt], [tx, tt]):
        xs, ts_ = x[fine], t[fine]
        ours = op.jvp([None if v is None else v[fine] for v in tangents], [xs, ts_],
                      np.asarray(op.forward(xs, ts_)))
        primal = (torch.tensor(xs), torch.tensor(ts_))
        dirs = tuple(torch.zeros_like(p) if v is None else torch.tensor(v[fine])
                     for p, v in zip(primal, tangents, strict=True))
        _, theirs = torch.func.jvp(f, primal, dirs)
        close(ours, theirs.numpy(), f"jvp {[v is not None for v in tangents]}", rtol=1e-11)
    # Through trace (probabilities=True read off the shapes) both get PyTorch's gradients.
    rec = trace(f"cross_entropy(x, t, reduction='{reduction}')", {"x": x[:2].tolist(),
                                                                   "t": t[:2].tolist()})
    _, (dx2, dt2) = torch_grads(f, [x[:2], t[:2]], (0, 1))
    close(decode(rec["gradients"]["x"]), dx2, "dx through trace")
    close(decode(rec["gradients"]["t"]), dt2, "dt through trace")


def test_one_hot_probabilities_are_the_labels() -> None:
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -2.0]])
    y = np.array([2.0, 0.0])
    onehot = np.eye(3)[[2, 0]]
    a = trace("cross_entropy(x, y)", {"x": x.tolist(), "y": y.tolist()})
    b = trace("cross_entropy(x, t)", {"x": x.tolist(), "t": onehot.tolist()})
    close(decode(a["value"]), decode(b["value"]), rtol=1e-15)
    close(decode(a["gradients"]["x"]), decode(b["gradients"]["x"]), rtol=1e-15)


def test_a_single_example_takes_a_scalar_label() -> None:
    torch = require_torch()
    x = np.array([0.3, 2.0, -1.0, 0.0])
    want, (dx,) = torch_grads(lambda a, b: torch.nn.functional.cross_entropy(a, b),
                              [x, np.array(1.0)], (0,), labels=(1,))
    rec = trace("cross_entropy(s, 1)", {"s": x.tolist()})
    close(decode(rec["value"]), want)
    close(decode(rec["gradients"]["s"]), dx)


# ---------------------------------------------------------------------------------------------
# Labels: out of range, not whole numbers, wrong shapes; an error with the span of the call


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss", "hinge", "multi_margin_loss"])
@pytest.mark.parametrize(("y", "words"), [
    ([0, 3], "the label 3 is out of range: there are 3 classes, numbered 0 to 2"),
    ([-1, 0], "the label -1 is out of range"),
    ([0.5, 1], "whole numbers, but one is 0.5"),
    (["NaN", 1], "but one is nan"),
])
def test_bad_labels_are_an_error_with_the_span(loss: str, y: list[Any], words: str) -> None:
    src = f"L = {loss}(S, y) + 1"
    with pytest.raises(GradtraceError) as info:
        trace(src, {"S": [[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]], "y": y})
    err = info.value
    assert err.type == "shape" and words in err.message and err.message.startswith(loss), (
        err.message)
    assert src[err.start:err.end] == f"{loss}(S, y)"


def test_labels_out_of_range_are_refused_by_the_op_as_by_pytorch() -> None:
    torch = require_torch()
    with pytest.raises(IndexError, match="out of bounds"):
        torch.nn.functional.cross_entropy(torch.zeros(2, 3, dtype=torch.float64),
                                          torch.tensor([0, 3]))
    for name in ("cross_entropy", "nll_loss", "hinge", "multi_margin_loss", "class_mask"):
        op = REGISTRY[name]
        args = ([np.zeros((2, 3)), np.array([0.0, 3.0])] if name != "class_mask"
                else [np.array([0.0, 3.0]), np.zeros((2, 3))])
        with pytest.raises(ShapeError, match="out of range"):
            op.forward(*args)


@pytest.mark.parametrize(("expr", "values", "words"), [
    ("cross_entropy(S, y)", {"S": [[1.0, 2.0]] * 3, "y": [0, 1]},
     ["logits of shape (3, 2) take labels of shape (3,)", "or probabilities", "(2,)"]),
    ("cross_entropy(S, y)", {"S": [[[1.0, 2.0]]] * 3, "y": [0, 1, 0]},
     ["cross_entropy takes logits of shape (C,) for one example or (N, C)", "(3, 1, 2)"]),
    ("cross_entropy(s, y)", {"s": [1.0, 2.0], "y": [1]},
     ["a single label (a scalar)"]),
    ("nll_loss(S, y)", {"S": [[1.0, 2.0]] * 3, "y": [[0, 1, 0]]},
     ["nll_loss: log-probabilities of shape (3, 2) take labels of shape (3,)", "(1, 3)"]),
    ("hinge(S, y)", {"S": [[1.0, 2.0]] * 3, "y": 1}, ["hinge: scores of shape (3, 2)"]),
    ("bce(p, t)", {"p": [0.5, 0.5], "t": 1.0}, ["the target must have the probabilities' "
                                                 "shape (2,)", "scalar"]),
    ("bce_with_logits(x, t)", {"x": [0.5, 0.5], "t": [1.0]}, ["the logits' shape (2,)"]),
])
def test_shape_errors_speak_of_the_loss(expr: str, values: dict[str, Any], words: list[str]
                                        ) -> None:
    src = f"2 * {expr}"
    with pytest.raises(GradtraceError) as info:
        trace(src, values)
    err = info.value
    assert err.type == "shape" and src[err.start:err.end] == expr
    for w in words:
        assert w in err.message, (w, err.message)


def test_labels_are_an_integer_input() -> None:
    rec = trace("cross_entropy(S, y)", {"S": [[1.0, 2.0, 0.5]], "y": [1]})
    assert set(rec["gradients"]) == {"S"}
    with pytest.raises(GradtraceError) as info:
        trace("cross_entropy(S, y)", {"S": [[1.0, 2.0, 0.5]], "y": [1]}, mode="forward",
              wrt="y")
    assert "labels" in info.value.message


# ---------------------------------------------------------------------------------------------
# hinge and multi_margin_loss: ties, the kink, NaN; PyTorch's multi_margin_loss (times C for
# cs231n's hinge) and the reference in torch ops the generated files use


def _margin_torch(s: Any, y: Any, margin: float = 1.0, p: int = 1, reduction: str = "mean",
                  per_class: bool = True) -> Any:
    torch = require_torch()
    out = torch.nn.functional.multi_margin_loss(s, y, p=p, margin=margin, reduction=reduction)
    return out if per_class else out * s.shape[-1]


@pytest.mark.parametrize("per_class", [False, True])
@pytest.mark.parametrize(("s", "y"), [
    # ties: s_j = s_y (a margin term of exactly the margin), and equal wrong scores
    ([[1.0, 1.0, 1.0], [0.5, 2.0, 2.0], [3.0, 3.0, -1.0]], [0, 1, 2]),
    # the kink: s_j - s_y + 1 = 0 (no gradient, as PyTorch's z > 0)
    ([[1.0, 0.0, 2.0], [2.0, 1.0, 0.0], [0.25, -0.75, 1.25]], [0, 0, 0]),
    # NaN and infinities: a NaN margin term counts 0 (PyTorch), an infinite one is infinite
    ([[NAN, 0.0, 2.0], [1.0, NAN, 2.0], [INF, 0.0, 1.0], [0.0, INF, 1.0], [-INF, 0.0, 1.0]],
     [0, 0, 0, 0, 0]),
    # one class: nothing to compare with
    ([[1.0], [-2.0]], [0, 0]),
])
def test_margin_losses_at_ties_kinks_and_nan(per_class: bool, s: list[list[float]],
                                             y: list[int]) -> None:
    torch = require_torch()
    name = "multi_margin_loss" if per_class else "hinge"
    sa, ya = np.array(s), np.array(y, dtype=float)
    for reduction in ("mean", "none"):
        want, (ds,) = torch_grads(lambda a, b, r=reduction: _margin_torch(
            a, b, reduction=r, per_class=per_class), [sa, ya], (0,), labels=(1,))
        out, (gs, _) = engine(name, [sa, ya], reduction=reduction)
        close(out, want, f"{name} {reduction} value")
        close(gs, ds, f"{name} {reduction} ds")
    del torch


def test_hinge_kink_takes_no_gradient() -> None:
    # s = (1, 0, 2), y = 0: the term of class 1 is max(0, 0 - 1 + 1) = 0, at its kink.
    rec = trace("hinge(s, 0)", {"s": [1.0, 0.0, 2.0]})
    assert decode(rec["value"]) == 2.0
    assert decode(rec["gradients"]["s"]).tolist() == [-1.0, 0.0, 1.0]


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_the_torch_reference_is_multi_margin_loss(p: int, reduction: str) -> None:
    """code.torch of hinge and multi_margin_loss (torch ops: PyTorch's kernel has no forward
    mode or double backward) is torch.nn.functional.multi_margin_loss, value and gradient, at
    ties, kinks and NaN too."""
    torch = require_torch()
    code = REGISTRY["multi_margin_loss"].code
    assert code is not None
    ns: dict[str, Any] = {"torch": torch}
    exec(code.torch_helper, ns)
    rng = np.random.default_rng(p)
    cases = [(rng.normal(size=(5, 4)), rng.integers(0, 4, size=5).astype(float)),
             (rng.normal(size=4), np.array(2.0)),
             (np.array([[1.0, 0.0, 2.0], [NAN, 1.0, 0.0], [INF, 0.0, INF]]),
              np.array([0.0, 0.0, 2.0]))]
    for margin in (1.0, 0.4):
        for s, y in cases:
            for per_class in (True, False):
                want, (dw,) = torch_grads(lambda a, b, m=margin, c=per_class: _margin_torch(
                    a, b, m, p, reduction, c), [s, y], (0,), labels=(1,))
                got, (dg,) = torch_grads(lambda a, b, m=margin, c=per_class: ns[
                    "multi_margin_reference"](a, b, p, m, reduction, c), [s, y], (0,),
                    labels=(1,))
                close(got, want, "value", rtol=1e-13)
                close(dg, dw, "gradient", rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# The classic examples, end to end against PyTorch


def _classifier_data() -> dict[str, Any]:
    rng = np.random.default_rng(231)
    return {"X": rng.normal(size=(6, 4)), "W": rng.normal(size=(4, 3)) * 0.5,
            "b": rng.normal(size=3) * 0.1, "y": rng.integers(0, 3, size=6).astype(float)}


def test_cs231n_linear_svm_with_l2_regularisation() -> None:
    """L = hinge(X @ W, y) + reg * sum(W * W): cs231n's linear classifier (the SVM loss with the
    mean over the batch, as its svm_loss_vectorized), against PyTorch."""
    torch = require_torch()
    d = _classifier_data()
    reg = 0.1
    src = "L = hinge(X @ W, y) + reg * sum(W * W)"
    values = {"X": d["X"].tolist(), "W": d["W"].tolist(), "y": d["y"].tolist(), "reg": reg}
    rec = trace(src, values)
    check_invariants(rec)
    X = torch.tensor(d["X"], requires_grad=True)
    W = torch.tensor(d["W"], requires_grad=True)
    y = torch.tensor(d["y"]).long()
    loss = (torch.nn.functional.multi_margin_loss(X @ W, y) * 3 + reg * (W * W).sum())
    loss.backward()
    close(decode(rec["value"]), loss.item(), "L")
    close(decode(rec["gradients"]["W"]), W.grad.numpy(), "dW")
    close(decode(rec["gradients"]["X"]), X.grad.numpy(), "dX")
    assert "y" not in rec["gradients"]  # labels: an integer input
    y_node = next(n for n in rec["nodes"] if n["name"] == "y")
    assert y_node["grad"] is None
    # The same with the notes' loop: the margins of the wrong classes, summed, over the batch.
    scores = d["X"] @ d["W"]
    total = 0.0
    for i, yi in enumerate(d["y"].astype(int)):
        total += sum(max(0.0, scores[i, j] - scores[i, yi] + 1.0) for j in range(3) if j != yi)
    close(decode(rec["value"]), total / 6 + reg * np.sum(d["W"] ** 2), "the loop", rtol=1e-13)


def test_softmax_cross_entropy_on_a_batch() -> None:
    torch = require_torch()
    d = _classifier_data()
    src = "L = cross_entropy(X @ W + b, y)"
    values = {k: v.tolist() for k, v in d.items()}
    rec = trace(src, values)
    check_invariants(rec)
    X = torch.tensor(d["X"])
    W = torch.tensor(d["W"], requires_grad=True)
    b = torch.tensor(d["b"], requires_grad=True)
    loss = torch.nn.functional.cross_entropy(X @ W + b, torch.tensor(d["y"]).long())
    loss.backward()
    close(decode(rec["value"]), loss.item(), "L")
    close(decode(rec["gradients"]["W"]), W.grad.numpy(), "dW")
    close(decode(rec["gradients"]["b"]), b.grad.numpy(), "db")
    assert "y" not in rec["gradients"]
    # The notes' gradient: dscores = (softmax - onehot) / N.
    s = d["X"] @ d["W"] + d["b"]
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(6), d["y"].astype(int)] -= 1
    close(decode(rec["gradients"]["b"]), p.sum(axis=0) / 6, "db by hand")
    # And torch's own spelling reads the same.
    rec2 = trace("L = F.cross_entropy(X @ W + b, y)", values)
    assert rec2["gradients"] == rec["gradients"]


def test_second_derivatives_of_the_classifier_match_pytorch() -> None:
    """The Hessian-vector product of the softmax classifier's loss in W (grad of grad, the
    rules of cross_entropy's parts) against PyTorch's double backward."""
    torch = require_torch()
    d = _classifier_data()
    v = np.random.default_rng(5).normal(size=d["W"].shape)
    src = "sum(grad(cross_entropy(X @ W + b, y), W) * V)"
    values = {k: val.tolist() for k, val in d.items()} | {"V": v.tolist()}
    rec = trace(src, values)
    W = torch.tensor(d["W"], requires_grad=True)
    loss = torch.nn.functional.cross_entropy(torch.tensor(d["X"]) @ W + torch.tensor(d["b"]),
                                             torch.tensor(d["y"]).long())
    (gw,) = torch.autograd.grad(loss, W, create_graph=True)
    (hv,) = torch.autograd.grad((gw * torch.tensor(v)).sum(), W)
    close(decode(rec["gradients"]["W"]), hv.numpy(), "Hv", rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# Gates that open: cross_entropy into log_softmax and nll_loss, with the same gradients


def _opened(expr: str, values: dict[str, Any], depth: int) -> dict[str, Any]:
    rec: dict[str, Any] = records.build(analyse(request(expr, values)))
    opened: list[str] = []
    for _ in range(depth):
        opened += [n["gate_id"] for n in rec["nodes"] if n["gate_id"]]
        rec = records.build(analyse(request(expr, values, expand=opened)))
    return rec


def test_cross_entropy_opens_into_log_softmax_and_nll_loss() -> None:
    d = _classifier_data()
    expr = "cross_entropy(S, y)"
    values = {"S": (d["X"] @ d["W"]).tolist(), "y": d["y"].tolist()}
    closed = _opened(expr, values, 0)
    one = _opened(expr, values, 1)
    assert [n["op"] for n in closed["nodes"] if n["op"]] == ["cross_entropy"]
    assert [n["op"] for n in one["nodes"] if n["op"]] == ["log_softmax", "nll_loss"]
    for rec in (one, _opened(expr, values, 3)):
        assert rec["value"] == closed["value"]
        close(decode(rec["gradients"]["S"]), decode(closed["gradients"]["S"]), rtol=1e-13)
    # Fully opened, nll_loss is the pick of each example's class.
    ops = [n["op"] for n in _opened(expr, values, 3)["nodes"] if n["op"]]
    assert {"class_mask", "where", "neg", "mean"} <= set(ops)


@pytest.mark.parametrize(("expr", "parts"), [
    ("hinge(S, y)", {"class_mask", "where", "gt", "sum", "mean"}),
    ("mse(S, T)", {"sub", "square", "mean"}),
    ("bce_with_logits(S, T)", {"softplus", "mul", "mean"}),
])
def test_the_other_losses_open_into_their_parts(expr: str, parts: set[str]) -> None:
    rng = np.random.default_rng(3)
    values = {"S": rng.normal(size=(4, 3)).tolist(), "y": [0.0, 2.0, 1.0, 1.0],
              "T": rng.uniform(size=(4, 3)).tolist()}
    values = {k: v for k, v in values.items() if k in expr}
    closed = _opened(expr, values, 0)
    opened = _opened(expr, values, 1)
    assert parts <= {n["op"] for n in opened["nodes"] if n["op"]}
    for name, g in closed["gradients"].items():
        close(decode(opened["gradients"][name]), decode(g), name, rtol=1e-12)


def test_l2_regularisation_as_the_notes_and_tensorflow() -> None:
    w = [[1.0, -2.0], [0.5, 3.0]]
    a, b, c = (trace(e, {"W": w}) for e in ("l2(W)", "sum(W * W)", "l2_loss(W)"))
    assert decode(a["value"]) == decode(b["value"]) == 14.25 == 2 * decode(c["value"])
    assert a["gradients"] == b["gradients"]
    assert decode(c["gradients"]["W"]).tolist() == w  # tf.nn.l2_loss: the gradient is W
