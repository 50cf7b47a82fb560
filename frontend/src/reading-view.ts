// How the server read the text, under the expression box: "read as" and the program in
// gradtrace's own language (when that is not the text as typed: a product written by
// juxtaposition, LaTeX, a library's spelling), the output gradient the text gives, and the lines
// it skipped (imports, prints, `.backward()`...), each with why. A student sees how
// `(a+b)(b+1)` or a pasted formula was understood before trusting its gradients.

import type { Reading, Tensor } from "./api";
import { formatTensor } from "./format";
import { sliceSpan } from "./spans";
import { htmlEl, setText } from "./svg";

export interface SkippedItem {
  /** The line as it is in the expression. */
  text: string;
  /** Why it computes nothing, in plain words (the server's). */
  reason: string;
}

/** The skipped lines of `reading`, cut out of `expr` by their spans (code points). */
export function skippedLines(expr: string, reading: Pick<Reading, "skipped">): SkippedItem[] {
  return reading.skipped.map((s) => ({ text: sliceSpan(expr, s.start, s.end).trim(), reason: s.reason }));
}

/** "1 line skipped", "3 lines skipped". */
export function skippedSummary(n: number): string {
  return `${n} ${n === 1 ? "line" : "lines"} skipped`;
}

/** The output gradient the text gives, as the box says it. */
export function seedSentence(seed: Tensor): string {
  return `output gradient from the text: ${formatTensor(seed, 4)}`;
}

/** Whether the reading has anything to say beyond the text as typed. */
export function readingShown(reading: Pick<Reading, "differs" | "skipped" | "seed">): boolean {
  return reading.differs || reading.skipped.length > 0 || reading.seed !== null;
}

export class ReadingView {
  readonly el: HTMLElement;
  private readonly readAsRow: HTMLElement;
  private readonly code: HTMLElement;
  private readonly seed: HTMLElement;
  private readonly skipped: HTMLDetailsElement;
  private readonly summary: HTMLElement;
  private readonly list: HTMLElement;
  /** What is on show, to redraw nothing when a new trace brings the same reading. */
  private shownKey = "";

  constructor(parent: HTMLElement) {
    this.el = htmlEl("section", { class: "reading", "data-testid": "reading", "aria-label": "how the text was read" }, parent);
    this.el.hidden = true;
    this.readAsRow = htmlEl("div", { class: "read-as" }, this.el);
    htmlEl("span", { class: "read-as-label", id: "read-as-label" }, this.readAsRow, "read as");
    // Focusable, so that a long program scrolls from the keyboard too: a region named "read as".
    this.code = htmlEl("pre", {
      class: "read-as-code", "data-testid": "read-as", tabindex: "0", role: "region", "aria-labelledby": "read-as-label",
      title: "the expression as gradtrace read it, in its own language",
    }, this.readAsRow);
    this.seed = htmlEl("p", { class: "reading-seed", "data-testid": "reading-seed" }, this.el);
    this.skipped = htmlEl("details", { class: "skipped", "data-testid": "skipped" }, this.el);
    this.summary = htmlEl("summary", { "data-testid": "skipped-summary" }, this.skipped);
    this.list = htmlEl("ul", { class: "skipped-list" }, this.skipped);
  }

  /** Show the reading of `expr` (null: nothing to show). */
  show(reading: Reading | null, expr: string): void {
    this.el.classList.remove("stale");
    if (reading === null || !readingShown(reading)) {
      this.clear();
      return;
    }
    const items = skippedLines(expr, reading);
    const key = JSON.stringify([reading.differs ? reading.canonical : null, reading.seed, items]);
    this.el.hidden = false;
    if (key === this.shownKey) return;
    this.shownKey = key;
    this.readAsRow.hidden = !reading.differs;
    setText(this.code, reading.differs ? reading.canonical : "");
    this.code.scrollTop = 0;
    this.seed.hidden = reading.seed === null;
    setText(this.seed, reading.seed === null ? "" : seedSentence(reading.seed));
    this.skipped.hidden = items.length === 0;
    setText(this.summary, skippedSummary(items.length));
    this.list.replaceChildren(
      ...items.map((it) => {
        const li = htmlEl("li", { class: "skipped-line", "data-testid": "skipped-line" });
        htmlEl("code", { class: "skipped-text" }, li, it.text);
        htmlEl("span", { class: "skipped-reason" }, li, it.reason);
        return li;
      }),
    );
  }

  /** The text changed and could not be read: what is shown is of the text before, dimmed. */
  setStale(): void {
    if (!this.el.hidden) this.el.classList.add("stale");
  }

  clear(): void {
    this.el.hidden = true;
    this.el.classList.remove("stale");
    this.shownKey = "";
    setText(this.code, "");
    this.list.replaceChildren();
  }
}
