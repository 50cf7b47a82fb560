import { describe, expect, it } from "vitest";
import {
  diffNames, filled, fitTo, gradView, gradWords, gridFits, inputView, parseShape, resize, sameTensor, setAt, sliderRange,
  sourceWords,
} from "../src/values-model";

describe("values panel diffing", () => {
  it("adds new names and removes gone ones", () => {
    expect(diffNames(["x", "y", "z"], ["x", "z", "w"])).toEqual({ add: ["w"], remove: ["y"] });
    expect(diffNames([], ["a"])).toEqual({ add: ["a"], remove: [] });
    expect(diffNames(["a"], ["a"])).toEqual({ add: [], remove: [] });
  });
});

describe("shapes and tensors", () => {
  it("parses shapes", () => {
    expect(parseShape("")).toEqual([]);
    expect(parseShape("scalar")).toEqual([]);
    expect(parseShape("3")).toEqual([3]);
    expect(parseShape("2x3")).toEqual([2, 3]);
    expect(parseShape("2×3")).toEqual([2, 3]);
    expect(parseShape("2, 3, 4")).toEqual([2, 3, 4]);
    expect(parseShape("0")).toBeNull();
    expect(parseShape("a")).toBeNull();
  });
  it("resizes, keeping what fits", () => {
    expect(resize(5, [2])).toEqual([5, 0]);
    expect(resize([[1, 2], [3, 4]], [3, 1], 9)).toEqual([[1], [3], [9]]);
    expect(resize([[1, 2], [3, 4]], [])).toBe(1);
    expect(resize([1, 2, 3], [2, 2])).toEqual([[1, 0], [0, 0]]);
  });
  it("sets one entry without touching the original", () => {
    const t = [[1, 2], [3, 4]];
    expect(setAt(t, [1, 0], 9)).toEqual([[1, 2], [9, 4]]);
    expect(t).toEqual([[1, 2], [3, 4]]);
    expect(setAt(5, [], 6)).toBe(6);
  });
  it("gives sliders a range that holds the value", () => {
    expect(sliderRange(3)).toEqual({ min: -10, max: 10, step: 0.01 });
    expect(sliderRange(-250).max).toBe(1000);
  });
});

describe("fill buttons", () => {
  it("fill ones, zeros, and 0, 1, 2… row by row", () => {
    expect(filled([2, 3], "ones")).toEqual([[1, 1, 1], [1, 1, 1]]);
    expect(filled([3], "zeros")).toEqual([0, 0, 0]);
    expect(filled([2, 3], "arange")).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(filled([2, 1, 2], "arange")).toEqual([[[0, 1]], [[2, 3]]]);
    expect(filled([], "ones")).toBe(1);
  });
  it("compare tensors by their numbers, NaN equal to NaN", () => {
    expect(sameTensor([[1, NaN]], [[1, NaN]])).toBe(true);
    expect(sameTensor([1, 2], [[1, 2]])).toBe(false);
    expect(sameTensor(1, undefined)).toBe(false);
  });
  it("give a grid to vectors and matrices up to 256 cells", () => {
    expect(gridFits([3])).toBe(true);
    expect(gridFits([16, 16])).toBe(true);
    expect(gridFits([16, 17])).toBe(false);
    expect(gridFits([2, 2, 2])).toBe(false);
    expect(gridFits([])).toBe(false);
  });
});

describe("what an input's editor shows", () => {
  const drawn = { shape: [2, 3], source: "drawn" as const, drawn: [[0.5, -1.2, 0.3], [1.1, 0, -0.7]] };
  it("the value typed, over the text's and the drawn one", () => {
    expect(inputView([[1, 2, 3]], undefined, drawn, false)).toEqual({ value: [[1, 2, 3]], shape: [1, 3], source: "typed" });
    expect(inputView([[1, 2]], [[3, 4]], undefined, false)).toEqual({ value: [[1, 2]], shape: [1, 2], source: "over-text" });
    expect(inputView(undefined, [[3, 4]], { shape: [1, 2], source: "text", drawn: null }, false)).toEqual({ value: [[3, 4]], shape: [1, 2], source: "text" });
  });
  it("the value drawn, with the shape the server inferred", () => {
    expect(inputView(undefined, null, drawn, false)).toEqual({ value: drawn.drawn, shape: [2, 3], source: "drawn" });
    expect(sourceWords("drawn", 7, [2, 3], false)).toBe("random numbers, draw 7");
  });
  it("a scalar or labels nobody gave: the default, 1 or 0", () => {
    expect(inputView(undefined, null, { shape: [], source: "drawn", drawn: 1 }, false)).toEqual({ value: 1, shape: [], source: "default" });
    expect(inputView(undefined, null, { shape: [3], source: "drawn", drawn: [0, 0, 0] }, true)).toEqual({ value: [0, 0, 0], shape: [3], source: "default" });
    // A name the reading does not hold (none yet): 1.
    expect(inputView(undefined, undefined, undefined, false)).toEqual({ value: 1, shape: [], source: "default" });
    expect(sourceWords("default", 0, [], false)).toBe("1, the default");
    expect(sourceWords("default", 0, [3], true)).toBe("zeros, the default");
    expect(sourceWords("text", 0, [3], false)).toBe("from the text");
    expect(sourceWords("over-text", 0, [3], false)).toBe("typed");
  });
});

describe("the output gradient's editor", () => {
  it("ones by default, the text's, or the one typed; one number spread over the output", () => {
    expect(gradView(null, null, [1, 3])).toEqual({ value: [[1, 1, 1]], source: "default" });
    expect(gradView(null, [[0, 1, 0]], [1, 3])).toEqual({ value: [[0, 1, 0]], source: "text" });
    expect(gradView([[2, 2, 2]], [[0, 1, 0]], [1, 3])).toEqual({ value: [[2, 2, 2]], source: "typed" });
    expect(gradView(2, null, [2])).toEqual({ value: [2, 2], source: "typed" });
    expect(gradView(null, null, [])).toEqual({ value: 1, source: "default" });
    // Typed for another shape: it cannot apply (the session drops it), ones show.
    expect(gradView([1, 2], null, [3])).toEqual({ value: [1, 1, 1], source: "default" });
    expect(gradWords("default", [1, 3])).toBe("ones, the default");
    expect(gradWords("default", [])).toBe("1, the default");
    expect(gradWords("text", [])).toBe("from the text");
  });
  it("fits a value to a shape only when it has it or is one number", () => {
    expect(fitTo([[1, 2]], [1, 2])).toEqual([[1, 2]]);
    expect(fitTo(3, [2, 1])).toEqual([[3], [3]]);
    expect(fitTo([1, 2], [2, 1])).toBeNull();
  });
});
