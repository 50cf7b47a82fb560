// The Hessian view: a toggle ("Hessian") and, for a scalar output of a few input numbers, the
// matrix of its second derivatives H[i][j] = d²f / dv_i dv_j, labelled by input (x, or W[0,1] for
// a tensor's element). The server computes it (backend/gradtrace/hessian.py) by forward mode over
// the gradient graph that grad() builds; this module only shows it. `hessianCells` is the pure
// part (tested without a DOM).

import { made, unavailableMessage, type HessianRecord, type Trace } from "./api";
import { formatShort } from "./format";
import { htmlEl } from "./svg";
import { TogglePanel } from "./toggle-panel";

export interface HessianCell {
  text: string;
  /** Full precision, for data attributes. */
  plain: string;
  diagonal: boolean;
  zero: boolean;
}

/** The matrix as rows of display cells. */
export function hessianCells(h: HessianRecord): HessianCell[][] {
  return h.matrix.map((row, i) =>
    row.map((v, j) => ({ text: formatShort(v, 4, 6), plain: String(v), diagonal: i === j, zero: v === 0 })),
  );
}

/** One sentence under the matrix: how it was computed, and whether it is symmetric. */
export function hessianNote(h: HessianRecord): string {
  const n = h.labels.length;
  const how = `${n} forward-mode ${n === 1 ? "pass" : "passes"} (one per input number) through the gradient graph that grad() builds`;
  return h.symmetric
    ? `Symmetric, as second derivatives are where f is smooth: ${how}.`
    : `Not symmetric: f has a kink here (relu, abs, max or min), where the second derivatives follow the first derivatives' conventions; ${how}.`;
}

export class HessianPanel extends TogglePanel {
  constructor(parent: HTMLElement) {
    super(parent, {
      key: "hessian",
      heading: "Second derivatives",
      off: "Hessian",
      on: "Hide Hessian",
      title: "the Hessian of a scalar output: every second derivative d²f/dv_i dv_j",
      waiting: "computing…",
    });
  }

  /** Show the Hessian of `trace` (or why there is none). */
  show(trace: Trace | null, idle: string | null = null): void {
    // The record holds the Hessian, or why it could not be made.
    const h = made(trace?.hessian);
    if (!this.begin(h, unavailableMessage(trace?.hessian), idle) || !h) return;
    const wrap = htmlEl("div", { class: "hessian-scroll" }, this.body);
    const table = htmlEl("table", { class: "check-table hessian-table", "data-testid": "hessian-table" }, wrap);
    const head = htmlEl("tr", {}, htmlEl("thead", {}, table));
    htmlEl("td", {}, head); // the corner: over the rows' names, under the columns'.
    for (const label of h.labels) htmlEl("th", { scope: "col" }, head, `∂${label}`);
    const tbody = htmlEl("tbody", {}, table);
    hessianCells(h).forEach((row, i) => {
      const tr = htmlEl("tr", {}, tbody);
      htmlEl("th", { scope: "row" }, tr, `∂${h.labels[i]}`);
      row.forEach((cell, j) => {
        const cls = `num${cell.diagonal ? " diagonal" : ""}${cell.zero ? " zero" : ""}`;
        htmlEl("td", { class: cls, "data-testid": "hessian-cell", "data-row": String(i), "data-col": String(j), "data-value": cell.plain, title: `∂²f / ∂${h.labels[i]} ∂${h.labels[j]}` }, tr, cell.text);
      });
    });
    htmlEl("p", { class: "note", "data-testid": "hessian-note" }, this.body, hessianNote(h));
    this.markWide();
  }
}
