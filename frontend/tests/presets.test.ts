import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { decodePreset, type Preset } from "../src/api";
import { PresetsGallery } from "../src/presets";

// Just enough of the DOM for htmlEl (the tests run in node).
class FakeElement {
  className = "";
  textContent: string | null = null;
  readonly attributes = new Map<string, string>();
  children: FakeElement[] = [];
  private readonly listeners = new Map<string, (() => void)[]>();
  constructor(readonly tagName: string) {}
  setAttribute(k: string, v: string): void { this.attributes.set(k, v); }
  getAttribute(k: string): string | null { return this.attributes.get(k) ?? null; }
  appendChild(c: FakeElement): FakeElement { this.children.push(c); return c; }
  replaceChildren(...cs: FakeElement[]): void { this.children = cs; }
  addEventListener(type: string, f: () => void): void { this.listeners.set(type, [...(this.listeners.get(type) ?? []), f]); }
  click(): void { for (const f of this.listeners.get("click") ?? []) f(); }
  byClass(cls: string): FakeElement | undefined { return this.children.find((c) => c.className.split(" ").includes(cls)); }
}

const SEEDS: Preset[] = [
  {
    key: "circuit",
    title: "The circuit (x + y) z",
    source: "EECS 498 Deep Learning for Computer Vision, lecture notes on backpropagation",
    lesson: "Upstream times local gives downstream.",
    expr: "(x + y) * z",
    values: { x: -2, y: 5, z: -4 },
    output: -12,
    gradients: { x: -4, y: -4, z: 3 },
  },
  decodePreset({
    key: "seeded", title: "Sigmoid with a given output gradient", source: "notes", lesson: "A seed.",
    expr: "sigmoid(x)", values: { x: 0 }, output: 0.5, gradients: { x: 0.5 }, seed: 2,
  }),
];

describe("the presets gallery", () => {
  beforeEach(() => vi.stubGlobal("document", { createElement: (tag: string) => new FakeElement(tag) }));
  afterEach(() => vi.unstubAllGlobals());

  const gallery = (): { g: PresetsGallery; list: FakeElement } => {
    const g = new PresetsGallery(new FakeElement("div") as unknown as HTMLElement);
    const list = (g.el as unknown as FakeElement).children.find((c) => c.className === "presets-list")!;
    return { g, list };
  };

  it("shows each example's title, lesson and source", () => {
    const { g, list } = gallery();
    g.show(SEEDS);
    expect(list.tagName).toBe("ul");
    expect(list.children).toHaveLength(2);
    const card = list.children[0];
    expect(card.tagName).toBe("li");
    expect(card.getAttribute("data-testid")).toBe("preset-circuit");
    const b = card.byClass("preset-title")!;
    expect(b.tagName).toBe("button");
    expect(b.textContent).toBe("The circuit (x + y) z");
    expect(card.byClass("preset-lesson")?.textContent).toBe("Upstream times local gives downstream.");
    expect(card.byClass("preset-source")?.textContent).toMatch(/^EECS 498/);
    // Named by its title, the text it shows (so a voice command saying it finds it); described by
    // the lesson and the source beside it; the expression on hover.
    expect(b.getAttribute("aria-labelledby")).toBeNull();
    const described = b.getAttribute("aria-describedby")?.split(" ");
    expect(described).toEqual([card.byClass("preset-lesson")?.getAttribute("id"), card.byClass("preset-source")?.getAttribute("id")]);
    expect(b.getAttribute("title")).toBe("(x + y) * z");
    const ids = list.children.flatMap((c) => c.children.map((s) => s.getAttribute("id")).filter((x) => x !== null));
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("hands the picked example, seed and all, to onPick", () => {
    const { g, list } = gallery();
    const picked: Preset[] = [];
    g.onPick = (p) => picked.push(p);
    g.show(SEEDS);
    list.children[1].byClass("preset-title")!.click();
    expect(picked).toEqual([SEEDS[1]]);
    expect(picked[0].seed).toBe(2);
  });

  it("replaces the list on each show, and by a note on error", () => {
    const { g, list } = gallery();
    g.show(SEEDS);
    g.show(SEEDS.slice(1));
    expect(list.children.map((c) => c.getAttribute("data-testid"))).toEqual(["preset-seeded"]);
    g.showError("examples unavailable: offline");
    expect(list.children).toHaveLength(1);
    expect(list.children[0]).toMatchObject({ className: "note", textContent: "examples unavailable: offline" });
  });
});
