// The colour key: what the graph's colours, outlines and dashes mean, in plain words, under the
// graph on the stage (the app, the embed, the offline file; `hide=key` hides it) and in the
// pictures exported from the browser (export.ts). The words say exactly what graph-view.ts and
// styles.css draw: values in the value colour, gradients (forward mode: tangents) in theirs, the
// local derivative "×…" on the wires of the step, this step's node outlined, the wires that carry
// this step's gradient thick and those whose gradient arrives at its node dashed; where the graph
// has them, constants in dashed boxes and the dotted wires of labels. Colour is never the only
// carrier: a label of a gradient starts with "∇ ", a tangent's with "∂ " (LABEL_PREFIX, the
// json's `prefix`), and the key's samples show them.

import KEY from "../../backend/gradtrace/data/colour_key.json";
import type { Mode } from "./api";
import { htmlEl, svgEl } from "./svg";

/** A theme colour, by its CSS variable's name. */
export type KeyColour = "value" | "grad" | "local" | "tangent" | "current" | "wire" | "node-stroke";

/** What else a graph has that its key explains: constants (a dashed box), inputs of labels
 * (a dotted wire, along which no gradient comes back). */
export interface KeyExtras {
  constants?: boolean;
  labels?: boolean;
}

export interface KeyEntry {
  /** How the swatch is drawn: a sample text, a node outline, a thick wire, a dashed wire; a
   * dashed node (a constant), a thin dotted wire (labels). */
  kind: "text" | "node" | "wire" | "dashed" | "constant" | "dotted";
  colour: KeyColour;
  /** What a label of this colour starts with on the graph ("∇ " a gradient, "∂ " a tangent, "×"
   * a local derivative, "" a value); drawn before the sample. */
  prefix?: string;
  /** The sample text (kind "text"). */
  sample?: string;
  words: string;
}

function prefixOf(entries: readonly { colour: string; prefix?: string }[], colour: string): string {
  const e = entries.find((x) => x.colour === colour);
  if (e?.prefix === undefined) throw new Error(`colour_key.json: no prefix for ${colour}`);
  return e.prefix;
}

/** What a gradient's label (reverse mode) and a tangent's (forward mode) start with on the graph:
 * "∇ −4", "∂ 3"; a value has none. From colour_key.json, which the server's pictures read too. */
export const LABEL_PREFIX: Readonly<{ grad: string; tangent: string }> = {
  grad: prefixOf(KEY.reverse, "grad"),
  tangent: prefixOf(KEY.forward, "tangent"),
};

/** The key of a view in `mode` (forward mode along `wrt`): the one list of
 * backend/gradtrace/data/colour_key.json, which the server's pictures draw too. */
export function keyEntries(mode: Mode, wrt: string | null = null, extras: KeyExtras = {}): KeyEntry[] {
  const x = wrt ?? "x";
  const entries = (mode === "forward" ? KEY.forward : KEY.reverse) as KeyEntry[];
  const out = entries.map((e) => ({ ...e, words: e.words.replaceAll("{wrt}", x) }));
  if (extras.constants) out.push(KEY.constants as KeyEntry);
  if (extras.labels) out.push((mode === "forward" ? KEY.labels.forward : KEY.labels.reverse) as KeyEntry);
  return out;
}

const SWATCH = { w: 30, h: 16 };

/** A text sample as drawn: its label's prefix, then the number. */
function sampleText(e: KeyEntry): string {
  return `${e.prefix ?? ""}${e.sample ?? ""}`;
}

/** The width of an entry's swatch: SWATCH's, or a sample's text (13 px bold monospace, about
 * 0.62 em a character) where it is wider. */
function swatchWidth(e: KeyEntry): number {
  return e.kind === "text" ? Math.max(SWATCH.w, Math.ceil(Array.from(sampleText(e)).length * 8.1) + 4) : SWATCH.w;
}

/** The swatch of an entry as SVG children of `g` (at 0,0, swatchWidth by SWATCH.h), coloured by
 * `colour`. */
function drawSwatch(g: SVGElement, e: KeyEntry, colour: (c: KeyColour | "bg" | "fg") => string, font: string): void {
  const c = colour(e.colour);
  if (e.kind === "text") {
    const t = svgEl("text", { x: swatchWidth(e) / 2, y: SWATCH.h / 2, "text-anchor": "middle", "dominant-baseline": "central", fill: c, "font-weight": "700", "font-family": font, "font-size": "13" }, g);
    t.textContent = sampleText(e);
  } else if (e.kind === "node" || e.kind === "constant") {
    const dashed: Record<string, string> = e.kind === "constant" ? { "stroke-dasharray": "4 3" } : {};
    svgEl("rect", { x: 3, y: 1.5, width: SWATCH.w - 6, height: SWATCH.h - 3, rx: 5, fill: colour("bg"), stroke: c, "stroke-width": e.kind === "node" ? "3.5" : "1.6", ...dashed }, g);
  } else if (e.kind === "dotted") {
    svgEl("line", { x1: 1, y1: SWATCH.h / 2, x2: SWATCH.w - 1, y2: SWATCH.h / 2, stroke: c, "stroke-width": "1.8", "stroke-dasharray": "2 4" }, g);
  } else {
    svgEl("line", { x1: 1, y1: SWATCH.h / 2, x2: SWATCH.w - 1, y2: SWATCH.h / 2, stroke: c, "stroke-width": "3.5", ...(e.kind === "dashed" ? { "stroke-dasharray": "7 4" } : {}) }, g);
  }
}

/** The key as a row of swatches and words (HTML), coloured by the theme's CSS variables. */
export class ColourKey {
  readonly el: HTMLElement;
  private shown = "";

  constructor(parent: HTMLElement) {
    this.el = htmlEl("div", { class: "graph-key", "data-testid": "colour-key", role: "note", "aria-label": "colour key" }, parent);
  }

  show(mode: Mode, wrt: string | null = null, extras: KeyExtras = {}): void {
    const entries = keyEntries(mode, wrt, extras);
    const key = JSON.stringify(entries);
    if (key === this.shown) return;
    this.shown = key;
    this.el.replaceChildren();
    for (const e of entries) {
      const item = htmlEl("span", { class: "key-item" }, this.el);
      const w = swatchWidth(e);
      // (The stylesheet sizes a swatch 2.3em wide: a wider sample keeps its scale.)
      const wide: Record<string, string> = w > SWATCH.w ? { style: `width: ${((2.3 * w) / SWATCH.w).toFixed(2)}em` } : {};
      const svg = svgEl("svg", { class: "key-swatch", width: w, height: SWATCH.h, viewBox: `0 0 ${w} ${SWATCH.h}`, "aria-hidden": "true", ...wide }, item);
      drawSwatch(svg, e, (c) => `var(--${c})`, "var(--mono)");
      htmlEl("span", { class: "key-words" }, item, e.words);
    }
  }
}

/**
 * The key drawn in SVG (for a picture), wrapped into rows no wider than `width`, starting at
 * (x, y); `colour` gives each theme colour as a value (a picture has no CSS variables). Returns
 * the group and its height.
 */
export function keySvg(
  entries: readonly KeyEntry[], x: number, y: number, width: number,
  colour: (c: KeyColour | "bg" | "fg") => string, font: { sans: string; mono: string }, size = 13,
): { g: SVGGElement; height: number } {
  const g = svgEl("g", { class: "graph-key" });
  const row = size * 1.9;
  let cx = 0;
  let cy = 0;
  for (const e of entries) {
    // About 0.58 em a character of the sans font: enough to keep items apart.
    const sw = swatchWidth(e);
    const w = sw + 6 + e.words.length * size * 0.58 + size * 1.4;
    if (cx > 0 && cx + w > width) {
      cx = 0;
      cy += row;
    }
    const item = svgEl("g", { transform: `translate(${(x + cx).toFixed(1)},${(y + cy).toFixed(1)})` }, g);
    drawSwatch(item, e, colour, font.mono);
    const t = svgEl("text", { x: sw + 6, y: SWATCH.h / 2, "dominant-baseline": "central", fill: colour("fg"), "font-family": font.sans, "font-size": String(size) }, item);
    t.textContent = e.words;
    cx += w;
  }
  return { g, height: cy + row };
}
