import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import {
  ApiError,
  BUSY_TRIES,
  decodeNumber,
  decodePreset,
  decodeTensor,
  decodeTrace,
  encodeNumber,
  encodeTensor,
  fetchLayout,
  fetchPresets,
  made,
  unavailableMessage,
  type GradCheck,
  type HessianRecord,
  type NonFinite,
  type Preset,
  type Tensor,
  type Trace,
  type TraceEdge,
  type TraceNode,
  type WirePreset,
  type WireTrace,
} from "../src/api";
import type { components } from "../src/generated/api-types";
import ops from "../src/generated/ops.json";
import openapi from "../src/generated/openapi.json";
import matmulSeeded from "./fixtures/matmul-seeded.json";

describe("the non-finite codec", () => {
  it("round-trips the three spellings the schema lists", () => {
    const spellings: NonFinite[] = ["Infinity", "-Infinity", "NaN"];
    for (const s of spellings) expect(encodeNumber(decodeNumber(s))).toBe(s);
    expect([Infinity, -Infinity].map(encodeNumber)).toEqual(["Infinity", "-Infinity"]);
    expect(encodeNumber(NaN)).toBe("NaN");
    expect(encodeNumber(-0.5)).toBe(-0.5);
  });

  it("reads nothing else as a number", () => {
    // Not even an inherited property name of a plain object.
    for (const s of ["toString", "constructor", "inf", "nan", ""]) expect(decodeNumber(s)).toBeNaN();
    expect(decodeTensor([["Infinity", 1], ["NaN", "-Infinity"]])).toEqual([[Infinity, 1], [NaN, -Infinity]]);
    expect(encodeTensor([[Infinity, 1], [NaN, -Infinity]])).toEqual([["Infinity", 1], ["NaN", "-Infinity"]]);
  });

  it("spells them as the schema does", () => {
    const local = (openapi as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } })
      .components.schemas.EdgeOut.properties.local;
    expect(JSON.stringify(local)).toContain(JSON.stringify(["Infinity", "-Infinity", "NaN"]));
  });
});

describe("decoded types", () => {
  it("are the generated ones with numbers for the non-finite spellings", () => {
    type Schemas = components["schemas"];
    expectTypeOf<Trace["value"]>().toEqualTypeOf<Tensor>();
    expectTypeOf<Trace["gradients"]>().toEqualTypeOf<{ [key: string]: Tensor }>();
    expectTypeOf<TraceNode["grad"]>().toEqualTypeOf<Tensor | null>();
    expectTypeOf<TraceNode["label"]>().toEqualTypeOf<string>();
    expectTypeOf<TraceNode["kind"]>().toEqualTypeOf<Schemas["NodeOut"]["kind"]>();
    expectTypeOf<TraceEdge["local"]>().toEqualTypeOf<number | null>();
    expectTypeOf<TraceEdge["jacobian"]>().toEqualTypeOf<number[][] | null | undefined>();
    expectTypeOf<GradCheck["inputs"][string]["rel_error"]>().toEqualTypeOf<number>();
    expectTypeOf<HessianRecord["matrix"]>().toEqualTypeOf<number[][]>();
    expectTypeOf<Preset["seed"]>().toEqualTypeOf<Tensor | undefined>();
    expectTypeOf<Preset["title"]>().toEqualTypeOf<string>();
    // A decoded record is still a valid wire record (decoding twice is harmless).
    expectTypeOf<Trace>().toMatchTypeOf<WireTrace>();
  });

  it("decode a real answer: every number a JS number", () => {
    const t = decodeTrace(structuredClone(matmulSeeded) as unknown as WireTrace);
    const numbers = (x: unknown): boolean =>
      Array.isArray(x) ? x.every(numbers) : typeof x === "number";
    expect(numbers(t.value)).toBe(true);
    for (const n of t.nodes) expect(numbers(n.value)).toBe(true);
    for (const e of t.edges) if (e.jacobian) expect(numbers(e.jacobian)).toBe(true);
    expect(decodeTrace(t)).toEqual(t);
  });
});

describe("an extra that could not be made", () => {
  it("passes through decoding as its error", () => {
    const raw = structuredClone(matmulSeeded) as unknown as WireTrace;
    const error = { type: "limit", message: "the check would take 9,000 forward passes", start: 0, end: 3 };
    raw.check = { error };
    raw.hessian = { inputs: ["x"], labels: ["x"], matrix: [["NaN"]], symmetric: true };
    const t = decodeTrace(raw);
    expect(t.check).toEqual({ error });
    expect(made(t.check)).toBeUndefined();
    expect(unavailableMessage(t.check)).toBe(error.message);
    expect(made(t.hessian)?.matrix[0][0]).toBeNaN();
    expect(unavailableMessage(t.hessian)).toBeNull();
    expect(made(undefined)).toBeUndefined();
    expectTypeOf(made(t.check)).toEqualTypeOf<GradCheck | undefined>();
  });
});

const PRESET: WirePreset = {
  key: "log0",
  title: "log at 0",
  source: "notes",
  lesson: "A gradient can be infinite.",
  expr: "log(x) * y",
  values: { x: 0, y: [1, "NaN"] },
  output: "-Infinity",
  gradients: { x: "Infinity", y: ["-Infinity", "NaN"] },
};

describe("presets", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("decode values, output, gradients and seed", () => {
    const p = decodePreset(PRESET);
    expect(p.values).toEqual({ x: 0, y: [1, NaN] });
    expect(p.output).toBe(-Infinity);
    expect(p.gradients).toEqual({ x: Infinity, y: [-Infinity, NaN] });
    expect("seed" in p).toBe(false);
    expect(decodePreset({ ...PRESET, seed: ["Infinity", 2] }).seed).toEqual([Infinity, 2]);
    expect({ title: p.title, lesson: p.lesson, source: p.source }).toEqual({
      title: "log at 0", lesson: "A gradient can be infinite.", source: "notes",
    });
  });

  it("come from GET /api/presets, errors as ApiError", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify([PRESET]), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    const [p] = await fetchPresets();
    expect(fetchMock).toHaveBeenCalledWith("/api/presets");
    expect(p.output).toBe(-Infinity);
    const body = { error: { type: "limit", message: "too many", start: 0, end: 0 } };
    vi.stubGlobal("fetch", async () => new Response(JSON.stringify(body), { status: 503 }));
    await expect(fetchPresets()).rejects.toEqual(new ApiError("limit", "too many", 0, 0, 503));
  });
});

describe("ops.json", () => {
  it("lists the registry's ops with their LaTeX templates", () => {
    const add = (ops as Record<string, { arity: number; symbol: string; tex: string }>).add;
    expect(add).toMatchObject({ arity: 2, symbol: "+" });
    expect(add.tex).toContain("#0#");
  });
});

describe("a busy server", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });
  const busy = (): Response => new Response(
    JSON.stringify({ error: { type: "overloaded", message: "the server is busy", start: 0, end: 0 } }),
    { status: 503, headers: { "retry-after": "1" } },
  );

  it("is asked again after its Retry-After, and the answer that comes is used", async () => {
    vi.useFakeTimers();
    const fetchMock = vi.fn()
      .mockResolvedValueOnce(busy())
      .mockResolvedValueOnce(new Response(JSON.stringify({ nodes: {}, edges: {}, width: 1, height: 1, structure: "s" }), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    const layout = fetchLayout("x", {});
    await vi.advanceTimersByTimeAsync(1000);
    expect((await layout).structure).toBe("s");
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it("is an error after BUSY_TRIES answers of busy", async () => {
    vi.useFakeTimers();
    const fetchMock = vi.fn(async () => busy());
    vi.stubGlobal("fetch", fetchMock);
    const layout = fetchLayout("x", {});
    const settled = expect(layout).rejects.toMatchObject({ type: "overloaded", status: 503 });
    await vi.advanceTimersByTimeAsync(10_000);
    await settled;
    expect(fetchMock).toHaveBeenCalledTimes(BUSY_TRIES);
  });

  it("stops waiting when the request is given up", async () => {
    const fetchMock = vi.fn(async () => busy());
    vi.stubGlobal("fetch", fetchMock);
    const controller = new AbortController();
    const layout = fetchLayout("x", {}, controller.signal);
    controller.abort();
    await expect(layout).rejects.toBeDefined();
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
