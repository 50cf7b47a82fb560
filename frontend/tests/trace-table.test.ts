import { describe, expect, it } from "vitest";
import { stepState, totalSteps } from "../src/steps";
import { tableCaption, tableColumns, tableRows, tableValue } from "../src/trace-table";
import { circuit, circuitForward, fanout, matmul, twoLayer } from "./helpers";

describe("the table view's rows", () => {
  it("one row per step, in order, named as the step controls name them", () => {
    for (const t of [circuit(), fanout(), matmul(), circuitForward(), twoLayer()]) {
      const rows = tableRows(t);
      expect(rows.length).toBe(totalSteps(t));
      rows.forEach((r, i) => {
        expect(r.index).toBe(i);
        expect(r.step).toBe(stepState(t, i).label);
      });
    }
  });

  it("a forward step: the node, what it computes, its value; nothing of gradients yet", () => {
    const rows = tableRows(circuit()); // q = x + y; f = q * z, x=-2, y=5, z=-4
    expect(rows[0]).toMatchObject({ step: "forward 1/5", node: "x (input)", value: "−2", upstream: "", edges: [] });
    expect(rows[2]).toMatchObject({ step: "forward 3/5", node: "q = x + y", value: "3" });
    expect(rows[4]).toMatchObject({ step: "forward 5/5", node: "f = q * z", value: "−12" });
  });

  it("a backward step: the gradient received and, per operand, the local derivative and the gradient sent", () => {
    const rows = tableRows(circuit());
    expect(rows[5]).toMatchObject({ step: "backward 1/5", node: "f = q * z", upstream: "1" });
    expect(rows[5].edges).toEqual([
      { operand: "q", local: "−4", localTex: null, sent: "−4" },
      { operand: "z", local: "3", localTex: null, sent: "3" },
    ]);
    expect(rows[7]).toMatchObject({ step: "backward 3/5", node: "q = x + y", upstream: "−4" });
    expect(rows[7].edges.map((e) => [e.operand, e.local, e.sent])).toEqual([["x", "1", "−4"], ["y", "1", "−4"]]);
    // An input sends nothing on.
    expect(rows[9]).toMatchObject({ node: "x (input)", upstream: "−4", edges: [] });
  });

  it("a node used twice receives the sum of its parts", () => {
    const rows = tableRows(fanout()); // c = a + b; d = b + 1; e = c * d
    const b = rows.find((r) => r.step.startsWith("backward") && r.node === "b (input)");
    expect(b?.upstream).toBe("5");
  });

  it("tensors by their shape and short form; a tensor op's local derivative as its rule", () => {
    const rows = tableRows(matmul()); // z = x @ y, 2×2 each
    expect(rows[0].value).toBe("2×2 [[3, 4], [5, 6]]");
    const first = rows[3];
    expect(first.upstream).toBe("2×2 [[1, 2], [3, 4]]");
    expect(first.edges[0]).toEqual({ operand: "x", local: null, localTex: "\\frac{\\partial\\,(x\\,y)}{\\partial x} = y^{\\top}", sent: "2×2 [[14, 20], [32, 46]]" });
    expect(tableValue([1, 2, 3, 4, 5, 6, 7])).toBe("7-vector");
    expect(tableValue(-0.0000123456)).toBe("−1.235e−5");
  });

  it("forward mode: each step's value and tangent", () => {
    const t = circuitForward(); // (x + y) * z along x
    const rows = tableRows(t);
    expect(rows.map((r) => r.tangent)).toEqual(["1", "0", "1", "0", "−4"]);
    expect(rows.every((r) => r.upstream === "" && r.edges.length === 0)).toBe(true);
    expect(tableColumns(t.mode, t.wrt ?? null)).toEqual(["step", "node", "value", "tangent along x"]);
  });

  it("says what it holds in its caption and headers", () => {
    expect(tableCaption(circuit())).toBe("Every step of q = x + y; f = q * z, in order");
    expect(tableCaption(circuitForward())).toBe("Every step of (x + y) * z, forward mode along x, in order");
    expect(tableColumns("reverse")).toEqual(["step", "node", "value", "gradient received (upstream)", "local derivative, per operand", "gradient sent, per operand"]);
  });
});
