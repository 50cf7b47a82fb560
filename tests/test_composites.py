"""Composite ops (ops/core.py `composite`): an op declared as a composition of others gets its
forward, shape, VJP, JVP, rule for grad, kinks, cost and elementwise flag from its parts.

Test-only composites are registered for the duration of each test: binary with a constant, made
of another composite, a reduction, one with a kink, one with a cost, each checked against finite
differences, its rule against its VJP, and through the whole pipeline."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from gradtrace import GradtraceError, decode, trace
from gradtrace.ops import FUNCTIONS, REGISTRY, Builder, Op, composite, unbroadcast
from gradtrace.ops.core import Tape


def _sqdiff(b: Builder, x: Sequence[int]) -> int:  # (a - b)^2 * 0.5, made of `square`
    return b.op("mul", b.op("square", b.op("sub", x[0], x[1])), b.const(0.5))


def _quart(b: Builder, x: Sequence[int]) -> int:  # square of a square: a composite of composites
    return b.op("square", b.op("square", x[0]))


def _twice_product(b: Builder, x: Sequence[int]) -> int:  # 2 a b
    return b.op("mul", b.op("mul", x[0], x[1]), b.const(2.0))


def _total_square(b: Builder, x: Sequence[int]) -> int:  # sum(a * a): a reduction
    return b.op("sum", b.op("mul", x[0], x[0]))


def _double_relu(b: Builder, x: Sequence[int]) -> int:  # 2 relu(a): a kink at 0
    return b.op("mul", b.op("relu", x[0]), b.const(2.0))


def _gram(b: Builder, x: Sequence[int]) -> int:  # A^T A: a matmul inside
    return b.op("matmul", b.op("transpose", x[0]), x[0])


def _tex(s: Sequence[str]) -> str:
    return "f(" + ", ".join(s) + ")"


def _make(name: str, arity: int, compose: object) -> Op:
    return composite(name, arity, name, compose,  # type: ignore[arg-type]
                     tex=_tex, local_tex=tuple(lambda s: "l" for _ in range(arity)))


TEST_OPS = {
    "t_sqdiff": (_make("t_sqdiff", 2, _sqdiff), lambda a, b: 0.5 * (a - b) ** 2),
    "t_quart": (_make("t_quart", 1, _quart), lambda a: a ** 4),
    "t_twice_product": (_make("t_twice_product", 2, _twice_product), lambda a, b: 2 * a * b),
    "t_total_square": (_make("t_total_square", 1, _total_square), lambda a: np.sum(a * a)),
    "t_double_relu": (_make("t_double_relu", 1, _double_relu), lambda a: 2 * np.maximum(a, 0)),
    "t_gram": (_make("t_gram", 1, _gram), lambda a: a.T @ a),
}


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test ops in the registry and callable by name, for this test only."""
    for name, (op, _) in TEST_OPS.items():
        monkeypatch.setitem(REGISTRY, name, op)
        monkeypatch.setitem(FUNCTIONS, name, name)
    yield


def operands(name: str, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    rng = np.random.default_rng(len(name))
    return [rng.uniform(0.3, 1.7, size=s) * rng.choice([-1.0, 1.0], size=s) for s in shapes]


CASES = [
    ("t_sqdiff", [(3,), (3,)]), ("t_sqdiff", [(2, 3), (3,)]), ("t_quart", [(4,)]),
    ("t_twice_product", [(2, 2), (2, 2)]), ("t_total_square", [(2, 3)]),
    ("t_double_relu", [(5,)]), ("t_gram", [(3, 2)]),
]


def central(f: object, args: list[np.ndarray], i: int, g: np.ndarray) -> np.ndarray:
    """d <g, f(args)> / d args[i] by central differences."""
    h = 1e-6
    out = np.zeros(args[i].shape)
    for idx in np.ndindex(args[i].shape):
        plus = [a.copy() for a in args]
        minus = [a.copy() for a in args]
        plus[i][idx] += h
        minus[i][idx] -= h
        out[idx] = (np.sum(g * f(*plus)) - np.sum(g * f(*minus))) / (2 * h)  # type: ignore[operator]
    return out


@pytest.mark.parametrize(("name", "shapes"), CASES)
def test_forward_vjp_jvp_and_rule_follow_from_the_parts(name: str,
                                                         shapes: list[tuple[int, ...]]) -> None:
    op, reference = TEST_OPS[name]
    args = operands(name, shapes)
    out = op.forward(*args)
    np.testing.assert_allclose(out, reference(*args), rtol=1e-12)
    assert op.shape(shapes) == out.shape
    g = np.random.default_rng(1).normal(size=out.shape)
    vjp = op.vjp(g, args, out)
    for i in range(op.arity):
        got = unbroadcast(np.asarray(vjp[i]), args[i].shape)
        np.testing.assert_allclose(got, central(reference, args, i, g), rtol=1e-6, atol=1e-8)
        # The JVP is the VJP's transpose: <g, J t> = <J^T g, t>.
        t = np.random.default_rng(2 + i).normal(size=args[i].shape)
        tangents: list[np.ndarray | None] = [None] * op.arity
        tangents[i] = t
        np.testing.assert_allclose(np.sum(g * op.jvp(tangents, args, out)), np.sum(got * t),
                                   rtol=1e-10)
    # The rule, run on a tape, gives the VJP's numbers.
    tape = Tape([*args, out, g])
    n = len(args)
    parts = op.rule(tape, n + 1, list(range(n)), n, [True] * n)
    for i, part in enumerate(parts):
        assert part is not None
        value = tape.values[part]
        value = unbroadcast(np.broadcast_to(value, np.broadcast_shapes(value.shape,
                                                                       args[i].shape)),
                            args[i].shape)
        np.testing.assert_allclose(value, unbroadcast(np.asarray(vjp[i]), args[i].shape),
                                   rtol=1e-12, atol=1e-14)


def test_a_composite_of_composites_differentiates_twice() -> None:
    """t_quart = square(square(x)): d/dx = 4 x^3, d2/dx2 = 12 x^2 (nested rules once collided)."""
    assert trace("grad(t_quart(x), x)", {"x": 2.0})["value"] == 32.0
    assert trace("grad(grad(t_quart(x), x), x)", {"x": 2.0})["value"] == 48.0
    rec = trace("t_sqdiff(x, y) * 3", {"x": 2.0, "y": 0.5}, hessian=True)
    np.testing.assert_allclose(decode(rec["hessian"]["matrix"]), [[3, -3], [-3, 3]])


def test_an_operand_given_twice_gets_its_gradient_once() -> None:
    # 2 x x: d/dx = 4 x (each operand's part once, added by the engine).
    assert trace("grad(t_twice_product(x, x), x)", {"x": 3.0})["value"] == 12.0
    assert trace("t_twice_product(x, x)", {"x": 3.0})["gradients"] == {"x": 12.0}


def test_a_shape_mismatch_inside_a_composite_is_a_clear_error() -> None:
    with pytest.raises(GradtraceError) as info:
        trace("grad(sum(t_sqdiff(x, y)), x)", {"x": [1.0, 2.0], "y": [1.0, 2.0, 3.0]})
    assert info.value.type == "shape"


def test_kinks_cost_and_elementwise_come_from_the_parts() -> None:
    assert TEST_OPS["t_double_relu"][0].kink is not None
    assert TEST_OPS["t_sqdiff"][0].kink is None and TEST_OPS["t_sqdiff"][0].elementwise
    assert not TEST_OPS["t_total_square"][0].elementwise
    gram = TEST_OPS["t_gram"][0]
    assert gram.cost is not None and gram.cost([(3, 2)]) == REGISTRY["matmul"].cost(
        [(2, 3), (3, 2)])  # type: ignore[misc]
    # The numeric check sees the kink inside the composite, as it does when written out.
    composed = trace("t_double_relu(x)", {"x": 0.0}, check=True)["check"]
    written = trace("relu(x) * 2", {"x": 0.0}, check=True)["check"]
    assert composed["inputs"]["x"]["verdict"] == written["inputs"]["x"]["verdict"] == "kink"
