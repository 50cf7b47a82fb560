// The values panel: one editor per input name, created and removed as names appear and
// disappear; a number field and a slider for scalars, a small grid for vectors and matrices.
// The values live in the store (store.ts), which the panel reads and writes: it keeps no copy.
// Values typed for a name are kept when it disappears, and come back with it. An input whose
// value the text gives (`X = np.array(...)`, pasted) shows that value, marked "from the text",
// and is not in the store until it is edited here; then the value typed wins (and goes into the
// URL), and "use the text's value" takes it back out.

import { valuesOf, type Tensor } from "./api";
import type { Store } from "./store";
import { formatShape, parseNumber, shapeOf } from "./format";
import { htmlEl } from "./svg";
import { labelsPhrase } from "./node-words";
import { diffNames, labelSliderRange, parseShape, resize, setAt, sliderRange } from "./values-model";

/** What an input that takes no gradient holds (node-words.ts labelRole). */
export type LabelRole = "labels" | "condition";

interface Editor {
  el: HTMLElement;
  shapeKey: string;
  /** The value the fields show (to tell a change from elsewhere from one typed here). */
  shown?: Tensor;
  /** Say where the value comes from (the text, or typed over the text's). */
  mark(): void;
  /** Refresh the fields from the store (not the one being typed in). */
  refresh(except?: EventTarget | null): void;
}

function numText(x: number): string {
  return String(Number(x.toPrecision(12)));
}

export class ValuesPanel {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private editors = new Map<string, Editor>();
  private names: string[] = [];
  /** The inputs that hold labels (or a where's condition), by name: their editors say so, and
   * a label's slider steps through whole numbers. */
  private labels = new Map<string, LabelRole>();
  /** The values the text gives, by name (shown where the store has none). */
  private fromText = new Map<string, Tensor>();
  onChange: (name: string) => void = () => {};

  constructor(parent: HTMLElement, private readonly store: Store) {
    this.el = htmlEl("section", { class: "panel values", "aria-label": "values" }, parent);
    htmlEl("h2", { class: "panel-title" }, this.el, "Values");
    this.list = htmlEl("div", { class: "values-list" }, this.el);
    // Values set elsewhere (a preset, the URL, a new shape) show as soon as the store has them.
    store.subscribe((_next, _prev, changed) => {
      if (changed.has("values")) this.sync();
    });
  }

  /** Show editors for exactly these names, in this order; `labels` says which hold labels,
   * `fromText` the values the text gives. */
  setNames(names: string[], labels: ReadonlyMap<string, LabelRole> = new Map(), fromText: ReadonlyMap<string, Tensor> = new Map()): void {
    this.fromText = new Map(fromText);
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
    this.sync(); // a value the text gives may have changed
  }

  /** The store's value of `name`, else the text's (undefined if neither has one). */
  value(name: string): Tensor | undefined {
    const values = this.store.state.values;
    return Object.hasOwn(values, name) ? values[name] : this.fromText.get(name);
  }

  /** Where the value of `name` comes from. */
  private source(name: string): "typed" | "text" | "over-text" {
    const stored = Object.hasOwn(this.store.state.values, name);
    if (!this.fromText.has(name)) return "typed";
    return stored ? "over-text" : "text";
  }

  /** Show what the store holds now, where it changed elsewhere (a preset, the URL). */
  private sync(): void {
    for (const [name, ed] of this.editors) {
      ed.mark();
      const t = this.value(name);
      if (t === undefined || t === ed.shown) continue;
      if (ed.shapeKey !== shapeOf(t).join("x")) this.rebuild(name);
      else ed.refresh();
    }
  }

  private rebuild(name: string): void {
    const old = this.editors.get(name);
    const ed = this.makeEditor(name);
    this.editors.set(name, ed);
    if (old) old.el.replaceWith(ed.el);
  }

  private changed(name: string, t: Tensor, source: EventTarget | null): void {
    const ed = this.editors.get(name);
    if (ed) ed.shown = t; // so that the store's echo does not rewrite the field being typed in
    this.store.setValue(name, t);
    ed?.refresh(source);
    ed?.mark();
    this.onChange(name);
  }

  private makeEditor(name: string): Editor {
    const t = this.value(name) ?? 1;
    const shape = shapeOf(t);
    const el = htmlEl("div", { class: "value-editor", "data-name": name });
    const head = htmlEl("div", { class: "value-head" }, el);
    htmlEl("label", { class: "value-name", for: `value-${name}` }, head, name);
    const shapeField = htmlEl("input", {
      class: "value-shape", type: "text", value: shape.length ? formatShape(shape) : "",
      placeholder: "scalar", title: "shape: empty for a scalar, 3 for a vector, 2x3 for a matrix",
      "aria-label": `shape of ${name}`, "data-testid": `shape-${name}`,
    }, head);
    shapeField.addEventListener("change", () => {
      const s = parseShape(shapeField.value);
      if (s === null) {
        shapeField.classList.add("invalid");
        return;
      }
      shapeField.classList.remove("invalid");
      const cur = this.value(name) ?? 1;
      this.store.setValue(name, resize(cur, s, 1)); // sync() rebuilds the editor for the shape
      this.onChange(name);
    });
    const role = this.labels.get(name);
    if (role) {
      el.classList.add("labels");
      el.setAttribute("data-labels", role);
      htmlEl("p", { class: "value-labels", "data-testid": `labels-${name}` }, el, labelsPhrase(role));
    }
    // Where the value comes from: the text (pasted value lines), or typed over the text's.
    const origin = htmlEl("p", { class: "value-origin" }, el);
    const fromText = htmlEl("span", { class: "from-text", "data-testid": `from-text-${name}`, title: "the text gives this value; edit it to use another" }, origin, "from the text");
    const useText = htmlEl("button", { type: "button", class: "use-text", "data-testid": `use-text-${name}`, title: `forget the value typed for ${name} and use the one the text gives` }, origin, "use the text's value");
    useText.addEventListener("click", () => {
      const values = Object.entries(this.store.state.values).filter(([n]) => n !== name);
      this.store.update({ values: valuesOf(values) }); // sync() shows the text's value
      this.onChange(name);
    });
    const ed = shape.length === 0 ? this.scalarEditor(name, el) : this.tensorEditor(name, el, shape);
    ed.mark = () => {
      const src = this.source(name);
      origin.hidden = src === "typed";
      fromText.hidden = src !== "text";
      useText.hidden = src !== "over-text";
      el.classList.toggle("value-from-text", src === "text");
    };
    ed.mark();
    return ed;
  }

  /** A slider's range: labels step through whole numbers from 0; other values as usual. */
  private range(name: string, x: number): { min: number; max: number; step: number } {
    return this.labels.get(name) === "labels" ? labelSliderRange(x) : sliderRange(x);
  }

  private scalarEditor(name: string, el: HTMLElement): Editor {
    const row = htmlEl("div", { class: "scalar-row" }, el);
    const field = htmlEl("input", {
      id: `value-${name}`, type: "text", inputmode: "decimal", class: "value-number",
      "data-testid": `value-${name}`, "aria-label": `value of ${name}`,
    }, row);
    const slider = htmlEl("input", { type: "range", class: "value-slider", "data-testid": `slider-${name}`, "aria-label": `slider for ${name}` }, row);
    const setRange = (x: number): void => {
      const r = this.range(name, x);
      slider.min = String(r.min);
      slider.max = String(r.max);
      slider.step = String(r.step);
    };
    field.addEventListener("input", () => {
      const x = parseNumber(field.value);
      field.classList.toggle("invalid", x === null);
      if (x !== null) this.changed(name, x, field);
    });
    field.addEventListener("blur", () => ed.refresh());
    slider.addEventListener("input", () => this.changed(name, Number(slider.value), slider));
    const ed: Editor = {
      el,
      shapeKey: "",
      mark: () => {},
      refresh: (except) => {
        const x = this.value(name) ?? 1;
        ed.shown = x;
        if (typeof x !== "number") return;
        if (except !== field && parseNumber(field.value) !== x) field.value = numText(x);
        if (except !== slider) {
          setRange(x);
          slider.value = String(x);
        }
      },
    };
    ed.refresh();
    return ed;
  }

  private tensorEditor(name: string, el: HTMLElement, shape: number[]): Editor {
    const cells: { input: HTMLInputElement; path: number[] }[] = [];
    let text: HTMLTextAreaElement | null = null;
    let slider: HTMLInputElement | null = null;
    let sliderLabel: HTMLElement | null = null;
    let active: number[] = shape.map(() => 0); // the entry the slider drags
    const entry = (t: Tensor, path: number[]): number => {
      let cur: Tensor = t;
      for (const i of path) cur = Array.isArray(cur) ? cur[i] : cur;
      return typeof cur === "number" ? cur : 0;
    };
    if (shape.length <= 2) {
      const grid = htmlEl("div", { class: "grid-editor" }, el);
      const rows = shape.length === 1 ? 1 : shape[0];
      const cols = shape[shape.length - 1];
      // Wide enough for a number such as −0.45 (4 significant digits fit), at the least.
      grid.style.gridTemplateColumns = `repeat(${cols}, minmax(3.9em, 1fr))`;
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const path = shape.length === 1 ? [j] : [i, j];
          const input = htmlEl("input", {
            type: "text", inputmode: "decimal", class: "grid-cell",
            "data-testid": `value-${name}-${path.join("-")}`, "aria-label": `${name}[${path.join(",")}]`,
          }, grid);
          input.addEventListener("focus", () => {
            active = path;
            ed.refresh(input);
            for (const c of cells) c.input.classList.toggle("active", c.input === input);
          });
          input.addEventListener("input", () => {
            const x = parseNumber(input.value);
            input.classList.toggle("invalid", x === null);
            if (x !== null) this.changed(name, setAt(this.value(name) ?? 0, path, x), input);
          });
          cells.push({ input, path });
        }
      }
      cells[0]?.input.classList.add("active");
      // One slider drags the entry last focused in the grid.
      const row = htmlEl("div", { class: "scalar-row" }, el);
      sliderLabel = htmlEl("span", { class: "slider-cell" }, row);
      const sl = htmlEl("input", { type: "range", class: "value-slider", "data-testid": `slider-${name}`, "aria-label": `slider for the selected entry of ${name}` }, row);
      slider = sl;
      sl.addEventListener("input", () => this.changed(name, setAt(this.value(name) ?? 0, active, Number(sl.value)), sl));
    } else {
      text = htmlEl("textarea", { class: "tensor-json", rows: "3", "data-testid": `value-${name}-json`, "aria-label": `${name} as nested lists` }, el);
      const ta = text;
      ta.addEventListener("input", () => {
        try {
          const v: unknown = JSON.parse(ta.value);
          const ok = JSON.stringify(shapeOf(v as Tensor)) === JSON.stringify(shape);
          ta.classList.toggle("invalid", !ok);
          if (ok) this.changed(name, v as Tensor, ta);
        } catch {
          ta.classList.add("invalid");
        }
      });
    }
    const ed: Editor = {
      el,
      shapeKey: shape.join("x"),
      mark: () => {},
      refresh: (except) => {
        const t = this.value(name);
        if (t === undefined) return;
        ed.shown = t;
        for (const c of cells) {
          if (c.input === except) continue;
          let cur: Tensor = t;
          for (const i of c.path) cur = Array.isArray(cur) ? cur[i] : cur;
          if (typeof cur === "number" && parseNumber(c.input.value) !== cur) c.input.value = numText(cur);
        }
        if (text && text !== except) text.value = JSON.stringify(t);
        if (slider && sliderLabel) {
          const x = entry(t, active);
          sliderLabel.textContent = `[${active.join(",")}]`;
          if (slider !== except) {
            const r = this.range(name, x);
            slider.min = String(r.min);
            slider.max = String(r.max);
            slider.step = String(r.step);
            slider.value = String(x);
          }
        }
      },
    };
    ed.refresh();
    return ed;
  }
}
