"""How pasted text is read before it is parsed: the lines that compute nothing, and the names.

Two passes, both keeping every position in the text the user typed:

- `prepare(src)` goes over the lines. Lines that compute nothing (an import, a print, `with
  tf.GradientTape() as g:`, `g.watch(x)`, `L.backward()`, a session, an assert, a line that reads
  `.grad`) are blanked (replaced by spaces, so that spans stay) and listed as skipped, with why.
  `L.backward(dz)`, `g.gradient(z, x, output_gradients=dz)` and `tf.gradients(cost, W)` name the
  output and its output gradient. Inside a `def`, the lines after its `return` never run: skipped.
- `names(tokens, given)` decides what each name is, by the reading rules (README, "Pasting from a
  lecture"): which runs of letters are products of one-letter names (`wx` is w·x when the program
  names nothing with several letters), which subscripts are an index over the whole tensor
  (`x_i` is x), `σ(...)` is the sigmoid, `^T` a transpose; and which names are functions (a call
  when a parenthesis follows) rather than values (a product: `x(y + 1)`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from .errors import GradtraceError
from .lexer import GREEK, Marks, Token


@dataclass(frozen=True, slots=True)
class Skipped:
    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class Directive:
    """A name the text points at (the output of `L.backward()`) or an expression's text (the
    output gradient `dz` of `output_gradients=dz`), with its span."""

    text: str
    start: int
    end: int


@dataclass(slots=True)
class Prepared:
    text: str  # the source with skipped lines blanked (same length)
    skipped: list[Skipped] = field(default_factory=list)
    output: Directive | None = None
    seed: Directive | None = None


# -- lines ----------------------------------------------------------------------------------

_PROMPT = re.compile(r"(?:In|Out)\s*\[[\s\d]*\]:\s?")
# Statements named by their first word: a line that assigns that word as a name
# (`print = x + 1`) is no such statement.
_STATEMENT_SKIPS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:import|from)\s+[\w.]+"), "imports a library"),
    (re.compile(r"print\s*\(|print\s"), "prints"),
    (re.compile(r"assert\b"), "checks a result"),
    (re.compile(r"with\b.*:\s*(?:#.*)?$", re.S), "opens a with-block (the lines in it are read)"),
    (re.compile(r"[%!]"), "is a notebook command"),
    (re.compile(r"(?:pass|break|continue)\s*(?:#.*)?$"), "does nothing"),
)
# Calls and set-ups that compute nothing of the program.
_CALL_SKIPS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"@[\w.]+"), "is a decorator"),
    (re.compile(r"(?:np\.random\.seed|torch\.manual_seed|tf\.random\.set_seed|random\.seed)\s*\("),
     "sets a random seed"),
    (re.compile(r"[\w\s,]+=\s*(?:tf\.(?:compat\.v1\.)?Session|tf\.GradientTape|"
                r"tf\.(?:compat\.v1\.)?global_variables_initializer|torch\.optim\.|optim\.)"),
     "sets up the library (a session, a tape, an optimizer)"),
    (re.compile(r"(?:tf\.(?:compat\.v1\.)?global_variables_initializer|tf\.enable_eager)"),
     "sets up the library"),
    (re.compile(r"[\w\s,]+=\s*\w+\.run\s*\(|\w+\.run\s*\("), "runs a TensorFlow session"),
    (re.compile(r"[\w.]+\.(?:watch|retain_grad|zero_grad|zero_|step|requires_grad_|detach_|"
                r"register_hook)\s*\("),
     "tells the library what to record (gradtrace records everything)"),
    (re.compile(r"[A-Za-z_]\w*(?:\.\w+)+\s*=[^=]"), "sets an attribute"),
)
_ASSIGNS_NAME = re.compile(r"\w+\s*=[^=]")
# Lines that point at the output (and its output gradient) and are skipped.
_GRADIENT = re.compile(r"(?:[\w\s,\[\]]+=\s*)?(?:\w+\.gradient|tf\.gradients|"
                       r"torch\.autograd\.grad)\s*\((.*)\)\s*(?:\[\s*\d+\s*\])?\s*(?:#.*)?$",
                       re.S)
_READS_GRAD = re.compile(r"\.grad\b(?!\s*\()")
_LOOP = re.compile(r"(?:for|while|if|elif|else|try|except|class)\b")
_DEF = re.compile(r"def\s")


# Anything that any line rule could match (a superset): without it, no line is skipped. Literal
# markers and two cheap patterns (a keyword at a line's start, an attribute set), so that the
# language's own long programs pay almost nothing here.
_LINE_STARTS = re.compile(
    r"\n[ \t]*(?:import|from|print|assert|with|def|for|while|if|elif|else|try|except|class|"
    r"pass|break|continue|return|In\s*\[|Out\s*\[|[%!@]|[rRuUbBfF]?[\"'])")
_ATTRIBUTE_SET = re.compile(r"\.\w+\s*=[^=]")
_MARKERS = (".backward", ".grad", ".run", ".watch", ".retain_grad", ".zero_", ".step",
            ".requires_grad", ".detach_", ".register_hook", ".numpy", ".item", ".tolist", ".cpu",
            ".gradient", "Session", "tf.gradients", "autograd.grad", "global_variables",
            "enable_eager", "GradientTape", "optim.", "random.seed", "manual_seed", "set_seed",
            "None", '"""', "\'\'\'", ";")


def _any_rule(src: str) -> bool:
    return (_LINE_STARTS.search("\n" + src) is not None or any(m in src for m in _MARKERS)
            or ("." in src and _ATTRIBUTE_SET.search(src) is not None))


def _logical_lines(src: str) -> Iterable[tuple[int, int]]:
    """The [start, end) of each line, a bracket left open joining the next lines to it (a call
    broken over lines is one statement)."""
    n = len(src)
    i = 0
    while i < n:
        start = i
        depth = 0
        while i < n:
            c = src[i]
            if c == "\n" and depth <= 0:
                break
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "#" and (i == start or src[i - 1] != "\\"):
                while i < n and src[i] != "\n":
                    i += 1
                continue
            elif c in "'\"":
                close = src.find(c, i + 1)
                line_end = src.find("\n", i)
                if close > 0 and (line_end < 0 or close < line_end):
                    i = close
            i += 1
        yield start, i
        i += 1


_DOCSTRING = re.compile(r'[rRuU]?("""|\'\'\')[\s\S]*?\1')
_BACKWARD_OF = re.compile(r"(.+?)\.backward\s*\((.*)\)\s*(?:#.*)?$", re.S)
_SHOWS = re.compile(r"[\w.]+\.(?:numpy|item|tolist|cpu)\s*\(\s*\)\s*(?:#.*)?$")
_PLACEHOLDER = re.compile(r"\w+\s*=\s*None\s*(?:#.*)?$")
_STRING_LINE = re.compile(r"[rRuUbBfF]?[\"']")
_TARGETS = re.compile(r"\[?\s*(\w+(?:\s*,\s*\w+)*)\s*\]?\s*=[^=]")


def _segments(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """The statements of a line, split at `;` outside brackets and strings."""
    out: list[tuple[int, int]] = []
    depth, start, k = 0, a, a
    while k < b:
        c = text[k]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c in "'\"":
            close = text.find(c, k + 1, b)
            k = close if close > 0 else k
        elif c == "#":
            break
        elif c == ";" and depth == 0:
            out.append((start, k))
            start = k + 1
        k += 1
    out.append((start, b))
    return [(x + len(text[x:y]) - len(text[x:y].lstrip()), y) for x, y in out
            if text[x:y].strip()]


def _classify(body: str, at: int, prep: Prepared, blank: Callable[[int, int, str], None],
              gradients: set[str]) -> None:
    """Blank the statement `body` (at `at`) if it computes nothing; note what it names."""
    end = at + len(body.rstrip())
    bm = _BACKWARD_OF.match(body)
    if bm is not None:
        receiver = bm.group(1).strip()
        args = [a for a in _split_args(bm.group(2)) if not re.match(
            r"\s*(?:retain_graph|create_graph|inputs)\s*=", a)]
        if args:
            seed = re.sub(r"^\s*gradient\s*=\s*", "", args[0]).strip()
            where = body.index(seed, bm.start(2)) + at if seed else at
            prep.seed = Directive(seed, where, where + len(seed))
        if re.fullmatch(r"\w+", receiver):
            prep.output = Directive(receiver, at, at + len(receiver))
            blank(at, end, "runs the library's backward pass (gradtrace shows it step by step)")
        else:
            # `s.sum().backward()`: the output is `s.sum()`, the statement that stays.
            blank(at + bm.end(1), end, "runs the library's backward pass (gradtrace shows it "
                  "step by step)")
        return
    gm = _GRADIENT.match(body)
    if gm is not None:
        args = _split_args(gm.group(1))
        if args:
            first = args[0].strip()
            if re.fullmatch(r"\w+", first):
                where = body.index(first, gm.start(1)) + at
                prep.output = Directive(first, where, where + len(first))
        for a in args[1:]:
            km = re.match(r"\s*(?:output_gradients|grad_ys|grad_outputs)\s*=\s*(.*)", a, re.S)
            if km is not None:
                seed = km.group(1).strip()
                where = body.index(seed, gm.start(1)) + at
                prep.seed = Directive(seed, where, where + len(seed))
        tm = _TARGETS.match(body)
        if tm is not None:
            gradients.update(n.strip() for n in tm.group(1).split(","))
        blank(at, end, "asks the library for gradients (gradtrace shows them step by step)")
        return
    bare = body.strip()
    if bare in gradients or (_SHOWS.match(bare) and bare.split(".")[0] in gradients):
        blank(at, end, "shows a gradient the library computed (gradtrace shows it in the "
              "trace)")
        return
    rules = _CALL_SKIPS if _ASSIGNS_NAME.match(body) else _STATEMENT_SKIPS + _CALL_SKIPS
    for pattern, reason in rules:
        if pattern.match(body):
            blank(at, end, reason)
            return
    if _READS_GRAD.search(body):
        blank(at, end, "reads a gradient the library computed (gradtrace shows it in the trace)")
    elif _SHOWS.match(bare):
        blank(at, end, "shows a value")
    elif _PLACEHOLDER.match(bare):
        blank(at, end, "sets a placeholder (None)")
    elif _STRING_LINE.match(bare) and _one_string(bare):
        blank(at, end, "is a string (a docstring)")


def _one_string(text: str) -> bool:
    q = text.lstrip("rRuUbBfF")[:1]
    return text.rstrip().endswith(q) and text.lstrip("rRuUbBfF").count(q) == 2


def _split_args(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for c in text:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur)
    return out


def prepare(src: str) -> Prepared:
    """The text with the lines that compute nothing blanked, and what they said."""
    # Fast path: nothing in the text any line rule could match (the language's own programs,
    # pasted maths): one search instead of the rules on every line.
    if not _any_rule(src):
        return Prepared(src)
    out = list(src)
    prep = Prepared(src)
    def_indent: int | None = None
    returned = False
    gradients: set[str] = set()  # names the skipped lines assign (`g_x = tape.gradient(...)`)

    def blank(a: int, b: int, reason: str) -> None:
        for k in range(a, b):
            if out[k] not in "\r\n":
                out[k] = " "
        prep.skipped.append(Skipped(a, b, reason))

    # Docstrings first (they may hold anything, over several lines).
    for doc in _DOCSTRING.finditer(src):
        line_start = src.rfind("\n", 0, doc.start()) + 1
        if not src[line_start:doc.start()].strip():
            blank(doc.start(), doc.end(), "is a docstring")
    text = "".join(out)
    for start, end in _logical_lines(text):
        line = text[start:end]
        stripped = line.lstrip(" \t")
        lead = start + len(line) - len(stripped)
        indent = len(line) - len(stripped)
        m = _PROMPT.match(stripped)
        if m is not None:
            if stripped.startswith("Out"):
                blank(start, end, "is a notebook's output")
                continue
            blank(lead, lead + m.end(), "is a notebook prompt")
            lead += m.end()
            stripped = stripped[m.end():]
        body = stripped.rstrip()
        if not body or body.startswith("#"):
            continue
        if def_indent is not None:
            if indent > def_indent:
                if returned:
                    blank(lead, start + len(line.rstrip()), "comes after the return: it never "
                          "runs")
                    continue
                if body.startswith("return"):
                    returned = True
            else:
                def_indent = None
        if _DEF.match(body):
            def_indent, returned = indent, False
            if re.search(r":\s*return\b", body):
                returned = True
            continue
        if _LOOP.match(body) and not re.match(r"\w+\s*=", body):
            raise GradtraceError("syntax", f"a '{body.split()[0]}' statement: gradtrace reads "
                                 "straight-line code (write the steps out)", lead,
                                 lead + len(body.split()[0]))
        for a, b in _segments(text, lead, lead + len(body)):
            _classify(text[a:b], a, prep, blank, gradients)
    prep.text = "".join(out)
    return prep


# -- names ----------------------------------------------------------------------------------

PYTHON_WORDS = frozenset({"if", "else", "elif", "for", "while", "in", "and", "or", "not", "is",
                          "as", "return", "def", "with", "from", "import", "assert",
                          "pass", "True", "False", "None", "del", "global", "yield", "class",
                          "try", "except"})
_ONE_LETTER = re.compile(r"[A-Za-z](?:\d*|_[A-Za-z0-9_]+)")
# Two letters, each with its digits (`wx`, `cd`, `w0x0`): longer runs are words (`out`, `tmp`).
_LETTER_RUN = re.compile(r"[A-Za-z](?:_?\d+)?[A-Za-z](?:_?\d+)?")
_LETTER = re.compile(r"[A-Za-z](?:_?\d+)?")
_INDEX_SUBSCRIPT = re.compile(r"([A-Za-z][A-Za-z0-9_]*?)_([ijklmn]{1,2})")
# `p_y` with values p and y: the entry of p at the label y (cs231n's s_{y_i}).
_LABEL_SUBSCRIPT = re.compile(r"([A-Za-z][A-Za-z0-9]*)_([A-Za-z][A-Za-z0-9]*)")
_OPENING = frozenset({"lparen", "lbracket", "lgroup"})
_CLOSING = frozenset({"rparen", "rbracket", "rgroup"})


def one_letter(name: str) -> bool:
    """A name of one letter, with digits or a subscript (`x`, `W1`, `w_0`, `y_hat`, `theta_1`)."""
    base = name.split("_", 1)[0]
    return bool(_ONE_LETTER.fullmatch(name)) or base in GREEK or base == "pi"


@dataclass(slots=True)
class Names:
    tokens: list[Token]
    functions: frozenset[str]  # names called when a parenthesis follows
    values: frozenset[str]  # names that hold values (assigned, parameters, given)
    split: list[tuple[int, int]] = field(default_factory=list)  # names read as products
    # Where the tokens hold '=' outside brackets, and where statements end (for the parser's
    # `a = b = c` and headers, found in this pass rather than in one of their own).
    assigns: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    # Statements (numbered by the separators before them) with an index subscript (`x_i`),
    # and where those names start.
    indexed: set[int] = field(default_factory=set)
    dropped: dict[int, str] = field(default_factory=dict)  # start -> its index letters
    # `(W x)_i`: where such a bracket ends -> its index letters.
    dropped_ends: dict[int, str] = field(default_factory=dict)


def _marks(tokens: list[Token]) -> Marks:
    """Where the names, '=' outside brackets and statement ends are (what the lexer notes as it
    goes; made again here when the tokens changed)."""
    m = Marks()
    depth = 0
    for k, t in enumerate(tokens):
        kind = t.kind
        if kind in _OPENING:
            depth += 1
        elif kind in _CLOSING:
            depth = max(0, depth - 1)
        elif kind == "name":
            m.names.append(k)
            if t.text == "def":
                m.defs.append(k)
        elif kind == "sep":
            m.seps.append(k)
            m.ends.append(k)
        elif kind in ("assign", "augassign") and depth == 0:
            m.assigns.append(k)
        elif (kind == "colon" and depth == 0) or kind == "end":
            m.ends.append(k)
    return m


def _words(tokens: list[Token], m: Marks
           ) -> tuple[set[str], set[str], set[str], dict[str, tuple[list[str], int]]]:
    """Assigned names, parameters (of defs and headers), def names, and the headers
    (`f(x, y) = ...`: f -> its parameters and where the header is)."""
    assigned: set[str] = set()
    params: set[str] = set()
    defs: set[str] = set()
    headers: dict[str, tuple[list[str], int]] = {}
    n = len(tokens)
    for k in m.defs:
        if k + 1 < n and tokens[k + 1].kind == "name":
            defs.add(tokens[k + 1].text)
            # The parameters: the names inside its parentheses, before '=' or ',' or ')'.
            j, d = k + 3, 1
            while j < n and d > 0:
                u = tokens[j]
                if u.kind == "lparen":
                    d += 1
                elif u.kind == "rparen":
                    d -= 1
                elif u.kind == "name" and d == 1 and tokens[j - 1].kind in ("lparen", "comma"):
                    params.add(u.text)
                j += 1
    for a in m.assigns:
        before = tokens[a - 1] if a > 0 else None
        if before is None:
            continue
        if before.kind == "name":
            assigned.add(before.text)
            # `a, b = ...`: a tuple of targets
            j = a - 2
            while j >= 1 and tokens[j].kind == "comma" and tokens[j - 1].kind == "name":
                assigned.add(tokens[j - 1].text)
                j -= 2
        elif before.kind == "rparen":
            # `f(x, y) = ...` at the start of a statement: a header.
            e = bisect.bisect_left(m.ends, a) - 1
            start = m.ends[e] + 1 if e >= 0 else 0
            if start + 1 < n and tokens[start].kind == "name" \
                    and tokens[start + 1].kind == "lparen":
                header = header_params(tokens, start)
                if header is not None:
                    assigned.add(tokens[start].text)
                    headers[tokens[start].text] = (header, start)
                    # `\sigma(x_i) = ...`: the parameter is x, elementwise.
                    params.update(m2.group(1) if (m2 := _INDEX_SUBSCRIPT.fullmatch(p)) else p
                                  for p in header)
    return assigned, params, defs, headers


def _header_use(tokens: list[Token], k: int, params: list[str],
                grows: dict[int, list[Token]]) -> None:
    """`h(x)` after a header `h(x) = 2x`: the formula's value, h itself (the parentheses are
    read away). With other arguments (`h(3)`) it would be a product h·3 no one means: refused."""
    j, depth = k + 1, 0
    args: list[str] = []
    while j < len(tokens):
        u = tokens[j]
        if u.kind in _OPENING:
            depth += 1
        elif u.kind in _CLOSING:
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and u.kind == "name":
            args.append(u.text)
        elif depth == 1 and u.kind != "comma":
            args.append("")
        j += 1
    name = tokens[k]
    if args != params:
        end = tokens[min(j, len(tokens) - 1)].end
        raise GradtraceError("syntax", f"{name.text}(...) uses the formula {name.text} named by "
                             f"its header with other arguments: a header names one formula of "
                             f"its inputs; to call it with others write def {name.text}("
                             f"{', '.join(params)}): return ...", name.start, end)
    grows[k] = [name]
    for i in range(k + 1, j + 1):
        grows[i] = []


def header_params(tokens: list[Token], k: int) -> list[str] | None:
    """`f(x, y) = ...` at tokens[k]: the parameter names, or None if it is not a header."""
    j = k + 2
    names: list[str] = []
    n = len(tokens)
    while j < n:
        t = tokens[j]
        if t.kind == "lgroup" and j + 2 < n and tokens[j + 1].kind == "name" \
                and tokens[j + 2].kind == "rgroup":
            names.append(tokens[j + 1].text)
            j += 3
        elif t.kind == "name":
            names.append(t.text)
            j += 1
        else:
            return None
        if j < n and tokens[j].kind == "comma":
            j += 1
            continue
        if j + 1 < n and tokens[j].kind == "rparen" and tokens[j + 1].kind == "assign":
            return names
        return None
    return None


def names(tokens: list[Token], given: Collection[str], functions: Collection[str],
          modules: Collection[str], constants: Collection[str],
          marks: Marks | None = None) -> Names:
    """Read the names of a program's tokens by the reading rules (module docstring). `marks`:
    where the lexer saw names, '=' and ends (made again if not given)."""
    if any(t.kind == "lgroup" for t in tokens):
        # `{\bf z} = {\bf W}{\bf x}`: braces around one name are the name.
        tokens = [t for k, t in enumerate(tokens) if not (
            (t.kind == "lgroup" and k + 2 < len(tokens) and tokens[k + 1].kind == "name"
             and tokens[k + 2].kind == "rgroup")
            or (t.kind == "rgroup" and k >= 2 and tokens[k - 1].kind == "name"
                and tokens[k - 2].kind == "lgroup"))]
        marks = None
    m = marks if marks is not None else _marks(tokens)
    assigned, params, defs, headers = _words(tokens, m)
    values = assigned | params | set(given)
    words = values | defs
    callable_ = (set(functions) | defs) - values
    # Letters split only where the program names nothing with several letters (`wx` in a formula
    # of one-letter names; a notebook's `pred` or `hidden` keeps every name whole).
    split_ok = all(one_letter(w) for w in words)
    known = callable_ | set(modules) | set(constants) | GREEK | PYTHON_WORDS
    out = list(tokens)
    result = Names(out, frozenset(callable_), frozenset(values), assigns=m.assigns, ends=m.ends)
    n = len(tokens)
    assign_at = set(m.assigns)
    # Names that read as themselves wherever they are (most of them): no rule is tried twice.
    plain = (words | callable_ | set(modules) | set(constants)) - {"sigma", "T"}
    grows: dict[int, list[Token]] = {}  # a token that becomes several (or none)
    for k in m.names:
        t = tokens[k]
        text = t.text
        if text in headers and k != headers[text][1] and k + 1 < n \
                and tokens[k + 1].kind == "lparen":
            _header_use(tokens, k, headers[text][0], grows)
            continue
        if text in plain:
            continue
        prev = tokens[k - 1] if k > 0 else None
        if text == "T" and prev is not None and prev.kind == "op" and prev.text == "^" \
                and "T" not in values and not (k + 1 < n and tokens[k + 1].kind == "lparen"):
            grows[k - 1] = [Token("tr", "T", prev.start, t.end)]  # x^T: a transpose
            grows[k] = []
            continue
        if text in words or (prev is not None and prev.kind == "dot"):
            continue
        nxt = tokens[k + 1] if k + 1 < n else None
        if nxt is not None and nxt.kind in ("assign", "augassign") and k + 1 not in assign_at:
            continue  # a keyword argument's name
        if text == "sigma" and "sigma" not in callable_ and nxt is not None and (
                nxt.kind in ("lparen", "lgroup")):
            # σ(z), \sigma\left(z\right): the sigmoid; σ alone is a value (σ ε, σ²).
            out[k] = Token("name", "sigmoid", t.start, t.end, True)
            continue
        g = _INDEX_SUBSCRIPT.fullmatch(text)
        if g is not None and g.group(1) not in callable_:
            # `x_i`, `z_{ij}`: an index over the whole tensor, elementwise.
            out[k] = Token("name", g.group(1), t.start, t.end, t.whole)
            result.indexed.add(bisect.bisect_left(m.seps, k))
            result.dropped[t.start] = g.group(2)
            continue
        g = _LABEL_SUBSCRIPT.fullmatch(text)
        if g is not None and g.group(1) in values and g.group(2) in values:
            # `p_y`, with values for p and y: p[y], the entry at the label.
            a, b = g.group(1), g.group(2)
            mid = t.start + len(a)
            grows[k] = [Token("name", a, t.start, mid), Token("lbracket", "[", mid, mid + 1),
                        Token("name", b, mid + 1, t.end), Token("rbracket", "]", t.end, t.end)]
            continue
        if split_ok and not t.whole and text not in known and _LETTER_RUN.fullmatch(text):
            if not (nxt is not None and nxt.kind == "dot"):
                result.split.append((t.start, t.end))
                grows[k] = [Token("name", p.group(0), t.start + p.start(), t.start + p.end())
                            for p in _LETTER.finditer(text)]
                continue
        elif text != "sigma" and text != "T":
            plain.add(text)
    if m.bracket_indexes:
        seps_at = [tokens[k].start for k in m.seps]
        for end, (_, letters) in m.bracket_indexes.items():
            result.dropped_ends[end] = letters
            result.indexed.add(bisect.bisect_left(seps_at, end))
    if grows:
        # Rare (a formula's `wx`, `x^T`): the list is made again, and where things are with it.
        old = out
        out = []
        for k, t in enumerate(old):
            if k in grows:
                out.extend(grows[k])
            else:
                out.append(t)
        again = _marks(out)
        dropped_at = {t.start for t in out if t.kind == "name"} & set(result.dropped)
        result.indexed = {bisect.bisect_left(again.seps, k) for k, t in enumerate(out)
                          if t.kind == "name" and t.start in dropped_at}
        seps_at = [out[k].start for k in again.seps]
        result.indexed |= {bisect.bisect_left(seps_at, end) for end in result.dropped_ends}
        result.tokens, result.assigns, result.ends = out, again.assigns, again.ends
    return result
