"""A `def` of the program as an op: a composite made of the ops its body writes.

`def f(x, w=3): h = x * w; return sigmoid(h)` makes an op `f` whose composition replays the body
on a `Builder` (ops.core): each call `f(a, b)` then draws as one gate, with its own local
derivative (the VJP of its body, as for any composite), and opens into the body's nodes
(gates.py), with the same gradients either way. Parameters with a default (`w=3`, a number) may
be left out of a call. The body may use its parameters, the names it assigns, the constants `pi`
and `e`, every function of the language and the functions defined before it (their bodies are
written in place: only the outer call is a gate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .calls import SHAPES, Split, index_spec, inferred, op_name, plan, product, split, static
from .errors import GradtraceError
from .ops import CONSTANTS, REGISTRY, Builder, Op, composite, tex_name
from .parser import (
    Binary,
    Call,
    Expr,
    FunctionDef,
    Name,
    Num,
    Str,
    Subscript,
    Tuple,
    Unary,
)

_ONES = (1,) * 8  # a stand-in shape, where only which ops a body makes is asked


def _defaults(f: FunctionDef) -> list[float | None]:
    out: list[float | None] = []
    for p in f.params:
        if p.default is None:
            if any(v is not None for v in out):
                raise GradtraceError("syntax", f"the parameter '{p.name}' needs a default value, "
                                     "as the ones before it have", p.start, p.end)
            out.append(None)
            continue
        v = static(p.default)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise GradtraceError("value", f"the default of '{p.name}' is a number, as in "
                                 f"{p.name}=3", p.default.start, p.default.end)
        out.append(float(v))
    return out


class _Body:
    """Writes a def's body with a Builder: the composition of its op."""

    def __init__(self, f: FunctionDef, functions: Mapping[str, _Body]) -> None:
        self.f = f
        self.functions = dict(functions)
        self.defaults = _defaults(f)

    def compose(self, b: Builder, args: Sequence[int]) -> int:
        env: dict[str, int] = {}
        for k, p in enumerate(self.f.params):
            if k < len(args):
                env[p.name] = args[k]
            else:
                default = self.defaults[k]
                assert default is not None  # the call's arity was checked
                env[p.name] = b.const(default)
        for stmt in self.f.body:
            value = self.expr(b, stmt.expr, env)
            assert stmt.target is not None or stmt.target_items is None
            if stmt.target is None:
                continue
            if stmt.target_items is not None:
                spec, arrays = index_spec(stmt.target_items, "an index")
                old = self.name(b, Name(stmt.target, stmt.start, stmt.target_end), env)
                value = b.op("setitem", old, value, *(self.expr(b, a, env) for a in arrays),
                             index=spec)
            env[stmt.target] = value
        return self.expr(b, self.f.result, env)

    def name(self, b: Builder, e: Name, env: Mapping[str, int]) -> int:
        if e.id in env:
            return env[e.id]
        if e.id in CONSTANTS:
            return b.const(CONSTANTS[e.id])
        if e.id in ("True", "False"):
            return b.const(1.0 if e.id == "True" else 0.0)
        raise GradtraceError("name", f"'{e.id}' is not known inside {self.f.name}: a function "
                             "uses its parameters and the names it assigns (give it as a "
                             "parameter)", e.start, e.end)

    def expr(self, b: Builder, root: Expr, env: Mapping[str, int]) -> int:
        made: dict[int, int] = {}

        def call_op(e: Call) -> tuple[str, Split] | None:
            if e.func in self.functions:  # an earlier def: its arguments are all operands
                return None
            name = op_name(e, e.func in env)
            if name is None or e.func == "grad":
                raise GradtraceError("function", f"unknown function '{e.func}' inside "
                                     f"{self.f.name}", e.start, e.name_end)
            return name, split(REGISTRY[name], e, e.func)

        def shape_of(e: Expr) -> Any:
            if not isinstance(e, Name) or e.id not in env:
                return None
            if not getattr(b, "shapes_known", True):
                return _ONES  # which ops the body is made of does not depend on the numbers
            return b.shape(env[e.id])

        token = SHAPES.set(shape_of)
        try:
            read = plan(root, call_op)
        finally:
            SHAPES.reset(token)
        for e in read.order:
            if id(e) in read.dims:
                made[id(e)] = b.const(float(read.dims[id(e)]))
            elif isinstance(e, Num):
                made[id(e)] = b.const(e.value)
            elif isinstance(e, Name):
                made[id(e)] = self.name(b, e, env)
            elif isinstance(e, Unary):
                made[id(e)] = b.op("neg", made[id(e.operand)])
            elif isinstance(e, Binary):
                left, right = made[id(e.left)], made[id(e.right)]
                made[id(e)] = b.op(product(e.op, b.shape(left), b.shape(right)), left, right)
            elif isinstance(e, Str | Tuple):
                raise GradtraceError("value", "a word in quotes or a tuple is an option's value, "
                                     "not a number", e.start, e.end)
            elif isinstance(e, Subscript):
                spec, arrays = read.indexes[id(e)]
                made[id(e)] = b.op("index", made[id(e.value)], *(made[id(a)] for a in arrays),
                                   index=spec)
            else:
                assert isinstance(e, Call)
                if e.func in self.functions:  # an earlier def: written in place
                    inner = self.functions[e.func]
                    args = [made[id(a)] for a in e.args]
                    inner.check_arity(e, len(args))
                    made[id(e)] = inner.compose(b, args)
                    continue
                name, found = read.calls[id(e)]
                operands = [made[id(a)] for a in found.operands]
                made[id(e)] = b.op(name, *operands,
                                   **inferred(name, found.attrs, [b.shape(a) for a in operands]))
        return made[id(root)]

    def check_arity(self, e: Call, given: int) -> None:
        least = sum(1 for d in self.defaults if d is None)
        most = len(self.defaults)
        if e.keywords or not least <= given <= most:
            count = f"{least}" if least == most else f"{least} to {most}"
            raise GradtraceError("arity", f"{self.f.name} takes {count} arguments, got "
                                 f"{given + len(e.keywords)}", e.start, e.end)


def define(f: FunctionDef, functions: Mapping[str, _Body]) -> tuple[Op, _Body]:
    """The op of a def, and its body (for the defs after it)."""
    if f.name == "grad":
        raise GradtraceError("name", "'grad' is a function of the language already: give "
                             "yours another name", f.start, f.name_end)
    body = _Body(f, functions)
    least = sum(1 for d in body.defaults if d is None)
    names = [p.name for p in f.params]
    symbols = [tex_name(n) for n in names]
    fn = tex_name(f.name)

    def local(k: int) -> Any:
        return lambda s: f"\\frac{{\\partial {fn}}}{{\\partial {symbols[k]}}}"

    def rule(k: int) -> Any:
        return lambda s, z: (f"d{s[k]} = \\left(\\frac{{\\partial {fn}}}{{\\partial "
                             f"{symbols[k]}}}\\right)^{{\\top}} d{z}")

    op = composite(
        f.name, least, f.name, body.compose,
        tex=lambda s: f"{fn}({', '.join(s)})",
        local_tex=tuple(local(k) for k in range(len(names))),
        vjp_tex=tuple(rule(k) for k in range(len(names))),
        max_arity=len(names) if len(names) > least else None,
        elementwise=False,
        doc=f"def {f.name}({', '.join(names)}), defined in the program.",
    )
    return op, body
