// The HTTP client for the gradtrace API: types of its answers, the non-finite codec, errors.
//
// The record's types are not written here: they are generated from the backend's schema
// (backend/gradtrace/schema.py → openapi.json → src/generated/api-types.ts, by scripts/generate.py). This module only
// names them, and says what decoding does to them: on the wire a number may be one of the strings
// "Infinity", "-Infinity", "NaN"; after `decodeTrace` every number is a JS number (`Decoded`).

import type { components } from "./generated/api-types";

type Schemas = components["schemas"];

/** A value: a number or a nested list of numbers (vector, matrix, tensor). */
export type Tensor = number | Tensor[];
export type Values = Record<string, Tensor>;

/**
 * Values by input name. A name is whatever a person typed, `constructor` and `__proto__`
 * included: the object has no prototype for such a name to read or overwrite.
 */
export function valuesOf(entries: Iterable<readonly [string, Tensor]> = []): Values {
  const out = Object.create(null) as Values;
  for (const [name, v] of entries) out[name] = v;
  return out;
}

/** The value of `name`, if `values` has one of its own. */
export function valueOf(values: Readonly<Values>, name: string): Tensor | undefined {
  return Object.hasOwn(values, name) ? values[name] : undefined;
}

/** The spellings of the non-finite numbers on the wire, as the schema gives them. */
export type NonFinite = Extract<Schemas["EdgeOut"]["local"], string>;

/**
 * A record of the API as the client holds it after decoding: its non-finite spellings are
 * numbers, and its untyped nested lists (`list[Any]` in the schema: tensors) and untyped values
 * (`Any`: a preset's values, output, seed) are `Tensor`s. Everything else is the generated type.
 */
export type Decoded<T> = unknown extends T
  ? Tensor
  : T extends NonFinite
    ? number
    : T extends readonly (infer E)[]
      ? Decoded<E>[]
      : T extends object
        ? { [K in keyof T]: Decoded<T[K]> }
        : T;

export type TraceNode = Decoded<Schemas["NodeOut"]>;
export type TraceEdge = Decoded<Schemas["EdgeOut"]>;
/** One input's numeric check: the analytic derivative beside its central finite difference. */
export type InputCheck = Decoded<Schemas["InputCheck"]>;
/** The numeric gradient check of a trace asked for with `check: true`. */
export type GradCheck = Decoded<Schemas["Check"]>;
export type Term = Decoded<Schemas["Term"]>;
export type BackwardStep = Omit<Decoded<Schemas["Step"]>, "edges"> & { edges: TraceEdge[] };
export type TraceWarning = Schemas["Warning_"];
/** A gate the view has opened into its parts (gates.ts). */
export type OpenGate = Schemas["GateOut"];
/** d²f / dv_i dv_j over the input numbers v (inputs in order of first use, tensors in C order). */
export type HessianRecord = Decoded<Schemas["Hessian"]>;
/**
 * An extra of the record (the check, the Hessian) that could not be made, though the trace could:
 * its error (over a limit; a non-scalar output for the Hessian). Test with `isUnavailable`.
 */
export type Unavailable = Schemas["Unavailable"];
/** How the server read the text (LaTeX, maths, pasted NumPy/PyTorch/TensorFlow): the program in
 * gradtrace's own language, its inputs with the values the text gives them, the output gradient
 * the text gives, the lines it skipped. */
export type Reading = Decoded<Schemas["Reading"]>;
/** One input of a reading: `value` is the text's value for it (null: the text gives none). */
export type InputRead = Reading["inputs"][number];
/** A line the reading skipped (it computes nothing), with why; the span is into `expr`. */
export type SkippedLine = Reading["skipped"][number];
/** The answer of POST /api/read, decoded. */
export type ReadAnswer = { reading: Reading; warnings: TraceWarning[] };
/** The answer of POST /api/trace, decoded. */
export type Trace = Omit<Decoded<Schemas["TraceResponse"]>, "edges" | "backward"> & {
  edges: TraceEdge[];
  backward: BackwardStep[];
};
/** An example of GET /api/presets (the seed examples of the lecture notes), decoded. */
export type Preset = Decoded<Schemas["Preset"]>;
/** The body of an error answer (4xx). */
export type ErrorResponse = Schemas["ErrorResponse"];

export type Mode = Schemas["TraceResponse"]["mode"];

/** Forward mode's request fields: the input to differentiate by, and its direction. */
export interface ForwardRequest {
  wrt: string;
  tangent?: Tensor | null;
}

// A layout is the server's (LayoutResponse) or one drawn in the browser (layout-fallback.ts),
// which has no engine, no provisional flag and no label places. Where the schema is looser than
// the drawing code (list[float] for fixed-length points, str for the node shape) it is narrowed
// here; `tuple[float, float]` and a Literal in the schema would make these narrowings generated.
type Point = [number, number];

export type LayoutNode = Omit<Schemas["NodeBox"], "shape"> & { shape: "box" | "ellipse" };

export type LayoutEdge = Omit<Schemas["EdgePath"], "arrow" | "mid" | "label" | "local"> & {
  arrow: [number, number, number, number];
  mid: Point;
  /** Where the value (above) and gradient (below) labels go, placed clear of nodes and labels. */
  label?: Point;
  /** Where the local derivative goes. */
  local?: Point;
};

/** The box around an opened gate's parts (gates.ts). */
export type LayoutCluster = Schemas["ClusterBox"];

export type Layout = Omit<Schemas["LayoutResponse"], "engine" | "provisional" | "nodes" | "edges" | "clusters"> &
  Partial<Pick<Schemas["LayoutResponse"], "engine" | "provisional">> & {
    nodes: Record<string, LayoutNode>;
    edges: Record<string, LayoutEdge>;
    /** Per opened gate, the box around its parts (a layout from before gates has none). */
    clusters?: Record<string, LayoutCluster>;
  };

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

// The one non-finite codec of the frontend (backend/gradtrace/codec.py is the Python one). The
// spellings are JavaScript's own `String(x)` of the three numbers, which the schema's `NonFinite`
// must list (a compile error here otherwise).
const NON_FINITE: Record<NonFinite, number> = { Infinity: Infinity, "-Infinity": -Infinity, NaN: NaN };

function isNonFinite(x: unknown): x is NonFinite {
  return typeof x === "string" && Object.hasOwn(NON_FINITE, x);
}

/** A number as JSON: itself, or its non-finite spelling. */
export function encodeNumber(x: number): number | NonFinite {
  return Number.isFinite(x) ? x : (String(x) as NonFinite);
}

/** A JSON number or non-finite spelling as a number (NaN for anything else). */
export function decodeNumber(x: unknown): number {
  if (typeof x === "number") return x;
  return isNonFinite(x) ? NON_FINITE[x] : NaN;
}

/** Encode a value for JSON: non-finite numbers as the API's strings. */
export function encodeTensor(x: Tensor): unknown {
  return Array.isArray(x) ? x.map(encodeTensor) : encodeNumber(x);
}

/** Turn the API's "Infinity"/"-Infinity"/"NaN" strings back into numbers, in a value or tensor. */
export function decodeTensor(x: unknown): Tensor {
  return Array.isArray(x) ? x.map(decodeTensor) : decodeNumber(x);
}

function decodeMaybe(x: unknown): Tensor | null {
  return x === null || x === undefined ? null : decodeTensor(x);
}

function decodeMatrix(m: unknown[][]): number[][] {
  return m.map((row) => row.map(decodeNumber));
}

function decodeRecord(r: Record<string, unknown>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, decodeTensor(v)]));
}

function decodeEdge(e: Schemas["EdgeOut"]): TraceEdge {
  const { tangent, jacobian, ...rest } = e;
  return {
    ...rest,
    local: e.local === null ? null : decodeNumber(e.local),
    downstream: decodeMaybe(e.downstream),
    ...(tangent !== undefined ? { tangent: decodeMaybe(tangent) } : {}),
    ...(jacobian !== undefined ? { jacobian: jacobian === null ? null : decodeMatrix(jacobian) } : {}),
  };
}

export function isUnavailable<T extends object>(x: T | Unavailable): x is Unavailable {
  return "error" in x;
}

/** An extra of the record (`trace.check`, `trace.hessian`) if it was made, else undefined. */
export function made<T extends object>(x: T | Unavailable | null | undefined): T | undefined {
  return x && !isUnavailable(x) ? x : undefined;
}

/** Why an extra of the record could not be made (its error's message), or null. */
export function unavailableMessage(x: object | null | undefined): string | null {
  return x && isUnavailable(x) ? x.error.message : null;
}

function decodeCheck(c: Schemas["Check"] | Unavailable): GradCheck | Unavailable {
  if (isUnavailable(c)) return c;
  const inputs: Record<string, InputCheck> = {};
  for (const [name, x] of Object.entries(c.inputs)) {
    inputs[name] = {
      ...x,
      analytic: decodeTensor(x.analytic),
      numeric: decodeTensor(x.numeric),
      rel_error: decodeNumber(x.rel_error),
      abs_error: decodeNumber(x.abs_error),
      step: decodeNumber(x.step),
    };
  }
  return { ...c, inputs };
}

/** A reading as it travels: the values the text gives may be non-finite spellings. */
export type WireReading = Schemas["Reading"];

export function decodeReading(r: WireReading): Reading {
  return {
    ...r,
    inputs: r.inputs.map((i) => ({ ...i, value: decodeMaybe(i.value), drawn: decodeMaybe(i.drawn) })),
    seed: decodeMaybe(r.seed),
    skipped: r.skipped.map((k) => ({ ...k })),
  };
}

/** The reading of a record from before readings: the text as typed, its input nodes the inputs
 * (in the order of the forward pass), with no value from the text. */
function readAsTyped(raw: Pick<WireTrace, "expr" | "nodes" | "forward">): Reading {
  const byId = new Map((raw.nodes ?? []).map((n) => [n.id, n]));
  const inputs = (raw.forward ?? [])
    .map((id) => byId.get(id))
    .filter((n) => n?.kind === "input" && n.name)
    .map((n) => ({ name: n!.name!, value: null, labels: n!.labels ?? false, start: n!.start, end: n!.end, shape: n!.shape, source: "request" as const, drawn: null }));
  return { canonical: raw.expr, latex: "", differs: false, inputs, seed: null, skipped: [] };
}

/** The answer of POST /api/trace as it travels (numbers may be non-finite spellings). */
export type WireTrace = Schemas["TraceResponse"];

/**
 * Decode every numeric field of a trace (only those: a label may well be the name "NaN"). A
 * decoded trace is also a valid wire trace, so decoding twice is harmless.
 */
export function decodeTrace(raw: WireTrace): Trace {
  const { tangent, derivative, check, hessian, reading, ...rest } = raw;
  return {
    ...rest,
    reading: reading ? decodeReading(reading) : readAsTyped(raw),
    value: decodeTensor(raw.value),
    seed: decodeTensor(raw.seed),
    gradients: decodeRecord(raw.gradients ?? {}),
    nodes: raw.nodes.map((n) => {
      const { tangent, ...node } = n;
      return {
        ...node,
        // A record from before gates has none: no node is a gate.
        gate_id: n.gate_id ?? null,
        in_gate: n.in_gate ?? null,
        // A record from before labels has none (its label inputs show only as taking no gradient).
        labels: n.labels ?? false,
        value: decodeTensor(n.value),
        grad: decodeMaybe(n.grad),
        ...(tangent !== undefined ? { tangent: decodeMaybe(tangent) } : {}),
      };
    }),
    edges: raw.edges.map(decodeEdge),
    backward: raw.backward.map((s) => ({
      ...s,
      upstream: decodeTensor(s.upstream),
      terms: s.terms.map((t) => ({ ...t, value: decodeTensor(t.value) })),
      edges: s.edges.map(decodeEdge),
    })),
    warnings: raw.warnings ?? [],
    open_gates: raw.open_gates ?? [],
    ...(tangent !== undefined ? { tangent: decodeTensor(tangent) } : {}),
    ...(derivative !== undefined ? { derivative: decodeTensor(derivative) } : {}),
    ...(check ? { check: decodeCheck(check) } : {}),
    ...(hessian ? { hessian: isUnavailable(hessian) ? hessian : { ...hessian, matrix: decodeMatrix(hessian.matrix) } } : {}),
  };
}

/** An example of GET /api/presets as it travels. */
export type WirePreset = Schemas["Preset"];

export function decodePreset(p: WirePreset): Preset {
  const { seed, ...rest } = p;
  return {
    ...rest,
    values: decodeRecord(p.values),
    output: decodeTensor(p.output),
    gradients: decodeRecord(p.gradients),
    ...(seed !== undefined && seed !== null ? { seed: decodeTensor(seed) } : {}),
  };
}

/** Tries of a request the server answered "busy" (503 with Retry-After) before it is an error. */
export const BUSY_TRIES = 3;
const MAX_WAIT_S = 5;

async function post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const text = JSON.stringify(body);
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: text, signal });
    // A busy server says when to come back: wait as asked (a trace or a layout is safe to send
    // again) rather than show an error for what a moment later works.
    const wait = Number(res.headers.get("retry-after"));
    if (res.status !== 503 || attempt >= BUSY_TRIES || !(wait >= 0)) return answer<T>(res);
    await sleep(Math.min(wait, MAX_WAIT_S) * 1000, signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

async function answer<T>(res: Response): Promise<T> {
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: Partial<ErrorResponse["error"]> } | null)?.error;
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

type TraceRequest = Schemas["TraceRequest"];

export async function fetchTrace(
  expr: string,
  values: Values,
  seed: Tensor | null,
  signal?: AbortSignal,
  forward?: ForwardRequest | null,
  check = false,
  hessian = false,
  expand: readonly string[] = [],
  rng = 0,
): Promise<Trace> {
  const body: Partial<TraceRequest> & Pick<TraceRequest, "expr" | "values"> = { expr, values: encodeValues(values) };
  // Sent only when asked for: without them the request is exactly what it always was.
  if (check) body.check = true;
  if (hessian) body.hessian = true;
  if (expand.length) body.expand = [...expand];
  if (seed !== null) body.seed = encodeTensor(seed);
  if (rng) body.rng = rng;
  // Reverse mode sends no `mode` at all: the request is exactly what it always was.
  if (forward) {
    body.mode = "forward";
    body.wrt = forward.wrt;
    if (forward.tangent !== undefined && forward.tangent !== null) body.tangent = encodeTensor(forward.tangent);
  }
  return decodeTrace(await post<WireTrace>("/api/trace", body, signal));
}

/** How the server reads `expr` (POST /api/read): no pass is run, so it is cheap. Of `values` only
 * the names and shapes matter (a name given a value is never split into a product; a tensor's
 * juxtaposition is the matrix product); the values the text gives are in the answer. */
export async function fetchRead(expr: string, values: Values, signal?: AbortSignal, rng = 0, seed: Tensor | null = null): Promise<ReadAnswer> {
  const body: Schemas["ReadRequest"] = { expr, values: encodeValues(values), rng };
  if (seed !== null) body.seed = encodeTensor(seed);
  const raw = await post<Schemas["ReadResponse"]>("/api/read", body, signal);
  return { reading: decodeReading(raw.reading), warnings: raw.warnings ?? [] };
}

/** How the graph is to be drawn: `direction` down (top to bottom), right (left to right), or auto
 * (the server picks the one whose drawing best fits `aspect`, the width over the height of the
 * space it is drawn in). */
export interface LayoutShape {
  direction: "auto" | "down" | "right";
  aspect: number;
}

export async function fetchLayout(
  expr: string, values: Values, signal?: AbortSignal, expand: readonly string[] = [], shape?: LayoutShape,
): Promise<Layout> {
  const body: Record<string, unknown> = { expr, values: encodeValues(values) };
  if (expand.length) body.expand = [...expand];
  if (shape) {
    body.direction = shape.direction;
    // The server takes 0.05 < aspect < 20; a hidden stage (0 high) asks for the default shape.
    if (Number.isFinite(shape.aspect) && shape.aspect > 0) body.aspect = Math.round(Math.min(19.9, Math.max(0.06, shape.aspect)) * 1000) / 1000;
  }
  return post<Layout>("/api/layout", body, signal);
}

export async function fetchPresets(): Promise<Preset[]> {
  const res = await fetch("/api/presets");
  return (await answer<WirePreset[]>(res)).map(decodePreset);
}
