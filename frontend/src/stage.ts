// The stage: what the app, the embed and the offline file all show of a trace, built once here.
// The output bar (the output, its shape, forward mode's derivative; the page adds its own buttons
// to it), the graph, the step controls (buttons, scrubber, play, keys), the explanation of the
// step and the node panel, the problems with the view over the graph, and the link to a framing
// page (postMessage: host.ts). The page gives it a trace and a step; it says when the step
// changes (`onStep`).

import type { Layout, Trace } from "./api";
import { StepControls } from "./controls";
import { derivativeText, explainStep } from "./explain";
import { ExplainPanel } from "./explain-panel";
import { formatShape, formatShort, formatTensor, plainTensor, shapeOf, sizeOf } from "./format";
import { GraphView } from "./graph-view";
import { commandIndex, HostLink, type HostCommand } from "./host";
import { Inspector } from "./inspector";
import { clampStep, stepState, totalSteps } from "./steps";
import { htmlEl, setText } from "./svg";
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

/** A graph much wider than high leaves height over: the explanation gets it. */
export function isWide(layout: Pick<Layout, "width" | "height">): boolean {
  return layout.width / Math.max(1, layout.height) > 3;
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
  readonly controls: StepControls;
  readonly hook: StageHook = makeHook();
  private readonly outValue: HTMLElement;
  private readonly outShape: HTMLElement;
  private readonly derivative: HTMLElement;
  private readonly viewError: HTMLElement;
  private readonly explain: ExplainPanel;
  private readonly inspector: Inspector;
  private readonly host: HostLink;
  private shown: Trace | null = null;
  private index = 0;
  /** The node clicked to stay in the node panel while stepping. */
  private pinned: string | null = null;
  /** The step changed (by the person, the host, or `show`). */
  onStep: (index: number, trace: Trace) => void = () => {};

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
    this.controls = new StepControls(this.el, { go: (i) => this.go(i) });
    const below = htmlEl("div", { class: "below" }, this.el);
    this.explain = new ExplainPanel(below);
    this.inspector = new Inspector(below);
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
      this.el.classList.toggle("wide-graph", isWide(layout));
      this.graph.setGraph(layout, trace);
      this.pinned = null;
    }
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
    this.rendered();
    this.onStep(this.index, trace);
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
    this.controls.stop();
    this.shown = null;
    this.hook.trace = null;
    this.el.classList.remove("stale");
    this.el.classList.add("empty");
    for (const el of [this.outValue, this.derivative]) el.removeAttribute("data-value");
    for (const el of [this.outValue, this.outShape, this.derivative]) setText(el, "");
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
