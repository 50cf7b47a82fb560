"""Picture time: gradtrace's step picture vs micrograd's `draw_dot` + render, same scalar graph.

    pip install micrograd   # (PyPI) only for this benchmark
    python bench/bench_picture.py [--repeat 20]

micrograd's package has the engine (`Value`) but not `draw_dot`, which lives in its notebook
(trace_graph.ipynb): collect the nodes and edges reachable from the output, draw one record node
`{ label | data | grad }` per value and one small node per op, left to right, with graphviz, and
render. `micrograd_picture` below does that (written here from that description), after building
the same expression with micrograd's Values and calling backward(), so both sides do the same work:
forward, backward, layout with dot, and an SVG of the graph with values and gradients.

gradtrace is timed cold (a new structure: the layout runs) and warm (the layout is cached, as
when a lecturer steps or changes a value), both in-process: trace + layout + SVG.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import graphviz

from gradtrace import trace
from gradtrace.analysis import compile_graph
from gradtrace.engine import Graph
from gradtrace.layout import LayoutCache
from gradtrace.render import render_svg
from gradtrace.settings import get_settings

try:
    from micrograd.engine import Value
except ImportError:  # pragma: no cover - the benchmark says what to install
    sys.exit("bench_picture needs micrograd: pip install micrograd")

# Only ops micrograd's Value has: + - * / ** (by a number) and relu.
CASES = {
    "circuit": ("(x + y) * z", {"x": -2.0, "y": 5.0, "z": -4.0}),
    "relu-square": ("p = x * w; q = relu(p); r = q - y; s = r^2; t = s + z",
                    {"x": 1.0, "y": 0.0, "z": -2.0, "w": 3.0}),
    "neuron layer": (
        "; ".join(f"h{i} = relu(x0 * w{i}0 + x1 * w{i}1 + b{i})" for i in range(4))
        + "; out = " + " + ".join(f"h{i} * v{i}" for i in range(4)) + "; L = (out - 1)^2",
        {"x0": 0.5, "x1": -1.0, **{f"w{i}{j}": 0.1 * (i - j) for i in range(4) for j in range(2)},
         **{f"b{i}": 0.05 * i for i in range(4)}, **{f"v{i}": 0.3 - 0.1 * i for i in range(4)}},
    ),
    "chain": (
        "; ".join(f"h{i} = relu({'x' if i == 0 else f'h{i - 1}'} * w + b) / 2" for i in range(20))
        + "; L = h19^2",
        {"x": 0.5, "w": 1.3, "b": 0.1},
    ),
}

_BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b}


def micrograd_values(graph: Graph, values: dict[str, float]) -> Any:
    """The same graph built with micrograd Values."""
    made: list[Any] = []
    for n in graph.nodes:
        if n.kind == "input":
            v = Value(values[n.label])
        elif n.kind == "const":
            assert n.const_value is not None
            v = Value(n.const_value)
        elif n.op in _BINARY:
            v = _BINARY[n.op](made[n.args[0]], made[n.args[1]])
        elif n.op == "pow":  # micrograd raises to a number only
            exponent = graph.nodes[n.args[1]].const_value
            assert exponent is not None
            v = made[n.args[0]] ** exponent
        elif n.op == "neg":
            v = -made[n.args[0]]
        elif n.op == "relu":
            v = made[n.args[0]].relu()
        else:
            raise ValueError(f"micrograd has no {n.op}")
        v.label = n.name or ""
        made.append(v)
    return made[graph.output]


def micrograd_picture(root: Any) -> bytes:
    """draw_dot as in micrograd's notebook, rendered to SVG by dot."""
    nodes: set[Any] = set()
    edges: set[tuple[Any, Any]] = set()
    stack = [root]
    while stack:
        v = stack.pop()
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                stack.append(child)
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
    for n in nodes:
        uid = str(id(n))
        label = getattr(n, "label", "")
        dot.node(uid, label=f"{{ {label} | data {n.data:.4f} | grad {n.grad:.4f} }}",
                 shape="record")
        if n._op:
            dot.node(uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for a, b in edges:
        dot.edge(str(id(a)), str(id(b)) + b._op)
    svg: bytes = dot.pipe(format="svg")
    return svg


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm up
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def compare(expr: str, values: dict[str, float], repeat: int) -> tuple[float, float, float]:
    """Median ms of micrograd, gradtrace cold (layout runs) and warm (layout cached)."""
    settings = get_settings()
    graph = compile_graph(expr, values, settings)
    warm_cache = LayoutCache(8)

    def mg() -> None:
        root = micrograd_values(graph, values)
        root.backward()
        micrograd_picture(root)

    def gt(cache: LayoutCache | None) -> None:
        t = trace(expr, values, settings=settings)
        layout = (cache or LayoutCache(1)).get(compile_graph(expr, values, settings), settings)
        render_svg(t, layout, "end")

    median = statistics.median
    return (median(timed(mg, repeat)), median(timed(lambda: gt(None), repeat)),
            median(timed(lambda: gt(warm_cache), repeat)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=20)
    args = p.parse_args()
    print(f"{os.cpu_count()} cores, {args.repeat} repeats, medians in ms")
    print(f"{'graph':20} {'micrograd':>10} {'gt cold':>9} {'gt warm':>9} {'cold/mg':>8} "
          f"{'warm/mg':>8}")
    for name, (expr, values) in CASES.items():
        m, c, w = compare(expr, values, args.repeat)
        nodes = len(compile_graph(expr, values, get_settings()).nodes)
        label = f"{name} [{nodes}]"
        print(f"{label:20} {m:>10.2f} {c:>9.2f} {w:>9.2f} {c / m:>7.2f}x {w / m:>7.2f}x")


if __name__ == "__main__":
    main()
