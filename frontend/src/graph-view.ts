// The graph view: the server's layout drawn as SVG, with forward values and gradients on the edges
// as in the cs231n circuit diagrams (drawn left to right: the value above the wire, the gradient
// below; drawn down: both beside the wire, value over gradient); pan (drag), zoom (wheel, or two
// fingers), fit to the window. Built once per structure; a step or a value change only updates
// text and classes, so nodes never move. In forward mode, tangents take the gradients' place (in
// their own colour): each edge's contribution, and the output's derivative.
// Text stays legible: it never shows smaller than the theme's --min-label on screen. A graph
// fitted small grows its text (and its nodes, up to twice, to hold their names) rather than
// shrink it; then the labels are packed so that none overlaps another, a node, or the edge of the
// view: each tries its server-placed point, then other points along its wire, and the least
// important (away from the current step) give way and are hidden (their node's tooltip and the
// panels still have them).
// Gates (gates.ts): a node that is a closed gate carries a small ⊕ that opens it into its parts;
// an opened gate's parts sit in a dashed box titled "⊖ <op>", which closes it again (both are
// buttons: click, or Enter/Space once focused). Without a handler (the offline file) the boxes
// are drawn and titled, with no controls.
// The keyboard and screen readers (graph-nav.ts): the drawing is one tab stop, a group named by its
// <title> and described by its <desc> (the view's description, setDescription). While it has the
// focus the arrow keys step the passes (controls.ts); Enter moves the focus onto the nodes, each
// named with what it is and what is known of it at the step, where the arrow keys move along the
// wires (and not through the steps), Enter selects the node (as a click), R reads it, Escape
// goes back to stepping, and Tab leaves the graph.
// A gradient's label reads "∇ −4", a tangent's "∂ 3" (colour-key.ts's LABEL_PREFIX): the colour
// is not the only thing that tells them from the values.

import type { Layout, LayoutCluster, LayoutEdge, LayoutNode, Tensor, Trace, TraceEdge, TraceNode } from "./api";
import { LABEL_PREFIX } from "./colour-key";
import { formatNumber, formatShort, isScalar, plainTensor, shapeOf, shapeWords } from "./format";
import { blockedText, moveOf, navigate, navKeysShort, navStartText, nodeRelations, nodeShortName, nodeSpoken, type NavGraph, type NavPlace } from "./graph-nav";
import { labelRole, labelsPhrase, nodeLabel, nodeWhat, opTag, opTagShown } from "./node-words";
import { nodeIndex, tangentOf, type StepState } from "./steps";
import { htmlEl, setText, svgEl, toggle } from "./svg";

/** A point; as a label's anchor, a third number spreads the value and the gradient apart
 * (graph units): lifted clear of the nodes beside the wire, a long label may reach past the
 * wire's ends. */
type Point = [number, number, number?];

export type Direction = "down" | "right";

/** The direction a layout is drawn in (a layout from before directions is drawn across). */
export function layoutDirection(l: object): Direction {
  return (l as { direction?: unknown }).direction === "down" ? "down" : "right";
}

interface NodeEls {
  g: SVGGElement;
  title: SVGTitleElement;
  what: string;
  shape: SVGElement;
  label: SVGTextElement;
  /** The op above a named node, or the role above an input of labels. */
  tag: SVGTextElement | null;
  opener: SVGGElement | null;
  /** The ⊕'s inner group, scaled with the text (as far as the node is large). */
  openerSize: SVGGElement | null;
  sum: SVGTextElement;
  box: LayoutNode;
  /** How much the node is drawn larger than laid out (to hold its name legibly), and at most. */
  grow: number;
  maxGrow: number;
  out?: { value: SVGTextElement; grad: SVGTextElement; tangent: SVGTextElement };
}

interface EdgeEls {
  g: SVGGElement;
  path: SVGPathElement;
  tip: SVGLineElement;
  l: LayoutEdge;
  target: string;
  /** The target's growth the arrowhead was placed for. */
  tipGrow: number;
  value: SVGTextElement;
  grad: SVGTextElement;
  tangent: SVGTextElement;
  local: SVGTextElement;
  /** Where the labels may go, best first (computed when first needed). */
  anchors: Point[] | null;
  localAnchors: Point[] | null;
}

const MIN_LABEL_PX = 13;
/** Room around the laid-out graph (graph units at the normal text size; it grows with the text):
 * the output's labels to its right, op names above the top row. */
const PAD = { left: 24, right: 110, top: 40, bottom: 46 };
/** The most a graph is enlarged to fill the view. */
const MAX_SCALE = 3;
/** Past this growth of the labels (a huge graph fitted to the window) they would bury the
 * drawing: they come back on zooming in. */
const LABELS_OFF = 3.5;
/** The most a node is drawn larger than laid out. */
const MAX_GROW = 2;
/** Points along a wire its labels try after the server's (the server tries them in this order). */
const FRACTIONS = [0.4, 0.5, 0.3, 0.6, 0.22, 0.7, 0.15, 0.8];
const LOCAL_FRACTIONS = [0.72, 0.8, 0.64, 0.86, 0.55];
/** Drawn down: from the wire to its labels. */
const BESIDE = 6;

// ---- packing labels (pure) ----

/** A text's measured box: its size, and where it sits relative to the point the text is drawn at. */
interface Measure {
  w: number;
  h: number;
  dx: number;
  dy: number;
}

/** Before measuring: about a 15 px line, its baseline 3/4 down. */
const NO_MEASURE: Measure = { w: 0, h: 18, dx: 0, dy: -14 };

/** A box in graph units: left, top, right, bottom. */
export type Box = [number, number, number, number];

export function overlaps(a: Box, b: Box): boolean {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

export function inside(a: Box, bounds: Box): boolean {
  return a[0] >= bounds[0] && a[1] >= bounds[1] && a[2] <= bounds[2] && a[3] <= bounds[3];
}

/** Placed boxes in a grid of cells, so that a new box is compared with its neighbours only. */
export class BoxGrid {
  private readonly cells = new Map<string, Box[]>();
  constructor(private readonly cell = 96) {}

  private keys(b: Box): string[] {
    const c = this.cell;
    const out: string[] = [];
    for (let i = Math.floor(b[0] / c); i <= Math.floor(b[2] / c); i++)
      for (let j = Math.floor(b[1] / c); j <= Math.floor(b[3] / c); j++) out.push(`${i},${j}`);
    return out;
  }

  add(b: Box): void {
    for (const k of this.keys(b)) {
      const list = this.cells.get(k);
      if (list) list.push(b);
      else this.cells.set(k, [b]);
    }
  }

  hits(b: Box): boolean {
    for (const k of this.keys(b)) for (const o of this.cells.get(k) ?? []) if (overlaps(b, o)) return true;
    return false;
  }
}

/** A text to place: its measured size and where its box sits relative to the point it is drawn
 * at (its x, y attributes), and where it is drawn for an anchor point; `shortW`: the width of a
 * shorter text that may stand in for it (a tensor's shape for its numbers). */
export interface LabelPart {
  w: number;
  h: number;
  dx: number;
  dy: number;
  at: (p: Point) => Point;
  shortW?: number;
}

/** Where a part goes: the point to draw it at, and whether as its shorter text. */
export interface Placed {
  at: Point;
  short: boolean;
}

/** Texts placed together at one anchor (a wire's value and gradient), tried at each anchor in
 * turn; with no room for all, the `primary` part alone, the rest hidden. */
export interface LabelGroup {
  parts: LabelPart[];
  anchors: () => Point[];
  primary: number;
}

export function partBox(p: LabelPart, at: Point, gap = 0, short = false): Box {
  // The shorter text is anchored alike (middle, start or end): its box scales about the point.
  const f = short && p.shortW !== undefined ? p.shortW / Math.max(p.w, 1e-9) : 1;
  const x = at[0] + p.dx * f;
  const y = at[1] + p.dy;
  return [x - gap, y - gap, x + p.w * f + gap, y + p.h + gap];
}

/**
 * Place the groups in order (the most important first): each at the first anchor where all its
 * parts clear the obstacles and the parts placed before, and stay inside `bounds`; else all its
 * parts in their shorter texts; else its primary part alone (in full, then short); else nothing.
 * Returns, per group and part, where to draw it (null: hidden). Boxes keep `gap` apart.
 */
export function packLabels(groups: readonly LabelGroup[], obstacles: readonly Box[], bounds: Box, gap = 1.5): (Placed | null)[][] {
  const grid = new BoxGrid();
  for (const o of obstacles) grid.add(o);
  const fits = (parts: readonly LabelPart[], a: Point, short: boolean): Box[] | null => {
    const boxes: Box[] = [];
    for (const p of parts) {
      const at = p.at(a);
      const s = short && p.shortW !== undefined;
      if (!inside(partBox(p, at, 0, s), bounds)) return null;
      const b = partBox(p, at, gap, s);
      if (grid.hits(b) || boxes.some((o) => overlaps(o, b))) return null;
      boxes.push(b);
    }
    return boxes;
  };
  return groups.map((g) => {
    const out: (Placed | null)[] = g.parts.map(() => null);
    const all = g.parts.map((_, i) => i);
    const shortens = (which: number[]): boolean => which.some((i) => g.parts[i].shortW !== undefined);
    // Anchors come in tiers by how far they spread the parts apart (their third number): each
    // tier in full, then short, before the next spreads them further.
    const anchors = g.anchors();
    const tiers = [...new Set(anchors.map((a) => a[2] ?? 0))].map((t) => anchors.filter((a) => (a[2] ?? 0) === t));
    const tries: [number[], boolean, Point[]][] = [];
    for (const tier of tiers) {
      tries.push([all, false, tier]);
      if (shortens(all)) tries.push([all, true, tier]);
    }
    if (g.parts.length > 1) {
      tries.push([[g.primary], false, anchors]);
      if (shortens([g.primary])) tries.push([[g.primary], true, anchors]);
    }
    for (const [which, short, tier] of tries) {
      const parts = which.map((i) => g.parts[i]);
      for (const a of tier) {
        const boxes = fits(parts, a, short);
        if (!boxes) continue;
        boxes.forEach((b) => grid.add(b));
        which.forEach((i) => (out[i] = { at: g.parts[i].at(a), short: short && g.parts[i].shortW !== undefined }));
        return out;
      }
    }
    return out;
  });
}

/** How much larger than laid out each node may be drawn before it meets another node: for two
 * boxes whose centres are dx, dy apart, both grown by g, they stay apart while g·(w1+w2)/2 ≤ dx
 * or g·(h1+h2)/2 ≤ dy. Capped at `cap`; a large graph (over `limit` nodes) is not grown. */
export function growLimits(nodes: readonly LayoutNode[], cap = MAX_GROW, limit = 400): number[] {
  const out = nodes.map(() => (nodes.length > limit ? 1 : cap));
  if (nodes.length > limit) return out;
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const a = nodes[i];
      const b = nodes[j];
      const gx = Math.abs(a.x - b.x) / ((a.w + b.w) / 2);
      const gy = Math.abs(a.y - b.y) / ((a.h + b.h) / 2);
      // Keep a little air between them (8%).
      const g = Math.max(1, Math.max(gx, gy) * 0.92);
      if (g < out[i]) out[i] = g;
      if (g < out[j]) out[j] = g;
    }
  }
  return out;
}

/** The font size (graph units) at which `chars` characters of a node's name fit inside its
 * shape of w × h: about 0.62 em a character of the monospace font, within 80% of the width. */
export function nodeRoom(w: number, h: number, chars: number): number {
  return Math.min(h * 0.62, (w * 0.8) / Math.max(1, chars * 0.62));
}

/** Each drawing's own ids for its <title> and <desc>. */
let drawings = 0;

function reducedMotion(): boolean {
  return typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
}

export class GraphView {
  readonly svg: SVGSVGElement;
  private readonly viewport: SVGGElement;
  private readonly pulses: SVGGElement;
  private nodes = new Map<string, NodeEls>();
  private edges = new Map<string, EdgeEls>();
  private layout: Layout | null = null;
  private dir: Direction = "right";
  private view = { x: 0, y: 0, k: 1 };
  /** The fitted view's extent in graph units: labels stay inside it. */
  private bounds: Box = [-Infinity, -Infinity, Infinity, Infinity];
  private fittedScale = 1;
  /** The text sizes (graph units) the drawing was last sized for. */
  private sized = { floor: 0, node: 0, base: 15 };
  /** The output's labels' longest text, in ems: room kept right of the graph for it. */
  private outEms = 0;
  private labelsOff = false;
  private packQueued = false;
  private userMoved = false;
  private lastCurrent: string | null = null;
  private state: StepState | null = null;
  /** Exact texts of values and gradients for data attributes, computed once per trace. */
  private texts = new Map<string, string>();
  /** The labels' full texts and their shorter stand-ins (a tensor's shape for its numbers). */
  private full = new Map<SVGTextElement, string>();
  private short = new Map<SVGTextElement, string>();
  private textsOf: Trace | null = null;
  /** The gates' buttons and titles, grown with the labels when the graph is shown small. */
  private scaled: SVGGElement[] = [];
  onNodeClick: (id: string) => void = () => {};
  /** Open (true) or close (false) a gate; null: gates are drawn without controls. Read when a
   * graph is drawn (setGraph). */
  onGateToggle: ((id: string, open: boolean) => void) | null = null;
  /** Enter on a node in node navigation: select it into the node panel, as a click does. */
  onNodeSelect: (id: string) => void = () => {};
  /** R on a node in node navigation (or on the graph: this step's node): read it out. */
  onNodeRead: (id: string) => void = () => {};
  /** Words for a screen reader (the keys when node navigation starts; a move that goes nowhere). */
  onNavHint: (text: string) => void = () => {};
  /** The view's text alternative: the drawing's <title> and <desc>. */
  private readonly titleEl: SVGTitleElement;
  private readonly descEl: SVGDescElement;
  /** The ring around the node the keyboard is on (not the step's outline, not a cell's). */
  private readonly ring: SVGGElement;
  /** Over the graph while the keyboard moves through the nodes: the keys, for those who see. */
  private readonly hint: HTMLElement;
  /** The wires as node navigation follows them (built with the drawing). */
  private navGraph: NavGraph = { edges: [], direction: "right" };
  /** Node navigation: the node the keyboard is on and how it got there (null: not navigating). */
  private place: NavPlace | null = null;
  private shownTrace: Trace | null = null;

  constructor(readonly container: HTMLElement) {
    const uid = ++drawings;
    // Focusable, and a group (not an image): its nodes are reached inside it.
    this.svg = svgEl("svg", {
      class: "graph-svg", tabindex: "0", role: "group", "aria-roledescription": "graph",
      "aria-labelledby": `gt-title-${uid}`, "aria-describedby": `gt-desc-${uid} gt-keys-${uid}`,
    }, container);
    // Said after the description: what the keys do here (not part of a picture's description).
    htmlEl("p", { class: "sr-only", id: `gt-keys-${uid}` }, container,
      "Left and Right arrows step through the passes. Enter moves onto the graph's nodes, T shows every step as a table.");
    this.titleEl = svgEl("title", { id: `gt-title-${uid}` }, this.svg);
    this.titleEl.textContent = "computational graph";
    this.descEl = svgEl("desc", { id: `gt-desc-${uid}` }, this.svg);
    const defs = svgEl("defs", {}, this.svg);
    const marker = svgEl("marker", {
      id: "gt-arrow", viewBox: "0 0 10 10", refX: "8", refY: "5", markerWidth: "10", markerHeight: "10",
      markerUnits: "userSpaceOnUse", orient: "auto-start-reverse",
    }, defs);
    svgEl("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);
    this.viewport = svgEl("g", { class: "viewport" }, this.svg);
    this.pulses = svgEl("g", { class: "pulses" });
    this.ring = svgEl("g", { class: "nav-ring", "aria-hidden": "true", visibility: "hidden" });
    svgEl("rect", { class: "nav-ring-halo" }, this.ring);
    svgEl("rect", { class: "nav-ring-line" }, this.ring);
    this.hint = htmlEl("div", { class: "nav-hint", "aria-hidden": "true", "data-testid": "nav-hint" }, container);
    this.hint.hidden = true;
    this.installPanZoom();
    this.installKeys();
    new ResizeObserver(() => {
      if (!this.userMoved) this.fit();
    }).observe(container);
  }

  get structure(): string | null {
    return this.layout?.structure ?? null;
  }

  /** The layout drawn (null: none yet). */
  get drawn(): Layout | null {
    return this.layout;
  }

  /** What the fitted view shows, in graph units, and its scale (px a unit): a picture of it
   * shows the graph as fitted, with its labels where they are. */
  pictureBox(): { x: number; y: number; w: number; h: number; scale: number } | null {
    if (!this.layout || !Number.isFinite(this.bounds[0])) return null;
    const [x0, y0, x1, y1] = this.bounds;
    return { x: x0 - 1, y: y0 - 1, w: x1 - x0 + 2, h: y1 - y0 + 2, scale: this.fittedScale };
  }

  /** The direction the graph is drawn in. */
  get direction(): Direction {
    return this.dir;
  }

  /** The view's text alternative (narrate.ts's describeView): the drawing's <title> and <desc>,
   * which name and describe it, and go with it into an exported picture (export.ts). */
  setDescription(title: string, text: string): void {
    setText(this.titleEl, title);
    setText(this.descEl, text);
  }

  /** Build the drawing for a new structure (a new layout). */
  setGraph(layout: Layout, trace: Trace): void {
    // The keyboard stays on its node (or on the graph) through a new drawing.
    const focused = document.activeElement;
    const keepNode = this.place?.node ?? null;
    const keepFocus = focused instanceof Element && this.svg.contains(focused) && focused !== this.svg;
    this.place = null;
    this.layout = layout;
    this.dir = layoutDirection(layout);
    this.svg.setAttribute("data-direction", this.dir);
    this.viewport.replaceChildren();
    this.nodes.clear();
    this.edges.clear();
    this.scaled = [];
    this.lastCurrent = null;
    this.state = null;
    this.sized = { floor: 0, node: 0, base: 15 };
    this.full.clear();
    this.short.clear();
    const gateLayer = svgEl("g", { class: "gates" }, this.viewport);
    const edgeLayer = svgEl("g", { class: "edges" }, this.viewport);
    const nodeLayer = svgEl("g", { class: "nodes" }, this.viewport);
    const labelLayer = svgEl("g", { class: "labels" }, this.viewport);
    const gateControls = svgEl("g", { class: "gate-controls" }, this.viewport);
    this.viewport.appendChild(this.pulses);
    this.viewport.appendChild(this.ring);
    // The wires and labels are seen; a screen reader hears them through the nodes' names.
    for (const layer of [edgeLayer, labelLayer]) layer.setAttribute("aria-hidden", "true");
    // Outer boxes first: a gate opened inside another is drawn over it.
    const clusters = Object.entries(layout.clusters ?? {}).sort(([a], [b]) => a.split(".").length - b.split(".").length);
    for (const [id, c] of clusters) this.drawGate(id, c, gateLayer, gateControls);
    const byId = nodeIndex(trace);
    for (const e of trace.edges) {
      const l = layout.edges[e.id];
      if (!l) continue;
      const els = this.drawEdge(e, l, edgeLayer, labelLayer);
      // Labels feed their op, and no gradient comes back along the wire: drawn dotted.
      if (byId.get(e.source)?.labels) els.g.classList.add("from-labels");
      this.edges.set(e.id, els);
    }
    const drawn: TraceNode[] = [];
    for (const n of trace.nodes) {
      const l = layout.nodes[n.id];
      if (!l) continue;
      drawn.push(n);
      this.nodes.set(n.id, this.drawNode(n, trace, l, nodeLayer, labelLayer));
    }
    this.outEms = this.measureOutput(trace);
    const limits = growLimits(drawn.map((n) => layout.nodes[n.id]));
    drawn.forEach((n, i) => {
      const els = this.nodes.get(n.id);
      if (els) els.maxGrow = limits[i];
    });
    this.navGraph = {
      edges: trace.edges.filter((e) => this.nodes.has(e.source) && this.nodes.has(e.target)),
      direction: this.dir,
      at: new Map(drawn.map((n) => [n.id, [layout.nodes[n.id].x, layout.nodes[n.id].y] as const])),
    };
    this.userMoved = false;
    this.fit();
    if (keepNode !== null && this.nodes.has(keepNode)) this.focusNode({ node: keepNode, edge: null });
    else if (keepFocus) this.svg.focus({ preventScroll: true });
    else this.showRing();
  }

  /** The longest text the output's labels will show (its value, gradient, tangent), in ems of
   * their font (0 when not measurable). */
  private measureOutput(trace: Trace): number {
    const out = this.nodes.get(trace.output)?.out;
    const n = nodeIndex(trace).get(trace.output);
    if (!out || !n) return 0;
    const texts = [formatShort(n.value, 1), n.grad !== null ? LABEL_PREFIX.grad + formatShort(n.grad, 1) : "", n.tangent != null ? LABEL_PREFIX.tangent + formatShort(n.tangent, 1) : ""];
    let ems = 0;
    try {
      const size = parseFloat(getComputedStyle(out.value).fontSize) || 15;
      for (const t of texts) {
        if (!t) continue;
        out.value.textContent = t;
        ems = Math.max(ems, out.value.getComputedTextLength() / size);
      }
    } catch {
      /* not rendered */
    }
    out.value.textContent = "";
    return ems;
  }

  private drawEdge(e: TraceEdge, l: LayoutEdge, edgeLayer: SVGGElement, labelLayer: SVGGElement): EdgeEls {
    const g = svgEl("g", { class: "edge", "data-edge-id": e.id }, edgeLayer);
    const path = svgEl("path", { d: l.path, class: "wire", id: `gt-wire-${e.id}` }, g);
    // The arrowhead: from the path's last point to the tip (moved out when the target is drawn
    // larger).
    const tip = svgEl("line", {
      x1: l.arrow[0], y1: l.arrow[1], x2: l.arrow[2], y2: l.arrow[3], class: "wire-tip", "marker-end": "url(#gt-arrow)",
    }, g);
    // Labels start where the server placed them (clear of nodes and of each other; without those
    // points, the browser's fallback layout, 40% along the wire); packLabels moves them on.
    const down = this.dir === "down";
    const anchor = down ? "start" : "middle";
    const value = svgEl("text", { class: "edge-value", "text-anchor": anchor, "data-edge": e.id }, labelLayer);
    const grad = svgEl("text", { class: "edge-grad", "text-anchor": anchor, "dominant-baseline": "hanging", "data-edge": e.id }, labelLayer);
    const tangent = svgEl("text", { class: "edge-tangent", "text-anchor": anchor, "dominant-baseline": "hanging", "data-edge": e.id }, labelLayer);
    const local = svgEl("text", down
      ? { class: "edge-local", "text-anchor": "end", "dominant-baseline": "central", "data-edge": e.id }
      : { class: "edge-local", "text-anchor": "middle", "data-edge": e.id }, labelLayer);
    const els: EdgeEls = { g, path, tip, l, target: e.target, tipGrow: 1, value, grad, tangent, local, anchors: null, localAnchors: null };
    const first = l.label ?? this.pointAt(path, 0.4) ?? l.mid;
    this.put(value, this.valueAt(first));
    this.put(grad, this.belowAt(first));
    this.put(tangent, this.belowAt(first));
    this.put(local, this.localAt(l.local ?? this.pointAt(path, 0.74) ?? first));
    return els;
  }

  // Where a label is drawn for an anchor point on its wire, given its measured box `m` (where
  // the box sits relative to the point the text is drawn at): the value just above the point
  // and the gradient just below (drawn down: both to the right of the wire); the local
  // derivative above (drawn down: to the left).

  private valueAt(p: Point, m: Measure = NO_MEASURE): Point {
    const x = this.dir === "down" ? p[0] + BESIDE : p[0];
    return [x, p[1] - 1.5 - (p[2] ?? 0) - (m.dy + m.h)];
  }

  private belowAt(p: Point, m: Measure = NO_MEASURE): Point {
    const x = this.dir === "down" ? p[0] + BESIDE : p[0];
    return [x, p[1] + 1.5 + (p[2] ?? 0) - m.dy];
  }

  private localAt(p: Point, m: Measure = NO_MEASURE): Point {
    return this.dir === "down" ? [p[0] - BESIDE, p[1] - (m.dy + m.h / 2)] : [p[0], p[1] - 2 - (m.dy + m.h)];
  }

  private put(el: SVGTextElement, p: Point): void {
    const x = p[0].toFixed(1);
    const y = p[1].toFixed(1);
    if (el.getAttribute("x") !== x) el.setAttribute("x", x);
    if (el.getAttribute("y") !== y) el.setAttribute("y", y);
  }

  private pointAt(path: SVGPathElement, f: number): Point | null {
    try {
      const len = path.getTotalLength();
      if (len > 0) {
        const p = path.getPointAtLength(len * f);
        return [p.x, p.y];
      }
    } catch {
      /* no geometry */
    }
    return null;
  }

  private anchorsOf(e: EdgeEls): Point[] {
    if (!e.anchors) {
      const first = e.l.label ?? this.pointAt(e.path, 0.4) ?? e.l.mid;
      e.anchors = [first, ...FRACTIONS.map((f) => this.pointAt(e.path, f)).filter((p): p is Point => p !== null)];
    }
    // Along the wire first; then spread apart by most of a line, no further (a label far from its
    // wire would read as another's).
    const line = Math.max(this.sized.floor, this.sized.base);
    const points = e.anchors;
    return [0, 0.75].flatMap((k) => points.map((p): Point => [p[0], p[1], k * line]));
  }

  private localAnchorsOf(e: EdgeEls): Point[] {
    if (!e.localAnchors) {
      const first = e.l.local ?? this.pointAt(e.path, 0.74);
      const rest = LOCAL_FRACTIONS.map((f) => this.pointAt(e.path, f)).filter((p): p is Point => p !== null);
      e.localAnchors = first ? [first, ...rest] : rest;
    }
    return e.localAnchors;
  }

  private drawNode(n: TraceNode, trace: Trace, l: LayoutNode, nodeLayer: SVGGElement, labelLayer: SVGGElement): NodeEls {
    const named = n.kind === "op" && n.name !== null;
    const role = labelRole(trace, n);
    const g = svgEl("g", {
      class: `node kind-${n.kind}${named ? " named" : ""}${role ? " label-input" : ""}${n.origin === "grad" ? " from-grad" : ""}${n.id === trace.output ? " output" : ""}`,
      "data-node-id": n.id,
      "data-kind": n.kind,
      ...(n.name ? { "data-name": n.name } : {}),
      ...(role ? { "data-labels": role } : {}),
      transform: `translate(${l.x},${l.y})`,
      // Reached by node navigation (the arrows), not by Tab: the graph is one tab stop.
      tabindex: "-1",
      role: "group",
      "aria-roledescription": "node",
    }, nodeLayer);
    let shape: SVGElement;
    if (l.shape === "ellipse") {
      shape = svgEl("ellipse", { rx: l.w / 2, ry: l.h / 2, class: "node-shape" }, g);
    } else {
      shape = svgEl("rect", { x: -l.w / 2, y: -l.h / 2, width: l.w, height: l.h, rx: 6, class: "node-shape" }, g);
    }
    // The node's name (aria-label, set at each step) says these texts, and more.
    const label = svgEl("text", { class: "node-label", "text-anchor": "middle", "dominant-baseline": "central", "aria-hidden": "true" }, g);
    label.textContent = nodeLabel(trace, n);
    let tag: SVGTextElement | null = null;
    if (opTagShown(trace, n)) {
      tag = svgEl("text", { y: -l.h / 2 - 3, class: "node-op", "text-anchor": "middle", "dominant-baseline": "text-after-edge", "aria-hidden": "true" }, g);
      tag.textContent = opTag(trace, n);
    } else if (role) {
      // Above an input of labels, what it is: it takes no gradient, by design.
      tag = svgEl("text", { y: -l.h / 2 - 3, class: "node-op labels-tag", "text-anchor": "middle", "dominant-baseline": "text-after-edge", "aria-hidden": "true" }, g);
      tag.textContent = role;
    }
    let opener: SVGGElement | null = null;
    if (n.gate_id) {
      g.classList.add("gate-node");
      g.setAttribute("data-gate-id", n.gate_id);
      if (this.onGateToggle) opener = this.drawOpener(n, l, g);
    }
    const openerSize = opener?.querySelector<SVGGElement>(".gate-scale") ?? null;
    if (n.in_gate) g.setAttribute("data-in-gate", n.in_gate);
    const title = svgEl("title", {}, g);
    const what = (n.kind === "op" ? nodeWhat(trace, n) : `${n.kind} ${n.label}`) +
      (role ? `: ${labelsPhrase(role)}` : "") + (n.origin === "grad" ? " (built by grad)" : "") +
      (n.gate_id && this.onGateToggle ? " (a gate: ⊕ opens it into its parts)" : "");
    title.textContent = what;
    // Heard after the node's name (aria-label): where it sits among the wires. (Without it, the
    // tooltip above would be heard again as the description.)
    svgEl("desc", {}, g).textContent = nodeRelations(trace, n.id) || "not connected";
    const sum = svgEl("text", { x: l.x, y: l.y + l.h / 2 + 8, class: "node-sum", "text-anchor": "middle", "dominant-baseline": "hanging" }, labelLayer);
    const els: NodeEls = { g, title, what, shape, label, tag, opener, openerSize, sum, box: l, grow: 1, maxGrow: MAX_GROW };
    if (n.id === trace.output) {
      const x = l.x + l.w / 2 + 10;
      els.out = {
        value: svgEl("text", { x, y: l.y - 4, class: "edge-value out-value" }, labelLayer),
        grad: svgEl("text", { x, y: l.y + 4, class: "edge-grad out-grad", "dominant-baseline": "hanging" }, labelLayer),
        tangent: svgEl("text", { x, y: l.y + 4, class: "edge-tangent out-tangent", "dominant-baseline": "hanging" }, labelLayer),
      };
    }
    g.addEventListener("click", () => this.onNodeClick(n.id));
    return els;
  }

  /** A button (an SVG group): click, or Enter/Space once focused (the step keys leave those to
   * it), runs `fn`; a press does not also pin the node under it. */
  private button(g: SVGGElement, label: string, fn: () => void): void {
    g.setAttribute("role", "button");
    g.setAttribute("tabindex", "0");
    g.setAttribute("aria-label", label);
    svgEl("title", {}, g).textContent = label;
    g.addEventListener("click", (ev) => {
      ev.stopPropagation();
      fn();
    });
    g.addEventListener("pointerdown", (ev) => ev.stopPropagation());
    g.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter" && ev.key !== " ") return;
      ev.preventDefault();
      ev.stopPropagation();
      fn();
    });
  }

  /** Where a closed gate's ⊕ sits, relative to the node's centre: at its lower right, on its
   * outline (an ellipse: 45° round; a box: its corner), as drawn (grown); clear of the name
   * above the node. */
  private openerPoint(l: LayoutNode, grow: number, scale = 1): Point {
    const round = l.shape === "ellipse" ? Math.SQRT1_2 : 1;
    // Half out of the outline, so that it covers little of the node's name.
    const out = 9 * scale * 0.45;
    return [((grow * l.w) / 2) * round + out, ((grow * l.h) / 2) * round + out];
  }

  private openerAt(l: LayoutNode, grow: number, scale = 1): string {
    const [x, y] = this.openerPoint(l, grow, scale);
    return `translate(${x.toFixed(2)},${y.toFixed(2)})`;
  }

  /** The ⊕ on a closed gate: opens it into its parts. */
  private drawOpener(n: TraceNode, l: LayoutNode, g: SVGGElement): SVGGElement {
    const id = n.gate_id as string;
    const b = svgEl("g", {
      class: "gate-open",
      transform: this.openerAt(l, 1),
      "data-testid": `gate-open-${id}`,
      "data-gate": id,
    }, g);
    // Grows with the labels when the graph is shown small, to stay a target (openerScale).
    const sized = svgEl("g", { class: "gate-scale" }, b);
    svgEl("circle", { r: 9, class: "gate-button" }, sized);
    svgEl("path", { d: "M-4.5,0 H4.5 M0,-4.5 V4.5", class: "gate-sign" }, sized);
    this.button(b, `Open this gate into its parts (${n.op ?? "gate"} ${id})`, () => this.onGateToggle?.(id, true));
    return b;
  }

  /** An opened gate's box, and its title, which closes it (with a handler). */
  private drawGate(id: string, c: LayoutCluster, layer: SVGGElement, controls: SVGGElement): void {
    const x = c.x - c.w / 2;
    const y = c.y - c.h / 2;
    const box = svgEl("g", { class: "gate", "data-gate": id }, layer);
    svgEl("rect", { x, y, width: c.w, height: c.h, rx: 10, class: "gate-box" }, box);
    const t = svgEl("g", { class: "gate-title", transform: `translate(${x + 10},${y + 12})` }, controls);
    const sized = svgEl("g", { class: "gate-scale" }, t);
    this.scaled.push(sized);
    if (this.onGateToggle) {
      t.setAttribute("data-testid", `gate-close-${id}`);
      t.setAttribute("data-gate", id);
      // The whole title is the button: a clear box under the sign and the name takes the click.
      svgEl("rect", { x: -10, y: -10, width: 28 + 0.62 * 13 * c.label.length, height: 20, class: "gate-hit" }, sized);
      svgEl("circle", { r: 8, class: "gate-button" }, sized);
      svgEl("path", { d: "M-4,0 H4", class: "gate-sign" }, sized);
      this.button(t, `Close the gate ${c.label} (${id})`, () => this.onGateToggle?.(id, false));
    }
    const name = svgEl("text", { x: this.onGateToggle ? 13 : -2, y: 0, class: "gate-name", "dominant-baseline": "central" }, sized);
    name.textContent = c.label;
  }

  /** Show the state of a step: which values and gradients are known, the current node. */
  private exact(trace: Trace, key: string, t: Parameters<typeof plainTensor>[0]): string {
    if (this.textsOf !== trace) {
      this.texts.clear();
      this.textsOf = trace;
    }
    let s = this.texts.get(key);
    if (s === undefined) {
      s = plainTensor(t);
      this.texts.set(key, s);
    }
    return s;
  }

  update(trace: Trace, st: StepState): void {
    const byId = nodeIndex(trace);
    const terms = st.backward?.terms ?? [];
    for (const [id, els] of this.nodes) {
      const n = byId.get(id);
      if (!n) continue;
      const graded = st.graded.has(id);
      toggle(els.g, "valued", st.valued.has(id));
      toggle(els.g, "graded", graded);
      toggle(els.g, "current", st.current === id);
      toggle(els.g, "current-forward", st.current === id && st.phase === "forward");
      if (graded && n.grad !== null) els.g.setAttribute("data-grad", this.exact(trace, `g${id}`, n.grad));
      else if (els.g.hasAttribute("data-grad")) els.g.removeAttribute("data-grad");
      if (st.valued.has(id)) els.g.setAttribute("data-value", this.exact(trace, `v${id}`, n.value));
      else if (els.g.hasAttribute("data-value")) els.g.removeAttribute("data-value");
      // Forward mode: the tangent once the node's step is reached (zeros where it does not
      // depend on wrt).
      const forward = st.mode === "forward";
      const tangentKnown = forward && st.valued.has(id);
      toggle(els.g, "tangented", forward && st.tangented.has(id));
      if (tangentKnown) els.g.setAttribute("data-tangent", this.exact(trace, `t${id}`, tangentOf(n)));
      else if (els.g.hasAttribute("data-tangent")) els.g.removeAttribute("data-tangent");
      // Hovering a node gives its value and gradient (as far as known) in full.
      const tip = [els.what];
      if (st.valued.has(id)) tip.push(`value ${isScalar(n.value) ? plainTensor(n.value) : formatShort(n.value, 1)}`);
      if (graded && n.grad !== null) tip.push(`gradient ${isScalar(n.grad) ? plainTensor(n.grad) : formatShort(n.grad, 1)}`);
      if (tangentKnown) {
        const t = tangentOf(n);
        tip.push(`tangent d/d${trace.wrt ?? "?"} ${isScalar(t) ? plainTensor(t) : formatShort(t, 1)}`);
      }
      setText(els.title, tip.join("\n"));
      const spoken = nodeSpoken(trace, st, id);
      if (els.g.getAttribute("aria-label") !== spoken) els.g.setAttribute("aria-label", spoken);
      // A node with fan-out shows its gradient's sum term by term once it is complete.
      let sumText = "";
      if (graded && n.fanout > 1 && n.grad !== null) {
        const step = trace.backward.find((s) => s.node === id);
        const ts = step?.terms ?? [];
        if (ts.length > 1 && ts.every((t) => isScalar(t.value)) && isScalar(n.grad)) {
          sumText = `${ts.map((t) => formatNumber(t.value as number, 3)).join(" + ")} = ${formatNumber(n.grad, 3)}`;
        } else {
          sumText = `Σ of ${ts.length} = ${formatShort(n.grad, 1)}`;
        }
      }
      // Forward mode: a node fed by several tangents sums them term by term.
      let forwardSum = false;
      if (tangentKnown && n.tangent !== null && n.tangent !== undefined) {
        const parts = trace.edges.filter((e) => e.target === id && e.tangent !== null && e.tangent !== undefined);
        if (parts.length > 1) {
          forwardSum = true;
          sumText = parts.every((e) => isScalar(e.tangent ?? null)) && isScalar(n.tangent)
            ? `${parts.map((e) => formatNumber(e.tangent as number, 3)).join(" + ")} = ${formatNumber(n.tangent, 3)}`
            : `Σ of ${parts.length} = ${formatShort(n.tangent, 1)}`;
        }
      }
      // The current node of a forward-mode step says its own tangent under it.
      if (!forwardSum && tangentKnown && st.current === id) {
        forwardSum = true;
        sumText = `d/d${trace.wrt ?? "?"} = ${formatShort(tangentOf(n), 1)}`;
      }
      this.label(els.sum, sumText.replace(/\+ −/g, "− "), sumText && !forwardSum && n.grad !== null ? `Σ = ${formatShort(n.grad, 1)}` : null);
      toggle(els.sum, "tangent", forwardSum);
      toggle(els.sum, "current", st.current === id && (terms.length > 1 || forwardSum));
      if (els.out) {
        setText(els.out.value, st.valued.has(id) ? formatShort(n.value, 1) : "");
        setText(els.out.grad, graded && n.grad !== null ? LABEL_PREFIX.grad + formatShort(n.grad, 1) : "");
        setText(els.out.tangent, tangentKnown ? LABEL_PREFIX.tangent + formatShort(tangentOf(n), 1) : "");
      }
    }
    const edgeById = new Map(trace.edges.map((e) => [e.id, e]));
    const arriving = new Set(st.arriving);
    const sending = new Set(st.sending);
    const feeding = new Set(st.feeding);
    for (const [id, els] of this.edges) {
      const e = edgeById.get(id);
      if (!e) continue;
      const src = byId.get(e.source);
      const valued = src !== undefined && st.valued.has(e.source);
      this.tensorLabel(els.value, valued && src ? src.value : null);
      const gradKnown = st.edgeGrads.has(id) && e.downstream !== null;
      this.tensorLabel(els.grad, gradKnown ? e.downstream : null, LABEL_PREFIX.grad);
      const tangentKnown = st.edgeTangents.has(id) && e.tangent !== null && e.tangent !== undefined;
      this.tensorLabel(els.tangent, tangentKnown ? (e.tangent as Tensor) : null, LABEL_PREFIX.tangent);
      const showLocal = (sending.has(id) || feeding.has(id)) && e.local !== null;
      setText(els.local, showLocal ? `×${formatNumber(e.local as number, 3)}` : "");
      toggle(els.g, "valued", valued);
      toggle(els.g, "graded", gradKnown);
      toggle(els.g, "arriving", arriving.has(id));
      toggle(els.g, "sending", sending.has(id));
      toggle(els.grad, "fresh", sending.has(id));
      toggle(els.g, "tangented", tangentKnown);
      toggle(els.g, "feeding", feeding.has(id));
      toggle(els.tangent, "fresh", feeding.has(id));
    }
    this.state = st;
    this.shownTrace = trace;
    this.packLabels();
    if (st.current !== this.lastCurrent || st.phase === "forward") this.animate(st);
    this.lastCurrent = st.current;
  }

  // ---- sizes and label places ----

  /** Show `text` in a label, with `short` to stand in for it where it finds no room. */
  private label(el: SVGTextElement, text: string, short: string | null = null): void {
    setText(el, text);
    this.full.set(el, text);
    if (short !== null && short !== text && text !== "") this.short.set(el, short);
    else this.short.delete(el);
  }

  /** A value, gradient or tangent on a wire: its numbers (formatShort), or its shape in words
   * where they find no room; after `prefix` (a gradient's ∇, a tangent's ∂) either way. */
  private tensorLabel(el: SVGTextElement, t: Tensor | null, prefix = ""): void {
    this.label(el, t === null ? "" : prefix + formatShort(t, 1), Array.isArray(t) ? prefix + shapeWords(shapeOf(t)) : null);
  }

  /** Draw each node large enough to hold its name at `units` (graph units), up to its limit;
   * the arrowheads into a grown node move out to its outline. */
  private sizeNodes(units: number, tagUnits: number): void {
    for (const els of this.nodes.values()) {
      const l = els.box;
      const chars = [...(els.label.textContent ?? "")].length;
      const room = nodeRoom(l.w, l.h, chars);
      // Growth in steps of 5%, so that zooming does not redraw every node at every wheel click.
      const want = Math.min(els.maxGrow, Math.max(1, units / room));
      const grow = want <= 1 ? 1 : Math.min(els.maxGrow, Math.ceil(want * 20) / 20);
      els.label.style.fontSize = `${Math.min(units, room * grow).toFixed(2)}px`;
      if (els.tag) els.tag.style.fontSize = `${tagUnits.toFixed(2)}px`;
      if (grow === els.grow) continue;
      els.grow = grow;
      const w = l.w * grow;
      const h = l.h * grow;
      if (l.shape === "ellipse") {
        els.shape.setAttribute("rx", String(w / 2));
        els.shape.setAttribute("ry", String(h / 2));
      } else {
        els.shape.setAttribute("x", String(-w / 2));
        els.shape.setAttribute("y", String(-h / 2));
        els.shape.setAttribute("width", String(w));
        els.shape.setAttribute("height", String(h));
      }
      els.tag?.setAttribute("y", String(-h / 2 - 3));
    }
    this.showRing();
    for (const els of this.nodes.values()) {
      if (!els.opener) continue;
      const scale = this.openerScale(els);
      els.opener.setAttribute("transform", this.openerAt(els.box, els.grow, scale));
      els.openerSize?.setAttribute("transform", `scale(${scale.toFixed(3)})`);
    }
    for (const e of this.edges.values()) {
      const target = this.nodes.get(e.target);
      if (target && target.grow !== e.tipGrow) this.retip(e, target);
    }
  }

  /** Put the arrowhead of `e` on the outline of its target as drawn (grown). */
  private retip(e: EdgeEls, target: NodeEls): void {
    e.tipGrow = target.grow;
    const [x3, y3, tx, ty] = e.l.arrow;
    const set = (a: Point, b: Point): void => {
      e.tip.setAttribute("x1", a[0].toFixed(2));
      e.tip.setAttribute("y1", a[1].toFixed(2));
      e.tip.setAttribute("x2", b[0].toFixed(2));
      e.tip.setAttribute("y2", b[1].toFixed(2));
    };
    if (target.grow <= 1) return set([x3, y3], [tx, ty]);
    const l = target.box;
    const rx = (l.w * target.grow) / 2;
    const ry = (l.h * target.grow) / 2;
    const within = (p: Point): boolean => {
      const dx = p[0] - l.x;
      const dy = p[1] - l.y;
      return l.shape === "ellipse" ? (dx / rx) ** 2 + (dy / ry) ** 2 < 1 : Math.abs(dx) < rx && Math.abs(dy) < ry;
    };
    const tipLength = Math.hypot(tx - x3, ty - y3) || 7;
    if (!within([x3, y3])) {
      // The outline crosses the last straight piece: the tip where it does.
      let t = 1;
      while (t > 0 && within([x3 + (tx - x3) * t, y3 + (ty - y3) * t])) t -= 0.05;
      return set([x3, y3], [x3 + (tx - x3) * t, y3 + (ty - y3) * t]);
    }
    let len = 0;
    try {
      len = e.path.getTotalLength();
    } catch {
      return;
    }
    let s = len;
    let p: Point = [x3, y3];
    while (s > 0 && within(p)) {
      s = Math.max(0, s - 3);
      const q = e.path.getPointAtLength(s);
      p = [q.x, q.y];
    }
    const q = e.path.getPointAtLength(Math.max(0, s - tipLength));
    set([q.x, q.y], p);
  }

  /** Place the labels shown (packLabels): measured as drawn, the most important first. */
  private packLabels(): void {
    if (this.labelsOff || !this.layout) return;
    const st = this.state;
    const texts: SVGTextElement[] = [];
    for (const e of this.edges.values()) texts.push(e.value, e.grad, e.tangent, e.local);
    for (const n of this.nodes.values()) {
      texts.push(n.sum);
      if (n.out) texts.push(n.out.value, n.out.grad, n.out.tangent);
    }
    // Labels shortened at the last packing are measured in full again.
    for (const [t, f] of this.full) if (t.textContent !== f) t.textContent = f;
    // Measure every shown text first (one layout), then write.
    const size = new Map<SVGTextElement, { w: number; h: number; dx: number; dy: number }>();
    try {
      for (const t of texts) {
        if (!t.textContent) continue;
        const b = t.getBBox();
        size.set(t, { w: b.width, h: b.height, dx: b.x - Number(t.getAttribute("x") ?? 0), dy: b.y - Number(t.getAttribute("y") ?? 0) });
      }
    } catch {
      return; // not rendered (hidden): placed when shown
    }
    const part = (t: SVGTextElement, place: (p: Point, m: Measure) => Point): LabelPart | null => {
      const m = size.get(t);
      if (!m) return null;
      const at = (p: Point): Point => place(p, m);
      // The shorter text, in the same (monospace) font: as wide per character as the full one.
      const short = this.short.get(t);
      const chars = [...(t.textContent ?? "")].length;
      return short !== undefined && chars > 0 ? { ...m, at, shortW: (m.w * [...short].length) / chars } : { ...m, at };
    };
    // The nodes (as drawn), the names over them and the gates' titles are fixed.
    const obstacles: Box[] = [];
    // A gate's ⊕ (a circle of radius 9, grown with the text).
    let openerR = 9;
    for (const n of this.nodes.values()) {
      const l = n.box;
      obstacles.push([l.x - (l.w * n.grow) / 2, l.y - (l.h * n.grow) / 2, l.x + (l.w * n.grow) / 2, l.y + (l.h * n.grow) / 2]);
      if (n.opener) {
        openerR = Math.max(openerR, 9 * this.openerScale(n));
        const [ox, oy] = this.openerPoint(l, n.grow, this.openerScale(n));
        obstacles.push([l.x + ox - openerR, l.y + oy - openerR, l.x + ox + openerR, l.y + oy + openerR]);
      }
    }
    const groups: { group: LabelGroup; texts: SVGTextElement[]; rank: number }[] = [];
    /** A group of the texts among `items` that show something; `keep` says which to keep alone
     * when there is no room for all (the first such shown, else the first). */
    const add = (rank: number, items: [SVGTextElement, (p: Point, m: Measure) => Point][], anchors: () => Point[], keep: (t: SVGTextElement) => boolean = () => true): void => {
      const parts: LabelPart[] = [];
      const els: SVGTextElement[] = [];
      for (const [t, at] of items) {
        const p = part(t, at);
        if (!p) continue;
        parts.push(p);
        els.push(t);
      }
      const primary = Math.max(0, els.findIndex(keep));
      if (parts.length) groups.push({ group: { parts, anchors, primary }, texts: els, rank });
    };
    const current = new Set([...(st?.sending ?? []), ...(st?.arriving ?? []), ...(st?.feeding ?? [])]);
    // The names above nodes are fixed; one that meets a node or another name gives way.
    const tags: [SVGTextElement, NodeEls][] = [];
    for (const n of this.nodes.values()) if (n.tag?.textContent) tags.push([n.tag, n]);
    for (const n of this.nodes.values()) {
      const l = n.box;
      if (n.out) {
        const x = l.x + (l.w * n.grow) / 2 + 8;
        // Right of the output node; past its ⊕ if that is in the way.
        add(0, [[n.out.value, (p, m) => [x + p[0], l.y - 1.5 - (m.dy + m.h)]], [n.out.grad, (p, m) => [x + p[0], l.y + 1.5 - m.dy]], [n.out.tangent, (p, m) => [x + p[0], l.y + 1.5 - m.dy]]],
          () => [[0, 0], [openerR * 1.5, 0], [openerR * 2.5, 0]], (t) => t !== n.out?.value);
      }
    }
    for (const [id, n] of this.nodes) {
      const l = n.box;
      const y = l.y + (l.h * n.grow) / 2 + 3;
      const isCurrent = st?.current === id;
      // Under the node; at the view's edge, moved in as little as keeps it whole.
      add(isCurrent ? 1 : 6, [[n.sum, (p, m) => [p[0], p[1] - m.dy]]], () => {
        const m = size.get(n.sum);
        const half = (m?.w ?? 0) / 2;
        const x = Math.min(Math.max(l.x, this.bounds[0] + half + 1), this.bounds[2] - half - 1);
        return [[x, y], [x, y + openerR * 1.5]];
      });
    }
    for (const [id, e] of this.edges) {
      const now = current.has(id);
      const gradShown = !!e.grad.textContent || !!e.tangent.textContent;
      const rank = now ? 2 : gradShown ? 4 : 5;
      // With room for one, the gradient (or tangent) stays: the step is about it.
      add(rank, [[e.value, (p, m) => this.valueAt(p, m)], [e.grad, (p, m) => this.belowAt(p, m)], [e.tangent, (p, m) => this.belowAt(p, m)]], () => this.anchorsOf(e), (t) => t !== e.value);
      add(now ? 3 : 7, [[e.local, (p, m) => this.localAt(p, m)]], () => this.localAnchorsOf(e));
    }
    groups.sort((a, b) => a.rank - b.rank);
    // The names above nodes: fixed, placed after the current step's labels and before the rest.
    const tagGroups = tags.map(([t, n]) => {
      const b = t.getBBox();
      const box: Box = [n.box.x + b.x, n.box.y + b.y, n.box.x + b.x + b.width, n.box.y + b.y + b.height];
      return { t, box };
    });
    const clusters = Object.values(this.layout.clusters ?? {});
    for (const c of clusters) {
      const x = c.x - c.w / 2;
      const y = c.y - c.h / 2;
      const grow = this.gateScale();
      obstacles.push([x, y, x + 10 + (28 + 0.62 * 13 * c.label.length) * grow, y + 12 + 12 * grow]);
    }
    const fixedAt = (box: Box): LabelPart => ({ w: box[2] - box[0], h: box[3] - box[1], dx: 0, dy: 0, at: () => [box[0], box[1]] });
    const first = groups.filter((g) => g.rank <= 3);
    const rest = groups.filter((g) => g.rank > 3);
    const all = [
      ...first.map((g) => g.group),
      ...tagGroups.map((tg) => ({ parts: [fixedAt(tg.box)], anchors: () => [[0, 0] as Point], primary: 0 })),
      ...rest.map((g) => g.group),
    ];
    const places = packLabels(all, obstacles, this.bounds);
    const order = [...first.map((g) => g.texts), ...tagGroups.map((tg) => [tg.t]), ...rest.map((g) => g.texts)];
    order.forEach((els, i) => {
      els.forEach((t, j) => {
        const placed = places[i][j];
        const fixed = t.classList.contains("node-op");
        if (placed && !fixed) this.put(t, placed.at);
        if (placed && !fixed) setText(t, (placed.short ? this.short.get(t) : this.full.get(t)) ?? t.textContent ?? "");
        if (placed) t.removeAttribute("visibility");
        else t.setAttribute("visibility", "hidden");
      });
    });
    // Texts with nothing to show are left as they are (empty), hidden or not.
  }

  /** How much the gates' controls are drawn larger (they grow with the text, up to three
   * times). */
  private gateScale(): number {
    return Math.min(3, Math.max(1, this.sized.floor / 13));
  }

  /** A ⊕ grows with the text, but never past about its node's size (radius 9 at scale 1). */
  private openerScale(n: NodeEls): number {
    return Math.max(1, Math.min(this.gateScale(), (0.42 * n.box.h * n.grow) / 9));
  }

  /** Carry the gradient along each in-edge of the current node, from the node to its source (in
   * forward mode, each tangent along the edges into the current node, from source to node). */
  private animate(st: StepState): void {
    this.pulses.replaceChildren();
    const forward = st.mode === "forward";
    if ((st.phase !== "backward" && !forward) || reducedMotion()) return;
    for (const id of forward ? st.feeding.filter((e) => st.edgeTangents.has(e)) : st.sending) {
      if (!this.edges.has(id)) continue;
      const dot = svgEl("circle", { r: 6, class: forward ? "pulse pulse-tangent" : "pulse" }, this.pulses);
      const anim = svgEl("animateMotion", {
        dur: "0.7s", begin: "indefinite", fill: "freeze", keyPoints: forward ? "0;1" : "1;0", keyTimes: "0;1", calcMode: "linear",
      }, dot);
      svgEl("mpath", { href: `#gt-wire-${id}` }, anim);
      const a = anim as unknown as { beginElement?: () => void };
      try {
        a.beginElement?.();
      } catch {
        /* SMIL unavailable: the labels still update */
      }
      setTimeout(() => dot.remove(), 900);
    }
  }

  // ---- the keyboard: node navigation ----

  private installKeys(): void {
    this.svg.addEventListener("keydown", (ev) => this.onKey(ev));
    // A node focused otherwise (a click: nodes take the focus) is not node navigation: the arrows
    // keep stepping there.
    this.svg.addEventListener("focusin", (ev) => {
      const id = this.nodeIdOf(ev.target);
      if (id !== null && id === this.place?.node) return;
      // Back on a node by the keyboard (the focus given back as the table closed): navigating
      // again from there.
      if (id !== null && ev.target instanceof Element && ev.target.matches(":focus-visible")) {
        this.place = { node: id, edge: null };
        this.showHint();
        this.showRing();
      } else if (this.place !== null) {
        this.leaveNav();
      }
    });
    this.svg.addEventListener("focusout", (ev) => {
      if (this.place !== null && this.nodeIdOf(ev.relatedTarget) !== this.place.node) this.leaveNav();
    });
  }

  /** The id of the node `t` is (null: not a node of this drawing). */
  private nodeIdOf(t: EventTarget | null): string | null {
    if (!(t instanceof SVGGElement) || !t.classList.contains("node")) return null;
    const id = t.getAttribute("data-node-id");
    return id !== null && this.nodes.get(id)?.g === t ? id : null;
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const trace = this.shownTrace;
    if (!trace) return;
    const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    if (ev.target === this.svg) {
      // The graph itself: the arrows step (controls.ts, on the document); Enter goes in.
      if (key === "Enter") {
        ev.preventDefault();
        this.enterNav(trace);
      } else if (key === "r") {
        ev.preventDefault();
        const id = this.state?.current ?? trace.output;
        if (this.nodes.has(id)) this.onNodeRead(id);
      }
      return;
    }
    const id = this.nodeIdOf(ev.target);
    if (id === null || this.place === null || this.place.node !== id) return;
    const move = moveOf(key, this.dir);
    const handled = move !== null || key === "Enter" || key === "Escape" || key === "r";
    if (!handled) return;
    // The arrows move here, and never also step the passes.
    ev.preventDefault();
    ev.stopPropagation();
    if (move !== null) {
      const to = navigate(this.navGraph, this.place, move);
      if (to.blocked !== null) this.onNavHint(blockedText(to.blocked, nodeShortName(trace, id), move));
      else this.focusNode(to.place);
    } else if (key === "Enter") {
      this.onNodeSelect(id);
    } else if (key === "r") {
      this.onNodeRead(id);
    } else {
      this.leaveNav();
      this.svg.focus({ preventScroll: true });
    }
  }

  /** Node navigation starts on this step's node, else on the output. */
  private enterNav(trace: Trace): void {
    const current = this.state?.current ?? null;
    const start = current !== null && this.nodes.has(current) ? current : this.nodes.has(trace.output) ? trace.output : [...this.nodes.keys()][0];
    if (start === undefined) return;
    this.onNavHint(navStartText(this.dir));
    this.focusNode({ node: start, edge: null });
  }

  private focusNode(place: NavPlace): void {
    const els = this.nodes.get(place.node);
    if (!els) return;
    this.place = place;
    this.reveal(els);
    this.showRing();
    this.showHint();
    els.g.focus({ preventScroll: true });
  }

  /** The keys, over the graph, while the keyboard is on its nodes: at its foot, or at its top
   * when the foot would cover the node the keyboard is on. */
  private showHint(): void {
    setText(this.hint, navKeysShort(this.dir));
    this.hint.hidden = false;
    const els = this.place ? this.nodes.get(this.place.node) : undefined;
    this.hint.classList.remove("at-top");
    if (!els) return;
    const node = els.g.getBoundingClientRect();
    const hint = this.hint.getBoundingClientRect();
    const covers = node.bottom > hint.top && node.top < hint.bottom && node.right > hint.left && node.left < hint.right;
    if (covers) this.hint.classList.add("at-top");
  }

  private leaveNav(): void {
    this.place = null;
    this.hint.hidden = true;
    this.showRing();
  }

  /** Draw the ring around the node the keyboard is on: outside the step's outline (half of its
   * 5 units), a few pixels out at any zoom, its lines as thick on screen at any zoom. */
  private showRing(): void {
    const els = this.place ? this.nodes.get(this.place.node) : undefined;
    if (!els) {
      if (this.ring.getAttribute("visibility") !== "hidden") this.ring.setAttribute("visibility", "hidden");
      return;
    }
    const l = els.box;
    const k = this.view.k || 1;
    const w = l.w * els.grow;
    const h = l.h * els.grow;
    const [halo, line] = this.ring.children;
    const box = (el: Element, out: number): void => {
      const r = l.shape === "ellipse" ? h / 2 + out : 6 + out;
      el.setAttribute("x", (l.x - w / 2 - out).toFixed(2));
      el.setAttribute("y", (l.y - h / 2 - out).toFixed(2));
      el.setAttribute("width", (w + 2 * out).toFixed(2));
      el.setAttribute("height", (h + 2 * out).toFixed(2));
      el.setAttribute("rx", r.toFixed(2));
    };
    // The line, 3 px, outside a 2 px halo in the background's colour: seen on any fill.
    box(halo, 2.5 + 5 / k);
    box(line, 2.5 + 7.5 / k);
    this.ring.removeAttribute("visibility");
  }

  /** Pan a node into view when it is outside (zoomed in), centring it. */
  private reveal(els: NodeEls): void {
    const W = this.container.clientWidth;
    const H = this.container.clientHeight;
    if (!(W > 0 && H > 0)) return;
    const { x, y, k } = this.view;
    const l = els.box;
    const hw = (l.w * els.grow * k) / 2;
    const hh = (l.h * els.grow * k) / 2;
    const sx = x + l.x * k;
    const sy = y + l.y * k;
    if (sx - hw >= 0 && sx + hw <= W && sy - hh >= 0 && sy + hh <= H) return;
    this.view = { k, x: W / 2 - l.x * k, y: H / 2 - l.y * k };
    this.userMoved = true;
    this.apply();
  }

  // ---- pan and zoom ----

  /** The theme's sizes: the graph font, the node font, and the smallest text on screen (px). */
  private fonts(): { base: number; node: number; min: number } {
    const style = getComputedStyle(this.svg);
    const num = (name: string, fallback: number): number => parseFloat(style.getPropertyValue(name)) || fallback;
    return { base: num("--graph-font", 15), node: num("--node-font", 16), min: num("--min-label", MIN_LABEL_PX) };
  }

  private apply(repack = true): void {
    const { x, y, k } = this.view;
    const f = this.fonts();
    // Text never shows below --min-label: past that it grows in graph units (--floor).
    const floor = f.min / k;
    const boost = Math.max(1, floor / f.base);
    const off = boost > LABELS_OFF;
    this.svg.classList.toggle("labels-off", off);
    this.svg.style.setProperty("--boost", (off ? 1 : boost).toFixed(3));
    this.svg.style.setProperty("--floor", `${floor.toFixed(2)}px`);
    this.svg.classList.toggle("crowded", boost > 1.25);
    this.viewport.setAttribute("transform", `translate(${x.toFixed(2)},${y.toFixed(2)}) scale(${k.toFixed(4)})`);
    this.showRing();
    const node = Math.max(f.node, floor);
    const changed = Math.abs(floor - this.sized.floor) > 0.01 * this.sized.floor || node !== this.sized.node || off !== this.labelsOff;
    this.labelsOff = off;
    if (!changed) return;
    this.sized = { floor, node, base: f.base };
    // The gates' controls grow as the text does, each about its own place.
    const grow = `scale(${this.gateScale().toFixed(3)})`;
    for (const el of this.scaled) el.setAttribute("transform", grow);
    this.sizeNodes(node, Math.max(f.node * 0.8, floor));
    if (!repack) return;
    // Zooming: the labels are placed again once a frame at most.
    if (this.packQueued) return;
    this.packQueued = true;
    requestAnimationFrame(() => {
      this.packQueued = false;
      this.packLabels();
    });
  }

  /** Fit the whole graph (with room for its labels) into the view. */
  fit(): void {
    if (!this.layout) return;
    const W = this.container.clientWidth || 800;
    const H = this.container.clientHeight || 500;
    const f = this.fonts();
    // The room around the graph grows with the text, which grows as the graph is shown smaller:
    // a few rounds settle the scale.
    let k = 1;
    let pad = PAD;
    for (let round = 0; round < 4; round++) {
      const w = this.layout.width + pad.left + pad.right;
      const h = this.layout.height + pad.top + pad.bottom;
      k = Math.min(W / w, H / h, MAX_SCALE);
      const grow = Math.min(LABELS_OFF, Math.max(1, f.min / k / f.base));
      // Right of the graph, the output's labels: as long as they are at the text's size then.
      const right = Math.max(PAD.right * grow, this.outEms * f.base * grow + 24);
      pad = { left: PAD.left * grow, right, top: PAD.top * grow, bottom: PAD.bottom * grow };
    }
    const w = this.layout.width + pad.left + pad.right;
    const h = this.layout.height + pad.top + pad.bottom;
    this.view = {
      k,
      x: (W - w * k) / 2 + pad.left * k,
      y: (H - h * k) / 2 + pad.top * k,
    };
    // Labels stay inside what the fitted view shows.
    this.bounds = [-this.view.x / k + 1, -this.view.y / k + 1, (W - this.view.x) / k - 1, (H - this.view.y) / k - 1];
    this.fittedScale = k;
    this.userMoved = false;
    this.apply(false);
    this.packLabels();
  }

  zoomBy(factor: number, cx?: number, cy?: number): void {
    const W = this.container.clientWidth;
    const H = this.container.clientHeight;
    const px = cx ?? W / 2;
    const py = cy ?? H / 2;
    this.zoomTo(this.view.k * factor, px, py);
  }

  /** Zoom to scale `k` about the point (px, py) of the view. */
  private zoomTo(k: number, px: number, py: number): void {
    const kk = Math.max(0.05, Math.min(8, k));
    const f = kk / this.view.k;
    this.view = { k: kk, x: px - (px - this.view.x) * f, y: py - (py - this.view.y) * f };
    this.userMoved = true;
    this.apply();
  }

  private installPanZoom(): void {
    this.svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const rect = this.svg.getBoundingClientRect();
      this.zoomBy(Math.exp(-ev.deltaY * 0.0015), ev.clientX - rect.left, ev.clientY - rect.top);
    }, { passive: false });
    // One pointer drags the graph; two (fingers on a phone or tablet) pinch it: the distance
    // between them zooms, their midpoint pans.
    const pointers = new Map<number, Point>();
    let drag: { x: number; y: number; vx: number; vy: number; id: number } | null = null;
    let pinch: { d: number; mx: number; my: number; view: { x: number; y: number; k: number } } | null = null;
    const local = (ev: PointerEvent): Point => {
      const r = this.svg.getBoundingClientRect();
      return [ev.clientX - r.left, ev.clientY - r.top];
    };
    const startPinch = (): void => {
      const [a, b] = [...pointers.values()];
      pinch = { d: Math.hypot(a[0] - b[0], a[1] - b[1]) || 1, mx: (a[0] + b[0]) / 2, my: (a[1] + b[1]) / 2, view: { ...this.view } };
      drag = null;
    };
    this.svg.addEventListener("pointerdown", (ev) => {
      if (ev.pointerType === "mouse" && ev.button !== 0) return;
      pointers.set(ev.pointerId, local(ev));
      if (pointers.size === 2) {
        startPinch();
        try {
          this.svg.setPointerCapture(ev.pointerId);
        } catch {
          /* the pointer is gone */
        }
      } else if (pointers.size === 1) {
        drag = { x: ev.clientX, y: ev.clientY, vx: this.view.x, vy: this.view.y, id: ev.pointerId };
      }
    });
    this.svg.addEventListener("pointermove", (ev) => {
      if (!pointers.has(ev.pointerId)) return;
      pointers.set(ev.pointerId, local(ev));
      if (pinch && pointers.size >= 2) {
        const [a, b] = [...pointers.values()];
        const d = Math.hypot(a[0] - b[0], a[1] - b[1]) || 1;
        const mx = (a[0] + b[0]) / 2;
        const my = (a[1] + b[1]) / 2;
        const k = Math.max(0.05, Math.min(8, pinch.view.k * (d / pinch.d)));
        const f = k / pinch.view.k;
        // The graph point under the first midpoint stays under the fingers' midpoint.
        this.view = { k, x: mx - (pinch.mx - pinch.view.x) * f, y: my - (pinch.my - pinch.view.y) * f };
        this.userMoved = true;
        this.svg.classList.add("panning");
        this.apply();
        return;
      }
      if (!drag || ev.pointerId !== drag.id) return;
      const dx = ev.clientX - drag.x;
      const dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) {
        if (!this.svg.hasPointerCapture(ev.pointerId)) this.svg.setPointerCapture(ev.pointerId);
        this.svg.classList.add("panning");
        this.view = { ...this.view, x: drag.vx + dx, y: drag.vy + dy };
        this.userMoved = true;
        this.apply();
      }
    });
    const end = (ev: PointerEvent): void => {
      pointers.delete(ev.pointerId);
      if (pointers.size < 2) pinch = null;
      if (pointers.size === 1) {
        // The finger left on the glass drags on from where it is.
        const [id] = [...pointers.keys()];
        const r = this.svg.getBoundingClientRect();
        const [px, py] = pointers.get(id) ?? [0, 0];
        drag = { x: px + r.left, y: py + r.top, vx: this.view.x, vy: this.view.y, id };
        return;
      }
      drag = null;
      this.svg.classList.remove("panning");
    };
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointercancel", end);
    this.svg.addEventListener("dblclick", () => this.fit());
  }
}
