import { describe, expect, it } from "vitest";
import { explainStep, nodeTex, pluggedIn, plugNumbers, texNumber, texText } from "../src/explain";
import type { TraceNode } from "../src/api";
import { OPS } from "../src/ops";
import { stepState } from "../src/steps";
import { circuit, fanout, indexAssign, logZero, matmul, twoLayer } from "./helpers";

describe("LaTeX pieces", () => {
  it("writes names (the record's) and numbers", () => {
    const t = twoLayer();
    const tex = (name: string): string => nodeTex(t, t.nodes.find((n) => n.name === name) as TraceNode);
    expect(tex("X")).toBe("X");
    expect(tex("W1")).toBe("W_{1}");
    expect(tex("out")).toBe("\\mathrm{out}");
    expect(texNumber(-4)).toBe("-4");
    expect(texNumber(-4, true)).toBe("(-4)");
    expect(texNumber(1.5e-7, true)).toBe("(1.5\\times 10^{-7})");
    expect(texNumber(Infinity)).toBe("\\infty");
    expect(texText("a_b{c}")).toBe("a\\_b\\{c\\}");
  });
  it("names each node by the record's name in formulas: W_{1}, y', \\texttt{x[0]}, an unnamed output f", () => {
    const t = twoLayer();
    expect(t.nodes.map((n) => nodeTex(t, n)).slice(0, 4)).toEqual(["X", "W_{1}", "a", "h"]);
    const ia = indexAssign();
    expect(nodeTex(ia, ia.nodes[2])).toBe("\\texttt{x[0]}");
    expect(nodeTex(ia, ia.nodes[7])).toBe("y'");
    const l = logZero(); // log(x): the output unnamed
    expect(nodeTex(l, l.nodes[1])).toBe("f");
    // The record's name, whatever it is: the formulas never name a node on their own.
    const c = circuit();
    c.nodes[2].display_tex = "q_{\\mathrm{sum}}";
    expect(nodeTex(c, c.nodes[2])).toBe("q_{\\mathrm{sum}}");
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
  it("starts the backward pass from the output gradient", () => {
    const t = circuit();
    const ex = explainStep(t, stepState(t, 5));
    expect(ex.lines[0]).toBe("\\frac{\\partial f}{\\partial f} = 1\\quad\\text{(the output gradient)}");
    expect(ex.lines.some((l) => typeof l === "string" && l.startsWith(
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
  it("writes a tensor step's numbers: upstream, the VJP rule with the matrices, downstream", () => {
    const t = matmul(); // z = x @ y, output gradient [[1, 2], [3, 4]]
    const ex = explainStep(t, stepState(t, t.forward.length));
    expect(ex.title).toBe("backward 1/3: z = x @ y");
    expect(ex.lines[0]).toBe("dz = \\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}\\quad\\text{(the output gradient)}");
    // dx = dz yᵀ: the rule with the names, then with the numbers (y transposed), = dx.
    expect(ex.lines).toContain("dx = dz\\,y^{\\top}");
    expect(ex.lines).toContain(
      "dx = \\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}\\,\\begin{bmatrix} 4 & 6 \\\\ 5 & 7 \\end{bmatrix}" +
        " = \\begin{bmatrix} 14 & 20 \\\\ 32 & 46 \\end{bmatrix}",
    );
    expect(ex.lines).toContain(
      "dy = \\begin{bmatrix} 3 & 5 \\\\ 4 & 6 \\end{bmatrix}\\,\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}" +
        " = \\begin{bmatrix} 18 & 26 \\\\ 22 & 32 \\end{bmatrix}",
    );
    // No angle-bracket shapes where numbers belong.
    expect(JSON.stringify(ex.lines)).not.toMatch(/langle|⟨/);
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
  it("is f in the chain rule, as on the graph (the record's name)", () => {
    const t = logZero(); // log(x) at x = 0: f = log(x)
    const ex = explainStep(t, stepState(t, t.forward.length));
    expect(ex.title).toBe("backward 1/2: f = log(x)");
    expect(ex.lines[0]).toBe("\\frac{\\partial f}{\\partial f} = 1\\quad\\text{(the output gradient)}");
    // A record built by hand: the circuit with its output unnamed, named f as the server names it.
    const c = circuit();
    c.nodes[4].name = null;
    c.nodes[4].label = "×";
    c.nodes[4].display = "f";
    c.nodes[4].display_tex = "f";
    const ex2 = explainStep(c, stepState(c, 5));
    expect(ex2.title).toBe("backward 1/5: f = q * z");
    expect(ex2.lines.some((l) => typeof l === "string" && l.startsWith(
      "\\frac{\\partial f}{\\partial z} = \\frac{\\partial f}{\\partial z}\\cdot\\frac{\\partial f}{\\partial f} = 3\\cdot1 = 3",
    ))).toBe(true);
  });
});
