"""Static pictures of a step: SVG drawn here, PNG and PDF converted from it by `rsvg-convert`.

The drawing follows the browser's graph view (frontend/src/graph-view.ts) element for element:
the same classes, the same placement (an edge's value above the wire and its gradient below, at
the layout's `label` point; the local derivative at its `local` point; the output's value and
gradient to its right; a fan-out node's sum term by term below it), the same step model
(frontend/src/steps.ts) and the same number format (frontend/src/format.ts), both checked by the
shared vectors in tests/vectors/, with the theme's colours (data/palette.json, the app's too)
resolved so that any SVG reader, librsvg included, draws it alike. There is no script in
it, and every piece of text is XML-escaped.

A forward-mode record (`mode: "forward"`) is drawn as the app draws it: forward steps only, the
tangents in the place of the gradients (below the wire, in the tangent colour: each edge's
contribution to its target's tangent), the edges feeding the current node highlighted with their
local derivatives, a node fed by several tangents summing them term by term, the current node's
own tangent under it, and the output's tangent (the derivative) to its right.

A view with opened gates (the query's `expand`, gates.py) draws each opened gate's parts inside
its box (the layout's `clusters`), titled with the gate's op, as the app does (without the app's
close control: a picture is not clicked).

Each node is drawn with its one name (the record's `display`, naming.py) and its op's symbol
above it; drawn down, the labels sit to the right of their wire; a short vector is written out
where it clears the nodes, else its shape in words. Under the graph: the step's caption and the
colour key (data/colour_key.json, the app's list), wrapped to the graph's width. Colour is never
the only carrier: a gradient's label starts with "∇ ", a tangent's with "∂ " (the key's
`prefix`es, as the app draws them), and values sit above the wire, gradients below.

The picture's <title> and <desc> are the view's text alternative (describe.py: the expression and
the step; the graph, its inputs and output, and the step in words, as the app's narration says
it), named by the <svg role="img"> through aria-labelledby and aria-describedby.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any, Literal
from xml.sax import saxutils

from .codec import decode_number
from .errors import GradtraceError
from .layout import CLUSTER_TITLE, LABEL_GAP, Boxes
from .ops import REGISTRY

Format = Literal["svg", "png", "pdf"]
MINUS = "\u2212"


# Characters XML 1.0 forbids (C0 controls but tab, newline and return; U+FFFE, U+FFFF; lone
# surrogates): an expression's comment may hold any of them, and one of them in a picture made
# the SVG unreadable and rsvg-convert fail. Each is drawn as U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _symbol(op: str) -> str:
    """The symbol of an op by name; a function the program defines (`def f`) shows its name."""
    entry = REGISTRY.get(op)
    return entry.symbol if entry is not None else op


def escape(text: str) -> str:
    """Text as XML character data."""
    return saxutils.escape(_NOT_XML.sub("\ufffd", text))


def quoteattr(text: str) -> str:
    """Text as a quoted XML attribute value."""
    return saxutils.quoteattr(_NOT_XML.sub("\ufffd", text))


def _palette() -> dict[str, Any]:
    """The themes' colours and graph sizes (data/palette.json, which the app's stylesheet is built
    from too: frontend/vite.palette.ts)."""
    text = resources.files("gradtrace").joinpath("data/palette.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


PALETTE = _palette()
# Per theme: its colours and sizes (px) by the stylesheet's variable names, `-` as `_`
# (`node_input`, `graph_font`).
THEMES: dict[str, dict[str, str | float]] = {
    name: {key.replace("-", "_"): value
           for key, value in {**theme["colours"], **theme["sizes"]}.items()}
    for name, theme in PALETTE["themes"].items()
}
MONO: str = PALETTE["fonts"]["mono"]
SANS: str = PALETTE["fonts"]["font"]


# ---------------------------------------------------------------------------------------------
# Numbers, as frontend/src/format.ts writes them


def _trim(x: float) -> str:
    """A float as JavaScript's `String(x)` writes it (for |x| < 1e21)."""
    return str(int(x)) if x.is_integer() and abs(x) < 1e21 else repr(x)


def _round(ax: float, sig: int) -> tuple[Decimal, int]:
    """|x| to `sig` significant digits as JavaScript's toPrecision and toExponential round it (the
    exact binary value, a tie away from zero): the mantissa in [1, 10) and the exponent."""
    d = Decimal(ax)
    exp = d.adjusted()
    mant = d.scaleb(-exp).quantize(Decimal(1).scaleb(1 - sig), rounding=ROUND_HALF_UP)
    if mant >= 10:
        mant, exp = (mant / 10).quantize(Decimal(1).scaleb(1 - sig)), exp + 1
    return mant, exp


def format_number(v: Any, sig: int = 4) -> str:
    """At most `sig` significant digits, no trailing zeros; ∞, −∞, NaN; a true minus sign.
    `v` is a number or a non-finite spelling of the record (codec.py)."""
    x = decode_number(v)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else f"{MINUS}∞"
    if x == 0:
        return "0"
    sig = max(1, sig)
    mant, exp = _round(abs(x), sig)
    sign = "-" if x < 0 else ""
    if 1e-3 <= abs(x) < 10 ** max(sig, 5):
        s = sign + _trim(float(mant.scaleb(exp)))
    else:
        s = f"{sign}{_trim(float(mant))}e{exp}"
    return re.sub(r"^-", MINUS, s).replace("e-", f"e{MINUS}")


def _shape(t: Any) -> list[int]:
    shape: list[int] = []
    while isinstance(t, list):
        shape.append(len(t))
        if not t:
            break
        t = t[0]
    return shape


# A vector (or a 1×n, n×1 matrix) of at most this many numbers is written out on the graph.
SHORT_VECTOR = 3


def _flat(t: Any) -> list[Any]:
    return [y for x in t for y in _flat(x)] if isinstance(t, list) else [t]


def shape_words(shape: list[int]) -> str:
    """A shape where a tensor's numbers do not fit, never readable as a value: 2×3, 5-vector."""
    if not shape:
        return "scalar"
    if len(shape) == 1:
        return f"{shape[0]}-vector"
    return "×".join(str(d) for d in shape)


def format_short(t: Any, max_elements: int = 1, sig: int = 3) -> str:
    """A label on the graph (as frontend/src/format.ts formatShort; tests/vectors/format.json):
    the number; a tensor of at most `max_elements` numbers in full; a vector (or 1×n, n×1) of at
    most SHORT_VECTOR numbers as one flat list, to 2 significant digits; else its shape in
    words (2×3, 5-vector)."""
    if t is None:
        return ""
    if not isinstance(t, list):
        return format_number(t, sig)
    shape = _shape(t)
    n = math.prod(shape)
    fits = n <= max_elements
    if sum(1 for d in shape if d != 1) <= 1 and (fits or n <= SHORT_VECTOR):
        s = sig if fits else min(sig, 2)
        return "[" + ", ".join(format_number(x, s) for x in _flat(t)) + "]"
    if fits:
        def nested(x: Any) -> str:
            if isinstance(x, list):
                return "[" + ", ".join(nested(i) for i in x) + "]"
            return format_number(x, sig)
        return nested(t)
    return shape_words(shape)


def _is_scalar(t: Any) -> bool:
    return not isinstance(t, list)


def _zeros_like(t: Any) -> Any:
    return [_zeros_like(i) for i in t] if isinstance(t, list) else 0.0


def tangent_of(node: dict[str, Any]) -> Any:
    """A node's tangent in forward mode, with null (the node does not depend on wrt) as the
    zeros it stands for (frontend/src/graph-view.ts `tangentOf`)."""
    t = node.get("tangent")
    return _zeros_like(node["value"]) if t is None else t


# ---------------------------------------------------------------------------------------------
# Steps, as frontend/src/steps.ts counts them


@dataclass
class StepView:
    index: int
    phase: Literal["forward", "backward"]
    k: int
    n: int
    current: str | None
    valued: set[str] = field(default_factory=set)
    graded: set[str] = field(default_factory=set)
    edge_grads: set[str] = field(default_factory=set)
    arriving: set[str] = field(default_factory=set)
    sending: set[str] = field(default_factory=set)
    backward: dict[str, Any] | None = None
    mode: Literal["reverse", "forward"] = "reverse"
    # Forward mode: nodes whose (non-null) tangent is known, edges whose tangent contribution is
    # known (their target's step is reached), and the edges into the current node.
    tangented: set[str] = field(default_factory=set)
    edge_tangents: set[str] = field(default_factory=set)
    feeding: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return f"{self.phase} {self.k}/{self.n}"


def step_index(trace: Mapping[str, Any], spec: str | None) -> int:
    """`f2` (forward step 2), `b3` (backward step 3), `end`, `start`, or `backward` (its first
    step); steps count from 1 within their pass. None means the end."""
    f, b = len(trace["forward"]), len(trace["backward"])
    text = (spec or "end").strip().lower()
    if text == "end":
        return f + b - 1
    if text == "start":
        return 0
    if text == "backward":
        return f if b else f - 1
    m = re.fullmatch(r"([fb])(\d{1,6})", text)
    if m:
        k, limit = int(m.group(2)), (f if m.group(1) == "f" else b)
        if 1 <= k <= limit:
            return k - 1 if m.group(1) == "f" else f + k - 1
        what = "forward" if m.group(1) == "f" else "backward"
        if what == "backward" and trace.get("mode") == "forward":
            raise GradtraceError("step", f"there is no backward step {k}: forward mode has "
                                 f"forward steps only (f1 to f{f})")
        raise GradtraceError("step", f"there is no {what} step {k}: this expression has "
                             f"{limit} {what} steps ({m.group(1)}1 to {m.group(1)}{limit})")
    raise GradtraceError("step", f"unknown step {spec!r}: use f<k> (forward step k), b<k> "
                         "(backward step k), start or end")


def step_view(trace: Mapping[str, Any], index: int) -> StepView:
    f, b = len(trace["forward"]), len(trace["backward"])
    i = max(0, min(f + b - 1, index))
    if i < f:
        view = StepView(i, "forward", i + 1, f, trace["forward"][i],
                        valued=set(trace["forward"][: i + 1]))
        if trace.get("mode") == "forward":
            view.mode = "forward"
            view.tangented = {n["id"] for n in trace["nodes"]
                              if n["id"] in view.valued and n.get("tangent") is not None}
            for e in trace["edges"]:
                if e["target"] in view.valued and e.get("tangent") is not None:
                    view.edge_tangents.add(e["id"])
                if e["target"] == view.current:
                    view.feeding.add(e["id"])
        return view
    k = i - f + 1
    steps = trace["backward"][:k]
    step = steps[-1]
    view = StepView(i, "backward", k, b, step["node"], valued=set(trace["forward"]),
                    graded={s["node"] for s in steps},
                    edge_grads={e["id"] for s in steps for e in s["edges"]}, backward=step)
    view.sending = {e["id"] for e in step["edges"]}
    view.arriving = {t["edge"] for t in step["terms"] if t["edge"] is not None}
    return view


def derivative_text(trace: Mapping[str, Any]) -> str:
    """The output's derivative in forward mode, as the app writes it beside the output
    (frontend/src/explain.ts `derivativeText`): `∂f/∂x = −4`, `∂f/∂x · 2 = 6` along a direction
    other than 1."""
    out = next((n for n in trace["nodes"] if n["id"] == trace["output"]), None)
    name = (out or {}).get("name") or "f"
    v, d = trace.get("tangent"), trace.get("derivative")
    along = "" if v is None or v == 1 else " · " + (
        format_number(v, 4) if _is_scalar(v) else format_short(v, 4, 4))
    shown = format_number(d, 4) if _is_scalar(d) else format_short(d, 4, 4)
    return f"∂{name}/∂{trace.get('wrt')}{along} = {shown}"


def _forward_sum(node: dict[str, Any], parts: list[Any], wrt: str, current: bool) -> str | None:
    """The text under a node in forward mode (graph-view.ts): a tangent fed by several edges as
    the sum of their parts, term by term; else the current node's own tangent. None: nothing to
    say under this node."""
    if node.get("tangent") is not None and len(parts) > 1:
        if all(_is_scalar(p) for p in parts) and _is_scalar(node["tangent"]):
            text = (" + ".join(format_number(p, 3) for p in parts)
                    + f" = {format_number(node['tangent'], 3)}")
        else:
            text = f"Σ of {len(parts)} = {format_short(node['tangent'])}"
        return text.replace(f"+ {MINUS}", f"{MINUS} ")
    if current:
        return f"d/d{wrt} = {format_short(tangent_of(node))}"
    return None


# ---------------------------------------------------------------------------------------------
# Geometry


class _Extent:
    """The bounding box of everything drawn."""

    def __init__(self) -> None:
        self.x0 = self.y0 = math.inf
        self.x1 = self.y1 = -math.inf

    def add(self, x: float, y: float) -> None:
        self.x0, self.x1 = min(self.x0, x), max(self.x1, x)
        self.y0, self.y1 = min(self.y0, y), max(self.y1, y)


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _style(theme: dict[str, str | float]) -> str:
    t = theme
    gf, nf = float(t["graph_font"]), float(t["node_font"])
    ww, nw = float(t["wire_width"]), float(t["node_width"])
    return f"""
.wire {{ fill: none; stroke: {t['wire']}; stroke-width: {ww}px; }}
.wire-tip {{ stroke: {t['wire']}; stroke-width: {ww}px; }}
.arrowhead {{ fill: {t['wire']}; }}
.node-shape {{ stroke: {t['node_stroke']}; stroke-width: {nw}px; fill: {t['node_op']}; }}
.kind-input .node-shape {{ fill: {t['node_input']}; }}
.kind-const .node-shape {{ fill: {t['node_const']}; stroke-dasharray: 4 3; }}
.node.output .node-shape {{ stroke-width: {nw * 1.8:.2f}px; }}
.node-label {{ fill: {t['fg']}; font-weight: 700; font-size: {nf}px; font-family: {MONO}; }}
.kind-input .node-label {{ font-style: italic; font-family: {SANS}; }}
.node-op {{ fill: {t['muted']}; font-weight: 700; font-size: {nf * 0.8:.1f}px;
  font-family: {MONO}; }}
.node.current .node-shape {{ stroke: {t['current']}; stroke-width: 5px; }}
.node.current-forward .node-shape {{ stroke: {t['value']}; }}
.edge-value, .edge-grad, .edge-tangent, .edge-local, .node-sum {{ font-weight: 700;
  font-size: {gf}px; font-family: {MONO}; paint-order: stroke; stroke: {t['bg']}; stroke-width: 5px;
  stroke-linejoin: round; }}
.edge-value {{ fill: {t['value']}; }}
.edge-grad {{ fill: {t['grad']}; }}
.edge-tangent {{ fill: {t['tangent']}; }}
.edge-local {{ fill: {t['local']}; font-size: {gf * 0.85:.1f}px; }}
.node-sum {{ fill: {t['grad']}; font-size: {gf * 0.9:.1f}px; }}
.node-sum.current {{ font-size: {gf}px; }}
.node-sum.tangent {{ fill: {t['tangent']}; }}
.edge.arriving .wire, .edge.arriving .wire-tip {{ stroke: {t['grad']};
  stroke-width: {ww * 1.8:.2f}px; stroke-dasharray: 9 6; }}
.edge.sending .wire, .edge.sending .wire-tip {{ stroke: {t['grad']};
  stroke-width: {ww * 1.8:.2f}px; }}
.edge.feeding.tangented .wire, .edge.feeding.tangented .wire-tip {{ stroke: {t['tangent']};
  stroke-width: {ww * 1.8:.2f}px; }}
.edge.feeding:not(.tangented) .wire {{ stroke-dasharray: 2 5; }}
.edge.labels .wire {{ stroke-dasharray: 2 4; }}
.node.tangented.current .node-shape {{ stroke: {t['tangent']}; }}
.step-label {{ fill: {t['muted']}; font-size: {gf * 0.9:.1f}px; font-family: {SANS}; }}
.key-words {{ fill: {t['muted']}; font-family: {SANS}; font-size: {gf * KEY_EM:.1f}px; }}
.key-sample {{ font-weight: 700; font-family: {MONO}; font-size: {gf * KEY_EM:.1f}px; }}
.gate-box {{ fill: {t['panel']}; stroke: {t['muted']}; stroke-width: 1.2px;
  stroke-dasharray: 6 4; }}
.gate-title {{ fill: {t['muted']}; font-weight: 700; font-size: {CLUSTER_TITLE:g}px;
  font-family: {SANS}; }}
"""


# ---------------------------------------------------------------------------------------------
# The picture


def render_svg(trace: Mapping[str, Any], layout: dict[str, Any], step: str | None = None,
               theme: str = "light") -> str:
    if theme not in THEMES:
        raise GradtraceError("value", f"unknown theme {theme!r}: use "
                             f"{', '.join(list(THEMES)[:-1])} or {list(THEMES)[-1]}")
    view = step_view(trace, step_index(trace, step))
    forward_mode = view.mode == "forward"
    wrt = str(trace.get("wrt") or "?")
    colours = THEMES[theme]
    nodes = {n["id"]: n for n in trace["nodes"]}
    graph_font, node_font = float(colours["graph_font"]), float(colours["node_font"])
    cap = graph_font * 0.75  # the height of digits: where a "hanging" label's baseline goes
    extent = _Extent()

    def text(x: float, y: float, cls: str, content: str, anchor: str = "middle",
             size: float = 1.0, data: str | None = None) -> str:
        # librsvg ignores dominant-baseline, so baselines are placed explicitly; the text's
        # estimated box (monospace: 0.6 em a character) widens the picture to fit it.
        em = graph_font * size
        width = 0.6 * em * len(content) + 5
        left = x - width / 2 if anchor == "middle" else x
        extent.add(left, y - em)
        extent.add(left + width, y + 0.25 * em)
        # `data`: the quoted id of the edge a label belongs to (as the app's data-edge).
        tag = "" if data is None else f" data-edge={data}"
        return (f'<text x="{_f(x)}" y="{_f(y)}" class="{cls}" text-anchor="{anchor}"{tag}>'
                f"{escape(content)}</text>")

    # The text alternative (describe.py imports this module: imported here, when it is needed).
    from .describe import describe_view

    alt_title, alt_text = describe_view(trace, view)
    caption = view.label
    if forward_mode:
        # What the app says beside the output (explain.ts `derivativeText`), once it is known.
        caption += f" · forward mode along {wrt}"
        if trace["output"] in view.valued:
            caption += " · " + derivative_text(trace)
    out: list[str] = [
        "",  # the <svg> element, once the extent of everything in it is known
        f'<title id="gt-title">{escape(alt_title)}</title>',
        f'<desc id="gt-desc">{escape(alt_text)}</desc>',
        f"<style>{_style(colours)}</style>",
        '<defs><marker id="gt-arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="10" '
        'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
    ]
    clusters_svg: list[str] = []
    # Outer boxes first, so that a gate opened inside another is drawn over it.
    for gid, c in sorted(layout.get("clusters", {}).items(), key=lambda kv: kv[0].count(".")):
        x, y, w, h = c["x"] - c["w"] / 2, c["y"] - c["h"] / 2, c["w"], c["h"]
        extent.add(x, y)
        extent.add(x + w, y + h)
        clusters_svg.append(
            f'<g class="gate" data-gate={quoteattr(gid)}>'
            f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" rx="10" '
            'class="gate-box"/>'
            f'<text x="{_f(x + 8)}" y="{_f(y + CLUSTER_TITLE + 3)}" class="gate-title">'
            f'{escape(str(c["label"]))}</text></g>')
    edges_svg: list[str] = []
    labels: list[str] = []
    beside = layout.get("direction") == "down"
    anchor = "start" if beside else "middle"
    # The nodes' boxes: a short vector written out ([0.1, 0.2, 0.7]) is drawn only where it
    # clears them; else its shape in words, as the app does.
    node_boxes = Boxes()
    for geo_n in layout["nodes"].values():
        node_boxes.add((geo_n["x"] - geo_n["w"] / 2, geo_n["y"] - geo_n["h"] / 2,
                        geo_n["x"] + geo_n["w"] / 2, geo_n["y"] + geo_n["h"] / 2))

    def fitted(t: Any, x: float, y: float) -> str:
        """The label of tensor `t` with its baseline at (x, y): written out where that clears
        every node, else its shape in words."""
        label = format_short(t)
        if not label.startswith("[") or not isinstance(t, list):
            return label
        width = 0.6 * graph_font * len(label)
        left = x if beside else x - width / 2
        if node_boxes.covered((left, y - graph_font, left + width, y + 0.25 * graph_font)):
            return shape_words(_shape(t))
        return label
    for e in trace["edges"]:
        geo = layout["edges"].get(e["id"])
        if geo is None:
            continue
        src = nodes[e["source"]]
        valued = e["source"] in view.valued
        grad_known = e["id"] in view.edge_grads and e["downstream"] is not None
        tangent_known = e["id"] in view.edge_tangents
        classes = ["edge"] + [c for c, on in (("labels", bool(src.get("labels"))),
                                              ("valued", valued), ("graded", grad_known),
                                              ("arriving", e["id"] in view.arriving),
                                              ("sending", e["id"] in view.sending),
                                              ("tangented", tangent_known),
                                              ("feeding", e["id"] in view.feeding)) if on]
        a = geo["arrow"]
        edges_svg.append(
            f'<g class="{" ".join(classes)}" data-edge-id={quoteattr(e["id"])}>'
            f'<path d={quoteattr(geo["path"])} class="wire"/>'
            f'<line x1="{a[0]}" y1="{a[1]}" x2="{a[2]}" y2="{a[3]}" class="wire-tip" '
            'marker-end="url(#gt-arrow)"/></g>'
        )
        mx, my = geo["label"]
        if beside:  # drawn down: the labels to the right of the wire
            mx += LABEL_GAP
        edge = quoteattr(e["id"])
        if valued:
            labels.append(text(mx, my - 5, "edge-value", fitted(src["value"], mx, my - 5),
                               anchor=anchor, data=edge))
        if grad_known:
            labels.append(text(mx, my + 5 + cap, "edge-grad", GRAD_PREFIX
                               + fitted(e["downstream"], mx, my + 5 + cap), anchor=anchor,
                               data=edge))
        if tangent_known:
            # Forward mode: the edge's part of its target's tangent, where the gradient goes.
            labels.append(text(mx, my + 5 + cap, "edge-tangent", TANGENT_PREFIX
                               + fitted(e["tangent"], mx, my + 5 + cap), anchor=anchor,
                               data=edge))
        if (e["id"] in view.sending or e["id"] in view.feeding) and e["local"] is not None:
            lx, ly = geo["local"]
            labels.append(text(lx + (LABEL_GAP if beside else 0), ly - 5, "edge-local",
                               "×" + format_number(e["local"], 3), anchor=anchor, size=0.85,
                               data=edge))
    nodes_svg: list[str] = []
    steps_by_node = {s["node"]: s for s in trace["backward"]}
    tangent_parts: dict[str, list[Any]] = {}  # forward mode: the tangents into each node
    for e in trace["edges"]:
        if e.get("tangent") is not None:
            tangent_parts.setdefault(e["target"], []).append(e["tangent"])
    for n in trace["nodes"]:
        geo = layout["nodes"].get(n["id"])
        if geo is None:
            continue
        x, y, w, h = geo["x"], geo["y"], geo["w"], geo["h"]
        named = n["kind"] == "op" and n["name"] is not None
        graded = n["id"] in view.graded and n["grad"] is not None
        classes = ["node", f"kind-{n['kind']}"] + [c for c, on in (
            ("named", named), ("output", n["id"] == trace["output"]),
            ("valued", n["id"] in view.valued), ("graded", graded),
            ("current", view.current == n["id"]),
            ("current-forward", view.current == n["id"] and view.phase == "forward"),
            ("tangented", n["id"] in view.tangented)) if on]
        if geo["shape"] == "ellipse":
            shape = f'<ellipse rx="{_f(w / 2)}" ry="{_f(h / 2)}" class="node-shape"/>'
        else:
            shape = (f'<rect x="{_f(-w / 2)}" y="{_f(-h / 2)}" width="{_f(w)}" height="{_f(h)}" '
                     'rx="6" class="node-shape"/>')
        tag = ""
        # The op's symbol above an op node drawn by its name (not above an indexing drawn as it
        # is written, `x[1]`, which says it).
        if n["op"] and not (n["op"] == "index" and n["display"].endswith("]")):
            tag = (f'<text y="{_f(-h / 2 - 5)}" class="node-op" text-anchor="middle">'
                   f'{escape(_symbol(n["op"]))}</text>')
        nodes_svg.append(
            f'<g class="{" ".join(classes)}" data-node-id={quoteattr(n["id"])} '
            f'transform="translate({_f(x)},{_f(y)})">{shape}'
            f'<text class="node-label" text-anchor="middle" y="{_f(node_font * 0.36)}">'
            f'{escape(n["display"])}</text>{tag}</g>'
        )
        extent.add(x - w / 2, y - h / 2 - (node_font if tag else 0))
        extent.add(x + w / 2, y + h / 2)
        # Forward mode: the tangent is known once the node's step is reached (zeros where the node
        # does not depend on wrt).
        tangent_known = forward_mode and n["id"] in view.valued
        if tangent_known:
            forward_sum = _forward_sum(n, tangent_parts.get(n["id"], []), wrt,
                                       view.current == n["id"])
            if forward_sum is not None:
                current = " current" if view.current == n["id"] else ""
                labels.append(text(x, y + h / 2 + 8 + cap, "node-sum tangent" + current,
                                   forward_sum, size=1.0 if current else 0.9))
        elif graded and n["fanout"] > 1:
            terms = steps_by_node[n["id"]]["terms"]
            if len(terms) > 1 and all(_is_scalar(t["value"]) for t in terms) and _is_scalar(
                    n["grad"]):
                sum_text = (" + ".join(format_number(t["value"], 3) for t in terms)
                            + f" = {format_number(n['grad'], 3)}")
            else:
                sum_text = f"Σ of {len(terms)} = {format_short(n['grad'])}"
            sum_text = sum_text.replace(f"+ {MINUS}", f"{MINUS} ")
            current = " current" if view.current == n["id"] and len(terms) > 1 else ""
            labels.append(text(x, y + h / 2 + 8 + cap, "node-sum" + current, sum_text, size=0.9))
        if n["id"] == trace["output"]:
            ox = x + w / 2 + 10
            if n["id"] in view.valued:
                labels.append(text(ox, y - 4, "edge-value out-value", format_short(n["value"]),
                                   anchor="start"))
            if graded:
                labels.append(text(ox, y + 4 + cap, "edge-grad out-grad",
                                   GRAD_PREFIX + format_short(n["grad"]), anchor="start"))
            if tangent_known:
                labels.append(text(ox, y + 4 + cap, "edge-tangent out-tangent",
                                   TANGENT_PREFIX + format_short(tangent_of(n)),
                                   anchor="start"))
    extent.add(0, 0)
    extent.add(layout["width"], layout["height"])
    pad = 12.0
    x0, y0 = extent.x0 - pad, extent.y0 - pad
    width = extent.x1 - extent.x0 + 2 * pad
    # Room for the step label and the colour key under everything (the key in rows no wider
    # than the graph, or 360 px), and for their width.
    width = max(width, 0.6 * graph_font * 0.9 * len(caption) + 16)
    entries = key_entries(forward_mode, wrt,
                          constants=any(n["kind"] == "const" for n in trace["nodes"]),
                          labels=any(n.get("labels") for n in trace["nodes"]))
    key, key_width, key_rows = _key(entries, colours, graph_font, max(width - 16, 360.0))
    width = max(width, key_width + 16)
    height = extent.y1 - extent.y0 + 2 * pad + graph_font * (1.4 + KEY_ROW * key_rows)
    out[0] = (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="{_f(x0)} {_f(y0)} {_f(width)} {_f(height)}" '
        'role="img" aria-labelledby="gt-title" aria-describedby="gt-desc" '
        f'data-step={quoteattr(view.label)}>'
    )
    out += [f'<rect x="{_f(x0)}" y="{_f(y0)}" width="100%" height="100%" '
            f'fill="{colours["bg"]}"/>',
            '<g class="viewport">',
            '<g class="gates">', *clusters_svg, "</g>",
            '<g class="edges">', *edges_svg, "</g>", '<g class="nodes">', *nodes_svg, "</g>",
            '<g class="labels">', *labels, "</g>", "</g>",
            f'<text x="{_f(x0 + 8)}" y="{_f(y0 + height - 8 - graph_font * KEY_ROW * key_rows)}" '
            f'class="step-label">{escape(caption)}</text>',
            f'<g class="key" transform="translate({_f(x0 + 8)},'
            f'{_f(y0 + height - 8 - graph_font * KEY_ROW * (key_rows - 1))})">{key}</g>',
            "</svg>"]
    return "\n".join(out)


# The key's text and rows, in ems of the graph's font: smaller than the graph's own labels (it
# is read once, they at every step).
KEY_EM, KEY_ROW = 0.75, 1.25

# The colour key: the one list of data/colour_key.json, as the app draws it (colour-key.ts).
KEY: dict[str, Any] = json.loads(
    resources.files("gradtrace").joinpath("data/colour_key.json").read_text(encoding="utf-8"))
# What a gradient's label and a tangent's start with (the key's `prefix`; colour-key.ts
# LABEL_PREFIX): "∇ −4", "∂ 3".
GRAD_PREFIX: str = next(e["prefix"] for e in KEY["reverse"] if e["colour"] == "grad")
TANGENT_PREFIX: str = next(e["prefix"] for e in KEY["forward"] if e["colour"] == "tangent")


def key_entries(forward_mode: bool, wrt: str, constants: bool, labels: bool
                ) -> list[dict[str, str]]:
    """The key of a picture: its mode's entries ({wrt} filled in), and the constants' and
    labels' where the graph has them."""
    out = [{**e, "words": e["words"].replace("{wrt}", wrt)}
           for e in KEY["forward" if forward_mode else "reverse"]]
    if constants:
        out.append(KEY["constants"])
    if labels:
        out.append(KEY["labels"]["forward" if forward_mode else "reverse"])
    return out


def _key(entries: list[dict[str, str]], colours: dict[str, str | float], font: float,
         width: float) -> tuple[str, float, int]:
    """The key as SVG, in rows no wider than `width` (each entry whole), the first row's
    baseline at y=0: the SVG, its width and its number of rows. Its samples have classes of
    their own (key-*), so that nothing reads them as the graph's labels."""
    parts: list[str] = []
    x, row, widest = 0.0, 0, 0.0
    em = font * KEY_EM
    step = font * KEY_ROW
    for e in entries:
        kind, c, sample, words = e["kind"], colours[e["colour"].replace("-", "_")], \
            e.get("prefix", "") + e.get("sample", ""), e["words"]
        swatch = 0.6 * em * len(sample) + 6 if kind == "text" else 34
        if x > 0 and x + swatch + 0.55 * em * len(words) > width:
            x, row = 0.0, row + 1
        y = row * step
        mid = y - em * 0.35
        if kind == "text":
            parts.append(f'<text x="{_f(x)}" y="{_f(y)}" class="key-sample" fill="{c}">'
                         f"{escape(sample)}</text>")
        elif kind in ("node", "constant"):
            dash = ' stroke-dasharray="4 3"' if kind == "constant" else ""
            parts.append(f'<rect x="{_f(x + 3)}" y="{_f(y - em * 0.9)}" width="22" '
                         f'height="{_f(em * 1.1)}" rx="4" fill="none" stroke="{c}" '
                         f'stroke-width="{3 if kind == "node" else 1.6}"{dash}/>')
        else:
            dash = {"dashed": ' stroke-dasharray="9 6"', "dotted": ' stroke-dasharray="2 4"'
                    }.get(kind, "")
            parts.append(f'<line x1="{_f(x)}" y1="{_f(mid)}" x2="{_f(x + 28)}" y2="{_f(mid)}" '
                         f'stroke="{c}" stroke-width="{1.8 if kind == "dotted" else 3}"{dash}/>')
        x += swatch
        parts.append(f'<text x="{_f(x)}" y="{_f(y)}" class="key-words">{escape(words)}</text>')
        x += 0.55 * em * len(words)
        widest = max(widest, x)
        x += 18
    return "".join(parts), widest, row + 1


class PictureUnavailable(RuntimeError):
    """`rsvg-convert` is missing or failed: PNG and PDF cannot be drawn (the SVG still can)."""


def convert(svg: str, fmt: Format, scale: float = 1.0, max_pixels: int = 40_000_000,
            timeout: float = 10.0) -> bytes:
    """SVG to PNG or PDF with librsvg's `rsvg-convert` (killed past `timeout`).

    rsvg-convert cannot draw more than 32,767 px a side, and its memory grows with the area, so a
    picture larger than that, or than `max_pixels`, is refused with a "limit" error."""
    if fmt == "svg":
        return svg.encode()
    m = re.search(r'width="([\d.]+)" height="([\d.]+)"', svg[:1000])
    width, height = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
    w, h = width * scale, height * scale
    if max(w, h) > 32_767 or w * h > max_pixels:
        raise GradtraceError(
            "limit", f"a {w:,.0f} x {h:,.0f} px picture is too large (at most 32,767 px a side "
            f"and {max_pixels:,} pixels): use a smaller scale, or the SVG")
    try:
        proc = subprocess.run(
            ["rsvg-convert", "-f", fmt, "-z", f"{scale:g}"], input=svg.encode(),
            capture_output=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise GradtraceError("limit", f"the picture took longer than {timeout:g} s to draw"
                             ) from None
    except OSError as exc:
        raise PictureUnavailable(f"rsvg-convert could not run: {exc}") from None
    if proc.returncode != 0 or not proc.stdout:
        raise PictureUnavailable(
            f"rsvg-convert failed ({proc.returncode}): "
            f"{proc.stderr.decode(errors='replace')[:300]}")
    if fmt == "png":
        return png_with_text(proc.stdout, text_alternative(svg))
    return proc.stdout


def text_alternative(svg: str) -> list[tuple[str, str]]:
    """The SVG's title and description (render_svg's <title>, <desc>), as PNG's keywords name
    them: a PNG keeps its text alternative in the file, as the SVG does."""
    out = []
    for keyword, tag, ident in (("Title", "title", "gt-title"), ("Description", "desc", "gt-desc")):
        m = re.search(f'<{tag} id="{ident}">(.*?)</{tag}>', svg, re.S)
        if m:
            out.append((keyword, saxutils.unescape(m.group(1), {"&quot;": '"'})))
    return out


def png_with_text(png: bytes, fields: list[tuple[str, str]]) -> bytes:
    """`png` with an iTXt chunk (uncompressed UTF-8: "∇ −4") per field, before its IEND chunk
    (the last 12 bytes). The browser's export writes the same (frontend/src/export.ts)."""
    chunks = b""
    for keyword, text in fields:
        if not text:
            continue
        # keyword, NUL, compression flag 0, method 0, no language tag, NUL, no translated
        # keyword, NUL, the text.
        body = b"iTXt" + keyword.encode("latin-1") + b"\0\0\0\0\0" + text.encode()
        chunks += (len(body) - 4).to_bytes(4, "big") + body + \
            zlib.crc32(body).to_bytes(4, "big")
    return png[:-12] + chunks + png[-12:]
