"""One name per node, the same on the graph, in the step's title, in the formulas, in the
pictures and in the inspector (the record's `display` and `display_tex`).

- the user's name (`h1 = ...`: h1); a name given to several nodes (`y = zeros(2); y[0] = ...`)
  is primed for each new value, y, y′, y″, as the notes write a variable's new value;
- an input's name; a constant's number;
- an unnamed indexing as it is written, when short (`x[1]`);
- the unnamed output: f (as the notes write f(x, y)), in both modes;
- else the next letter no name uses, in the order the expression writes the nodes (a, b, c, g,
  h, k, ...; then a₁, b₁, ...), the parts of opened gates and what grad() builds last, so that
  opening a gate renames no other node.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .engine import Graph, Node
from .ops import tex_name

# Letters for unnamed nodes: not e (Euler's number), not d (the d of dx), not f, i, j, l, o,
# x, y, z (functions, indices, a 1 or 0 look-alike, inputs).
AUTO_LETTERS = "abcghkmnpqrstuvw"
_SUBSCRIPT = "₀₁₂₃₄₅₆₇₈₉"
_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
MAX_INDEX_NAME = 10  # an indexing written out is its own name up to this length
_INDEXING = re.compile(r"[^\W\d][\w.]*\[[^\[\]]*\]")
_NUMBER = re.compile(r"[-+]?[\d.]+(e[-+]?\d+)?", re.I)


@dataclass(frozen=True)
class Shown:
    text: str  # as the graph draws it
    tex: str  # as the formulas write it


def tex_text(s: str) -> str:
    """Text escaped for \\text{...} and \\texttt{...}."""
    special = {"\\": "\\textbackslash{}", "^": "\\textasciicircum{}",
               "~": "\\textasciitilde{}"}
    return "".join(special.get(c, "\\" + c if c in "{}$&#_%" else c) for c in s)


def auto_name(k: int) -> Shown:
    """The k-th letter of AUTO_LETTERS; past them a₁, b₁, ..., a₂, ..."""
    letter = AUTO_LETTERS[k % len(AUTO_LETTERS)]
    turn = k // len(AUTO_LETTERS)
    if turn == 0:
        return Shown(letter, letter)
    return Shown(letter + "".join(_SUBSCRIPT[int(d)] for d in str(turn)), f"{letter}_{{{turn}}}")


def _primed(name: str, k: int) -> Shown:
    marks = ["", "′", "″", "‴"]
    if k < len(marks):
        return Shown(name + marks[k], tex_name(name) + "'" * k)
    return Shown(name + "⁽" + "".join(_SUPERSCRIPT[int(d)] for d in str(k)) + "⁾",
                 f"{tex_name(name)}^{{({k})}}")


def _const_tex(node: Node) -> str:
    if not _NUMBER.fullmatch(node.label):
        return f"\\mathrm{{{tex_text(node.label)}}}"
    return re.sub(r"e([-+]?\d+)$", r"\\times 10^{\1}", node.label, flags=re.I)


def _indexing(source: str, node: Node) -> str | None:
    # Spaced as one writes it whatever the text's spaces (`x[ 1 ]` is x[1]), so that a name and
    # the layout's node widths depend on the graph's structure alone.
    text = "".join(source[node.start:node.end].split()).replace(",", ", ")
    return text if len(text) <= MAX_INDEX_NAME and _INDEXING.fullmatch(text) else None


def shown_names(graph: Graph, in_gate: Sequence[str | None]) -> list[Shown]:
    """Each node's name, by index (see the module's docstring); `in_gate`: per node, the opened
    gate it is a part of, if any."""
    names: list[Shown | None] = [None] * len(graph.nodes)
    # Taken: the user's names, the inputs', the program's own functions (`def f`); compared as
    # written and as LaTeX (the user's a_1 and a letter a₁ would both be a_{1} in formulas).
    used = {n.name for n in graph.nodes if n.name} | {n.label for n in graph.nodes
                                                       if n.kind == "input"} | \
        {n.op for n in graph.nodes if n.defined is not None and n.op}
    used_tex = {tex_name(u) for u in used}
    output = "f"
    seen: dict[str, int] = {}
    wanting: list[Node] = []
    for n in graph.nodes:
        if n.name:
            k = seen.get(n.name, 0)
            seen[n.name] = k + 1
            names[n.index] = Shown(n.name, tex_name(n.name)) if k == 0 else _primed(n.name, k)
        elif n.kind != "op":
            names[n.index] = Shown(n.label, _const_tex(n) if n.kind == "const"
                                   else tex_name(n.label))
        elif n.op == "index" and (src := _indexing(graph.source, n)) is not None:
            names[n.index] = Shown(src, f"\\texttt{{{tex_text(src)}}}")
        elif n.index == graph.output and output not in used and output not in used_tex:
            names[n.index] = Shown(output, output)
        else:
            wanting.append(n)
    ordered = [n for n in wanting if in_gate[n.index] is None] + \
        [n for n in wanting if in_gate[n.index] is not None]
    k = 0
    for n in ordered:
        while True:
            name = auto_name(k)
            k += 1
            plain = "".join(str(_SUBSCRIPT.index(c)) if c in _SUBSCRIPT else c
                            for c in name.text)
            if name.text not in used and plain not in used and name.tex not in used_tex:
                break
        names[n.index] = name
    return [s if s is not None else Shown(n.label, tex_text(n.label))
            for s, n in zip(names, graph.nodes, strict=True)]
