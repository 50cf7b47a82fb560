// The "Code" panel: the current expression as a runnable Python file, from the server
// (GET /api/code?lang=numpy|pytorch with the page's query): NumPy with the backward pass written
// out by hand, or PyTorch with autograd. A language choice, the code, Copy (with a visible
// "Copied") and a download link. Escape closes it and gives the focus back to its button.

import { htmlEl } from "./svg";
import { encodeQuery, type UrlState } from "./url-state";

export const CODE_LANGS = [
  ["numpy", "NumPy"],
  ["pytorch", "PyTorch"],
] as const;
export type CodeLang = (typeof CODE_LANGS)[number][0];

/** The URL of the file: the page's query plus `lang` (an input called lang goes as `v.lang`, as
 * the server reads `lang` as the language). */
export function codeUrl(state: UrlState, lang: CodeLang): string {
  const p = new URLSearchParams(encodeQuery(state));
  const own = p.get("lang");
  if (own !== null) {
    p.delete("lang");
    p.set("v.lang", own);
  }
  return `/api/code?lang=${lang}&${p.toString()}`;
}

/** One line of Python as spans: a comment (whole-line or after two spaces) is set apart. */
export function codeLine(line: string): [text: string, comment: string] {
  const t = line.trimStart();
  if (t.startsWith("#")) return ["", line];
  const at = line.indexOf("  # ");
  return at < 0 ? [line, ""] : [line.slice(0, at), line.slice(at)];
}

export class CodePanel {
  readonly el: HTMLElement;
  lang: CodeLang = "numpy";
  private readonly langButtons = new Map<CodeLang, HTMLButtonElement>();
  private readonly pre: HTMLElement;
  private readonly code: HTMLElement;
  private readonly status: HTMLElement;
  private readonly copyBtn: HTMLButtonElement;
  private readonly download: HTMLAnchorElement;
  private readonly note: HTMLElement;
  private text = "";
  private shown = "";
  private request = 0;
  private statusTimer: number | null = null;

  constructor(
    parent: HTMLElement,
    private readonly state: () => UrlState,
    private readonly opener: HTMLElement,
  ) {
    this.el = htmlEl("div", { class: "code-panel", role: "dialog", "aria-label": "generated Python code", "data-testid": "code-panel" }, parent);
    this.el.hidden = true;
    const head = htmlEl("div", { class: "code-head" }, this.el);
    htmlEl("span", { class: "code-title" }, head, "Python");
    const group = htmlEl("div", { class: "code-langs", role: "group", "aria-label": "language" }, head);
    for (const [lang, label] of CODE_LANGS) {
      const b = htmlEl("button", { type: "button", "aria-pressed": String(lang === this.lang), "data-testid": `code-lang-${lang}` }, group, label);
      b.addEventListener("click", () => this.choose(lang));
      this.langButtons.set(lang, b);
    }
    this.copyBtn = htmlEl("button", { type: "button", "data-testid": "code-copy", title: "copy the code to the clipboard" }, head, "Copy");
    this.copyBtn.addEventListener("click", () => void this.copy());
    this.download = htmlEl("a", { class: "button", "data-testid": "code-download", title: "download the file" }, head, "Download");
    this.status = htmlEl("span", { class: "code-status", role: "status", "aria-live": "polite", "data-testid": "code-status" }, head);
    const close = htmlEl("button", { type: "button", class: "code-close", "aria-label": "close", title: "close (Escape)", "data-testid": "code-close" }, head, "×");
    close.addEventListener("click", () => this.close());
    this.note = htmlEl("p", { class: "code-note", "data-testid": "code-note" }, this.el);
    this.pre = htmlEl("pre", { class: "code-text", tabindex: "0", "aria-label": "the code" }, this.el);
    this.code = htmlEl("code", { "data-testid": "code-text" }, this.pre);
    this.el.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.preventDefault();
        ev.stopPropagation();
        this.close();
      }
      // The page's step keys (arrows, space, F) stay out of the panel.
      ev.stopPropagation();
    });
  }

  get open(): boolean {
    return !this.el.hidden;
  }

  toggle(): boolean {
    if (this.open) this.close();
    else {
      this.el.hidden = false;
      this.opener.setAttribute("aria-expanded", "true");
      // Just below its button, which a long output line or large type may have wrapped lower.
      const parent = this.el.offsetParent ?? this.el.parentElement;
      if (parent) {
        const top = this.opener.getBoundingClientRect().bottom - parent.getBoundingClientRect().top;
        this.el.style.top = `${Math.max(0, Math.round(top + 6))}px`;
        this.el.style.maxHeight = `calc(100% - ${Math.round(top + 12)}px)`;
      }
      this.refresh();
      this.langButtons.get(this.lang)?.focus();
    }
    return this.open;
  }

  close(): void {
    if (!this.open) return;
    this.el.hidden = true;
    this.opener.setAttribute("aria-expanded", "false");
    this.opener.focus();
  }

  choose(lang: CodeLang): void {
    this.lang = lang;
    for (const [l, b] of this.langButtons) b.setAttribute("aria-pressed", String(l === lang));
    this.refresh();
  }

  /** Fetch the file for the current state (when open and the URL changed). */
  refresh(): void {
    if (!this.open) return;
    const state = this.state();
    const url = codeUrl(state, this.lang);
    this.note.textContent = codeNote(state, this.lang);
    this.download.href = url;
    this.download.setAttribute("download", `gradtrace_${this.lang}.py`);
    if (url === this.shown) return;
    this.shown = url;
    const n = ++this.request;
    this.el.classList.add("loading");
    this.pre.setAttribute("aria-busy", "true");
    void fetch(url)
      .then(async (r) => {
        const body = await r.text();
        if (n !== this.request) return;
        if (r.ok) this.show(body);
        else this.fail(errorMessage(body, r.status));
      })
      .catch((e: unknown) => {
        if (n === this.request) this.fail(`could not reach the server: ${String(e)}`);
      })
      .finally(() => {
        if (n !== this.request) return;
        this.el.classList.remove("loading");
        this.pre.removeAttribute("aria-busy");
      });
  }

  private show(text: string): void {
    this.text = text;
    this.el.classList.remove("failed");
    this.copyBtn.disabled = false;
    const lines = text.replace(/\n$/, "").split("\n");
    this.code.replaceChildren(
      ...lines.map((line) => {
        const row = htmlEl("span", { class: "code-line" });
        const [plain, comment] = codeLine(line);
        if (plain) row.append(plain);
        if (comment) htmlEl("span", { class: "code-comment" }, row, comment);
        row.append("\n");
        return row;
      }),
    );
  }

  private fail(message: string): void {
    this.text = "";
    this.shown = "";
    this.el.classList.add("failed");
    this.copyBtn.disabled = true;
    this.code.replaceChildren(htmlEl("span", { class: "code-error" }, undefined, message));
  }

  private async copy(): Promise<void> {
    if (!this.text) return;
    let ok = false;
    try {
      await navigator.clipboard.writeText(this.text);
      ok = true;
    } catch {
      // No clipboard API (an insecure origin) or no permission: the selection and the old
      // command, which needs neither.
      const range = document.createRange();
      range.selectNodeContents(this.code);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
      ok = document.execCommand("copy");
    }
    this.say(ok ? "Copied" : "Select the code and copy it by hand");
  }

  private say(text: string): void {
    this.status.textContent = text;
    if (this.statusTimer !== null) window.clearTimeout(this.statusTimer);
    this.statusTimer = window.setTimeout(() => {
      this.status.textContent = "";
      this.statusTimer = null;
    }, 2500);
  }
}

function errorMessage(body: string, status: number): string {
  try {
    const e = (JSON.parse(body) as { error?: { message?: string } }).error;
    if (e?.message) return e.message;
  } catch {
    /* not JSON */
  }
  return `the server answered ${status}`;
}

/** What the file is, in one sentence (it follows the view's mode). */
export function codeNote(state: UrlState, lang: CodeLang): string {
  if (state.mode === "forward") {
    const along = state.wrt ? ` along ${state.wrt}` : "";
    return lang === "numpy"
      ? `Forward mode${along}: each value followed by its tangent. Run it with python3: it prints the output's derivative.`
      : `Forward mode${along} with PyTorch's dual numbers. Run it with python3: it prints the output's derivative.`;
  }
  return lang === "numpy"
    ? "Reverse mode: the forward pass, then the backward pass by hand, one line per edge. Run it with python3: it prints each input's gradient."
    : "Reverse mode: the forward pass on tensors with requires_grad, then backward(). Run it with python3: it prints each input's gradient.";
}
