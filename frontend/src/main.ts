// Wiring: builds the page from its modules and connects them. No logic of its own beyond that.

import "./styles.css";
import { ApiError, fetchPresets, type Mode, type Preset, type Trace, type Values } from "./api";
import { CheckPanel } from "./check-panel";
import { HessianPanel } from "./hessian-panel";
import { blurAfterChange, isTypingTarget, StepControls } from "./controls";
import { derivativeText, explainStep } from "./explain";
import { download, graphSvg, svgToPng } from "./export";
import { ExplainPanel } from "./explain-panel";
import { ExprInput } from "./expr-input";
import { formatShape, formatShort, formatTensor, plainTensor, shapeOf, sizeOf } from "./format";
import { GraphView } from "./graph-view";
import { commandIndex, HostLink, type HostCommand } from "./host";
import { Inspector } from "./inspector";
import { PresetsGallery } from "./presets";
import { Session, type SessionResult } from "./session";
import { SharePanel } from "./share";
import { CodePanel } from "./code-panel";
import { clampStep, inputNamesOf, stepState, totalSteps } from "./steps";
import { htmlEl, setText } from "./svg";
import { applyTheme, isTheme, savedTheme, themeSelect } from "./theme";
import { decodeQuery, encodeQuery, stepIndex, stepProblem, stepSpec, type UrlState } from "./url-state";
import { ValuesPanel } from "./values-panel";

const DEFAULT_EXPR = "(x + y) * z";
const DEFAULT_VALUES = { x: -2, y: 5, z: -4 };

interface Hook {
  renders: number;
  /** performance.now() at the frame after each render (the repaint). */
  paints: number[];
  lastRender: number;
  step: number;
  trace: Trace | null;
  whenRendered(): Promise<number>;
}

const embed = document.body.classList.contains("embed");
const url: UrlState = decodeQuery(location.search || location.hash);
for (const part of url.hide ?? []) document.body.classList.add(`hide-${part.replace(/[^a-z-]/gi, "")}`);
const theme = isTheme(url.theme) ? url.theme : savedTheme() ?? "light";
applyTheme(theme, !isTheme(url.theme));

// ---- the page ----
const app = document.getElementById("app") ?? document.body;
const header = htmlEl("header", { class: "top" }, app);
htmlEl("h1", { class: "brand" }, header, "gradtrace");
htmlEl("span", { class: "tagline" }, header, "how gradients flow backward, step by step");
const headerRight = htmlEl("div", { class: "top-right" }, header);
const focusBtn = htmlEl("button", { type: "button", "data-testid": "focus", title: "show only the graph and the steps (F)", "aria-pressed": "false" }, headerRight, "graph only");
themeSelect(headerRight, theme, (t) => {
  applyTheme(t);
  graph.fit();
  writeUrl(); // at once: a reload right after the choice keeps it
});

const main = htmlEl("main", { class: "layout" }, app);
const side = htmlEl("aside", { class: "side" }, main);
const stage = htmlEl("section", { class: "stage" }, main);

const exprInput = new ExprInput(side);
const warnings = htmlEl("div", { class: "warnings", "data-testid": "warnings" }, side);
const valuesPanel = new ValuesPanel(side);
const checkPanel = new CheckPanel(side);
const hessianPanel = new HessianPanel(side);
const presets = new PresetsGallery(side);

const outBar = htmlEl("div", { class: "out-bar" }, stage);
htmlEl("span", { class: "out-name" }, outBar, "output =");
const outValue = htmlEl("span", { class: "out-value", "data-testid": "output-value" }, outBar);
const outShape = htmlEl("span", { class: "out-shape" }, outBar);
// Forward mode: the output's derivative along wrt, prominently; the mode switch and wrt.
const derivative = htmlEl("span", { class: "derivative", "data-testid": "derivative", "aria-live": "polite" }, outBar);
const modeBar = htmlEl("span", { class: "mode-bar" }, outBar);
const modeLabel = htmlEl("label", { class: "mode-label", title: "reverse mode: all gradients in one backward pass; forward mode: the derivative along one input, in the forward pass" }, modeBar, "mode");
const modeSelect = htmlEl("select", { "data-testid": "mode-select", "aria-label": "mode" }, modeLabel);
for (const m of ["reverse", "forward"]) htmlEl("option", { value: m }, modeSelect, m);
const wrtLabel = htmlEl("label", { class: "wrt-label", title: "the input forward mode differentiates by" }, modeBar, "d/d");
const wrtSelect = htmlEl("select", { "data-testid": "wrt-select", "aria-label": "with respect to" }, wrtLabel);
blurAfterChange(modeSelect);
blurAfterChange(wrtSelect);
const layoutNote = htmlEl("span", { class: "layout-note" }, outBar);
// The buttons wrap together (a projector's large type may need a second line).
const outActions = htmlEl("span", { class: "out-actions" }, outBar);
const svgBtn = htmlEl("button", { type: "button", title: "download this step as SVG (for slides)", "data-testid": "export-svg" }, outActions, "SVG");
const pngBtn = htmlEl("button", { type: "button", title: "download this step as PNG", "data-testid": "export-png" }, outActions, "PNG");
const htmlBtn = htmlEl("a", { class: "button", href: "/api/standalone.html", download: "gradtrace.html", title: "download one self-contained HTML file that steps through offline (no server)", "data-testid": "export-html" }, outActions, "HTML");
const shareBtn = htmlEl("button", { type: "button", title: "links to this step: page, embed (iframe), pictures", "data-testid": "share", "aria-expanded": "false" }, outActions, "link");
const fitBtn = htmlEl("button", { type: "button", class: "fit", title: "fit the graph to the window (double-click the graph)", "data-testid": "fit" }, outActions, "fit");

const share = new SharePanel(stage, currentState, () => document.documentElement.dataset.theme ?? "light");
shareBtn.addEventListener("click", () => shareBtn.setAttribute("aria-expanded", String(share.toggle())));
const codeBtn = htmlEl("button", { type: "button", title: "this expression as runnable Python: NumPy with the backward pass by hand, or PyTorch", "data-testid": "code", "aria-expanded": "false", "aria-haspopup": "dialog" });
outActions.insertBefore(codeBtn, fitBtn);
codeBtn.textContent = "Code";
const codePanel = new CodePanel(stage, currentState, codeBtn);
codeBtn.addEventListener("click", () => codePanel.toggle());
// Problems with the view itself (a broken URL; in the embed, a bad expression too: its input box
// is not shown there), over the graph.
const viewError = htmlEl("div", { class: "view-error", "data-testid": "view-error", role: "alert" });
viewError.hidden = true;
let urlErrors: string[] = url.errors ?? [];
let apiError: string | null = null;
function showViewError(): void {
  const lines = [...urlErrors, ...(apiError !== null ? [apiError] : [])];
  viewError.replaceChildren(...lines.map((l) => htmlEl("p", {}, undefined, l)));
  viewError.hidden = lines.length === 0;
  viewError.classList.toggle("api-only", urlErrors.length === 0);
}
showViewError();
const graphWrap = htmlEl("div", { class: "graph", "data-testid": "graph" }, stage);
const graph = new GraphView(graphWrap);
graphWrap.appendChild(viewError);
htmlEl("p", { class: "empty-note", "data-testid": "empty-note" }, graphWrap, "type an expression");
fitBtn.addEventListener("click", () => graph.fit());
const picture = (): string | null => {
  const l = session.layout;
  return l ? graphSvg(graph.svg, l.width, l.height) : null;
};
const pictureName = (ext: string): string => `gradtrace-step-${step + 1}.${ext}`;
svgBtn.addEventListener("click", () => {
  const text = picture();
  if (text) download(pictureName("svg"), new Blob([text], { type: "image/svg+xml" }));
});
pngBtn.addEventListener("click", () => {
  const text = picture();
  if (text) void svgToPng(text).then((b) => download(pictureName("png"), b));
});
// The page as one offline HTML file, made by the server from the current state (the link is
// filled in at the click, so it always carries the current step and theme).
htmlBtn.addEventListener("click", () => {
  const theme = document.documentElement.dataset.theme;
  htmlBtn.href = `/api/standalone.html?${encodeQuery({ ...currentState(), theme })}`;
});
const toggleFocus = (): void => {
  const on = document.body.classList.toggle("focus");
  focusBtn.setAttribute("aria-pressed", String(on));
  focusBtn.textContent = on ? "all panels" : "graph only";
};
focusBtn.addEventListener("click", toggleFocus);
document.addEventListener("keydown", (ev) => {
  if (ev.key === "f" && !ev.ctrlKey && !ev.metaKey && !ev.altKey && !isTypingTarget(ev.target)) toggleFocus();
});

let step = 0;
let autoplay = url.autoplay === true;
const controls = new StepControls(stage, { go: (i) => showStep(i) });
controls.onSpeedChange = () => writeUrl();
// The framing page (slides) may drive the steps by postMessage and hears every step change.
const host = new HostLink(window, (cmd) => onHostCommand(cmd));
function onHostCommand(cmd: HostCommand): void {
  const trace = session.trace;
  if (!trace) return;
  const i = commandIndex(cmd, step, trace.forward.length, trace.backward.length);
  if (i !== null) showStep(i, true);
}
if (url.speed) controls.setSpeed(url.speed);
const below = htmlEl("div", { class: "below" }, stage);
const explain = new ExplainPanel(below);
const inspector = new Inspector(below);
let pinned: string | null = null;
graph.onNodeClick = (id) => {
  pinned = pinned === id ? null : id;
  showStep(step);
};

// ---- state ----
const session = new Session(valuesPanel.store);
session.mode = url.mode === "forward" ? "forward" : "reverse";
session.wrt = url.wrt ?? null;
session.tangent = url.tangent ?? null;
session.check = url.check === true;
checkPanel.setOn(session.check);
session.hessian = url.hessian === true;
hessianPanel.setOn(session.hessian);
modeSelect.value = session.mode;
wrtLabel.hidden = session.mode !== "forward";
/** The mode of the trace on show (a new mode starts at its last step). */
let shownMode: Mode | null = null;
const hook: Hook = {
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
(window as unknown as { __gradtrace: Hook }).__gradtrace = hook;

let pendingStep: UrlState["step"] = url.step;
let urlTimer: number | null = null;

/** The current state in the URL form the server also reads (/embed, /api/picture). */
function currentState(): UrlState {
  const trace = session.trace;
  const values: NonNullable<UrlState["values"]> = {};
  for (const n of trace?.nodes ?? []) {
    const v = n.kind === "input" && n.name ? valuesPanel.store.get(n.name) : undefined;
    if (n.name && v !== undefined) values[n.name] = v;
  }
  const speed = controls.speedMultiple();
  const currentTheme = document.documentElement.dataset.theme;
  return {
    expr: session.expr,
    values,
    seed: session.seed,
    step: trace ? stepSpec(step, trace.forward.length) : undefined,
    // How the view looks and plays is part of it too: a reload or a shared link keeps it.
    theme: isTheme(currentTheme) ? currentTheme : undefined,
    hide: url.hide?.length ? url.hide : undefined,
    autoplay: url.autoplay === true ? true : undefined,
    speed: speed !== 1 || url.speed !== undefined ? speed : undefined,
    mode: session.mode === "forward" ? "forward" : undefined,
    wrt: session.mode === "forward" ? (trace?.mode === "forward" ? trace.wrt : undefined) ?? session.wrt ?? undefined : undefined,
    tangent: session.mode === "forward" ? session.tangent : undefined,
    check: session.check || undefined,
    hessian: session.hessian || undefined,
  };
}

/** The address bar from the current state, now (the share panel follows). */
function writeUrl(): void {
  if (embed) return;
  if (urlTimer !== null) window.clearTimeout(urlTimer);
  urlTimer = null;
  history.replaceState(null, "", `${location.pathname}?${encodeQuery(currentState())}`);
  share.refresh();
  codePanel.refresh();
}

/** The same, debounced (stepping, a dragged slider). */
function saveUrl(): void {
  if (urlTimer !== null) window.clearTimeout(urlTimer);
  urlTimer = window.setTimeout(writeUrl, 300);
}

function showStep(i: number, fromHost = false): void {
  const trace = session.trace;
  if (!trace) return;
  step = clampStep(i, totalSteps(trace));
  const st = stepState(trace, step);
  host.stepped(st, trace.forward.length, trace.expr, fromHost);
  graph.update(trace, st);
  controls.show(st.index, st.total, trace.forward.length, st.label);
  explain.show(explainStep(trace, st));
  inspector.show(trace, st, pinned && trace.nodes.some((n) => n.id === pinned) ? pinned : null);
  hook.step = step;
  hook.renders++;
  hook.lastRender = performance.now();
  requestAnimationFrame(() => {
    hook.paints.push(performance.now());
    if (hook.paints.length > 1000) hook.paints.splice(0, 500);
  });
  if (!embed) saveUrl();
}

function showOutput(trace: Trace): void {
  const v = trace.value;
  const n = sizeOf(shapeOf(v));
  setText(outValue, n <= 12 ? formatTensor(v, 4) : formatShort(v));
  outValue.setAttribute("data-value", plainTensor(v));
  // A large output already reads as its shape (⟨4×4⟩).
  setText(outShape, Array.isArray(v) && n <= 12 ? `(${formatShape(trace.shape)})` : "");
  setText(derivative, derivativeText(trace));
  if (trace.mode === "forward" && trace.derivative !== undefined) derivative.setAttribute("data-value", plainTensor(trace.derivative));
  else derivative.removeAttribute("data-value");
  // The inputs to differentiate by, in forward order; the one in use selected.
  const names = inputNamesOf(trace);
  const current = [...wrtSelect.options].map((o) => o.value);
  if (current.join("\n") !== names.join("\n")) {
    wrtSelect.replaceChildren(...names.map((name) => htmlEl("option", { value: name }, undefined, name)));
  }
  const wrt = trace.mode === "forward" ? trace.wrt : session.wrt;
  wrtSelect.value = wrt && names.includes(wrt) ? wrt : names[0] ?? "";
  wrtLabel.hidden = session.mode !== "forward";
}

function onResult(r: SessionResult): void {
  const { trace, layout } = r;
  hook.trace = trace;
  exprInput.setError(null);
  stage.classList.remove("stale", "empty");
  valuesPanel.setNames(inputNamesOf(trace));
  if (r.structureChanged || graph.structure === null) {
    // A wide, flat graph fills the view's width long before its height: give the explanation
    // the height it cannot use.
    stage.classList.toggle("wide-graph", layout.width / Math.max(1, layout.height) > 3);
    graph.setGraph(layout, trace);
    pinned = null;
    const want = pendingStep;
    pendingStep = undefined;
    const wanted = want === undefined ? null : stepIndex(want, trace.forward.length, trace.backward.length);
    const problem = want === undefined ? null : stepProblem(want, trace.forward.length, trace.backward.length);
    if (problem !== null) {
      urlErrors = [...urlErrors, problem];
      showViewError();
    }
    step = problem === null && wanted !== null ? wanted : totalSteps(trace) - 1;
  } else if (shownMode !== null && (trace.mode ?? "reverse") !== shownMode) {
    // Another mode: another set of steps; start at its end (everything known).
    step = totalSteps(trace) - 1;
  }
  shownMode = trace.mode ?? "reverse";
  apiError = null;
  showViewError();
  setText(layoutNote, r.fallback ? "(simple layout: the server could not lay this graph out)" : "");
  warnings.replaceChildren(...trace.warnings.map((w) => htmlEl("p", { class: "warning" }, undefined, w.message)));
  showOutput(trace);
  checkPanel.show(trace, session.checkError);
  hessianPanel.show(trace, session.hessianError);
  showStep(step);
  const early = host.takePending();
  if (early) onHostCommand(early);
  if (autoplay) {
    autoplay = false;
    controls.play();
  }
}

function onError(err: ApiError): void {
  const located = err.status >= 400 && err.status < 500;
  exprInput.setError({ message: err.message, start: err.start, end: err.end, underline: located });
  // The last good trace stays, dimmed (the graph, the output, the steps, the explanation and the
  // node panel alike), until the error is fixed.
  stage.classList.add("stale");
  apiError = err.message;
  showViewError();
  codePanel.refresh(); // the code panel says what is wrong too (the URL keeps the last good state)
}

/** No expression: nothing is wrong, nothing to draw; say what to do. */
function onEmpty(): void {
  exprInput.setError(null);
  controls.stop();
  stage.classList.remove("stale");
  stage.classList.add("empty");
  hook.trace = null;
  apiError = null;
  showViewError();
  setText(outValue, "");
  outValue.removeAttribute("data-value");
  setText(outShape, "");
  setText(derivative, "");
  derivative.removeAttribute("data-value");
  setText(layoutNote, "");
  warnings.replaceChildren();
  saveUrl();
}

session.onResult = onResult;
session.onError = onError;
session.onEmpty = onEmpty;

/** Once the person edits the view, what the URL got wrong no longer applies. */
function clearUrlErrors(): void {
  if (urlErrors.length === 0) return;
  urlErrors = [];
  showViewError();
}

exprInput.onChange = (expr) => {
  if (expr === session.expr) return;
  clearUrlErrors();
  session.expr = expr;
  session.seed = null; // a preset's output gradient belongs to its own expression
  void session.refresh();
};
modeSelect.addEventListener("change", () => {
  clearUrlErrors();
  session.mode = modeSelect.value === "forward" ? "forward" : "reverse";
  wrtLabel.hidden = session.mode !== "forward";
  if (session.mode === "forward" && session.wrt === null && wrtSelect.value) session.wrt = wrtSelect.value;
  writeUrl();
  void session.refresh();
});
wrtSelect.addEventListener("change", () => {
  clearUrlErrors();
  session.wrt = wrtSelect.value || null;
  session.tangent = null; // a direction belongs to its own input
  writeUrl();
  void session.refresh();
});
hessianPanel.onToggle = (on) => {
  session.hessian = on;
  hessianPanel.show(null, null); // "computing…" until the answer
  writeUrl();
  void session.refresh();
};
checkPanel.onToggle = (on) => {
  session.check = on;
  checkPanel.show(null, null); // "checking…" until the answer
  writeUrl();
  void session.refresh();
};
valuesPanel.onChange = () => {
  clearUrlErrors();
  void session.refresh();
};

function load(expr: string, values: Values, seed: Preset["seed"] | null): void {
  for (const [k, v] of Object.entries(values)) valuesPanel.setValue(k, v);
  exprInput.value = expr;
  session.expr = expr;
  session.seed = seed ?? null;
  void session.refresh();
}

presets.onPick = (p) => {
  clearUrlErrors();
  pendingStep = "end";
  side.scrollTop = 0;
  load(p.expr, p.values, p.seed ?? null);
};
if (!embed) {
  fetchPresets().then(
    (ps) => presets.show(ps),
    (e: unknown) => presets.showError(`examples unavailable: ${e instanceof Error ? e.message : String(e)}`),
  );
}

load(url.expr ?? DEFAULT_EXPR, url.values ?? (url.expr ? {} : DEFAULT_VALUES), url.seed ?? null);
