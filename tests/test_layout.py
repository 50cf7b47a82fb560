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
    LABEL_GAP,
    Direction,
    choose_direction,
    compute_layout,
    extent,
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


# ---------------------------------------------------------------------------------------------
# Direction: down (top to bottom) or right (left to right), chosen to fit the screen


@pytest.mark.parametrize("engine", ["dot", "layered"])
def test_each_direction_flows_its_way(engine: str) -> None:
    graph = compile_graph("c = a + b; d = c * e; f = exp(d)", {}, get_settings())
    directions: tuple[tuple[Direction, str], ...] = (("right", "x"), ("down", "y"))
    for direction, axis in directions:
        lay = (compute_layout(graph, get_settings(), direction) if engine == "dot"
               else layered_layout(graph, direction))
        assert lay["direction"] == direction
        for e in graph.edges:
            a, b = lay["nodes"][graph.nodes[e.source].id], lay["nodes"][graph.nodes[e.target].id]
            assert a[axis] < b[axis], (direction, e)
        place_labels(lay)
        for e in lay["edges"].values():
            assert len(e["label"]) == 2 and len(e["local"]) == 2


def test_auto_draws_a_deep_chain_down_on_a_phone_and_across_on_a_projector() -> None:
    deep = compile_graph("; ".join(f"h{i + 1} = relu(h{i} @ W{i})" for i in range(4)),
                         {}, get_settings())
    assert choose_direction(deep, 390 / 500) == "down"
    assert choose_direction(deep, 1920 / 900) == "right"
    # One op of many inputs: a row of inputs above it fits a wide screen, a column of them
    # beside it a tall one.
    wide = compile_graph(f"cat({', '.join(f'x{i}' for i in range(12))})", {}, get_settings())
    w, h = extent(wide, "down")
    assert w > h and choose_direction(wide, 3.0) == "down"
    assert choose_direction(wide, 0.3) == "right"


def test_layouts_are_cached_by_structure_and_direction(client: Any) -> None:
    body = {"expr": "(x + y) * z", "values": {"x": 1, "y": 2, "z": 3}}
    right = client.post("/api/layout", json={**body, "direction": "right"}).json()
    down = client.post("/api/layout", json={**body, "direction": "down"}).json()
    assert (right["direction"], down["direction"]) == ("right", "down")
    assert right["nodes"] != down["nodes"]
    auto = client.post("/api/layout", json={**body, "aspect": 0.4}).json()
    assert auto["direction"] == "down" and auto["nodes"] == down["nodes"]
    r = client.post("/api/layout", json={**body, "direction": "up"})
    assert r.status_code == 422


def test_labels_drawn_down_sit_beside_the_wire_clear_of_nodes() -> None:
    # Drawn down, a label's box starts LABEL_GAP right of its point: it must clear the nodes.
    lay = layout_of("q = x + y; f = q * z")
    graph = compile_graph("q = x + y; f = q * z", {}, get_settings())
    down = compute_layout(graph, get_settings(), "down")
    for e in down["edges"].values():
        x, y = e["label"]
        box = (x + LABEL_GAP, y - LABEL_BOX[1] / 2, x + LABEL_GAP + LABEL_BOX[0],
               y + LABEL_BOX[1] / 2)
        for n in down["nodes"].values():
            nb = (n["x"] - n["w"] / 2, n["y"] - n["h"] / 2, n["x"] + n["w"] / 2,
                  n["y"] + n["h"] / 2)
            overlap = max(0, min(box[2], nb[2]) - max(box[0], nb[0])) * \
                max(0, min(box[3], nb[3]) - max(box[1], nb[1]))
            assert overlap == 0, (e, n)
    assert lay["direction"] in ("right", "down")
