// The presets gallery: every example of /api/presets (the worked examples of the lecture notes).
// A card per example: its title (the button), what it teaches (the lesson) and where it comes
// from (the source); one click loads expression, values and output gradient.

import type { Preset } from "./api";
import { htmlEl } from "./svg";

export class PresetsGallery {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  onPick: (p: Preset) => void = () => {};

  constructor(parent: HTMLElement) {
    this.el = htmlEl("details", { class: "panel presets", open: "" }, parent);
    htmlEl("summary", { class: "panel-title" }, this.el, "Examples");
    this.list = htmlEl("ul", { class: "presets-list", "data-testid": "presets" }, this.el);
  }

  show(presets: Preset[]): void {
    this.list.replaceChildren();
    for (const p of presets) {
      const id = `preset-${p.key}`;
      // A card per example: its button is its title (a button's name is the text it shows), the
      // lesson and the source beside it describe it; the whole card takes the click (the
      // button's ::after covers it, styles.css). The expression shows on hover (it is in the
      // input once loaded).
      const card = htmlEl("li", { class: "preset", "data-testid": id }, this.list);
      const b = htmlEl("button", {
        type: "button",
        class: "preset-title",
        title: p.expr,
        "aria-describedby": `${id}-lesson ${id}-source`,
      }, card, p.title);
      htmlEl("span", { class: "preset-lesson note", id: `${id}-lesson` }, card, p.lesson);
      htmlEl("span", { class: "preset-source", id: `${id}-source` }, card, p.source);
      b.addEventListener("click", () => this.onPick(p));
    }
  }

  showError(message: string): void {
    this.list.replaceChildren(htmlEl("p", { class: "note" }, undefined, message));
  }
}
