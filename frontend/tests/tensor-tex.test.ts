import { describe, expect, it } from "vitest";
import { bmatrix, bmatrixNumbers, fitsFormula, MAX_SIDE, matrixRows, tensorTex, texNumber, transpose } from "../src/tensor-tex";

describe("tensors in formulas", () => {
  it("writes a vector as a row, a matrix as its rows, numbers to 4 significant digits", () => {
    expect(tensorTex([0.1, 0.2, 0.7])).toBe("\\begin{bmatrix} 0.1 & 0.2 & 0.7 \\end{bmatrix}");
    expect(tensorTex([[1, -2], [0.532454, 4]])).toBe("\\begin{bmatrix} 1 & -2 \\\\ 0.5325 & 4 \\end{bmatrix}");
    expect(tensorTex([1.5e-7])).toBe("\\begin{bmatrix} 1.5\\times 10^{-7} \\end{bmatrix}");
  });
  it("takes a right-hand vector as a column, and transposes on demand", () => {
    expect(tensorTex([1, 2], "col")).toBe("\\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}");
    expect(tensorTex([[1, 2], [3, 4]], "row", true)).toBe("\\begin{bmatrix} 1 & 3 \\\\ 2 & 4 \\end{bmatrix}");
    expect(transpose([[1, 2, 3]])).toEqual([[1], [2], [3]]);
  });
  it("writes a scalar as a number, in parentheses when negative unless asked not to", () => {
    expect(tensorTex(-0.5)).toBe("(-0.5)");
    expect(tensorTex(-0.5, "row", false, false)).toBe("-0.5");
    expect(texNumber(-4, true)).toBe("(-4)");
  });
  it("squeezes leading axes of 1 and leaves larger tensors to a heatmap", () => {
    expect(matrixRows([[[[1, 2], [3, 4]]]])).toEqual([[1, 2], [3, 4]]);
    expect(matrixRows([[[1], [2]], [[3], [4]]])).toBeNull();
    const side = Array.from({ length: MAX_SIDE }, (_, i) => i);
    expect(fitsFormula(side.map(() => side))).toBe(true);
    expect(fitsFormula([...side, 8].map(() => side))).toBe(false);
    expect(tensorTex(Array.from({ length: 9 }, (_, i) => i))).toBeNull();
    expect(fitsFormula(3)).toBe(true);
  });
  it("reads its own numbers back", () => {
    const tex = `dW = ${bmatrix([[1, -0.002623], [3e-9, 4]])}`;
    expect(bmatrixNumbers(tex)).toEqual([[[1, -0.002623], [3e-9, 4]]]);
  });
});
