"""Parser for the gradtrace expression language (see DESIGN.md).

Why hand-written and not a parser library: the language is small (five precedence levels, calls,
assignments), and what matters most here is the quality of the errors and the guarantees on
hostile input. A recursive-descent parser with an explicit depth counter gives both directly:
every error names the exact characters at fault in words a student understands ("expected an
operand after '^'", "unbalanced '('"), nesting past a limit is a clean error instead of a
RecursionError, and long flat chains (`x + x + ... + x`) are loops, never recursion.

Grammar, loosest first (`^` binds tighter than unary minus, so `-x^2` is `-(x^2)`; the exponent
may carry its own sign, so `e^-x` is `e^(-x)`; `^` is right-associative, `**` is the same). The
tokens come from every notation a lecturer pastes (lexer.py: LaTeX and Unicode become these
tokens, with their spans in the typed text), after the line pass and the name pass (reading.py):

    program  := stmt ((';' | newline | '\\\\') stmt)*
    stmt     := target '=' expr | expr | def | NAME op'=' expr          (c += 1: c = c + 1)
              | NAME '(' NAME, ... ')' '=' expr                     (a header: f(x, y) = ...)
              | [target '='] form '=' ... '=' expr                  (equal forms: the last read)
              | NAME '=' value (',' NAME '=' value)*                 (a line of values)
              | NAME, NAME, ... '=' expr, expr, ...                   (a tuple of targets)
    def      := 'def' NAME '(' [param (',' param)*] ')' ':' (stmt sep)* 'return' expr
    param    := NAME | NAME '=' expr                  (a default value: a number)
    target   := NAME | NAME '[' items ']'              (y[0] = ...: a functional assignment)
    expr     := sum (('>' | '<' | '>=' | '<=' | '==' | '!=') sum)?
    sum      := term (('+' | '-') term)*
    term     := unary (('*' | '/' | '@' | '·') unary | power)*      (power alone: juxtaposed)
    unary    := ('-' | '+') unary power* | power                    (-2x is -(2x))
    power    := postfix (('^' | '**') exponent)?
    exponent := ('-' | '+') exponent | power
    postfix  := atom ('[' items ']' | '.' NAME | '.' NAME '(' args ')' | 'ᵀ')*
    atom     := NUMBER | STRING | NAME | NAME '(' args ')' | FUNCTION product | BIGOP product
              | '(' expr ')' | '{' expr '}' | '(' expr ',' ... ')' | '[' expr (',' expr)* ']'
    product  := (unary | power) (['·'] power)*        (sin x y is sin(x·y); it stops before
                                                        the next function's name)
    args     := [arg (',' arg)*]        arg   := expr | NAME '=' expr
    items    := item (',' item)*        item  := expr | [expr] ':' [expr] [':' [expr]] | '...'

A product written by juxtaposition (`2x`, `(a+b)(b+1)`, `x(y+1)` with x no function) is the op
`·`, which the graph builder makes the matrix product between two tensors and `*` otherwise;
between two factors that carry index subscripts (`w_i x_i`) it is `*`.

"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from .errors import GradtraceError
from .lexer import Token, marked
from .reading import (
    PYTHON_WORDS,
    Directive,
    Names,
    Skipped,
    header_params,
    names,
    one_letter,
    prepare,
)

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
    # + - * / @ ^, a comparison, or `·`: the product of maths notation (juxtaposition, \\cdot,
    # ×), the matrix product between two tensors and `*` otherwise (the graph builder decides).
    op: str
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
    requires_grad: bool = False  # `torch.ones(2, 2, requires_grad=True)`: a leaf of autograd


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
    # `x = -2, y = 5`: a line of values (its names are inputs, the numbers their values).
    values_line: bool = False
    # `f(x, y) = ...`: the inputs the header declares, in order.
    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Program:
    statements: tuple[Statement, ...]
    source: str = field(repr=False)
    # What the reading did besides parsing (reading.py): lines skipped, with why; the output and
    # its output gradient as the text names them (`L.backward(dz)`); names read as products.
    skipped: tuple[Skipped, ...] = ()
    output: Directive | None = None
    seed: Directive | None = None
    split: tuple[tuple[int, int], ...] = ()


# ---------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, src: str, max_depth: int, reading: Names) -> None:
        self.src = src
        self.tokens = reading.tokens
        self.pos = 0
        self.depth = 0
        self.max_depth = max_depth
        self.reading = reading
        # Statements (by their number, counting separators) that index with subscripts (`x_i`):
        # their products are elementwise, as index notation means.
        self.indexed = reading.indexed
        self.seps = 0
        self.skipped: list[Skipped] = []  # the equal forms of `a = b = c` not read
        self.stop: int | None = None  # where a statement followed by values on its line ends

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
        if t.kind == "sep":
            self.seps += 1
        return t

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.pos + k, len(self.tokens) - 1)]

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
            what = "end of statement" if t.text != ";" else "';'"
        elif t.kind == "rparen":
            return GradtraceError("syntax", f"unbalanced ')': expected {wanted}", t.start, t.end)
        elif t.kind == "rgroup":
            return GradtraceError("syntax", f"unbalanced '{t.text}': expected {wanted}",
                                  t.start, t.end)
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
            stmts.extend(self.statements())
            if self.tok.kind == "sep":
                continue
            if self.tok.kind == "end":
                break
            if self.tok.kind in ("rparen", "rbracket", "rgroup"):
                ch = self.tok.text
                opening = {")": "(", "]": "[", "}": "{"}.get(ch, "(")
                raise GradtraceError("syntax", f"unbalanced '{ch}': no '{opening}' to close",
                                     self.tok.start, self.tok.end)
            prev, t = self.tokens[self.pos - 1], self.tok
            if prev.kind == "num" and t.kind == "num":
                raise GradtraceError("syntax", f"unexpected '{t.text}': two numbers in a row; "
                                     f"to multiply, write {prev.text} * {t.text}",
                                     t.start, t.end)
            raise self.unexpected("an operator, ';' or the end of the expression")
        if not stmts:
            raise GradtraceError("syntax", "the expression is empty", 0, len(self.src))
        return Program(tuple(stmts), self.src)

    def top_level_assigns(self) -> list[int]:
        """Positions of the '=' of this statement outside brackets (`a = b = c` has two)."""
        pos = self.pos
        if self.stop is not None:
            return [a for a in self.reading.assigns if pos <= a < self.stop]
        t = self.tokens[pos]
        if t.kind == "name" and t.text == "def":
            return []
        ends, assigns = self.reading.ends, self.reading.assigns
        stop = ends[bisect.bisect_right(ends, pos)] if ends and ends[-1] > pos \
            else len(self.tokens)
        lo = bisect.bisect_left(assigns, pos)
        if lo == len(assigns) or assigns[lo] >= stop:
            return []
        return assigns[lo:bisect.bisect_left(assigns, stop)]

    def statements(self) -> list[Statement]:
        """One statement, or the several of one line (`x = -2, y = 5`; `a, b = 1, 2`)."""
        tokens, pos = self.tokens, self.pos
        t = tokens[pos]
        nxt = tokens[pos + 1] if t.kind != "end" else t
        if t.kind == "name" and nxt.kind == "assign":
            assigns = self.top_level_assigns()
            if len(assigns) == 1 and tokens[pos + 2].kind not in ("num", "op"):
                # The commonest statement, `name = expression`: nothing else to look at.
                self.pos += 2
                return [self.assigned(t, t.text, t.end, None)]
        if t.kind == "name" and nxt.kind == "assign" and self.peek(2).kind in (
                "num", "op") and self.numbers_line():
            first = self.tokens[self.pos]
            self.advance()
            self.advance()
            stmt = self.assigned(first, first.text, first.end, None)
            return [Statement(stmt.target, stmt.expr, stmt.start, stmt.end, stmt.target_end,
                              values_line=True)]
        if t.kind == "name" and t.text == "def":
            f = self.function()
            return [Statement(None, f.result, f.start, f.end, f.name_end, function=f)]
        if t.kind == "name" and t.text == "return":
            raise GradtraceError("syntax", "'return' outside a function: the last statement is "
                                 "the output", t.start, t.end)
        assigns = self.top_level_assigns()
        later = [a for a in assigns[1:] if tokens[a - 1].kind == "name"
                 and tokens[a - 2].kind == "comma"]
        if later and not (t.kind == "name" and nxt.kind == "assign" and len(later) ==
                          len(assigns) - 1) and not (t.kind == "name" and nxt.kind == "comma"):
            # `f(x) = 2x, x = 3`: a formula, then its values on the same line.
            self.stop = later[0] - 2
            formula = self.statements()
            self.stop = None
            if self.tok.kind != "comma":
                raise self.unexpected("',' before the values")
            self.advance()
            t = self.tok
            self.advance()
            self.advance()
            return [*formula, *self.values_line(self.assigned(t, t.text, t.end, None))]
        if t.kind == "name" and self.peek().kind == "augassign":
            # `c += 1 + c`: c = c + (1 + c)
            self.advance()
            op = self.advance()
            if self.tok.kind in ("sep", "end"):
                raise self.unexpected(f"an expression after '{t.text} {op.text}='")
            right = self.expr()
            update = Binary(op.text, Name(t.text, t.start, t.end), right, t.start,
                            self.last_end, op.start, op.end)
            return [Statement(t.text, update, t.start, self.last_end, t.end)]
        if t.kind == "name" and self.peek().kind == "comma" and assigns:
            tuple_targets = self.tuple_assignment(assigns[0])
            if tuple_targets is not None:
                return tuple_targets
        if len(assigns) > 1 and t.kind == "name" and self.peek().kind == "assign" and all(
                self.tokens[a - 1].kind == "name" and self.tokens[a - 2].kind == "comma"
                for a in assigns[1:]):
            self.advance()
            self.advance()
            return self.values_line(self.assigned(t, t.text, t.end, None))
        params: tuple[str, ...] = ()
        if t.kind == "name" and self.peek().kind == "lparen" and assigns:
            params = self.header(assigns[0])
        if len(assigns) > 1 or (assigns and (t.kind in ("assign", "deriv") or (
                t.kind == "num" and self.peek().kind == "assign"))):
            return self.chain(t, assigns, params)
        if params:
            self.pos = assigns[0] + 1
            return [self.assigned(t, t.text, t.end, None, params=params)]
        if t.kind == "name" and self.peek().kind == "assign":
            self.advance()
            self.advance()
            return [self.assigned(t, t.text, t.end, None)]
        e = self.expr()
        if self.tok.kind == "assign":
            if isinstance(e, Subscript) and isinstance(e.value, Name) \
                    and "." not in e.value.id:
                self.advance()
                return [self.assigned(t, e.value.id, e.end, e.items)]
            if any(isinstance(sub, Call) for sub in walk(e)):
                # `\text{softmax}(z)_i = ...`: the left side names the formula; the right
                # side is read.
                at = self.advance()
                self.skipped.append(Skipped(t.start, at.end, "names the formula"))
                if self.tok.kind in ("sep", "end"):
                    raise self.unexpected("an expression after '='")
                e = self.expr()
                return [Statement(None, e, e.start, self.last_end)]
            raise GradtraceError("syntax", "only a name, or a name with an index, can be "
                                 "assigned to (as in q = x + y, or y[0] = x)",
                                 t.start, self.tok.end)
        return [Statement(None, e, t.start, self.last_end)]

    def numbers_line(self) -> bool:
        """Whether this statement is one of two or more `name = number` on one line separated
        by ';' (cs231n's `x = -2; y = 5; z = -4`): a line of values, as `x = -2, y = 5` is."""
        tokens = self.tokens
        k = self.pos
        # Back to the start of the physical line: only ';' separators may come before.
        while k > 0 and tokens[k - 1].kind == "sep" and tokens[k - 1].text == ";":
            k -= 1
            j = k - 1
            while j >= 0 and tokens[j].kind in ("num", "op", "assign", "name"):
                j -= 1
            k = j + 1
        count = 0
        while True:
            m = _number_assign([tk.kind + (tk.text if tk.kind == "op" else "")
                                for tk in tokens[k:k + 5]])
            if m is None:
                return False
            count += 1
            k += m
            if tokens[k].kind == "sep" and tokens[k].text == ";":
                k += 1
                continue
            return count >= 2 and tokens[k].kind in ("sep", "end")

    def header(self, assign: int) -> tuple[str, ...]:
        """`f(x, y) = ...`: the declared inputs, or () when the left side is not a header."""
        found = header_params(self.tokens, self.pos)
        return tuple(found) if found is not None and self.tokens[assign - 1].kind == "rparen" \
            else ()

    def chain(self, t: Token, assigns: list[int], params: tuple[str, ...]) -> list[Statement]:
        """`a = b = c`, `f(x) = ... = ...`, `= ...`: equal forms, of which the last is read
        (the middle ones are listed as skipped by `parse`). A left side that is not a name (as
        the notes' `0.2 = (1 - 0.73)(0.73)(0.2)`) leaves the last side as an expression."""
        last = assigns[-1]
        target = None
        if t.kind == "name" and (self.peek().kind == "assign" or params):
            target = t.text
        start = t.start
        tokens = self.tokens
        if target is not None and not params and all(
                tokens[a + 1].kind == "name" and tokens[a + 2].kind == "assign"
                for a in assigns[:-1]):
            # `a = b = x * 2`: Python's chained assignment, every name the value.
            self.pos = last + 1
            if self.tok.kind in ("sep", "end"):
                raise self.unexpected("an expression after '='")
            e = self.expr()
            names = [t, *(tokens[a + 1] for a in assigns[:-1])]
            return [Statement(n.text, e, n.start, self.last_end, n.end) for n in names]
        skip_from = self.tokens[assigns[0] + 1].start if target is not None else t.start
        if self.tokens[last].start > skip_from:
            self.skipped.append(Skipped(skip_from, self.tokens[last].end, "is an equal form: "
                                        "the last one is read"))
        self.pos = last + 1
        if self.tok.kind in ("sep", "end"):
            raise self.unexpected("an expression after '='")
        e = self.expr()
        if target is None:
            return [Statement(None, e, e.start, self.last_end)]
        return [Statement(target, e, start, self.last_end, t.end, params=params)]

    def tuple_assignment(self, assign: int) -> list[Statement] | None:
        """`a, b = e1, e2`: one statement per name (each right side read before any is
        assigned, as Python does; here they may not use each other)."""
        tokens = self.tokens
        names: list[Token] = []
        k = self.pos
        while k < assign:
            if tokens[k].kind != "name" or tokens[k + 1].kind not in ("comma", "assign"):
                return None
            names.append(tokens[k])
            k += 2
        if k != assign + 1 or len(names) < 2:
            return None
        self.pos = assign + 1
        values: list[Expr] = []
        while True:
            if self.tok.kind in ("sep", "end"):
                raise self.unexpected("a value for each name before '='")
            values.append(self.expr())
            if self.tok.kind != "comma":
                break
            self.advance()
        if len(values) != len(names):
            raise GradtraceError("syntax", f"{len(names)} names are assigned {len(values)} "
                                 "values: give one value per name", names[0].start,
                                 self.last_end)
        return [Statement(n.text, v, n.start, v.end, n.end) for n, v in zip(names, values,
                                                                             strict=True)]

    def values_line(self, first: Statement) -> list[Statement]:
        """`x = -2, y = 5, z = -4`: a line of values."""
        out = [first]
        while self.tok.kind == "comma":
            self.advance()
            t = self.tok
            if t.kind != "name" or self.peek().kind != "assign":
                raise self.unexpected("name = value after ','")
            self.advance()
            self.advance()
            out.append(self.assigned(t, t.text, t.end, None))
        return [Statement(s.target, s.expr, s.start, s.end, s.target_end, values_line=True)
                for s in out]

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
                if self.tok.kind == "comma":
                    raise GradtraceError("syntax", f"def {name.text} returns several values: "
                                         "gradtrace follows one output, so return one (or "
                                         "trace each in turn)", t.start, self.tok.end)
                return FunctionDef(name.text, tuple(params), tuple(body), result, d.start,
                                   self.last_end, name.end)
            if t.kind == "name" and t.text == "def":
                raise GradtraceError("syntax", "a def inside a def: define functions one after "
                                     "the other", t.start, t.end)
            body.extend(self.statements())
            if self.tok.kind not in ("sep", "end"):
                raise self.unexpected("the end of the statement")

    def assigned(self, t: Token, target: str, target_end: int,
                 items: tuple[Expr | Slice | Ellipsis_, ...] | None,
                 params: tuple[str, ...] = ()) -> Statement:
        """The right-hand side of `target = ...` (the '=' consumed)."""
        if self.tok.kind in ("sep", "end"):
            shown = self.src[t.start:target_end]
            raise self.unexpected(f"an expression after '{shown} ='")
        e = self.expr()
        if self.tok.kind == "assign":
            raise GradtraceError("syntax", "'=' can only follow a name at the start of a "
                                 "statement", self.tok.start, self.tok.end)
        return Statement(target, e, t.start, self.last_end, target_end, items, params=params)

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

    def juxtaposed(self) -> bool:
        """Whether the next token starts an operand written right after another: a product
        (`2x`, `x y`, `(a+b)(b+1)`), read as maths notation reads it."""
        t = self.tok
        kind = t.kind
        if kind == "name":
            return t.text not in PYTHON_WORDS
        if kind == "num":
            return self.tokens[self.pos - 1].kind != "num"
        return kind in ("lparen", "lgroup", "bigop", "lbracket", "deriv")

    def product(self, left: Expr, right: Expr) -> str:
        """The op of a product written as maths writes it: `·` (by the shapes: W x is the
        matrix product), or `*` between two factors written with index subscripts (`w_i x_i`,
        `σ(x_i)(1 - σ(x_i))`: index notation means elementwise)."""
        if self.seps in self.indexed:
            a, b = self._indexes(left), self._indexes(right)
            if a and b:
                if a != b:
                    # x_{ik} y_{kj}: a sum over a shared index, which elementwise would misread.
                    raise GradtraceError(
                        "syntax", "index notation with different indices on the two factors "
                        f"({''.join(sorted(a))} and {''.join(sorted(b))}): write the matrix "
                        "product with @ (x @ y), or the sum with sum(..., axis=...)",
                        left.start, right.end)
                return "*"
        return "·"

    def _indexes(self, e: Expr) -> set[str]:
        """The index letters of the subscripts in `e` (`x_{ik}`: i and k)."""
        dropped, ends = self.reading.dropped, self.reading.dropped_ends
        out = {c for sub in walk(e) if isinstance(sub, Name) and sub.start in dropped
               for c in dropped[sub.start]}
        if ends:  # `σ(z)_i`: an entry of a bracket
            out |= {c for sub in walk(e) if sub.end in ends for c in ends[sub.end]}
        return out

    def term(self) -> Expr:
        start = self.tok.start
        left = self.unary()
        while True:
            t = self.tok
            if t.kind == "op" and t.text in "*/@·":
                op = self.advance()
                right = self.operand_after(op, self.unary)
                text = self.product(left, right) if op.text == "·" else op.text
                left = Binary(text, left, right, start, self.last_end, op.start, op.end)
            elif t.kind in _OPERAND_STARTS and self.juxtaposed():
                right = self.power()
                left = Binary(self.product(left, right), left, right, start, self.last_end,
                              t.start, t.start)
            else:
                return left

    def operand_after(self, op: Token, rule: Callable[[], Expr]) -> Expr:
        t = self.tok
        if t.kind in ("end", "sep", "rparen", "rbracket", "rgroup", "comma", "assign", "cmp",
                      "colon") or (t.kind == "op" and t.text not in "+-"):
            shown = "**" if self.src[op.start:op.end] == "**" else op.text
            if t.kind in ("op", "cmp"):
                raise GradtraceError("syntax", f"expected an operand after '{shown}', "
                                     f"found '{t.text}'", op.start, t.end)
            raise GradtraceError("syntax", f"expected an operand after '{shown}'",
                                 op.start, op.end)
        return rule()

    def unary(self) -> Expr:
        t = self.tok
        if t.kind == "op" and t.text in "+-":
            self.advance()
            self.enter(t)
            operand = self.operand_after(t, self.unary)
            while self.juxtaposed():
                # `-2x`, `-kx`: the minus of the product, as maths reads it (`-2*x` typed
                # stays (-2)*x, as Python reads it).
                at = self.tok
                right = self.power()
                operand = Binary(self.product(operand, right), operand, right, operand.start,
                                 self.last_end, at.start, at.start)
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
            t = self.tokens[self.pos]
            if t.kind not in _POSTFIX:
                return e
            if t.kind == "lbracket" and (isinstance(e, Name | Call | Subscript)
                                         or self.tokens[self.pos - 1].kind == "rparen"):
                self.advance()
                self.enter(t)
                items = self.items(t)
                self.leave()
                e = Subscript(e, items, start, self.last_end)
            elif t.kind == "tr":
                self.advance()
                e = Call("transpose", (e,), start, t.end, t.end, method=True)
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
                elif name.text == "shape":  # x.shape[0]: a number read off the shape
                    e = Call("shape", (e,), start, name.end, name.end, method=True)
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

    def applied(self, fn: Token) -> Expr:
        """The operand of a function written without parentheses (`sin x`, `log 2x`, `∑ x_i`):
        the product that follows, up to an operator other than a product, or the next
        function's name (`sin x cos y` is sin(x)·cos(y)); `sin x^2` is sin(x^2)."""
        self.enter(fn)
        start = self.tok.start
        signed = self.tok.kind == "op" and self.tok.text in "+-"
        arg = self.unary() if signed else self.power()
        while True:
            t = self.tok
            if t.kind == "op" and t.text == "·":
                self.advance()
                right = self.operand_after(t, self.power)
                arg = Binary(self.product(arg, right), arg, right, start, self.last_end,
                             t.start, t.end)
            elif self.juxtaposed() and not (
                    fn.kind != "bigop" and t.kind == "name" and t.text in self.reading.functions):
                right = self.power()
                arg = Binary(self.product(arg, right), arg, right, start, self.last_end,
                             t.start, t.start)
            else:
                break
        self.leave()
        return arg

    def calls(self, name: str) -> bool:
        """Whether `name` followed by '(' is a call rather than a product: a function, or a
        name of several letters that holds no value (an unknown function, which the graph
        builder names as such); `x(y + 1)` with a value x is a product."""
        r = self.reading
        return name in r.functions or (name not in r.values and not one_letter(name))

    def atom(self) -> Expr:
        t = self.tok
        if t.kind == "num":
            self.advance()
            return Num(float(t.text), t.text, t.start, t.end)
        if t.kind == "str":
            self.advance()
            return Str(t.text, t.start, t.end)
        if t.kind == "bigop":
            self.advance()
            if not self.juxtaposed() and not (self.tok.kind == "op" and self.tok.text in "+-"):
                raise self.unexpected(f"what to sum after '{self.src[t.start:t.end]}'")
            arg = self.applied(t)
            return Call(t.text, (arg,), t.start, self.last_end, t.end)
        if t.kind == "name":
            self.pos += 1  # (a name is no separator: advance() need not count it)
            power = None
            nxt = self.tokens[self.pos]
            if nxt.kind == "fpow":  # \sin^2 x: sin(x)^2
                power = self.advance()
                nxt = self.tokens[self.pos]
            if nxt.kind == "lparen" and (self.calls(t.text) or "." in t.text):
                e: Expr = self.call(t)
            elif t.text in self.reading.functions and self.juxtaposed():
                arg = self.applied(t)
                e = Call(t.text, (arg,), t.start, self.last_end, t.end)
            else:
                name = Name(t.text, t.start, t.end)
                if power is not None:  # \sigma^2 with no argument: sigma, squared
                    exponent = Num(float(power.text), power.text, power.start, power.end)
                    return Binary("^", name, exponent, t.start, power.end, power.start,
                                  power.end)
                return name
            if power is not None:
                exponent = Num(float(power.text), power.text, power.start, power.end)
                e = Binary("^", e, exponent, t.start, self.last_end, power.start, power.end)
            return e
        if t.kind in ("lparen", "lbracket", "lgroup"):
            close = {"lparen": "rparen", "lbracket": "rbracket", "lgroup": "rgroup"}[t.kind]
            ch = t.text
            cch = {"(": ")", "[": "]", "{": "}"}.get(ch, ")")
            self.advance()
            self.enter(t)
            if self.tok.kind == close:
                what = {"(": "parentheses", "[": "brackets"}.get(ch, "braces")
                raise GradtraceError("syntax", f"empty {what}", t.start, self.tok.end)
            items = [self.expr()]
            while self.tok.kind == "comma" and t.kind != "lgroup":
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
            literal = isinstance(items[0], Num | Tuple) or (
                isinstance(items[0], Unary) and isinstance(items[0].operand, Num))
            if len(items) == 1 and not trailing and not (t.kind == "lbracket" and literal):
                # One expression in brackets groups, as parentheses do; `[5]` and `[[1, 2]]`
                # are lists (a tensor written out).
                return items[0]
            return Tuple(tuple(items), t.start, self.last_end)
        if t.kind in ("rparen", "rbracket", "rgroup"):
            other = {")": "(", "]": "["}.get(t.text, "{")
            raise GradtraceError("syntax", f"unbalanced '{t.text}': no '{other}' to close",
                                 t.start, t.end)
        if t.kind == "op":
            raise GradtraceError("syntax", f"'{t.text}' needs an operand before it",
                                 t.start, t.end)
        if t.kind == "tr":
            raise GradtraceError("syntax", "a transpose needs what it transposes before it, "
                                 "as in W^T", t.start, t.end)
        if t.kind == "deriv":
            raise GradtraceError("syntax", f"{t.text[:30]} is a derivative: gradtrace works "
                                 "derivatives out itself, so give it the function", t.start,
                                 t.end)
        raise self.unexpected("a number, a name or '('")

    def call(self, name: Token) -> Call:
        lp = self.advance()
        self.enter(lp)
        args: list[Expr] = []
        keywords: list[Keyword] = []
        grad = False
        if self.tok.kind != "rparen":
            while True:
                if self.tok.kind in ("comma", "rparen"):
                    # `f(x,)`, `f(,x)`, `f(x,,y)`: the ')' or ',' is not unbalanced, an argument
                    # is missing.
                    raise GradtraceError("syntax", f"missing an argument of {name.text}() before "
                                         f"'{self.tok.text}'", self.tok.start, self.tok.end)
                t = self.tok
                if t.kind == "name" and self.peek().kind == "assign":
                    self.advance()
                    self.advance()
                    if self.tok.kind in ("comma", "rparen"):
                        raise self.unexpected(f"a value after '{t.text}='")
                    if t.text in IGNORED_KEYWORDS:
                        grad = grad or (t.text == "requires_grad" and self.tok.text == "True")
                        self.skip_argument()
                    else:
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
        return Call(name.text, tuple(args), name.start, rp.end, name.end, tuple(keywords),
                    requires_grad=grad)

    def skip_argument(self) -> None:
        """Past a keyword argument gradtrace has no use for (`dtype=torch.float64`)."""
        depth = 0
        while True:
            t = self.tok
            if t.kind in ("end", "sep"):
                return
            if depth == 0 and t.kind in ("comma", "rparen"):
                return
            if t.kind in ("lparen", "lbracket", "lgroup"):
                depth += 1
            elif t.kind in ("rparen", "rbracket", "rgroup"):
                depth -= 1
            self.advance()


_OPERAND_STARTS = frozenset({"num", "name", "lparen", "lgroup", "bigop", "lbracket",
                             "deriv"})
_POSTFIX = frozenset({"lbracket", "tr", "dot"})


def _number_assign(kinds: list[str]) -> int | None:
    """The length of `name = number` or `name = -number` at the start of token kinds, or None."""
    if kinds[:2] != ["name", "assign"]:
        return None
    if kinds[2:3] == ["num"]:
        return 3
    if kinds[2:4] == ["op-", "num"]:
        return 4
    return None


# Keyword arguments that say how a library stores a tensor, not what is computed: read past.
IGNORED_KEYWORDS = frozenset({"dtype", "requires_grad", "device", "name", "copy", "order",
                              "trainable", "layout_hint"})


def parse(src: str, max_depth: int = DEFAULT_MAX_DEPTH, given: Collection[str] = ()) -> Program:
    """Parse a program in any notation it is pasted in; raise `GradtraceError` with the span of
    the first problem. `given`: the names that have values (a name given a value is never cut
    into a product of letters)."""
    from .ops import CONSTANTS, FUNCTIONS  # the language's names are the registry's

    prep = prepare(src)
    tokens, marks = marked(prep.text, max_depth)
    reading = names(tokens, given, FUNCTIONS.keys() | {"grad"}, MODULES, CONSTANTS, marks)
    if prep.skipped and all(t.kind in ("sep", "end") for t in reading.tokens):
        raise GradtraceError("syntax", f"every line here is skipped ({prep.skipped[0].reason}, "
                             "...): nothing computes, so there is nothing to trace",
                             prep.skipped[0].start, prep.skipped[-1].end)
    parser = _Parser(src, max_depth, reading)
    try:
        program = parser.program()
    except RecursionError:
        # Only reachable when max_depth is set above what Python's stack allows.
        t = parser.tok
        raise GradtraceError("limit", "expression nested too deeply", t.start, t.end) from None
    skipped = sorted([*prep.skipped, *parser.skipped], key=lambda k: k.start)
    return Program(program.statements, src, tuple(skipped), prep.output, prep.seed,
                   tuple(reading.split))


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
