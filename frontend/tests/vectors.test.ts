// The shared test vectors (tests/vectors/*.json), checked here against the browser's number format
// and step model, and by tests/test_vectors.py against the Python copies (render.py): one set of
// facts for both.

import { describe, expect, it } from "vitest";
import type { Tensor, Trace } from "../src/api";
import { formatNumber, formatShort } from "../src/format";
import { stepState } from "../src/steps";
import { stepIndex, stepProblem } from "../src/url-state";
import formatVectors from "../../tests/vectors/format.json";
import stepVectors from "../../tests/vectors/steps.json";

/** A number as the API sends it: non-finite ones spelled out (api.ts decodes them so). */
const num = (x: number | string): number => (typeof x === "string" ? Number(x) : x);
type Json = number | string | null | Json[];
const tensor = (t: Json): Tensor | null => (t === null ? null : Array.isArray(t) ? (t.map(tensor) as Tensor[]) : num(t));
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe("the number format", () => {
  it.each(formatVectors.number.map((v) => [v.x, v.sig, v.text] as const))("formatNumber(%s, %s) is %s", (x, sig, text) => {
    expect(formatNumber(num(x), sig)).toBe(text);
  });
  it.each(formatVectors.short.map((v) => [JSON.stringify(v.t), v] as const))("formatShort(%s)", (_, v) => {
    expect(formatShort(tensor(v.t as Json), v.max_elements, v.sig)).toBe(v.text);
  });
  it("reads -0 from the file as -0", () => {
    expect(formatVectors.number.some((v) => Object.is(v.x, -0))).toBe(true);
  });
});

describe("the step model", () => {
  for (const c of stepVectors.records) {
    const trace = c.record as unknown as Trace;
    const F = c.record.forward.length;
    const B = c.record.backward.length;
    it(`${c.record.expr} (${c.record.mode}): step specs`, () => {
      for (const s of c.specs) {
        if ("error" in s) {
          expect(stepProblem(s.spec, F, B), s.spec).toBe(s.error);
          expect(stepIndex(s.spec, F, B), s.spec).toBe("clamped" in s ? s.clamped : null);
        } else {
          expect(stepProblem(s.spec, F, B), s.spec).toBeNull();
          expect(stepIndex(s.spec, F, B), s.spec).toBe(s.index);
        }
      }
    });
    it(`${c.record.expr} (${c.record.mode}): the state at every step`, () => {
      expect(c.states.length).toBe(F + B);
      for (const want of c.states) {
        const st = stepState(trace, want.index);
        expect({
          index: st.index, phase: st.phase, k: st.k, n: st.n, label: st.label, current: st.current,
          valued: sorted(st.valued), graded: sorted(st.graded), edge_grads: sorted(st.edgeGrads),
          arriving: sorted(st.arriving), sending: sorted(st.sending), tangented: sorted(st.tangented),
          edge_tangents: sorted(st.edgeTangents), feeding: sorted(st.feeding),
        }).toEqual(want);
      }
    });
  }
});
