// The request flow: what the store (store.ts) asks for in (the expression, values, seed, mode,
// the extra parts and the gates opened); a reading, a trace and its layout out. One request
// at a time, the newest state sent as soon as the previous answer is in (so a dragged slider
// never queues stale work); layouts fetched only when the structure changes, and cached.
//
// The inputs are the server's reading of the text (POST /api/read), never guessed here: pasted
// LaTeX has words (`frac`, `left`) that are no inputs, and a value sent for a name changes the
// reading (a name given a value is never split into a product: `wx` would stop being w·x). So
// the reading is asked for with the values the person gave only, and then: an input the text
// gives a value (`X = np.array(...)`) uses it unless the person gave one. Any other input is the
// server's to fill: it infers the shape the ops need and draws the numbers with generator `rng`
// (the store's, kept in the URL), so those values are never written into the store nor sent
// back as if typed.

import {
  ApiError, encodeTensor, fetchLayout, fetchRead, fetchTrace, valueOf, valuesOf,
  type ForwardRequest, type Layout, type ReadAnswer, type Reading, type Tensor, type Trace, type Values,
} from "./api";
import { shapeOf } from "./format";
import { fallbackLayout } from "./layout-fallback";
import type { Store } from "./store";

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
  /** fetchRead, with the random draw last. */
  read: (expr: string, values: Values, signal?: AbortSignal, rng?: number, seed?: Tensor | null) => Promise<ReadAnswer>;
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

  /** The store's values of the next reading are kept as they are, even for names whose value the
   * text gives (a preset's values, a link's). */
  keepValues(): void {
    this.textSeen = null;
  }

  /**
   * The text gave a name a value it did not give it at the last reading (a paste, an edited value
   * line): the text is the newest word, so the store's value for it goes (a value typed for an
   * earlier expression). Returns whether the store changed.
   */
  private takeTextValues(reading: Reading): boolean {
    const now = new Map([...textValues(reading)].map(([n, v]) => [n, valueKey(v)]));
    const seen = this.textSeen;
    this.textSeen = now;
    const values = this.store.state.values;
    if (seen === null) return false;
    const drop = [...now].filter(([n, v]) => Object.hasOwn(values, n) && seen.get(n) !== v).map(([n]) => n);
    if (!drop.length) return false;
    this.store.update({ values: valuesOf(Object.entries(values).filter(([n]) => !drop.includes(n))) });
    return true;
  }

  /** The reading of `expr` (asked for once per expression and given names and shapes). Throws
   * the server's ApiError for a text it cannot read. */
  private async readingOf(expr: string): Promise<Reading> {
    // Twice at most: the store's values change only when the text gives new ones, and a
    // reading asked again with the values that are left gives the same text values.
    for (let attempt = 1; ; attempt++) {
      const given = this.store.state.values;
      const { rng, seed } = this.store.state;
      // The output gradient's shape is the output's: the shapes inferred follow it.
      const key = `${expr}\u0000${shapesKey(given, rng)}\u0000${seed === null ? "" : JSON.stringify(shapeOf(seed))}`;
      if (key === this.readKey && this.reading) return this.reading;
      let reading: Reading;
      try {
        reading = (await this.api.read(expr, given, undefined, rng, seed)).reading;
      } catch (err) {
        this.reading = null;
        this.readKey = null;
        throw err;
      }
      this.reading = reading;
      this.readKey = key;
      if (!this.takeTextValues(reading) || attempt === 3) {
        if (!this.dirty) this.onReading(reading, expr);
        return reading;
      }
    }
  }

  /** The values to trace `reading`'s inputs with: the person's, else none (the text's value or
   * the server's draw is the server's to use). */
  private valuesOf(reading: Reading): Values {
    const out = valuesOf();
    for (const input of reading.inputs) {
      const mine = valueOf(this.store.state.values, input.name);
      if (mine !== undefined) out[input.name] = mine;
    }
    return out;
  }

  /** The expression's inputs, but for those that hold labels (forward mode cannot go along them). */
  private differentiable(reading: Reading): string[] {
    return reading.inputs.filter((i) => !i.labels).map((i) => i.name);
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
    let reading: Reading;
    try {
      reading = await this.readingOf(expr);
    } catch (err) {
      if (!this.dirty) {
        this.onReading(null, expr);
        this.onError(err instanceof ApiError ? err : new ApiError("network", `no answer from the server: ${String(err)}`, 0, 0, 0));
      }
      return;
    }
    const values = this.valuesOf(reading);
    const forward = mode === "forward" ? { wrt: forwardWrt(wantWrt, this.differentiable(reading)), tangent } : null;
    let trace: Trace | null = null;
    // Twice at most: the second time without a typed output gradient that does not fit.
    for (let attempt = 0; attempt < 2 && trace === null; attempt++) {
      try {
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
        // A newer state is waiting: its answer will say what is wrong, if anything still is.
        if (!this.dirty) this.onError(err);
        return;
      }
    }
    if (trace === null) return;
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
