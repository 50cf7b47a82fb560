// The table view: the whole trace as a table, one row per step in order, as an alternative to the
// graph's picture (a screen reader reads a table row by row; a student can scan every number at
// once). Per step: its number and phase, the node and what it computes, its value, and in a
// backward step the gradient it receives (upstream) and, per operand, the local derivative and
// the gradient it sends on (downstream); in forward mode the value and the tangent. The current
// step's row is marked (aria-current="step", and seen), and Enter or a click on a row goes to its
// step. It opens and closes with the key T (outside text fields) or the "table" button beside the
// direction switch; it covers the graph's picture while open (the two are alternatives), takes
// the focus, and Escape gives the focus back where it was. Not a dialog: Tab leaves it.
// `tableRows` is pure (the rows' texts); `TraceTable` draws them.

import "./trace-table.css";
import type { Tensor, Trace, TraceEdge } from "./api";
import { isTypingTarget } from "./controls";
import { formatNumber, formatShape, formatShort, isScalar, shapeOf } from "./format";
import { renderMath } from "./katex-render";
import { nodeLabel, nodeWhat } from "./node-words";
import { nodeIndex, stepLabel, tangentOf } from "./steps";
import { htmlEl } from "./svg";

/** One operand of a backward step's node: its name, the local derivative of the node with
 * respect to it (a number; a tensor op's rule in LaTeX instead), and the gradient sent to it. */
export interface EdgeCells {
  operand: string;
  local: string | null;
  localTex: string | null;
  sent: string;
}

export interface TableRow {
  /** The step's index (0 .. total-1). */
  index: number;
  /** "forward 2/5", "backward 1/5": as the step controls say it. */
  step: string;
  /** The node and what it computes, as the step's title says it: "q = x + y", "x (input)". */
  node: string;
  value: string;
  /** Backward: the gradient the node receives (empty in forward steps). */
  upstream: string;
  /** Backward: per operand (none for an input or in forward steps). */
  edges: EdgeCells[];
  /** Forward mode: the node's tangent. */
  tangent: string;
}

/** A number as the explanation writes it (4 significant digits, a true minus); a tensor by its
 * shape and its short form ("1×2 [3, 4]"), or its shape alone where it is long ("5×5"). */
export function tableValue(t: Tensor | null | undefined): string {
  if (t === null || t === undefined) return "";
  if (isScalar(t)) return formatNumber(t, 4);
  const short = formatShort(t, 6, 4);
  return short.startsWith("[") ? `${formatShape(shapeOf(t))} ${short}` : short;
}

/** Every step of the trace as a row, in order (forward steps, then backward steps). */
export function tableRows(trace: Trace): TableRow[] {
  const byId = nodeIndex(trace);
  const F = trace.forward.length;
  const B = trace.backward.length;
  const forwardMode = trace.mode === "forward";
  const what = (id: string): string => {
    const n = byId.get(id);
    return n ? nodeWhat(trace, n) : id;
  };
  const rows: TableRow[] = trace.forward.map((id, i) => {
    const n = byId.get(id);
    return {
      index: i,
      step: stepLabel("forward", i + 1, F),
      node: what(id),
      value: n ? tableValue(n.value) : "",
      upstream: "",
      edges: [],
      tangent: forwardMode && n ? tableValue(tangentOf(n)) : "",
    };
  });
  trace.backward.forEach((s, k) => {
    const n = byId.get(s.node);
    const edges = [...s.edges].sort((a, b) => a.arg - b.arg).map((e: TraceEdge): EdgeCells => {
      const src = byId.get(e.source);
      const operand = src ? nodeLabel(trace, src) : e.source;
      const local = e.local !== null ? formatNumber(e.local, 4) : null;
      // A constant takes no gradient: nothing is sent to it.
      const sent = src?.kind === "const" ? "none (a constant)" : e.downstream === null ? "none" : tableValue(e.downstream);
      return { operand, local, localTex: local === null ? e.local_formula : null, sent };
    });
    rows.push({
      index: F + k,
      step: stepLabel("backward", k + 1, B),
      node: what(s.node),
      value: n ? tableValue(n.value) : "",
      upstream: tableValue(s.upstream),
      edges,
      tangent: "",
    });
  });
  return rows;
}

/** The table's caption: what it holds. */
export function tableCaption(trace: Pick<Trace, "expr" | "mode" | "wrt">): string {
  const mode = trace.mode === "forward" ? `, forward mode along ${trace.wrt ?? "an input"}` : "";
  return `Every step of ${trace.expr.replace(/\s+/g, " ").trim()}${mode}, in order`;
}

/** The column headers, by mode. */
export function tableColumns(mode: Trace["mode"], wrt: string | null = null): string[] {
  return mode === "forward"
    ? ["step", "node", "value", `tangent along ${wrt ?? "the input"}`]
    : ["step", "node", "value", "gradient received (upstream)", "local derivative, per operand", "gradient sent, per operand"];
}

/** Each table's own id (its button controls it). */
let tables = 0;

export class TraceTable {
  /** The region over the graph that holds the table. */
  readonly el: HTMLElement;
  /** The button that opens and closes it. */
  readonly button: HTMLButtonElement;
  private readonly body: HTMLElement;
  private trace: Trace | null = null;
  private built: Trace | null = null;
  private index = 0;
  private rows: HTMLTableRowElement[] = [];
  /** Where the focus was when the table opened (it goes back there on close). */
  private before: Element | null = null;

  /** `over`: the graph's box (the table covers it); `bar`: where its button goes; `go`: go to a
   * step. */
  constructor(private readonly over: HTMLElement, bar: HTMLElement, private readonly go: (index: number) => void, doc: Document = document) {
    const id = `trace-table-${++tables}`;
    this.button = htmlEl("button", {
      type: "button", class: "table-toggle", "data-testid": "table-toggle", "aria-expanded": "false", "aria-controls": id,
      title: "the whole trace as a table, step by step (T; Escape closes it)",
    }, bar, "table");
    this.button.addEventListener("click", () => this.toggle());
    this.el = htmlEl("section", { class: "trace-table", id, "data-testid": "trace-table", role: "region", "aria-label": "table of every step" }, over);
    this.el.hidden = true;
    const head = htmlEl("div", { class: "trace-table-head" }, this.el);
    htmlEl("span", { class: "trace-table-keys" }, head, "↑ ↓ rows · Enter goes to the step · Esc or T closes");
    const close = htmlEl("button", { type: "button", class: "trace-table-close", "data-testid": "table-close", title: "back to the graph (Escape)" }, head, "close table");
    close.addEventListener("click", () => this.close());
    this.body = htmlEl("div", { class: "trace-table-body" }, this.el);
    this.el.addEventListener("keydown", (ev) => this.onKey(ev));
    doc.addEventListener("keydown", (ev) => {
      if (ev.key !== "t" && ev.key !== "T") return;
      if (ev.altKey || ev.ctrlKey || ev.metaKey || isTypingTarget(ev.target) || this.trace === null) return;
      ev.preventDefault();
      this.toggle();
    });
  }

  get isOpen(): boolean {
    return !this.el.hidden;
  }

  /** The trace and step on show (the table is built when open, from the trace's own numbers). */
  show(trace: Trace, index: number): void {
    this.trace = trace;
    this.index = index;
    this.button.disabled = false;
    if (this.isOpen) this.render();
  }

  /** Nothing to show: the table closes. */
  clear(): void {
    if (this.isOpen) this.close();
    this.trace = null;
    this.built = null;
    this.rows = [];
    this.body.replaceChildren();
    this.button.disabled = true;
  }

  toggle(): void {
    if (this.isOpen) this.close();
    else this.open();
  }

  open(): void {
    if (this.trace === null || this.isOpen) return;
    const active = this.el.ownerDocument.activeElement;
    this.before = active && active !== this.el.ownerDocument.body ? active : this.button;
    this.el.hidden = false;
    this.over.classList.add("table-open");
    this.button.setAttribute("aria-expanded", "true");
    this.render();
    this.rows[this.index]?.focus({ preventScroll: true });
    this.rows[this.index]?.scrollIntoView({ block: "nearest" });
  }

  close(): void {
    if (!this.isOpen) return;
    const inside = this.el.contains(this.el.ownerDocument.activeElement);
    this.el.hidden = true;
    this.over.classList.remove("table-open");
    this.button.setAttribute("aria-expanded", "false");
    const back = this.before;
    this.before = null;
    // The focus goes back where it was (if the table had it, or nowhere is focused now).
    if (inside || this.el.ownerDocument.activeElement === this.el.ownerDocument.body) {
      const target = back instanceof HTMLElement || back instanceof SVGElement ? back : this.button;
      (target.isConnected ? target : this.button).focus({ preventScroll: true });
    }
  }

  private render(): void {
    const trace = this.trace;
    if (!trace) return;
    const doc = this.el.ownerDocument;
    if (this.built !== trace) {
      // New numbers (or a new graph): new rows; a row that had the focus hands it on.
      const had = this.rows.includes(doc.activeElement as HTMLTableRowElement);
      this.build(trace);
      if (had) this.rows[this.index]?.focus({ preventScroll: true });
    }
    const focusedRow = this.rows.findIndex((r) => r === doc.activeElement);
    this.rows.forEach((r, i) => {
      const now = i === this.index;
      r.classList.toggle("current", now);
      if (now) r.setAttribute("aria-current", "step");
      else r.removeAttribute("aria-current");
      r.tabIndex = now ? 0 : -1;
    });
    // A row had the focus and the step moved (the arrows, Enter): the focus follows the step.
    if (focusedRow >= 0 && focusedRow !== this.index) {
      this.rows[this.index]?.focus({ preventScroll: true });
      this.rows[this.index]?.scrollIntoView({ block: "nearest" });
    }
  }

  private build(trace: Trace): void {
    this.built = trace;
    const forward = trace.mode === "forward";
    const table = htmlEl("table", { class: "trace-table-grid", "data-testid": "trace-table-grid" });
    htmlEl("caption", {}, table, tableCaption(trace));
    const headRow = htmlEl("tr", {}, htmlEl("thead", {}, table));
    for (const c of tableColumns(trace.mode, trace.wrt ?? null)) htmlEl("th", { scope: "col" }, headRow, c);
    const tbody = htmlEl("tbody", {}, table);
    const rows = tableRows(trace);
    this.rows = rows.map((row) => {
      const tr = htmlEl("tr", { "data-step": String(row.index), class: row.index < trace.forward.length ? "phase-forward" : "phase-backward", tabindex: "-1" }, tbody);
      const th = htmlEl("th", { scope: "row" }, tr);
      // The mark of the current step, seen (aria-current says it to a screen reader).
      htmlEl("span", { class: "trace-table-mark", "aria-hidden": "true" }, th, "▶");
      htmlEl("span", {}, th, row.step);
      htmlEl("td", { class: "trace-table-node" }, tr, row.node);
      htmlEl("td", { class: "num" }, tr, row.value);
      if (forward) {
        htmlEl("td", { class: "num" }, tr, row.tangent);
      } else {
        htmlEl("td", { class: "num" }, tr, row.upstream);
        const locals = htmlEl("td", { class: "num" }, tr);
        const sent = htmlEl("td", { class: "num" }, tr);
        if (row.edges.length) {
          const lu = htmlEl("ul", {}, locals);
          const su = htmlEl("ul", {}, sent);
          for (const e of row.edges) {
            const li = htmlEl("li", {}, lu, `${e.operand}: `);
            if (e.local !== null) li.append(e.local);
            else if (e.localTex) renderMath(e.localTex, htmlEl("span", { class: "trace-table-rule" }, li), false);
            htmlEl("li", {}, su, `${e.operand}: ${e.sent}`);
          }
        }
      }
      tr.addEventListener("click", () => this.go(row.index));
      return tr;
    });
    this.body.replaceChildren(table);
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      this.close();
      return;
    }
    const at = this.rows.findIndex((r) => r === ev.target);
    if (at < 0) return;
    if (ev.key === "Enter") {
      ev.preventDefault();
      ev.stopPropagation();
      this.go(at);
    } else if (ev.key === "ArrowUp" || ev.key === "ArrowDown") {
      // Up and down move among the rows (Left and Right still step, and the focus follows).
      ev.preventDefault();
      ev.stopPropagation();
      const to = Math.max(0, Math.min(this.rows.length - 1, at + (ev.key === "ArrowDown" ? 1 : -1)));
      this.rows[at].tabIndex = -1;
      this.rows[to].tabIndex = 0;
      this.rows[to].focus();
    }
  }
}
