// The HTTP client for the gradtrace API: types of its answers, non-finite decoding, errors.

/** A value: a number or a nested list of numbers (vector, matrix, tensor). */
export type Tensor = number | Tensor[];
export type Values = Record<string, Tensor>;

export interface TraceNode {
  id: string;
  kind: "input" | "const" | "op";
  op: string | null;
  label: string;
  name: string | null;
  value: Tensor;
  grad: Tensor | null;
  shape: number[];
  start: number;
  end: number;
  fanout: number;
  /** "grad": a node of the gradient graph a grad(f, x) call built. */
  origin?: "grad" | null;
  gate: string | null;
  /** Forward mode: the node's tangent (d node / d wrt along the tangent); null where it does not
   * depend on wrt. Absent in reverse mode. */
  tangent?: Tensor | null;
}

export interface TraceEdge {
  id: string;
  source: string;
  target: string;
  arg: number;
  local: number | null;
  local_formula: string;
  vjp_formula: string | null;
  downstream: Tensor | null;
  broadcast: boolean;
  /** Forward mode: this edge's contribution to its target's tangent (local × source tangent for
   * scalar edges); null where the source does not depend on wrt. Absent in reverse mode. */
  tangent?: Tensor | null;
  /** Reverse mode, tensor edges: the number of entries of the dense Jacobian d target / d source
   * (never formed by the engine), and for small ones the matrix itself (rows: target elements,
   * columns: source elements, both in C order); null when too big to show. */
  jacobian_size?: number;
  jacobian?: number[][] | null;
}

/** One input's numeric check: the analytic derivative beside its central finite difference. */
export interface InputCheck {
  analytic: Tensor;
  numeric: Tensor;
  rel_error: number;
  abs_error: number;
  step: number;
  verdict: "pass" | "fail" | "kink" | "nonfinite";
  passed: boolean;
  note: string | null;
}

/** The numeric gradient check of a trace asked for with `check: true`. */
export interface GradCheck {
  mode: Mode;
  of: string;
  method: string;
  tolerance: number;
  evaluations: number;
  passed: boolean;
  inputs: Record<string, InputCheck>;
  notes: string[];
}

export interface Term {
  edge: string | null;
  value: Tensor;
}

export interface BackwardStep {
  node: string;
  upstream: Tensor;
  terms: Term[];
  edges: TraceEdge[];
}

export interface TraceWarning {
  type: string;
  message: string;
  node: string | null;
  start: number;
  end: number;
}

export interface Trace {
  expr: string;
  output: string;
  value: Tensor;
  shape: number[];
  seed: Tensor;
  gradients: Record<string, Tensor>;
  nodes: TraceNode[];
  edges: TraceEdge[];
  forward: string[];
  backward: BackwardStep[];
  gates: Record<string, string>;
  structure: string;
  warnings: TraceWarning[];
  /** "reverse" (also when absent: an older server) or "forward". */
  mode?: Mode;
  /** Forward mode: the input differentiated by, its direction, and the output's tangent. */
  wrt?: string;
  tangent?: Tensor;
  derivative?: Tensor;
  /** The cost of a full gradient in each mode, one sentence each. */
  cost?: { reverse: string; forward: string };
  /** The numeric gradient check, when asked for. */
  check?: GradCheck;
  /** The Hessian of a scalar output, when asked for. */
  hessian?: HessianRecord;
}

/** d²f / dv_i dv_j over the input numbers v (inputs in order of first use, tensors in C order). */
export interface HessianRecord {
  inputs: string[];
  labels: string[];
  matrix: number[][];
  symmetric: boolean;
}

export type Mode = "reverse" | "forward";

/** Forward mode's request fields: the input to differentiate by, and its direction. */
export interface ForwardRequest {
  wrt: string;
  tangent?: Tensor | null;
}

export function isForward(trace: Pick<Trace, "mode">): boolean {
  return trace.mode === "forward";
}

export interface LayoutNode {
  x: number;
  y: number;
  w: number;
  h: number;
  shape: "box" | "ellipse";
}

export interface LayoutEdge {
  path: string;
  arrow: [number, number, number, number];
  mid: [number, number];
  /** Where the value (above) and gradient (below) labels go, placed clear of nodes and labels. */
  label?: [number, number];
  /** Where the local derivative goes. */
  local?: [number, number];
  source: string;
  target: string;
}

export interface Layout {
  structure: string;
  engine?: string;
  width: number;
  height: number;
  nodes: Record<string, LayoutNode>;
  edges: Record<string, LayoutEdge>;
}

export interface Preset {
  key: string;
  source: string;
  expr: string;
  values: Values;
  output: Tensor;
  gradients: Record<string, Tensor>;
  seed?: Tensor;
}

/** An error answer of the API (4xx), with the span of `expr` it is about. */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly start: number,
    readonly end: number,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const NON_FINITE: Record<string, number> = {
  Infinity: Infinity,
  "-Infinity": -Infinity,
  NaN: NaN,
};

/** Turn the API's "Infinity"/"-Infinity"/"NaN" strings back into numbers, in a value or tensor. */
export function decodeTensor(x: unknown): Tensor {
  if (typeof x === "number") return x;
  if (typeof x === "string" && x in NON_FINITE) return NON_FINITE[x];
  if (Array.isArray(x)) return x.map(decodeTensor);
  return NaN;
}

function decodeMaybe(x: unknown): Tensor | null {
  return x === null || x === undefined ? null : decodeTensor(x);
}

function decodeEdge(e: TraceEdge): TraceEdge {
  return {
    ...e,
    local: e.local === null ? null : (decodeTensor(e.local) as number),
    downstream: decodeMaybe(e.downstream),
    ...(e.tangent !== undefined ? { tangent: decodeMaybe(e.tangent) } : {}),
    ...(e.jacobian ? { jacobian: decodeTensor(e.jacobian) as number[][] } : {}),
  };
}

function decodeCheck(c: GradCheck): GradCheck {
  const inputs: Record<string, InputCheck> = {};
  for (const [name, x] of Object.entries(c.inputs)) {
    inputs[name] = {
      ...x,
      analytic: decodeTensor(x.analytic),
      numeric: decodeTensor(x.numeric),
      rel_error: decodeTensor(x.rel_error) as number,
      abs_error: decodeTensor(x.abs_error) as number,
      step: decodeTensor(x.step) as number,
    };
  }
  return { ...c, inputs };
}

/** Decode every numeric field of a trace (only those: a label may well be the name "NaN"). */
export function decodeTrace(raw: Trace): Trace {
  const gradients: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(raw.gradients ?? {})) gradients[k] = decodeTensor(v);
  return {
    ...raw,
    value: decodeTensor(raw.value),
    seed: decodeTensor(raw.seed),
    gradients,
    nodes: raw.nodes.map((n) => ({
      ...n,
      value: decodeTensor(n.value),
      grad: decodeMaybe(n.grad),
      ...(n.tangent !== undefined ? { tangent: decodeMaybe(n.tangent) } : {}),
    })),
    edges: raw.edges.map(decodeEdge),
    backward: raw.backward.map((s) => ({
      ...s,
      upstream: decodeTensor(s.upstream),
      terms: s.terms.map((t) => ({ ...t, value: decodeTensor(t.value) })),
      edges: s.edges.map(decodeEdge),
    })),
    warnings: raw.warnings ?? [],
    ...(raw.tangent !== undefined && raw.tangent !== null ? { tangent: decodeTensor(raw.tangent) } : {}),
    ...(raw.derivative !== undefined && raw.derivative !== null ? { derivative: decodeTensor(raw.derivative) } : {}),
    ...(raw.check ? { check: decodeCheck(raw.check) } : {}),
    ...(raw.hessian ? { hessian: { ...raw.hessian, matrix: decodeTensor(raw.hessian.matrix) as number[][] } } : {}),
  };
}

/** Encode a value for JSON: non-finite numbers as the API's strings. */
export function encodeTensor(x: Tensor): unknown {
  if (Array.isArray(x)) return x.map(encodeTensor);
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
}

async function post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  return answer<T>(res);
}

async function answer<T>(res: Response): Promise<T> {
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: Partial<ApiError> & { message?: string } } | null)?.error;
    throw new ApiError(
      err?.type ?? "http",
      err?.message ?? `the server answered ${res.status}`,
      err?.start ?? 0,
      err?.end ?? 0,
      res.status,
    );
  }
  return data as T;
}

function encodeValues(values: Values): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k] = encodeTensor(v);
  return out;
}

export async function fetchTrace(
  expr: string,
  values: Values,
  seed: Tensor | null,
  signal?: AbortSignal,
  forward?: ForwardRequest | null,
  check = false,
  hessian = false,
): Promise<Trace> {
  const body: Record<string, unknown> = { expr, values: encodeValues(values) };
  // Sent only when asked for: without them the request is exactly what it always was.
  if (check) body.check = true;
  if (hessian) body.hessian = true;
  if (seed !== null) body.seed = encodeTensor(seed);
  // Reverse mode sends no `mode` at all: the request is exactly what it always was.
  if (forward) {
    body.mode = "forward";
    body.wrt = forward.wrt;
    if (forward.tangent !== undefined && forward.tangent !== null) body.tangent = encodeTensor(forward.tangent);
  }
  return decodeTrace(await post<Trace>("/api/trace", body, signal));
}

export async function fetchLayout(expr: string, values: Values, signal?: AbortSignal): Promise<Layout> {
  return post<Layout>("/api/layout", { expr, values: encodeValues(values) }, signal);
}

export async function fetchPresets(): Promise<Preset[]> {
  const res = await fetch("/api/presets");
  const raw = await answer<Preset[]>(res);
  return raw.map((p) => ({
    ...p,
    values: Object.fromEntries(Object.entries(p.values).map(([k, v]) => [k, decodeTensor(v)])),
    output: decodeTensor(p.output),
    seed: p.seed === undefined || p.seed === null ? undefined : decodeTensor(p.seed),
  }));
}
