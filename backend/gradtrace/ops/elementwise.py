"""Elementwise ops: arithmetic, max/min, and the functions of one number (exp, relu, ...).

Operands broadcast as NumPy does; the engine sums each operand's gradient back over the axes that
broadcasting added or stretched (`unbroadcast`), and rules do the same with `sum_to` nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .core import (
    Array,
    Builder,
    CodeArgs,
    Op,
    OpCode,
    OperandTangents,
    Rule,
    Spellings,
    broadcast_shape,
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


def _difference(args: Sequence[Array]) -> Array:
    # max/min pick their branch by the sign of a - b.
    return np.asarray(args[0] - args[1])


register(Op(
    "max", 2, "max", broadcast_shape("max"), np.maximum, _max_vjp, jvp=_max_jvp,
    rule=_route_rule("max_share"),
    kink=_difference,
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
    spellings=Spellings(("numpy.minimum",), ("torch.minimum",), ("tf.math.minimum",), ("\\min",)),
))


# ---------------------------------------------------------------------------------------------
# Elementwise unary ops


def _unary(name: str, symbol: str, forward: Callable[[Array], Array],
           vjp: Callable[[Array, Array, Array], Array], jvp: Callable[[Array, Array, Array], Array],
           tex: Callable[[str], str], local: Callable[[str], str], *, rule: Rule, code: OpCode,
           spellings: Spellings, gate: str | None = None,
           kink: Callable[[Sequence[Array]], Array] | None = None, operator: str | None = None,
           named: bool = True) -> None:
    """`vjp(g, x, out)` and `jvp(t, x, out)`: for an elementwise op both are f'(x) times the
    incoming gradient or tangent, but each is written out so that neither is assumed."""

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
       spellings=Spellings(("numpy.log",), ("torch.log",), ("tf.math.log",), ("\\ln", "\\log")))
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
       rule=_times_local(lambda b, x, out: b.op("add", b.const(1.0), b.op("mul", out, out))),
       code=OpCode("np.tan({0})", "torch.tan({0})", ("(1 + {out}**2) * {g}",)),
       spellings=_names("tan", "tan", "tan", "\\tan"))
_unary("tanh", "tanh", np.tanh, lambda g, x, out: g * (1.0 - out * out),
       lambda t, x, out: t * (1.0 - out * out), lambda x: f"\\tanh {x}",
       lambda x: f"1 - \\tanh^{{2}} {x}",
       rule=_times_local(lambda b, x, out: b.op("sub", b.const(1.0), b.op("mul", out, out))),
       code=OpCode("np.tanh({0})", "torch.tanh({0})", ("(1 - {out}**2) * {g}",)),
       spellings=_names("tanh", "tanh", "tanh", "\\tanh"))
# sigmoid is the composition 1 / (1 + e^-x), but keeps a fused form: the composition's backward
# gives NaN at x = -800 (e^800 overflows), while s (1 - s) gives 0, as PyTorch does.
_unary("sigmoid", "σ", _sigmoid, lambda g, x, out: g * out * (1.0 - out),
       lambda t, x, out: t * out * (1.0 - out),
       lambda x: f"\\sigma({x})", lambda x: f"\\sigma({x})\\,(1 - \\sigma({x}))",
       rule=_times_local(lambda b, x, out: b.op("mul", out, b.op("sub", b.const(1.0), out))),
       code=OpCode("1 / (1 + np.exp(-{0}))", "torch.sigmoid({0})",
                   ("{out} * (1 - {out}) * {g}",)),
       spellings=Spellings((), ("torch.sigmoid", "torch.nn.functional.sigmoid"),
                           ("tf.math.sigmoid", "tf.nn.sigmoid"), ("\\sigma",)))
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
_unary("abs", "abs", np.abs, lambda g, x, out: g * np.sign(x), lambda t, x, out: t * np.sign(x),
       lambda x: f"|{x}|", lambda x: f"\\operatorname{{sign}}({x})",
       rule=_times_local(lambda b, x, out: b.op("sign", x)),
       kink=_operand,
       code=OpCode("np.abs({0})", "torch.abs({0})", ("np.sign({0}) * {g}",)),
       spellings=_names("abs", "abs", "abs"))
