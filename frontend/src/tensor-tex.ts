// Tensors as LaTeX for the explain panel: a number (4 significant digits), a vector as a row, a
// matrix as a bmatrix of up to MAX_SIDE × MAX_SIDE; a larger tensor does not fit in a formula
// (the panel draws it as a heatmap, tensor-view.ts). Pure: strings only.

import type { Tensor } from "./api";
import { formatNumber, shapeOf } from "./format";

/** The most rows or columns a matrix written in a formula has; a larger one is a heatmap. */
export const MAX_SIDE = 8;

/** A number in LaTeX (4 significant digits); in parentheses when negative and `paren`. */
export function texNumber(x: number, paren = false): string {
  let s = formatNumber(x, 4, "-");
  if (s === "∞") s = "\\infty";
  if (s === "-∞") s = "-\\infty";
  s = s.replace(/e(-?\d+)$/, "\\times 10^{$1}");
  return paren && (x < 0 || s.includes("\\times")) ? `(${s})` : s;
}

/** How a 1-D vector stands in a formula: a row (the default) or a column (the right operand of a
 * matrix product, as NumPy and PyTorch promote it). */
export type Orientation = "row" | "col";

/**
 * The rows a tensor is written with in a formula: a scalar is null; a vector one row (or one
 * column); a matrix its rows; a tensor whose leading axes are all 1 (1×1×3×3) its last two axes.
 * Null too for a tensor of more than two axes longer than 1, which has no matrix form.
 */
export function matrixRows(t: Tensor, orient: Orientation = "row"): number[][] | null {
  if (!Array.isArray(t)) return null;
  let shape = shapeOf(t);
  let cur: Tensor = t;
  while (shape.length > 2 && shape[0] === 1 && Array.isArray(cur)) {
    cur = cur[0];
    shape = shape.slice(1);
  }
  if (shape.length > 2) return null;
  if (shape.length === 1) {
    const v = cur as number[];
    return orient === "col" ? v.map((x) => [x]) : [v.slice()];
  }
  return (cur as number[][]).map((r) => r.slice());
}

/** Whether a tensor is written out in a formula: a scalar, or at most MAX_SIDE × MAX_SIDE. */
export function fitsFormula(t: Tensor, orient: Orientation = "row"): boolean {
  if (!Array.isArray(t)) return true;
  const rows = matrixRows(t, orient);
  if (!rows || rows.length === 0) return false;
  return rows.length <= MAX_SIDE && rows[0].length <= MAX_SIDE && rows[0].length > 0;
}

/** Rows as a bmatrix: \begin{bmatrix} 1 & -2 \\ 0.5 & 4 \end{bmatrix}. */
export function bmatrix(rows: readonly (readonly number[])[]): string {
  const body = rows.map((r) => r.map((x) => texNumber(x)).join(" & ")).join(" \\\\ ");
  return `\\begin{bmatrix} ${body} \\end{bmatrix}`;
}

/** A tensor in a formula: a number (in parentheses when negative and `paren`), or its matrix
 * (transposed when `transposed`). Null when it does not fit (fitsFormula). */
export function tensorTex(t: Tensor, orient: Orientation = "row", transposed = false, paren = true): string | null {
  if (!Array.isArray(t)) return texNumber(t, paren);
  if (!fitsFormula(t, orient)) return null;
  const rows = matrixRows(t, orient) as number[][];
  return bmatrix(transposed ? transpose(rows) : rows);
}

export function transpose(rows: readonly (readonly number[])[]): number[][] {
  if (rows.length === 0) return [];
  return rows[0].map((_, j) => rows.map((r) => r[j]));
}

/** The numbers a bmatrix of `tex` shows, row by row (for tests: what the panel writes is what the
 * record holds, to 4 significant digits). */
export function bmatrixNumbers(tex: string): number[][][] {
  const out: number[][][] = [];
  const re = /\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}/g;
  for (let m = re.exec(tex); m; m = re.exec(tex)) {
    out.push(m[1].split("\\\\").map((row) => row.split("&").map((c) => texToNumber(c.trim()))));
  }
  return out;
}

function texToNumber(s: string): number {
  if (s === "\\infty") return Infinity;
  if (s === "-\\infty") return -Infinity;
  const m = /^(-?[\d.]+)\\times 10\^\{(-?\d+)\}$/.exec(s);
  return m ? Number(`${m[1]}e${m[2]}`) : Number(s);
}
