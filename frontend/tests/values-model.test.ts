import { describe, expect, it } from "vitest";
import { diffNames, parseShape, resize, setAt, sliderRange, unknownName, valuesFor } from "../src/values-model";

describe("values panel diffing", () => {
  it("adds new names and removes gone ones", () => {
    expect(diffNames(["x", "y", "z"], ["x", "z", "w"])).toEqual({ add: ["w"], remove: ["y"] });
    expect(diffNames([], ["a"])).toEqual({ add: ["a"], remove: [] });
    expect(diffNames(["a"], ["a"])).toEqual({ add: [], remove: [] });
  });
  it("keeps typed values and defaults the rest to 1", () => {
    const store = new Map<string, number | number[]>([["x", -2], ["gone", 7]]);
    expect(valuesFor(["x", "y"], store)).toEqual({ x: -2, y: 1 });
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

describe("unknown names", () => {
  it("reads the name from the error span", () => {
    const expr = "x + foo";
    expect(unknownName(expr, { type: "name", start: 4, end: 7, message: "unknown name 'foo'" })).toBe("foo");
    expect(unknownName(expr, { type: "syntax", start: 4, end: 7, message: "" })).toBeNull();
    expect(unknownName(expr, { type: "name", start: 0, end: 0, message: "unknown name 'bar': ..." })).toBe("bar");
  });
});
