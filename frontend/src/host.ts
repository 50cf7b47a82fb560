// Host control: a page that frames gradtrace (a reveal.js deck, a course page) drives its steps
// with postMessage and hears where it is. Protocol (documented in README.md, "Embedding in
// slides"):
//
//   host -> gradtrace   {type: "gradtrace:step", step: "f2" | "b3" | "start" | "end" | "backward" | <index>}
//                       {type: "gradtrace:next"}   {type: "gradtrace:prev"}
//   gradtrace -> host   {type: "gradtrace:ready", step, index, total, phase, k, n, label, expr}
//                       {type: "gradtrace:stepped", step, index, total, phase, k, n, label}
//
// Messages are accepted from window.parent only, of any origin (the embed may be framed by any
// site), and only in exactly these shapes; anything else is ignored. Answers go to window.parent
// with targetOrigin "*": they carry nothing that is not in the frame's own URL.

import type { StepState } from "./steps";
import { stepIndex, stepSpec } from "./url-state";

export type HostCommand = { type: "gradtrace:step"; step: string | number } | { type: "gradtrace:next" } | { type: "gradtrace:prev" };

/** What a step change tells the host. */
/** Where the view is: the step model's own fields (steps.ts), as the host sees them. */
export type StepInfo = Pick<StepState, "index" | "total" | "phase" | "k" | "n" | "label">;

export interface SteppedMessage extends StepInfo {
  type: "gradtrace:stepped" | "gradtrace:ready";
  step: string;
  expr?: string;
}

const STEP_SPEC = /^(?:[fb][1-9]\d{0,6}|start|end|backward)$/;
const MAX_INDEX = 10_000_000;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The command in a message's data, or null for anything not exactly of the protocol's form. */
export function parseHostMessage(data: unknown): HostCommand | null {
  if (!isPlainObject(data)) return null;
  const keys = Object.keys(data);
  const type = data.type;
  if (type === "gradtrace:next" || type === "gradtrace:prev") {
    return keys.length === 1 ? { type } : null;
  }
  if (type !== "gradtrace:step" || keys.length !== 2 || !keys.includes("step")) return null;
  const step = data.step;
  if (typeof step === "string" && STEP_SPEC.test(step)) return { type, step };
  if (typeof step === "number" && Number.isInteger(step) && step >= 0 && step <= MAX_INDEX) return { type, step };
  return null;
}

/** The step index a command asks for, from the current index; null if there is no trace yet. */
export function commandIndex(cmd: HostCommand, current: number, forwardSteps: number, backwardSteps: number): number | null {
  const total = forwardSteps + backwardSteps;
  if (total <= 0) return null;
  const clamp = (i: number): number => Math.max(0, Math.min(total - 1, i));
  switch (cmd.type) {
    case "gradtrace:next":
      return clamp(current + 1);
    case "gradtrace:prev":
      return clamp(current - 1);
    case "gradtrace:step":
      return typeof cmd.step === "number" ? clamp(cmd.step) : stepIndex(cmd.step, forwardSteps, backwardSteps);
  }
}

export function steppedMessage(st: StepInfo, forwardSteps: number, type: SteppedMessage["type"] = "gradtrace:stepped"): SteppedMessage {
  return {
    type,
    step: stepSpec(st.index, forwardSteps),
    index: st.index,
    total: st.total,
    phase: st.phase,
    k: st.k,
    n: st.n,
    label: st.label,
  };
}

/** The link to the framing page: commands in, step events out. */
export class HostLink {
  private ready = false;
  private last = "";
  /** A command that came before the first trace: applied once it is drawn. */
  pending: HostCommand | null = null;

  constructor(
    private readonly win: Window,
    private readonly onCommand: (cmd: HostCommand) => void,
  ) {
    win.addEventListener("message", (ev: MessageEvent) => {
      if (!this.framed || ev.source !== win.parent) return;
      const cmd = parseHostMessage(ev.data);
      if (!cmd) return;
      if (!this.ready) this.pending = cmd;
      else this.onCommand(cmd);
    });
  }

  get framed(): boolean {
    return this.win.parent !== this.win;
  }

  private post(msg: SteppedMessage): void {
    if (!this.framed) return;
    try {
      this.win.parent.postMessage(msg, "*");
    } catch {
      /* the host went away */
    }
  }

  /** Tell the host where we are: "ready" the first time, then "stepped" after each change (or
   * always, `force`, when the host asked: it hears an answer even if the step stays put). */
  stepped(st: StepInfo, forwardSteps: number, expr: string, force = false): void {
    const msg = steppedMessage(st, forwardSteps);
    const key = `${msg.step}/${msg.total}/${expr}`;
    if (!this.ready) {
      this.ready = true;
      this.last = key;
      this.post({ ...msg, type: "gradtrace:ready", expr });
      return;
    }
    if (!force && key === this.last) return;
    this.last = key;
    this.post(msg);
  }

  /** The command that came early, once (main applies it after the first draw). */
  takePending(): HostCommand | null {
    const cmd = this.pending;
    this.pending = null;
    return cmd;
  }
}
