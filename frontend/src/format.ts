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

/** A vector (1-D) of at most this many numbers is listed on the graph, [0.1, 0.2, 0.7], where a
 * longer tensor shows its shape. */
export const SHORT_VECTOR = 3;

/** Whether a shape is a vector in all but name: 1-D, or 1×n, n×1 (at most one axis longer than 1). */
export function isVectorShape(shape: readonly number[]): boolean {
  return shape.filter((d) => d !== 1).length <= 1;
}

/** A shape where a tensor's numbers do not fit, as the notes write it, and never readable as a
 * value: "2×3" for a matrix, "5-vector" for a vector of 5 (a bare "5" on a wire would read as
 * the number 5). */
export function shapeWords(shape: readonly number[]): string {
  if (shape.length === 0) return "scalar";
  if (shape.length === 1) return `${shape[0]}-vector`;
  return shape.join("×");
}

/**
 * Short text for a label on the graph: the number for a scalar; the whole tensor when it has at
 * most `maxElements` elements; a vector (or a 1×n, n×1 matrix) of at most SHORT_VECTOR numbers as
 * one flat list of 2 significant digits, [0.53, 0.54]; otherwise its shape in words (2×3,
 * 5-vector), so that a shape is never read as a number.
 */
export function formatShort(t: Tensor | null | undefined, maxElements = 3, sig = 3): string {
  if (t === null || t === undefined) return "";
  if (!Array.isArray(t)) return formatNumber(t, sig);
  const shape = shapeOf(t);
  const n = sizeOf(shape);
  const fits = n <= maxElements;
  if (isVectorShape(shape) && (fits || n <= SHORT_VECTOR)) {
    return `[${flatten(t).map((x) => formatNumber(x, fits ? sig : Math.min(sig, 2))).join(", ")}]`;
  }
  if (fits) return formatTensor(t, sig);
  return shapeWords(shape);
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

/** The heat colour's channels: a diverging ramp, blue for negative, white for 0, vermillion for
 * positive, by x / scale (clamped to [-1, 1]); grey for a number that is not finite. */
export function heatRgb(x: number, scale: number): [number, number, number] {
  if (!Number.isFinite(x)) return [128, 128, 128];
  const t = Math.max(-1, Math.min(1, x / (scale || 1)));
  const c = t < 0 ? NEG : POS;
  const a = Math.abs(t);
  const mix = (i: number): number => Math.round(255 + (c[i] - 255) * a);
  return [mix(0), mix(1), mix(2)];
}

/** A diverging heat colour: blue for negative, white for 0, vermillion for positive. */
export function heatColor(x: number, scale: number): string {
  const [r, g, b] = heatRgb(x, scale);
  return `rgb(${r}, ${g}, ${b})`;
}

/** WCAG relative luminance of an sRGB colour (channels 0..255). */
export function luminance(rgb: readonly number[]): number {
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
}

/** WCAG contrast ratio of two colours (1..21). */
export function contrast(a: readonly number[], b: readonly number[]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (hi + 0.05) / (lo + 0.05);
}

/** "#rrggbb" as channels. */
export function hexRgb(hex: string): [number, number, number] {
  const h = hex.replace("#", "");
  const full = h.length === 3 ? [...h].map((c) => c + c).join("") : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
}

/** Text colour on heatColor(x, scale): black or white, whichever contrasts more (at least 4.58:1
 * on every colour, the least of max(contrast with black, contrast with white)). */
export function heatTextColor(x: number, scale: number): string {
  const bg = heatRgb(x, scale);
  return contrast(bg, [0, 0, 0]) >= contrast(bg, [255, 255, 255]) ? "#000" : "#fff";
}

/** Parse a number the way a person types it: also "−3" (Unicode minus), "1e-3", " 2 ". */
export function parseNumber(text: string): number | null {
  const s = text.trim().replace(/\u2212/g, "-");
  if (s === "" || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return null;
  const x = Number(s);
  return Number.isFinite(x) ? x : null;
}
