"""The layers against PyTorch in float64, directly: conv2d (stride, padding 'same' and numbers,
both layouts), max_pool2d (its ties, -inf, NaN and padding: one input per window, PyTorch's pick),
avg_pool2d, linear, layer_norm and batch_norm; values, the gradients of every operand, and second
derivatives (PyTorch's create_graph=True against `grad` in the language, and the Hessian); the
two layouts giving the same numbers after a permutation; readable shape and option errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradtrace import GradtraceError, decode, trace
from gradtrace.codegen import generate
from gradtrace.ops import resolve

from .helpers import check_invariants, require_torch
from .test_codegen import assert_same, run_inprocess

RNG = np.random.default_rng(20240611)


def words(attrs: dict[str, Any]) -> str:
    return "".join(f", {k}={v!r}" for k, v in attrs.items())


def tensor(torch: Any, a: np.ndarray, grad: bool = True) -> Any:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def grads_of(record: Any) -> dict[str, np.ndarray]:
    return {k: decode(v) for k, v in record["gradients"].items()}


def close(got: Any, want: Any, what: str = "") -> None:
    want = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12, err_msg=what)


# ---------------------------------------------------------------------------------------------
# conv2d


def torch_conv2d(torch: Any, x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0,
                 layout: str = "NHWC") -> Any:
    """PyTorch's conv2d in the layout given; 'same' with a stride padded as TensorFlow's SAME
    (PyTorch refuses it): the total each axis needs, the odd zero after."""
    F = torch.nn.functional
    if x.ndim == 2:
        b = None if b is None else b.reshape(1)
        return torch_conv2d(torch, x[None, None], w[None, None], b, stride, padding,
                            "NCHW")[0, 0]
    if layout == "NHWC":
        return torch_conv2d(torch, x.permute(0, 3, 1, 2).contiguous(),
                            w.permute(3, 2, 0, 1).contiguous(), b, stride, padding,
                            "NCHW").permute(0, 2, 3, 1)
    s = (stride, stride) if isinstance(stride, int) else tuple(stride)
    if padding == "same" and s != (1, 1):
        pads: list[int] = []
        for n, k, st in zip(x.shape[2:], w.shape[2:], s, strict=True):
            need = max((-(-n // st) - 1) * st + k - n, 0)
            pads = [need // 2, need - need // 2, *pads]
        x, padding = F.pad(x, pads), 0
    return F.conv2d(x, w, b, stride=s, padding=padding)


CONVS = [
    ({}, (5, 6), (2, 3)),
    ({"stride": 2, "padding": 1}, (2, 5, 5, 3), (3, 3, 3, 2)),
    ({"stride": (2, 1), "padding": (1, 0)}, (2, 6, 5, 2), (3, 2, 2, 3)),
    ({"padding": "same"}, (2, 4, 5, 2), (2, 3, 2, 3)),  # even kernel: the extra zero after
    ({"padding": "same", "stride": 2}, (2, 5, 6, 2), (3, 2, 2, 2)),  # TensorFlow's SAME
    ({"padding": "same", "stride": 3}, (7, 8), (2, 3)),
    ({"padding": "valid", "stride": 2}, (1, 7, 7, 1), (3, 3, 1, 1)),
    ({"layout": "NCHW", "stride": 2, "padding": 1}, (2, 3, 5, 5), (4, 3, 3, 3)),
    ({"layout": "NCHW", "padding": "same"}, (2, 2, 4, 5), (1, 2, 3, 2)),
    ({"layout": "NCHW", "padding": "same", "stride": 2}, (1, 2, 6, 5), (2, 2, 3, 3)),
    ({"layout": "NCHW", "stride": (1, 2), "padding": (2, 1)}, (2, 1, 4, 4), (2, 1, 3, 2)),
]


def bias_shape(attrs: dict[str, Any], ws: tuple[int, ...]) -> tuple[int, ...]:
    return () if len(ws) == 2 else (ws[0],) if attrs.get("layout") == "NCHW" else (ws[3],)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize(("attrs", "xs", "ws"), CONVS)
def test_conv2d_matches_pytorch(attrs: dict[str, Any], xs: tuple[int, ...],
                                ws: tuple[int, ...], bias: bool) -> None:
    torch = require_torch()
    x, w, b = RNG.normal(size=xs), RNG.normal(size=ws), RNG.normal(size=bias_shape(attrs, ws))
    ts = [tensor(torch, a) for a in ((x, w, b) if bias else (x, w))]
    y = torch_conv2d(torch, *ts, **attrs)
    g = RNG.normal(size=tuple(y.shape))
    want = torch.autograd.grad(y, ts, torch.tensor(g))
    values = {"x": x.tolist(), "w": w.tolist(), **({"b": b.tolist()} if bias else {})}
    record = trace(f"conv2d(x, w{', b' if bias else ''}{words(attrs)})", values, seed=g.tolist())
    check_invariants(record)
    close(decode(record["value"]), y, "value")
    got = grads_of(record)
    for name, wt in zip("xwb", want, strict=False):
        close(got[name], wt, f"d{name}")


@pytest.mark.parametrize(("attrs", "xs", "ws"), CONVS)
def test_conv2d_second_derivatives_match_pytorch(attrs: dict[str, Any], xs: tuple[int, ...],
                                                 ws: tuple[int, ...]) -> None:
    """grad of <H, grad(<G, conv2d(x, w)>, x or w)>: the VJP ops' own rules (conv2d_dx,
    conv2d_dw), against PyTorch's create_graph=True."""
    torch = require_torch()
    x, w = RNG.normal(size=xs), RNG.normal(size=ws)
    tx, tw = tensor(torch, x), tensor(torch, w)
    out = torch_conv2d(torch, tx, tw, **attrs)
    g = tensor(torch, RNG.normal(size=tuple(out.shape)))
    for wrt, inner in (("x", tx), ("w", tw)):
        h = RNG.normal(size=tuple(inner.shape))
        tx.grad = tw.grad = g.grad = None
        (d,) = torch.autograd.grad((out * g).sum(), inner, create_graph=True)
        want = torch.autograd.grad((d * torch.tensor(h)).sum(), (tx, tw, g), allow_unused=True)
        expr = f"sum(grad(sum(conv2d(x, w{words(attrs)}) * G), {wrt}) * H)"
        record = trace(expr, {"x": x.tolist(), "w": w.tolist(), "G": g.detach().numpy().tolist(),
                              "H": h.tolist()})
        check_invariants(record)
        got = grads_of(record)
        for name, t, wt in (("x", tx, want[0]), ("w", tw, want[1]), ("G", g, want[2])):
            close(got[name], torch.zeros_like(t) if wt is None else wt, f"d{name} of d{wrt}")


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_conv2d_hessian_matches_pytorch(layout: str) -> None:
    """Every second derivative of sum(conv2d(x, w, b)^2), the bias's too."""
    torch = require_torch()
    attrs = {"stride": 2, "padding": "same", "layout": layout}
    xs = (1, 2, 4, 3) if layout == "NCHW" else (1, 4, 3, 2)
    x, w, b = RNG.normal(size=xs), RNG.normal(size=(2, 2, 2, 2)), RNG.normal(size=(2,))
    record = trace(f"sum(conv2d(x, w, b{words(attrs)}) ^ 2)",
                   {"x": x.tolist(), "w": w.tolist(), "b": b.tolist()}, hessian=True)
    cut = np.cumsum([0, x.size, w.size, b.size])

    def f(flat: Any) -> Any:
        tx, tw, tb = (flat[cut[i]:cut[i + 1]].reshape(a.shape) for i, a in enumerate((x, w, b)))
        return (torch_conv2d(torch, tx, tw, tb, **attrs) ** 2).sum()

    want = torch.autograd.functional.hessian(
        f, torch.tensor(np.concatenate([x.ravel(), w.ravel(), b.ravel()])))
    assert record["hessian"]["inputs"] == ["x", "w", "b"]
    close(decode(record["hessian"]["matrix"]), want, "Hessian")


def nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def oihw(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(w.transpose(3, 2, 0, 1))


@pytest.mark.parametrize("attrs", [{}, {"stride": 2, "padding": 1}, {"padding": "same"},
                                   {"stride": (2, 3), "padding": "same"}])
def test_conv2d_layouts_give_the_same_numbers(attrs: dict[str, Any]) -> None:
    """The same convolution in NHWC/HWIO and in NCHW/OIHW: the value and both gradients are
    the other layout's, permuted (exactly: the same sums in the same order)."""
    x, w = RNG.normal(size=(2, 6, 5, 3)), RNG.normal(size=(3, 2, 3, 2))
    g = RNG.normal(size=resolve("conv2d", attrs).shape([x.shape, w.shape]))
    a = trace(f"conv2d(x, w{words(attrs)})", {"x": x.tolist(), "w": w.tolist()},
              seed=g.tolist())
    b = trace(f"conv2d(x, w{words({**attrs, 'layout': 'NCHW'})})",
              {"x": nchw(x).tolist(), "w": oihw(w).tolist()}, seed=nchw(g).tolist())
    np.testing.assert_array_equal(nchw(decode(a["value"])), decode(b["value"]))
    np.testing.assert_array_equal(nchw(grads_of(a)["x"]), grads_of(b)["x"])
    np.testing.assert_array_equal(oihw(grads_of(a)["w"]), grads_of(b)["w"])


def test_conv2d_defaults_are_todays() -> None:
    """Stride 1 and no padding: the entry, its formulas and its gradient graph's nodes carry no
    attributes; 'valid' and padding 0 are that op."""
    op = resolve("conv2d")
    assert op.tex(["x", "w"]) == "\\operatorname{conv2d}(x, w)"
    assert resolve("conv2d", {"padding": "valid"}).tex(["x", "w"]) == op.tex(["x", "w"])
    record = trace("sum(grad(sum(conv2d(x, w)), x) * x)",
                   {"x": np.ones((3, 3)).tolist(), "w": np.ones((2, 2)).tolist()})
    assert all("attrs" not in n or not n["attrs"] for n in record["nodes"]
               if n["op"] in ("conv2d_dx", "conv2d_dw"))


@pytest.mark.parametrize(("expr", "values", "want"), [
    ("conv2d(x, w, stride=2)", {"x": np.ones((1, 4, 4, 2)), "w": np.ones((2, 2, 3, 1))},
     ["2 channels", "expects 3", "NHWC"]),
    ("conv2d(x, w)", {"x": np.ones((1, 2, 4, 4)), "w": np.ones((3, 2, 2, 2))},
     ["4 channels", "expects 2", "layout='NCHW'"]),
    ("conv2d(x, w, layout='NCHW')", {"x": np.ones((1, 4, 4, 2)), "w": np.ones((2, 2, 2, 3))},
     ["expects", "OIHW", "layout='NHWC'"]),
    ("conv2d(x, w, padding=1)", {"x": np.ones((2, 2)), "w": np.ones((5, 5))},
     ["larger than", "padded to (4, 4)"]),
])
def test_conv2d_shape_errors_say_the_layout(expr: str, values: dict[str, Any],
                                            want: list[str]) -> None:
    with pytest.raises(GradtraceError) as info:
        trace(expr, {k: v.tolist() for k, v in values.items()})
    assert info.value.type == "shape"
    for word in want:
        assert word in info.value.message, (word, info.value.message)


@pytest.mark.parametrize(("expr", "want"), [
    ("conv2d(x, w, stride=0)", "stride=0"),
    ("conv2d(x, w, padding='full')", "'same', 'valid'"),
    ("conv2d(x, w, padding=-1)", "padding=-1"),
    ("conv2d(x, w, layout='NWHC')", "NHWC"),
    ("max_pool2d(x, 3, padding=2)", "half the window"),
])
def test_bad_options_are_refused(expr: str, want: str) -> None:
    with pytest.raises(GradtraceError) as info:
        trace(expr, {"x": np.ones((4, 4)).tolist(), "w": np.ones((2, 2)).tolist()})
    assert want in info.value.message, info.value.message


# ---------------------------------------------------------------------------------------------
# Pooling


def torch_pool(torch: Any, name: str, x: Any, kernel_size: Any, stride: Any = None,
               padding: Any = 0, layout: str = "NHWC") -> Any:
    f = getattr(torch.nn.functional, name)
    if x.ndim == 2:
        return f(x[None], kernel_size, stride, padding)[0]
    if layout == "NHWC":
        return f(x.permute(0, 3, 1, 2), kernel_size, stride, padding).permute(0, 2, 3, 1)
    return f(x, kernel_size, stride, padding)


POOLS = [
    ({"kernel_size": 2}, (4, 6)),
    ({"kernel_size": 2}, (2, 5, 5, 3)),  # a leftover row and column, dropped
    ({"kernel_size": 3, "stride": 1, "padding": 1}, (2, 4, 5, 2)),
    ({"kernel_size": 3, "stride": 2, "padding": 1}, (1, 7, 6, 2)),
    ({"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1)}, (5, 7)),
    ({"kernel_size": 2, "stride": 1, "layout": "NCHW"}, (2, 3, 4, 4)),
    ({"kernel_size": 3, "stride": 2, "padding": 1, "layout": "NCHW"}, (2, 2, 5, 5)),
]


def ties(shape: tuple[int, ...]) -> np.ndarray:
    """Few distinct values: most windows hold ties, some several."""
    return RNG.integers(-1, 2, size=shape).astype(float)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize(("attrs", "xs"), POOLS)
@pytest.mark.parametrize("values", ["normal", "ties"])
def test_pools_match_pytorch(name: str, attrs: dict[str, Any], xs: tuple[int, ...],
                             values: str) -> None:
    torch = require_torch()
    x = RNG.normal(size=xs) if values == "normal" else ties(xs)
    tx = tensor(torch, x)
    y = torch_pool(torch, name, tx, **attrs)
    g = RNG.normal(size=tuple(y.shape))
    (gx,) = torch.autograd.grad(y, tx, torch.tensor(g))
    record = trace(f"{name}(x{words(attrs)})", {"x": x.tolist()}, seed=g.tolist())
    check_invariants(record)
    close(decode(record["value"]), y, "value")
    close(grads_of(record)["x"], gx, "dx")


def test_max_pool2d_routes_to_pytorchs_pick() -> None:
    """One input per window takes the whole gradient: the first largest in row-major order; a
    NaN over any number, the last NaN of a window over earlier ones; a window of -inf alone
    gives its first input (never the padding); where windows overlap, the input sums them."""
    torch = require_torch()
    inf, nan = float("inf"), float("nan")
    windows = [
        [1.0, 3.0, 3.0, 2.0],  # a tie: the first
        [3.0, 1.0, 3.0, 3.0],
        [nan, 1.0, nan, 2.0],  # NaN: the last one
        [1.0, nan, 5.0, inf],
        [-inf, -inf, -inf, -inf],
        [2.0, 2.0, 2.0, 2.0],
        [inf, inf, 0.0, -inf],
    ]
    x = np.concatenate([np.reshape(w, (2, 2)) for w in windows], axis=1)  # side by side
    for attrs, xs in (({"kernel_size": 2}, x),
                      ({"kernel_size": 2, "padding": 1}, x),
                      ({"kernel_size": 3, "stride": 1, "padding": 1}, x),
                      ({"kernel_size": 2, "stride": 1}, np.full((3, 3), -inf)),
                      ({"kernel_size": 3, "stride": 2, "padding": 1}, np.full((4, 5), -inf))):
        tx = tensor(torch, xs)
        y = torch_pool(torch, "max_pool2d", tx, **attrs)
        g = np.arange(1.0, y.numel() + 1).reshape(tuple(y.shape))
        (gx,) = torch.autograd.grad(y, tx, torch.tensor(g))
        values = {"x": [[v if np.isfinite(v) else "NaN" if np.isnan(v) else
                         "Infinity" if v > 0 else "-Infinity" for v in row]
                        for row in xs.tolist()]}
        record = trace(f"max_pool2d(x{words(attrs)})", values, seed=g.tolist())
        close(decode(record["value"]), y, f"value {attrs}")
        close(grads_of(record)["x"], gx, f"dx {attrs}")
        for lang in ("numpy", "pytorch"):
            assert_same(run_inprocess(generate(f"max_pool2d(x{words(attrs)})", values,
                                               g.tolist(), lang)), record, f"{lang} {attrs}")


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pool_second_derivatives_match_pytorch(name: str) -> None:
    torch = require_torch()
    attrs = {"kernel_size": 3, "stride": 2, "padding": 1}
    x = RNG.normal(size=(2, 5, 5, 2))
    tx = tensor(torch, x)
    out = torch_pool(torch, name, tx, **attrs)
    g = tensor(torch, RNG.normal(size=tuple(out.shape)))
    h = RNG.normal(size=x.shape)
    (d,) = torch.autograd.grad((out * out * g).sum(), tx, create_graph=True)
    want = torch.autograd.grad((d * torch.tensor(h)).sum(), (tx, g))
    record = trace(f"sum(grad(sum({name}(x{words(attrs)}) ^ 2 * G), x) * H)",
                   {"x": x.tolist(), "G": g.detach().numpy().tolist(), "H": h.tolist()})
    got = grads_of(record)
    close(got["x"], want[0], "dx")
    close(got["G"], want[1], "dG")


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pool_layouts_give_the_same_numbers(name: str) -> None:
    attrs = {"kernel_size": 3, "stride": 2, "padding": 1}
    x = RNG.normal(size=(2, 5, 6, 3))
    g = RNG.normal(size=resolve(name, attrs).shape([x.shape]))
    a = trace(f"{name}(x{words(attrs)})", {"x": x.tolist()}, seed=g.tolist())
    b = trace(f"{name}(x{words({**attrs, 'layout': 'NCHW'})})", {"x": nchw(x).tolist()},
              seed=nchw(g).tolist())
    np.testing.assert_array_equal(nchw(decode(a["value"])), decode(b["value"]))
    np.testing.assert_array_equal(nchw(grads_of(a)["x"]), grads_of(b)["x"])


# ---------------------------------------------------------------------------------------------
# linear


@pytest.mark.parametrize(("xs", "ws", "bs"), [
    ((3, 4), (2, 4), (2,)), ((4,), (3, 4), (3,)), ((2, 3, 4), (5, 4), (5,)),
    ((3, 4), (2, 4), None), ((3, 4), (4,), None), ((3, 4), (2, 4), ()), ((3, 4), (2, 4), (3, 1)),
])
def test_linear_matches_pytorch(xs: tuple[int, ...], ws: tuple[int, ...],
                                bs: tuple[int, ...] | None) -> None:
    torch = require_torch()
    x, w = RNG.normal(size=xs), RNG.normal(size=ws)
    b = None if bs is None else RNG.normal(size=bs)
    ts = [tensor(torch, a) for a in (x, w, b) if a is not None]
    y = torch.nn.functional.linear(*ts)
    g = RNG.normal(size=tuple(y.shape))
    want = torch.autograd.grad(y, ts, torch.tensor(g))
    values = {"x": x.tolist(), "w": w.tolist(), **({} if b is None else {"b": b.tolist()})}
    record = trace("linear(x, w)" if b is None else "linear(x, w, b)", values, seed=g.tolist())
    check_invariants(record)
    close(decode(record["value"]), y)
    got = grads_of(record)
    for name, wt in zip(("x", "w", "b"), want, strict=False):
        close(got[name], wt, f"d{name}")


def test_linear_second_derivatives_match_pytorch() -> None:
    torch = require_torch()
    x, w, b = RNG.normal(size=(3, 4)), RNG.normal(size=(2, 4)), RNG.normal(size=(2,))
    tx, tw, tb = (tensor(torch, a) for a in (x, w, b))
    loss = (torch.tanh(torch.nn.functional.linear(tx, tw, tb)) ** 2).sum()
    dw, = torch.autograd.grad(loss, tw, create_graph=True)
    h = RNG.normal(size=w.shape)
    want = torch.autograd.grad((dw * torch.tensor(h)).sum(), (tx, tw, tb))
    record = trace("sum(grad(sum(tanh(linear(x, w, b)) ^ 2), w) * H)",
                   {"x": x.tolist(), "w": w.tolist(), "b": b.tolist(), "H": h.tolist()})
    got = grads_of(record)
    for name, wt in zip(("x", "w", "b"), want, strict=True):
        close(got[name], wt, f"d{name}")
    record = trace("sum(tanh(linear(x, w, b)) ^ 2)",
                   {"x": x.tolist(), "w": w.tolist(), "b": b.tolist()}, hessian=True)

    def f(flat: Any) -> Any:
        parts = np.cumsum([0, x.size, w.size, b.size])
        a, m, c = (flat[parts[i]:parts[i + 1]].reshape(s)
                   for i, s in enumerate((x.shape, w.shape, b.shape)))
        return (torch.tanh(torch.nn.functional.linear(a, m, c)) ** 2).sum()

    full = torch.autograd.functional.hessian(
        f, torch.tensor(np.concatenate([x.ravel(), w.ravel(), b.ravel()])))
    np.testing.assert_allclose(decode(record["hessian"]["matrix"]), full.numpy(), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize(("xs", "ws", "bs", "want"), [
    ((3, 4), (4, 2), None, ["4 features", "(4, 2)", "takes 2", "(out, in)"]),
    ((3, 4), (2, 4, 1), None, ["matrix (out, in)", "(2, 4, 1)"]),
    ((3, 4), (2, 4), (3,), ["bias (3,)", "output (3, 2)"]),
    ((3, 4), (4,), (), ["with a bias", "matrix (out, in)", "(4,)"]),
])
def test_linear_shape_errors(xs: tuple[int, ...], ws: tuple[int, ...],
                             bs: tuple[int, ...] | None, want: list[str]) -> None:
    values = {"x": np.ones(xs).tolist(), "w": np.ones(ws).tolist()}
    if bs is not None:
        values["b"] = np.ones(bs).tolist()
    with pytest.raises(GradtraceError) as info:
        trace("linear(x, w)" if bs is None else "linear(x, w, b)", values)
    for word in want:
        assert word in info.value.message, (word, info.value.message)


# ---------------------------------------------------------------------------------------------
# layer_norm and batch_norm


def torch_layer_norm(torch: Any, x: Any, *affine: Any, dims: int = 1, eps: float = 1e-5) -> Any:
    return torch.nn.functional.layer_norm(x, x.shape[-dims:], *affine, eps=eps)


def torch_batch_norm(torch: Any, x: Any, *affine: Any, layout: str = "NHWC",
                     eps: float = 1e-5) -> Any:
    w, b = [*affine, None, None][:2]
    if layout == "NHWC":
        return torch.nn.functional.batch_norm(x.movedim(-1, 1), None, None, w, b, training=True,
                                              eps=eps).movedim(1, -1)
    return torch.nn.functional.batch_norm(x, None, None, w, b, training=True, eps=eps)


NORMS = [
    ("layer_norm", {}, ((3, 4),)),
    ("layer_norm", {}, ((2, 3, 5), (5,), (5,))),
    ("layer_norm", {"normalized_shape": (3, 4)}, ((2, 3, 4), (3, 4), (3, 4))),
    ("layer_norm", {"dims": 2, "eps": 1e-2}, ((2, 3, 4), (3, 4))),
    ("batch_norm", {}, ((5, 3),)),
    ("batch_norm", {}, ((2, 3, 3, 4), (4,), (4,))),
    ("batch_norm", {"eps": 1e-2}, ((4, 3), (3,), (3,))),
    ("batch_norm", {"layout": "NCHW"}, ((2, 4, 3, 3), (4,), (4,))),
    ("batch_norm", {"layout": "NCHW"}, ((3, 2, 5), (2,), (2,))),
]


def torch_norm(torch: Any, name: str, attrs: dict[str, Any], *ts: Any) -> Any:
    if name == "layer_norm":
        shape = attrs.get("normalized_shape")
        return torch_layer_norm(torch, *ts, dims=len(shape) if shape else attrs.get("dims", 1),
                                eps=attrs.get("eps", 1e-5))
    return torch_batch_norm(torch, *ts, **attrs)


@pytest.mark.parametrize(("name", "attrs", "shapes"), NORMS)
def test_norms_match_pytorch(name: str, attrs: dict[str, Any],
                             shapes: tuple[tuple[int, ...], ...]) -> None:
    torch = require_torch()
    arrays = [RNG.normal(size=s) for s in shapes]
    ts = [tensor(torch, a) for a in arrays]
    y = torch_norm(torch, name, attrs, *ts)
    g = RNG.normal(size=tuple(y.shape))
    want = torch.autograd.grad(y, ts, torch.tensor(g))
    names = "xwb"[:len(arrays)]
    record = trace(f"{name}({', '.join(names)}{words(attrs)})",
                   {n: a.tolist() for n, a in zip(names, arrays, strict=True)}, seed=g.tolist())
    check_invariants(record)
    close(decode(record["value"]), y, "value")
    got = grads_of(record)
    for n, wt in zip(names, want, strict=True):
        close(got[n], wt, f"d{n}")


@pytest.mark.parametrize(("name", "attrs", "shapes"), NORMS)
def test_norm_second_derivatives_match_pytorch(name: str, attrs: dict[str, Any],
                                               shapes: tuple[tuple[int, ...], ...]) -> None:
    """<H, grad(sum(norm(x, ...)^2 * G), x)> differentiated by every input, as PyTorch's
    create_graph=True."""
    torch = require_torch()
    arrays = [RNG.normal(size=s) for s in shapes]
    ts = [tensor(torch, a) for a in arrays]
    y = torch_norm(torch, name, attrs, *ts)
    g = RNG.normal(size=tuple(y.shape))
    h = RNG.normal(size=shapes[0])
    (d,) = torch.autograd.grad((y ** 2 * torch.tensor(g)).sum(), ts[0], create_graph=True)
    want = torch.autograd.grad((d * torch.tensor(h)).sum(), ts)
    names = "xwb"[:len(arrays)]
    values = {n: a.tolist() for n, a in zip(names, arrays, strict=True)}
    record = trace(f"sum(grad(sum({name}({', '.join(names)}{words(attrs)}) ^ 2 * G), x) * H)",
                   {**values, "G": g.tolist(), "H": h.tolist()})
    got = grads_of(record)
    for n, wt in zip(names, want, strict=True):
        np.testing.assert_allclose(got[n], wt.numpy(), rtol=1e-10, atol=1e-10, err_msg=f"d{n}")


def test_batch_norm_layouts_give_the_same_numbers() -> None:
    x, w, b = RNG.normal(size=(2, 3, 4, 3)), RNG.normal(size=(3,)), RNG.normal(size=(3,))
    g = RNG.normal(size=x.shape)
    a = trace("batch_norm(x, w, b)", {"x": x.tolist(), "w": w.tolist(), "b": b.tolist()},
              seed=g.tolist())
    c = trace("batch_norm(x, w, b, layout='NCHW')",
              {"x": nchw(x).tolist(), "w": w.tolist(), "b": b.tolist()}, seed=nchw(g).tolist())
    np.testing.assert_allclose(nchw(decode(a["value"])), decode(c["value"]), rtol=1e-13,
                               atol=1e-14)
    np.testing.assert_allclose(nchw(grads_of(a)["x"]), grads_of(c)["x"], rtol=1e-12, atol=1e-13)
    for n in "wb":
        np.testing.assert_allclose(grads_of(a)[n], grads_of(c)[n], rtol=1e-12, atol=1e-13)


def test_layer_norm_dims_is_normalized_shape() -> None:
    x, w = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(3, 4))
    values = {"x": x.tolist(), "w": w.tolist()}
    a = trace("layer_norm(x, w, dims=2)", values)
    b = trace("layer_norm(x, (3, 4), w)", values)  # PyTorch's order: the shape, then the weight
    assert a["value"] == b["value"] and a["gradients"] == b["gradients"]


def test_norms_open_into_their_parts() -> None:
    """A composite: one gate whose parts are the mean, the deviation, the variance, sqrt."""
    parts = [op.name for op, *_ in _tape_steps("batch_norm", {"layout": "NCHW"},
                                               [np.ones((2, 2, 2)), np.ones(2), np.ones(2)])]
    assert parts == ["mean", "sub", "square", "mean", "add", "sqrt", "div", "unreduce", "mul",
                     "unreduce", "add"]
    parts = [op.name for op, *_ in _tape_steps("layer_norm", {}, [np.ones((2, 3))])]
    assert parts == ["mean", "sub", "square", "mean", "add", "sqrt", "div"]


def _tape_steps(name: str, attrs: dict[str, Any], args: list[np.ndarray]) -> list[Any]:
    from gradtrace.ops.core import Tape

    op = resolve(name, attrs)
    assert op.compose is not None
    tape = Tape(args)
    op.compose(tape, range(len(args)))
    return tape.steps


@pytest.mark.parametrize(("expr", "values", "want"), [
    ("batch_norm(x)", {"x": np.ones((1, 3))}, ["one value per channel"]),
    ("batch_norm(x, w)", {"x": np.ones((2, 3)), "w": np.ones(2)}, ["one number per channel",
                                                                  "(3,)", "(2,)"]),
    ("batch_norm(x)", {"x": np.ones(3)}, ["batch with channels"]),
    ("layer_norm(x, w)", {"x": np.ones((2, 3, 4)), "w": np.ones((3, 4))},
     ["normalized shape (4,)", "normalized_shape=(3, 4)"]),
    ("layer_norm(x, normalized_shape=(2, 4))", {"x": np.ones((2, 3, 4))},
     ["normalized_shape=(2, 4)", "(3, 4)"]),
    ("layer_norm(x, dims=3)", {"x": np.ones((2, 3))}, ["last 3 axes", "has 2"]),
])
def test_norm_shape_errors(expr: str, values: dict[str, Any], want: list[str]) -> None:
    with pytest.raises(GradtraceError) as info:
        trace(expr, {k: v.tolist() for k, v in values.items()})
    for word in want:
        assert word in info.value.message, (word, info.value.message)
