"""Shapes and values for the inputs a request leaves free: typing `h = relu(X @ W1); L = sum(h)`
works the first time, with no value typed.

One solver, from the registry's own shape rules (`Op.shape`, operand shapes to the output's
shape, or a `ShapeError`); no rule is written twice. An input is *pinned* when the request or the
text gives its value (its shape is that value's) and *free* otherwise. Free inputs start as a
scalar, or as a 2×3 matrix when the name is capitalised (X, W1, K: the notes' convention for
matrices; not N, D, C, M, T, L: counts and a loss). The graph's nodes are then checked in order
(a topological order); at an op whose rule refuses its operands (or an output of another shape
than the output gradient given), the solver tries other shapes for the free inputs that feed it:
each alone (the one used last first: W1 before X in `X @ W1`, the parameters shaped after the
data), then pairs of them, and keeps the best assignment under which every op up to that one
takes its operands:
- the preferred rank first (a capitalised name a matrix, others a vector before a matrix, then
  4-D and 3-D, as conv2d needs),
- then the fewest axes of length 1 (a 3×1 matrix is a vector in disguise),
- then the most distinct lengths among the op's operands and output (`2×3 @ 3×4`, whose shapes
  say which axis is which, over `3×3 @ 3×3`),
- then the first tried.
Lengths are tried from the shapes already there (to match) and the op's own numbers (x[5] needs
6; a reshape's lengths), then 3, 2, 4, then 1. A pinned shape never changes: a typed value is
never resized. The budget counts rule evaluations and walks of the graph; where nothing fits
within it, the free inputs keep their shapes and the forward pass reports the op's error, with
its span, as before. An output gradient no output can have leaves the shapes to the ops: the
trace's error is then about that output gradient.

Values (`fill`): 1 for a free scalar (a slider's natural start), 0 for labels and indices (a
valid class number), else numbers from a standard normal distribution drawn by a generator seeded
with the request's `rng` and the input's name, rounded to 2 decimals so that they read well
(and a free input's numbers do not change when another input is added or renamed).
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .engine import Graph, capitalised, raw_shape
from .errors import GradtraceError
from .lru import BoundedLRU
from .ops import Shape

# The starting shape of a free capitalised input (X, W1): the notes write matrices that way.
MATRIX_START: Shape = (2, 3)
FRESH = (3, 2, 4)  # lengths tried after those already in the op
# Shape rules evaluated per solve, at most: past it the solver stops where it is.
BUDGET = 4_000
# Candidates per input kept for pair search (the best by preference).
PAIR_CANDIDATES = 48


@dataclass
class _Solver:
    graph: Graph
    shapes: dict[int, Shape]  # input node index -> its current shape
    free: list[int]  # free input nodes, in order of first use
    budget: int = BUDGET
    max_elements: int = 200_000  # no candidate holds more numbers (settings.max_tensor_elements)
    target: Shape | None = None  # the output's shape, where an output gradient gives it

    def evaluate(self, upto: int, nodes: Iterable[int] | None = None,
                 known: list[Shape | None] | None = None) -> list[Shape | None]:
        """Every node's shape up to `upto` (None past a refusal or where unknown): of `nodes`
        only, on top of `known`, when given."""
        out: list[Shape | None] = list(known) if known is not None else [None] * (upto + 1)
        for i in (range(upto + 1) if nodes is None else nodes):
            node = self.graph.nodes[i]
            if node.kind == "input":
                out[i] = self.shapes.get(i, ())
            elif node.kind == "const":
                out[i] = ()
            else:
                args = [out[a] for a in node.args]
                out[i] = None
                if all(a is not None for a in args):
                    self.budget -= 1
                    try:
                        out[i] = node.operation.shape([a for a in args if a is not None])
                    except (GradtraceError, ValueError, TypeError, IndexError, RuntimeError,
                            OverflowError, ZeroDivisionError):
                        out[i] = None
        return out

    def ancestors(self, n: int) -> list[int]:
        """The free inputs that feed node n, the one used last first."""
        seen, stack, found = {n}, [n], set()
        free = set(self.free)
        while stack:
            for a in self.graph.nodes[stack.pop()].args:
                if a not in seen:
                    seen.add(a)
                    if a in free:
                        found.add(a)
                    stack.append(a)
        self.budget -= len(seen) // 4  # a walk costs about a quarter of a rule per node
        return [i for i in reversed(self.free) if i in found]

    def downstream(self, inputs: Sequence[int], upto: int) -> list[int]:
        """The nodes up to `upto` whose shapes depend on `inputs`, in order."""
        hit = set(inputs)
        out = list(inputs)
        for i in range(min(inputs), upto + 1):
            if i not in hit and any(a in hit for a in self.graph.nodes[i].args):
                hit.add(i)
                out.append(i)
        self.budget -= (upto - min(inputs)) // 4
        return sorted(out)

    def candidates(self, i: int, dims: Sequence[int]) -> list[tuple[int, Shape]]:
        """Shapes to try for input i, each with its rank's place in the name's preference."""
        name = self.graph.nodes[i].label
        order = (2, 1, 4, 3) if capitalised(name) else (1, 2, 4, 3)
        pool = list(dict.fromkeys([d for d in dims if d > 1] + list(FRESH) + [1]))[:6]
        out: list[tuple[int, Shape]] = []
        for pref, rank in enumerate(order):
            # 3-D and 4-D from fewer lengths: 6^4 candidates would take the whole budget.
            lengths = pool if rank <= 2 else [*pool[:3], 1]
            out += [(pref, s) for s in itertools.product(lengths, repeat=rank)
                    if math.prod(s) <= self.max_elements]
        return [*out, (len(order), ())]

    def solve_at(self, n: int, base: list[Shape | None]) -> list[int]:
        """Make op n take its operands by changing free inputs that feed it: the inputs changed
        (none if it could not)."""
        feeding = self.ancestors(n)[:3]
        if not feeding:
            return []
        dims = [d for a in self.graph.nodes[n].args for d in base[a] or ()]
        # The op's own numbers: a reshape's lengths, an index's positions (x[5] needs 6 or more).
        dims += [d for v in _numbers(self.graph.nodes[n].attrs) for d in (v, v + 1)
                 if 1 < d <= 64]
        dims += [d for i in feeding for d in self.shapes.get(i, ())]

        def score(assign: Mapping[int, tuple[int, Shape]], got: list[Shape | None]
                  ) -> tuple[int, int, int]:
            lengths = {d for a in (*self.graph.nodes[n].args, n) for d in got[a] or ()}
            return (sum(p for p, _ in assign.values()),
                    sum(s.count(1) for _, s in assign.values()), -len(lengths - {1}))

        reach: dict[tuple[int, ...], list[int]] = {}  # the nodes each set of inputs reaches

        def attempt(assign: Mapping[int, tuple[int, Shape]]) -> list[Shape | None] | None:
            saved = {i: self.shapes.get(i, ()) for i in assign}
            self.shapes.update({i: s for i, (_, s) in assign.items()})
            inputs = tuple(sorted(assign))
            if inputs not in reach:
                reach[inputs] = self.downstream(inputs, n)
            got = self.evaluate(n, reach[inputs], base)
            self.shapes.update(saved)
            ok = all(got[i] is not None for i in range(n + 1)
                     if self.graph.nodes[i].kind == "op")
            if n == self.graph.output and self.target is not None:
                ok = ok and got[n] == self.target
            return got if ok else None

        # The best assignment found so far, with its score (a list: `search` replaces it).
        best: list[tuple[tuple[int, int, int], dict[int, tuple[int, Shape]]]] = []

        def search(assigns: Iterable[dict[int, tuple[int, Shape]]]) -> None:
            # `assigns` come in order of preference: past the first level of preference that
            # has an answer, none can do better.
            for assign in assigns:
                if self.budget <= 0 or (best and
                                        sum(p for p, _ in assign.values()) > best[0][0][0]):
                    return
                got = attempt(assign)
                if got is not None:
                    s = score(assign, got)
                    if not best or s < best[0][0]:
                        best[:] = [(s, assign)]

        ranked = {i: self.candidates(i, dims) for i in feeding}
        for i in feeding:  # each input alone, the one used last first (first on a tie)
            search({i: c} for c in ranked[i])
        for i, j in itertools.combinations(feeding, 2):
            if best:
                break
            pairs = sorted(itertools.product(ranked[i][:PAIR_CANDIDATES],
                                             ranked[j][:PAIR_CANDIDATES]),
                           key=lambda ab: ab[0][0] + ab[1][0])
            search({i: a, j: b} for a, b in pairs)
        if not best:
            return []
        self.shapes.update({i: s for i, (_, s) in best[0][1].items()})
        return list(best[0][1])

    def run(self) -> bool:
        """Solve op by op, in order; whether every op then takes its operands (and the output
        has the target's shape)."""
        last = len(self.graph.nodes) - 1
        shapes = self.evaluate(last)
        n = 0
        while n <= last and self.budget > 0:
            node = self.graph.nodes[n]
            wrong = shapes[n] is None or (n == self.graph.output and self.target is not None
                                          and shapes[n] != self.target)
            if node.kind == "op" and wrong and all(shapes[a] is not None for a in node.args):
                changed = self.solve_at(n, shapes)
                if not changed:
                    return False  # the forward pass says what is wrong, where
                shapes = self.evaluate(last, self.downstream(changed, last), shapes)
            n += 1
        return n > last and all(s is not None for s in shapes) and \
            (self.target is None or shapes[self.graph.output] == self.target)


def _numbers(attrs: object) -> list[int]:
    """The whole numbers in an op's attributes, however nested: ((index, (4, 1)),) -> [4, 1]."""
    if isinstance(attrs, bool):
        return []
    if isinstance(attrs, int):
        return [attrs]
    if isinstance(attrs, tuple | list):
        return [v for a in attrs for v in _numbers(a)]
    return []


# Solutions by what they depend on (the graph's structure and the pinned shapes): a dragged
# slider sends the same program again and again, and the solver runs once for it.
_SOLVED: BoundedLRU[dict[str, Shape]] = BoundedLRU(max_entries=1024, max_size=1 << 20,
                                                   size=lambda d: 1 + len(d))


def infer_shapes(graph: Graph, pinned: Mapping[str, Shape], budget: int = BUDGET,
                 max_elements: int = 200_000, target: Shape | None = None
                 ) -> dict[str, Shape]:
    """The shape of every free input of `graph` (inputs not in `pinned`) under which the ops take
    their operands, and the output has the shape `target` if given (that of an output gradient
    given), as far as the solver finds one (see the module's docstring)."""
    free = [i for name, i in graph.inputs.items() if name not in pinned]
    if not free:
        return {}
    key = repr((graph.structure, sorted((k, tuple(v)) for k, v in pinned.items()
                                        if k in graph.inputs), budget, max_elements, target))
    found = _SOLVED.get(key)
    if found is None:
        found = _solve(graph, pinned, free, budget, max_elements, target)
        _SOLVED.put(key, found)
    return dict(found)


def _solve(graph: Graph, pinned: Mapping[str, Shape], free: list[int], budget: int,
           max_elements: int, target: Shape | None) -> dict[str, Shape]:
    def attempt(target: Shape | None) -> tuple[bool, dict[str, Shape]]:
        shapes: dict[int, Shape] = {i: tuple(pinned[name]) for name, i in graph.inputs.items()
                                    if name in pinned}
        for i in free:
            shapes[i] = MATRIX_START if capitalised(graph.nodes[i].label) else ()
        solver = _Solver(graph, shapes, sorted(free), budget, max_elements, target)
        ok = solver.run()
        return ok, {graph.nodes[i].label: solver.shapes[i] for i in free}

    ok, found = attempt(target)
    if not ok and target is not None:
        # An output gradient no output can have: the shapes that fit the ops, so that the
        # trace's error is about that output gradient, not about an op.
        plain_ok, plain = attempt(None)
        if plain_ok:
            return plain
    return found


def fill(name: str, shape: Shape, rng: int, labels: bool) -> np.ndarray:
    """The value of a free input (see the module's docstring)."""
    if labels:
        return np.zeros(shape)
    if shape == ():
        return np.array(1.0)
    gen = np.random.default_rng([rng, zlib.crc32(name.encode())])
    return np.round(gen.standard_normal(shape), 2)


@dataclass(frozen=True)
class Supplied:
    """Where an input's value comes from (the request, the text, or drawn here), its shape, and
    the drawn value (None unless drawn)."""

    source: Literal["request", "text", "drawn"]
    shape: Shape
    drawn: np.ndarray | None


def supply(graph: Graph, given: Mapping[str, object], rng: int, max_elements: int = 200_000,
           seed: object = None) -> dict[str, Supplied]:
    """Every input of `graph`: the request's value, else the text's, else a drawn one of the
    inferred shape (`infer_shapes`, `fill`). An output gradient (`seed`, else the text's) of
    more than one number gives the output's shape."""
    pinned: dict[str, Shape] = {}
    sources: dict[str, Literal["request", "text"]] = {}
    for name in graph.inputs:
        if name in given:
            raw, sources[name] = given[name], "request"
        elif name in graph.defaults:
            raw, sources[name] = graph.defaults[name], "text"
        else:
            continue
        shape = raw_shape(raw)
        if shape is not None:
            pinned[name] = shape
    out_grad = raw_shape(graph.seed_default if seed is None else seed)
    target = out_grad if out_grad else None  # one number broadcasts to any output
    inferred = infer_shapes(graph, pinned, max_elements=max_elements, target=target) \
        if len(sources) < len(graph.inputs) else {}
    out: dict[str, Supplied] = {}
    for name, i in graph.inputs.items():
        if name in sources:
            out[name] = Supplied(sources[name], pinned.get(name, ()), None)
        else:
            shape = inferred.get(name, ())
            labels = not graph.nodes[i].requires_grad
            out[name] = Supplied("drawn", shape, fill(name, shape, rng, labels))
    return out
