import { describe, expect, it, vi } from "vitest";
import type { Layout, Trace } from "../src/api";
import { decodeTrace } from "../src/api";
import { gateNotes } from "../src/explain";
import { gateNode, openedIds, parseExpand, sortGates, stepAfterToggle, withClosed, withOpened } from "../src/gates";
import { fallbackLayout, gateBoxes } from "../src/layout-fallback";
import { Session } from "../src/session";
import { queryOf, stateFromUrl, Store } from "../src/store";
import { decodeQuery, encodeQuery } from "../src/url-state";
import { circuit, readingOf } from "./helpers";

// square(x) * y with its gate g1 closed, and opened (the shape of /api/trace's answers).
function squareTrace(open: boolean): Trace {
  const base = circuit();
  const node = (id: string, kind: "input" | "op", label: string, op: string | null, extra: object) => ({
    ...base.nodes[0], id, kind, label, op, name: kind === "input" ? label : null, gate: null, gate_id: null, in_gate: null, ...extra,
  });
  const nodes = [
    node("n0", "input", "x", null, {}),
    open ? node("n1", "op", "×", "mul", { in_gate: "g1" }) : node("n1", "op", "²", "square", { gate_id: "g1" }),
    node("n2", "input", "y", null, {}),
    node("n3", "op", "×", "mul", {}),
  ];
  const edge = (id: string, source: string, target: string, arg: number) => ({ ...base.edges[0], id, source, target, arg });
  return {
    ...base,
    expr: "square(x) * y",
    nodes,
    edges: [edge("e0", "n0", "n1", 0), ...(open ? [edge("e1", "n0", "n1", 1)] : []), edge("e2", "n1", "n3", 0), edge("e3", "n2", "n3", 1)],
    forward: ["n0", "n1", "n2", "n3"],
    backward: [
      { node: "n3", upstream: 1, terms: [], edges: [] },
      { node: "n2", upstream: 1, terms: [], edges: [] },
      { node: "n1", upstream: 1, terms: [], edges: [] },
      { node: "n0", upstream: 1, terms: [], edges: [] },
    ],
    open_gates: open ? [{ id: "g1", op: "square", parent: null, output: "n1", name: null, start: 0, end: 9 }] : [],
    structure: open ? "open" : "closed",
  } as Trace;
}

describe("gate ids", () => {
  it("sort as the server does: by node, then part", () => {
    expect(sortGates(["g10", "g2.10", "g2", "g2.1", "g2.9", "g2"])).toEqual(["g2", "g2.1", "g2.9", "g2.10", "g10"]);
  });
  it("open one gate, and close it with every gate inside it", () => {
    expect(withOpened(["g5"], "g3")).toEqual(["g3", "g5"]);
    expect(withOpened(["g3"], "g3")).toEqual(["g3"]);
    expect(withClosed(["g3", "g3.2", "g3.2.1", "g30", "g5"], "g3")).toEqual(["g30", "g5"]);
    expect(withClosed(["g3", "g3.2"], "g3.2")).toEqual(["g3"]);
  });
  it("are read from the URL's expand, comma-separated", () => {
    expect(parseExpand(" g3, g3.2,,g3 ")).toEqual(["g3", "g3.2"]);
  });
});

describe("expand in the URL and the store", () => {
  it("round-trips, and is not written when every gate is closed", () => {
    const q = encodeQuery({ expr: "square(x)", values: { x: 2 }, expand: ["g1", "g1.2"] });
    expect(q).toBe("expr=square%28x%29&x=2&expand=g1%2Cg1.2");
    expect(decodeQuery(q).expand).toEqual(["g1", "g1.2"]);
    expect(encodeQuery({ expr: "x", expand: [] })).toBe("expr=x");
    expect(decodeQuery("expr=x").expand).toBeUndefined();
  });
  it("is read in the server's order, and an input called expand is v.expand", () => {
    const s = stateFromUrl(decodeQuery("?expr=expand*x&expand=g9,g1&v.expand=3&x=1"), "light");
    expect(s.expand).toEqual(["g1", "g9"]);
    expect(s.values).toEqual({ expand: 3, x: 1 });
    expect(new URLSearchParams(queryOf({ ...s, inputs: ["expand", "x"] })).get("expand")).toBe("g1,g9");
  });
});

describe("the session", () => {
  it("asks for the gates the store opens, trace and layout alike", async () => {
    const store = new Store({ ...stateFromUrl({ expr: "square(x) * y" }, "light"), values: { x: 1, y: 2 }, expand: ["g1"] });
    const trace = vi.fn(async (..._args: unknown[]) => squareTrace(true));
    const layout = vi.fn(async (..._args: unknown[]) => fallbackLayout(squareTrace(true)));
    const s = new Session(store, { trace, layout, read: readingOf(squareTrace(true)) });
    const results: string[][] = [];
    s.onResult = (r) => results.push(r.expand);
    await s.refresh();
    expect(trace.mock.calls[0][7]).toEqual(["g1"]);
    expect(layout.mock.calls[0][3]).toEqual(["g1"]);
    expect(results).toEqual([["g1"]]);
  });
});

describe("a trace's gates", () => {
  it("are decoded with defaults for a server from before gates", () => {
    const t = decodeTrace(circuit() as never);
    expect(t.open_gates).toEqual([]);
    expect(t.nodes.every((n) => n.gate_id === null && n.in_gate === null)).toBe(true);
  });
  it("name the node that stands for a gate, closed or open", () => {
    expect(gateNode(squareTrace(false), "g1")).toBe("n1");
    expect(gateNode(squareTrace(true), "g1")).toBe("n1");
    expect(gateNode(squareTrace(true), "g7")).toBeNull();
    expect(openedIds(squareTrace(true))).toEqual(["g1"]);
  });
  it("keep the view where it was once a gate opens or closes", () => {
    const t = squareTrace(true);
    expect(stepAfterToggle(t, "g1", { phase: "backward", atStart: false, atEnd: true })).toBe(7);
    expect(stepAfterToggle(t, "g1", { phase: "forward", atStart: true, atEnd: false })).toBe(0);
    expect(stepAfterToggle(t, "g1", { phase: "backward", atStart: false, atEnd: false })).toBe(4 + 2);
    expect(stepAfterToggle(t, "g1", { phase: "forward", atStart: false, atEnd: false })).toBe(1);
    expect(stepAfterToggle(t, "g9", { phase: "forward", atStart: false, atEnd: false })).toBe(7);
    // On a node outside the gate: that node's step (its id may have changed); on the gate's own
    // node (closed, before it opened): the step of the node holding its value.
    const y = { ...t.nodes[2], id: "n7" };
    expect(stepAfterToggle(t, "g1", { phase: "backward", atStart: false, atEnd: false, node: y })).toBe(4 + 1);
    const closedGate = squareTrace(false).nodes[1];
    expect(stepAfterToggle(t, "g1", { phase: "forward", atStart: false, atEnd: false, node: closedGate })).toBe(1);
    // Closing from a part: the gate's step.
    expect(stepAfterToggle(squareTrace(false), "g1", { phase: "backward", atStart: false, atEnd: false, node: t.nodes[1] })).toBe(4 + 2);
  });
  it("are explained in words a student reads", () => {
    const closed = squareTrace(false);
    expect(gateNotes(closed, closed.nodes[1])).toEqual([
      "square is a gate made of simpler ops: its local derivative is the whole gate's. Opened (⊕), it shows the steps of its parts.",
    ]);
    const open = squareTrace(true);
    expect(gateNotes(open, open.nodes[1])[0]).toMatch(/^The last part of the opened gate square/);
    expect(gateNotes(open, open.nodes[3])).toEqual([]);
  });
  it("box an opened gate's parts in the browser's own layout too", () => {
    const t = squareTrace(true);
    const layout: Layout = fallbackLayout(t);
    const box = gateBoxes(t, layout.nodes).g1;
    const n = layout.nodes.n1;
    expect(box.label).toBe("square");
    expect(box.x - box.w / 2).toBeLessThan(n.x - n.w / 2);
    expect(box.y - box.h / 2).toBeLessThan(n.y - n.h / 2 - 20); // room for the title
    expect(fallbackLayout(squareTrace(false)).clusters).toEqual({});
  });
});
