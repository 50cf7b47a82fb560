// The expression language as the input box sees it: tokens for highlighting, the error span to
// underline, and the input names a program needs. Pure: no DOM.

import { toUtf16 } from "./spans";
import { CONSTANT_NAMES, functionNames } from "./ops";

export type TokenKind = "number" | "name" | "func" | "op" | "paren" | "comment" | "space" | "other";

export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
}

/** The language's functions and constants (src/generated/language.json). */
export const FUNCTIONS: ReadonlySet<string> = new Set(functionNames());
export const CONSTANTS: ReadonlySet<string> = CONSTANT_NAMES;

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/y;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    let kind: TokenKind;
    let end = i + 1;
    if (c === "#") {
      kind = "comment";
      const nl = text.indexOf("\n", i);
      end = nl < 0 ? text.length : nl;
    } else if (/\s/.test(c)) {
      kind = "space";
      while (end < text.length && /\s/.test(text[end])) end++;
    } else if (/[A-Za-z_]/.test(c)) {
      NAME.lastIndex = i;
      NAME.exec(text);
      end = NAME.lastIndex;
      let j = end;
      while (j < text.length && (text[j] === " " || text[j] === "\t")) j++;
      kind = text[j] === "(" ? "func" : "name";
    } else if (/[0-9.]/.test(c)) {
      NUMBER.lastIndex = i;
      if (NUMBER.exec(text)) end = NUMBER.lastIndex;
      kind = "number";
    } else if (c === "*" && text[i + 1] === "*") {
      kind = "op";
      end = i + 2;
    } else if ("+-*/@^=;,".includes(c)) {
      kind = "op";
    } else if ("()".includes(c)) {
      kind = "paren";
    } else {
      kind = "other";
    }
    tokens.push({ kind, start: i, end });
    i = end;
  }
  return tokens;
}

export interface Segment {
  text: string;
  kind: TokenKind;
  error: boolean;
}

/**
 * The span to underline for an error at [start, end): at least one character; an error at the
 * very end of the text (an expected operand) gets a placeholder character past it.
 */
export function errorRange(text: string, start: number, end: number): { start: number; end: number; pad: boolean } {
  // The server's span is in code points; the text is indexed in UTF-16 units (spans.ts).
  const s = Math.max(0, Math.min(toUtf16(text, start), text.length));
  let e = Math.max(s, Math.min(toUtf16(text, end), text.length));
  if (e === s) e = s + 1;
  return { start: s, end: Math.min(e, text.length), pad: e > text.length };
}

/** Highlighted pieces of `text`: tokens, split where the error span starts and ends. */
export function segments(text: string, error: { start: number; end: number } | null): Segment[] {
  const range = error ? errorRange(text, error.start, error.end) : null;
  const cuts = new Set<number>();
  if (range) {
    cuts.add(range.start);
    cuts.add(range.end);
  }
  const out: Segment[] = [];
  for (const t of tokenize(text)) {
    const points = [t.start, ...[...cuts].filter((c) => c > t.start && c < t.end).sort((a, b) => a - b), t.end];
    for (let i = 0; i + 1 < points.length; i++) {
      const a = points[i];
      const b = points[i + 1];
      out.push({ text: text.slice(a, b), kind: t.kind, error: range !== null && a >= range.start && b <= range.end });
    }
  }
  if (range?.pad) out.push({ text: " ", kind: "space", error: true });
  return out;
}

/**
 * Names the program reads but never assigns before: the inputs it needs a value for (function
 * names and the constants pi, e are not inputs unless a value is given for them).
 */
export function inputNames(text: string): string[] {
  const tokens = tokenize(text).filter((t) => t.kind !== "space" && t.kind !== "comment");
  const assigned = new Set<string>();
  const needed: string[] = [];
  let statementStart = true;
  let pending: string | null = null; // assigned at the end of its statement (x = x + 1 reads x)
  const endStatement = (): void => {
    if (pending !== null) assigned.add(pending);
    pending = null;
    statementStart = true;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const s = text.slice(t.start, t.end);
    if (t.kind === "op" && s === ";") {
      endStatement();
      continue;
    }
    // A newline ends a statement too (the tokens list dropped spaces; look at the gap).
    if (i > 0 && text.slice(tokens[i - 1].end, t.start).includes("\n")) endStatement();
    if (t.kind === "name") {
      const next = tokens[i + 1];
      const isAssign = statementStart && next && text.slice(next.start, next.end) === "=";
      if (isAssign) {
        pending = s;
      } else if (!assigned.has(s) && !CONSTANTS.has(s) && !needed.includes(s)) {
        needed.push(s);
      }
    }
    statementStart = false;
  }
  return needed;
}
