import { describe, expect, it } from "vitest";
import { explainStep, nodeTex, pluggedIn, plugNumbers, texName, texNumber, texText } from "../src/explain";
import { OPS } from "../src/ops";
import { stepState } from "../src/steps";
import { circuit, fanout, matmul } from "./helpers";

describe("LaTeX pieces", () => {
  it("writes names and numbers", () => {
    expect(texName("x")).toBe("x");
    expect(texName("W1")).toBe("W_{1}");
    expect(texName("w_0")).toBe("w_{0}");
    expect(texName("pred")).toBe("\\mathrm{pred}");
    expect(texNumber(-4)).toBe("-4");
    expect(texNumber(-4, true)).toBe("(-4)");
    expect(texNumber(1.5e-7, true)).toBe("(1.5\\times 10^{-7})");
    expect(texNumber(Infinity)).toBe("\\infty");
    expect(texText("a_b{c}")).toBe("a\\_b\\{c\\}");
  });
  it("names unnamed ops by their symbol, and an unnamed output L", () => {
    const t = circuit();
    t.nodes[2].name = null;
    t.nodes[2].label = "+";
    expect(nodeTex(t, t.nodes[2])).toBe("[+]");
    t.nodes[4].name = null;
    expect(nodeTex(t, t.nodes[4])).toBe("L");
  });
  it("writes an unnamed power as a power, not as \\wedge (logical and)", () => {
    const t = circuit();
    t.nodes[2].name = null;
    t.nodes[2].label = "^";
    t.nodes[2].op = "pow";
    expect(nodeTex(t, t.nodes[2])).toBe("[(\\cdot)^{\\cdot}]");
    expect(nodeTex(t, t.nodes[2])).not.toContain("wedge");
  });
});

describe("explainStep", () => {
  it("plugs numbers into the chain rule: dL/dx = dq/dx * dL/dq = 1 * (-4) = -4", () => {
    const t = circuit();
    const ex = explainStep(t, stepState(t, 7)); // backward 3/5 at q
    expect(ex.title).toContain("backward 3/5");
    expect(ex.lines).toContain(
      "\\frac{\\partial f}{\\partial x} = \\frac{\\partial q}{\\partial x}\\cdot\\frac{\\partial f}{\\partial q} = 1\\cdot(-4) = -4" +
        "\\qquad\\left(\\frac{\\partial\\,(x + y)}{\\partial x} = 1\\right)",
    );
    expect(ex.lines[0]).toBe("\\frac{\\partial f}{\\partial q} = -4\\quad\\text{(upstream)}");
    expect(ex.notes[0]).toMatch(/add gate distributes/);
  });
  it("starts the backward pass from the seed", () => {
    const t = circuit();
    const ex = explainStep(t, stepState(t, 5));
    expect(ex.lines[0]).toBe("\\frac{\\partial f}{\\partial f} = 1\\quad\\text{(the seed)}");
    expect(ex.lines.some((l) => l.startsWith(
      "\\frac{\\partial f}{\\partial z} = \\frac{\\partial f}{\\partial z}\\cdot\\frac{\\partial f}{\\partial f} = 3\\cdot1 = 3",
    ))).toBe(true);
    expect(ex.notes[0]).toMatch(/multiply gate swaps/);
  });
  it("sums a fan-out gradient term by term", () => {
    const t = fanout();
    const i = t.forward.length + t.backward.findIndex((s) => s.node === "n1");
    const ex = explainStep(t, stepState(t, i));
    expect(ex.lines[0]).toBe("\\frac{\\partial e}{\\partial b} = 2 + 3 = 5");
    expect(ex.notes.join(" ")).toMatch(/copy gate sums/);
  });
  it("gives shapes and the VJP rule for tensor edges, never a Jacobian", () => {
    const t = matmul();
    const ex = explainStep(t, stepState(t, t.forward.length));
    const all = ex.lines.join("\n");
    expect(all).toContain("x: 2×2");
    expect(all).toContain("\\text{VJP: }dx = dz\\,y^{\\top}");
    expect(all).not.toMatch(/begin\{[pb]matrix\}/);
  });
  it("explains a forward step with the source text", () => {
    const t = circuit();
    const ex = explainStep(t, stepState(t, 2)); // forward 3/5: q = x + y
    expect(ex.lines[0]).toBe("q = \\texttt{x + y} = -2 + 5 = 3");
    const ex2 = explainStep(t, stepState(t, 4)); // forward 5/5: f = q * z
    expect(ex2.lines[0]).toBe("f = \\texttt{q * z} = 3\\cdot(-4) = -12");
  });
});

describe("pluggedIn", () => {
  it("writes an op on its operands' values, and nothing for tensors", () => {
    const t = circuit();
    const q = t.nodes[2];
    q.op = "div";
    expect(pluggedIn(t, q)).toBe("\\frac{-2}{5}");
    q.op = "max";
    expect(pluggedIn(t, q)).toBe("\\max(-2, 5)");
    q.op = "conv2d";
    expect(pluggedIn(t, q)).toBeNull();
    expect(pluggedIn(t, t.nodes[0])).toBeNull();
    const m = matmul();
    expect(pluggedIn(m, m.nodes[2])).toBeNull();
  });
  it("takes the op's formula from the registry (src/generated/ops.json)", () => {
    const t = circuit();
    const q = t.nodes[2];
    const cases: [string, string][] = [
      ["add", "-2 + 5"], ["sub", "-2 - 5"], ["mul", "(-2)\\cdot5"], ["pow", "(-2)^{5}"], ["min", "\\min(-2, 5)"],
    ];
    for (const [op, tex] of cases) {
      q.op = op;
      expect(pluggedIn(t, q), op).toBe(tex);
    }
    q.op = "sum"; // not elementwise: no formula on numbers
    expect(pluggedIn(t, q)).toBeNull();
  });
  it("fills every elementwise op of the language without a slot left over", () => {
    for (const [name, info] of Object.entries(OPS)) {
      if (!info.language || !info.elementwise) continue;
      const tex = plugNumbers(info.tex, [-1.5, 2, 3].slice(0, info.arity));
      expect(tex, name).not.toMatch(/#\d#/);
      expect(tex, name).toContain("1.5");
    }
    expect(plugNumbers("\\sqrt{#0#}", [-2])).toBe("\\sqrt{-2}");
    expect(plugNumbers("\\cos #0#", [-2])).toBe("\\cos (-2)");
    expect(plugNumbers("-#0#", [1e-9])).toBe("-(1\\times 10^{-9})");
  });
});

describe("an unnamed output", () => {
  it("is L in the chain rule and its op in the local derivative", () => {
    const t = circuit();
    t.nodes[4].name = null;
    t.nodes[4].label = "×";
    const ex = explainStep(t, stepState(t, 5));
    expect(ex.lines[0]).toBe("\\frac{\\partial L}{\\partial L} = 1\\quad\\text{(the seed)}");
    expect(ex.lines.some((l) => l.startsWith(
      "\\frac{\\partial L}{\\partial z} = \\frac{\\partial [\\times]}{\\partial z}\\cdot\\frac{\\partial L}{\\partial L} = 3\\cdot1 = 3",
    ))).toBe(true);
  });
});
