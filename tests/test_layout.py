"""Layout: every node and edge placed, independent of values, labels clear of each other, and DOT
built from our own ids with every label escaped."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from gradtrace.analysis import compile_graph
from gradtrace.engine import Graph, Node
from gradtrace.layout import (
    LABEL_BOX,
    compute_layout,
    layered_layout,
    place_labels,
    run_dot,
    to_dot,
)
from gradtrace.settings import get_settings

from .conftest import SEEDS


def layout_of(expr: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = get_settings()
    return compute_layout(compile_graph(expr, values or {}, settings), settings)


def label_boxes(layout: dict[str, Any]) -> list[tuple[float, float, float, float]]:
    w, h = LABEL_BOX
    return [(e["label"][0] - w / 2, e["label"][1] - h / 2, e["label"][0] + w / 2,
             e["label"][1] + h / 2) for e in layout["edges"].values()]


@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_every_node_and_edge_is_placed(example: dict[str, Any]) -> None:
    settings = get_settings()
    graph = compile_graph(example["expr"], example["values"], settings)
    layout = compute_layout(graph, settings)
    assert set(layout["nodes"]) == {n.id for n in graph.nodes}
    assert set(layout["edges"]) == {e.id for e in graph.edges}
    for e in graph.edges:
        geo = layout["edges"][e.id]
        assert geo["source"] == graph.nodes[e.source].id
        assert geo["target"] == graph.nodes[e.target].id
        assert geo["path"].startswith("M") and " C" in geo["path"]
        # the arrow ends at the target's boundary, left of its centre (left to right)
        assert geo["arrow"][2] <= layout["nodes"][geo["target"]]["x"]


@pytest.mark.parametrize("key", ["circuit", "fan-out", "sigmoid-neuron", "relu-square"])
def test_edge_labels_do_not_overlap(key: str) -> None:
    example = next(s for s in SEEDS if s["key"] == key)
    boxes = label_boxes(layout_of(example["expr"]))
    for a, b in itertools.combinations(boxes, 2):
        assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_layout_does_not_depend_on_values() -> None:
    a = layout_of("q = x * y; q + x", {"x": 1, "y": 2})
    b = layout_of("q = x * y; q + x", {"x": -5, "y": [1, 2, 3]})
    assert a == b


def test_two_edges_between_the_same_nodes_keep_their_own_paths() -> None:
    layout = layout_of("x * x")
    e0, e1 = layout["edges"]["e0"], layout["edges"]["e1"]
    assert e0["source"] == e1["source"] and e0["path"] != e1["path"]


def test_layered_layout_runs_left_to_right_and_places_labels() -> None:
    settings = get_settings()
    graph = compile_graph("; ".join(f"h{i} = h{i - 1} * y" if i else "h0 = x * y"
                                    for i in range(40)), {}, settings)
    layout = layered_layout(graph)
    place_labels(layout)
    for e in graph.edges:
        assert layout["nodes"][graph.nodes[e.source].id]["x"] < \
            layout["nodes"][graph.nodes[e.target].id]["x"]
        assert len(layout["edges"][e.id]["label"]) == 2


def test_dot_uses_our_ids_and_escapes_labels() -> None:
    # The grammar only makes labels of names, numbers and op symbols; build a hostile one anyway.
    hostile = '"]; a [label="x\\" <script>'
    graph = Graph([Node(0, "input", hostile, 0, 1, name="x", requires_grad=True),
                   Node(1, "op", "exp", 0, 1, op="exp", args=(0,))], [], 1, {"x": 0}, {}, "x")
    source = to_dot(graph)
    assert "n0" in source and "n1" in source
    data = run_dot(source, 5.0)
    names = sorted(o["name"] for o in data["objects"])
    assert names == ["n0", "n1"]  # no node smuggled in through the label
