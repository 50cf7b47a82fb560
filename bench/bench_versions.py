#!/usr/bin/env python3
"""The API's trace path of this checkout against an earlier revision, interleaved in one run.

For each workload of bench_trace.py (scalar graphs of ~10, ~100 and ~1,000 nodes, the 3-layer
MLP), it times what `POST /api/trace` does between the request's bytes and the answer's (the job
of jobs.py; before it, pydantic's parse and the route's `_trace_body` with a cache that keeps
nothing), in worker processes that alternate
between the two trees (base, head, base, head, ...) so that both see the same machine. It prints
each side's median over the rounds and the ratio head / base.

    python bench/bench_versions.py                  # against the previous commit (HEAD~1)
    python bench/bench_versions.py --base bf162a4   # against any revision
    python bench/bench_versions.py --rounds 6 --repeat 40
    python bench/bench_versions.py --parse --base f080c67   # parsing alone (parser.parse)

`--parse` times `parser.parse(expr)` alone (text to syntax tree: the surface notations' line
pass, tokens, names and grammar), on the ~1,000-node program and a 1,000-node expression on one
line, against the parser before the surface notations (f080c67).

The base revision is checked out with `git worktree` into a temporary folder (removed after).
A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def worker(workloads_file: str, repeat: int, parse_only: bool) -> None:
    """Run in a child whose PYTHONPATH is one tree's backend: print {name: median seconds}."""
    import gc
    from collections.abc import Callable

    from gradtrace.settings import get_settings

    settings = get_settings()
    run_once: Callable[[bytes], Any]
    if parse_only:
        from gradtrace.parser import parse

        def run_once(raw: bytes) -> Any:
            return parse(json.loads(raw)["expr"])
    else:
        run_once = _trace_job(settings)
    out: dict[str, float] = {}
    for w in json.loads(Path(workloads_file).read_text()):
        body = json.dumps({"expr": w["expr"], "values": w["values"]}).encode()
        for _ in range(3):
            run_once(body)
        gc.collect()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            run_once(body)
            times.append(time.perf_counter() - t0)
        out[w["name"]] = statistics.median(times)
    print(json.dumps(out))


def _trace_job(settings: Any) -> Any:
    """POST /api/trace's work in this tree: the body's bytes to the answer's."""
    from collections.abc import Callable

    run_once: Callable[[bytes], bytes]
    try:  # the body's bytes to the answer's, as the lanes run it (jobs.py)
        from gradtrace.cancel import CancelToken
        from gradtrace.jobs import trace as job

        def run_once(raw: bytes) -> bytes:
            return job(raw, settings, cancel=CancelToken(), layouts=None, budget=None)
    except ImportError:  # before jobs.py: FastAPI parsed the body, then the route's _trace_body
        from gradtrace.api.cache import BodyCache
        from gradtrace.api.routes import TraceRequest, _trace_body

        cache = BodyCache(0)  # stores nothing: every call does the whole work

        def run_once(raw: bytes) -> bytes:
            return _trace_body(TraceRequest.model_validate_json(raw), settings, cache)

    return run_once


def workloads(parse_only: bool = False) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_trace

    # The workloads of bench_trace.py, with its seeds.
    ws = [bench_trace.scalar_workload(n, k, seed=s) for n, k, s in ((10, 3, 4), (100, 4, 2),
                                                                     (1000, 8, 3))]
    if parse_only:
        # One line of 1,000 nodes: 250 products of names and numbers, summed.
        terms = " + ".join(f"x{k % 8} * {k % 7 + 1}.5" for k in range(250))
        return [{"name": w.name, "expr": w.expr, "values": {}} for w in ws[1:]] + [
            {"name": "1,000-node expression, one line", "expr": terms, "values": {}}]
    ws.append(bench_trace.mlp_workload())
    return [{"name": w.name, "expr": w.expr, "values": w.values} for w in ws]


def run(tree: Path, workloads_file: str, repeat: int, parse_only: bool) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree / "backend"), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                           workloads_file, "--repeat", str(repeat),
                           *(["--parse"] if parse_only else [])],
                          env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="HEAD~1", help="the revision to compare with")
    ap.add_argument("--rounds", type=int, default=4, help="alternations of base and head")
    ap.add_argument("--repeat", type=int, default=20, help="timed calls per workload and round")
    ap.add_argument("--parse", action="store_true", help="time parser.parse alone")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.repeat, args.parse)
        return
    with tempfile.TemporaryDirectory(prefix="gradtrace-versions-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base),
                        args.base], check=True)
        try:
            wfile = str(Path(tmp) / "workloads.json")
            Path(wfile).write_text(json.dumps(workloads(args.parse)))
            results: dict[str, list[dict[str, float]]] = {"base": [], "head": []}
            for r in range(args.rounds):
                for side, tree in (("base", base), ("head", ROOT)):
                    results[side].append(run(tree, wfile, args.repeat, args.parse))
                print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                           check=False)
    base_rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base],
                              capture_output=True, text=True, check=False).stdout.strip()
    what = ("parser.parse (text -> syntax tree)" if args.parse
            else "POST /api/trace work (request -> response bytes)")
    print(f"{what}, median of {args.rounds} rounds of {args.repeat} calls; base {base_rev}, "
          "head = this checkout")
    print(f"{'workload':28} {'base ms':>10} {'head ms':>10} {'head/base':>10}")
    for name in results["base"][0]:
        b = statistics.median(r[name] for r in results["base"]) * 1e3
        h = statistics.median(r[name] for r in results["head"]) * 1e3
        print(f"{name:28} {b:10.3f} {h:10.3f} {h / b:10.2f}")


if __name__ == "__main__":
    main()
