// Themes: light, dark, projector (high contrast, large type). The choice is remembered.

import palette from "../../backend/gradtrace/data/palette.json";
import { htmlEl } from "./svg";

// The themes are those of the one palette (backend/gradtrace/data/palette.json), whose colours the
// stylesheet gets at build time (vite.palette.ts) and the picture renderer reads.
export type Theme = keyof typeof palette.themes;
export const THEMES: readonly Theme[] = Object.keys(palette.themes) as Theme[];
export const DEFAULT_THEME = palette.default as Theme;
const KEY = "gradtrace.theme";

export function isTheme(x: unknown): x is Theme {
  return typeof x === "string" && (THEMES as readonly string[]).includes(x);
}

export function savedTheme(): Theme | null {
  try {
    const t = localStorage.getItem(KEY);
    return isTheme(t) ? t : null;
  } catch {
    return null;
  }
}

export function applyTheme(t: Theme, remember = true): void {
  document.documentElement.dataset.theme = t;
  if (!remember) return;
  try {
    localStorage.setItem(KEY, t);
  } catch {
    /* private mode: not remembered */
  }
}

export function themeSelect(parent: HTMLElement, current: Theme, onChange: (t: Theme) => void): HTMLSelectElement {
  const label = htmlEl("label", { class: "theme-label" }, parent);
  // The word gives way on a phone (the select keeps its aria-label).
  htmlEl("span", { class: "theme-word" }, label, "Theme ");
  const sel = htmlEl("select", { "data-testid": "theme-select", "aria-label": "theme" }, label);
  for (const t of THEMES) htmlEl("option", { value: t }, sel, t);
  sel.value = current;
  sel.addEventListener("change", () => {
    if (isTheme(sel.value)) onChange(sel.value);
    // Chosen with the mouse, the select would keep the focus and eat the arrow keys: give them
    // back to the steps.
    sel.blur();
  });
  return sel;
}
