// Links to the current step, for slides: the page itself, the embeddable page (an iframe that
// any site may frame), the server's pictures of the step (SVG, PNG, PDF) and the view as one
// offline HTML file, all in the one URL form the server reads.

import { htmlEl } from "./svg";
import { encodeQuery, type UrlState } from "./url-state";

export interface ShareLinks {
  page: string;
  embed: string;
  iframe: string;
  svg: string;
  png: string;
  pdf: string;
  /** The view as one offline HTML file (a download). */
  html: string;
}

export function shareLinks(origin: string, state: UrlState, theme: string): ShareLinks {
  const q = encodeQuery({ ...state, theme });
  const embed = `${origin}/embed/?${q}`;
  return {
    page: `${origin}/?${q}`,
    embed,
    iframe: `<iframe src="${embed.replace(/&/g, "&amp;").replace(/"/g, "&quot;")}" width="960" height="540" style="border:0" title="gradtrace"></iframe>`,
    svg: `${origin}/api/picture.svg?${q}`,
    png: `${origin}/api/picture.png?${q}&scale=2`,
    pdf: `${origin}/api/picture.pdf?${q}`,
    html: `${origin}/api/standalone.html?${q}`,
  };
}

export class SharePanel {
  readonly el: HTMLElement;
  private readonly fields = new Map<keyof ShareLinks, HTMLInputElement>();

  constructor(
    parent: HTMLElement,
    private readonly state: () => UrlState,
    private readonly theme: () => string,
  ) {
    this.el = htmlEl("div", { class: "share", "data-testid": "share-panel", role: "dialog", "aria-label": "links" }, parent);
    this.el.hidden = true;
    const rows: [keyof ShareLinks, string][] = [
      ["page", "this page"],
      ["embed", "embed (slides)"],
      ["iframe", "iframe"],
      ["svg", "picture SVG"],
      ["png", "picture PNG"],
      ["pdf", "picture PDF"],
      ["html", "offline HTML"],
    ];
    for (const [key, text] of rows) {
      const row = htmlEl("label", { class: "share-row" }, this.el);
      htmlEl("span", {}, row, text);
      const input = htmlEl("input", { type: "text", readonly: "", "data-testid": `share-${key}` }, row);
      input.addEventListener("focus", () => input.select());
      const copy = htmlEl("button", { type: "button", title: "copy" }, row, "copy");
      copy.addEventListener("click", (ev) => {
        ev.preventDefault();
        input.select();
        void navigator.clipboard?.writeText(input.value).catch(() => undefined);
      });
      this.fields.set(key, input);
    }
  }

  toggle(): boolean {
    this.el.hidden = !this.el.hidden;
    if (!this.el.hidden) this.refresh();
    return !this.el.hidden;
  }

  refresh(): void {
    if (this.el.hidden) return;
    const links = shareLinks(location.origin, this.state(), this.theme());
    for (const [key, input] of this.fields) input.value = links[key];
  }
}
