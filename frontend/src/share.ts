// Links to the current step, for slides: the page itself, the embeddable page (an iframe that
// any site may frame), the server's pictures of the step (SVG, PNG, PDF; and the PNG as an HTML
// <img> and a Markdown image) and the view as one offline HTML file, all in the one URL form the
// server reads. Every snippet carries its text alternative: the iframe a title that says what it
// shows, the pictures an alt text that describes the graph and the step (narrate.ts describeView).
//
// The values typed are in the links, so a large tensor makes them long; past what the server
// takes in a request's head, a link would not open. Then the panel says so and offers the
// offline file instead (one HTML file holding the whole view), asked for by POST, whose body
// has no such limit.

import { download } from "./export";
import { htmlEl, setText } from "./svg";
import { encodeQuery, type Direction, type UrlState } from "./url-state";

/**
 * The most bytes of a request's head (its request line and headers) the server takes: the HTTP
 * parser of `gradtrace serve` (uvicorn's h11) refuses a head that passes h11's
 * max_incomplete_event_size, 16 KiB, before it has all arrived (over a network it comes in
 * pieces), with a 400.
 */
export const SERVER_HEAD_LIMIT = 16 * 1024;
/** Room in the head for the browser's own headers (host, user agent, accept...: about 1 KiB). */
export const BROWSER_HEADERS = 2 * 1024;
/** The longest link that opens: the head's limit less the browser's headers. */
export const MAX_LINK = SERVER_HEAD_LIMIT - BROWSER_HEADERS;

/** The links' length in bytes (the longest of them: they carry one query), and whether it is
 * more than the server takes. */
export function linkLength(links: ShareLinks): { bytes: number; tooLong: boolean } {
  const urls = [links.page, links.embed, links.svg, links.png, links.pdf, links.html];
  const bytes = Math.max(...urls.map((u) => new TextEncoder().encode(u).length));
  return { bytes, tooLong: bytes > MAX_LINK };
}

/** What the panel says of links too long to open, in plain words. */
export function tooLongWords(bytes: number): string {
  const n = (x: number): string => x.toLocaleString("en-US");
  return `The values typed make these links ${n(bytes)} characters long, more than the server takes (${n(MAX_LINK)}): ` +
    "they would not open. Share the offline file instead: one HTML file with this whole view, which steps through without a server.";
}

/** The offline file of the view of `query`, asked for by POST (its query as the body: no limit of
 * a link). */
export async function fetchOffline(query: string, fetcher: typeof fetch = fetch): Promise<Blob> {
  const res = await fetcher("/api/standalone.html", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: query,
  });
  if (!res.ok) {
    let message = `the server answered ${res.status}`;
    try {
      const data = (await res.json()) as { error?: { message?: string } };
      if (data.error?.message) message = data.error.message;
    } catch {
      // not JSON: the status says it
    }
    if (res.status === 405) message = "this server makes the offline file only from a link, and this view's link is too long";
    throw new Error(message);
  }
  return res.blob();
}

export interface ShareLinks {
  page: string;
  embed: string;
  /** The embed as an HTML iframe, titled with what it shows. */
  iframe: string;
  svg: string;
  png: string;
  pdf: string;
  /** The PNG as an HTML image and as a Markdown image, with the view's description as alt text. */
  img: string;
  markdown: string;
  /** The view as one offline HTML file (a download). */
  html: string;
}

/** The view in words (narrate.ts describeView): a title (the expression and the step) and a
 * description of the graph and the step. */
export interface ViewWords {
  title: string;
  text: string;
}

/** Text in an HTML attribute's double quotes. */
export function attr(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Text as a Markdown image's alt text: on one line, its brackets and backslashes escaped. */
export function markdownAlt(text: string): string {
  return text.replace(/\s+/g, " ").trim().replace(/([\\[\]])/g, "\\$1");
}

/** The words of a view when none are known (no trace yet): what it is, from the expression. */
export function fallbackWords(state: UrlState): ViewWords {
  const expr = state.expr?.trim();
  const title = expr ? `gradtrace: ${expr}` : "gradtrace";
  return { title, text: expr ? `The computational graph of ${expr}, drawn by gradtrace.` : "A computational graph drawn by gradtrace." };
}

/** The links of a view. The page and the embed are the view's own URL (they fit their screen);
 * a picture has no screen to fit, so it is drawn the way the graph is drawn here (`drawn`, when
 * the view leaves the direction to the screen). `words` titles the iframe and is the pictures'
 * alt text. */
export function shareLinks(origin: string, state: UrlState, theme: string, drawn: Direction | null = null, words: ViewWords = fallbackWords(state)): ShareLinks {
  const q = encodeQuery({ ...state, theme });
  const embed = `${origin}/embed/?${q}`;
  const p = state.dir === undefined && drawn !== null ? encodeQuery({ ...state, theme, dir: drawn }) : q;
  const png = `${origin}/api/picture.png?${p}&scale=2`;
  // A Markdown link ends at ")" and at a space: neither may stay in its URL.
  const mdUrl = png.replace(/\)/g, "%29").replace(/ /g, "%20");
  return {
    page: `${origin}/?${q}`,
    embed,
    iframe: `<iframe src="${attr(embed)}" width="960" height="540" style="border:0" title="${attr(words.title)}"></iframe>`,
    svg: `${origin}/api/picture.svg?${p}`,
    png,
    pdf: `${origin}/api/picture.pdf?${p}`,
    img: `<img src="${attr(png)}" alt="${attr(words.text)}">`,
    markdown: `![${markdownAlt(words.text)}](${mdUrl})`,
    html: `${origin}/api/standalone.html?${q}`,
  };
}

/** The panel's fields: each snippet, and what its row says it is. */
export const SHARE_ROWS: readonly [keyof ShareLinks, string][] = [
  ["page", "this page"],
  ["embed", "embed (slides)"],
  ["iframe", "iframe"],
  ["svg", "picture SVG"],
  ["png", "picture PNG"],
  ["pdf", "picture PDF"],
  ["img", "picture in HTML"],
  ["markdown", "picture in Markdown"],
  ["html", "offline HTML"],
];

export class SharePanel {
  readonly el: HTMLElement;
  private readonly fields = new Map<keyof ShareLinks, HTMLInputElement>();
  private readonly rows: HTMLElement[] = [];
  private readonly tooLong: HTMLElement;
  private readonly tooLongText: HTMLElement;
  private readonly offlineStatus: HTMLElement;
  private readonly copyStatus: HTMLElement;
  private copyTimer: number | null = null;
  /** What had the focus when the panel opened (its button): Escape gives the focus back to it. */
  private opener: HTMLElement | null = null;
  /** The panel closed itself (Escape): the page says so on its button (aria-expanded). */
  onClose: () => void = () => {};

  constructor(
    parent: HTMLElement,
    private readonly state: () => UrlState,
    private readonly theme: () => string,
    /** The direction the graph is drawn in here (for the pictures' links). */
    private readonly drawn: () => Direction | null = () => null,
    /** The view in words (null: no trace on show): the iframe's title, the pictures' alt text. */
    private readonly describe: () => ViewWords | null = () => null,
  ) {
    this.el = htmlEl("div", { class: "share", "data-testid": "share-panel", role: "dialog", "aria-label": "links to this step" }, parent);
    this.el.hidden = true;
    // Links too long to open: said in words, with the offline file instead.
    this.tooLong = htmlEl("div", { class: "share-too-long", "data-testid": "share-too-long" }, this.el);
    this.tooLong.hidden = true;
    this.tooLongText = htmlEl("p", {}, this.tooLong);
    const offline = htmlEl("button", {
      type: "button", "data-testid": "share-offline",
      title: "download one self-contained HTML file with this view, which steps through offline (no server)",
    }, this.tooLong, "download the offline file");
    this.offlineStatus = htmlEl("span", { class: "share-offline-status", "aria-live": "polite" }, this.tooLong);
    offline.addEventListener("click", () => {
      setText(this.offlineStatus, "making the file…");
      fetchOffline(encodeQuery({ ...this.state(), theme: this.theme() })).then(
        (blob) => {
          download("gradtrace.html", blob);
          setText(this.offlineStatus, "");
        },
        (e: unknown) => setText(this.offlineStatus, `could not make the file: ${e instanceof Error ? e.message : String(e)}`),
      );
    });
    for (const [key, text] of SHARE_ROWS) {
      const row = htmlEl("div", { class: "share-row" }, this.el);
      this.rows.push(row);
      const id = `share-field-${key}`;
      htmlEl("label", { for: id }, row, text);
      const input = htmlEl("input", { id, type: "text", readonly: "", "data-testid": `share-${key}` }, row);
      input.addEventListener("focus", () => input.select());
      // Named by what it copies ("copy this page"): nine buttons called "copy" alike would not say.
      const copy = htmlEl("button", { type: "button", title: `copy: ${text}`, "aria-label": `copy ${text}` }, row, "copy");
      copy.addEventListener("click", () => {
        input.select();
        void navigator.clipboard?.writeText(input.value).then(() => this.copied(text), () => undefined);
      });
      this.fields.set(key, input);
    }
    this.copyStatus = htmlEl("p", { class: "share-status", role: "status", "data-testid": "share-status" }, this.el);
    // Escape closes the panel and gives the focus back to its button (the page's step keys
    // never see it).
    this.el.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape" || this.el.hidden) return;
      ev.preventDefault();
      ev.stopPropagation();
      this.close();
    });
  }

  toggle(): boolean {
    if (this.el.hidden) {
      const active = document.activeElement;
      this.opener = active instanceof HTMLElement && active !== document.body ? active : null;
    }
    this.el.hidden = !this.el.hidden;
    if (!this.el.hidden) {
      this.refresh();
      // Into the dialog: its first link (selected, ready to copy), or the offline file's button.
      (this.tooLong.hidden ? this.fields.get("page") : this.tooLong.querySelector("button"))?.focus();
    }
    return !this.el.hidden;
  }

  /** Close the panel (Escape): the focus goes back to what opened it. */
  close(): void {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.opener?.focus();
    this.onClose();
  }

  private copied(what: string): void {
    setText(this.copyStatus, `copied: ${what}`);
    if (this.copyTimer !== null) window.clearTimeout(this.copyTimer);
    this.copyTimer = window.setTimeout(() => {
      setText(this.copyStatus, "");
      this.copyTimer = null;
    }, 2500);
  }

  refresh(): void {
    if (this.el.hidden) return;
    const state = this.state();
    const links = shareLinks(location.origin, state, this.theme(), this.drawn(), this.describe() ?? fallbackWords(state));
    const { bytes, tooLong } = linkLength(links);
    this.tooLong.hidden = !tooLong;
    for (const row of this.rows) row.hidden = tooLong;
    if (tooLong) {
      setText(this.tooLongText, tooLongWords(bytes));
      setText(this.offlineStatus, "");
    }
    for (const [key, input] of this.fields) input.value = tooLong ? "" : links[key];
  }
}
