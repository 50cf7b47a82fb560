// The op registry's facts as data (src/generated/ops.json, written from backend/gradtrace/ops/'s
// `catalogue()` by scripts/generate.py): each op's symbol on the graph, its LaTeX templates (`#0#`,
// `#1#` for the operands' symbols, `#z#` for the output's), and whether the language has it.

import language from "./generated/language.json";
import catalogue from "./generated/ops.json";

export interface OpInfo {
  arity: number;
  symbol: string;
  tex: string;
  local_tex: string[];
  vjp_tex: string[];
  gate: string | null;
  elementwise: boolean;
  language: boolean;
  /** How the language writes it as an operator (`+`), if it does. */
  operator: string | null;
  /** Called by name in the language, `exp(x)` (not only written as an operator, `x + y`). */
  function: boolean;
  /** Other names the language calls it by (`ln` for log, `cat` for concat). */
  aliases: string[];
  doc: string;
}

export const OPS: Readonly<Record<string, OpInfo>> = catalogue as Record<string, OpInfo>;

/** The language's function names (the registry's and grad) and constants (generated/language.json). */
const FUNCTION_NAMES: ReadonlySet<string> = new Set(language.functions);
export const CONSTANT_NAMES: ReadonlySet<string> = new Set(Object.keys(language.constants));

export function opInfo(op: string | null | undefined): OpInfo | undefined {
  return op ? (Object.hasOwn(OPS, op) ? OPS[op] : undefined) : undefined;
}

/** The op's symbol on the graph: + for add, σ for sigmoid (the op's name if it is unknown). */
export function symbol(op: string): string {
  return opInfo(op)?.symbol ?? op;
}

/** A template with the operands' symbols (and the output's, `z`) put in. */
export function fill(template: string, syms: readonly string[], z = "z"): string {
  return template.replace(/#(\d+|z)#/g, (m, slot: string) => (slot === "z" ? z : (syms[Number(slot)] ?? m)));
}

/** The op applied to operands, as LaTeX: texOf("div", ["a", "b"]) is \frac{a}{b}. */
export function texOf(op: string, syms: readonly string[]): string | null {
  const info = opInfo(op);
  return info ? fill(info.tex, syms) : null;
}

/** Whether the language calls `name(...)` a function: an op of the registry it has, or grad. */
export function isFunction(name: string): boolean {
  return FUNCTION_NAMES.has(name);
}

/** The language's function names, sorted. */
export function functionNames(): string[] {
  return [...FUNCTION_NAMES].sort();
}
