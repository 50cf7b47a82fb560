// The standalone page: one HTML file (this script, its CSS and the data inlined by
// backend/gradtrace/standalone.py) that steps through a trace offline, with no server. It shows
// the app's stage (src/stage.ts: the graph, the step controls and keys, the explanation, the node
// panel, the host link) under a one-line header.
// Its data is the JSON of <script type="application/json" id="gradtrace-data">:
//   {"trace": <an /api/trace answer>, "layout": <an /api/layout answer>, "step": "b3" | null,
//    "theme": "light" | "dark" | "projector",
//    "layouts": {"down": <layout>, "right": <layout>}   (optional)}
// With both directions' layouts the file draws the one that fits the window (down on a phone,
// across on a laptop), again when the window changes shape, and its switch turns it round.
// A forward-mode trace (mode "forward", made from a view with mode=forward&wrt=x) steps forward
// mode as the app does: forward steps only, the tangents on the graph, the output's derivative.

import "../src/styles.css";
import "./standalone.css";
import { decodeTrace, type Layout, type Trace } from "../src/api";
import { chooseDirection } from "../src/layout-fallback";
import { Stage, startStep } from "../src/stage";
import { htmlEl } from "../src/svg";
import { applyTheme, DEFAULT_THEME, isTheme } from "../src/theme";

interface Data {
  trace: Trace;
  layout: Layout;
  step?: string | null;
  theme?: string;
  layouts?: { down?: Layout; right?: Layout };
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
  applyTheme(isTheme(data.theme) ? data.theme : DEFAULT_THEME, false);

  const header = htmlEl("header", { class: "top" }, app);
  htmlEl("h1", { class: "brand" }, header, "gradtrace");
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
  const stage = new Stage(htmlEl("main", { class: "layout" }, app));
  const fit = htmlEl("button", { type: "button", class: "fit", title: "fit the graph to the window (double-click the graph)", "data-testid": "fit" }, stage.outBar, "fit");
  fit.addEventListener("click", () => stage.fit());
  (window as unknown as { __gradtrace: Stage["hook"] }).__gradtrace = stage.hook;
  const { index, problem } = startStep(data.step ?? null, trace);
  if (problem !== null) stage.showProblems([problem]);
  const { down, right } = data.layouts ?? {};
  if (!down || !right) {
    stage.show(trace, data.layout, index);
    return;
  }
  // Both directions: the one whose drawing fits the graph's space best, unless turned round.
  let chosen: "down" | "right" | null = null;
  const fitting = (): Layout => (chooseDirection({ down, right }, stage.aspect()) === "down" ? down : right);
  const draw = (): void => {
    const layout = chosen === "down" ? down : chosen === "right" ? right : fitting();
    if (stage.graph.drawn !== layout) stage.show(trace, layout, stage.trace ? stage.step : index);
  };
  stage.onShape = () => {
    if (chosen === null) draw();
  };
  stage.enableDirection((drawn) => {
    chosen = drawn === "down" ? "right" : "down";
    stage.showDirection(true);
    draw();
  });
  draw();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
