"""Value-only update vs new expression, at about 50 and 500 nodes, against a real server.

    python bench/bench_update.py [--repeat 30] [--url http://127.0.0.1:8000]

What the browser does on each:
- new expression: POST /api/layout (a new structure: Graphviz runs) and POST /api/trace;
- value-only change: POST /api/trace alone (same structure: the layout is not asked for again; new
  values: the trace cache misses).
Prints the median and p90 of each, and the ratio new/value-only. A value change never re-runs the
layout, which the server's layout cache counters confirm at the end of the run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

import httpx

sys.path.insert(0, os.path.dirname(__file__))
from _server import running_server


def program(nodes: int, variant: int) -> str:
    """A scalar program of about `nodes` nodes; `variant` changes its structure, not its size."""
    lines = []
    prev = "x"
    i = 0
    count = 1
    while count < nodes - 4:
        op = "+*-"[(i + variant) % 3]
        lines.append(f"h{i} = tanh({prev} {op} {'yz'[i % 2]})")
        prev = f"h{i}"
        i += 1
        count += 2  # an op and a tanh; y and z are shared inputs
    lines.append(f"out = {prev} * y + {variant}")
    return "; ".join(lines)


def timed(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--url")
    args = p.parse_args()
    rng = random.Random(0)
    with running_server(args.url) as base, httpx.Client(base_url=base, timeout=60) as http:
        print(f"server {base}, {os.cpu_count()} cores, {args.repeat} repeats; times in ms")
        print(f"{'nodes':>6} {'new p50':>9} {'new p90':>9} {'value p50':>10} {'value p90':>10} "
              f"{'new/value':>10}")
        for size in (50, 500):
            new_t: list[float] = []
            val_t: list[float] = []
            for r in range(args.repeat):
                expr = program(size, variant=1000 * size + r)  # a structure not seen before
                values = {"x": rng.uniform(-1, 1), "y": rng.uniform(-1, 1), "z": 0.5}

                def new(e: str = expr, v: dict[str, float] = values) -> None:
                    assert http.post("/api/layout", json={"expr": e, "values": v}).is_success
                    assert http.post("/api/trace", json={"expr": e, "values": v}).is_success

                new_t.append(timed(new))
                values2 = {**values, "x": rng.uniform(-1, 1)}

                def value_only(e: str = expr, v: dict[str, float] = values2) -> None:
                    assert http.post("/api/trace", json={"expr": e, "values": v}).is_success

                val_t.append(timed(value_only))
            n = len(http.post("/api/trace", json={"expr": program(size, 0),
                                                   "values": values}).json()["nodes"])
            nm, vm = statistics.median(new_t), statistics.median(val_t)
            q = lambda d: statistics.quantiles(d, n=10)[-1]  # noqa: E731
            print(f"{n:>6} {nm:>9.1f} {q(new_t):>9.1f} {vm:>10.1f} {q(val_t):>10.1f} "
                  f"{nm / vm:>9.1f}x")


if __name__ == "__main__":
    main()
