// Wiring: builds the app (and /embed) from its modules and connects them through the one store
// (store.ts), from which the controls and the URL are derived. No logic of its own beyond that.

import "./styles.css";
import {
  ApiError, fetchLayout, fetchPresets, fetchRead, fetchTrace, valuesOf,
  type Layout, type LayoutShape, type Preset, type Reading, type Trace, type Values,
} from "./api";
import { CheckPanel } from "./check-panel";
import { CodePanel } from "./code-panel";
import { blurAfterChange, isTypingTarget } from "./controls";
import { download, graphSvg, svgToPng } from "./export";
import { ExprInput } from "./expr-input";
import { layoutDirection } from "./graph-view";
import { fallbackLayout } from "./layout-fallback";
import { HessianPanel } from "./hessian-panel";
import { PresetsGallery } from "./presets";
import { ReadingView } from "./reading-view";
import { Session, textValues, type SessionResult } from "./session";
import { fetchOffline, MAX_LINK, SharePanel } from "./share";
import { shapeChanged, Stage, startStep } from "./stage";
import { inputNamesOf, stepState, totalSteps } from "./steps";
import { describeView } from "./narrate";
import { labelInputs } from "./node-words";
import { openedIds, stepAfterToggle, withClosed, withOpened } from "./gates";
import { followUrl, queryOf, stateFromUrl, Store, urlState, type ViewState } from "./store";
import { htmlEl, setText } from "./svg";
import { applyTheme, DEFAULT_THEME, isTheme, savedTheme, themeSelect } from "./theme";
import { decodeQuery, stepSpec } from "./url-state";
import { ValuesPanel, type LabelRole } from "./values-panel";

const embed = document.body.classList.contains("embed");
const url = decodeQuery(location.search || location.hash);
const store = new Store(stateFromUrl(url, savedTheme() ?? DEFAULT_THEME));
const state = (): Readonly<ViewState> => store.state;
for (const part of state().hide) document.body.classList.add(`hide-${part.replace(/[^a-z-]/gi, "")}`);
applyTheme(state().theme, !isTheme(url.theme));

// ---- the page ----
const app = document.getElementById("app") ?? document.body;
// The first stop of Tab: straight to the step controls, past the expression and every value.
const skip = htmlEl("a", { class: "skip-link", href: "#steps", "data-testid": "skip-link" }, app, "skip to the step controls");
skip.addEventListener("click", (ev) => {
  ev.preventDefault();
  document.querySelector<HTMLElement>('[data-testid="step-next"]')?.focus();
});
const header = htmlEl("header", { class: "top" }, app);
htmlEl("h1", { class: "brand" }, header, "gradtrace");
htmlEl("span", { class: "tagline" }, header, "how gradients flow backward, step by step");
const headerRight = htmlEl("div", { class: "top-right" }, header);
const focusBtn = htmlEl("button", { type: "button", "data-testid": "focus", title: "show only the graph and the steps (F)", "aria-pressed": "false" }, headerRight, "graph only");
themeSelect(headerRight, state().theme, (theme) => store.update({ theme }));

const main = htmlEl("main", { class: "layout" }, app);
const side = htmlEl("aside", { class: "side" }, main);
const exprInput = new ExprInput(side);
// How the text was read ("read as", the lines skipped), right under the box it was typed in.
const readingView = new ReadingView(side);
const warnings = htmlEl("div", { class: "warnings", "data-testid": "warnings" }, side);
const valuesPanel = new ValuesPanel(side, store);
const checkPanel = new CheckPanel(side);
const hessianPanel = new HessianPanel(side);
const presets = new PresetsGallery(side);

// The stage (graph, steps, explanation, node panel), shared with the offline file; the app adds
// the mode switch and its buttons to the output bar.
const stage = new Stage(main);
(window as unknown as { __gradtrace: Stage["hook"] }).__gradtrace = stage.hook;
const outBar = stage.outBar;
// Forward mode: the mode switch and wrt (the derivative itself is the stage's).
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
const codeBtn = htmlEl("button", { type: "button", title: "this expression as runnable Python: NumPy with the backward pass by hand, or PyTorch", "data-testid": "code", "aria-expanded": "false", "aria-haspopup": "dialog" }, outActions, "Code");
const fitBtn = htmlEl("button", { type: "button", class: "fit", title: "fit the graph to the window (double-click the graph)", "data-testid": "fit" }, outActions, "fit");
/** The view in words: the share panel's snippets carry it as their text alternative. */
const describeShown = (): { title: string; text: string } | null => {
  const trace = stage.trace;
  return trace ? describeView(trace, stepState(trace, stage.step)) : null;
};
const share = new SharePanel(stage.el, () => urlState(state()), () => state().theme, () => stage.graph.direction, describeShown);
const codePanel = new CodePanel(stage.el, () => urlState(state()), codeBtn);
for (const panel of [share.el, codePanel.el]) stage.el.insertBefore(panel, stage.graphWrap);
htmlEl("p", { class: "empty-note", "data-testid": "empty-note" }, stage.graphWrap, "type an expression");

shareBtn.addEventListener("click", () => shareBtn.setAttribute("aria-expanded", String(share.toggle())));
share.onClose = () => shareBtn.setAttribute("aria-expanded", "false");
codeBtn.addEventListener("click", () => codePanel.toggle());
fitBtn.addEventListener("click", () => stage.fit());
// ---- the graph's direction: the one chosen with the switch (the URL's `dir`), else the one the
// server finds fits the graph's space; asked again when that space changes shape ----
/** What each layout was asked for (its direction, auto or chosen, and the space's shape). */
const asked = new WeakMap<Layout, LayoutShape>();
/** The direction the server picked for the shape last asked about with `auto`. */
let autoPick: "down" | "right" | null = null;
const layoutShape = (): LayoutShape => ({ direction: state().dir ?? "auto", aspect: stage.aspect() });
async function askLayout(expr: string, values: Values, signal?: AbortSignal, expand: readonly string[] = []): Promise<Layout> {
  const shape = layoutShape();
  const layout = await fetchLayout(expr, values, signal, expand, shape);
  asked.set(layout, shape);
  if (shape.direction === "auto") autoPick = layoutDirection(layout);
  return layout;
}
/** A layout shown that was asked for another direction or a space of another shape. */
function outdated(layout: Layout): boolean {
  const was = asked.get(layout);
  const now = layoutShape();
  if (!was) return false;
  if (was.direction !== now.direction) return true;
  return now.direction === "auto" && shapeChanged(was.aspect, now.aspect);
}
let relayoutRun = 0;
/** Draw the graph on show again in the direction wanted now (a fallback layout, drawn here). */
async function relayout(): Promise<void> {
  const trace = stage.trace;
  const drawn = stage.graph.drawn;
  if (!trace || !drawn) return;
  const run = ++relayoutRun;
  let layout: Layout;
  if (!asked.has(drawn)) {
    // The browser's own layout (the server had none): drawn here in the direction wanted.
    const dir = state().dir;
    layout = fallbackLayout(trace, dir ?? stage.aspect());
    asked.set(layout, layoutShape());
  } else {
    // The values the trace was made with (their shapes shape an opened gate's parts).
    const values = valuesOf(trace.nodes.filter((n) => n.kind === "input" && n.name).map((n) => [n.name as string, n.value]));
    try {
      layout = await askLayout(trace.expr, values, undefined, state().expand);
    } catch {
      return; // the graph stays as it is
    }
  }
  // Something newer was shown (or asked) meanwhile; or the same drawing would come back.
  if (run !== relayoutRun || stage.trace !== trace || stage.graph.drawn !== drawn) return;
  if (layout.structure !== drawn.structure) return;
  if (layoutDirection(layout) === layoutDirection(drawn) && asked.has(drawn)) {
    asked.set(drawn, asked.get(layout) ?? layoutShape());
    return;
  }
  stage.show(trace, layout, stage.step);
}
stage.onShape = () => {
  const drawn = stage.graph.drawn;
  if (drawn && outdated(drawn)) void relayout();
};
stage.enableDirection((drawn) => {
  const want = drawn === "down" ? "right" : "down";
  // Back to the one that fits the screen: the URL leaves `dir` out again.
  store.update({ dir: state().dir !== null && want === autoPick ? null : want });
});

const session = new Session(store, { trace: fetchTrace, layout: askLayout, read: fetchRead });
const picture = (): string | null => {
  const box = stage.graph.pictureBox();
  return box ? graphSvg(stage.graph.svg, box, state().hide.includes("key") ? null : stage.trace) : null;
};
const pictureName = (ext: string): string => `gradtrace-step-${stage.step + 1}.${ext}`;
svgBtn.addEventListener("click", () => {
  const text = picture();
  if (text) download(pictureName("svg"), new Blob([text], { type: "image/svg+xml" }));
});
pngBtn.addEventListener("click", () => {
  const text = picture();
  if (text) void svgToPng(text).then((b) => download(pictureName("png"), b));
});
// The page as one offline HTML file, made by the server from the state at the click.
htmlBtn.addEventListener("click", (ev) => {
  const query = queryOf(state());
  const href = `/api/standalone.html?${query}`;
  if (new TextEncoder().encode(location.origin + href).length <= MAX_LINK) {
    htmlBtn.href = href;
    return;
  }
  // Values too long for a link: the file is asked for by POST instead; if that fails, the share
  // panel says why (it holds the same download, with its status).
  ev.preventDefault();
  fetchOffline(query).then((blob) => download("gradtrace.html", blob), () => shareBtn.click());
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

// ---- the store: the controls and the address bar follow it ----
function follow(s: Readonly<ViewState>, changed: ReadonlySet<keyof ViewState> | null): void {
  const has = (k: keyof ViewState): boolean => changed === null || changed.has(k);
  if (has("theme") && changed !== null) {
    applyTheme(s.theme);
    stage.fit();
  }
  if (has("expr") && exprInput.value !== s.expr) exprInput.value = s.expr;
  if (has("mode")) {
    modeSelect.value = s.mode;
    wrtLabel.hidden = s.mode !== "forward";
  }
  if (has("check")) checkPanel.setOn(s.check);
  if (has("hessian")) hessianPanel.setOn(s.hessian);
  if (has("speed") && s.speed !== undefined) stage.controls.setSpeed(s.speed);
  if (has("dir")) {
    stage.showDirection(s.dir !== null);
    if (changed !== null) void relayout();
  }
}
follow(state(), null);
store.subscribe((s, _prev, changed) => follow(s, changed));
if (!embed) {
  followUrl(store, (query) => {
    history.replaceState(null, "", `${location.pathname}?${query}`);
    share.refresh();
    codePanel.refresh();
  });
}
stage.onStep = (i, trace) => store.update({ step: stepSpec(i, trace.forward.length) });
stage.controls.onSpeedChange = () => {
  const speed = stage.controls.speedMultiple();
  store.update({ speed: speed === 1 && state().speed === undefined ? undefined : speed }); // normal, never chosen: unwritten
};

// ---- problems with the view itself (a broken URL; in the embed, whose expression box is not
// shown, a bad expression too), over the graph ----
let urlErrors: string[] = url.errors ?? [];
let apiError: string | null = null;
/** Why the last gate opened (or closed) could not be shown, until the next change. */
let gateProblem: string | null = null;
const showProblems = (): void =>
  stage.showProblems([...urlErrors, ...(gateProblem !== null ? [gateProblem] : []), ...(apiError !== null ? [apiError] : [])], urlErrors.length === 0 && gateProblem === null);
showProblems();
/** Once the person edits the view, what the URL got wrong no longer applies. */
function clearUrlErrors(): void {
  if (urlErrors.length === 0 && gateProblem === null) return;
  urlErrors = [];
  gateProblem = null;
  showProblems();
}

// ---- traces in ----
/** The step a new graph starts at (the URL's, a preset's "end"), once; after that its last. */
let pendingStep: string | undefined = url.step;
let autoplay = state().autoplay;
/** A gate just opened or closed: where the view was, so that the renumbered steps go on from
 * there; and the gates open before, should the server refuse the new view. */
let pendingGate: { id: string; prev: string[]; before: Parameters<typeof stepAfterToggle>[2] } | null = null;

/** The inputs to differentiate by, in forward order; the one in use selected. */
function showWrt(trace: Trace): void {
  // Labels take no derivative: forward mode cannot go along them.
  const labels = labelInputs(trace);
  const names = inputNamesOf(trace).filter((n) => !labels.has(n));
  if ([...wrtSelect.options].map((o) => o.value).join("\n") !== names.join("\n")) {
    wrtSelect.replaceChildren(...names.map((name) => htmlEl("option", { value: name }, undefined, name)));
  }
  const wrt = state().wrt;
  wrtSelect.value = wrt && names.includes(wrt) ? wrt : names[0] ?? "";
}

/** The value fields are the reading's inputs, in its order, with the values the text gives. Which
 * hold labels: the trace's word for the inputs it has (labels, or a where's condition), else the
 * reading's. */
function showInputs(reading: Reading, trace: Trace | null): void {
  const roles = trace ? labelInputs(trace) : new Map<string, LabelRole>();
  const traced = new Set(trace ? inputNamesOf(trace) : []);
  const labels = new Map<string, LabelRole>();
  for (const input of reading.inputs) {
    const role = traced.has(input.name) ? roles.get(input.name) : input.labels ? "labels" : undefined;
    if (role) labels.set(input.name, role);
  }
  const names = reading.inputs.map((i) => i.name);
  valuesPanel.setNames(names, labels, textValues(reading));
  store.update({ inputs: names });
}

/** A new reading, before its trace: the fields and "read as" follow the text at once (null: the
 * text could not be read; the error follows). */
function onReading(reading: Reading | null, expr: string): void {
  if (reading === null) {
    readingView.setStale();
    return;
  }
  readingView.show(reading, expr);
  showInputs(reading, stage.trace);
}

function onResult(r: SessionResult): void {
  const { trace } = r;
  exprInput.setError(null);
  readingView.show(trace.reading, trace.expr);
  showInputs(trace.reading, trace);
  // The input forward mode took is the one in use (the first, if none or a missing one was asked).
  if (trace.mode === "forward" && trace.wrt) store.update({ wrt: trace.wrt });
  const before = stage.trace;
  let index = stage.step;
  const fresh = r.structureChanged || stage.graph.structure === null;
  // The answer to what is asked now: the gates it opened are the view's (ids the expression does
  // not have are dropped, the server's warning says which).
  const current = r.expand.join(",") === state().expand.join(",");
  if (current) store.update({ expand: openedIds(trace) });
  const gate = current ? pendingGate : null;
  if (current) pendingGate = null;
  if (gate !== null && fresh) {
    index = stepAfterToggle(trace, gate.id, gate.before);
  } else if (fresh) {
    const start = startStep(pendingStep, trace);
    pendingStep = undefined;
    if (start.problem !== null) urlErrors = [...urlErrors, start.problem];
    index = start.index;
  } else if (before !== null && (before.mode ?? "reverse") !== (trace.mode ?? "reverse")) {
    index = startStep(null, trace).index; // another mode, other steps: start at its end
  }
  apiError = null;
  showProblems();
  setText(layoutNote, r.fallback ? "(simple layout: the server could not lay this graph out)" : "");
  // The server's words (an unused name or value, NumPy's reading of np.max(p, 0), a def never
  // called, an output gradient it could not read...).
  warnings.replaceChildren(...trace.warnings.map((w) => htmlEl("p", { class: "warning", "data-type": w.type }, undefined, w.message)));
  showWrt(trace);
  checkPanel.show(trace);
  hessianPanel.show(trace);
  // The browser's own layout (the server could not lay the graph out) in the direction wanted.
  const layout = r.fallback ? fallbackLayout(trace, state().dir ?? stage.aspect()) : r.layout;
  stage.show(trace, fresh ? layout : null, index);
  // A layout kept from before (this structure, drawn another way round): drawn again.
  if (fresh && !r.fallback && outdated(r.layout)) void relayout();
  if (autoplay) {
    autoplay = false;
    stage.controls.play();
  }
}

function onError(err: ApiError): void {
  if (pendingGate !== null && state().expand.join(",") !== pendingGate.prev.join(",")) {
    // The view with that gate opened (or closed) cannot be made (too many nodes): the view goes
    // back to the gates open before, and says why.
    gateProblem = err.message;
    const prev = pendingGate.prev;
    pendingGate = null;
    retrace({ expand: prev });
    return;
  }
  const located = err.status >= 400 && err.status < 500;
  exprInput.setError({ message: err.message, start: err.start, end: err.end, underline: located });
  // The last good trace stays, dimmed, until the error is fixed.
  stage.setStale();
  apiError = err.message;
  showProblems();
  codePanel.refresh(); // the code panel says what is wrong too
  // No answer is on its way any more: a panel that waited for one says why.
  checkPanel.show(null, "nothing to check until the expression is fixed");
  hessianPanel.show(null, "nothing to compute until the expression is fixed");
}

/** No expression: nothing is wrong, nothing to draw; say what to do. */
function onEmpty(): void {
  exprInput.setError(null);
  stage.clear();
  readingView.clear();
  apiError = null;
  showProblems();
  setText(layoutNote, "");
  warnings.replaceChildren();
  checkPanel.show(null, "type an expression to check its gradients");
  hessianPanel.show(null, "type an expression to see its second derivatives");
  store.update({ step: undefined, inputs: [] });
}

session.onReading = onReading;
session.onResult = onResult;
session.onError = onError;
session.onEmpty = onEmpty;

// ---- the person's changes: into the store, then a new trace ----
function retrace(patch: Partial<ViewState>): void {
  store.update(patch);
  void session.refresh();
}
exprInput.onChange = (expr) => {
  if (expr === state().expr) return;
  clearUrlErrors();
  // A preset's output gradient, and the gates opened, belong to their own expression.
  retrace({ expr, seed: null, expand: [] });
};
// A gate opened or closed: another view of the same expression (its steps renumbered).
stage.enableGates((id, open) => {
  const trace = stage.trace;
  const prev = state().expand;
  const next = open ? withOpened(prev, id) : withClosed(prev, id);
  if (next.join(",") === prev.join(",")) return;
  if (trace) {
    const st = stepState(trace, stage.step);
    const node = trace.nodes.find((n) => n.id === st.current) ?? null;
    pendingGate = { id, prev, before: { phase: st.phase, atStart: stage.step === 0, atEnd: stage.step >= totalSteps(trace) - 1, node } };
  }
  clearUrlErrors();
  gateProblem = null;
  retrace({ expand: next });
});
modeSelect.addEventListener("change", () => {
  clearUrlErrors();
  const mode = modeSelect.value === "forward" ? "forward" : "reverse";
  retrace({ mode, wrt: mode === "forward" && state().wrt === null && wrtSelect.value ? wrtSelect.value : state().wrt });
});
wrtSelect.addEventListener("change", () => {
  clearUrlErrors();
  retrace({ wrt: wrtSelect.value || null, tangent: null }); // a direction belongs to its own input
});
hessianPanel.onToggle = (hessian) => {
  hessianPanel.show(null); // "computing…" until the answer
  retrace({ hessian });
};
checkPanel.onToggle = (check) => {
  checkPanel.show(null); // "checking…" until the answer
  retrace({ check });
};
valuesPanel.onChange = () => {
  clearUrlErrors();
  retrace({}); // the panel has put the value into the store
};

presets.onPick = (p: Preset) => {
  clearUrlErrors();
  pendingStep = "end";
  side.scrollTop = 0;
  session.keepValues(); // the example's values are given, even where its text gives others
  retrace({ expr: p.expr, values: { ...state().values, ...p.values }, seed: p.seed ?? null, expand: [] });
};
if (!embed) {
  fetchPresets().then(
    (ps) => presets.show(ps),
    (e: unknown) => presets.showError(`examples unavailable: ${e instanceof Error ? e.message : String(e)}`),
  );
}

void session.refresh();
