// The presets gallery: every example of /api/presets, its source as the caption; one click
// loads expression, values and output gradient (seed).

import type { Preset } from "./api";
import { htmlEl } from "./svg";

export class PresetsGallery {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  onPick: (p: Preset) => void = () => {};

  constructor(parent: HTMLElement) {
    this.el = htmlEl("details", { class: "panel presets", open: "" }, parent);
    htmlEl("summary", { class: "panel-title" }, this.el, "Examples");
    this.list = htmlEl("div", { class: "presets-list", "data-testid": "presets" }, this.el);
  }

  show(presets: Preset[]): void {
    this.list.replaceChildren();
    for (const p of presets) {
      const b = htmlEl("button", { type: "button", class: "preset", "data-testid": `preset-${p.key}`, title: p.expr }, this.list);
      htmlEl("code", { class: "preset-expr" }, b, p.expr);
      htmlEl("span", { class: "preset-source" }, b, p.source);
      b.addEventListener("click", () => this.onPick(p));
    }
  }

  showError(message: string): void {
    this.list.replaceChildren(htmlEl("p", { class: "note" }, undefined, message));
  }
}
