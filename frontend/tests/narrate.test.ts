// The step narration, a node's description and the view's text alternative (src/narrate.ts): the
// same words as the server's (backend/gradtrace/describe.py), character for character, for every
// fixture trace at every step (fixtures/words/narration.json, written afresh from the backend by
// `scripts/fixtures.py --words`, which scripts/test.sh runs first; not kept in git); and what the
// words must hold.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeNumber, decodeTrace, type Trace } from "../src/api";
import { describeNode, describeView, narrateStep, opPhrase, spokenNumber, wordList } from "../src/narrate";
import { stepState, totalSteps } from "../src/steps";
import { circuit, circuitForward, fanout, twoLayer } from "./helpers";
import words from "./fixtures/words/narration.json";

interface StepWords {
  index: number;
  full: string;
  brief: string;
  title: string;
  text: string;
  nodes: Record<string, { full: string; brief: string }>;
}

const said = words.traces as Record<string, StepWords[]>;

/** A fixture as the app gets it: the server's record, decoded as api.ts decodes it. */
function fixture(name: string): Trace {
  const json = readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8");
  return decodeTrace(JSON.parse(json) as Trace);
}

/** The numbers a text says, parsed back: "minus 4", "1.5 times 10 to the minus 5", ... */
function numbersOf(text: string): number[] {
  const re = /(?<![\w.\u2080-\u2089])(minus )?(\d+(?:\.\d+)?)(?: times 10 to the (minus )?(\d+))?(?![\w\u2080-\u2089])/g;
  const out: number[] = [];
  for (const m of text.matchAll(re)) {
    let x = Number(m[2]);
    if (m[4] !== undefined) x *= 10 ** (m[3] ? -Number(m[4]) : Number(m[4]));
    out.push(m[1] ? -x : x);
  }
  return out;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 6e-4 * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;

describe("the app says what the server says", () => {
  it("has every fixture's words", () => {
    expect(Object.keys(said).length).toBeGreaterThanOrEqual(13);
  });

  it.each(words.numbers.map((v) => [String(v.x), v] as const))("says the number %s as the server does", (_, v) => {
    expect(spokenNumber(decodeNumber(v.x))).toBe(v.said);
  });

  it.each(words.ops.map((v) => [`${v.op}(${v.args.join(", ")})`, v] as const))("says the op %s as the server does", (_, v) => {
    expect(opPhrase(v.op, v.args, v.scalar)).toBe(v.said);
  });

  describe.each(Object.keys(said))("fixture %s", (name) => {
    const trace = fixture(name);
    const steps = said[name];

    it("has a step for each of the server's", () => {
      expect(totalSteps(trace)).toBe(steps.length);
    });

    it.each(steps.map((s) => [s.index, s] as const))("step %i: narration, view and nodes", (i, s) => {
      const st = stepState(trace, i);
      expect(narrateStep(trace, st, "full")).toBe(s.full);
      expect(narrateStep(trace, st, "brief")).toBe(s.brief);
      expect(describeView(trace, st)).toEqual({ title: s.title, text: s.text });
      for (const [id, node] of Object.entries(s.nodes)) {
        expect(describeNode(trace, st, id, "full")).toBe(node.full);
        expect(describeNode(trace, st, id, "brief")).toBe(node.brief);
      }
    });
  });
});

describe("spokenNumber", () => {
  it("says the sign as minus, never a Unicode minus, with 4 significant digits", () => {
    expect(spokenNumber(-4)).toBe("minus 4");
    expect(spokenNumber(0.7310585786300049)).toBe("0.7311");
    expect(spokenNumber(-0)).toBe("0");
    expect(spokenNumber(1.5e-5)).toBe("1.5 times 10 to the minus 5");
    expect(spokenNumber(-2e21)).toBe("minus 2 times 10 to the 21");
    expect(spokenNumber(-Infinity)).toBe("minus infinity");
    expect(spokenNumber(NaN)).toBe("not a number");
  });
  it("is parsed back to the number, to the digits it says", () => {
    for (const x of [-4, 0.25, 1 / 3, -123456.7, 1.5e-5, -2.5e-7, 6.02e23, 1e-300, 99999.5]) {
      const [back] = numbersOf(spokenNumber(x));
      expect(close(back, x), `${x} said ${spokenNumber(x)}`).toBe(true);
    }
  });
});

describe("wordList and opPhrase", () => {
  it("lists as a sentence does", () => {
    expect(wordList([])).toBe("");
    expect(wordList(["a"])).toBe("a");
    expect(wordList(["a", "b", "c"])).toBe("a, b and c");
  });
  it("reads operators as words and calls functions by name", () => {
    expect(opPhrase("add", ["x", "y"])).toBe("x plus y");
    expect(opPhrase("pow", ["x", "2"])).toBe("x to the power 2");
    expect(opPhrase("matmul", ["X", "W"])).toBe("the matrix product of X and W");
    expect(opPhrase("neg", ["a"])).toBe("minus a");
    expect(opPhrase("cross_entropy", ["s", "y"])).toBe("cross entropy of s and y");
    expect(opPhrase("unreduce", ["g"])).toBe("broadcast back of g");
  });
});

describe("narrateStep", () => {
  it("says the issue's backward step of the circuit", () => {
    const t = circuit();
    const k = t.backward.findIndex((s) => t.nodes.find((n) => n.id === s.node)?.display === "q");
    const st = stepState(t, t.forward.length + k);
    expect(narrateStep(t, st, "full")).toBe(
      `Backward step ${k + 1} of ${t.backward.length}. q equals x plus y. It receives upstream gradient minus 4. ` +
        "The local derivative of q with respect to x is 1, so x receives minus 4. The local derivative of q with respect to y is 1, so y receives minus 4.",
    );
    expect(narrateStep(t, st, "brief")).toBe(`Backward ${k + 1} of ${t.backward.length}: q, upstream minus 4; x gets minus 4, y gets minus 4.`);
  });

  it("says a forward step's value", () => {
    const t = circuit();
    const k = t.forward.findIndex((id) => t.nodes.find((n) => n.id === id)?.display === "q");
    expect(narrateStep(t, stepState(t, k), "full")).toBe(`Forward step ${k + 1} of ${t.forward.length}. q equals x plus y, which is 3.`);
  });

  it("says a gradient summed over a node's uses, and the sum so far before that", () => {
    const t = fanout();
    const texts = t.backward.map((_, k) => narrateStep(t, stepState(t, t.forward.length + k), "full"));
    expect(texts.some((x) => x.includes("With 1 of its 2 parts in, b's gradient so far is 3."))).toBe(true);
    expect(texts.some((x) => x.includes("With both parts in, b's gradient is 5."))).toBe(true);
    expect(texts.some((x) => x.includes("It receives upstream gradient 5, the sum of 2 and 3 from its 2 uses."))).toBe(true);
  });

  it("says forward mode's tangents and each operand's part", () => {
    const t = circuitForward();
    const last = narrateStep(t, stepState(t, t.forward.length - 1), "full");
    expect(last).toContain("along x");
    expect(last).toContain("Its tangent, how f moves with x, is minus 4.");
    expect(last).toContain("From a: the local derivative minus 4 times its tangent 1 gives minus 4.");
    expect(last).toContain("z does not depend on x: it adds nothing.");
    expect(last).toContain("its derivative with respect to x is minus 4");
  });

  it("says a small tensor's every number, row by row, and a large one's shape and range", () => {
    const t = twoLayer();
    const w1 = t.forward.findIndex((id) => t.nodes.find((n) => n.id === id)?.display === "W1");
    const value = t.nodes.find((n) => n.display === "W1")?.value as number[][];
    const rows = value.map((r) => r.map(spokenNumber).join(", ")).join("; ");
    expect(narrateStep(t, stepState(t, w1), "full")).toContain(`W1 is an input, a 2 by 2 matrix: ${rows}.`);
    const cnn = fixture("tiny-cnn");
    const end = narrateStep(cnn, stepState(cnn, totalSteps(cnn) - 1), "full");
    expect(end).toMatch(/a 2 by 6 by 6 by 1 tensor of 72 numbers, from minus [\d.]+ to [\d.]+/);
    expect(end.endsWith("The table view lists every number.")).toBe(true);
    expect(narrateStep(cnn, stepState(cnn, totalSteps(cnn) - 1), "brief")).not.toContain("table");
  });

  it("never writes a Unicode minus, and brief is shorter than full with no number full does not say", () => {
    for (const name of Object.keys(said)) {
      const t = fixture(name);
      for (let i = 0; i < totalSteps(t); i++) {
        const st = stepState(t, i);
        const full = narrateStep(t, st, "full");
        const brief = narrateStep(t, st, "brief");
        expect(full + brief).not.toContain("\u2212");
        expect(brief.length).toBeLessThan(full.length);
        const fullNumbers = numbersOf(full);
        for (const x of numbersOf(brief)) expect(fullNumbers.some((y) => close(x, y)), `${name} ${i}: ${x} in ${brief}`).toBe(true);
      }
    }
  });
});

describe("describeNode", () => {
  it("says what is known of a node at the step, edge by edge", () => {
    const t = fanout();
    const d = t.nodes.find((n) => n.display === "d");
    if (!d) throw new Error("no d");
    expect(describeNode(t, stepState(t, 0), d.id, "full")).toBe(
      "d equals b plus 1. Its value is not computed yet. Its gradient is not known yet. Operand b. Operand: the constant 1. Used by e.",
    );
    const end = stepState(t, totalSteps(t) - 1);
    expect(describeNode(t, end, d.id, "full")).toBe(
      "d equals b plus 1. Its value is 2. Its gradient is 3. Operand b: local derivative 1, it receives 3. Operand: the constant 1. Used by e, which sends back 3.",
    );
    expect(describeNode(t, end, d.id, "brief")).toBe("d, value 2, gradient 3; operands b and the constant 1; used by e.");
  });
});

describe("describeView", () => {
  it("titles the view with the expression and the step, and describes the graph and the step", () => {
    const t = circuit();
    const st = stepState(t, totalSteps(t) - 1);
    const { title, text } = describeView(t, st);
    expect(title).toBe(`q = x + y; f = q * z (backward step ${t.backward.length} of ${t.backward.length})`);
    expect(text).toContain("The graph has 5 nodes: 3 inputs and 2 operations. Its inputs: x is minus 2, y is 5 and z is minus 4. The output f is minus 12.");
    expect(text.endsWith(narrateStep(t, st, "full"))).toBe(true);
  });
});
