"""Property-based tests: random well-formed programs, written as text.

Scalar programs over x, y, z use every scalar op of the language (with safe domains: log and sqrt
of `t^2 + 1`, division by `t^2 + 1`, tan of sin, powers of `t^2 + 1`), spread over assignments and
re-assignments, rendered with the fewest parentheses precedence allows plus random extra ones,
spaces and line breaks after operators. For each, checked:
- the parser's AST is the generated tree, and the value is the tree's, evaluated with `math`;
- gradients agree with SymPy's symbolic derivative of an expression built from gradtrace's own AST
  (never by sympifying the text), to 1e-9;
- gradients agree with central finite differences (skipped where FD is ill-conditioned);
- the trace invariants of tests/helpers.py.
Tensor programs (matmul chains, broadcasting elementwise ops, sum/mean/softmax/transpose/dot) are
checked against an independent NumPy evaluation and finite differences with a random seed.
And the engine answers any text or value with a record or a GradtraceError, nothing else.

Profiles (tests/helpers.py): "ci" by default (derandomized, 200 examples per property);
HYPOTHESIS_PROFILE=thorough for 2,000 random ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp  # type: ignore[import-untyped]
from hypothesis import assume, given, note
from hypothesis import strategies as st

from gradtrace import GradtraceError, decode, trace
from gradtrace.ops import FUNCTIONS
from gradtrace.parser import Binary, Call, Expr, Name, Num, Program, Unary, parse, walk

from .helpers import check_invariants, evaluate, sexp

# ---------------------------------------------------------------------------------------------
# Scalar program trees (our own representation, independent of gradtrace's AST)

Tree = tuple[Any, ...]
INPUTS = ("x", "y", "z")
NUMBERS = ("1", "2", "3", "0.5", ".25", "1e-1", "1.5e0", "2.0")
LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}


def pos(t: Tree) -> Tree:
    """t^2 + 1: a positive argument for log, sqrt, a divisor and a power's base."""
    return ("bin", "+", ("bin", "^", t, ("num", "2")), ("num", "1"))


@st.composite
def trees(draw: st.DrawFn, depth: int, names: tuple[str, ...]) -> Tree:
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        leaf = draw(st.integers(0, 9))
        if leaf < 6:
            return ("var", draw(st.sampled_from(names)))
        if leaf < 9:
            return ("num", draw(st.sampled_from(NUMBERS)))
        return ("const", draw(st.sampled_from(["pi", "e"])))

    def sub() -> Tree:
        return draw(trees(depth - 1, names))

    # Every function by name, so that each is drawn as often as each operator.
    kind = draw(st.sampled_from([
        "+", "-", "*", "/", "^int", "^", "pow", "neg", "exp", "sin", "cos", "tanh", "sigmoid",
        "log", "sqrt", "tan", "abs", "relu", "max", "min", "sum", "mean", "transpose", "softmax",
    ]))
    if kind in ("+", "-", "*"):
        return ("bin", kind, sub(), sub())
    if kind == "/":
        return ("bin", "/", sub(), pos(sub()))
    if kind == "^int":
        return ("bin", "^", sub(), ("num", draw(st.sampled_from(["2", "3"]))))
    if kind == "^":
        return ("bin", "^", pos(sub()), ("call", "sin", (sub(),)))
    if kind == "pow":
        return ("call", "pow", (pos(sub()), ("call", "cos", (sub(),))))
    if kind == "neg":
        return ("neg", sub())
    if kind in ("log", "sqrt"):
        return ("call", kind, (pos(sub()),))
    if kind == "tan":
        return ("call", "tan", (("call", "sin", (sub(),)),))
    if kind in ("max", "min"):
        return ("call", kind, (sub(), sub()))
    # exp sin cos tanh sigmoid abs relu, and the reductions, which are the identity on a scalar
    # (softmax of a scalar is 1).
    return ("call", kind, (sub(),))


def tree_sexp(t: Tree) -> str:
    if t[0] == "var" or t[0] == "const":
        return str(t[1])
    if t[0] == "num":
        return repr(float(t[1]))
    if t[0] == "neg":
        return f"(neg {tree_sexp(t[1])})"
    if t[0] == "bin":
        return f"({t[1]} {tree_sexp(t[2])} {tree_sexp(t[3])})"
    return "(" + " ".join([t[1], *(tree_sexp(a) for a in t[2])]) + ")"


@dataclass
class Evaluation:
    value: float
    biggest: float = 0.0  # largest |value| of any subexpression
    kink: float = math.inf  # smallest distance of a kink's argument(s) to the kink


def py_eval(t: Tree, env: dict[str, float], ev: Evaluation) -> float:
    """The tree's value by plain `math` (raises OverflowError/ValueError outside the domain)."""
    tag = t[0]
    if tag == "var":
        v = env[t[1]]
    elif tag == "num":
        v = float(t[1])
    elif tag == "const":
        v = math.pi if t[1] == "pi" else math.e
    elif tag == "neg":
        v = -py_eval(t[1], env, ev)
    elif tag == "bin":
        a, b = py_eval(t[2], env, ev), py_eval(t[3], env, ev)
        v = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
             "^": lambda: math.pow(a, b)}[t[1]]()
    else:
        args = [py_eval(a, env, ev) for a in t[2]]
        f = t[1]
        if f in ("abs", "relu"):
            ev.kink = min(ev.kink, abs(args[0]))
        if f in ("max", "min"):
            ev.kink = min(ev.kink, abs(args[0] - args[1]))
        one: dict[str, Callable[..., float]] = {
            "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "sin": math.sin,
            "cos": math.cos, "tan": math.tan, "tanh": math.tanh, "abs": abs,
            "sigmoid": lambda a: 1.0 / (1.0 + math.exp(-a)), "relu": lambda a: max(a, 0.0),
            "max": max, "min": min, "pow": math.pow, "sum": lambda a: a, "mean": lambda a: a,
            "transpose": lambda a: a, "softmax": lambda a: 1.0,
        }
        v = one[f](*args)
    if not math.isfinite(v):
        raise OverflowError
    ev.biggest = max(ev.biggest, abs(v))
    return v


@st.composite
def render(draw: st.DrawFn, t: Tree) -> tuple[str, int]:
    """Text for the tree, parenthesised only where precedence needs it (and at random)."""

    def sp_() -> str:
        return draw(st.sampled_from(["", " ", " ", "  "]))

    def after_op() -> str:  # a line break after an operator continues the statement
        return draw(st.sampled_from(["", " ", " ", "\n  "]))

    def child(c: Tree, need: int) -> str:
        text, level = draw(render(c))
        if level < need or draw(st.integers(0, 9)) == 0:
            inner = draw(st.sampled_from(["", " ", "\n"]))
            return f"({inner}{text}{sp_()})"
        return text

    tag = t[0]
    if tag in ("var", "const", "num"):
        return str(t[1]), 5
    if tag == "neg":
        return "-" + child(t[1], 3), 3
    if tag == "bin":
        op = t[1]
        if op == "^":
            shown = draw(st.sampled_from(["^", "**"]))
            return f"{child(t[2], 5)}{sp_()}{shown}{after_op()}{child(t[3], 3)}", 4
        level = LEVEL[op]
        return f"{child(t[2], level)}{sp_()}{op}{after_op()}{child(t[3], level + 1)}", level
    args = f",{sp_()}".join(child(a, 1) for a in t[2])
    return f"{t[1]}({args})", 5


@dataclass
class ScalarProgram:
    text: str
    statements: list[tuple[str | None, Tree]]
    values: dict[str, float]
    used: set[str] = field(default_factory=set)


@st.composite
def scalar_programs(draw: st.DrawFn) -> ScalarProgram:
    names: tuple[str, ...] = INPUTS
    stmts: list[tuple[str | None, Tree]] = []
    for _ in range(draw(st.integers(0, 2))):
        target = draw(st.sampled_from(["a", "b", "x"]))  # x: re-assigning an input name
        stmts.append((target, draw(trees(3, names))))
        names = tuple(sorted({*names, target}))
    stmts.append((None, draw(trees(3, names))))
    parts = []
    for name, tree in stmts:
        text, _ = draw(render(tree))
        assign = draw(st.sampled_from([" = ", "=", " =\n "]))
        parts.append(f"{name}{assign}{text}" if name else text)
    text = "".join(p + draw(st.sampled_from(["; ", ";", "\n", " ;\n"])) for p in parts[:-1])
    text += parts[-1]
    values = {n: draw(st.floats(-2.0, 2.0, allow_nan=False).map(lambda v: round(v, 3)))
              for n in INPUTS}
    return ScalarProgram(text, stmts, values)


def python_value(prog: ScalarProgram) -> Evaluation:
    ev = Evaluation(0.0)
    env = dict(prog.values)
    value = 0.0
    for target, tree in prog.statements:
        value = py_eval(tree, env, ev)
        if target:
            env[target] = value
    ev.value = value
    return ev


def evaluation_or_reject(prog: ScalarProgram) -> Evaluation:
    try:
        ev = python_value(prog)
    except (OverflowError, ValueError, ZeroDivisionError):
        assume(False)
        raise AssertionError from None  # unreachable: assume(False) raises
    assume(ev.biggest < 1e4 and ev.kink > 1e-3)
    return ev


# ---------------------------------------------------------------------------------------------
# SymPy, from gradtrace's own AST

SYMBOLS = {n: sp.Symbol(n, real=True) for n in INPUTS}
SYMPY_FUNCS: dict[str, Callable[..., sp.Expr]] = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "tanh": sp.tanh, "abs": sp.Abs, "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "relu": lambda a: sp.Max(a, 0), "max": sp.Max, "min": sp.Min, "pow": lambda a, b: a**b,
    "sum": lambda a: a, "mean": lambda a: a, "transpose": lambda a: a,
    "softmax": lambda a: sp.Integer(1),
}


def to_sympy(program: Program) -> sp.Expr:
    """The program's output as a SymPy expression, built node by node from gradtrace's AST."""
    env: dict[str, sp.Expr] = {}

    def conv(e: Expr) -> sp.Expr:
        if isinstance(e, Num):
            return sp.Rational(e.text)  # exact: x^2 stays an integer power for SymPy
        if isinstance(e, Name):
            if e.id in env:
                return env[e.id]
            if e.id == "pi":
                return sp.pi
            if e.id == "e":
                return sp.E
            return SYMBOLS[e.id]
        if isinstance(e, Unary):
            return -conv(e.operand)
        if isinstance(e, Binary):
            a, b = conv(e.left), conv(e.right)
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "^": a**b}[e.op]
        assert isinstance(e, Call)
        return SYMPY_FUNCS[e.func](*(conv(a) for a in e.args))

    out = sp.Integer(0)
    for stmt in program.statements:
        out = conv(stmt.expr)
        if stmt.target:
            env[stmt.target] = out
    return out


# ---------------------------------------------------------------------------------------------
# Scalar properties


@given(scalar_programs())
def test_parser_reads_the_generated_tree(prog: ScalarProgram) -> None:
    note(prog.text)
    parsed = parse(prog.text)
    assert [(s.target, sexp(s.expr)) for s in parsed.statements] == [
        (target, tree_sexp(tree)) for target, tree in prog.statements]
    for stmt in parsed.statements:  # every node's span is the text of that node
        for node in walk(stmt.expr):
            (again,) = parse(prog.text[node.start:node.end]).statements
            assert sexp(again.expr) == sexp(node)
    try:
        ev = python_value(prog)
    except (OverflowError, ValueError, ZeroDivisionError):
        return
    got = float(decode(trace(prog.text, prog.values)["value"]))
    assert math.isclose(got, ev.value, rel_tol=1e-12, abs_tol=1e-12), (got, ev.value)


@given(scalar_programs())
def test_scalar_gradients_match_sympy(prog: ScalarProgram) -> None:
    note(prog.text)
    evaluation_or_reject(prog)
    record = trace(prog.text, prog.values)
    check_invariants(record)
    expr = to_sympy(parse(prog.text))
    # Exact rational coordinates (the values have three decimals), substituted before evalf.
    point = {SYMBOLS[n]: sp.Rational(repr(v)) for n, v in prog.values.items()}
    value = float(expr.subs(point).evalf(30))
    assert math.isclose(float(decode(record["value"])), value, rel_tol=1e-9, abs_tol=1e-12)
    for name in INPUTS:
        exact = expr.diff(SYMBOLS[name]).subs(point).evalf(30)
        # An input the output does not depend on has no gradient entry, or one of exactly 0
        # (it reached the graph through an assignment the output does not use).
        got = float(decode(record["gradients"][name])) if name in record["gradients"] else 0.0
        assert math.isclose(got, float(exact), rel_tol=1e-9, abs_tol=1e-9), (name, got, exact)


@given(scalar_programs())
def test_scalar_gradients_match_finite_differences(prog: ScalarProgram) -> None:
    note(prog.text)
    evaluation_or_reject(prog)
    record = trace(prog.text, prog.values)
    check_invariants(record)
    for name, g in record["gradients"].items():
        got = float(decode(g))

        def f(v: float, name: str = name) -> float:
            return float(evaluate(prog.text, {**prog.values, name: v}))

        x0 = prog.values[name]
        estimates = []
        for h in (1e-6, 2e-6):
            step = h * max(1.0, abs(x0))
            estimates.append((f(x0 + step) - f(x0 - step)) / (2 * step))
        fd = estimates[0]
        # Ill-conditioned where two step sizes disagree beyond what the comparison tolerates.
        assume(abs(estimates[0] - estimates[1]) <= 1e-6 * max(1.0, abs(fd)))
        assert math.isclose(got, fd, rel_tol=1e-5, abs_tol=1e-7), (name, got, fd)


# ---------------------------------------------------------------------------------------------
# Tensor programs: typed trees over a pool of inputs of compatible shapes


@dataclass(frozen=True)
class TNode:
    op: str
    args: tuple[TNode, ...] = ()
    name: str = ""
    shape: tuple[int, ...] = ()


@st.composite
def tensor_trees(draw: st.DrawFn, shape: tuple[int, ...], dims: tuple[int, ...], depth: int
                 ) -> TNode:
    """An expression of the given shape; leaves are inputs named after their shape."""

    def leaf(s: tuple[int, ...]) -> TNode:
        return TNode("input", name="s" if s == () else "T" + "_".join(map(str, s)), shape=s)

    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return leaf(shape)

    def sub(s: tuple[int, ...]) -> TNode:
        return draw(tensor_trees(s, dims, depth - 1))

    options = ["unary", "binary", "binary_bcast"]
    if len(shape) == 2:
        options += ["matmul", "transpose", "softmax"]
    if len(shape) == 1:
        options += ["matvec", "softmax"]
    if shape == ():
        options += ["sum", "mean", "dot"]
    kind = draw(st.sampled_from(options))
    if kind == "unary":
        f = draw(st.sampled_from(["tanh", "sigmoid", "sin", "neg", "exp_tanh", "log_sq"]))
        a = sub(shape)
        if f == "exp_tanh":
            return TNode("exp", (TNode("tanh", (a,), shape=shape),), shape=shape)
        if f == "log_sq":
            sq = TNode("mul", (a, a), shape=shape)
            return TNode("log", (TNode("add", (sq, TNode("one")), shape=shape),), shape=shape)
        return TNode(f, (a,), shape=shape)
    if kind in ("binary", "binary_bcast"):
        op = draw(st.sampled_from(["add", "sub", "mul", "div"]))
        other = shape
        if kind == "binary_bcast" and shape:
            other = draw(st.sampled_from([(), shape[-1:], (1, *shape[1:]) if len(shape) == 2
                                          else ()]))
        a, b = sub(shape), sub(other)
        if draw(st.booleans()):
            a, b = b, a
        if op == "div":  # divide by b^2 + 1
            b = TNode("add", (TNode("mul", (b, b), shape=b.shape), TNode("one")), shape=b.shape)
        return TNode(op, (a, b), shape=shape)
    if kind == "matmul":
        k = draw(st.sampled_from(dims))
        return TNode("matmul", (sub((shape[0], k)), sub((k, shape[1]))), shape=shape)
    if kind == "matvec":
        k = draw(st.sampled_from(dims))
        return TNode("matmul", (sub((shape[0], k)), sub((k,))), shape=shape)
    if kind == "transpose":
        return TNode("transpose", (sub((shape[1], shape[0])),), shape=shape)
    if kind == "softmax":
        return TNode("softmax", (sub(shape),), shape=shape)
    if kind == "dot":
        n = draw(st.sampled_from(dims))
        return TNode("dot", (sub((n,)), sub((n,))), shape=())
    inner = draw(st.sampled_from([(draw(st.sampled_from(dims)),),
                                  (draw(st.sampled_from(dims)), draw(st.sampled_from(dims)))]))
    return TNode(kind, (sub(inner),), shape=())


INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@"}


def tensor_text(t: TNode) -> str:
    if t.op == "input":
        return t.name
    if t.op == "one":
        return "1"
    if t.op == "neg":
        return f"-({tensor_text(t.args[0])})"
    if t.op in INFIX:
        a, b = (tensor_text(x) for x in t.args)
        return f"({a} {INFIX[t.op]} {b})"
    return f"{t.op}({', '.join(tensor_text(a) for a in t.args)})"


def np_eval(t: TNode, env: dict[str, np.ndarray]) -> np.ndarray:
    """Independent NumPy semantics (einsum for products, explicit softmax)."""
    if t.op == "input":
        return env[t.name]
    if t.op == "one":
        return np.ones(())
    a = [np_eval(x, env) for x in t.args]
    if t.op == "matmul":
        return np.asarray(np.einsum("ik,k->i" if a[1].ndim == 1 else "ik,kj->ij", a[0], a[1]))
    if t.op == "softmax":
        ex = np.exp(a[0] - a[0].max(axis=-1, keepdims=True))
        return np.asarray(ex / ex.sum(axis=-1, keepdims=True))
    funcs: dict[str, Callable[..., Any]] = {
        "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
        "tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "sin": np.sin,
        "neg": np.negative, "exp": np.exp, "log": np.log, "transpose": lambda v: v.T,
        "sum": np.sum, "mean": np.mean, "dot": lambda u, v: np.einsum("i,i->", u, v),
    }
    return np.asarray(funcs[t.op](*a), dtype=np.float64)


def tensor_inputs(t: TNode, out: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    if t.op == "input":
        out[t.name] = t.shape
    for a in t.args:
        tensor_inputs(a, out)
    return out


@st.composite
def tensor_programs(draw: st.DrawFn) -> tuple[str, dict[str, Any], Any, TNode]:
    dims = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
    shape = draw(st.sampled_from([(), (dims[0],), (dims[0], dims[1])]))
    tree = draw(tensor_trees(shape, dims, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = {name: rng.normal(size=s).round(3).tolist()
              for name, s in tensor_inputs(tree, {}).items()}
    seed = rng.normal(size=shape).round(3).tolist() if draw(st.booleans()) else None
    return tensor_text(tree), values, seed, tree


@given(tensor_programs())
def test_tensor_programs(program: tuple[str, dict[str, Any], Any, TNode]) -> None:
    text, values, seed, tree = program
    note(text)
    record = trace(text, values, seed)
    check_invariants(record)
    env = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    np.testing.assert_allclose(decode(record["value"]), np_eval(tree, env), rtol=1e-12,
                               atol=1e-12)
    out_shape = tuple(record["shape"])
    assert out_shape == tree.shape
    g_out = np.ones(out_shape) if seed is None else np.asarray(seed)
    for name, v in env.items():
        got = decode(record["gradients"][name])
        assert got.shape == v.shape
        fd = np.zeros_like(v)
        worst = 0.0
        for idx in np.ndindex(v.shape):
            est = []
            for h in (1e-6, 2e-6):
                step = h * max(1.0, abs(float(v[idx])))
                plus, minus = v.copy(), v.copy()
                plus[idx] += step
                minus[idx] -= step
                fp = np.sum(g_out * np_eval(tree, {**env, name: plus}))
                fm = np.sum(g_out * np_eval(tree, {**env, name: minus}))
                est.append(float(fp - fm) / (2 * step))
            fd[idx] = est[0]
            worst = max(worst, abs(est[0] - est[1]) / max(1.0, abs(est[0])))
        assume(worst < 1e-6)
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7, err_msg=f"d/d{name}: {text}")


# ---------------------------------------------------------------------------------------------
# Names


IDENTIFIERS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: n not in FUNCTIONS and n not in ("pi", "e", "grad"))


@given(st.lists(IDENTIFIERS, min_size=2, max_size=2, unique=True))
def test_any_names(names: list[str]) -> None:
    a, b = names
    note(f"{a}, {b}")
    record = trace(f"{a} * {b} + {a}\n{b} = {a} * 2\n{b} / {a}", {a: 1.5, b: -2.0})
    check_invariants(record)  # among others: formulas with these names have balanced braces
    assert record["gradients"] == {a: 0.0, b: 0.0}  # b = 2a after the first line: b / a = 2
    record = trace(f"{a} * {b}", {a: 1.5, b: -2.0})
    assert record["gradients"] == {a: -2.0, b: 1.5}


# ---------------------------------------------------------------------------------------------
# Robustness: any text, any value -> a record or a GradtraceError


TOKENS = ["x", "y", "W", "e", "pi", "1", "2.5", ".5", "1e3", "+", "-", "*", "/", "@", "^", "**",
          "(", ")", ",", ";", "\n", " ", "=", "q", "exp(", "max(", "sum(", "softmax(", "conv2d(",
          "dot(", "log(", "sqrt(", "relu(", "pow(", "transpose(", "matmul(", "1e999", "0"]


@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_token_soup_gives_a_record_or_a_gradtrace_error(text: str) -> None:
    note(repr(text))
    values = {"x": 0.5, "y": [1.0, -2.0], "W": [[1.0, 2.0], [0.0, -1.0]]}
    try:
        record = trace(text, values)
    except GradtraceError as err:
        assert 0 <= err.start <= err.end <= len(text)
        assert err.message
        return
    check_invariants(record)


@given(st.text(max_size=40))
def test_any_text_gives_a_record_or_a_gradtrace_error(text: str) -> None:
    try:
        record = trace(text, {"x": 1.0})
    except GradtraceError as err:
        assert 0 <= err.start <= err.end <= len(text)
        return
    check_invariants(record)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.sampled_from(["Infinity", "-Infinity", "NaN"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner,
                                                                 max_size=2),
    max_leaves=12,
)


@given(JSONISH, JSONISH)
def test_any_value_and_seed_give_a_record_or_a_gradtrace_error(value: Any, seed: Any) -> None:
    try:
        record = trace("sum(v * 2) + sum(v)", {"v": value}, seed=seed)
    except GradtraceError as err:
        assert err.type in ("value", "seed", "limit", "shape")
        return
    check_invariants(record)
