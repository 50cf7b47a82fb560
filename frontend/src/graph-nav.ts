// Node navigation (graph-view.ts): moving through the drawn graph with the arrow keys, along its
// wires, and what a node says of itself when the keyboard lands on it. Pure: no DOM.
// Along the drawing's main axis (drawn left to right: Left and Right; top to bottom: Up and Down)
// an arrow goes toward the inputs (to an operand of the node) or toward the output (to a node that
// uses it); back the way it came where it can. Across the axis, the other arrows go to the
// siblings of the node: the other operands of the node it was reached from (or, reached from an
// operand, the other users of that operand), in the order they are drawn.

import type { Tensor, Trace } from "./api";
import type { Direction } from "./graph-view";
import { LIST_MAX, spokenName, spokenValue, wordList } from "./narrate";
import { labelRole, nodeLabel, nodeWhat } from "./node-words";
import { nodeIndex, tangentOf, type StepState } from "./steps";

export interface NavEdge {
  id: string;
  source: string;
  target: string;
  /** The operand's place in its target's operands (0: the first). */
  arg: number;
}

export interface NavGraph {
  edges: readonly NavEdge[];
  direction: Direction;
  /** Where each node is drawn (its centre): siblings are taken in the order drawn across the
   * main axis (top to bottom, or left to right); without it, in the operands' order. */
  at?: ReadonlyMap<string, readonly [number, number]>;
}

/** What an arrow key does in node navigation: toward the inputs (an operand), toward the output
 * (a user), or to the previous or next sibling across the main axis. */
export type Move = "operand" | "user" | "previous" | "next";

/** Where navigation stands: the focused node, and the wire it was reached along (null: just
 * entered). Reached toward the inputs, the node is the wire's source; toward the output, its
 * target. */
export interface NavPlace {
  node: string;
  edge: string | null;
}

/** Why a move went nowhere: the node has no operands (an input, a constant), no users (the
 * output), no sibling further that way, or no siblings at all. */
export type Blocked = "inputs" | "output" | "first" | "last" | "alone";

export interface NavResult {
  place: NavPlace;
  blocked: Blocked | null;
}

/** The move an arrow key makes in a graph drawn in `direction` (null: not an arrow). */
export function moveOf(key: string, direction: Direction): Move | null {
  const across = direction === "right";
  switch (key) {
    case "ArrowLeft":
      return across ? "operand" : "previous";
    case "ArrowRight":
      return across ? "user" : "next";
    case "ArrowUp":
      return across ? "previous" : "operand";
    case "ArrowDown":
      return across ? "next" : "user";
    default:
      return null;
  }
}

/** The coordinate across the main axis (y when drawn left to right, x when drawn down). */
function crossOf(g: NavGraph, node: string): number | null {
  const p = g.at?.get(node);
  if (!p) return null;
  return g.direction === "right" ? p[1] : p[0];
}

function drawnOrder(g: NavGraph, end: (e: NavEdge) => string, fallback: (a: NavEdge, b: NavEdge) => number): (a: NavEdge, b: NavEdge) => number {
  return (a, b) => {
    const ca = crossOf(g, end(a));
    const cb = crossOf(g, end(b));
    if (ca !== null && cb !== null && ca !== cb) return ca - cb;
    return fallback(a, b);
  };
}

/** The wires into `node` (from its operands), in the order drawn across the main axis (ties,
 * the same node twice as in x * x, by operand order). */
export function operandEdges(g: NavGraph, node: string): NavEdge[] {
  return g.edges.filter((e) => e.target === node).sort(drawnOrder(g, (e) => e.source, (a, b) => a.arg - b.arg));
}

/** The wires out of `node` (to the nodes that use it), in the order drawn across the main axis. */
export function userEdges(g: NavGraph, node: string): NavEdge[] {
  const order = new Map(g.edges.map((e, i) => [e.id, i]));
  return g.edges.filter((e) => e.source === node).sort(drawnOrder(g, (e) => e.target, (a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0)));
}

/** The operands of `node` (node ids, in the order drawn; one id twice for x * x). */
export function operandsOf(g: NavGraph, node: string): string[] {
  return operandEdges(g, node).map((e) => e.source);
}

/** The nodes that use `node`, in the order drawn. */
export function usersOf(g: NavGraph, node: string): string[] {
  return userEdges(g, node).map((e) => e.target);
}

/** The siblings of the focused node and which of them it is: the wires into the node it was
 * reached from (reached toward the inputs), or out of the node it was reached from (reached
 * toward the output); just entered, the operands of the first node that uses it. */
function siblings(g: NavGraph, place: NavPlace): { list: NavEdge[]; at: number; end: "source" | "target" } | null {
  const edge = place.edge === null ? null : g.edges.find((e) => e.id === place.edge) ?? null;
  if (edge === null || (edge.source !== place.node && edge.target !== place.node)) {
    const first = userEdges(g, place.node)[0];
    if (!first) return null;
    const list = operandEdges(g, first.target);
    return { list, at: list.findIndex((e) => e.id === first.id), end: "source" };
  }
  if (edge.source === place.node) {
    const list = operandEdges(g, edge.target);
    return { list, at: list.findIndex((e) => e.id === edge.id), end: "source" };
  }
  const list = userEdges(g, edge.source);
  return { list, at: list.findIndex((e) => e.id === edge.id), end: "target" };
}

/** Where a move goes from `place` (the place itself, with why, when it goes nowhere). */
export function navigate(g: NavGraph, place: NavPlace, move: Move): NavResult {
  const stay = (blocked: Blocked): NavResult => ({ place, blocked });
  const came = place.edge === null ? null : g.edges.find((e) => e.id === place.edge) ?? null;
  if (move === "operand" || move === "user") {
    const toInputs = move === "operand";
    const list = toInputs ? operandEdges(g, place.node) : userEdges(g, place.node);
    if (list.length === 0) return stay(toInputs ? "inputs" : "output");
    // Back along the wire it came by, if that wire goes this way; else the first drawn.
    const back = came !== null && list.some((e) => e.id === came.id) ? came : list[0];
    return { place: { node: toInputs ? back.source : back.target, edge: back.id }, blocked: null };
  }
  const sib = siblings(g, place);
  if (sib === null || sib.list.length <= 1) return stay("alone");
  const to = sib.at + (move === "next" ? 1 : -1);
  if (to < 0) return stay("first");
  if (to >= sib.list.length) return stay("last");
  const e = sib.list[to];
  return { place: { node: sib.end === "source" ? e.source : e.target, edge: e.id }, blocked: null };
}

/** The keys of node navigation, in words, for a graph drawn in `direction`. */
export function navKeysText(direction: Direction): string {
  const [toInputs, toOutput, across] = direction === "right" ? ["Left", "Right", "Up and Down"] : ["Up", "Down", "Left and Right"];
  return `${toInputs} arrow: toward the inputs; ${toOutput} arrow: toward the output; ${across}: the other operands or users; Enter: select into the node panel; R: read the node; Escape: back to stepping; T: the table.`;
}

/** The hint said when node navigation starts. */
export function navStartText(direction: Direction): string {
  return `Moving through the graph's nodes. ${navKeysText(direction)}`;
}

/** What a move that went nowhere says, with the focused node's name. */
export function blockedText(blocked: Blocked, name: string, move: Move): string {
  switch (blocked) {
    case "inputs":
      return `${name} has no operands: nothing comes into it.`;
    case "output":
      return `${name} is the output: nothing uses it.`;
    case "alone":
      return `${name} has no other node beside it.`;
    default: {
      const way = move === "next" ? "after" : "before";
      return `No other node ${way} ${name} on this side.`;
    }
  }
}

/** A value in words, as the brief narration says it (narrate.ts): a number ("minus 4"); a tensor
 * by its shape, and its numbers when there are few ("a vector of 3 numbers: minus 4, minus 4,
 * minus 4"). */
export function spokenTensor(t: Tensor): string {
  return spokenValue(t, "brief");
}

/** What a node says of itself when the keyboard lands on it (its accessible name): what it is
 * and computes, and what is known of it at this step: its value, its gradient (forward mode: its
 * tangent), whether it is this step's node, the output. */
export function nodeSpoken(trace: Trace, st: StepState, id: string): string {
  const n = nodeIndex(trace).get(id);
  if (!n) return id;
  const parts = [spokenName(nodeWhat(trace, n))];
  parts.push(st.valued.has(id) ? `value ${spokenTensor(n.value)}` : "no value yet");
  const role = labelRole(trace, n);
  if (role) {
    parts.push("no gradient");
  } else if (st.mode === "forward") {
    if (st.valued.has(id)) parts.push(`tangent along ${trace.wrt ?? "the input"} ${spokenTensor(tangentOf(n))}`);
  } else if (n.kind === "const") {
    parts.push("a constant: no gradient");
  } else if (st.graded.has(id) && n.grad !== null) {
    parts.push(`gradient ${spokenTensor(n.grad)}`);
  } else if (!trace.backward.some((b) => b.node === id)) {
    // A comparison, or a value another replaces: no gradient flows back to it, ever.
    parts.push("no gradient");
  } else {
    parts.push("no gradient yet");
  }
  if (id === trace.output) parts.push("the output");
  if (st.current === id) parts.push("this step's node");
  return parts.join(", ");
}

/** Where a node sits among the wires (its accessible description, heard after its name): its
 * operands and the nodes that use it, by name ("operands x and y; used by f"). */
export function nodeRelations(trace: Trace, id: string): string {
  const names = (ids: string[]): string => {
    const said = ids.slice(0, LIST_MAX).map((k) => nodeShortName(trace, k));
    if (ids.length > LIST_MAX) said.push(`${ids.length - LIST_MAX} more`);
    return wordList(said);
  };
  const ins = trace.edges.filter((e) => e.target === id).sort((a, b) => a.arg - b.arg).map((e) => e.source);
  const outs = trace.edges.filter((e) => e.source === id).map((e) => e.target);
  const parts: string[] = [];
  if (ins.length) parts.push(`${ins.length === 1 ? "operand" : "operands"} ${names(ins)}`);
  if (outs.length) parts.push(`used by ${names(outs)}`);
  return parts.join("; ");
}

/** A node's name as drawn (for the hints). */
export function nodeShortName(trace: Trace, id: string): string {
  const n = nodeIndex(trace).get(id);
  return n ? spokenName(nodeLabel(trace, n)) : id;
}

/** The same keys, short, for the hint shown over the graph. */
export function navKeysShort(direction: Direction): string {
  const [main, across] = direction === "right" ? ["← →", "↑ ↓"] : ["↑ ↓", "← →"];
  return `${main} along the wires · ${across} beside · Enter select · R read · Esc back to the steps · Tab leave`;
}
