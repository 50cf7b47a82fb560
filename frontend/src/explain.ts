// What the explain panel says about a step, as LaTeX and plain sentences. Pure: the panel module
// renders it with KaTeX.

import { sliceSpan } from "./spans";
import type { Tensor, Trace, TraceEdge, TraceNode } from "./api";
import { formatNumber, formatShape, formatShort, isScalar, plainTensor } from "./format";
import { jacobianNote, jacobianProductTex, jacobianTex } from "./jacobian-view";
import { labelRole, labelsSentence, nodeLabel, nodeWhat } from "./node-words";
import { opInfo } from "./ops";
import { nodeIndex, type StepState } from "./steps";

export interface Explanation {
  title: string;
  /** Display-math lines, in order. */
  lines: string[];
  /** Plain sentences: the gate pattern, notes. */
  notes: string[];
  /** Forward mode: what a full gradient costs in each mode, one sentence each. */
  cost?: string[];
}

// How the registry's op symbols (a node's label; src/generated/ops.json) are typeset: a table of
// characters, not of ops. Others are written as text.
const SYMBOL_TEX: Record<string, string> = {
  "×": "\\times",
  "÷": "\\div",
  "−": "-",
  "+": "+",
  "@": "@",
  "^": "(\\cdot)^{\\cdot}", // not \wedge, which reads as logical and
  "·": "\\cdot",
  "σ": "\\sigma",
  "Σ": "\\Sigma",
  "√": "\\surd",
};

/** Escape text for \text{...}. */
export function texText(s: string): string {
  return s.replace(/[\\{}$&#^_%~]/g, (c) => {
    if (c === "\\") return "\\textbackslash{}";
    if (c === "^") return "\\textasciicircum{}";
    if (c === "~") return "\\textasciitilde{}";
    return `\\${c}`;
  });
}

/** A name as math: x, W_{1}, w_{0}, \mathrm{pred}. */
export function texName(name: string): string {
  const m = /^([A-Za-z]+)_?(\d+)$/.exec(name);
  if (m) return `${texName(m[1])}_{${m[2]}}`;
  if (/^[A-Za-z]$/.test(name)) return name;
  return `\\mathrm{${texText(name)}}`;
}

/** A number in LaTeX (4 significant digits); in parentheses when negative and `paren`. */
export function texNumber(x: number, paren = false): string {
  let s = formatNumber(x, 4, "-");
  if (s === "∞") s = "\\infty";
  if (s === "-∞") s = "-\\infty";
  s = s.replace(/e(-?\d+)$/, "\\times 10^{$1}");
  return paren && (x < 0 || s.includes("\\times")) ? `(${s})` : s;
}

/** How a node is called in formulas: its name, its constant, or its op (numbered if ambiguous). */
export function nodeTex(trace: Trace, node: TraceNode): string {
  if (node.name) return texName(node.name);
  if (node.id === trace.output) return "L";
  return opTex(trace, node);
}

/** A node by its op: [+], or [×]_{4} when several unnamed nodes share the symbol. */
function opTex(trace: Trace, node: TraceNode): string {
  if (node.name) return texName(node.name);
  if (node.kind === "const") return isScalar(node.value) ? texNumber(node.value) : texText(node.label);
  // An indexing is called as it is written, x[1] (its op's symbol alone, [ ], says nothing).
  if (node.op === "index") {
    const src = sliceSpan(trace.expr, node.start, node.end).replace(/\s+/g, " ");
    if (src.length <= 16) return `\\texttt{${texText(src)}}`;
  }
  // A symbol of several words keeps its spaces (math mode would drop them).
  const sym = SYMBOL_TEX[node.label] ?? `\\mathrm{${texText(node.label).replace(/ /g, "\\ ")}}`;
  const same = trace.nodes.filter((n) => !n.name && n.kind === "op" && n.label === node.label);
  const num = node.id.replace(/^\D+/, "");
  return same.length > 1 ? `[${sym}]_{${num}}` : `[${sym}]`;
}

function frac(top: string, bottom: string): string {
  return `\\frac{\\partial ${top}}{\\partial ${bottom}}`;
}

function valueTex(t: Tensor, paren = false): string {
  return isScalar(t) ? texNumber(t, paren) : `\\langle ${formatShape(shapeOfTensor(t))}\\rangle`;
}

function shapeOfTensor(t: Tensor): number[] {
  const s: number[] = [];
  let c: Tensor = t;
  while (Array.isArray(c)) {
    s.push(c.length);
    if (!c.length) break;
    c = c[0];
  }
  return s;
}

function outputTex(trace: Trace): string {
  const out = trace.nodes.find((n) => n.id === trace.output);
  return out?.name ? texName(out.name) : "L";
}

function edgeLine(trace: Trace, node: TraceNode, e: TraceEdge, upstream: Tensor, L: string): string[] {
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  const src = byId.get(e.source);
  if (!src) return [];
  // The local derivative names the op itself (for an unnamed output, L would read as circular).
  const Nl = opTex(trace, node);
  const N = nodeTex(trace, node);
  const S = nodeTex(trace, src);
  if (src.kind === "const") return [`${e.local_formula}\\quad\\text{(a constant: no gradient flows on)}`];
  if (e.local !== null && isScalar(upstream) && isScalar(e.downstream ?? null)) {
    const chain = `${frac(L, S)} = ${frac(Nl, S)}\\cdot${frac(L, N)} = ${texNumber(e.local, true)}\\cdot${texNumber(upstream, true)} = ${texNumber(e.downstream as number)}`;
    // A gate's local derivative is what its step teaches: a line of its own, before the numbers.
    if (node.gate_id) return [`\\text{gate: }${e.local_formula}`, chain];
    return [`${chain}\\qquad\\left(${e.local_formula}\\right)`];
  }
  const lines = [e.local_formula];
  const down = e.downstream;
  lines.push(
    `${S}: ${formatShape(src.shape)},\\quad ${N}: ${formatShape(node.shape)}` +
      `\\quad\\Rightarrow\\quad ${frac(L, S)}: ${down === null ? "" : formatShape(shapeOfTensor(down))}`,
  );
  if (e.vjp_formula) lines.push(`\\text{VJP: }${e.vjp_formula}`);
  // Beside the VJP, the explicit Jacobian it applies, where it is small enough to show.
  const J = jacobianTex(e, N, S);
  if (J) lines.push(J, jacobianProductTex(N, S));
  return lines;
}

/**
 * The op applied to its operands' values, as LaTeX (-2 + 5, 3\cdot(-4), \frac{-2}{5}, e^{-1}): the
 * op's formula from the registry (src/generated/ops.json) with the numbers put in. Null when an
 * operand is a tensor, or the op is not an elementwise op of the language.
 */
export function pluggedIn(trace: Trace, node: TraceNode): string | null {
  if (node.kind !== "op" || !node.op) return null;
  const info = opInfo(node.op);
  if (!info || !info.language || !info.elementwise) return null;
  const byId = nodeIndex(trace);
  const args = trace.edges
    .filter((e) => e.target === node.id)
    .sort((a, b) => a.arg - b.arg)
    .map((e) => byId.get(e.source)?.value);
  if (args.length !== info.arity || !args.every((a) => isScalar(a ?? null))) return null;
  return plugNumbers(info.tex, args as number[]);
}

/**
 * Numbers into a formula's slots (#0#, #1#): bare where the formula encloses the slot ({#0#},
 * (#0#, #1#), |#0#|) or it is the left operand of + or -; elsewhere a negative number in
 * parentheses. Two operands side by side (a product, #0#\,#1#) are joined by \cdot, as numbers
 * side by side would read as one.
 */
export function plugNumbers(tex: string, v: readonly number[]): string {
  const t = tex.replace(/#(\d+)#\\,#(\d+)#/g, "#$1#\\cdot#$2#");
  return t.replace(/#(\d+)#/g, (m: string, i: string, at: number) => {
    const before = t.slice(0, at);
    const after = t.slice(at + m.length);
    const enclosed = /(?:[{(|]|,\s*)$/.test(before) && /^\s*[})|,]/.test(after);
    const leftOfSum = at === 0 && /^\s*[+-]\s/.test(after);
    return texNumber(v[Number(i)], !(enclosed || leftOfSum));
  });
}

/** The output's name in forward mode's formulas: its own name, or f. */
function forwardOutputName(trace: Trace): string {
  const out = trace.nodes.find((n) => n.id === trace.output);
  return out?.name ?? "f";
}

/** How a node is called in forward mode's formulas (an unnamed output is f, not the loss L). */
function forwardTex(trace: Trace, node: TraceNode): string {
  if (node.id === trace.output && !node.name) return "f";
  return nodeTex(trace, node);
}

function dfrac(top: string, bottom: string): string {
  return `\\frac{d${/^[A-Za-z]/.test(top) ? " " : ""}${top}}{d ${bottom}}`;
}

/** The output's derivative as the page shows it: "∂f/∂x = −4" (a tensor in short form). */
export function derivativeText(trace: Trace): string {
  if (trace.mode !== "forward" || trace.derivative === undefined || !trace.wrt) return "";
  const d = trace.derivative;
  // Along a direction other than 1 (a tensor input's ones, or a given tangent), say which.
  const v = trace.tangent;
  const along = v === undefined || v === 1 ? "" : ` · ${isScalar(v) ? formatNumber(v, 4) : formatShort(v, 4)}`;
  return `∂${forwardOutputName(trace)}/∂${trace.wrt}${along} = ${isScalar(d) ? formatNumber(d, 4) : formatShort(d, 4)}`;
}

/** The cost sentences of both modes, reverse first (forward mode's explanation ends with them). */
export function costSentences(trace: Trace): string[] {
  return trace.cost ? [trace.cost.reverse, trace.cost.forward].filter((x) => typeof x === "string" && x !== "") : [];
}

/** The chain rule forward: one line for one term; for several, the numbers under the symbols
 * (aligned at "="), so that the line fits a narrow panel on a projector. */
function chainForward(lhs: string, symbolic: string, rest: string, terms: number): string {
  if (terms < 2) return `${lhs} = ${symbolic} = ${rest}`;
  return `\\begin{aligned}${lhs} &= ${symbolic}\\\\ &= ${rest}\\end{aligned}`;
}

/** Forward mode: a node's value, then its tangent by the chain rule forward, with numbers. */
/** A forward step's first line: the node's value, with its operands' values plugged in. */
function valueLine(trace: Trace, node: TraceNode, N: string): { what: string; lines: string[] } {
  const src = sliceSpan(trace.expr, node.start, node.end).replace(/\s+/g, " ");
  const what = nodeWhat(trace, node);
  const plugged = pluggedIn(trace, node);
  const lines =
    node.kind === "op"
      ? [`${N} = \\texttt{${texText(src)}} = ${plugged ? `${plugged} = ` : ""}${valueTex(node.value)}`]
      : [`${N} = ${valueTex(node.value)}`];
  return { what, lines };
}

function explainForward(trace: Trace, st: StepState, node: TraceNode): Explanation {
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  const wrt = trace.wrt ?? "";
  const X = texName(wrt);
  const N = forwardTex(trace, node);
  const { what, lines } = valueLine(trace, node, N);
  const notes: string[] = [];
  const tangent = node.tangent ?? null;
  const tangentTex = (t: Tensor | null): string => (t === null ? "0" : valueTex(t));
  if (node.kind === "input" && node.name === wrt) {
    const seed = trace.tangent;
    lines.push(`${dfrac(N, X)} = ${tangentTex(tangent)}\\quad\\text{(the seed: the direction of ${texText(wrt)})}`);
    if (seed !== undefined && seed !== null && !isScalar(seed)) notes.push(`The tangent of ${wrt} is the direction given, shape ${formatShape(shapeOfTensor(seed))}.`);
  } else if (node.kind === "input") {
    lines.push(`${dfrac(N, X)} = 0\\quad\\text{(another input: it does not depend on ${texText(wrt)})}`);
    const role = labelRole(trace, node);
    if (role) notes.push(labelsSentence(node.label, role));
  } else if (node.kind === "const") {
    lines.push(`${dfrac(N, X)} = 0\\quad\\text{(a constant)}`);
  } else {
    const ins = trace.edges
      .filter((e) => e.target === node.id)
      .sort((a, b) => a.arg - b.arg)
      .filter((e) => byId.get(e.source)?.kind !== "const");
    const Nl = opTex(trace, node);
    const symbolic = ins
      .map((e) => {
        const s = byId.get(e.source);
        return s ? `${frac(Nl, forwardTex(trace, s))}\\cdot${dfrac(forwardTex(trace, s), X)}` : "";
      })
      .join(" + ");
    // With numbers where every term is a number: local × source tangent, or just 0 where the
    // source does not depend on wrt (whatever its local derivative, which a server may leave out).
    const srcTangent = (e: TraceEdge): Tensor | null => byId.get(e.source)?.tangent ?? null;
    const scalar =
      isScalar(node.value) &&
      ins.every((e) => isScalar(byId.get(e.source)?.value ?? null)) &&
      ins.every((e) => srcTangent(e) === null || (e.local !== null && isScalar(srcTangent(e))));
    if (ins.length === 0) {
      lines.push(`${dfrac(N, X)} = 0\\quad\\text{(constants only)}`);
    } else if (scalar) {
      const numbers = ins
        .map((e) => {
          const t = srcTangent(e);
          if (e.local === null) return "0";
          return `${texNumber(e.local, true)}\\cdot${texNumber(t === null ? 0 : (t as number), true)}`;
        })
        .join(" + ");
      lines.push(chainForward(dfrac(N, X), symbolic, `${numbers} = ${tangentTex(tangent)}`, ins.length));
    } else {
      // Tensors: each term a Jacobian-vector product (never a dense Jacobian), summed.
      lines.push(chainForward(dfrac(N, X), symbolic, tangentTex(tangent), ins.length));
      for (const e of ins) lines.push(e.local_formula);
    }
    if (tangent === null) notes.push(`${nodeLabel(trace, node)} does not depend on ${wrt}: its tangent is 0.`);
  }
  if (node.id === trace.output) {
    const d = derivativeText(trace);
    if (d) notes.push(`The output's derivative: ${d}, from one forward pass for ${wrt}.`);
  }
  if (!isScalar(node.value) && node.kind !== "input") notes.push(`${nodeLabel(trace, node)} has shape ${formatShape(node.shape)}.`);
  return { title: `${st.label}: ${what}`, lines, notes, cost: costSentences(trace) };
}

/** What a step says of gates (gates.ts): a closed gate is one node with its own local derivative;
 * a node inside an opened gate is one of its parts. `toggles`: the view can open and close them
 * (not the offline file). */
export function gateNotes(trace: Trace, node: TraceNode, toggles = true): string[] {
  const notes: string[] = [];
  if (node.gate_id) {
    notes.push(`${node.op ?? "This op"} is a gate made of simpler ops: its local derivative is the whole gate's.` + (toggles ? " Opened (⊕), it shows the steps of its parts." : ""));
  }
  if (node.in_gate) {
    const gate = (trace.open_gates ?? []).find((g) => g.id === node.in_gate);
    const op = gate?.op ?? "gate";
    const close = toggles ? ` (⊖ draws ${gate?.output === node.id ? op : "it"} as one node again)` : "";
    notes.push(
      gate?.output === node.id
        ? `The last part of the opened gate ${op}: its value is the gate's${close}.`
        : `A part of the opened gate ${op}${close}.`,
    );
  }
  return notes;
}

/** What starts the backward pass: the seed, and where it comes from when the text gave it
 * (`L.backward(dz)`, `output_gradients=dz`) and the trace used it. */
export function seedWords(trace: Pick<Trace, "seed" | "reading">): string {
  const fromText = trace.reading?.seed;
  const used = fromText !== null && fromText !== undefined && plainTensor(fromText) === plainTensor(trace.seed);
  return used ? "the output gradient the text gives" : "the seed";
}

export function explainStep(trace: Trace, st: StepState, toggles = true): Explanation {
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  const node = st.current ? byId.get(st.current) : undefined;
  if (!node) return { title: st.label, lines: [], notes: [] };
  if (trace.mode === "forward") {
    const ex = explainForward(trace, st, node);
    return { ...ex, notes: [...ex.notes, ...gateNotes(trace, node, toggles)] };
  }
  const N = nodeTex(trace, node);
  const notes: string[] = gateNotes(trace, node, toggles);
  if (st.phase === "forward") {
    const { what, lines } = valueLine(trace, node, N);
    const role = labelRole(trace, node);
    if (role) notes.push(labelsSentence(node.label, role));
    if (!isScalar(node.value)) notes.push(`${nodeLabel(trace, node)} has shape ${formatShape(node.shape)}.`);
    return { title: `${st.label}: ${what}`, lines, notes };
  }
  const step = st.backward;
  if (!step) return { title: st.label, lines: [], notes: [] };
  const L = outputTex(trace);
  const lines: string[] = [];
  const terms = step.terms;
  if (node.id === trace.output) {
    lines.push(`${frac(L, L)} = ${valueTex(step.upstream)}\\quad\\text{(${seedWords(trace)})}`);
  } else if (terms.length > 1) {
    const allScalar = terms.every((t) => isScalar(t.value)) && isScalar(step.upstream);
    const parts = terms.map((t) => valueTex(t.value, true)).join(" + ");
    lines.push(
      allScalar
        ? `${frac(L, N)} = ${parts} = ${valueTex(step.upstream)}`
        : `${frac(L, N)} = \\textstyle\\sum_{\\text{${terms.length} uses}} = ${valueTex(step.upstream)}`,
    );
  } else {
    lines.push(`${frac(L, N)} = ${valueTex(step.upstream)}\\quad\\text{(upstream)}`);
  }
  for (const e of step.edges) lines.push(...edgeLine(trace, node, e, step.upstream, L));
  // An operand of labels gets no edge of the step: say so, rather than leave it unexplained.
  for (const e of trace.edges.filter((x) => x.target === node.id)) {
    const src = byId.get(e.source);
    const role = src ? labelRole(trace, src) : null;
    if (src && role) notes.push(labelsSentence(src.label, role));
  }
  const gate = node.gate ? trace.gates[node.gate] : undefined;
  if (gate) notes.push(gate);
  if (terms.length > 1 && node.gate !== "sums" && trace.gates.sums) notes.push(trace.gates.sums);
  if (node.kind === "input") {
    const out = trace.nodes.find((n) => n.id === trace.output);
    notes.push(`An input: ∂${out?.name ?? "L"}/∂${node.label} is complete, the sum of all it received.`);
  }
  const dense = step.edges.find((e) => e.jacobian_size !== undefined);
  const src = dense ? byId.get(dense.source) : undefined;
  const why = dense && src ? jacobianNote(dense, nodeLabel(trace, node), nodeLabel(trace, src)) : null;
  if (why) notes.push(why);
  if (step.edges.some((e) => e.broadcast))
    notes.push("Broadcast: the gradient is summed back over the broadcast axes.");
  return { title: `${st.label}: ${nodeWhat(trace, node)}`, lines, notes };
}
