"""Tokens of every notation a lecturer pastes: gradtrace's language, LaTeX and Unicode maths.

The surface notations are read here, at the level of tokens, so that the parser sees one
language and every token keeps its span in the text the user typed (an error under `\\frac`
points at `\\frac`). LaTeX structure becomes the language's: `\\frac{a}{b}` is the tokens of
`((a)/(b))`, `\\sqrt[3]{x}` of `((x)^(1/(3)))`, `x_{1}` is the name `x_1`, `W^{(1)}` the name
`W1`, `\\hat{y}` the name `y_hat`, `\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}` the list
`[[1, 2], [3, 4]]`. Unicode from PDFs reads as what it means: `x²` is `x^2`, `x₁` is `x_1`, `·`
and `×` are the product, `−` is minus, `√` and `∑` are sqrt and sum.

Token kinds beyond the language's own: `lgroup`/`rgroup` are brackets that only group (braces,
the parentheses `\\frac` implies, `\\left[`): never a call's or an index's; `bigop` is a big
operator (`∑`, `\\sum`) whose operand is the product after it; `tr` is a transpose written as a
superscript (`^\\top`, `ᵀ`); the op `·` is the product of the notation (juxtaposition, `\\cdot`,
`×`), which the graph builder makes the matrix product between tensors (README, "Pasting from
a lecture").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import GradtraceError


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num, name, str, op, cmp, lparen, rparen, lbracket, rbracket, lgroup, rgroup,
    # comma, colon, dot, ellipsis, assign, augassign, sep, bigop, tr, fpow, end
    text: str
    start: int
    end: int
    # A name that is one word whatever the reading rules say (`\mathrm{loss}`, `\alpha`): the
    # letter split never cuts it.
    whole: bool = False


_NUMBER_OK = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# A greedy run of characters that could belong to a number, validated against _NUMBER_OK so that
# `2..3` is one clear "malformed number" error. An `e` belongs to it only before an exponent's
# digits: `2e` is 2 times e, `1e-3` a number.
_NUMBER_RUN = re.compile(r"[0-9.]+(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What after a name may make it longer: a subscript, a layer label, an accent.
_AFTER_NAME = frozenset("_^₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₙₘ\u0302\u0304\u0303")
_SUBSCRIPT = re.compile(r"[A-Za-z0-9]+")
_LAYER = re.compile(r"\^\{\(([A-Za-z0-9]+)\)\}")  # W^{(1)}, a^{(L)}: a layer's label

# Characters that continue the statement of the line above when a line starts with them.
_CONTINUES = frozenset("+-*/@^\u00b7\u00d7\u2212\u22c5")

GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon",
    "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi",
    "Sigma", "Phi", "Psi", "Omega",
})
_GREEK_CHARS = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu",
    "ν": "nu", "ξ": "xi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
    "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta",
    "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
    "ℓ": "l",
}
_SUPERSCRIPTS = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
                 "⁷": "7", "⁸": "8", "⁹": "9"}
_SUBSCRIPTS = {"₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4", "₅": "5", "₆": "6", "₇": "7",
               "₈": "8", "₉": "9", "ᵢ": "i", "ⱼ": "j", "ₖ": "k", "ₙ": "n", "ₘ": "m"}
_FRACTIONS = {"½": ("1", "2"), "⅓": ("1", "3"), "¼": ("1", "4"), "¾": ("3", "4"),
              "⅔": ("2", "3")}
# Accents, combining (y + U+0302) or precomposed: a name with a suffix, as \hat{y} is y_hat.
_ACCENTS = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde"}
_ACCENTED = {"ŷ": ("y", "hat"), "ȳ": ("y", "bar"), "x̄": ("x", "bar")}
# Spaces of another width, as PDFs and slides have them. Invisible ones (zero-width, the BOM)
# are not among them: inside a name they would split it without anyone seeing why.
_SPACES = frozenset("\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                    "\u202f\u205f\u3000")
_UNICODE_OPS = {"·": ("op", "·"), "⋅": ("op", "·"), "∙": ("op", "·"), "×": ("op", "·"),
                "⊙": ("op", "*"), "∘": ("op", "*"), "−": ("op", "-"), "–": ("op", "-"),
                "—": ("op", "-"), "÷": ("op", "/"), "∕": ("op", "/"), "≤": ("cmp", "<="),
                "≥": ("cmp", ">="), "≠": ("cmp", "!="), "ᵀ": ("tr", "T"), "⊤": ("tr", "T")}
_NOT_READ = {
    "∂": "a partial derivative: gradtrace works the derivatives out itself, so give it the "
         "function (as f = x * y)",
    "∇": "a gradient: gradtrace works the derivatives out itself, so give it the function",
    "→": "an arrow (an update or a mapping): write one formula, as y = ...",
    "≈": "an approximation: write one formula with =",
    "∈": "a set membership: give the values in the value fields instead",
    "…": "an ellipsis: write every term out, or use sum(x)",
    "∫": "an integral: gradtrace computes with finite sums, as sum(x)",
}
# What a student most likely meant by a character with no reading.
_HINTS = {"∛": "x^(1/3)", "±": "+ or -"}

# LaTeX: the commands that name a function of the language.
_LATEX_FUNCTIONS = {
    "exp": "exp", "log": "log", "ln": "log", "lg": "log10", "sin": "sin", "cos": "cos",
    "tan": "tan", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "arcsin": "asin",
    "arccos": "acos", "arctan": "atan", "max": "max", "min": "min", "sigma": "sigma",
    "sgn": "sign", "softmax": "softmax", "ReLU": "relu", "relu": "relu",
}
_FRACS = frozenset({"frac", "dfrac", "tfrac", "cfrac"})
_WORD_COMMANDS = frozenset({"mathrm", "text", "textrm", "textit", "mathit", "mathsf",
                            "operatorname", "mathbf", "bf", "boldsymbol", "bm", "vec", "mathbb",
                            "mathcal", "textbf", "pmb"})
_ACCENT_COMMANDS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar",
                    "tilde": "tilde", "widetilde": "tilde"}
_IGNORED = frozenset({"displaystyle", "textstyle", "limits", "nolimits", "large", "Large",
                      "LARGE", "small", "normalsize", "quad", "qquad", "nonumber", "notag",
                      "rm", "it", "cal", "!", ",", ";", ":", " ", ">", "mathstrut", "strut",
                      "middle", "scriptstyle"})
_DELIMITER_SIZES = frozenset({"left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big",
                              "bigg", "Bigg", "biggl", "biggr", "Biggl", "Biggr"})
_LATEX_OPS = {"cdot": ("op", "·"), "times": ("op", "·"), "odot": ("op", "*"),
              "circ": ("op", "*"), "ast": ("op", "*"), "div": ("op", "/"),
              "leq": ("cmp", "<="), "le": ("cmp", "<="), "geq": ("cmp", ">="),
              "ge": ("cmp", ">="), "neq": ("cmp", "!="), "ne": ("cmp", "!="),
              "lt": ("cmp", "<"), "gt": ("cmp", ">")}
_LATEX_NOT_READ = {
    "partial": _NOT_READ["∂"], "nabla": _NOT_READ["∇"], "rightarrow": _NOT_READ["→"],
    "to": _NOT_READ["→"], "leftarrow": _NOT_READ["→"], "mapsto": _NOT_READ["→"],
    "approx": _NOT_READ["≈"], "in": _NOT_READ["∈"], "int": _NOT_READ["∫"],
    "cdots": _NOT_READ["…"], "ldots": _NOT_READ["…"], "dots": _NOT_READ["…"],
    "prod": "a product over an index: write the factors out",
    "lim": "a limit: gradtrace computes with numbers, not limits",
    "infty": "infinity: give it as a value (\"Infinity\") in the value fields",
    "pm": "a plus-or-minus: write one of the two formulas",
}
_MATRICES = frozenset({"bmatrix", "pmatrix", "matrix", "vmatrix", "Bmatrix", "array",
                       "smallmatrix"})
_LAYOUT_ENVS = frozenset({"align", "align*", "aligned", "equation", "equation*", "gather",
                          "gather*", "gathered", "split", "eqnarray", "eqnarray*",
                          "multline", "multline*"})


@dataclass(slots=True)
class Marks:
    """Where some tokens are (their indices): the name pass reads these instead of every token."""

    names: list[int] = field(default_factory=list)
    assigns: list[int] = field(default_factory=list)  # '=' and `+=` outside brackets
    seps: list[int] = field(default_factory=list)  # statement separators
    ends: list[int] = field(default_factory=list)  # separators, ':' outside brackets, the end
    defs: list[int] = field(default_factory=list)  # the word `def`
    # `(W x)_i`: the end of the bracket -> (the index of the next token, the index letters).
    bracket_indexes: dict[int, tuple[int, str]] = field(default_factory=dict)


_MARKED = frozenset({"name", "sep", "assign", "augassign", "colon"})


def _describe(ch: str) -> str:
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}'"
    return f"character U+{ord(ch):04X}"


class _Lexer:
    def __init__(self, src: str, max_depth: int) -> None:
        self.src = src
        self.tokens: list[Token] = []
        self.depth = 0  # open brackets: newlines inside them do not end a statement
        self.braces: list[bool] = []  # open \{: whether each is a call's (\max\{0, x\})
        self.bars = 0  # open |x|
        self.marks = Marks()
        self.nesting = 0  # LaTeX arguments inside arguments (recursion of `run`)
        self.max_depth = max_depth

    def emit(self, kind: str, text: str, start: int, end: int, whole: bool = False) -> None:
        if kind in _MARKED:
            self.mark(kind)
        self.tokens.append(Token(kind, text, start, end, whole))

    def mark(self, kind: str) -> None:
        """Note where the next token goes, for the name pass (reading.names): names, '=' outside
        brackets, statement ends, so that it need not walk every token again."""
        k = len(self.tokens)
        m = self.marks
        if kind == "name":
            m.names.append(k)
        elif kind == "sep":
            m.seps.append(k)
            m.ends.append(k)
        elif kind == "assign" or kind == "augassign":
            if self.depth == 0:
                m.assigns.append(k)
        elif kind == "colon" and self.depth == 0:
            m.ends.append(k)

    # -- the main loop ----------------------------------------------------------------------
    def run(self, i: int, n: int) -> None:
        # The commonest tokens (names, operators, brackets, '=') are appended here directly, for
        # speed: where emit() would note them in `marks` (names, '=' outside brackets), so do
        # these lines; the two must stay in step.
        src = self.src
        tokens = self.tokens
        marks = self.marks
        while i < n:
            ch = src[i]
            if ch == " " or ch == "\t":
                i += 1
            elif ch == "\n" or ch == "\r":
                self.newline(i, n)
                i += 1
            elif ch == "_" and tokens and tokens[-1].kind in ("rparen", "rbracket", "rgroup"):
                i = self.bracket_subscript(i, n)
            elif (ch.isalpha() and ch < "\x80") or ch == "_":
                m = _NAME.match(src, i, n)
                assert m is not None
                text, end = m.group(0), m.end()
                if text == "sum" and src.startswith((" (", "  (", " ["), end) and not (
                        tokens and tokens[-1].kind == "dot") and not self.arguments(end, n):
                    # `sum (y - t)^2` with a space: the sum of what follows, as ∑ (y - t)^2;
                    # `sum(x)` is a call.
                    self.emit("bigop", "sum", i, end)
                    i = end
                elif end < n and (src[end] in _AFTER_NAME or (text[-1] == "_")):
                    i = self.name(text, i, end, n)  # x_{1}, W^{(1)}, x₁: a longer name
                else:
                    if text == "def":
                        marks.defs.append(len(tokens))
                    marks.names.append(len(tokens))
                    tokens.append(Token("name", text, i, end))
                    i = end
            elif "0" <= ch <= "9" or ch == ".":
                if ch == "." and src.startswith("...", i):
                    self.emit("ellipsis", "...", i, i + 3)
                    i += 3
                elif ch == "." and i + 1 < n and (src[i + 1].isalpha() or src[i + 1] == "_") \
                        and tokens and tokens[-1].kind in ("name", "rparen", "rbracket", "tr"):
                    # `y.sum()`, `x.T`, `torch.zeros`: an attribute, not a number.
                    self.emit("dot", ".", i, i + 1)
                    i += 1
                else:
                    i = self.number(i, n)
            elif ch in "+-*/@^":
                if ch in "+-/@" and (i + 1 >= n or src[i + 1] != "="):
                    tokens.append(Token("op", ch, i, i + 1))  # the common case, inline
                    i += 1
                else:
                    i = self.operator(ch, i, n)
            elif ch == "(" or ch == "[":
                self.depth += 1
                tokens.append(Token("lparen" if ch == "(" else "lbracket", ch, i, i + 1))
                i += 1
            elif ch == ")" or ch == "]":
                self.depth = max(0, self.depth - 1)
                tokens.append(Token("rparen" if ch == ")" else "rbracket", ch, i, i + 1))
                i += 1
            elif ch == ",":
                if self.depth > 0 or not self.ends_formula(i + 1, n):
                    tokens.append(Token("comma", ch, i, i + 1))
                i += 1
            elif ch == ":":
                self.emit("colon", ch, i, i + 1)
                i += 1
            elif ch == "=":
                if src.startswith("==", i):
                    self.emit("cmp", "==", i, i + 2)
                    i += 2
                else:
                    if self.depth == 0:
                        marks.assigns.append(len(tokens))
                    tokens.append(Token("assign", ch, i, i + 1))
                    i += 1
            elif ch == ";":
                self.emit("sep", ch, i, i + 1)
                i += 1
            elif ch == "#":  # a comment to the end of the line
                while i < n and src[i] not in "\r\n":
                    i += 1
            elif ch in "<>!":
                if src.startswith(("!=", ">=", "<="), i):
                    self.emit("cmp", src[i:i + 2], i, i + 2)
                    i += 2
                elif ch == "!":
                    raise GradtraceError("syntax", "unexpected '!': write != for 'not equal'",
                                         i, i + 1)
                else:
                    self.emit("cmp", ch, i, i + 1)
                    i += 1
            elif ch in "'\"":
                if ch == "'" and tokens and tokens[-1].kind == "name" \
                        and tokens[-1].end == i and src.startswith(("'(", "' (", "'="), i):
                    raise GradtraceError("syntax", f"{tokens[-1].text}' is a derivative "
                                         "written with a prime: gradtrace works derivatives "
                                         "out itself, so give it the function", tokens[-1].start,
                                         i + 1)
                i = self.string(ch, i, n)
            elif ch == "\\":
                i = self.command(i, n)
            elif ch == "{":
                self.depth += 1
                self.emit("lgroup", "{", i, i + 1)
                i += 1
            elif ch == "}":
                self.depth = max(0, self.depth - 1)
                self.emit("rgroup", "}", i, i + 1)
                i += 1
            elif ch == "$" or ch == "&":
                i += 1  # maths delimiters and alignment: layout only
            elif ch == "|":
                i = self.bar(i)
            elif ord(ch) > 127:
                i = self.unicode(ch, i, n)
            else:
                raise GradtraceError("syntax", f"unexpected {_describe(ch)}", i, i + 1)

    def newline(self, i: int, n: int) -> None:
        prev = self.tokens[-1] if self.tokens else None
        if self.depth > 0 or prev is None or prev.kind in (
                "op", "cmp", "lparen", "lbracket", "lgroup", "comma", "assign", "augassign",
                "sep", "dot", "colon", "bigop"):
            return
        # A line that starts with a binary operator continues the statement above
        # (`L = a` then `+ b` is a + b), as a formula broken over lines in a slide is one.
        j = i + 1
        src = self.src
        while j < n and src[j] in " \t\r\n":
            j += 1
        if j < n and src[j] in _CONTINUES and not src.startswith(("**=", "*=", "+=", "-=", "/="),
                                                                     j):
            seps = self.marks.seps
            first = self.tokens[seps[-1]].end if seps else 0
            if src[j] not in "-−" or self.indent(j) > self.indent(first):
                return
            # A line that starts with a minus, indented no more than its statement's first
            # line, is a statement of its own (`-log(p)`), as in Python; `+ b`, `* b` can only
            # continue.
        self.emit("sep", "\n", i, i + 1)

    def arguments(self, i: int, n: int) -> bool:
        """Whether the brackets after position i hold a comma at their own level (a call's
        arguments, `sum (X, 0)`), or nothing."""
        src = self.src
        j = self.skip_spaces(i, n)
        depth = 0
        for k in range(j, n):
            c = src[k]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
                if depth == 0:
                    return k == j + 1
            elif c == "," and depth == 1:
                return True
        return False

    def ends_formula(self, i: int, n: int) -> bool:
        """Whether only spaces, `$` or a LaTeX line break follow up to the end of the line: a
        `.` or `,` there ends a sentence around a formula (`$$ f(x) = x^2. $$`)."""
        src = self.src
        prev = self.tokens[-1] if self.tokens else None
        if self.depth > 0 or prev is None or prev.kind not in ("num", "name", "rparen",
                                                               "rgroup", "rbracket"):
            return False
        while i < n and src[i] in " \t":
            i += 1
        return i >= n or src[i] in "$\r\n" or src.startswith("\\\\", i) \
            or src.startswith("\\end", i) or src.startswith("\\]", i)

    def bar(self, i: int) -> int:
        """`|x|` is abs(x) and `||w||` norm(w): a bar after an operand closes, elsewhere
        opens."""
        width = 2 if self.src.startswith("||", i) else 1
        prev = self.tokens[-1] if self.tokens else None
        closes = self.bars > 0 and prev is not None and prev.kind in (
            "num", "name", "rparen", "rgroup", "rbracket", "tr")
        if closes:
            self.bars -= 1
            self.depth = max(0, self.depth - 1)
            self.emit("rparen", ")", i, i + width)
        else:
            self.bars += 1
            self.depth += 1
            self.emit("name", "abs" if width == 1 else "norm", i, i + width, whole=True)
            self.emit("lparen", "(", i, i + width)
        return i + width

    def indent(self, i: int) -> int:
        """The indentation of the line that holds position i."""
        src = self.src
        start = src.rfind("\n", 0, i) + 1
        k = start
        while k < len(src) and src[k] in " \t":
            k += 1
        return k - start

    def number(self, i: int, n: int) -> int:
        m = _NUMBER_RUN.match(self.src, i, n)
        assert m is not None
        text = m.group(0)
        if text == "." and self.ends_formula(i + 1, n):
            return i + 1
        if text == ".":
            raise GradtraceError("syntax", "unexpected '.': a number needs a digit after the "
                                 "point, as in .5", i, i + 1)
        if not _NUMBER_OK.fullmatch(text):
            raise GradtraceError("syntax", f"malformed number '{text}'", i, m.end())
        self.tokens.append(Token("num", text, i, m.end()))
        return m.end()

    def operator(self, ch: str, i: int, n: int) -> int:
        src = self.src
        if ch == "*" and src.startswith("**", i):
            if src.startswith("**=", i):
                self.emit("augassign", "^", i, i + 3)
                return i + 3
            self.emit("op", "^", i, i + 2)
            return self.superscript(i + 2, n)
        if i + 1 < n and src[i + 1] == "=" and ch in "+-*/@":
            self.emit("augassign", ch, i, i + 2)
            return i + 2
        self.emit("op", ch, i, i + 1)
        if ch == "^":
            return self.superscript(i + 1, n)
        return i + 1

    def superscript(self, i: int, n: int) -> int:
        """After `^`: a transpose (`^\\top`, `^{\\top}`, `^⊤`) replaces the `^` by `tr`; `^{T}`
        is `^ T` (the name pass decides whether T is a transpose or a value)."""
        src = self.src
        if src.startswith("T", i) and i + 1 < n and src[i + 1].isalpha():
            # x^Ty: a superscript without braces is one character, so this is x^T y.
            self.emit("name", "T", i, i + 1)
            return i + 1
        for text in ("\\top", "{\\top}", "\\intercal", "{\\intercal}", "⊤", "{⊤}", "{T}"):
            if src.startswith(text, i):
                end = i + len(text)
                if end < n and text[-1] not in "}⊤" and (src[end].isalpha()):
                    continue  # \topology: not ours
                op = self.tokens.pop()
                if text == "{T}":
                    self.tokens.append(op)
                    self.emit("name", "T", i + 1, i + 2)
                else:
                    self.emit("tr", "T", op.start, end)
                return end
        return i

    def string(self, ch: str, i: int, n: int) -> int:
        src = self.src
        close = src.find(ch, i + 1)
        line_end = min((k for k in (src.find("\n", i), src.find("\r", i)) if k >= 0), default=n)
        if close < 0 or close > line_end:
            raise GradtraceError("syntax", f"unclosed {ch}: a word in quotes needs its closing "
                                 f"{ch}", i, i + 1)
        self.emit("str", src[i + 1:close], i, close + 1)
        return close + 1

    # -- names and what follows them ----------------------------------------------------------
    def name(self, text: str, start: int, i: int, n: int, whole: bool = False) -> int:
        """A name, with the subscripts and layer labels written after it: `x_{1}` is `x_1`,
        `\\theta_1` is `theta_1`, `W^{(1)}` is `W1`, `x₁` is `x_1`."""
        src = self.src
        while i < n:
            ch = src[i]
            if ch == "_" or (text.endswith("_") and ch == "{"):
                j = i + 1 if ch == "_" else i
                if not text.endswith("_"):
                    text += "_"
                if j < n and src[j] == "{":
                    close = self.closing(j, n)
                    inner = src[j + 1:close].strip()
                    word = re.fullmatch(r"\\(?:text|mathrm|textrm|rm)\s*\{([A-Za-z0-9]+)\}", inner)
                    if word is not None:  # L_{\text{nll}}: a name
                        text += word.group(1)
                        i = close + 1
                        continue
                    if re.fullmatch(r"[A-Za-z]_\{?[A-Za-z0-9]+\}?", inner):
                        # f_{y_i}: the entry of f at the labels y (the index subscript of y_i
                        # is read away as for any name).
                        self.emit("name", text.rstrip("_"), start, j - 1)
                        self.emit("lbracket", "[", j, j + 1)
                        self.inner(j + 1, close, (j, close + 1))
                        self.emit("rbracket", "]", close, close + 1)
                        return close + 1
                    if not _SUBSCRIPT.fullmatch(inner.replace(" ", "").replace(",", "")):
                        shown = src[j:close + 1][:30]
                        raise GradtraceError(
                            "syntax", f"a subscript gradtrace cannot read: '{shown}' "
                            "(a subscript is part of a name, as x_{1} or W_{ij}; an index into "
                            "a tensor is written x[i])", start, close + 1)
                    text += inner.replace(" ", "").replace(",", "")
                    i = close + 1
                elif j < n and (src[j].isalnum() and src[j] < "\x80"):
                    text += src[j]
                    i = j + 1
                elif j < n and src[j] == "\\":
                    m = re.compile(r"\\([A-Za-z]+)(?:\s*\{([A-Za-z0-9]+)\})?").match(src, j)
                    if m is None or (m.group(1) not in GREEK and m.group(2) is None):
                        raise GradtraceError("syntax", "a subscript gradtrace cannot read",
                                             j, j + 1)
                    text += m.group(2) or m.group(1)  # \mu_\mathcal{B}: mu_B
                    i = m.end()
                else:
                    break
            elif ch in _SUBSCRIPTS:
                text += ("" if text.endswith("_") else "_") + _SUBSCRIPTS[ch]
                i += 1
            elif ch == "^" and src.startswith("^{(", i):
                m = _LAYER.match(src, i)
                if m is None:
                    break
                text = text.rstrip("_") + m.group(1)
                i = m.end()
            elif ch in _ACCENTS:
                text += "_" + _ACCENTS[ch]
                i += 1
            else:
                break
        self.emit("name", text, start, i, whole)
        return i

    # -- LaTeX ------------------------------------------------------------------------------
    def closing(self, open_at: int, n: int) -> int:
        """The index of the `}` matching the `{` at `open_at`."""
        depth = 0
        src = self.src
        k = open_at
        while k < n:
            c = src[k]
            if c == "\\":
                k += 2  # an escaped character (\{, \}) or a line break (\\\\)
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return k
            k += 1
        raise GradtraceError("syntax", "'{' has no matching '}'", open_at, open_at + 1)

    def argument(self, i: int, n: int, what: str, at: tuple[int, int]) -> tuple[int, int, int]:
        """A LaTeX command's argument after position i: `{...}`, or one character, or one
        command. Returns (start, end) of its text and the position after it."""
        src = self.src
        while i < n and src[i] in " \t":
            i += 1
        if i >= n:
            raise GradtraceError("syntax", f"{what} needs its argument, as in {what}{{x}}", *at)
        if src[i] == "{":
            close = self.closing(i, n)
            return i + 1, close, close + 1
        if src[i] == "\\":
            m = re.compile(r"\\[A-Za-z]+").match(src, i)
            end = m.end() if m else i + 2
            return i, end, end
        if src[i] in "}^_&":
            raise GradtraceError("syntax", f"{what} needs its argument, as in {what}{{x}}", *at)
        return i, i + 1, i + 1

    def inner(self, a: int, b: int, at: tuple[int, int]) -> None:
        """The tokens of a command's argument, in place."""
        self.nesting += 1
        if self.nesting > self.max_depth:
            raise GradtraceError("limit", f"expression nested too deeply (more than "
                                 f"{self.max_depth} levels)", *at)
        depth = self.depth
        self.run(a, b)
        self.depth = depth
        self.nesting -= 1

    def group(self, a: int, b: int, at: tuple[int, int]) -> None:
        """`( argument )`, as brackets that only group."""
        self.emit("lgroup", "{", at[0], at[1])
        self.inner(a, b, at)
        closed = b < len(self.src) and self.src[b] == "}"
        self.emit("rgroup", "}", *((b, b + 1) if closed else at))

    def command(self, i: int, n: int) -> int:
        src = self.src
        m = re.compile(r"\\([A-Za-z]+|.)").match(src, i)
        if m is None:  # a lone backslash at the end
            raise GradtraceError("syntax", "unexpected '\\' at the end", i, i + 1)
        cmd, end = m.group(1), m.end()
        at = (i, end)
        if cmd == "\\":
            self.emit("sep", "\\\\", i, end)
            return end
        if cmd in _IGNORED:
            return end
        if cmd in ("{", "}"):
            return self.brace(cmd, i, end)
        if cmd in ("leftarrow", "gets", "coloneqq"):  # batch norm's x̂ ← (x - μ) / σ
            self.emit("assign", "=", i, end)
            return end
        if cmd == "|":
            raise GradtraceError("syntax", "a norm \\| x \\|: write norm(x)", i, end)
        if cmd in _FRACS:
            a0, a1, j = self.argument(end, n, f"\\{cmd}", at)
            b0, b1, k = self.argument(j, n, f"\\{cmd}", at)
            if re.fullmatch(r"\s*(?:d|\\mathrm\{d\}|d\^\{?2\}?)\s*(?:[A-Za-z]\w*)?\s*",
                            src[a0:a1]) and re.match(r"\s*(?:d|\\mathrm\{d\})\s*[A-Za-z]",
                                                     src[b0:b1]):
                # d/dx: a derivative, an error where it is read (a chain's left side is not:
                # `\frac{d}{dx} σ(x) = σ(x)(1 - σ(x))` reads the formula on the right).
                self.emit("deriv", f"\\{cmd}{{{src[a0:a1]}}}{{{src[b0:b1]}}}", i, k)
                return k
            self.emit("lgroup", "{", i, end)
            self.group(a0, a1, (i, end))
            self.emit("op", "/", i, end)
            self.group(b0, b1, (i, end))
            self.emit("rgroup", "}", k - 1, k)
            return k
        if cmd == "sqrt":
            j = end
            while j < n and src[j] == " ":
                j += 1
            if j < n and src[j] == "[":  # \sqrt[3]{x}: the third root
                close = src.find("]", j)
                if close < 0:
                    raise GradtraceError("syntax", "'[' has no matching ']'", j, j + 1)
                a0, a1, k = self.argument(close + 1, n, "\\sqrt", at)
                self.emit("lgroup", "{", i, end)
                self.group(a0, a1, at)
                self.emit("op", "^", i, end)
                self.emit("lgroup", "{", i, end)
                self.emit("num", "1", i, end)
                self.emit("op", "/", i, end)
                self.group(j + 1, close, (j, close + 1))
                self.emit("rgroup", "}", k - 1, k)
                self.emit("rgroup", "}", k - 1, k)
                return k
            a0, a1, k = self.argument(end, n, "\\sqrt", at)
            self.emit("name", "sqrt", i, end)
            self.emit("lparen", "(", i, end)
            self.inner(a0, a1, at)
            self.emit("rparen", ")", k - 1, k)
            return k
        if cmd in _ACCENT_COMMANDS or cmd in _WORD_COMMANDS:
            j = end
            while j < n and src[j] == " ":
                j += 1
            if cmd == "bf" and (j >= n or src[j] != "{"):
                return end  # {\bf x}: a font switch
            a0, a1, k = self.argument(end, n, f"\\{cmd}", at)
            word = src[a0:a1].strip()
            if word.startswith("\\") and word[1:] in GREEK:
                word = word[1:]
            elif word.startswith("{") or word.startswith("\\"):
                # \mathbf{\hat{y}} and the like: read what is inside as it is.
                self.inner(a0, a1, at)
                return k
            if cmd in _ACCENT_COMMANDS:
                if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", word):
                    raise GradtraceError("syntax", f"\\{cmd} over '{word[:20]}': gradtrace reads "
                                         "an accent over one name, as \\hat{y}", i, k)
                return self.name(f"{word}_{_ACCENT_COMMANDS[cmd]}", i, k, n, whole=True)
            word = word.replace(" ", "").replace("\\_", "_")
            if cmd in ("operatorname", "mathrm", "text", "textrm") and \
                    (word in _LATEX_FUNCTIONS or word.lower() in _LATEX_FUNCTIONS):
                fn = _LATEX_FUNCTIONS.get(word) or _LATEX_FUNCTIONS[word.lower()]
                self.emit("name", fn, i, k, whole=True)
                return self.limits(k, n)
            if cmd in ("operatorname",) or (cmd in ("mathrm", "text", "textrm") and
                                            word.lower() in _KNOWN_WORDS):
                self.emit("name", word.lower() if word.lower() in _KNOWN_WORDS else word, i, k,
                          whole=True)
                return k
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word):
                # \bf{W^{(1)}}, \mathbf{x}_i: the font changes nothing; read what is inside.
                self.inner(a0, a1, at)
                return k
            return self.name(word, i, k, n, whole=True)
        if cmd in _DELIMITER_SIZES:
            return self.delimiter(cmd, i, end, n)
        if cmd in ("begin", "end"):
            return self.environment(cmd, i, end, n)
        if cmd in ("tag", "label"):
            _, _, k = self.argument(end, n, f"\\{cmd}", at)
            return k
        if cmd == "sum":
            self.emit("bigop", "sum", i, end)
            return self.limits(end, n)
        if cmd in GREEK and end < n and self.src[end] == "_":
            return self.name(cmd, i, end, n, whole=True)  # \sigma_B: a name, subscripted
        if cmd in _LATEX_FUNCTIONS:
            self.emit("name", _LATEX_FUNCTIONS[cmd], i, end, whole=True)
            if cmd in ("max", "min"):
                return self.limits(end, n)
            return self.name_suffix_power(end, n)
        if cmd == "pi":
            self.emit("name", "pi", i, end, whole=True)
            return end
        if cmd in GREEK:
            return self.name(cmd, i, end, n, whole=True)
        if cmd == "ell":
            return self.name("l", i, end, n, whole=True)
        if cmd in _LATEX_OPS:
            kind, text = _LATEX_OPS[cmd]
            self.emit(kind, text, i, end)
            return end
        if cmd in ("top", "intercal"):
            self.emit("tr", "T", i, end)
            return end
        if cmd in ("lbrack", "rbrack"):
            self.emit("lgroup" if cmd == "lbrack" else "rgroup", "[", i, end)
            return end
        if cmd in _LATEX_NOT_READ:
            raise GradtraceError("syntax", f"\\{cmd} is {_LATEX_NOT_READ[cmd]}", i, end)
        raise GradtraceError("syntax", f"unknown LaTeX command \\{cmd}: gradtrace reads \\frac, "
                             "\\sqrt, \\cdot, \\exp, \\log, \\sigma, \\sum, Greek letters and "
                             "the like (README, Pasting from a lecture)", i, end)

    def brace(self, cmd: str, i: int, end: int) -> int:
        """`\\{ ... \\}`: a group; after a function's name (`\\max\\{0, x\\}`) its call's
        parentheses."""
        if cmd == "{":
            self.depth += 1
            prev = self.tokens[-1] if self.tokens else None
            call = prev is not None and prev.kind == "name" and prev.whole \
                and prev.text in _LATEX_FUNCTION_NAMES
            self.braces.append(call)
            self.emit("lparen" if call else "lgroup", "(" if call else "{", i, end)
        else:
            self.depth = max(0, self.depth - 1)
            call = self.braces.pop() if self.braces else False
            self.emit("rparen" if call else "rgroup", ")" if call else "}", i, end)
        return end

    def name_suffix_power(self, i: int, n: int) -> int:
        """`\\sin^2 x` is sin(x)^2: the power moves after the function's argument. Only the plain
        form (a whole number) is read; other superscripts stay where they are."""
        src = self.src
        m = re.compile(r"\^(\d|\{\d+\})").match(src, i)
        if m is None:
            return i
        # `fpow`: the parser raises the function's value to this power.
        self.emit("fpow", m.group(1).strip("{}"), i, m.end())
        return m.end()

    def limits(self, i: int, n: int) -> int:
        """The limits written under and over `\\sum`, `\\max`: `_i`, `_{i=1}^{N}`. The sum is
        over the whole tensor; the limits are read past. A limit that leaves entries out
        (`_{j \\neq y_i}`) would change the sum: refused, with how to write it."""
        src = self.src
        for mark in "_^":
            j = self.skip_spaces(i, n)
            if src.startswith(("\\limits", "\\nolimits"), j):
                j = self.skip_spaces(j + (7 if src.startswith("\\limits", j) else 9), n)
                i = j
            if j < n and src[j] == mark:
                a, b, after = self.script(j + 1, n)
                if re.search(r"\\neq?\b|≠|!=|\\notin", src[a:b]):
                    raise GradtraceError(
                        "syntax", f"a sum that leaves entries out ({src[j:after][:30]}): "
                        "gradtrace sums over the whole tensor; subtract what is left out (as "
                        "sum(max(0, s - s[y] + 1)) - 1 for cs231n's SVM loss)", j, after)
                i = after
        return i

    def skip_spaces(self, i: int, n: int) -> int:
        while i < n and self.src[i] == " ":
            i += 1
        return i

    def script(self, j: int, n: int) -> tuple[int, int, int]:
        """A sub- or superscript after its `_` or `^`: `{...}`, one letter or digit, or a
        command. Returns the span of its text and where it ends."""
        src = self.src
        j = self.skip_spaces(j, n)
        if j < n and src[j] == "{":
            close = self.closing(j, n)
            return j + 1, close, close + 1
        if j < n and src[j] == "\\":
            m = re.compile(r"\\[A-Za-z]+").match(src, j)
            if m is not None:
                return j, m.end(), m.end()
        if j < n and src[j].isalnum():
            return j, j + 1, j + 1
        raise GradtraceError("syntax", "a sub- or superscript needs what it is after '_' or "
                             "'^', as in x_i or x^{2}", j - 1, min(j + 1, n))

    def bracket_subscript(self, i: int, n: int) -> int:
        """`[\\sigma(x)]_i`, `(W x)_i`: the entry i of a formula, elementwise, is the formula
        (the index is read away; a power after it stays). Another subscript after a bracket
        (`\\|w\\|_2`, a norm's order) is refused: it changes what is computed."""
        a, b, after = self.script(i + 1, n)
        text = self.src[a:b].replace(" ", "").replace(",", "")
        if re.fullmatch(r"[ijklmn]{1,2}", text):
            # Noted, so that a product of two such entries is elementwise, as x_i y_i is.
            self.marks.bracket_indexes[self.tokens[-1].end] = (len(self.tokens), text)
        else:
            raise GradtraceError("syntax", f"a subscript after a bracket ('_{text[:20]}'): "
                                 "gradtrace reads an index (i, j, k) there, which it reads "
                                 "away; for a norm write norm(x), or sum(abs(x)) for the 1-norm",
                                 i, after)
        return after

    def delimiter(self, size: str, i: int, end: int, n: int) -> int:
        src = self.src
        j = end
        while j < n and src[j] == " ":
            j += 1
        opening = size in ("left", "bigl", "Bigl", "biggl", "Biggl") or (
            size in ("big", "Big", "bigg", "Bigg") and j < n and src[j] in "([")
        if j >= n:
            raise GradtraceError("syntax", f"\\{size} needs a bracket after it", i, end)
        if src.startswith(("\\{", "\\}", "\\|", "\\lvert", "\\rvert", "\\lVert", "\\rVert",
                           "\\langle", "\\rangle", "\\lbrack", "\\rbrack"), j):
            m = re.compile(r"\\([A-Za-z]+|.)").match(src, j)
            assert m is not None
            d, k = m.group(1), m.end()
            d = {"{": "{", "}": "}", "lbrack": "[", "rbrack": "]", "lvert": "|", "rvert": "|",
                 "|": "‖", "lVert": "‖", "rVert": "‖"}.get(d, d)
        else:
            d, k = src[j], j + 1
        if d == ".":
            return k
        if d in "([{":
            self.depth += 1
            if d == "(":
                self.emit("lparen", "(", i, k)
            else:
                self.emit("lgroup", d, i, k)
            return k
        if d in ")]}":
            self.depth = max(0, self.depth - 1)
            if d == ")":
                self.emit("rparen", ")", i, k)
            else:
                self.emit("rgroup", d, i, k)
            return k
        if d in ("|", "‖"):
            fn = "abs" if d == "|" else "norm"
            if opening:
                self.depth += 1
                self.emit("name", fn, i, k, whole=True)
                self.emit("lparen", "(", i, k)
            else:
                self.depth = max(0, self.depth - 1)
                self.emit("rparen", ")", i, k)
            return k
        raise GradtraceError("syntax", f"\\{size} before '{d}': gradtrace reads ( ) [ ] \\{{ "
                             "\\} and |", i, k)

    def environment(self, cmd: str, i: int, end: int, n: int) -> int:
        src = self.src
        a0, a1, k = self.argument(end, n, f"\\{cmd}", (i, end))
        env = src[a0:a1].strip()
        if env in _LAYOUT_ENVS:
            return k
        if cmd == "end" or env not in _MATRICES:
            raise GradtraceError("syntax", f"\\{cmd}{{{env[:20]}}}: gradtrace reads matrices "
                                 "(bmatrix, pmatrix, array) and aligned formulas", i, k)
        stop = src.find(f"\\end{{{env}}}", k)
        if stop < 0:
            raise GradtraceError("syntax", f"\\begin{{{env}}} has no \\end{{{env}}}", i, k)
        if env == "array" and src.startswith("{", k):  # the column format: {cccc}
            k = self.closing(k, n) + 1
        after = stop + len(f"\\end{{{env}}}")
        body = src[k:stop]
        # Rows split at \\, cells at &, both only outside braces.
        rows: list[list[tuple[int, int]]] = [[]]
        depth, cell = 0, k
        p = k
        while p < stop:
            c = src[p]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif depth == 0 and c == "&":
                rows[-1].append((cell, p))
                cell = p + 1
            elif depth == 0 and src.startswith("\\\\", p):
                rows[-1].append((cell, p))
                rows.append([])
                cell = p + 2
                p += 2
                continue
            p += 1
        rows[-1].append((cell, stop))
        rows = [r for r in rows if any(src[a:b].strip() for a, b in r)]
        if not body.strip() or not rows:
            raise GradtraceError("syntax", "an empty matrix", i, after)
        self.depth += 1
        single = all(len(r) == 1 for r in rows)
        self.emit("lbracket", "[", i, k)
        for r, row in enumerate(rows):
            if r:
                self.emit("comma", ",", row[0][0], row[0][0])
            if not single:
                self.emit("lbracket", "[", row[0][0], row[0][0])
            for col, (a, b) in enumerate(row):
                if col:
                    self.emit("comma", ",", a, a)
                self.inner(a, b, (a, b))
            if not single:
                self.emit("rbracket", "]", row[-1][1], row[-1][1])
        self.depth -= 1
        self.emit("rbracket", "]", stop, after)
        return after

    # -- Unicode ----------------------------------------------------------------------------
    def unicode(self, ch: str, i: int, n: int) -> int:
        if ch in _SPACES:
            return i + 1
        if ch in _GREEK_CHARS:
            return self.name(_GREEK_CHARS[ch], i, i + 1, n, whole=True)
        if ch == "π":
            return self.name("pi", i, i + 1, n, whole=True)
        if ch in _ACCENTED:
            base, accent = _ACCENTED[ch]
            return self.name(f"{base}_{accent}", i, i + 1, n, whole=True)
        if ch in _SUPERSCRIPTS or ch == "⁻":
            j = i
            digits = ""
            negative = False
            if ch == "⁻":
                negative = True
                j += 1
            while j < n and self.src[j] in _SUPERSCRIPTS:
                digits += _SUPERSCRIPTS[self.src[j]]
                j += 1
            if not digits:
                raise GradtraceError("syntax", "a superscript minus needs its digits, as x⁻¹",
                                     i, j)
            self.emit("op", "^", i, i)
            if negative:
                self.emit("op", "-", i, i + 1)
            self.emit("num", digits, i + negative, j)
            return j
        if ch in _FRACTIONS:
            a, b = _FRACTIONS[ch]
            self.emit("lgroup", "{", i, i + 1)
            self.emit("num", a, i, i + 1)
            self.emit("op", "/", i, i + 1)
            self.emit("num", b, i, i + 1)
            self.emit("rgroup", "}", i, i + 1)
            return i + 1
        if ch in _UNICODE_OPS:
            kind, text = _UNICODE_OPS[ch]
            if kind == "tr" and self.tokens and self.tokens[-1].kind == "op" \
                    and self.tokens[-1].text == "^":
                op = self.tokens.pop()
                self.emit("tr", "T", op.start, i + 1)
            else:
                self.emit(kind, text, i, i + 1)
            return i + 1
        if ch == "‖":
            return self.norm_bar(i)
        if ch == "√":
            self.emit("name", "sqrt", i, i + 1, whole=True)
            return i + 1
        if ch in "∑Σ":
            self.emit("bigop", "sum", i, i + 1)
            return i + 1
        if ch in "‘’":
            return self.string_unicode(i, n, "‘’'")
        if ch in "“”":
            return self.string_unicode(i, n, "“”\"")
        if ch in _NOT_READ:
            raise GradtraceError("syntax", f"'{ch}' is {_NOT_READ[ch]}", i, i + 1)
        hint = f" (write {_HINTS[ch]})" if ch in _HINTS else ""
        raise GradtraceError("syntax", f"unexpected {_describe(ch)}{hint}: gradtrace reads "
                             "letters, digits, the operators + - * / @ ^, and maths as it comes "
                             "from LaTeX or slides (× · − ² √ ∑ π σ)", i, i + 1)

    def norm_bar(self, i: int) -> int:
        """`‖w‖`, as PDFs write the norm."""
        prev = self.tokens[-1] if self.tokens else None
        if self.bars > 0 and prev is not None and prev.kind in ("num", "name", "rparen",
                                                              "rgroup", "rbracket", "tr"):
            self.bars -= 1
            self.depth = max(0, self.depth - 1)
            self.emit("rparen", ")", i, i + 1)
        else:
            self.bars += 1
            self.depth += 1
            self.emit("name", "norm", i, i + 1, whole=True)
            self.emit("lparen", "(", i, i + 1)
        return i + 1

    def string_unicode(self, i: int, n: int, quotes: str) -> int:
        src = self.src
        j = i + 1
        while j < n and src[j] not in quotes and src[j] not in "\r\n":
            j += 1
        if j >= n or src[j] not in quotes:
            raise GradtraceError("syntax", "unclosed quote: a word in quotes needs its closing "
                                 "quote", i, i + 1)
        self.emit("str", src[i + 1:j], i, j + 1)
        return j + 1


_LATEX_FUNCTION_NAMES = frozenset(_LATEX_FUNCTIONS.values())
# Every character beyond ASCII that has a reading (the rest are refused, pointing at them).
UNICODE_READ = frozenset((*_SPACES, *_GREEK_CHARS, "π", *_SUPERSCRIPTS, "⁻", *_SUBSCRIPTS,
                          *_FRACTIONS, *_ACCENTS, *_ACCENTED, *_UNICODE_OPS, "√", "∑", "Σ", "‖",
                          "‘", "’", "“", "”"))
# Words written with \mathrm or \text that are functions of the language, read in lower case.
_KNOWN_WORDS = frozenset({"relu", "softmax", "sigmoid", "tanh", "exp", "log", "max", "min",
                          "sum", "mean", "abs", "sign", "softplus", "gelu", "elu", "mse"})


def tokenize(src: str, max_depth: int = 100) -> list[Token]:
    """The tokens of `src`, each with its span in it; raises GradtraceError at the first
    character that has no reading."""
    return marked(src, max_depth)[0]


def marked(src: str, max_depth: int = 100) -> tuple[list[Token], Marks]:
    """The tokens of `src` and where its names, '=' and statement ends are."""
    lexer = _Lexer(src, max_depth)
    lexer.run(0, len(src))
    n = len(src)
    lexer.marks.ends.append(len(lexer.tokens))
    lexer.tokens.append(Token("end", "", n, n))
    return lexer.tokens, lexer.marks
