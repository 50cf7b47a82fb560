// A simple layered layout computed in the browser, used only when the server's Graphviz layout is
// unavailable (an error answer): nodes in layers by depth, leaves just before their first
// consumer, each layer ordered by the mean place of its inputs. Drawn left to right (the layers
// are columns) or down (the layers are rows), as the server draws. Pure.

import type { Layout, LayoutCluster, LayoutEdge, LayoutNode, Trace } from "./api";

export type Direction = "down" | "right";

// Spacing (graph units) between layers and between nodes of one layer. Across, each wire carries
// its value above it and its gradient below: layers far apart. Down, the labels sit beside the
// wire: nodes of one layer far apart instead.
const SPACING: Record<Direction, { layer: number; within: number }> = {
  right: { layer: 165, within: 84 },
  down: { layer: 110, within: 170 },
};

export function nodeSize(kind: string, label: string): { w: number; h: number } {
  const chars = label.length;
  if (kind === "op") {
    const d = Math.max(0.62, 0.16 * chars + 0.3) * 72;
    return { w: d, h: chars > 3 ? Math.min(d, 0.62 * 72) : d };
  }
  return { w: Math.max(0.6, 0.15 * chars + 0.35) * 72, h: 0.5 * 72 };
}

function r(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The boxes of the opened gates around their parts' nodes (and their inner gates' boxes), with
 * room for the title at the top, as the server's layered layout boxes them. */
export function gateBoxes(trace: Pick<Trace, "nodes"> & Partial<Pick<Trace, "open_gates">>, nodes: Record<string, LayoutNode>): Record<string, LayoutCluster> {
  const out: Record<string, LayoutCluster> = {};
  const depth = (id: string): number => id.split(".").length;
  for (const g of [...(trace.open_gates ?? [])].sort((a, b) => depth(b.id) - depth(a.id))) {
    const boxes: { x: number; y: number; w: number; h: number }[] = [
      ...trace.nodes.filter((n) => n.in_gate === g.id && nodes[n.id]).map((n) => nodes[n.id]),
      ...Object.values(out).filter((c) => c.parent === g.id),
    ];
    if (!boxes.length) continue;
    const pad = 10;
    const x0 = Math.min(...boxes.map((b) => b.x - b.w / 2)) - pad;
    const x1 = Math.max(...boxes.map((b) => b.x + b.w / 2)) + pad;
    const y0 = Math.min(...boxes.map((b) => b.y - b.h / 2)) - pad - 21;
    const y1 = Math.max(...boxes.map((b) => b.y + b.h / 2)) + pad;
    out[g.id] = { x: r((x0 + x1) / 2), y: r((y0 + y1) / 2), w: r(x1 - x0), h: r(y1 - y0), label: g.op, parent: g.parent };
  }
  return out;
}

type FallbackTrace = Pick<Trace, "nodes" | "edges" | "structure"> & Partial<Pick<Trace, "open_gates">>;

/** The direction whose drawing, fitted into a space `aspect` times as wide as high, is drawn the
 * largest (the server's rule); across unless down is clearly (10%) larger. */
export function chooseDirection(sizes: Record<Direction, { width: number; height: number }>, aspect: number): Direction {
  const scale = (d: Direction): number => Math.min(aspect / Math.max(sizes[d].width, 1e-9), 1 / Math.max(sizes[d].height, 1e-9));
  return scale("down") > scale("right") * 1.1 ? "down" : "right";
}

/** The fallback layout in `direction`, or (a number: the stage's width over its height) in the
 * direction that fits that shape best. */
export function fallbackLayout(trace: FallbackTrace, direction: Direction | number = "right"): Layout {
  if (typeof direction === "number") {
    const right = drawLayers(trace, "right");
    const down = drawLayers(trace, "down");
    return chooseDirection({ right, down }, direction) === "down" ? down : right;
  }
  return drawLayers(trace, direction);
}

function drawLayers(trace: FallbackTrace, direction: Direction): Layout {
  const across = direction === "right";
  const { layer: LAYER, within: WITHIN } = SPACING[direction];
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const n of trace.nodes) {
    preds.set(n.id, []);
    succs.set(n.id, []);
  }
  for (const e of trace.edges) {
    preds.get(e.target)?.push(e.source);
    succs.get(e.source)?.push(e.target);
  }
  // Nodes arrive in topological order (the engine numbers them so); ranks by longest path.
  const rank = new Map<string, number>();
  for (const n of trace.nodes) {
    const ps = preds.get(n.id) ?? [];
    rank.set(n.id, ps.length ? Math.max(...ps.map((p) => (rank.get(p) ?? 0) + 1)) : 0);
  }
  for (const n of [...trace.nodes].reverse()) {
    const ps = preds.get(n.id) ?? [];
    const ss = succs.get(n.id) ?? [];
    if (ps.length === 0 && ss.length) rank.set(n.id, Math.max(0, Math.min(...ss.map((s) => rank.get(s) ?? 1)) - 1));
  }
  const columns = new Map<number, string[]>();
  for (const n of trace.nodes) {
    const k = rank.get(n.id) ?? 0;
    if (!columns.has(k)) columns.set(k, []);
    columns.get(k)?.push(n.id);
  }
  const row = new Map<string, number>();
  const maxRank = Math.max(0, ...columns.keys());
  let rows = 1;
  for (let k = 0; k <= maxRank; k++) {
    const col = columns.get(k) ?? [];
    const key = (id: string): number => {
      const ps = (preds.get(id) ?? []).filter((p) => row.has(p));
      return ps.length ? ps.reduce((a, p) => a + (row.get(p) ?? 0), 0) / ps.length : col.indexOf(id);
    };
    col.sort((a, b) => key(a) - key(b));
    col.forEach((id, i) => row.set(id, i));
    rows = Math.max(rows, col.length);
  }
  const nodes: Record<string, LayoutNode> = {};
  for (const n of trace.nodes) {
    const k = rank.get(n.id) ?? 0;
    const col = columns.get(k) ?? [];
    const offset = ((rows - col.length) * WITHIN) / 2;
    const { w, h } = nodeSize(n.kind, n.label);
    // `along` runs with the layers (x across, y down), `side` within a layer.
    const along = 40 + k * LAYER;
    const side = (across ? 30 : 60) + offset + (row.get(n.id) ?? 0) * WITHIN;
    nodes[n.id] = {
      x: r(across ? along : side),
      y: r(across ? side : along),
      w: r(w),
      h: r(h),
      shape: n.kind === "op" ? "ellipse" : "box",
    };
  }
  const edges: Record<string, LayoutEdge> = {};
  for (const e of trace.edges) {
    const a = nodes[e.source];
    const b = nodes[e.target];
    // From the source's far side to 7 short of the target's near side (the arrowhead's room),
    // leaving and arriving along the layers.
    const [x0, y0] = across ? [a.x + a.w / 2, a.y] : [a.x, a.y + a.h / 2];
    const [tipX, tipY] = across ? [b.x - b.w / 2, b.y] : [b.x, b.y - b.h / 2];
    const [x3, y3] = across ? [tipX - 7, tipY] : [tipX, tipY - 7];
    const c1: [number, number] = across ? [(x0 + x3) / 2, y0] : [x0, (y0 + y3) / 2];
    const c2: [number, number] = across ? [(x0 + x3) / 2, y3] : [x3, (y0 + y3) / 2];
    const mid: [number, number] = [
      0.125 * x0 + 0.375 * c1[0] + 0.375 * c2[0] + 0.125 * x3,
      0.125 * y0 + 0.375 * c1[1] + 0.375 * c2[1] + 0.125 * y3,
    ];
    edges[e.id] = {
      path: `M${r(x0)},${r(y0)} C${r(c1[0])},${r(c1[1])} ${r(c2[0])},${r(c2[1])} ${r(x3)},${r(y3)}`,
      arrow: [r(x3), r(y3), r(tipX), r(tipY)],
      mid: [r(mid[0]), r(mid[1])],
      source: e.source,
      target: e.target,
    };
  }
  const xs = Object.values(nodes).map((n) => n.x + n.w / 2);
  const ys = Object.values(nodes).map((n) => n.y + n.h / 2);
  // Built first, returned after: the `direction` field is the server's newer answer, which the
  // generated types may not have yet.
  const layout = {
    structure: trace.structure,
    width: r(Math.max(0, ...xs) + 10),
    height: r(Math.max(0, ...ys) + 10),
    nodes,
    edges,
    clusters: gateBoxes(trace, nodes),
    direction,
  };
  return layout;
}
