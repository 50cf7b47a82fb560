// The explain panel: the chain rule of the current step with numbers plugged in (KaTeX, with
// MathML beside its HTML for screen readers), tensors too large for a formula as heatmaps with a
// readout, the gate pattern in one sentence, and folded asides (the dense Jacobian). A formula
// wider than the panel scrolls sideways in a box the keyboard can focus and scroll.

import "./explain.css";
import { isTensorRow, type Explanation, type TensorRow } from "./explain";
import { renderMath } from "./katex-render";
import { htmlEl } from "./svg";
import { renderHeatmap } from "./tensor-view";

// The keys a focused formula box keeps to scroll itself (the steps listen on the document).
const SCROLL_KEYS = new Set(["ArrowLeft", "ArrowRight", "Home", "End"]);

/** A display formula in a box of its own, which scrolls sideways when the formula is wider than
 * the panel (then it is a named region the keyboard can focus: markScrollable). */
export function mathLine(tex: string, parent: HTMLElement, cls = "math-line"): HTMLElement {
  const div = htmlEl("div", { class: cls }, parent);
  renderMath(tex, div);
  div.addEventListener("keydown", (ev) => {
    if (div.scrollWidth > div.clientWidth && SCROLL_KEYS.has(ev.key)) ev.stopPropagation();
  });
  return div;
}

/** Make the boxes of `root` that `selector` picks and that overflow (a formula, a table wider
 * than its panel) keyboard-scrollable regions (tabindex 0, role region, named `name`), and plain
 * boxes again those that fit (a region, and a tab stop, per box that needs none would be noise). */
export function markScrollable(root: ParentNode, selector = ".math-line", name = "formula, wider than the panel: scroll it sideways"): void {
  for (const el of root.querySelectorAll<HTMLElement>(selector)) {
    const wide = el.scrollWidth > el.clientWidth + 1;
    if (wide && el.getAttribute("tabindex") !== "0") {
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "region");
      el.setAttribute("aria-label", name);
    } else if (!wide && el.hasAttribute("tabindex")) {
      el.removeAttribute("tabindex");
      el.removeAttribute("role");
      el.removeAttribute("aria-label");
    }
  }
}

function tensorRow(row: TensorRow, parent: HTMLElement): void {
  const box = htmlEl("div", { class: "tensor-row" }, parent);
  for (const t of row.tensors) {
    const fig = renderHeatmap(t.value, t.name);
    const cap = htmlEl("figcaption", { class: "heat-label" });
    fig.prepend(cap);
    renderMath(t.label, htmlEl("span", {}, cap), false);
    htmlEl("span", { class: "heat-shape" }, cap, ` ${fig.dataset.shape ?? ""}`);
    box.appendChild(fig);
  }
}

export class ExplainPanel {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly body: HTMLElement;
  private last = "";
  private readonly resize: ResizeObserver | null;

  constructor(parent: HTMLElement) {
    this.el = htmlEl("section", { class: "panel explain", "aria-label": "explanation", "data-testid": "explain" }, parent);
    this.title = htmlEl("h2", { class: "panel-title" }, this.el, "Explain");
    this.body = htmlEl("div", { class: "explain-body" }, this.el);
    // A formula that fits at one width may not at another: the tab stops follow the panel's size.
    this.resize = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => markScrollable(this.body));
    this.resize?.observe(this.body);
  }

  show(ex: Explanation): void {
    const key = JSON.stringify(ex);
    if (key === this.last) return;
    this.last = key;
    this.title.textContent = ex.title;
    this.body.replaceChildren();
    for (const line of ex.lines) {
      if (isTensorRow(line)) tensorRow(line, this.body);
      else mathLine(line, this.body);
    }
    for (const note of ex.notes) htmlEl("p", { class: "note" }, this.body, note);
    for (const f of ex.folded ?? []) {
      const details = htmlEl("details", { class: "explain-fold" }, this.body);
      htmlEl("summary", {}, details, f.summary);
      for (const line of f.lines) mathLine(line, details, "math-line jacobian");
      for (const note of f.notes) htmlEl("p", { class: "note" }, details, note);
      details.addEventListener("toggle", () => markScrollable(details));
    }
    // Forward mode: what a full gradient costs in either mode.
    if (ex.cost?.length) {
      const cost = htmlEl("div", { class: "cost", "data-testid": "cost" }, this.body);
      for (const line of ex.cost) htmlEl("p", { class: "note" }, cost, line);
    }
    markScrollable(this.body);
  }
}
