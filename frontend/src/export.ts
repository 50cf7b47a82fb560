// A static picture of the current step, for slides: the graph as a standalone SVG (styles
// inlined from the current theme), with the colour key under it, or as a PNG rendered from it.

import type { Trace } from "./api";
import { keyEntries, keySvg, type KeyColour } from "./colour-key";

const PROPS = [
  "fill", "stroke", "stroke-width", "stroke-dasharray", "stroke-linejoin", "paint-order",
  "font-family", "font-size", "font-weight", "font-style", "visibility", "opacity",
  "dominant-baseline", "text-anchor", "display",
];

/** The picture's part of the graph: a box in graph units, and how many pixels a unit is. */
export interface PictureBox {
  x: number;
  y: number;
  w: number;
  h: number;
  scale: number;
}

/** The graph as standalone SVG text: the part of the graph `box` frames (the fitted view), the
 * step's labels as placed on screen, the theme's colours; with `key` (the trace shown), the colour
 * key under it. */
export function graphSvg(svg: SVGSVGElement, box: PictureBox, key: Pick<Trace, "mode" | "wrt" | "nodes"> | null = null): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = svg.querySelectorAll("*");
  const dst = clone.querySelectorAll("*");
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const out = dst[i] as SVGElement;
    const style = PROPS.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(";");
    out.setAttribute("style", style);
    // The moving dots of the step's animation are no part of a still picture.
    if (el.classList.contains("pulses")) out.setAttribute("data-drop", "");
    out.removeAttribute("class");
  });
  clone.querySelectorAll("[data-drop]").forEach((el) => el.remove());
  clone.querySelectorAll("title").forEach((t) => t.remove());
  const vp = clone.querySelector("defs + g") ?? clone.querySelector("g");
  vp?.removeAttribute("transform");
  const root = getComputedStyle(document.documentElement);
  const colour = (c: KeyColour | "bg" | "fg"): string => root.getPropertyValue(`--${c}`).trim() || "#000";
  // The key, in rows under the graph, at the size the page shows it.
  const keySize = parseFloat(root.getPropertyValue("--base")) || 15;
  let keyHeight = 0;
  if (key) {
    const extras = { constants: key.nodes.some((n) => n.kind === "const"), labels: key.nodes.some((n) => n.labels === true) };
    const k = keySvg(keyEntries(key.mode ?? "reverse", key.wrt ?? null, extras), box.x + 8 / box.scale, box.y + box.h, box.w - 16 / box.scale,
      colour, { sans: root.getPropertyValue("--font"), mono: root.getPropertyValue("--mono") }, keySize / box.scale);
    keyHeight = k.height + 8 / box.scale;
    clone.appendChild(k.g);
  }
  const w = box.w;
  const h = box.h + keyHeight;
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("viewBox", `${box.x} ${box.y} ${w} ${h}`);
  clone.setAttribute("width", String(Math.round(w * box.scale)));
  clone.setAttribute("height", String(Math.round(h * box.scale)));
  clone.removeAttribute("style");
  const bg = getComputedStyle(document.body).backgroundColor;
  clone.setAttribute("style", `background:${bg}`);
  const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  rect.setAttribute("x", String(box.x));
  rect.setAttribute("y", String(box.y));
  rect.setAttribute("width", String(w));
  rect.setAttribute("height", String(h));
  rect.setAttribute("fill", bg);
  clone.insertBefore(rect, clone.firstChild?.nextSibling ?? null);
  return new XMLSerializer().serializeToString(clone);
}

export function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

/** Render SVG text to a PNG at `scale` (2 = sharp on slides). */
export function svgToPng(text: string, scale = 2): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
    const img = new Image();
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = Math.ceil(img.width * scale);
      canvas.height = Math.ceil(img.height * scale);
      const ctx = canvas.getContext("2d");
      if (!ctx) return reject(new Error("no canvas"));
      ctx.scale(scale, scale);
      ctx.drawImage(img, 0, 0);
      URL.revokeObjectURL(url);
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("no PNG"))), "image/png");
    };
    img.onerror = () => reject(new Error("could not render the SVG"));
    img.src = url;
  });
}
