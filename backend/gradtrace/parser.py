"""Parser for the gradtrace expression language (see DESIGN.md).

Why hand-written and not a parser library: the language is small (five precedence levels, calls,
assignments), and what matters most here is the quality of the errors and the guarantees on
hostile input. A recursive-descent parser with an explicit depth counter gives both directly:
every error names the exact characters at fault in words a student understands ("expected an
operand after '^'", "unbalanced '('"), nesting past a limit is a clean error instead of a
RecursionError, and long flat chains (`x + x + ... + x`) are loops, never recursion.

Grammar, loosest first (`^` binds tighter than unary minus, so `-x^2` is `-(x^2)`; the exponent
may carry its own sign, so `e^-x` is `e^(-x)`; `^` is right-associative, `**` is the same):

    program  := stmt ((';' | newline) stmt)*
    stmt     := target '=' expr | expr | def
    def      := 'def' NAME '(' [param (',' param)*] ')' ':' (stmt sep)* 'return' expr
    param    := NAME | NAME '=' expr                  (a default value: a number)
    target   := NAME | NAME '[' items ']'              (y[0] = ...: a functional assignment)
    expr     := sum (('>' | '<' | '>=' | '<=' | '==' | '!=') sum)?
    sum      := term (('+' | '-') term)*
    term     := unary (('*' | '/' | '@') unary)*
    unary    := ('-' | '+') unary | power
    power    := postfix (('^' | '**') exponent)?
    exponent := ('-' | '+') exponent | power
    postfix  := atom ('[' items ']' | '.' NAME | '.' NAME '(' args ')')*
    atom     := NUMBER | STRING | NAME | NAME '(' args ')' | '(' expr ')' | '(' expr ',' ... ')'
              | '[' expr (',' expr)* ']'
    args     := [arg (',' arg)*]        arg   := expr | NAME '=' expr
    items    := item (',' item)*        item  := expr | [expr] ':' [expr] [':' [expr]] | '...'

A `def` is a function of the program: its body is the statements up to its `return` (indentation
is not needed, as the `return` ends it), and each call of it draws as one gate that opens into the
body's nodes.

`a.name(...)` is a method call, the function `name` with `a` as its first argument (`y.sum()`),
and `a.T` is its transpose; after a module's name (`np`, `torch`, `F`, `tf`, ...) the dots make
one dotted function name (`torch.nn.functional.relu`), which the graph builder looks up in the
ops' spellings. A tuple in parentheses, or a list in brackets, is a static value for an op's
attribute (`reshape(x, (2, 3))`) or the operands of an op that takes several (`cat([a, b])`); a
bracket with one expression and no comma only groups, as a parenthesis does.

Newlines separate statements only outside parentheses and not right after an operator, so a long
expression can be broken over lines. Every AST node keeps its `[start, end)` span in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import GradtraceError

# Each level of nesting costs the recursive descent up to six Python frames (a call: atom, call,
# expr, term, unary, power), so 100 levels stay well inside Python's default limit of 1000 frames;
# `parse` still turns a RecursionError into a "limit" error should a caller allow deeper nesting.
DEFAULT_MAX_DEPTH = 100

# Names after which a dot continues a module path (`np.sum`, `torch.nn.functional.relu`), not a
# method call on a value.
MODULES = frozenset({"np", "numpy", "torch", "F", "nn", "tf", "math", "jnp", "jax", "scipy"})


# ---------------------------------------------------------------------------------------------
# AST


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" (a unary "+" is dropped by the parser)
    operand: Expr
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # one of + - * / @ ^
    left: Expr
    right: Expr
    start: int
    end: int
    op_start: int
    op_end: int


@dataclass(frozen=True, slots=True)
class Str:
    value: str  # a quoted word, as an op's attribute (`padding='same'`)
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Keyword:
    name: str
    value: Expr
    start: int  # of the name
    end: int  # of the value


@dataclass(frozen=True, slots=True)
class Call:
    func: str  # a name, or a dotted one (`torch.zeros`)
    args: tuple[Expr, ...]
    start: int
    end: int
    name_end: int
    keywords: tuple[Keyword, ...] = ()
    method: bool = False  # written `a.func(...)`: `a` is args[0]


@dataclass(frozen=True, slots=True)
class Tuple:
    items: tuple[Expr, ...]  # `(2, 3)` or `[a, b]`
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Slice:
    lower: Expr | None
    upper: Expr | None
    step: Expr | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Ellipsis_:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Subscript:
    value: Expr
    items: tuple[Expr | Slice | Ellipsis_, ...]
    start: int
    end: int


Expr = Num | Name | Unary | Binary | Call | Str | Tuple | Subscript


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: Expr | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class FunctionDef:
    name: str
    params: tuple[Param, ...]
    body: tuple[Statement, ...]  # before the return
    result: Expr  # what it returns
    start: int
    end: int
    name_end: int


@dataclass(frozen=True, slots=True)
class Statement:
    target: str | None  # the assigned name, or None for a bare expression
    expr: Expr
    start: int
    end: int
    target_end: int = 0
    # `y[0] = ...`: the items of the subscript assigned to (a functional update of y).
    target_items: tuple[Expr | Slice | Ellipsis_, ...] | None = None
    # `def f(x): ... return ...`: the function it defines (`expr` is then its result).
    function: FunctionDef | None = None


@dataclass(frozen=True, slots=True)
class Program:
    statements: tuple[Statement, ...]
    source: str = field(repr=False)


# ---------------------------------------------------------------------------------------------
# Tokens


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num, name, str, op, cmp, lparen, rparen, lbracket, rbracket, comma, colon, dot,
    # ellipsis, assign, sep, end
    text: str
    start: int
    end: int


_NUMBER_OK = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
# A greedy run of characters that could belong to a number: validated against _NUMBER_OK so that
# `2..3` or `1e` is one clear "malformed number" error rather than a confusing cascade.
_NUMBER_RUN = re.compile(r"[0-9.]+(?:[eE][+-]?[0-9.]*)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = ("**", "+", "-", "*", "/", "@", "^")
_BINARY_OPS = frozenset(_OPS)


def _describe(ch: str) -> str:
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}'"
    return f"character U+{ord(ch):04X}"


# What a student most likely meant by a non-ASCII character copied from notes or slides.
_ASCII_FOR = {"π": "pi", "²": "^2", "³": "^3", "×": "*", "·": "*", "⋅": "*", "−": "-", "–": "-",
              "÷": "/", "σ": "sigmoid", "√": "sqrt"}


def _non_ascii(ch: str, i: int) -> GradtraceError:
    hint = f" (write {_ASCII_FOR[ch]})" if ch in _ASCII_FOR else ""
    return GradtraceError("syntax", f"unexpected {_describe(ch)}{hint}: expressions use ASCII "
                          "letters, digits and the operators + - * / @ ^", i, i + 1)


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    depth = 0
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "\n" or ch == "\r":
            prev = tokens[-1] if tokens else None
            continues = prev is not None and (
                prev.kind in ("op", "cmp", "lparen", "lbracket", "comma", "assign", "sep", "dot",
                              "colon")
            )
            if depth == 0 and prev is not None and not continues:
                tokens.append(Token("sep", "\n", i, i + 1))
            i += 1
        elif ch in " \t":
            i += 1
        elif ch == "#":  # comment to end of line
            while i < n and src[i] not in "\r\n":
                i += 1
        elif ord(ch) > 127:
            raise _non_ascii(ch, i)
        elif src.startswith("...", i):
            tokens.append(Token("ellipsis", "...", i, i + 3))
            i += 3
        elif ch == "." and i + 1 < n and (src[i + 1].isalpha() or src[i + 1] == "_") and tokens \
                and tokens[-1].kind in ("name", "rparen", "rbracket"):
            # `y.sum()`, `x.T`, `torch.zeros`: an attribute, not a number.
            tokens.append(Token("dot", ".", i, i + 1))
            i += 1
        elif "0" <= ch <= "9" or ch == ".":
            m = _NUMBER_RUN.match(src, i)
            assert m is not None
            text = m.group(0)
            if ch == "." and len(text) == 1:
                raise GradtraceError("syntax", "unexpected '.': a number needs a digit after the "
                                     "point, as in .5", i, i + 1)
            if not _NUMBER_OK.fullmatch(text):
                raise GradtraceError("syntax", f"malformed number '{text}'", i, m.end())
            tokens.append(Token("num", text, i, m.end()))
            i = m.end()
        elif ch.isalpha() or ch == "_":
            m = _NAME.match(src, i)
            assert m is not None  # ch is an ASCII letter or _
            tokens.append(Token("name", m.group(0), i, m.end()))
            i = m.end()
        elif src.startswith("**", i):
            tokens.append(Token("op", "^", i, i + 2))
            i += 2
        elif ch in "+-*/@^":
            tokens.append(Token("op", ch, i, i + 1))
            i += 1
        elif ch in "([":
            depth += 1
            tokens.append(Token("lparen" if ch == "(" else "lbracket", ch, i, i + 1))
            i += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
            tokens.append(Token("rparen" if ch == ")" else "rbracket", ch, i, i + 1))
            i += 1
        elif ch == ",":
            tokens.append(Token("comma", ch, i, i + 1))
            i += 1
        elif ch == ":":
            tokens.append(Token("colon", ch, i, i + 1))
            i += 1
        elif ch in "'\"":
            close = src.find(ch, i + 1)
            line_end = min((k for k in (src.find("\n", i), src.find("\r", i)) if k >= 0),
                           default=n)
            if close < 0 or close > line_end:
                raise GradtraceError("syntax", f"unclosed {ch}: a word in quotes needs its closing "
                                     f"{ch}", i, i + 1)
            tokens.append(Token("str", src[i + 1:close], i, close + 1))
            i = close + 1
        elif src.startswith(("==", "!=", ">=", "<="), i):
            tokens.append(Token("cmp", src[i:i + 2], i, i + 2))
            i += 2
        elif ch in "<>":
            tokens.append(Token("cmp", ch, i, i + 1))
            i += 1
        elif ch == "=":
            tokens.append(Token("assign", ch, i, i + 1))
            i += 1
        elif ch == ";":
            tokens.append(Token("sep", ch, i, i + 1))
            i += 1
        else:
            raise GradtraceError("syntax", f"unexpected {_describe(ch)}", i, i + 1)
    tokens.append(Token("end", "", n, n))
    return tokens


# ---------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, src: str, max_depth: int) -> None:
        self.src = src
        self.tokens = tokenize(src)
        self.pos = 0
        self.depth = 0
        self.max_depth = max_depth

    # -- helpers ----------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    @property
    def last_end(self) -> int:
        """End of the last token consumed: a node's span ends there, so it takes in the ')' of a
        parenthesised last operand (`(x + y) * (z)` spans the whole text, not `x + y) * (z`)."""
        return self.tokens[self.pos - 1].end

    def advance(self) -> Token:
        t = self.tokens[self.pos]
        self.pos += 1
        return t

    def enter(self, at: Token) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise GradtraceError(
                "limit",
                f"expression nested too deeply (more than {self.max_depth} levels)",
                at.start,
                at.end,
            )

    def leave(self) -> None:
        self.depth -= 1

    def unexpected(self, wanted: str) -> GradtraceError:
        t = self.tok
        if t.kind == "end":
            return GradtraceError("syntax", f"unexpected end of input: expected {wanted}",
                                  t.start, t.end)
        if t.kind == "sep":
            what = "end of statement" if t.text == "\n" else "';'"
        elif t.kind == "rparen":
            return GradtraceError("syntax", f"unbalanced ')': expected {wanted}", t.start, t.end)
        else:
            what = f"'{t.text}'"
        return GradtraceError("syntax", f"unexpected {what}: expected {wanted}", t.start, t.end)

    # -- grammar ----------------------------------------------------------------------------
    def program(self) -> Program:
        stmts: list[Statement] = []
        while True:
            while self.tok.kind == "sep":
                self.advance()
            if self.tok.kind == "end":
                break
            stmts.append(self.statement())
            if self.tok.kind == "sep":
                continue
            if self.tok.kind == "end":
                break
            if self.tok.kind in ("rparen", "rbracket"):
                ch = self.tok.text
                opening = "(" if ch == ")" else "["
                raise GradtraceError("syntax", f"unbalanced '{ch}': no '{opening}' to close",
                                     self.tok.start, self.tok.end)
            prev, t = self.tokens[self.pos - 1], self.tok
            if prev.kind in ("num", "name", "rparen") and t.kind in ("num", "name", "lparen"):
                # `2x`, `x y`, `(x)(y)`: a product written as in algebra.
                left = "(...)" if prev.kind == "rparen" else prev.text
                right = "(...)" if t.kind == "lparen" else t.text
                raise GradtraceError("syntax", f"unexpected '{t.text}': a missing operator? "
                                     f"Products need a '*', as in {left} * {right}",
                                     t.start, t.end)
            raise self.unexpected("an operator, ';' or the end of the expression")
        if not stmts:
            raise GradtraceError("syntax", "the expression is empty", 0, len(self.src))
        return Program(tuple(stmts), self.src)

    def statement(self) -> Statement:
        t = self.tok
        if t.kind == "name" and t.text == "def":
            f = self.function()
            return Statement(None, f.result, f.start, f.end, f.name_end, function=f)
        if t.kind == "name" and t.text == "return":
            raise GradtraceError("syntax", "'return' outside a function: the last statement is "
                                 "the output", t.start, t.end)
        if t.kind == "name" and self.tokens[self.pos + 1].kind == "assign":
            self.advance()
            self.advance()
            return self.assigned(t, t.text, t.end, None)
        e = self.expr()
        if self.tok.kind == "assign":
            if isinstance(e, Subscript) and isinstance(e.value, Name) \
                    and "." not in e.value.id:
                self.advance()
                return self.assigned(t, e.value.id, e.end, e.items)
            raise GradtraceError("syntax", "only a name, or a name with an index, can be "
                                 "assigned to (as in q = x + y, or y[0] = x)",
                                 t.start, self.tok.end)
        return Statement(None, e, t.start, self.last_end)

    def function(self) -> FunctionDef:
        """`def name(params): statements... return expr`, from its 'def'."""
        d = self.advance()
        name = self.tok
        if name.kind != "name":
            raise self.unexpected("the function's name after 'def'")
        self.advance()
        if self.tok.kind != "lparen":
            raise self.unexpected(f"'(' and the parameters of {name.text}")
        lp = self.advance()
        params: list[Param] = []
        while self.tok.kind != "rparen":
            p = self.tok
            if p.kind != "name":
                raise self.unexpected("a parameter's name")
            self.advance()
            default = None
            if self.tok.kind == "assign":
                self.advance()
                default = self.expr()
            if any(q.name == p.text for q in params):
                raise GradtraceError("syntax", f"the parameter '{p.text}' is named twice",
                                     p.start, p.end)
            params.append(Param(p.text, default, p.start, self.last_end))
            if self.tok.kind == "comma":
                self.advance()
            elif self.tok.kind != "rparen":
                if self.tok.kind in ("end", "sep"):
                    raise GradtraceError("syntax", "unbalanced '(': no matching ')'", lp.start,
                                         lp.end)
                raise self.unexpected("',' or ')' after a parameter")
        self.advance()
        if self.tok.kind != "colon":
            raise self.unexpected(f"':' after def {name.text}(...)")
        self.advance()
        body: list[Statement] = []
        while True:
            while self.tok.kind == "sep":
                self.advance()
            t = self.tok
            if t.kind == "end":
                raise GradtraceError("syntax", f"def {name.text} has no 'return': end its body "
                                     "with return <expression>", d.start, name.end)
            if t.kind == "name" and t.text == "return":
                self.advance()
                if self.tok.kind in ("sep", "end"):
                    raise self.unexpected("an expression after 'return'")
                result = self.expr()
                return FunctionDef(name.text, tuple(params), tuple(body), result, d.start,
                                   self.last_end, name.end)
            if t.kind == "name" and t.text == "def":
                raise GradtraceError("syntax", "a def inside a def: define functions one after "
                                     "the other", t.start, t.end)
            body.append(self.statement())
            if self.tok.kind not in ("sep", "end"):
                raise self.unexpected("the end of the statement")

    def assigned(self, t: Token, target: str, target_end: int,
                 items: tuple[Expr | Slice | Ellipsis_, ...] | None) -> Statement:
        """The right-hand side of `target = ...` (the '=' consumed)."""
        if self.tok.kind in ("sep", "end"):
            shown = self.src[t.start:target_end]
            raise self.unexpected(f"an expression after '{shown} ='")
        e = self.expr()
        if self.tok.kind == "assign":
            raise GradtraceError("syntax", "'=' can only follow a name at the start of a "
                                 "statement", self.tok.start, self.tok.end)
        return Statement(target, e, t.start, self.last_end, target_end, items)

    # A binary node spans from the first token of its left operand to the last token of its right
    # one (parentheses around an operand included); the operands keep their own spans.
    def expr(self) -> Expr:
        """A sum, or a comparison of two (a 0/1 mask, as `(z > 0) * z`)."""
        start = self.tok.start
        left = self.sum()
        if self.tok.kind == "cmp":
            op = self.advance()
            right = self.operand_after(op, self.sum)
            left = Binary(op.text, left, right, start, self.last_end, op.start, op.end)
            if self.tok.kind == "cmp":
                raise GradtraceError("syntax", "comparisons cannot be chained: write (a < b) * "
                                     "(b < c)", self.tok.start, self.tok.end)
        return left

    def sum(self) -> Expr:
        start = self.tok.start
        left = self.term()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.advance()
            right = self.operand_after(op, self.term)
            left = Binary(op.text, left, right, start, self.last_end, op.start, op.end)
        return left

    def term(self) -> Expr:
        start = self.tok.start
        left = self.unary()
        while self.tok.kind == "op" and self.tok.text in "*/@":
            op = self.advance()
            right = self.operand_after(op, self.unary)
            left = Binary(op.text, left, right, start, self.last_end, op.start, op.end)
        return left

    def operand_after(self, op: Token, rule: object) -> Expr:
        t = self.tok
        if t.kind in ("end", "sep", "rparen", "rbracket", "comma", "assign", "cmp", "colon") or (
            t.kind == "op" and t.text not in "+-"
        ):
            shown = "**" if self.src[op.start:op.end] == "**" else op.text
            if t.kind in ("op", "cmp"):
                raise GradtraceError("syntax", f"expected an operand after '{shown}', "
                                     f"found '{t.text}'", op.start, t.end)
            raise GradtraceError("syntax", f"expected an operand after '{shown}'",
                                 op.start, op.end)
        assert callable(rule)
        result: Expr = rule()
        return result

    def unary(self) -> Expr:
        t = self.tok
        if t.kind == "op" and t.text in "+-":
            self.advance()
            self.enter(t)
            operand = self.operand_after(t, self.unary)
            self.leave()
            if t.text == "+":
                return operand
            return Unary("-", operand, t.start, self.last_end)
        return self.power()

    def power(self) -> Expr:
        start = self.tok.start
        base = self.postfix()
        if self.tok.kind == "op" and self.tok.text == "^":
            op = self.advance()
            self.enter(op)
            exponent = self.operand_after(op, self.exponent)
            self.leave()
            return Binary("^", base, exponent, start, self.last_end, op.start, op.end)
        return base

    def exponent(self) -> Expr:
        t = self.tok
        if t.kind == "op" and t.text in "+-":
            self.advance()
            self.enter(t)
            operand = self.operand_after(t, self.exponent)
            self.leave()
            if t.text == "+":
                return operand
            return Unary("-", operand, t.start, self.last_end)
        return self.power()

    def postfix(self) -> Expr:
        """An atom followed by indexing, attributes and method calls, left to right."""
        start = self.tok.start
        e = self.atom()
        while True:
            t = self.tok
            if t.kind == "lbracket" and (isinstance(e, Name | Call | Subscript)
                                         or self.tokens[self.pos - 1].kind == "rparen"):
                self.advance()
                self.enter(t)
                items = self.items(t)
                self.leave()
                e = Subscript(e, items, start, self.last_end)
            elif t.kind == "dot":
                self.advance()
                name = self.tok
                if name.kind != "name":
                    raise self.unexpected("a name after '.'")
                self.advance()
                if isinstance(e, Name) and (e.id in MODULES or "." in e.id):
                    e = Name(f"{e.id}.{name.text}", e.start, name.end)  # torch.nn.functional
                    if self.tok.kind == "lparen":
                        e = self.call(Token("name", e.id, e.start, name.end))
                elif self.tok.kind == "lparen":
                    call = self.call(name)
                    e = Call(call.func, (e, *call.args), start, call.end, name.end,
                             call.keywords, method=True)
                elif name.text == "T":
                    e = Call("transpose", (e,), start, name.end, name.end, method=True)
                else:
                    raise GradtraceError("syntax", f"unknown attribute '.{name.text}': the "
                                         "attributes are .T and methods such as .sum()",
                                         t.start, name.end)
            else:
                return e

    def items(self, lb: Token) -> tuple[Expr | Slice | Ellipsis_, ...]:
        """The items of a subscript, after its '['; consumes the ']'."""
        out: list[Expr | Slice | Ellipsis_] = []
        while True:
            t = self.tok
            if t.kind == "rbracket" and not out:
                raise GradtraceError("syntax", "empty brackets: write an index, as in x[0]",
                                     lb.start, t.end)
            if t.kind == "ellipsis":
                self.advance()
                out.append(Ellipsis_(t.start, t.end))
            else:
                lower = None if self.tok.kind in ("colon",) else self.expr()
                if self.tok.kind == "colon":
                    self.advance()
                    upper = step = None
                    if self.tok.kind not in ("colon", "comma", "rbracket"):
                        upper = self.expr()
                    if self.tok.kind == "colon":
                        self.advance()
                        if self.tok.kind not in ("comma", "rbracket"):
                            step = self.expr()
                    out.append(Slice(lower, upper, step, t.start, self.last_end))
                else:
                    assert lower is not None
                    out.append(lower)
            if self.tok.kind == "comma":
                self.advance()
                continue
            if self.tok.kind == "rbracket":
                self.advance()
                return tuple(out)
            if self.tok.kind in ("end", "sep"):
                raise GradtraceError("syntax", "unbalanced '[': no matching ']'", lb.start,
                                     lb.end)
            raise self.unexpected("',', ':' or ']' in the index")

    def atom(self) -> Expr:
        t = self.tok
        if t.kind == "num":
            self.advance()
            return Num(float(t.text), t.text, t.start, t.end)
        if t.kind == "str":
            self.advance()
            return Str(t.text, t.start, t.end)
        if t.kind == "name":
            self.advance()
            if self.tok.kind == "lparen":
                return self.call(t)
            return Name(t.text, t.start, t.end)
        if t.kind in ("lparen", "lbracket"):
            close = "rparen" if t.kind == "lparen" else "rbracket"
            ch, cch = ("(", ")") if t.kind == "lparen" else ("[", "]")
            self.advance()
            self.enter(t)
            if self.tok.kind == close:
                what = "parentheses" if ch == "(" else "brackets"
                raise GradtraceError("syntax", f"empty {what}", t.start, self.tok.end)
            items = [self.expr()]
            while self.tok.kind == "comma":
                self.advance()
                if self.tok.kind == close:  # a trailing comma: `(2,)`
                    break
                items.append(self.expr())
            self.leave()
            if self.tok.kind != close:
                if self.tok.kind in ("end", "sep"):
                    raise GradtraceError("syntax", f"unbalanced '{ch}': no matching '{cch}'",
                                         t.start, t.end)
                raise self.unexpected(f"'{cch}' or an operator")
            trailing = self.tokens[self.pos - 1].kind == "comma"
            self.advance()
            if len(items) == 1 and not trailing:
                return items[0]
            return Tuple(tuple(items), t.start, self.last_end)
        if t.kind in ("rparen", "rbracket"):
            other = "(" if t.text == ")" else "["
            raise GradtraceError("syntax", f"unbalanced '{t.text}': no '{other}' to close",
                                 t.start, t.end)
        if t.kind == "op":
            raise GradtraceError("syntax", f"'{t.text}' needs an operand before it",
                                 t.start, t.end)
        raise self.unexpected("a number, a name or '('")

    def call(self, name: Token) -> Call:
        lp = self.advance()
        self.enter(lp)
        args: list[Expr] = []
        keywords: list[Keyword] = []
        if self.tok.kind != "rparen":
            while True:
                if self.tok.kind in ("comma", "rparen"):
                    # `f(x,)`, `f(,x)`, `f(x,,y)`: the ')' or ',' is not unbalanced, an argument
                    # is missing.
                    raise GradtraceError("syntax", f"missing an argument of {name.text}() before "
                                         f"'{self.tok.text}'", self.tok.start, self.tok.end)
                t = self.tok
                if t.kind == "name" and self.tokens[self.pos + 1].kind == "assign":
                    self.advance()
                    self.advance()
                    if self.tok.kind in ("comma", "rparen"):
                        raise self.unexpected(f"a value after '{t.text}='")
                    keywords.append(Keyword(t.text, self.expr(), t.start, self.last_end))
                elif keywords:
                    raise GradtraceError("syntax", "an argument without a name cannot follow "
                                         "named ones (as in sum(x, axis=0))", t.start,
                                         t.end)
                else:
                    args.append(self.expr())
                if self.tok.kind == "comma":
                    self.advance()
                    if self.tok.kind == "rparen" and (args or keywords):
                        break  # a trailing comma, as Python allows
                    continue
                break
        if self.tok.kind != "rparen":
            if self.tok.kind in ("end", "sep"):
                raise GradtraceError("syntax", f"unbalanced '(': {name.text}( has no matching ')'",
                                     name.start, lp.end)
            raise self.unexpected(f"',' or ')' in the call of {name.text}()")
        rp = self.advance()
        self.leave()
        return Call(name.text, tuple(args), name.start, rp.end, name.end, tuple(keywords))


def parse(src: str, max_depth: int = DEFAULT_MAX_DEPTH) -> Program:
    """Parse a program; raise `GradtraceError` with the span of the first problem."""
    parser = _Parser(src, max_depth)
    try:
        return parser.program()
    except RecursionError:
        # Only reachable when max_depth is set above what Python's stack allows.
        t = parser.tok
        raise GradtraceError("limit", "expression nested too deeply", t.start, t.end) from None


def children(e: Expr) -> list[Expr]:
    """The sub-expressions of `e`, in order (a call's arguments, then its keywords' values)."""
    if isinstance(e, Unary):
        return [e.operand]
    if isinstance(e, Binary):
        return [e.left, e.right]
    if isinstance(e, Call):
        return [*e.args, *(k.value for k in e.keywords)]
    if isinstance(e, Tuple):
        return list(e.items)
    if isinstance(e, Subscript):
        return [e.value, *(p for item in e.items for p in _parts(item))]
    return []


def walk(e: Expr) -> list[Expr]:
    """All nodes of an expression, children before parents (iteratively: no recursion limit)."""
    out: list[Expr] = []
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        node, done = stack.pop()
        if done:
            out.append(node)
            continue
        stack.append((node, True))
        if isinstance(node, Unary):
            stack.append((node.operand, False))
        elif isinstance(node, Binary):
            stack.append((node.right, False))
            stack.append((node.left, False))
        elif isinstance(node, Call):
            for k in reversed(node.keywords):
                stack.append((k.value, False))
            for a in reversed(node.args):
                stack.append((a, False))
        elif isinstance(node, Tuple):
            for a in reversed(node.items):
                stack.append((a, False))
        elif isinstance(node, Subscript):
            for item in reversed(node.items):
                for part in reversed(_parts(item)):
                    stack.append((part, False))
            stack.append((node.value, False))
    return out


def _parts(item: Expr | Slice | Ellipsis_) -> list[Expr]:
    if isinstance(item, Slice):
        return [p for p in (item.lower, item.upper, item.step) if p is not None]
    if isinstance(item, Ellipsis_):
        return []
    return [item]
