// The values behind the values panel, as pure functions: which editors to add and remove, tensor
// resizing and editing, slider ranges.

import type { InputRead, Tensor } from "./api";
import { shapeOf } from "./format";

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

/** What a fill button puts in a tensor: ones, zeros, or 0, 1, 2… in row-major (C) order. */
export type Fill = "ones" | "zeros" | "arange";

/** A tensor of `shape` filled as `how` says (a scalar for the empty shape). */
export function filled(shape: readonly number[], how: Fill): Tensor {
  let next = 0;
  const build = (depth: number): Tensor => {
    if (depth === shape.length) return how === "ones" ? 1 : how === "zeros" ? 0 : next++;
    return Array.from({ length: shape[depth] }, () => build(depth + 1));
  };
  return build(0);
}

/** Whether two tensors hold the same numbers in the same shape (NaN equal to NaN). */
export function sameTensor(a: Tensor | null | undefined, b: Tensor | null | undefined): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if (!Array.isArray(a) || !Array.isArray(b)) return !Array.isArray(a) && !Array.isArray(b) && Object.is(a, b);
  return a.length === b.length && a.every((x, i) => sameTensor(x, b[i]));
}

/** Grids up to this many cells; a larger tensor is edited as text only (thousands of fields
 * would make the page slow, and nobody types them one by one). */
export const MAX_GRID_CELLS = 256;

/** A value's editor shows a grid of cells for vectors and matrices that are not too large. */
export function gridFits(shape: readonly number[]): boolean {
  if (shape.length === 0 || shape.length > 2) return false;
  return shape.reduce((a, b) => a * b, 1) <= MAX_GRID_CELLS;
}

/** Where an input's value comes from, as the panel says it: typed here, the text's, typed over
 * the text's, drawn by the server (`rng`), or the server's default (1; 0 for labels). */
export type ValueSource = "typed" | "text" | "over-text" | "drawn" | "default";

/** What the server says of an input in its reading: the shape the ops need, where its value
 * comes from, the value drawn. */
export type Filled = Pick<InputRead, "shape" | "source" | "drawn">;

/** An input as its editor shows it. */
export interface InputView {
  value: Tensor;
  shape: number[];
  source: ValueSource;
}

/**
 * What an input's editor shows: the value typed here, else the text's, else the one the server
 * drew (or filled: 1, or 0 for labels); its shape, that value's (the server's inferred shape
 * where nobody gave one); and where the value comes from. `server` is undefined for a name the
 * reading does not hold (none yet): then 1, or 0 for labels.
 */
export function inputView(typed: Tensor | undefined, text: Tensor | null | undefined, server: Filled | undefined, labels: boolean): InputView {
  const hasText = text !== undefined && text !== null;
  if (typed !== undefined) return { value: typed, shape: shapeOf(typed), source: hasText ? "over-text" : "typed" };
  if (hasText) return { value: text, shape: shapeOf(text), source: "text" };
  const shape = server?.shape ?? [];
  const drawn = server?.drawn ?? null;
  const value = drawn ?? filled(shape, labels ? "zeros" : "ones");
  // Only tensors are drawn at random: a scalar gets 1 and labels 0, whatever the draw.
  const random = server?.source === "drawn" && shape.length > 0 && !labels;
  return { value, shape: shapeOf(value), source: random ? "drawn" : "default" };
}

/** The plain words for a value's origin ("random numbers, draw 7"). */
export function sourceWords(source: ValueSource, rng: number, shape: readonly number[], labels: boolean): string {
  switch (source) {
    case "typed":
    case "over-text":
      return "typed";
    case "text":
      return "from the text";
    case "drawn":
      return `random numbers, draw ${rng}`;
    default:
      return labels ? (shape.length ? "zeros, the default" : "0, the default") : shape.length ? "ones, the default" : "1, the default";
  }
}

/** `t` as a tensor of `shape`: itself if it has that shape, a number spread over it (as the
 * server spreads a one-number output gradient); null if it fits no way. */
export function fitTo(t: Tensor, shape: readonly number[]): Tensor | null {
  const have = shapeOf(t);
  if (have.length === shape.length && have.every((d, i) => d === shape[i])) return t;
  if (typeof t !== "number") return null;
  const build = (depth: number): Tensor => (depth === shape.length ? t : Array.from({ length: shape[depth] }, () => build(depth + 1)));
  return build(0);
}

/** Where the output gradient comes from: typed here, the text's (`L.backward(dz)`), or ones. */
export type GradSource = "typed" | "text" | "default";

/** The output gradient as its editor shows it, for an output of `shape`: the one typed (the
 * store's seed), else the text's, else ones; a single number spread over the output's shape. */
export function gradView(typed: Tensor | null, text: Tensor | null, shape: readonly number[]): { value: Tensor; source: GradSource } {
  const pick = (t: Tensor | null): Tensor | null => (t === null ? null : fitTo(t, shape));
  const mine = pick(typed);
  if (mine !== null) return { value: mine, source: "typed" };
  const theirs = pick(text);
  if (theirs !== null) return { value: theirs, source: "text" };
  return { value: filled(shape, "ones"), source: "default" };
}

/** The plain words for where the output gradient comes from. */
export function gradWords(source: GradSource, shape: readonly number[]): string {
  return source === "typed" ? "typed" : source === "text" ? "from the text" : shape.length ? "ones, the default" : "1, the default";
}
