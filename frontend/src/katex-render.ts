// KaTeX, bundled (its CSS and fonts through Vite: no CDN, no inline scripts). Every formula is
// written twice: KaTeX's HTML to see, and MathML (with the LaTeX as its annotation) for screen
// readers and for copying.

import katex from "katex";
import "katex/dist/katex.min.css";

export function renderMath(tex: string, el: HTMLElement, display = true): void {
  katex.render(tex, el, { displayMode: display, throwOnError: false, output: "htmlAndMathml", strict: "ignore" });
}
