"""The op registry: one entry per op, its forward rule beside its backward rule.

Each `Op` holds, in one place:
- `shape`: the output shape from the operand shapes, or a `ShapeError` in words a student reads;
- `forward`: NumPy float64 on the operand values;
- `vjp`: the vector-Jacobian product. Given the upstream gradient `g` (shape of the output), the
  operands and the output, it returns one downstream gradient per operand. No dense Jacobian is
  ever formed; an elementwise op's VJP may return a broadcast shape, which the engine sums back
  to the operand's shape (`unbroadcast`);
- `jvp`: the Jacobian-vector product (forward mode). Given the operands' tangents (None where an
  operand has none, e.g. a constant), the operands and the output, it returns the output's
  tangent, of the output's shape (operand tangents broadcast as the forward broadcasts operands).
  It is the exact transpose of `vjp`, masks included, so <g, J t> = <J^T g, t> and a scalar edge
  shows the same local derivative in both modes;
- `tex` / `local_tex` / `vjp_tex`: how the op is written, the local derivative of each operand
  (`d(a b)/da = b`), and for tensor edges the VJP rule (`dA = dZ B^T`), all in LaTeX, in terms of
  symbols the trace chooses for the operands;
- `gate`: the gate pattern of the lecture notes where the op has one.

Adding an op is one `_register(Op(...))` here; graph building finds it by name (`FUNCTIONS`), and
the parametrized tests in tests/test_ops.py pick it up.

At kinks the derivative follows PyTorch, in both modes: relu'(0) = 0, abs'(0) = 0, and max/min
split the gradient (or tangent) evenly between tied operands; for pow the masks of PyTorch's
pow_backward apply (its forward-mode rule uses the same functions). One deliberate difference: with
a NaN operand of max/min, PyTorch's forward mode passes only the second operand's tangent while its
backward passes the gradient to both; here the JVP is the transpose of the VJP (both tangents).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
Shape = tuple[int, ...]
Syms = Sequence[str]


class ShapeError(ValueError):
    """Operand shapes an op cannot take; the message is shown to the user as it is."""


def fmt_shape(shape: Shape) -> str:
    if shape == ():
        return "scalar"
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(d) for d in shape) + ")"


GATE_TEXT = {
    "distributes": "An add gate distributes: every input receives the upstream gradient unchanged.",
    "swaps": "A multiply gate swaps: each input's gradient is the upstream gradient times the "
    "other input's value.",
    "routes": "A max gate routes: the whole upstream gradient goes to the larger input (split "
    "evenly on a tie), the other input gets zero.",
    "sums": "A copy gate sums: a value used several times receives the sum of the gradients "
    "coming back along each use.",
}


@dataclass(frozen=True)
class CodeArgs:
    """What a backward template of the generated code is written in: the operands as code (a
    name, or a literal for a constant), the op's output, the upstream gradient `g`, and the static
    shapes (the generator knows every node's shape)."""

    args: tuple[str, ...]
    out: str
    g: str
    shapes: tuple[Shape, ...]
    out_shape: Shape

    def number(self, i: int) -> float | None:
        """Operand `i` as a number where it is a literal constant (None for a name)."""
        try:
            return float(self.args[i].strip("()"))
        except ValueError:
            return None


# A downstream-gradient template: a format string in the operands `{0}`, `{1}`, the output
# `{out}` and the upstream gradient `{g}`, or a function of the `CodeArgs`.
GradCode = str | Callable[[CodeArgs], str]


@dataclass(frozen=True)
class OpCode:
    """How the generated Python files write an op (codegen.py).

    `numpy` / `torch`: the forward expression in the operands `{0}`, `{1}`. `backward`: per
    operand, the NumPy expression of the downstream gradient, "local derivative times upstream"
    for elementwise ops (the generator sums it back over broadcast axes where the forward
    broadcast) and the VJP for tensor ops; it must equal the op's `vjp`, masks included, so that
    the file prints the engine's numbers. `tangent`: per operand, its part of the output's
    tangent in forward mode, `{g}` being the operand's tangent (the op's `jvp`); None where it
    is `backward` itself: elementwise ops (local derivative times the tangent) and ops whose
    Jacobian is symmetric or a permutation. `numpy_helper` / `torch_helper`: functions the
    expressions call, written into the file when the op is used."""

    numpy: str
    torch: str
    backward: tuple[GradCode, ...]
    tangent: tuple[GradCode, ...] | None = None
    numpy_helper: str = ""
    torch_helper: str = ""


# ---------------------------------------------------------------------------------------------
# Generated code: what the ops below need beyond one-line templates


def _div_code_numerator(c: CodeArgs) -> str:
    # 1/b times the upstream; a literal divisor 0 as a float64, so that 1/0 is inf as in the
    # engine (Python's 1 / 0.0 raises).
    b = f"np.float64({c.args[1]})" if c.number(1) == 0.0 else c.args[1]
    return f"1 / {b} * {c.g}"


def _pow_code_base(c: CodeArgs) -> str:
    # PyTorch's pow_backward_self: zero where the exponent is 0; a literal exponent other than 0
    # makes the mask always false, and the line reads as in the notes.
    a, b = c.args
    b_num = c.number(1)
    if b_num is not None and b_num != 0.0:
        return f"{b} * {a} ** {b_num - 1.0!r} * {c.g}"
    return f"np.where({b} == 0, 0.0, {b} * {a} ** ({b} - 1) * {c.g})"


def _pow_code_exponent(c: CodeArgs) -> str:
    # PyTorch's pow_backward_exponent: zero where the base is 0 and the exponent >= 0.
    a, b = c.args
    a_num = c.number(0)
    if a_num is not None and a_num != 0.0:
        return f"{c.out} * np.log({a}) * {c.g}"
    return f"np.where(({a} == 0) & ({b} >= 0), 0.0, {c.out} * np.log({a}) * {c.g})"


def _softmax_code(c: CodeArgs) -> str:
    # g J = s * (g - <g, s>) along the last axis; a scalar's softmax is the constant 1.
    if c.out_shape == ():
        return f"np.zeros_like({c.g})"
    return f"{c.out} * ({c.g} - np.sum({c.g} * {c.out}, axis=-1, keepdims=True))"


def _matmul_code(i: int) -> Callable[[CodeArgs], str]:
    # dA = dZ B^T, dB = A^T dZ; for a vector operand the outer product takes the place of the
    # matrix product; batched operands go through a helper that sums broadcast batches back.
    def code(c: CodeArgs) -> str:
        a, b = c.args
        ra, rb = len(c.shapes[0]), len(c.shapes[1])
        if (ra, rb) == (2, 2):
            return f"{c.g} @ {b}.T" if i == 0 else f"{a}.T @ {c.g}"
        if (ra, rb) == (1, 1):
            return f"{c.g} * {b}" if i == 0 else f"{c.g} * {a}"
        if (ra, rb) == (2, 1):
            return f"np.outer({c.g}, {b})" if i == 0 else f"{a}.T @ {c.g}"
        if (ra, rb) == (1, 2):
            return f"{b} @ {c.g}" if i == 0 else f"np.outer({a}, {c.g})"
        return f"matmul_grads({c.g}, {a}, {b})[{i}]"

    return code


_SOFTMAX_NUMPY = '''
def softmax(x):
    """Along the last axis, shifted by the row's maximum so that exp cannot overflow."""
    if np.ndim(x) == 0:
        return np.ones_like(x)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''

_MATMUL_NUMPY = '''
def matmul_grads(g, a, b):
    """dA = dZ B^T and dB = A^T dZ for vectors (promoted to matrices as np.matmul does) and
    batches (summed back over the batch axes that broadcasting added or stretched)."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    g2 = np.reshape(g, (*batch, a2.shape[-2], b2.shape[-1]))
    da = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape)
    db = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape)
    return np.reshape(da, a.shape), np.reshape(db, b.shape)
'''

_CONV2D_NUMPY = '''
def conv2d(x, w):
    """Cross-correlation, stride 1, no padding (tf.nn.conv2d, VALID):
    out[i, j] = sum_pq x[i+p, j+q] w[p, q]; an NHWC input with an HWIO kernel sums over the
    input channels too."""
    if x.ndim == 2:
        return conv2d(x[None, :, :, None], w[:, :, None, None])[0, :, :, 0]
    kh, kw = w.shape[:2]
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for p in range(kh):
        for q in range(kw):
            out += x[:, p:p + oh, q:q + ow, :] @ w[p, q]
    return out


def conv2d_grad_x(g, x, w):
    """dX[i+p, j+q] += dZ[i, j] w[p, q]: a full convolution of dZ with the flipped kernel."""
    if x.ndim == 2:
        return conv2d_grad_x(g[None, :, :, None], x[None, :, :, None],
                             w[:, :, None, None])[0, :, :, 0]
    dx = np.zeros_like(x)
    kh, kw = w.shape[:2]
    oh, ow = g.shape[1:3]
    for p in range(kh):
        for q in range(kw):
            dx[:, p:p + oh, q:q + ow, :] += g @ w[p, q].T
    return dx


def conv2d_grad_w(g, x, w):
    """dW[p, q] = sum_ij x[i+p, j+q] dZ[i, j]: a correlation of the input with dZ."""
    if x.ndim == 2:
        return conv2d_grad_w(g[None, :, :, None], x[None, :, :, None],
                             w[:, :, None, None])[:, :, 0, 0]
    dw = np.zeros_like(w)
    kh, kw = w.shape[:2]
    oh, ow = g.shape[1:3]
    for p in range(kh):
        for q in range(kw):
            dw[p, q] = np.tensordot(x[:, p:p + oh, q:q + ow, :], g, axes=([0, 1, 2], [0, 1, 2]))
    return dw
'''

_CONV2D_TORCH = '''
def conv2d(x, w):
    """tf.nn.conv2d (VALID) in PyTorch's layout: NHWC -> NCHW and HWIO -> OIHW, and back."""
    if x.ndim == 2:
        return torch.nn.functional.conv2d(x[None, None], w[None, None])[0, 0]
    out = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1))
    return out.permute(0, 2, 3, 1)
'''


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    symbol: str  # drawn in the node
    shape: Callable[[Sequence[Shape]], Shape]
    forward: Callable[..., Array]
    vjp: Callable[[Array, Sequence[Array], Array], Sequence[Array]]
    # Required: an op cannot land without its forward-mode rule.
    jvp: Callable[[Sequence[Array | None], Sequence[Array], Array], Array]
    tex: Callable[[Syms], str]
    local_tex: tuple[Callable[[Syms], str], ...]
    vjp_tex: tuple[Callable[[Syms, str], str], ...] | None = None
    gate: str | None = None
    elementwise: bool = True
    doc: str = field(default="")
    # What a pass costs beyond its output, for ops where that can be far more: (multiply-adds,
    # elements of the largest intermediate). The engine refuses past the settings' limits.
    cost: Callable[[Sequence[Shape]], tuple[int, int]] | None = None
    # The code the generated NumPy/PyTorch files write for the op (codegen.py). Every op of the
    # language has it (tests/test_ops.py checks each); the internal ops of `grad` graphs do not
    # yet, and the generator refuses their graphs with a 4xx.
    code: OpCode | None = None


REGISTRY: dict[str, Op] = {}


def _register(op: Op) -> Op:
    assert op.name not in REGISTRY, op.name
    assert len(op.local_tex) == op.arity, op.name
    assert op.code is None or len(op.code.backward) == op.arity, op.name
    REGISTRY[op.name] = op
    return op


# ---------------------------------------------------------------------------------------------
# Shape rules


def _same(shapes: Sequence[Shape]) -> Shape:
    return shapes[0]


def _broadcast(symbol: str) -> Callable[[Sequence[Shape]], Shape]:
    def rule(shapes: Sequence[Shape]) -> Shape:
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            a, b = (fmt_shape(s) for s in shapes)
            raise ShapeError(
                f"'{symbol}' cannot combine shapes {a} and {b}: they do not broadcast (each axis, "
                "counted from the right, must be equal or 1)"
            ) from None

    return rule


def _scalar(shapes: Sequence[Shape]) -> Shape:
    return ()


def unbroadcast(g: Array, shape: Shape) -> Array:
    """Sum a gradient back over the axes that broadcasting added or stretched."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


OperandTangents = Sequence[Array | None]


def _total(out: Array, *terms: Array | None) -> Array:
    """The sum of the terms that are there, broadcast to the output's shape (zeros if none)."""
    acc: Array | None = None
    for t in terms:
        if t is not None:
            acc = t if acc is None else acc + t
    if acc is None:
        return np.zeros(out.shape)
    return np.asarray(np.broadcast_to(acc, out.shape), dtype=np.float64).copy()


# ---------------------------------------------------------------------------------------------
# Elementwise binary ops


def _add_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    return g, g


def _add_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return _total(out, t[0], t[1])


_register(Op(
    "add", 2, "+", _broadcast("+"), np.add, _add_vjp, jvp=_add_jvp,
    tex=lambda s: f"{s[0]} + {s[1]}",
    local_tex=(lambda s: "1", lambda s: "1"),
    gate="distributes",
    code=OpCode("{0} + {1}", "{0} + {1}", ("1 * {g}", "1 * {g}")),
))


def _sub_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    return g, -g


def _sub_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return _total(out, t[0], None if t[1] is None else -t[1])


_register(Op(
    "sub", 2, "−", _broadcast("-"), np.subtract, _sub_vjp, jvp=_sub_jvp,
    tex=lambda s: f"{s[0]} - {s[1]}",
    local_tex=(lambda s: "1", lambda s: "-1"),
    code=OpCode("{0} - {1}", "{0} - {1}", ("1 * {g}", "-1 * {g}")),
))


def _mul_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    a, b = args
    return g * b, g * a


def _mul_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    ta, tb = t
    return _total(out, None if ta is None else ta * b, None if tb is None else a * tb)


_register(Op(
    "mul", 2, "×", _broadcast("*"), np.multiply, _mul_vjp, jvp=_mul_jvp,
    tex=lambda s: f"{s[0]}\\,{s[1]}",
    local_tex=(lambda s: s[1], lambda s: s[0]),
    gate="swaps",
    code=OpCode("{0} * {1}", "{0} * {1}", ("{1} * {g}", "{0} * {g}")),
))


def _div_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    a, b = args
    return g / b, -g * a / (b * b)


def _div_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    ta, tb = t
    return _total(out, None if ta is None else ta / b,
                  None if tb is None else -tb * a / (b * b))


_register(Op(
    "div", 2, "÷", _broadcast("/"), np.divide, _div_vjp, jvp=_div_jvp,
    tex=lambda s: f"\\frac{{{s[0]}}}{{{s[1]}}}",
    local_tex=(lambda s: f"\\frac{{1}}{{{s[1]}}}", lambda s: f"-\\frac{{{s[0]}}}{{{s[1]}^{{2}}}}"),
    code=OpCode("{0} / {1}", "{0} / {1}", (_div_code_numerator, "-{0} / {1}**2 * {g}")),
))


def _pow_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    a, b = args
    # PyTorch's pow_backward_self: zero where the exponent is 0 (so 0^0 has gradient 0, not NaN).
    ga = np.where(b == 0.0, 0.0, g * b * np.power(a, b - 1.0))
    # PyTorch's pow_backward_exponent: zero where the base is 0 and the exponent >= 0.
    gb = np.where((a == 0.0) & (b >= 0.0), 0.0, g * out * np.log(a))
    return ga, gb


def _pow_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    # PyTorch's forward rule for pow: pow_backward_self(t_a) + pow_backward_exponent(t_b), the
    # same masks as the backward.
    a, b = args
    ta, tb = t
    da = None if ta is None else np.where(b == 0.0, 0.0, ta * b * np.power(a, b - 1.0))
    db = None if tb is None else np.where((a == 0.0) & (b >= 0.0), 0.0, tb * out * np.log(a))
    return _total(out, da, db)


_register(Op(
    "pow", 2, "^", _broadcast("^"), np.power, _pow_vjp, jvp=_pow_jvp,
    tex=lambda s: f"{s[0]}^{{{s[1]}}}",
    local_tex=(
        lambda s: f"{s[1]}\\,{s[0]}^{{{s[1]} - 1}}",
        lambda s: f"{s[0]}^{{{s[1]}}}\\ln {s[0]}",
    ),
    code=OpCode("{0} ** {1}", "{0} ** {1}", (_pow_code_base, _pow_code_exponent)),
))


def _max_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    # PyTorch's maximum backward: where(a == b, g/2, g), zeroed where the operand is the smaller
    # one. Written with the strict comparisons so that a NaN operand passes g on to both, as there.
    a, b = args
    share = np.where(a == b, 0.5 * g, g)
    return np.where(a < b, 0.0, share), np.where(a > b, 0.0, share)


def _route_jvp(t: OperandTangents, args: Sequence[Array], out: Array, a_wins: Array, b_wins: Array
               ) -> Array:
    # The transpose of the max/min VJP: an operand's tangent passes where it is not the loser,
    # halved on a tie (and, as there, both pass where a NaN makes neither comparison hold).
    a, b = args
    ta, tb = t
    share = np.where(a == b, 0.5, 1.0)
    da = None if ta is None else np.where(b_wins, 0.0, share * ta)
    db = None if tb is None else np.where(a_wins, 0.0, share * tb)
    return _total(out, da, db)


def _max_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    return _route_jvp(t, args, out, a > b, a < b)


def _min_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    return _route_jvp(t, args, out, a < b, a > b)


_register(Op(
    "max", 2, "max", _broadcast("max"), np.maximum, _max_vjp, jvp=_max_jvp,
    tex=lambda s: f"\\max({s[0]}, {s[1]})",
    local_tex=(
        lambda s: f"\\mathbb{{1}}[{s[0]} > {s[1]}]",
        lambda s: f"\\mathbb{{1}}[{s[1]} > {s[0]}]",
    ),
    gate="routes",
    doc="On a tie each operand gets half the gradient, as in PyTorch.",
    code=OpCode("np.maximum({0}, {1})", "torch.maximum({0}, {1})", (
        "np.where({0} < {1}, 0.0, np.where({0} == {1}, 0.5, 1.0) * {g})",
        "np.where({0} > {1}, 0.0, np.where({0} == {1}, 0.5, 1.0) * {g})",
    )),
))


def _min_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    # PyTorch's minimum backward, the mirror image of maximum's.
    a, b = args
    share = np.where(a == b, 0.5 * g, g)
    return np.where(a > b, 0.0, share), np.where(a < b, 0.0, share)


_register(Op(
    "min", 2, "min", _broadcast("min"), np.minimum, _min_vjp, jvp=_min_jvp,
    tex=lambda s: f"\\min({s[0]}, {s[1]})",
    local_tex=(
        lambda s: f"\\mathbb{{1}}[{s[0]} < {s[1]}]",
        lambda s: f"\\mathbb{{1}}[{s[1]} < {s[0]}]",
    ),
    gate="routes",
    doc="On a tie each operand gets half the gradient, as in PyTorch.",
    code=OpCode("np.minimum({0}, {1})", "torch.minimum({0}, {1})", (
        "np.where({0} > {1}, 0.0, np.where({0} == {1}, 0.5, 1.0) * {g})",
        "np.where({0} < {1}, 0.0, np.where({0} == {1}, 0.5, 1.0) * {g})",
    )),
))


# ---------------------------------------------------------------------------------------------
# Elementwise unary ops


def _unary(name: str, symbol: str, forward: Callable[[Array], Array],
           vjp: Callable[[Array, Array, Array], Array], jvp: Callable[[Array, Array, Array], Array],
           tex: Callable[[str], str], local: Callable[[str], str], gate: str | None = None,
           *, code: OpCode) -> None:
    """`vjp(g, x, out)` and `jvp(t, x, out)`: for an elementwise op both are f'(x) times the
    incoming gradient or tangent, but each is written out so that neither is assumed."""

    def jvp_(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        return _total(out, None if t[0] is None else jvp(t[0], args[0], out))

    _register(Op(
        name, 1, symbol, _same, forward,
        lambda g, args, out: (vjp(g, args[0], out),),
        jvp=jvp_,
        tex=lambda s: tex(s[0]),
        local_tex=(lambda s: local(s[0]),),
        code=code,
        gate=gate,
    ))


def _sigmoid(x: Array) -> Array:
    # Two branches so that neither overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) for x < 0.
    ex = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + ex), ex / (1.0 + ex))


_unary("neg", "−", np.negative, lambda g, x, out: -g, lambda t, x, out: -t, lambda x: f"-{x}",
       lambda x: "-1",
       code=OpCode("-{0}", "-{0}", ("-1 * {g}",)))
_unary("exp", "exp", np.exp, lambda g, x, out: g * out, lambda t, x, out: t * out,
       lambda x: f"e^{{{x}}}", lambda x: f"e^{{{x}}}",
       code=OpCode("np.exp({0})", "torch.exp({0})", ("{out} * {g}",)))
_unary("log", "log", np.log, lambda g, x, out: g / x, lambda t, x, out: t / x,
       lambda x: f"\\ln {x}", lambda x: f"\\frac{{1}}{{{x}}}",
       code=OpCode("np.log({0})", "torch.log({0})", ("1 / {0} * {g}",)))
_unary("sqrt", "√", np.sqrt, lambda g, x, out: g / (2.0 * out), lambda t, x, out: t / (2.0 * out),
       lambda x: f"\\sqrt{{{x}}}", lambda x: f"\\frac{{1}}{{2\\sqrt{{{x}}}}}",
       code=OpCode("np.sqrt({0})", "torch.sqrt({0})", ("1 / (2 * {out}) * {g}",)))
_unary("sin", "sin", np.sin, lambda g, x, out: g * np.cos(x), lambda t, x, out: t * np.cos(x),
       lambda x: f"\\sin {x}", lambda x: f"\\cos {x}",
       code=OpCode("np.sin({0})", "torch.sin({0})", ("np.cos({0}) * {g}",)))
_unary("cos", "cos", np.cos, lambda g, x, out: -g * np.sin(x), lambda t, x, out: -t * np.sin(x),
       lambda x: f"\\cos {x}", lambda x: f"-\\sin {x}",
       code=OpCode("np.cos({0})", "torch.cos({0})", ("-np.sin({0}) * {g}",)))
_unary("tan", "tan", np.tan, lambda g, x, out: g * (1.0 + out * out),
       lambda t, x, out: t * (1.0 + out * out), lambda x: f"\\tan {x}",
       lambda x: f"1 + \\tan^{{2}} {x}",
       code=OpCode("np.tan({0})", "torch.tan({0})", ("(1 + {out}**2) * {g}",)))
_unary("tanh", "tanh", np.tanh, lambda g, x, out: g * (1.0 - out * out),
       lambda t, x, out: t * (1.0 - out * out), lambda x: f"\\tanh {x}",
       lambda x: f"1 - \\tanh^{{2}} {x}",
       code=OpCode("np.tanh({0})", "torch.tanh({0})", ("(1 - {out}**2) * {g}",)))
_unary("sigmoid", "σ", _sigmoid, lambda g, x, out: g * out * (1.0 - out),
       lambda t, x, out: t * out * (1.0 - out),
       lambda x: f"\\sigma({x})", lambda x: f"\\sigma({x})\\,(1 - \\sigma({x}))",
       code=OpCode("1 / (1 + np.exp(-{0}))", "torch.sigmoid({0})",
                    ("{out} * (1 - {out}) * {g}",)))
# relu' as PyTorch's threshold_backward: zero where x <= 0 (so relu'(0) = 0), g elsewhere (NaN too).
# Its forward-mode rule is the same threshold_backward applied to the tangent.
_unary("relu", "relu", lambda x: np.maximum(x, 0.0), lambda g, x, out: np.where(x <= 0, 0.0, g),
       lambda t, x, out: np.where(x <= 0, 0.0, t),
       lambda x: f"\\mathrm{{relu}}({x})", lambda x: f"\\mathbb{{1}}[{x} > 0]", gate="routes",
       code=OpCode("np.maximum({0}, 0.0)", "torch.relu({0})",
                    ("np.where({0} <= 0, 0.0, {g})",)))
_unary("abs", "abs", np.abs, lambda g, x, out: g * np.sign(x), lambda t, x, out: t * np.sign(x),
       lambda x: f"|{x}|", lambda x: f"\\operatorname{{sign}}({x})",
       code=OpCode("np.abs({0})", "torch.abs({0})", ("np.sign({0}) * {g}",)))


# ---------------------------------------------------------------------------------------------
# Reductions and tensor ops


def _sum_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    return (np.broadcast_to(g, args[0].shape).copy(),)


def _sum_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return _total(out, None if t[0] is None else np.asarray(np.sum(t[0])))


_register(Op(
    "sum", 1, "Σ", _scalar, lambda x: np.asarray(np.sum(x)), _sum_vjp, jvp=_sum_jvp,
    tex=lambda s: f"\\sum {s[0]}",
    local_tex=(lambda s: "1",),
    vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\cdot \\mathbf{{1}}",),
    gate="distributes",
    elementwise=False,
    code=OpCode("np.sum({0})", "torch.sum({0})", ("np.full_like({0}, {g})",),
                tangent=("np.sum({g})",)),
))


def _mean_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    x = args[0]
    return (np.broadcast_to(g / max(x.size, 1), x.shape).copy(),)


def _mean_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return _total(out, None if t[0] is None else np.asarray(np.sum(t[0]) / max(t[0].size, 1)))


_register(Op(
    "mean", 1, "mean", _scalar, lambda x: np.asarray(np.mean(x)), _mean_vjp, jvp=_mean_jvp,
    tex=lambda s: f"\\operatorname{{mean}} {s[0]}",
    local_tex=(lambda s: "\\frac{1}{n}",),
    vjp_tex=(lambda s, z: f"d{s[0]} = \\frac{{d{z}}}{{n}} \\mathbf{{1}}",),
    elementwise=False,
    code=OpCode("np.mean({0})", "torch.mean({0})", ("np.full_like({0}, {g} / {0}.size)",),
                tangent=("np.mean({g})",)),
))


def _softmax(x: Array) -> Array:
    if x.ndim == 0:
        return np.ones_like(x)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    out: Array = e / np.sum(e, axis=-1, keepdims=True)
    return out


def _softmax_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    # J = diag(s) - s s^T, so g J = s * (g - <g, s>) along the last axis.
    if out.ndim == 0:
        return (np.zeros_like(g),)
    return (out * (g - np.sum(g * out, axis=-1, keepdims=True)),)


def _softmax_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    # J t = s * t - s <s, t> along the last axis (J is symmetric: the VJP's rule).
    tx = t[0]
    if tx is None or out.ndim == 0:
        return np.zeros(out.shape)
    return _total(out, out * (tx - np.sum(tx * out, axis=-1, keepdims=True)))


_register(Op(
    "softmax", 1, "softmax", _same, _softmax, _softmax_vjp, jvp=_softmax_jvp,
    tex=lambda s: f"\\operatorname{{softmax}}({s[0]})",
    local_tex=(lambda s: "\\operatorname{diag}(s) - s s^{\\top}",),
    vjp_tex=(lambda s, z: f"d{s[0]} = {z} \\odot (d{z} - \\langle d{z}, {z} \\rangle)",),
    elementwise=False,
    doc="Along the last axis.",
    code=OpCode("softmax({0})", "torch.softmax({0}, dim=-1)", (_softmax_code,),
                numpy_helper=_SOFTMAX_NUMPY),
))


_register(Op(
    "transpose", 1, "ᵀ", lambda shapes: tuple(reversed(shapes[0])),
    lambda x: np.transpose(x).copy(),  # not ascontiguousarray: it makes a scalar a (1,) vector
    lambda g, args, out: (np.transpose(g),),
    jvp=lambda t, args, out: _total(out, None if t[0] is None else np.transpose(t[0])),
    tex=lambda s: f"{s[0]}^{{\\top}}",
    local_tex=(lambda s: "P_{\\top}",),
    vjp_tex=(lambda s, z: f"d{s[0]} = (d{z})^{{\\top}}",),
    elementwise=False,
    doc="Reverses the axes (a matrix transpose; a vector or scalar is unchanged).",
    code=OpCode("np.transpose({0})", "torch.permute({0}, tuple(range({0}.ndim - 1, -1, -1)))",
                ("np.transpose({g})",)),
))


def _dot_shape(shapes: Sequence[Shape]) -> Shape:
    a, b = shapes
    if len(a) != 1 or len(b) != 1:
        raise ShapeError(
            f"dot takes two vectors, got shapes {fmt_shape(a)} and {fmt_shape(b)} "
            "(use @ or matmul for matrices)"
        )
    if a != b:
        raise ShapeError(f"dot needs vectors of the same length, got {a[0]} and {b[0]}")
    return ()


def _dot_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    a, b = args
    return g * b, g * a


def _dot_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    ta, tb = t
    return _total(out, None if ta is None else np.asarray(np.dot(ta, b)),
                  None if tb is None else np.asarray(np.dot(a, tb)))


_register(Op(
    "dot", 2, "·", _dot_shape, lambda a, b: np.asarray(np.dot(a, b)), _dot_vjp, jvp=_dot_jvp,
    tex=lambda s: f"{s[0]} \\cdot {s[1]}",
    local_tex=(lambda s: f"{s[1]}^{{\\top}}", lambda s: f"{s[0]}^{{\\top}}"),
    vjp_tex=(lambda s, z: f"d{s[0]} = d{z}\\,{s[1]}", lambda s, z: f"d{s[1]} = d{z}\\,{s[0]}"),
    gate="swaps",
    elementwise=False,
    code=OpCode("np.dot({0}, {1})", "torch.dot({0}, {1})", ("{g} * {1}", "{g} * {0}"),
                tangent=("np.dot({g}, {1})", "np.dot({0}, {g})")),
))


def _matmul_shape(shapes: Sequence[Shape]) -> Shape:
    a, b = shapes
    if len(a) == 0 or len(b) == 0:
        raise ShapeError(
            f"'@' needs vectors or matrices, got shapes {fmt_shape(a)} and {fmt_shape(b)} "
            "(use * to multiply by a scalar)"
        )
    k_left = a[-1]
    k_right = b[0] if len(b) == 1 else b[-2]
    if k_left != k_right:
        raise ShapeError(
            f"'@' cannot multiply shapes {fmt_shape(a)} and {fmt_shape(b)}: the left operand "
            f"has {k_left} columns but the right one has {k_right} rows"
        )
    batch_a, batch_b = a[:-2], b[:-2]
    try:
        batch = tuple(np.broadcast_shapes(batch_a, batch_b))
    except ValueError:
        raise ShapeError(
            f"'@' cannot broadcast the batch axes of {fmt_shape(a)} and {fmt_shape(b)}"
        ) from None
    rows = (a[-2],) if len(a) >= 2 else ()
    cols = (b[-1],) if len(b) >= 2 else ()
    return batch + rows + cols


def _matmul_cost(shapes: Sequence[Shape]) -> tuple[int, int]:
    # The VJP forms dZ B^T and A^T dZ over the broadcast batch before summing it back to each
    # operand's own batch: (447,1,1,447) @ (1,447,447,1) makes a 447x447x447 intermediate.
    a, b = shapes
    rows = a[-2] if len(a) >= 2 else 1
    cols = b[-1] if len(b) >= 2 else 1
    k = a[-1]
    batch = math.prod(np.broadcast_shapes(a[:-2], b[:-2]))
    return batch * rows * k * cols, batch * max(rows * k, k * cols)


def _matmul_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    a, b = args
    # Promote vectors to matrices as np.matmul does, then dA = dZ B^T and dB = A^T dZ.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = tuple(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]))
    g2 = g.reshape((*batch, a2.shape[-2], b2.shape[-1]))
    ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
    gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
    return ga, gb


def _matmul_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    # Bilinear: dZ = dA B + A dB (np.matmul promotes vectors and broadcasts batches as forward).
    a, b = args
    ta, tb = t
    return _total(out, None if ta is None else np.matmul(ta, b),
                  None if tb is None else np.matmul(a, tb))


_register(Op(
    "matmul", 2, "@", _matmul_shape, np.matmul, _matmul_vjp, jvp=_matmul_jvp,
    tex=lambda s: f"{s[0]}\\,{s[1]}",
    local_tex=(lambda s: f"{s[1]}^{{\\top}}", lambda s: f"{s[0]}^{{\\top}}"),
    vjp_tex=(
        lambda s, z: f"d{s[0]} = d{z}\\,{s[1]}^{{\\top}}",
        lambda s, z: f"d{s[1]} = {s[0]}^{{\\top}}\\,d{z}",
    ),
    elementwise=False,
    cost=_matmul_cost,
    code=OpCode("{0} @ {1}", "{0} @ {1}", (_matmul_code(0), _matmul_code(1)),
                tangent=("{g} @ {1}", "{0} @ {g}"), numpy_helper=_MATMUL_NUMPY),
))


def _conv2d_shape(shapes: Sequence[Shape]) -> Shape:
    x, w = shapes
    if len(x) == 2 and len(w) == 2:
        h, wd = x
        kh, kw = w
        if kh > h or kw > wd:
            raise ShapeError(
                f"conv2d: the kernel {fmt_shape(w)} is larger than the input {fmt_shape(x)}"
            )
        return (h - kh + 1, wd - kw + 1)
    if len(x) == 4 and len(w) == 4:
        n, h, wd, c = x
        kh, kw, cin, cout = w
        if cin != c:
            raise ShapeError(
                f"conv2d: the input has {c} channels but the kernel {fmt_shape(w)} expects {cin} "
                "(input NHWC, kernel HWIO as in tf.nn.conv2d)"
            )
        if kh > h or kw > wd:
            raise ShapeError(
                f"conv2d: the kernel {fmt_shape(w)} is larger than the input {fmt_shape(x)}"
            )
        return (n, h - kh + 1, wd - kw + 1, cout)
    raise ShapeError(
        f"conv2d takes a matrix and a kernel matrix, or an NHWC tensor and an HWIO kernel; "
        f"got shapes {fmt_shape(x)} and {fmt_shape(w)}"
    )


def _conv2d_cost(shapes: Sequence[Shape]) -> tuple[int, int]:
    # Each output element sums over the kernel (and its input channels); the passes loop over
    # the kernel's positions in Python, each worth about 2,000 multiply-adds of overhead.
    x, w = shapes
    out = _conv2d_shape(shapes)
    per_output = math.prod(w[:-1]) if len(w) == 4 else math.prod(w)
    positions = w[0] * w[1]
    return math.prod(out) * per_output + 2_000 * positions, math.prod(x)


def _conv2d(x: Array, w: Array) -> Array:
    # Cross-correlation, stride 1, VALID: out[i, j] = sum_{p,q} x[i+p, j+q] w[p, q].
    # Looping over the (small) kernel keeps each step one vectorised multiply-add.
    if x.ndim == 2:
        kh, kw = w.shape
        oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
        out = np.zeros((oh, ow))
        for p in range(kh):
            for q in range(kw):
                out += w[p, q] * x[p:p + oh, q:q + ow]
        return out
    kh, kw, _, cout = w.shape
    n, h, wd, _ = x.shape
    oh, ow = h - kh + 1, wd - kw + 1
    out = np.zeros((n, oh, ow, cout))
    for p in range(kh):
        for q in range(kw):
            out += x[:, p:p + oh, q:q + ow, :] @ w[p, q]
    return out


def _conv2d_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    # dX[i+p, j+q] += g[i, j] w[p, q]   (a full convolution with the flipped kernel)
    # dW[p, q]      = sum_{i,j} x[i+p, j+q] g[i, j]   (a correlation of x with g)
    x, w = args
    gx = np.zeros_like(x)
    gw = np.zeros_like(w)
    if x.ndim == 2:
        kh, kw = w.shape
        oh, ow = g.shape
        for p in range(kh):
            for q in range(kw):
                gx[p:p + oh, q:q + ow] += g * w[p, q]
                gw[p, q] = np.sum(g * x[p:p + oh, q:q + ow])
        return gx, gw
    kh, kw = w.shape[:2]
    oh, ow = g.shape[1:3]
    for p in range(kh):
        for q in range(kw):
            gx[:, p:p + oh, q:q + ow, :] += g @ w[p, q].T
            # A sum over n, h, w of products of x's channel vectors and g's. With many channels
            # one BLAS product (tensordot) is far faster than einsum; with few, the product is a
            # long thin dot that BLAS handles badly (up to 40 ns a multiply-add) and einsum well.
            xs = x[:, p:p + oh, q:q + ow, :]
            gw[p, q] = (np.tensordot(xs, g, axes=([0, 1, 2], [0, 1, 2])) if gw[p, q].size >= 16
                        else np.einsum("nhwc,nhwo->co", xs, g))
    return gx, gw


def _conv2d_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    # Bilinear: d conv2d(X, W) = conv2d(dX, W) + conv2d(X, dW).
    x, w = args
    tx, tw = t
    return _total(out, None if tx is None else _conv2d(tx, w),
                  None if tw is None else _conv2d(x, tw))


_register(Op(
    "conv2d", 2, "conv2d", _conv2d_shape, _conv2d, _conv2d_vjp, jvp=_conv2d_jvp,
    tex=lambda s: f"\\operatorname{{conv2d}}({s[0]}, {s[1]})",
    local_tex=(lambda s: s[1], lambda s: s[0]),
    vjp_tex=(
        lambda s, z: f"d{s[0]} = \\operatorname{{conv2d}}_{{\\text{{full}}}}(d{z}, "
        f"\\operatorname{{rot180}}({s[1]}))",
        lambda s, z: f"d{s[1]} = \\operatorname{{conv2d}}({s[0]}, d{z})",
    ),
    elementwise=False,
    doc="2-D cross-correlation, stride 1, no padding (tf.nn.conv2d, VALID): (H,W)*(kh,kw) or "
    "NHWC*HWIO.",
    cost=_conv2d_cost,
    code=OpCode("conv2d({0}, {1})", "conv2d({0}, {1})",
                ("conv2d_grad_x({g}, {0}, {1})", "conv2d_grad_w({g}, {0}, {1})"),
                tangent=("conv2d({g}, {1})", "conv2d({0}, {g})"),
                numpy_helper=_CONV2D_NUMPY, torch_helper=_CONV2D_TORCH),
))


def vjp_tex(op: Op, i: int, syms: Syms, out_sym: str) -> str:
    """The VJP rule of operand `i` for a tensor edge: elementwise ops get `dx = dz ⊙ local`."""
    if op.vjp_tex is not None:
        return op.vjp_tex[i](syms, out_sym)
    return f"d{syms[i]} = d{out_sym} \\odot {op.local_tex[i](syms)}"


# The language: operators and functions, by the names the parser sees.
BINARY_OPERATORS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "^": "pow"}
FUNCTIONS = {name: name for name in REGISTRY if name not in ("add", "sub", "mul", "div", "neg")}
CONSTANTS = {"pi": float(np.pi), "e": float(np.e)}


# Placeholders for operand symbols in the formula templates that `catalogue` exports.
SLOT = "#{}#"
OUT_SLOT = "#z#"


def catalogue() -> dict[str, Any]:
    """Every op as JSON-ready data for the frontend (frontend/src/generated/ops.json, written by
    scripts/generate.py): its symbol and LaTeX templates, where `#0#`, `#1#` stand for the
    operands' symbols and `#z#` for the output's."""
    slots = [SLOT.format(i) for i in range(8)]
    out: dict[str, Any] = {}
    for name, op in sorted(REGISTRY.items()):
        s = slots[:op.arity]
        out[name] = {
            "arity": op.arity,
            "symbol": op.symbol,
            "tex": op.tex(s),
            "local_tex": [f(s) for f in op.local_tex],
            "vjp_tex": [vjp_tex(op, i, s, OUT_SLOT) for i in range(op.arity)],
            "gate": op.gate,
            "elementwise": op.elementwise,
            "language": name in FUNCTIONS or name in BINARY_OPERATORS.values() or name == "neg",
            "doc": op.doc,
        }
    return out
