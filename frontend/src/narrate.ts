// Every step in words and numbers, for a screen reader: what the step's node computes, its value
// (forward), the upstream gradient it receives and what each operand receives, local derivative by
// local derivative (backward), or its tangent and each operand's part of it (forward mode). Also a
// node as known at a step (the graph's read key) and the view's text alternative (the pictures'
// <title>/<desc>, the share panel's alt text). Pure: no DOM.
//
// The server says the same words from the same record (backend/gradtrace/describe.py, GET
// /api/describe, the pictures' <desc>): scripts/fixtures.py writes its texts for every fixture at
// every step and tests/narrate.test.ts checks these functions give them, character for character.
// A change here is a change there.

import type { Tensor, Trace, TraceEdge, TraceNode } from "./api";
import { seedWords } from "./explain";
import { flatten, formatNumber, shapeOf } from "./format";
import { labelRole, PLAIN_WORDS } from "./node-words";
import { nodeIndex, type StepState } from "./steps";

export type Verbosity = "brief" | "full";

/** A tensor of at most this many numbers is said in full, in row order; a larger one by its shape
 * and its smallest and largest number (the table view lists them all). */
export const SAID_MAX = 6;
/** At most this many operands, uses or inputs are said one by one; the rest are counted. */
export const LIST_MAX = 8;
/** An expression longer than this (in characters) is cut in the view's title. */
export const TITLE_EXPR_MAX = 120;

const TABLE = "The table view lists every number.";

/**
 * A number as read aloud and as written in the narration: "minus 4", "0.25", "12350", "1.5 times
 * 10 to the minus 5"; "infinity", "minus infinity", "not a number". The 4 significant digits of
 * formatNumber, never a Unicode minus: a screen reader says "minus", and a test parses it back.
 */
export function spokenNumber(x: number): string {
  const s = formatNumber(x, 4, "-");
  if (s === "NaN") return "not a number";
  if (s === "∞") return "infinity";
  if (s === "-∞") return "minus infinity";
  const m = /^(-?)([^e]+)(?:e(-?)(\d+))?$/.exec(s);
  if (!m) return s;
  const power = m[4] === undefined ? "" : ` times 10 to the ${m[3] ? "minus " : ""}${m[4]}`;
  return `${m[1] ? "minus " : ""}${m[2]}${power}`;
}

/** A value in words, as a text of this verbosity says it (Speaker.value). */
export function spokenValue(t: Tensor, verbosity: Verbosity): string {
  return new Speaker(verbosity).value(t);
}

/** Words in a list: "a", "a and b", "a, b and c". */
export function wordList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

function plural(k: number, one: string, many: string): string {
  return `${k} ${k === 1 ? one : many}`;
}

/** A tensor's shape as a noun: "a vector of 3 numbers", "a 2 by 3 matrix", "a 2 by 3 by 4 tensor". */
export function shapePhrase(shape: readonly number[]): string {
  if (shape.length === 0) return "a number";
  if (shape.length === 1) return `a vector of ${plural(shape[0], "number", "numbers")}`;
  return `a ${shape.join(" by ")} ${shape.length === 2 ? "matrix" : "tensor"}`;
}

/** What one text says, and whether it summed up a tensor too large to say in full (the full text
 * then ends by pointing at the table). */
class Speaker {
  summarised = false;

  constructor(readonly verbosity: Verbosity) {}

  /** A value: its number; a small tensor with all its numbers (a matrix row by row); a larger one
   * by its shape (and, in full, its range). */
  value(t: Tensor): string {
    if (!Array.isArray(t)) return spokenNumber(t);
    const shape = shapeOf(t);
    const flat = flatten(t);
    const head = shapePhrase(shape);
    if (flat.length === 0) return `${head}, with no numbers`;
    if (flat.length <= SAID_MAX) {
      const rows = shape.length === 2 ? (t as number[][]).map((r) => r.map(spokenNumber).join(", ")).join("; ") : flat.map(spokenNumber).join(", ");
      return `${head}: ${rows}`;
    }
    this.summarised = true;
    if (this.verbosity === "brief") return head;
    const count = shape.length === 1 ? head : `${head} of ${flat.length} numbers`;
    const numbers = flat.filter((x) => !Number.isNaN(x));
    const nan = flat.length - numbers.length;
    if (numbers.length === 0) return `${count}, none of them a number`;
    // (A loop, not Math.min(...numbers): a spread of a million arguments overflows the stack.)
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of numbers) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (nan === 0 && lo === hi) return `${count}, all ${spokenNumber(lo)}`;
    const range = `${count}, from ${spokenNumber(lo)} to ${spokenNumber(hi)}`;
    return nan > 0 ? `${range}, and ${nan} not a number` : range;
  }

  /** A value after a noun: " minus 4" for a number, ", a 2 by 3 matrix: ..." for a tensor. */
  after(t: Tensor): string {
    return Array.isArray(t) ? `, ${this.value(t)}` : ` ${this.value(t)}`;
  }

  /** The text with the pointer at the table when a tensor was summed up (full only). */
  end(text: string): string {
    return this.summarised && this.verbosity === "full" ? `${text} ${TABLE}` : text;
  }
}

// Ops in words: the operators as they are read aloud; every other op by the name it is called by
// (underscores as spaces), or, for the ops a student does not call (index assignment, the parts of
// gates and of grad()), by a plain word (as node-words.ts opWord).
const OPERATOR_WORDS: Readonly<Record<string, string>> = {
  add: "{0} plus {1}",
  sub: "{0} minus {1}",
  mul: "{0} times {1}",
  div: "{0} divided by {1}",
  pow: "{0} to the power {1}",
  matmul: "the matrix product of {0} and {1}",
  neg: "minus {0}",
  gt: "whether {0} is greater than {1}",
  lt: "whether {0} is less than {1}",
  ge: "whether {0} is at least {1}",
  le: "whether {0} is at most {1}",
  eq: "whether {0} equals {1}",
  ne: "whether {0} differs from {1}",
};

/** An op applied to operands (their names), in words: "x plus y", "the matrix product of X and W",
 * "exp of a", "cross entropy of scores and y", "entries of x", "y with entries replaced by a". */
export function opPhrase(op: string, args: readonly string[], scalar = false): string {
  const pattern = Object.hasOwn(OPERATOR_WORDS, op) ? OPERATOR_WORDS[op] : null;
  const arity = pattern === null ? -1 : (pattern.match(/\{\d\}/g) ?? []).length;
  if (pattern !== null && arity === args.length) return pattern.replace(/\{(\d)\}/g, (_, i: string) => args[Number(i)]);
  if (op === "index" && args.length > 0) {
    const what = `${scalar ? "an entry" : "entries"} of ${args[0]}`;
    return args.length > 1 ? `${what} picked by ${wordList(args.slice(1))}` : what;
  }
  if (op === "setitem" && args.length >= 2) return `${args[0]} with entries replaced by ${args[1]}`;
  const word = (Object.hasOwn(PLAIN_WORDS, op) ? PLAIN_WORDS[op] : op).replace(/_/g, " ");
  return args.length === 0 ? word : `${word} of ${wordList(args)}`;
}

/** A node's one name, the record's (`display`). */
/** Text as said: subscript digits as plain digits (u₃₉ is said "u39": a screen reader reads
 * subscript digits one by one, or not at all). */
export function spokenName(text: string): string {
  return text.replace(/[\u2080-\u2089]/g, (c) => String(c.charCodeAt(0) - 0x2080));
}

/** A node's name as said: the record's one name (spokenName). */
function nameOf(node: TraceNode): string {
  return spokenName(node.display ?? node.label);
}

function edgesInto(trace: Trace, id: string): TraceEdge[] {
  return trace.edges.filter((e) => e.target === id).sort((a, b) => a.arg - b.arg);
}

/** What an op node computes, in words, from its operands' names. */
function formula(trace: Trace, node: TraceNode): string {
  const byId = nodeIndex(trace);
  const args = edgesInto(trace, node.id).map((e) => {
    const s = byId.get(e.source);
    return s ? nameOf(s) : e.source;
  });
  const said = args.length > LIST_MAX ? [...args.slice(0, LIST_MAX), `${args.length - LIST_MAX} more`] : args;
  return opPhrase(node.op ?? "op", said, !Array.isArray(node.value));
}

/** The op of an opened gate, as it is called ("cross entropy"). */
function gateOp(trace: Trace, id: string): string {
  return ((trace.open_gates ?? []).find((g) => g.id === id)?.op ?? "gate").replace(/_/g, " ");
}

/** Where a node comes from, in full: a part of an opened gate, a part of what grad() built. */
function partOf(trace: Trace, node: TraceNode): string {
  let text = node.in_gate ? ` It is a part of the opened gate ${gateOp(trace, node.in_gate)}.` : "";
  if (node.origin === "grad") text += " It is built by grad.";
  return text;
}

/** Whether a node takes any gradient in the backward pass (a comparison, or a value another
 * replaces, takes none: it has no backward step). */
function hasBackwardStep(trace: Trace, id: string): boolean {
  return trace.backward.some((b) => b.node === id);
}

/** What a node is, said once at its forward step: "q equals x plus y, which is 3." */
function forwardWhat(trace: Trace, node: TraceNode, s: Speaker): string {
  const name = nameOf(node);
  const brief = s.verbosity === "brief";
  let text: string;
  if (node.kind === "const") {
    text = brief ? `constant ${s.value(node.value)}` : `A constant, ${s.value(node.value)}.`;
  } else if (node.kind === "input") {
    const role = labelRole(trace, node);
    if (brief) text = `${name}${role === null ? " is" : role === "labels" ? ", labels," : ", a condition,"} ${s.value(node.value)}`;
    else if (role === "labels") text = `${name} holds labels, whole numbers that take no gradient. It is ${s.value(node.value)}.`;
    else if (role === "condition") text = `${name} is the condition of a where, which takes no gradient. It is ${s.value(node.value)}.`;
    else text = `${name} is an input, ${s.value(node.value)}.`;
  } else {
    text = brief ? `${name} is ${s.value(node.value)}` : `${name} equals ${formula(trace, node)}, which is ${s.value(node.value)}.`;
  }
  if (!brief) text += partOf(trace, node);
  return text;
}

/** Forward mode: the node's tangent along wrt and what each operand adds to it. */
function tangentWords(trace: Trace, node: TraceNode, s: Speaker): string {
  const wrt = trace.wrt ?? "x";
  const name = nameOf(node);
  const tangent = node.tangent ?? null;
  if (s.verbosity === "brief") return `, tangent ${tangent === null ? "0" : s.value(tangent)}`;
  if (node.kind === "input" && node.name === wrt) return ` It is the input we differentiate along: its tangent is ${s.value(tangent ?? 0)}.`;
  if (node.kind === "const") return " Its tangent is 0.";
  if (tangent === null) return ` It does not depend on ${wrt}: its tangent is 0.`;
  const byId = nodeIndex(trace);
  let text = ` Its tangent, how ${name} moves with ${wrt}, is ${s.value(tangent)}.`;
  const ins = edgesInto(trace, node.id).filter((e) => byId.get(e.source)?.kind !== "const");
  for (const e of ins.slice(0, LIST_MAX)) {
    const src = byId.get(e.source);
    if (!src) continue;
    const srcName = nameOf(src);
    const srcTangent = src.tangent ?? null;
    const part = e.tangent ?? null;
    if (srcTangent === null || part === null) text += ` ${srcName} does not depend on ${wrt}: it adds nothing.`;
    else if (e.local !== null && !Array.isArray(srcTangent)) text += ` From ${srcName}: the local derivative ${spokenNumber(e.local)} times its tangent ${spokenNumber(srcTangent)} gives ${s.value(part)}.`;
    else text += ` From ${srcName} comes ${s.value(part)}.`;
  }
  if (ins.length > LIST_MAX) text += ` And ${plural(ins.length - LIST_MAX, "more operand", "more operands")}.`;
  if (node.id === trace.output && trace.derivative !== undefined) {
    const v = trace.tangent;
    const along = v === undefined || v === 1 ? `with respect to ${wrt}` : allOnes(v) ? `in the direction of all ones in ${wrt}` : `along the direction given for ${wrt}`;
    text += ` It is the output: its derivative ${along} is ${s.value(trace.derivative)}.`;
  }
  return text;
}

/** Whether a direction is a tensor of ones (a tensor input's direction when none is given). */
function allOnes(t: Tensor): boolean {
  return Array.isArray(t) && flatten(t).every((x) => x === 1);
}

function forwardStep(trace: Trace, st: StepState, node: TraceNode, s: Speaker): string {
  const forwardMode = trace.mode === "forward";
  if (s.verbosity === "brief") {
    return `Forward ${st.k} of ${st.n}: ${forwardWhat(trace, node, s)}${forwardMode ? tangentWords(trace, node, s) : ""}.`;
  }
  const head = forwardMode ? `Forward step ${st.k} of ${st.n} along ${trace.wrt ?? "x"}.` : `Forward step ${st.k} of ${st.n}.`;
  return `${head} ${forwardWhat(trace, node, s)}${forwardMode ? tangentWords(trace, node, s) : ""}`;
}

/** The gradient a node has received by step st, when it is used several times and the step of
 * some but not all of its users is reached: the parts in, their number and the number of uses. */
function partial(trace: Trace, st: StepState, id: string): { sum: Tensor; got: number; of: number } | null {
  const step = trace.backward.find((b) => b.node === id);
  if (!step || step.terms.length < 2) return null;
  const got = step.terms.filter((t) => t.edge !== null && st.edgeGrads.has(t.edge));
  if (got.length === 0) return null;
  const sum = got.map((t) => t.value).reduce((a, b) => add(a, b));
  return { sum: got.length === step.terms.length ? step.upstream : sum, got: got.length, of: step.terms.length };
}

/** "both parts", "all 3 parts". */
function allParts(k: number): string {
  return k === 2 ? "both parts" : `all ${k} parts`;
}

/** Elementwise sum of two values of one shape (a number and a tensor: the number added to each). */
function add(a: Tensor, b: Tensor): Tensor {
  if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => add(x, b[i]));
  if (Array.isArray(a)) return a.map((x) => add(x, b));
  if (Array.isArray(b)) return b.map((y) => add(a, y));
  return a + b;
}

function backwardStep(trace: Trace, st: StepState, node: TraceNode, s: Speaker): string {
  const step = st.backward;
  if (!step) return "";
  const byId = nodeIndex(trace);
  const name = nameOf(node);
  const brief = s.verbosity === "brief";
  const isOutput = node.id === trace.output;
  const terms = step.terms;
  const edges = step.edges;
  const counts = new Map<string, number>();
  const last = new Map<string, string>(); // per operand, the last of its edges this step
  for (const e of edges) {
    counts.set(e.source, (counts.get(e.source) ?? 0) + 1);
    last.set(e.source, e.id);
  }
  // What an operand used several times has received once this step is done: said after its
  // last edge of the step.
  const sofar = (e: TraceEdge): ReturnType<typeof partial> => (last.get(e.source) === e.id ? partial(trace, st, e.source) : null);
  const operand = (e: TraceEdge): string => {
    const src = byId.get(e.source);
    const n = src ? nameOf(src) : e.source;
    return (counts.get(e.source) ?? 0) > 1 ? `${n} as operand ${e.arg + 1}` : n;
  };
  if (brief) {
    let up: string;
    if (isOutput) up = `output gradient ${s.value(step.upstream)}`;
    else up = `upstream ${s.value(step.upstream)}${terms.length > 1 ? ` from ${terms.length} uses` : ""}`;
    let text = `Backward ${st.k} of ${st.n}: ${name}, ${up}`;
    if (node.kind === "input") text += ", its gradient";
    const said = edges.slice(0, LIST_MAX).map((e) => {
      if (e.downstream === null) return `${operand(e)} gets nothing`;
      const p = sofar(e);
      const parts = p === null ? "" : p.got < p.of ? ` (${p.got} of ${p.of} parts, so far ${s.value(p.sum)})` : ` (${allParts(p.of)} in: ${s.value(p.sum)})`;
      return `${operand(e)} gets ${s.value(e.downstream)}${parts}`;
    });
    if (edges.length > LIST_MAX) said.push(`and ${edges.length - LIST_MAX} more`);
    if (said.length) text += `; ${said.join(", ")}`;
    return `${text}.`;
  }
  let text = `Backward step ${st.k} of ${st.n}.`;
  if (node.kind === "input") text += ` ${name} is an input.`;
  else if (node.kind === "const") text += " A constant.";
  else text += ` ${name} equals ${formula(trace, node)}.`;
  text += partOf(trace, node);
  if (node.gate_id) text += " It is a gate made of simpler ops: its local derivative is the whole gate's.";
  if (isOutput) {
    text += ` It starts the backward pass with ${seedWords(trace)}${s.after(step.upstream)}.`;
  } else if (terms.length > 1 && !Array.isArray(step.upstream) && terms.every((t) => !Array.isArray(t.value))) {
    text += ` It receives upstream gradient ${s.value(step.upstream)}, the sum of ${wordList(terms.map((t) => s.value(t.value)))} from its ${terms.length} uses.`;
  } else if (terms.length > 1) {
    text += ` It receives upstream gradient${s.after(step.upstream)}. That is the sum of what its ${terms.length} uses sent back.`;
  } else {
    text += ` It receives upstream gradient${s.after(step.upstream)}.`;
  }
  if (node.kind === "input") {
    const out = byId.get(trace.output);
    text += ` That is the gradient of ${out ? nameOf(out) : "f"} with respect to ${name}, complete.`;
  }
  for (const e of edges.slice(0, LIST_MAX)) {
    const src = byId.get(e.source);
    const srcName = src ? nameOf(src) : e.source;
    const who = operand(e);
    if (e.downstream === null) {
      text += ` ${who} receives no gradient.`;
      continue;
    }
    if (e.local !== null) text += ` The local derivative of ${name} with respect to ${who} is ${spokenNumber(e.local)}, so ${srcName} receives ${s.value(e.downstream)}.`;
    else if (e.broadcast) text += ` By the chain rule, summed over the broadcast axes, ${who} receives ${s.value(e.downstream)}.`;
    else text += ` By the chain rule, ${who} receives ${s.value(e.downstream)}.`;
    const p = sofar(e);
    if (p !== null && p.got < p.of) text += ` With ${p.got} of its ${p.of} parts in, ${srcName}'s gradient so far is ${s.value(p.sum)}.`;
    else if (p !== null) text += ` With ${allParts(p.of)} in, ${srcName}'s gradient is ${s.value(p.sum)}.`;
  }
  if (edges.length > LIST_MAX) text += ` And ${plural(edges.length - LIST_MAX, "more operand receives its", "more operands receive theirs")}.`;
  // An operand of labels gets no edge of the step: say so, rather than leave it unsaid.
  for (const e of edgesInto(trace, node.id)) {
    const src = byId.get(e.source);
    const role = src ? labelRole(trace, src) : null;
    if (src && role === "labels") text += ` ${nameOf(src)} holds labels: no gradient flows to it.`;
    else if (src && role === "condition") text += ` ${nameOf(src)} is the condition: no gradient flows to it.`;
  }
  return text;
}

function narrate(trace: Trace, st: StepState, s: Speaker): string {
  const node = st.current ? nodeIndex(trace).get(st.current) : undefined;
  const phase = st.phase === "forward" ? "Forward" : "Backward";
  if (!node) return s.verbosity === "brief" ? `${phase} ${st.k} of ${st.n}.` : `${phase} step ${st.k} of ${st.n}.`;
  return st.phase === "forward" ? forwardStep(trace, st, node, s) : backwardStep(trace, st, node, s);
}

/** What a step did, in words and numbers, for the live region. */
export function narrateStep(trace: Trace, st: StepState, verbosity: Verbosity): string {
  const s = new Speaker(verbosity);
  return s.end(narrate(trace, st, s));
}

/** A node as known at step st: name, what it computes, value, gradient (or tangent), its edges
 * (operands and users, with the local derivative and the gradient each edge carries). */
export function describeNode(trace: Trace, st: StepState, id: string, verbosity: Verbosity): string {
  const byId = nodeIndex(trace);
  const node = byId.get(id);
  if (!node) return `No node ${id}.`;
  const s = new Speaker(verbosity);
  const name = nameOf(node);
  const forwardMode = trace.mode === "forward";
  const wrt = trace.wrt ?? "x";
  const valued = st.valued.has(id);
  const role = node.kind === "input" ? labelRole(trace, node) : null;
  const graded = st.graded.has(id) && node.grad !== null;
  const p = forwardMode || graded || node.kind === "const" || role !== null ? null : partial(trace, st, id);
  const ins = edgesInto(trace, id);
  const outs = trace.edges.filter((e) => e.source === id);
  const nameOfId = (k: string): string => {
    const n = byId.get(k);
    return n ? nameOf(n) : k;
  };
  // (A constant's name is its number: "the constant 1", never read as an operand's number.)
  const operandName = (k: string): string => {
    const n = byId.get(k);
    return n?.kind === "const" ? `the constant ${s.value(n.value)}` : nameOfId(k);
  };
  if (verbosity === "brief") {
    // (A constant's name is its number: "constant 2", not "2, value 2".)
    const isConst = node.kind === "const";
    let text = isConst && valued ? `constant ${s.value(node.value)}` : `${isConst ? "constant" : name}, ${valued ? `value ${s.value(node.value)}` : "no value yet"}`;
    if (forwardMode) {
      if (valued) text += `, tangent ${node.tangent === null || node.tangent === undefined ? "0" : s.value(node.tangent)}`;
    } else if (role !== null) text += role === "labels" ? ", labels" : ", a condition";
    else if (graded) text += `, gradient ${s.value(node.grad as Tensor)}`;
    else if (p !== null) text += `, gradient so far ${s.value(p.sum)}`;
    else if (node.kind !== "const") text += hasBackwardStep(trace, id) ? ", no gradient yet" : ", no gradient";
    const names = (ids: string[]): string => {
      const said = ids.slice(0, LIST_MAX).map(operandName);
      if (ids.length > LIST_MAX) said.push(`${ids.length - LIST_MAX} more`);
      return wordList(said);
    };
    if (ins.length) text += `; ${ins.length === 1 ? "operand" : "operands"} ${names(ins.map((e) => e.source))}`;
    if (outs.length) text += `; used by ${names(outs.map((e) => e.target))}`;
    return `${text}.`;
  }
  let text: string;
  if (node.kind === "const") text = "A constant.";
  else if (role === "labels") text = `${name} holds labels, whole numbers that take no gradient.`;
  else if (role === "condition") text = `${name} is the condition of a where, which takes no gradient.`;
  else if (node.kind === "input") text = `${name} is an input.`;
  else text = `${name} equals ${formula(trace, node)}.`;
  text += partOf(trace, node);
  if (node.gate_id) text += " It is a gate made of simpler ops.";
  if (id === trace.output) text += " It is the output.";
  text += valued ? ` Its value is ${s.value(node.value)}.` : " Its value is not computed yet.";
  if (forwardMode) {
    if (!valued) text += " Its tangent is not computed yet.";
    else if (node.tangent === null || node.tangent === undefined) text += ` Its tangent along ${wrt} is 0: it does not depend on ${wrt}.`;
    else text += ` Its tangent along ${wrt} is ${s.value(node.tangent)}.`;
  } else if (role === null && node.kind !== "const") {
    if (graded) text += ` Its gradient is ${s.value(node.grad as Tensor)}.`;
    else if (p !== null) text += ` Its gradient so far is ${s.value(p.sum)}, with ${p.got} of its ${p.of} parts in.`;
    else if (!hasBackwardStep(trace, id)) text += " It takes no gradient: none flows back to it.";
    else text += " Its gradient is not known yet.";
  }
  for (const e of ins.slice(0, LIST_MAX)) {
    const src = byId.get(e.source);
    const srcName = nameOfId(e.source);
    if (src?.kind === "const") {
      text += ` Operand: the constant ${s.value(src.value)}.`;
      continue;
    }
    const srcRole = src ? labelRole(trace, src) : null;
    if (srcRole !== null) {
      text += ` Operand ${srcName}, ${srcRole === "labels" ? "labels" : "the condition"}: no gradient.`;
      continue;
    }
    const bits: string[] = [];
    if (forwardMode ? valued : st.edgeGrads.has(e.id)) {
      if (e.local !== null) bits.push(`local derivative ${spokenNumber(e.local)}`);
      if (forwardMode) bits.push(e.tangent === null || e.tangent === undefined ? "it adds nothing" : `it adds ${s.value(e.tangent)}`);
      else bits.push(e.downstream === null ? "it receives no gradient" : `it receives ${s.value(e.downstream)}`);
    }
    text += bits.length ? ` Operand ${srcName}: ${bits.join(", ")}.` : ` Operand ${srcName}.`;
  }
  if (ins.length > LIST_MAX) text += ` And ${plural(ins.length - LIST_MAX, "more operand", "more operands")}.`;
  for (const e of outs.slice(0, LIST_MAX)) {
    const user = nameOfId(e.target);
    if (forwardMode && st.valued.has(e.target) && e.tangent !== null && e.tangent !== undefined) text += ` Used by ${user}, to which it adds ${s.value(e.tangent)}.`;
    else if (!forwardMode && st.edgeGrads.has(e.id) && e.downstream !== null) text += ` Used by ${user}, which sends back ${s.value(e.downstream)}.`;
    else text += ` Used by ${user}.`;
  }
  if (outs.length > LIST_MAX) text += ` And ${plural(outs.length - LIST_MAX, "more use", "more uses")}.`;
  return s.end(text);
}

/** The step in a few words: "backward step 3 of 5", "forward step 2 of 5, forward mode along x". */
function stepWords(trace: Trace, st: StepState): string {
  const words = `${st.phase} step ${st.k} of ${st.n}`;
  return trace.mode === "forward" ? `${words}, forward mode along ${trace.wrt ?? "x"}` : words;
}

/** The expression on one line (its lines joined by "; "), cut to TITLE_EXPR_MAX characters. */
export function exprLine(expr: string): string {
  const line = expr
    .split(/\r\n|\r|\n/)
    .map((l) => l.replace(/[ \t]+/g, " ").replace(/^ | $/g, ""))
    .filter((l) => l !== "")
    .join("; ");
  const chars = Array.from(line);
  return chars.length > TITLE_EXPR_MAX ? `${chars.slice(0, TITLE_EXPR_MAX - 1).join("")}…` : line;
}

/** The view's text alternative: a title (the expression and the step) and a description of the
 * graph and the step. The same text as GET /api/describe's `title` and `text`, and the server
 * pictures' <title>/<desc>. */
export function describeView(trace: Trace, st: StepState): { title: string; text: string } {
  const s = new Speaker("full");
  const title = `${exprLine(trace.expr)} (${stepWords(trace, st)})`;
  const kinds = (k: TraceNode["kind"]): number => trace.nodes.filter((n) => n.kind === k).length;
  const parts = [
    [kinds("input"), "input", "inputs"],
    [kinds("const"), "constant", "constants"],
    [kinds("op"), "operation", "operations"],
  ] as const;
  const counted = parts.filter(([k]) => k > 0).map(([k, one, many]) => plural(k, one, many));
  let text = `The graph has ${plural(trace.nodes.length, "node", "nodes")}: ${wordList(counted)}.`;
  const inputs = trace.nodes.filter((n) => n.kind === "input");
  if (inputs.length) {
    const said = inputs.slice(0, LIST_MAX).map((n) => {
      if (n.labels) return `${nameOf(n)} holds labels`;
      return `${nameOf(n)} is ${Array.isArray(n.value) ? shapePhrase(shapeOf(n.value)) : spokenNumber(n.value)}`;
    });
    if (inputs.length > LIST_MAX) said.push(plural(inputs.length - LIST_MAX, "more input", "more inputs"));
    text += ` Its inputs: ${wordList(said)}.`;
  }
  const out = nodeIndex(trace).get(trace.output);
  if (out) text += ` The output ${nameOf(out)} is ${s.value(out.value)}.`;
  if (trace.mode === "forward" && trace.derivative !== undefined) {
    text += ` In forward mode along ${trace.wrt ?? "x"}, its derivative is ${s.value(trace.derivative)}.`;
  }
  text += ` ${narrate(trace, st, s)}`;
  // No pointer to the table view: this text is also a picture's and a slide's, which have none.
  return { title, text };
}
