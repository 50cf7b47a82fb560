// What the explain panel says about a step, as LaTeX and plain sentences. Pure: the panel module
// renders it with KaTeX (and draws the tensors too large for a formula as heatmaps).
//
// Every node is called by its one name, the record's (the user's, or a letter the server gave:
// node-words.ts), as on the graph; the record's formulas are written in these names.
// A tensor step writes its numbers: the upstream gradient, then for each operand the VJP rule
// with the names (from the registry's templates, src/generated/ops.json) and the same rule with
// the actual matrices put in, = the downstream gradient.

import { sliceSpan } from "./spans";
import type { Tensor, Trace, TraceEdge, TraceNode } from "./api";
import { formatNumber, formatShape, formatShort, isScalar, plainTensor, shapeOf } from "./format";
import { jacobianNote, jacobianProductTex, jacobianTex } from "./jacobian-view";
import { labelRole, labelsSentence, nodeFormula, nodeLabel, nodeName, nodeWhat, texText } from "./node-words";
import { opInfo } from "./ops";
import { nodeIndex, type StepState } from "./steps";
import { fitsFormula, texNumber, tensorTex } from "./tensor-tex";
import { edgeRule, elementwiseLocal, operandsOf, orientations, substituteRule, type EdgeRule } from "./vjp-rule";

export { texText } from "./node-words";
export { texNumber } from "./tensor-tex";
export { autoSizeParens, edgeRule, elementwiseLocal, substituteRule } from "./vjp-rule";

/** Tensors too large for a formula, drawn side by side as heatmaps: each with its label in LaTeX
 * and its name in plain text (the heatmap's readout: dW1[1, 0] = ...). */
export interface TensorRow {
  tensors: { label: string; name: string; value: Tensor }[];
}

/** A part of the explanation shown folded (a details element): its summary, then lines and notes. */
export interface Folded {
  summary: string;
  lines: string[];
  notes: string[];
}

export interface Explanation {
  title: string;
  /** Display-math lines (LaTeX), and rows of tensors too large for a formula, in order. */
  lines: (string | TensorRow)[];
  /** Plain sentences: the gate pattern, notes. */
  notes: string[];
  /** Forward mode: what a full gradient costs in each mode, one sentence each. */
  cost?: string[];
  /** Asides shown folded: the dense Jacobian a VJP never forms. */
  folded?: Folded[];
}

export function isTensorRow(line: string | TensorRow): line is TensorRow {
  return typeof line !== "string";
}

/** How a node is called in formulas: its one name (node-words.ts `nodeName`), as LaTeX. */
export function nodeTex(trace: Trace, node: TraceNode): string {
  return nodeName(trace, node).tex;
}

function frac(top: string, bottom: string): string {
  return `\\frac{\\partial ${top}}{\\partial ${bottom}}`;
}

/** A value in a formula: a number, or its matrix; null when too large for one. */
function valueTex(t: Tensor, paren = false): string | null {
  return tensorTex(t, "row", false, paren);
}

function outputNode(trace: Trace): TraceNode | undefined {
  return nodeIndex(trace).get(trace.output);
}

/** "d" before a name: dh, dW_{1}, d\mathrm{out}. */
function d(name: string): string {
  return `d${name}`;
}

/** A node's gradient's name: dh (text) and dh (LaTeX). */
function gradName(trace: Trace, node: TraceNode): { tex: string; text: string } {
  const n = nodeName(trace, node);
  return { tex: d(n.tex), text: `d${n.text}` };
}

function tensorEdgeLines(trace: Trace, node: TraceNode, e: TraceEdge, upstream: Tensor, rule: EdgeRule): (string | TensorRow)[] {
  const byId = nodeIndex(trace);
  const src = byId.get(e.source);
  const down = e.downstream;
  if (!src || down === null) return [rule.local];
  const S = nodeTex(trace, src);
  const lines: (string | TensorRow)[] = [];
  lines.push(rule.vjp ?? `${d(S)} = ${rule.local}`);
  const args = operandsOf(trace, node);
  const orient = orientations(node, args);
  const so = orient.arg[e.arg] ?? "row";
  const downTex = tensorTex(down, so, false, false);
  if (rule.info?.elementwise && rule.localOnly !== null) {
    // dx = dz ⊙ local, with the numbers; summed back over the axes a broadcast added.
    const local = elementwiseLocal(e, upstream, node.shape);
    const upTex = tensorTex(upstream, "row", false, true);
    const localTex = local === null ? null : tensorTex(local, "row", false, true);
    const symbolic = /[+-]/.test(rule.localOnly.replace(/^-/, "")) ? `\\left(${rule.localOnly}\\right)` : rule.localOnly;
    if (upTex !== null && downTex !== null) {
      const product = `${upTex} \\odot ${localTex ?? symbolic}`;
      lines.push(numbersLine(d(S), e.broadcast ? `\\textstyle\\sum_{\\text{broadcast axes}}\\left(${product}\\right)` : product, downTex));
      return lines;
    }
    // (The upstream gradient is the step's first line.)
    const localItem: HeatItem[] = local === null ? [] : [[{ tex: "\\text{local}", text: "local" }, local]];
    lines.push(heatRow([...localItem, [gradName(trace, src), down]]));
    return lines;
  }
  const numbers = rule.template
    ? substituteRule(rule.template, { up: upstream, out: node.value, args: args.map((a) => a.value) }, orient)
    : null;
  // The tensors the rule reads besides the upstream gradient: the operands it names, the output.
  const template = rule.template ?? "";
  // (An operand only in shape(#k#) is read for its shape alone.)
  const rhs = template.slice(template.indexOf(" = ") + 3).replace(/\\operatorname\{shape\}\(#\d+#\)/g, "");
  const read: HeatItem[] = [];
  args.forEach((a, k) => {
    if (rhs.includes(`#${k}#`) && !isScalar(a.value)) read.push([nodeName(trace, a), a.value]);
  });
  if (rhs.replace(/d#z#/g, "").includes("#z#")) read.push([nodeName(trace, node), node.value]);
  if (numbers !== null && downTex !== null) {
    lines.push(numbersLine(d(S), numbers, downTex));
    return lines;
  }
  // The rule has no form with numbers (a hat, an exponent over a matrix): its result alone.
  if (downTex !== null && fitsFormula(upstream) && read.every(([, t]) => fitsFormula(t))) {
    lines.push(`${d(S)} = ${downTex}`);
    return lines;
  }
  // Too large for a formula: the tensors the rule reads, and what it gives, as heatmaps.
  lines.push(heatRow([...read, [gradName(trace, src), down]]));
  return lines;
}

type HeatItem = readonly [{ tex: string; text: string }, Tensor];

// Matrices side by side with more columns than this in all put the result on a line of its own.
const WIDE_COLUMNS = 9;

/** `lhs = rule with numbers = result`, in one line; where the matrices are wide (a phone, a
 * projector's large type), the result under the rule, aligned at "=". */
export function numbersLine(lhs: string, rule: string, result: string): string {
  const columns = [...`${rule} ${result}`.matchAll(/\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}/g)]
    .map((m) => m[1].split("\\\\")[0].split("&").length)
    .reduce((a, b) => a + b, 0);
  if (columns <= WIDE_COLUMNS) return `${lhs} = ${rule} = ${result}`;
  return `\\begin{aligned}${lhs} &= ${rule}\\\\ &= ${result}\\end{aligned}`;
}

function heatRow(items: readonly HeatItem[]): TensorRow {
  return { tensors: items.map(([n, value]) => ({ label: n.tex, name: n.text, value })) };
}


function edgeLines(trace: Trace, node: TraceNode, e: TraceEdge, upstream: Tensor, L: string): (string | TensorRow)[] {
  const src = nodeIndex(trace).get(e.source);
  if (!src) return [];
  const rule = edgeRule(trace, node, e);
  const N = nodeTex(trace, node);
  const S = nodeTex(trace, src);
  if (src.kind === "const") return [`${rule.local}\\quad\\text{(a constant: no gradient flows on)}`];
  if (e.local !== null && isScalar(upstream) && isScalar(e.downstream ?? null)) {
    const chain = `${frac(L, S)} = ${frac(N, S)}\\cdot${frac(L, N)} = ${texNumber(e.local, true)}\\cdot${texNumber(upstream, true)} = ${texNumber(e.downstream as number)}`;
    // A gate's local derivative is what its step teaches: a line of its own, before the numbers.
    if (node.gate_id) return [`\\text{gate: }${rule.local}`, chain];
    return [`${chain}\\qquad\\left(${rule.local}\\right)`];
  }
  return tensorEdgeLines(trace, node, e, upstream, rule);
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
  const out = outputNode(trace);
  return out ? nodeLabel(trace, out) : "f";
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

/** `lhs = value`: the value's number or matrix, or (too large) its shape and a heatmap after. */
function withValue(lhs: string, t: Tensor, label: { tex: string; text: string }): (string | TensorRow)[] {
  const tex = valueTex(t);
  if (tex !== null) return [`${lhs} = ${tex}`];
  return [`${lhs}\\quad\\text{(${formatShape(shapeOf(t))}, below)}`, heatRow([[label, t]])];
}

/** A forward step's first lines: the node's value, from what it computes with its operands by
 * name, and their values plugged in where they are numbers. */
function valueLines(trace: Trace, node: TraceNode, N: string): (string | TensorRow)[] {
  const formula = nodeFormula(trace, node) ?? sliceSpan(trace.expr, node.start, node.end).replace(/\s+/g, " ");
  const name = nodeName(trace, node);
  if (node.kind === "const") return [`${N}\\quad\\text{(a constant)}`];
  if (node.kind !== "op") return withValue(N, node.value, name);
  // An index assignment is its statement, then the whole tensor it leaves: y[0] = b ⇒ y = [5, 0].
  if (node.op === "setitem") return withValue(`\\texttt{${texText(formula)}}\\ \\Rightarrow\\ ${N}`, node.value, name);
  // An indexing named as written (x[1]) is its value.
  if (formula === name.text) return withValue(N, node.value, name);
  const plugged = pluggedIn(trace, node);
  const same = plugged !== null && isScalar(node.value) && plugged === texNumber(node.value);
  const lhs = `${N} = \\texttt{${texText(formula)}}${plugged && !same ? ` = ${plugged}` : ""}`;
  return withValue(lhs, node.value, name);
}

function explainForward(trace: Trace, st: StepState, node: TraceNode): Explanation {
  const byId = nodeIndex(trace);
  const wrt = trace.wrt ?? "";
  // The input's name in formulas, as the record writes it.
  const wrtNode = trace.nodes.find((n) => n.kind === "input" && n.name === wrt);
  const X = wrtNode ? nodeTex(trace, wrtNode) : `\\text{${texText(wrt)}}`;
  const N = nodeTex(trace, node);
  const what = nodeWhat(trace, node);
  const lines = valueLines(trace, node, N);
  const notes: string[] = [];
  const tangent = node.tangent ?? null;
  const tangentTex = (t: Tensor | null): string => (t === null ? "0" : (valueTex(t) ?? `\\text{${formatShape(shapeOf(t))}}`));
  if (node.kind === "input" && node.name === wrt) {
    const seed = trace.tangent;
    lines.push(`${dfrac(N, X)} = ${tangentTex(tangent)}\\quad\\text{(the direction of ${texText(wrt)})}`);
    if (seed !== undefined && seed !== null && !isScalar(seed)) notes.push(`The tangent of ${wrt} is the direction given, ${formatShape(shapeOf(seed))}.`);
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
    const symbolic = ins
      .map((e) => {
        const s = byId.get(e.source);
        return s ? `${frac(N, nodeTex(trace, s))}\\cdot${dfrac(nodeTex(trace, s), X)}` : "";
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
      for (const e of ins) lines.push(edgeRule(trace, node, e).local);
    }
    if (tangent === null) notes.push(`${nodeLabel(trace, node)} does not depend on ${wrt}: its tangent is 0.`);
  }
  if (node.id === trace.output) {
    const dtext = derivativeText(trace);
    if (dtext) notes.push(`The output's derivative: ${dtext}, from one forward pass for ${wrt}.`);
  }
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

/** What starts the backward pass: the output gradient, and where it comes from when the text gave
 * it (`L.backward(dz)`, `output_gradients=dz`) and the trace used it. */
export function seedWords(trace: Pick<Trace, "seed" | "reading">): string {
  const fromText = trace.reading?.seed;
  const used = fromText !== null && fromText !== undefined && plainTensor(fromText) === plainTensor(trace.seed);
  return used ? "the output gradient the text gives" : "the output gradient";
}

/** The first line of a backward step: the gradient arriving at the node (a sum over its uses). */
function upstreamLines(trace: Trace, node: TraceNode, upstream: Tensor, terms: readonly { value: Tensor }[], L: string, scalarOut: boolean): (string | TensorRow)[] {
  const N = nodeTex(trace, node);
  const isOut = node.id === trace.output;
  if (isScalar(upstream)) {
    if (isOut) return [`${frac(L, L)} = ${texNumber(upstream)}\\quad\\text{(${seedWords(trace)})}`];
    if (terms.length > 1 && terms.every((t) => isScalar(t.value))) {
      return [`${frac(L, N)} = ${terms.map((t) => texNumber(t.value as number, true)).join(" + ")} = ${texNumber(upstream)}`];
    }
    return [`${frac(L, N)} = ${texNumber(upstream)}\\quad\\text{(upstream)}`];
  }
  // A tensor: dN, the gradient of the (scalar) output with respect to N, in the VJP's notation.
  const lhs = scalarOut && !isOut ? `${d(N)} = ${frac(L, N)}` : d(N);
  const why = isOut ? seedWords(trace) : terms.length > 1 ? `the sum over its ${terms.length} uses` : "upstream";
  const up = valueTex(upstream);
  if (terms.length > 1) {
    const parts = terms.map((t) => valueTex(t.value, true));
    if (up !== null && parts.every((p) => p !== null)) return [numbersLine(lhs, parts.join(" + "), up)];
    return [`${lhs} = \\textstyle\\sum_{\\text{${terms.length} uses}}\\quad\\text{(below)}`, heatRow([...terms.map((t, k): HeatItem => [{ tex: `\\text{use ${k + 1}}`, text: `use ${k + 1}` }, t.value]), [gradName(trace, node), upstream]])];
  }
  if (up !== null) return [`${lhs} = ${up}\\quad\\text{(${why})}`];
  return [`${lhs}\\quad\\text{(${why}, ${formatShape(shapeOf(upstream))}, below)}`, heatRow([[gradName(trace, node), upstream]])];
}

export function explainStep(trace: Trace, st: StepState, toggles = true): Explanation {
  const byId = nodeIndex(trace);
  const node = st.current ? byId.get(st.current) : undefined;
  if (!node) return { title: st.label, lines: [], notes: [] };
  if (trace.mode === "forward") {
    const ex = explainForward(trace, st, node);
    return { ...ex, notes: [...ex.notes, ...gateNotes(trace, node, toggles)] };
  }
  const N = nodeTex(trace, node);
  const notes: string[] = gateNotes(trace, node, toggles);
  const title = `${st.label}: ${nodeWhat(trace, node)}`;
  if (st.phase === "forward") {
    const lines = valueLines(trace, node, N);
    const role = labelRole(trace, node);
    if (role) notes.push(labelsSentence(node.label, role));
    return { title, lines, notes };
  }
  const step = st.backward;
  if (!step) return { title: st.label, lines: [], notes: [] };
  const out = outputNode(trace);
  const L = out ? nodeTex(trace, out) : "f";
  const scalarOut = out ? isScalar(out.value) : true;
  const lines = upstreamLines(trace, node, step.upstream, step.terms, L, scalarOut);
  for (const e of step.edges) lines.push(...edgeLines(trace, node, e, step.upstream, L));
  // An operand of labels gets no edge of the step: say so, rather than leave it unexplained.
  for (const e of trace.edges.filter((x) => x.target === node.id)) {
    const src = byId.get(e.source);
    const role = src ? labelRole(trace, src) : null;
    if (src && role) notes.push(labelsSentence(src.label, role));
  }
  const gate = node.gate ? trace.gates[node.gate] : undefined;
  if (gate) notes.push(gate);
  if (step.terms.length > 1 && node.gate !== "sums" && trace.gates.sums) notes.push(trace.gates.sums);
  if (node.kind === "input") {
    notes.push(`An input: ∂${out ? nodeLabel(trace, out) : "f"}/∂${nodeLabel(trace, node)} is complete, the sum of all it received.`);
  }
  if (step.edges.some((e) => e.broadcast)) notes.push("Broadcast: the gradient is summed back over the broadcast axes.");
  const folded = jacobianFolds(trace, node, step.edges);
  return { title, lines, notes, ...(folded.length ? { folded } : {}) };
}

/** The dense Jacobian of the step's tensor edges, folded (a details element, closed): the matrix
 * where the server built it (small), and why the engine never forms it. Folded, the long reason
 * (a 34 GB matrix) is not repeated on the screen at every tensor step. */
const MIN_FOLDED_JACOBIAN = 4;

function jacobianFolds(trace: Trace, node: TraceNode, edges: readonly TraceEdge[]): Folded[] {
  const byId = nodeIndex(trace);
  const out: Folded[] = [];
  for (const e of edges) {
    // A Jacobian of 1 to 3 entries is the local derivative itself (or a row of it): nothing to add.
    if (e.jacobian_size === undefined || e.jacobian_size < MIN_FOLDED_JACOBIAN) continue;
    const src = byId.get(e.source);
    if (!src) continue;
    const N = nodeTex(trace, node);
    const S = nodeTex(trace, src);
    const n = nodeLabel(trace, node);
    const s = nodeLabel(trace, src);
    const J = jacobianTex(e, N, S);
    const count = e.jacobian_size.toLocaleString("en-US");
    const note = jacobianNote(e, n, s);
    out.push({
      summary: `The dense Jacobian ∂${n}/∂${s}: ${count} ${e.jacobian_size === 1 ? "entry" : "entries"}, never formed`,
      lines: J ? [J, jacobianProductTex(N, S)] : [],
      notes: note ? [note] : [],
    });
  }
  return out;
}
