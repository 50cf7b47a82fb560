"""The record (record.py) of DESIGN.md: its fields, the steps of the backward pass as the lecture
notes draw them (upstream, local, downstream), formulas, gates, and the extras' errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from gradtrace import trace
from gradtrace.ops import GATE_TEXT, tex_name
from gradtrace.schema import RECORD

from .conftest import SEEDS
from .helpers import check_invariants

CIRCUIT = ("(x + y) * z", {"x": -2.0, "y": 5.0, "z": -4.0})


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in items}


def test_record_fields() -> None:
    record = trace(*CIRCUIT)
    assert {"expr", "value", "gradients", "nodes", "edges", "forward", "backward", "warnings",
            "output", "shape", "seed", "structure", "gates"} <= set(record)
    for n in record["nodes"]:
        assert {"id", "kind", "op", "label", "value", "grad", "shape"} <= set(n)
        assert n["kind"] in ("input", "const", "op")
        assert (n["op"] is None) == (n["kind"] != "op")
    for e in record["edges"]:
        assert {"id", "source", "target", "arg", "local", "local_formula", "downstream"} <= set(e)
    for s in record["backward"]:
        assert {"node", "upstream", "edges"} <= set(s)
    assert record["expr"] == CIRCUIT[0] and record["warnings"] == []
    assert record["gates"] == GATE_TEXT
    json.dumps(record, allow_nan=False)


def test_the_circuit_of_the_notes_step_by_step() -> None:
    record = trace(*CIRCUIT)
    check_invariants(record)
    nodes = by_id(record["nodes"])
    label = {i: n["label"] for i, n in nodes.items()}
    assert [label[i] for i in record["forward"]] == ["x", "y", "+", "z", "×"]
    assert [nodes[i]["value"] for i in record["forward"]] == [-2.0, 5.0, 3.0, -4.0, -12.0]
    steps = [(label[s["node"]], s["upstream"],
              [(label[e["source"]], e["local"], e["downstream"]) for e in s["edges"]])
             for s in record["backward"]]
    assert steps == [
        ("×", 1.0, [("+", -4.0, -4.0), ("z", 3.0, 3.0)]),
        ("z", 3.0, []),
        ("+", -4.0, [("x", 1.0, -4.0), ("y", 1.0, -4.0)]),
        ("y", -4.0, []),
        ("x", -4.0, []),
    ]
    assert record["gradients"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert nodes[record["output"]]["grad"] == 1.0
    gates = {label[i]: n["gate"] for i, n in nodes.items()}
    assert gates["+"] == "distributes" and gates["×"] == "swaps"


def test_named_nodes_are_labelled() -> None:
    record = trace("q = x + y; f = q * z", CIRCUIT[1])
    labels = [n["label"] for n in record["nodes"]]
    assert labels == ["x", "y", "q", "z", "f"]
    q = record["nodes"][2]
    assert q["name"] == "q" and q["op"] == "add"


def test_local_formulas() -> None:
    record = trace("q = x + y; f = q * z", CIRCUIT[1])
    formulas = {(e["source"], e["target"]): e["local_formula"] for e in record["edges"]}
    ids = {n["label"]: n["id"] for n in record["nodes"]}
    assert formulas[(ids["q"], ids["f"])].endswith("= z")
    assert formulas[(ids["z"], ids["f"])].endswith("= q")
    assert formulas[(ids["x"], ids["q"])].endswith("= 1")
    assert "\\partial" in formulas[(ids["x"], ids["q"])]


def test_tensor_edges_have_no_local_number_but_a_vjp_formula() -> None:
    record = trace("Z = A @ B", {"A": [[1.0, 2.0]], "B": [[3.0], [4.0]]})
    for e in record["edges"]:
        assert e["local"] is None and e["vjp_formula"]
    formulas = sorted(e["vjp_formula"] for e in record["edges"])
    assert any("^{\\top}" in f for f in formulas)


def test_max_gate_routes() -> None:
    record = trace("max(x, y)", {"x": 3.0, "y": 1.0})
    out = by_id(record["nodes"])[record["output"]]
    assert out["gate"] == "routes"
    assert [e["local"] for e in record["backward"][0]["edges"]] == [1.0, 0.0]


def test_tensors_are_nested_lists() -> None:
    record = trace("W * 2", {"W": [[1.0, 2.0], [3.0, 4.0]]})
    assert record["value"] == [[2.0, 4.0], [6.0, 8.0]] and record["shape"] == [2, 2]
    assert record["gradients"]["W"] == [[2.0, 2.0], [2.0, 2.0]]
    w = record["nodes"][0]
    assert w["shape"] == [2, 2] and w["value"] == [[1.0, 2.0], [3.0, 4.0]]


def test_structure_key_depends_on_the_text_not_the_values() -> None:
    a = trace("(x + y) * z", {"x": 1, "y": 2, "z": 3})["structure"]
    b = trace("(x + y) * z", {"x": [1, 2], "y": 7, "z": -3})["structure"]
    c = trace("(x + y) * z2", {"x": 1, "y": 2, "z2": 3})["structure"]
    d = trace("(x+y)*z", {"x": 1, "y": 2, "z": 3})["structure"]
    assert a == b == d and a != c


@pytest.mark.parametrize(("name", "tex"), [
    ("x", "x"), ("w0", "w_{0}"), ("W1", "W_{1}"), ("x_in", "x_{in}"), ("cost", "\\mathrm{cost}"),
    ("pi", "\\pi"), ("data_loss", "\\mathrm{data\\_loss}"),
    ("_", "\\mathrm{\\_}"), ("x_", "\\mathrm{x\\_}"), ("_t", "\\mathrm{\\_t}"),
])
def test_tex_names(name: str, tex: str) -> None:
    assert tex_name(name) == tex


def test_warnings_have_the_documented_fields() -> None:
    record = trace("log(x)", {"x": 0.0, "y": 1.0})
    for w in record["warnings"]:
        assert {"type", "message", "start", "end"} <= set(w)
    assert {w["type"] for w in record["warnings"]} == {"unused_value", "nonfinite"}


def test_formula_symbols_never_collide_with_names() -> None:
    t = trace("y = 2 * x; z = 3 * x; sum(y * z)", {"x": [1.0, 2.0]})
    mul = next(e for e in t["edges"] if e["target"] == t["nodes"][-2]["id"] and e["arg"] == 0)
    # the unnamed product's symbol is neither y nor z
    assert mul["vjp_formula"] is not None
    assert not mul["vjp_formula"].startswith("dy = dy")
    assert not mul["vjp_formula"].startswith("dy = dz")
    constant_edge = next(e for e in t["edges"] if e["downstream"] is None)
    assert constant_edge["vjp_formula"] is None  # no gradient flows to a constant


@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_every_record_is_of_the_schema_and_nothing_else(example: dict[str, Any]) -> None:
    """Reverse and forward records, with both extras, made or not: every field is the schema's
    (schema.py forbids others), of its type."""
    expr, values = example["expr"], example["values"]
    RECORD.validate_python(trace(expr, values, example.get("seed"), check=True, hessian=True))
    first = next(iter(values))
    RECORD.validate_python(trace(expr, values, mode="forward", wrt=first, check=True))
    with pytest.raises(ValidationError):
        RECORD.validate_python({**trace(expr, values), "extra": 1})
