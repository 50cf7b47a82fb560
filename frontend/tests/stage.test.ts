import { describe, expect, it } from "vitest";
import { keyEntries } from "../src/colour-key";
import { growLimits, nodeRoom, overlaps, packLabels, type Box, type LabelGroup, type LabelPart } from "../src/graph-view";
import { directionText, outputText, shapeChanged, startStep } from "../src/stage";
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
  it("asks for a layout again when the graph's space changes shape by a quarter", () => {
    expect(shapeChanged(2, 2.2)).toBe(false);
    expect(shapeChanged(2, 2.5)).toBe(true);
    expect(shapeChanged(2, 1.6)).toBe(true);
    expect(shapeChanged(0, 1)).toBe(false);
  });
  it("says which way the graph is drawn and what the switch does, in words", () => {
    const across = directionText("right", false);
    expect(across.text).toBe("→ across");
    expect(across.title).toContain("left to right, the way that fits this screen");
    expect(across.title).toContain("Press to draw it top to bottom");
    const down = directionText("down", true);
    expect(down.text).toBe("↓ down");
    expect(down.title).not.toContain("fits");
  });
  it("writes a small output in full and a large one as its shape", () => {
    expect(outputText(circuit())).toEqual({ value: "−12", shape: "" });
    const m = outputText(matmul());
    expect(m.value.length).toBeGreaterThan(0);
    expect(outputText({ value: [1, 2], shape: [2] }).shape).toBe("(2)");
    expect(outputText({ value: Array.from({ length: 20 }, () => 0), shape: [20] }).shape).toBe("");
  });
});

describe("the colour key", () => {
  it("names what the graph's colours and dashes mean, per mode", () => {
    const words = keyEntries("reverse").map((e) => e.words).join(" | ");
    for (const w of ["value", "gradient", "local derivative", "this step's node", "upstream"]) expect(words).toContain(w);
    expect(keyEntries("reverse").find((e) => e.kind === "dashed")?.words).toContain("upstream gradient");
    const fwd = keyEntries("forward", "w");
    expect(fwd.map((e) => e.words).join(" | ")).toContain("d/dw");
    expect(fwd.some((e) => e.colour === "grad")).toBe(false);
    expect(words).not.toMatch(/seed/i);
    // Constants and labels only where the graph has them.
    expect(keyEntries("reverse").some((e) => e.kind === "constant" || e.kind === "dotted")).toBe(false);
    const extra = keyEntries("reverse", null, { constants: true, labels: true });
    expect(extra.find((e) => e.kind === "dotted")?.words).toBe("labels: no gradient comes back");
    expect(extra.find((e) => e.kind === "constant")?.words).toBe("a constant");
  });
});

describe("packing the graph's labels", () => {
  const text = (w: number, h = 10, dy = -8): LabelPart => ({ w, h, dx: -w / 2, dy, at: (p) => p });
  const bounds: Box = [0, 0, 200, 100];
  const boxesOf = (groups: LabelGroup[], placed: ReturnType<typeof packLabels>): Box[] =>
    placed.flatMap((g, i) => g.flatMap((p, j) => {
      if (!p) return [];
      const part = groups[i].parts[j];
      const f = p.short && part.shortW !== undefined ? part.shortW / part.w : 1;
      return [[p.at[0] + part.dx * f, p.at[1] + part.dy, p.at[0] + part.dx * f + part.w * f, p.at[1] + part.dy + part.h] as Box];
    }));

  it("moves a label along its wire past one placed before it", () => {
    const groups: LabelGroup[] = [
      { parts: [text(40)], anchors: () => [[50, 50]], primary: 0 },
      { parts: [text(40)], anchors: () => [[52, 50], [120, 50]], primary: 0 },
    ];
    const placed = packLabels(groups, [], bounds);
    expect(placed[1][0]?.at).toEqual([120, 50]);
    const boxes = boxesOf(groups, placed);
    expect(overlaps(boxes[0], boxes[1])).toBe(false);
  });

  it("keeps labels off nodes and inside the view, hiding what finds no room", () => {
    const node: Box = [30, 30, 70, 70];
    const groups: LabelGroup[] = [
      { parts: [text(20)], anchors: () => [[50, 50], [195, 50], [100, 20]], primary: 0 },
      { parts: [text(20)], anchors: () => [[50, 50]], primary: 0 },
    ];
    const placed = packLabels(groups, [node], bounds);
    expect(placed[0][0]?.at).toEqual([100, 20]); // not on the node, not past the right edge
    expect(placed[1][0]).toBeNull();
  });

  it("shortens a pair before it drops one, and keeps the primary when only one fits", () => {
    const long = { ...text(80), shortW: 24 };
    const pair = (): LabelGroup => ({
      parts: [{ ...long, at: (p) => [p[0], p[1] - 6] }, { ...long, dy: 0, at: (p) => [p[0], p[1] + 2] }],
      anchors: () => [[50, 50]],
      primary: 1,
    });
    // Room for both short texts only.
    const walls: Box[] = [[0, 0, 30, 100], [70, 0, 200, 100]];
    const placed = packLabels([pair()], walls, bounds);
    expect(placed[0].map((p) => p?.short)).toEqual([true, true]);
    // Room under the point only: the primary (the gradient) stays.
    const roof: Box[] = [...walls, [0, 0, 200, 49]];
    const one = packLabels([pair()], roof, bounds);
    expect(one[0][0]).toBeNull();
    expect(one[0][1]?.short).toBe(true);
  });

  it("grows a node only as far as its neighbours leave room", () => {
    const nodes = [
      { x: 0, y: 0, w: 40, h: 40, shape: "box" as const },
      { x: 60, y: 0, w: 40, h: 40, shape: "box" as const },
      { x: 500, y: 500, w: 40, h: 40, shape: "box" as const },
    ];
    const g = growLimits(nodes, 2);
    expect(g[0]).toBeCloseTo(1.38, 2); // 60 apart, 40 wide: 1.5, less 8% air
    expect(g[1]).toBeCloseTo(1.38, 2);
    expect(g[2]).toBe(2);
    expect(growLimits(nodes, 2, 2)).toEqual([1, 1, 1]); // too many nodes: not grown
    expect(nodeRoom(40, 36, 2)).toBeCloseTo(22.32, 2);
  });
});
