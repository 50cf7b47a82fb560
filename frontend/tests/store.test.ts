import { afterEach, describe, expect, it, vi } from "vitest";
import { fallbackLayout } from "../src/layout-fallback";
import { Session } from "../src/session";
import { followUrl, queryOf, stateFromUrl, Store, urlState, type ViewState } from "../src/store";
import { decodeQuery } from "../src/url-state";
import { circuit } from "./helpers";

const full: ViewState = {
  expr: "(x + lang) * z",
  values: { x: -2, lang: [1, 2, 3], z: [[1, 0], [0, 1]] },
  inputs: ["x", "lang", "z"],
  seed: [1, 2],
  step: "b2",
  theme: "projector",
  hide: ["explain", "side"],
  autoplay: true,
  speed: 2,
  mode: "forward",
  wrt: "lang",
  tangent: [0, 1, 0],
  check: true,
  hessian: true,
  expand: ["g3", "g3.2"],
  rng: 7,
  dir: "down",
};

/** The state a query gives back (the inputs are the names whose values it carries). */
function back(query: string): ViewState {
  const url = decodeQuery(query);
  expect(url.errors).toBeUndefined();
  const s = stateFromUrl(url, "light");
  return { ...s, inputs: Object.keys(s.values) };
}

describe("the URL, derived from the store's state", () => {
  it("round-trips every field", () => {
    expect(back(queryOf(full))).toEqual(full);
    const plain: ViewState = { ...stateFromUrl({}, "dark"), inputs: ["x", "y", "z"], step: "f1" };
    expect(back(queryOf(plain))).toEqual({ ...plain, theme: "dark" });
  });
  it("writes the defaults as nothing, and forward mode's fields only in forward mode", () => {
    const s: ViewState = { ...full, seed: null, hide: [], autoplay: false, speed: undefined, mode: "reverse", check: false, hessian: false, expand: [], rng: 0, dir: null };
    const q = new URLSearchParams(queryOf(s));
    expect([...q.keys()].sort()).toEqual(["expr", "lang", "step", "theme", "x", "z"]);
  });
  it("carries the values of the trace's inputs only", () => {
    const s: ViewState = { ...full, values: { ...full.values, gone: 7 }, inputs: ["x"] };
    expect(urlState(s).values).toEqual({ x: -2 });
  });
  it("starts from the URL, or from the example when it names no expression", () => {
    expect(stateFromUrl({}, "light")).toMatchObject({ expr: "(x + y) * z", values: { x: -2, y: 5, z: -4 }, step: undefined });
    expect(stateFromUrl({ expr: "a * b" }, "light").values).toEqual({});
  });
});

describe("the store", () => {
  it("tells its listeners what changed, once per update, and nothing for no change", () => {
    const store = new Store(stateFromUrl({}, "light"));
    const heard: string[][] = [];
    const stop = store.subscribe((next, prev, changed) => {
      heard.push([...changed].sort());
      expect(prev).not.toBe(next);
    });
    store.update({ step: "f2", theme: "dark" });
    store.update({ step: "f2", values: { x: -2, y: 5, z: -4 } }); // equal values: no change
    store.setValue("x", 3);
    store.update({ step: undefined });
    stop();
    store.update({ step: "b1" });
    expect(heard).toEqual([["step", "theme"], ["values"], ["step"]]);
    expect(store.state).toMatchObject({ step: "b1", theme: "dark", values: { x: 3, y: 5, z: -4 } });
  });
});

describe("the address bar follows the store", () => {
  afterEach(() => vi.useRealTimers());

  it("at once for a look or a mode, after a pause for steps and values (coalesced)", () => {
    vi.useFakeTimers();
    const store = new Store(stateFromUrl({}, "light"));
    const written: string[] = [];
    followUrl(store, (q) => written.push(q), 300, {
      set: (fn, ms) => setTimeout(fn, ms) as unknown as number,
      clear: (id) => clearTimeout(id),
    });
    store.update({ theme: "dark" });
    expect(written).toHaveLength(1);
    expect(new URLSearchParams(written[0]).get("theme")).toBe("dark");
    store.update({ step: "f1" });
    store.update({ step: "f2" });
    store.setValue("x", 1);
    expect(written).toHaveLength(1);
    vi.advanceTimersByTime(300);
    expect(written).toHaveLength(2);
    expect(written[1]).toBe(queryOf(store.state));
    expect(new URLSearchParams(written[1]).get("step")).toBe("f2");
    store.update({ step: "f3" });
    store.update({ mode: "forward" }); // at once, with the step that was waiting
    expect(written).toHaveLength(3);
    vi.advanceTimersByTime(1000);
    expect(written).toHaveLength(3);
    expect(decodeQuery(written[2])).toMatchObject({ step: "f3", mode: "forward" });
  });
});

describe("the session reads what to trace from the store", () => {
  it("asks for the store's expression and the values it gives, and writes none into it", async () => {
    const asked: unknown[] = [];
    const trace = vi.fn(async (expr: string, values: unknown) => {
      asked.push([expr, { ...(values as object) }]);
      return circuit();
    });
    // The reading's inputs: x, y and z for the first text, x alone for the second.
    const read = vi.fn(async (expr: string) => {
      const { reading } = circuit();
      return { reading: { ...reading, inputs: reading.inputs.filter((i) => expr !== "x * 2" || i.name === "x") }, warnings: [] };
    });
    const store = new Store({ ...stateFromUrl({ expr: "(x + y) * z", values: { x: 3, w: 5 } }, "light") });
    const s = new Session(store, { trace, layout: vi.fn(async () => fallbackLayout(circuit())), read });
    await s.refresh();
    // y and z are the server's to fill; w is no input of this text.
    expect(asked).toEqual([["(x + y) * z", { x: 3 }]]);
    expect(store.state.values).toEqual({ x: 3, w: 5 });
    store.update({ expr: "x * 2" });
    await s.refresh();
    expect(asked[1]).toEqual(["x * 2", { x: 3 }]);
    expect(s.store).toBe(store); // the session keeps no state of its own
  });
});

describe("input names that are also JavaScript's own", () => {
  it("are kept as values by the store and in its URL", () => {
    const store = new Store(stateFromUrl(decodeQuery("?expr=constructor*__proto__"), "light"));
    store.update({ inputs: ["constructor", "__proto__"] });
    expect(urlState(store.state).values).toEqual({});  // none given yet: none written
    store.setValue("constructor", 2);
    store.setValue("__proto__", 3);
    const values = urlState(store.state).values ?? {};
    expect(Object.keys(values).sort()).toEqual(["__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(values, "__proto__")?.value).toBe(3);
    expect(queryOf(store.state)).toContain("constructor=2");
    expect(queryOf(store.state)).toContain("__proto__=3");
  });
});
