// The expression language as the input box sees it: tokens for highlighting, the error span to
// underline, and the input names a program needs. Pure: no DOM.

import { toUtf16 } from "./spans";
import { CONSTANT_NAMES, functionNames } from "./ops";

export type TokenKind = "number" | "name" | "func" | "op" | "paren" | "string" | "comment" | "space" | "other";

export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
}

/** Names after which a dot continues a library's path (`np.sum`, `torch.nn.functional.relu`), not
 * a method call on a value: as the parser has them (backend/gradtrace/parser.py MODULES). */
export const MODULES: ReadonlySet<string> = new Set(["np", "numpy", "torch", "F", "nn", "tf", "math", "jnp", "jax", "scipy"]);

/** The literal values an option may take (`keepdims=True`, `axis=None`): not inputs. */
const LITERALS: ReadonlySet<string> = new Set(["True", "False", "None"]);

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
    } else if (c === "." && /[A-Za-z_]/.test(text[i + 1] ?? "") && /[A-Za-z0-9_)\]]/.test(text[i - 1] ?? "")) {
      // `y.sum()`, `x.T`, `torch.zeros`: an attribute's dot, not a number's point.
      kind = "op";
    } else if (c === "'" || c === '"') {
      // A word in quotes (`padding='same'`), to its closing quote on the same line.
      kind = "string";
      const close = text.indexOf(c, i + 1);
      const nl = text.indexOf("\n", i);
      end = close >= 0 && (nl < 0 || close < nl) ? close + 1 : nl < 0 ? text.length : nl;
    } else if (/[0-9.]/.test(c)) {
      NUMBER.lastIndex = i;
      if (NUMBER.exec(text)) end = NUMBER.lastIndex;
      kind = "number";
    } else if (c === "*" && text[i + 1] === "*") {
      kind = "op";
      end = i + 2;
    } else if ("+-*/@^=;,<>!:".includes(c)) {
      kind = "op";
    } else if ("()[]".includes(c)) {
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
 * Names the program reads but never assigns before: the inputs it needs a value for. Not inputs:
 * function names, the constants pi and e (unless a value is given for them), a library's name
 * before its dot (`torch.zeros`), an attribute or method after a dot (`x.T`, `y.sum()`), an
 * option's keyword (`axis=0`), the literals True, False and None, and words in quotes.
 */
export function inputNames(text: string): string[] {
  const tokens = tokenize(text).filter((t) => t.kind !== "space" && t.kind !== "comment");
  const str = (t: Token | undefined): string => (t ? text.slice(t.start, t.end) : "");
  // `=` alone, not part of == != <= >= (the tokens are one character each).
  const isAssign = (i: number): boolean => {
    const t = tokens[i];
    if (!t || str(t) !== "=") return false;
    const next = tokens[i + 1];
    const prev = tokens[i - 1];
    return !(next && next.start === t.end && str(next) === "=") && !(prev && prev.end === t.start && /^[=!<>]$/.test(str(prev)));
  };
  const assigned = new Set<string>();
  const needed: string[] = [];
  let statementStart = true;
  let depth = 0; // inside ( ) or [ ]: a newline does not end the statement there
  let pending: string | null = null; // assigned at the end of its statement (x = x + 1 reads x)
  const endStatement = (): void => {
    if (pending !== null) assigned.add(pending);
    pending = null;
    statementStart = true;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const s = str(t);
    if (t.kind === "op" && s === ";") {
      endStatement();
      depth = 0;
      continue;
    }
    // A newline ends a statement outside brackets (the tokens list dropped spaces; look at the
    // gap), unless the line ends with an operator (the expression goes on).
    if (i > 0 && depth === 0 && text.slice(tokens[i - 1].end, t.start).includes("\n") && tokens[i - 1].kind !== "op") endStatement();
    if (t.kind === "paren") depth = Math.max(0, depth + ("([".includes(s) ? 1 : -1));
    if (t.kind === "name") {
      const prev = tokens[i - 1];
      const next = tokens[i + 1];
      const afterDot = prev !== undefined && str(prev) === "." && prev.end === t.start;
      const module = MODULES.has(s) && next !== undefined && str(next) === "." && next.start === t.end;
      const keyword = depth > 0 && isAssign(i + 1);
      if (statementStart && isAssign(i + 1)) {
        pending = s;
      } else if (!afterDot && !module && !keyword && !LITERALS.has(s) && !assigned.has(s) && !CONSTANTS.has(s) && !needed.includes(s)) {
        needed.push(s);
      }
    }
    statementStart = false;
  }
  return needed;
}
