// The server's reading of pasted text (POST /api/read) as the app uses it: the inputs and their
// values come from the reading, never from the input box's own guess; a value the person gave
// wins over the text's; a value nobody gave is the server's to draw, never written into the store
// nor sent (it would change the reading).

import { describe, expect, it, vi } from "vitest";
import { ApiError, decodeReading, decodeTrace, type ReadAnswer, type Reading, type Tensor, type Trace, type Values } from "../src/api";
import { explainStep, seedWords } from "../src/explain";
import { fallbackLayout } from "../src/layout-fallback";
import { readingShown, seedSentence, skippedLines, skippedSummary } from "../src/reading-view";
import { Session, textValues } from "../src/session";
import { shapeOf } from "../src/format";
import { stepState } from "../src/steps";
import { stateFromUrl, Store } from "../src/store";
import { circuit } from "./helpers";

type Input = { name: string; value?: Tensor | null; labels?: boolean; shape?: number[]; drawn?: Tensor };

/** A reading of these inputs; where their values come from is filled in by the fake server. */
function reading(inputs: Input[], extra: Partial<Reading> = {}): Reading {
  return {
    canonical: "",
    latex: "",
    differs: false,
    inputs: inputs.map((i) => ({
      name: i.name, value: i.value ?? null, labels: i.labels ?? false, start: 0, end: 1,
      shape: i.shape ?? [], source: i.value ? "text" : "drawn", drawn: i.value ? null : i.drawn ?? 1,
    })),
    seed: null,
    skipped: [],
    ...extra,
  };
}

/** The reading as the server answers it for `values` and draw `rng`: the values given are the
 * request's; the rest are drawn (a tensor's numbers depend on the draw, here `rng + 0.5`). */
function answer(r: Reading, values: Values, rng: number): Reading {
  const inputs = r.inputs.map((i) => {
    if (Object.hasOwn(values, i.name)) return { ...i, source: "request" as const, drawn: null, shape: shapeOf(values[i.name]) };
    if (i.source === "drawn" && Array.isArray(i.drawn)) return { ...i, drawn: scale(i.drawn, rng + 0.5) };
    return i;
  });
  return { ...r, inputs };
}

function scale(t: Tensor, k: number): Tensor {
  return Array.isArray(t) ? t.map((u) => scale(u, k)) : t * k;
}

/** A fake server: `read` answers by `readings` (by expression), `trace` a circuit. */
function fakeServer(readings: Record<string, (values: Values) => Reading>) {
  const reads: [string, Values][] = [];
  const traces: [string, Values][] = [];
  const rngs: { read: number[]; trace: number[] } = { read: [], trace: [] };
  const api = {
    read: vi.fn(async (expr: string, values: Values, _signal?: AbortSignal, rng = 0): Promise<ReadAnswer> => {
      reads.push([expr, { ...values }]);
      rngs.read.push(rng);
      const r = readings[expr];
      if (!r) throw new ApiError("syntax", "'{' has no matching '}'", 8, 9, 400);
      return { reading: answer(r(values), values, rng), warnings: [] };
    }),
    trace: vi.fn(async (expr: string, values: Values, ...rest: unknown[]) => {
      traces.push([expr, { ...values }]);
      rngs.trace.push((rest[6] as number | undefined) ?? 0);
      return circuit();
    }),
    layout: vi.fn(async () => fallbackLayout(circuit())),
  };
  return { api, reads, traces, rngs };
}

/** The inputs of the session's last reading. */
function inputsOf(s: Session): Reading["inputs"] {
  return s.reading?.inputs ?? [];
}

function storeOf(expr: string, values: Values = {}): Store {
  return new Store({ ...stateFromUrl({ expr }, "light"), values });
}

const NN = "X = np.array([[0.9, 0.2]])\nz = X.dot(W)";

describe("the session reads the text before tracing it", () => {
  it("leaves the inputs nobody gives a value to the server, and never writes or sends them", async () => {
    const { api, reads, traces } = fakeServer({
      "\\frac{1}{y+e^{-x}}": () => reading([{ name: "y" }, { name: "x" }], { differs: true, canonical: "1 / (y + e^(-x))" }),
    });
    const store = storeOf("\\frac{1}{y+e^{-x}}");
    const s = new Session(store, api);
    const seen: (Reading | null)[] = [];
    s.onReading = (r) => seen.push(r);
    await s.refresh();
    // No `frac`, no `left`: the inputs are the reading's; their values the server's (1 each).
    expect(reads).toEqual([["\\frac{1}{y+e^{-x}}", {}]]);
    expect(traces).toEqual([["\\frac{1}{y+e^{-x}}", {}]]);
    expect(store.state.values).toEqual({});
    expect(seen.map((r) => r?.canonical)).toEqual(["1 / (y + e^(-x))"]);
    expect(inputsOf(s).map((i) => [i.name, i.source, i.drawn])).toEqual([["y", "drawn", 1], ["x", "drawn", 1]]);
    // Read once per text (and names and shapes given): a new value of the same shape traces only.
    store.setValue("x", 0);
    await s.refresh();
    store.setValue("x", 2);
    await s.refresh();
    expect(reads.length).toBe(2); // once more: x became a value the person gave
    expect(reads[1][1]).toEqual({ x: 0 });
    expect(traces.at(-1)).toEqual(["\\frac{1}{y+e^{-x}}", { x: 2 }]);
  });

  it("asks for the store's random draw, and reads again when it changes", async () => {
    const { api, reads, traces, rngs } = fakeServer({
      "h = relu(X @ W1); L = sum(h)": () => reading([{ name: "X", shape: [2, 3], drawn: [[1, 1, 1], [1, 1, 1]] }, { name: "W1", shape: [3, 2], drawn: [[1, 1], [1, 1], [1, 1]] }]),
    });
    const store = storeOf("h = relu(X @ W1); L = sum(h)");
    const s = new Session(store, api);
    await s.refresh();
    expect(rngs).toEqual({ read: [0], trace: [0] });
    expect(inputsOf(s)[0].drawn).toEqual([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]);
    // A new draw: read again (the drawn values are the reading's), traced with it; the drawn
    // values are never the store's, so never the URL's.
    store.update({ rng: 7 });
    await s.refresh();
    expect(rngs).toEqual({ read: [0, 7], trace: [0, 7] });
    expect(inputsOf(s)[1].drawn).toEqual([[7.5, 7.5], [7.5, 7.5], [7.5, 7.5]]);
    expect(store.state.values).toEqual({});
    expect(traces.at(-1)?.[1]).toEqual({});
    // X typed: it is the request's, its shape pins the rest.
    store.setValue("X", [[0.9, 0.2, 0.7]]);
    await s.refresh();
    expect(reads.at(-1)?.[1]).toEqual({ X: [[0.9, 0.2, 0.7]] });
    expect(inputsOf(s).map((i) => i.source)).toEqual(["request", "drawn"]);
    expect(traces.at(-1)?.[1]).toEqual({ X: [[0.9, 0.2, 0.7]] });
  });

  it("traces with ones while a typed output gradient does not fit the output, and keeps it typed", async () => {
    const { api, traces } = fakeServer({ "x * 2": () => reading([{ name: "x" }]) });
    api.trace.mockImplementationOnce(async () => {
      throw new ApiError("seed", "the output gradient has shape 2 but the output has shape scalar", 0, 5, 400);
    });
    const store = storeOf("x * 2");
    store.update({ seed: [1, 2] });
    const s = new Session(store, api);
    const errors: string[] = [];
    s.onError = (e) => errors.push(e.message);
    await s.refresh();
    expect(errors).toEqual([]);
    // Never lost: it applies again once the output has its shape.
    expect(store.state.seed).toEqual([1, 2]);
    expect(api.trace.mock.calls.map((c) => c[2])).toEqual([[1, 2], null]);
    expect(traces.length).toBe(1);
  });

  it("sends only the values the person typed to be read (wx stays w times x)", async () => {
    const { api, reads } = fakeServer({
      "loss = wx": () => reading([{ name: "wx" }]),
      wx: (v) => (Object.hasOwn(v, "wx") ? reading([{ name: "wx" }]) : reading([{ name: "w" }, { name: "x" }], { differs: true, canonical: "w * x" })),
    });
    const store = storeOf("loss = wx");
    const s = new Session(store, api);
    await s.refresh();
    expect(store.state.values).toEqual({}); // wx drawn by the server, not written here
    store.update({ expr: "wx" });
    await s.refresh();
    expect(reads[1]).toEqual(["wx", {}]);
    expect(s.reading?.canonical).toBe("w * x");
    // A value the person typed for it is theirs: sent, and the name stays one.
    store.update({ expr: "loss = wx" });
    await s.refresh();
    store.setValue("wx", 3);
    store.update({ expr: "wx" });
    await s.refresh();
    expect(reads.at(-1)).toEqual(["wx", { wx: 3 }]); // w and x: never given, not sent
  });

  it("uses the text's values unless the person gives one, and a new text value wins again", async () => {
    const give = (x: Tensor) => () => reading([{ name: "X", value: x }, { name: "W" }]);
    const { api, traces } = fakeServer({
      "(x + y) * z": () => reading([{ name: "x" }, { name: "y" }, { name: "z" }]),
      [NN]: give([[0.9, 0.2]]),
      [NN.replace("0.9", "0.5")]: give([[0.5, 0.2]]),
    });
    // A value left from an earlier expression.
    const store = storeOf("(x + y) * z", { X: 5 });
    const s2 = new Session(store, api);
    await s2.refresh();
    store.update({ expr: NN });
    await s2.refresh();
    // The pasted text gives X: the old X goes, the text's is used (sent as nothing).
    expect(Object.hasOwn(store.state.values, "X")).toBe(false);
    expect(traces.at(-1)).toEqual([NN, {}]);
    expect(textValues(s2.reading)).toEqual(new Map([["X", [[0.9, 0.2]]]]));
    // Typed over: the person's value wins, and stays while the text's is the same.
    store.setValue("X", [[1, 1]]);
    await s2.refresh();
    expect(traces.at(-1)).toEqual([NN, { X: [[1, 1]] }]);
    // The text's value line edited: the text is the newest word.
    store.update({ expr: NN.replace("0.9", "0.5") });
    await s2.refresh();
    expect(traces.at(-1)).toEqual([NN.replace("0.9", "0.5"), {}]);
  });

  it("keeps a link's or an example's values over the text's", async () => {
    const { api, traces } = fakeServer({ [NN]: () => reading([{ name: "X", value: [[0.9, 0.2]] }, { name: "W" }]) });
    const store = storeOf(NN, { X: [[7, 7]], W: 2 });
    const s = new Session(store, api);
    await s.refresh();
    expect(traces).toEqual([[NN, { X: [[7, 7]], W: 2 }]]);
    s.keepValues();
    store.update({ expr: "x", values: { x: 1 } });
    store.update({ expr: NN, values: { X: [[3, 3]], W: 2 } });
    await s.refresh();
    expect(traces.at(-1)).toEqual([NN, { X: [[3, 3]], W: 2 }]);
  });

  it("says what is wrong with a text it cannot read, and traces nothing", async () => {
    const { api, traces } = fakeServer({});
    const s = new Session(storeOf("\\frac{1}{y"), api);
    const seen: (Reading | null)[] = [];
    const errors: string[] = [];
    s.onReading = (r) => seen.push(r);
    s.onError = (e) => errors.push(`${e.type}: ${e.message} [${e.start}, ${e.end})`);
    await s.refresh();
    expect(seen).toEqual([null]);
    expect(errors).toEqual(["syntax: '{' has no matching '}' [8, 9)"]);
    expect(traces).toEqual([]);
  });

  it("goes along the reading's inputs in forward mode, labels left out", async () => {
    const { api } = fakeServer({ "cross_entropy(s, y)": () => reading([{ name: "y", labels: true }, { name: "s" }]) });
    const store = storeOf("cross_entropy(s, y)");
    store.update({ mode: "forward" });
    const s = new Session(store, api);
    await s.refresh();
    expect(api.trace.mock.calls[0][4]).toEqual({ wrt: "s", tangent: null });
  });
});

describe("a reading as the app shows it", () => {
  it("cuts the skipped lines out of the text by their spans, in code points", () => {
    const expr = "𝑥 = 1\nprint(x)\nimport numpy as np\nz = exp(x)";
    const r = reading([], { skipped: [{ start: 6, end: 14, reason: "prints" }, { start: 15, end: 33, reason: "imports a library" }] });
    expect(skippedLines(expr, r)).toEqual([
      { text: "print(x)", reason: "prints" },
      { text: "import numpy as np", reason: "imports a library" },
    ]);
    expect(skippedSummary(1)).toBe("1 line skipped");
    expect(skippedSummary(3)).toBe("3 lines skipped");
  });

  it("is shown when it is not the text as typed, skips lines or gives the output gradient", () => {
    expect(readingShown(reading([]))).toBe(false);
    expect(readingShown(reading([], { differs: true }))).toBe(true);
    expect(readingShown(reading([], { seed: 2 }))).toBe(true);
    expect(readingShown(reading([], { skipped: [{ start: 0, end: 1, reason: "prints" }] }))).toBe(true);
    expect(seedSentence(2)).toBe("output gradient from the text: 2");
    expect(seedSentence([1, -0.5])).toBe("output gradient from the text: [1, −0.5]");
  });

  it("decodes the text's values and output gradient, non-finite ones too", () => {
    const r = decodeReading({ ...reading([]), inputs: [{ name: "x", value: ["Infinity", 1], labels: false, start: 0, end: 1, shape: [2], source: "text", drawn: null }], seed: "NaN" });
    expect(r.inputs[0].value).toEqual([Infinity, 1]);
    expect(r.seed).toBeNaN();
  });

  it("of a record from before readings is the text as typed, its input nodes the inputs", () => {
    const raw = structuredClone(circuit()) as unknown as Record<string, unknown>;
    delete raw.reading; // the fixture is a record of today, with its reading
    const t = decodeTrace(raw as unknown as Trace);
    expect(t.reading.differs).toBe(false);
    expect(t.reading.canonical).toBe(t.expr);
    expect(t.reading.inputs.map((i) => i.name)).toEqual(["x", "y", "z"]);
  });

  it("says where the output gradient comes from when the text gave it", () => {
    const t: Trace = { ...circuit(), seed: 2 };
    expect(seedWords(t)).toBe("the output gradient");
    const given = decodeTrace({ ...(t as object), reading: { ...reading([]), seed: 2 } } as never);
    expect(seedWords(given)).toBe("the output gradient the text gives");
    // Another output gradient asked for (in the URL) wins over the text's: then it is just that.
    expect(seedWords({ ...given, seed: 3 })).toBe("the output gradient");
    const first = explainStep(given, stepState(given, given.forward.length));
    expect(first.lines[0]).toContain("\\text{(the output gradient the text gives)}");
  });
});
