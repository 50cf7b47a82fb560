// The values panel: one editor per input name, created and removed as names appear and
// disappear, then the output gradient's. The values live in the store (store.ts), which the panel
// reads and writes: it keeps no copy. Values typed for a name are kept when it disappears, and
// come back with it.
//
// Each editor shows where its value comes from, in plain words: typed here; "from the text" (a
// value line, `X = np.array(...)`); "random numbers, draw 7" (the server inferred the shape the
// ops need and drew the numbers with the store's `rng`); or the default (1; 0 for labels). Only
// a value typed here is in the store (and the URL): a drawn one is the server's, made again from
// `rng`. Typing over the text's value wins, and "use the text's value" takes it back out.
//
// A scalar: a number field and a slider. A tensor: a grid of cells (vectors and matrices that
// are not too large) with one slider for the cell last focused, and a text box that takes a
// whole tensor typed or pasted as JSON, NumPy, PyTorch or TensorFlow write or print it
// (tensor-literal.ts); a paste of a whole tensor into any cell goes there too. Fill buttons:
// another random draw, ones, zeros, 0, 1, 2…
//
// The panel learns the shapes and drawn values from the session's reading (session.ts
// `sessionOf`), and the output's shape from its trace.

import "./values.css";
import { valuesOf, type InputRead, type Tensor } from "./api";
import type { Store } from "./store";
import { formatShape, parseNumber, shapeOf } from "./format";
import { htmlEl, setText } from "./svg";
import { labelsPhrase } from "./node-words";
import { sessionOf } from "./session";
import { readTensor, tensorText } from "./tensor-literal";
import {
  diffNames, filled, fitTo, gradView, gradWords, gridFits, inputView, labelSliderRange, parseShape, resize, sameTensor,
  setAt, sliderRange, sourceWords, type Fill, type GradSource, type InputView,
} from "./values-model";

/** What an input that takes no gradient holds (node-words.ts labelRole). */
export type LabelRole = "labels" | "condition";

function numText(x: number): string {
  return Number.isNaN(x) ? "NaN" : String(Number(x.toPrecision(12)));
}

/** A field's id from a name (any name: `constructor`, `x y` cannot be typed, but be safe). */
function idOf(prefix: string, name: string): string {
  return `${prefix}-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** The slider's test id beside fields of test id `testId` (value-x: slider-x; grad: grad-slider). */
function sliderId(testId: string): string {
  return testId.startsWith("value-") ? `slider-${testId.slice("value-".length)}` : `${testId}-slider`;
}

/** A one-line field as wide as its text (or its placeholder), in characters: nothing of it is
 * cut off, at any zoom. */
function fitWidth(field: HTMLInputElement): void {
  const chars = Math.max(field.value.length, field.placeholder.length) + 1;
  field.style.width = `calc(${chars}ch + 1em)`;
}

/** How long a text box's broken text waits before its error shows (it may be half typed). */
const ERROR_DELAY_MS = 700;

/** Where a value editor gets its value and puts a new one (an input's, the output gradient's). */
interface Binding {
  /** The name its fields are labelled with ("X", "output gradient"). */
  label: string;
  /** The prefix of its fields' test ids ("value-X", "grad"). */
  testId: string;
  current(): Tensor;
  /** Take a new value; a message if it cannot be this one (the text box says it). */
  set(t: Tensor, source: EventTarget | null): string | void;
  range(x: number): { min: number; max: number; step: number };
  /** A scalar editor has a slider. */
  slider: boolean;
}

/**
 * The fields of one value: a number field (and slider) for a scalar; for a tensor, the grid,
 * the slider of the cell last focused, the text box with its error, and the fill buttons. It is
 * rebuilt in part as the value's shape changes, never while a field of it is being typed in
 * unless the shape changed (the text box stays: a paste of another shape keeps its focus).
 */
class ValueFields {
  readonly el: HTMLElement;
  private shapeKey: string | null = null;
  private kind: "scalar" | "tensor" | null = null;
  /** The value the fields show (to tell a change from elsewhere from one typed here). */
  shown: Tensor | undefined;
  private cells: { input: HTMLInputElement; path: number[] }[] = [];
  private grid: HTMLElement | null = null;
  private sliderRow: HTMLElement | null = null;
  private slider: HTMLInputElement | null = null;
  private sliderLabel: HTMLElement | null = null;
  private number: HTMLInputElement | null = null;
  private text: HTMLTextAreaElement | null = null;
  private error: HTMLElement | null = null;
  private errorTimer: number | null = null;
  /** The entry the slider drags. */
  private active: number[] = [];
  readonly fills: HTMLElement;

  constructor(parent: HTMLElement, private readonly b: Binding, private readonly fillButtons: (row: HTMLElement) => void) {
    this.el = htmlEl("div", { class: "value-fields" }, parent);
    this.fills = htmlEl("div", { class: "fill-row", role: "group", "aria-label": `fill ${b.label}` });
  }

  /** Show `t` (rebuilding what its shape needs); the field being typed in is left alone. */
  show(t: Tensor, except: EventTarget | null = null): void {
    const shape = shapeOf(t);
    const kind = shape.length === 0 ? "scalar" : "tensor";
    if (kind !== this.kind) this.build(kind);
    if (kind === "tensor" && shape.join("x") !== this.shapeKey) this.buildGrid(shape);
    this.shown = t;
    if (this.number && except !== this.number && typeof t === "number" && parseNumber(this.number.value) !== t) this.number.value = numText(t);
    for (const c of this.cells) {
      if (c.input === except) continue;
      const x = entry(t, c.path);
      if (parseNumber(c.input.value) !== x) c.input.value = numText(x);
    }
    if (this.text && except !== this.text && !(document.activeElement === this.text && this.text.classList.contains("invalid"))) {
      // Beside a grid, one line (the grid shows the rows); alone, a row a line, up to six (a
      // larger one scrolls; a person may drag it taller).
      const grid = this.grid !== null && !this.grid.hidden;
      this.text.value = grid ? tensorText(t).replace(/\n\s*/g, " ") : tensorText(t);
      this.text.rows = grid ? 1 : Math.min(6, Math.max(1, this.text.value.split("\n").length));
      this.clearError();
    }
    if (this.slider) {
      const x = kind === "scalar" ? (t as number) : entry(t, this.active);
      if (this.sliderLabel) setText(this.sliderLabel, `[${this.active.join(",")}]`);
      if (except !== this.slider) {
        const r = this.b.range(x);
        this.slider.min = String(r.min);
        this.slider.max = String(r.max);
        this.slider.step = String(r.step);
        this.slider.value = String(x);
      }
    }
  }

  private build(kind: "scalar" | "tensor"): void {
    const hadFocus = this.el.contains(document.activeElement);
    this.el.replaceChildren();
    this.cells = [];
    this.grid = this.sliderRow = this.slider = this.sliderLabel = this.number = this.text = this.error = null;
    this.shapeKey = null;
    this.kind = kind;
    const { label, testId } = this.b;
    if (kind === "scalar") {
      const row = htmlEl("div", { class: "scalar-row" }, this.el);
      const field = htmlEl("input", {
        id: idOf("value", label), type: "text", inputmode: "decimal", class: "value-number",
        "data-testid": testId, "aria-label": `value of ${label}`,
      }, row);
      this.number = field;
      field.addEventListener("input", () => {
        const x = parseNumber(field.value);
        field.classList.toggle("invalid", x === null);
        if (x !== null) this.b.set(x, field);
      });
      // A whole tensor pasted into a number's field makes the value that tensor.
      field.addEventListener("paste", (ev) => this.pasteWhole(ev));
      field.addEventListener("blur", () => {
        field.classList.remove("invalid");
        this.show(this.b.current());
      });
      if (this.b.slider) {
        const sl = htmlEl("input", { type: "range", class: "value-slider", "data-testid": sliderId(testId), "aria-label": `slider for ${label}` }, row);
        this.slider = sl;
        sl.addEventListener("input", () => this.b.set(Number(sl.value), sl));
      } else {
        row.classList.add("no-slider");
      }
      if (hadFocus) field.focus();
      return;
    }
    this.grid = htmlEl("div", { class: "grid-editor" }, this.el);
    this.sliderRow = htmlEl("div", { class: "scalar-row" }, this.el);
    this.sliderLabel = htmlEl("span", { class: "slider-cell" }, this.sliderRow);
    const sl = htmlEl("input", { type: "range", class: "value-slider", "data-testid": sliderId(testId), "aria-label": `slider for the selected entry of ${label}` }, this.sliderRow);
    this.slider = sl;
    sl.addEventListener("input", () => this.b.set(setAt(this.b.current(), this.active, Number(sl.value)), sl));
    const textId = idOf("tensor-text", label);
    const errorId = idOf("tensor-error", label);
    const textLabel = htmlEl("label", { class: "tensor-text-label", for: textId }, this.el, "paste or type the whole value");
    textLabel.title = "JSON [[1, 2], [3, 4]], NumPy np.array(...) or its printout, torch.tensor(...), tf.constant(...)";
    const ta = htmlEl("textarea", {
      id: textId, class: "tensor-text", rows: "2", spellcheck: "false", autocomplete: "off", autocapitalize: "off",
      "data-testid": `${testId}-text`, "aria-describedby": errorId,
    }, this.el);
    this.text = ta;
    this.error = htmlEl("p", { id: errorId, class: "tensor-error", "data-testid": `${testId}-error`, "aria-live": "polite" }, this.el);
    this.error.hidden = true;
    let pasted = false;
    ta.addEventListener("paste", () => (pasted = true));
    ta.addEventListener("input", () => {
      const now = pasted;
      pasted = false;
      this.readText(now);
    });
    ta.addEventListener("blur", () => {
      if (ta.classList.contains("invalid")) this.readText(true);
    });
    this.el.appendChild(this.fills);
    this.fills.replaceChildren();
    this.fillButtons(this.fills);
    if (hadFocus) ta.focus();
  }

  private buildGrid(shape: number[]): void {
    this.shapeKey = shape.join("x");
    const grid = this.grid!;
    grid.replaceChildren();
    this.cells = [];
    const fits = gridFits(shape);
    grid.hidden = !fits;
    this.sliderRow!.hidden = !fits;
    this.active = shape.map(() => 0);
    if (!fits) return;
    const rows = shape.length === 1 ? 1 : shape[0];
    const cols = shape[shape.length - 1];
    // Wide enough for a number such as −0.45 (4 significant digits fit), at the least.
    grid.style.gridTemplateColumns = `repeat(${cols}, minmax(3.9em, 1fr))`;
    const { label, testId } = this.b;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const path = shape.length === 1 ? [j] : [i, j];
        const input = htmlEl("input", {
          type: "text", inputmode: "decimal", class: "grid-cell",
          "data-testid": `${testId}-${path.join("-")}`, "aria-label": `${label}[${path.join(",")}]`,
        }, grid);
        input.addEventListener("focus", () => {
          this.active = path;
          for (const c of this.cells) c.input.classList.toggle("active", c.input === input);
          this.show(this.b.current(), input);
        });
        input.addEventListener("input", () => {
          const x = parseNumber(input.value);
          input.classList.toggle("invalid", x === null);
          if (x !== null) this.b.set(setAt(this.b.current(), path, x), input);
        });
        input.addEventListener("paste", (ev) => this.pasteWhole(ev));
        input.addEventListener("blur", () => {
          if (!input.classList.contains("invalid")) return;
          input.classList.remove("invalid");
          input.value = numText(entry(this.b.current(), path));
        });
        this.cells.push({ input, path });
      }
    }
    this.cells[0]?.input.classList.add("active");
  }

  /** A paste into a number's field or a cell: a whole tensor (more than one number) is the new
   * value; one number is pasted as usual. */
  private pasteWhole(ev: ClipboardEvent): void {
    const text = ev.clipboardData?.getData("text/plain") ?? "";
    const r = readTensor(text);
    if (!("value" in r) || !Array.isArray(r.value)) return;
    ev.preventDefault();
    const refused = this.b.set(r.value, null);
    if (typeof refused === "string" && this.error) this.showError(text, refused, 0, text.length);
  }

  /** The text box's text as the value; its error shown now (`now`: pasted, or left) or after a
   * pause (it may be half typed). */
  private readText(now: boolean): void {
    const ta = this.text!;
    const r = readTensor(ta.value);
    const refused = "value" in r ? this.b.set(r.value, ta) : undefined;
    if ("value" in r && typeof refused !== "string") {
      ta.classList.remove("invalid");
      ta.removeAttribute("aria-invalid");
      this.clearError();
      return;
    }
    const err = "value" in r ? { error: refused as string, start: 0, end: ta.value.length } : r;
    ta.classList.add("invalid");
    ta.setAttribute("aria-invalid", "true");
    if (this.errorTimer !== null) window.clearTimeout(this.errorTimer);
    this.errorTimer = null;
    const show = (): void => this.showError(ta.value, err.error, err.start, err.end);
    if (now) show();
    else this.errorTimer = window.setTimeout(show, ERROR_DELAY_MS);
  }

  /** The error, and the characters it is about marked in a quote of the text around them. */
  private showError(text: string, message: string, start: number, end: number): void {
    const el = this.error!;
    this.errorTimer = null;
    const from = Math.max(0, start - 24);
    const to = Math.min(text.length, Math.max(end, start + 1) + 24);
    const oneLine = (s: string): string => s.replace(/\s+/g, " ");
    el.replaceChildren();
    htmlEl("span", { class: "tensor-error-message" }, el, message);
    const code = htmlEl("code", { class: "tensor-error-at" }, el);
    code.append(`${from > 0 ? "…" : ""}${oneLine(text.slice(from, start))}`);
    // An error at the end of the text (a bracket never closed) marks the place where it ends.
    // Marked as the expression box marks the characters of an error (styles.css).
    htmlEl("mark", { class: "error-span", "data-testid": `${this.b.testId}-error-mark` }, code, oneLine(text.slice(start, end)) || "\u2038");
    code.append(`${oneLine(text.slice(end, to))}${to < text.length ? "…" : ""}`);
    el.hidden = false;
  }

  private clearError(): void {
    if (this.errorTimer !== null) window.clearTimeout(this.errorTimer);
    this.errorTimer = null;
    if (this.error) {
      this.error.hidden = true;
      this.error.replaceChildren();
    }
  }
}

/** The entry of `t` at `path` (0 past its end). */
function entry(t: Tensor, path: number[]): number {
  let cur: Tensor = t;
  for (const i of path) cur = Array.isArray(cur) ? cur[i] ?? 0 : cur;
  return typeof cur === "number" ? cur : 0;
}

/** A fill button: a word, what it does in plain words. */
function fillButton(row: HTMLElement, text: string, title: string, testId: string, onClick: () => void): HTMLButtonElement {
  const b = htmlEl("button", { type: "button", class: "fill", title, "data-testid": testId }, row, text);
  b.addEventListener("click", onClick);
  return b;
}

const FILLS: [Fill, string, string][] = [
  ["ones", "ones", "every entry 1"],
  ["zeros", "zeros", "every entry 0"],
  ["arange", "0, 1, 2…", "0, 1, 2… row by row"],
];

interface InputEditor {
  el: HTMLElement;
  fields: ValueFields;
  /** Say where the value comes from, show the shape. */
  mark(view: InputView): void;
}

export class ValuesPanel {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private editors = new Map<string, InputEditor>();
  private names: string[] = [];
  /** The inputs that hold labels (or a where's condition), by name: their editors say so, and
   * a label's slider steps through whole numbers. */
  private labels = new Map<string, LabelRole>();
  /** The values the text gives, by name (shown where the store has none). */
  private fromText = new Map<string, Tensor>();
  /** What the server gave each input (its shape, the value drawn), by name. */
  private server = new Map<string, InputRead>();
  private grad: { el: HTMLElement; fields: ValueFields; source: HTMLElement; shape: HTMLElement; reset: HTMLButtonElement; shapeKey: string } | null = null;
  private readonly gradBox: HTMLElement;
  onChange: (name: string) => void = () => {};

  constructor(parent: HTMLElement, private readonly store: Store) {
    this.el = htmlEl("section", { class: "panel values", "aria-label": "values" }, parent);
    htmlEl("h2", { class: "panel-title" }, this.el, "Values");
    this.list = htmlEl("div", { class: "values-list" }, this.el);
    this.gradBox = htmlEl("div", { class: "out-grad-box" }, this.el);
    // Values set elsewhere (a preset, the URL, a new shape, a new draw) show as soon as the store
    // has them; the output gradient follows the store's too.
    store.subscribe((_next, _prev, changed) => {
      if (changed.has("values") || changed.has("rng")) this.sync();
      if (changed.has("seed") || changed.has("inputs") || changed.has("mode")) this.syncGrad();
    });
  }

  /** Show editors for exactly these names, in this order; `labels` says which hold labels,
   * `fromText` the values the text gives. */
  setNames(names: string[], labels: ReadonlyMap<string, LabelRole> = new Map(), fromText: ReadonlyMap<string, Tensor> = new Map()): void {
    this.fromText = new Map(fromText);
    const session = sessionOf(this.store);
    const reading = session?.reading ?? session?.trace?.reading ?? null;
    this.server = new Map((reading?.inputs ?? []).map((i) => [i.name, i]));
    // An editor whose name became (or stopped being) labels is made afresh.
    const changed = this.names.filter((n) => names.includes(n) && this.editors.has(n) && this.labels.get(n) !== labels.get(n));
    this.labels = new Map(labels);
    for (const n of changed) this.rebuild(n);
    const { add, remove } = diffNames(this.names, names);
    for (const n of remove) {
      this.editors.get(n)?.el.remove();
      this.editors.delete(n);
    }
    for (const n of add) this.editors.set(n, this.makeEditor(n));
    // Reorder only when needed: moving an element in the DOM would end a slider drag.
    const order = names.map((n) => this.editors.get(n)?.el).filter((e): e is HTMLElement => e !== undefined);
    const inPlace = order.length === this.list.children.length && order.every((e, i) => this.list.children[i] === e);
    if (!inPlace) for (const e of order) this.list.appendChild(e);
    this.names = [...names];
    this.sync(); // a value the text gives, or drawn, may have changed
    this.syncGrad();
  }

  /** What the editor of `name` shows: the value typed, the text's, the drawn one. */
  view(name: string): InputView {
    const values = this.store.state.values;
    const typed = Object.hasOwn(values, name) ? values[name] : undefined;
    return inputView(typed, this.fromText.get(name), this.server.get(name), this.labels.get(name) === "labels");
  }

  /** The value of `name` as shown. */
  value(name: string): Tensor {
    return this.view(name).value;
  }

  /** Show what the store (and the reading) hold now, where it changed elsewhere. */
  private sync(): void {
    for (const [name, ed] of this.editors) {
      const v = this.view(name);
      ed.mark(v);
      if (ed.fields.shown !== v.value && !sameTensor(ed.fields.shown, v.value)) ed.fields.show(v.value);
    }
  }

  private rebuild(name: string): void {
    const old = this.editors.get(name);
    const ed = this.makeEditor(name);
    this.editors.set(name, ed);
    if (old) old.el.replaceWith(ed.el);
  }

  /** A value typed, pasted or filled for `name`: into the store, and the fields follow. */
  private changed(name: string, t: Tensor, source: EventTarget | null): void {
    const ed = this.editors.get(name);
    // So that the store's echo (sync) does not rewrite the field being typed in.
    if (ed) ed.fields.shown = t;
    this.store.setValue(name, t);
    if (ed) {
      ed.fields.show(t, source);
      ed.mark(this.view(name));
    }
    this.onChange(name);
  }

  /** Forget the value typed for `name` (the text's, or a drawn one, shows again). */
  private forget(name: string, patch: { rng?: number } = {}): void {
    const values = Object.entries(this.store.state.values).filter(([n]) => n !== name);
    this.store.update({ ...patch, values: valuesOf(values) }); // sync() shows what comes instead
    this.onChange(name);
  }

  private makeEditor(name: string): InputEditor {
    const role = this.labels.get(name);
    const el = htmlEl("div", { class: "value-editor", "data-name": name, role: "group", "aria-labelledby": idOf("value-name", name) });
    const head = htmlEl("div", { class: "value-head" }, el);
    htmlEl("label", { class: "value-name", id: idOf("value-name", name), for: idOf("value", name) }, head, name);
    // Where the value comes from, in plain words ("from the text" has its own element, as before).
    const source = htmlEl("span", { class: "value-source", "data-testid": `source-${name}` }, head);
    const fromText = htmlEl("span", { class: "value-source from-text", "data-source": "text", "data-testid": `from-text-${name}`, title: "the text gives this value; edit it to use another" }, head, "from the text");
    const useText = htmlEl("button", { type: "button", class: "use-text", "data-testid": `use-text-${name}`, title: `forget the value typed for ${name} and use the one the text gives` }, head, "use the text's value");
    useText.addEventListener("click", () => this.forget(name));
    const shapeField = htmlEl("input", {
      class: "value-shape", type: "text", placeholder: "scalar", autocomplete: "off",
      title: "shape: empty for a number, 3 for a vector, 2x3 for a matrix (keeps the numbers that fit)",
      "aria-label": `shape of ${name}`, "data-testid": `shape-${name}`,
    }, head);
    // As wide as the shape it holds (2×6×6×1 whole, at any zoom), never narrower than "scalar".
    shapeField.addEventListener("input", () => fitWidth(shapeField));
    shapeField.addEventListener("change", () => {
      const s = parseShape(shapeField.value);
      shapeField.classList.toggle("invalid", s === null);
      if (s === null) return;
      const cur = this.view(name);
      if (s.join("x") === cur.shape.join("x")) return;
      this.changed(name, resize(cur.value, s, 1), null);
    });
    if (role) {
      el.classList.add("labels");
      el.setAttribute("data-labels", role);
      htmlEl("p", { class: "value-labels", "data-testid": `labels-${name}` }, el, labelsPhrase(role));
    }
    let random: HTMLButtonElement | null = null;
    const fields = new ValueFields(el, {
      label: name,
      testId: `value-${name}`,
      current: () => this.value(name),
      set: (t, src) => this.changed(name, t, src),
      range: (x) => (role === "labels" ? labelSliderRange(x) : sliderRange(x)),
      slider: true,
    }, (row) => {
      // Another draw: the server draws the values nobody typed with the store's `rng`, so a new
      // number there (and this value forgotten) is new random numbers here, and in every other
      // value not typed (one draw for the view: the URL keeps one number), as the title says.
      if (!role) {
        random = fillButton(row, "random", `fill ${name} with new random numbers: a new draw, for every value not typed`, `fill-random-${name}`,
          () => this.forget(name, { rng: this.store.state.rng + 1 }));
      }
      for (const [how, text, words] of FILLS) {
        fillButton(row, text, `fill ${name}: ${words}`, `fill-${how}-${name}`, () => this.changed(name, filled(this.view(name).shape, how), null));
      }
    });
    const ed: InputEditor = {
      el,
      fields,
      mark: (v) => {
        setText(source, sourceWords(v.source, this.store.state.rng, v.shape, role === "labels"));
        source.dataset.source = v.source;
        source.title = v.source === "drawn" ? "not typed: drawn at random; type, paste or fill to use other numbers" : v.source === "default" ? "not typed: the value used until you type one" : "";
        source.hidden = v.source === "text";
        fromText.hidden = v.source !== "text";
        useText.hidden = v.source !== "over-text";
        // The text's value is used whatever the draw: no random button for it.
        if (random) random.hidden = v.source === "text" || v.source === "over-text";
        el.classList.toggle("value-from-text", v.source === "text");
        el.classList.toggle("value-drawn", v.source === "drawn" || v.source === "default");
        if (document.activeElement !== shapeField) {
          shapeField.value = v.shape.length ? formatShape(v.shape) : "";
          shapeField.classList.remove("invalid");
          fitWidth(shapeField);
        }
      },
    };
    const v = this.view(name);
    ed.mark(v);
    fields.show(v.value);
    return ed;
  }

  // ---- the output gradient ----

  /** The output gradient's editor: of the output's shape (the last trace's), ones unless the text
   * gives one or one is typed (the store's `seed`). None in forward mode, nor without a trace. */
  private syncGrad(): void {
    const trace = sessionOf(this.store)?.trace ?? null;
    const state = this.store.state;
    if (!trace || state.mode === "forward" || trace.mode === "forward" || state.expr.trim() === "") {
      this.gradBox.hidden = true;
      return;
    }
    this.gradBox.hidden = false;
    const shape = shapeOf(trace.value);
    const textSeed = trace.reading?.seed ?? null;
    const view = gradView(state.seed, textSeed, shape);
    const key = shape.join("x");
    if (!this.grad || this.grad.shapeKey !== key) this.makeGrad(shape);
    const g = this.grad!;
    setText(g.source, gradWords(view.source, shape));
    g.source.dataset.source = view.source;
    setText(g.shape, shape.length ? formatShape(shape) : "");
    g.reset.hidden = view.source !== "typed";
    setText(g.reset, textSeed !== null ? "use the text's" : "back to ones");
    g.reset.title = textSeed !== null ? "forget the output gradient typed here and use the one the text gives" : "forget the output gradient typed here: ones again";
    if (!sameTensor(g.fields.shown, view.value)) g.fields.show(view.value);
  }

  private makeGrad(shape: number[]): void {
    const label = "output gradient";
    const el = htmlEl("div", { class: "out-grad-editor", "data-testid": "output-gradient", role: "group", "aria-labelledby": "value-name-output_gradient" });
    const head = htmlEl("div", { class: "value-head" }, el);
    const name = htmlEl("label", { class: "value-name out-grad-name", id: "value-name-output_gradient", for: idOf("value", label) }, head, label);
    name.title = "the gradient the backward pass starts from at the output: ones unless you give another";
    const source = htmlEl("span", { class: "value-source", "data-testid": "grad-source" }, head);
    const shapeText = htmlEl("span", { class: "out-grad-shape", title: "the output's shape" }, head);
    const reset = htmlEl("button", { type: "button", class: "use-text", "data-testid": "grad-reset" }, head);
    reset.addEventListener("click", () => this.setSeed(null));
    // The output gradient has the output's shape (or is one number, spread over it).
    const set = (t: Tensor): string | void => {
      if (fitTo(t, shape) === null) return `the output is ${formatShape(shape)}: its gradient needs that shape too (or one number), not ${formatShape(shapeOf(t))}`;
      this.setSeed(t);
    };
    const fields = new ValueFields(el, {
      label,
      testId: "grad",
      current: () => {
        const trace = sessionOf(this.store)?.trace;
        const s = trace ? shapeOf(trace.value) : shape;
        return gradView(this.store.state.seed, trace?.reading?.seed ?? null, s).value;
      },
      set: (t, src) => {
        const refused = set(t);
        if (typeof refused === "string") return refused;
        // The other fields (the slider, the text box) follow the one typed in.
        const shown = fitTo(t, shape);
        if (shown !== null) this.grad?.fields.show(shown, src);
      },
      range: sliderRange,
      slider: false,
    }, (row) => {
      for (const [how, text, words] of FILLS) {
        // Ones with no other from the text: the default, nothing typed.
        fillButton(row, text, `output gradient: ${words}`, `fill-${how}-grad`, () =>
          how === "ones" && (sessionOf(this.store)?.trace?.reading?.seed ?? null) === null ? this.setSeed(null) : set(filled(shape, how)));
      }
    });
    this.gradBox.replaceChildren(el);
    this.grad = { el, fields, source, shape: shapeText, reset, shapeKey: shape.join("x") };
  }

  private setSeed(seed: Tensor | null): void {
    if (this.grad) this.grad.fields.shown = seed ?? undefined;
    this.store.update({ seed });
    this.syncGrad();
    this.onChange("");
  }
}

export type { GradSource };
