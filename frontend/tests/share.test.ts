import { describe, expect, it } from "vitest";
import { attr, fallbackWords, fetchOffline, linkLength, markdownAlt, MAX_LINK, SHARE_ROWS, shareLinks, tooLongWords } from "../src/share";

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
    // A frame needs an accessible name: without the view's words, the expression's.
    expect(links.iframe).toContain('title="gradtrace: (x + y) * z"');
  });
});

describe("the snippets' text alternatives", () => {
  const words = {
    title: "(x + y) * z, backward step 3 of 5",
    text: 'Backward step 3 of 5: q = x + y receives upstream gradient −4 & sends "−4" to x [and y] <both>.\nThe end.',
  };
  const state = { expr: "(x + y) * z", values: { x: -2, y: 5, z: -4 }, step: "b3" };
  const links = shareLinks("http://h:1", state, "light", "down", words);

  it("title the iframe with what it shows", () => {
    expect(links.iframe).toContain(`title="${attr(words.title)}"`);
    expect(links.iframe).toContain('title="(x + y) * z, backward step 3 of 5"');
  });

  it("give the PNG as an HTML image whose alt text describes the graph and the step", () => {
    expect(links.img).toBe(`<img src="${attr(links.png)}" alt="${attr(words.text)}">`);
    // The description cannot end the attribute or open a tag.
    const alt = /alt="([^"]*)"/.exec(links.img)![1];
    expect(alt).toBe("Backward step 3 of 5: q = x + y receives upstream gradient −4 &amp; sends &quot;−4&quot; to x [and y] &lt;both&gt;.\nThe end.");
    expect(links.img).not.toMatch(/&(?!amp;|quot;|lt;|gt;)/);
  });

  it("give the PNG as a Markdown image, its alt text on one line with its brackets escaped", () => {
    expect(links.markdown).toBe(`![${markdownAlt(words.text)}](${links.png})`);
    expect(markdownAlt(words.text)).toBe('Backward step 3 of 5: q = x + y receives upstream gradient −4 & sends "−4" to x \\[and y\\] <both>. The end.');
    expect(markdownAlt("a \\ b")).toBe("a \\\\ b");
    // The URL has neither a space nor a ")" that would end the link early.
    const url = links.markdown.slice(links.markdown.indexOf("](") + 2, -1);
    expect(url).not.toMatch(/[ )]/);
  });

  it("say what the view is when no words are known (no trace yet)", () => {
    expect(fallbackWords({ expr: " a * b " })).toEqual({ title: "gradtrace: a * b", text: "The computational graph of a * b, drawn by gradtrace." });
    expect(fallbackWords({})).toEqual({ title: "gradtrace", text: "A computational graph drawn by gradtrace." });
    const bare = shareLinks("http://h:1", { expr: "a * b" }, "light");
    expect(bare.img).toContain('alt="The computational graph of a * b, drawn by gradtrace."');
  });

  it("are fields of the share panel, as the links are", () => {
    const keys = SHARE_ROWS.map(([k]) => k);
    expect(keys).toEqual(expect.arrayContaining(["iframe", "img", "markdown"]));
    expect(new Set(keys).size).toBe(keys.length);
    expect(Object.keys(links).sort()).toEqual([...keys].sort());
  });
});

describe("links too long to open", () => {
  // A matrix of n×n numbers typed: about 9 characters a number once percent-encoded.
  const big = (n: number) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => i + j / 7));
  it("are measured by the longest link (they carry one query)", () => {
    const small = shareLinks("http://h:1", { expr: "sum(A)", values: { A: big(3) } }, "light");
    const { bytes, tooLong } = linkLength(small);
    expect(bytes).toBe(small.png.length); // the PNG's adds &scale=2
    expect(tooLong).toBe(false);
  });
  it("pass the server's limit on a request's head less the browser's headers", () => {
    expect(MAX_LINK).toBe(16 * 1024 - 2 * 1024);
    const long = shareLinks("http://h:1", { expr: "sum(A)", values: { A: big(40) } }, "light");
    const { bytes, tooLong } = linkLength(long);
    expect(bytes).toBeGreaterThan(MAX_LINK);
    expect(tooLong).toBe(true);
    // Just at the limit: still a link.
    const at = { ...long, page: "x".repeat(MAX_LINK), embed: "", svg: "", png: "", pdf: "", html: "" };
    expect(linkLength(at).tooLong).toBe(false);
    expect(linkLength({ ...at, page: "x".repeat(MAX_LINK + 1) }).tooLong).toBe(true);
  });
  it("are said in plain words, with the offline file instead", () => {
    expect(tooLongWords(23456)).toBe(
      "The values typed make these links 23,456 characters long, more than the server takes (14,336): they would not open. " +
        "Share the offline file instead: one HTML file with this whole view, which steps through without a server.",
    );
  });
  it("ask for the offline file by POST, the query in the body", async () => {
    const calls: [string, RequestInit | undefined][] = [];
    const ok = (async (url: string, init?: RequestInit) => {
      calls.push([url, init]);
      return new Response("<html></html>", { status: 200, headers: { "content-type": "text/html" } });
    }) as typeof fetch;
    const blob = await fetchOffline("expr=sum%28A%29&A=%5B1%5D", ok);
    expect(await blob.text()).toBe("<html></html>");
    expect(calls[0][0]).toBe("/api/standalone.html");
    expect(calls[0][1]?.method).toBe("POST");
    expect(calls[0][1]?.body).toBe("expr=sum%28A%29&A=%5B1%5D");
    // A server that makes it only from a link says so in words.
    const old = (async () => new Response("{}", { status: 405 })) as typeof fetch;
    await expect(fetchOffline("expr=x", old)).rejects.toThrow("this server makes the offline file only from a link, and this view's link is too long");
    const bad = (async () => new Response(JSON.stringify({ error: { message: "unknown name 'q'" } }), { status: 400 })) as typeof fetch;
    await expect(fetchOffline("expr=x", bad)).rejects.toThrow("unknown name 'q'");
  });
});

describe("the pictures' links", () => {
  it("draw the graph the way it is drawn here, unless the view chose a direction", () => {
    const state = { expr: "(x + y) * z", values: { x: -2 } };
    const links = shareLinks("http://h", state, "light", "down");
    expect(links.svg).toContain("dir=down");
    expect(links.page).not.toContain("dir=");
    expect(links.embed).not.toContain("dir=");
    const chosen = shareLinks("http://h", { ...state, dir: "right" }, "light", "down");
    expect(chosen.png).toContain("dir=right");
    expect(chosen.png).not.toContain("dir=down");
  });
});
