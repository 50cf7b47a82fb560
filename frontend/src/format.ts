// Numbers and tensors as text: short for the graph, exact enough for the explain panel.

import { encodeNumber, type Tensor } from "./api";

export const MINUS = "\u2212";

/**
 * A number in at most `sig` significant digits, without trailing zeros: -4, 0.25, 0.7311,
 * 1.2e-5. Non-finite numbers as ∞, −∞, NaN. `minus` chooses the minus sign ("-" or "−").
 */
export function formatNumber(x: number, sig = 4, minus = MINUS): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : `${minus}∞`;
  if (x === 0) return "0";
  const ax = Math.abs(x);
  let s: string;
  if (ax >= 1e-3 && ax < 10 ** Math.max(sig, 5)) {
    s = Number(x.toPrecision(sig)).toString();
    if (s.includes("e")) s = x.toFixed(0);
  } else {
    const [mant, exp] = x.toExponential(Math.max(0, sig - 1)).split("e");
    s = `${Number(mant).toString()}e${exp.replace("+", "")}`;
  }
  return s.replace(/^-/, minus).replace("e-", `e${minus}`);
}

/** Plain ASCII, full precision: for data attributes the tests read back (the API's spelling). */
export function plainNumber(x: number): string {
  return String(encodeNumber(x));
}

export function isScalar(t: Tensor | null | undefined): t is number {
  return typeof t === "number";
}

export function shapeOf(t: Tensor): number[] {
  const shape: number[] = [];
  let cur: Tensor = t;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function flatten(t: Tensor): number[] {
  if (!Array.isArray(t)) return [t];
  const out: number[] = [];
  const walk = (x: Tensor): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else out.push(x);
  };
  walk(t);
  return out;
}

/** "2×3" (a scalar is "scalar"). */
export function formatShape(shape: number[]): string {
  return shape.length === 0 ? "scalar" : shape.join("×");
}

/** A tensor as nested brackets: [[1, 2], [3, 4]]. */
export function formatTensor(t: Tensor, sig = 4, minus = MINUS): string {
  if (!Array.isArray(t)) return formatNumber(t, sig, minus);
  return `[${t.map((x) => formatTensor(x, sig, minus)).join(", ")}]`;
}

/**
 * Short text for a label on the graph: the number for a scalar, the whole tensor when it has at
 * most `maxElements` elements, otherwise its shape in angle brackets (⟨3⟩, ⟨2×3⟩), so that a
 * shape is never read as a number.
 */
export function formatShort(t: Tensor | null | undefined, maxElements = 3, sig = 3): string {
  if (t === null || t === undefined) return "";
  if (!Array.isArray(t)) return formatNumber(t, sig);
  const shape = shapeOf(t);
  if (sizeOf(shape) <= maxElements) return formatTensor(t, sig);
  return `\u27e8${formatShape(shape)}\u27e9`;
}

/** Exact text of a value for data attributes: a plain number, or JSON for tensors. */
export function plainTensor(t: Tensor): string {
  if (!Array.isArray(t)) return plainNumber(t);
  return `[${t.map(plainTensor).join(",")}]`;
}

/**
 * A tensor as rows of a 2-D grid for display: a scalar is 1×1, a vector one row, a matrix its
 * rows; higher tensors have their leading axes folded into rows.
 */
export function toGrid(t: Tensor): number[][] {
  const shape = shapeOf(t);
  if (shape.length === 0) return [[t as number]];
  if (shape.length === 1) return [t as number[]];
  const cols = shape[shape.length - 1];
  const flat = flatten(t);
  const rows: number[][] = [];
  for (let i = 0; i < flat.length; i += cols) rows.push(flat.slice(i, i + cols));
  return rows;
}

/** The largest absolute finite entry (1 when there is none), for heat-colour scaling. */
export function maxAbs(t: Tensor): number {
  let m = 0;
  for (const x of flatten(t)) if (Number.isFinite(x)) m = Math.max(m, Math.abs(x));
  return m === 0 ? 1 : m;
}

const NEG = [0, 114, 178]; // Okabe-Ito blue
const POS = [213, 94, 0]; // Okabe-Ito vermillion

/** A diverging heat colour: blue for negative, white for 0, vermillion for positive. */
export function heatColor(x: number, scale: number): string {
  if (!Number.isFinite(x)) return "rgb(128, 128, 128)";
  const t = Math.max(-1, Math.min(1, x / scale));
  const c = t < 0 ? NEG : POS;
  const a = Math.abs(t);
  const mix = (i: number): number => Math.round(255 + (c[i] - 255) * a);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

/** Text colour readable on heatColor(x, scale). */
export function heatTextColor(x: number, scale: number): string {
  return Number.isFinite(x) && Math.abs(x / scale) > 0.55 ? "#fff" : "#111";
}

/** Parse a number the way a person types it: also "−3" (Unicode minus), "1e-3", " 2 ". */
export function parseNumber(text: string): number | null {
  const s = text.trim().replace(/\u2212/g, "-");
  if (s === "" || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return null;
  const x = Number(s);
  return Number.isFinite(x) ? x : null;
}
