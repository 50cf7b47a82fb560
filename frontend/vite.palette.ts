import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";

// The themes' CSS variables, written at build time from the one palette
// (backend/gradtrace/data/palette.json, which the picture renderer reads too) into
// src/styles.css in the place of its `/* @palette */` comment. Used by both Vite configs (the app
// and the offline standalone page), so no script sets a colour at run time.

export const PALETTE_FILE = fileURLToPath(new URL("../backend/gradtrace/data/palette.json", import.meta.url));
const MARKER = "/* @palette */";

interface Theme {
  "color-scheme": string;
  colours: Record<string, string>;
  sizes: Record<string, number>;
  notes?: Record<string, string>;
}

interface Palette {
  default: string;
  fonts: Record<string, string>;
  themes: Record<string, Theme>;
}

/** The CSS of the palette: one rule per theme, the default theme's also on :root. */
export function paletteCss(palette: Palette): string {
  const rules: string[] = [];
  for (const [name, theme] of Object.entries(palette.themes)) {
    const selector = name === palette.default ? `:root,\n[data-theme="${name}"]` : `[data-theme="${name}"]`;
    const notes = theme.notes ?? {};
    const lines: string[] = [];
    if (notes.theme) lines.push(`  /* ${notes.theme} */`);
    for (const [key, colour] of Object.entries(theme.colours)) {
      lines.push(`  --${key}: ${colour};${notes[key] ? ` /* ${notes[key]} */` : ""}`);
    }
    if (name === palette.default) for (const [key, font] of Object.entries(palette.fonts)) lines.push(`  --${key}: ${font};`);
    for (const [key, px] of Object.entries(theme.sizes)) lines.push(`  --${key}: ${px}px;`);
    lines.push(`  color-scheme: ${theme["color-scheme"]};`);
    rules.push(`${selector} {\n${lines.join("\n")}\n}`);
  }
  return rules.join("\n\n");
}

export function palettePlugin(): Plugin {
  return {
    name: "gradtrace-palette",
    enforce: "pre",
    transform(code, id) {
      if (!id.split("?")[0].endsWith("/src/styles.css")) return null;
      if (!code.includes(MARKER)) this.error(`src/styles.css has no ${MARKER} comment for the palette`);
      this.addWatchFile(PALETTE_FILE);
      const palette = JSON.parse(readFileSync(PALETTE_FILE, "utf8")) as Palette;
      return { code: code.replace(MARKER, paletteCss(palette)), map: null };
    },
  };
}
