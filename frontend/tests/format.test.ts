import { describe, expect, it } from "vitest";
import {
  contrast, flatten, formatNumber, formatShape, formatShort, formatTensor, heatColor, heatRgb, heatTextColor, hexRgb,
  isVectorShape, luminance, maxAbs, parseNumber, plainNumber, plainTensor, shapeOf, shapeWords, toGrid,
} from "../src/format";

describe("formatNumber", () => {
  it("prints integers without a decimal point and uses a real minus sign", () => {
    expect(formatNumber(-4)).toBe("−4");
    expect(formatNumber(3)).toBe("3");
    expect(formatNumber(-12, 4, "-")).toBe("-12");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(-0)).toBe("0");
  });
  it("keeps four significant digits and drops trailing zeros", () => {
    expect(formatNumber(0.7310585786300049)).toBe("0.7311");
    expect(formatNumber(0.25)).toBe("0.25");
    expect(formatNumber(-0.19661193324148188)).toBe("−0.1966");
    expect(formatNumber(1.5, 3)).toBe("1.5");
    expect(formatNumber(12345.678)).toBe("12350");
  });
  it("switches to exponent notation for tiny and huge numbers", () => {
    expect(formatNumber(0.0000123)).toBe("1.23e−5");
    expect(formatNumber(1.5e12)).toBe("1.5e12");
    expect(formatNumber(-2.5e-7, 4, "-")).toBe("-2.5e-7");
  });
  it("names non-finite numbers", () => {
    expect(formatNumber(Infinity)).toBe("∞");
    expect(formatNumber(-Infinity)).toBe("−∞");
    expect(formatNumber(NaN)).toBe("NaN");
  });
});

describe("plain text for data attributes", () => {
  it("is full precision ASCII", () => {
    expect(plainNumber(-4)).toBe("-4");
    expect(plainNumber(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(plainNumber(-Infinity)).toBe("-Infinity");
    expect(plainTensor([[1, -2], [3.5, NaN]])).toBe("[[1,-2],[3.5,NaN]]");
  });
});

describe("tensors", () => {
  it("knows shapes and sizes", () => {
    expect(shapeOf(3)).toEqual([]);
    expect(shapeOf([1, 2, 3])).toEqual([3]);
    expect(shapeOf([[1, 2, 3], [4, 5, 6]])).toEqual([2, 3]);
    expect(formatShape([2, 3])).toBe("2×3");
    expect(formatShape([])).toBe("scalar");
    expect(flatten([[1, 2], [3, 4]])).toEqual([1, 2, 3, 4]);
  });
  it("lists a short vector on the graph, and writes a longer tensor's shape, never as a bare number", () => {
    // x = [-2, 1, 1] on a graph label (maxElements 1): its numbers, 2 significant digits.
    expect(formatShort([-2, 1, 1], 1)).toBe("[−2, 1, 1]");
    expect(formatShort([0.5324543063873187, 0.5399148845555657], 1)).toBe("[0.53, 0.54]");
    // A 1×n or n×1 matrix is the same short list.
    expect(formatShort([[0.1, 0.2, 0.7]], 1)).toBe("[0.1, 0.2, 0.7]");
    expect(formatShort([[1], [2], [3]], 1)).toBe("[1, 2, 3]");
    // Longer: the shape as the notes write it, and a vector's never a bare number (5 would read
    // as a value).
    expect(formatShort([1, 2, 3, 4, 5], 1)).toBe("5-vector");
    expect(formatShort([1, 2, 3, 4, 5], 1)).not.toMatch(/^\d+$/);
    expect(formatShort([[1, 2], [3, 4]], 1)).toBe("2×2");
    expect(formatShort([[[1, 2], [3, 4]]], 1)).toBe("1×2×2");
  });
  it("prints small tensors in brackets and large ones as their shape", () => {
    expect(formatTensor([[1, -2], [0.5, 4]])).toBe("[[1, −2], [0.5, 4]]");
    expect(formatShort([1, 2, 3])).toBe("[1, 2, 3]");
    expect(formatShort([1, 2, 3, 4])).toBe("4-vector");
    expect(formatShort([[1, 2], [3, 4]], 4)).toBe("[[1, 2], [3, 4]]");
    expect(formatShort([[1, 2, 3], [4, 5, 6]], 1)).toBe("2×3");
    expect(formatShort([[[1], [2]]], 1)).toBe("[1, 2]");
    expect(formatShort([5], 1)).toBe("[5]");
    expect(formatShort(-0.5)).toBe("−0.5");
    expect(formatShort(null)).toBe("");
    expect(shapeWords([3])).toBe("3-vector");
    expect(shapeWords([1, 3])).toBe("1×3");
    expect(isVectorShape([1, 3])).toBe(true);
    expect(isVectorShape([2, 3])).toBe(false);
  });
  it("writes shapes as the notes do: 3 for a vector, 1×3 for a matrix", () => {
    expect(formatShape([3])).toBe("3");
    expect(formatShape([1, 3])).toBe("1×3");
  });
  it("folds tensors into display grids", () => {
    expect(toGrid(5)).toEqual([[5]]);
    expect(toGrid([1, 2])).toEqual([[1, 2]]);
    expect(toGrid([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])).toEqual([[1, 2], [3, 4], [5, 6], [7, 8]]);
  });
  it("scales heat colours by the largest finite magnitude", () => {
    expect(maxAbs([[1, -3], [Infinity, 2]])).toBe(3);
    expect(maxAbs([0, 0])).toBe(1);
    expect(heatColor(0, 1)).toBe("rgb(255, 255, 255)");
    expect(heatColor(1, 1)).toBe("rgb(213, 94, 0)");
    expect(heatColor(-2, 1)).toBe("rgb(0, 114, 178)");
    expect(heatColor(NaN, 1)).toBe("rgb(128, 128, 128)");
  });
});

describe("parseNumber", () => {
  it("accepts what people type", () => {
    expect(parseNumber("-2")).toBe(-2);
    expect(parseNumber(" 5 ")).toBe(5);
    expect(parseNumber("−4")).toBe(-4);
    expect(parseNumber(".5")).toBe(0.5);
    expect(parseNumber("1e-3")).toBe(0.001);
  });
  it("rejects partial or invalid input", () => {
    for (const s of ["", "-", ".", "1e", "abc", "1,5", "Infinity", "1e999"]) expect(parseNumber(s)).toBeNull();
  });
});

describe("heat colours' text", () => {
  it("is at least 4.5:1 on every cell colour, over the whole range and off it", () => {
    // Every colour the ramp gives (x / scale from -1.2 to 1.2 in steps of 0.001), and the grey of
    // a number that is not finite: the cell's text (black or white) against its colour.
    let least = Infinity;
    const xs = [NaN, Infinity, -Infinity];
    for (let i = -1200; i <= 1200; i++) xs.push(i / 1000);
    for (const x of xs) {
      const text = hexRgb(heatTextColor(x, 1));
      least = Math.min(least, contrast(heatRgb(x, 1), text));
    }
    expect(least).toBeGreaterThanOrEqual(4.5);
  });
  it("computes WCAG luminance and contrast", () => {
    expect(luminance([255, 255, 255])).toBeCloseTo(1, 6);
    expect(contrast([0, 0, 0], [255, 255, 255])).toBeCloseTo(21, 6);
    expect(contrast(hexRgb("#777"), [255, 255, 255])).toBeCloseTo(4.48, 2);
    expect(hexRgb("#0072b2")).toEqual([0, 114, 178]);
  });
});
