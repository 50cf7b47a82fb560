"""How a program was read, for the record and `POST /api/read`: its canonical form and LaTeX
(printer.py), its inputs with the values the text gives them, the output gradient the text
gives, and the lines skipped. The app shows "read as ..." from it, and makes its value fields
from `inputs` (so that what the value fields ask for is what the server read)."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping

import numpy as np

from .codec import encode
from .engine import Graph
from .errors import GradtraceError
from .gates import base_graph
from .infer import Supplied
from .lru import BoundedLRU
from .ops import Shape
from .parser import Program
from .printer import program_text
from .schema import InputRead, Reading, Skip

_SPACE = re.compile(r"\s+|;|#[^\n]*")


def _squash(text: str) -> str:
    """The text without what does not change its reading (spaces, separators, comments)."""
    return _SPACE.sub("", text.replace("**", "^"))


# Readings already written, by what they depend on (the text, the graph's structure, the
# shapes): a slider dragged sends the same text with other values, and the printer's work is
# then done once. Bounded by the total length of the texts held.
_CACHE: BoundedLRU[Reading] = BoundedLRU(
    max_entries=512, max_size=8 << 20,
    size=lambda r: len(r["canonical"]) + len(r["latex"]) + 64 * len(r["inputs"]))


def reading(program: Program, graph: Graph, supplied: Mapping[str, Supplied],
            shapes: Mapping[int, Shape] | None = None) -> Reading:
    """The reading of `program`, whose (view) graph is `graph`, its inputs `supplied` as
    infer.supply says; `shapes` by node index of the collapsed graph, where known (LaTeX writes
    an elementwise product of tensors as ⊙)."""
    key = hashlib.sha256(repr((program.source, graph.structure, sorted((shapes or {}).items()),
                               sorted(graph.defaults.items()))).encode()).hexdigest()
    found = _CACHE.get(key)
    if found is None:
        found = _reading(program, graph, shapes)
        _CACHE.put(key, found)
    out = copy.deepcopy(found)  # the record is a caller's to change
    for entry in out["inputs"]:
        s = supplied[entry["name"]]
        entry["shape"] = list(s.shape)
        entry["source"] = s.source
        entry["drawn"] = None if s.drawn is None else encode(s.drawn)
    return out


def _reading(program: Program, graph: Graph, shapes: Mapping[int, Shape] | None) -> Reading:
    base = base_graph(graph)
    try:
        canonical = program_text(base, "canonical", shapes)
    except (ValueError, GradtraceError):
        canonical = program.source  # a program the printer cannot write (it read as typed)
    try:
        latex = program_text(base, "latex", shapes)
    except (ValueError, GradtraceError):
        latex = ""
    inputs = [
        # shape, source and drawn depend on the request: `reading` sets them.
        InputRead(name=name, value=encode(np.asarray(graph.defaults[name], dtype=np.float64))
                  if name in graph.defaults else None, labels=not base.nodes[i].requires_grad,
                  start=graph.spans[name][0], end=graph.spans[name][1], shape=[],
                  source="text", drawn=None)
        for name, i in base.inputs.items()
    ]
    return Reading(
        canonical=canonical,
        latex=latex,
        differs=_squash(canonical) != _squash(program.source),
        inputs=inputs,
        seed=None if graph.seed_default is None
        else encode(np.asarray(graph.seed_default, dtype=np.float64)),
        skipped=[Skip(start=s.start, end=s.end, reason=s.reason) for s in program.skipped],
    )
