r"""A graph written back as a program: in gradtrace's own language, in LaTeX, NumPy or PyTorch.

`program_text(graph, syntax, shapes)` prints a built graph (the collapsed one: a call of the
program's own `def` is one node) so that reading the text back gives the same graph: the same
nodes in the same order (kinds, ops, options, constants, inputs, wiring) and the same output.

Which nodes become statements:
- an op node the program named (`q = x + y`), or a named number (`h = 2`: one node however often
  it is used), is a statement `q = ...`;
- an unnamed node used more than once gets a fresh name (t1, t2, ... not taken) and a statement
  of its own, so that it stays one node when read back (written twice, it would be two);
- a node nothing uses that is not the output (a statement the program never used) is written
  bare where it stood; everything else is written inline, where it is used;
- the output is the last statement: a bare expression, or its name when it has a statement;
- an input (or pi, e) is made where it is first named: one the program named in a statement that
  made no node (`h = x`) is named there, bare (`x`), so that the nodes keep their order.
A name that would no longer mean its node where it is used gets a fresh one: `b = a; a = a + 1;
b * a` has two values called a (b is the first), so the second becomes t1. So does a name the
text calls as a function or a module (`sum = ...` before `sum(X)`, `np = ...` before
`np.exp(x)`), and in NumPy and PyTorch a Python keyword.

Parentheses: the fewest that keep the tree. Loosest first: comparisons, `+ -`, `* / @`, unary
`-`, `^`; `+ - * / @` associate to the left (`x - (y - z)` keeps its parentheses, `x - y - z`
needs none), `^` to the right (`x^y^z` is x^(y^z)); `-x^2` is -(x^2). A negative exponent is
parenthesised, `x^(-1)`, as the reading rules write it, and so is a bare statement that starts
with a minus after another one (a line that starts with an operator continues the line before).
Numbers read back to the same float64: `2` for 2.0, otherwise Python's repr (`0.1`, `1e-05`).

The syntaxes:
- "canonical": calls with their options as keywords (`sum(X, axis=0, keepdims=True)`,
  `softmax(S, dim=1)`; an option the op reads off its operands' shapes is written out),
  indexing (`x[0]`, `X[:, 1]`, `s[y]`), `y[0] = ...` for an assignment into an item, constants
  `pi` and `e`. A call of a `def` is `f(a, b)`, after the def's own source text (copied from the
  graph's source, dedented; with the earlier defs it calls).
- "latex": `\frac{a}{b}`, `a \cdot b` (a product where one side is a scalar), `a \odot b` (the
  elementwise product of two tensors), `W x` between names or `A \times B` for the matrix
  product (the reading rules read a product of two tensors as the matrix product), `x^{2}`,
  `W^{\top}`, `\sqrt{x}`, `\sum\left(x\right)`, the op's LaTeX command where the registry spells
  it so (`\exp`, `\sigma` for sigmoid, `\max`, `\log_{10}`), else `\operatorname{relu}`; names
  as the notes write them (`x_{1}`, `\hat{y}`, `\theta`, `\mathrm{loss}`, `W1`); statements
  separated by `\\` and a newline. Which product a `*` is depends on the shapes: without
  `shapes`, `\cdot` is written. A `def` has no LaTeX: a `ValueError`.
- "numpy" / "torch": Python, `**` for the power. Each op is written with its own code template
  of the registry (`np.exp(x)`, `torch.sum(X, dim=0)`, `np.maximum(a, b)`) when that template
  reads back as the op itself, else with its library spelling (`torch.t(W)`, `np.where(...)`),
  else with the language's own name (`sigmoid(x)`: NumPy has none). Which one reads back is found
  by reading it (once per op, options and syntax), so an op added to the registry later prints
  without a change here; `pi` and `e` likewise (`np.pi`, `torch.e`, or `pi`).

Nodes made by `grad(...)` are not printed node by node (their ops are the backward pass's own,
which the language cannot write): in the canonical syntax the program that made them is given
back as it was written; otherwise a `ValueError` says so.
"""

from __future__ import annotations

import functools
import itertools
import keyword
import math
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .engine import Graph, Node
from .errors import GradtraceError
from .ops import CONSTANTS, Op, OpCode, Shape
from .parser import parse

Syntax = Literal["canonical", "latex", "numpy", "torch"]
SYNTAXES: tuple[Syntax, ...] = ("canonical", "latex", "numpy", "torch")

# Precedence levels, loosest first. BIG is LaTeX's \sum, whose argument runs over a product
# written after it: it is parenthesised inside any product.
CMP, SUM, BIG, PROD, NEG, POW, ATOM = 10, 20, 25, 30, 40, 50, 60
_LEVEL = {"+": SUM, "-": SUM, "*": PROD, "/": PROD, "@": PROD, "^": POW,
          ">": CMP, "<": CMP, ">=": CMP, "<=": CMP, "==": CMP, "!=": CMP}


@dataclass(frozen=True, slots=True)
class _Text:
    """A printed expression and how tightly it holds together. `kind`: "name" (a name or a
    constant's name), "number" (a literal that is not negative), "call" (a call or a subscript:
    it can be indexed), "transposed" (LaTeX: `W^{\\top}` of a name), else "other"."""

    text: str
    prec: int
    kind: str = "other"


def number(v: float) -> str:
    """A float64 as a literal of the language that reads back to the same bits: `2` for 2.0,
    otherwise Python's repr; infinity as 1e999 (too large for a float64: it reads as inf)."""
    if math.isnan(v):
        raise ValueError("a NaN constant cannot be written as a number")
    if math.isinf(v):
        return "1e999" if v > 0 else "-1e999"
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(float(v))


def _literal(v: Any, kind: str = "any") -> str:
    """An option's value as the program writes it: `0`, `(0, 1)`, `True`, `'same'`. One axis
    or one whole number alone is written bare (`axis=0`, `stride=2`: they read as the tuple),
    but not a shape (`shape=(2,)`)."""
    if v is None or isinstance(v, bool):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return number(v)
    if isinstance(v, str):
        quote = '"' if "'" in v else "'"
        return f"{quote}{v}{quote}"
    if isinstance(v, tuple | list):
        if kind in ("axes", "ints") and len(v) == 1:
            return _literal(v[0])
        items = [_literal(x) for x in v]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    raise ValueError(f"cannot write the option value {v!r}")


def _index_items(spec: Sequence[Any], arrays: Iterator[str]) -> str:
    """The items of `x[...]` from an index op's `index` attribute (calls.index_spec)."""
    items = []
    for item in spec:
        if item == "array":
            items.append(next(arrays))
        elif item == "...":
            items.append("...")
        elif item is None:
            items.append("None")
        elif isinstance(item, tuple) and item and item[0] == "slice":
            lo, hi, step = ("" if p is None else str(p) for p in item[1:])
            items.append(f"{lo}:{hi}" + (f":{step}" if step else ""))
        else:
            items.append(str(item))
    return ", ".join(items)


# ---------------------------------------------------------------------------------------------
# What becomes a statement, and under which name


@dataclass
class _Plan:
    statements: list[int]  # op nodes written as statements, in the graph's order
    names: dict[int, str]  # node -> its name: inputs, pi/e, statements that assign one
    owner: dict[int, int]  # op node -> the statement it is written in (itself for a statement)
    final: bool  # whether a last bare statement names the output


def _fresh(taken: set[str]) -> Iterator[str]:
    for k in itertools.count(1):
        if f"t{k}" not in taken:
            yield f"t{k}"


def _is_constant(node: Node) -> bool:
    """Whether node is the constant pi or e (not a number the program named `pi = 3`)."""
    return node.kind == "const" and node.name in CONSTANTS and \
        node.const_value == CONSTANTS[node.name]


def _plan(graph: Graph, reserved: set[str]) -> _Plan:
    nodes = graph.nodes
    out = graph.output
    is_stmt = [False] * len(nodes)
    for n in nodes:
        # Ops, and numbers: a named one (`h = 2; h * h` is one node, used twice) is a statement.
        value = n.kind == "op" or (n.kind == "const" and not _is_constant(n))
        setitem = n.op == "setitem" and n.defined is None
        if value and (n.name or setitem or len(n.out_edges) != 1):
            is_stmt[n.index] = True
    for n in nodes:
        # `y[0] = v` names the value it writes into: that value needs a name.
        if n.kind == "op" and n.op == "setitem" and n.defined is None:
            target = nodes[n.args[0]]
            if _is_constant(target):
                raise ValueError("an assignment into an item of a constant cannot be written")
            if target.kind != "input":
                is_stmt[target.index] = True
    statements = [i for i, s in enumerate(is_stmt) if s]
    position = {s: k for k, s in enumerate(statements)}

    # Where each node is used by name, and which statement each inline node is written in.
    last_use: dict[int, int] = {}
    owner: dict[int, int] = {}
    for s in statements:
        owner[s] = s
        stack = list(nodes[s].args)
        while stack:
            a = stack.pop()
            if nodes[a].kind == "input" or _is_constant(nodes[a]) or is_stmt[a]:
                last_use[a] = position[s]
            else:
                owner[a] = s
                stack.extend(nodes[a].args)
    final = not statements or statements[-1] != out
    if final:
        last_use[out] = len(statements)

    taken = {n.name for n in nodes if n.name} | set(graph.inputs) | reserved
    fresh = _fresh(taken)
    names: dict[int, str] = {}
    current: dict[str, int] = {}  # name -> the node it means at this point of the program
    for n in nodes:
        if n.kind == "input" or _is_constant(n):
            assert n.name is not None
            current[n.name] = n.index
            names[n.index] = n.name
    for k, s in enumerate(statements):
        node = nodes[s]
        if node.op == "setitem" and node.defined is None:
            want = names[node.args[0]]
            holder = current.get(want)
            if holder is not None and last_use.get(holder, -1) > k:
                raise ValueError(f"'{want}' is used after '{want}[...] = ...' changed it: an "
                                 "assignment into an item cannot keep the old value")
        elif node.name and node.name not in reserved:
            want = node.name
            holder = current.get(want)
            if holder is not None and holder != s and last_use.get(holder, -1) > k:
                want = next(fresh)  # the name still means another node after this statement
        elif not node.name and not node.out_edges and (s != out or not final):
            continue  # a statement nothing uses, or the output as the last one: written bare
        else:
            want = next(fresh)
        current[want] = s
        names[s] = want
    return _Plan(statements, names, owner, final)


# ---------------------------------------------------------------------------------------------
# The canonical syntax (and what the others share with it)


class _Writer:
    """Writes nodes in the language's own syntax; the other syntaxes change what differs."""

    power = "^"
    separator = "\n"

    def __init__(self, graph: Graph, shapes: Mapping[int, Shape]) -> None:
        self.graph = graph
        self.shapes = shapes

    def reserved(self) -> set[str]:
        """Names a statement may not take, whatever the text calls: the program's own functions
        and the words the language reads as literals."""
        defs = {n.defined.name for n in self.graph.nodes if n.defined is not None}
        return defs | {"True", "False", "None"}

    def paren(self, text: str) -> str:
        return f"({text})"

    def wrap(self, t: _Text, least: int) -> str:
        return t.text if t.prec >= least else self.paren(t.text)

    # -- leaves -----------------------------------------------------------------------------
    def name(self, name: str) -> str:
        return name

    def ref(self, node: Node, name: str) -> _Text:
        if _is_constant(node):
            return self.constant(node)
        return _Text(self.name(name), ATOM, "name")

    def constant(self, node: Node) -> _Text:
        """pi or e (a number constant is `self.number`)."""
        assert node.name is not None
        return _Text(node.name, ATOM, "name")

    def number(self, v: float) -> _Text:
        text = number(v)
        return _Text(text, NEG) if text.startswith("-") else _Text(text, ATOM, "number")

    def leaf(self, node: Node) -> _Text:
        if _is_constant(node):
            return self.constant(node)
        assert node.const_value is not None
        return self.number(node.const_value)

    # -- ops --------------------------------------------------------------------------------
    def op(self, node: Node, args: list[_Text]) -> _Text:
        if node.defined is not None:
            return self.own_call(node, args)
        op = node.operation
        if node.op == "index":
            return self.index(node, args)
        if node.op == "neg":
            return self.neg(args[0])
        if op.operator is not None and len(args) == 2:
            return self.binary(node, op.operator, args[0], args[1])
        if op.internal or not op.named:
            raise ValueError(f"the op '{node.op}' has no written form in the language")
        return self.function(node, op, args)

    def own_call(self, node: Node, args: list[_Text]) -> _Text:
        assert node.defined is not None
        return _Text(f"{node.defined.name}({', '.join(a.text for a in args)})", ATOM, "call")

    def neg(self, a: _Text) -> _Text:
        return _Text("-" + self.wrap(a, POW), NEG)

    def binary(self, node: Node, sym: str, a: _Text, b: _Text) -> _Text:
        level = _LEVEL[sym]
        if sym == "^":
            # Right-associative: the base is an atom, the exponent a power or an atom (a
            # negative exponent is parenthesised: x^(-1)).
            p = f" {self.power} " if self.power != "^" else "^"
            return _Text(f"{self.wrap(a, ATOM)}{p}{self.wrap(b, POW)}", POW)
        # Left-associative; comparisons do not chain, so both sides of one are tighter.
        left = level + 1 if level == CMP else level
        return _Text(f"{self.wrap(a, left)} {sym} {self.wrap(b, level + 1)}", level)

    def index(self, node: Node, args: list[_Text]) -> _Text:
        value = args[0]
        base = value.text if value.kind in ("name", "call") else self.paren(value.text)
        spec = dict(node.attrs).get("index", ())
        items = _index_items(spec, (a.text for a in args[1:]))
        return _Text(f"{base}[{items}]", ATOM, "call")

    def arguments(self, node: Node, op: Op, args: list[_Text]) -> list[str]:
        """A call's arguments: the operands (in a list for an op that takes any number of them,
        as `concat([a, b])`; an optional operand that is a literal by keyword, else it would read
        as an option), then the options that differ from their defaults, by keyword."""
        out: list[str] = []
        if op.max_arity is not None and not op.operand_names:
            out.append("[" + ", ".join(a.text for a in args) + "]")
        else:
            for k, a in enumerate(args):
                if k >= op.arity and op.operand_names and self._literal_operand(node.args[k]):
                    out.append(f"{op.operand_names[k]}={a.text}")
                else:
                    out.append(a.text)
        kinds = {attr.name: "shape" if attr.name == "shape" else attr.kind for attr in op.attrs}
        out += [f"{key}={_literal(v, kinds.get(key, 'any'))}" for key, v in self.options(node, op)]
        return out

    def options(self, node: Node, op: Op) -> list[tuple[str, Any]]:
        """The node's options that differ from the defaults; an option the op reads off its
        operands' shapes (`Op.infer`) is written out, so that the text does not depend on it."""
        pairs = dict(node.attrs)
        if op.infer is not None:
            defaults = {attr.name: attr.read(attr.default) for attr in op.attrs}
            for key in op.infer([self.shapes.get(a) for a in node.args]):
                pairs.setdefault(key, defaults.get(key))
        return [(attr.name, pairs[attr.name]) for attr in op.attrs if attr.name in pairs]

    def _literal_operand(self, i: int) -> bool:
        """Whether node i is written as a literal (a number, or minus one): as a call's
        argument, a literal is read as an option."""
        node = self.graph.nodes[i]
        if node.kind == "const":
            return node.name not in CONSTANTS
        return node.op == "neg" and not node.name and \
            self.graph.nodes[node.args[0]].kind == "const"

    def function(self, node: Node, op: Op, args: list[_Text]) -> _Text:
        return _Text(f"{op.name}({', '.join(self.arguments(node, op, args))})", ATOM, "call")

    # -- statements -------------------------------------------------------------------------
    def statement(self, target: str | None, rhs: _Text, first: bool = True) -> str:
        if target is not None:
            return f"{self.name(target)} = {rhs.text}"
        # A line that starts with an operator continues the statement before it (the reading
        # rules): a bare `-x` after another statement is parenthesised.
        return self.paren(rhs.text) if not first and rhs.text.startswith(("-", "+")) \
            else rhs.text

    def setitem(self, target: str, node: Node, args: list[_Text]) -> str:
        spec = dict(node.attrs).get("index", ())
        items = _index_items(spec, (a.text for a in args[2:]))
        return f"{self.name(target)}[{items}] = {args[1].text}"

    def def_source(self, text: str) -> str:
        return text

    def join(self, lines: list[str]) -> str:
        return self.separator.join(lines)


# ---------------------------------------------------------------------------------------------
# LaTeX

_GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "varpi", "rho", "varrho",
    "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
})
_ACCENTS = frozenset({"hat", "bar"})
# LaTeX spellings that are operators or notation, not a function applied to arguments.
_NOT_FUNCTIONS = frozenset({"\\sum", "\\top", "\\cdot", "\\times", "\\frac", "\\sqrt", "\\lVert",
                            "\\gt", "\\lt", "\\geq", "\\ge", "\\leq", "\\le", "\\neq", "\\ne"})
_LATEX_CMP = {">": ">", "<": "<", ">=": "\\geq", "<=": "\\leq", "!=": "\\neq", "==": "=="}


def latex_name(name: str) -> str:
    """A name as the notes write it: `x_1` -> x_{1}, `y_hat` -> \\hat{y}, `theta` -> \\theta,
    `W1` -> W1, `loss` -> \\mathrm{loss}. A subscript of index letters (`x_i`, `z_ij`) would read
    as the whole tensor, so such a name is written whole: \\mathrm{x\\_i}."""
    if name in _GREEK:
        return "\\" + name
    m = re.fullmatch(r"([A-Za-z]+)_([A-Za-z0-9]+)", name)
    if m:
        head, tail = m.groups()
        if len(head) == 1 or head in _GREEK:
            base = head if len(head) == 1 else "\\" + head
            if tail in _ACCENTS:
                return f"\\{tail}{{{base}}}"
            if not (len(tail) <= 2 and set(tail) <= set("ijklmn")):
                return f"{base}_{{{tail}}}"
    if re.fullmatch(r"[A-Za-z][0-9]*", name):
        return name
    return "\\mathrm{" + name.replace("_", "\\_") + "}"


def latex_command(op: Op) -> str:
    """How LaTeX writes the op applied to arguments: its own command where the registry spells
    it so (`\\exp`, `\\sigma`, `\\max`, `\\log_{10}`), else `\\operatorname{name}`."""
    pure = [s for s in op.spellings.latex
            if s not in _NOT_FUNCTIONS and re.fullmatch(r"\\[A-Za-z]+(_\{\d+\})?", s)]
    own = "\\" + op.name
    if own in pure:
        return own
    if pure:
        return pure[0]
    return "\\operatorname{" + op.name.replace("_", "\\_") + "}"


class _Latex(_Writer):
    separator = " \\\\\n"

    def paren(self, text: str) -> str:
        return f"\\left({text}\\right)"

    def name(self, name: str) -> str:
        return latex_name(name)

    def constant(self, node: Node) -> _Text:
        return _Text("\\pi" if node.name == "pi" else "e", ATOM, "name")

    def _simple(self, t: _Text) -> str:
        """A base of a power or a transpose: a name or a number as it is, else parenthesised."""
        return t.text if t.kind in ("name", "number") else self.paren(t.text)

    def _operand(self, t: _Text, least: int) -> str:
        # A negative operand is parenthesised: `-2x` reads as -(2x), `a \cdot -b` is unclear.
        return self.paren(t.text) if t.prec == NEG or t.prec < least else t.text

    def own_call(self, node: Node, args: list[_Text]) -> _Text:
        assert node.defined is not None
        raise ValueError(f"the def '{node.defined.name}' cannot be written in LaTeX; print the "
                         "program in the canonical syntax, or open its gate")

    def neg(self, a: _Text) -> _Text:
        return _Text("-" + self.wrap(a, POW), NEG)

    def _scalar(self, i: int) -> bool | None:
        """Whether node i is a scalar: True, False, or None where its shape is not known."""
        node = self.graph.nodes[i]
        if node.kind == "const":
            return True
        shape = self.shapes.get(i)
        return None if shape is None else len(shape) == 0

    def binary(self, node: Node, sym: str, a: _Text, b: _Text) -> _Text:
        if sym == "/":
            return _Text(f"\\frac{{{a.text}}}{{{b.text}}}", ATOM)
        if sym == "^":
            return _Text(f"{self._simple(a)}^{{{b.text}}}", POW)
        level = _LEVEL[sym]
        if level == CMP:
            return _Text(f"{self.wrap(a, CMP + 1)} {_LATEX_CMP[sym]} {self.wrap(b, CMP + 1)}", CMP)
        left, right = self._operand(a, level), self._operand(b, level + 1)
        if sym in "+-":
            left = self.wrap(a, level)  # -a + b is clear
            return _Text(f"{left} {sym} {right}", level)
        if sym == "@":
            # The product of two tensors is the matrix product: `W x` between names.
            if a.kind in ("name", "transposed") and b.kind == "name" \
                    and not a.text.startswith("\\"):
                return _Text(f"{left} {right}", PROD)
            return _Text(f"{left} \\times {right}", PROD)
        scalars = (self._scalar(node.args[0]), self._scalar(node.args[1]))
        times = "\\odot" if scalars == (False, False) else "\\cdot"
        return _Text(f"{left} {times} {right}", PROD)

    def index(self, node: Node, args: list[_Text]) -> _Text:
        value = args[0]
        base = value.text if value.kind == "name" else self.paren(value.text)
        spec = dict(node.attrs).get("index", ())
        items = _index_items(spec, (a.text for a in args[1:]))
        return _Text(f"{base}[{items}]", ATOM)

    def function(self, node: Node, op: Op, args: list[_Text]) -> _Text:
        options = self.options(node, op)
        if node.op == "sqrt":
            return _Text(f"\\sqrt{{{args[0].text}}}", ATOM)
        if node.op == "transpose":
            kind = "transposed" if args[0].kind == "name" else "other"
            return _Text(f"{self._simple(args[0])}^{{\\top}}", POW, kind)
        if node.op == "sum" and not options:
            return _Text(f"\\sum{self.paren(args[0].text)}", BIG)
        inside = ", ".join(self.arguments(node, op, args))
        return _Text(f"{latex_command(op)}{self.paren(inside)}", ATOM)

    def def_source(self, text: str) -> str:
        raise ValueError("a def cannot be written in LaTeX")


# ---------------------------------------------------------------------------------------------
# NumPy and PyTorch

# How the libraries spell pi and e, best first; the first that reads back as the constant is
# written (`pi` always does).
_CONSTANT_SPELLINGS = {
    "numpy": {"pi": ("np.pi", "math.pi", "pi"), "e": ("np.e", "math.e", "e")},
    "torch": {"pi": ("torch.pi", "math.pi", "pi"), "e": ("torch.e", "math.e", "e")},
}
_SHORT = (("numpy.", "np."), ("torch.nn.functional.", "F."))
_MARK = re.compile("\x00([0-9]+)\x00")

Make = Callable[[Sequence[str]], str]


def _short(text: str) -> str:
    """`numpy.exp` -> `np.exp`, `torch.nn.functional.relu` -> `F.relu`."""
    for full, short in _SHORT:
        text = re.sub(rf"(?<![\w.]){re.escape(full)}", short, text)
    return text


def _one_call(text: str) -> bool:
    """Whether `text` is one call, `f(...)`, its first parenthesis closing at the end."""
    m = re.match(r"[A-Za-z_][\w.]*\(", text)
    if not m:
        return False
    depth = 0
    for i in range(m.end() - 1, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i == len(text) - 1
    return False


def _bare(before: str, after: str) -> bool:
    """Whether an operand standing between `before` and `after` is a whole argument (needs no
    parentheses whatever it is)."""
    b, a = before.rstrip(" "), after.lstrip(" ")
    opens = b.endswith(("(", "[", ",")) or (b.endswith("=") and not b.endswith(
        ("==", "!=", "<=", ">=")))
    return opens and a.startswith((")", "]", ","))


def _fake(shape: Shape | None) -> object:
    """A value of `shape` for reading a probe (only its shape is looked at)."""
    value: object = 1.0
    for n in reversed(shape or ()):
        value = [value] * n
    return value


_PROBES: dict[tuple[Any, ...], Make] = {}
_CONSTANTS_READ: dict[tuple[str, str], str] = {}


def _reads_as(text: str, node: Node, shapes: Sequence[Shape | None]) -> bool:
    """Whether `text`, in the operands a0, a1, ..., reads back as one node of `node`'s op with
    its options, on those operands in order."""
    from .analysis import compile_program  # late: analysis imports most of the package
    from .settings import get_settings

    given = {f"a{k}": _fake(s) for k, s in enumerate(shapes) if s is not None}
    try:
        _, g = compile_program(text, given, get_settings())
    except (GradtraceError, ValueError, KeyError, IndexError, TypeError, AssertionError):
        return False
    top = g.nodes[g.output]
    operands = [g.nodes[a] for a in top.args]
    return (len(g.nodes) == len(shapes) + 1 and top.kind == "op" and top.op == node.op
            and top.defined is None and top.attrs == node.attrs
            and [o.kind for o in operands] == ["input"] * len(shapes)
            and [o.name for o in operands] == [f"a{k}" for k in range(len(shapes))])


class _Python(_Writer):
    power = "**"

    def __init__(self, graph: Graph, shapes: Mapping[int, Shape], lang: str) -> None:
        super().__init__(graph, shapes)
        self.lang = lang

    def reserved(self) -> set[str]:
        return super().reserved() | set(keyword.kwlist)

    def constant(self, node: Node) -> _Text:
        assert node.name is not None
        key = (self.lang, node.name)
        if key not in _CONSTANTS_READ:
            from .analysis import compile_program
            from .settings import get_settings

            for text in _CONSTANT_SPELLINGS[self.lang][node.name]:
                try:
                    _, g = compile_program(text, {}, get_settings())
                except (GradtraceError, ValueError):
                    continue
                top = g.nodes[g.output]
                if top.kind == "const" and top.const_value == CONSTANTS[node.name]:
                    _CONSTANTS_READ[key] = text
                    break
            else:
                _CONSTANTS_READ[key] = node.name
        return _Text(_CONSTANTS_READ[key], ATOM, "name")

    def candidates(self, node: Node, op: Op, n: int) -> Iterator[Make]:
        """The ways to write the op, best first: its code template, its library spellings, the
        language's own call."""
        code = op.code
        if code is not None:
            yield functools.partial(self._template, code)
        spellings = op.spellings.numpy if self.lang == "numpy" else op.spellings.torch
        for func in (*(_short(s) for s in spellings), op.name):
            yield functools.partial(self._call, func, node, op)

    def _template(self, code: OpCode, refs: Sequence[str]) -> str:
        return _short(code.forward(self.lang, refs))

    def _call(self, func: str, node: Node, op: Op, refs: Sequence[str]) -> str:
        args = [_Text(r, ATOM, "name") for r in refs]
        return f"{func}({', '.join(self.arguments(node, op, args))})"

    def function(self, node: Node, op: Op, args: list[_Text]) -> _Text:
        shapes = [self.shapes.get(a) for a in node.args]
        key = (self.lang, node.op, node.attrs, len(args),
               tuple(shapes) if op.infer is not None else None,
               tuple(self._literal_operand(a) for a in node.args))
        make = _PROBES.get(key)
        if make is None:
            probe_shapes = shapes if op.infer is not None else [None] * len(args)
            for candidate in self.candidates(node, op, len(args)):
                try:
                    text = candidate([f"a{k}" for k in range(len(args))])
                except (IndexError, KeyError, ValueError, TypeError):
                    continue
                if _reads_as(text, node, probe_shapes):
                    make = candidate
                    break
            if make is None:
                raise ValueError(f"no way to write the op '{node.op}' in {self.lang} was found "
                                 "that reads back as it")
            if len(_PROBES) < 4096:
                _PROBES[key] = make
        return self._fill(make, args)

    def _fill(self, make: Make, args: list[_Text]) -> _Text:
        """The template with the operands in place, each parenthesised unless it is a whole
        argument or an atom."""
        skeleton = make([f"\x00{k}\x00" for k in range(len(args))])

        def put(m: re.Match[str]) -> str:
            a = args[int(m.group(1))]
            bare = _bare(skeleton[:m.start()], skeleton[m.end():])
            return a.text if bare or a.prec >= ATOM else self.paren(a.text)

        text = _MARK.sub(put, skeleton)
        return _Text(text, ATOM, "call") if _one_call(skeleton) else _Text(text, 0)


def _writer(syntax: str, graph: Graph, shapes: Mapping[int, Shape]) -> _Writer:
    if syntax == "canonical":
        return _Writer(graph, shapes)
    if syntax == "latex":
        return _Latex(graph, shapes)
    return _Python(graph, shapes, syntax)


# ---------------------------------------------------------------------------------------------
# The program's own functions


def _def_sources(graph: Graph) -> list[tuple[str, int, str]]:
    """Each `def` of the source: (name, where it starts, its text dedented)."""
    src = graph.source
    found: list[tuple[str, int, int]] = []
    try:
        program = parse(src)
        found = [(st.function.name, st.function.start, st.function.end)
                 for st in program.statements if st.function is not None]
    except GradtraceError:
        # Not the canonical syntax: a def runs from its line to the last line indented more.
        lines = src.splitlines(keepends=True)
        offsets = list(itertools.accumulate((len(line) for line in lines), initial=0))
        for k, line in enumerate(lines):
            m = re.match(r"([ \t]*)def\s+([A-Za-z_]\w*)\s*\(", line)
            if not m:
                continue
            indent, end = len(m.group(1)), k + 1
            while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(
                    lines[end].lstrip(" \t")) > indent):
                end += 1
            found.append((m.group(2), offsets[k] + indent, offsets[end]))
    out = []
    for name, start, end in found:
        line_start = src.rfind("\n", 0, start) + 1
        if src[line_start:start].strip():
            line_start = start  # `x = 1; def f(u): ...`: from the def on
        text = textwrap.dedent(src[line_start:end]).strip()
        out.append((name, start, "\n".join(line.rstrip() for line in text.splitlines())))
    return out


def _defs_for(name: str, at: int, sources: list[tuple[str, int, str]], done: set[str]
              ) -> list[str]:
    """The source of def `name` (the last one before position `at`) after those of the defs it
    calls, leaving out those in `done` (and adding the new ones to it)."""
    if name in done:
        return []
    before = [s for s in sources if s[0] == name and s[1] <= at] or \
        [s for s in sources if s[0] == name]
    if not before:
        raise ValueError(f"the source of def '{name}' is not in the graph's source")
    _, start, text = before[-1]
    done.add(name)
    out: list[str] = []
    for other, other_start, _ in sources:
        if other_start < start and other not in done and re.search(
                rf"(?<![\w.]){re.escape(other)}\s*\(", text):
            out += _defs_for(other, start, sources, done)
    return [*out, text]


# ---------------------------------------------------------------------------------------------
# The program


def program_text(graph: Graph, syntax: str = "canonical",
                 shapes: Mapping[int, Shape] | None = None) -> str:
    """The program of `graph` in `syntax` ("canonical", "latex", "numpy" or "torch"): reading it
    back gives the same graph. `shapes`: node index -> shape where the values are known (LaTeX
    writes the elementwise product of two tensors as `\\odot`, of a scalar as `\\cdot`). Raises
    `ValueError` for what the syntax cannot write (a def in LaTeX, an op only gradient graphs
    use, the nodes of grad(...) outside the canonical syntax)."""
    if syntax not in SYNTAXES:
        raise ValueError(f"unknown syntax {syntax!r}: give one of {', '.join(SYNTAXES)}")
    if any(n.origin == "grad" for n in graph.nodes):
        return _grad_program(graph, syntax)
    writer = _writer(syntax, graph, shapes or {})
    reserved = writer.reserved()
    plan = _plan(graph, reserved)
    lines, called = _render(graph, writer, plan)
    # A statement named as a function or module the text calls (`sum = a + b` before `sum(X)`,
    # `np = ...` before `np.exp(x)`) would hide it: such names are replaced, and all written again.
    hidden = {name for i, name in plan.names.items()
              if graph.nodes[i].kind == "op" and name in called}
    if hidden:
        plan = _plan(graph, reserved | called)
        lines, _ = _render(graph, writer, plan)
    return writer.join(lines)


def _made_by(graph: Graph, s: int, statements: set[int], created: set[int]) -> list[int]:
    """The nodes that reading statement s makes, in the order it makes them: its expression's,
    children first; an input or pi/e where it is first named (not yet in `created`)."""
    nodes = graph.nodes
    made: list[int] = []
    seen: set[int] = set()
    stack: list[tuple[int, bool]] = [(s, False)]
    while stack:
        i, done = stack.pop()
        node = nodes[i]
        if done:
            made.append(i)
            continue
        if i != s and (node.kind == "input" or _is_constant(node) or i in statements):
            if i not in seen and i not in created and node.kind != "op":
                seen.add(i)
                made.append(i)
            continue
        stack.append((i, True))
        args = list(node.args)
        if node.op == "setitem" and node.defined is None:
            args = [*args[1:], args[0]]  # `y[k] = v`: v, then the index, then y
        stack.extend((a, False) for a in reversed(args))
    return made


# A name called (`sum(`) or used as a module (`np.`): not after a dot or a backslash (LaTeX).
_CALLED = re.compile(r"(?<![\\\w.])([A-Za-z_]\w*)\s*[(.]")


def _render(graph: Graph, writer: _Writer, plan: _Plan) -> tuple[list[str], set[str]]:
    """The statements of the program, and the names its expressions call."""
    nodes = graph.nodes
    statement_set = set(plan.statements)

    def text_of(i: int) -> _Text:
        node = nodes[i]
        if node.kind == "input" or i in statement_set:
            return writer.ref(node, plan.names.get(i, ""))
        if node.kind == "const":
            return writer.leaf(node)
        return inline[i]

    inline: dict[int, _Text] = {}
    called: set[str] = set()
    for node in nodes:
        if node.kind == "const" and node.index in statement_set:
            inline[node.index] = writer.leaf(node)
        elif node.kind == "op" and not (node.op == "setitem" and node.defined is None):
            inline[node.index] = writer.op(node, [text_of(a) for a in node.args])

    # The def calls of each statement: their source is written before it.
    calls: dict[int, list[Node]] = {}
    for node in nodes:
        if node.defined is not None:
            calls.setdefault(plan.owner[node.index], []).append(node)
    sources = _def_sources(graph) if calls else []
    done: set[str] = set()
    lines: list[str] = []
    created: set[int] = set()

    def declare(i: int) -> None:
        """Inputs, pi and e are made where first named. One the program named before (in a
        statement that made no node, `h = x`) is named here, bare, to keep its place."""
        created.add(i)
        lines.append(writer.statement(None, writer.ref(nodes[i], plan.names[i]), not lines))

    def declarable(i: int) -> bool:
        return i not in created and (nodes[i].kind == "input" or _is_constant(nodes[i]))

    low = 0  # every node below it is made
    for s in plan.statements:
        made = _made_by(graph, s, statement_set, created)
        while made:
            while low in created:
                low += 1
            if low == made[0] or not declarable(low):
                break
            declare(low)
            made = _made_by(graph, s, statement_set, created)
        created.update(made)
        for call in calls.get(s, []):
            assert call.defined is not None
            lines += [writer.def_source(t)
                      for t in _defs_for(call.defined.name, call.start, sources, done)]
        node = nodes[s]
        if node.op == "setitem" and node.defined is None:
            lines.append(writer.setitem(plan.names[s], node, [text_of(a) for a in node.args]))
        else:
            lines.append(writer.statement(plan.names.get(s), inline[s], not lines))
    # The rest (named last by statements that made no node), then the output, named last
    # (also when it is a statement already: the declarations came after it).
    before = len(lines)
    out = graph.output
    rest = [i for i in range(len(nodes)) if declarable(i)]
    if plan.final and out in rest and rest[-1] == out:
        rest.pop()  # the last statement names the output: that makes it
    for i in rest:
        declare(i)
    if plan.final or len(lines) > before:
        lines.append(writer.statement(None, text_of(graph.output), not lines))
    for line in lines:  # every inline text is in a statement's
        called.update(_CALLED.findall(line))
    return lines, called


def _grad_program(graph: Graph, syntax: str) -> str:
    """A graph with the nodes of grad(...): the program that made it, as it was written (in the
    canonical syntax, when the source is that)."""
    if syntax == "canonical":
        try:
            parse(graph.source)
        except GradtraceError:
            pass
        else:
            return textwrap.dedent(graph.source).strip()
    raise ValueError(f"the nodes made by grad(...) cannot be written in the {syntax} syntax: "
                     "they are the backward pass's own ops")


__all__ = ["SYNTAXES", "Syntax", "latex_command", "latex_name", "number", "program_text"]
