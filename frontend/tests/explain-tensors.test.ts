// A tensor step's explanation writes its numbers: the upstream gradient, the VJP rule with the
// names and then with the actual matrices, = the downstream gradient (to 4 significant digits,
// the record's numbers), or heatmaps where a tensor is too large for a formula.

import { describe, expect, it } from "vitest";
import type { Tensor, Trace } from "../src/api";
import { autoSizeParens, edgeRule, elementwiseLocal, explainStep, isTensorRow, numbersLine, substituteRule, type Explanation } from "../src/explain";
import { OPS } from "../src/ops";
import { stepState } from "../src/steps";
import { bmatrixNumbers } from "../src/tensor-tex";
import { tinyCnn, twoLayer } from "./helpers";

const flat = (t: Tensor): number[] => (Array.isArray(t) ? t.flatMap(flat) : [t]);
/** Equal to 4 significant digits, as the formulas write them. */
const close4 = (shown: number[], want: number[]): void => {
  expect(shown.length).toBe(want.length);
  shown.forEach((x, i) => expect(Math.abs(x - want[i])).toBeLessThanOrEqual(Math.abs(want[i]) * 5e-4 + 1e-12));
};

function backwardAt(t: Trace, name: string): { ex: Explanation; k: number } {
  const k = t.backward.findIndex((s) => t.nodes.find((n) => n.id === s.node)?.name === name || s.node === name);
  return { ex: explainStep(t, stepState(t, t.forward.length + k)), k };
}

const lines = (ex: Explanation): string[] => ex.lines.filter((l): l is string => typeof l === "string");

describe("a matrix product's step", () => {
  const t = twoLayer(); // h = sigmoid(X @ W1): X @ W1 is a
  const { ex, k } = backwardAt(t, "n2");
  const step = t.backward[k];
  it("is titled by what the node is, and starts from the upstream matrix", () => {
    expect(ex.title).toBe("backward 10/12: a = X @ W1");
    expect(lines(ex)[0]).toMatch(/^da = \\frac\{\\partial \\mathrm\{cost\}\}\{\\partial a\} = \\begin\{bmatrix\}/);
    close4(bmatrixNumbers(lines(ex)[0]).flat(2), flat(step.upstream));
  });
  it("writes dW1 = Xᵀ da with X's and da's numbers, = the record's dW1", () => {
    const rule = lines(ex).indexOf("dW_{1} = X^{\\top}\\,da");
    expect(rule).toBeGreaterThan(0);
    const numbers = lines(ex)[rule + 1];
    const [xT, da, dW1] = bmatrixNumbers(numbers);
    expect(xT).toEqual([[0.1], [0.2]]); // X = [[0.1, 0.2]], transposed
    close4(da.flat(), flat(step.upstream));
    const e = step.edges.find((x) => x.source === "n1");
    close4(dW1.flat(), flat(e?.downstream ?? []));
    // The notes' number: dL/dW1[1,1] = -0.0026226947.
    expect(dW1[1][1]).toBe(-0.002623);
  });
  it("writes dX = da W1ᵀ", () => {
    const rule = lines(ex).indexOf("dX = da\\,W_{1}^{\\top}");
    const [da, w1T, dX] = bmatrixNumbers(lines(ex)[rule + 1]);
    close4(da.flat(), flat(step.upstream));
    expect(w1T).toEqual([[0.3, 0.5], [0.4, 0.6]]);
    close4(dX.flat(), flat(t.nodes[0].grad ?? []));
  });
});

describe("an elementwise step", () => {
  it("writes da = dh ⊙ local with the local derivative's numbers: σ(a)(1 - σ(a))", () => {
    const t = twoLayer();
    const { ex, k } = backwardAt(t, "h");
    const rule = lines(ex).indexOf("da = dh \\odot \\left(\\sigma(a)\\,(1 - \\sigma(a))\\right)");
    expect(rule).toBeGreaterThan(0);
    const [dh, local, da] = bmatrixNumbers(lines(ex)[rule + 1]);
    const a = flat(t.nodes[2].value);
    const s = a.map((x) => 1 / (1 + Math.exp(-x)));
    close4(local.flat(), s.map((x) => x * (1 - x)));
    close4(dh.flat(), flat(t.backward[k].upstream));
    close4(da.flat(), flat(t.backward[k].edges[0].downstream ?? []));
  });
  it("gets the local derivative from the Jacobian's rows, or downstream over upstream", () => {
    const e = { id: "e", source: "a", target: "b", arg: 0, local: null, local_formula: "", vjp_formula: "", broadcast: false, downstream: [2, 0, -3] };
    expect(elementwiseLocal(e, [1, 2, 3], [3])).toEqual([2, 0, -1]);
    expect(elementwiseLocal(e, [1, 0, 3], [3])).toBeNull(); // an upstream 0 tells nothing
    expect(elementwiseLocal({ ...e, jacobian: [[2, 0, 0], [0, 0.5, 0], [0, 0, -1]] }, [1, 0, 3], [3])).toEqual([2, 0.5, -1]);
    expect(elementwiseLocal({ ...e, broadcast: true, downstream: 5 }, [1, 2, 3], [3])).toBeNull();
  });
  it("sums a broadcast back: dy = Σ(dc ⊙ local), a scalar y", () => {
    const t = twoLayer();
    const { ex } = backwardAt(t, "n8"); // c = out - y, y a scalar
    expect(lines(ex)).toContain("dy = dc \\odot -1,\\ \\text{summed over broadcast axes to } scalar");
    expect(lines(ex).some((l) => l.startsWith("dy = \\textstyle\\sum_{\\text{broadcast axes}}\\left(") && l.endsWith(" = 0.309"))).toBe(true);
  });
});

describe("the VJP rule with numbers", () => {
  it("puts matrices into the registry's template, a right-hand vector as a column", () => {
    const [dW, dx] = OPS.matmul.vjp_tex;
    const values = { up: [1, 1, 1], out: [0, 0, 0], args: [[[1, 2], [3, 4], [5, 6]], [1, -1]] };
    const orient = { arg: ["row", "col"] as const, out: "col" as const };
    // z = W x (x a 2-vector, z a 3-vector): dW = dz xᵀ is a column times a row.
    expect(substituteRule(dW, values, { arg: [...orient.arg], out: orient.out })).toBe(
      "\\begin{bmatrix} 1 \\\\ 1 \\\\ 1 \\end{bmatrix}\\,\\begin{bmatrix} 1 & -1 \\end{bmatrix}",
    );
    expect(substituteRule(dx, values, { arg: [...orient.arg], out: orient.out })).toBe(
      "\\begin{bmatrix} 1 & 3 & 5 \\\\ 2 & 4 & 6 \\end{bmatrix}\\,\\begin{bmatrix} 1 \\\\ 1 \\\\ 1 \\end{bmatrix}",
    );
  });
  it("leaves alone what has no form with numbers: a matrix in an exponent, a hat", () => {
    const values = { up: [1, 2], out: [0.5, 0.5], args: [[0, 0]] };
    expect(substituteRule(OPS.logsumexp.vjp_tex[0], values, { arg: ["row"], out: "row" })).toBeNull();
    expect(substituteRule(OPS.matmul.vjp_tex[0], { ...values, args: [[0], Array.from({ length: 9 }, () => 1)] }, { arg: ["row", "row"], out: "row" })).toBeNull();
  });
  it("takes the record's formulas as written (in the nodes' names), the template where they are its", () => {
    const t = twoLayer();
    const mm = t.nodes[2]; // a = X @ W1
    const e = t.edges.find((x) => x.target === mm.id && x.arg === 1);
    if (!e) throw new Error("fixture");
    const rule = edgeRule(t, mm, e);
    expect(rule.local).toBe(e.local_formula);
    expect(rule.vjp).toBe("dW_{1} = X^{\\top}\\,da");
    expect(rule.template).toBe(OPS.matmul.vjp_tex[1]);
    // An instance with its own formula (a parameter the template does not have): the server's
    // words kept, and no numbers put into a template that is not the formula shown.
    const own = { ...e, vjp_formula: "dW_{1} = X^{\\top}\\,da\\,P", local_formula: "\\frac{\\partial a}{\\partial W_{1}} = P" };
    const ownRule = edgeRule(t, mm, own);
    expect(ownRule).toMatchObject({ local: own.local_formula, vjp: own.vjp_formula, template: null, localOnly: null });
  });
});

describe("tensors too large for a formula", () => {
  const t = tinyCnn();
  it("are heatmaps, named as on the graph, never shapes in angle brackets", () => {
    const total = t.forward.length + t.backward.length;
    let rows = 0;
    for (let i = 0; i < total; i++) {
      const ex = explainStep(t, stepState(t, i));
      expect(JSON.stringify(ex)).not.toMatch(/⟨|\\\\langle \d|null|NaN|undefined/);
      for (const l of ex.lines) if (isTensorRow(l)) rows += l.tensors.length;
    }
    expect(rows).toBeGreaterThan(5);
    const { ex } = backwardAt(t, "h");
    const row = ex.lines.find(isTensorRow);
    expect(row?.tensors.map((x) => x.name)).toEqual(["dh"]);
  });
  it("name conv2d's gradients by the nodes' names, as the record writes them", () => {
    const conv = t.nodes.find((n) => n.op === "conv2d");
    const { ex } = backwardAt(t, conv?.id ?? "");
    expect(ex.title).toBe("backward 8/10: a = conv2d(X, K, stride=2, padding=1)");
    expect(lines(ex).some((l) => l.startsWith("dX = ") && l.includes("(da, K;"))).toBe(true);
  });
});

describe("brackets around matrices", () => {
  it("grow to the matrix's height, and leave others alone", () => {
    const m = "\\begin{bmatrix} 1 \\end{bmatrix}";
    expect(autoSizeParens(`f(${m}, g(x))`)).toBe(`f\\left(${m}, g(x)\\right)`);
    expect(autoSizeParens(`\\langle ${m}, y \\rangle`)).toBe(`\\left\\langle ${m}, y \\right\\rangle`);
    expect(autoSizeParens("\\left( x \\right) (y)")).toBe("\\left( x \\right) (y)");
  });
});

describe("a wide line of numbers", () => {
  it("puts the result under the rule, aligned at =", () => {
    const row = (n: number): string => `\\begin{bmatrix} ${Array.from({ length: n }, () => "1").join(" & ")} \\end{bmatrix}`;
    expect(numbersLine("dx", row(2), row(2))).toBe(`dx = ${row(2)} = ${row(2)}`);
    expect(numbersLine("dx", `${row(3)} \\odot ${row(3)} - ${row(3)}`, row(3))).toBe(
      `\\begin{aligned}dx &= ${row(3)} \\odot ${row(3)} - ${row(3)}\\\\ &= ${row(3)}\\end{aligned}`,
    );
  });
});
