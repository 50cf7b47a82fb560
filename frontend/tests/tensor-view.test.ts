import { describe, expect, it } from "vitest";
import { cellReadout, cellSize, heatShape, indexOf } from "../src/tensor-view";

describe("heatmaps", () => {
  it("draw a vector as a row, a matrix as itself, more axes as close to square as they split", () => {
    expect(heatShape([5])).toEqual([1, 5]);
    expect(heatShape([3, 4])).toEqual([3, 4]);
    // An NHWC batch of two 6×6 images of one channel: 12 rows of 6 (the images one under the other).
    expect(heatShape([2, 6, 6, 1])).toEqual([12, 6]);
    expect(heatShape([2, 3, 3, 2])).toEqual([6, 6]);
  });
  it("read out a cell by its index in the tensor's own shape", () => {
    expect(indexOf(5, [2, 3])).toEqual([1, 2]);
    expect(indexOf(0, [2, 6, 6, 1])).toEqual([0, 0, 0, 0]);
    expect(indexOf(37, [2, 6, 6, 1])).toEqual([1, 0, 1, 0]);
    expect(cellReadout("dW1", [1, 0], -0.0026226946380723433)).toBe("dW1[1, 0] = −0.00262269");
  });
  it("size cells for a pointer and the panel: 6 to 24 px", () => {
    expect(cellSize(2)).toBe(24);
    expect(cellSize(40)).toBe(6);
    expect(cellSize(1000)).toBe(6);
  });
});
