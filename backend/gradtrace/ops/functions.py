"""Activation functions with options, and clamp, as torch.nn.functional writes them.

softplus and gelu are composites (drawn as one gate that opens into its parts) with a fused
backward, PyTorch's own formula; leaky_relu, elu and clamp are ops of their own, with PyTorch's
derivative at their kinks: leaky_relu'(0) = negative_slope, elu'(0) = alpha, and clamp passes the
gradient where min <= x <= max, at the bounds too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import elementwise  # its erf; and the parts must be registered first
from .core import (
    Array,
    Attr,
    Builder,
    Op,
    OpCode,
    OperandTangents,
    Shape,
    ShapeError,
    Spellings,
    composite,
    family,
    register,
    same_shape,
    total,
)


def _num(v: float) -> str:
    """A number as generated code writes it (reads back to the same float64)."""
    return repr(float(v))


def _tex(v: float) -> str:
    """A number in a formula: 0.01, 2, -0.5."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def _plus(v: float) -> str:
    """A term's sign and size in a formula: `+ 0.01`, `- 0.5`."""
    return f"- {_tex(-v)}" if v < 0 else f"+ {_tex(v)}"


def _operand(args: Sequence[Array]) -> Array:
    # leaky_relu and elu pick their branch by the sign of their operand.
    return np.asarray(args[0])


# ---------------------------------------------------------------------------------------------
# softplus(x, beta=1, threshold=20): ln(1 + e^(beta x)) / beta, and x itself where beta x is
# above the threshold (torch.nn.functional.softplus), so that nothing overflows at x = 1000.


def _softplus(beta: float, threshold: float) -> Op:
    def compose(b: Builder, x: Sequence[int]) -> int:
        xb = x[0] if beta == 1 else b.op("mul", x[0], b.const(beta))
        over = b.op("gt", xb, b.const(threshold))
        # Where x itself is taken, the soft branch gets the threshold instead of beta x: e^(beta x)
        # would overflow there, and its gradient, 0 * inf, would be NaN.
        safe = b.op("where", over, b.const(threshold), xb)
        soft = b.op("log1p", b.op("exp", safe))
        if beta != 1:
            soft = b.op("div", soft, b.const(beta))
        return b.op("where", over, x[0], soft)

    def local(x: Array, g: Array) -> Array:
        # PyTorch's softplus_backward: g where beta x > threshold, else g z / (z + 1) with
        # z = e^(beta x).
        xb = x * beta
        with np.errstate(over="ignore", invalid="ignore"):
            z = np.exp(xb)
            return np.asarray(np.where(xb > threshold, g, g * z / (z + 1.0)))

    xb = "{0}" if beta == 1 else f"({{0}} * {_num(beta)})"
    soft = f"np.log1p(np.exp({xb}))" + ("" if beta == 1 else f" / {_num(beta)}")
    options = "" if (beta, threshold) == (1.0, 20.0) else (
        f", beta={_num(beta)}, threshold={_num(threshold)}")
    bx = "" if beta == 1 else f"{_tex(beta)}\\,"
    sub = "" if beta == 1 else f"_{{\\beta = {_tex(beta)}}}"

    def local_tex(s: Sequence[str]) -> str:
        # sigma(beta x) below the threshold; 1 above it, where softplus is x itself.
        x, th = f"{bx}{s[0]}", _tex(threshold)
        return (f"\\sigma({x})\\,\\mathbb{{1}}[{x} \\leq {th}] + "
                f"\\mathbb{{1}}[{x} > {th}]")

    return composite(
        "softplus", 1, "softplus", compose,
        vjp=lambda g, args, out: (local(args[0], g),),
        jvp=lambda t, args, out: total(out, None if t[0] is None else local(args[0], t[0])),
        tex=lambda s: f"\\operatorname{{softplus}}{sub}({s[0]})",
        local_tex=(local_tex,),
        vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\odot \\left({local_tex(s)}\\right)",),
        code=OpCode(f"np.where({xb} > {_num(threshold)}, {{0}}, {soft})",
                    f"torch.nn.functional.softplus({{0}}{options})",
                    (f"np.where({xb} > {_num(threshold)}, 1.0, np.exp({xb}) / (np.exp({xb}) + 1))"
                     " * {g}",)),
        spellings=Spellings((), ("torch.nn.functional.softplus",),
                            ("tf.math.softplus", "tf.nn.softplus")),
        doc="ln(1 + e^(beta x)) / beta, a smooth relu; x itself where beta x > threshold, as in "
        "PyTorch. Its derivative is the sigmoid of beta x (1 where beta x > threshold).",
    )


register(family(_softplus, attrs=(
    Attr("beta", "float", 1.0, "The sharpness: larger is closer to relu."),
    Attr("threshold", "float", 20.0, "Above it (beta x > threshold) softplus is x itself."),
)))


# ---------------------------------------------------------------------------------------------
# gelu(x, approximate='none'): x Phi(x), Phi the normal distribution's CDF; 'tanh': PyTorch's
# approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). The constants are C's M_SQRT1_2,
# M_SQRT2 and M_2_SQRTPI, as PyTorch's kernels use them.

_SQRT1_2 = 0.70710678118654752440
_SQRT2 = 1.41421356237309504880
_2_SQRTPI = 1.12837916709551257390
_PDF = _2_SQRTPI * _SQRT1_2 * 0.5  # 1 / sqrt(2 pi)
_K_BETA = _SQRT2 * _2_SQRTPI * 0.5  # sqrt(2 / pi)
_K_KAPPA = 0.044715


def _gelu_erf(b: Builder, x: Sequence[int]) -> int:
    cdf = b.op("add", b.const(1.0), b.op("erf", b.op("mul", x[0], b.const(_SQRT1_2))))
    return b.op("mul", b.op("mul", x[0], b.const(0.5)), cdf)


def _gelu_tanh(b: Builder, x: Sequence[int]) -> int:
    cube = b.op("mul", b.op("mul", x[0], x[0]), x[0])
    inner = b.op("mul", b.const(_K_BETA), b.op("add", x[0], b.op("mul", b.const(_K_KAPPA), cube)))
    return b.op("mul", b.op("mul", x[0], b.const(0.5)),
                b.op("add", b.const(1.0), b.op("tanh", inner)))


def _gelu_erf_local(x: Array) -> Array:
    # PyTorch's GeluBackward: cdf + x pdf.
    cdf = 0.5 * (1.0 + elementwise._erf(x * _SQRT1_2))
    pdf = _PDF * np.exp(x * x * -0.5)
    return np.asarray(cdf + x * pdf)


def _gelu_tanh_local(x: Array) -> Array:
    # PyTorch's GeluBackward with approximate='tanh', step by step.
    x_sq = x * x
    inner = _K_BETA * (x + _K_KAPPA * (x_sq * x))
    tanh_inner = np.tanh(inner)
    left = 0.5 * x
    right = 1.0 + tanh_inner
    left_derivative = 0.5 * right
    tanh_derivative = 1.0 - tanh_inner * tanh_inner
    inner_derivative = _K_BETA * (1.0 + 3.0 * _K_KAPPA * x_sq)
    right_derivative = left * tanh_derivative * inner_derivative
    return np.asarray(left_derivative + right_derivative)


def _gelu(approximate: str) -> Op:
    tanh = approximate == "tanh"
    local = _gelu_tanh_local if tanh else _gelu_erf_local

    def local_tex(x: str) -> str:
        if tanh:  # the product rule on x times (1 + tanh(inner)) / 2
            return (f"\\tfrac{{1}}{{2}}(1 + \\tau) + \\tfrac{{1}}{{2}}{x}\\,(1 - \\tau^{{2}})"
                    f"\\,\\sqrt{{2/\\pi}}\\,(1 + 3 \\cdot {_K_KAPPA}\\,{x}^{{2}})")
        return f"\\Phi({x}) + {x}\\,\\varphi({x})"

    def where(x: str) -> str:
        """What the local derivative's letters stand for (not a letter an operand may have)."""
        if tanh:
            return (f"\\tau = \\tanh\\big(\\sqrt{{2/\\pi}}\\,({x} + {_K_KAPPA}\\,"
                    f"{x}^{{3}})\\big)")
        return "\\Phi, \\varphi \\text{: the standard normal CDF and density}"
    if tanh:
        inner = f"{_num(_K_BETA)} * ({{0}} + {_num(_K_KAPPA)} * {{0}}**3)"
        numpy = f"0.5 * {{0}} * (1 + np.tanh({inner}))"
        backward = (f"(0.5 * (1 + np.tanh({inner})) + 0.5 * {{0}} * (1 - np.tanh({inner})**2)"
                    f" * {_num(_K_BETA)} * (1 + 3 * {_num(_K_KAPPA)} * {{0}}**2)) * {{g}}")
        torch = "torch.nn.functional.gelu({0}, approximate='tanh')"
        tex = "\\operatorname{gelu}_{\\tanh}"
    else:
        numpy = f"{{0}} * 0.5 * (1 + erf({{0}} * {_num(_SQRT1_2)}))"
        backward = (f"(0.5 * (1 + erf({{0}} * {_num(_SQRT1_2)})) + {{0}} * {_num(_PDF)}"
                    " * np.exp(-0.5 * {0}**2)) * {g}")
        torch = "torch.nn.functional.gelu({0})"
        tex = "\\operatorname{gelu}"
    return composite(
        "gelu", 1, "gelu", _gelu_tanh if tanh else _gelu_erf,
        vjp=lambda g, args, out: (g * local(args[0]),),
        jvp=lambda t, args, out: total(out, None if t[0] is None else t[0] * local(args[0])),
        tex=lambda s: f"{tex}({s[0]})",
        local_tex=(lambda s: f"{local_tex(s[0])},\\ {where(s[0])}",),
        vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\odot \\left({local_tex(s[0])}\\right)",),
        code=OpCode(numpy, torch, (backward,),
                    numpy_helper="" if tanh else elementwise._ERF_NUMPY),
        spellings=Spellings((), ("torch.nn.functional.gelu",), ("tf.nn.gelu",)),
        doc="x Phi(x), Phi the standard normal distribution's CDF (with approximate='tanh', "
        "PyTorch's tanh approximation of it).",
    )


register(family(_gelu, attrs=(
    Attr("approximate", "str", "none", "'none': x Phi(x) exactly; 'tanh': the tanh approximation.",
         choices=("none", "tanh")),
)))


# ---------------------------------------------------------------------------------------------
# leaky_relu(x, negative_slope=0.01): x where x > 0, negative_slope x elsewhere. At 0 (and for
# NaN) the derivative is negative_slope, as PyTorch's leaky_relu_backward (x > 0 ? g : g k).


def _leaky_relu(negative_slope: float) -> Op:
    k = negative_slope

    def forward(x: Array) -> Array:
        return np.asarray(np.where(x > 0, x, x * k))

    def vjp(g: Array, args: Sequence[Array], out: Array) -> Sequence[Array]:
        return (np.where(args[0] > 0, g, g * k),)

    def jvp(t: OperandTangents, args: Sequence[Array], out: Array) -> Array:
        return total(out, None if t[0] is None else np.where(args[0] > 0, t[0], t[0] * k))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        slope = b.op("where", b.op("gt", args[0], b.const(0.0)), b.const(1.0), b.const(k))
        return (b.op("mul", g, slope),)

    return Op(
        "leaky_relu", 1, "lrelu", same_shape, forward, vjp, jvp=jvp, rule=rule,
        tex=lambda s: f"\\operatorname{{leaky\\_relu}}({s[0]})",
        local_tex=(lambda s: f"\\mathbb{{1}}[{s[0]} > 0] {_plus(k)}\\,"
                   f"\\mathbb{{1}}[{s[0]} \\leq 0]",),
        vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\odot \\left(\\mathbb{{1}}[{s[0]} > 0] "
                 f"{_plus(k)}\\,\\mathbb{{1}}[{s[0]} \\leq 0]\\right)",),
        kink=_operand,
        code=OpCode(f"np.where({{0}} > 0, {{0}}, {{0}} * {_num(k)})",
                    f"torch.nn.functional.leaky_relu({{0}}, negative_slope={_num(k)})",
                    (f"np.where({{0}} > 0, 1.0, {_num(k)}) * {{g}}",)),
        spellings=Spellings((), ("torch.nn.functional.leaky_relu",), ("tf.nn.leaky_relu",)),
        doc="x where x > 0, negative_slope times x elsewhere; its derivative at 0 is "
        "negative_slope, as in PyTorch.",
    )


register(family(_leaky_relu, attrs=(
    Attr("negative_slope", "float", 0.01, "The slope for x <= 0.", aliases=("alpha",)),
)))


# ---------------------------------------------------------------------------------------------
# elu(x, alpha=1): x where x > 0, alpha (e^x - 1) elsewhere (expm1, as PyTorch). Its derivative
# at 0 is alpha e^0 = alpha, and 1 for NaN, as PyTorch's elu_backward (x <= 0 ? g alpha e^x : g).


def _elu(alpha: float) -> Op:
    def forward(x: Array) -> Array:
        with np.errstate(over="ignore"):
            return np.asarray(np.where(x <= 0, np.expm1(x) * alpha, x))

    def local(x: Array, g: Array) -> Array:
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(np.where(x <= 0, g * alpha * np.exp(x), g))

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        # g alpha e^x where x <= 0, else g. e^x is taken of x only where x < 0 (of 0 elsewhere,
        # the same e^0 at x = 0): at x = 1000 (or NaN) e^x would be inf (NaN) and the second
        # derivative 0 * inf = NaN; and PyTorch's elu_double_backward masks with x < 0, so that
        # elu''(0) = 0 while elu'(0) = alpha.
        x = args[0]
        e = b.op("exp", b.op("where", b.op("lt", x, b.const(0.0)), x, b.const(0.0)))
        slope = b.op("where", b.op("le", x, b.const(0.0)), b.op("mul", b.const(alpha), e),
                     b.const(1.0))
        return (b.op("mul", g, slope),)

    a = _num(alpha)
    scale = "+ " if alpha == 1 else f"{_plus(alpha)}\\,"

    def local_tex(s: Sequence[str]) -> str:
        return (f"\\mathbb{{1}}[{s[0]} > 0] {scale}e^{{{s[0]}}}\\,"
                f"\\mathbb{{1}}[{s[0]} \\leq 0]")
    return Op(
        "elu", 1, "elu", same_shape, forward,
        lambda g, args, out: (local(args[0], g),),
        jvp=lambda t, args, out: total(out, None if t[0] is None else local(args[0], t[0])),
        rule=rule,
        tex=lambda s: f"\\operatorname{{elu}}({s[0]})",
        local_tex=(local_tex,),
        vjp_tex=(lambda s, z: f"d{s[0]} = d{z} \\odot \\left({local_tex(s)}\\right)",),
        kink=_operand,
        code=OpCode(f"np.where({{0}} > 0, {{0}}, {a} * np.expm1({{0}}))",
                    f"torch.nn.functional.elu({{0}}, alpha={a})",
                    (f"np.where({{0}} <= 0, {a} * np.exp({{0}}), 1.0) * {{g}}",)),
        spellings=Spellings((), ("torch.nn.functional.elu",), ("tf.nn.elu",)),
        doc="x where x > 0, alpha (e^x - 1) elsewhere; its derivative at 0 is alpha, as in "
        "PyTorch.",
    )


register(family(_elu, attrs=(
    Attr("alpha", "float", 1.0, "The value elu approaches as x goes to minus infinity, negated."),
)))


# ---------------------------------------------------------------------------------------------
# clamp(x, min=None, max=None): torch.clamp, min(max(x, min), max) (so all max where min > max;
# NaN stays NaN). The gradient passes where min <= x <= max, bounds included, and is 0 elsewhere
# and for NaN, as PyTorch's clamp_backward.


def _clamp(min: float | None, max: float | None) -> Op:  # (torch.clamp names them so)
    lo, hi = min, max

    def shape(shapes: Sequence[Shape]) -> Shape:
        if lo is None and hi is None:
            raise ShapeError("clamp needs a bound: give min, max or both, as in "
                             "clamp(x, min=0, max=1)")
        return shapes[0]

    def forward(x: Array) -> Array:
        if lo is not None:
            x = np.maximum(x, lo)
        if hi is not None:
            x = np.minimum(x, hi)
        return np.asarray(x, dtype=np.float64)

    def inside(x: Array) -> Array:
        ok = np.ones(np.shape(x), dtype=bool)
        if lo is not None:
            ok &= x >= lo
        if hi is not None:
            ok &= x <= hi
        return ok

    def rule(b: Builder, g: int, args: Sequence[int], out: int, needs: Sequence[bool]
             ) -> Sequence[int | None]:
        x = args[0]
        masks = [b.op(op, x, b.const(v)) for op, v in (("ge", lo), ("le", hi)) if v is not None]
        mask = masks[0] if len(masks) == 1 else b.op("mul", masks[0], masks[1])
        return (b.op("masked", g, mask),)

    def kink(args: Sequence[Array]) -> Array:
        # The derivative jumps where x crosses a bound.
        x = np.ravel(args[0])
        return np.concatenate([x - v for v in (lo, hi) if v is not None] or [np.zeros(0)])

    tests = [f"({{0}} {rel} {_num(v)})" for rel, v in ((">=", lo), ("<=", hi)) if v is not None]
    given = [f"{name}={_num(v)}" for name, v in (("min", lo), ("max", hi)) if v is not None]
    lo_tex = "" if lo is None else f"{_tex(lo)} \\leq "
    hi_tex = "" if hi is None else f" \\leq {_tex(hi)}"
    return Op(
        "clamp", 1, "clamp", shape, forward,
        lambda g, args, out: (np.where(inside(args[0]), g, 0.0),),
        jvp=lambda t, args, out: total(out, None if t[0] is None
                                       else np.where(inside(args[0]), t[0], 0.0)),
        rule=rule,
        tex=lambda s: (f"\\operatorname{{clamp}}({s[0]}"
                       + "".join(f", {_tex(v)}" if v is not None else f", {none}"
                                 for v, none in ((lo, "-\\infty"), (hi, "\\infty"))) + ")"),
        local_tex=(lambda s: f"\\mathbb{{1}}[{lo_tex}{s[0]}{hi_tex}]" if lo_tex or hi_tex
                   else "1",),
        kink=kink,
        code=OpCode(f"np.clip({{0}}, {_num(lo) if lo is not None else None}, "
                    f"{_num(hi) if hi is not None else None})",
                    f"torch.clamp({{0}}, {', '.join(given)})",
                    (f"np.where({' & '.join(tests) or 'True'}, {{g}}, 0.0)",)),
        spellings=Spellings(("numpy.clip",), ("torch.clamp", "torch.clip"),
                            ("tf.clip_by_value",)),
        aliases=("clip",),
        doc="min(max(x, min), max), as torch.clamp; the gradient passes where min <= x <= max "
        "(at the bounds too) and is 0 elsewhere.",
    )


register(family(_clamp, attrs=(
    Attr("min", "float", None, "The lower bound (None: none).", aliases=("a_min",)),
    Attr("max", "float", None, "The upper bound (None: none).", aliases=("a_max",)),
)))
