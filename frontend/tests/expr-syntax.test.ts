import catalogue from "../src/generated/ops.json";
import { describe, expect, it } from "vitest";
import { errorRange, FUNCTIONS, inputNames, segments, tokenize } from "../src/expr-syntax";

describe("tokenize", () => {
  it("finds names, functions, numbers, operators and comments", () => {
    const text = "f = exp(x) ** 2.5e-1 # note";
    const kinds = tokenize(text).filter((t) => t.kind !== "space").map((t) => [t.kind, text.slice(t.start, t.end)]);
    expect(kinds).toEqual([
      ["name", "f"], ["op", "="], ["func", "exp"], ["paren", "("], ["name", "x"], ["paren", ")"],
      ["op", "**"], ["number", "2.5e-1"], ["comment", "# note"],
    ]);
  });
  it("reads strings, brackets, attribute dots and comparisons", () => {
    const text = "x.T[0] >= f(p='same')";
    const kinds = tokenize(text).filter((t) => t.kind !== "space").map((t) => [t.kind, text.slice(t.start, t.end)]);
    expect(kinds).toEqual([
      ["name", "x"], ["op", "."], ["name", "T"], ["paren", "["], ["number", "0"], ["paren", "]"], ["op", ">"], ["op", "="],
      ["func", "f"], ["paren", "("], ["name", "p"], ["op", "="], ["string", "'same'"], ["paren", ")"],
    ]);
  });
  it("covers the text exactly", () => {
    const text = "q = x + y\nf = q * z;  $";
    expect(tokenize(text).map((t) => text.slice(t.start, t.end)).join("")).toBe(text);
  });
});

describe("error underline", () => {
  it("underlines the offending characters", () => {
    const segs = segments("x ^^ 2", { start: 2, end: 4 });
    expect(segs.filter((s) => s.error).map((s) => s.text).join("")).toBe("^^");
    expect(segs.map((s) => s.text).join("")).toBe("x ^^ 2");
  });
  it("splits a token the span cuts through", () => {
    const segs = segments("alpha + 1", { start: 2, end: 4 });
    expect(segs.filter((s) => s.error).map((s) => s.text)).toEqual(["ph"]);
  });
  it("gives an empty span one character, and one past the end a placeholder", () => {
    expect(errorRange("(x + ", 3, 3)).toEqual({ start: 3, end: 4, pad: false });
    expect(errorRange("(x +", 4, 4)).toEqual({ start: 4, end: 4, pad: true });
    const segs = segments("(x +", { start: 4, end: 4 });
    expect(segs[segs.length - 1]).toEqual({ text: " ", kind: "space", error: true });
  });
  it("clamps spans outside the text", () => {
    expect(errorRange("ab", 5, 9)).toEqual({ start: 2, end: 2, pad: true });
  });
  it("marks nothing without an error", () => {
    expect(segments("x + y", null).some((s) => s.error)).toBe(false);
  });
});

describe("inputNames", () => {
  it("lists names read before they are assigned, in order", () => {
    expect(inputNames("(x + y) * z")).toEqual(["x", "y", "z"]);
    expect(inputNames("q = x + y; f = q * z")).toEqual(["x", "y", "z"]);
    expect(inputNames("q = x + y\nf = q * z")).toEqual(["x", "y", "z"]);
  });
  it("skips functions and the constants pi and e", () => {
    expect(inputNames("sigmoid(w * x) + e^-t * pi")).toEqual(["w", "x", "t"]);
  });
  it("reads a name on the right of its own assignment", () => {
    expect(inputNames("x = x + 1; y = x * 2")).toEqual(["x"]);
  });
  it("ignores comments", () => {
    expect(inputNames("# uses k\na * 2")).toEqual(["a"]);
  });
  it("skips libraries, attributes, methods, options, literals and words in quotes", () => {
    // The presets of index assignment and of a tiny CNN: only x, and X K W b y, are inputs.
    expect(inputNames("y = torch.zeros(2)\ny[0] = x[0] + 2*x[1]\ny[1] = x[1] + 2*x[2]\nL = y.sum()")).toEqual(["x"]);
    expect(inputNames("h = relu(conv2d(X, K, stride=2, padding=1))\np = max_pool2d(h, 2, stride=1)\nz = linear(flatten(p, 1), W, b)\nL = cross_entropy(z, y)"))
      .toEqual(["X", "K", "W", "b", "y"]);
    expect(inputNames("sum(X, axis=0, keepdims=True) + np.sum(A.T, axis=None)")).toEqual(["X", "A"]);
    expect(inputNames("conv2d(X, K, padding='same') * F.relu(u)")).toEqual(["X", "K", "u"]);
    expect(inputNames("torch.nn.functional.softplus(v)")).toEqual(["v"]);
  });
  it("tells an assignment from a comparison, and goes on after an operator at a line's end", () => {
    expect(inputNames("a == b")).toEqual(["a", "b"]);
    expect(inputNames("m = (z >= 0) * z")).toEqual(["z"]);
    expect(inputNames("q = a +\nq")).toEqual(["a", "q"]);
    expect(inputNames("f = g(\nx)\nf * 2".replace("g", "exp"))).toEqual(["x"]);
  });
  it("names a library only before its dot: F alone is an input", () => {
    expect(inputNames("F * 2")).toEqual(["F"]);
  });
});

describe("FUNCTIONS", () => {
  it("are the registry's functions of the language (src/generated/ops.json), and grad", () => {
    // An op's aliases (ln for log, cat for concat) are functions too.
    const named = Object.entries(catalogue).filter(([, op]) => op.function)
      .flatMap(([name, op]) => [name, ...op.aliases]);
    expect([...FUNCTIONS].sort()).toEqual([...named, "grad"].sort());
    for (const op of ["exp", "relu", "matmul", "pow", "square"]) expect(FUNCTIONS.has(op), op).toBe(true);
    for (const op of ["add", "sub", "mul", "div", "neg", "relu_mask", "sum_to"]) expect(FUNCTIONS.has(op), op).toBe(false);
  });
});
