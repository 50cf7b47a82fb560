// How a node is called on screen, in words a student reads: one name per node, the same on the
// graph, in the step's title, in the formulas and in the inspector (the user's name, `h1 = ...`,
// or a short letter given in order, a, b, c, ...); the op by a plain word (never the registry's
// internal names); an index node as it is written (`x[1]`); an input used only as labels as labels
// (whole numbers that take no gradient), never as a missing gradient. Pure: no DOM.

import type { Trace, TraceNode } from "./api";
import { opInfo, symbol } from "./ops";
import { sliceSpan, toUtf16 } from "./spans";

// Plain words for the ops a student does not call by name: index assignment (`y[0] = ...`), and
// the parts of opened gates and the nodes grad() builds (index_put_add, unreduce, ... are the
// registry's names, for code).
export const PLAIN_WORDS: Readonly<Record<string, string>> = {
  setitem: "index assignment",
  index: "index",
  amax_share: "share of the max",
  amin_share: "share of the min",
  max_share: "share of the max",
  min_share: "share of the min",
  avg_pool2d_dx: "avg-pool gradient",
  broadcast_like: "broadcast",
  class_mask: "one-hot",
  concat_part: "block",
  conv2d_dw: "conv2d kernel gradient",
  conv2d_dx: "conv2d input gradient",
  count: "count",
  index_put_add: "add at the indices",
  masked: "masked product",
  matmul_da: "matmul gradient (left)",
  matmul_db: "matmul gradient (right)",
  max_pool2d_dx: "max-pool gradient",
  max_pool2d_gather: "max-pool gather",
  nonzero: "mask",
  pow_exp_mask: "mask",
  reduced_count: "count",
  relu_mask: "relu mask",
  reshape_like: "reshape",
  rowsum: "row sum",
  sum_to: "sum over broadcast axes",
  unreduce: "broadcast back",
  zeros_like: "zeros",
};

/** An op as a student reads it: the name they call it by (cross_entropy, conv2d), or a plain
 * word for one they do not (index assignment, one-hot, broadcast back). */
export function opWord(op: string | null | undefined): string {
  if (!op) return "op";
  if (Object.hasOwn(PLAIN_WORDS, op)) return PLAIN_WORDS[op];
  const info = opInfo(op);
  // An op of the language is called by its name; another one (a newer internal op) by its
  // words, not its identifier.
  return info && !info.language ? op.replace(/_/g, " ") : op;
}

/** The subscript of an indexing `x[1]` or of an assignment's target `y[0] = ...`: the last
 * bracket of `text` at depth 0 (with `[` and `]` balanced), or null. */
export function subscriptOf(text: string): string | null {
  const t = text.trim();
  if (!t.endsWith("]")) return null;
  let depth = 0;
  for (let i = t.length - 1; i >= 0; i--) {
    const c = t[i];
    if (c === "]" || c === ")") depth++;
    else if (c === "[" || c === "(") {
      depth--;
      if (depth === 0) return c === "[" && i > 0 ? t.slice(i) : null;
    }
  }
  return null;
}

/** The target of an assignment statement's text, `y[0]` of `y[0] = x + 1` (null without one). */
function assignedTarget(text: string): string | null {
  // The first `=` that is not part of ==, !=, <=, >= (a keyword's `=` sits inside parentheses,
  // after the target).
  const m = /^[^=!<>]*?(?<![=!<>])=(?!=)/.exec(text);
  return m ? m[0].slice(0, -1).trim() : null;
}

// Longer subscripts (`[np.arange(N), y]`) stay `[ ]` on the node: the step's formula has them.
const MAX_SUBSCRIPT = 8;

/** The index an index node reads, `[1]`, or an index assignment writes, `[0]`, from the source
 * text of the node (null when the op is neither, or the index is long). */
export function nodeSubscript(trace: Pick<Trace, "expr">, node: TraceNode): string | null {
  if (node.op !== "index" && node.op !== "setitem") return null;
  let text = sliceSpan(trace.expr, node.start, node.end);
  if (node.op === "setitem") text = assignedTarget(text) ?? text;
  const sub = subscriptOf(text.replace(/\s+/g, " "));
  return sub !== null && sub.length <= MAX_SUBSCRIPT ? sub : null;
}

/** What the naming needs of a trace (a test may give only the expression: then nodes keep their
 * labels). */
export type NamingTrace = Pick<Trace, "expr"> & Partial<Pick<Trace, "nodes" | "edges" | "output" | "mode">>;

/** A node's one name: as drawn and written in text (`a₂`), and in formulas (`a_{2}`). */
export interface NodeName {
  text: string;
  tex: string;
  /** Not a name the user wrote: a letter, the output's f, an indexing as written (`x[1]`). */
  auto: boolean;
}

/** Escape text for \text{...} (and \texttt). */
export function texText(s: string): string {
  return s.replace(/[\\{}$&#^_%~]/g, (c) => {
    if (c === "\\") return "\\textbackslash{}";
    if (c === "^") return "\\textasciicircum{}";
    if (c === "~") return "\\textasciitilde{}";
    return `\\${c}`;
  });
}

/** Every node's name, by id: the record's (`display`, `display_tex`, chosen once by the server:
 * backend/gradtrace/naming.py), marked `auto` where it is not a name the user wrote. */
export function nodeNames(trace: NamingTrace): Map<string, NodeName> {
  const nodes = trace.nodes ?? [];
  const hit = namesCache.get(nodes);
  if (hit) return hit;
  const out = new Map<string, NodeName>();
  for (const n of nodes) {
    const text = n.display ?? n.label;
    const own = n.kind !== "op" || (n.name !== null && text.startsWith(n.name));
    out.set(n.id, { text, tex: n.display_tex ?? texText(n.label), auto: !own });
  }
  namesCache.set(nodes, out);
  return out;
}

// Read once per record (a graph asks for every node's name at every step).
const namesCache = new WeakMap<readonly TraceNode[], Map<string, NodeName>>();

/** A node's one name, on the graph and in the text: the user's (`h1`), an input's, a constant's
 * number, an indexing as written (`x[1]`), the output's f when unnamed, else the next free letter
 * (a, b, c, ...): the server's (nodeNames). */
export function nodeName(trace: NamingTrace, node: TraceNode): NodeName {
  return nodeNames(trace).get(node.id) ?? { text: fallbackLabel(trace, node), tex: texText(node.label), auto: false };
}

function fallbackLabel(trace: Pick<Trace, "expr">, node: TraceNode): string {
  if (node.op === "index" && node.name === null && node.label === symbol("index")) {
    return nodeSubscript(trace, node) ?? node.label;
  }
  return node.label;
}

/** The text drawn in a node: its name (nodeName). */
export function nodeLabel(trace: NamingTrace, node: TraceNode): string {
  return nodeName(trace, node).text;
}

/** Whether the graph writes the op's symbol above the node (opTag): for an op drawn by its name,
 * not for an indexing drawn as written (`x[1]` says it). */
export function opTagShown(trace: NamingTrace, node: TraceNode): boolean {
  if (node.kind !== "op" || !node.op) return false;
  const name = nodeName(trace, node);
  return !(name.auto && node.op === "index" && name.text.endsWith("]"));
}

/** The op's symbol above a named node: an index assignment's with its index (`[0]=`), an
 * indexing's index (`[1]`). */
export function opTag(trace: Pick<Trace, "expr">, node: TraceNode): string {
  if (!node.op) return "";
  if (node.op === "setitem" || node.op === "index") {
    const sub = nodeSubscript(trace, node);
    if (sub !== null) return node.op === "setitem" ? `${sub}=` : sub;
  }
  return symbol(node.op);
}

/** What an input that takes no gradient holds: labels (class numbers, indices) or the
 * condition of a where; null for every other node. */
export function labelRole(trace: Pick<Trace, "edges" | "nodes">, node: TraceNode): "labels" | "condition" | null {
  if (!node.labels) return null;
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  const uses = trace.edges.filter((e) => e.source === node.id);
  const condition = uses.length > 0 && uses.every((e) => e.arg === 0 && byId.get(e.target)?.op === "where");
  return condition ? "condition" : "labels";
}

/** One short phrase for such an input, for the graph and the panels. */
export function labelsPhrase(role: "labels" | "condition"): string {
  return role === "condition" ? "a condition: no gradient" : "labels (whole numbers): no gradient";
}

/** The sentence that says why such an input has no gradient. */
export function labelsSentence(name: string, role: "labels" | "condition"): string {
  return role === "condition"
    ? `${name} is where's condition: it picks between the other two operands, and no gradient flows to it.`
    : `${name} holds labels: whole numbers (class numbers or indices) that pick entries. No gradient flows to them, as for an integer tensor in PyTorch.`;
}

/** The node's operands in order (by the edges into it), or null without edges in the trace. */
function operands(trace: NamingTrace, node: TraceNode): TraceNode[] | null {
  if (!trace.edges || !trace.nodes) return null;
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  return trace.edges
    .filter((e) => e.target === node.id)
    .sort((a, b) => a.arg - b.arg)
    .map((e) => byId.get(e.source))
    .filter((n): n is TraceNode => n !== undefined);
}

// A right-hand side longer than this is written from the op instead of the source text.
const MAX_RHS = 48;

/**
 * What a node computes, with its operands by name, as plain text: `exp(a)`, `X @ W1`, `c^2`,
 * `y[0] = a` (an index assignment is its statement). From the node's source text with each
 * operand's text replaced by its name (keeping the user's spelling: keyword arguments, torch.exp);
 * from the op and the operands' names where the text does not give it (the parts of an opened
 * gate, the nodes grad() builds, a long text). Null for an input or a constant.
 */
export function nodeFormula(trace: NamingTrace, node: TraceNode): string | null {
  if (node.kind !== "op" || !node.op) return null;
  const args = operands(trace, node);
  if (args === null) return null;
  const fromText = node.in_gate || node.origin === "grad" ? null : formulaFromText(trace, node, args);
  if (fromText !== null && fromText.length <= MAX_RHS) return fromText;
  return formulaFromOp(node.op, args.map((a) => nodeLabel(trace, a)));
}

function formulaFromText(trace: NamingTrace, node: TraceNode, args: readonly TraceNode[]): string | null {
  const text = trace.expr;
  const start = toUtf16(text, node.start);
  const end = toUtf16(text, node.end);
  if (end <= start) return null;
  // Each operand's span inside the node's (an operand defined earlier, `torch.zeros(2)` before
  // `y[0] = ...`, is outside it and stays as it is written: it is not, being a name already).
  const cuts: { s: number; e: number; name: string }[] = [];
  for (const a of args) {
    let s = toUtf16(text, a.start);
    let e = toUtf16(text, a.end);
    if (s < start || e > end || e <= s || (s === start && e === end)) continue;
    // `(x + y) * z`: the parentheses go with the operand once it is one name, unless they are a
    // call's (`exp(a)`).
    if (text[s - 1] === "(" && text[e] === ")" && s - 1 >= start && e + 1 <= end && !/[\p{L}\p{N}_\]]/u.test(text[s - 2] ?? "")) {
      s -= 1;
      e += 1;
    }
    if (cuts.some((c) => s < c.e && c.s < e)) continue; // the same node twice (x * x): its span once
    cuts.push({ s, e, name: nodeLabel(trace, a) });
  }
  cuts.sort((p, q) => p.s - q.s);
  // An operand used by a name given to several nodes (x = x + 1; ... x * x) is that name's
  // latest value: written with its prime (x′) where the text says x.
  // (Not an index assignment's target, y[1] = ..., written as the user wrote it.)
  const renamed = [...new Set(args)]
    .filter((a) => node.op !== "setitem" && a.name && nodeLabel(trace, a) !== a.name)
    .map((a) => [new RegExp(`(?<![\\p{L}\\p{N}_.])${escapeRe(a.name as string)}(?![\\p{L}\\p{N}_(′″‴⁽])`, "gu"), nodeLabel(trace, a)] as const);
  const plain = (seg: string): string => renamed.reduce((acc, [re, to]) => acc.replace(re, to), seg);
  let out = "";
  let at = start;
  for (const c of cuts) {
    out += plain(text.slice(at, c.s)) + c.name;
    at = c.e;
  }
  out += plain(text.slice(at, end));
  out = out.replace(/\s+/g, " ").trim();
  // A statement (`h = relu(a)`): its right-hand side, as the title puts the node's name first;
  // an index assignment stays whole (`y[0] = a`).
  if (node.op !== "setitem") {
    const m = /^[\p{L}_][\p{L}\p{N}_]*\s*=(?!=)\s*/u.exec(out);
    if (m) out = out.slice(m[0].length);
  }
  return out || null;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The op on named operands: `a + b`, `-a`, `a^2`, `exp(a)`, `matmul gradient (left)(a, b)`. */
export function formulaFromOp(op: string, args: readonly string[]): string {
  const info = opInfo(op);
  const word = opWord(op);
  if (info?.operator && args.length === 2) return info.operator === "^" ? `${args[0]}^${args[1]}` : `${args[0]} ${info.operator} ${args[1]}`;
  if (info?.operator && args.length === 1) return `${info.operator}${args[0]}`;
  return `${word}(${args.join(", ")})`;
}

/**
 * A node as a step's title and a tooltip name it: `e = exp(a)`, `y[0] = a`, `x (input)`,
 * `y (labels)`, `constant 2`, `x[1] (index)`.
 */
export function nodeWhat(trace: NamingTrace, node: TraceNode): string {
  const name = nodeLabel(trace, node);
  if (node.kind === "const") return `constant ${name}`;
  if (node.kind === "input") {
    const role = trace.edges && trace.nodes ? labelRole(trace as Pick<Trace, "edges" | "nodes">, node) : null;
    return `${name} (${role ?? "input"})`;
  }
  const rhs = nodeFormula(trace, node);
  if (rhs === null) {
    const word = opWord(node.op);
    const same = name === word || name === node.op || name.replace(/ /g, "_") === node.op;
    return same ? word : `${word} ${name}`;
  }
  if (node.op === "setitem") return rhs;
  if (rhs === name) return `${name} (${opWord(node.op)})`;
  return `${name} = ${rhs}`;
}

/** The inputs that hold labels (or a where's condition), by name. */
export function labelInputs(trace: Pick<Trace, "edges" | "nodes">): Map<string, "labels" | "condition"> {
  const out = new Map<string, "labels" | "condition">();
  for (const n of trace.nodes) {
    const role = n.kind === "input" && n.name ? labelRole(trace, n) : null;
    if (role && n.name) out.set(n.name, role);
  }
  return out;
}
