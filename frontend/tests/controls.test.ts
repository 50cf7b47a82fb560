import { describe, expect, it } from "vitest";
import { escapeLeaves, focusKind, ownsKey, stepWidthChars } from "../src/controls";

describe("which keys a focused element keeps from the step keys", () => {
  it("leaves the arrows and Home/End to a focused slider (a value, the step scrubber)", () => {
    for (const key of ["ArrowRight", "ArrowLeft", "ArrowUp", "ArrowDown", "Home", "End", "PageUp"]) {
      expect(ownsKey("range", key)).toBe(true);
    }
    expect(ownsKey("range", " ")).toBe(false); // Space still plays
    expect(ownsKey("range", "b")).toBe(false);
  });
  it("leaves Space and Enter to a focused button, but not the arrows", () => {
    expect(ownsKey("button", " ")).toBe(true);
    expect(ownsKey("button", "Enter")).toBe(true);
    expect(ownsKey("button", "ArrowRight")).toBe(false);
    expect(ownsKey("button", "Home")).toBe(false);
  });
  it("leaves every key to a text field, and none to the page", () => {
    expect(ownsKey("typing", "ArrowRight")).toBe(true);
    expect(ownsKey("typing", " ")).toBe(true);
    expect(ownsKey("other", "ArrowRight")).toBe(false);
    expect(ownsKey("other", " ")).toBe(false);
  });
  it("treats a target that is no element as the page", () => {
    expect(focusKind(null)).toBe("other");
  });
});

describe("the step label's width", () => {
  it("is the longest label of the trace, so the controls never move", () => {
    expect(stepWidthChars(10, 5)).toBe("backward 5/5".length);
    expect(stepWidthChars(113, 13)).toBe("backward 100/100".length);
    expect(stepWidthChars(7, 7)).toBe("forward 7/7".length); // forward mode
    expect(stepWidthChars(0, 0)).toBe(1);
  });
});

describe("a panel focused to scroll it", () => {
  it("keeps the arrows, Home/End and Page Up/Down when it scrolls, and leaves Space to play", () => {
    for (const key of ["ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"]) expect(ownsKey("scroll", key)).toBe(true);
    expect(ownsKey("scroll", " ")).toBe(false);
    expect(ownsKey("other", "ArrowLeft")).toBe(false);
  });
});

describe("a grid of numbers focused (a tensor's heatmap)", () => {
  it("keeps the arrows and Home/End to move between its cells, and leaves Space to play", () => {
    for (const key of ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"]) expect(ownsKey("grid", key)).toBe(true);
    expect(ownsKey("grid", " ")).toBe(false);
    expect(ownsKey("grid", "b")).toBe(false);
  });
});

describe("Escape", () => {
  it("leaves a field (typed in, a slider, a grid of numbers): the keys step again", () => {
    for (const kind of ["typing", "range", "grid"] as const) expect(escapeLeaves(kind)).toBe(true);
  });
  it("leaves a button, a scrolled panel and the page alone (nothing to leave)", () => {
    for (const kind of ["button", "scroll", "other"] as const) expect(escapeLeaves(kind)).toBe(false);
  });
});
