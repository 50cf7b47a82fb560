// The presets gallery: every example of /api/presets (the worked examples of the lecture notes).
// A button per example: its title, what it teaches (the lesson) and where it comes from (the
// source); one click loads expression, values and output gradient.

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
      const id = `preset-${p.key}`;
      // The button is named by its title alone; the lesson and the source describe it. The
      // expression shows on hover (it is in the input once loaded).
      const b = htmlEl("button", {
        type: "button",
        class: "preset",
        "data-testid": id,
        title: p.expr,
        "aria-labelledby": `${id}-title`,
        "aria-describedby": `${id}-lesson ${id}-source`,
      }, this.list);
      // <b> and the muted .note style set title, lesson and source apart without a style of
      // their own.
      htmlEl("b", { class: "preset-title", id: `${id}-title` }, b, p.title);
      htmlEl("span", { class: "preset-lesson note", id: `${id}-lesson` }, b, p.lesson);
      htmlEl("span", { class: "preset-source", id: `${id}-source` }, b, p.source);
      b.addEventListener("click", () => this.onPick(p));
    }
  }

  showError(message: string): void {
    this.list.replaceChildren(htmlEl("p", { class: "note" }, undefined, message));
  }
}
