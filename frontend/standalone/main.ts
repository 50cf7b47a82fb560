// The standalone page: one HTML file (this script, its CSS and the data inlined by
// backend/gradtrace/standalone.py) that steps through a trace offline, with no server: the graph
// view, the step controls (buttons and keys), the explanation of each step and the node panel,
// as in the app.
// Its data is the JSON of <script type="application/json" id="gradtrace-data">:
//   {"trace": <an /api/trace answer>, "layout": <an /api/layout answer>, "step": "b3" | null,
//    "theme": "light" | "dark" | "projector"}
// A forward-mode trace (mode "forward", made from a view with mode=forward&wrt=x) steps forward
// mode as the app does: forward steps only, the tangents on the graph, the output's derivative.

import "../src/styles.css";
import "./standalone.css";
import { decodeTrace, type Layout, type Trace } from "../src/api";
import { StepControls } from "../src/controls";
import { derivativeText, explainStep } from "../src/explain";
import { ExplainPanel } from "../src/explain-panel";
import { formatShape, formatShort, formatTensor, plainTensor, shapeOf, sizeOf } from "../src/format";
import { GraphView } from "../src/graph-view";
import { commandIndex, HostLink } from "../src/host";
import { Inspector } from "../src/inspector";
import { clampStep, stepState, totalSteps } from "../src/steps";
import { htmlEl } from "../src/svg";
import { applyTheme, isTheme } from "../src/theme";
import { stepIndex, stepProblem } from "../src/url-state";

interface Data {
  trace: Trace;
  layout: Layout;
  step?: string | null;
  theme?: string;
}

function readData(): Data {
  const el = document.getElementById("gradtrace-data");
  if (!el?.textContent) throw new Error("this file has no gradtrace data");
  return JSON.parse(el.textContent) as Data;
}

function start(): void {
  const app = document.getElementById("app") ?? document.body;
  let data: Data;
  try {
    data = readData();
  } catch (e) {
    htmlEl("p", { class: "view-error", "data-testid": "view-error" }, app, String(e));
    return;
  }
  const trace = decodeTrace(data.trace);
  applyTheme(isTheme(data.theme) ? data.theme : "light", false);

  const header = htmlEl("header", { class: "top" }, app);
  htmlEl("span", { class: "brand" }, header, "gradtrace");
  htmlEl("code", { class: "standalone-expr", "data-testid": "expr" }, header, trace.expr);
  // The app says the mode in its mode switch; the file, which has none, says it here.
  if (trace.mode === "forward" && trace.wrt) {
    htmlEl("span", { class: "standalone-mode", "data-testid": "mode" }, header, `forward mode along ${trace.wrt}`);
  }
  // What the server warned about (as the app shows it beside the expression).
  if (trace.warnings.length) {
    const warnings = htmlEl("div", { class: "warnings standalone-warnings", "data-testid": "warnings", role: "note" }, app);
    for (const w of trace.warnings) htmlEl("p", { class: "warning" }, warnings, w.message);
  }
  const stage = htmlEl("section", { class: "stage" }, htmlEl("main", { class: "layout" }, app));
  const outBar = htmlEl("div", { class: "out-bar" }, stage);
  htmlEl("span", { class: "out-name" }, outBar, "output =");
  const v = trace.value;
  const out = htmlEl("span", { class: "out-value", "data-testid": "output-value", "data-value": plainTensor(v) }, outBar,
    sizeOf(shapeOf(v)) <= 12 ? formatTensor(v, 4) : formatShort(v));
  if (Array.isArray(v) && sizeOf(shapeOf(v)) <= 12) htmlEl("span", { class: "out-shape" }, outBar, `(${formatShape(trace.shape)})`);
  out.title = plainTensor(v);
  // Forward mode: the output's derivative along wrt, as in the app.
  if (trace.mode === "forward" && trace.derivative !== undefined) {
    htmlEl("span", { class: "derivative", "data-testid": "derivative", "data-value": plainTensor(trace.derivative) }, outBar, derivativeText(trace));
  }
  const fit = htmlEl("button", { type: "button", class: "fit", title: "fit the graph to the window (double-click the graph)", "data-testid": "fit" }, outBar, "fit");
  const graphWrap = htmlEl("div", { class: "graph", "data-testid": "graph" }, stage);
  const graph = new GraphView(graphWrap);
  fit.addEventListener("click", () => graph.fit());
  let step = 0;
  const controls = new StepControls(stage, { go: (i) => show(i) });
  const below = htmlEl("div", { class: "below" }, stage);
  const explain = new ExplainPanel(below);
  const inspector = new Inspector(below);
  let pinned: string | null = null;
  graph.onNodeClick = (id) => {
    pinned = pinned === id ? null : id;
    show(step);
  };
  const host = new HostLink(window, (cmd) => {
    const i = commandIndex(cmd, step, trace.forward.length, trace.backward.length);
    if (i !== null) show(i, true);
  });

  function show(i: number, fromHost = false): void {
    step = clampStep(i, totalSteps(trace));
    const st = stepState(trace, step);
    host.stepped(st, trace.forward.length, trace.expr, fromHost);
    graph.update(trace, st);
    controls.show(st.index, st.total, trace.forward.length, st.label);
    explain.show(explainStep(trace, st));
    inspector.show(trace, st, pinned);
  }

  stage.classList.toggle("wide-graph", data.layout.width / Math.max(1, data.layout.height) > 3);
  graph.setGraph(data.layout, trace);
  const F = trace.forward.length;
  const B = trace.backward.length;
  const spec = data.step ?? null;
  const problem = spec === null ? null : stepProblem(spec, F, B);
  if (problem !== null) htmlEl("div", { class: "view-error", "data-testid": "view-error", role: "alert" }, graphWrap, problem);
  show((spec !== null && problem === null ? stepIndex(spec, F, B) : null) ?? totalSteps(trace) - 1);
  const early = host.takePending();
  if (early) {
    const i = commandIndex(early, step, F, B);
    if (i !== null) show(i, true);
  }
  (window as unknown as { __gradtrace: { trace: Trace; step: () => number } }).__gradtrace = { trace, step: () => step };
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
