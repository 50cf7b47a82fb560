import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, decodeTensor, decodeTrace, encodeTensor, fetchLayout, type Trace } from "../src/api";
import { chooseDirection, fallbackLayout } from "../src/layout-fallback";
import { Session } from "../src/session";
import { circuit, fanout, logZero, readingOf } from "./helpers";
import { stateFromUrl, Store } from "../src/store";

/** A store holding only these values (the session reads what to trace from it). */
function storeWith(values: Record<string, number>): Store {
  return new Store({ ...stateFromUrl({ expr: "" }, "light"), values });
}

describe("non-finite numbers", () => {
  it("decodes the API's strings in numeric fields only", () => {
    expect(decodeTensor(["Infinity", "-Infinity", "NaN", 1])).toEqual([Infinity, -Infinity, NaN, 1]);
    const t = logZero();
    expect(t.value).toBe(-Infinity);
    expect(t.nodes.find((n) => n.id === "n0")?.grad).toBe(Infinity);
    const raw = structuredClone(circuit()) as Trace;
    raw.nodes[0].label = "NaN";
    expect(decodeTrace(raw).nodes[0].label).toBe("NaN");
  });
  it("encodes them back", () => {
    expect(encodeTensor([Infinity, NaN, -Infinity, 2])).toEqual(["Infinity", "NaN", "-Infinity", 2]);
  });
});

describe("fallback layout", () => {
  it("puts every node left of its consumers and gives every edge a path", () => {
    const t = fanout();
    const l = fallbackLayout(t);
    for (const e of t.edges) {
      expect(l.nodes[e.source].x).toBeLessThan(l.nodes[e.target].x);
      expect(l.edges[e.id].path).toMatch(/^M[\d.,-]+ C/);
    }
    expect(l.nodes.n0.shape).toBe("box");
    expect(l.nodes.n5.shape).toBe("ellipse");
    expect(l.width).toBeGreaterThan(0);
  });
  it("draws down, inputs at the top, when asked, or when the space is tall", () => {
    const t = fanout();
    const l = fallbackLayout(t, "down");
    expect(l.direction).toBe("down");
    for (const e of t.edges) {
      expect(l.nodes[e.source].y).toBeLessThan(l.nodes[e.target].y);
      const tip = l.edges[e.id].arrow;
      expect(tip[3]).toBeCloseTo(l.nodes[e.target].y - l.nodes[e.target].h / 2, 1);
    }
    expect(fallbackLayout(t).direction).toBe("right");
    // A chain of six: down on a phone, across on a laptop.
    const ids = [0, 1, 2, 3, 4, 5].map((i) => `n${i}`);
    const chain = {
      structure: "chain",
      nodes: ids.map((id, i) => ({ id, kind: i === 0 ? "input" : "op", label: i === 0 ? "x" : "exp" })),
      edges: ids.slice(1).map((id, i) => ({ id: `e${i}`, source: ids[i], target: id })),
    } as unknown as Trace;
    expect(fallbackLayout(chain, 390 / 464).direction).toBe("down");
    expect(fallbackLayout(chain, 1280 / 400).direction).toBe("right");
  });
  it("chooses the direction whose drawing fits the space best, across unless down is clearly larger", () => {
    const sizes = { right: { width: 1000, height: 100 }, down: { width: 100, height: 1000 } };
    expect(chooseDirection(sizes, 16 / 9)).toBe("right");
    expect(chooseDirection(sizes, 0.5)).toBe("down");
    expect(chooseDirection({ right: { width: 100, height: 100 }, down: { width: 100, height: 100 } }, 1)).toBe("right");
  });
  it("never overlaps two nodes", () => {
    const l = fallbackLayout(circuit());
    const ns = Object.values(l.nodes);
    for (let i = 0; i < ns.length; i++)
      for (let j = i + 1; j < ns.length; j++)
        expect(Math.abs(ns[i].x - ns[j].x) >= (ns[i].w + ns[j].w) / 2 || Math.abs(ns[i].y - ns[j].y) >= (ns[i].h + ns[j].h) / 2).toBe(true);
  });
});

describe("asking for a layout", () => {
  afterEach(() => vi.unstubAllGlobals());
  it("sends the direction and the space's shape, within the server's range", async () => {
    const bodies: Record<string, unknown>[] = [];
    vi.stubGlobal("fetch", vi.fn(async (_url: string, init: { body: string }) => {
      bodies.push(JSON.parse(init.body) as Record<string, unknown>);
      return new Response(JSON.stringify(fallbackLayout(circuit())), { status: 200, headers: { "content-type": "application/json" } });
    }));
    await fetchLayout("x * y", { x: 1, y: 2 }, undefined, [], { direction: "auto", aspect: 390 / 464 });
    await fetchLayout("x * y", { x: 1, y: 2 }, undefined, ["g1"], { direction: "down", aspect: 100 });
    await fetchLayout("x * y", { x: 1, y: 2 });
    expect(bodies[0]).toMatchObject({ direction: "auto", aspect: 0.841 });
    expect(bodies[1]).toMatchObject({ direction: "down", aspect: 19.9, expand: ["g1"] });
    expect(bodies[2]).not.toHaveProperty("direction");
  });
});

describe("session", () => {
  afterEach(() => vi.restoreAllMocks());

  it("lays out once per structure, and falls back when the server cannot", async () => {
    const trace = vi.fn(async () => circuit());
    const layout = vi.fn(async () => {
      throw new ApiError("internal", "internal error", 0, 0, 500);
    });
    const s = new Session(storeWith({}), { trace, layout, read: readingOf() });
    s.store.update({ expr: "q = x + y; f = q * z" });
    const results: { changed: boolean; fallback: boolean }[] = [];
    s.onResult = (r) => results.push({ changed: r.structureChanged, fallback: r.fallback });
    await s.refresh();
    await s.refresh();
    expect(layout).toHaveBeenCalledTimes(1);
    expect(results).toEqual([{ changed: true, fallback: true }, { changed: false, fallback: true }]);
  });

  it("reports errors, and coalesces requests made while one is in flight", async () => {
    let n = 0;
    const trace = vi.fn(async () => {
      n++;
      await new Promise((r) => setTimeout(r, 5));
      throw new ApiError("syntax", "expected an operand", 3, 4, 400);
    });
    const s = new Session(storeWith({}), { trace, layout: vi.fn(), read: readingOf() });
    s.store.update({ expr: "(x +" });
    const errors: string[] = [];
    s.onError = (e) => errors.push(e.message);
    const first = s.refresh();
    void s.refresh();
    void s.refresh();
    await first;
    await new Promise((r) => setTimeout(r, 30));
    expect(n).toBe(2);
    expect(errors).toEqual(["expected an operand"]);
  });
});
