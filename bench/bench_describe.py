"""The words' cost: a step said (describe.py, the text of GET /api/describe and of the pictures'
<desc>) against the step drawn (render_svg, the SVG it goes in), on the same record and step.

    python bench/bench_describe.py [--repeat 20]

For each graph: the median time of describe.describe (all that /api/describe answers: the view's
title and description, both narrations, every node's description at the step) and of the step's
SVG, interleaved in one run, with their ratio. Both start from the
record (the trace and the layout are not timed: they are shared)."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from gradtrace import trace
from gradtrace.analysis import compile_graph
from gradtrace.describe import describe
from gradtrace.layout import compute_layout
from gradtrace.render import render_svg
from gradtrace.settings import get_settings

CASES = {
    "circuit": ("(x + y) * z", {"x": -2.0, "y": 5.0, "z": -4.0}),
    "sigmoid-neuron": ("f = 1 / (1 + exp(-(w0 * x0 + w1 * x1 + w2)))",
                       {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}),
    "two-layer": ("h = sigmoid(X @ W1); out = sigmoid(h @ W2); cost = sum((out - y)^2) / 2",
                  {"X": [[0.1, 0.2]], "W1": [[0.3, 0.4], [0.5, 0.6]], "W2": [[0.7], [0.8]],
                   "y": 1.0}),
    "chain of 100": ("; ".join(f"h{i} = tanh({'x' if i == 0 else f'h{i - 1}'} * w + 1)"
                               for i in range(100)), {"x": 0.5, "w": 0.9}),
}


def once_ms(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    settings = get_settings()
    print(f"{'graph':<16}{'nodes':>6}{'describe ms':>13}{'picture ms':>12}{'ratio':>8}")
    for name, (expr, values) in CASES.items():
        record = dict(trace(expr, values))
        layout = compute_layout(compile_graph(expr, values, settings), settings)
        # The first backward step past the output: upstream, locals and downstream all said.
        index = len(record["forward"]) + min(1, len(record["backward"]) - 1)

        step = f"b{index - len(record['forward']) + 1}"

        def words(record: dict[str, Any] = record, step: str = step) -> None:
            describe(record, step)

        def picture(record: dict[str, Any] = record, layout: Any = layout,
                    step: str = step) -> None:
            render_svg(record, layout, step)

        # Interleaved: each round times both, so that a busy machine slows both alike.
        said, drawn = [], []
        for _ in range(args.repeat):
            said.append(once_ms(words))
            drawn.append(once_ms(picture))
        w, p = statistics.median(said), statistics.median(drawn)
        print(f"{name:<16}{len(record['nodes']):>6}{w:>13.2f}{p:>12.2f}{w / p:>8.2f}")


if __name__ == "__main__":
    main()
