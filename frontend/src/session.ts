// The request flow: an expression, values and a seed in; a trace and its layout out. One request
// at a time, the newest state sent as soon as the previous answer is in (so a dragged slider
// never queues stale work); layouts fetched only when the structure changes, and cached;
// unknown names get a default value and an editor.

import { ApiError, fetchLayout, fetchTrace, type Layout, type Mode, type Tensor, type Trace, type Values } from "./api";
import { inputNames } from "./expr-syntax";
import { fallbackLayout } from "./layout-fallback";
import { DEFAULT_SCALAR, unknownName, valuesFor } from "./values-model";

export interface SessionResult {
  trace: Trace;
  layout: Layout;
  structureChanged: boolean;
  /** The layout came from the browser's fallback (the server could not lay it out). */
  fallback: boolean;
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

/** The check's own cost limit (the trace itself would be fine without the check). */
export function isCheckLimit(err: ApiError): boolean {
  return err.type === "limit" && err.message.includes("gradient check");
}

/** Why the Hessian cannot be given here (a non-scalar output, too many input numbers). */
export function isHessianProblem(err: ApiError): boolean {
  return err.message.startsWith("the Hessian");
}

export class Session {
  expr = "";
  seed: Tensor | null = null;
  /** Reverse (the default) or forward mode; in forward mode the input to differentiate by (null:
   * the first input) and its direction (null: ones). */
  mode: Mode = "reverse";
  wrt: string | null = null;
  tangent: Tensor | null = null;
  /** Ask for the numeric gradient check with every trace. */
  check = false;
  /** Why the last check could not run (its cost limit), while the trace itself is shown. */
  checkError: string | null = null;
  /** Ask for the Hessian with every trace. */
  hessian = false;
  /** Why the last Hessian could not be given, while the trace itself is shown. */
  hessianError: string | null = null;
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

  constructor(
    readonly store: Map<string, Tensor>,
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

  private values(expr: string): Values {
    const names = inputNames(expr);
    for (const n of names) if (!this.store.has(n)) this.store.set(n, DEFAULT_SCALAR);
    return valuesFor(names, this.store);
  }

  private async run(): Promise<void> {
    const expr = this.expr;
    const seed = this.seed;
    const mode = this.mode;
    const wantWrt = this.wrt;
    const tangent = this.tangent;
    let check = this.check;
    this.checkError = null;
    let hessian = this.hessian;
    this.hessianError = null;
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
          mode === "forward" ? { wrt: forwardWrt(wantWrt, inputNames(expr)), tangent } : null;
        trace = await this.api.trace(expr, values, seed, undefined, forward, check, hessian);
      } catch (err) {
        if (!(err instanceof ApiError)) {
          if (!this.dirty) this.onError(new ApiError("network", `no answer from the server: ${String(err)}`, 0, 0, 0));
          return;
        }
        if (check && isCheckLimit(err)) {
          // The check alone is too costly here: show the trace without it, and say why.
          this.checkError = err.message;
          check = false;
          continue;
        }
        if (hessian && isHessianProblem(err)) {
          this.hessianError = err.message;
          hessian = false;
          continue;
        }
        const name = unknownName(expr, err);
        if (name !== null && !(name in values)) {
          if (!this.store.has(name)) this.store.set(name, DEFAULT_SCALAR);
          values = { ...values, [name]: this.store.get(name) ?? DEFAULT_SCALAR };
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
        entry = { layout: await this.api.layout(expr, values), fallback: false };
      } catch {
        entry = { layout: fallbackLayout(trace), fallback: true };
      }
      this.layouts.set(trace.structure, entry);
    }
    this.trace = trace;
    this.structure = trace.structure;
    this.layout = entry.layout;
    this.onResult({ trace, layout: entry.layout, structureChanged, fallback: entry.fallback });
  }
}
