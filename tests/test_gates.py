"""Gates that open (gates.py): a composite op is one node (a closed gate) or, opened, the nodes of
its composition; both views give the same values and the same gradients.

- the rewrite: the default view is the graph as built; ids (`g<k>`, `<gate>.<p>`) do not depend on
  the values nor on which other gates are open; nested gates; ids that name no gate are ignored
  with a warning, never a 500; the node limit holds for the view;
- the gradient identity, for every composite of the registry on random small programs around
  its test cases (tests/cases*.py): collapsed, one level, a random subset, fully opened;
- the API: the record's gate fields, `expand` in POST /api/trace and /api/layout and in the
  picture, offline-file and code URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gradtrace import decode
from gradtrace import record as records
from gradtrace.analysis import analyse, compile_graph, request
from gradtrace.errors import GradtraceError
from gradtrace.gates import View, gates_of, id_key, open_gates, parse_expand
from gradtrace.layout import compute_layout, to_dot
from gradtrace.ops import FUNCTIONS, REGISTRY, composite
from gradtrace.schema import RECORD
from gradtrace.settings import Settings, get_settings

from .helpers import check_invariants
from .test_ops import CASES, op_name

COMPOSITES = [n for n, op in REGISTRY.items() if op.compose is not None]
CIRCUIT = "q = square(x + y) * z; square(q)"
VALUES: dict[str, Any] = {"x": 1.5, "y": -2.0, "z": 3.0}


def run(expr: str, values: dict[str, Any], expand: list[str] | tuple[str, ...] = (),
        **options: Any) -> dict[str, Any]:
    rec: dict[str, Any] = records.build(analyse(request(expr, values, expand=expand, **options)))
    return rec


# ---------------------------------------------------------------------------------------------
# The rewrite


def test_collapsed_is_the_graph_as_built() -> None:
    settings = get_settings()
    graph = compile_graph(CIRCUIT, VALUES, settings)
    view, unknown = open_gates(graph, [], VALUES, settings)
    assert view is graph and unknown == []
    gates = gates_of(graph)
    assert gates.ids == [None, None, None, "g3", None, None, "g6"]
    assert gates.groups == [None] * 7 and gates.opened == []
    rec = run(CIRCUIT, VALUES)
    assert [n["gate_id"] for n in rec["nodes"]] == gates.ids
    assert rec["open_gates"] == [] and all(n["in_gate"] is None for n in rec["nodes"])


def test_opening_a_gate_draws_its_parts() -> None:
    rec = run(CIRCUIT, VALUES, ["g3"])
    nodes = {n["id"]: n for n in rec["nodes"]}
    (gate,) = rec["open_gates"]
    assert gate | {"output": None} == {"id": "g3", "op": "square", "parent": None, "output": None,
                                       "name": None, "start": 4, "end": 17}
    part = nodes[gate["output"]]
    assert part["op"] == "mul" and part["in_gate"] == "g3" and part["gate_id"] is None
    # square(x + y): its one part multiplies the sum by itself (two edges from one node).
    feeding = [e for e in rec["edges"] if e["target"] == part["id"]]
    assert len({e["source"] for e in feeding}) == 1 and len(feeding) == 2
    # The other gate stays closed, under its own id.
    assert [n["gate_id"] for n in rec["nodes"] if n["gate_id"]] == ["g6"]
    check_invariants(rec)
    RECORD.validate_python(rec)


def test_ids_do_not_depend_on_values_or_on_other_gates() -> None:
    a = run(CIRCUIT, VALUES, ["g6"])
    b = run(CIRCUIT, {"x": [1.0, 2.0], "y": 0.5, "z": -1.0}, ["g6"])
    assert [n["gate_id"] for n in a["nodes"]] == [n["gate_id"] for n in b["nodes"]]
    assert a["structure"] == b["structure"]
    # g6 names the same gate whether g3 is open or not, and both open together.
    both = run(CIRCUIT, VALUES, ["g6", "g3"])
    assert [g["id"] for g in both["open_gates"]] == ["g3", "g6"]
    assert [g["op"] for g in both["open_gates"]] == ["square", "square"]
    assert all(n["gate_id"] is None for n in both["nodes"])
    spans = {g["id"]: (g["start"], g["end"]) for g in both["open_gates"]}
    assert spans == {g["id"]: (g["start"], g["end"])
                     for r in (run(CIRCUIT, VALUES, ["g3"]), a) for g in r["open_gates"]}


def test_a_named_gate_keeps_its_name() -> None:
    rec = run("q = square(x); q * y", {"x": 3, "y": 2}, ["g1"])
    (gate,) = rec["open_gates"]
    out = next(n for n in rec["nodes"] if n["id"] == gate["output"])
    assert gate["name"] == "q" and out["name"] == "q" and out["label"] == "q"
    assert out["op"] == "mul" and out["in_gate"] == "g1"


@pytest.mark.parametrize("given", [["g9"], ["g0"], ["g2"], ["x"], ["g3.1"], ["g3.x"], [""],
                                   ["g03"], ["g3.0"]])
def test_ids_that_name_no_gate_are_ignored_with_a_warning(given: list[str]) -> None:
    rec = run(CIRCUIT, VALUES, given)
    plain = run(CIRCUIT, VALUES)
    # g3.1 is a part of g3 (a mul): not a gate, and it does not open g3 either.
    assert rec["open_gates"] == [] and rec["nodes"] == plain["nodes"]
    ids = [g for g in parse_expand(given)]
    warned = [w for w in rec["warnings"] if w["type"] == "unknown_gate"]
    assert len(warned) == len(ids)
    for gid, w in zip(ids, warned, strict=True):
        assert f"'{gid}'" in w["message"] and "no gate" in w["message"]


def test_unknown_ids_beside_known_ones() -> None:
    rec = run(CIRCUIT, VALUES, ["g3", "g77,g6", "g3"])
    assert [g["id"] for g in rec["open_gates"]] == ["g3", "g6"]
    assert [w["message"] for w in rec["warnings"]] == [
        "expand: there is no gate 'g77' in this expression, so nothing opens for it (the link "
        "may be older than the expression)"]


def test_many_unknown_ids_are_counted_not_listed() -> None:
    rec = run(CIRCUIT, VALUES, [f"g{k}" for k in range(100, 200)])
    warned = [w for w in rec["warnings"] if w["type"] == "unknown_gate"]
    assert len(warned) == get_settings().max_unused_warnings + 1
    assert "80 more gates" in warned[-1]["message"]


def test_id_order() -> None:
    assert sorted(["g10", "g2.10", "g2", "g2.1", "g2.9"], key=id_key) == [
        "g2", "g2.1", "g2.9", "g2.10", "g10"]
    assert parse_expand(["g1, g2", "", "g1", " g3 "]) == ["g1", "g2", "g3"]


# A composite made of composites (registered for the test only): nest(x) = square(square(x)) + x.
# Its parts: 1 square, 2 square, 3 add; so `g<k>.1` and `g<k>.2` are gates in turn.


class NestedComposite:
    """Registers `nest` while in its `with` block."""

    def __enter__(self) -> None:
        op = composite(
            "nest", 1, "N",
            lambda b, x: b.op("add", b.op("square", b.op("square", x[0])), x[0]),
            tex=lambda s: f"{s[0]}^{{4}} + {s[0]}", local_tex=(lambda s: f"4{s[0]}^{{3}} + 1",),
            doc="A test composite made of composites.")
        self.patch = pytest.MonkeyPatch()
        self.patch.setitem(REGISTRY, "nest", op)
        self.patch.setitem(FUNCTIONS, "nest", "nest")

    def __exit__(self, *exc: object) -> None:
        self.patch.undo()


@pytest.fixture
def nest() -> Iterator[None]:
    with NestedComposite():
        yield


@pytest.mark.usefixtures("nest")
def test_nested_gates_open_one_level_at_a_time() -> None:
    expr, values = "nest(x) * y", {"x": 1.5, "y": -2.0}
    closed = run(expr, values)
    assert [n["gate_id"] for n in closed["nodes"] if n["gate_id"]] == ["g1"]
    one = run(expr, values, ["g1"])
    by = {n["id"]: n for n in one["nodes"]}
    # Opened: its parts, two of them closed gates of their own, inside g1's box.
    assert [(n["op"], n["gate_id"], n["in_gate"]) for n in one["nodes"] if n["in_gate"]] == [
        ("square", "g1.1", "g1"), ("square", "g1.2", "g1"), ("add", None, "g1")]
    assert by[one["open_gates"][0]["output"]]["op"] == "add"
    two = run(expr, values, ["g1", "g1.2"])
    assert [(g["id"], g["parent"]) for g in two["open_gates"]] == [("g1", None), ("g1.2", "g1")]
    assert [(n["op"], n["gate_id"], n["in_gate"]) for n in two["nodes"] if n["in_gate"]] == [
        ("square", "g1.1", "g1"), ("mul", None, "g1.2"), ("add", None, "g1")]
    # A part's id opens the gates it lies in.
    assert run(expr, values, ["g1.2"])["open_gates"] == two["open_gates"]
    # g1.1 stays g1.1 with g1.2 open, and the other way round.
    assert [n["gate_id"] for n in run(expr, values, ["g1.1"])["nodes"] if n["gate_id"]] == [
        "g1.2"]
    assert [g["id"] for g in run(expr, values, ["g1.2", "g1.1"])["open_gates"]] == [
        "g1", "g1.1", "g1.2"]
    # A wrong part opens nothing, not even the gate it would lie in.
    wrong = run(expr, values, ["g1.3", "g1.9"])
    assert wrong["open_gates"] == [] and len(wrong["warnings"]) == 2
    full = run(expr, values, ["g1", "g1.1", "g1.2"])
    assert all(n["gate_id"] is None for n in full["nodes"])
    for rec in (one, two, full):
        check_invariants(rec)
        for name, g in closed["gradients"].items():
            assert np.allclose(decode(rec["gradients"][name]), decode(g), rtol=1e-12, atol=0)
    # Steps renumber: nest opened adds its parts' steps (a square opened is one product: as many).
    assert len(closed["backward"]) + 2 == len(one["backward"]) == len(full["backward"])
    assert [s["node"] for s in one["backward"]] != [s["node"] for s in closed["backward"]]


@pytest.mark.usefixtures("nest")
def test_the_view_keeps_to_the_node_limit() -> None:
    expr, values = "nest(x) + y", {"x": 1, "y": 1}  # 4 nodes; 6 with nest opened
    assert len(compile_graph(expr, values, Settings(max_nodes=6), ["g1"]).nodes) == 6
    with pytest.raises(GradtraceError) as err:
        compile_graph(expr, values, Settings(max_nodes=5), ["g1"])
    assert err.value.type == "limit" and "close a gate" in err.value.message
    assert err.value.start == 0 and err.value.end == len("nest(x)")


@pytest.mark.usefixtures("nest")
def test_nested_clusters_in_the_layout() -> None:
    settings = get_settings()
    graph = compile_graph("nest(x) * y", {"x": 1, "y": 2}, settings, ["g1", "g1.2"])
    assert isinstance(graph, View)
    dot = to_dot(graph)
    outer, inner = dot.index("subgraph cluster_g1 {"), dot.index("subgraph cluster_g1_2 {")
    assert outer < inner < dot.index("}", inner) < dot.rindex("}")
    layout = compute_layout(graph, settings)
    c = layout["clusters"]
    assert set(c) == {"g1", "g1.2"} and c["g1.2"]["parent"] == "g1"
    assert c["g1"]["label"] == "nest" and c["g1.2"]["label"] == "square"

    def inside(a: dict[str, float], b: dict[str, float]) -> bool:
        return (b["x"] - b["w"] / 2 <= a["x"] - a["w"] / 2 and a["x"] + a["w"] / 2
                <= b["x"] + b["w"] / 2 and b["y"] - b["h"] / 2 <= a["y"] - a["h"] / 2
                and a["y"] + a["h"] / 2 <= b["y"] + b["h"] / 2)

    assert inside(c["g1.2"], c["g1"])
    gates = gates_of(graph)
    for n in graph.nodes:
        box = layout["nodes"][n.id]
        for gid, cluster in c.items():
            member = gates.groups[n.index] is not None and (
                gates.groups[n.index] == gid or gates.groups[n.index].startswith(gid + "."))
            assert inside(box, cluster) == member, (n.id, gid)


def test_views_have_their_own_structure() -> None:
    keys = {run(CIRCUIT, VALUES, e)["structure"] for e in ([], ["g3"], ["g6"], ["g3", "g6"])}
    assert len(keys) == 4
    # x * x drawn plainly is not square(x) opened: the box is part of the structure.
    assert run("x * x", {"x": 2})["structure"] != run("square(x)", {"x": 2}, ["g1"])["structure"]


def test_hessian_and_forward_mode_are_the_same_in_every_view() -> None:
    base = run(CIRCUIT, VALUES, hessian=True, check=True)
    for expand in (["g3"], ["g3", "g6"]):
        rec = run(CIRCUIT, VALUES, expand, hessian=True, check=True)
        assert rec["hessian"] == base["hessian"]
        assert rec["check"]["passed"] and rec["value"] == base["value"]
        fwd = run(CIRCUIT, VALUES, expand, mode="forward", wrt="x")
        assert fwd["derivative"] == pytest.approx(base["gradients"]["x"], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# The gradient identity, for every composite


def _program(key: str, rng: np.random.Generator) -> tuple[str, dict[str, Any]]:
    """A random small program around CASES[key]'s expression (operands a, b, c, ...): each
    operand that takes a gradient maybe scaled by an input near 1 (which keeps it in the op's
    domain), the op's value maybe used twice (a copy gate), summed and scaled, or added to a
    second use of the op."""
    case = CASES[key]
    assert case.expr is not None
    k = int(rng.integers(len(case.shapes)))
    letters = "abcdefgh"[:len(case.gens)]
    values: dict[str, Any] = {
        ch: np.asarray(g(rng, s), dtype=np.float64).tolist()
        for ch, g, s in zip(letters, case.gens, case.shapes[k], strict=True)}
    expr = case.expr
    scaled = expr
    for i, ch in enumerate(letters):
        if i not in case.constant and rng.random() < 0.6:
            scaled = re.sub(rf"\b{ch}\b", f"({ch} * s)", scaled)
            values["s"] = float(rng.uniform(0.8, 1.25))
    try:
        run(scaled, values)
    except (GradtraceError, ValueError):  # scaled out of the op's domain (a probability > 1)
        scaled = expr
        values.pop("s", None)
    inner = scaled
    choice = int(rng.integers(4))
    if choice == 1:
        inner = f"t = {scaled}; t * u + t"
    elif choice == 2:
        inner = f"sum({scaled}) * u"
    elif choice == 3:
        inner = f"{scaled} + {expr}"
    if choice in (1, 2):
        values["u"] = float(rng.uniform(-2, 2))
    return inner, values


def _gradients(rec: dict[str, Any]) -> dict[str, np.ndarray]:
    return {name: np.asarray(decode(g), dtype=np.float64) for name, g in rec["gradients"].items()}


def _same(got: dict[str, np.ndarray], want: dict[str, np.ndarray], what: str) -> None:
    assert got.keys() == want.keys()
    for name, w in want.items():
        g = got[name]
        scale = float(np.max(np.abs(w), initial=1.0)) if np.isfinite(w).all() else 1.0
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * scale, equal_nan=True,
                                   err_msg=f"{what}: d/d{name}")


def _closed_ids(rec: dict[str, Any]) -> list[str]:
    return [n["gate_id"] for n in rec["nodes"] if n["gate_id"]]


@pytest.mark.parametrize("name", COMPOSITES)
def test_every_view_gives_the_same_gradients(name: str) -> None:
    keys = [k for k in sorted(CASES) if op_name(k) == name and CASES[k].expr is not None]
    assert keys, f"{name}: no row of test cases with an expression in tests/cases*.py"
    rng = np.random.default_rng([12, *name.encode()])
    # At most four of its rows (cross_entropy has a dozen), two programs each.
    if len(keys) > 4:
        keys = [keys[0], *rng.choice(keys[1:], size=3, replace=False)]
    for key in keys:
        for trial in range(2):
            expr, values = _program(key, rng)
            collapsed = run(expr, values)
            out_shape = np.shape(decode(collapsed["value"]))
            seed = rng.normal(size=out_shape).tolist() if out_shape else float(rng.normal())
            collapsed = run(expr, values, seed=seed)
            want = _gradients(collapsed)
            top = _closed_ids(collapsed)
            assert top, (key, expr)
            subset = [g for g in top if rng.random() < 0.5] or top[:1]
            views = {"one level": top, **({"a subset": subset} if subset != top else {})}
            opened = list(top)
            for _depth in range(8):  # fully opened: every gate, level by level
                rec = run(expr, values, opened)
                more = _closed_ids(rec)
                if not more:
                    break
                opened += more
            views["fully opened"] = opened
            for what, expand in views.items():
                rec = run(expr, values, expand, seed=seed)
                assert [g["id"] for g in rec["open_gates"]] == sorted(set(
                    g for e in expand for g in _with_parents(e)), key=id_key), what
                assert not [w for w in rec["warnings"] if w["type"] == "unknown_gate"]
                # The same numbers: values bit for bit, gradients to 1e-12.
                assert rec["value"] == collapsed["value"], (key, expr, what)
                _same(_gradients(rec), want, f"{key} {expr!r} {what}")
            check_invariants(rec)
            if trial:
                continue
            # Forward mode too, along the first input that takes a gradient.
            wrt = next(n for n in rec["gradients"])
            fwd = [run(expr, values, e, mode="forward", wrt=wrt)["derivative"]
                   for e in ([], opened)]
            np.testing.assert_allclose(decode(fwd[1]), decode(fwd[0]), rtol=1e-12,
                                       atol=1e-12 * max(1.0, float(np.max(np.abs(
                                           decode(fwd[0])), initial=0.0))), equal_nan=True)


def _with_parents(gid: str) -> list[str]:
    parts = gid.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


# ---------------------------------------------------------------------------------------------
# The API


def test_trace_route_opens_gates(client: TestClient) -> None:
    body = {"expr": CIRCUIT, "values": VALUES}
    plain = client.post("/api/trace", json=body).json()
    r = client.post("/api/trace", json={**body, "expand": ["g3", "g6", "g40"]})
    assert r.status_code == 200
    rec = r.json()
    RECORD.validate_python(rec)
    assert [g["id"] for g in rec["open_gates"]] == ["g3", "g6"]
    assert [w["type"] for w in rec["warnings"]] == ["unknown_gate"]
    assert rec["gradients"] == pytest.approx(plain["gradients"], rel=1e-12)
    assert rec["structure"] != plain["structure"]
    lay = client.post("/api/layout", json={**body, "expand": ["g3", "g6"]}).json()
    assert lay["structure"] == rec["structure"] and set(lay["clusters"]) == {"g3", "g6"}
    assert set(lay["nodes"]) == {n["id"] for n in rec["nodes"]}
    assert client.post("/api/layout", json=body).json()["clusters"] == {}


@pytest.mark.parametrize("expand", [["g3"], "g3", [3], [["g3"]], None])
def test_expand_of_another_form_is_422_or_ignored(client: TestClient, expand: Any) -> None:
    r = client.post("/api/trace", json={"expr": CIRCUIT, "values": VALUES, "expand": expand})
    assert r.status_code == (200 if expand == ["g3"] else 422), r.text


def test_picture_offline_file_and_code_urls_carry_expand(client: TestClient) -> None:
    q = {"expr": CIRCUIT, **{k: str(v) for k, v in VALUES.items()}}
    svg = client.get("/api/picture.svg", params={**q, "expand": "g3,g6", "step": "b2"}).text
    assert svg.count('class="gate"') == 2 and '<g class="gate" data-gate="g3">' in svg
    assert "class=\"gate\"" not in client.get("/api/picture.svg", params=q).text
    # An id that names no gate: the picture is drawn all the same (closed).
    assert client.get("/api/picture.svg", params={**q, "expand": "g99"}).status_code == 200
    # The code of the view: the opened square is its product, the closed one np.square.
    code = client.get("/api/code", params={**q, "expand": "g3", "lang": "numpy"}).text
    assert code.count("np.square(") == 2 and "= p * p" in code  # forward, and its comment
    assert client.get("/api/code", params={**q, "lang": "numpy"}).text.count("np.square(") == 4
    page = client.get("/api/standalone.html", params={**q, "expand": "g3"})
    if page.status_code == 200:  # the frontend is built
        assert '"open_gates":[{"id":"g3"' in page.text and '"clusters":{"g3"' in page.text
    else:
        assert page.status_code == 503


def test_an_input_called_expand_is_given_as_v_expand(client: TestClient) -> None:
    r = client.get("/api/picture.svg", params={"expr": "expand * 2", "v.expand": "3"})
    assert r.status_code == 200
