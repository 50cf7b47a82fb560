"""How well each job's declared cost (cost.py) predicts what it takes, and where each lands.

    python bench/bench_cost.py              # every workload, 3 repeats (about 2 minutes)
    python bench/bench_cost.py --repeat 1   # one run each
    python bench/bench_cost.py --only check

For each workload and job kind (trace, check, Hessian, layout, SVG and PNG picture, offline file,
code), it runs the job as the API does (jobs.py, no budget, a fresh layout cache so layouts are
new) and prints: the estimate in ms, the CPU measured in ms (this process's CPU plus its children's,
which counts `dot` and `rsvg-convert`; the minimum over repeats), the ratio measured/estimate, and
the lane the estimate chooses at the default budget (`light_work_s`, `light_tool_s`; the API also
sends any body or query over `light_request_bytes` to the heavy lane unread, so the MLP's rows,
3 MB of values, never run light). A ratio above 1 means the estimate is optimistic: such work
could run in the light lane for longer than its budget. Below the table, the largest ratio per
kind, and whether any workload within the default limits costs over 1 s of CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

sys.path.insert(0, os.path.dirname(__file__))
from bench_trace import Workload, mlp_workload, scalar_workload

from gradtrace import jobs
from gradtrace.analysis import analyse
from gradtrace.cancel import CancelToken
from gradtrace.cost import Budget, Cost, OverBudget, Seconds, admit, layout
from gradtrace.errors import GradtraceError
from gradtrace.layout import LayoutCache
from gradtrace.schema import TraceRequest
from gradtrace.settings import Settings


def cpu() -> float:
    own, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                     resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(fn: Callable[[], Any], repeat: int) -> float | str:
    best = float("inf")
    for _ in range(repeat):
        t0 = cpu()
        try:
            fn()
        except GradtraceError as exc:
            return f"4xx: {exc.message[:60]}"
        best = min(best, cpu() - t0)
    return best


def cost_of(w: Workload, settings: Settings, check: bool = False,
            hessian: bool = False) -> Cost:
    found: list[Cost] = []

    def grab(c: Cost) -> None:
        found.append(c)
        raise _Stop()

    with contextlib.suppress(_Stop):
        analyse(TraceRequest.model_construct(expr=w.expr, values=w.values, seed=None,
                                             mode="reverse", wrt=None, tangent=None,
                                             check=check, hessian=hessian), settings, admit=grab)
    return found[0]


class _Stop(Exception):
    pass


def query(w: Workload, **extra: str) -> list[tuple[str, str]]:
    return [("expr", w.expr), *((k, orjson.dumps(v).decode()) for k, v in w.values.items()),
            *extra.items()]


def rows(w: Workload, settings: Settings) -> list[tuple[str, Seconds, Callable[[], Any]]]:
    """(kind, estimate in s, the job) for each job kind of this workload."""
    kw: dict[str, Any] = {"cancel": CancelToken(), "budget": None}

    def fresh() -> LayoutCache:
        return LayoutCache(4)

    def body(**extra: Any) -> bytes:
        return orjson.dumps({"expr": w.expr, "values": w.values, **extra})

    base = cost_of(w, settings)
    out: list[tuple[str, Seconds, Callable[[], Any]]] = [
        ("trace", base.trace, lambda: jobs.trace(body(), settings, layouts=fresh(), **kw)),
        ("check", cost_of(w, settings, check=True).trace,
         lambda: jobs.trace(body(check=True), settings, layouts=fresh(), **kw)),
        ("hessian", cost_of(w, settings, hessian=True).trace,
         lambda: jobs.trace(body(hessian=True), settings, layouts=fresh(), **kw)),
    ]
    q = query(w, step="end")
    from gradtrace.analysis import compile_graph
    graph = compile_graph(w.expr, w.values, settings)
    out += [
        ("layout", layout(graph, settings),
         lambda: jobs.layout(orjson.dumps({"expr": w.expr, "values": w.values}), settings,
                             layouts=fresh(), **kw)),
        ("picture.svg", base.picture("svg"),
         lambda: jobs.picture(q, "svg", settings, layouts=fresh(), **kw)),
        ("picture.png", base.picture("png"),
         lambda: jobs.picture(q, "png", settings, layouts=fresh(), **kw)),
        ("standalone", base.standalone(),
         lambda: jobs.standalone(q, settings, layouts=fresh(), **kw)),
        ("code", base.code, lambda: jobs.code(q, "numpy", settings, layouts=fresh(), **kw)),
    ]
    return out


def cnn_workload(seed: int = 0) -> Workload:
    """The layers of issue 12 near the size limits: a padded convolution over a batch of 8
    32x32x3 images into 16 channels (131,072 outputs, 3.5 M multiply-adds), max-pooling,
    layer_norm, a linear layer and cross-entropy with labels."""
    rng = np.random.default_rng(seed)
    values = {
        "X": rng.standard_normal((8, 32, 32, 3)).round(3).tolist(),
        "K": (rng.standard_normal((3, 3, 3, 16)) * 0.3).round(3).tolist(),
        "W": (rng.standard_normal((10, 4096)) * 0.02).round(4).tolist(),
        "b": [0.0] * 10,
        "y": rng.integers(0, 10, size=8).astype(float).tolist(),
    }
    expr = ("h = relu(conv2d(X, K, padding='same'))\np = max_pool2d(h, 2)\n"
            "f = layer_norm(flatten(p, 1))\nL = cross_entropy(linear(f, W, b), y)")
    return Workload("cnn-8x32x32", expr, values, repeat_scale=0.5)


def workloads() -> list[Workload]:
    few = [scalar_workload(n, k) for n, k in ((12, 3), (60, 8), (250, 20), (500, 40),
                                              (900, 64))]
    return [*few, mlp_workload(), cnn_workload()]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", default="", help="job kinds or workloads whose name has this")
    args = p.parse_args(argv)
    settings = Settings()
    budget = Budget(settings.light_work_s, settings.light_tool_s)
    print(f"light lane: {settings.light_work_s * 1000:.0f} ms in the server, "
          f"{settings.light_tool_s * 1000:.0f} ms in tools; CPU = this process + children "
          f"(dot, rsvg-convert); load average {os.getloadavg()[0]:.2f}")
    print(f"{'workload':26} {'job':12} {'estimate ms':>12} {'measured ms':>12} {'ratio':>6}  lane")
    worst: dict[str, float] = {}
    over_second: list[str] = []
    for w in workloads():
        for kind, est, fn in rows(w, settings):
            if args.only and args.only not in kind and args.only not in w.name:
                continue
            got = measure(fn, args.repeat)
            try:
                admit(est, budget)
                lane = "light"
            except OverBudget:
                lane = "heavy"
            est = est.total
            if isinstance(got, str):
                print(f"{w.name:26} {kind:12} {est * 1000:12.1f} {got}")
                continue
            ratio = got / est if est > 0 else float("inf")
            worst[kind] = max(worst.get(kind, 0.0), ratio)
            if got > 1.0:
                over_second.append(f"{w.name} {kind}: {got:.2f} s")
            print(f"{w.name:26} {kind:12} {est * 1000:12.1f} {got * 1000:12.1f} {ratio:6.2f}  "
                  f"{lane}")
    print("\nlargest measured/estimate per job:",
          ", ".join(f"{k} {v:.2f}" for k, v in worst.items()))
    print("over 1 s of CPU within the limits:", "; ".join(over_second) or "none")


if __name__ == "__main__":
    main()
