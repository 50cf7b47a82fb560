// Tensors on the page: small ones as matrices of heat-coloured cells, large ones as their shape
// plus a heatmap thumbnail (a canvas turned into a data: URL, which the CSP allows).

import type { Tensor } from "./api";
import { flatten, formatNumber, formatShape, heatColor, heatTextColor, maxAbs, shapeOf, toGrid } from "./format";
import { htmlEl } from "./svg";

export const SMALL_ELEMENTS = 36;

export function renderTensor(t: Tensor, caption?: string): HTMLElement {
  const box = htmlEl("figure", { class: "tensor" });
  const shape = shapeOf(t);
  const scale = maxAbs(t);
  if (caption !== undefined) htmlEl("figcaption", {}, box, `${caption} · ${formatShape(shape)}`);
  if (shape.length === 0) {
    htmlEl("span", { class: "tensor-scalar" }, box, formatNumber(t as number, 6));
    return box;
  }
  const n = flatten(t).length;
  const grid = toGrid(t);
  if (n <= SMALL_ELEMENTS && grid[0].length <= 8) {
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
  } else {
    box.appendChild(thumbnail(grid, scale));
    htmlEl("span", { class: "tensor-range" }, box, `|max| ${formatNumber(scale, 3)}`);
  }
  return box;
}

function thumbnail(grid: number[][], scale: number): HTMLElement {
  const rows = grid.length;
  const cols = grid[0]?.length ?? 0;
  const img = htmlEl("img", { class: "heat-thumb", alt: `heatmap ${rows}×${cols}` });
  if (typeof document === "undefined") return img;
  const canvas = document.createElement("canvas");
  canvas.width = cols;
  canvas.height = rows;
  const ctx = canvas.getContext("2d");
  if (!ctx) return img;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      ctx.fillStyle = heatColor(grid[i][j], scale);
      ctx.fillRect(j, i, 1, 1);
    }
  }
  img.src = canvas.toDataURL("image/png");
  const w = Math.min(220, Math.max(60, cols * 8));
  img.style.width = `${w}px`;
  img.style.height = `${Math.min(220, Math.max(8, (w * rows) / Math.max(1, cols)))}px`;
  return img;
}
