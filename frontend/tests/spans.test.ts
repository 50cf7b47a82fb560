import { describe, expect, it } from "vitest";
import { errorRange } from "../src/expr-syntax";
import { sliceSpan, toUtf16 } from "../src/spans";

// The server's spans count code points (Python's str): Array.from(text) counts the same.
const points = (text: string): string[] => Array.from(text);

describe("server spans in UTF-16 strings", () => {
  it("index the same characters as the server does", () => {
    const text = "a𝑥b😀c + 𝑦";
    points(text).forEach((ch, i) => expect(sliceSpan(text, i, i + 1)).toBe(ch));
    expect(toUtf16(text, points(text).length)).toBe(text.length);
  });
  it("are unchanged in text without astral characters", () => {
    expect(toUtf16("(x + y) * z", 4)).toBe(4);
  });
  it("underline the offending characters after an emoji in a comment", () => {
    const text = "q = x # 😀 note\nq +* y";
    const start = points(text).indexOf("*"); // where the server points: code point offset
    const range = errorRange(text, start, start + 1);
    expect(text.slice(range.start, range.end)).toBe("*");
  });
});
