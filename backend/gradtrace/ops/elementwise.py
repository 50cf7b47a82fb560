"""Elementwise ops: arithmetic, max/min, atan2, the functions of one number (exp, relu, erf,
...), the comparisons (0/1 masks) and where.

Operands broadcast as NumPy does; the engine sums each operand's gradient back over the axes that
broadcasting added or stretched (`unbroadcast`), and rules do the same with `sum_to` nodes.

Each derivative is PyTorch's formula (its derivatives.yaml), masks and order of operations
included, so that zeros, infinities and NaN give PyTorch's gradients: sign(NaN) = 0 and so
abs'(NaN) = 0; atan2's gradient is 0 at (0, 0); asin'(1) = inf.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .core import (
    Array,
    Builder,
    CodeArgs,
    GradCode,
    Op,
    OpCode,
    OperandTangents,
    Rule,
    Shape,
    ShapeError,
    Spellings,
    broadcast_shape,
    composite,
    fmt_shape,
    no_gradient,
    register,
    same_shape,
    total,
)

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


def _sign(x: Array) -> Array:
    # torch.sign: (x > 0) - (x < 0), so 0 for NaN (np.sign gives NaN) and +0 for -0.
    return np.asarray(np.greater(x, 0) * 1.0 - np.less(x, 0), dtype=np.float64)


_SIGN_NUMPY = '''
def sign(x):
    """-1, 0 or 1, as torch.sign: 0 for NaN too (np.sign gives NaN there)."""
    return np.greater(x, 0) * 1.0 - np.less(x, 0)
'''

_erf_each = np.frompyfunc(math.erf, 1, 1)


def _erf(x: Array) -> Array:
    # NumPy has no erf: the C library's, one element at a time (as accurate as torch.erf).
    return np.asarray(_erf_each(x), dtype=np.float64)


_ERF_NUMPY = '''
def erf(x):
    """The error function, as torch.erf (NumPy has none): math.erf on each element."""
    import math
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=np.float64)
'''




# ---------------------------------------------------------------------------------------------
# Elementwise binary ops


def _add_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    return g, g


def _add_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return total(out, t[0], t[1])


register(Op(
    "add", 2, "+", broadcast_shape("+"), np.add, _add_vjp, jvp=_add_jvp,
    rule=lambda b, g, args, out, needs: (g, g),
    tex=lambda s: f"{s[0]} + {s[1]}",
    local_tex=(lambda s: "1", lambda s: "1"),
    gate="distributes",
    code=OpCode("{0} + {1}", "{0} + {1}", ("1 * {g}", "1 * {g}")),
    spellings=Spellings(("numpy.add",), ("torch.add",), ("tf.math.add",)),
    operator="+", named=False,
))


def _sub_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    return g, -g


def _sub_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return total(out, t[0], None if t[1] is None else -t[1])


register(Op(
    "sub", 2, "−", broadcast_shape("-"), np.subtract, _sub_vjp, jvp=_sub_jvp,
    rule=lambda b, g, args, out, needs: (g, b.op("neg", g) if needs[1] else None),
    tex=lambda s: f"{s[0]} - {s[1]}",
    local_tex=(lambda s: "1", lambda s: "-1"),
    code=OpCode("{0} - {1}", "{0} - {1}", ("1 * {g}", "-1 * {g}")),
    spellings=Spellings(("numpy.subtract",), ("torch.sub", "torch.subtract"),
                        ("tf.math.subtract",)),
    operator="-", named=False,
))


def mul_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    a, b = args
    return g * b, g * a


def _mul_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    ta, tb = t
    return total(out, None if ta is None else ta * b, None if tb is None else a * tb)


register(Op(
    "mul", 2, "×", broadcast_shape("*"), np.multiply, mul_vjp, jvp=_mul_jvp,
    rule=lambda b, g, args, out, needs: (b.op("mul", g, args[1]) if needs[0] else None,
                                         b.op("mul", g, args[0]) if needs[1] else None),
    tex=lambda s: f"{s[0]}\\,{s[1]}",
    local_tex=(lambda s: s[1], lambda s: s[0]),
    gate="swaps",
    code=OpCode("{0} * {1}", "{0} * {1}", ("{1} * {g}", "{0} * {g}")),
    spellings=Spellings(("numpy.multiply",), ("torch.mul", "torch.multiply"),
                        ("tf.math.multiply",), ("\\cdot", "\\times")),
    operator="*", named=False,
))


def _div_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    a, b = args
    return g / b, -g * a / (b * b)


def _div_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    ta, tb = t
    return total(out, None if ta is None else ta / b,
                  None if tb is None else -tb * a / (b * b))


register(Op(
    "div", 2, "÷", broadcast_shape("/"), np.divide, _div_vjp, jvp=_div_jvp,
    rule=lambda b, g, args, out, needs: (
        b.op("div", g, args[1]) if needs[0] else None,
        b.op("neg", b.op("div", b.op("mul", g, out), args[1])) if needs[1] else None),
    tex=lambda s: f"\\frac{{{s[0]}}}{{{s[1]}}}",
    local_tex=(lambda s: f"\\frac{{1}}{{{s[1]}}}", lambda s: f"-\\frac{{{s[0]}}}{{{s[1]}^{{2}}}}"),
    code=OpCode("{0} / {1}", "{0} / {1}", (_div_code_numerator, "-{0} / {1}**2 * {g}")),
    spellings=Spellings(("numpy.divide", "numpy.true_divide"), ("torch.div", "torch.divide"),
                        ("tf.math.divide", "tf.math.truediv"), ("\\frac",)),
    operator="/", named=False,
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
    return total(out, da, db)


def _pow_rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
              ) -> Sequence[int | None]:
    x, y = args
    dx = dy = None
    if needs[0]:  # g * y x^(y-1), 0 where y = 0
        local = b.op("mul", y, b.op("pow", x, b.op("sub", y, b.const(1.0))))
        dx = b.op("masked", b.op("mul", g, local), b.op("nonzero", y))
    if needs[1]:  # g * x^y ln x, 0 where x = 0 and y >= 0
        local = b.op("mul", out, b.op("log", x))
        dy = b.op("masked", b.op("mul", g, local), b.op("pow_exp_mask", x, y))
    return dx, dy


register(Op(
    "pow", 2, "^", broadcast_shape("^"), np.power, _pow_vjp, jvp=_pow_jvp,
    rule=_pow_rule,
    tex=lambda s: f"{s[0]}^{{{s[1]}}}",
    local_tex=(
        lambda s: f"{s[1]}\\,{s[0]}^{{{s[1]} - 1}}",
        lambda s: f"{s[0]}^{{{s[1]}}}\\ln {s[0]}",
    ),
    code=OpCode("{0} ** {1}", "{0} ** {1}", (_pow_code_base, _pow_code_exponent)),
    spellings=Spellings(("numpy.power",), ("torch.pow",), ("tf.math.pow",)),
    operator="^",
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
    return total(out, da, db)


def _max_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    return _route_jvp(t, args, out, a > b, a < b)


def _min_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    a, b = args
    return _route_jvp(t, args, out, a < b, a > b)


def _route_rule(share: str) -> Rule:
    """max/min: the upstream gradient masked by the share of each operand (an indicator op)."""
    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        x, y = args
        return (b.op("masked", g, b.op(share, x, y)) if needs[0] else None,
                b.op("masked", g, b.op(share, y, x)) if needs[1] else None)
    return rule


def _share_tex(a: str, b: str, rel: str) -> str:
    """max/min's local derivative for operand a: 1 where it wins, a half on a tie."""
    return f"\\mathbb{{1}}[{a} {rel} {b}] + \\tfrac{{1}}{{2}}\\mathbb{{1}}[{a} = {b}]"


def _difference(args: Sequence[Array]) -> Array:
    # max/min pick their branch by the sign of a - b.
    return np.asarray(args[0] - args[1])


register(Op(
    "max", 2, "max", broadcast_shape("max"), np.maximum, _max_vjp, jvp=_max_jvp,
    rule=_route_rule("max_share"),
    kink=_difference,
    tex=lambda s: f"\\max({s[0]}, {s[1]})",
    local_tex=(lambda s: _share_tex(s[0], s[1], ">"), lambda s: _share_tex(s[1], s[0], ">")),
    vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\odot \\left({_share_tex(s[0], s[1], '>')}\\right)",
             lambda s, z: f"d{s[1]} = d{z} \\odot \\left({_share_tex(s[1], s[0], '>')}\\right)"),
    gate="routes",
    doc="On a tie each operand gets half the gradient, as in PyTorch.",
    code=OpCode("np.maximum({0}, {1})", "torch.maximum({0}, {1})", (
        "np.where({0} < {1}, 0.0, np.where({0} == {1}, 0.5, 1.0) * {g})",
        "np.where({0} > {1}, 0.0, np.where({0} == {1}, 0.5, 1.0) * {g})",
    )),
    spellings=Spellings(("numpy.maximum",), ("torch.maximum",), ("tf.math.maximum",), ("\\max",)),
))


def _min_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    # PyTorch's minimum backward, the mirror image of maximum's.
    a, b = args
    share = np.where(a == b, 0.5 * g, g)
    return np.where(a > b, 0.0, share), np.where(a < b, 0.0, share)


register(Op(
    "min", 2, "min", broadcast_shape("min"), np.minimum, _min_vjp, jvp=_min_jvp,
    rule=_route_rule("min_share"),
    kink=_difference,
    tex=lambda s: f"\\min({s[0]}, {s[1]})",
    local_tex=(lambda s: _share_tex(s[0], s[1], "<"), lambda s: _share_tex(s[1], s[0], "<")),
    vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\odot \\left({_share_tex(s[0], s[1], '<')}\\right)",
             lambda s, z: f"d{s[1]} = d{z} \\odot \\left({_share_tex(s[1], s[0], '<')}\\right)"),
    gate="routes",
    doc="On a tie each operand gets half the gradient, as in PyTorch.",
    code=OpCode("np.minimum({0}, {1})", "torch.minimum({0}, {1})", (
        "np.where({0} > {1}, 0.0, np.where({0} == {1}, 0.5, 1.0) * {g})",
        "np.where({0} < {1}, 0.0, np.where({0} == {1}, 0.5, 1.0) * {g})",
    )),
    spellings=Spellings(("numpy.minimum",), ("torch.minimum",), ("tf.math.minimum",), ("\\min",)),
))


# ---------------------------------------------------------------------------------------------
# Elementwise unary ops


def _unary(name: str, symbol: str, forward: Callable[[Array], Array],
           vjp: Callable[[Array, Array, Array], Array], jvp: Callable[[Array, Array, Array], Array],
           tex: Callable[[str], str], local: Callable[[str], str], *, rule: Rule, code: OpCode,
           spellings: Spellings, gate: str | None = None,
           kink: Callable[[Sequence[Array]], Array] | None = None, operator: str | None = None,
           named: bool = True, **entry: Any) -> None:
    """`vjp(g, x, out)` and `jvp(t, x, out)`: for an elementwise op both are f'(x) times the
    incoming gradient or tangent, but each is written out so that neither is assumed. `entry`:
    the rest of the `Op` (aliases, doc, ...)."""

    def jvp_(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        return total(out, None if t[0] is None else jvp(t[0], args[0], out))

    register(Op(
        name, 1, symbol, same_shape, forward,
        lambda g, args, out: (vjp(g, args[0], out),),
        jvp=jvp_,
        rule=rule,
        tex=lambda s: tex(s[0]),
        local_tex=(lambda s: local(s[0]),),
        code=code,
        gate=gate,
        kink=kink,
        spellings=spellings,
        operator=operator,
        named=named,
        **entry,
    ))


def _times_local(local: Callable[[Builder, int, int], int]) -> Rule:
    """The rule of an elementwise unary op: g times its local derivative `local(b, x, out)`,
    written with ops."""
    return lambda b, g, args, out, needs: (b.op("mul", g, local(b, args[0], out)),)


def _operand(args: Sequence[Array]) -> Array:
    # relu and abs pick their branch by the sign of their operand.
    return args[0]


def _sigmoid(x: Array) -> Array:
    # Two branches so that neither overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) for x < 0.
    ex = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + ex), ex / (1.0 + ex))


def _names(numpy: str, torch: str, tf: str, latex: str = "") -> Spellings:
    """The common case: one name in each library (`numpy.exp`, `torch.exp`, `tf.math.exp`)."""
    return Spellings((f"numpy.{numpy}",), (f"torch.{torch}",), (f"tf.math.{tf}",),
                     (latex,) if latex else ())


_unary("neg", "−", np.negative, lambda g, x, out: -g, lambda t, x, out: -t, lambda x: f"-{x}",
       lambda x: "-1",
       rule=lambda b, g, args, out, needs: (b.op("neg", g),),
       code=OpCode("-{0}", "-{0}", ("-1 * {g}",)), operator="-", named=False,
       spellings=_names("negative", "neg", "negative"))
_unary("exp", "exp", np.exp, lambda g, x, out: g * out, lambda t, x, out: t * out,
       lambda x: f"e^{{{x}}}", lambda x: f"e^{{{x}}}",
       rule=_times_local(lambda b, x, out: out),
       code=OpCode("np.exp({0})", "torch.exp({0})", ("{out} * {g}",)),
       spellings=_names("exp", "exp", "exp", "\\exp"))
_unary("log", "log", np.log, lambda g, x, out: g / x, lambda t, x, out: t / x,
       lambda x: f"\\ln {x}", lambda x: f"\\frac{{1}}{{{x}}}",
       rule=lambda b, g, args, out, needs: (b.op("div", g, args[0]),),
       code=OpCode("np.log({0})", "torch.log({0})", ("1 / {0} * {g}",)),
       spellings=Spellings(("numpy.log",), ("torch.log",), ("tf.math.log",), ("\\ln", "\\log")),
       aliases=("ln",), doc="The natural logarithm (also written ln).")
_unary("sqrt", "√", np.sqrt, lambda g, x, out: g / (2.0 * out), lambda t, x, out: t / (2.0 * out),
       lambda x: f"\\sqrt{{{x}}}", lambda x: f"\\frac{{1}}{{2\\sqrt{{{x}}}}}",
       rule=lambda b, g, args, out, needs: (b.op("div", g, b.op("mul", b.const(2.0), out)),),
       code=OpCode("np.sqrt({0})", "torch.sqrt({0})", ("1 / (2 * {out}) * {g}",)),
       spellings=_names("sqrt", "sqrt", "sqrt", "\\sqrt"))
_unary("sin", "sin", np.sin, lambda g, x, out: g * np.cos(x), lambda t, x, out: t * np.cos(x),
       lambda x: f"\\sin {x}", lambda x: f"\\cos {x}",
       rule=_times_local(lambda b, x, out: b.op("cos", x)),
       code=OpCode("np.sin({0})", "torch.sin({0})", ("np.cos({0}) * {g}",)),
       spellings=_names("sin", "sin", "sin", "\\sin"))
_unary("cos", "cos", np.cos, lambda g, x, out: -g * np.sin(x), lambda t, x, out: -t * np.sin(x),
       lambda x: f"\\cos {x}", lambda x: f"-\\sin {x}",
       rule=_times_local(lambda b, x, out: b.op("neg", b.op("sin", x))),
       code=OpCode("np.cos({0})", "torch.cos({0})", ("-np.sin({0}) * {g}",)),
       spellings=_names("cos", "cos", "cos", "\\cos"))
_unary("tan", "tan", np.tan, lambda g, x, out: g * (1.0 + out * out),
       lambda t, x, out: t * (1.0 + out * out), lambda x: f"\\tan {x}",
       lambda x: f"1 + \\tan^{{2}} {x}",
       vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\odot (1 + \\tan^{{2}} {s[0]})",),
       rule=_times_local(lambda b, x, out: b.op("add", b.const(1.0), b.op("mul", out, out))),
       code=OpCode("np.tan({0})", "torch.tan({0})", ("(1 + {out}**2) * {g}",)),
       spellings=_names("tan", "tan", "tan", "\\tan"))
_unary("tanh", "tanh", np.tanh, lambda g, x, out: g * (1.0 - out * out),
       lambda t, x, out: t * (1.0 - out * out), lambda x: f"\\tanh {x}",
       lambda x: f"1 - \\tanh^{{2}} {x}",
       vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\odot (1 - \\tanh^{{2}} {s[0]})",),
       rule=_times_local(lambda b, x, out: b.op("sub", b.const(1.0), b.op("mul", out, out))),
       code=OpCode("np.tanh({0})", "torch.tanh({0})", ("(1 - {out}**2) * {g}",)),
       spellings=_names("tanh", "tanh", "tanh", "\\tanh"))
# sigmoid is the gate of the notes' "modular" backprop: one node with local gradient s (1 - s),
# or, opened, the circuit 1 / (1 + e^-x) it is made of. Its own numbers stay the fused ones: the
# composition's backward gives NaN at x = -800 (e^800 overflows), while s (1 - s) gives 0, as
# PyTorch does.
register(composite(
    "sigmoid", 1, "σ",
    lambda b, x: b.op("div", b.const(1.0), b.op("add", b.const(1.0),
                                                 b.op("exp", b.op("neg", x[0])))),
    tex=lambda s: f"\\sigma({s[0]})",
    local_tex=(lambda s: f"\\sigma({s[0]})\\,(1 - \\sigma({s[0]}))",),
    forward=_sigmoid,
    vjp=lambda g, args, out: (g * out * (1.0 - out),),
    jvp=lambda t, args, out: total(out, None if t[0] is None else t[0] * out * (1.0 - out)),
    rule=_times_local(lambda b, x, out: b.op("mul", out, b.op("sub", b.const(1.0), out))),
    code=OpCode("1 / (1 + np.exp(-{0}))", "torch.sigmoid({0})", ("{out} * (1 - {out}) * {g}",)),
    spellings=Spellings((), ("torch.sigmoid", "torch.nn.functional.sigmoid"),
                        ("tf.math.sigmoid", "tf.nn.sigmoid"), ("\\sigma",)),
))
# relu' as PyTorch's threshold_backward: zero where x <= 0 (so relu'(0) = 0), g elsewhere (NaN too).
# Its forward-mode rule is the same threshold_backward applied to the tangent.
_unary("relu", "relu", lambda x: np.maximum(x, 0.0), lambda g, x, out: np.where(x <= 0, 0.0, g),
       lambda t, x, out: np.where(x <= 0, 0.0, t),
       lambda x: f"\\mathrm{{relu}}({x})", lambda x: f"\\mathbb{{1}}[{x} > 0]", gate="routes",
       rule=lambda b, g, args, out, needs: (b.op("masked", g, b.op("relu_mask", args[0])),),
       kink=_operand,
       code=OpCode("np.maximum({0}, 0.0)", "torch.relu({0})",
                   ("np.where({0} <= 0, 0.0, {g})",)),
       spellings=Spellings((), ("torch.relu", "torch.nn.functional.relu"), ("tf.nn.relu",),
                           ("\\operatorname{ReLU}",)))
_unary("abs", "abs", np.abs, lambda g, x, out: g * _sign(x), lambda t, x, out: t * _sign(x),
       lambda x: f"|{x}|", lambda x: f"\\operatorname{{sign}}({x})",
       rule=_times_local(lambda b, x, out: b.op("sign", x)),
       kink=_operand,
       doc="abs'(0) = 0 and abs'(NaN) = 0, as in PyTorch (its sign is 0 there).",
       code=OpCode("np.abs({0})", "torch.abs({0})", ("sign({0}) * {g}",),
                   numpy_helper=_SIGN_NUMPY),
       spellings=_names("abs", "abs", "abs"))

# Logarithms in other bases, log1p and expm1: PyTorch's backward divides by x ln 10 (x ln 2).
_LN10 = math.log(10.0)
_LN2 = math.log(2.0)

_unary("log10", "log₁₀", np.log10, lambda g, x, out: g / (x * _LN10),
       lambda t, x, out: t / (x * _LN10),
       lambda x: f"\\log_{{10}} {x}", lambda x: f"\\frac{{1}}{{{x} \\ln 10}}",
       rule=lambda b, g, args, out, needs: (b.op("div", g, b.op("mul", args[0],
                                                                  b.const(_LN10))),),
       code=OpCode("np.log10({0})", "torch.log10({0})", (f"1 / ({{0}} * {_LN10!r}) * {{g}}",)),
       spellings=Spellings(("numpy.log10",), ("torch.log10",), (), ("\\log_{10}",)),
       doc="The logarithm to base 10.")
_unary("log2", "log₂", np.log2, lambda g, x, out: g / (x * _LN2),
       lambda t, x, out: t / (x * _LN2),
       lambda x: f"\\log_{{2}} {x}", lambda x: f"\\frac{{1}}{{{x} \\ln 2}}",
       rule=lambda b, g, args, out, needs: (b.op("div", g, b.op("mul", args[0],
                                                                  b.const(_LN2))),),
       code=OpCode("np.log2({0})", "torch.log2({0})", (f"1 / ({{0}} * {_LN2!r}) * {{g}}",)),
       spellings=Spellings(("numpy.log2",), ("torch.log2",), (), ("\\log_{2}", "\\lg")),
       doc="The logarithm to base 2.")
_unary("log1p", "log1p", np.log1p, lambda g, x, out: g / (x + 1.0),
       lambda t, x, out: t / (x + 1.0),
       lambda x: f"\\ln(1 + {x})", lambda x: f"\\frac{{1}}{{1 + {x}}}",
       rule=lambda b, g, args, out, needs: (b.op("div", g, b.op("add", args[0],
                                                                  b.const(1.0))),),
       code=OpCode("np.log1p({0})", "torch.log1p({0})", ("1 / ({0} + 1) * {g}",)),
       spellings=_names("log1p", "log1p", "log1p"),
       doc="ln(1 + x), exact for tiny x (where 1 + x would round to 1).")
_unary("expm1", "expm1", np.expm1, lambda g, x, out: g * (out + 1.0),
       lambda t, x, out: t * (out + 1.0),
       lambda x: f"e^{{{x}}} - 1", lambda x: f"e^{{{x}}}",
       rule=_times_local(lambda b, x, out: b.op("add", out, b.const(1.0))),
       code=OpCode("np.expm1({0})", "torch.expm1({0})", ("({out} + 1) * {g}",)),
       spellings=_names("expm1", "expm1", "expm1"),
       doc="e^x - 1, exact for tiny x (where e^x would round to 1).")

# Inverse trigonometric and hyperbolic functions, erf.


def _rsqrt_one_minus_square(x: Array) -> Array:
    # PyTorch's (-x * x + 1).rsqrt(): inf at |x| = 1, NaN beyond.
    return np.asarray(1.0 / np.sqrt(1.0 - x * x))


def _asin_local(b: Builder, x: int) -> int:
    return b.op("div", b.const(1.0), b.op("sqrt", b.op("sub", b.const(1.0), b.op("mul", x, x))))


_unary("atan", "atan", np.arctan, lambda g, x, out: g / (x * x + 1.0),
       lambda t, x, out: t / (x * x + 1.0),
       lambda x: f"\\arctan {x}", lambda x: f"\\frac{{1}}{{1 + {x}^{{2}}}}",
       rule=lambda b, g, args, out, needs: (
           b.op("div", g, b.op("add", b.op("mul", args[0], args[0]), b.const(1.0))),),
       code=OpCode("np.arctan({0})", "torch.atan({0})", ("1 / ({0}**2 + 1) * {g}",)),
       spellings=Spellings(("numpy.arctan",), ("torch.atan", "torch.arctan"), ("tf.math.atan",),
                           ("\\arctan",)),
       aliases=("arctan",), doc="The inverse tangent, in (-pi/2, pi/2).")
_unary("asin", "asin", np.arcsin, lambda g, x, out: g * _rsqrt_one_minus_square(x),
       lambda t, x, out: t * _rsqrt_one_minus_square(x),
       lambda x: f"\\arcsin {x}", lambda x: f"\\frac{{1}}{{\\sqrt{{1 - {x}^{{2}}}}}}",
       rule=_times_local(lambda b, x, out: _asin_local(b, x)),
       code=OpCode("np.arcsin({0})", "torch.asin({0})", ("1 / np.sqrt(1 - {0}**2) * {g}",)),
       spellings=Spellings(("numpy.arcsin",), ("torch.asin", "torch.arcsin"), ("tf.math.asin",),
                           ("\\arcsin",)),
       aliases=("arcsin",),
       doc="The inverse sine, for x in [-1, 1]; its derivative is infinite at -1 and 1.")
_unary("acos", "acos", np.arccos, lambda g, x, out: g * -_rsqrt_one_minus_square(x),
       lambda t, x, out: t * -_rsqrt_one_minus_square(x),
       lambda x: f"\\arccos {x}", lambda x: f"-\\frac{{1}}{{\\sqrt{{1 - {x}^{{2}}}}}}",
       rule=_times_local(lambda b, x, out: b.op("neg", _asin_local(b, x))),
       code=OpCode("np.arccos({0})", "torch.acos({0})", ("-1 / np.sqrt(1 - {0}**2) * {g}",)),
       spellings=Spellings(("numpy.arccos",), ("torch.acos", "torch.arccos"), ("tf.math.acos",),
                           ("\\arccos",)),
       aliases=("arccos",),
       doc="The inverse cosine, for x in [-1, 1]; its derivative is infinite at -1 and 1.")
_unary("sinh", "sinh", np.sinh, lambda g, x, out: g * np.cosh(x), lambda t, x, out: t * np.cosh(x),
       lambda x: f"\\sinh {x}", lambda x: f"\\cosh {x}",
       rule=_times_local(lambda b, x, out: b.op("cosh", x)),
       code=OpCode("np.sinh({0})", "torch.sinh({0})", ("np.cosh({0}) * {g}",)),
       spellings=_names("sinh", "sinh", "sinh", "\\sinh"))
_unary("cosh", "cosh", np.cosh, lambda g, x, out: g * np.sinh(x), lambda t, x, out: t * np.sinh(x),
       lambda x: f"\\cosh {x}", lambda x: f"\\sinh {x}",
       rule=_times_local(lambda b, x, out: b.op("sinh", x)),
       code=OpCode("np.cosh({0})", "torch.cosh({0})", ("np.sinh({0}) * {g}",)),
       spellings=_names("cosh", "cosh", "cosh", "\\cosh"))

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf_local(x: Array) -> Array:
    # PyTorch's 2 / sqrt(pi) * exp(-x^2): 0 at +-inf.
    return np.asarray(_TWO_OVER_SQRT_PI * np.exp(-(x * x)))


_unary("erf", "erf", _erf, lambda g, x, out: _erf_local(x) * g,
       lambda t, x, out: _erf_local(x) * t,
       lambda x: f"\\operatorname{{erf}}({x})",
       lambda x: f"\\tfrac{{2}}{{\\sqrt{{\\pi}}}}\\,e^{{-{x}^{{2}}}}",
       rule=_times_local(lambda b, x, out: b.op("mul", b.const(_TWO_OVER_SQRT_PI),
                                                b.op("exp", b.op("neg", b.op("mul", x, x))))),
       code=OpCode("erf({0})", "torch.erf({0})",
                   (f"{_TWO_OVER_SQRT_PI!r} * np.exp(-{{0}}**2) * {{g}}",),
                   numpy_helper=_ERF_NUMPY),
       spellings=Spellings((), ("torch.erf", "torch.special.erf"), ("tf.math.erf",),
                           ("\\operatorname{erf}",)),
       doc="The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to x.")

# sign: also abs's derivative in gradient graphs. Its own derivative is 0 everywhere, as
# torch.sign's (at 0 too), so it is not differentiable here: nothing flows back through it.
register(Op(
    "sign", 1, "sign", same_shape, _sign,
    lambda g, args, out: (np.zeros(np.shape(args[0])),),
    jvp=lambda t, args, out: np.zeros(out.shape),
    rule=no_gradient,
    tex=lambda s: f"\\operatorname{{sign}}({s[0]})",
    local_tex=(lambda s: "0",),
    kink=_operand,
    code=OpCode("sign({0})", "torch.sign({0})", ("np.zeros_like({g})",),
                numpy_helper=_SIGN_NUMPY),
    spellings=Spellings(("numpy.sign",), ("torch.sign",), ("tf.math.sign",),
                        ("\\operatorname{sign}", "\\operatorname{sgn}")),
    differentiable=False,
    doc="-1, 0 or 1 (0 for NaN, as torch.sign). Its derivative is 0 everywhere, as in PyTorch.",
))


# ---------------------------------------------------------------------------------------------
# atan2(a, b): the angle of the point (b, a), in (-pi, pi]


def _atan2_recip(a: Array, b: Array) -> Array:
    # PyTorch's atan2_backward: 1 / (a^2 + b^2), set to 0 where a^2 + b^2 is 0, so that the
    # gradient at (0, 0) is 0 rather than NaN.
    denom = a * a + b * b
    with np.errstate(divide="ignore"):
        return np.asarray(np.where(denom == 0, 0.0, 1.0 / denom))


def _atan2_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    a, b = args
    r = _atan2_recip(a, b)
    return g * b * r, g * -a * r


def _atan2_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    # The VJP's transpose, with its mask: 0 at (0, 0). (PyTorch's forward mode divides by
    # a^2 + b^2 unmasked and gives NaN there.)
    a, b = args
    ta, tb = t
    r = _atan2_recip(a, b)
    return total(out, None if ta is None else ta * b * r, None if tb is None else tb * -a * r)


def _atan2_rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
                ) -> Sequence[int | None]:
    x, y = args
    denom = b.op("add", b.op("mul", x, x), b.op("mul", y, y))
    recip = b.op("masked", b.op("div", b.const(1.0), denom), b.op("nonzero", denom))
    return (b.op("mul", b.op("mul", g, y), recip) if needs[0] else None,
            b.op("mul", b.op("mul", g, b.op("neg", x)), recip) if needs[1] else None)


def _atan2_cut(args: Sequence[Array]) -> Array:
    # The angle jumps from pi to -pi where a crosses 0 with b < 0 (the negative real axis).
    a, b = args
    return np.asarray(np.where(b < 0, a, 1.0))


def _atan2_code(k: int) -> GradCode:
    def code(c: CodeArgs) -> str:
        a, b = c.args
        d = f"({a}**2 + {b}**2)"
        other = b if k == 0 else f"-{a}"
        return f"np.where({d} == 0, 0.0, 1 / {d}) * {other} * {c.g}"
    return code


register(Op(
    "atan2", 2, "atan2", broadcast_shape("atan2"), np.arctan2, _atan2_vjp, jvp=_atan2_jvp,
    rule=_atan2_rule,
    kink=_atan2_cut,
    tex=lambda s: f"\\operatorname{{atan2}}({s[0]}, {s[1]})",
    local_tex=(lambda s: f"\\frac{{{s[1]}}}{{{s[0]}^{{2}} + {s[1]}^{{2}}}}",
               lambda s: f"-\\frac{{{s[0]}}}{{{s[0]}^{{2}} + {s[1]}^{{2}}}}"),
    code=OpCode("np.arctan2({0}, {1})", "torch.atan2({0}, {1})", (_atan2_code(0), _atan2_code(1))),
    spellings=Spellings(("numpy.arctan2",), ("torch.atan2", "torch.arctan2"), ("tf.math.atan2",)),
    aliases=("arctan2",),
    doc="atan2(y, x): the angle of the point (x, y), in (-pi, pi]. Its gradient at (0, 0) is 0, as "
    "in PyTorch.",
))


# ---------------------------------------------------------------------------------------------
# Comparisons: 0/1 masks (float64), with derivative zero as PyTorch's comparisons (which give
# booleans, outside autograd). Their value jumps where a = b: the numeric check knows (`kink`).


def _no_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    return tuple(np.zeros(np.shape(a)) for a in args)


def _no_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    return np.zeros(out.shape)


def _comparison(name: str, operator: str, test: Callable[[Array, Array], Array], tex: str,
                spellings: Spellings, words: str) -> None:
    register(Op(
        name, 2, operator, broadcast_shape(operator),
        lambda a, b: np.asarray(test(a, b), dtype=np.float64),
        _no_vjp, jvp=_no_jvp, rule=no_gradient,
        tex=lambda s: f"\\mathbb{{1}}[{s[0]} {tex} {s[1]}]",
        local_tex=(lambda s: "0", lambda s: "0"),
        kink=_difference,
        code=OpCode(f"({{0}} {operator} {{1}}) * 1.0", f"({{0}} {operator} {{1}}).double()",
                    ("np.zeros_like({g})", "np.zeros_like({g})")),
        spellings=spellings,
        operator=operator,
        differentiable=False,
        doc=f"1 where a {words} b, else 0 (with NaN: 0, except for !=). Its derivative is 0.",
    ))


_comparison("gt", ">", np.greater, ">",
            Spellings(("numpy.greater",), ("torch.gt", "torch.greater"), ("tf.math.greater",),
                      ("\\gt",)), "is greater than")
_comparison("lt", "<", np.less, "<",
            Spellings(("numpy.less",), ("torch.lt", "torch.less"), ("tf.math.less",), ("\\lt",)),
            "is less than")
_comparison("ge", ">=", np.greater_equal, "\\geq",
            Spellings(("numpy.greater_equal",), ("torch.ge", "torch.greater_equal"),
                      ("tf.math.greater_equal",), ("\\geq", "\\ge")),
            "is greater than or equal to")
_comparison("le", "<=", np.less_equal, "\\leq",
            Spellings(("numpy.less_equal",), ("torch.le", "torch.less_equal"),
                      ("tf.math.less_equal",), ("\\leq", "\\le")),
            "is less than or equal to")
_comparison("eq", "==", np.equal, "=",
            Spellings(("numpy.equal",), ("torch.eq",), ("tf.math.equal",)), "equals")
_comparison("ne", "!=", np.not_equal, "\\neq",
            Spellings(("numpy.not_equal",), ("torch.ne", "torch.not_equal"),
                      ("tf.math.not_equal",), ("\\neq", "\\ne")), "differs from")


# ---------------------------------------------------------------------------------------------
# where(c, a, b): a where the condition c is nonzero (true), b where it is 0. c is a mask (a
# comparison, or any values: nonzero counts as true, NaN too, as PyTorch's c.bool()); it takes
# no gradient. The gradient goes to the operand that was picked, 0 to the other, as PyTorch's
# where(c, g, 0) and where(c, 0, g): exactly 0, even where g is infinite or NaN.


def _where_shape(shapes: Sequence[Shape]) -> Shape:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        c, a, b = (fmt_shape(s) for s in shapes)
        raise ShapeError(
            f"where cannot combine shapes {c} (the condition), {a} and {b}: they do not broadcast "
            "(each axis, counted from the right, must be equal or 1)"
        ) from None


def _where(c: Array, a: Array, b: Array) -> Array:
    return np.asarray(np.where(c != 0, a, b), dtype=np.float64)


def _where_vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
    c = args[0] != 0
    return np.zeros(np.shape(args[0])), np.where(c, g, 0.0), np.where(c, 0.0, g)


def _where_jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
    c = args[0] != 0
    _, ta, tb = t
    return total(out, None if ta is None else np.where(c, ta, 0.0),
                  None if tb is None else np.where(c, 0.0, tb))


def _where_rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
                ) -> Sequence[int | None]:
    c = args[0]
    return (None,
            b.op("masked", g, b.op("nonzero", c)) if needs[1] else None,
            b.op("masked", g, b.op("eq", c, b.const(0.0))) if needs[2] else None)


register(Op(
    "where", 3, "where", _where_shape, _where, _where_vjp, jvp=_where_jvp,
    rule=_where_rule,
    tex=lambda s: f"\\operatorname{{where}}({s[0]}, {s[1]}, {s[2]})",
    local_tex=(lambda s: "0", lambda s: f"\\mathbb{{1}}[{s[0]} \\neq 0]",
               lambda s: f"\\mathbb{{1}}[{s[0]} = 0]"),
    code=OpCode("np.where({0} != 0, {1}, {2})", "torch.where({0} != 0, {1}, {2})",
                ("np.zeros_like({0})", "np.where({0} != 0, {g}, 0.0)",
                 "np.where({0} != 0, 0.0, {g})")),
    spellings=Spellings(("numpy.where",), ("torch.where",), ("tf.where",)),
    no_grad=(0,),
    doc="where(c, a, b): a where c is nonzero (true), b where c is 0; as torch.where(c != 0, a, "
    "b). The gradient goes to the operand picked; the condition takes none.",
))
