// How a node is called on screen, in words a student reads: the op by a plain word (never the
// registry's internal names), an index node by its index (`[1]`, not `[ ]`), and an input used
// only as labels as labels (whole numbers that take no gradient), never as a missing gradient.
// Pure: no DOM.

import type { Trace, TraceNode } from "./api";
import { opInfo, symbol } from "./ops";
import { sliceSpan } from "./spans";

// Plain words for the ops a student does not call by name: index assignment (`y[0] = ...`), and
// the parts of opened gates and the nodes grad() builds (index_put_add, unreduce, ... are the
// registry's names, for code).
const PLAIN_WORDS: Readonly<Record<string, string>> = {
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

/** The text drawn in a node: its label, except that an unnamed index node shows its index
 * (`[1]` rather than the op's bare `[ ]`). */
export function nodeLabel(trace: Pick<Trace, "expr">, node: TraceNode): string {
  if (node.op === "index" && node.name === null && node.label === symbol("index")) {
    return nodeSubscript(trace, node) ?? node.label;
  }
  return node.label;
}

/** The op's symbol above a named node: an index assignment's with its index (`[0]=`). */
export function opTag(trace: Pick<Trace, "expr">, node: TraceNode): string {
  if (!node.op) return "";
  if (node.op === "setitem") {
    const sub = nodeSubscript(trace, node);
    if (sub !== null) return `${sub}=`;
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

/** A node as a step's title and a tooltip name it: `conv2d`, `relu h`, `index [1]`, `input y`
 * (the op's word, and the node's label where it says more than the op's own name). */
export function nodeWhat(trace: Pick<Trace, "expr">, node: TraceNode): string {
  const text = nodeLabel(trace, node);
  if (node.kind !== "op") return `${node.kind === "const" ? "constant" : "input"} ${text}`;
  const word = opWord(node.op);
  const same = text === word || text === node.op || text.replace(/ /g, "_") === node.op;
  return same ? word : `${word} ${text}`;
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
