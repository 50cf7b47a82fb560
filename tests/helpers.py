"""Shared test helpers: hypothesis profiles, a forward-only evaluator, central finite differences,
the invariants every trace record must satisfy, and the one rule for environment skips
(`unavailable`, `require_torch`): skip on a developer's machine, fail in CI (`CI` set).

Hypothesis profiles (registered here, not in conftest.py):
- "ci" (the default): derandomized, so every run checks the same examples; 200 per property.
- "thorough": random, 2,000 examples per property. Select with HYPOTHESIS_PROFILE=thorough.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from gradtrace import decode
from gradtrace.engine import build_graph, forward, parse_value
from gradtrace.parser import (
    Binary,
    Call,
    Ellipsis_,
    Expr,
    Name,
    Num,
    Slice,
    Str,
    Subscript,
    Tuple,
    Unary,
    parse,
)
from gradtrace.settings import get_settings

settings.register_profile(
    "ci", derandomize=True, max_examples=200, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

Values = Mapping[str, Any]


def load_script(name: str) -> ModuleType:
    """A script of scripts/ (scripts/<name>.py) as a module, for a test to call its functions."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"gradtrace_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def unavailable(reason: str) -> None:
    """Something the test needs is not installed: skip on a developer's machine, but fail when the
    `CI` environment variable is set (CI installs everything, so a skip there hides a bug)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: environment skips are failures here)", pytrace=False)
    pytest.skip(reason)


def require_torch() -> Any:
    """PyTorch, for the comparisons against it; see `unavailable` for what happens without it."""
    try:
        import torch
    except ImportError as exc:
        unavailable(f"PyTorch is not installed ({exc}): `pip install torch` to compare with it")
        raise  # unreachable: unavailable() raises
    return torch


def sexp(e: Expr) -> str:
    """An S-expression of the AST without spans: `(x + y) * z` -> `(* (+ x y) z)`."""
    if isinstance(e, Num):
        return repr(e.value)
    if isinstance(e, Name):
        return e.id
    if isinstance(e, Unary):
        return f"(neg {sexp(e.operand)})"
    if isinstance(e, Binary):
        return f"({e.op} {sexp(e.left)} {sexp(e.right)})"
    if isinstance(e, Str):
        return repr(e.value)
    if isinstance(e, Tuple):
        return "[" + " ".join(sexp(a) for a in e.items) + "]"
    if isinstance(e, Subscript):
        return "(index " + " ".join([sexp(e.value), *(_item(i) for i in e.items)]) + ")"
    assert isinstance(e, Call)
    keywords = [f"{k.name}={sexp(k.value)}" for k in e.keywords]
    return "(" + " ".join([e.func, *(sexp(a) for a in e.args), *keywords]) + ")"


def _item(i: Expr | Slice | Ellipsis_) -> str:
    if isinstance(i, Ellipsis_):
        return "..."
    if isinstance(i, Slice):
        return ":".join("" if p is None else sexp(p) for p in (i.lower, i.upper, i.step))
    return sexp(i)


def evaluate(expr: str, values: Values) -> np.ndarray:
    """The output of `expr` by the forward pass alone (no trace record): cheap enough for FD."""
    s = get_settings()
    graph = build_graph(parse(expr), values, s)
    inputs = {name: parse_value(name, values[name], (0, 0), s) for name in graph.inputs}
    return forward(graph, inputs, s)[graph.output]


def fd_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, rel_h: float = 1e-6
                ) -> np.ndarray:
    """Central differences of a scalar function, per element, step `rel_h * max(1, |x_i|)`."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    flat = x.reshape(-1)
    for i in range(flat.size):
        h = rel_h * max(1.0, abs(float(flat[i])))
        xp, xm = flat.copy(), flat.copy()
        xp[i] += h
        xm[i] -= h
        g.reshape(-1)[i] = (f(xp.reshape(x.shape)) - f(xm.reshape(x.shape))) / (2 * h)
    return g


def vjp_fd(expr: str, values: Values, seed: np.ndarray, rel_h: float = 1e-6
           ) -> dict[str, np.ndarray]:
    """The gradient of <seed, expr(values)> with respect to every input, by central differences."""
    out: dict[str, np.ndarray] = {}
    base = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    for name in base:
        def f(x: np.ndarray, name: str = name) -> float:
            vals = {k: (x if k == name else v).tolist() for k, v in base.items()}
            return float(np.sum(seed * evaluate(expr, vals)))

        out[name] = fd_gradient(f, base[name], rel_h)
    return out


def close(a: Any, b: Any, rtol: float = 1e-12, atol: float = 0.0) -> bool:
    """Elementwise closeness that treats NaN as equal to NaN and infinities by sign."""
    return bool(np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                            rtol=rtol, atol=atol, equal_nan=True))


def balanced(tex: str) -> bool:
    """Braces of a LaTeX formula balance (KaTeX refuses the formula otherwise)."""
    depth = 0
    for i, c in enumerate(tex):
        if c in "{}" and i > 0 and tex[i - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


def check_invariants(record: dict[str, Any]) -> None:
    """What must hold of every trace record, whatever the expression.

    - strict JSON (non-finite numbers are strings);
    - forward lists every node once, in a topological order;
    - backward is the reverse of forward restricted to the nodes that get a gradient, and those
      are exactly the nodes with a non-null `grad`;
    - each step's upstream is the sum of its terms, and the terms are exactly the seed (at the
      output) plus the downstream gradient of every out-edge carrying one;
    - a scalar edge's downstream is local x upstream (1e-12 relative, NaN-aware) wherever both
      are finite (at a kink or a non-finite value PyTorch's masks make 0 x inf = 0);
    - every downstream has the shape of the edge's source node;
    - `gradients` is the `grad` of each input node;
    - every formula has balanced braces.
    """
    json.dumps(record, allow_nan=False)
    nodes = {n["id"]: n for n in record["nodes"]}
    edges = {e["id"]: e for e in record["edges"]}
    order = record["forward"]
    assert sorted(order) == sorted(nodes)
    position = {nid: i for i, nid in enumerate(order)}
    for e in edges.values():
        assert position[e["source"]] < position[e["target"]], e
    needing = [nid for nid in order if nodes[nid]["grad"] is not None]
    assert [s["node"] for s in record["backward"]] == list(reversed(needing))
    out_edges: dict[str, list[str]] = {nid: [] for nid in nodes}
    for e in record["edges"]:
        out_edges[e["source"]].append(e["id"])
        assert balanced(e["local_formula"]), e["local_formula"]
        assert e["vjp_formula"] is None or balanced(e["vjp_formula"]), e["vjp_formula"]
    for step in record["backward"]:
        nid = step["node"]
        node = nodes[nid]
        up = decode(step["upstream"])
        assert list(up.shape) == node["shape"]
        assert close(up, decode(node["grad"]), rtol=0.0)
        expected_terms = ([None] if nid == record["output"] else []) + [
            ei for ei in out_edges[nid] if edges[ei]["downstream"] is not None]
        assert [t["edge"] for t in step["terms"]] == expected_terms, (nid, step["terms"])
        total = np.zeros(up.shape)
        for t in step["terms"]:
            value = decode(t["value"])
            if t["edge"] is None:
                assert close(value, decode(record["seed"]), rtol=0.0)
            else:
                assert close(value, decode(edges[t["edge"]]["downstream"]), rtol=0.0)
            total = total + value
        with np.errstate(all="ignore"):
            assert close(total, up, rtol=1e-12, atol=1e-300), (nid, total, up)
        for e in step["edges"]:
            assert e["target"] == nid
            down = decode(e["downstream"])
            assert list(down.shape) == nodes[e["source"]]["shape"], e
            if e["local"] is not None:
                assert node["shape"] == [] and nodes[e["source"]]["shape"] == []
                local = float(decode(e["local"]))
                if math.isfinite(local) and np.isfinite(up).all():
                    assert close(down, local * up, rtol=1e-12, atol=1e-300), (e, float(up))
    for name, g in record["gradients"].items():
        (node,) = [n for n in record["nodes"] if n["kind"] == "input" and n["label"] == name]
        assert close(decode(g), decode(node["grad"]), rtol=0.0)


def graph_key(graph: Any) -> tuple[str, tuple[str, ...]]:
    """What a reading computes, independent of node order and of intermediate names: a hash of
    the output's expression tree (each node by its op, options, constant or input name, and its
    operands' hashes) and the input names. Two readings of the same maths get the same key."""
    import hashlib

    keys: list[str] = []
    for n in graph.nodes:
        if n.kind == "input":
            own = f"input|{n.name}"
        elif n.kind == "const":
            own = f"const|{float(np.asarray(n.const_value)):.17g}"
        else:
            op = n.defined.name if n.defined is not None else n.op
            own = f"op|{op}|{n.attrs}|" + ",".join(keys[a] for a in n.args)
        keys.append(hashlib.sha256(own.encode()).hexdigest()[:16])
    return keys[graph.output], tuple(sorted(graph.inputs))
