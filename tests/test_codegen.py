"""The generated Python files (`GET /api/code`, gradtrace.codegen) print the engine's gradients.

- every seed example of the lecture notes: the NumPy file, run in a subprocess, prints the
  gradients `/api/trace` answers (and the notes' numbers), to 1e-9 relative; the PyTorch file
  likewise when torch is installed;
- generated scalar programs (every scalar op, assignments, re-assigned names, fan-out) and small
  tensor programs (broadcasting, matmul chains, reductions): both files agree with the engine;
- names: whatever the expression calls its values (Python keywords, `np`, `dx`, names assigned
  twice), the file runs and prints the input's own name;
- numbers: every input value, the seed and every constant read back to the same float64 bits,
  non-finite ones too; NaN and Infinity flow through the file as through the engine;
- forward mode (`mode=forward&wrt=x`): the NumPy file (tangents by hand) and the PyTorch file
  (dual numbers) print the engine's `derivative`, for every seed example and input, and on
  generated programs with random directions;
- the API: the route, its headers, and the same 4xx JSON errors as /api/trace.

The files of the seed examples run in a subprocess, as a person would run them; the many
generated programs are run in-process (`exec`, NumPy's error state and torch's default dtype
restored after), which is the same code without a process start per example.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, note
from hypothesis import strategies as st

from gradtrace import GradtraceError, decode, trace
from gradtrace.codegen import generate, number
from gradtrace.state import RESERVED

from .conftest import SEEDS
from .helpers import require_torch
from .test_properties import (
    IDENTIFIERS,
    ScalarProgram,
    evaluation_or_reject,
    scalar_programs,
    tensor_programs,
)

LANGS = ("numpy", "pytorch")
_LINE = re.compile(r"^d([A-Za-z_][A-Za-z0-9_]*) = (.*)$")


def parse_output(stdout: str) -> dict[str, np.ndarray]:
    """The file's `dx = <JSON>` lines (json reads NaN and Infinity as Python writes them)."""
    out: dict[str, np.ndarray] = {}
    for line in stdout.splitlines():
        m = _LINE.match(line)
        assert m, f"unexpected output line: {line!r}"
        out[m[1]] = np.asarray(json.loads(m[2]), dtype=np.float64)
    return out


def run_subprocess(source: str) -> dict[str, np.ndarray]:
    proc = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:] + "\n" + source
    return parse_output(proc.stdout)


def _exec_captured(source: str) -> str:
    """Run a generated file here and return what it printed, NumPy's error state and torch's
    default dtype put back afterwards."""
    buf = io.StringIO()
    torch = sys.modules.get("torch")
    dtype = torch.get_default_dtype() if torch is not None else None
    try:
        with np.errstate(), contextlib.redirect_stdout(buf):
            exec(compile(source, "<generated>", "exec"), {"__name__": "__generated__"})
    finally:
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_default_dtype(dtype if dtype is not None else torch.float32)
    return buf.getvalue()


def run_inprocess(source: str) -> dict[str, np.ndarray]:
    """Run a generated file here: the gradients it prints."""
    return parse_output(_exec_captured(source))


_DERIVATIVE = re.compile(r"^d[A-Za-z_][A-Za-z0-9_]*/d([A-Za-z_][A-Za-z0-9_]*) = (.*)$")


def run_forward(source: str) -> tuple[str, np.ndarray]:
    """A forward-mode file's one line, `df/dx = <JSON>`: the input and the derivative."""
    (line,) = _exec_captured(source).splitlines()
    m = _DERIVATIVE.match(line)
    assert m, line
    return m[1], np.asarray(json.loads(m[2]), dtype=np.float64)


def assert_same_derivative(expr: str, values: dict[str, Any], wrt: str, tangent: Any = None,
                           langs: tuple[str, ...] = LANGS) -> None:
    record = trace(expr, values, mode="forward", wrt=wrt, tangent=tangent)
    want = decode(record["derivative"])
    for lang in langs:
        if lang == "pytorch" and not _has_torch():
            continue
        text = generate(expr, values, None, lang, mode="forward", wrt=wrt, tangent=tangent)
        name, got = run_forward(text)
        assert name == wrt
        assert got.shape == want.shape, (expr, lang)
        scale = max(1.0, float(np.max(np.abs(want[np.isfinite(want)]), initial=0.0)))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * scale,
                                   err_msg=f"d/d{wrt} {lang}: {expr}")


def assert_same(got: dict[str, np.ndarray], record: dict[str, Any], what: str = "") -> None:
    want = {k: decode(v) for k, v in record["gradients"].items()}
    assert set(got) == set(want), what
    for name, w in want.items():
        g = got[name]
        assert g.shape == w.shape, f"d{name}: {what}"
        scale = max(1.0, float(np.max(np.abs(w[np.isfinite(w)]), initial=0.0)))
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12 * scale,
                                   err_msg=f"d{name}: {what}")


def query(expr: str, values: dict[str, Any], seed: Any = None, **extra: str) -> str:
    params = {"expr": expr, **extra}
    for name, v in values.items():
        params[f"v.{name}" if name in RESERVED or name == "lang" else name] = json.dumps(v)
    if seed is not None:
        params["seed"] = json.dumps(seed)
    return urlencode(params)


# ---------------------------------------------------------------------------------------------
# The seed examples, through the API, run in a subprocess


@pytest.mark.slow  # a Python subprocess per file
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_seed_example_file_prints_the_traced_gradients(client: TestClient, example: dict[str, Any],
                                                       lang: str) -> None:
    if lang == "pytorch":
        require_torch()
    seed = example.get("seed")
    r = client.get(f"/api/code?lang={lang}&{query(example['expr'], example['values'], seed)}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/x-python")
    assert f'filename="gradtrace_{lang}.py"' in r.headers["content-disposition"]
    traced = client.post("/api/trace", json={"expr": example["expr"],
                                             "values": example["values"], "seed": seed}).json()
    got = run_subprocess(r.text)
    assert_same(got, traced, example["key"])
    # And the notes' own numbers (checked in PyTorch float64 when the notes were written).
    for name, g in example["gradients"].items():
        np.testing.assert_allclose(got[name], np.asarray(g), rtol=1e-9, atol=1e-12)


def test_circuit_reads_as_the_notes() -> None:
    text = generate("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4})
    body = text[text.index("# The forward pass"):]
    for line in ["q = x + y", "f = q * z", "df = 1.0", "dq = z * df", "dz = q * df",
                 "dx = 1 * dq", "dy = 1 * dq", 'show("x", dx)']:
        assert re.search(rf"^{re.escape(line)}( |$)", body, re.M), line
    # One line per op node forward, one per edge backward, in reverse order.
    assert body.index("dq = z * df") < body.index("dx = 1 * dq")
    ast.parse(text)


def test_fan_out_sums_and_broadcast_sums_back() -> None:
    text = generate("c = a + b; d = b + 1; e = c * d", {"a": 2, "b": 1})
    assert re.search(r"^db = db \+ 1 \* dc  # copy gate: b is used 2 times", text, re.M)
    text = generate("z = W * b", {"W": [[1, 2, 3], [4, 5, 6]], "b": [1, 2, 3]})
    assert "db = unbroadcast(W * dz, b.shape)" in text
    assert_same(run_inprocess(text), trace("z = W * b", {"W": [[1, 2, 3], [4, 5, 6]],
                                                          "b": [1, 2, 3]}))


def test_tensor_edges_are_vjps() -> None:
    text = generate("Z = X @ W; L = sum(Z)", {"X": [[1, 2]], "W": [[3], [4]]})
    assert "dX = dZ @ W.T" in text and "dW = X.T @ dZ" in text


# ---------------------------------------------------------------------------------------------
# Generated programs, both languages against the engine


def _both(expr: str, values: dict[str, Any], seed: Any = None) -> None:
    record = trace(expr, values, seed)
    assert_same(run_inprocess(generate(expr, values, seed, "numpy")), record, expr)
    if _has_torch():
        assert_same(run_inprocess(generate(expr, values, seed, "pytorch")), record, expr)


def _has_torch() -> bool:
    """Whether the PyTorch side can run: False only off CI (under CI a missing torch fails)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        return False
    return True


@given(scalar_programs())
def test_scalar_programs(prog: ScalarProgram) -> None:
    evaluation_or_reject(prog)
    note(prog.text)
    _both(prog.text, prog.values)


@given(tensor_programs())
def test_tensor_programs(program: tuple[str, dict[str, Any], Any, Any]) -> None:
    text, values, seed, _ = program
    note(text)
    _both(text, values, seed)


@given(st.lists(IDENTIFIERS | st.sampled_from(["lambda", "np", "torch", "json", "print", "show",
                                               "unbroadcast", "dx", "d", "f", "q", "dq", "float",
                                               "None", "softmax", "conv2d", "class", "match"]),
                min_size=3, max_size=3, unique=True))
def test_any_names(names: list[str]) -> None:
    a, b, c = names
    # `c` is assigned twice: the backward pass needs both of its values.
    expr = f"{c} = {a} * {b}; {c} = {c} + {a}; sin({c}) * {b}"
    values = {a: 0.7, b: -1.3}
    note(expr)
    text = generate(expr, values)
    ast.parse(text)
    _both(expr, values)


def test_input_named_like_the_file_and_a_gradient() -> None:
    # An input `x`, and an assigned `dx`: the gradient of x may not be called dx.
    _both("dx = x * 2; np = dx + x; np * x", {"x": 1.5})
    _both("lambda = x * 2; lambda", {"x": 1.5})


# ---------------------------------------------------------------------------------------------
# Numbers


@given(st.floats(allow_nan=True, allow_infinity=True, width=64))
def test_number_reads_back_exactly(x: float) -> None:
    back = eval(number(x))  # the text is ours: a repr, or float("inf") / float("nan")
    assert (math.isnan(x) and math.isnan(back)) or (back == x and math.copysign(1, back)
                                                     == math.copysign(1, x))


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1,
                max_size=6))
def test_values_round_trip_exactly(xs: list[float]) -> None:
    text = generate("sum(v * 1)", {"v": xs})
    tree = ast.parse(text)
    assign = next(n for n in tree.body if isinstance(n, ast.Assign)
                  and isinstance(n.targets[0], ast.Name) and n.targets[0].id == "v")
    ns: dict[str, Any] = {"np": np, "float": float}
    got = eval(compile(ast.Expression(assign.value), "<v>", "eval"), ns)
    assert np.array_equal(got.view(np.int64), np.asarray(xs, dtype=np.float64).view(np.int64))


def test_non_finite_values_flow_as_in_the_engine() -> None:
    _both("y = x * w; z = y / 0; z + x", {"x": ["Infinity", 1.0, "NaN"], "w": -2.0})
    _both("log(x) + sqrt(x)", {"x": [0.0, -1.0, 4.0]}, ["-Infinity", 1.0, 2.0])
    text = generate("x * 1", {"x": "NaN"}, "Infinity")
    assert 'x = np.float64(float("nan"))' in text and 'float("inf")' in text


def test_constant_only_nodes_follow_numpy_not_python() -> None:
    # 1 / 0 and (-8)^(1/3) as Python floats would raise or go complex: the file uses float64.
    _both("a = 1 / 0; b = (0 - 8) ^ (1 / 3); x * a + x * b + x * pi * e", {"x": 2.0})


def test_kinks_follow_the_engine() -> None:
    _both("relu(x) + abs(x) + max(x, y) + min(x, y)", {"x": [0.0, 1.0, -1.0], "y": [0.0, 0.5, 3]})
    _both("x ^ y + pow(y, x)", {"x": [0.0, 0.0, 2.0, -1.0], "y": [0.0, 2.0, 0.0, 3.0]})
    _both("x ^ 0 + 0 ^ x + 2 ^ x + x ^ 2", {"x": [0.0, 1.5, -2.0]})


def test_dead_nodes_and_the_output_an_input() -> None:
    _both("a = x * 2; b = a * y; a", {"x": 1.5, "y": 3.0})  # b does not reach the output
    _both("x", {"x": [1.0, 2.0]}, [3.0, 4.0])
    _both("x * 0 + 3", {"x": 2.0})


def test_every_function_in_one_program() -> None:
    _both("h = softmax(X @ W + b); L = mean(transpose(h)) + dot(v, v) + sum(conv2d(X, K))",
          {"X": [[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]], "W": [[1, 2], [3, 4], [5, 6]],
           "b": [0.5, -0.5], "v": [1.0, 2.0], "K": [[1.0, -1.0]]})


# ---------------------------------------------------------------------------------------------
# The API


@pytest.mark.slow  # a Python subprocess
def test_api_ignores_view_parameters_and_reads_escaped_names(client: TestClient) -> None:
    q = query("lang * step", {"lang": 2.0, "step": 3.0}, step="b1", theme="dark", hide="side",
              autoplay="1", speed="2")
    r = client.get(f"/api/code?lang=numpy&{q}")
    assert r.status_code == 200, r.text
    assert run_subprocess(r.text) == pytest.approx({"lang": 3.0, "step": 2.0})
    # The forward-mode view's parameters make it forward mode.
    r = client.get(f"/api/code?lang=numpy&{q}&mode=forward&wrt=lang")
    assert run_forward(r.text) == ("lang", pytest.approx(3.0))


@pytest.mark.parametrize(("q", "status", "kind"), [
    ("lang=rust&expr=x&x=1", 422, "request"),
    ("lang=numpy&expr=x%20%2B&x=1", 400, "syntax"),
    ("lang=numpy&expr=x*exp&x=1", 400, "name"),
    ("lang=pytorch&expr=x&x=%5B1%2C", 400, "value"),
    ("lang=numpy&expr=x%40y&x=%5B1%2C2%5D&y=%5B1%2C2%2C3%5D", 400, "shape"),
    ("lang=numpy&x=1", 400, "syntax"),
])
def test_api_errors_are_the_trace_errors(client: TestClient, q: str, status: int,
                                         kind: str) -> None:
    r = client.get(f"/api/code?{q}")
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["type"] == kind and err["message"]
    assert {"start", "end"} <= set(err)


def test_unknown_lang_from_python() -> None:
    with pytest.raises(GradtraceError, match="unknown lang"):
        generate("x", {"x": 1}, lang="julia")


# ---------------------------------------------------------------------------------------------
# Forward mode


@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_seed_examples_forward_mode(example: dict[str, Any]) -> None:
    rng = np.random.default_rng(len(example["expr"]))
    for wrt in example["gradients"]:  # not labels: nothing is differentiated along them
        v = example["values"][wrt]
        assert_same_derivative(example["expr"], example["values"], wrt)
        # And along a random direction of the input's shape.
        direction = rng.normal(size=np.shape(v)).round(3).tolist()
        assert_same_derivative(example["expr"], example["values"], wrt, direction)


def test_forward_mode_reads_as_the_notes() -> None:
    text = generate("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4}, mode="forward", wrt="x")
    body = text[text.index("# The direction"):]
    for line in ["x_dot = np.float64(1.0)", "q = x + y", "q_dot = 1 * x_dot", "f = q * z",
                 "f_dot = z * q_dot", 'show("f", "x", f_dot)']:
        assert re.search(rf"^{re.escape(line)}$", body, re.M), line
    assert body.index("q_dot") < body.index("f = q * z")  # each value followed by its tangent


@given(scalar_programs())
def test_scalar_programs_forward_mode(prog: ScalarProgram) -> None:
    evaluation_or_reject(prog)
    note(prog.text)
    for wrt in ("x", "y"):
        if wrt in trace(prog.text, prog.values)["gradients"]:
            assert_same_derivative(prog.text, prog.values, wrt)


@given(tensor_programs(), st.integers(0, 2**32 - 1))
def test_tensor_programs_forward_mode(program: tuple[str, dict[str, Any], Any, Any],
                                      seed: int) -> None:
    text, values, _, _ = program
    note(text)
    rng = np.random.default_rng(seed)
    for wrt, v in values.items():
        assert_same_derivative(text, values, wrt, rng.normal(size=np.shape(v)).round(3).tolist())


def test_forward_mode_edges() -> None:
    # The output does not depend on wrt; the output is wrt; fan-out; broadcasting of a scalar.
    assert_same_derivative("a = x * 2; y * 3", {"x": 1.0, "y": 2.0}, "x")
    assert_same_derivative("x", {"x": [1.0, 2.0]}, "x", [3.0, -1.0])
    assert_same_derivative("c = a + b; d = b + 1; e = c * d", {"a": 2, "b": 1}, "b")
    assert_same_derivative("x + W", {"x": 2.0, "W": [[1, 2], [3, 4]]}, "x")
    assert_same_derivative("relu(x) + max(x, y) + x ^ y", {"x": [0.0, 1.0, 2.0],
                                                           "y": [0.0, 1.0, 3.0]}, "y")
    assert_same_derivative("1 / 0 * x", {"x": 2.0}, "x")


def test_forward_mode_api(client: TestClient) -> None:
    q = query("(x + y) * z", {"x": -2, "y": 5, "z": -4}, mode="forward", wrt="z")
    for lang in LANGS:
        if lang == "pytorch" and not _has_torch():
            continue
        r = client.get(f"/api/code?lang={lang}&{q}")
        assert r.status_code == 200, r.text
        assert run_forward(r.text) == ("z", pytest.approx(3.0))
    r = client.get("/api/code?lang=numpy&" + query("x * y", {"x": 1, "y": 2}, mode="forward"))
    expected = client.post("/api/trace", json={"expr": "x * y", "values": {"x": 1, "y": 2},
                                               "mode": "forward"})
    assert r.status_code == 400 and r.json() == expected.json()


# ---------------------------------------------------------------------------------------------
# Gradients of gradients (grad(f, x), issue 6 item 2): a gradient graph built of the language's
# ops is code like any other; one with the internal ops of gradient graphs is refused with a 400
# naming the op, never a 500.


def test_gradient_graphs(client: TestClient) -> None:
    _both("d = grad(x^3, x); d * y", {"x": 2.0, "y": 3.0})
    _both("grad(x * y, x)", {"x": 2.0, "y": 3.0})
    for expr in ["grad(sum(relu(W * x)), x)", "grad(sum(W @ v), v)", "grad(max(x, y), x)"]:
        values = {"x": 0.5, "y": 1.5, "W": [[1.0, -2.0], [0.5, 3.0]], "v": [1.0, 2.0]}
        used = {k: v for k, v in values.items() if re.search(rf"\b{k}\b", expr)}
        r = client.get("/api/code?lang=numpy&" + query(expr, used))
        assert r.status_code in (200, 400), (expr, r.text)
        if r.status_code == 400:
            err = r.json()["error"]
            assert err["type"] == "function" and "grad(" in err["message"], err
        else:
            assert_same(run_inprocess(r.text), trace(expr, used), expr)


def test_a_control_character_in_a_comment_leaves_the_file_readable() -> None:
    """A NUL (or another control character) in the expression's comment is shown escaped in the
    file's header: the file still compiles and prints the gradient."""
    expr = "x * 2 # a\x00b\x07c"
    for lang in LANGS:
        text = generate(expr, {"x": 3.0}, None, lang)
        assert "\x00" not in text and "a\\x00b\\x07c" in text
        compile(text, "gradtrace_generated.py", "exec")
    assert run_inprocess(generate(expr, {"x": 3.0}, None, "numpy"))["x"] == 2.0


@pytest.mark.slow  # a Python subprocess per file
@pytest.mark.parametrize("lang", LANGS)
def test_inputs_named_like_module_attributes_give_files_that_run(lang: str) -> None:
    """`__file__`, `__name__`, `__builtins__` are a module's own names: as inputs they must not
    break the file that assigns them."""
    if lang == "pytorch":
        require_torch()
    values = {"__file__": 3.0, "__name__": 2.0, "__builtins__": 5.0}
    got = run_subprocess(generate("__file__ * __name__ + __builtins__", values, None, lang))
    assert {name: float(v) for name, v in got.items()} == {
        "__file__": 2.0, "__name__": 3.0, "__builtins__": 1.0}
