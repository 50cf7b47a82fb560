"""Browser benchmark: how fast the page answers a slider and a new expression.

Starts its own server (`python -m gradtrace serve` on a free port, serving frontend/dist), drives
Debian's chromium with Playwright, loads the three-layer preset and:

1. drags the slider of W1 (it edits the selected entry of the matrix) N times, each time timing,
   in the page, from the slider's `input` event to the next animation frame after the new
   gradients are in the DOM (window.__gradtrace.whenRendered());
2. drags it with the real mouse for a while (events coalesce: at most one request in flight),
   and counts repaints;
3. types new expressions (a new structure each time, so a new layout) and times from the last
   character's `input` event to the next frame after the graph is drawn (this includes the
   200 ms typing debounce).

Prints figures; it is not a test.  Usage: python bench/browser_bench.py [--n 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, os.path.dirname(__file__))
from _server import running_server

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# One slider step, timed in the page: input event -> trace -> DOM -> next frame.
SLIDER_STEP = """
async (value) => {
  const s = document.querySelector('[data-testid=slider-W1]');
  const done = window.__gradtrace.whenRendered();
  const t0 = performance.now();
  s.value = String(value);
  s.dispatchEvent(new Event('input', { bubbles: true }));
  const t1 = await done;
  return [t1 - t0, window.__gradtrace.trace.gradients.W1[0][0]];
}
"""

LAST_INPUT = """
() => {
  const box = document.querySelector('[data-testid=expr-input]');
  window.__lastInput = 0;
  box.addEventListener('input', () => { window.__lastInput = performance.now(); });
}
"""

GRAPH_SHOWN = """
async (expr) => {
  while (!(window.__gradtrace.trace && window.__gradtrace.trace.expr === expr)) {
    await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise((r) => requestAnimationFrame(() => r()));
  return performance.now() - window.__lastInput;
}
"""


def pct(xs: list[float], q: float) -> float:
    ys = sorted(xs)
    return ys[min(len(ys) - 1, round(q * (len(ys) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="slider steps to time")
    ap.add_argument("--exprs", type=int, default=6, help="new expressions to type")
    args = ap.parse_args()
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        print("frontend/dist is missing: cd frontend && npm ci && npm run build", file=sys.stderr)
        return 2
    with running_server() as base:
        chromium = os.environ.get("GRADTRACE_CHROMIUM") or shutil.which("chromium")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium or "/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            t = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_selector("[data-node-id]")
            print(f"first load to graph on screen: {1000 * (time.perf_counter() - t):.0f} ms")
            page.click("[data-testid=preset-three-layer]")
            page.wait_for_function(
                "() => window.__gradtrace.trace && window.__gradtrace.trace.expr.startsWith('h1')"
            )
            page.click("[data-testid=graph]")
            page.keyboard.press("End")  # every gradient on screen

            # 1. Slider steps, one at a time.
            page.evaluate(SLIDER_STEP, 0.3)  # warm-up
            times: list[float] = []
            for i in range(args.n):
                ms, _ = page.evaluate(SLIDER_STEP, round(0.3 + 0.5 * ((i % 50) / 50), 3))
                times.append(ms)
            print(
                f"slider (W1[0][0]) input event -> repainted gradients, {len(times)} steps: "
                f"median {statistics.median(times):.1f} ms, p95 {pct(times, 0.95):.1f} ms, "
                f"max {max(times):.1f} ms"
            )

            # 2. A real mouse drag across the slider.
            page.locator("[data-testid=slider-W1]").scroll_into_view_if_needed()
            box = page.locator("[data-testid=slider-W1]").bounding_box()
            assert box is not None
            y = box["y"] + box["height"] / 2
            page.evaluate("() => { window.__inputs = 0; document.querySelector("
                          "'[data-testid=slider-W1]').addEventListener('input', "
                          "() => window.__inputs++); }")
            paints0 = page.evaluate("() => window.__gradtrace.renders")
            page.mouse.move(box["x"] + box["width"] * 0.5, y)
            page.mouse.down()
            t = time.perf_counter()
            moves = 120
            for k in range(moves):
                page.mouse.move(box["x"] + box["width"] * (0.5 + 0.3 * ((k % 40) / 40)), y)
            page.mouse.up()
            page.wait_for_timeout(300)
            dt = time.perf_counter() - t
            inputs = page.evaluate("() => window.__inputs")
            renders = page.evaluate("() => window.__gradtrace.renders") - paints0
            print(
                f"mouse drag: {inputs} input events in {dt * 1000:.0f} ms, {renders} repaints "
                f"({renders / dt:.0f} per second; stale values are skipped, never queued)"
            )

            # 3. Typing a new expression (new structure: a new layout each time).
            page.evaluate(LAST_INPUT)
            typed: list[float] = []
            box_in = page.locator("[data-testid=expr-input]")
            for k in range(args.exprs):
                expr = (
                    "h1 = relu(X @ W1); h2 = relu(h1 @ W2); pred = sigmoid(h2 @ W3); "
                    f"cost = sum((pred - y)^2 / {k + 3})"
                )
                box_in.fill(expr[:-2])
                page.wait_for_timeout(350)
                box_in.press_sequentially(expr[-2:], delay=30)
                typed.append(page.evaluate(GRAPH_SHOWN, expr))
            print(
                f"last character typed -> new graph on screen, {len(typed)} expressions: "
                f"median {statistics.median(typed):.0f} ms, max {max(typed):.0f} ms "
                "(includes the 200 ms typing debounce)"
            )
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
