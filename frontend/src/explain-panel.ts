// The explain panel: the chain rule of the current step with numbers plugged in (KaTeX), the
// gate pattern in one sentence, and for tensor edges the shapes and the VJP rule.

import type { Explanation } from "./explain";
import { renderMath } from "./katex-render";
import { htmlEl } from "./svg";

export class ExplainPanel {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly body: HTMLElement;
  private last = "";

  constructor(parent: HTMLElement) {
    this.el = htmlEl("section", { class: "panel explain", "aria-label": "explanation", "data-testid": "explain" }, parent);
    this.title = htmlEl("h2", { class: "panel-title" }, this.el, "Explain");
    this.body = htmlEl("div", { class: "explain-body" }, this.el);
  }

  show(ex: Explanation): void {
    const key = JSON.stringify(ex);
    if (key === this.last) return;
    this.last = key;
    this.title.textContent = ex.title;
    this.body.replaceChildren();
    for (const line of ex.lines) {
      const div = htmlEl("div", { class: "math-line" }, this.body);
      renderMath(line, div);
    }
    for (const note of ex.notes) htmlEl("p", { class: "note" }, this.body, note);
    // Forward mode: what a full gradient costs in either mode.
    if (ex.cost?.length) {
      const cost = htmlEl("div", { class: "cost", "data-testid": "cost" }, this.body);
      for (const line of ex.cost) htmlEl("p", { class: "note" }, cost, line);
    }
  }
}
