// Spans of the expression travel as character offsets in Python's sense: code points. JavaScript
// strings are indexed in UTF-16 units, where a character outside the Basic Multilingual Plane
// (an emoji, a math letter like 𝑥 pasted from a PDF) takes two. Without this, one such character
// anywhere before a span shifted its underline by one.

const ASTRAL = /[\uD800-\uDFFF]/;

/** The UTF-16 index of code point `offset` of `text` (its length past the end). */
export function toUtf16(text: string, offset: number): number {
  if (!ASTRAL.test(text)) return offset;
  let units = 0;
  let points = 0;
  for (const ch of text) {
    if (points >= offset) return units;
    units += ch.length;
    points += 1;
  }
  return units + Math.max(0, offset - points);
}

/** `text`'s part at the server's span [start, end). */
export function sliceSpan(text: string, start: number, end: number): string {
  return text.slice(toUtf16(text, start), toUtf16(text, end));
}
