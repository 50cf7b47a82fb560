// The numeric gradient check in the page: a toggle ("Check gradients") and, per input, its
// analytic gradient beside the central finite difference, the relative error and a pass/fail
// mark. The numbers come from the server's `check` (backend/gradtrace/check.py); this module only
// shows them. `checkRows` is the pure part (tested without a DOM).

import { made, unavailableMessage, type GradCheck, type Trace } from "./api";
import { formatNumber, formatShort, plainTensor } from "./format";
import { htmlEl } from "./svg";
import { TogglePanel } from "./toggle-panel";

export interface CheckRow {
  name: string;
  analytic: string;
  numeric: string;
  relError: string;
  /** Full precision, for data attributes. */
  relErrorPlain: string;
  verdict: GradCheck["inputs"][string]["verdict"];
  mark: string;
  /** Why the mark is what it is, in words (also the mark's accessible name). */
  label: string;
  note: string | null;
  /** The exact numbers, for data attributes. */
  analyticPlain: string;
  numericPlain: string;
}

const MARK: Record<CheckRow["verdict"], string> = { pass: "✓", fail: "✗", kink: "⚠", nonfinite: "?" };

/** One row per checked input, in the record's order. */
export function checkRows(check: GradCheck): CheckRow[] {
  const tol = formatNumber(check.tolerance, 2, "-");
  return Object.entries(check.inputs).map(([name, c]) => {
    const label =
      c.verdict === "pass"
        ? `pass: relative error at most ${tol}`
        : c.verdict === "fail"
          ? `fail: relative error above ${tol}`
          : c.verdict === "kink"
            ? "disagree at a kink, where the derivative does not exist"
            : "no verdict: a value is not finite";
    return {
      name,
      analytic: formatShort(c.analytic, 4, 6),
      numeric: formatShort(c.numeric, 4, 6),
      relError: formatNumber(c.rel_error, 2, "-"),
      relErrorPlain: String(c.rel_error),
      verdict: c.verdict,
      mark: MARK[c.verdict],
      label,
      note: c.note,
      analyticPlain: plainTensor(c.analytic),
      numericPlain: plainTensor(c.numeric),
    };
  });
}

/** The summary line above the table. */
export function checkSummary(check: GradCheck): string {
  const n = Object.keys(check.inputs).length;
  const what = check.mode === "forward" ? "the derivative along the tangent" : n === 1 ? "the gradient" : `all ${n} gradients`;
  const verdict = check.passed ? "agree with" : "do not all agree with";
  return `${check.passed ? "✓" : "✗"} ${what[0].toUpperCase()}${what.slice(1)}: analytic values ${verdict} central finite differences (${check.evaluations} forward passes, tolerance ${formatNumber(check.tolerance, 2, "-")}).`;
}

/** What is differentiated, in the page's words: the server's `L = <seed, f(x)>` says "output
 * gradient" where it says seed (the vector the backward pass starts from). */
export function checkOf(check: Pick<GradCheck, "of">): string {
  return check.of.replace(/\bseed\b/g, "output gradient").replace(/</g, "⟨").replace(/>/g, "⟩");
}

export class CheckPanel extends TogglePanel {
  constructor(parent: HTMLElement) {
    super(parent, {
      key: "check",
      heading: "Gradient check",
      off: "Check gradients",
      on: "Hide check",
      title: "compare every gradient with central finite differences (2 forward passes per input number)",
      waiting: "checking…",
    });
  }

  /** Show the check of `trace` (or why there is none). */
  show(trace: Trace | null, idle: string | null = null): void {
    // The record holds the check, or why it could not be made.
    const check = made(trace?.check);
    if (!this.begin(check, unavailableMessage(trace?.check), idle) || !check) return;
    htmlEl("p", { class: `check-summary ${check.passed ? "ok" : "bad"}`, "data-testid": "check-summary" }, this.body, checkSummary(check));
    const table = htmlEl("table", { class: "check-table", "data-testid": "check-table" }, this.body);
    const head = htmlEl("tr", {}, htmlEl("thead", {}, table));
    for (const h of [check.mode === "forward" ? "d/d" : "input", "analytic", "numeric", "rel. error"]) htmlEl("th", { scope: "col" }, head, h);
    // The marks' column: no words on screen (the marks say it), its name for a screen reader.
    htmlEl("span", { class: "sr-only" }, htmlEl("th", { scope: "col" }, head), "verdict");
    const tbody = htmlEl("tbody", {}, table);
    for (const r of checkRows(check)) {
      const tr = htmlEl("tr", { class: `verdict-${r.verdict}`, "data-testid": "check-row", "data-name": r.name, "data-verdict": r.verdict }, tbody);
      htmlEl("th", { scope: "row" }, tr, r.name);
      htmlEl("td", { class: "num", "data-value": r.analyticPlain }, tr, r.analytic);
      htmlEl("td", { class: "num", "data-value": r.numericPlain }, tr, r.numeric);
      htmlEl("td", { class: "num rel-error", "data-testid": "rel-error", "data-value": r.relErrorPlain }, tr, r.relError);
      htmlEl("td", { class: "mark", title: r.label, "aria-label": r.label }, tr, r.mark);
    }
    for (const note of check.notes) htmlEl("p", { class: "note check-note" }, this.body, note);
    htmlEl("p", { class: "note check-method" }, this.body, `${checkOf(check)}: ${check.method}.`);
    this.markWide();
  }
}
