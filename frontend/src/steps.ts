// The step model: forward steps (one per node in `forward`), then backward steps (one per entry
// in `backward`). A step index runs over 0 .. total-1. Pure: no DOM.
// In forward mode (a trace with mode "forward") there are forward steps only (its `backward` is
// empty): at step k the first k nodes have their value and, where they depend on wrt, their
// tangent; the edges into them show their tangent contributions.

import type { BackwardStep, Mode, Tensor, Trace, TraceEdge, TraceNode } from "./api";

export type Phase = "forward" | "backward";

export interface StepState {
  index: number;
  total: number;
  phase: Phase;
  /** 1-based number within the phase, and the phase's length. */
  k: number;
  n: number;
  label: string;
  /** Nodes whose forward value is shown. */
  valued: Set<string>;
  /** Nodes whose gradient is known (their backward step has been reached). */
  graded: Set<string>;
  /** Edges whose downstream gradient is known (their target's backward step has been reached). */
  edgeGrads: Set<string>;
  /** The node of this step. */
  current: string | null;
  /** Backward: edges out of the current node, along which its upstream arrives. */
  arriving: string[];
  /** Backward: edges into the current node, each showing local and downstream. */
  sending: string[];
  /** Backward: this step's record in the trace. */
  backward: BackwardStep | null;
  mode: Mode;
  /** Forward mode: nodes whose tangent is known and not null (their step has been reached). */
  tangented: Set<string>;
  /** Forward mode: edges whose tangent contribution is known (their target's step reached). */
  edgeTangents: Set<string>;
  /** Forward mode: edges into the current node, carrying their contributions into its tangent. */
  feeding: string[];
}

export function totalSteps(trace: Pick<Trace, "forward" | "backward">): number {
  return trace.forward.length + trace.backward.length;
}

export function clampStep(index: number, total: number): number {
  if (total <= 0) return 0;
  return Math.max(0, Math.min(total - 1, Math.round(index)));
}

/** The index of the first backward step (or the last step if there is no backward pass). */
export function firstBackward(trace: Pick<Trace, "forward" | "backward">): number {
  return clampStep(trace.forward.length, totalSteps(trace));
}

export function stepLabel(phase: Phase, k: number, n: number): string {
  return `${phase} ${k}/${n}`;
}

export function stepState(trace: Trace, index: number): StepState {
  const total = totalSteps(trace);
  const i = clampStep(index, total);
  const F = trace.forward.length;
  const B = trace.backward.length;
  const valued = new Set<string>();
  const graded = new Set<string>();
  const edgeGrads = new Set<string>();
  let current: string | null = null;
  let arriving: string[] = [];
  let sending: string[] = [];
  let backward: BackwardStep | null = null;
  const tangented = new Set<string>();
  const edgeTangents = new Set<string>();
  const feeding: string[] = [];
  const mode: Mode = trace.mode === "forward" ? "forward" : "reverse";
  let phase: Phase;
  let k: number;
  let n: number;
  if (i < F) {
    phase = "forward";
    k = i + 1;
    n = F;
    for (const id of trace.forward.slice(0, k)) valued.add(id);
    current = trace.forward[i] ?? null;
    if (mode === "forward") {
      const byId = nodeIndex(trace);
      for (const id of valued) {
        const t = byId.get(id)?.tangent;
        if (t !== null && t !== undefined) tangented.add(id);
      }
      for (const e of trace.edges) {
        if (!valued.has(e.target)) continue;
        if (e.tangent !== null && e.tangent !== undefined) edgeTangents.add(e.id);
        if (e.target === current) feeding.push(e.id);
      }
    }
  } else {
    phase = "backward";
    k = i - F + 1;
    n = B;
    for (const id of trace.forward) valued.add(id);
    const steps = trace.backward.slice(0, k);
    for (const s of steps) {
      graded.add(s.node);
      for (const e of s.edges) edgeGrads.add(e.id);
    }
    backward = trace.backward[k - 1] ?? null;
    current = backward?.node ?? null;
    if (backward) {
      sending = backward.edges.map((e) => e.id);
      arriving = trace.edges.filter((e) => e.source === current).map((e) => e.id);
    }
  }
  return {
    index: i,
    total,
    phase,
    k,
    n,
    label: stepLabel(phase, k, n),
    valued,
    graded,
    edgeGrads,
    current,
    arriving,
    sending,
    backward,
    mode,
    tangented,
    edgeTangents,
    feeding,
  };
}

/** The step index that keeps the same place after a new trace of the same structure arrives. */
export function keepStep(index: number, trace: Pick<Trace, "forward" | "backward">): number {
  return clampStep(index, totalSteps(trace));
}

/** Index of edges by id. */
export function edgeIndex(edges: TraceEdge[]): Map<string, TraceEdge> {
  return new Map(edges.map((e) => [e.id, e]));
}

const nodeIndexes = new WeakMap<Trace, Map<string, TraceNode>>();

/** Index of a trace's nodes by id, built once per trace (a slider's every input reuses it). */
export function nodeIndex(trace: Pick<Trace, "nodes">): Map<string, TraceNode> {
  const key = trace as Trace;
  let index = nodeIndexes.get(key);
  if (index === undefined) {
    index = new Map(trace.nodes.map((n) => [n.id, n]));
    nodeIndexes.set(key, index);
  }
  return index;
}

/** The names of the inputs, in forward order. */
export function inputNamesOf(trace: Pick<Trace, "nodes" | "forward">): string[] {
  const byId = nodeIndex(trace);
  const names: string[] = [];
  for (const id of trace.forward) {
    const n = byId.get(id);
    if (n?.kind === "input" && n.name) names.push(n.name);
  }
  return names;
}

/** Zeros of a value's shape: the tangent of a node that does not depend on wrt. */
export function zerosLike(t: Tensor): Tensor {
  return Array.isArray(t) ? t.map(zerosLike) : 0;
}

/** A node's tangent, with null (does not depend on wrt) as the zeros it stands for. */
export function tangentOf(n: Pick<TraceNode, "tangent" | "value">): Tensor {
  return n.tangent ?? zerosLike(n.value);
}
