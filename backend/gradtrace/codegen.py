"""Generated code: an expression's forward and backward passes as a runnable Python file.

`generate_code(analysis, lang)` (from Python also `generate(expr, values, seed, lang)`) writes, for
`lang="numpy"`, the flat forward pass (one line per op node, in the graph's order) and the backward
pass written out by hand as in the lecture notes: the seed `df = 1.0`, then one line per edge in
reverse order, each the local derivative times the upstream gradient (`dz = q * df`), or for a
tensor edge the vector-Jacobian product (`dW = X.T @ dZ`), summed back over the axes the forward
broadcast (`unbroadcast`); a value used more than once adds up what comes back along each use (the
copy gate: `dx = dx + ...`). With `lang="pytorch"` the same forward lines run on float64 tensors
with `requires_grad`, and `.backward(seed)` does the rest. Both files end by printing each input's
gradient, one line each, `dx = <JSON>` (NaN and Infinity as Python's json writes them), for a
person and for a test.

With `mode="forward"` (the forward-mode view: `wrt`, `tangent`) the file is forward mode: in NumPy
each value is followed by its tangent (`q_dot = 1 * x_dot`: per in-edge, the local derivative
times the source's tangent, or the Jacobian-vector product), in PyTorch the input `wrt` becomes a
dual number (`torch.autograd.forward_ad`); it prints the output's derivative, `df/dx = <JSON>`.

The per-op code is in the op registry (`Op.code`: the forward templates of both languages and the
NumPy template of each operand's downstream gradient and of its tangent's part, with the engine's
masks at kinks, so the file prints what `/api/trace` answers).

Names: an op node keeps the name the expression assigned it; the others get fresh letters. A name
that Python or the file itself needs (`lambda`, `np`, `print`, a helper) gets a `_` suffix; a name
assigned twice gets `_2`, `_3` for its later values (the backward pass needs every value). A
gradient is `d` + its value's name, unless that is taken. Every number is written as the repr of
its float64 (which reads back exactly), non-finite ones as `float("inf")`, `float("nan")`.
"""

from __future__ import annotations

import builtins
import itertools
import keyword
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import __version__
from .analysis import Analysis, analyse, request
from .engine import Graph, Node
from .errors import GradtraceError
from .gates import base_graph
from .ops import REGISTRY, Array, CodeArgs, OpCode, Shape
from .settings import Settings

Lang = Literal["numpy", "pytorch"]
Mode = Literal["reverse", "forward"]
LANGS: tuple[Lang, ...] = ("numpy", "pytorch")
MEDIA_TYPE = "text/x-python"

_UNBROADCAST = '''
def unbroadcast(g, shape):
    """Sum a gradient back to `shape` over the axes the forward's broadcasting added (leading
    ones) or stretched (those of size 1 in `shape`)."""
    g = np.sum(g, axis=tuple(range(np.ndim(g) - len(shape))))
    return np.sum(g, axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
'''

_SHOW_NUMPY = '''
def show(name, grad):
    """One line per input: `dx = <its gradient as JSON>`."""
    print(f"d{name} =", json.dumps(np.asarray(grad, dtype=np.float64).tolist()))
'''

_SHOW_TORCH = '''
def show(name, x):
    """One line per input: `dx = <x.grad as JSON>` (zeros where x does not reach the output)."""
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    print(f"d{name} =", json.dumps(grad.tolist()))
'''

_DEF = re.compile(r"^def (\w+)\(", re.M)


def _helper_names() -> set[str]:
    names = {"unbroadcast", "show"}
    for op in REGISTRY.values():
        if op.code is not None:
            names |= set(_DEF.findall(op.code.numpy_helper + op.code.torch_helper))
    return names


# What the file itself uses at module level: a value may not shadow any of it.
_FILE_NAMES = {"np", "json", "torch", "fwAD", "print", "float", "range", "tuple", "len",
               "enumerate"}


def _reserved() -> set[str]:
    return (set(keyword.kwlist) | set(keyword.softkwlist) | _FILE_NAMES | _helper_names()
            | {n for n in dir(builtins) if n in {"None", "True", "False"}})


def filename(lang: Lang) -> str:
    return f"gradtrace_{lang}.py"


# ---------------------------------------------------------------------------------------------
# Numbers


def number(x: float) -> str:
    """A float64 as Python that reads back to the same bits: repr, or float("inf") / ("nan")."""
    if math.isnan(x):
        return 'float("nan")'
    if math.isinf(x):
        return 'float("inf")' if x > 0 else '-float("inf")'
    return repr(float(x))


def _atom(text: str) -> str:
    """A literal safe as an operand of any operator (`x ** -3.0` reads as `-(x ** 3.0)` otherwise
    on the left: parenthesize a sign)."""
    return f"({text})" if text.startswith("-") else text


def _nested(a: Array, width: int = 88, indent: int = 4) -> str:
    """A tensor as nested Python lists, on one line if it fits, else one row per line."""
    if a.ndim == 0:
        return number(float(a))
    one = "[" + ", ".join(_nested(row, 10**9, 0) for row in a) + "]"
    if len(one) <= width or a.ndim == 1:
        return one
    pad = " " * indent
    rows = [_nested(row, width - indent, indent + 4) for row in a]
    return "[\n" + "".join(f"{pad}    {r},\n" for r in rows) + pad + "]"


def _numpy_value(a: Array) -> str:
    if a.ndim == 0:
        return f"np.float64({number(float(a))})"
    return f"np.array({_nested(a)})"


def _torch_value(a: Array, requires_grad: bool) -> str:
    grad = ", requires_grad=True" if requires_grad else ""
    return f"torch.tensor({_nested(a)}, dtype=torch.float64{grad})"


# ---------------------------------------------------------------------------------------------
# Names


@dataclass
class _Names:
    value: dict[int, str]  # node index -> Python name (inputs and op nodes)
    grad: dict[int, str]  # node index -> the name of its gradient (reverse mode)
    tangent: dict[int, str]  # node index -> the name of its tangent (forward mode)
    renamed: list[tuple[str, str]]  # (the expression's name, the file's)


def _fresh_pool() -> Iterator[str]:
    yield from "qprstuvwabchkmn"
    yield from (f"t{i}" for i in itertools.count(1))


def _allocate(graph: Graph, mode: Mode) -> _Names:
    reserved = _reserved()
    user = {n.name for n in graph.nodes if n.name}
    taken: set[str] = set(reserved)
    value: dict[int, str] = {}
    renamed: list[tuple[str, str]] = []

    def unique(base: str, first: str) -> str:
        cand, k = first, 2
        while cand in taken or (cand != base and cand in user):
            cand = f"{base}_{k}"
            k += 1
        return cand

    pool = _fresh_pool()
    out_unnamed = graph.nodes[graph.output].name is None
    for node in graph.nodes:
        if node.kind == "const":
            continue
        if node.name:
            base = node.name
            first = f"{base}_" if base in reserved else base
            name = unique(base, first)
            if name != base:
                renamed.append((base, name))
        else:
            wanted = ["f", "out"] if node.index == graph.output and out_unnamed else []
            name = next(c for c in itertools.chain(wanted, pool)
                        if c not in taken and c not in user and f"d{c}" not in user)
        taken.add(name)
        value[node.index] = name
    # Gradients are d + the value's name (dq), tangents the value's name + _dot (q_dot: q̇).
    derived: dict[int, str] = {}
    for node in graph.nodes:
        if node.requires_grad and node.index in value:
            v = value[node.index]
            cand = f"d{v}" if mode == "reverse" else f"{v}_dot"
            while cand in taken or cand in user:
                cand += "_"
            taken.add(cand)
            derived[node.index] = cand
    if mode == "reverse":
        return _Names(value, derived, {}, renamed)
    return _Names(value, {}, derived, renamed)


# ---------------------------------------------------------------------------------------------
# The file


def _code_of(node: Node) -> OpCode:
    code = node.operation.code
    if code is None:
        raise GradtraceError("function", f"generated code does not cover the op '{node.op}' "
                             "yet (it comes from grad(...))", node.start, node.end)
    return code


def _const(node: Node, lang: Lang, wrap: bool) -> str:
    """A constant as an operand: a bare literal where an operand that is a NumPy value makes the
    op NumPy's (so 1 / 0 is inf, not ZeroDivisionError); np.float64 when all operands are
    constants; a tensor in PyTorch, whose functions take no Python numbers."""
    assert node.const_value is not None
    v = node.const_value
    is_named = node.name in ("pi", "e") and v == {"pi": math.pi, "e": math.e}[node.name]
    if lang == "pytorch":
        return f"torch.tensor(torch.{node.name})" if is_named else f"torch.tensor({number(v)})"
    text = f"np.{node.name}" if is_named else number(v)
    return f"np.float64({text})" if wrap else _atom(text)


def _unparenthesized_sum(expr: str) -> bool:
    """Whether `expr` has a + or - at the top level (it needs parentheses after `dx + `)."""
    depth = 0
    for i, ch in enumerate(expr):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch in "+-" and 0 < i < len(expr) - 1 and expr[i - 1] == " ":
            return True
    return False


def _printable(text: str) -> str:
    """The expression as a comment can show it: a control character (a NUL would make the file
    unreadable to Python) as its escape, `\\x00`."""
    return "".join(c if c.isprintable() or c == "\t" else c.encode("unicode_escape").decode()
                   for c in text)


def _header(graph: Graph, lang: Lang, names: _Names, wrt: str | None) -> list[str]:
    if wrt is not None:
        what = ("NumPy, forward mode: the tangents written out by hand" if lang == "numpy"
                else "PyTorch, forward mode: dual numbers (torch.autograd.forward_ad)")
    else:
        what = ("NumPy, the backward pass written out by hand" if lang == "numpy"
                else "PyTorch, the backward pass by autograd")
    lines = [f"# gradtrace: the expression below in {what}.", "#"]
    lines += [f"#     {_printable(line)}".rstrip() for line in graph.source.strip().splitlines()]
    if wrt is not None:
        lines += ["#", f"# Generated by gradtrace {__version__} (GET /api/code?lang={lang}&mode="
                  "forward). Run it", f"# with python3: it prints the output's derivative along "
                  f"the direction of {wrt}."]
        if lang == "numpy":
            lines += [
                "# Each node's tangent follows its value: the sum over its in-edges of the local",
                "# derivative times the source's tangent (a tensor edge: the Jacobian-vector",
                "# product), one pass for one direction.",
            ]
    else:
        lines += ["#", f"# Generated by gradtrace {__version__} (GET /api/code?lang={lang}), "
                  "reverse mode. Run it", "# with python3: it prints each input's gradient as "
                  "`dx = <JSON>`."]
    if lang == "numpy" and wrt is None:
        lines += [
            "# Backward: one line per edge, in reverse order: the local derivative times the",
            "# upstream gradient (a tensor edge: the vector-Jacobian product, summed back over the",
            "# axes the forward broadcast); a value used twice sums its gradients (copy gate).",
        ]
    for old, new in names.renamed:
        lines.append(f"# '{old}' is called {new} here: Python or this file needs the name.")
    return lines


@dataclass
class _Program:
    graph: Graph
    shapes: list[Shape]
    inputs: dict[str, Array]
    seed: Array
    names: _Names
    wrt: str | None = None  # forward mode: the input, and its tangent (the direction)
    direction: Array | None = None


def _prepare(a: Analysis) -> _Program:
    graph = a.graph
    for node in graph.nodes:
        if node.kind == "op":
            _code_of(node)
    shapes = [tuple(v.shape) for v in a.values]
    mode: Mode = "forward" if a.tangents is not None else "reverse"
    if a.tangents is not None:
        return _Program(graph, shapes, dict(a.inputs), a.seed, _allocate(graph, mode),
                        a.tangents.wrt, a.tangents.tangent)
    return _Program(graph, shapes, dict(a.inputs), a.seed, _allocate(graph, mode))


def _refs(p: _Program, node: Node, lang: Lang) -> list[str]:
    wrap = not any(p.graph.nodes[a].requires_grad for a in node.args)
    out = []
    for a in node.args:
        src = p.graph.nodes[a]
        out.append(_const(src, lang, wrap) if src.kind == "const" else p.names.value[a])
    return out


def _forward(p: _Program, lang: Lang) -> list[str]:
    lines = []
    for node in p.graph.nodes:
        if node.kind != "op":
            continue
        code = _code_of(node)
        lines.append(f"{p.names.value[node.index]} = "
                     f"{code.forward(lang, _refs(p, node, lang))}")
    return lines


def _backward_numpy(p: _Program) -> list[str]:
    g, names, shapes = p.graph, p.names, p.shapes
    lines: list[str] = []
    defined: set[int] = set()
    out = g.nodes[g.output]

    def sums(a: int) -> str:
        # Why a gradient adds up: the copy gate (a value used more than once), or the output
        # that is used too (the seed plus what its uses send back).
        v, n = names.value[a], len(g.nodes[a].out_edges)
        times = "once" if n == 1 else f"{n} times"
        if a == g.output:
            return f"{v} is the output and is used {times}: the output gradient and its uses sum"
        return f"copy gate: {v} is used {times}, its gradients sum"

    if out.requires_grad:
        seed = number(float(p.seed)) if p.seed.ndim == 0 else _numpy_value(p.seed)
        lines.append(f"{names.grad[out.index]} = {seed}  # the output gradient: "
                     f"d{names.value[out.index]}/d{names.value[out.index]}")
        defined.add(out.index)
    for node in reversed(g.nodes):
        i = node.index
        if not node.requires_grad:
            continue
        if i not in defined:
            lines.append(f"{names.grad[i]} = np.zeros_like({names.value[i]})  # "
                         f"{names.value[i]} does not reach the output")
            defined.add(i)
        if node.kind != "op":
            continue
        op = node.operation
        code = _code_of(node)
        refs = _refs(p, node, "numpy")
        c = CodeArgs(tuple(refs), names.value[i], names.grad[i],
                     tuple(shapes[a] for a in node.args), shapes[i])
        gate = f"  ({node.op}: {op.gate})" if op.gate else ""
        lines.append(f"# {names.value[i]} = {code.forward('numpy', refs)}{gate}")
        for k, a in enumerate(node.args):
            if not g.nodes[a].requires_grad or not op.takes_grad(k):
                continue
            expr = code.downstream(k, c)
            if op.elementwise and shapes[a] != shapes[i]:
                expr = f"unbroadcast({expr}, {names.value[a]}.shape)"
            da = names.grad[a]
            if a in defined:
                term = f"({expr})" if _unparenthesized_sum(expr) else expr
                lines.append(f"{da} = {da} + {term}  # {sums(a)}")
            else:
                lines.append(f"{da} = {expr}")
                defined.add(a)
    return lines


def _tangent_numpy(p: _Program, node: Node, depends: set[int]) -> str | None:
    """The tangent line of an op node in forward mode: the sum over its in-edges from nodes that
    depend on `wrt` of each one's part (the JVP with that operand's tangent alone)."""
    args = [a for a in node.args if a in depends]
    if not args or node.index not in depends:  # an indicator's output carries no tangent
        return None
    op = node.operation
    code = _code_of(node)
    refs = _refs(p, node, "numpy")
    i = node.index
    terms = []
    for k, a in enumerate(node.args):
        if a not in depends or not op.takes_grad(k):
            continue
        c = CodeArgs(tuple(refs), p.names.value[i], p.names.tangent[a],
                     tuple(p.shapes[b] for b in node.args), p.shapes[i])
        expr = code.downstream(k, c, tangent=True)
        if op.elementwise and p.shapes[a] != p.shapes[i]:
            expr = f"np.broadcast_to({expr}, {c.out}.shape)"
        terms.append(f"({expr})" if len(args) > 1 and _unparenthesized_sum(expr) else expr)
    return f"{p.names.tangent[i]} = {' + '.join(terms)}"


def _depends(p: _Program) -> set[int]:
    """The nodes whose value depends on the input `wrt` (they carry a tangent)."""
    assert p.wrt is not None
    out = {p.graph.inputs[p.wrt]}
    for node in p.graph.nodes:
        if node.kind == "op" and node.requires_grad and any(
                a in out and node.operation.takes_grad(k) for k, a in enumerate(node.args)):
            out.add(node.index)
    return out


_SHOW_DERIVATIVE_NUMPY = '''
def show(out, wrt, tangent):
    """The output's derivative along the direction: `df/dx = <JSON>`."""
    print(f"d{out}/d{wrt} =", json.dumps(np.asarray(tangent, dtype=np.float64).tolist()))
'''

_SHOW_DERIVATIVE_TORCH = '''
def show(out, wrt, y):
    """The output's derivative along the direction, its dual part: `df/dx = <JSON>` (zeros
    where the output does not depend on the input)."""
    tangent = fwAD.unpack_dual(y).tangent
    if tangent is None:
        tangent = torch.zeros_like(y)
    print(f"d{out}/d{wrt} =", json.dumps(tangent.tolist()))
'''


def _helpers(p: _Program, lang: Lang, body: str) -> list[str]:
    parts: list[str] = []
    for node in p.graph.nodes:
        if node.kind == "op":
            code = _code_of(node)
            text = code.numpy_helper if lang == "numpy" else code.torch_helper
            if text and text not in parts:
                parts.append(text)
    if lang == "numpy" and ("unbroadcast(" in body or any("unbroadcast(" in t for t in parts)):
        parts.insert(0, _UNBROADCAST)
    forward = p.wrt is not None
    if lang == "numpy":
        parts.append(_SHOW_DERIVATIVE_NUMPY if forward else _SHOW_NUMPY)
    else:
        parts.append(_SHOW_DERIVATIVE_TORCH if forward else _SHOW_TORCH)
    return [line for text in parts for line in ["", *text.strip("\n").splitlines(), ""]]


def _imports(lang: Lang, forward: bool) -> list[str]:
    if lang == "numpy":
        return ["import json", "", "import numpy as np", "",
                "# Overflow and NaN flow through as IEEE values, as in gradtrace.",
                'np.seterr(all="ignore")', ""]
    dual = ["import torch.autograd.forward_ad as fwAD"] if forward else []
    return ["import json", "", "import torch", *dual, "", "# float64 throughout, constants too.",
            "torch.set_default_dtype(torch.float64)", ""]


def _reverse(p: _Program, lang: Lang) -> list[str]:
    g, names = p.graph, p.names
    inputs = list(g.inputs.items())
    out = g.nodes[g.output]
    forward = _forward(p, lang)
    if lang == "numpy":
        backward = _backward_numpy(p)
        lines = [*_imports(lang, False), *_helpers(p, lang, "\n".join(backward)), "",
                 "# The inputs (float64, exactly the given values)"]
        lines += [f"{names.value[i]} = {_numpy_value(p.inputs[name])}" for name, i in inputs]
        lines += ["", "# The forward pass", *forward, "", "# The backward pass", *backward]
    else:
        lines = [*_imports(lang, False), *_helpers(p, lang, ""), "",
                 "# The inputs (float64, exactly the given values)"]
        lines += [f"{names.value[i]} = {_torch_value(p.inputs[name], g.nodes[i].requires_grad)}"
                  for name, i in inputs]
        lines += ["", "# The forward pass", *forward, "", "# The backward pass"]
        if out.requires_grad:
            v = names.value[out.index]
            lines.append(f"{v}.backward(torch.tensor({_nested(p.seed)}))  "
                         f"# the output gradient: d{v}/d{v}")
        else:
            lines.append("# (the output depends on no input: there is nothing to backpropagate)")
    # Labels (inputs used only as indices) take no gradient and print none, as in the record.
    shows = [f'show("{name}", {names.grad[i] if lang == "numpy" else names.value[i]})'
             for name, i in inputs if g.nodes[i].requires_grad]
    return lines + (["", "# The gradients", *shows] if shows
                    else ["", "# (no inputs: no gradients)"])


def _output_ref(p: _Program, lang: Lang) -> str:
    out = p.graph.nodes[p.graph.output]
    if out.kind == "const":
        return _const(out, lang, True)
    return p.names.value[out.index]


def _forward_mode(p: _Program, lang: Lang) -> list[str]:
    g, names = p.graph, p.names
    assert p.wrt is not None and p.direction is not None
    inputs = list(g.inputs.items())
    w = g.inputs[p.wrt]
    out = g.nodes[g.output]
    out_name = names.value.get(out.index, "f")
    lines = [*_imports(lang, True), *_helpers(p, lang, ""),
             "", "# The inputs (float64, exactly the given values)"]
    if lang == "numpy":
        depends = _depends(p)
        lines += [f"{names.value[i]} = {_numpy_value(p.inputs[name])}" for name, i in inputs]
        lines += ["", f"# The direction: the tangent of {p.wrt} (every other input's is 0)",
                  f"{names.tangent[w]} = {_numpy_value(p.direction)}", "",
                  "# The forward pass, each value followed by its tangent"]
        for node, line in zip((n for n in g.nodes if n.kind == "op"), _forward(p, lang),
                              strict=True):
            lines.append(line)
            tangent = _tangent_numpy(p, node, depends)
            if tangent is not None:
                lines.append(tangent)
        result = (names.tangent[out.index] if out.index in depends
                  else f"np.zeros_like({_output_ref(p, lang)})")
        return [*lines, "", "# The derivative", f'show("{out_name}", "{p.wrt}", {result})']
    lines += [f"{names.value[i]} = {_torch_value(p.inputs[name], False)}" for name, i in inputs]
    lines += ["", f"# The direction: {p.wrt} becomes a dual number, its tangent the direction",
              "with fwAD.dual_level():",
              f"    {names.value[w]} = fwAD.make_dual({names.value[w]}, "
              f"torch.tensor({_nested(p.direction)}))", "    # The forward pass",
              *(f"    {line}" for line in _forward(p, lang)),
              "    # The derivative: the output's dual part",
              f'    show("{out_name}", "{p.wrt}", {_output_ref(p, lang)})']
    return lines


def _written_out(a: Analysis) -> Analysis:
    """The analysis with every call of the program's own functions (`def`) opened into its
    body's ops, which have code; the file computes the same numbers."""
    base = base_graph(a.graph)
    defs = [f"g{n.index}" for n in base.nodes if n.defined is not None]
    if not defs or all(d in a.request.expand for d in defs):
        return a
    req = a.request.model_copy(update={"expand": [*a.request.expand, *defs]})
    return analyse(req, a.settings, a.cancel)


def generate_code(a: Analysis, lang: str = "numpy") -> str:
    """The Python file of the analysed expression in `lang` (numpy or pytorch): reverse mode
    with its output gradient, or, for a forward-mode analysis, forward mode along its `wrt` and
    direction. Raises `GradtraceError` for an unknown `lang` and for an op without code."""
    if lang not in LANGS:
        raise GradtraceError("value", f"unknown lang {lang[:20]!r}: give 'numpy' or 'pytorch'",
                             0, 0)
    language: Lang = "numpy" if lang == "numpy" else "pytorch"
    p = _prepare(_written_out(a))
    lines = [*_header(p.graph, language, p.names, p.wrt), ""]
    lines += _forward_mode(p, language) if p.wrt is not None else _reverse(p, language)
    # No run of more than two blank lines (helpers bring their own).
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).rstrip() + "\n"


def generate(expr: str, values: Mapping[str, Any] | None = None, seed: Any = None,
             lang: str = "numpy", settings: Settings | None = None, mode: str = "reverse",
             wrt: str | None = None, tangent: Any = None) -> str:
    """`generate_code` from Python arguments (as `trace` takes them). Raises `GradtraceError` for
    an unknown `lang` or `mode` and for everything `trace` refuses."""
    if lang not in LANGS:
        raise GradtraceError("value", f"unknown lang {lang[:20]!r}: give 'numpy' or 'pytorch'",
                             0, 0)
    if mode not in ("reverse", "forward"):
        raise GradtraceError("value", f"unknown mode {mode[:20]!r}: give 'reverse' or 'forward'",
                             0, 0)
    return generate_code(analyse(request(expr, values, seed, mode, wrt, tangent), settings), lang)


__all__ = ["LANGS", "MEDIA_TYPE", "Lang", "filename", "generate", "generate_code", "number"]
