// KaTeX, bundled (its CSS and fonts through Vite: no CDN, no inline scripts).

import katex from "katex";
import "katex/dist/katex.min.css";

export function renderMath(tex: string, el: HTMLElement, display = true): void {
  katex.render(tex, el, { displayMode: display, throwOnError: false, output: "html", strict: "ignore" });
}
