import { describe, expect, it } from "vitest";
import { decodeQuery, encodeQuery, stepIndex, stepProblem, stepSpec } from "../src/url-state";

describe("URL state (the query the server also reads)", () => {
  it("round-trips expression, values, seed, step and theme", () => {
    const s = {
      expr: "q = x + y; f = q * z",
      values: { x: -2, y: [1, 2], z: [[1, 2], [3, 4]] },
      seed: [1, 2],
      step: "b3",
      theme: "projector",
    };
    expect(decodeQuery(`?${encodeQuery(s)}`)).toEqual(s);
  });
  it("writes one parameter per input", () => {
    expect(encodeQuery({ expr: "(x+y)*z", values: { x: -2, W: [[1, 2]] }, step: "b3" })).toBe(
      "expr=%28x%2By%29*z&x=-2&W=%5B%5B1%2C2%5D%5D&step=b3",
    );
  });
  it("escapes inputs with reserved names as v.<name>", () => {
    const q = encodeQuery({ expr: "step * 2", values: { step: 3 } });
    expect(q).toBe("expr=step+*+2&v.step=3");
    expect(decodeQuery(q).values).toEqual({ step: 3 });
    expect(decodeQuery("expr=x&x=1&v.x=2").values).toEqual({ x: 2 });
  });
  it("keeps special characters of the expression", () => {
    const expr = "a = x^2 & b # c\n+ 1";
    expect(decodeQuery(encodeQuery({ expr })).expr).toBe(expr);
  });
  it("reads embed options", () => {
    expect(decodeQuery("expr=x&hide=side,explain&autoplay&speed=2")).toEqual({
      expr: "x", hide: ["side", "explain"], autoplay: true, speed: 2,
    });
    expect(decodeQuery("autoplay=0").autoplay).toBe(false);
  });
  it("drops malformed parts instead of throwing, and says what they were", () => {
    const s = decodeQuery("?expr=x&y=%7Bnot-json&seed=oops&step=zz&speed=-1&1bad=2");
    expect({ ...s, errors: undefined }).toEqual({ expr: "x", errors: undefined });
    expect(s.errors).toHaveLength(3);
    expect(s.errors?.[0]).toContain("'y'");
    expect(s.errors?.[2]).toContain("unknown step 'zz'");
    expect(decodeQuery("x=1&y=%22text%22&z=%5B1%2Cnull%5D").values).toEqual({ x: 1 });
    expect(decodeQuery("expr=W&W=[[1,2").errors?.[0]).toMatch(/value of 'W'.*\[\[1,2/);
  });
  it("says which step a trace does not have", () => {
    expect(stepProblem("b99", 5, 5)).toBe("there is no backward step 99: this expression has 5 backward steps (b1 to b5)");
    expect(stepProblem("f0", 5, 5)).toContain("no forward step 0");
    expect(stepProblem("b5", 5, 5)).toBeNull();
    expect(stepProblem("end", 5, 5)).toBeNull();
    expect(stepProblem("10", 5, 5)).toContain("no step 10");
  });
  it("leaves out what is not set", () => {
    expect(encodeQuery({})).toBe("");
    expect(encodeQuery({ seed: null, expr: "x" })).toBe("expr=x");
  });
});

describe("step specs", () => {
  it("name steps within their pass, from 1", () => {
    expect(stepSpec(0, 5)).toBe("f1");
    expect(stepSpec(4, 5)).toBe("f5");
    expect(stepSpec(5, 5)).toBe("b1");
    expect(stepSpec(9, 5)).toBe("b5");
  });
  it("turn back into indices, clamped", () => {
    expect(stepIndex("f2", 5, 5)).toBe(1);
    expect(stepIndex("b3", 5, 5)).toBe(7);
    expect(stepIndex("b99", 5, 5)).toBe(9);
    expect(stepIndex("start", 5, 5)).toBe(0);
    expect(stepIndex("end", 5, 5)).toBe(9);
    expect(stepIndex("backward", 5, 5)).toBe(5);
    expect(stepIndex("7", 5, 5)).toBe(7);
    expect(stepIndex("x", 5, 5)).toBeNull();
    expect(stepIndex("end", 0, 0)).toBeNull();
  });
});

describe("share links", () => {
  it("point the page, the embed page and the pictures at the same state", async () => {
    const { shareLinks } = await import("../src/share");
    const l = shareLinks("http://h", { expr: "x*y", values: { x: 2, y: -1 }, step: "b2" }, "projector");
    const q = "expr=x*y&x=2&y=-1&step=b2&theme=projector";
    expect(l.page).toBe(`http://h/?${q}`);
    expect(l.embed).toBe(`http://h/embed/?${q}`);
    expect(l.svg).toBe(`http://h/api/picture.svg?${q}`);
    expect(l.png).toBe(`http://h/api/picture.png?${q}&scale=2`);
    expect(l.iframe).toContain('src="http://h/embed/?expr=x*y&amp;x=2');
  });
});

describe("the reserved parameters", () => {
  it("are the one list, backend/gradtrace/data/url_params.json", async () => {
    const { RESERVED } = await import("../src/url-state");
    const data = (await import("../../backend/gradtrace/data/url_params.json")).default;
    expect([...RESERVED].sort()).toEqual(data.params.map((p) => p.name).sort());
    expect(RESERVED.has("hessian") && RESERVED.has("scale") && !RESERVED.has("x")).toBe(true);
    expect(encodeQuery({ expr: "step * 2", values: { step: 3, x: 1 } })).toBe("expr=step+*+2&v.step=3&x=1");
  });
  it("reads a step spec as the server does: trimmed, any case", () => {
    expect(stepIndex("B2", 5, 5)).toBe(6);
    expect(stepProblem(" end ", 5, 5)).toBeNull();
    expect(stepProblem("zz", 5, 5)).toBe("unknown step 'zz': use f<k> (forward step k), b<k> (backward step k), start or end");
  });
});

describe("input names that are also JavaScript's own", () => {
  it("are values like any other, in the URL and back", () => {
    const s = decodeQuery("?expr=constructor*__proto__%2BtoString&constructor=2&__proto__=3&toString=[1,2]");
    expect(Object.keys(s.values ?? {}).sort()).toEqual(["__proto__", "constructor", "toString"]);
    expect(s.values?.constructor).toBe(2);
    expect(Object.getOwnPropertyDescriptor(s.values, "__proto__")?.value).toBe(3);
    expect(s.values?.toString).toEqual([1, 2]);
    const again = decodeQuery(encodeQuery(s));
    expect(Object.getOwnPropertyDescriptor(again.values, "__proto__")?.value).toBe(3);
    expect(again.values?.constructor).toBe(2);
  });
});
