"""The explicit Jacobian of tensor edges (jacobian.py): against central finite differences of the
op's forward, for every op of the registry on small random shapes (broadcast cases included, the
shapes of tests/test_ops.py CASES), and in the trace record: upstream (flattened) @ J equals the
edge's downstream; big edges give only `jacobian_size`."""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import pytest

from gradtrace import decode, trace
from gradtrace.jacobian import edge_jacobian, jacobian_size
from gradtrace.ops import REGISTRY
from gradtrace.settings import get_settings

from .test_ops import CASES, case_op, op_name

LIMIT = get_settings().max_jacobian_entries


def fd_jacobian(name: str, args: list[np.ndarray], k: int, h: float = 1e-6) -> np.ndarray:
    """d out_i / d args[k]_j by central differences of the op's forward, one column per j."""
    op = case_op(name)
    out = np.asarray(op.forward(*args), dtype=np.float64)
    src = args[k]
    cols = []
    for j in range(src.size):
        plus, minus = src.copy().reshape(-1), src.copy().reshape(-1)
        plus[j] += h
        minus[j] -= h
        a_p, a_m = list(args), list(args)
        a_p[k], a_m[k] = plus.reshape(src.shape), minus.reshape(src.shape)
        d = (np.asarray(op.forward(*a_p)) - np.asarray(op.forward(*a_m))) / (2 * h)
        cols.append(np.broadcast_to(d, out.shape).reshape(-1))
    return np.stack(cols, axis=1) if cols else np.zeros((out.size, 0))


def small_cases(language_only: bool = False) -> list[Any]:
    """Every (op, shapes, operand) with a tensor edge whose Jacobian fits the display limit
    (`language_only`: of the ops an expression can write, not those only grad graphs use)."""
    out = []
    for name in sorted(CASES):
        case = CASES[name]
        if language_only and case.expr is None:
            continue
        for shapes in case.shapes:
            out_shape = case_op(name).shape(list(shapes))
            for k, s in enumerate(shapes):
                # No Jacobian for labels, nor for a mask's or a sign's edges: no gradient flows.
                if k in case.constant or (language_only and not case_op(name).differentiable):
                    continue
                size = jacobian_size(s, out_shape)
                if (s == () and out_shape == ()) or size > LIMIT:
                    continue
                out.append(pytest.param(name, shapes, k, id=f"{name}-{shapes}-arg{k}"))
    return out


def test_every_op_has_a_small_tensor_case() -> None:
    covered = {op_name(p.values[0]) for p in small_cases()}
    # zeros, ones, arange take no operands: there is no edge to have a Jacobian.
    want = {name for name, op in REGISTRY.items() if op.arity > 0}
    assert covered == want, sorted(want - covered)


def test_a_broadcast_case_is_covered() -> None:
    assert any(case_op(p.values[0]).elementwise and p.values[1][0] != p.values[1][1]
               for p in small_cases() if len(p.values[1]) == 2)


@pytest.mark.parametrize(("name", "shapes", "k"), small_cases())
def test_jacobian_matches_finite_differences(name: str, shapes: tuple[tuple[int, ...], ...],
                                             k: int) -> None:
    rng = np.random.default_rng(zlib.crc32(repr((name, shapes, k)).encode()))
    case = CASES[name]
    args = [np.asarray(g(rng, s), dtype=np.float64) for g, s in zip(case.gens, shapes,
                                                                       strict=True)]
    op = case_op(name)
    out = np.asarray(op.forward(*args), dtype=np.float64)
    jac = edge_jacobian(op, args, out, k)
    assert jac.shape == (out.size, args[k].size)
    np.testing.assert_allclose(jac, fd_jacobian(name, args, k), rtol=1e-6, atol=1e-7)


def _expr(name: str) -> str:
    return CASES[name].expr


@pytest.mark.parametrize(("name", "shapes", "k"), small_cases(language_only=True))
def test_record_jacobian_reproduces_downstream(name: str, shapes: tuple[tuple[int, ...], ...],
                                               k: int) -> None:
    """In the trace: upstream (flattened) @ J == downstream, with a random seed."""
    rng = np.random.default_rng(7)
    case = CASES[name]
    args = [np.asarray(g(rng, s), dtype=np.float64) for g, s in zip(case.gens, shapes,
                                                                       strict=True)]
    values = dict(zip("abcdefgh", (a.tolist() for a in args), strict=False))
    out_shape = case_op(name).shape(list(shapes))
    seed = rng.normal(size=out_shape)
    rec = trace(_expr(name), values, seed.tolist())
    op_node = next(n for n in rec["nodes"] if n["id"] == rec["output"])
    assert op_node["op"] == op_name(name)
    source = next(n for n in rec["nodes"] if n["name"] == "abcdefgh"[k])
    edge = next(e for e in rec["edges"] if e["target"] == op_node["id"]
                and e["source"] == source["id"] and e["arg"] == k)
    assert edge["jacobian_size"] == math.prod(out_shape) * math.prod(shapes[k])
    jac = decode(edge["jacobian"]).reshape(math.prod(out_shape), math.prod(shapes[k]))
    down = decode(edge["downstream"]).reshape(-1)
    np.testing.assert_allclose(seed.reshape(-1) @ jac, down, rtol=1e-12, atol=1e-12)


def test_broadcast_edge_sums_back() -> None:
    # z = a + b with a (3, 1), b (1, 2): dz_{ij}/da_k = [i == k], summed over the broadcast axis.
    rec = trace("a + b", {"a": [[1], [2], [3]], "b": [[10, 20]]})
    e = rec["edges"][0]
    assert e["jacobian_size"] == 6 * 3
    expected = np.zeros((6, 3))
    for i in range(3):
        for j in range(2):
            expected[i * 2 + j, i] = 1.0
    np.testing.assert_array_equal(decode(e["jacobian"]), expected)


def test_big_edge_gives_only_the_size() -> None:
    w = np.ones((16, 16)).tolist()
    rec = trace("sum(W @ x)", {"W": w, "x": [1.0] * 16})
    matmul_w = next(e for e in rec["edges"] if e["target"] == "n2" and e["arg"] == 0)
    assert matmul_w["jacobian_size"] == 16 * 256
    assert matmul_w["jacobian"] is None
    sum_edge = next(e for e in rec["edges"] if e["target"] == "n3")
    assert sum_edge["jacobian_size"] == 16
    assert decode(sum_edge["jacobian"]).shape == (1, 16)


def test_scalar_edges_and_forward_mode_have_no_jacobian() -> None:
    rec = trace("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert all("jacobian" not in e for e in rec["edges"])
    fwd = trace("a * b", {"a": [1, 2], "b": [3, 4]}, mode="forward", wrt="a")
    assert all("jacobian" not in e for e in fwd["edges"])


def test_nonfinite_jacobian_entries_are_strings() -> None:
    rec = trace("log(a)", {"a": [0.0, 1.0]})
    assert rec["edges"][0]["jacobian"][0][0] == "Infinity"
