"""Printing a graph back as a program (gradtrace.printer): reading the text back gives the graph.

- the canonical syntax, to the character: precedence and associativity with the fewest
  parentheses, numbers that read back exactly, options as keywords, indexing and assignments into
  items, names kept, fresh names (t1, t2) for shared values and for names that stop meaning their
  value, the source of a `def` before its first call;
- LaTeX, NumPy and PyTorch on a few programs, to the character (products by shape, names as the
  notes write them, the registry's code templates and spellings);
- the round trip: random programs (scalars, vectors and matrices; + - * / ^, unary minus, exp,
  log, sin, tanh, sigmoid, relu, sum, mean, matmul, transpose, softmax; named statements, names
  used twice, names assigned again) and the canonical forms of the reading rules
  (tests/vectors/reading_rules.json), printed in each syntax and read back: the same nodes (kind,
  op, options, constant, input name, operands), the same output, the same value and gradients.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from gradtrace import GradtraceError, trace
from gradtrace.analysis import compile_program
from gradtrace.engine import Graph, forward, parse_value
from gradtrace.ops import CONSTANTS
from gradtrace.printer import SYNTAXES, latex_name, number, program_text
from gradtrace.settings import get_settings

from . import helpers  # noqa: F401 (the hypothesis profiles)

SETTINGS = get_settings()
VECTORS = Path(__file__).parent / "vectors" / "reading_rules.json"


def build(src: str, values: dict[str, Any] | None = None) -> Graph:
    return compile_program(src, values or {}, SETTINGS)[1]


def shapes_of(g: Graph, values: dict[str, Any]) -> dict[int, tuple[int, ...]]:
    inputs = {name: parse_value(name, values[name], (0, 0), SETTINGS) for name in g.inputs}
    return {i: tuple(v.shape) for i, v in enumerate(forward(g, inputs, SETTINGS))}


def canonical(src: str, values: dict[str, Any] | None = None) -> str:
    return program_text(build(src, values), "canonical")


def signature(g: Graph) -> tuple[Any, ...]:
    """What makes two graphs the same: per node its kind, op, options, constant, the name of an
    input or of pi and e (a value's name may differ: a fresh one), operands and def; the
    output."""

    def name(n: Any) -> str | None:
        constant = n.kind == "const" and n.const_value == CONSTANTS.get(n.name or "")
        return n.name if n.kind == "input" or constant else None

    nodes = [(n.kind, n.op, n.attrs, n.const_value, name(n), n.args,
              None if n.defined is None else n.defined.name) for n in g.nodes]
    return nodes, g.output, dict(g.inputs)


def same_numbers(a: Any, b: Any) -> bool:
    return bool(np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               equal_nan=True))


def assert_round_trip(src: str, values: dict[str, Any], syntax: str) -> str:
    """Print `src`'s graph in `syntax`, read it back: same graph, same value and gradients."""
    g = build(src, values)
    text = program_text(g, syntax, shapes_of(g, values))
    back = build(text, values)
    assert signature(back) == signature(g), f"{syntax} text:\n{text}"
    r1, r2 = trace(src, values), trace(text, values)
    assert same_numbers(r1["value"], r2["value"]), text
    assert r1["gradients"].keys() == r2["gradients"].keys(), text
    for name, grad in r1["gradients"].items():
        assert same_numbers(grad, r2["gradients"][name]), f"d{name}, {syntax} text:\n{text}"
    return text


# ---------------------------------------------------------------------------------------------
# The canonical syntax


@pytest.mark.parametrize(("src", "printed"), [
    ("(x + y) * z", "(x + y) * z"),
    ("x + (y * z)", "x + y * z"),
    ("(x - y) - z", "x - y - z"),
    ("x - (y - z)", "x - (y - z)"),
    ("x - (y + z)", "x - (y + z)"),
    ("(x / y) / z", "x / y / z"),
    ("x / (y * z)", "x / (y * z)"),
    ("x * (y / z)", "x * (y / z)"),
    ("(A @ B) @ C", "A @ B @ C"),
    ("A @ (B @ C)", "A @ (B @ C)"),
    ("x * y @ z", "x * y @ z"),
    ("-x^2", "-x^2"),
    ("-(x^2)", "-x^2"),
    ("(-x)^2", "(-x)^2"),
    ("x^y^z", "x^y^z"),
    ("(x^y)^z", "(x^y)^z"),
    ("x ** 2", "x^2"),
    ("2^-1", "2^(-1)"),
    ("e^-x", "e^(-x)"),
    ("-(-x)", "-(-x)"),
    ("-(x + y)", "-(x + y)"),
    ("-(x * y)", "-(x * y)"),
    ("(-x) * y", "-x * y"),
    ("x * (-y)", "x * -y"),
    ("x - (-y)", "x - -y"),
    ("(x + 1)^(y - 1)", "(x + 1)^(y - 1)"),
    ("sin(x)^2", "sin(x)^2"),
    ("(z > 0) * z", "(z > 0) * z"),
    ("x + 1 > y * 2", "x + 1 > y * 2"),
    ("(x > y) > z", "(x > y) > z"),
    ("x >= y; x <= y; x == y; x != y; x < y", "x >= y\nx <= y\nx == y\nx != y\nx < y"),
    ("pi * r^2 + e", "pi * r^2 + e"),
])
def test_canonical_operators(src: str, printed: str) -> None:
    assert canonical(src) == printed


@pytest.mark.parametrize(("src", "printed"), [
    ("2.0 * x", "2 * x"),
    ("0.1 + x", "0.1 + x"),
    ("1e-5 * x", "1e-05 * x"),
    ("3e20 * x", "3e+20 * x"),
    ("123456789012345678 * x", "1.2345678901234568e+17 * x"),
    (".25 * x", "0.25 * x"),
    ("1/3 * x", "1 / 3 * x"),
])
def test_canonical_numbers(src: str, printed: str) -> None:
    assert canonical(src) == printed


def test_numbers_read_back_to_the_same_bits() -> None:
    for v in (0.1, 1 / 3, 2.0, 1e-300, 5e-324, 1.7976931348623157e308, 123.456, 2.0**60):
        assert float(number(v)) == v
    assert number(math.inf) == "1e999" and float("1e999") == math.inf
    with pytest.raises(ValueError):
        number(math.nan)


@hsettings(max_examples=60)
@given(st.floats(min_value=0, allow_infinity=False, allow_nan=False))
def test_every_constant_reads_back_exactly(c: float) -> None:
    g = build(f"x * {c!r}")
    back = build(program_text(g))
    assert back.nodes[1].const_value == g.nodes[1].const_value == c


@pytest.mark.parametrize(("src", "printed"), [
    ("sum(X, axis=0, keepdims=True)", "sum(X, axis=0, keepdims=True)"),
    ("sum(X, dim=0, keepdim=True)", "sum(X, axis=0, keepdims=True)"),
    ("np.sum(X, 0)", "sum(X, axis=0)"),
    ("X.sum()", "sum(X)"),
    ("sum(X, axis=(0, 1))", "sum(X, axis=(0, 1))"),
    ("mean(X, axis=-1)", "mean(X, axis=-1)"),
    ("softmax(S, dim=1)", "softmax(S, dim=1)"),
    ("softmax(S, axis=-1)", "softmax(S)"),
    ("torch.softmax(S, 0)", "softmax(S, dim=0)"),
    ("reshape(x, (2, 3))", "reshape(x, shape=(2, 3))"),
    ("max(p, 0)", "max(p, 0)"),
    ("max(a, b) + min(a, b)", "max(a, b) + min(a, b)"),
    ("np.max(p, 0)", "amax(p, axis=0)"),
    ("max(p)", "amax(p)"),
    ("X.T @ y", "transpose(X) @ y"),
    ("cat([a, b], dim=1)", "concat([a, b], axis=1)"),
    ("leaky_relu(x, 0.1)", "leaky_relu(x, negative_slope=0.1)"),
    ("linear(x, W, b)", "linear(x, W, b)"),
    ("clamp(x, min=0)", "clamp(x, min=0)"),
    ("conv2d(X, K, stride=2, padding='same')", "conv2d(X, K, stride=2, padding='same')"),
    ("F.relu(x) + torch.exp(x) + np.log(x) + ln(x)", "relu(x) + exp(x) + log(x) + log(x)"),
])
def test_canonical_calls_with_options(src: str, printed: str) -> None:
    assert canonical(src) == printed


def test_an_option_read_off_the_shapes_is_written_out() -> None:
    # cross_entropy with a target of the scores' shape reads it as probabilities.
    values = {"s": [[1.0, 2.0]], "p": [[0.25, 0.75]]}
    g = build("cross_entropy(s, p)", values)
    text = program_text(g, "canonical", shapes_of(g, values))
    assert text == "cross_entropy(s, p, probabilities=True)"


@pytest.mark.parametrize(("src", "printed"), [
    ("x[0] + 2*x[1]", "x[0] + 2 * x[1]"),
    ("X[:, 1]", "X[:, 1]"),
    ("X[1:3]", "X[1:3]"),
    ("X[::2, :-1]", "X[::2, :-1]"),
    ("X[..., 0]", "X[..., 0]"),
    ("X[None, 0]", "X[None, 0]"),
    ("X[0][1]", "X[0][1]"),
    ("(x + y)[0]", "(x + y)[0]"),
    ("sum(X)[None]", "sum(X)[None]"),
    ("s[y]", "s[y]"),
    ("scores[np.arange(3), y]", "scores[arange(end=3), y]"),
])
def test_canonical_indexing(src: str, printed: str) -> None:
    values = {"scores": [[1, 2], [3, 4], [5, 6]], "y": [0, 1, 1]} if "scores" in src else {}
    assert canonical(src, values) == printed


def test_canonical_assignment_into_items() -> None:
    src = "y = torch.zeros(2)\ny[0] = x[0] + 2*x[1]\ny[1] = x[1] + 2*x[2]\nL = y.sum()"
    assert canonical(src) == ("y = zeros(shape=(2,))\ny[0] = x[0] + 2 * x[1]\n"
                              "y[1] = x[1] + 2 * x[2]\nL = sum(y)")
    # The last assignment is the output: no bare `y` after it.
    assert canonical("y[0] = 2 * x\ny") == "y[0] = 2 * x"


def test_an_assignment_into_items_that_loses_a_value_used_later_is_refused() -> None:
    g = build("y = zeros((2,))\nz = y\ny[0] = x\nsum(z) + sum(y)")
    with pytest.raises(ValueError, match="used after"):
        program_text(g)


def test_named_statements_and_the_output() -> None:
    assert canonical("q = x + y; f = q * z") == "q = x + y\nf = q * z"
    assert canonical("q = x + y\nf = q * q") == "q = x + y\nf = q * q"
    # The output named earlier is written last by its name; unused statements stay.
    assert canonical("q = x + y; f = q * z; q") == "q = x + y\nf = q * z\nq"
    assert canonical("x + 1; y * 2") == "x + 1\ny * 2"
    # A line that starts with a minus would continue the line before it.
    assert canonical("q = x + 1; -q") == "q = x + 1\n(-q)"
    assert canonical("-q") == "-q"
    # An input named and never used is still an input, where it was first named.
    assert canonical("h = x; y * 2") == "x\ny * 2"
    assert canonical("h = b; sum(W @ b)") == "b\nsum(W @ b)"
    assert canonical("h = b; q = W * 2; k = q") == "b\nq = W * 2"
    assert canonical("q = W * 2; h = b; k = q") == "q = W * 2\nb\nq"
    # A name for an input or another name gives no node: the value's own name is written.
    assert canonical("a = x; b = a * a") == "b = x * x"
    # Outputs that are an input or a constant.
    assert canonical("x") == "x"
    assert canonical("2") == "2"
    assert canonical("pi") == "pi"


def test_a_name_assigned_again() -> None:
    assert canonical("a = x * 2; a = a + 1; a * 3") == "a = x * 2\na = a + 1\na * 3"
    # b is the first a: after `a = a + 1`, a no longer means it, so the new value gets t1.
    assert canonical("a = x * 2; b = a; a = a + 1; b * a") == "a = x * 2\nt1 = a + 1\na * t1"
    # An input shadowed by an assignment while it is still used.
    assert canonical("a = x; x = x + 1; a * x") == "t1 = x + 1\nx * t1"
    # The constant e assigned (the notes' `e = c * d`).
    assert canonical("e = c * d; e + 1") == "e = c * d\ne + 1"
    # A named number is one node, however often it is used.
    assert canonical("h = 2; h * h + x") == "h = 2\nh * h + x"
    assert canonical("a = pi * e; e = 2; a * e") == "a = pi * e\ne = 2\na * e"
    assert canonical("a = e * x; e = 2; a * e; e") == "a = e * x\ne = 2\na * e\ne"
    # k is the constant e, still used after e = 2: the number gets a fresh name (and e, made
    # first by `k = e`, is named first).
    assert canonical("k = e; e = 2; k * e") == "e\nt1 = 2\ne * t1"
    assert canonical("f = e^x; e = c * d; e + f") == "f = e^x\ne = c * d\ne + f"


def test_a_name_that_would_hide_a_function_is_replaced() -> None:
    # `sum(X)` after `sum = ...` would call the value: the name is replaced where it is called.
    src = "s2 = sum(X); exp = x + 1; y = exp * s2"
    assert canonical(src) == "s2 = sum(X)\nexp = x + 1\ny = exp * s2"
    g = build("q = sum(X); r = q * 2; sum(r)")
    g.nodes[g.nodes[-1].args[0]].name = "sum"  # as if the program had called r "sum"
    assert program_text(g) == "q = sum(X)\nt1 = q * 2\nsum(t1)"


def test_a_value_used_twice_without_a_name_gets_a_fresh_one() -> None:
    g = build("q = x + y; f = q * q + exp(q)")
    q = g.nodes[g.nodes[g.output].args[1]].args[0]
    g.nodes[q].name = None  # as a graph made by code, not from a program, may be
    assert program_text(g) == "t1 = x + y\nf = t1 * t1 + exp(t1)"
    # A fresh name does not take a name the program uses.
    g = build("t1 = 2 * t2; q = t1 + x; q * q")
    g.nodes[g.nodes[g.output].args[0]].name = None
    assert program_text(g) == "t1 = 2 * t2\nt3 = t1 + x\nt3 * t3"
    text = program_text(g)
    assert signature(build(text)) == signature(g)


def test_a_def_is_written_before_its_first_call() -> None:
    assert canonical("def sq(u): return u * u\nsq(x) + 1") == \
        "def sq(u): return u * u\nsq(x) + 1"
    src = "def f(x, w=3):\n    h = x * w\n    return sigmoid(h)\nz = f(a) + f(b, 2)\nz * f(a)"
    assert canonical(src) == \
        "def f(x, w=3):\n    h = x * w\n    return sigmoid(h)\nz = f(a) + f(b, 2)\nz * f(a)"
    # A def inside an indented block is dedented; one that calls another brings it along; a
    # def never called is left out.
    src = ("def g(u): return u + 1\ndef unused(v): return v\ndef h(u):\n"
           "    return g(u) * 2\nq = x * 3\nh(q)")
    assert canonical(src) == "q = x * 3\ndef g(u): return u + 1\ndef h(u):\n" \
        "    return g(u) * 2\nh(q)"
    for s in (src, "def sq(u): return u * u\nsq(x) + 1"):
        g = build(s)
        assert signature(build(program_text(g))) == signature(g)


def test_grad_gives_back_its_program_in_the_canonical_syntax_only() -> None:
    g = build("d = grad(x^3, x); grad(d, x)")
    assert program_text(g) == "d = grad(x^3, x); grad(d, x)"
    for syntax in ("latex", "numpy", "torch"):
        with pytest.raises(ValueError, match="grad"):
            program_text(g, syntax)


def test_unknown_syntax() -> None:
    with pytest.raises(ValueError, match="unknown syntax"):
        program_text(build("x"), "fortran")


# ---------------------------------------------------------------------------------------------
# LaTeX, NumPy, PyTorch to the character


@pytest.mark.parametrize(("name", "tex"), [
    ("x", "x"), ("W1", "W1"), ("w0", "w0"), ("x_1", "x_{1}"), ("x_in2", "x_{in2}"),
    ("y_hat", "\\hat{y}"), ("x_bar", "\\bar{x}"), ("theta", "\\theta"), ("Sigma", "\\Sigma"),
    ("theta_1", "\\theta_{1}"), ("theta_hat", "\\hat{\\theta}"), ("loss", "\\mathrm{loss}"),
    ("data_loss", "\\mathrm{data\\_loss}"), ("x_i", "\\mathrm{x\\_i}"),
    ("z_ij", "\\mathrm{z\\_ij}"), ("W_out", "W_{out}"),
])
def test_latex_names(name: str, tex: str) -> None:
    assert latex_name(name) == tex


def latex(src: str, values: dict[str, Any] | None = None) -> str:
    g = build(src, values)
    return program_text(g, "latex", shapes_of(g, values) if values else None)


def test_latex_notation() -> None:
    assert latex("1 / (y + e^(-x))") == "\\frac{1}{y + e^{-x}}"
    assert latex("sqrt(x^2 + y^2)") == "\\sqrt{x^{2} + y^{2}}"
    assert latex("exp(x) + log(y) + sin(x)^2") == \
        "\\exp\\left(x\\right) + \\log\\left(y\\right) + \\left(\\sin\\left(x\\right)\\right)^{2}"
    assert latex("sigmoid(w * x + b)") == "\\sigma\\left(w \\cdot x + b\\right)"
    assert latex("relu(x) + tanh(x) + max(0, x)") == \
        "\\operatorname{relu}\\left(x\\right) + \\tanh\\left(x\\right) + \\max\\left(0, x\\right)"
    assert latex("y_hat = sigmoid(theta * x_1)\nloss = (y_hat - y)^2") == \
        "\\hat{y} = \\sigma\\left(\\theta \\cdot x_{1}\\right) \\\\\n" \
        "\\mathrm{loss} = \\left(\\hat{y} - y\\right)^{2}"
    assert latex("-x * y + (-2) * x") == "\\left(-x\\right) \\cdot y + \\left(-2\\right) \\cdot x"
    assert latex("pi * r^2") == "\\pi \\cdot r^{2}"
    assert latex("(z > 0) * z") == "\\left(z > 0\\right) \\cdot z"
    assert latex("sum(x) * 2 + sum(y)") == \
        "\\left(\\sum\\left(x\\right)\\right) \\cdot 2 + \\sum\\left(y\\right)"


def test_latex_products_by_shape() -> None:
    values = {"W": [[1, 2], [3, 4]], "x": [1, -1], "X": [[1, 0], [0, 1]], "c": 2}
    assert latex("W @ x", values) == "W x"
    assert latex("transpose(W) @ x", values) == "W^{\\top} x"
    assert latex("(W + X) @ x", values) == "\\left(W + X\\right) \\times x"
    assert latex("W * X", values) == "W \\odot X"
    assert latex("c * X + 2 * x", values) == "c \\cdot X + 2 \\cdot x"
    assert latex("transpose(W + X)", values) == "\\left(W + X\\right)^{\\top}"


def test_a_def_is_not_written_in_latex() -> None:
    with pytest.raises(ValueError, match="def"):
        program_text(build("def sq(u): return u * u\nsq(x)"), "latex")


def test_numpy_and_torch_use_the_registry() -> None:
    src = "h = relu(X @ W + b)\nloss = sum(exp(h), axis=0) + max(a, c) - mean(h)"
    assert program_text(build(src), "numpy") == \
        "h = relu(X @ W + b)\nloss = np.sum(np.exp(h), axis=0) + np.maximum(a, c) - np.mean(h)"
    assert program_text(build(src), "torch") == \
        "h = torch.relu(X @ W + b)\n" \
        "loss = torch.sum(torch.exp(h), dim=0) + torch.maximum(a, c) - torch.mean(h)"
    assert program_text(build("x ** 2 + softplus(-x)"), "torch") == "x ** 2 + F.softplus(-x)"
    assert program_text(build("transpose(W)"), "torch") == "torch.t(W)"


def test_python_names_that_are_modules_are_replaced() -> None:
    text = program_text(build("np = x + 1; exp(np)"), "numpy")
    assert text == "t1 = x + 1\nnp.exp(t1)"
    assert program_text(build("np = x + 1; np * 2"), "numpy") == "np = x + 1\nnp * 2"


# ---------------------------------------------------------------------------------------------
# The round trip


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_round_trip_of_a_small_network(syntax: str) -> None:
    src = ("h = relu(W @ x + b)\ny_hat = sigmoid(sum(h) * theta)\n"
           "loss = (y_hat - t)^2 + pi * e^(-x_1) + mean(softmax(h)) / 2")
    values = {"W": [[1, 2], [3, -4]], "x": [1, -1], "b": [0.5, 0.25], "theta": 2, "t": 1,
              "x_1": 0.5}
    assert_round_trip(src, values, syntax)


def _vectors() -> list[tuple[str, dict[str, Any]]]:
    """The canonical forms of the reading rules, with a value for every input."""
    out = []
    for v in json.loads(VECTORS.read_text()):
        if "canonical" not in v:
            continue
        values = dict(v.get("values", {}))
        g = build(v["canonical"], values)
        for name in g.inputs:
            values.setdefault(name, 1.5)
        try:
            trace(v["canonical"], values)
        except GradtraceError:
            continue  # its values came from value lines of the input (`x @ y` of two tensors)
        out.append((v["canonical"], values))
    return out


def _syntaxes_for(src: str) -> list[str]:
    # LaTeX has no def.
    return [s for s in SYNTAXES if not (s == "latex" and "def " in src)]


@pytest.mark.parametrize(("src", "values", "syntax"), [
    (src, values, syntax) for src, values in _vectors() for syntax in _syntaxes_for(src)
])
def test_round_trip_of_the_reading_rules(src: str, values: dict[str, Any], syntax: str) -> None:
    assert_round_trip(src, values, syntax)


# Random programs. Inputs and statements are scalars, vectors and matrices of sizes m and n (a
# matrix input W of shape (m, n) is always there, to derive the others from); each expression is
# written with every parenthesis, so that the printer's are its own.
INPUT_NAMES = ("x", "b", "theta", "x_1", "y_hat", "W1", "v")
STATEMENT_NAMES = ("h", "z", "a1", "loss", "q", "out", "z_2")
NUMBERS = ("2", "3", "0.5", "1.5", "0.25")
UNARY = ("exp", "sin", "tanh", "sigmoid", "relu")


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    m, n = draw(st.sampled_from((2, 3))), draw(st.sampled_from((2, 3)))
    vec_n, vec_m, mat, tmat = (n,), (m,), (m, n), (n, m)
    env: dict[str, tuple[int, ...]] = {"W": mat}
    for name in draw(st.lists(st.sampled_from(INPUT_NAMES), max_size=3, unique=True)):
        env[name] = draw(st.sampled_from([(), vec_n, vec_m, mat]))
    values = {name: np.asarray(draw(st.lists(st.integers(-8, 8), min_size=math.prod(shape),
                                              max_size=math.prod(shape)))).reshape(shape) / 4
              for name, shape in env.items()}

    def leaf(shape: tuple[int, ...]) -> str:
        options = [name for name, s in env.items() if s == shape]
        if shape == ():
            options.append("number")
        if not options:  # derived from W
            return {vec_n: "sum(W, axis=0)", vec_m: "mean(W, axis=1)",
                    tmat: "transpose(W)"}.get(shape, "W")
        pick = draw(st.sampled_from(options))
        return draw(st.sampled_from(NUMBERS)) if pick == "number" else pick

    def gen(shape: tuple[int, ...], depth: int) -> str:
        if depth <= 0 or draw(st.integers(0, 4)) == 0:
            return leaf(shape)
        d = depth - 1
        kinds = ["binary", "binary", "neg", "unary", "unary", "log", "pow"]
        if shape == ():
            kinds += ["reduce", "dot", "pi"]
        else:
            kinds += ["softmax", "scale"]
        if shape == vec_n:
            kinds += ["reduce0", "matvec_t"]
        if shape == vec_m:
            kinds += ["reduce1", "matvec"]
        if shape in (mat, tmat):
            kinds += ["transpose"]
        kind = draw(st.sampled_from(kinds))
        if kind == "binary":
            op = draw(st.sampled_from("+-*/"))
            return f"({gen(shape, d)} {op} {gen(shape, d)})"
        if kind == "scale":
            if draw(st.booleans()):
                return f"({gen((), d)} * {gen(shape, d)})"
            return f"({gen(shape, d)} {draw(st.sampled_from('+-/'))} {gen((), d)})"
        if kind == "neg":
            return f"(-{gen(shape, d)})"
        if kind == "unary":
            return f"{draw(st.sampled_from(UNARY))}({gen(shape, d)})"
        if kind == "log":  # of something positive
            inner = gen(shape, d)
            return draw(st.sampled_from([f"log(exp({inner}))", f"log(sigmoid({inner}))",
                                         f"log(({inner} ^ 2) + 1)"]))
        if kind == "pow":
            if draw(st.booleans()):
                return f"(e ^ ({gen(shape, d)}))"
            return f"({gen(shape, d)} ^ {draw(st.sampled_from(('2', '3')))})"
        if kind == "pi":
            return f"(pi * {gen(shape, d)})"
        if kind == "reduce":
            fn = draw(st.sampled_from(("sum", "mean")))
            return f"{fn}({gen(draw(st.sampled_from([vec_n, vec_m, mat])), d)})"
        if kind == "dot":
            return f"({gen(vec_n, d)} @ {gen(vec_n, d)})"
        if kind == "softmax":
            dim = draw(st.sampled_from(["", ", dim=0", ", dim=-1"] +
                                       ([", dim=1"] if len(shape) == 2 else [])))
            return f"softmax({gen(shape, d)}{dim})"
        if kind in ("reduce0", "reduce1"):
            fn = draw(st.sampled_from(("sum", "mean")))
            axis = draw(st.sampled_from(("0",) if kind == "reduce0" else ("1", "-1")))
            return f"{fn}({gen(mat, d)}, axis={axis})"
        if kind == "matvec":
            return f"({gen(mat, d)} @ {gen(vec_n, d)})"
        if kind == "matvec_t":
            return f"(transpose({gen(mat, d)}) @ {gen(vec_m, d)})"
        assert kind == "transpose"
        return f"transpose({gen(tmat if shape == mat else mat, d)})"

    shapes = [(), vec_n, vec_m, mat]
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        shape = draw(st.sampled_from(shapes))
        name = draw(st.sampled_from(STATEMENT_NAMES))
        lines.append(f"{name} = {gen(shape, draw(st.integers(1, 3)))}")
        env[name] = shape
    last = gen(draw(st.sampled_from(shapes)), draw(st.integers(1, 3)))
    if draw(st.booleans()):
        lines.append(f"{draw(st.sampled_from(STATEMENT_NAMES))} = {last}")
    else:
        lines.append(last)
    return "\n".join(lines), {k: v.tolist() for k, v in values.items()}


@pytest.mark.parametrize("syntax", SYNTAXES)
@hsettings(max_examples=60)
@given(programs())
def test_round_trip_of_random_programs(syntax: str, program: tuple[str, dict[str, Any]]) -> None:
    src, values = program
    assert_round_trip(src, values, syntax)
