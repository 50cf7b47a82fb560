// The tensor reader: every spelling a student pastes (JSON, NumPy, PyTorch, TensorFlow, as written
// and as printed), and errors that point at the characters that are wrong.

import { describe, expect, it } from "vitest";
import { isWholeTensor, readTensor, tensorText } from "../src/tensor-literal";

function value(text: string): unknown {
  const r = readTensor(text);
  if ("error" in r) throw new Error(`${text}: ${r.error} at [${r.start}, ${r.end}) ${JSON.stringify(text.slice(r.start, r.end))}`);
  return r.value;
}

/** The error's message and the characters it points at. */
function error(text: string): { message: string; at: string } {
  const r = readTensor(text);
  if (!("error" in r)) throw new Error(`${text} read as ${JSON.stringify(r.value)}`);
  return { message: r.error, at: text.slice(r.start, r.end) };
}

describe("JSON", () => {
  it("reads numbers, vectors, matrices and deeper blocks", () => {
    expect(value("3")).toBe(3);
    expect(value(" -0.5e-2 ")).toBe(-0.005);
    expect(value("[[0.9, 0.2, 0.7]]")).toEqual([[0.9, 0.2, 0.7]]);
    expect(value("[1, 2, 3,]")).toEqual([1, 2, 3]);
    expect(value("[[[1], [2]], [[3], [4]]]")).toEqual([[[1], [2]], [[3], [4]]]);
    expect(value("[\n  [1, 2],\n  [3, 4]\n]")).toEqual([[1, 2], [3, 4]]);
  });
  it("reads the API's spellings of the non-finite numbers", () => {
    const v = value('["NaN", "Infinity", "-Infinity", 1]') as number[];
    expect(v[0]).toBeNaN();
    expect(v.slice(1)).toEqual([Infinity, -Infinity, 1]);
    expect(value("[Infinity, -Infinity]")).toEqual([Infinity, -Infinity]);
  });
  it("reads the minus sign the app prints (U+2212)", () => {
    expect(value("[\u22120.45, 1]")).toEqual([-0.45, 1]);
  });
});

describe("NumPy", () => {
  it("reads np.array calls with their options", () => {
    expect(value("np.array([[1, 2], [3, 4]])")).toEqual([[1, 2], [3, 4]]);
    expect(value("numpy.array([1., 2.], dtype=np.float64)")).toEqual([1, 2]);
    expect(value("np.asarray(((1, 2), (3, 4)))")).toEqual([[1, 2], [3, 4]]);
    expect(value("X = np.array([[0.9, 0.2, 0.7]])")).toEqual([[0.9, 0.2, 0.7]]);
    expect(value("np.float64(3.0)")).toBe(3);
    expect(value("jnp.array([1, 2])")).toEqual([1, 2]);
  });
  it("reads what NumPy prints: repr, and print() without commas", () => {
    expect(value("array([[1., 2.],\n       [3., 4.]])")).toEqual([[1, 2], [3, 4]]);
    expect(value("array([1.e-03, 1.e+00], dtype=float32)")).toEqual([0.001, 1]);
    expect(value("[[0.9 0.2 0.7]]")).toEqual([[0.9, 0.2, 0.7]]);
    expect(value("[[ 1.  -2. ]\n [ 3.5  4. ]]")).toEqual([[1, -2], [3.5, 4]]);
    expect(value("array(3.)")).toBe(3);
  });
  it("reads nan and inf as NumPy and Python spell them", () => {
    const v = value("np.array([nan, inf, -inf, np.nan, -np.inf, float('nan'), float(\"-inf\"), math.inf])") as number[];
    expect(v.map((x) => (Number.isNaN(x) ? "nan" : x))).toEqual(["nan", Infinity, -Infinity, "nan", -Infinity, "nan", -Infinity, Infinity]);
  });
});

describe("PyTorch", () => {
  it("reads torch.tensor calls with their options", () => {
    expect(value("torch.tensor([[1., 2.]], requires_grad=True)")).toEqual([[1, 2]]);
    expect(value("torch.tensor([1, 2], dtype=torch.float64, device='cpu').float()")).toEqual([1, 2]);
    expect(value("torch.tensor(2.5)")).toBe(2.5);
    expect(value("W = torch.tensor([[0.1], [0.2]]).requires_grad_()")).toEqual([[0.1], [0.2]]);
  });
  it("reads what PyTorch prints, grad_fn included", () => {
    expect(value("tensor([[1.0000, 2.0000]], dtype=torch.float64, requires_grad=True)")).toEqual([[1, 2]]);
    expect(value("tensor([[0.5000, 1.5000],\n        [2.0000, 3.0000]], grad_fn=<MulBackward0>)")).toEqual([[0.5, 1.5], [2, 3]]);
    expect(value("tensor(0.2500, grad_fn=<SumBackward0>)")).toBe(0.25);
    expect(value("Parameter containing:\ntensor([[1., 2.]], requires_grad=True)")).toEqual([[1, 2]]);
  });
});

describe("TensorFlow", () => {
  it("reads tf.constant and tf.Variable calls", () => {
    expect(value("tf.constant([[1., 2.]])")).toEqual([[1, 2]]);
    expect(value("tf.Variable([[1., 2.]], dtype=tf.float32, name='W')")).toEqual([[1, 2]]);
    expect(value("tf.convert_to_tensor(np.array([1, 2]))")).toEqual([1, 2]);
  });
  it("reads what TensorFlow prints: repr and print()", () => {
    expect(value("<tf.Tensor: shape=(1, 2), dtype=float32, numpy=array([[1., 2.]], dtype=float32)>")).toEqual([[1, 2]]);
    expect(value("<tf.Tensor: shape=(), dtype=float32, numpy=3.0>")).toBe(3);
    expect(value("<tf.Variable 'Variable:0' shape=(2,) dtype=float32, numpy=array([1., 2.], dtype=float32)>")).toEqual([1, 2]);
    expect(value("tf.Tensor(\n[[1. 2.]\n [3. 4.]], shape=(2, 2), dtype=float32)")).toEqual([[1, 2], [3, 4]]);
  });
});

describe("errors point at the characters", () => {
  it("a row of another length", () => {
    const e = error("[[1, 2, 3], [4, 5]]");
    expect(e.at).toBe("[4, 5]");
    expect(e.message).toBe("this row has 2 numbers, but the first has 3 numbers: the rows must be as long as each other");
  });
  it("a number among lists, a list among numbers", () => {
    expect(error("[[1, 2], 3]")).toEqual({ message: "a number here, but the entries before are lists", at: "3" });
    expect(error("[1, [2, 3]]")).toEqual({ message: "a list here, but the entries before are numbers", at: "[2, 3]" });
    expect(error("[[[1]], [[1, 2]]]").at).toBe("[[1, 2]]");
  });
  it("a word, a stray character, a missing bracket", () => {
    expect(error("[1, two, 3]")).toEqual({ message: "unknown word 'two': expected a number or '['", at: "two" });
    expect(error("[1, 2; 3]")).toEqual({ message: "expected ',' or ']' here, not ';'", at: ";" });
    expect(error("[[1, 2], [3, 4]")).toMatchObject({ at: "[" });
    expect(error("[[1, 2], [3, 4]")?.message).toBe("this '[' is never closed: a ']' is missing");
    expect(error("[1, 2)")).toMatchObject({ at: ")" });
    expect(error("[1, 2]]")).toEqual({ message: "unexpected ']' after the value", at: "]" });
  });
  it("an unknown call, a complex number, a quoted word, an empty list, nothing", () => {
    expect(error("torch.randn(2, 3)")).toMatchObject({ at: "torch.randn" });
    expect(error("[1+2j]")).toEqual({ message: "a complex number is not a real number", at: "1+2j" });
    expect(error("[1, 2j]")).toMatchObject({ at: "2j", message: "a complex number is not a real number" });
    expect(error('["a", 1]')).toMatchObject({ at: '"a"' });
    expect(error("[]")).toMatchObject({ at: "[]", message: "an empty list: a value needs at least one number" });
    expect(error("   ").message).toMatch(/^nothing to read/);
    expect(error("np.array([1, 2]")).toMatchObject({ at: "np.array([1, 2]" });
  });
  it("a printout cut short by NumPy", () => {
    const e = error("array([0., 1., 2., ..., 7., 8., 9.])");
    expect(e.at).toBe("...");
    expect(e.message).toMatch(/cut short/);
  });
  it("a TensorFlow printout without its numbers", () => {
    expect(error("<tf.Tensor 'x:0' shape=(2,) dtype=float32>").message).toMatch(/numpy=/);
  });
});

describe("the text box's own spelling", () => {
  it("reads back to the same value", () => {
    for (const t of [3, [1, 2], [[1, 2], [3, 4]], [[[1]], [[2]]], [NaN, Infinity, -Infinity]]) {
      const back = value(tensorText(t));
      expect(JSON.stringify(back, (_k, v: unknown) => (typeof v === "number" ? String(v) : v))).toBe(
        JSON.stringify(t, (_k, v: unknown) => (typeof v === "number" ? String(v) : v)),
      );
    }
  });
  it("writes a matrix one row a line", () => {
    expect(tensorText([[1, 2], [3, 4]])).toBe("[[1, 2],\n [3, 4]]");
    expect(tensorText([1, 2])).toBe("[1, 2]");
  });
  it("tells a whole tensor from one number (a paste into one cell)", () => {
    expect(isWholeTensor("[[1, 2]]")).toBe(true);
    expect(isWholeTensor("np.array([1, 2])")).toBe(true);
    expect(isWholeTensor("2.5")).toBe(false);
    expect(isWholeTensor("[1, 2")).toBe(false);
  });
});

describe("what it refuses, without throwing", () => {
  it("a paste nested past any depth, and a number too large for float64", () => {
    const deep = readTensor("np.array(".repeat(20000) + "1" + ")".repeat(20000));
    expect("error" in deep && deep.error).toMatch(/nest/);
    const big = readTensor("[1e400, 2]");
    expect(big).toMatchObject({ error: expect.stringMatching(/too large/), start: 1, end: 6 });
    expect(readTensor("[inf, 2]")).toEqual({ value: [Infinity, 2] });
  });
});
