import { describe, expect, it } from "vitest";
import { codeLine, codeNote, codeUrl } from "../src/code-panel";

describe("codeUrl", () => {
  it("is the page's query with the language in front", () => {
    const url = codeUrl({ expr: "(x + y) * z", values: { x: -2, y: 5, z: -4 }, step: "b3", theme: "dark" }, "pytorch");
    expect(url.startsWith("/api/code?lang=pytorch&")).toBe(true);
    const p = new URLSearchParams(url.split("?")[1]);
    expect(p.get("expr")).toBe("(x + y) * z");
    expect(p.get("x")).toBe("-2");
    expect(p.get("z")).toBe("-4");
    expect(p.getAll("lang")).toEqual(["pytorch"]);
  });
  it("sends an input called lang as v.lang, and reserved names escaped", () => {
    const p = new URLSearchParams(codeUrl({ expr: "lang * step", values: { lang: 2, step: [1, 2] } }, "numpy").split("?")[1]);
    expect(p.getAll("lang")).toEqual(["numpy"]);
    expect(p.get("v.lang")).toBe("2");
    expect(p.get("v.step")).toBe("[1,2]");
  });
});

describe("codeLine", () => {
  it("sets comments apart: whole lines and after two spaces", () => {
    expect(codeLine("# The forward pass")).toEqual(["", "# The forward pass"]);
    expect(codeLine("    # indented")).toEqual(["", "    # indented"]);
    expect(codeLine("df = 1.0  # the seed: df/df")).toEqual(["df = 1.0", "  # the seed: df/df"]);
    expect(codeLine("dq = z * df")).toEqual(["dq = z * df", ""]);
  });
});

describe("codeNote", () => {
  it("follows the view's mode", () => {
    expect(codeNote({ expr: "x" }, "numpy")).toMatch(/^Reverse mode/);
    expect(codeNote({ expr: "x", mode: "forward", wrt: "x" }, "pytorch")).toMatch(/^Forward mode along x/);
  });
  it("sends the forward-mode view's parameters", () => {
    const p = new URLSearchParams(codeUrl({ expr: "x * y", values: { x: 1, y: 2 }, mode: "forward", wrt: "y" }, "numpy").split("?")[1]);
    expect(p.get("mode")).toBe("forward");
    expect(p.get("wrt")).toBe("y");
  });
});
