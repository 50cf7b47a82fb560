// Gates that open (backend/gradtrace/gates.py): a composite op (square, ...) is one node, a
// closed gate with its own local derivative, until it is opened into the ops it is made of; its
// parts are then drawn inside a box with the gate's name, which closes it again. The view's
// state holds the opened gates' ids (`expand` in the URL: `expand=g3,g3.2`):
//   g<k>       the gate that is node n<k> with every gate closed;
//   g<k>.<p>   part p (the p-th op of its composition) of the opened gate g<k>, when that part
//              is a composite itself.
// Pure: no DOM.

import type { Trace, TraceNode } from "./api";
import type { Phase } from "./steps";

/** The form of a gate id (what the server names gates by). */
export const GATE_ID = /^g(0|[1-9]\d*)(\.[1-9]\d*)*$/;

function key(id: string): number[] {
  return id.slice(1).split(".").map(Number);
}

/** Gate ids in the server's order (by node, then part: g2 < g2.1 < g2.10 < g10), without repeats;
 * anything that is not a gate id after them, as given. */
export function sortGates(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort((a, b) => {
    const ga = GATE_ID.test(a);
    const gb = GATE_ID.test(b);
    if (!ga || !gb) return Number(ga ? 0 : 1) - Number(gb ? 0 : 1);
    const x = key(a);
    const y = key(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  });
}

/** The gates opened once `id` is opened too. */
export function withOpened(expand: readonly string[], id: string): string[] {
  return sortGates([...expand, id]);
}

/** The gates opened once `id` is closed: it, and every gate opened inside it, close. */
export function withClosed(expand: readonly string[], id: string): string[] {
  return expand.filter((g) => g !== id && !g.startsWith(`${id}.`));
}

/** The ids a URL's `expand` gives (comma-separated), in order, without repeats or blanks. */
export function parseExpand(text: string): string[] {
  return [...new Set(text.split(",").map((s) => s.trim()).filter(Boolean))];
}

/** The opened gates of a trace, by id (none for a server from before gates). */
export function openGates(trace: Pick<Trace, "open_gates">): NonNullable<Trace["open_gates"]> {
  return trace.open_gates ?? [];
}

/** The gates of a trace the view has opened (its `expand`, as the server applied it). */
export function openedIds(trace: Pick<Trace, "open_gates">): string[] {
  return openGates(trace).map((g) => g.id);
}

/** The node that stands for gate `id` in a trace: the gate's own node while it is closed, the
 * node holding its value once it is opened (null: not in this trace). */
export function gateNode(trace: Pick<Trace, "nodes" | "open_gates">, id: string): string | null {
  const open = openGates(trace).find((g) => g.id === id);
  if (open) return open.output;
  return trace.nodes.find((n) => n.gate_id === id)?.id ?? null;
}

/** What identifies a node across the views of one expression (its id is renumbered). */
export type NodeMark = Pick<TraceNode, "kind" | "op" | "label" | "start" | "end" | "in_gate">;

function inside(group: string | null, gate: string): boolean {
  return group !== null && (group === gate || group.startsWith(`${gate}.`));
}

/** Where the view goes once gate `gate` was opened or closed (the steps are renumbered): at the
 * end (or the start) it stays there; on a node the toggle left as it was, to that node's step;
 * else (a node of the gate itself) to the gate's step; in the same pass as before. */
export function stepAfterToggle(
  trace: Pick<Trace, "nodes" | "open_gates" | "forward" | "backward">,
  gate: string,
  before: { phase: Phase; atStart: boolean; atEnd: boolean; node?: NodeMark | null },
): number {
  const F = trace.forward.length;
  const last = Math.max(0, F + trace.backward.length - 1);
  if (before.atEnd) return last;
  if (before.atStart) return 0;
  let node: string | null = null;
  const mark = before.node;
  if (mark && !inside(mark.in_gate, gate)) {
    const found = trace.nodes.filter((n) => same(n, mark) && n.in_gate === mark.in_gate);
    if (found.length === 1) node = found[0].id;
  }
  node ??= gateNode(trace, gate);
  if (node === null) return last;
  if (before.phase === "backward") {
    const k = trace.backward.findIndex((s) => s.node === node);
    if (k >= 0) return F + k;
  }
  const i = trace.forward.indexOf(node);
  return i >= 0 ? i : last;
}

function same(n: NodeMark, m: NodeMark): boolean {
  return n.kind === m.kind && n.op === m.op && n.label === m.label && n.start === m.start && n.end === m.end;
}

/** The opened gate a node belongs to, and the title of its box ("square"). */
export function gateTitle(trace: Pick<Trace, "open_gates">, id: string): string {
  return openGates(trace).find((g) => g.id === id)?.op ?? id;
}
