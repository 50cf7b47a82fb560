// A static picture of the current step, for slides: the graph as a standalone SVG (styles
// inlined from the current theme), with the colour key under it, or as a PNG rendered from it.
// A picture is an image with its text alternative: role="img", named by the view's <title> and
// described by its <desc> (graph-view.ts's setDescription); what the page adds for the keyboard
// (the graph's focus, the nodes' names, the ring around a focused node) stays behind.

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
    const out = dst[i] as SVGElement;
    // The page's keyboard and screen-reader attributes: a picture's parts are not interactive.
    for (const a of [...out.attributes]) {
      if (a.name === "tabindex" || a.name === "role" || a.name === "focusable" || a.name.startsWith("aria-")) out.removeAttribute(a.name);
    }
    if (el.parentNode === svg && (el.tagName === "title" || el.tagName === "desc")) return;
    const cs = getComputedStyle(el);
    const style = PROPS.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(";");
    out.setAttribute("style", style);
    // The moving dots of the step's animation are no part of a still picture.
    if (el.classList.contains("pulses") || el.classList.contains("nav-ring")) out.setAttribute("data-drop", "");
    out.removeAttribute("class");
  });
  clone.querySelectorAll("[data-drop]").forEach((el) => el.remove());
  // The nodes' tooltips and descriptions go; the picture's own <title> and <desc> stay (first,
  // as an image's).
  clone.querySelectorAll("title, desc").forEach((t) => {
    if (t.parentNode !== clone) t.remove();
  });
  const title = clone.querySelector(":scope > title");
  const desc = clone.querySelector(":scope > desc");
  for (const a of ["tabindex", "role", "focusable", "aria-roledescription", "aria-label", "aria-labelledby", "aria-describedby"]) clone.removeAttribute(a);
  clone.setAttribute("role", "img");
  if (title?.id) clone.setAttribute("aria-labelledby", title.id);
  if (desc?.id && desc.textContent) clone.setAttribute("aria-describedby", desc.id);
  if (desc && !desc.textContent) desc.remove();
  if (desc) clone.insertBefore(desc, clone.firstChild);
  if (title) clone.insertBefore(title, clone.firstChild);
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
  // The background under everything drawn (after the title, the description and the defs).
  clone.insertBefore(rect, vp && vp.parentNode === clone ? vp : clone.querySelector(":scope > defs")?.nextSibling ?? null);
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

// ---- a PNG's text: the picture's title and description, as iTXt chunks (UTF-8: "∇ −4") ----

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The CRC-32 of a PNG chunk (over its type and data). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An iTXt chunk: keyword, uncompressed, no language, the text in UTF-8. */
function itxt(keyword: string, text: string): Uint8Array {
  const enc = new TextEncoder();
  const body = [...enc.encode(`iTXt${keyword}`), 0, 0, 0, 0, 0, ...enc.encode(text)];
  const typeAndData = Uint8Array.from(body);
  const out = new Uint8Array(8 + typeAndData.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, typeAndData.length - 4);
  out.set(typeAndData, 4);
  view.setUint32(4 + typeAndData.length, crc32(typeAndData));
  return out;
}

/** The PNG `png` with text chunks (PNG's own keywords: "Title", "Description") before its end. */
export function pngWithText(png: Uint8Array, fields: readonly (readonly [string, string])[]): Uint8Array<ArrayBuffer> {
  const chunks = fields.filter(([, text]) => text !== "").map(([k, text]) => itxt(k, text));
  if (chunks.length === 0) return png.slice();
  // The last chunk is IEND (12 bytes: length 0, type, CRC).
  const end = png.length - 12;
  const out = new Uint8Array(png.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(png.subarray(0, end), 0);
  let at = end;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  out.set(png.subarray(end), at);
  return out;
}

/** The text alternative an SVG picture carries: its root's <title> and <desc>. */
function svgText(text: string): [string, string][] {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const child = (tag: string): string => doc.querySelector(`svg > ${tag}`)?.textContent ?? "";
  return [["Title", child("title")], ["Description", child("desc")]];
}

/** Render SVG text to a PNG at `scale` (2 = sharp on slides), carrying the SVG's title and
 * description as the PNG's Title and Description. */
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
      canvas.toBlob((b) => {
        if (!b) return reject(new Error("no PNG"));
        b.arrayBuffer().then((buf) => resolve(new Blob([pngWithText(new Uint8Array(buf), svgText(text))], { type: "image/png" })), reject);
      }, "image/png");
    };
    img.onerror = () => reject(new Error("could not render the SVG"));
    img.src = url;
  });
}
