// The view's one state: what is traced (expression, values, seed, mode, the extra parts asked
// for, the gates opened), where the view is (the step) and how it looks and plays (theme, hidden parts, speed,
// autoplay). Modules read it and write to it; they keep no copies. The URL is derived from it
// (`urlState`, written by `followUrl`), never assembled from anything else.

import { encodeNumber, valueOf, valuesOf, type Mode, type Tensor, type Values } from "./api";
import { sortGates } from "./gates";
import { isTheme, type Theme } from "./theme";
import { encodeQuery, type Direction, type UrlState } from "./url-state";

export const DEFAULT_EXPR = "(x + y) * z";
export const DEFAULT_VALUES: Values = { x: -2, y: 5, z: -4 };

export interface ViewState {
  expr: string;
  /** Every value given, by name; kept when its name leaves the expression, so it comes back. */
  values: Values;
  /** The inputs of the trace on show, in order: the URL carries their values only. */
  inputs: string[];
  /** The output gradient (a preset's); null: ones. */
  seed: Tensor | null;
  /** Where the view is, as the URL writes it (f<k>, b<k>; from a URL also start, end, backward,
   * an index); undefined while there is no trace. */
  step: string | undefined;
  theme: Theme;
  /** Parts of the page the URL hid (header, side, explain, controls, output). */
  hide: string[];
  autoplay: boolean;
  /** Play speed as a multiple of the normal one; undefined: normal, and never chosen. */
  speed: number | undefined;
  mode: Mode;
  /** Forward mode's input (null: the first) and its direction (null: ones). */
  wrt: string | null;
  tangent: Tensor | null;
  /** Ask for the numeric gradient check, the Hessian, with every trace. */
  check: boolean;
  hessian: boolean;
  /** The gates opened into their parts, by id (gates.ts), in the server's order. */
  expand: string[];
  /** The random draw of the values neither typed nor in the text (the server draws them). */
  rng: number;
  /** The graph's direction as chosen with the toggle; null: the one that fits the stage. */
  dir: Direction | null;
}

export type Listener = (next: Readonly<ViewState>, prev: Readonly<ViewState>, changed: ReadonlySet<keyof ViewState>) => void;

/** The state a URL asks for (what it leaves out: the defaults; the theme: `otherTheme` if the URL
 * names none). */
export function stateFromUrl(url: UrlState, otherTheme: Theme): ViewState {
  return {
    expr: url.expr ?? DEFAULT_EXPR,
    values: url.values ?? (url.expr === undefined ? { ...DEFAULT_VALUES } : {}),
    inputs: [],
    seed: url.seed ?? null,
    step: url.step,
    theme: isTheme(url.theme) ? url.theme : otherTheme,
    hide: url.hide ?? [],
    autoplay: url.autoplay === true,
    speed: url.speed,
    mode: url.mode === "forward" ? "forward" : "reverse",
    wrt: url.wrt ?? null,
    tangent: url.tangent ?? null,
    check: url.check === true,
    hessian: url.hessian === true,
    expand: sortGates(url.expand ?? []),
    rng: url.rng ?? 0,
    dir: url.dir ?? null,
  };
}

/** The state in the URL form the server also reads (/embed, /api/picture, /api/code). */
export function urlState(s: Readonly<ViewState>): UrlState {
  const values = valuesOf();
  for (const name of s.inputs) {
    const v = valueOf(s.values, name);
    if (v !== undefined) values[name] = v;
  }
  const forward = s.mode === "forward";
  return {
    expr: s.expr,
    values,
    seed: s.seed,
    step: s.step,
    theme: s.theme,
    hide: s.hide.length ? s.hide : undefined,
    autoplay: s.autoplay || undefined,
    speed: s.speed,
    mode: forward ? "forward" : undefined,
    wrt: forward ? s.wrt ?? undefined : undefined,
    tangent: forward ? s.tangent : undefined,
    check: s.check || undefined,
    hessian: s.hessian || undefined,
    expand: s.expand.length ? s.expand : undefined,
    rng: s.rng || undefined,
    dir: s.dir ?? undefined,
  };
}

/** The query of the view (without '?'). */
export function queryOf(s: Readonly<ViewState>): string {
  return encodeQuery(urlState(s));
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  // Non-finite numbers by the API's spellings (JSON.stringify would write all three as null).
  const text = (x: unknown): string =>
    JSON.stringify(x, (_k, v: unknown) => (typeof v === "number" ? encodeNumber(v) : v));
  return text(a) === text(b);
}

export class Store {
  private current: ViewState;
  private readonly listeners = new Set<Listener>();

  constructor(initial: ViewState) {
    this.current = initial;
  }

  get state(): Readonly<ViewState> {
    return this.current;
  }

  /** Change some fields; the listeners hear about it once, if anything changed. */
  update(patch: Partial<ViewState>): void {
    const prev = this.current;
    const changed = new Set<keyof ViewState>();
    for (const key of Object.keys(patch) as (keyof ViewState)[]) {
      if (!same(prev[key], patch[key])) changed.add(key);
    }
    if (changed.size === 0) return;
    this.current = { ...prev, ...patch };
    for (const fn of [...this.listeners]) fn(this.current, prev, changed);
  }

  /** One input's value. */
  setValue(name: string, value: Tensor): void {
    this.update({ values: valuesOf([...Object.entries(this.current.values), [name, value]]) });
  }

  /** Hear every change; returns the way to stop. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** Changes that come in bursts (stepping, a dragged slider, typing): the URL follows them after
 * a pause. Any other change (theme, mode, speed...) is written at once, so that a reload right
 * after it keeps it. */
const BURSTY: ReadonlySet<keyof ViewState> = new Set(["step", "values", "inputs", "expr", "seed"]);

export interface Timers {
  set(fn: () => void, ms: number): number;
  clear(id: number): void;
}

const windowTimers: Timers = {
  set: (fn, ms) => window.setTimeout(fn, ms),
  clear: (id) => window.clearTimeout(id),
};

/** Write the URL (`write` gets the query) from the store after every change. */
export function followUrl(store: Store, write: (query: string) => void, delay = 300, timers: Timers = windowTimers): { flush(): void } {
  let timer: number | null = null;
  const flush = (): void => {
    if (timer !== null) timers.clear(timer);
    timer = null;
    write(queryOf(store.state));
  };
  store.subscribe((_next, _prev, changed) => {
    if ([...changed].every((k) => BURSTY.has(k))) {
      if (timer !== null) timers.clear(timer);
      timer = timers.set(flush, delay);
    } else flush();
  });
  return { flush };
}
