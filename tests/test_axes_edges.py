"""Reductions over axes, softmax along an axis, shape ops and indexing against PyTorch float64 at
the edges: NaN and infinities, ties of amax/amin (split evenly, as torch.amax), axes of length 1,
a norm of 0, repeated labels; second derivatives through each op's rule (its VJP written with
ops) against PyTorch's double backward; the messages of bad axes and labels; and the notes'
index-assignment example."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from gradtrace import GradtraceError, decode, trace
from gradtrace.ops import Op, ShapeError, resolve, unbroadcast
from gradtrace.ops.core import Tape

from .helpers import require_torch

EDGES = (0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 2.0)


def torch_of(op: Op, n: int) -> Callable[..., Any]:
    """The op's `code.torch` as a function of n tensors."""
    torch = require_torch()
    assert op.code is not None
    ns: dict[str, Any] = {"torch": torch, "math": math}
    if op.code.torch_helper:
        exec(op.code.torch_helper, ns)
    names = [f"_{i}" for i in range(n)]
    return eval(f"lambda {', '.join(names)}: {op.code.forward('torch', names)}", ns)  # type: ignore[no-any-return]


def close(got: Any, want: Any, what: str, rtol: float = 1e-10) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12, equal_nan=True, err_msg=what)


def compare(name: str, attrs: dict[str, Any], args: Sequence[np.ndarray],
            constant: tuple[int, ...] = (), seed: int = 0) -> None:
    """Value, VJP (random upstream) and JVP (random tangents) against PyTorch."""
    torch = require_torch()
    op = resolve(name, attrs)
    f = torch_of(op, len(args))
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        out = np.asarray(op.forward(*args), dtype=np.float64)
    ts = [torch.tensor(a, requires_grad=i not in constant) for i, a in enumerate(args)]
    out_t = f(*ts)
    close(out, out_t.detach().numpy(), f"{name} {attrs}: value at {args}")
    wrt = [i for i in range(len(args)) if i not in constant]
    if not wrt:
        return
    g = rng.normal(size=out.shape)
    want = torch.autograd.grad(out_t, [ts[i] for i in wrt], torch.tensor(g), allow_unused=True)
    with np.errstate(all="ignore"):
        got = op.vjp(g, list(args), out)
    for i, w in zip(wrt, want, strict=True):
        w_np = np.zeros(args[i].shape) if w is None else w.numpy()
        close(unbroadcast(np.asarray(got[i]), args[i].shape), w_np,
              f"{name} {attrs}: gradient of operand {i} at {args}")
    tangents = [rng.normal(size=a.shape) if i in wrt else None for i, a in enumerate(args)]
    primal = [torch.tensor(a) for a in args]

    def only(*xs: Any) -> Any:
        full = list(primal)
        for i, x in zip(wrt, xs, strict=True):
            full[i] = x
        return f(*full)

    _, jt = torch.func.jvp(only, tuple(primal[i] for i in wrt),
                           tuple(torch.tensor(tangents[i]) for i in wrt))
    with np.errstate(all="ignore"):
        jv = op.jvp(tangents, list(args), out)
    close(jv, jt.numpy(), f"{name} {attrs}: tangent at {args}")


# ---------------------------------------------------------------------------------------------
# Reductions and softmax at NaN, infinities, zeros and ties

REDUCTIONS = [(name, attrs) for name in ("sum", "mean", "amax", "amin", "logsumexp", "norm",
                                         "var")
              for attrs in ({}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": (0, 1)},
                            {"keepdims": True}, {"axis": 1, "correction": 0})
              if "correction" not in attrs or name == "var"]
REDUCTIONS += [(name, attrs) for name in ("softmax", "log_softmax")
               for attrs in ({}, {"dim": 0}, {"dim": -2})]


@pytest.mark.filterwarnings("ignore:var\\(\\)")
@pytest.mark.parametrize(("name", "attrs"), REDUCTIONS, ids=[f"{n}{a}" for n, a in REDUCTIONS])
def test_reductions_match_pytorch_at_edge_values(name: str, attrs: dict[str, Any]) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{name}{attrs}".encode()))
    for trial in range(60):
        shape = ((2, 3), (3, 1), (1, 3), (2, 2), (2, 1, 2))[trial % 5]
        if trial % 3 == 0:  # ties: small whole numbers
            x = rng.integers(-1, 2, size=shape).astype(float)
        else:
            x = rng.choice(EDGES, size=shape)
        compare(name, attrs, [x], seed=trial)


@pytest.mark.parametrize(("f", "torch_f"), [("amax", "amax"), ("amin", "amin")])
def test_ties_split_evenly_as_torch_amax(f: str, torch_f: str) -> None:
    torch = require_torch()
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [5.0, 5.0, 5.0]]
    if f == "amin":
        x = [[-v for v in row] for row in x]
    for attrs, dims in (({"axis": 1}, (1,)), ({}, (0, 1)), ({"axis": 0, "keepdims": True}, (0,))):
        op = resolve(f, attrs)
        xn = np.asarray(x)
        out = np.asarray(op.forward(xn))
        got = op.vjp(np.ones(out.shape), [xn], out)[0]
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        getattr(torch, torch_f)(xt, dim=dims, keepdim=bool(attrs.get("keepdims"))).sum().backward()
        assert got.tolist() == xt.grad.tolist(), (f, attrs)
    # through the language: the last row's three tied entries get a third each
    g = decode(trace(f"sum({f}(x, axis=1))", {"x": x})["gradients"]["x"])
    third = 1.0 / 3.0
    assert g.tolist()[2] == [third, third, third]
    assert g.tolist()[0] == [0.0, 0.5, 0.5]


def test_one_argument_max_is_amax_and_splits_ties() -> None:
    record = trace("max(x)", {"x": [1.0, 4.0, 4.0, 4.0, 2.0]})
    out = next(n for n in record["nodes"] if n["id"] == record["output"])
    assert out["op"] == "amax"
    third = 1.0 / 3.0
    assert decode(record["gradients"]["x"]).tolist() == [0.0, third, third, third, 0.0]


@pytest.mark.filterwarnings("ignore:var\\(\\)")
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp", "norm", "var",
                                  "softmax", "log_softmax"])
def test_an_axis_of_length_one(name: str) -> None:
    """Reducing (or normalising) along an axis of length 1; var with its correction 1 divides
    by 0 there: NaN, as PyTorch."""
    key = "dim" if "softmax" in name else "axis"
    x = np.asarray([[0.5], [-2.0], [3.0]])
    for attrs in ({key: 1}, {key: -1}, *([{key: 1, "correction": 0}] if name == "var" else [])):
        compare(name, attrs, [x])
    compare(name, {key: 0}, [np.asarray([[1.5, -0.5]])])


def test_norm_at_zero_has_gradient_zero() -> None:
    torch = require_torch()
    for attrs in ({}, {"axis": 1}):
        op = resolve("norm", attrs)
        x = np.zeros((2, 3))
        x[1] = [3.0, 0.0, 4.0]
        out = np.asarray(op.forward(x))
        got = op.vjp(np.ones(out.shape), [x], out)[0]
        xt = torch.tensor(x, requires_grad=True)
        dim = None if not attrs else 1
        torch.linalg.vector_norm(xt, 2, dim=dim).sum().backward()
        assert got.tolist() == xt.grad.tolist()
    record = trace("norm(v)", {"v": [0.0, 0.0]})
    assert decode(record["gradients"]["v"]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("x", [[math.inf, 1.0], [-math.inf, -math.inf], [math.nan, 1.0],
                               [1000.0, 1000.0], [-1000.0, 5.0]])
def test_logsumexp_and_log_softmax_do_not_overflow(x: list[float]) -> None:
    for name, attrs in (("logsumexp", {}), ("logsumexp", {"axis": 0, "keepdims": True}),
                        ("log_softmax", {}), ("softmax", {"dim": 0})):
        compare(name, attrs, [np.asarray(x)])


def test_log_softmax_is_a_composite_that_opens_into_its_parts() -> None:
    """log_softmax is drawn as one gate made of amax, sub, exp, sum and log; softmax too opens
    into exp(x - max) / sum exp(x - max), while its own numbers stay the fused ones
    (exp(log_softmax) would lose a few digits of the small probabilities)."""
    op = resolve("log_softmax", {"dim": 0})
    assert op.compose is not None and resolve("softmax").compose is not None
    x = np.asarray([[1.0, 2.0], [3.0, -1.0]])
    tape = Tape([x])
    top = op.compose(tape, [0])
    assert {o.name for o, _, _ in tape.steps} == {"amax", "sub", "exp", "sum", "log"}
    np.testing.assert_array_equal(tape.values[top], op.forward(x))


# ---------------------------------------------------------------------------------------------
# Shape ops and indexing at edge values (they move numbers: NaN and inf pass through unchanged)


SHAPES: list[tuple[str, dict[str, Any], list[tuple[int, ...]], tuple[int, ...]]] = [
    ("reshape", {"shape": (3, -1)}, [(2, 3)], ()),
    ("flatten", {"start_dim": 1}, [(2, 2, 2)], ()),
    ("squeeze", {"dim": (1,)}, [(2, 1, 2)], ()),
    ("squeeze", {}, [(1, 2, 1)], ()),
    ("unsqueeze", {"dim": -1}, [(2, 2)], ()),
    ("expand", {"shape": (3, 2, 2)}, [(2, 1)], ()),
    ("permute", {"dims": (2, 0, 1)}, [(2, 3, 2)], ()),
    ("concat", {"axis": 1}, [(2, 1), (2, 3)], ()),
    ("concat", {"axis": -1}, [(2,), (3,), (1,)], ()),
    ("stack", {"axis": -1}, [(2, 2), (2, 2)], ()),
    ("stack", {"axis": 1}, [(3,), (3,), (3,)], ()),
    ("index", {"index": (("slice", None, None, -1), 0)}, [(3, 2)], ()),
    ("index", {"index": ("...", ("slice", -1, None, -2))}, [(2, 5)], ()),
    ("index", {"index": (None, 1, ("slice", 1, None, None))}, [(2, 3)], ()),
]


@pytest.mark.parametrize(("name", "attrs", "shapes", "constant"), SHAPES,
                         ids=[f"{n}{a}" for n, a, _, _ in SHAPES])
def test_shape_ops_match_pytorch_at_edge_values(name: str, attrs: dict[str, Any],
                                                shapes: list[tuple[int, ...]],
                                                constant: tuple[int, ...]) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{name}{attrs}".encode()))
    for trial in range(10):
        args = [rng.choice(EDGES, size=s) for s in shapes]
        compare(name, attrs, args, constant, seed=trial)


def labels(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-n, n, size=shape).astype(float)


@pytest.mark.parametrize(("index", "x_shape", "label_shapes"), [
    (("array",), (3,), [(5,)]),
    (("array",), (3, 2), [(2, 2)]),
    ((("slice", None, None, None), "array"), (2, 3), [(4,)]),
    (("array", "array"), (3, 3), [(4,), (1, 4)]),
    (("array", 1), (3, 2), [(2,)]),
    (("...", "array"), (2, 2, 3), [(3,)]),
    ((None, "array", ("slice", 1, None, None)), (3, 3), [(2,)]),
])
def test_index_arrays_match_pytorch_repeats_adding_up(index: tuple[Any, ...],
                                                      x_shape: tuple[int, ...],
                                                      label_shapes: list[tuple[int, ...]]) -> None:
    """Labels with repeats and negative labels: the gradient adds up where a position is read
    twice, as PyTorch's index backward."""
    rng = np.random.default_rng(zlib.crc32(repr(index).encode()))
    axes = [ax for (item, ax) in _axes(index, len(x_shape)) if item == "array"]
    for trial in range(8):
        x = rng.choice(EDGES, size=x_shape) if trial % 2 else rng.normal(size=x_shape)
        arrays = [labels(rng, x_shape[ax], s) for ax, s in zip(axes, label_shapes, strict=True)]
        compare("index", {"index": index}, [x, *arrays],
                constant=tuple(range(1, 1 + len(arrays))), seed=trial)


def _axes(index: tuple[Any, ...], ndim: int) -> list[tuple[Any, int]]:
    consumed = sum(1 for it in index if it is not None and it != "...")
    out, ax = [], 0
    for it in index:
        if it == "...":
            ax += ndim - consumed
        elif it is not None:
            out.append((it, ax))
            ax += 1
    return out


@pytest.mark.parametrize(("index", "y_shape", "v_shape", "label_shape"), [
    ((0,), (3,), (), None),
    ((("slice", None, None, None), 1), (2, 3), (2,), None),
    ((("slice", 1, None, None),), (3, 2), (2,), None),
    (("array",), (4, 2), (2, 2), (2,)),
    (("...", 0), (2, 2), (1,), None),
])
def test_setitem_matches_pytorch(index: tuple[Any, ...], y_shape: tuple[int, ...],
                                 v_shape: tuple[int, ...], label_shape: tuple[int, ...] | None
                                 ) -> None:
    rng = np.random.default_rng(zlib.crc32(repr(index).encode()))
    for trial in range(6):
        y = rng.choice(EDGES, size=y_shape) if trial % 2 else rng.normal(size=y_shape)
        v = rng.choice(EDGES, size=v_shape) if trial % 3 == 0 else rng.normal(size=v_shape)
        args = [y, v]
        if label_shape is not None:
            args.append(rng.permutation([-4.0, -1.0, 1.0, 2.0])[:label_shape[0]])
        compare("setitem", {"index": index}, args, constant=(2,) if label_shape else (),
                seed=trial)


def test_setitem_refuses_a_position_named_twice() -> None:
    op = resolve("setitem", {"index": ("array",)})
    with pytest.raises(ShapeError, match="twice"):
        op.forward(np.zeros(3), np.ones(2), np.asarray([1.0, -2.0]))


# ---------------------------------------------------------------------------------------------
# Second derivatives: each op's rule (its VJP written with ops), run on a tape and differentiated
# again by the tape's VJPs, against PyTorch's double backward.


def tape_gradient(tape: Tape, top: int, seed: np.ndarray, wrt: Sequence[int]) -> list[np.ndarray]:
    """d <seed, tape.values[top]> / d tape.values[w] for each w, by the tape ops' VJPs."""
    adjoint: dict[int, np.ndarray] = {top: seed}
    with np.errstate(all="ignore"):
        for op, operands, handle in reversed(tape.steps):
            up = adjoint.get(handle)
            if up is None:
                continue
            parts = op.vjp(up, [tape.values[a] for a in operands], tape.values[handle])
            for k, (a, d) in enumerate(zip(operands, parts, strict=True)):
                if not op.takes_grad(k):
                    continue
                d = unbroadcast(np.asarray(d, dtype=np.float64), tape.values[a].shape)
                adjoint[a] = d if a not in adjoint else adjoint[a] + d
    return [adjoint.get(w, np.zeros(tape.values[w].shape)) for w in wrt]


SECOND: list[tuple[str, dict[str, Any], list[tuple[int, ...]], tuple[int, ...]]] = [
    ("sum", {"axis": 1}, [(2, 3)], ()),
    ("mean", {"axis": (0, 2), "keepdims": True}, [(2, 2, 3)], ()),
    ("amax", {"axis": 0}, [(3, 2)], ()),
    ("amin", {}, [(2, 3)], ()),
    ("logsumexp", {"axis": -1}, [(2, 3)], ()),
    ("logsumexp", {}, [(3,)], ()),
    ("norm", {"axis": 1, "keepdims": True}, [(2, 3)], ()),
    ("var", {"axis": 0}, [(3, 2)], ()),
    ("var", {"correction": 0, "keepdims": True}, [(2, 3)], ()),
    ("softmax", {"dim": 0}, [(3, 2)], ()),
    ("log_softmax", {"dim": 1}, [(2, 3)], ()),
    ("log_softmax", {}, [(4,)], ()),
    ("reshape", {"shape": (3, 2)}, [(2, 3)], ()),
    ("expand", {"shape": (2, 3)}, [(3,)], ()),
    ("permute", {"dims": (1, 0)}, [(2, 3)], ()),
    ("concat", {"axis": 0}, [(1, 2), (2, 2)], ()),
    ("stack", {"axis": -1}, [(2,), (2,)], ()),
    ("index", {"index": ("array",)}, [(3, 2), (4,)], (1,)),
    ("index", {"index": (("slice", None, None, -1), 0)}, [(3, 2)], ()),
    ("setitem", {"index": (0,)}, [(3, 2), (2,)], ()),
    ("setitem", {"index": ("array",)}, [(4,), (2,), (2,)], (2,)),
]


@pytest.mark.parametrize(("name", "attrs", "shapes", "constant"), SECOND,
                         ids=[f"{n}{a}" for n, a, _, _ in SECOND])
def test_second_derivatives_through_the_rules_match_pytorch(
        name: str, attrs: dict[str, Any], shapes: list[tuple[int, ...]],
        constant: tuple[int, ...]) -> None:
    """d/dx <h, VJP(x; g)> with the VJP built by the op's rule, against create_graph=True.
    Each op's square makes the second derivative of linear ops nonzero."""
    torch = require_torch()
    rng = np.random.default_rng(zlib.crc32(f"{name}{attrs}".encode()))
    args = [rng.normal(size=s) for s in shapes]
    for i in constant:
        args[i] = np.asarray([2.0, -1.0, 0.0, 2.0][:shapes[i][0]]) if name == "index" \
            else np.asarray([-1.0, 2.0][:shapes[i][0]])
    op = resolve(name, attrs)
    n = len(args)
    wrt = [i for i in range(n) if i not in constant]
    # f = op(x)^2 elementwise: its rule is emitted on the tape as ops after the forward.
    tape = Tape(args)
    out = tape.op(name, *range(n), **attrs)
    sq = tape.op("mul", out, out)
    g = rng.normal(size=tape.values[sq].shape)
    tape.values.append(g)
    g_handle = len(tape.values) - 1
    # the VJP of the square, then the op's rule
    up = tape.op("mul", tape.op("mul", g_handle, out), tape.const(2.0))
    parts = op.rule(tape, up, list(range(n)), out, [i in wrt for i in range(n)])
    hs = {i: rng.normal(size=args[i].shape) for i in wrt}
    total = None
    for i in wrt:
        part = parts[i]
        assert part is not None
        h = tape.const(0.0)
        tape.values[h] = hs[i]
        term = tape.op("sum", tape.op("mul", part, h))
        total = term if total is None else tape.op("add", total, term)
    assert total is not None
    got = tape_gradient(tape, total, np.ones(()), wrt)

    f = torch_of(op, n)
    ts = [torch.tensor(a, requires_grad=i in wrt) for i, a in enumerate(args)]
    y = f(*ts)
    grads = torch.autograd.grad((y * y * torch.tensor(g)).sum(), [ts[i] for i in wrt],
                                create_graph=True)
    s = sum((gr * torch.tensor(hs[i])).sum() for i, gr in zip(wrt, grads, strict=True))
    want = torch.autograd.grad(s, [ts[i] for i in wrt], allow_unused=True)
    for i, w, gi in zip(wrt, want, got, strict=True):
        w_np = np.zeros(args[i].shape) if w is None else w.numpy()
        close(gi, w_np, f"{name} {attrs}: second derivative, operand {i}", rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# Messages


@pytest.mark.parametrize(("expr", "values", "words"), [
    ("sum(x, axis=2)", {"x": [[1.0, 2.0]]}, "sum: axis 2 is out of range for a tensor with 2 axes"),
    ("mean(x, dim=-3)", {"x": [[1.0, 2.0]]}, "mean: axis -3 is out of range"),
    ("amax(x, axis=(0, -2))", {"x": [[1.0, 2.0]]}, "names axis 0 a second time"),
    ("softmax(x, dim=2)", {"x": [[1.0, 2.0]]},
     "softmax: dim 2 is out of range for a tensor with 2 axes"),
    ("sum(x, axis=0)", {"x": 2.0}, "out of range for a scalar"),
    ("reshape(x, (4, -1))", {"x": [1.0, 2.0, 3.0]}, "3 elements"),
    ("expand(x, (2, 2))", {"x": [1.0, 2.0, 3.0]}, "cannot be broadcast"),
    ("permute(x, (0, 0))", {"x": [[1.0, 2.0]]}, "each of the 2 axes once"),
    ("x[5]", {"x": [1.0, 2.0, 3.0]}, "index 5 is out of range for an axis of length 3"),
    ("x[0, 0]", {"x": [1.0, 2.0, 3.0]}, "2 indices for a tensor with 1 axis"),
])
def test_bad_axes_and_indices_are_shape_errors_in_words(expr: str, values: dict[str, Any],
                                                       words: str) -> None:
    with pytest.raises(GradtraceError) as info:
        trace(expr, values)
    assert info.value.type == "shape", info.value.message
    assert words in info.value.message, info.value.message


@pytest.mark.parametrize(("labels_", "words"), [
    ([3.5], "label 3.5 is not a whole number"),
    ([math.nan], "label NaN is not a whole number"),
    ([0.0, 5.0], "index 5 is out of range for an axis of length 3"),
    ([-4.0], "index -4 is out of range for an axis of length 3"),
])
def test_bad_labels_are_shape_errors_in_words(labels_: list[float], words: str) -> None:
    op = resolve("index", {"index": ("array",)})
    with pytest.raises(ShapeError) as info:
        op.forward(np.zeros(3), np.asarray(labels_))
    assert words in str(info.value)


def test_an_integer_apart_from_an_index_array_is_refused() -> None:
    """x[0, :, b]: NumPy puts b's axis first, PyTorch last: refused with the two-step way."""
    op = resolve("index", {"index": (0, ("slice", None, None, None), "array")})
    with pytest.raises(ShapeError, match="two steps"):
        op.shape([(2, 3, 4), (2,)])
    ok = resolve("index", {"index": (0, "array")})  # next to each other: one meaning
    assert ok.shape([(2, 3, 4), (5,)]) == (5, 4)


# ---------------------------------------------------------------------------------------------
# The notes' example: functional index assignment


def test_index_assignment_of_the_notes() -> None:
    """y = zeros(2); y[0] = x[0] + 2 x[1]; y[1] = x[1] + 2 x[2]; L = sum(y): dL/dx = [1, 3, 2]
    for any x."""
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = rng.normal(size=3)
        record = trace("y = zeros(2); y[0] = x[0] + 2*x[1]; y[1] = x[1] + 2*x[2]; L = sum(y)",
                       {"x": x.tolist()})
        assert decode(record["gradients"]["x"]).tolist() == [1.0, 3.0, 2.0]
        assert math.isclose(float(decode(record["value"])), x[0] + 3 * x[1] + 2 * x[2],
                            rel_tol=1e-15, abs_tol=1e-15)


# ---------------------------------------------------------------------------------------------
# Generated NumPy at ties and edges prints the engine's numbers


@pytest.mark.parametrize(("expr", "values"), [
    ("sum(amax(x, axis=1) * w)", {"x": [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], "w": [1.5, -2.0]}),
    ("sum(amin(x, axis=0, keepdims=True))", {"x": [[1.0, "NaN"], [1.0, 2.0]]}),
    ("sum(norm(x, axis=1))", {"x": [[0.0, 0.0], [3.0, 4.0]]}),
    ("sum(logsumexp(x, dim=0) * w)", {"x": [["Infinity", 1.0], [0.5, 2.0]], "w": [1.0, 2.0]}),
    ("sum(var(x, axis=1) * w)", {"x": [[1.0, 2.0, 4.0], [0.0, 0.0, 1.0]], "w": [1.0, -1.0]}),
    ("sum(log_softmax(x, dim=0) * w)", {"x": [[1.0, 2.0], [3.0, -1.0]],
                                        "w": [[1.0, 2.0], [0.5, -1.0]]}),
])
def test_generated_numpy_matches_the_engine_at_edges(expr: str, values: dict[str, Any]) -> None:
    from gradtrace.codegen import generate

    from .test_codegen import assert_same, run_inprocess

    assert_same(run_inprocess(generate(expr, values, None, "numpy")), trace(expr, values), expr)
