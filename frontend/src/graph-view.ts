// The graph view: the server's layout drawn as SVG, with forward values (above the wire) and
// gradients (below) on the edges as in the cs231n circuit diagrams; pan (drag), zoom (wheel),
// fit to the window. Built once per structure; a step or a value change only updates text and
// classes, so nodes never move. In forward mode, tangents take the gradients' place (below the
// wire, in their own colour): each edge's contribution, and the output's derivative.
// Gates (gates.ts): a node that is a closed gate carries a small ⊕ that opens it into its parts;
// an opened gate's parts sit in a dashed box titled "⊖ <op>", which closes it again (both are
// buttons: click, or Enter/Space once focused). Without a handler (the offline file) the boxes
// are drawn and titled, with no controls.

import type { Layout, LayoutCluster, Tensor, Trace, TraceEdge, TraceNode } from "./api";
import { formatNumber, formatShort, isScalar, plainTensor } from "./format";
import { labelRole, labelsPhrase, nodeLabel, nodeWhat, opTag } from "./node-words";
import { nodeIndex, type StepState } from "./steps";
import { setText, svgEl, toggle } from "./svg";

interface NodeEls {
  g: SVGGElement;
  title: SVGTitleElement;
  what: string;
  shape: SVGElement;
  sum: SVGTextElement;
  /** Where the sum is centred: under the node, or as little to the right as keeps it in view. */
  sumX: number;
  out?: { value: SVGTextElement; grad: SVGTextElement; tangent: SVGTextElement };
}

interface EdgeEls {
  g: SVGGElement;
  path: SVGPathElement;
  value: SVGTextElement;
  grad: SVGTextElement;
  tangent: SVGTextElement;
  local: SVGTextElement;
}

/** Zeros of a value's shape: the tangent of a node that does not depend on wrt. */
export function zerosLike(t: Tensor): Tensor {
  return Array.isArray(t) ? t.map(zerosLike) : 0;
}

/** A node's tangent, with null (does not depend on wrt) as the zeros it stands for. */
export function tangentOf(n: Pick<TraceNode, "tangent" | "value">): Tensor {
  return n.tangent ?? zerosLike(n.value);
}

const MIN_LABEL_PX = 13;
const PAD = { left: 24, right: 110, top: 40, bottom: 46 };

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
  private view = { x: 0, y: 0, k: 1 };
  private userMoved = false;
  private lastCurrent: string | null = null;
  /** Exact texts of values and gradients for data attributes, computed once per trace. */
  private texts = new Map<string, string>();
  private textsOf: Trace | null = null;
  /** The gates' buttons and titles, grown with the labels when the graph is shown small. */
  private scaled: SVGGElement[] = [];
  onNodeClick: (id: string) => void = () => {};
  /** Open (true) or close (false) a gate; null: gates are drawn without controls. Read when a
   * graph is drawn (setGraph). */
  onGateToggle: ((id: string, open: boolean) => void) | null = null;

  constructor(readonly container: HTMLElement) {
    this.svg = svgEl("svg", { class: "graph-svg", role: "img", "aria-label": "computational graph" }, container);
    const defs = svgEl("defs", {}, this.svg);
    const marker = svgEl("marker", {
      id: "gt-arrow", viewBox: "0 0 10 10", refX: "8", refY: "5", markerWidth: "10", markerHeight: "10",
      markerUnits: "userSpaceOnUse", orient: "auto-start-reverse",
    }, defs);
    svgEl("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);
    this.viewport = svgEl("g", { class: "viewport" }, this.svg);
    this.pulses = svgEl("g", { class: "pulses" });
    this.installPanZoom();
    new ResizeObserver(() => {
      if (!this.userMoved) this.fit();
    }).observe(container);
  }

  get structure(): string | null {
    return this.layout?.structure ?? null;
  }

  /** Build the drawing for a new structure (a new layout). */
  setGraph(layout: Layout, trace: Trace): void {
    this.layout = layout;
    this.viewport.replaceChildren();
    this.nodes.clear();
    this.edges.clear();
    this.scaled = [];
    this.lastCurrent = null;
    const gateLayer = svgEl("g", { class: "gates" }, this.viewport);
    const edgeLayer = svgEl("g", { class: "edges" }, this.viewport);
    const nodeLayer = svgEl("g", { class: "nodes" }, this.viewport);
    const labelLayer = svgEl("g", { class: "labels" }, this.viewport);
    const gateControls = svgEl("g", { class: "gate-controls" }, this.viewport);
    this.viewport.appendChild(this.pulses);
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
    for (const n of trace.nodes) {
      const l = layout.nodes[n.id];
      if (!l) continue;
      this.nodes.set(n.id, this.drawNode(n, trace, l, nodeLayer, labelLayer));
    }
    this.userMoved = false;
    this.fit();
  }

  private drawEdge(e: TraceEdge, l: Layout["edges"][string], edgeLayer: SVGGElement, labelLayer: SVGGElement): EdgeEls {
    const g = svgEl("g", { class: "edge", "data-edge-id": e.id }, edgeLayer);
    const path = svgEl("path", { d: l.path, class: "wire", id: `gt-wire-${e.id}` }, g);
    // The arrowhead: from the path's last point to the tip.
    svgEl("line", {
      x1: l.arrow[0], y1: l.arrow[1], x2: l.arrow[2], y2: l.arrow[3], class: "wire-tip", "marker-end": "url(#gt-arrow)",
    }, g);
    // Labels go where the server placed them (clear of nodes and of each other): the value above
    // the wire, the gradient below it (cs231n); the local derivative at its own point. Without
    // those points (the browser's fallback layout), 40% along the wire, where wires into one
    // node are still apart.
    const at = (f: number, fallback: [number, number]): [number, number] => {
      try {
        const len = path.getTotalLength();
        if (len > 0) {
          const p = path.getPointAtLength(len * f);
          return [p.x, p.y];
        }
      } catch {
        /* no geometry */
      }
      return fallback;
    };
    const [mx, my] = l.label ?? at(0.4, l.mid);
    const value = svgEl("text", { x: mx, y: my - 5, class: "edge-value", "text-anchor": "middle", "data-edge": e.id }, labelLayer);
    const grad = svgEl("text", { x: mx, y: my + 5, class: "edge-grad", "text-anchor": "middle", "dominant-baseline": "hanging", "data-edge": e.id }, labelLayer);
    const tangent = svgEl("text", { x: mx, y: my + 5, class: "edge-tangent", "text-anchor": "middle", "dominant-baseline": "hanging", "data-edge": e.id }, labelLayer);
    let localAt: [number, number] | null = l.local ?? null;
    if (!localAt) {
      let length = 0;
      try {
        length = path.getTotalLength();
      } catch {
        /* no geometry */
      }
      // On a short wire there is no room for a third label: the explain panel has the local.
      if (length >= 110) localAt = at(0.74, [l.arrow[0], l.arrow[1]]);
    }
    const local = svgEl("text", { x: localAt?.[0] ?? mx, y: (localAt?.[1] ?? my) - 5, class: "edge-local", "text-anchor": "middle" }, labelLayer);
    if (!localAt) local.setAttribute("visibility", "hidden");
    return { g, path, value, grad, tangent, local };
  }

  private drawNode(n: TraceNode, trace: Trace, l: Layout["nodes"][string], nodeLayer: SVGGElement, labelLayer: SVGGElement): NodeEls {
    const named = n.kind === "op" && n.name !== null;
    const role = labelRole(trace, n);
    const g = svgEl("g", {
      class: `node kind-${n.kind}${named ? " named" : ""}${role ? " label-input" : ""}${n.origin === "grad" ? " from-grad" : ""}${n.id === trace.output ? " output" : ""}`,
      "data-node-id": n.id,
      "data-kind": n.kind,
      ...(n.name ? { "data-name": n.name } : {}),
      ...(role ? { "data-labels": role } : {}),
      transform: `translate(${l.x},${l.y})`,
      tabindex: "-1",
    }, nodeLayer);
    let shape: SVGElement;
    if (l.shape === "ellipse") {
      shape = svgEl("ellipse", { rx: l.w / 2, ry: l.h / 2, class: "node-shape" }, g);
    } else {
      shape = svgEl("rect", { x: -l.w / 2, y: -l.h / 2, width: l.w, height: l.h, rx: 6, class: "node-shape" }, g);
    }
    const label = svgEl("text", { class: "node-label", "text-anchor": "middle", "dominant-baseline": "central" }, g);
    const text = nodeLabel(trace, n);
    label.textContent = text;
    // When the graph is shown small, node labels grow (as edge labels do), as far as their node
    // leaves room: about 0.62 em per character of the monospace font.
    const room = Math.min(l.h * 0.62, (l.w * 0.8) / Math.max(1, text.length * 0.62));
    label.style.fontSize = `min(calc(var(--node-font) * var(--boost, 1)), ${room.toFixed(1)}px)`;
    if (named && n.op) {
      const tag = svgEl("text", { y: -l.h / 2 - 5, class: "node-op", "text-anchor": "middle" }, g);
      tag.textContent = opTag(trace, n);
    } else if (role) {
      // Above an input of labels, what it is: it takes no gradient, by design.
      const tag = svgEl("text", { y: -l.h / 2 - 5, class: "node-op labels-tag", "text-anchor": "middle" }, g);
      tag.textContent = role;
    }
    if (n.gate_id) {
      g.classList.add("gate-node");
      g.setAttribute("data-gate-id", n.gate_id);
      if (this.onGateToggle) this.drawOpener(n, l, g);
    }
    if (n.in_gate) g.setAttribute("data-in-gate", n.in_gate);
    const title = svgEl("title", {}, g);
    const what = (n.kind === "op" ? nodeWhat(trace, n) : `${n.kind} ${n.label}`) +
      (role ? `: ${labelsPhrase(role)}` : "") + (n.origin === "grad" ? " (built by grad)" : "") +
      (n.gate_id && this.onGateToggle ? " (a gate: ⊕ opens it into its parts)" : "");
    title.textContent = what;
    const sum = svgEl("text", { x: l.x, y: l.y + l.h / 2 + 8, class: "node-sum", "text-anchor": "middle", "dominant-baseline": "hanging" }, labelLayer);
    const els: NodeEls = { g, title, what, shape, sum, sumX: l.x };
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

  /** The ⊕ on a closed gate: opens it into its parts. */
  private drawOpener(n: TraceNode, l: Layout["nodes"][string], g: SVGGElement): void {
    const id = n.gate_id as string;
    // At the node's upper right, on its outline (an ellipse: 45° round; a box: its corner).
    const round = l.shape === "ellipse" ? Math.SQRT1_2 : 1;
    const b = svgEl("g", {
      class: "gate-open",
      transform: `translate(${(l.w / 2) * round},${(-l.h / 2) * round})`,
      "data-testid": `gate-open-${id}`,
      "data-gate": id,
    }, g);
    // Grows with the labels when the graph is shown small (--boost), to stay a target.
    const sized = svgEl("g", { class: "gate-scale" }, b);
    this.scaled.push(sized);
    svgEl("circle", { r: 9, class: "gate-button" }, sized);
    svgEl("path", { d: "M-4.5,0 H4.5 M0,-4.5 V4.5", class: "gate-sign" }, sized);
    this.button(b, `Open this gate into its parts (${n.op ?? "gate"} ${id})`, () => this.onGateToggle?.(id, true));
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
      setText(els.sum, sumText.replace(/\+ −/g, "− "));
      this.placeSum(els);
      toggle(els.sum, "tangent", forwardSum);
      toggle(els.sum, "current", st.current === id && (terms.length > 1 || forwardSum));
      if (els.out) {
        setText(els.out.value, st.valued.has(id) ? formatShort(n.value, 1) : "");
        setText(els.out.grad, graded && n.grad !== null ? formatShort(n.grad, 1) : "");
        setText(els.out.tangent, tangentKnown ? formatShort(tangentOf(n), 1) : "");
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
      setText(els.value, valued && src ? formatShort(src.value, 1) : "");
      const gradKnown = st.edgeGrads.has(id) && e.downstream !== null;
      setText(els.grad, gradKnown ? formatShort(e.downstream, 1) : "");
      const tangentKnown = st.edgeTangents.has(id) && e.tangent !== null && e.tangent !== undefined;
      setText(els.tangent, tangentKnown ? formatShort(e.tangent as Tensor, 1) : "");
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
    if (st.current !== this.lastCurrent || st.phase === "forward") this.animate(st);
    this.lastCurrent = st.current;
  }

  /** A sum under a node at the graph's left edge (an input) would stick out of the view, which
   * fit() leaves PAD.left of room: moved right, as little as keeps it whole. */
  private placeSum(els: NodeEls): void {
    let half = 0;
    try {
      half = els.sum.textContent ? els.sum.getComputedTextLength() / 2 : 0;
    } catch {
      /* not rendered: left where it is */
    }
    const x = Math.max(els.sumX, half - PAD.left + 2);
    if (els.sum.getAttribute("x") !== String(x)) els.sum.setAttribute("x", String(x));
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

  // ---- pan and zoom ----

  private apply(): void {
    const { x, y, k } = this.view;
    // Labels never shrink below MIN_LABEL_PX on screen: past that, they grow in graph units.
    const style = getComputedStyle(this.svg);
    const base = parseFloat(style.getPropertyValue("--graph-font")) || 15;
    const min = parseFloat(style.getPropertyValue("--min-label")) || MIN_LABEL_PX;
    const boost = Math.max(1, min / (base * k));
    // Far out (a huge graph fitted to the window) labels would bury the drawing: they come back
    // on zooming in.
    const off = boost > 3;
    this.svg.classList.toggle("labels-off", off);
    this.svg.style.setProperty("--boost", (off ? 1 : boost).toFixed(3));
    // Grown labels need the room the layout kept for the local derivative: the explain panel
    // gives it then.
    this.svg.classList.toggle("crowded", boost > 1.25);
    // The gates' controls grow as the labels do (up to twice), each about its own place.
    const grow = `scale(${Math.min(boost, 2).toFixed(3)})`;
    for (const el of this.scaled) el.setAttribute("transform", grow);
    this.viewport.setAttribute("transform", `translate(${x.toFixed(2)},${y.toFixed(2)}) scale(${k.toFixed(4)})`);
    // The labels' size changed with the boost: the sums at the left edge move to stay in view.
    for (const els of this.nodes.values()) if (els.sum.textContent) this.placeSum(els);
  }

  /** Fit the whole graph (with room for its labels) into the view. */
  fit(): void {
    if (!this.layout) return;
    const W = this.container.clientWidth || 800;
    const H = this.container.clientHeight || 500;
    const w = this.layout.width + PAD.left + PAD.right;
    const h = this.layout.height + PAD.top + PAD.bottom;
    const k = Math.min(W / w, H / h, 2.4);
    this.view = {
      k,
      x: (W - w * k) / 2 + PAD.left * k,
      y: (H - h * k) / 2 + PAD.top * k,
    };
    this.userMoved = false;
    this.apply();
  }

  zoomBy(factor: number, cx?: number, cy?: number): void {
    const W = this.container.clientWidth;
    const H = this.container.clientHeight;
    const px = cx ?? W / 2;
    const py = cy ?? H / 2;
    const k = Math.max(0.1, Math.min(8, this.view.k * factor));
    const f = k / this.view.k;
    this.view = { k, x: px - (px - this.view.x) * f, y: py - (py - this.view.y) * f };
    this.userMoved = true;
    this.apply();
  }

  private installPanZoom(): void {
    this.svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const rect = this.svg.getBoundingClientRect();
      this.zoomBy(Math.exp(-ev.deltaY * 0.0015), ev.clientX - rect.left, ev.clientY - rect.top);
    }, { passive: false });
    let drag: { x: number; y: number; vx: number; vy: number; id: number } | null = null;
    this.svg.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY, vx: this.view.x, vy: this.view.y, id: ev.pointerId };
    });
    this.svg.addEventListener("pointermove", (ev) => {
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
    const end = (): void => {
      drag = null;
      this.svg.classList.remove("panning");
    };
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointercancel", end);
    this.svg.addEventListener("dblclick", () => this.fit());
  }
}
