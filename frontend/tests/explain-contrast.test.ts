// The explain panel's own text colours (src/explain.css) against the backgrounds of every theme
// (backend/gradtrace/data/palette.json): at least 4.5:1, WCAG AA for text.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import palette from "../../backend/gradtrace/data/palette.json";
import { contrast, hexRgb } from "../src/format";

const css = readFileSync(new URL("../src/explain.css", import.meta.url), "utf8");

describe("the explain panel's text", () => {
  it("takes only theme colours, each at least 4.5:1 on the page and the panel in every theme", () => {
    const used = new Set([...css.matchAll(/(?<![-\w])color:\s*var\(--([\w-]+)\)/g)].map((m) => m[1]));
    expect(used.size).toBeGreaterThan(0);
    expect(css).not.toMatch(/(?<![-\w])color:\s*#/); // no colour of its own
    for (const [theme, def] of Object.entries(palette.themes)) {
      const colours = def.colours as Record<string, string>;
      for (const name of used) {
        for (const bg of ["bg", "panel"]) {
          const ratio = contrast(hexRgb(colours[name]), hexRgb(colours[bg]));
          expect(ratio, `${theme}: --${name} on --${bg}`).toBeGreaterThanOrEqual(4.5);
        }
      }
    }
  });
});
