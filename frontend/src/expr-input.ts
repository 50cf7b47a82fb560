// The expression input: a textarea over a highlighted copy of its text (tokens coloured, the
// error span underlined), a debounced change callback, and the error message beside it.

import { segments } from "./expr-syntax";
import { htmlEl, setText } from "./svg";

export interface ExprError {
  message: string;
  start: number;
  end: number;
  /** False for errors about no place in the text (the server is unreachable). */
  underline?: boolean;
}

export class ExprInput {
  readonly el: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly backdrop: HTMLElement;
  private readonly errorEl: HTMLElement;
  private error: ExprError | null = null;
  /** The text was edited since the error came: its span no longer marks the right characters. */
  private edited = false;
  private timer: number | null = null;
  onChange: (expr: string) => void = () => {};

  constructor(parent: HTMLElement, private readonly debounceMs = 200) {
    this.el = htmlEl("div", { class: "expr" }, parent);
    const label = htmlEl("label", { class: "panel-title", for: "expr-input" }, this.el, "Expression");
    label.title = "statements separated by ; or newlines; the last one is the output";
    const box = htmlEl("div", { class: "expr-box" }, this.el);
    this.backdrop = htmlEl("div", { class: "expr-backdrop", "aria-hidden": "true" }, box);
    this.textarea = htmlEl("textarea", {
      id: "expr-input",
      class: "expr-text",
      "data-testid": "expr-input",
      spellcheck: "false",
      autocomplete: "off",
      autocapitalize: "off",
      rows: "3",
      "aria-describedby": "expr-error",
    }, box);
    this.errorEl = htmlEl("div", { id: "expr-error", class: "expr-error", "data-testid": "error", role: "alert" }, this.el);
    this.errorEl.hidden = true;
    this.textarea.addEventListener("input", () => {
      this.edited = true;
      this.render();
      this.grow();
      if (this.timer !== null) window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => {
        this.timer = null;
        this.onChange(this.textarea.value);
      }, this.debounceMs);
    });
    this.textarea.addEventListener("scroll", () => {
      this.backdrop.scrollTop = this.textarea.scrollTop;
      this.backdrop.scrollLeft = this.textarea.scrollLeft;
    });
  }

  get value(): string {
    return this.textarea.value;
  }

  /** Set the text programmatically (a preset, the URL): no debounce callback. */
  set value(text: string) {
    this.textarea.value = text;
    this.error = null;
    this.render();
    // A program loaded (a preset, a link) shows whole, up to a dozen lines: back to the usual
    // height first, so that a short one after a long one does not keep the room.
    this.textarea.style.height = "";
    this.grow();
  }

  /** Grow the box to its text (never past a dozen lines; it scrolls beyond, and a person may
   * resize it). Not laid out yet (hidden), it has no height to measure: left as it is. */
  private grow(): void {
    const ta = this.textarea;
    if (ta.scrollHeight <= ta.clientHeight || ta.clientHeight === 0) return;
    const style = getComputedStyle(ta);
    const line = parseFloat(style.lineHeight) || 24;
    const frame = ta.offsetHeight - ta.clientHeight; // the borders
    ta.style.height = `${Math.min(ta.scrollHeight + frame, line * 12)}px`;
  }

  setError(err: ExprError | null): void {
    this.error = err;
    this.edited = false;
    this.errorEl.hidden = err === null;
    setText(this.errorEl, err ? err.message : "");
    this.textarea.setAttribute("aria-invalid", err ? "true" : "false");
    this.render();
  }

  private render(): void {
    const text = this.textarea.value;
    // An edit after an error moves the text under the underline: drop it until the next answer.
    const err = this.error && !this.edited && this.error.underline !== false && this.error.end <= text.length + 1 ? this.error : null;
    const frag = document.createDocumentFragment();
    let mark: HTMLElement | null = null; // one <mark> around the whole error span
    for (const s of segments(text, err)) {
      const span = document.createElement("span");
      span.className = `tok-${s.kind}`;
      span.textContent = s.text;
      if (s.error) {
        if (!mark) {
          mark = document.createElement("mark");
          mark.className = "error-span";
          mark.setAttribute("data-testid", "error-underline");
          frag.appendChild(mark);
        }
        mark.appendChild(span);
      } else {
        frag.appendChild(span);
      }
    }
    // A trailing newline needs a character after it to take up its line.
    frag.appendChild(document.createTextNode("\u200b"));
    this.backdrop.replaceChildren(frag);
  }
}
