// The stage: what the app, the embed and the offline file all show of a trace, built once here.
// The output bar (the output, its shape, forward mode's derivative; the page adds its own buttons
// to it), the graph, under it the colour key and the direction switch, the step controls
// (buttons, scrubber, play, keys), the explanation of the step and the node panel, the problems
// with the view over the graph, and the link to a framing page (postMessage: host.ts). The page
// gives it a trace and a step; it says when the step changes (`onStep`) and when the graph's
// space changes shape (`onShape`, to draw it in the direction that fits).
// Nothing here changes size with the step: the explanation and the node panel have a fixed height
// and scroll (each a focusable region, so the keyboard scrolls it too).

import type { Layout, Trace } from "./api";
import { ColourKey } from "./colour-key";
import { StepControls } from "./controls";
import { derivativeText, explainStep } from "./explain";
import { ExplainPanel } from "./explain-panel";
import { formatShape, formatShort, formatTensor, plainTensor, shapeOf, sizeOf } from "./format";
import { GraphView, type Direction } from "./graph-view";
import { commandIndex, HostLink, type HostCommand } from "./host";
import { Inspector } from "./inspector";
import { describeNode, describeView, narrateStep, type Verbosity } from "./narrate";
import { clampStep, stepState, totalSteps } from "./steps";
import { htmlEl, setText } from "./svg";
import { TraceTable } from "./trace-table";
import { stepIndex, stepProblem } from "./url-state";

/** What the page shows scripts and tests (window.__gradtrace). */
export interface StageHook {
  renders: number;
  /** performance.now() at the frame after each render (the repaint). */
  paints: number[];
  lastRender: number;
  step: number;
  trace: Trace | null;
  whenRendered(): Promise<number>;
}

/** Where a new trace starts: the step a spec names, else (no spec, or one naming no step of this
 * trace, which `problem` says) the last step. */
export function startStep(spec: string | null | undefined, trace: Pick<Trace, "forward" | "backward">): { index: number; problem: string | null } {
  const F = trace.forward.length;
  const B = trace.backward.length;
  const last = Math.max(0, F + B - 1);
  if (spec === null || spec === undefined) return { index: last, problem: null };
  const problem = stepProblem(spec, F, B);
  const index = problem === null ? stepIndex(spec, F, B) : null;
  return { index: index ?? last, problem };
}

/** The space's shape changed enough since `asked` (the width over the height a layout was asked
 * for) to ask again: by a quarter either way (a turned tablet, the side panel hidden, graph only). */
export function shapeChanged(asked: number, now: number, by = 1.25): boolean {
  if (!(asked > 0) || !(now > 0)) return false;
  return Math.max(asked / now, now / asked) >= by;
}

/** What the direction switch says: the direction drawn, in words, and what pressing it does. */
export function directionText(drawn: Direction, chosen: boolean): { text: string; title: string } {
  const other = drawn === "down" ? "left to right" : "top to bottom";
  const now = drawn === "down" ? "top to bottom" : "left to right";
  return {
    text: drawn === "down" ? "↓ down" : "→ across",
    title: `The graph is drawn ${now}${chosen ? "" : ", the way that fits this screen"}. Press to draw it ${other}.`,
  };
}

/** The output as the bar shows it: a small tensor in full, a large one as its shape. */
export function outputText(trace: Pick<Trace, "value" | "shape">): { value: string; shape: string } {
  const v = trace.value;
  const n = sizeOf(shapeOf(v));
  return {
    value: n <= 12 ? formatTensor(v, 4) : formatShort(v),
    shape: Array.isArray(v) && n <= 12 ? `(${formatShape(trace.shape)})` : "",
  };
}

const VERBOSITY_KEY = "gradtrace.narration";

/** The narration's verbosity: "full" (what each step does, every number) or "brief" (the
 * numbers, few words). Kept in this browser, as a screen reader's own settings are. */
function verbosityControl(parent: HTMLElement, win: Window, onChange: () => void): HTMLSelectElement {
  const label = htmlEl("label", { class: "verbosity", title: "how much a screen reader says at each step" }, parent, "spoken steps ");
  const sel = htmlEl("select", { "data-testid": "verbosity" }, label);
  for (const v of ["full", "brief"]) htmlEl("option", { value: v }, sel, v);
  let saved: string | null = null;
  try {
    saved = win.localStorage.getItem(VERBOSITY_KEY);
  } catch {
    // storage refused (a file opened with storage off): the default
  }
  sel.value = saved === "brief" ? "brief" : "full";
  sel.addEventListener("change", () => {
    try {
      win.localStorage.setItem(VERBOSITY_KEY, sel.value);
    } catch {
      // not kept: the choice holds for this page
    }
    sel.blur(); // the keys go back to the steps
    onChange();
  });
  return sel;
}

function makeHook(): StageHook {
  const hook: StageHook = {
    renders: 0,
    paints: [],
    lastRender: 0,
    step: 0,
    trace: null,
    whenRendered: () =>
      new Promise((resolve) => {
        const start = hook.renders;
        const check = (): void => {
          if (hook.renders > start) requestAnimationFrame(() => resolve(performance.now()));
          else setTimeout(check, 1);
        };
        check();
      }),
  };
  return hook;
}

export class Stage {
  readonly el: HTMLElement;
  /** The page adds its own parts (the mode switch, buttons) to the bar. */
  readonly outBar: HTMLElement;
  readonly graphWrap: HTMLElement;
  readonly graph: GraphView;
  readonly key: ColourKey;
  /** Draws the graph the other way round (shown once `enableDirection` gives it a handler). */
  readonly dirButton: HTMLButtonElement;
  /** The whole trace as a table, over the graph (its button beside the direction switch; T). */
  readonly table: TraceTable;
  readonly controls: StepControls;
  readonly hook: StageHook = makeHook();
  private readonly outValue: HTMLElement;
  private readonly outShape: HTMLElement;
  private readonly derivative: HTMLElement;
  private readonly viewError: HTMLElement;
  private readonly explain: ExplainPanel;
  private readonly inspector: Inspector;
  private readonly host: HostLink;
  /** The polite live region that says each step in words and numbers (narrate.ts). */
  private readonly narration: HTMLElement;
  private readonly verbositySelect: HTMLSelectElement;
  private shown: Trace | null = null;
  private index = 0;
  /** The node clicked to stay in the node panel while stepping. */
  private pinned: string | null = null;
  /** The step changed (by the person, the host, or `show`). */
  onStep: (index: number, trace: Trace) => void = () => {};
  /** The graph's space has a new shape (width over height), settled (debounced). */
  onShape: (aspect: number) => void = () => {};
  private shapeTimer: number | null = null;
  private dirChosen = false;
  /** The graph, mode and step last said (a step is said once). */
  private lastSaid: string | null = null;

  constructor(parent: HTMLElement, win: Window = window) {
    this.el = htmlEl("section", { class: "stage" }, parent);
    this.outBar = htmlEl("div", { class: "out-bar" }, this.el);
    htmlEl("span", { class: "out-name" }, this.outBar, "output =");
    this.outValue = htmlEl("span", { class: "out-value", "data-testid": "output-value" }, this.outBar);
    this.outShape = htmlEl("span", { class: "out-shape" }, this.outBar);
    this.derivative = htmlEl("span", { class: "derivative", "data-testid": "derivative", "aria-live": "polite" }, this.outBar);
    this.graphWrap = htmlEl("div", { class: "graph", "data-testid": "graph" }, this.el);
    this.graph = new GraphView(this.graphWrap);
    this.viewError = htmlEl("div", { class: "view-error", "data-testid": "view-error", role: "alert" }, this.graphWrap);
    this.viewError.hidden = true;
    const bar = htmlEl("div", { class: "graph-bar" }, this.el);
    this.key = new ColourKey(bar);
    this.dirButton = htmlEl("button", { type: "button", class: "dir-toggle", "data-testid": "direction" }, bar, "→ across");
    this.dirButton.hidden = true;
    this.table = new TraceTable(this.graphWrap, bar, (i) => this.go(i));
    // A new choice is heard at once: the step said again in its words.
    this.verbositySelect = verbosityControl(bar, win, () => {
      if (this.shown) this.say(narrateStep(this.shown, stepState(this.shown, this.index), this.verbosity));
    });
    this.controls = new StepControls(this.el, { go: (i) => this.go(i) });
    // The step controls are where the skip link lands (the page's first link).
    this.controls.el.id = "steps";
    // Not shown: a screen reader says what changes in it (one region; the step label is not
    // one, or each step would be said twice).
    this.narration = htmlEl("div", { class: "sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true", "data-testid": "narration" }, this.el);
    const below = htmlEl("div", { class: "below" }, this.el);
    this.explain = new ExplainPanel(below);
    this.inspector = new Inspector(below);
    // Fixed height, scrolled: a keyboard reaches the scroll by focusing the panel (its
    // aria-label names it).
    for (const panel of [this.explain.el, this.inspector.el]) {
      panel.setAttribute("tabindex", "0");
      panel.setAttribute("role", "region");
    }
    new ResizeObserver(() => this.shapeSettles(win)).observe(this.graphWrap);
    // Node navigation (graph-view.ts): Enter selects as a click does; R reads the node out.
    this.graph.onNodeSelect = (id) => this.graph.onNodeClick(id);
    this.graph.onNodeRead = (id) => {
      if (this.shown) this.say(describeNode(this.shown, stepState(this.shown, this.index), id, this.verbosity));
    };
    this.graph.onNavHint = (text) => this.say(text);
    this.graph.onNodeClick = (id) => {
      this.pinned = this.pinned === id ? null : id;
      this.go(this.index);
    };
    this.host = new HostLink(win, (cmd) => this.command(cmd));
  }

  /** Gates open and close through `toggle` (the page asks the server for the other view); call
   * it before the first `show`. Without it (the offline file) gates are drawn, not toggled. */
  enableGates(toggle: (id: string, open: boolean) => void): void {
    this.graph.onGateToggle = toggle;
    this.inspector.onGateToggle = toggle;
  }

  /** The width over the height of the graph's space (1.6 while it has none). */
  aspect(): number {
    const w = this.graphWrap.clientWidth;
    const h = this.graphWrap.clientHeight;
    return w > 0 && h > 0 ? w / h : 1.6;
  }

  private shapeSettles(win: Window): void {
    if (this.shapeTimer !== null) win.clearTimeout(this.shapeTimer);
    this.shapeTimer = win.setTimeout(() => {
      this.shapeTimer = null;
      if (this.graphWrap.clientHeight > 0) this.onShape(this.aspect());
    }, 250);
  }

  /** Show the direction switch; pressing it calls `toggle` with the direction now drawn. */
  enableDirection(toggle: (drawn: Direction) => void): void {
    this.dirButton.hidden = false;
    this.dirButton.addEventListener("click", () => toggle(this.graph.direction));
  }

  /** Say which way the graph is drawn, and whether the person chose it (kept for the graphs
   * drawn next). */
  showDirection(chosen: boolean = this.dirChosen): void {
    this.dirChosen = chosen;
    const t = directionText(this.graph.direction, chosen);
    setText(this.dirButton, t.text);
    // The title describes; the name stays the visible words.
    this.dirButton.title = t.title;
  }

  /** The trace on show (null: none yet, or the expression is empty). */
  get trace(): Trace | null {
    return this.shown;
  }

  /** The step index on show. */
  get step(): number {
    return this.index;
  }

  /** Show a trace at a step. With a layout, the graph is drawn afresh (a new structure: nothing
   * stays pinned); without, the drawn graph takes the new numbers and nodes stay in place. */
  show(trace: Trace, layout: Layout | null, index: number): void {
    if (layout !== null) {
      this.graph.setGraph(layout, trace);
      this.pinned = null;
      this.showDirection();
    }
    this.key.show(trace.mode ?? "reverse", trace.wrt ?? null, {
      constants: trace.nodes.some((n) => n.kind === "const"),
      labels: trace.nodes.some((n) => n.labels === true),
    });
    this.shown = trace;
    this.hook.trace = trace;
    this.el.classList.remove("stale", "empty");
    this.showOutput(trace);
    this.go(index);
    // A command the host sent before there was anything to step.
    const early = this.host.takePending();
    if (early) this.command(early);
  }

  /** Go to a step (clamped) and draw it everywhere. */
  go(i: number, fromHost = false): void {
    const trace = this.shown;
    if (!trace) return;
    this.index = clampStep(i, totalSteps(trace));
    const st = stepState(trace, this.index);
    this.host.stepped(st, trace.forward.length, trace.expr, fromHost);
    this.graph.update(trace, st);
    this.controls.show(st.index, st.total, trace.forward.length, st.label);
    this.explain.show(explainStep(trace, st, this.graph.onGateToggle !== null));
    const pinned = this.pinned !== null && trace.nodes.some((n) => n.id === this.pinned) ? this.pinned : null;
    this.inspector.show(trace, st, pinned);
    this.table.show(trace, this.index);
    const view = describeView(trace, st);
    this.graph.setDescription(view.title, view.text);
    // Said when the step (or the graph) changes; not again for new numbers at the same step (a
    // value's slider dragged would say it at every move).
    const said = `${this.graph.structure ?? ""}|${trace.mode ?? "reverse"}|${this.index}`;
    if (said !== this.lastSaid) {
      this.lastSaid = said;
      this.say(narrateStep(trace, st, this.verbosity));
    }
    this.rendered();
    this.onStep(this.index, trace);
  }

  /** How much the narration says (the person's choice, kept in this browser). */
  get verbosity(): Verbosity {
    return this.verbositySelect.value === "brief" ? "brief" : "full";
  }

  /** Say `text` in the live region (a screen reader reads it out when it is free). */
  say(text: string): void {
    // The same words again (a step said twice, a node read twice) are said again: a live
    // region speaks on a change, so it is emptied first.
    if (this.narration.textContent === text) this.narration.textContent = "";
    this.narration.textContent = text;
  }

  fit(): void {
    this.graph.fit();
  }

  /** The last trace stays, dimmed, while what is asked for is wrong. */
  setStale(): void {
    this.el.classList.add("stale");
  }

  /** Nothing to show (the expression is empty): the stage says so and steps no more. */
  clear(): void {
    this.table.clear();
    this.controls.stop();
    this.shown = null;
    this.hook.trace = null;
    this.el.classList.remove("stale");
    this.el.classList.add("empty");
    for (const el of [this.outValue, this.derivative]) el.removeAttribute("data-value");
    for (const el of [this.outValue, this.outShape, this.derivative]) setText(el, "");
    setText(this.narration, "");
    this.lastSaid = null;
  }

  /** Problems with the view itself (a broken URL; an API error), over the graph. `apiOnly`: the
   * problems are the API's alone (the page may show those elsewhere). */
  showProblems(lines: readonly string[], apiOnly = false): void {
    this.viewError.replaceChildren(...lines.map((l) => htmlEl("p", {}, undefined, l)));
    this.viewError.hidden = lines.length === 0;
    this.viewError.classList.toggle("api-only", apiOnly);
  }

  private command(cmd: HostCommand): void {
    const trace = this.shown;
    if (!trace) return;
    const i = commandIndex(cmd, this.index, trace.forward.length, trace.backward.length);
    if (i !== null) this.go(i, true);
  }

  private showOutput(trace: Trace): void {
    const text = outputText(trace);
    setText(this.outValue, text.value);
    const exact = plainTensor(trace.value);
    this.outValue.setAttribute("data-value", exact);
    this.outValue.title = exact;
    setText(this.outShape, text.shape);
    setText(this.derivative, derivativeText(trace));
    if (trace.mode === "forward" && trace.derivative !== undefined) this.derivative.setAttribute("data-value", plainTensor(trace.derivative));
    else this.derivative.removeAttribute("data-value");
  }

  private rendered(): void {
    const hook = this.hook;
    hook.step = this.index;
    hook.renders++;
    hook.lastRender = performance.now();
    requestAnimationFrame(() => {
      hook.paints.push(performance.now());
      if (hook.paints.length > 1000) hook.paints.splice(0, 500);
    });
  }
}
