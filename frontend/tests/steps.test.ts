import { describe, expect, it } from "vitest";
import { clampStep, firstBackward, inputNamesOf, keepStep, nodeIndex, stepLabel, stepState, totalSteps } from "../src/steps";
import { circuit, fanout } from "./helpers";

describe("step model", () => {
  const t = circuit(); // q = x + y; f = q * z: 5 forward steps, 5 backward steps

  it("counts forward then backward steps", () => {
    expect(totalSteps(t)).toBe(10);
    expect(firstBackward(t)).toBe(5);
    expect(clampStep(-3, 10)).toBe(0);
    expect(clampStep(42, 10)).toBe(9);
    expect(clampStep(3, 0)).toBe(0);
    expect(keepStep(7, t)).toBe(7);
    expect(stepLabel("backward", 3, 7)).toBe("backward 3/7");
  });

  it("shows the first k values at forward step k", () => {
    const s = stepState(t, 1);
    expect(s.label).toBe("forward 2/5");
    expect([...s.valued]).toEqual(["n0", "n1"]);
    expect(s.graded.size).toBe(0);
    expect(s.current).toBe("n1");
    expect(s.backward).toBeNull();
  });

  it("at the first backward step: every value, the output's gradient, its in-edges sending", () => {
    const s = stepState(t, 5);
    expect(s.label).toBe("backward 1/5");
    expect(s.valued.size).toBe(5);
    expect([...s.graded]).toEqual(["n4"]);
    expect(s.current).toBe("n4");
    expect(s.sending.sort()).toEqual(["e2", "e3"]);
    expect(s.arriving).toEqual([]);
    expect([...s.edgeGrads].sort()).toEqual(["e2", "e3"]);
  });

  it("at a middle backward step: upstream arrives along out-edges, in-edges send", () => {
    const s = stepState(t, 7); // backward 3/5: node q (n2)
    expect(s.label).toBe("backward 3/5");
    expect(s.current).toBe("n2");
    expect(s.arriving).toEqual(["e2"]);
    expect(s.sending.sort()).toEqual(["e0", "e1"]);
    expect(s.backward?.upstream).toBe(-4);
  });

  it("knows every gradient at the last step", () => {
    const s = stepState(t, 9);
    expect(s.label).toBe("backward 5/5");
    expect(s.graded.size).toBe(5);
    expect(s.edgeGrads.size).toBe(4);
  });

  it("a fan-out node sums its terms at its own step", () => {
    const f = fanout(); // c = a + b; d = b + 1; e = c * d
    const i = f.forward.length + f.backward.findIndex((s) => s.node === "n1");
    const s = stepState(f, i);
    expect(s.current).toBe("n1");
    expect(s.backward?.terms.map((x) => x.value)).toEqual([2, 3]);
    expect(s.backward?.upstream).toBe(5);
    expect(s.arriving.sort()).toEqual(["e1", "e2"]);
  });
});

describe("node index", () => {
  it("indexes a trace's nodes once and lists its inputs in forward order", () => {
    const t = circuit();
    const a = nodeIndex(t);
    expect(a.size).toBe(t.nodes.length);
    expect(nodeIndex(t)).toBe(a); // built once per trace
    for (const n of t.nodes) expect(a.get(n.id)).toBe(n);
    expect(inputNamesOf(t)).toEqual(t.forward.map((id) => a.get(id)).filter((n) => n?.kind === "input").map((n) => n?.name));
    expect(inputNamesOf(t)).toEqual(expect.arrayContaining(["x", "y", "z"]));
  });
});
