import { describe, expect, it } from "vitest";
import palette from "../../backend/gradtrace/data/palette.json";
import { contrast, heatRgb, heatTextColor, hexRgb } from "../src/format";

// Every text colour of the stylesheet on every background it is drawn on, in every theme, at
// WCAG's 4.5:1 for text; the graph's lines and outlines (wires, this step's node, the coloured
// wires of the step) and the focus rings at 3:1, WCAG's ratio for graphics. The colours are the
// palette's (backend/gradtrace/data/palette.json), which styles.css gets at build time. axe-core
// (tests/e2e/test_a11y.py) checks the page's HTML text but leaves SVG text and text over the
// heatmaps' colours "incomplete": those pairs are checked here.

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
  // Node names on the nodes a grad() call built (the gradient's colour at 12% over the fill).
  for (const fill of ["node-op", "node-const"]) out.push([`fg on from-grad ${fill}`, c.fg, over(c.grad, 0.12, c[fill]), 4.5]);
  // The Hessian's diagonal (the local colour at 14% over the page): its numbers, a zero muted.
  for (const fg of ["fg", "muted"]) out.push([`${fg} on hessian diagonal`, c[fg], over(c.local, 0.14, c.bg), 4.5]);
  // An error's characters, marked (the vermillion at 18% over the field): the expression's
  // highlighted tokens in the box, the quote of a tensor's text (fg) under it.
  const mark = over("#d55e00", 0.18, c["input-bg"]);
  for (const fg of ["fg", "tok-name", "tok-func", "tok-number", "tok-op", "tok-comment"]) out.push([`${fg} on error mark`, c[fg], mark, 4.5]);
  out.push(["fg on error mark on page", c.fg, over("#d55e00", 0.18, c.bg), 4.5]);
  // A number field that cannot be read (the vermillion at 8% over the value's frame, the panel).
  out.push(["fg on invalid field", c.fg, over("#d55e00", 0.08, c.panel), 4.5]);
  // The error under the expression box and a tensor's text, and the values panel's warnings.
  for (const bg of ["bg", "panel"]) out.push([`grad text on ${bg}`, c.grad, c[bg], 4.5]);
  // The code panel's pressed language button: the page's colour on the text colour.
  out.push(["bg on fg (pressed button)", c.bg, c.fg, 4.5]);
  // The share panel's "copied", the check's "agree": the value's colour on the panel.
  out.push(["value on panel", c.value, c.panel, 4.5]);
  // Focus rings (styles.css :focus-visible, the example cards, a heatmap cell's ring set off by
  // the page's colour): the local colour on every background a focused control sits on; a
  // formula box's ring is the text colour; a gate's button is ringed in this step's colour.
  for (const bg of ["bg", "panel", "input-bg"]) out.push([`focus ring (local) on ${bg}`, c.local, c[bg], 3]);
  out.push(["formula focus ring (fg) on bg", c.fg, c.bg, 3]);
  out.push(["gate focus ring (current) on bg", c.current, c.bg, 3]);
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

  it("gives the ends of the heat scale, and numbers past them, a text colour at 4.5:1", () => {
    // The most negative (full blue), zero (white), the most positive (full vermillion), past the
    // scale (clamped), and the numbers that are not finite (grey).
    const ends = [-1, 0, 1, -7, 7, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN];
    const got = ends.map((x) => Math.round(ratio(hexRgb(heatTextColor(x, 1)), heatRgb(x, 1)) * 100) / 100);
    expect(got.filter((r) => r < 4.5)).toEqual([]);
    expect(heatRgb(-1, 1)).toEqual([0, 114, 178]);
    expect(heatRgb(1, 1)).toEqual([213, 94, 0]);
    expect(heatRgb(0, 1)).toEqual([255, 255, 255]);
  });

  for (const [theme, t] of Object.entries(palette.themes)) {
    it(`marks a heatmap's active cell and focus so they show on every cell colour in the ${theme} theme`, () => {
      const c = t.colours as Colours;
      // The active cell's mark is a ring of the text colour inside one of the page's colour
      // (explain.css): on any cell colour, one of the two stands out at 3:1.
      for (let x = -1; x <= 1.0001; x += 0.01) {
        const cell = heatRgb(x, 1);
        expect(Math.max(ratio(c.fg, cell), ratio(c.bg, cell))).toBeGreaterThanOrEqual(3);
      }
      // The focus ring (the local colour) is set off from the cells by a ring of the page's colour.
      expect(ratio(c.local, c.bg)).toBeGreaterThanOrEqual(3);
    });
  }
});
