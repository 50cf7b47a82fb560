"""How long each pathological input of tests/test_hardening.py takes, through the app in-process.

    python bench/bench_pathological.py

The tests assert that each gets a 4xx or a finite-or-IEEE answer (never a 5xx or a hang); this
prints the status and the time of each, as the issue asks for "within 2 s".
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from fastapi.testclient import TestClient

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from gradtrace import GradtraceError, trace
from gradtrace.api import create_app
from tests.test_hardening import PATHOLOGICAL


def main() -> None:
    client = TestClient(create_app())
    print(f"{'input':28} {'status':>7} {'median ms':>10} {'max ms':>8}")
    for name, (expr, values) in PATHOLOGICAL.items():
        times = []
        status = "-"
        for _ in range(3):
            t0 = time.perf_counter()
            if name == "1e8-element value":  # ~200 MB as JSON: what the engine does with it
                try:
                    trace(expr, values)
                    status = "200"
                except GradtraceError:
                    status = "400"
            else:
                status = str(client.post("/api/trace", json={"expr": expr,
                                                             "values": values}).status_code)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"{name:28} {status:>7} {statistics.median(times):>10.1f} {max(times):>8.1f}")


if __name__ == "__main__":
    main()
