import { describe, expect, it } from "vitest";
import { shareLinks } from "../src/share";

describe("share links", () => {
  const links = shareLinks("http://h:1", { expr: "(x + y) * z", values: { x: -2, step: 3 }, step: "b3" }, "projector");
  it("put the same query on every link", () => {
    const q = "expr=%28x+%2B+y%29+*+z&x=-2&v.step=3&step=b3&theme=projector";
    expect(links.page).toBe(`http://h:1/?${q}`);
    expect(links.embed).toBe(`http://h:1/embed/?${q}`);
    expect(links.svg).toBe(`http://h:1/api/picture.svg?${q}`);
    expect(links.html).toBe(`http://h:1/api/standalone.html?${q}`);
  });
  it("escape the iframe snippet's attribute", () => {
    expect(links.iframe).toContain('src="http://h:1/embed/?expr=%28x+%2B+y%29+*+z&amp;x=-2&amp;v.step=3');
    expect(links.iframe).not.toMatch(/&(?!amp;)/);
    expect(links.iframe).toContain('title="gradtrace"'); // a frame needs an accessible name
  });
});
