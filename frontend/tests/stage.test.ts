import { describe, expect, it } from "vitest";
import { isWide, outputText, startStep } from "../src/stage";
import { circuit, circuitForward, matmul } from "./helpers";

describe("the stage's pure parts", () => {
  it("starts a trace at the step asked for, else at its last, saying why", () => {
    const t = circuit(); // 5 forward, 5 backward steps
    expect(startStep("b2", t)).toEqual({ index: 6, problem: null });
    expect(startStep("start", t)).toEqual({ index: 0, problem: null });
    expect(startStep(undefined, t)).toEqual({ index: 9, problem: null });
    expect(startStep(null, t)).toEqual({ index: 9, problem: null });
    const bad = startStep("b9", t);
    expect(bad.index).toBe(9);
    expect(bad.problem).toContain("no backward step 9");
    // Forward mode has no backward steps.
    const f = circuitForward();
    expect(startStep(null, f).index).toBe(f.forward.length - 1);
    expect(startStep("b1", f).problem).toContain("forward mode has forward steps only");
  });
  it("calls a graph wide when it is over three times wider than high", () => {
    expect(isWide({ width: 400, height: 100 })).toBe(true);
    expect(isWide({ width: 300, height: 100 })).toBe(false);
    expect(isWide({ width: 10, height: 0 })).toBe(true);
  });
  it("writes a small output in full and a large one as its shape", () => {
    expect(outputText(circuit())).toEqual({ value: "−12", shape: "" });
    const m = outputText(matmul());
    expect(m.value.length).toBeGreaterThan(0);
    expect(outputText({ value: [1, 2], shape: [2] }).shape).toBe("(2)");
    expect(outputText({ value: Array.from({ length: 20 }, () => 0), shape: [20] }).shape).toBe("");
  });
});
