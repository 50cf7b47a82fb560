import { describe, expect, it } from "vitest";
import { decodeTrace, made, type Trace } from "../src/api";
import { hessianCells, hessianNote } from "../src/hessian-panel";
import { decodeQuery, encodeQuery } from "../src/url-state";

// The `hessian` of real /api/trace answers (gradtrace.trace(..., hessian=True)): of 6 x y (the
// output of `d = grad(x^3 * y, x); grad(d, x)` at x = 2, y = 0.5), and of max(x, y) * x at a tie
// (x = y = 1).
const SMOOTH = {"hessian": {"inputs": ["x", "y"], "labels": ["x", "y"], "matrix": [[0.0, 6.0], [6.0, 0.0]], "symmetric": true}};
const TIE = {"hessian": {"inputs": ["x", "y"], "labels": ["x", "y"], "matrix": [[1.0, 0.5], [0.5, 0.0]], "symmetric": true}};
const load = (h: unknown): Trace => decodeTrace({ gradients: {}, nodes: [], edges: [], backward: [], ...(structuredClone(h) as object) } as unknown as Trace);

describe("the Hessian view", () => {
  it("lays the matrix out as cells, the diagonal and zeros marked", () => {
    const h = made(load(SMOOTH).hessian)!;
    const cells = hessianCells(h);
    expect(cells.map((r) => r.map((c) => c.text))).toEqual([["0", "6"], ["6", "0"]]);
    expect(cells[0][0]).toMatchObject({ diagonal: true, zero: true, plain: "0" });
    expect(cells[0][1]).toMatchObject({ diagonal: false, zero: false, plain: "6" });
    expect(h.labels).toEqual(["x", "y"]);
  });

  it("says whether the matrix is symmetric, and how it was computed", () => {
    expect(hessianNote(made(load(SMOOTH).hessian)!)).toMatch(/^Symmetric.*2 forward-mode passes/);
    // At a tie of max the conventions still give a symmetric matrix: d max/dx = 1/2 both ways.
    const tie = made(load(TIE).hessian)!;
    expect(tie.matrix).toEqual([[1, 0.5], [0.5, 0]]);
    expect(tie.symmetric).toBe(true);
    const lopsided = { ...tie, matrix: [[1, 0.5], [0, 0]], symmetric: false };
    expect(hessianNote(lopsided)).toMatch(/^Not symmetric: f has a kink/);
  });

  it("keeps the toggle in the URL", () => {
    const q = encodeQuery({ expr: "x * y", values: { x: 1, y: 2 }, hessian: true });
    expect(q).toContain("hessian=1");
    expect(decodeQuery(q).hessian).toBe(true);
    expect(encodeQuery({ expr: "x" })).not.toContain("hessian");
    // An input called hessian is escaped, as every reserved name is.
    expect(encodeQuery({ expr: "hessian", values: { hessian: 1 } })).toContain("v.hessian=1");
  });
});
