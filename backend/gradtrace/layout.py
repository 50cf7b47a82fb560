"""Graph layout with Graphviz `dot`, keyed by the graph's structure and direction, and cached.

The layout depends on the graph's structure only (node kinds, labels, wiring) and on its
direction (down: top to bottom, or right: left to right; `choose_direction` picks the one that
fits a space's shape, from the layers alone), never on values:
changing an input value must not re-run it, and nodes must not move when a step is taken. So the
browser asks for a layout once per structure, and this module keeps recent ones in an LRU cache.

The DOT source is written with the `graphviz` package (it quotes every attribute) using ids of our
own (`n0`, `n1`, ...), never user text, as node names. `dot` itself runs in a subprocess with a
time budget and is killed past it: `graphviz.pipe` has no timeout, so we call the binary directly.

`dot` is exact but super-linear in the number of ranks its long edges cross (an input used in every
layer of a 300-node chain takes it minutes). So before running it we estimate its problem size,
nodes plus the virtual nodes of long edges, and past `dot_max_work` (or past the time budget) we
use `layered_layout`, a simple layered drawing of our own in linear time. The answer says which
`engine` drew it.

Coordinates are returned in SVG space (y down, points): node centres and sizes, and each edge as an
SVG path of cubic Béziers, the arrowhead's tip, its mid point, and the points where its labels go
(`place_labels`: the value above the wire and the gradient below it, as in cs231n, and the local
derivative), chosen here once so that the browser and the pictures agree.

A view with opened gates (gates.py) draws each opened gate's parts inside a box: a Graphviz
cluster (nested for a gate opened inside another), so that no other node falls inside it, with
room at its top for the gate's name and its close control. The answer's `clusters` gives each
box by gate id (the layered stand-in boxes the parts' nodes after placing them).
"""

from __future__ import annotations

import bisect
import itertools
import json
import logging
import math
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import graphviz
import orjson

from .engine import Graph
from .gates import gates_of
from .lru import BoundedLRU
from .naming import shown_names
from .settings import Settings

Point = tuple[float, float]
Direction = Literal["down", "right"]

# The spacing of each direction, in inches. Across (left to right) each wire carries its value
# above it and its gradient below it, so ranks are far apart; down (top to bottom) the labels
# sit beside the wire, so nodes of one rank are far apart instead.
SPACING: dict[str, tuple[float, float]] = {"right": (0.6, 2.0), "down": (1.5, 0.9)}


class LayoutTimeout(Exception):
    """`dot` ran past its time budget (and was killed)."""


class DotFailed(Exception):
    """`dot` is missing or failed."""


log = logging.getLogger("gradtrace")


def node_size(kind: str, label: str) -> tuple[float, float]:
    """Node width and height in inches: ops are circles, inputs and constants rounded boxes."""
    chars = len(label)
    if kind == "op":
        d = max(0.62, 0.16 * chars + 0.3)
        return d, min(d, 0.62) if chars > 3 else d
    return max(0.6, 0.15 * chars + 0.35), 0.5


def sizes(graph: Graph) -> list[tuple[float, float]]:
    """Each node's size, for the name it is drawn with (naming.py: `h1`, `a`, `x[0]`)."""
    names = shown_names(graph, gates_of(graph).groups)
    return [node_size(n.kind, names[n.index].text) for n in graph.nodes]


def cluster_name(gate: str) -> str:
    """A gate's cluster in the DOT source (`cluster_` makes it a box; `g3.2` -> `cluster_g3_2`)."""
    return "cluster_" + gate.replace(".", "_")


# The space kept at the top of an opened gate's box: its title, "⊖ name" (frontend and render.py
# draw it over the box's top-left corner at CLUSTER_TITLE px).
CLUSTER_TITLE = 13.0


def cluster_label(op: str) -> str:
    """What dot keeps room for at the top of a gate's box: the title the drawings write there."""
    return f"⊖ {op}  "


def to_dot(graph: Graph, direction: Direction = "right") -> str:
    g = graphviz.Digraph("gradtrace")
    nodesep, ranksep = SPACING[direction]
    g.attr(rankdir="LR" if direction == "right" else "TB", nodesep=f"{nodesep:g}",
           ranksep=f"{ranksep:g}", splines="spline", margin="0.1")
    g.attr("node", fixedsize="true", fontsize="14")
    g.attr("edge", arrowsize="0.7")
    gates = gates_of(graph)
    boxes = {gate.id: graphviz.Digraph(cluster_name(gate.id)) for gate in gates.opened}
    for gate in gates.opened:
        boxes[gate.id].attr(label=graphviz.escape(cluster_label(gate.op)), labeljust="l",
                            labelloc="t", fontsize=f"{CLUSTER_TITLE:g}", style="rounded,dashed",
                            margin="10")
    size = sizes(graph)
    for n in graph.nodes:
        w, h = size[n.index]
        shape = "ellipse" if n.kind == "op" else "box"
        group = gates.groups[n.index] if gates.opened else None
        (boxes[group] if group is not None else g).node(
            n.id, label=graphviz.escape(n.label), shape=shape, width=f"{w:.3f}",
            height=f"{h:.3f}")
    # A box goes into its parent's once it is complete: parts (deeper ids) first.
    for gate in sorted(gates.opened, key=lambda x: -x.id.count(".")):
        (boxes[gate.parent] if gate.parent is not None else g).subgraph(boxes[gate.id])
    for e in graph.edges:
        g.edge(graph.nodes[e.source].id, graph.nodes[e.target].id, id=e.id)
    source: str = g.source
    return source


def run_dot(source: str, timeout: float) -> dict[str, Any]:
    try:
        proc = subprocess.run(
            ["dot", "-Tjson0"], input=source.encode(), capture_output=True, timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:  # subprocess.run has already killed dot
        raise LayoutTimeout(f"dot ran past its budget of {timeout:g} s") from None
    except OSError as exc:
        raise DotFailed(f"dot could not run: {exc}") from None
    if proc.returncode != 0:
        raise DotFailed(f"dot failed: {proc.stderr.decode(errors='replace')[:500]}")
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise DotFailed(f"dot wrote no JSON: {proc.stdout[:200]!r}") from None
    if not isinstance(data, dict):
        raise DotFailed("dot wrote JSON that is not a layout")
    return data


def _points(spec: str, height: float) -> tuple[list[Point], Point | None]:
    """Parse dot's `pos` of an edge: "e,x,y x,y x,y ..." into points (SVG y) and arrow tip."""
    tip: Point | None = None
    pts: list[Point] = []
    for part in spec.split():
        fields = part.split(",")
        if fields[0] in ("e", "s"):
            p = (float(fields[1]), height - float(fields[2]))
            if fields[0] == "e":
                tip = p
            continue
        pts.append((float(fields[0]), height - float(fields[1])))
    return pts, tip


def _bezier(p: list[Point], t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = p
    u = 1 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


def _r(x: float) -> float:
    return round(x, 2)


def ranks(graph: Graph) -> list[int]:
    """Layer of each node: ops one past their deepest operand, sources just before first use."""
    rank = [0] * len(graph.nodes)
    for n in graph.nodes:
        if n.args:
            rank[n.index] = max(rank[a] + 1 for a in n.args)
    for n in graph.nodes:
        if not n.args and n.out_edges:
            rank[n.index] = min(rank[graph.edges[e].target] for e in n.out_edges) - 1
    return rank


def extents(graph: Graph) -> dict[Direction, tuple[float, float]]:
    """About the width and height (inches) of the drawing in each direction, from the layers
    alone (`ranks`, worked out once for both): the widest layer across, the layers along."""
    rank = ranks(graph)
    along = (max(rank, default=0) - min(rank, default=0)) + 1
    per_layer: dict[int, list[tuple[float, float]]] = {}
    for n, size in zip(graph.nodes, sizes(graph), strict=True):
        per_layer.setdefault(rank[n.index], []).append(size)
    layers = per_layer.values()
    nodesep, ranksep = SPACING["right"]
    right = (along * (ranksep + max((w for ws in layers for w, _ in ws), default=0.6)),
             max((sum(h + nodesep for _, h in ws) for ws in layers), default=1))
    nodesep, ranksep = SPACING["down"]
    down = (max((sum(w + nodesep for w, _ in ws) for ws in layers), default=1),
            along * (ranksep + 0.62))
    return {"right": right, "down": down}


def extent(graph: Graph, direction: Direction) -> tuple[float, float]:
    """`extents` in one direction."""
    return extents(graph)[direction]


def choose_direction(graph: Graph, aspect: float) -> Direction:
    """The direction whose drawing, fitted into a space `aspect` times as wide as high, is drawn
    the largest (a deep chain goes down on a phone and across on a projector)."""
    scale = {d: min(aspect / max(w, 1e-9), 1 / max(h, 1e-9))
             for d, (w, h) in extents(graph).items()}
    return "down" if scale["down"] > scale["right"] * 1.1 else "right"


def dot_work(graph: Graph) -> int:
    """Nodes plus the virtual nodes `dot` adds along edges that skip ranks: its problem size."""
    rank = ranks(graph)
    return len(graph.nodes) + sum(max(0, rank[e.target] - rank[e.source] - 1)
                                  for e in graph.edges)


def layered_layout(graph: Graph, direction: Direction = "right") -> dict[str, Any]:
    """A layered drawing in linear time per sweep, for graphs too big for `dot`, left to right
    or top to bottom.

    Layers from `ranks`; within a layer nodes are ordered by the barycentre of their operands'
    positions (two sweeps), then edges are drawn as cubic curves leaving and entering along the
    direction. Worked out in (along, across) coordinates, then laid out as (x, y) or (y, x).
    """
    rank = ranks(graph)
    lo = min(rank, default=0)
    layers: list[list[int]] = [[] for _ in range(max(rank, default=0) - lo + 1)]
    for n in graph.nodes:
        layers[rank[n.index] - lo].append(n.index)
    pos = [0.0] * len(graph.nodes)
    for _ in range(2):
        for layer in layers:
            for i in layer:
                args = graph.nodes[i].args
                if args:
                    pos[i] = sum(pos[a] for a in args) / len(args)
            layer.sort(key=lambda i: pos[i])
            for k, i in enumerate(layer):
                pos[i] = float(k)
    right = direction == "right"
    inches = sizes(graph)
    # (along, across) size of each node, in points.
    extents = [(w * 72, h * 72) if right else (h * 72, w * 72) for w, h in inches]
    gap_along, gap_across = (140.0, 44.0) if right else (64.0, 110.0)
    thickest = max((c for _, c in extents), default=36.0)
    rows = max((len(layer) for layer in layers), default=1)
    span = rows * (thickest + gap_across) + gap_across
    nodes: dict[str, dict[str, Any]] = {}
    at = 10.0
    for layer in layers:
        depth = max((extents[i][0] for i in layer), default=0.0)
        first = (span - len(layer) * (thickest + gap_across)) / 2 + gap_across / 2
        for k, i in enumerate(layer):
            n = graph.nodes[i]
            u, v = at + depth / 2, first + k * (thickest + gap_across) + thickest / 2
            w, h = inches[i]
            x, y = (u, v) if right else (v, u)
            nodes[n.id] = {"x": _r(x), "y": _r(y), "w": _r(w * 72), "h": _r(h * 72),
                           "shape": "ellipse" if n.kind == "op" else "box"}
        at += depth + gap_along

    def xy(u: float, v: float) -> Point:
        return (u, v) if right else (v, u)

    edges: dict[str, dict[str, Any]] = {}
    for e in graph.edges:
        a, b = nodes[graph.nodes[e.source].id], nodes[graph.nodes[e.target].id]
        (au, av), (bu, bv) = xy(a["x"], a["y"]), xy(b["x"], b["y"])
        a_half = (a["w"] if right else a["h"]) / 2
        b_half = (b["w"] if right else b["h"]) / 2
        p0 = (au + a_half, av)
        tip = (bu - b_half, bv)
        p3 = (tip[0] - 7.0, tip[1])
        du = max(20.0, (p3[0] - p0[0]) / 2)
        p1, p2 = (p0[0] + du, p0[1]), (p3[0] - du, p3[1])
        q = [xy(*p) for p in (p0, p1, p2, p3)]
        mid = _bezier(q, 0.5)
        t = xy(*tip)
        edges[e.id] = {
            "path": f"M{_r(q[0][0])},{_r(q[0][1])} C{_r(q[1][0])},{_r(q[1][1])} "
                    f"{_r(q[2][0])},{_r(q[2][1])} {_r(q[3][0])},{_r(q[3][1])}",
            "arrow": [_r(q[3][0]), _r(q[3][1]), _r(t[0]), _r(t[1])],
            "mid": [_r(mid[0]), _r(mid[1])],
            "source": graph.nodes[e.source].id,
            "target": graph.nodes[e.target].id,
        }
    length = at - gap_along + 10
    width, height = (length, span) if right else (span, length)
    return {"structure": graph.structure, "engine": "layered", "width": _r(width),
            "height": _r(height), "nodes": nodes, "edges": edges,
            "clusters": _boxed_clusters(graph, nodes), "direction": direction}


def _boxed_clusters(graph: Graph, nodes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each opened gate's box around its parts' nodes (and its inner gates' boxes), for a layout
    that did not place clusters itself (the layered stand-in)."""
    gates = gates_of(graph)
    out: dict[str, Any] = {}
    for gate in sorted(gates.opened, key=lambda x: -x.id.count(".")):
        x0 = y0 = math.inf
        x1 = y1 = -math.inf
        boxes = [nodes[n.id] for n in graph.nodes if gates.groups[n.index] == gate.id]
        boxes += [c for gid, c in out.items() if c["parent"] == gate.id]
        for b in boxes:
            x0, x1 = min(x0, b["x"] - b["w"] / 2), max(x1, b["x"] + b["w"] / 2)
            y0, y1 = min(y0, b["y"] - b["h"] / 2), max(y1, b["y"] + b["h"] / 2)
        if not boxes:
            continue
        pad = 10.0
        x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad - CLUSTER_TITLE * 1.6, y1 + pad
        out[gate.id] = {"x": _r((x0 + x1) / 2), "y": _r((y0 + y1) / 2), "w": _r(x1 - x0),
                        "h": _r(y1 - y0), "label": gate.op, "parent": gate.parent}
    return out


# The box an edge's labels take around their anchor: a value above the wire and a gradient below
# it, each up to about 7 characters of the graph font (−0.0026); and the local derivative's box.
LABEL_BOX = (70.0, 42.0)
LOCAL_BOX = (52.0, 20.0)
LABEL_GAP = 6.0  # drawn down: from the wire to the labels' left edge
FRACTIONS = (0.4, 0.5, 0.3, 0.6, 0.22, 0.7, 0.15, 0.8)
LOCAL_FRACTIONS = (0.72, 0.8, 0.64, 0.86)


def _path_samples(path: str) -> list[Point]:
    nums = [float(v) for v in path.replace("M", " ").replace("C", " ").replace(",", " ").split()]
    pts = list(zip(nums[0::2], nums[1::2], strict=False))
    samples = [pts[0]]
    for s in range(0, len(pts) - 3, 3):
        samples += [_bezier(pts[s:s + 4], j / 16) for j in range(1, 17)]
    return samples


def _lengths(samples: list[Point]) -> list[float]:
    lengths = [0.0]
    for (x0, y0), (x1, y1) in itertools.pairwise(samples):
        lengths.append(lengths[-1] + math.hypot(x1 - x0, y1 - y0))
    return lengths


def _at(samples: list[Point], fraction: float, lengths: list[float] | None = None) -> Point:
    """The point at `fraction` of a polyline's length (as SVG's getPointAtLength)."""
    lengths = lengths or _lengths(samples)
    target = lengths[-1] * fraction
    i = bisect.bisect_left(lengths, target, 1) if len(lengths) > 1 else 1
    i = min(i, len(lengths) - 1)
    seg = (lengths[i] - lengths[i - 1]) or 1.0
    w = (target - lengths[i - 1]) / seg
    (x0, y0), (x1, y1) = samples[i - 1], samples[i]
    return (x0 + w * (x1 - x0), y0 + w * (y1 - y0))


Box = tuple[float, float, float, float]


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


class Boxes:
    """Placed boxes in a grid of cells, so that a new box is compared with its neighbours only:
    placing a graph's labels is then linear in its edges, not quadratic (a 400-edge graph took
    1.3 s). Sums run over boxes in the order they were placed, as a plain list's would."""

    CELL = 128.0

    def __init__(self) -> None:
        self.boxes: list[Box] = []
        self.cells: dict[tuple[int, int], list[int]] = {}

    def _cells(self, b: Box) -> Iterator[tuple[int, int]]:
        c = self.CELL
        for i in range(math.floor(b[0] / c), math.floor(b[2] / c) + 1):
            for j in range(math.floor(b[1] / c), math.floor(b[3] / c) + 1):
                yield (i, j)

    def add(self, b: Box) -> None:
        k = len(self.boxes)
        self.boxes.append(b)
        for cell in self._cells(b):
            self.cells.setdefault(cell, []).append(k)

    def covered(self, a: Box) -> float:
        """The area of `a` covered by the placed boxes (counted once per box)."""
        near: set[int] = set()
        for cell in self._cells(a):
            near.update(self.cells.get(cell, ()))
        return sum(_overlap(a, self.boxes[k]) for k in sorted(near))


def place_labels(layout: dict[str, Any], limit: int = 2_500) -> None:
    """Give each edge a `label` point (value above, gradient below) and a `local` point (the
    local derivative), chosen along the wire so that they clear the nodes and each other. Drawn
    down (top to bottom), the labels sit to the right of their point on the wire (their box
    starts LABEL_GAP to its right), not across the wire.

    Greedy: each edge takes the first of a few fractions along its path (40% first, as wires into
    one node are apart there) whose boxes overlap nothing placed so far, or else the one that
    overlaps least. Both the browser and the pictures draw labels at these points, so they agree.
    Past `limit` edges the first choice is taken without the search.
    """
    boxes = Boxes()
    for n in layout["nodes"].values():
        boxes.add((n["x"] - n["w"] / 2, n["y"] - n["h"] / 2, n["x"] + n["w"] / 2,
                   n["y"] + n["h"] / 2))
    for c in layout.get("clusters", {}).values():
        # An opened gate's title, at the top-left corner of its box.
        left, top = c["x"] - c["w"] / 2, c["y"] - c["h"] / 2
        boxes.add((left, top, left + 0.62 * CLUSTER_TITLE * len(cluster_label(c["label"])) + 16,
                   top + CLUSTER_TITLE * 1.6))
    edges = layout["edges"]
    search = len(edges) <= limit
    beside = layout.get("direction") == "down"

    def choose(samples: list[Point], lengths: list[float], fractions: tuple[float, ...],
               box: tuple[float, float]) -> Point:
        w, h = box
        best: tuple[float, Point, Box] | None = None
        for f in fractions if search else fractions[:1]:
            x, y = _at(samples, f, lengths)
            rect = ((x + LABEL_GAP, y - h / 2, x + LABEL_GAP + w, y + h / 2) if beside
                    else (x - w / 2, y - h / 2, x + w / 2, y + h / 2))
            covered = boxes.covered(rect) if search else 0.0
            if best is None or covered < best[0]:
                best = (covered, (x, y), rect)
            if covered == 0.0:
                break
        assert best is not None
        boxes.add(best[2])
        return best[1]

    paths = {eid: _path_samples(e["path"]) for eid, e in edges.items()}
    lengths = {eid: _lengths(p) for eid, p in paths.items()}
    for eid, e in edges.items():
        x, y = choose(paths[eid], lengths[eid], FRACTIONS, LABEL_BOX)
        e["label"] = [_r(x), _r(y)]
    for eid, e in edges.items():
        x, y = choose(paths[eid], lengths[eid], LOCAL_FRACTIONS, LOCAL_BOX)
        e["local"] = [_r(x), _r(y)]


def compute_layout(graph: Graph, settings: Settings, direction: Direction = "right"
                   ) -> dict[str, Any]:
    """The layout; its `provisional` flag says it stands in for a dot run that failed or ran out
    of time (say under load), so that it is not kept in the cache for good."""
    provisional = False
    if dot_work(graph) > settings.dot_max_work:
        layout = layered_layout(graph, direction)
    else:
        try:
            layout = dot_layout(graph, settings, direction)
        except (LayoutTimeout, DotFailed) as exc:
            log.warning("layered layout instead of dot: %s", exc)
            layout, provisional = layered_layout(graph, direction), True
    place_labels(layout)
    layout["provisional"] = provisional
    return layout


def dot_layout(graph: Graph, settings: Settings, direction: Direction = "right"
               ) -> dict[str, Any]:
    data = run_dot(to_dot(graph, direction), settings.layout_timeout_s)
    try:
        return _read_dot(graph, data) | {"direction": direction}
    except (KeyError, ValueError, IndexError, TypeError, AttributeError) as exc:
        # dot exited 0 but wrote something else than a layout of this graph.
        raise DotFailed(f"dot's output is not a layout of the graph: {exc!r}"[:300]) from None


def _read_dot(graph: Graph, data: dict[str, Any]) -> dict[str, Any]:
    x0, y0, x1, y1 = (float(v) for v in data["bb"].split(","))
    height = y1
    nodes: dict[str, dict[str, Any]] = {}
    clusters: dict[str, dict[str, Any]] = {}
    opened = {cluster_name(g.id): g for g in gates_of(graph).opened}
    for obj in data.get("objects", []):
        if "pos" not in obj:  # a subgraph: an opened gate's box
            gate = opened.get(obj.get("name", ""))
            if gate is not None and "bb" in obj:
                bx0, by0, bx1, by1 = (float(v) for v in obj["bb"].split(","))
                clusters[gate.id] = {
                    "x": _r((bx0 + bx1) / 2), "y": _r(height - (by0 + by1) / 2),
                    "w": _r(bx1 - bx0), "h": _r(by1 - by0), "label": gate.op,
                    "parent": gate.parent}
            continue
        x, y = (float(v) for v in obj["pos"].split(","))
        nodes[obj["name"]] = {
            "x": _r(x), "y": _r(height - y),
            "w": _r(float(obj["width"]) * 72), "h": _r(float(obj["height"]) * 72),
            "shape": obj.get("shape", "ellipse"),
        }
    # dot does not keep the edges in input order, and two edges may join the same pair of nodes
    # (x * x): each edge is found again by the id we gave it.
    by_id = {rec["id"]: rec for rec in data.get("edges", [])}
    edges: dict[str, dict[str, Any]] = {}
    for e in graph.edges:
        rec = by_id[e.id]
        pts, tip = _points(rec["pos"], height)
        path = f"M{_r(pts[0][0])},{_r(pts[0][1])}" + "".join(
            f" C{_r(a[0])},{_r(a[1])} {_r(b[0])},{_r(b[1])} {_r(c[0])},{_r(c[1])}"
            for a, b, c in zip(pts[1::3], pts[2::3], pts[3::3], strict=False)
        )
        segments = max(1, (len(pts) - 1) // 3)
        seg = segments // 2
        t = 0.5 if segments % 2 else 0.0
        mid = _bezier(pts[3 * seg:3 * seg + 4], t) if len(pts) >= 4 else pts[0]
        end = tip or pts[-1]
        edges[e.id] = {
            "path": path,
            "arrow": [_r(pts[-1][0]), _r(pts[-1][1]), _r(end[0]), _r(end[1])],
            "mid": [_r(mid[0]), _r(mid[1])],
            "source": graph.nodes[e.source].id,
            "target": graph.nodes[e.target].id,
        }
    return {
        "structure": graph.structure,
        "engine": "dot",
        "width": _r(x1 - x0),
        "height": _r(y1 - y0),
        "nodes": nodes,
        "edges": edges,
        "clusters": clusters,
    }


class LayoutCache:
    """Recent layouts by structure key. A provisional layout (dot failed or ran out of time) is
    kept for `provisional_s` only: a hung dot then costs one time-out per structure and period,
    not one per request, and dot is tried again after it."""

    def __init__(self, entries: int, provisional_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 max_bytes: int = 64 * 1024 * 1024) -> None:
        # (the layout as JSON, the time it expires: never for dot's own), bounded by count and by
        # bytes: one layout of a 2,500-node graph is half a megabyte as JSON and five times that
        # as Python objects, so it is kept as JSON and the bound is the memory it takes.
        self.cache: BoundedLRU[tuple[bytes, float]] = BoundedLRU(
            max_entries=entries, max_size=max_bytes, size=lambda entry: len(entry[0]))
        self.provisional_s = provisional_s
        self.clock = clock

    @property
    def hits(self) -> int:
        return self.cache.hits

    @property
    def misses(self) -> int:
        return self.cache.misses

    def has(self, structure: str, direction: Direction = "right") -> bool:
        """Whether `get` would answer a graph of this structure key from the cache."""
        cached = self.cache.peek(f"{direction}:{structure}")
        return cached is not None and cached[1] > self.clock()

    def get_json(self, graph: Graph, settings: Settings, direction: Direction = "right"
                 ) -> bytes:
        """The layout as JSON (what POST /api/layout answers)."""
        key = f"{direction}:{graph.structure}"
        cached = self.cache.get(key)
        if cached is not None and cached[1] > self.clock():
            return cached[0]
        result = compute_layout(graph, settings, direction)
        expires = self.clock() + self.provisional_s if result["provisional"] else math.inf
        data = orjson.dumps(result)
        self.cache.put(key, (data, expires))
        return data

    def get(self, graph: Graph, settings: Settings, direction: Direction = "right"
            ) -> dict[str, Any]:
        layout: dict[str, Any] = orjson.loads(self.get_json(graph, settings, direction))
        return layout
