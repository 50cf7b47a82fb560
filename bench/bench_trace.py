#!/usr/bin/env python3
"""Benchmark `gradtrace.trace` on scalar graphs (~10, ~100, ~1,000 nodes) and a 3-layer MLP.

For each workload it prints the median, p90 and min wall time of the whole `trace` call, split
into phases (parse + graph build, input values -> float64, forward, backward, record assembly),
the time of the record's JSON as the API writes it (orjson) and its size, and, when PyTorch can
be imported, the same forward + backward in PyTorch autograd (float64, CPU) with the ratio
gradtrace / torch and the largest relative error of gradtrace's gradients against torch's.

    python bench/bench_trace.py                 # default: 30 timed repeats per workload
    python bench/bench_trace.py --repeat 200    # steadier medians
    python bench/bench_trace.py --quick         # a smoke run: few repeats
    python bench/bench_trace.py --profile       # also cProfile's top functions per workload

This is a benchmark, not a test: it asserts nothing, but the correctness column says whether the
gradients agree with PyTorch. PyTorch is optional (never a dependency of the package).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import ctypes
import gc
import glob
import io
import math
import os
import platform
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

try:
    import gradtrace
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
    import gradtrace

from gradtrace.analysis import compile_graph
from gradtrace.engine import backward, forward, make_seed, parse_value
from gradtrace.settings import Settings, get_settings

try:
    import torch
except ImportError:
    torch = None

# ---------------------------------------------------------------------------------------------
# Workloads


@dataclass
class Workload:
    name: str
    expr: str
    values: dict[str, Any]  # as the API receives them: floats and nested lists
    repeat_scale: float = 1.0  # fewer repeats for the slow ones
    notes: list[str] = field(default_factory=list)


# Each template is a statement body over operand slots {0}, {1}, {2}, with the number of graph
# nodes it adds (ops and numeric constants; operands are existing nodes). Every template maps
# values in [-1, 1] into about [-1, 1], so no chain overflows however long it is.
_TEMPLATES: list[tuple[str, int, int]] = [  # (body, operands, nodes added)
    ("tanh({0}*{1}+{2})", 3, 3),
    ("{0}*sigmoid({1})", 2, 2),
    ("exp(-{0}*{0})*{1}", 2, 4),
    ("tanh({0}-{1})*{2}", 3, 3),
    ("({0}+{1})*0.5", 2, 3),
    ("max({0},{1})*{2}", 3, 2),
    ("{0}*{1}-{2}*{0}", 3, 3),
]


def scalar_workload(target_nodes: int, n_inputs: int, seed: int = 0) -> Workload:
    """A program of named intermediates, `hK = <template>(operands)`, over `n_inputs` inputs.

    Operands come mostly from the most recent names (a deep chain, as in an unrolled network)
    and sometimes from the inputs (fan-out: copy gates). The output sums every name that nothing
    else used, so every node reaches it. Short names and no spaces keep 1,000 nodes inside the
    default `max_expr_chars` (10,000).
    """
    rng = random.Random(seed)
    inputs = [f"x{i}" for i in range(n_inputs)]
    values: dict[str, Any] = {x: round(rng.uniform(-1.0, 1.0), 6) for x in inputs}
    names: list[str] = []
    unused: dict[str, None] = dict.fromkeys(inputs)  # ordered set
    lines: list[str] = []
    nodes = n_inputs
    k = 0
    while True:
        remaining = target_nodes - nodes - max(len(unused) - 1, 0)  # the final sum's adds
        if remaining < 3 and names:
            break
        body, arity, added = rng.choice(_TEMPLATES)
        ops: list[str] = []
        for _ in range(arity):
            pool = names[-6:] if names and rng.random() < 0.75 else inputs
            ops.append(rng.choice(pool))
        k += 1
        name = f"h{k}"
        lines.append(f"{name}={body.format(*ops)}")
        for o in ops:
            unused.pop(o, None)
        unused[name] = None
        names.append(name)
        nodes += added
    lines.append("L=" + "+".join(unused))
    return Workload(f"scalar ~{target_nodes} nodes", "\n".join(lines), values)


MLP_EXPR = (
    "h1 = relu(X @ W1 + b1); h2 = relu(h1 @ W2 + b2); out = h2 @ W3 + b3; "
    "L = mean((out - Y)^2)"
)


def mlp_workload(seed: int = 0) -> Workload:
    rng = np.random.default_rng(seed)
    batch, d_in, hidden, d_out = 64, 256, 256, 10
    arrays = {
        "X": rng.standard_normal((batch, d_in)),
        "W1": rng.standard_normal((d_in, hidden)) * math.sqrt(2.0 / d_in),
        "b1": rng.standard_normal(hidden) * 0.1,
        "W2": rng.standard_normal((hidden, hidden)) * math.sqrt(2.0 / hidden),
        "b2": rng.standard_normal(hidden) * 0.1,
        "W3": rng.standard_normal((hidden, d_out)) * math.sqrt(1.0 / hidden),
        "b3": rng.standard_normal(d_out) * 0.1,
        "Y": rng.standard_normal((batch, d_out)),
    }
    values = {k: v.tolist() for k, v in arrays.items()}  # as JSON would bring them
    return Workload("MLP 64x256-256-256-10", MLP_EXPR, values)


def check_limits(w: Workload, settings: Settings) -> list[str]:
    """Where the workload stands against the default limits in settings.py."""
    graph = compile_graph(w.expr, w.values, settings)
    inputs = {n: np.asarray(w.values[n], dtype=np.float64) for n in graph.inputs}
    biggest = max(inputs.values(), key=lambda a: a.size)
    vals = forward(graph, inputs, settings)  # raises GradtraceError past a limit
    total = sum(v.size for v in vals)
    largest = max(v.size for v in vals)
    return [
        f"expr {len(w.expr):,} chars (limit {settings.max_expr_chars:,}); "
        f"{len(graph.nodes):,} nodes (limit {settings.max_nodes:,})",
        f"largest tensor {largest:,} elements (limit {settings.max_tensor_elements:,}; largest "
        f"input {biggest.size:,}); all node values {total:,} numbers "
        f"(limit {settings.max_total_elements:,})",
    ]


# ---------------------------------------------------------------------------------------------
# Timing


def timed(fn: Callable[[], Any], repeat: int, warmup: int) -> list[float]:
    # One full collection before the batch, none between samples: a gc.collect() walks every
    # live object (torch brings ~10^5) and leaves the CPU caches cold, which made the next
    # small trace ~3x slower. The collector stays on, as it is in the server.
    gc.collect()
    for _ in range(warmup):
        fn()
    out: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def stats(ts: list[float]) -> tuple[float, float, float]:
    """median, p90, min."""
    s = sorted(ts)
    p90 = s[min(len(s) - 1, math.ceil(0.9 * len(s)) - 1)]
    return statistics.median(s), p90, s[0]


def phase_times(w: Workload, settings: Settings) -> dict[str, float]:
    """One run of the pipeline, phase by phase, with the public functions `trace` is made of,
    then one `trace` call: what it spends beyond the phases is record assembly (encoding values,
    formulas, steps, the non-finite scan and the structure hash)."""
    pc = time.perf_counter
    t0 = pc()
    graph = compile_graph(w.expr, w.values, settings)
    t1 = pc()
    inputs = {name: parse_value(name, w.values[name], graph.spans[name], settings)
              for name in graph.inputs}
    t2 = pc()
    vals = forward(graph, inputs, settings)
    t3 = pc()
    backward(graph, vals, make_seed(graph, None, vals[graph.output], settings))
    t4 = pc()
    t5 = pc()
    gradtrace.trace(w.expr, w.values, settings=settings)
    t6 = pc()
    parts = {"parse+build": t1 - t0, "values": t2 - t1, "forward": t3 - t2, "backward": t4 - t3}
    parts["assembly"] = (t6 - t5) - sum(parts.values())
    return parts


# ---------------------------------------------------------------------------------------------
# PyTorch


def torch_namespace() -> dict[str, Any]:
    assert torch is not None
    return {
        "tanh": torch.tanh, "sigmoid": torch.sigmoid, "exp": torch.exp, "relu": torch.relu,
        "max": torch.maximum, "mean": torch.mean, "sum": torch.sum, "log": torch.log,
    }


def torch_program(expr: str) -> Any:
    """The expression as Python code over torch tensors (this bench's programs only: their
    syntax is Python's once `^` is `**`); the result is bound to `__out__`."""
    lines = [ln.strip() for part in expr.split("\n") for ln in part.split(";") if ln.strip()]
    last = lines[-1]
    lines[-1] = "__out__ = " + (last.split("=", 1)[1] if "=" in last else last)
    return compile("\n".join(lines).replace("^", "**"), "<bench>", "exec")


def make_torch_run(w: Workload) -> tuple[Callable[[], Any], list[str], dict[str, Any]]:
    """A closure doing forward + backward (grads of all inputs, as gradtrace gives them)."""
    assert torch is not None
    code = torch_program(w.expr)
    names = list(w.values)
    leaves = {n: torch.tensor(np.asarray(w.values[n], dtype=np.float64), dtype=torch.float64,
                              requires_grad=True) for n in names}
    base = torch_namespace()
    leaf_list = [leaves[n] for n in names]

    def run() -> tuple[Any, tuple[Any, ...]]:
        ns = dict(base)
        ns.update(leaves)
        exec(code, ns)
        out = ns["__out__"]
        grads = torch.autograd.grad(out, leaf_list, allow_unused=True)
        return out, grads

    return run, names, leaves


def compare_with_torch(w: Workload, record: Mapping[str, Any],
                       torch_run: Callable[[], Any], names: list[str]) -> tuple[float, float]:
    """(relative error of the output, largest relative error of an input's gradient), each
    as max |gradtrace - torch| / max(max |torch|, 1e-300) over the tensor."""
    out, grads = torch_run()

    def rel(mine: np.ndarray, ref: np.ndarray) -> float:
        scale = max(float(np.max(np.abs(ref))), 1e-300)
        return float(np.max(np.abs(mine - ref))) / scale

    out_err = rel(gradtrace.decode(record["value"]), out.detach().numpy())
    grad_err = 0.0
    for n, g in zip(names, grads, strict=True):
        ref = np.zeros(np.shape(w.values[n])) if g is None else g.numpy()
        grad_err = max(grad_err, rel(gradtrace.decode(record["gradients"][n]), ref))
    return out_err, grad_err


# ---------------------------------------------------------------------------------------------
# Environment


def _openblas() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """Get/set the thread count of the OpenBLAS bundled with NumPy (no threadpoolctl needed)."""
    libdir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in glob.glob(str(libdir / "*openblas*")):
        with contextlib.suppress(OSError):
            lib = ctypes.CDLL(path)
            for suffix in ("64_", ""):
                get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
                put = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
                if get is None or put is None:
                    get = getattr(lib, f"openblas_get_num_threads{suffix}", None)
                    put = getattr(lib, f"openblas_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    return (lambda get=get: int(get())), (lambda n, put=put: put(int(n)))
    return None


def numpy_blas_threads(n: int | None = None) -> int | None:
    """Set NumPy's BLAS threads to `n` (if given and possible); return the count, or None."""
    blas = _openblas()
    if blas is None:
        return None
    if n is not None:
        blas[1](n)
    return blas[0]()


def load_text() -> str:
    if not hasattr(os, "getloadavg"):
        return "?"
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def print_environment(args: argparse.Namespace, blas_threads: int | None) -> None:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print("gradtrace bench_trace")
    print(f"  date        {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    print(f"  machine     {platform.machine()}, {platform.processor() or '?'}; "
          f"os.cpu_count()={os.cpu_count()}, usable cores={affinity}")
    print(f"  python      {platform.python_version()} ({platform.python_implementation()})")
    print(f"  gradtrace   {gradtrace.__version__}")
    print(f"  numpy       {np.__version__}; BLAS threads={blas_threads or '?'}"
          + (" (set by --threads)" if args.threads else ""))
    if torch is not None:
        print(f"  torch       {torch.__version__}; threads={torch.get_num_threads()} "
              f"(set to match NumPy's BLAS)")
    else:
        print("  torch       not importable: torch columns left empty")
    print(f"  repeats     {args.repeat} timed (x0.2 for the MLP, at least 3), "
          f"{args.warmup} warm-up; times are wall clock (time.perf_counter)")
    print("  gc          on; " + ("objects alive before timing left in the collected "
                                 "generations (--no-gc-freeze)" if args.no_gc_freeze else
                                 "objects alive before timing frozen (gc.freeze)"))
    print(f"  load avg    {load_text()} (1, 5, 15 min) at the start")
    busy = hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5
    if busy:
        print("  WARNING     the machine is busy: other processes compete for the cores, so "
              "medians and\n              p90s are noisy (multi-threaded BLAS suffers most); "
              "min is the steadiest figure")
    print()


# ---------------------------------------------------------------------------------------------
# Main


def api_json(record: Mapping[str, Any]) -> bytes:
    """The response body, encoded as POST /api/trace does it (record.to_json: orjson)."""
    return orjson.dumps(record)


def fmt_t(s: float | None) -> str:
    if s is None or math.isnan(s):
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def profile_top(w: Workload, settings: Settings, n: int = 18) -> str:
    prof = cProfile.Profile()
    runs = 0
    t0 = time.perf_counter()
    while runs < 3 or time.perf_counter() - t0 < 0.5:  # small graphs: enough runs to show
        prof.enable()
        gradtrace.trace(w.expr, w.values, settings=settings)
        prof.disable()
        runs += 1
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("tottime").print_stats(n)
    root = str(Path(gradtrace.__file__).resolve().parent.parent) + os.sep
    lines = [ln.replace(root, "").replace(os.path.dirname(np.__file__), "numpy")
             for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    header = [ln for ln in lines[:start] if "function calls" in ln]
    return "\n".join([f"  ({runs} runs) " + header[0].strip() if header else "",
                      *("  " + ln for ln in lines[start:])])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed repeats per workload (default 30, or 5 with --quick)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed runs first (default 3)")
    ap.add_argument("--quick", action="store_true", help="a fast smoke run (few repeats)")
    ap.add_argument("--profile", action="store_true",
                    help="print cProfile's top functions (by own time) for each workload")
    ap.add_argument("--only", default=None,
                    help="run only workloads whose name contains this (e.g. MLP, 1000)")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    ap.add_argument("--no-gc-freeze", action="store_true",
                    help="do not gc.freeze() the objects alive before timing (torch's ~10^5 "
                    "objects then slow every full collection during a trace)")
    ap.add_argument("--threads", type=int, default=None,
                    help="set NumPy's OpenBLAS threads (and torch's) to N; default: as they are")
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch.set_num_threads (default: NumPy's BLAS threads)")
    args = ap.parse_args(argv)
    if args.repeat is None:
        args.repeat = 5 if args.quick else 30
    if args.warmup is None:
        args.warmup = 1 if args.quick else 3
    global torch
    if args.no_torch:
        torch = None

    blas_threads = numpy_blas_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.torch_threads or args.threads or blas_threads
                              or os.cpu_count() or 1)
    print_environment(args, blas_threads)

    settings = get_settings()
    workloads = [
        scalar_workload(10, 3, seed=4),
        scalar_workload(100, 4, seed=2),
        scalar_workload(1000, 8, seed=3),
        mlp_workload(),
    ]
    workloads[-1].repeat_scale = 0.2
    if args.only:
        workloads = [w for w in workloads if args.only.lower() in w.name.lower()]
    for w in workloads:
        try:
            w.notes = check_limits(w, settings)
        except gradtrace.GradtraceError as exc:
            w.notes = [f"DOES NOT FIT the default limits: {exc}"]

    if not args.no_gc_freeze:
        # Everything imported and set up so far (torch alone is ~10^5 objects) goes to the
        # permanent generation: a full collection inside a trace then walks the trace's own
        # objects, as in a server that froze its start-up objects, not torch's heap.
        gc.collect()
        gc.freeze()

    rows: list[dict[str, Any]] = []
    for w in workloads:
        if w.notes and w.notes[0].startswith("DOES NOT FIT"):
            rows.append({"w": w, "skip": True})
            continue
        repeat = max(3, round(args.repeat * w.repeat_scale))
        warmup = max(1, min(args.warmup, repeat))
        record = gradtrace.trace(w.expr, w.values, settings=settings)
        row: dict[str, Any] = {"w": w, "skip": False, "nodes": len(record["nodes"]),
                               "edges": len(record["edges"])}
        row["trace"] = stats(timed(lambda w=w: gradtrace.trace(w.expr, w.values,
                                                                settings=settings),
                                   repeat, warmup))
        phases = [phase_times(w, settings) for _ in range(repeat)]
        row["phases"] = {k: statistics.median(p[k] for p in phases) for k in phases[0]}
        engine = [p["forward"] + p["backward"] for p in phases]
        row["engine"] = (statistics.median(engine), min(engine))
        row["json_bytes"] = len(api_json(record))
        row["json"] = stats(timed(lambda record=record: api_json(record), repeat, warmup))
        if torch is not None:
            run, names, _ = make_torch_run(w)
            row["torch"] = stats(timed(run, repeat, warmup))
            row["err"] = compare_with_torch(w, record, run, names)
        rows.append(row)
        sys.stdout.write(f"  measured {w.name}: {row['nodes']} nodes, {repeat} repeats\n")
        sys.stdout.flush()
    print(f"  load avg {load_text()} at the end")
    print()
    print_report(rows)
    if args.profile:
        for w in workloads:
            print(f"\ncProfile of gradtrace.trace, {w.name} (sorted by own time):")
            print(profile_top(w, settings))


def print_report(rows: list[dict[str, Any]]) -> None:
    print("Workloads")
    for r in rows:
        w = r["w"]
        size = f"{r['nodes']} nodes, {r['edges']} edges" if not r["skip"] else "not run"
        flat = w.expr.replace("\n", "; ")
        shown = flat if len(flat) <= 72 else flat[:69] + "..."
        print(f"  {w.name}: {size}; {shown!r}")
        for note in w.notes:
            print(f"      {note}")
    print()

    cols = ["workload", "nodes", "trace med", "p90", "min", "torch med", "min",
            "trace/torch med|min", "engine/torch med|min", "JSON (orjson)", "JSON size"]
    table = []
    for r in rows:
        if r["skip"]:
            table.append([r["w"].name, "-", "does not fit the limits", *[""] * 8])
            continue
        med, p90, mn = r["trace"]
        tmed, tmin = (r["torch"][0], r["torch"][2]) if "torch" in r else (None, None)
        table.append([
            r["w"].name, str(r["nodes"]), fmt_t(med), fmt_t(p90), fmt_t(mn), fmt_t(tmed),
            fmt_t(tmin), f"{med / tmed:.1f}x | {mn / tmin:.1f}x" if tmed else "-",
            f"{r['engine'][0] / tmed:.1f}x | {r['engine'][1] / tmin:.1f}x" if tmed else "-",
            fmt_t(r["json"][0]), f"{r['json_bytes'] / 1e6:.2f} MB",
        ])
    print_table("gradtrace.trace vs PyTorch autograd (medians unless said)", cols, table)

    measured = [r for r in rows if not r["skip"]]
    if not measured:
        return
    phase_names = list(measured[0]["phases"])
    cols = ["workload", *phase_names, "sum", "+ json.dumps"]
    table = []
    for r in rows:
        if r["skip"]:
            continue
        ph = r["phases"]
        total = sum(ph.values())
        table.append([r["w"].name,
                      *(f"{fmt_t(ph[k])} {100 * ph[k] / total:.0f}%" for k in phase_names),
                      fmt_t(total), fmt_t(total + r["json"][0])])
    print_table("Where trace's time goes (median per phase; assembly = trace - the phases)",
                cols, table)

    if any("err" in r for r in rows):
        cols = ["workload", "output rel err", "max grad rel err", "agrees (< 1e-10)"]
        table = []
        for r in rows:
            if "err" in r:
                oe, ge = r["err"]
                table.append([r["w"].name, f"{oe:.1e}", f"{ge:.1e}",
                              "yes" if max(oe, ge) < 1e-10 else "NO"])
        print_table("Correctness vs PyTorch (max |gradtrace - torch| / max |torch|, per input)",
                    cols, table)
    if not any("torch" in r for r in rows):
        return
    print("trace/torch: the whole gradtrace.trace call (parse, values from JSON lists, forward,\n"
          "  backward, record) over torch forward + autograd.grad on ready tensors (median over\n"
          "  median | min over min). engine/torch: engine.forward + engine.backward only, over\n"
          "  the same torch times: the numerical work alone.")


def print_table(title: str, cols: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
              for i, c in enumerate(cols)]
    print(title)
    line = "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                     for i, c in enumerate(cols))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(v.ljust(widths[i]) if i == 0 else v.rjust(widths[i])
                        for i, v in enumerate(r)))
    print()


if __name__ == "__main__":
    main()
