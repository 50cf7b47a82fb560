// Forward mode: the URL state, the step model, the explanation and the request, on a fixture of
// the forward-mode contract: (x + y) * z with x=-2, y=5, z=-4, wrt=x (derivative -4).
import { describe, expect, it, vi } from "vitest";
import { decodeTrace, fetchTrace, type ForwardRequest, type Trace } from "../src/api";
import { fallbackLayout } from "../src/layout-fallback";
import { costSentences, derivativeText, explainStep } from "../src/explain";
import { forwardWrt, Session } from "../src/session";
import { stepState, totalSteps } from "../src/steps";
import { decodeQuery, encodeQuery, stepIndex, stepProblem, stepSpec } from "../src/url-state";
import { circuit, circuitForward, readingOf } from "./helpers";
import { stateFromUrl, Store } from "../src/store";

/** A store holding only these values (the session reads what to trace from it). */
function storeWith(values: Record<string, number>): Store {
  return new Store({ ...stateFromUrl({ expr: "" }, "light"), values });
}

describe("URL state with mode and wrt", () => {
  it("writes mode=forward&wrt=x and reads it back", () => {
    const s = { expr: "(x + y) * z", values: { x: -2, y: 5, z: -4 }, step: "f5", mode: "forward" as const, wrt: "x" };
    const q = encodeQuery(s);
    expect(q).toBe("expr=%28x+%2B+y%29+*+z&x=-2&y=5&z=-4&step=f5&mode=forward&wrt=x");
    expect(decodeQuery(`?${q}`)).toEqual(s);
  });
  it("carries a direction (tangent) in forward mode only", () => {
    const q = encodeQuery({ expr: "sum(W)", values: { W: [1, 2] }, mode: "forward", wrt: "W", tangent: [0, 1] });
    expect(q).toBe("expr=sum%28W%29&W=%5B1%2C2%5D&mode=forward&wrt=W&tangent=%5B0%2C1%5D");
    expect(decodeQuery(q).tangent).toEqual([0, 1]);
    expect(encodeQuery({ expr: "x", tangent: 2 })).toBe("expr=x");
    expect(decodeQuery("expr=x&tangent=nope").errors?.[0]).toContain("'tangent'");
    expect(encodeQuery({ expr: "tangent", values: { tangent: 1 } })).toBe("expr=tangent&v.tangent=1");
  });
  it("writes nothing for reverse mode (the default), nor a wrt without forward mode", () => {
    expect(encodeQuery({ expr: "x", mode: "reverse", wrt: "x" })).toBe("expr=x");
    expect(decodeQuery("expr=x&mode=reverse")).toEqual({ expr: "x", mode: "reverse" });
  });
  it("says what is wrong with a mode or wrt, and escapes inputs called mode or wrt", () => {
    const s = decodeQuery("expr=x&mode=sideways&wrt=1x");
    expect(s.mode).toBeUndefined();
    expect(s.wrt).toBeUndefined();
    expect(s.errors).toEqual([
      "unknown mode 'sideways': use forward or reverse",
      "'wrt' in the URL is not an input name: '1x'",
    ]);
    const q = encodeQuery({ expr: "mode * wrt", values: { mode: 2, wrt: 3 }, mode: "forward", wrt: "wrt" });
    expect(q).toBe("expr=mode+*+wrt&v.mode=2&v.wrt=3&mode=forward&wrt=wrt");
    expect(decodeQuery(q)).toMatchObject({ values: { mode: 2, wrt: 3 }, mode: "forward", wrt: "wrt" });
  });
  it("names forward mode's steps f1..fN (there is no backward step)", () => {
    expect(stepSpec(4, 5)).toBe("f5");
    expect(stepIndex("end", 5, 0)).toBe(4);
    expect(stepIndex("b3", 5, 0)).toBe(4);
    expect(stepProblem("b3", 5, 0)).toBe("there is no backward step 3: forward mode has forward steps only (f1 to f5)");
    expect(stepProblem("f5", 5, 0)).toBeNull();
  });
});

describe("forward step model", () => {
  const t = circuitForward();

  it("has the forward steps only, left to right", () => {
    expect(t.mode).toBe("forward");
    expect(totalSteps(t)).toBe(5);
    const labels = [0, 1, 2, 3, 4].map((i) => stepState(t, i).label);
    expect(labels).toEqual(["forward 1/5", "forward 2/5", "forward 3/5", "forward 4/5", "forward 5/5"]);
    expect(stepState(t, 99).index).toBe(4);
  });
  it("knows each node's tangent from its step on, and each edge's contribution from its target's", () => {
    const first = stepState(t, 0); // x
    expect(first.mode).toBe("forward");
    expect([...first.tangented]).toEqual(["n0"]);
    expect(first.edgeTangents.size).toBe(0);
    expect(first.feeding).toEqual([]);
    const plus = stepState(t, 2); // + = x + y
    expect(plus.current).toBe("n2");
    expect([...plus.tangented]).toEqual(["n0", "n2"]); // y does not depend on x
    expect([...plus.edgeTangents]).toEqual(["e0"]); // y -> + carries nothing
    expect(plus.feeding).toEqual(["e0", "e1"]);
    const last = stepState(t, 4);
    expect([...last.tangented]).toEqual(["n0", "n2", "n4"]);
    expect([...last.edgeTangents]).toEqual(["e0", "e2"]);
    expect(last.feeding).toEqual(["e2", "e3"]);
    expect(last.graded.size).toBe(0);
    expect(last.sending).toEqual([]);
    expect(last.backward).toBeNull();
  });
  it("leaves reverse mode's model as it was (no tangents)", () => {
    const r = circuit();
    const s = stepState(r, 9);
    expect(s.mode).toBe("reverse");
    expect(s.tangented.size + s.edgeTangents.size + s.feeding.length).toBe(0);
    expect(s.graded.size).toBe(5);
    expect(stepState(r, 2).feeding).toEqual([]);
  });
});

describe("forward mode's explanation", () => {
  const t = circuitForward();

  it("writes the chain rule forward with numbers: d(+)/dx = 1·1 + 1·0 = 1", () => {
    const ex = explainStep(t, stepState(t, 2));
    // The unnamed + is called a, as the graph draws it; the unnamed output f (forward mode).
    expect(ex.title).toBe("forward 3/5: a = x + y");
    expect(ex.lines[0]).toBe("a = \\texttt{x + y} = -2 + 5 = 3");
    // da/dx = ∂a/∂x · dx/dx + ∂a/∂y · dy/dx = 1·1 + 1·0 = 1, the numbers under the symbols.
    expect(ex.lines[1]).toBe(
      "\\begin{aligned}\\frac{d a}{d x} &= \\frac{\\partial a}{\\partial x}\\cdot\\frac{d x}{d x} + " +
        "\\frac{\\partial a}{\\partial y}\\cdot\\frac{d y}{d x}\\\\ &= 1\\cdot1 + 1\\cdot0 = 1\\end{aligned}",
    );
  });
  it("reaches the output's derivative -4 and says what each mode costs", () => {
    const ex = explainStep(t, stepState(t, 4));
    expect(ex.lines[1]).toBe(
      "\\begin{aligned}\\frac{d f}{d x} &= \\frac{\\partial f}{\\partial a}\\cdot\\frac{d a}{d x} + " +
        "\\frac{\\partial f}{\\partial z}\\cdot\\frac{d z}{d x}\\\\ &= (-4)\\cdot1 + 3\\cdot0 = -4\\end{aligned}",
    );
    expect(ex.notes.join(" ")).toContain("∂f/∂x = −4");
    expect(ex.cost).toEqual([
      "Reverse mode: one backward pass gives the gradient for all 3 inputs",
      "Forward mode: one pass per input direction: 3 passes for all 3 inputs",
    ]);
    expect(costSentences(t)).toEqual(ex.cost);
  });
  it("writes 0 for a term whose source does not depend on wrt, even without its local", () => {
    const u = circuitForward();
    u.edges[1].local = null; // y -> +: a server may leave the local of a zero term out
    expect(explainStep(u, stepState(u, 2)).lines[1]).toMatch(/&= 1\\cdot1 \+ 0 = 1\\end\{aligned\}$/);
  });
  it("starts from the tangent dx/dx = 1, the direction of x; other inputs are 0", () => {
    expect(explainStep(t, stepState(t, 0)).lines[1]).toBe("\\frac{d x}{d x} = 1\\quad\\text{(the direction of x)}");
    expect(explainStep(t, stepState(t, 1)).lines[1]).toBe("\\frac{d y}{d x} = 0\\quad\\text{(another input: it does not depend on x)}");
  });
  it("shows the derivative as ∂f/∂x = −4 (a named output by its name)", () => {
    expect(derivativeText(t)).toBe("∂f/∂x = −4");
    const named = circuitForward();
    // Named in the text (L2 = (x + y) * z), the output is called by its name, as the server names it.
    named.nodes[4].name = "L2";
    named.nodes[4].display = "L2";
    named.nodes[4].display_tex = "L_{2}";
    expect(derivativeText(named)).toBe("∂L2/∂x = −4");
    expect(derivativeText(circuit())).toBe("");
    const along = circuitForward();
    along.tangent = [[1], [1]];
    expect(derivativeText(along)).toBe("∂f/∂x · [1, 1] = −4");
  });
  it("leaves reverse mode's explanation without cost lines", () => {
    const r = circuit();
    expect(explainStep(r, stepState(r, 7)).cost).toBeUndefined();
  });
});

describe("forward mode's request and answer", () => {
  it("decodes tangents (non-finite ones too) and keeps reverse answers as they were", () => {
    const raw = structuredClone(circuitForward()) as unknown as Record<string, unknown>;
    (raw.nodes as { tangent: unknown }[])[4].tangent = "-Infinity";
    (raw.edges as { tangent: unknown }[])[2].tangent = "NaN";
    raw.derivative = "-Infinity";
    const t = decodeTrace(raw as unknown as Trace);
    expect(t.nodes[4].tangent).toBe(-Infinity);
    expect(t.nodes[1].tangent).toBeNull();
    expect(t.edges[2].tangent).toBeNaN();
    expect(t.derivative).toBe(-Infinity);
    expect(t.tangent).toBe(1);
    const r = circuit();
    expect("tangent" in r.nodes[0]).toBe(false);
    expect(r.mode).toBe("reverse");
    // A record without a mode (from before forward mode) gets none.
    const old = structuredClone(circuit()) as unknown as Record<string, unknown>;
    delete old.mode;
    expect(decodeTrace(old as unknown as Trace).mode).toBeUndefined();
  });
  it("sends mode, wrt and tangent only in forward mode", async () => {
    const bodies: unknown[] = [];
    const fetchBefore = globalThis.fetch;
    globalThis.fetch = (async (_path: string, init: { body: string }) => {
      bodies.push(JSON.parse(init.body));
      return new Response(JSON.stringify(circuitForward()), { status: 200 });
    }) as unknown as typeof fetch;
    try {
      await fetchTrace("x", { x: 1 }, null);
      await fetchTrace("x", { x: 1 }, null, undefined, { wrt: "x", tangent: null });
      await fetchTrace("x", { x: [1, 2] }, null, undefined, { wrt: "x", tangent: [1, Infinity] });
    } finally {
      globalThis.fetch = fetchBefore;
    }
    expect(bodies).toEqual([
      { expr: "x", values: { x: 1 } },
      { expr: "x", values: { x: 1 }, mode: "forward", wrt: "x" },
      { expr: "x", values: { x: [1, 2] }, mode: "forward", wrt: "x", tangent: [1, "Infinity"] },
    ]);
  });
  it("differentiates by the input asked for, else the first", () => {
    expect(forwardWrt("z", ["x", "y", "z"])).toBe("z");
    expect(forwardWrt("w", ["x", "y", "z"])).toBe("x");
    expect(forwardWrt(null, ["x"])).toBe("x");
    expect(forwardWrt(null, [])).toBe("");
  });
});

describe("the session in forward mode", () => {
  const layout = vi.fn(async () => fallbackLayout(circuitForward()));

  it("asks for forward mode by the chosen input (else the first), reverse mode as before", async () => {
    const asked: (ForwardRequest | null | undefined)[] = [];
    const trace = vi.fn(async (_e: string, _v: unknown, _s: unknown, _sig?: AbortSignal, fwd?: ForwardRequest | null) => {
      asked.push(fwd);
      return fwd ? circuitForward() : circuit();
    });
    const s = new Session(storeWith({}), { trace, layout, read: readingOf() });
    s.store.update({ expr: "(x + y) * z" });
    await s.refresh();
    s.store.update({ mode: "forward" });
    await s.refresh();
    s.store.update({ wrt: "z" });
    await s.refresh();
    s.store.update({ wrt: "nope" });
    await s.refresh();
    expect(asked).toEqual([null, { wrt: "x", tangent: null }, { wrt: "z", tangent: null }, { wrt: "x", tangent: null }]);
  });

});
