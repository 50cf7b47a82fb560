// A tensor pasted or typed as text, in the spellings a student copies: JSON (`[[0.9, 0.2]]`),
// NumPy (`np.array([[1, 2], [3, 4]])`, its printout `array([[1., 2.]])` or, from print(),
// `[[0.9 0.2 0.7]]` without commas), PyTorch (`torch.tensor([[1., 2.]], requires_grad=True)`,
// its printout `tensor([[1.0000, 2.0000]], dtype=torch.float64, grad_fn=<MulBackward0>)`) and
// TensorFlow (`tf.constant(...)`, `tf.Variable(...)`, the printout `<tf.Tensor: shape=(1, 2),
// dtype=float32, numpy=array([[1., 2.]], dtype=float32)>`). A pure module: text in, a value or
// an error with the characters it is about out (UTF-16 indices, as a text box selects them).
//
// Non-finite numbers are read in every spelling these print them (nan, inf, np.nan, float('inf'))
// and in the API's own ("NaN", "Infinity", "-Infinity", as JSON strings or bare).

import type { Tensor } from "./api";

export type TensorRead = { value: Tensor } | { error: string; start: number; end: number };

/** The calls that make a tensor of their first argument (by their last name: np.array, torch.tensor,
 * tf.constant, jnp.asarray...); their other arguments (dtype, requires_grad, device) are skipped. */
const MAKERS = new Set([
  "array", "asarray", "asanyarray", "ascontiguousarray", "matrix",
  "tensor", "Tensor", "as_tensor", "from_numpy", "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
  "constant", "Variable", "convert_to_tensor", "Parameter",
  "float16", "float32", "float64", "float_", "double", "int8", "int16", "int32", "int64", "int_",
]);

/** Calls after a tensor that change nothing of its numbers (`.float()`, `.requires_grad_()`). */
const NO_OPS = new Set(["float", "double", "requires_grad_", "cuda", "cpu", "to", "detach", "clone", "numpy", "contiguous"]);

/** Words for the non-finite numbers (any case; also as the last part of np.nan, math.inf...). */
const WORDS: Record<string, number> = { nan: NaN, inf: Infinity, infinity: Infinity };

/** How deep lists may nest (far beyond any tensor here; it bounds the recursion). */
const MAX_DEPTH = 32;

class Fail extends Error {
  constructor(message: string, readonly start: number, readonly end: number) {
    super(message);
  }
}

/** A value read, with its shape and where it is in the text. */
interface Item {
  value: Tensor;
  shape: number[];
  start: number;
  end: number;
}

const NUMBER = /[-+\u2212]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*/y;

function shapeText(shape: number[]): string {
  return shape.length === 0 ? "a number" : shape.length === 1 ? `${shape[0]} ${shape[0] === 1 ? "number" : "numbers"}` : `a ${shape.join("×")} block`;
}

/** A short quote of the text at [start, end), for messages. */
function quote(text: string, start: number, end: number): string {
  const s = text.slice(start, Math.min(end, start + 24));
  return `'${s}${end - start > 24 ? "…" : ""}'`;
}

class Reader {
  private p = 0;

  constructor(private readonly text: string) {}

  read(): Tensor {
    this.ws();
    // PyTorch's print of a parameter.
    const param = /Parameter containing:/y;
    param.lastIndex = this.p;
    if (param.test(this.text)) this.p = param.lastIndex;
    this.ws();
    // A line of code: `X = np.array(...)` (but not `X == ...`).
    const assign = /[A-Za-z_][A-Za-z0-9_]*\s*=(?!=)/y;
    assign.lastIndex = this.p;
    if (assign.test(this.text)) this.p = assign.lastIndex;
    this.ws();
    if (this.p >= this.text.length) throw new Fail("nothing to read: type or paste numbers, e.g. [[1, 2], [3, 4]]", 0, this.text.length);
    const item = this.value(0);
    this.ws();
    if (this.text[this.p] === ";") {
      this.p++;
      this.ws();
    }
    if (this.p < this.text.length) {
      const end = this.text.trimEnd().length;
      throw new Fail(`unexpected ${quote(this.text, this.p, end)} after the value`, this.p, end);
    }
    return item.value;
  }

  /** Skip white space (newlines included: printouts wrap) and `#` comments. */
  private ws(): boolean {
    const from = this.p;
    for (;;) {
      while (this.p < this.text.length && /\s/.test(this.text[this.p])) this.p++;
      if (this.text[this.p] !== "#") break;
      while (this.p < this.text.length && this.text[this.p] !== "\n") this.p++;
    }
    return this.p > from;
  }

  private value(depth: number): Item {
    if (depth > MAX_DEPTH) throw new Fail("the lists nest too deep", this.p, this.p + 1);
    this.ws();
    const start = this.p;
    const c = this.text[this.p];
    if (c === undefined) throw new Fail("the text ends where a number or '[' should come", this.p, this.p);
    if (c === "[" || c === "(") return this.list(depth);
    if (c === "<") return this.printout(depth);
    if (c === '"' || c === "'") return this.quoted();
    if (this.text.startsWith("...", this.p) || c === "\u2026") {
      const end = this.p + (c === "\u2026" ? 1 : 3);
      throw new Fail("the printout is cut short here ('...'): print the whole array, e.g. after np.set_printoptions(threshold=100000) or torch.set_printoptions(profile='full')", start, end);
    }
    if (/[-+\u2212]/.test(c) && /[A-Za-z]/.test(this.text[this.p + 1] ?? "")) {
      // -inf, -np.inf, -Infinity
      this.p++;
      const item = this.word(depth);
      if (typeof item.value !== "number") throw new Fail("a sign before a list", start, item.end);
      return { ...item, value: c === "+" ? item.value : -item.value, start };
    }
    NUMBER.lastIndex = this.p;
    const m = NUMBER.exec(this.text);
    if (m) {
      this.p = NUMBER.lastIndex;
      if (/[A-Za-z_]/.test(this.text[this.p] ?? "")) {
        let end = this.p;
        while (end < this.text.length && /[A-Za-z0-9_]/.test(this.text[end])) end++;
        const what = /^j/i.test(this.text[this.p]) ? "a complex number" : `${quote(this.text, start, end)}`;
        throw new Fail(`${what} is not a real number`, start, end);
      }
      const x = Number(m[0].replace("\u2212", "-"));
      // 1e400 is no float64: said, not read as infinity (write inf for that).
      if (!Number.isFinite(x)) throw new Fail(`${quote(this.text, start, this.p)} is too large for a number (write inf for infinity)`, start, this.p);
      return { value: x, shape: [], start, end: this.p };
    }
    if (/[A-Za-z_]/.test(c)) return this.word(depth);
    throw new Fail(`expected a number or '[' here, not '${c}'`, start, start + 1);
  }

  /** A name: a tensor maker called (np.array(...)), a number maker (float('nan'), np.float64(2)),
   * or a word for a non-finite number (nan, np.inf, math.inf, Infinity). */
  private word(depth: number): Item {
    const start = this.p;
    NAME.lastIndex = this.p;
    const m = NAME.exec(this.text);
    if (!m) throw new Fail("expected a number here", start, start + 1);
    this.p = NAME.lastIndex;
    const name = m[0].replace(/\s+/g, "");
    const last = name.slice(name.lastIndexOf(".") + 1);
    const afterName = this.p;
    this.ws();
    if (this.text[this.p] === "(") {
      if (!MAKERS.has(last) && last !== "float") {
        throw new Fail(`unknown '${name}(': paste the numbers, or np.array, torch.tensor or tf.constant of them`, start, afterName);
      }
      this.p++;
      this.ws();
      const inner = this.value(depth + 1);
      this.skipArguments(start);
      this.methods();
      return { ...inner, start, end: this.p };
    }
    this.p = afterName;
    const x = WORDS[last.toLowerCase()];
    if (x !== undefined) return { value: x, shape: [], start, end: this.p };
    throw new Fail(`unknown word '${name}': expected a number or '['`, start, afterName);
  }

  /** After a maker's value: its other arguments (dtype=..., requires_grad=True, device='cpu',
   * grad_fn=<MulBackward0>), up to and with the closing ')'. */
  private skipArguments(open: number): void {
    const closers: string[] = [];
    const pairs: Record<string, string> = { "(": ")", "[": "]", "{": "}", "<": ">" };
    this.ws();
    const c0 = this.text[this.p];
    if (c0 === ")") {
      this.p++;
      return;
    }
    if (c0 !== ",") {
      if (c0 === undefined) throw new Fail("this '(' is never closed", open, this.p);
      throw new Fail(`expected ',' or ')' here, not '${c0}'`, this.p, this.p + 1);
    }
    while (this.p < this.text.length) {
      const c = this.text[this.p];
      if (c === '"' || c === "'") {
        const end = this.text.indexOf(c, this.p + 1);
        if (end < 0) throw new Fail("this quote is never closed", this.p, this.text.length);
        this.p = end + 1;
        continue;
      }
      if (Object.hasOwn(pairs, c)) closers.push(pairs[c]);
      else if (closers.length && c === closers[closers.length - 1]) closers.pop();
      else if (c === ")" && !closers.length) {
        this.p++;
        return;
      }
      this.p++;
    }
    throw new Fail("this '(' is never closed", open, this.text.length);
  }

  /** `.float()`, `.requires_grad_()`, `.to('cpu')` after a tensor: nothing changes. */
  private methods(): void {
    for (;;) {
      const at = this.p;
      this.ws();
      const m = /\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(/y;
      m.lastIndex = this.p;
      const r = m.exec(this.text);
      if (!r || !NO_OPS.has(r[1])) {
        this.p = at;
        return;
      }
      this.p = m.lastIndex;
      this.skipArguments(at);
    }
  }

  /** "NaN", "Infinity", "-Infinity" (the API's spellings, as JSON strings), 'nan', 'inf'. */
  private quoted(): Item {
    const start = this.p;
    const q = this.text[this.p];
    const end = this.text.indexOf(q, start + 1);
    if (end < 0) throw new Fail("this quote is never closed", start, this.text.length);
    this.p = end + 1;
    const s = this.text.slice(start + 1, end).trim();
    const sign = s.startsWith("-") ? -1 : 1;
    const x = WORDS[s.replace(/^[-+]/, "").toLowerCase()];
    if (x !== undefined) return { value: sign * x, shape: [], start, end: this.p };
    const n = s === "" ? NaN : Number(s);
    if (Number.isFinite(n)) return { value: n, shape: [], start, end: this.p };
    throw new Fail(`${quote(this.text, start, this.p)} is text, not a number`, start, this.p);
  }

  /** TensorFlow's printout: `<tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], ...)>`
   * or `<tf.Variable 'v:0' shape=() dtype=float32, numpy=3.0>`: the numbers after `numpy=`. */
  private printout(depth: number): Item {
    const start = this.p;
    const key = this.text.indexOf("numpy=", start);
    const close = this.text.indexOf(">", start);
    if (key < 0) {
      throw new Fail("this printout has no numbers ('numpy=...'): paste the numbers, or print the value with .numpy()", start, close < 0 ? this.text.length : close + 1);
    }
    this.p = key + "numpy=".length;
    const inner = this.value(depth + 1);
    this.ws();
    if (this.text[this.p] !== ">") {
      throw new Fail(`expected '>' to end the printout here`, this.p, Math.min(this.p + 1, this.text.length));
    }
    this.p++;
    return { ...inner, start, end: this.p };
  }

  /** `[...]`, or a Python tuple `(...)`: entries separated by commas or, as NumPy's print()
   * writes them, by spaces. A rectangular block: every entry of one shape. */
  private list(depth: number): Item {
    const start = this.p;
    const open = this.text[this.p];
    const close = open === "[" ? "]" : ")";
    this.p++;
    const items: Item[] = [];
    let commas = 0;
    for (;;) {
      this.ws();
      const c = this.text[this.p];
      if (c === undefined) throw new Fail(`this '${open}' is never closed: a '${close}' is missing`, start, start + 1);
      if (c === close) {
        this.p++;
        break;
      }
      if (c === "]" || c === ")") throw new Fail(`'${c}' where a '${close}' should close the '${open}' at ${start + 1}`, this.p, this.p + 1);
      items.push(this.value(depth + 1));
      const spaced = this.ws();
      const d = this.text[this.p];
      if (d === ",") {
        commas++;
        this.p++;
      } else if (d !== close && !spaced && d !== undefined && d !== "[" && items[items.length - 1].shape.length === 0) {
        const complex = /[-+]\s*(?:\d+\.?\d*|\.\d+)?(?:[eE][-+]?\d+)?[jJ]/y;
        complex.lastIndex = this.p;
        if (complex.test(this.text)) throw new Fail("a complex number is not a real number", items[items.length - 1].start, complex.lastIndex);
        throw new Fail(`expected ',' or '${close}' here, not '${d}'`, this.p, this.p + 1);
      }
    }
    // (2.5) is a number in Python, not a tuple.
    if (open === "(" && items.length === 1 && commas === 0) return { ...items[0], start, end: this.p };
    if (items.length === 0) throw new Fail("an empty list: a value needs at least one number", start, this.p);
    const first = items[0];
    for (const it of items.slice(1)) {
      if (it.shape.join("x") === first.shape.join("x")) continue;
      let why: string;
      if (first.shape.length === 0) why = "a list here, but the entries before are numbers";
      else if (it.shape.length === 0) why = "a number here, but the entries before are lists";
      else if (first.shape.length === 1 && it.shape.length === 1) why = `this row has ${shapeText(it.shape)}, but the first has ${shapeText(first.shape)}: the rows must be as long as each other`;
      else why = `this has ${shapeText(it.shape)}, but the first has ${shapeText(first.shape)}: every entry must have the same shape`;
      throw new Fail(why, it.start, it.end);
    }
    return { value: items.map((i) => i.value), shape: [items.length, ...first.shape], start, end: this.p };
  }
}

/** The tensor in `text`, or what is wrong with it and where (`text.slice(start, end)`). */
export function readTensor(text: string): TensorRead {
  try {
    return { value: new Reader(text).read() };
  } catch (e) {
    if (e instanceof Fail) return { error: e.message, start: e.start, end: Math.max(e.end, e.start) };
    // A paste nested past the stack (np.array( ten thousand times): said, never thrown.
    if (e instanceof RangeError) return { error: "the text nests too deep to read", start: 0, end: text.length };
    throw e;
  }
}

/** Whether `text` reads as more than one number (a paste into one cell that means the whole tensor). */
export function isWholeTensor(text: string): boolean {
  const r = readTensor(text);
  return "value" in r && Array.isArray(r.value);
}

/** A tensor as the text box shows it: JSON rows, one per line for a matrix; the API's spellings for
 * the non-finite numbers. Read back by `readTensor` to the same value. */
export function tensorText(t: Tensor): string {
  const num = (x: number): string => (Number.isNaN(x) ? '"NaN"' : x === Infinity ? '"Infinity"' : x === -Infinity ? '"-Infinity"' : String(x));
  const flat = (u: Tensor): string => (Array.isArray(u) ? `[${u.map(flat).join(", ")}]` : num(u));
  if (!Array.isArray(t) || !t.some((row) => Array.isArray(row))) return flat(t);
  return `[${t.map(flat).join(",\n ")}]`;
}
