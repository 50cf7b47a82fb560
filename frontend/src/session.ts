// The request flow: what the store (store.ts) asks for in (the expression, values, seed, mode,
// the extra parts and the gates opened); a trace and its layout out. One request
// at a time, the newest state sent as soon as the previous answer is in (so a dragged slider
// never queues stale work); layouts fetched only when the structure changes, and cached;
// unknown names get a default value, written into the store.

import { ApiError, fetchLayout, fetchTrace, valueOf, valuesOf, type Layout, type Tensor, type Trace, type Values } from "./api";
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
  trace: typeof fetchTrace;
  layout: typeof fetchLayout;
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

export class Session {
  // A check or Hessian that cannot be made (over its own limit, a vector output) comes inside the
  // record as `{error}`: the trace is shown all the same, and the panel says why.
  trace: Trace | null = null;
  layout: Layout | null = null;
  structure: string | null = null;
  private layouts = new Map<string, { layout: Layout; fallback: boolean }>();
  private busy = false;
  private dirty = false;
  onResult: (r: SessionResult) => void = () => {};
  onError: (e: ApiError) => void = () => {};
  /** The expression is empty: there is nothing to trace, and nothing is wrong. */
  onEmpty: () => void = () => {};

  /** What to trace is read from `store` (the view's state) at each request. */
  constructor(
    readonly store: Store,
    private readonly api: Api = { trace: fetchTrace, layout: fetchLayout },
  ) {}


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

  /** The values of the expression's names; a name with none gets the default, in the store. */
  private values(expr: string): Values {
    const names = inputNames(expr);
    const have = this.store.state.values;
    const missing = names.filter((n) => !Object.hasOwn(have, n));
    if (missing.length) {
      this.store.update({ values: valuesOf([...Object.entries(have), ...missing.map((n): [string, Tensor] => [n, DEFAULT_SCALAR])]) });
    }
    return valuesFor(names, new Map(Object.entries(this.store.state.values)));
  }

  /** The expression's inputs, but for those the last trace showed to hold labels (forward
   * mode cannot go along them). */
  private differentiable(expr: string): string[] {
    const labels = this.trace ? labelInputs(this.trace) : new Map<string, string>();
    return inputNames(expr).filter((n) => !labels.has(n));
  }

  private async run(): Promise<void> {
    const { expr, seed, mode, wrt: wantWrt, tangent, check, hessian, expand } = this.store.state;
    if (expr.trim() === "") {
      // Forget the last trace, so that what is typed next is drawn afresh.
      this.trace = null;
      this.layout = null;
      this.structure = null;
      this.onEmpty();
      return;
    }
    let values = this.values(expr);
    let trace: Trace | null = null;
    for (let attempt = 0; attempt < 8 && trace === null; attempt++) {
      try {
        const forward =
          mode === "forward" ? { wrt: forwardWrt(wantWrt, this.differentiable(expr)), tangent } : null;
        trace = await this.api.trace(expr, values, seed, undefined, forward, check, hessian, expand);
      } catch (err) {
        if (!(err instanceof ApiError)) {
          if (!this.dirty) this.onError(new ApiError("network", `no answer from the server: ${String(err)}`, 0, 0, 0));
          return;
        }
        const name = unknownName(expr, err);
        if (name !== null && !Object.hasOwn(values, name)) {
          if (!Object.hasOwn(this.store.state.values, name)) this.store.setValue(name, DEFAULT_SCALAR);
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
