// A tensor edge's VJP rule for the explain panel: the server's formulas (already written in the
// nodes' names, backend/gradtrace/naming.py), told apart as the registry's template (then the
// rule can be written again with the actual matrices put in) or an op whose instance has
// parameters of its own; and an elementwise op's local derivative as numbers. Pure: strings and
// numbers.

import type { Tensor, Trace, TraceEdge, TraceNode } from "./api";
import { shapeOf } from "./format";
import { nodeName } from "./node-words";
import { fill, opInfo, type OpInfo } from "./ops";
import { nodeIndex } from "./steps";
import { tensorTex, type Orientation } from "./tensor-tex";

function nodeTex(trace: Trace, node: TraceNode): string {
  return nodeName(trace, node).tex;
}

export interface EdgeRule {
  /** ∂N/∂S written out: \frac{\partial\,(x + y)}{\partial x} = 1. */
  local: string;
  /** The local derivative alone (1, \sigma(a)\,(1 - \sigma(a))), when the formula is the template's. */
  localOnly: string | null;
  /** The VJP rule, dS = ... (tensor edges). */
  vjp: string | null;
  /** The registry's template of the rule (slots #0#, #z#), when the formula is the template's. */
  template: string | null;
  info: OpInfo | undefined;
}

export function operandsOf(trace: Trace, node: TraceNode): TraceNode[] {
  const byId = nodeIndex(trace);
  return trace.edges
    .filter((e) => e.target === node.id)
    .sort((a, b) => a.arg - b.arg)
    .map((e) => byId.get(e.source))
    .filter((n): n is TraceNode => n !== undefined);
}

/** An edge's local derivative and VJP rule: the server's, in the nodes' names; with the
 * registry's template where the server's formula is that template filled with the names. */
export function edgeRule(trace: Trace, node: TraceNode, e: TraceEdge): EdgeRule {
  const info = opInfo(node.op);
  const args = operandsOf(trace, node);
  const rule: EdgeRule = { local: e.local_formula, localOnly: null, vjp: e.vjp_formula, template: null, info };
  if (!info || args.length === 0 || info.local_tex.length === 0) return rule;
  const i = Math.min(e.arg, info.local_tex.length - 1);
  const names = args.map((a) => nodeTex(trace, a));
  const z = nodeTex(trace, node);
  // The local derivative and the VJP are each the template's, or the server's own (an op whose
  // instance differs from the registry's default: conv2d without a bias, a sum over an axis).
  const localOnly = fill(info.local_tex[i], names, z);
  if (`\\frac{\\partial\\,(${fill(info.tex, names, z)})}{\\partial ${names[e.arg]}} = ${localOnly}` === e.local_formula) {
    rule.localOnly = localOnly;
  }
  // After the rule the server may add only that a broadcast is summed back (record.py).
  const vjp = fill(info.vjp_tex[i] ?? "", names, z);
  if (vjp !== "" && e.vjp_formula !== null &&
    (e.vjp_formula === vjp || e.vjp_formula.startsWith(`${vjp},\\ \\text{summed over broadcast axes`))) {
    rule.template = info.vjp_tex[i];
  }
  return rule;
}

/** How each operand's 1-D vector, and the output's, stands in the op's formula: rows, except that
 * a matrix product takes a right-hand vector as a column (and then gives one). */
export function orientations(node: TraceNode, args: readonly TraceNode[]): { arg: Orientation[]; out: Orientation } {
  const arg: Orientation[] = args.map(() => "row");
  let out: Orientation = "row";
  if (node.op === "matmul" && args.length === 2) {
    const a = shapeOf(args[0].value).length;
    const b = shapeOf(args[1].value).length;
    if (b === 1) arg[1] = "col";
    if (b === 1 && a >= 2) out = "col";
  }
  return { arg, out };
}

// A slot inside a superscript, subscript, hat or bar: no matrix can stand there.
const SLOT_IN_GROUP = /(\^|_|\\hat|\\bar|\\tilde)\{[^{}]*#(\d+|z)#/;
// The tokens of a rule's right-hand side that take numbers.
const SLOT_TOKENS = /\\operatorname\{shape\}\(#(\d+)#\)|\(d#z#\)\^\{\\top\}|d#z#|#(\d+)#\^\{\\top\}|#z#|#(\d+)#/g;

/**
 * The right-hand side of a VJP rule (`d#0# = d#z#\,#1#^{\top}`) with the actual numbers put in:
 * the upstream gradient for d#z#, the output's value for #z#, the operands' values for #k# (a
 * transposed one transposed: W^T is written as the matrix Wᵀ). Null when a value does not fit
 * in a formula, or a slot sits where no matrix can (an exponent, a hat).
 */
export function substituteRule(
  template: string,
  values: { up: Tensor; out: Tensor; args: readonly Tensor[] },
  orient: { arg: readonly Orientation[]; out: Orientation },
): string | null {
  const eq = template.indexOf(" = ");
  if (eq < 0) return null;
  const rhs = template.slice(eq + 3);
  if (SLOT_IN_GROUP.test(rhs)) return null;
  let ok = true;
  const put = (t: Tensor | undefined, o: Orientation, transposed: boolean): string => {
    if (t === undefined) {
      ok = false;
      return "";
    }
    const tex = tensorTex(t, o, transposed, true);
    if (tex === null) ok = false;
    return tex ?? "";
  };
  const out = rhs.replace(SLOT_TOKENS, (m: string, shapeArg?: string, tArg?: string, arg?: string) => {
    if (shapeArg !== undefined) {
      const v = values.args[Number(shapeArg)];
      return v === undefined ? m : `(${shapeOf(v).join(", ")})`;
    }
    if (m.startsWith("(d#z#)")) return put(values.up, orient.out, true);
    if (m === "d#z#") return put(values.up, orient.out, false);
    if (tArg !== undefined) return put(values.args[Number(tArg)], orient.arg[Number(tArg)] ?? "row", true);
    if (m === "#z#") return put(values.out, orient.out, false);
    return put(values.args[Number(arg)], orient.arg[Number(arg)] ?? "row", false);
  });
  return ok ? autoSizeParens(out) : null;
}

/** Parentheses and angle brackets around a matrix, grown to its height: ( ... ) becomes
 * \left( ... \right) where what they enclose holds a bmatrix. */
export function autoSizeParens(tex: string): string {
  type Open = { at: number; len: number; kind: "(" | "<" };
  const stack: Open[] = [];
  const edits: { at: number; len: number; text: string }[] = [];
  for (let i = 0; i < tex.length; i++) {
    const rest = tex.slice(i);
    if (/^\\(left|right)\b/.test(rest)) {
      // Already sized: skip the command and its delimiter.
      const m = /^\\(left|right)(\\[a-z]+|.)/.exec(rest);
      i += (m?.[0].length ?? 1) - 1;
      continue;
    }
    if (rest.startsWith("\\langle")) {
      stack.push({ at: i, len: 7, kind: "<" });
      i += 6;
    } else if (rest.startsWith("\\rangle")) {
      const open = popKind(stack, "<");
      if (open && tex.slice(open.at, i).includes("\\begin{bmatrix}")) {
        edits.push({ at: open.at, len: open.len, text: "\\left\\langle" }, { at: i, len: 7, text: "\\right\\rangle" });
      }
      i += 6;
    } else if (tex[i] === "(" && tex[i - 1] !== "\\") {
      stack.push({ at: i, len: 1, kind: "(" });
    } else if (tex[i] === ")" && tex[i - 1] !== "\\") {
      const open = popKind(stack, "(");
      if (open && tex.slice(open.at, i).includes("\\begin{bmatrix}")) {
        edits.push({ at: open.at, len: 1, text: "\\left(" }, { at: i, len: 1, text: "\\right)" });
      }
    }
  }
  let out = tex;
  for (const e of edits.sort((p, q) => q.at - p.at)) out = out.slice(0, e.at) + e.text + out.slice(e.at + e.len);
  return out;
}

function popKind<T extends { kind: string }>(stack: T[], kind: string): T | undefined {
  const top = stack[stack.length - 1];
  if (!top || top.kind !== kind) return undefined;
  return stack.pop();
}

/** An elementwise op's local derivative as numbers, in the output's shape: the row sums of the
 * edge's Jacobian (its one nonzero per row) where the server built it, else downstream over
 * upstream entry by entry (no broadcast, no zero upstream). Null where neither tells. */
export function elementwiseLocal(e: TraceEdge, upstream: Tensor, targetShape: readonly number[]): Tensor | null {
  const down = e.downstream;
  if (down === null) return null;
  if (e.jacobian && e.jacobian.length > 0) {
    const sums = e.jacobian.map((row) => row.reduce((a, b) => a + b, 0));
    return reshape(sums, targetShape);
  }
  if (e.broadcast) return null;
  const up = flat(upstream);
  const dn = flat(down);
  if (up.length !== dn.length || up.some((x) => x === 0 || !Number.isFinite(x))) return null;
  return reshape(dn.map((d, k) => d / up[k]), targetShape);
}

function flat(t: Tensor): number[] {
  return Array.isArray(t) ? t.flatMap(flat) : [t];
}

function reshape(xs: number[], shape: readonly number[]): Tensor {
  if (shape.length === 0) return xs[0];
  let at = 0;
  const build = (axis: number): Tensor => {
    if (axis === shape.length) return xs[at++];
    return Array.from({ length: shape[axis] }, () => build(axis + 1));
  };
  return build(0);
}
