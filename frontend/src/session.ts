// The request flow: what the store (store.ts) asks for in (the expression, values, seed, mode,
// the extra parts and the gates opened); a reading, a trace and its layout out. One request
// at a time, the newest state sent as soon as the previous answer is in (so a dragged slider
// never queues stale work); layouts fetched only when the structure changes, and cached.
//
// The inputs are the server's reading of the text (POST /api/read), never guessed here: pasted
// LaTeX has words (`frac`, `left`) that are no inputs, and a value sent for a name changes the
// reading (a name given a value is never split into a product: `wx` would stop being w·x). So
// the reading is asked for with the values the person gave only (not the defaults written here),
// and then: an input the text gives a value (`X = np.array(...)`) uses it unless the person gave
// one. Any other input is the server's to fill: it infers the shape the ops need and draws the
// numbers with generator `rng` (the store's, kept in the URL), so those values are never written
// into the store nor sent back as if typed. (A server from before that fills nothing: the default
// 1 is written into the store, as it always was.)

import {
  ApiError, decodeTensor, encodeTensor, fetchLayout, fetchRead, fetchTrace, valueOf, valuesOf,
  type ForwardRequest, type InputRead, type Layout, type ReadAnswer, type Reading, type Tensor, type Trace, type Values,
} from "./api";
import { shapeOf } from "./format";
import { inputNames } from "./expr-syntax";
import { labelInputs } from "./node-words";
import { fallbackLayout } from "./layout-fallback";
import type { Store } from "./store";
import { DEFAULT_SCALAR, unknownName, valuesFor } from "./values-model";

export interface SessionResult {
  trace: Trace;
  layout: Layout;
  structureChanged: boolean;
  /** The layout came from the browser's fallback (the server could not lay it out). */
  fallback: boolean;
  /** The gates the request asked to open (the trace's `open_gates` are those it opened). */
  expand: string[];
}

export interface Api {
  /** fetchTrace, with the random draw last (`rng`). */
  trace: (
    expr: string, values: Values, seed: Tensor | null, signal?: AbortSignal, forward?: ForwardRequest | null,
    check?: boolean, hessian?: boolean, expand?: readonly string[], rng?: number,
  ) => Promise<Trace>;
  layout: typeof fetchLayout;
  /** fetchRead, with the random draw last. Without it (or from a server without /api/read), the
   * inputs are the names the input box finds (expr-syntax.ts), as before readings. */
  read?: (expr: string, values: Values, signal?: AbortSignal, rng?: number, seed?: Tensor | null) => Promise<ReadAnswer>;
}

/** Where an input's value comes from, in the server's words: the request's values (typed here),
 * the text, or drawn with `rng` (or filled: 1 for a scalar, 0 for labels). */
export type InputSource = "request" | "text" | "drawn";

/** One input of a reading, with what the server gave it: its shape (its value's, else the one the
 * ops need) and the value drawn when nobody gives one. A server from before that fills nothing
 * sends none of the three. */
export type FilledInput = Omit<InputRead, "shape" | "source" | "drawn"> & { shape?: number[]; source?: InputSource; drawn?: Tensor | null };

/** The inputs of `reading`, with the drawn values decoded (a number of the API's spelling). */
export function filledInputs(reading: Reading | null): FilledInput[] {
  return (reading?.inputs ?? []).map((i: FilledInput) =>
    i.drawn === undefined || i.drawn === null ? i : { ...i, drawn: decodeTensor(i.drawn) },
  );
}

/** The session working for `store` (made with it): the values panel reads its reading and trace. */
const sessions = new WeakMap<Store, Session>();
export function sessionOf(store: Store): Session | undefined {
  return sessions.get(store);
}

/** The input forward mode differentiates by: the one asked for if the expression has it, else
 * the first input ("" if there is none: the server says what is wrong). */
export function forwardWrt(wanted: string | null, names: string[]): string {
  return wanted !== null && names.includes(wanted) ? wanted : names[0] ?? "";
}

/** A server from before forward mode refuses its request fields: say so in words. */
function olderServer(err: ApiError): ApiError {
  if (err.type !== "request" || !/\b(mode|wrt|tangent)\b/.test(err.message)) return err;
  return new ApiError("mode", `this server does not do forward mode yet (${err.message})`, 0, 0, err.status);
}

/** What of `values` the reading depends on: the names and the shapes (and the random draw of the
 * rest, which the reading's drawn values are). */
function shapesKey(values: Values, rng: number): string {
  return JSON.stringify([rng, Object.keys(values).sort().map((n) => [n, shapeOf(values[n])])]);
}

/** A value as text, to tell whether the text's value for a name changed. */
function valueKey(t: Tensor): string {
  return JSON.stringify(encodeTensor(t));
}

/** The values the text gives, by name. */
export function textValues(reading: Reading | null): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const i of reading?.inputs ?? []) if (i.value !== null) out.set(i.name, i.value);
  return out;
}

export class Session {
  // A check or Hessian that cannot be made (over its own limit, a vector output) comes inside the
  // record as `{error}`: the trace is shown all the same, and the panel says why.
  trace: Trace | null = null;
  layout: Layout | null = null;
  structure: string | null = null;
  /** The reading of the expression last read (null: none yet, or the text could not be read). */
  reading: Reading | null = null;
  /** What the reading was asked for with (expression, the given values' names and shapes). */
  private readKey: string | null = null;
  /** The server has no /api/read: the input box's names, as before readings. */
  private noRead = false;
  /** The defaults this session wrote into the store, by name: a value the person did not give,
   * so it is never sent to be read and never wins over the text's value. */
  private defaults = new Map<string, Tensor>();
  /** The text's values of the last reading, by name (as text); null: take the store's values as
   * they are at the next reading (the URL's, a preset's). */
  private textSeen: Map<string, string> | null = null;
  private layouts = new Map<string, { layout: Layout; fallback: boolean }>();
  private busy = false;
  private dirty = false;
  onResult: (r: SessionResult) => void = () => {};
  onError: (e: ApiError) => void = () => {};
  /** The expression is empty: there is nothing to trace, and nothing is wrong. */
  onEmpty: () => void = () => {};
  /** A new reading of `expr` (before its trace); null: the text could not be read (the error
   * follows by onError). */
  onReading: (r: Reading | null, expr: string) => void = () => {};

  /** What to trace is read from `store` (the view's state) at each request. */
  constructor(
    readonly store: Store,
    private readonly api: Api = { trace: fetchTrace, layout: fetchLayout, read: fetchRead },
  ) {
    sessions.set(store, this);
  }


  /** Ask for a new trace of the current state (coalesced: at most one request in flight). */
  refresh(): Promise<void> {
    if (this.busy) {
      this.dirty = true;
      return Promise.resolve();
    }
    this.busy = true;
    return this.run().finally(() => {
      this.busy = false;
      if (this.dirty) {
        this.dirty = false;
        void this.refresh();
      }
    });
  }

  /** The values the store holds for `name` that the person gave (not a default of ours). */
  private given(name: string): Tensor | undefined {
    const v = valueOf(this.store.state.values, name);
    if (v === undefined) return undefined;
    const d = this.defaults.get(name);
    return d !== undefined && d === v ? undefined : v;
  }

  /** The store's values the person gave (the defaults written here left out). */
  private givenValues(): Values {
    const out = valuesOf();
    for (const name of Object.keys(this.store.state.values)) {
      const v = this.given(name);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }

  /** Write defaults for `names` into the store, and remember they are ours. */
  private putDefaults(names: readonly string[]): void {
    if (!names.length) return;
    for (const n of names) this.defaults.set(n, DEFAULT_SCALAR);
    this.store.update({ values: valuesOf([...Object.entries(this.store.state.values), ...names.map((n): [string, Tensor] => [n, DEFAULT_SCALAR])]) });
  }

  /** The store's values of the next reading are kept as they are, even for names whose value the
   * text gives (a preset's values, a link's). */
  keepValues(): void {
    this.textSeen = null;
  }

  /**
   * The text gave a name a value it did not give it at the last reading (a paste, an edited value
   * line): the text is the newest word, so the store's value for it goes (a value typed for an
   * earlier expression, a default of ours). Returns whether the store changed.
   */
  private takeTextValues(reading: Reading): boolean {
    const now = new Map([...textValues(reading)].map(([n, v]) => [n, valueKey(v)]));
    const seen = this.textSeen;
    this.textSeen = now;
    const values = this.store.state.values;
    const drop = [...now]
      .filter(([n, v]) => Object.hasOwn(values, n) && (seen === null ? this.given(n) === undefined : seen.get(n) !== v))
      .map(([n]) => n);
    if (!drop.length) return false;
    for (const n of drop) this.defaults.delete(n);
    this.store.update({ values: valuesOf(Object.entries(values).filter(([n]) => !drop.includes(n))) });
    return true;
  }

  /** The reading of `expr` (asked for once per expression and given names and shapes), or null
   * from a server that does not read. Throws the server's ApiError for a text it cannot read. */
  private async readingOf(expr: string): Promise<Reading | null> {
    const read = this.api.read;
    if (!read || this.noRead) return null;
    // Twice at most: the store's values change only when the text gives new ones, and a
    // reading asked again with the values that are left gives the same text values.
    for (let attempt = 0; attempt < 3; attempt++) {
      const given = this.givenValues();
      const { rng, seed } = this.store.state;
      // The output gradient's shape is the output's: the shapes inferred follow it.
      const key = `${expr}\u0000${shapesKey(given, rng)}\u0000${seed === null ? "" : JSON.stringify(shapeOf(seed))}`;
      if (key === this.readKey && this.reading) return this.reading;
      let reading: Reading;
      try {
        reading = (await read(expr, given, undefined, rng, seed)).reading;
      } catch (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
          this.noRead = true;
          return null;
        }
        this.reading = null;
        this.readKey = null;
        throw err;
      }
      this.reading = reading;
      this.readKey = key;
      if (!this.takeTextValues(reading)) break;
    }
    if (!this.dirty) this.onReading(this.reading, expr);
    return this.reading;
  }

  /** The values to trace `reading`'s inputs with: the person's, else the text's (sent as nothing:
   * the server uses it), else the server's to draw (sent as nothing; from a server that fills
   * nothing, the default, written into the store). */
  private valuesOf(reading: Reading): Values {
    const out = valuesOf();
    const missing: string[] = [];
    for (const input of filledInputs(reading)) {
      const mine = input.value === null ? valueOf(this.store.state.values, input.name) : this.given(input.name);
      if (mine !== undefined) out[input.name] = mine;
      else if (input.value === null && input.source === undefined) missing.push(input.name);
    }
    this.putDefaults(missing);
    for (const n of missing) out[n] = DEFAULT_SCALAR;
    return out;
  }

  /** Without a reading: the names the input box finds, with defaults for those with no value. */
  private guessedValues(expr: string): Values {
    const names = inputNames(expr);
    this.putDefaults(names.filter((n) => !Object.hasOwn(this.store.state.values, n)));
    return valuesFor(names, new Map(Object.entries(this.store.state.values)));
  }

  /** The expression's inputs, but for those that hold labels (forward mode cannot go along them). */
  private differentiable(expr: string, reading: Reading | null): string[] {
    if (reading) return reading.inputs.filter((i) => !i.labels).map((i) => i.name);
    const labels = this.trace ? labelInputs(this.trace) : new Map<string, string>();
    return inputNames(expr).filter((n) => !labels.has(n));
  }

  private async run(): Promise<void> {
    const { expr, mode, wrt: wantWrt, tangent, check, hessian, expand, rng } = this.store.state;
    let seed = this.store.state.seed;
    if (expr.trim() === "") {
      // Forget the last trace, so that what is typed next is drawn afresh.
      this.trace = null;
      this.layout = null;
      this.structure = null;
      this.reading = null;
      this.readKey = null;
      this.onEmpty();
      return;
    }
    let reading: Reading | null;
    try {
      reading = await this.readingOf(expr);
    } catch (err) {
      if (!this.dirty) {
        this.onReading(null, expr);
        this.onError(err instanceof ApiError ? err : new ApiError("network", `no answer from the server: ${String(err)}`, 0, 0, 0));
      }
      return;
    }
    let values = reading ? this.valuesOf(reading) : this.guessedValues(expr);
    let trace: Trace | null = null;
    for (let attempt = 0; attempt < 8 && trace === null; attempt++) {
      try {
        const forward =
          mode === "forward" ? { wrt: forwardWrt(wantWrt, this.differentiable(expr, reading)), tangent } : null;
        trace = await this.api.trace(expr, values, seed, undefined, forward, check, hessian, expand, rng);
      } catch (err) {
        if (!(err instanceof ApiError)) {
          if (!this.dirty) this.onError(new ApiError("network", `no answer from the server: ${String(err)}`, 0, 0, 0));
          return;
        }
        // An output gradient typed for an output of another shape (the values changed its shape,
        // perhaps only while a value is being typed): ones (or the text's) take its place in
        // this trace, and the typed one stays in the store, to apply again once it fits.
        if (err.type === "seed" && seed !== null) {
          seed = null;
          continue;
        }
        const name = unknownName(expr, err);
        // A name the reading did not list (a server from before readings): the default, and again.
        if (name !== null && !Object.hasOwn(values, name) && !textValues(reading).has(name)) {
          this.putDefaults(Object.hasOwn(this.store.state.values, name) ? [] : [name]);
          values = valuesOf([...Object.entries(values), [name, valueOf(this.store.state.values, name) ?? DEFAULT_SCALAR]]);
          continue;
        }
        // A newer state is waiting: its answer will say what is wrong, if anything still is.
        if (!this.dirty) this.onError(mode === "forward" ? olderServer(err) : err);
        return;
      }
    }
    if (trace === null) return;
    if (mode === "forward" && trace.mode !== "forward") {
      // A server that answered in reverse mode all the same: never show it as forward mode.
      if (!this.dirty) this.onError(new ApiError("mode", "this server does not do forward mode yet", 0, 0, 0));
      return;
    }
    const structureChanged = this.structure !== trace.structure;
    let entry = this.layouts.get(trace.structure);
    if (!entry) {
      try {
        entry = { layout: await this.api.layout(expr, values, undefined, expand), fallback: false };
      } catch {
        entry = { layout: fallbackLayout(trace), fallback: true };
      }
      this.layouts.set(trace.structure, entry);
    }
    this.trace = trace;
    this.structure = trace.structure;
    this.layout = entry.layout;
    this.onResult({ trace, layout: entry.layout, structureChanged, fallback: entry.fallback, expand });
  }
}
