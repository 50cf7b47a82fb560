// The view's state in the URL query, the same form the server reads for /embed and the picture
// URLs (backend/gradtrace/state.py):
//   ?expr=(x%2By)*z&x=-2&y=5&z=-4&step=b3&theme=projector
// The parameters are listed, each with its description, in backend/gradtrace/data/url_params.json.
// One parameter per input (its value as JSON); `v.<name>` for an input whose name is reserved;
// `seed` (JSON), `step` (f<k>, b<k>, start, end, backward), `theme`, `hide` (comma-separated
// parts of the page), `autoplay`, `speed` (a multiple of the normal play speed), `mode`
// (`forward`; reverse, the default, is not written), `wrt` (forward mode's input) and `tangent`
// (its direction, JSON; default ones), `check` (`1`: show the numeric gradient check; off, the
// default, is not written), `hessian` (`1`: show the Hessian; likewise), `expand` (the gates
// opened into their parts, comma-separated ids: `expand=g3,g3.2`; none, the default, is not
// written; see gates.ts).

import urlParams from "../../backend/gradtrace/data/url_params.json";
import { valuesOf, type Mode, type Tensor, type Values } from "./api";
import { parseExpand } from "./gates";

/** The view's parameters (not input values): the one list, backend/gradtrace/data/url_params.json. */
export const RESERVED: ReadonlySet<string> = new Set(urlParams.params.map((p) => p.name));
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type Direction = "down" | "right";

export interface UrlState {
  expr?: string;
  values?: Values;
  seed?: Tensor | null;
  /** f<k>, b<k>, start, end, backward, or a step index. */
  step?: string;
  theme?: string;
  hide?: string[];
  autoplay?: boolean;
  speed?: number;
  /** Reverse (the default) or forward mode; in forward mode, the input differentiated by. */
  mode?: Mode;
  wrt?: string;
  tangent?: Tensor | null;
  /** Show the numeric gradient check beside the gradients. */
  check?: boolean;
  /** Show the Hessian of a scalar output. */
  hessian?: boolean;
  /** The gates opened into their parts (ids: g3, g3.2). */
  expand?: string[];
  /** The random draw of the values neither typed nor in the text (a whole number; 0 if absent). */
  rng?: number;
  /** The graph's direction: down (top to bottom) or right (left to right); absent: fit the screen. */
  dir?: Direction;
  /** What in the URL could not be read (a malformed value, an unknown step), as messages. */
  errors?: string[];
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === "number" ? Number.isFinite(x) : Array.isArray(x) && x.length > 0 && x.every(isTensor);
}

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Parse a query (with or without '?'); anything malformed is left out, never thrown. */
export function decodeQuery(search: string): UrlState {
  const p = new URLSearchParams(search.replace(/^[?#]/, ""));
  const out: UrlState = {};
  const values = valuesOf();
  const errors: string[] = [];
  for (const [key, text] of p) {
    const escaped = key.startsWith("v.") && NAME.test(key.slice(2));
    if (escaped || (!RESERVED.has(key) && NAME.test(key))) {
      const name = escaped ? key.slice(2) : key;
      const v = json(text);
      if (!isTensor(v)) errors.push(`the value of '${name}' in the URL is not a number or a rectangular JSON list: '${text.slice(0, 40)}'`);
      else if (escaped || !Object.hasOwn(values, name)) values[name] = v;
    }
  }
  if (Object.keys(values).length) out.values = values;
  const expr = p.get("expr");
  if (expr !== null) out.expr = expr;
  const seed = p.get("seed");
  if (seed !== null) {
    const v = json(seed);
    if (isTensor(v)) out.seed = v;
    else errors.push(`the output gradient 'seed' in the URL is not a number or a JSON list: '${seed.slice(0, 40)}'`);
  }
  const step = p.get("step");
  if (step !== null && /^(f\d+|b\d+|start|end|backward|\d+)$/.test(normalStep(step))) out.step = step;
  else if (step !== null) errors.push(unknownStep(step.slice(0, 40)));
  const theme = p.get("theme");
  if (theme !== null) out.theme = theme;
  const hide = p.get("hide");
  if (hide !== null) out.hide = hide.split(",").map((s) => s.trim()).filter(Boolean);
  const autoplay = p.get("autoplay");
  if (autoplay !== null) out.autoplay = !["0", "false", "no"].includes(autoplay.toLowerCase());
  const speed = Number(p.get("speed"));
  if (p.get("speed") !== null && Number.isFinite(speed) && speed > 0) out.speed = speed;
  const mode = p.get("mode");
  if (mode === "forward" || mode === "reverse") out.mode = mode;
  else if (mode !== null) errors.push(`unknown mode '${mode.slice(0, 40)}': use forward or reverse`);
  const wrt = p.get("wrt");
  if (wrt !== null && NAME.test(wrt)) out.wrt = wrt;
  else if (wrt !== null) errors.push(`'wrt' in the URL is not an input name: '${wrt.slice(0, 40)}'`);
  const tangent = p.get("tangent");
  if (tangent !== null) {
    const v = json(tangent);
    if (isTensor(v)) out.tangent = v;
    else errors.push(`the direction 'tangent' in the URL is not a number or a JSON list: '${tangent.slice(0, 40)}'`);
  }
  const check = p.get("check");
  if (check !== null) out.check = !["0", "false", "no"].includes(check.toLowerCase());
  const hessian = p.get("hessian");
  if (hessian !== null) out.hessian = !["0", "false", "no"].includes(hessian.toLowerCase());
  // Gates the expression may not have (any more) are the server's to warn about.
  const expand = parseExpand(p.getAll("expand").join(","));
  if (expand.length) out.expand = expand;
  const rng = p.get("rng");
  if (rng !== null && /^\d{1,9}$/.test(rng.trim())) out.rng = Number(rng.trim());
  else if (rng !== null) errors.push(`'rng' in the URL is not a whole number: '${rng.slice(0, 40)}'`);
  const dir = p.get("dir");
  if (dir === "down" || dir === "right") out.dir = dir;
  else if (dir !== null) errors.push(`unknown direction '${dir.slice(0, 40)}': use down or right`);
  if (errors.length) out.errors = errors;
  return out;
}

export function encodeQuery(s: UrlState): string {
  const p = new URLSearchParams();
  if (s.expr !== undefined) p.set("expr", s.expr);
  for (const [name, v] of Object.entries(s.values ?? {})) {
    p.set(RESERVED.has(name) ? `v.${name}` : name, JSON.stringify(v));
  }
  if (s.seed !== undefined && s.seed !== null) p.set("seed", JSON.stringify(s.seed));
  if (s.step !== undefined) p.set("step", s.step);
  if (s.mode === "forward") {
    p.set("mode", "forward");
    if (s.wrt !== undefined) p.set("wrt", s.wrt);
    if (s.tangent !== undefined && s.tangent !== null) p.set("tangent", JSON.stringify(s.tangent));
  }
  if (s.check) p.set("check", "1");
  if (s.hessian) p.set("hessian", "1");
  if (s.expand?.length) p.set("expand", s.expand.join(","));
  if (s.rng) p.set("rng", String(s.rng));
  if (s.dir !== undefined) p.set("dir", s.dir);
  if (s.theme !== undefined) p.set("theme", s.theme);
  if (s.hide?.length) p.set("hide", s.hide.join(","));
  if (s.autoplay) p.set("autoplay", "1");
  if (s.speed !== undefined) p.set("speed", String(s.speed));
  return p.toString();
}

/** The server's words for a step spec it cannot read. */
function unknownStep(spec: string): string {
  return `unknown step '${spec}': use f<k> (forward step k), b<k> (backward step k), start or end`;
}

/** A step spec as the server reads it (backend/gradtrace/render.py step_index): trimmed, any case. */
function normalStep(spec: string): string {
  return spec.trim().toLowerCase();
}

/** The step index as the URL writes it: f<k> or b<k>, counting from 1 within the pass. */
export function stepSpec(index: number, forwardSteps: number): string {
  return index < forwardSteps ? `f${index + 1}` : `b${index - forwardSteps + 1}`;
}

/** A step spec to an index (clamped into range), or null if it names no step. */
export function stepIndex(spec: string, forwardSteps: number, backwardSteps: number): number | null {
  spec = normalStep(spec);
  const total = forwardSteps + backwardSteps;
  if (total === 0) return null;
  const clamp = (i: number): number => Math.max(0, Math.min(total - 1, i));
  if (spec === "start") return 0;
  if (spec === "end") return total - 1;
  if (spec === "backward") return clamp(forwardSteps);
  const m = /^([fb]?)(\d+)$/.exec(spec);
  if (!m) return null;
  const k = Number(m[2]);
  if (m[1] === "f") return clamp(k - 1);
  if (m[1] === "b") return clamp(forwardSteps + k - 1);
  return clamp(k);
}

/** Why a step spec names no step of this trace (as the server says it), or null if it does. */
export function stepProblem(spec: string, forwardSteps: number, backwardSteps: number): string | null {
  const given = spec;
  spec = normalStep(spec);
  const m = /^([fb])(\d+)$/.exec(spec);
  if (m) {
    const k = Number(m[2]);
    const forward = m[1] === "f";
    const limit = forward ? forwardSteps : backwardSteps;
    if (!forward && limit === 0) {
      return `there is no backward step ${k}: forward mode has forward steps only (f1 to f${forwardSteps})`;
    }
    if (k < 1 || k > limit) {
      const what = forward ? "forward" : "backward";
      return `there is no ${what} step ${k}: this expression has ${limit} ${what} steps (${m[1]}1 to ${m[1]}${limit})`;
    }
    return null;
  }
  if (/^\d+$/.test(spec) && Number(spec) >= forwardSteps + backwardSteps) {
    return `there is no step ${spec}: this expression has ${forwardSteps + backwardSteps} steps (0 to ${forwardSteps + backwardSteps - 1})`;
  }
  return stepIndex(spec, forwardSteps, backwardSteps) === null ? unknownStep(given) : null;
}
