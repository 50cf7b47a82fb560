// A simple layered left-to-right layout computed in the browser, used only when the server's
// Graphviz layout is unavailable (an error answer): nodes in columns by depth, leaves just left
// of their first consumer, rows ordered by the mean row of their inputs. Pure.

import type { Layout, LayoutCluster, LayoutEdge, LayoutNode, Trace } from "./api";

const COL = 165;
const ROW = 84;

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

export function fallbackLayout(trace: Pick<Trace, "nodes" | "edges" | "structure"> & Partial<Pick<Trace, "open_gates">>): Layout {
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
    const offset = ((rows - col.length) * ROW) / 2;
    const { w, h } = nodeSize(n.kind, n.label);
    nodes[n.id] = {
      x: r(40 + k * COL),
      y: r(30 + offset + (row.get(n.id) ?? 0) * ROW),
      w: r(w),
      h: r(h),
      shape: n.kind === "op" ? "ellipse" : "box",
    };
  }
  const edges: Record<string, LayoutEdge> = {};
  for (const e of trace.edges) {
    const a = nodes[e.source];
    const b = nodes[e.target];
    const x0 = a.x + a.w / 2;
    const y0 = a.y;
    const tipX = b.x - b.w / 2;
    const x3 = tipX - 7;
    const y3 = b.y;
    const dx = (x3 - x0) / 2;
    const c1: [number, number] = [x0 + dx, y0];
    const c2: [number, number] = [x3 - dx, y3];
    const mid: [number, number] = [
      0.125 * x0 + 0.375 * c1[0] + 0.375 * c2[0] + 0.125 * x3,
      0.125 * y0 + 0.375 * c1[1] + 0.375 * c2[1] + 0.125 * y3,
    ];
    edges[e.id] = {
      path: `M${r(x0)},${r(y0)} C${r(c1[0])},${r(c1[1])} ${r(c2[0])},${r(c2[1])} ${r(x3)},${r(y3)}`,
      arrow: [r(x3), r(y3), r(tipX), r(y3)],
      mid: [r(mid[0]), r(mid[1])],
      source: e.source,
      target: e.target,
    };
  }
  const xs = Object.values(nodes).map((n) => n.x + n.w / 2);
  const ys = Object.values(nodes).map((n) => n.y + n.h / 2);
  return {
    structure: trace.structure,
    width: r(Math.max(0, ...xs) + 10),
    height: r(Math.max(0, ...ys) + 10),
    nodes,
    edges,
    clusters: gateBoxes(trace, nodes),
  };
}
