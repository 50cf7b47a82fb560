"""Every op of the language against its named PyTorch reference, in float64: the op's `code.torch`
(the PyTorch function the generated PyTorch file calls: `torch.nn.functional.softplus`, ...),
evaluated here in torch on the same operands as every row of tests/test_ops.py CASES.

- forward: the value;
- reverse mode: `torch.autograd.grad` with a random upstream gradient against the op's VJP;
- second derivatives: PyTorch's double backward (`create_graph=True`) of <h, VJP> against the
  gradient graph gradtrace builds with `grad(...)` (the op's `rule`), through the whole pipeline;
- forward mode: `torch.func.jvp` against the op's JVP;
- edge values: zeros, infinities and NaN placed among the operands, value and gradient as PyTorch
  gives them (NaN where PyTorch has NaN).
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import pytest

from gradtrace import decode, trace
from gradtrace.ops import Op, unbroadcast

from .helpers import require_torch
from .test_ops import CASES, LETTERS, case_op, operands, values_of

Row = tuple[str, int]


def rows(with_operands: bool = False) -> list[Any]:
    """Every case row of the language's ops (`with_operands`: of those with an operand to
    differentiate: not arange, zeros, ones)."""
    out = []
    for key in sorted(CASES):
        case = CASES[key]
        if case.expr is None:  # the ops of gradient graphs have no PyTorch name
            continue
        if with_operands and len(case.gens) == len(case.constant):
            continue
        if (with_operands and ";" in case.expr) or "=" in case.expr.replace("==", ""):
            # A statement (`a[0] = b`) cannot be wrapped in grad(...); its rule is checked
            # against its VJP in tests/test_ops.py.
            continue
        for k, shapes in enumerate(case.shapes):
            out.append(pytest.param(key, k, id=f"{key}-{'-'.join(map(str, shapes))}"))
    return out


def torch_function(op: Op, n: int) -> Any:
    """The op's `code.torch` as a Python function of n torch tensors."""
    torch = require_torch()
    assert op.code is not None
    ns: dict[str, Any] = {"torch": torch, "F": torch.nn.functional, "math": math}
    if op.code.torch_helper:
        exec(op.code.torch_helper, ns)
    names = [f"_{i}" for i in range(n)]
    return eval(f"lambda {', '.join(names)}: {op.code.forward('torch', names)}", ns)


def tensors(args: list[np.ndarray], constant: tuple[int, ...]) -> list[Any]:
    torch = require_torch()
    return [torch.tensor(a, dtype=torch.float64, requires_grad=i not in constant)
            for i, a in enumerate(args)]


def close(got: Any, want: Any, what: str, rtol: float = 1e-10) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want[np.isfinite(want)]), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12 * scale, equal_nan=True,
                               err_msg=what)


def grad_or_none(out: Any, wrt: list[Any], upstream: Any = None, create_graph: bool = False
                 ) -> list[Any]:
    """torch.autograd.grad, with None for every operand where the output carries no gradient at
    all (a comparison's mask, a sign: their derivative is zero)."""
    torch = require_torch()
    if not out.requires_grad:
        return [None] * len(wrt)
    return list(torch.autograd.grad(out, wrt, upstream, create_graph=create_graph,
                                    allow_unused=True))


def differentiable(key: str, n: int) -> list[int]:
    return [i for i in range(n) if i not in CASES[key].constant]


@pytest.mark.parametrize(("key", "k"), rows())
def test_forward_and_gradients_match_pytorch(key: str, k: int) -> None:
    torch = require_torch()
    op, case = case_op(key), CASES[key]
    args = operands(key, k, seed=21)
    f = torch_function(op, len(args))
    ts = tensors(args, case.constant)
    out_t = f(*ts)
    out = np.asarray(op.forward(*args), dtype=np.float64)
    close(out, out_t.detach().numpy(force=True), f"{key}: value")
    g = np.random.default_rng(zlib.crc32(key.encode()) + k).normal(size=out.shape)
    wrt = differentiable(key, len(args))
    want = grad_or_none(out_t, [ts[i] for i in wrt], torch.tensor(g))
    got = op.vjp(g, args, out)
    for i, w in zip(wrt, want, strict=True):
        w_np = np.zeros(args[i].shape) if w is None else w.numpy(force=True)
        close(unbroadcast(np.asarray(got[i], dtype=np.float64), args[i].shape), w_np,
              f"{key}: gradient of operand {i}")


@pytest.mark.parametrize(("key", "k"), rows(with_operands=True))
def test_forward_mode_matches_pytorch(key: str, k: int) -> None:
    torch = require_torch()
    op = case_op(key)
    args = operands(key, k, seed=22)
    f = torch_function(op, len(args))
    rng = np.random.default_rng(zlib.crc32(key.encode()) + 100 + k)
    wrt = differentiable(key, len(args))
    tangents = [rng.normal(size=a.shape) if i in wrt else None for i, a in enumerate(args)]
    primal = [torch.tensor(a, dtype=torch.float64) for a in args]

    def only_wrt(*xs: Any) -> Any:
        full = list(primal)
        for i, x in zip(wrt, xs, strict=True):
            full[i] = x
        return f(*full)

    _, want = torch.func.jvp(only_wrt, tuple(primal[i] for i in wrt),
                             tuple(torch.tensor(tangents[i]) for i in wrt))
    out = np.asarray(op.forward(*args), dtype=np.float64)
    close(op.jvp(tangents, args, out), want.numpy(force=True), f"{key}: tangent")


@pytest.mark.parametrize(("key", "k"), rows(with_operands=True))
def test_second_derivatives_match_pytorch(key: str, k: int) -> None:
    """d/dx <h, d<up, f>/dx> by gradtrace's gradient graph (`grad`, the ops' rules) and by
    PyTorch's double backward."""
    torch = require_torch()
    op, case = case_op(key), CASES[key]
    assert case.expr is not None
    args = operands(key, k, seed=23)
    wrt = differentiable(key, len(args))
    rng = np.random.default_rng(zlib.crc32(key.encode()) + 200 + k)
    out_shape = np.asarray(op.forward(*args)).shape
    up = rng.normal(size=out_shape)
    hs = {i: rng.normal(size=args[i].shape) for i in wrt}
    # The names up and h* are not among the case's operand letters a, b, c, ...
    first = f"sum(({case.expr}) * up)"
    program = " + ".join(f"sum(grad({first}, {LETTERS[i]}) * h{LETTERS[i]})" for i in wrt)
    values = values_of(args) | {"up": up.tolist()} | {f"h{LETTERS[i]}": h.tolist()
                                                     for i, h in hs.items()}
    record = trace(program, values)

    f = torch_function(op, len(args))
    ts = tensors(args, case.constant)
    grads = grad_or_none((f(*ts) * torch.tensor(up)).sum(), [ts[i] for i in wrt],
                         create_graph=True)
    s = sum((g * torch.tensor(hs[i])).sum() for i, g in zip(wrt, grads, strict=True)
            if g is not None and g.requires_grad)
    want = (torch.autograd.grad(s, [ts[i] for i in wrt], allow_unused=True)
            if isinstance(s, torch.Tensor) else [None] * len(wrt))
    for i, w in zip(wrt, want, strict=True):
        w_np = np.zeros(args[i].shape) if w is None else w.numpy(force=True)
        close(decode(record["gradients"][LETTERS[i]]), w_np, f"{key}: second derivative, "
              f"operand {i}", rtol=1e-9)


def with_edges(args: list[np.ndarray], constant: tuple[int, ...], edges: tuple[float, ...],
               rng: np.random.Generator) -> list[np.ndarray]:
    """The operands with zeros, infinities and NaN put in at random places (labels untouched)."""
    out = []
    for i, a in enumerate(args):
        a = a.copy()
        if i not in constant and a.size:
            flat = a.reshape(-1)
            spots = rng.choice(flat.size, size=min(flat.size, 2), replace=False)
            flat[spots] = rng.choice(edges, size=spots.size)
        out.append(a)
    return out


def edge_rows() -> list[Any]:
    """One row per case: its largest shapes, so that ordinary values sit beside the edge ones."""
    out = []
    for key in sorted(CASES):
        case = CASES[key]
        if case.expr is None:
            continue
        k = max(range(len(case.shapes)), key=lambda j: sum(map(math.prod, case.shapes[j])))
        out.append(pytest.param(key, k, id=key))
    return out


@pytest.mark.parametrize(("key", "k"), edge_rows())
def test_edge_values_match_pytorch(key: str, k: int) -> None:
    torch = require_torch()
    op, case = case_op(key), CASES[key]
    rng = np.random.default_rng(zlib.crc32(key.encode()) + 300)
    for _ in range(4):
        args = with_edges(operands(key, k, seed=24), case.constant, case.edges, rng)
        f = torch_function(op, len(args))
        ts = tensors(args, case.constant)
        out_t = f(*ts)
        with np.errstate(all="ignore"):
            out = np.asarray(op.forward(*args), dtype=np.float64)
        close(out, out_t.detach().numpy(force=True), f"{key}: value at {args}")
        wrt = differentiable(key, len(args))
        g = np.ones(out.shape)
        want = grad_or_none(out_t, [ts[i] for i in wrt], torch.tensor(g))
        with np.errstate(all="ignore"):
            got = op.vjp(g, args, out)
        for i, w in zip(wrt, want, strict=True):
            w_np = np.zeros(args[i].shape) if w is None else w.numpy(force=True)
            close(unbroadcast(np.asarray(got[i], dtype=np.float64), args[i].shape), w_np,
                  f"{key}: gradient of operand {i} at {args}")
