// Step controls: first / previous / play / next / last, speed, a scrubber over the forward then
// backward steps, and the keys Left/Right, Space, Home/End (not while typing in a field; Escape
// leaves a field, and the keys step again). Each control keeps its place and size at every step
// (the label is as wide as its longest text, the play button as wide as "pause"): a button
// pressed again and again stays under the pointer.

import { htmlEl, setText } from "./svg";

export interface StepSink {
  /** Go to a step index (clamped by the owner); returns the index now shown. */
  go(index: number): void;
}

const SPEEDS: [string, number][] = [
  ["0.5×", 1600],
  ["1×", 800],
  ["2×", 400],
  ["4×", 200],
];

export function isTypingTarget(el: EventTarget | null): boolean {
  if (typeof HTMLElement === "undefined" || !(el instanceof HTMLElement)) return false;
  if (el.isContentEditable) return true;
  if (el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  if (el instanceof HTMLInputElement) return !["button", "checkbox", "radio", "range", "submit"].includes(el.type);
  return false;
}

/** What a focused element is, as far as the step keys care: "scroll" is a focused panel that
 * scrolls sideways (a wide formula); "grid" a grid whose arrows move between its cells (a
 * tensor's heatmap). */
export type FocusKind = "typing" | "range" | "grid" | "button" | "scroll" | "other";

/** Keys a focused element of this kind handles itself (the step keys leave them alone). */
export function ownsKey(kind: FocusKind, key: string): boolean {
  if (kind === "typing") return true;
  // A slider (a value, the step scrubber) moves with the arrows and Home/End/PageUp/PageDown; a
  // grid's arrows and Home/End move between its cells.
  if (kind === "range" || kind === "grid") return /^(Arrow(Left|Right|Up|Down)|Home|End|Page(Up|Down))$/.test(key);
  // A focused button (or checkbox, link) is pressed with Space and Enter.
  if (kind === "button") return key === " " || key === "Enter";
  // A panel focused to scroll it scrolls with the arrows, Home/End and Page Up/Down.
  if (kind === "scroll") return /^(Arrow(Left|Right|Up|Down)|Home|End|Page(Up|Down))$/.test(key);
  return false;
}

/** Roles of elements that are typed in, slid, or moved in with the arrows (ARIA widgets). */
const TYPING_ROLES = new Set(["textbox", "searchbox", "combobox", "spinbutton"]);
const GRID_ROLES = new Set(["grid", "gridcell"]);

export function focusKind(el: EventTarget | null): FocusKind {
  if (typeof HTMLElement === "undefined" || !(el instanceof HTMLElement)) return "other";
  const role = el.getAttribute("role") ?? "";
  if (isTypingTarget(el) || TYPING_ROLES.has(role)) return "typing";
  if ((el instanceof HTMLInputElement && el.type === "range") || role === "slider") return "range";
  if (GRID_ROLES.has(role)) return "grid";
  if (el instanceof HTMLButtonElement || el instanceof HTMLAnchorElement || el.tagName === "SUMMARY") return "button";
  if (el instanceof HTMLInputElement) return "button"; // checkbox, radio, button, submit
  if (role === "button") return "button";
  if (el.tabIndex >= 0 && el.scrollWidth > el.clientWidth + 1) return "scroll";
  return "other";
}

/** Whether Escape leaves an element of this kind: a field (typed in, a slider, a grid of
 * numbers) gives the keys back to the steps. */
export function escapeLeaves(kind: FocusKind): boolean {
  return kind === "typing" || kind === "range" || kind === "grid";
}

/** After a choice in a <select> (theme, speed), give the keys back to the steps. */
export function blurAfterChange(sel: HTMLSelectElement): void {
  sel.addEventListener("change", () => sel.blur());
}

/** The characters of the longest step label ("backward 12/12") of a trace with `total` steps,
 * `forwardSteps` of them forward (steps.ts's stepLabel). */
export function stepWidthChars(total: number, forwardSteps: number): number {
  const backward = Math.max(0, total - forwardSteps);
  const f = forwardSteps > 0 ? `forward ${forwardSteps}/${forwardSteps}`.length : 0;
  const b = backward > 0 ? `backward ${backward}/${backward}`.length : 0;
  return Math.max(f, b, 1);
}

export class StepControls {
  readonly el: HTMLElement;
  private readonly label: HTMLElement;
  private readonly scrub: HTMLInputElement;
  private readonly playBtn: HTMLButtonElement;
  private readonly speed: HTMLSelectElement;
  private index = 0;
  private total = 0;
  private forwardSteps = 0;
  private timer: number | null = null;

  /** Called when the person picks a play speed. */
  onSpeedChange: () => void = () => {};

  constructor(parent: HTMLElement, private readonly sink: StepSink) {
    this.el = htmlEl("div", { class: "controls", role: "toolbar", "aria-label": "steps" }, parent);
    const btn = (testid: string, text: string, title: string, fn: () => void): HTMLButtonElement => {
      const b = htmlEl("button", { type: "button", "data-testid": testid, title, "aria-label": title }, this.el, text);
      b.addEventListener("click", fn);
      return b;
    };
    btn("step-first", "|◀", "first step (Home)", () => this.go(0));
    btn("step-prev", "◀", "previous step (Left)", () => this.go(this.index - 1));
    this.playBtn = btn("step-play", "▶ play", "play / pause (Space)", () => this.togglePlay());
    btn("step-next", "▶", "next step (Right)", () => this.go(this.index + 1));
    btn("step-last", "▶|", "last step (End)", () => this.go(this.total - 1));
    this.speed = htmlEl("select", { "data-testid": "step-speed", "aria-label": "speed", title: "play speed" }, this.el);
    for (const [name, ms] of SPEEDS) htmlEl("option", { value: String(ms) }, this.speed, name);
    this.speed.value = "800";
    blurAfterChange(this.speed);
    this.speed.addEventListener("change", () => this.onSpeedChange());
    this.scrub = htmlEl("input", { type: "range", min: "0", max: "0", step: "1", value: "0", "data-testid": "step-scrubber", "aria-label": "step" }, this.el);
    this.scrub.addEventListener("input", () => this.go(Number(this.scrub.value)));
    // Not a live region: the stage's narration says each step (two regions would say it twice).
    this.label = htmlEl("span", { class: "step-label", "data-testid": "step-label" }, this.el);
    document.addEventListener("keydown", (ev) => this.onKey(ev));
  }

  /** Play speed as a multiple of the normal speed (1 step per 800 ms). */
  setSpeed(multiple: number): void {
    const ms = 800 / multiple;
    const best = SPEEDS.reduce((a, b) => (Math.abs(b[1] - ms) < Math.abs(a[1] - ms) ? b : a));
    this.speed.value = String(best[1]);
  }

  /** The play speed as a multiple of the normal speed (the URL's `speed`). */
  speedMultiple(): number {
    return 800 / Number(this.speed.value);
  }

  /** Show where we are (called by the owner after every change). */
  show(index: number, total: number, forwardSteps: number, label: string): void {
    this.index = index;
    this.total = total;
    this.forwardSteps = forwardSteps;
    this.scrub.max = String(Math.max(0, total - 1));
    this.scrub.value = String(index);
    // Forward steps in green, backward in vermillion along the scrubber track.
    const f = total > 1 ? ((forwardSteps - 0.5) / (total - 1)) * 100 : 100;
    this.scrub.style.setProperty("--split", `${Math.max(0, Math.min(100, f))}%`);
    setText(this.label, label);
    // As wide as the longest label of this trace, so that nothing moves as the text changes.
    // (Half a character over: a bold glyph may be a hair wider than the "0" a ch is.)
    const chars = `${stepWidthChars(total, forwardSteps) + 0.5}ch`;
    if (this.label.style.minWidth !== chars) this.label.style.minWidth = chars;
    if (index >= total - 1) this.stop();
  }

  private go(i: number): void {
    this.sink.go(Math.max(0, Math.min(this.total - 1, i)));
  }

  togglePlay(): void {
    if (this.timer !== null) this.stop();
    else this.play();
  }

  play(): void {
    if (this.total === 0) return;
    if (this.index >= this.total - 1) this.go(0);
    this.playBtn.textContent = "⏸ pause";
    this.playBtn.classList.add("playing");
    const tick = (): void => {
      if (this.index >= this.total - 1) {
        this.stop();
        return;
      }
      this.go(this.index + 1);
      this.timer = window.setTimeout(tick, Number(this.speed.value));
    };
    this.timer = window.setTimeout(tick, Number(this.speed.value));
  }

  stop(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    this.playBtn.textContent = "▶ play";
    this.playBtn.classList.remove("playing");
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const kind = focusKind(ev.target);
    // Escape leaves a field (what was typed stays): the focus leaves it, and the next arrow key
    // steps again; Tab goes on from where the field is. A dialog that closes on Escape (the code
    // panel) keeps it: it stops the key before it reaches the page.
    if (ev.key === "Escape") {
      if (!ev.defaultPrevented && escapeLeaves(kind) && ev.target instanceof HTMLElement) {
        ev.preventDefault();
        ev.target.blur();
      }
      return;
    }
    if (ownsKey(kind, ev.key)) return;
    const map: Record<string, () => void> = {
      ArrowRight: () => this.go(this.index + 1),
      ArrowLeft: () => this.go(this.index - 1),
      // A presenter's clicker sends Page Down / Page Up (or the arrows).
      PageDown: () => this.go(this.index + 1),
      PageUp: () => this.go(this.index - 1),
      Home: () => this.go(0),
      End: () => this.go(this.total - 1),
      " ": () => this.togglePlay(),
      b: () => this.go(this.forwardSteps),
    };
    const fn = map[ev.key];
    if (!fn) return;
    ev.preventDefault();
    fn();
  }
}
