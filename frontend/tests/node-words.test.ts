import { describe, expect, it } from "vitest";
import { explainStep } from "../src/explain";
import type { Trace, TraceNode } from "../src/api";
import {
  formulaFromOp, labelInputs, labelRole, nodeFormula, nodeLabel, nodeName, nodeNames, nodeSubscript, nodeWhat,
  opTag, opTagShown, opWord, subscriptOf,
} from "../src/node-words";
import { stepState } from "../src/steps";
import { labelSliderRange } from "../src/values-model";
import { circuit, circuitForward, fanout, indexAssign, logZero, softmaxCrossEntropy, twoLayer, whereOf } from "./helpers";

describe("labels", () => {
  it("are the inputs the server marks as such: y of cross_entropy(scores, y)", () => {
    const t = softmaxCrossEntropy();
    const y = t.nodes.find((n) => n.name === "y");
    expect(y?.labels).toBe(true);
    expect(y?.grad).toBe(null);
    expect(labelInputs(t)).toEqual(new Map([["y", "labels"]]));
    expect(t.nodes.filter((n) => n.name !== "y").every((n) => labelRole(t, n) === null)).toBe(true);
  });
  it("a where's condition is a condition, not labels", () => {
    expect(labelInputs(whereOf())).toEqual(new Map([["c", "condition"]]));
  });
  it("none in a record from before labels (the flag defaults to false)", () => {
    expect(labelInputs(circuit()).size).toBe(0);
  });
  it("a label's slider steps through whole numbers from 0", () => {
    expect(labelSliderRange(3)).toEqual({ min: 0, max: 9, step: 1 });
    expect(labelSliderRange(12)).toEqual({ min: 0, max: 12, step: 1 });
  });
  it("steps say why labels get no gradient, and no step of the trace shows null or NaN", () => {
    const t = softmaxCrossEntropy();
    const total = t.forward.length + t.backward.length;
    const ce = t.backward.findIndex((s) => t.nodes.find((n) => n.id === s.node)?.op === "cross_entropy");
    const ex = explainStep(t, stepState(t, t.forward.length + ce));
    expect(ex.notes.some((n) => n.startsWith("y holds labels"))).toBe(true);
    for (let i = 0; i < total; i++) {
      const e = explainStep(t, stepState(t, i));
      expect(JSON.stringify(e)).not.toMatch(/null|NaN|undefined/);
    }
  });
});

describe("index nodes", () => {
  it("are named as written, x[1], with the index above an assignment: [0]=", () => {
    const t = indexAssign();
    const index = t.nodes.filter((n) => n.op === "index");
    expect(index.map((n) => nodeLabel(t, n))).toEqual(["x[0]", "x[1]", "x[1]", "x[2]"]);
    // x[1] says its index: no [1] above it.
    expect(index.every((n) => !opTagShown(t, n))).toBe(true);
    const set = t.nodes.filter((n) => n.op === "setitem");
    expect(set.map((n) => opTag(t, n))).toEqual(["[0]=", "[1]="]);
    // y = zeros(2), then y[0] = ..., y[1] = ...: three values of y, y′ and y″.
    expect(set.map((n) => nodeLabel(t, n))).toEqual(["y′", "y″"]);
    expect(set.map((n) => nodeWhat(t, n))).toEqual(["y[0] = b", "y[1] = g"]);
    expect(nodeWhat(t, index[0])).toBe("x[0] (index)");
    const sum = t.nodes.find((n) => n.op === "sum");
    if (!sum) throw new Error("fixture");
    expect(nodeSubscript(t, sum)).toBe(null);
  });
  it("the last bracket of a text, balanced", () => {
    expect(subscriptOf("x[1]")).toBe("[1]");
    expect(subscriptOf("X[:, 0]")).toBe("[:, 0]");
    expect(subscriptOf("s[np.arange(N), y]")).toBe("[np.arange(N), y]");
    expect(subscriptOf("f(x)")).toBe(null);
    expect(subscriptOf("[1]")).toBe(null);
  });
});

describe("op words", () => {
  it("are plain words for the registry's internal names, and the language's names as typed", () => {
    expect(opWord("setitem")).toBe("index assignment");
    expect(opWord("index_put_add")).toBe("add at the indices");
    expect(opWord("unreduce")).toBe("broadcast back");
    expect(opWord("amax_share")).toBe("share of the max");
    expect(opWord("cross_entropy")).toBe("cross_entropy");
    expect(opWord("conv2d")).toBe("conv2d");
  });
  it("a step's title is what the node computes, by name: a = X @ W, scores = a + b", () => {
    const t = softmaxCrossEntropy();
    const mm = t.nodes.find((n) => n.op === "matmul");
    const scores = t.nodes.find((n) => n.name === "scores");
    if (!mm || !scores) throw new Error("fixture");
    expect(nodeWhat(t, mm)).toBe("a = X @ W");
    expect(nodeWhat(t, scores)).toBe("scores = a + b");
    expect(nodeWhat(t, t.nodes.find((n) => n.name === "y") as TraceNode)).toBe("y (labels)");
    // Without the trace's nodes (only the text), the op's word, once.
    expect(nodeWhat({ expr: "" }, { ...mm, op: "conv2d", label: "conv2d" })).toBe("conv2d");
    expect(nodeWhat({ expr: "" }, { ...mm, op: "log_softmax", label: "log softmax" })).toBe("log_softmax");
  });
});

describe("one name per node", () => {
  // The names are the record's (display, display_tex: backend/gradtrace/naming.py, tested in
  // tests/test_naming.py): shown here as they come, the same on the graph and in the text.
  it("is the record's name, the same on the graph, in the title and in formulas", () => {
    const t = twoLayer();
    const names = t.nodes.map((n) => nodeLabel(t, n));
    expect(names).toEqual(t.nodes.map((n) => n.display));
    // h = sigmoid(X @ W1); out = sigmoid(h @ W2); cost = sum((out - y)^2) / 2
    expect(names).toEqual(["X", "W1", "a", "h", "W2", "b", "out", "y", "c", "2", "g", "k", "2", "cost"]);
    const h = t.nodes[3];
    expect(nodeWhat(t, h)).toBe("h = sigmoid(a)");
    expect(nodeWhat(t, t.nodes[10])).toBe("g = c^2"); // (out - y)^2: the parentheses go with c
    expect(nodeWhat(t, t.nodes[11])).toBe("k = sum(g)");
    expect(nodeWhat(t, t.nodes[13])).toBe("cost = k / 2");
    expect(nodeName(t, t.nodes[2]).tex).toBe("a");
    expect(nodeName(t, t.nodes[1]).tex).toBe("W_{1}");
    expect(nodeName(t, t.nodes[13]).tex).toBe("\\mathrm{cost}");
  });
  it("an unnamed output is f in reverse mode and in forward mode", () => {
    const r = logZero(); // log(x)
    expect(r.nodes.map((n) => nodeLabel(r, n))).toEqual(["x", "f"]);
    expect(nodeName(r, r.nodes[1])).toEqual({ text: "f", tex: "f", auto: true });
    const f = circuitForward(); // (x + y) * z
    expect(f.nodes.map((n) => nodeLabel(f, n))).toEqual(["x", "y", "a", "z", "f"]);
  });
  it("is the record's, never one made up here; a letter or f is marked as not the user's", () => {
    const t = fanout(); // c = a + b; d = b + 1; e = c * d
    expect(t.nodes.map((n) => nodeLabel(t, n))).toEqual(["a", "b", "c", "1", "d", "e"]);
    expect([...nodeNames(t).values()].every((n) => !n.auto)).toBe(true);
    // Whatever the server calls a node is what the graph draws and the formulas write.
    const u: Trace = { ...t, nodes: t.nodes.map((n) => (n.id === t.nodes[2].id ? { ...n, display: "c₁", display_tex: "c_{1}" } : n)) };
    expect(nodeName(u, u.nodes[2])).toEqual({ text: "c₁", tex: "c_{1}", auto: false });
    expect(nodeWhat(u, u.nodes[5])).toBe("e = c₁ * d");
    const c = circuitForward();
    expect(c.nodes.filter((n) => nodeName(c, n).auto).map((n) => nodeLabel(c, n))).toEqual(["a", "f"]);
  });
  it("writes names in formulas as the record does: W_{1}, \\mathrm{scores}, \\texttt{x[0]}", () => {
    const t = softmaxCrossEntropy();
    expect(t.nodes.map((n) => nodeName(t, n).tex)).toEqual(t.nodes.map((n) => n.display_tex));
    expect(nodeName(t, t.nodes.find((n) => n.name === "scores") as TraceNode).tex).toBe("\\mathrm{scores}");
    const ia = indexAssign();
    expect(nodeName(ia, ia.nodes[2])).toEqual({ text: "x[0]", tex: "\\texttt{x[0]}", auto: true });
  });
  it("writes what a node computes from the op where the text does not say it", () => {
    expect(formulaFromOp("add", ["a", "b"])).toBe("a + b");
    expect(formulaFromOp("neg", ["a"])).toBe("-a");
    expect(formulaFromOp("pow", ["c", "2"])).toBe("c^2");
    expect(formulaFromOp("exp", ["a"])).toBe("exp(a)");
    expect(formulaFromOp("unreduce", ["a", "b"])).toBe("broadcast back(a, b)");
    const t = twoLayer();
    expect(nodeFormula(t, t.nodes[0])).toBe(null);
    expect(t.nodes.filter((n) => n.kind === "op").every((n) => opTagShown(t, n))).toBe(true);
  });
});

describe("a name given twice", () => {
  it("is the record's primed name, in the text that uses it too: y′ = ..., y″ = ...", () => {
    const t = indexAssign(); // y = zeros(2); y[0] = ...; y[1] = ...; L = y.sum()
    const ys = t.nodes.filter((n) => n.name === "y");
    expect(ys.map((n) => nodeLabel(t, n))).toEqual(["y", "y′", "y″"]);
    expect(ys.map((n) => nodeName(t, n).tex)).toEqual(["y", "y'", "y''"]);
    expect(ys.every((n) => !nodeName(t, n).auto)).toBe(true);
    // L = y.sum() reads y's latest value: written y″ where the text says y.
    const L = t.nodes.find((n) => n.name === "L") as TraceNode;
    expect(nodeWhat(t, L)).toBe("L = y″.sum()");
  });
});
