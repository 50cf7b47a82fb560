// The values behind the values panel, as pure functions: which editors to add and remove, tensor
// resizing and editing, slider ranges.

import { sliceSpan } from "./spans";
import { valuesOf, type Tensor } from "./api";
import { shapeOf } from "./format";

export const DEFAULT_SCALAR = 1;

/** Editors to add and remove to go from the names shown to the names wanted (in order). */
export function diffNames(shown: readonly string[], wanted: readonly string[]): { add: string[]; remove: string[] } {
  const have = new Set(shown);
  const want = new Set(wanted);
  return {
    add: wanted.filter((n) => !have.has(n)),
    remove: shown.filter((n) => !want.has(n)),
  };
}

/** "2x3", "2×3", "2, 3", "3" or "" (scalar) into a shape; null if it is not one. */
export function parseShape(text: string): number[] | null {
  const s = text.trim();
  if (s === "" || s.toLowerCase() === "scalar") return [];
  const parts = s.split(/\s*[x×,]\s*|\s+/i);
  const shape = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (shape.some((d) => !Number.isInteger(d) || d < 1 || d > 64) || shape.length > 4) return null;
  return shape;
}

/** A tensor of `shape`, keeping the entries of `t` that still fit and filling the rest. */
export function resize(t: Tensor, shape: number[], fill = 0): Tensor {
  const get = (path: number[]): number | undefined => {
    let cur: Tensor = t;
    for (const i of path) {
      if (!Array.isArray(cur)) return path.every((j) => j === 0) ? cur : undefined;
      if (i >= cur.length) return undefined;
      cur = cur[i];
    }
    return Array.isArray(cur) ? undefined : cur;
  };
  const build = (depth: number, path: number[]): Tensor => {
    if (depth === shape.length) return get(path) ?? fill;
    return Array.from({ length: shape[depth] }, (_, i) => build(depth + 1, [...path, i]));
  };
  if (shape.length === 0) {
    const first = get(shapeOf(t).map(() => 0));
    return first ?? fill;
  }
  return build(0, []);
}

/** A copy of `t` with the entry at `path` set to `x`. */
export function setAt(t: Tensor, path: number[], x: number): Tensor {
  if (path.length === 0) return x;
  if (!Array.isArray(t)) return t;
  const [i, ...rest] = path;
  return t.map((v, j) => (j === i ? setAt(v, rest, x) : v));
}

/** A slider range that holds x comfortably: [-10, 10] unless x is beyond it. */
export function sliderRange(x: number): { min: number; max: number; step: number } {
  const ax = Math.abs(x);
  const lim = ax <= 10 ? 10 : 10 ** Math.ceil(Math.log10(ax + 1e-12));
  return { min: -lim, max: lim, step: lim / 1000 };
}

/** A slider over labels (class numbers, indices): whole numbers from 0, at least 0..9. */
export function labelSliderRange(x: number): { min: number; max: number; step: number } {
  return { min: 0, max: Math.max(9, Math.ceil(Number.isFinite(x) ? x : 0)), step: 1 };
}

/** The values the trace needs: the stored ones for the given names, defaults for the rest. */
export function valuesFor(names: readonly string[], store: ReadonlyMap<string, Tensor>): Record<string, Tensor> {
  return valuesOf(names.map((n) => [n, store.get(n) ?? DEFAULT_SCALAR]));
}

/** The unknown name an error of type "name" is about, from its span in the expression. */
export function unknownName(expr: string, err: { type: string; start: number; end: number; message: string }): string | null {
  if (err.type !== "name") return null;
  const span = sliceSpan(expr, err.start, err.end);
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(span)) return span;
  const m = /'([A-Za-z_][A-Za-z0-9_]*)'/.exec(err.message);
  return m ? m[1] : null;
}
