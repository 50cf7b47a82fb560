import { describe, expect, it } from "vitest";
import { explainStep } from "../src/explain";
import { labelInputs, labelRole, nodeLabel, nodeSubscript, nodeWhat, opTag, opWord, subscriptOf } from "../src/node-words";
import { stepState } from "../src/steps";
import { labelSliderRange } from "../src/values-model";
import { circuit, indexAssign, softmaxCrossEntropy, whereOf } from "./helpers";

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
  it("read their index from the source: [1], and an assignment's [0]=", () => {
    const t = indexAssign();
    const index = t.nodes.filter((n) => n.op === "index");
    expect(index.map((n) => nodeLabel(t, n))).toEqual(["[0]", "[1]", "[1]", "[2]"]);
    const set = t.nodes.filter((n) => n.op === "setitem");
    expect(set.map((n) => opTag(t, n))).toEqual(["[0]=", "[1]="]);
    expect(set.map((n) => nodeWhat(t, n))).toEqual(["index assignment y", "index assignment y"]);
    expect(nodeWhat(t, index[0])).toBe("index [0]");
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
  it("a step's title names an unnamed node once: conv2d, not conv2d conv2d", () => {
    const t = softmaxCrossEntropy();
    const mm = t.nodes.find((n) => n.op === "matmul");
    const scores = t.nodes.find((n) => n.name === "scores");
    if (!mm || !scores) throw new Error("fixture");
    expect(nodeWhat(t, mm)).toBe("matmul @");
    expect(nodeWhat(t, scores)).toBe("add scores");
    expect(nodeWhat({ expr: "" }, { ...mm, op: "conv2d", label: "conv2d" })).toBe("conv2d");
    expect(nodeWhat({ expr: "" }, { ...mm, op: "log_softmax", label: "log softmax" })).toBe("log_softmax");
  });
});
