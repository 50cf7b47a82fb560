import { describe, expect, it } from "vitest";
import type { Trace } from "../src/api";
import {
  blockedText, moveOf, navigate, navKeysShort, navKeysText, nodeRelations, nodeSpoken, operandsOf, spokenTensor, usersOf,
  type Move, type NavGraph, type NavPlace,
} from "../src/graph-nav";
import { stepState, totalSteps } from "../src/steps";
import { circuit, circuitForward, fanout, matmul } from "./helpers";

/** The wires of a trace as node navigation follows them, drawn at `at` (node id: centre). */
function graphOf(t: Trace, direction: "right" | "down" = "right", at?: Record<string, [number, number]>): NavGraph {
  return { edges: t.edges, direction, at: at ? new Map(Object.entries(at)) : undefined };
}

/** Where a run of moves from `start` (just entered) ends, node by node. */
function walk(g: NavGraph, start: string, moves: Move[]): string[] {
  let place: NavPlace = { node: start, edge: null };
  const seen = [start];
  for (const m of moves) {
    place = navigate(g, place, m).place;
    seen.push(place.node);
  }
  return seen;
}

describe("node navigation: which node an arrow goes to", () => {
  it("an arrow is a move along the drawing's main axis, or across it", () => {
    // Drawn left to right: Left toward the inputs, Right toward the output, Up/Down across.
    expect(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].map((k) => moveOf(k, "right"))).toEqual(["operand", "user", "previous", "next"]);
    // Drawn top to bottom: Up toward the inputs, Down toward the output, Left/Right across.
    expect(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].map((k) => moveOf(k, "down"))).toEqual(["operand", "user", "previous", "next"]);
    expect(moveOf("Enter", "right")).toBeNull();
    expect(moveOf("r", "down")).toBeNull();
  });

  it("a node's neighbours are its operands (in operand order) and its users", () => {
    const g = graphOf(fanout()); // c = a + b; d = b + 1; e = c * d
    expect(operandsOf(g, "n5")).toEqual(["n2", "n4"]);
    expect(operandsOf(g, "n2")).toEqual(["n0", "n1"]);
    expect(operandsOf(g, "n0")).toEqual([]);
    expect(usersOf(g, "n1")).toEqual(["n2", "n4"]); // b feeds c and d
    expect(usersOf(g, "n5")).toEqual([]);
  });

  it("siblings and operands go in the order drawn across the axis, not the operands' order", () => {
    // d drawn above c (smaller y, drawn left to right): Up/Down meet d first.
    const at = { n0: [0, 0], n1: [0, 50], n2: [100, 80], n3: [0, 100], n4: [100, 10], n5: [200, 50] } as Record<string, [number, number]>;
    const g = graphOf(fanout(), "right", at);
    expect(operandsOf(g, "n5")).toEqual(["n4", "n2"]);
    expect(usersOf(g, "n1")).toEqual(["n4", "n2"]);
    // Drawn down, the cross axis is x: the same positions give the operands' x order.
    const down = graphOf(fanout(), "down", { ...at, n2: [20, 100], n4: [80, 100] });
    expect(operandsOf(down, "n5")).toEqual(["n2", "n4"]);
  });

  it("from the output to the input x and back, along the wires", () => {
    const g = graphOf(circuit()); // q = x + y (n2); f = q * z (n4)
    // f → its first operand q → q's first operand x.
    expect(walk(g, "n4", ["operand", "operand"])).toEqual(["n4", "n2", "n0"]);
    // At x, across: the other operand of q, y; and no further.
    expect(walk(g, "n4", ["operand", "operand", "next", "next"])).toEqual(["n4", "n2", "n0", "n1", "n1"]);
    // Toward the output goes back the way it came: y → q → f.
    expect(walk(g, "n4", ["operand", "operand", "next", "user", "user"])).toEqual(["n4", "n2", "n0", "n1", "n2", "n4"]);
  });

  it("toward the inputs again returns to the operand it came from", () => {
    const g = graphOf(circuit());
    // From z up to f, then back toward the inputs: z, not f's first operand q.
    expect(walk(g, "n3", ["user", "operand"])).toEqual(["n3", "n4", "n3"]);
    expect(walk(g, "n0", ["user", "operand"])).toEqual(["n0", "n2", "n0"]);
  });

  it("across, reached from an operand: the other users of that operand", () => {
    const g = graphOf(fanout()); // b (n1) feeds c (n2) and d (n4)
    expect(walk(g, "n1", ["user", "next"])).toEqual(["n1", "n2", "n4"]);
    // And back toward the inputs from d: b, the node it came from.
    expect(walk(g, "n1", ["user", "next", "operand"])).toEqual(["n1", "n2", "n4", "n1"]);
    // Just entered at b: its siblings are the other operands of its first user c (a before b).
    expect(walk(g, "n1", ["previous"])).toEqual(["n1", "n0"]);
  });

  it("a move that goes nowhere stays, and says why", () => {
    const g = graphOf(circuit());
    const at: NavPlace = { node: "n0", edge: null };
    expect(navigate(g, at, "operand")).toEqual({ place: at, blocked: "inputs" });
    const out: NavPlace = { node: "n4", edge: null };
    expect(navigate(g, out, "user")).toEqual({ place: out, blocked: "output" });
    expect(navigate(g, out, "next").blocked).toBe("alone");
    expect(navigate(g, { node: "n0", edge: "e0" }, "previous").blocked).toBe("first");
    expect(navigate(g, { node: "n1", edge: "e1" }, "next").blocked).toBe("last");
    expect(blockedText("inputs", "x", "operand")).toBe("x has no operands: nothing comes into it.");
    expect(blockedText("output", "f", "user")).toBe("f is the output: nothing uses it.");
    expect(blockedText("last", "y", "next")).toContain("after y");
  });

  it("the same node twice (x * x): both wires are siblings", () => {
    const twice: NavGraph = { direction: "right", edges: [{ id: "a", source: "x", target: "m", arg: 0 }, { id: "b", source: "x", target: "m", arg: 1 }] };
    const first = navigate(twice, { node: "m", edge: null }, "operand").place;
    expect(first).toEqual({ node: "x", edge: "a" });
    expect(navigate(twice, first, "next").place).toEqual({ node: "x", edge: "b" });
  });

  it("the keys in words follow the direction drawn", () => {
    expect(navKeysText("right")).toMatch(/^Left arrow: toward the inputs; Right arrow: toward the output; Up and Down/);
    expect(navKeysText("down")).toMatch(/^Up arrow: toward the inputs; Down arrow: toward the output; Left and Right/);
    for (const d of ["right", "down"] as const) {
      expect(navKeysText(d)).toContain("Escape: back to stepping");
      expect(navKeysShort(d)).toContain("Esc");
    }
  });
});

describe("what a node says when the keyboard lands on it", () => {
  it("names it, what it computes, and what is known of it at the step", () => {
    const t = circuit();
    const last = stepState(t, totalSteps(t) - 1);
    expect(nodeSpoken(t, last, "n0")).toBe("x (input), value minus 2, gradient minus 4, this step's node");
    expect(nodeSpoken(t, last, "n2")).toBe("q = x + y, value 3, gradient minus 4");
    expect(nodeSpoken(t, last, "n4")).toBe("f = q * z, value minus 12, gradient 1, the output");
    // At the first forward step nothing but x's value is known.
    const first = stepState(t, 0);
    expect(nodeSpoken(t, first, "n0")).toBe("x (input), value minus 2, no gradient yet, this step's node");
    expect(nodeSpoken(t, first, "n4")).toBe("f = q * z, no value yet, no gradient yet, the output");
  });

  it("says a gradient as the trace has it (every number parses back)", () => {
    const t = circuit();
    const st = stepState(t, totalSteps(t) - 1);
    for (const n of t.nodes) {
      const said = nodeSpoken(t, st, n.id);
      const m = /gradient (minus )?([\d.]+)/.exec(said);
      expect(m, said).not.toBeNull();
      const g = (m?.[1] ? -1 : 1) * Number(m?.[2]);
      expect(g).toBe(n.grad);
    }
  });

  it("forward mode: the tangent in place of the gradient", () => {
    const t = circuitForward();
    const st = stepState(t, totalSteps(t) - 1);
    expect(nodeSpoken(t, st, "n4")).toBe("f = a * z, value minus 12, tangent along x minus 4, the output, this step's node");
    // y does not depend on x: its tangent is 0.
    expect(nodeSpoken(t, st, "n1")).toBe("y (input), value 5, tangent along x 0");
  });

  it("then where it sits among the wires (its description)", () => {
    const t = fanout(); // c = a + b; d = b + 1; e = c * d
    expect(nodeRelations(t, "n1")).toBe("used by c and d");
    expect(nodeRelations(t, "n4")).toBe("operands b and 1; used by e");
    expect(nodeRelations(t, "n5")).toBe("operands c and d");
  });

  it("a tensor by its shape, with its numbers when they are few", () => {
    expect(spokenTensor(-4)).toBe("minus 4");
    expect(spokenTensor([-2, 1, 1])).toBe("a vector of 3 numbers: minus 2, 1, 1");
    expect(spokenTensor([[1, 2], [3, 4]])).toBe("a 2 by 2 matrix: 1, 2; 3, 4");
    expect(spokenTensor([1, 2, 3, 4, 5, 6, 7])).toBe("a vector of 7 numbers");
    const t = matmul();
    const st = stepState(t, totalSteps(t) - 1);
    expect(nodeSpoken(t, st, "n0")).toBe("x (input), value a 2 by 2 matrix: 3, 4; 5, 6, gradient a 2 by 2 matrix: 14, 20; 32, 46, this step's node");
  });
});
