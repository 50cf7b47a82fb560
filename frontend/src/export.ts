// A static picture of the current step, for slides: the graph as a standalone SVG (styles
// inlined from the current theme) or as a PNG rendered from it.

const PROPS = [
  "fill", "stroke", "stroke-width", "stroke-dasharray", "stroke-linejoin", "paint-order",
  "font-family", "font-size", "font-weight", "font-style", "visibility", "opacity",
  "dominant-baseline", "text-anchor",
];

/** The graph as standalone SVG text: the whole graph, the step's labels, the theme's colours. */
export function graphSvg(svg: SVGSVGElement, width: number, height: number, pad = { left: 24, right: 110, top: 40, bottom: 46 }): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = svg.querySelectorAll("*");
  const dst = clone.querySelectorAll("*");
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const out = dst[i] as SVGElement;
    const style = PROPS.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(";");
    out.setAttribute("style", style);
    out.removeAttribute("class");
  });
  clone.querySelector(".pulses")?.remove();
  clone.querySelectorAll("title").forEach((t) => t.remove());
  const viewport = clone.querySelector("g");
  const vp = clone.querySelector("defs + g") ?? viewport;
  vp?.removeAttribute("transform");
  const w = width + pad.left + pad.right;
  const h = height + pad.top + pad.bottom;
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("viewBox", `${-pad.left} ${-pad.top} ${w} ${h}`);
  clone.setAttribute("width", String(Math.round(w)));
  clone.setAttribute("height", String(Math.round(h)));
  const bg = getComputedStyle(document.body).backgroundColor;
  clone.setAttribute("style", `background:${bg}`);
  const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  rect.setAttribute("x", String(-pad.left));
  rect.setAttribute("y", String(-pad.top));
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
