"""What drawing the values nobody gave costs (backend/gradtrace/infer.py), against the same trace
with every value typed, interleaved in one run.

    python bench/bench_infer.py [--repeat 30]

For each program: the median time of a trace with no value given (the solver infers the shapes,
values are drawn), of the same trace with the drawn values typed in the request (no solver), and
their ratio; then the solver alone on hostile programs (free inputs chained so that every op
asks for a search), which its budget bounds. The solver's answers are cached by structure, so
the first column is measured with the cache cleared each time (the cost of the first trace of a
program; a dragged slider pays nothing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from gradtrace import GradtraceError, trace
from gradtrace.analysis import compile_graph
from gradtrace.engine import Graph
from gradtrace.infer import _SOLVED, infer_shapes
from gradtrace.settings import get_settings

PROGRAMS = {
    "circuit": "(x + y) * z",
    "issue example": "h = relu(X @ W1); L = sum(h)",
    "two-layer": "h = sigmoid(X @ W1); out = sigmoid(h @ W2); cost = sum((out - y)^2) / 2",
    "softmax CE": "scores = X @ W + b; L = cross_entropy(scores, y)",
    "tiny CNN": "h = relu(conv2d(X, K, stride=2, padding=1)); p = max_pool2d(h, 2, stride=2); "
                "s = flatten(p) @ W; L = cross_entropy(s, y)",
    "dot of two vectors": "z = dot(x, y)",
}
HOSTILE = {
    "400 free inputs chained by @": " @ ".join(f"a{i}" for i in range(400)),
    "300 dots of free vectors": " + ".join(f"dot(a{i}, b{i})" for i in range(300)),
    "250 conv2d of free inputs": " + ".join(f"sum(conv2d(x{i}, w{i}))" for i in range(250)),
    "400 layers y = y @ W_i": "y = x\n" + "\n".join(f"y = y @ W{i}" for i in range(400)),
}


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    print(f"{'program':24} {'drawn ms':>9} {'typed ms':>9} {'ratio':>6}")
    for name, expr in PROGRAMS.items():
        t = trace(expr)
        typed = {n["label"]: n["value"] for n in t["nodes"] if n["kind"] == "input"}

        def drawn(expr: str = expr) -> None:
            _SOLVED.clear()
            trace(expr)

        def given(expr: str = expr, typed: dict[str, object] = typed) -> None:
            trace(expr, typed)

        # Interleaved: one of each, repeat times, so that both see the same machine.
        a, b = [], []
        for _ in range(args.repeat):
            a.append(timed(drawn, 1))
            b.append(timed(given, 1))
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{name:24} {ma:9.2f} {mb:9.2f} {ma / mb:6.2f}")
    print()
    print(f"{'hostile program':32} {'nodes':>6} {'solver ms':>10}  outcome")
    settings = get_settings()
    for name, expr in HOSTILE.items():
        graph = compile_graph(expr, {}, settings)

        def solve(graph: Graph = graph) -> None:
            _SOLVED.clear()
            infer_shapes(graph, {})

        ms = timed(solve, max(3, args.repeat // 10))
        try:
            trace(expr)
            outcome = "traced"
        except GradtraceError as exc:
            outcome = f"{exc.type} error (budget spent)"
        print(f"{name:32} {len(graph.nodes):6} {ms:10.1f}  {outcome}")


if __name__ == "__main__":
    main()
