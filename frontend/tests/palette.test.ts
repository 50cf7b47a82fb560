import { describe, expect, it } from "vitest";
import palette from "../../backend/gradtrace/data/palette.json";
import { contrast, heatRgb, heatTextColor, hexRgb } from "../src/format";

// Every text colour of the stylesheet on every background it is drawn on, in every theme, at
// WCAG's 4.5:1 for text; the graph's lines and outlines (wires, this step's node, the coloured
// wires of the step) at 3:1, WCAG's ratio for graphics. The colours are the palette's
// (backend/gradtrace/data/palette.json), which styles.css gets at build time.

type Colours = Record<string, string>;

/** `top` laid over `under` at opacity `a` (CSS color-mix with transparent, over a page colour). */
function over(top: string, a: number, under: string): [number, number, number] {
  const t = hexRgb(top);
  const u = hexRgb(under);
  return [0, 1, 2].map((i) => Math.round(t[i] * a + u[i] * (1 - a))) as [number, number, number];
}

const ratio = (fg: string | number[], bg: string | number[]): number =>
  contrast(typeof fg === "string" ? hexRgb(fg) : fg, typeof bg === "string" ? hexRgb(bg) : bg);

/** [what, foreground, background, least ratio] for a theme's colours. */
function pairs(c: Colours): [string, string | number[], string | number[], number][] {
  const out: [string, string | number[], string | number[], number][] = [];
  // Text on the page, the panels and the input fields: the body text, muted notes, the graph's
  // values, gradients, local derivatives and tangents (also in the explanation and node panel).
  for (const fg of ["fg", "muted", "value", "grad", "local", "tangent"]) {
    for (const bg of ["bg", "panel", "input-bg"]) out.push([`${fg} on ${bg}`, c[fg], c[bg], 4.5]);
  }
  // Node names on the node fills.
  for (const bg of ["node-op", "node-input", "node-const"]) out.push([`fg on ${bg}`, c.fg, c[bg], 4.5]);
  // The expression's highlighting, in the input box.
  for (const fg of ["tok-name", "tok-func", "tok-number", "tok-op", "tok-comment"]) out.push([`${fg} on input-bg`, c[fg], c["input-bg"], 4.5]);
  // An opened gate's title (muted) on its box (5% of the local colour over the page).
  out.push(["muted on gate box", c.muted, over(c.local, 0.05, c.bg), 4.5]);
  // The gradient check's "kink" mark: the text colour on a highlight of this step's colour.
  out.push(["fg on current highlight", c.fg, over(c.current, 0.35, c.bg), 4.5]);
  // Graphics: wires, node outlines, this step's node, the coloured wires of a step.
  for (const fg of ["wire", "node-stroke", "current", "value", "grad", "local", "tangent"]) out.push([`${fg} line on bg`, c[fg], c.bg, 3]);
  return out;
}

describe("the palette's contrast", () => {
  for (const [theme, t] of Object.entries(palette.themes)) {
    it(`reads at 4.5:1 (text) and 3:1 (lines) in the ${theme} theme`, () => {
      const bad = pairs(t.colours as Colours)
        .map(([what, fg, bg, least]) => ({ what, got: Math.round(ratio(fg, bg) * 100) / 100, least }))
        .filter((p) => p.got < p.least);
      expect(bad).toEqual([]);
    });
  }

  it("gives every heat-map cell a text colour at 4.5:1", () => {
    for (let x = -1; x <= 1.0001; x += 0.01) {
      const cell = heatRgb(x, 1);
      expect(ratio(hexRgb(heatTextColor(x, 1)), cell)).toBeGreaterThanOrEqual(4.5);
    }
    expect(ratio(hexRgb(heatTextColor(Number.NaN, 1)), heatRgb(Number.NaN, 1))).toBeGreaterThanOrEqual(4.5);
  });
});
