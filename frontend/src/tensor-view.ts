// Tensors on the page: small ones as matrices of heat-coloured cells with their numbers, larger
// ones as a heatmap whose cells are read one at a time: hovering or focusing a cell (the arrow
// keys move between cells) shows its index and number below the map.

import type { Tensor } from "./api";
import { flatten, formatNumber, formatShape, heatColor, heatTextColor, maxAbs, plainTensor, shapeOf, toGrid } from "./format";
import { htmlEl } from "./svg";

export const SMALL_ELEMENTS = 36;
// A heatmap draws one element per number up to this many; a larger tensor is its shape alone.
export const MAX_HEAT_CELLS = 16384;

/** A tensor with an optional caption: its numbers in heat-coloured cells when it is small, else a
 * heatmap with a readout that calls it `name` (dW1[1, 0] = ...). */
export function renderTensor(t: Tensor, caption?: string, name = caption ?? ""): HTMLElement {
  const shape = shapeOf(t);
  const n = flatten(t).length;
  const grid = toGrid(t);
  if (shape.length > 0 && !(n <= SMALL_ELEMENTS && grid[0].length <= 8)) {
    return renderHeatmap(t, name, caption === undefined ? undefined : `${caption} · ${formatShape(shape)}`);
  }
  const box = htmlEl("figure", { class: "tensor" });
  const scale = maxAbs(t);
  if (caption !== undefined) htmlEl("figcaption", {}, box, `${caption} · ${formatShape(shape)}`);
  if (shape.length === 0) {
    htmlEl("span", { class: "tensor-scalar" }, box, formatNumber(t as number, 6));
    return box;
  }
  const table = htmlEl("table", { class: "heat" }, box);
  for (const row of grid) {
    const tr = htmlEl("tr", {}, table);
    for (const x of row) {
      const td = htmlEl("td", {}, tr, formatNumber(x, 3));
      td.style.background = heatColor(x, scale);
      td.style.color = heatTextColor(x, scale);
      td.title = String(x);
    }
  }
  return box;
}

/** The index of the k-th number (C order) of a tensor of `shape`: [1, 2] for k = 5 of 2×3. */
export function indexOf(k: number, shape: readonly number[]): number[] {
  const idx: number[] = [];
  let rest = k;
  for (let a = shape.length - 1; a >= 0; a--) {
    idx.unshift(rest % shape[a]);
    rest = Math.floor(rest / shape[a]);
  }
  return idx;
}

/** What the readout says of a cell: `dW1[1, 0] = −0.002623` (the name, when given). */
export function cellReadout(name: string, idx: readonly number[], x: number): string {
  return `${name}[${idx.join(", ")}] = ${formatNumber(x, 6)}`;
}

/**
 * The rows and columns a heatmap draws a tensor of `shape` in: a vector is one row, a matrix
 * itself; a tensor of more axes splits them, in order, into leading axes for the rows and the
 * rest for the columns, where the map is closest to square (2×6×6×1, an NHWC batch of images:
 * 12 rows of 6, the images one under the other). C order throughout: number k is at row
 * k / cols, column k % cols.
 */
export function heatShape(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [1, shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  let best: [number, number] = [shape[0], shape.slice(1).reduce((a, b) => a * b, 1)];
  for (let k = 1; k < shape.length; k++) {
    const r = shape.slice(0, k).reduce((a, b) => a * b, 1);
    const c = shape.slice(k).reduce((a, b) => a * b, 1);
    const skew = Math.max(r / c, c / r);
    if (skew < Math.max(best[0] / best[1], best[1] / best[0])) best = [r, c];
  }
  return best;
}

/** The side of a heatmap cell in px: larger for fewer columns, at least 6 px (a pointer's target
 * and a visible colour), the map at most about 260 px wide. */
export function cellSize(cols: number): number {
  return Math.max(6, Math.min(24, Math.floor(260 / Math.max(1, cols))));
}

/**
 * A heatmap with a readout: a grid of cells (role grid: one tab stop, the arrow keys move between
 * the cells, Home/End to a row's ends), each cell's index and number below it on hover and on
 * focus. `name` names the tensor in the readout (plain text); `caption`, if given, heads it.
 */
export function renderHeatmap(t: Tensor, name: string, caption?: string): HTMLElement {
  const shape = shapeOf(t);
  const box = htmlEl("figure", { class: "tensor heatmap", "data-shape": formatShape(shape), "data-value": plainTensor(t) });
  if (caption !== undefined) htmlEl("figcaption", {}, box, caption);
  const flat = flatten(t);
  if (flat.length > MAX_HEAT_CELLS) {
    htmlEl("p", { class: "note" }, box, `${formatShape(shape)}: ${flat.length.toLocaleString("en-US")} numbers, too many to draw.`);
    return box;
  }
  const [rows, cols] = heatShape(shape);
  const scale = maxAbs(t);
  const side = cellSize(cols);
  const what = name || "the tensor";
  const map = htmlEl("div", {
    class: "heat-grid",
    role: "grid",
    "aria-label": `${what}, ${formatShape(shape)}: arrow keys move between the numbers`,
  }, box);
  map.style.gridTemplateColumns = `repeat(${cols}, ${side}px)`;
  map.style.gridAutoRows = `${side}px`;
  // Not a live region: a focused cell's name says its number (said twice, it would be noise).
  const readout = htmlEl("div", { class: "heat-readout" }, box, "Point at or focus a cell for its number.");
  const cells: HTMLElement[] = [];
  let k = 0;
  for (let i = 0; i < rows; i++) {
    const row = htmlEl("div", { role: "row", class: "heat-row" }, map);
    for (let j = 0; j < cols; j++) {
      const x = flat[k];
      const text = cellReadout(name, indexOf(k, shape), x);
      const cell = htmlEl("div", { role: "gridcell", class: k === 0 ? "heat-cell active" : "heat-cell", tabindex: k === 0 ? "0" : "-1", "aria-label": text, "data-k": String(k) }, row);
      cell.style.background = heatColor(x, scale);
      cells.push(cell);
      k++;
    }
  }
  // The active cell: the grid's one tab stop, where the arrow keys move from; marked inside its
  // edge (explain.css), apart from the keyboard focus, a ring outside it.
  let active = 0;
  const show = (c: number): void => {
    const x = flat[c];
    readout.textContent = cellReadout(name, indexOf(c, shape), x);
  };
  const activate = (c: number): void => {
    const was = cells[active];
    was?.setAttribute("tabindex", "-1");
    was?.classList.remove("active");
    active = c;
    cells[c].setAttribute("tabindex", "0");
    cells[c].classList.add("active");
  };
  const focus = (c: number): void => {
    activate(c);
    cells[c].focus();
  };
  map.addEventListener("pointerover", (ev) => {
    const c = (ev.target as HTMLElement).dataset?.k;
    if (c !== undefined) show(Number(c));
  });
  map.addEventListener("focusin", (ev) => {
    const c = (ev.target as HTMLElement).dataset?.k;
    if (c === undefined) return;
    activate(Number(c));
    show(active);
  });
  map.addEventListener("keydown", (ev) => {
    const i = Math.floor(active / cols);
    const j = active % cols;
    const to: Record<string, number> = {
      ArrowRight: j < cols - 1 ? active + 1 : active,
      ArrowLeft: j > 0 ? active - 1 : active,
      ArrowDown: i < rows - 1 ? active + cols : active,
      ArrowUp: i > 0 ? active - cols : active,
      Home: i * cols,
      End: i * cols + cols - 1,
    };
    if (!(ev.key in to)) return;
    // The keys move in the map, not through the steps (controls.ts listens on the document).
    ev.preventDefault();
    ev.stopPropagation();
    focus(to[ev.key]);
  });
  return box;
}
