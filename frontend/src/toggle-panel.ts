// A side panel with a toggle button that asks the server for an extra part of the trace (the
// numeric check, the Hessian) and shows it, or why it is missing, or that it is on its way. The
// panels that show those parts (check-panel.ts, hessian-panel.ts) extend it with their content.

import { markScrollable } from "./explain-panel";
import { htmlEl } from "./svg";

/** The boxes of a panel that scroll sideways when their table is wider than the panel. */
const SCROLL_BOXES = ".check-body, .hessian-scroll";

export interface ToggleText {
  /** The panel's class and test id stem: "check" gives .check, check-panel, check-toggle. */
  key: string;
  heading: string;
  /** The button's label when off and when on, and its tooltip. */
  off: string;
  on: string;
  title: string;
  /** Shown while the answer with the part is awaited. */
  waiting: string;
}

export class TogglePanel {
  readonly el: HTMLElement;
  readonly button: HTMLButtonElement;
  protected readonly body: HTMLElement;
  private on = false;
  /** The toggle was pressed: ask for (or stop asking for) the part. */
  onToggle: (on: boolean) => void = () => {};

  constructor(
    parent: HTMLElement,
    private readonly text: ToggleText,
  ) {
    this.el = htmlEl("section", { class: `panel ${text.key}`, "aria-label": text.heading, "data-testid": `${text.key}-panel` }, parent);
    const head = htmlEl("div", { class: "check-head" }, this.el);
    htmlEl("h2", { class: "panel-title" }, head, text.heading);
    this.button = htmlEl("button", { type: "button", "data-testid": `${text.key}-toggle`, "aria-pressed": "false", title: text.title }, head, text.off);
    this.body = htmlEl("div", { class: "check-body", "aria-live": "polite" }, this.el);
    // A table wider than the panel scrolls sideways in a box the keyboard can focus, as long as
    // it is wider: at every size of the panel and of the type (a theme's), and each new table.
    if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => this.markWide()).observe(this.body);
    this.button.addEventListener("click", () => {
      this.setOn(!this.on);
      this.onToggle(this.on);
    });
  }

  /** Make the boxes that scroll sideways now focusable regions (and the others plain boxes);
   * called after drawing a table. */
  protected markWide(): void {
    markScrollable(this.el, SCROLL_BOXES, `${this.text.heading}: a table wider than the panel, scroll it sideways`);
  }

  setOn(on: boolean): void {
    this.on = on;
    this.button.setAttribute("aria-pressed", String(on));
    this.button.textContent = on ? this.text.on : this.text.off;
    if (!on) this.body.replaceChildren();
  }

  /** Clear the body and say why there is nothing to show, if so: off, a `problem` (shown), or
   * no `part` (`idle` says why, when no answer is on its way; else it is shown as waiting).
   * True when the caller should draw the part. */
  protected begin(part: unknown, problem: string | null, idle: string | null = null): boolean {
    this.body.replaceChildren();
    if (!this.on) return false;
    if (problem) {
      htmlEl("p", { class: "check-error", "data-testid": `${this.text.key}-error` }, this.body, problem);
      return false;
    }
    if (!part) {
      htmlEl("p", { class: "note" }, this.body, idle ?? this.text.waiting);
      return false;
    }
    return true;
  }
}
