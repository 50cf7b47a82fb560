// The explicit Jacobian of a tensor edge, for the explain panel: the matrix the server built from
// the op's VJP on unit upstream vectors (backend/gradtrace/jacobian.py), as a KaTeX matrix beside
// the VJP the engine really uses, and why the dense one is never formed. Pure: LaTeX and text.

import type { TraceEdge } from "./api";
import { formatNumber } from "./format";

/** A number inside the matrix: short (3 significant digits), KaTeX-safe. */
function entry(x: number): string {
  let s = formatNumber(x, 3, "-");
  if (s === "∞") s = "\\infty";
  if (s === "-∞") s = "-\\infty";
  return s.replace(/e(-?\d+)$/, "\\mathrm{e}{$1}");
}

/** J = d target / d source as a bmatrix with its size, or null for an edge without one. */
export function jacobianTex(e: TraceEdge, target: string, source: string): string | null {
  const J = e.jacobian;
  if (!J || J.length === 0) return null;
  const m = J.length;
  const n = J[0].length;
  const rows = J.map((row) => row.map(entry).join(" & ")).join(" \\\\ ");
  return `J = \\frac{\\partial\\,\\mathrm{vec}(${target})}{\\partial\\,\\mathrm{vec}(${source})} = \\begin{bmatrix} ${rows} \\end{bmatrix}_{${m}\\times ${n}}`;
}

/** What the dense Jacobian would do: the same downstream as the VJP, as a product. */
export function jacobianProductTex(target: string, source: string): string {
  return `\\mathrm{vec}(d${source})^{\\top} = \\mathrm{vec}(d${target})^{\\top} J\\quad\\text{(= the VJP)}`;
}

/** One sentence on why the engine never forms J, with this edge's size. */
export function jacobianNote(e: TraceEdge, target: string, source: string): string | null {
  const size = e.jacobian_size;
  if (size === undefined) return null;
  const count = size.toLocaleString("en-US");
  const big = "for a 256×256 matmul weight edge (65,536 outputs × 65,536 weights) it would be 4.3 billion numbers (34 GB)";
  return e.jacobian
    ? `The dense Jacobian ∂${target}/∂${source} has ${count} entries here and is shown only because it is small; the engine never forms it: ${big}, while the VJP costs about one forward pass.`
    : `The dense Jacobian ∂${target}/∂${source} would have ${count} entries, too many to show; the engine never forms it (${big}): the VJP gives the gradient at about the cost of the forward pass.`;
}
