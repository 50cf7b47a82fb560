"""The view in words (describe.py; the app's narrate.ts says the same, checked through the
fixtures): every number a narration says is a number of the record, to the 4 significant digits
said, and every number a step is about is said; GET /api/describe as JSON and as text, chosen by
`format` or the Accept header; its errors as the picture's; the pictures' <title> and <desc>; the
labels' prefixes; and the frontend's fixtures and their words as the backend writes them now."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from gradtrace import trace
from gradtrace.describe import (
    LIST_MAX,
    SAID_MAX,
    describe,
    describe_node,
    describe_view,
    narrate_step,
    spoken_number,
    wants_text,
)
from gradtrace.render import step_view
from gradtrace.schema import DescribeResponse

from .conftest import SEEDS
from .helpers import load_script

ROOT = Path(__file__).resolve().parents[1]
SVG_NS = "{http://www.w3.org/2000/svg}"
CIRCUIT = {"expr": "(x + y) * z", "x": "-2", "y": "5", "z": "-4"}

# A number as the narration says it: "minus 4", "0.25", "1.5 times 10 to the minus 5"; not a
# digit of a name (W1, x0, a₁) nor of an index written x[1].
NUMBER = re.compile(r"(?<![\w.\[\u2080-\u2089])(minus )?(\d+(?:\.\d+)?)"
                    r"(?: times 10 to the (minus )?(\d+))?(?![\w\u2080-\u2089])")


def spoken(text: str) -> list[tuple[float, str]]:
    """The numbers a text says, parsed back, each with its digits as said."""
    out = []
    for m in NUMBER.finditer(text):
        x = float(m.group(2))
        if m.group(4) is not None:
            x *= 10.0 ** (-int(m.group(4)) if m.group(3) else int(m.group(4)))
        out.append((-x if m.group(1) else x, m.group(2)))
    for word, x in (("minus infinity", -math.inf), ("infinity", math.inf),
                    ("not a number", math.nan)):
        out += [(x, word)] * text.replace("minus infinity", "").count(word) \
            if word == "infinity" else [(x, word)] * text.count(word)
    return out


def number(v: Any) -> float:
    return {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}.get(v, v) \
        if isinstance(v, str) else float(v)


def flat(t: Any) -> list[float]:
    if t is None:
        return []
    if isinstance(t, list):
        return [y for x in t for y in flat(x)]
    return [number(t)]


def rounds_to(said: float, digits: str, x: float) -> bool:
    """`said` is `x` to the significant digits said (at most 4)."""
    if math.isnan(x) or math.isnan(said):
        return math.isnan(x) and math.isnan(said)
    if math.isinf(x) or math.isinf(said) or x == 0 or said == 0:
        return said == x or (said == 0 and abs(x) < 5e-324)
    sig = len(digits.replace(".", "").strip("0"))  # 0.001: 1 digit; 12350: 4
    if sig > 4:
        return False
    # Half a unit of the last digit said (4 significant digits: fewer when the rest are zeros).
    unit = 10.0 ** (math.floor(math.log10(abs(x))) - 3)
    return abs(said - x) <= 0.5 * unit * (1 + 1e-9)


def shapes(t: Any) -> set[int]:
    """The axes' lengths of a tensor and its size (a step says a tensor's shape)."""
    if not isinstance(t, list):
        return set()
    out, at = set(), t
    while isinstance(at, list):
        out.add(len(at))
        if not at:
            break
        at = at[0]
    return out | {len(flat(t))}


def record_numbers(record: dict[str, Any]) -> tuple[list[float], set[int]]:
    """The numbers a narration may say: the record's values, gradients, tangents, local
    derivatives, downstream gradients, upstream gradients, terms and their running sums; and
    the counts it may say (step k of n, shapes, sizes, uses, parts, operand numbers)."""
    nums: list[float] = []
    counts: set[int] = set(range(len(record["forward"]) + len(record["backward"]) + 2))
    for n in record["nodes"]:
        for t in (n["value"], n.get("grad"), n.get("tangent")):
            nums += flat(t)
            counts |= shapes(t)
    for e in record["edges"]:
        nums += flat(e.get("local")) + flat(e.get("downstream")) + flat(e.get("tangent"))
        counts |= shapes(e.get("downstream")) | shapes(e.get("tangent"))
    # A node used several times has, after each of its users' steps, the sum of the parts in so
    # far: its terms summed in the order the steps reach them.
    position = {s["node"]: k for k, s in enumerate(record["backward"])}
    target = {e["id"]: e["target"] for e in record["edges"]}
    for s in record["backward"]:
        nums += flat(s["upstream"])
        counts |= shapes(s["upstream"]) | {len(s["terms"])}
        run: list[float] = []
        for term in sorted(s["terms"], key=lambda t: position.get(target.get(t["edge"]), -1)):
            vals = flat(term["value"])
            run = vals if not run else [a + b for a, b in zip(run, vals, strict=True)]
            nums += vals + run
    for key in ("derivative", "tangent", "seed"):
        nums += flat(record.get(key))
    return nums, counts


def about(record: dict[str, Any], i: int) -> list[list[float]]:
    """The numbers step i is about, each of which must be said (a group: a tensor said in full,
    or the smallest and largest number of a larger one)."""
    def said(t: Any) -> list[list[float]]:
        f = flat(t)
        if len(f) <= SAID_MAX:
            return [[x] for x in f]
        finite = [x for x in f if not math.isnan(x)]
        return [[min(finite)], [max(finite)]] if finite else []

    by_id = {n["id"]: n for n in record["nodes"]}
    forward = record["forward"]
    if i < len(forward):
        node = by_id[forward[i]]
        want = said(node["value"])
        if record["mode"] == "forward":
            want += said(node.get("tangent"))
            edges = [e for e in record["edges"] if e["target"] == node["id"]
                     and by_id[e["source"]]["kind"] != "const"]
            if node.get("tangent") is not None and node["kind"] == "op":
                for e in edges[:LIST_MAX]:
                    src = by_id[e["source"]].get("tangent")
                    if src is not None and e.get("tangent") is not None:
                        if e["local"] is not None and not isinstance(src, list):
                            want += said(e["local"]) + said(src)
                        want += said(e["tangent"])
        return want
    step = record["backward"][i - len(forward)]
    want = said(step["upstream"])
    for e in step["edges"][:LIST_MAX]:
        want += said(e["local"]) if e["local"] is not None else []
        want += said(e["downstream"])
    return want


def check_every_step(record: dict[str, Any]) -> int:
    """Every step's full narration (and brief) says only the record's numbers, to the digits
    said, and says every number the step is about. Returns the number of numbers checked."""
    nums, counts = record_numbers(record)
    checked = 0
    for i in range(len(record["forward"]) + len(record["backward"])):
        view = step_view(record, i)
        full = narrate_step(record, view, "full")
        brief = narrate_step(record, view, "brief")
        assert "\u2212" not in full + brief
        assert len(brief) < len(full), (brief, full)
        for text in (full, brief):
            for said, digits in spoken(text):
                ok = any(rounds_to(said, digits, x) for x in nums) or (
                    said.is_integer() and int(said) in counts and digits.isdigit())
                assert ok, f"step {i + 1} says {said} ({digits}), not in the record: {text!r}"
                checked += 1
        heard = spoken(full)
        for group in about(record, i):
            for x in group:
                assert any(rounds_to(s, d, x) for s, d in heard), \
                    f"step {i + 1} does not say {x}: {full!r}"
    return checked


# ---------------------------------------------------------------------------------------------
# Every preset, every step, both modes


@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_every_presets_steps_say_the_records_numbers(example: dict[str, Any]) -> None:
    record = trace(example["expr"], example["values"], example.get("seed"))
    assert check_every_step(record) > 0


@pytest.mark.parametrize("example", SEEDS, ids=[s["key"] for s in SEEDS])
def test_every_presets_forward_mode_steps_say_the_tangents(example: dict[str, Any]) -> None:
    for wrt in list(example["gradients"])[:3]:  # inputs that take a derivative (not labels)
        record = trace(example["expr"], example["values"], example.get("seed"),
                       mode="forward", wrt=wrt)
        assert check_every_step(record) > 0
        last = narrate_step(record, step_view(record, len(record["forward"]) - 1), "full")
        assert f"Forward step {len(record['forward'])} of {len(record['forward'])} along {wrt}." \
            in last


def test_the_issues_sentence() -> None:
    record = trace("q = x + y; f = q * z", {"x": -2, "y": 5, "z": -4})
    k = [s["node"] for s in record["backward"]].index("n2") + 1  # q's step
    view = step_view(record, len(record["forward"]) + k - 1)
    assert narrate_step(record, view, "full") == (
        f"Backward step {k} of 5. q equals x plus y. It receives upstream gradient minus 4. The "
        "local derivative of q with respect to x is 1, so x receives minus 4. The local "
        "derivative of q with respect to y is 1, so y receives minus 4.")
    assert narrate_step(record, view, "brief") == \
        f"Backward {k} of 5: q, upstream minus 4; x gets minus 4, y gets minus 4."
    assert narrate_step(record, step_view(record, 2), "full") == \
        "Forward step 3 of 5. q equals x plus y, which is 3."


def test_a_tensor_is_said_by_its_numbers_or_by_its_shape_and_range() -> None:
    record = trace("h = W @ x; L = sum(h)", {"W": [[1, -2, 3], [0.5, 0, -1]], "x": [1, 2, 3]})
    w = narrate_step(record, step_view(record, 0), "full")
    assert w == "Forward step 1 of 4. W is an input, a 2 by 3 matrix: 1, minus 2, 3; 0.5, 0, " \
        "minus 1."
    big = trace("L = sum(X * X)", {"X": [[i - 7.5 for i in range(4)] for _ in range(5)]})
    said = narrate_step(big, step_view(big, 0), "full")
    assert said == "Forward step 1 of 3. X is an input, a 5 by 4 matrix of 20 numbers, from " \
        "minus 7.5 to minus 4.5. The table view lists every number."
    assert narrate_step(big, step_view(big, 0), "brief") == \
        "Forward 1 of 3: X is a 5 by 4 matrix."


def test_numbers_are_said_so_that_they_parse_back() -> None:
    for x, words in [(-4, "minus 4"), (0.25, "0.25"), (1.5e-5, "1.5 times 10 to the minus 5"),
                     (123456789, "1.235 times 10 to the 8"), (-0.0, "0"),
                     (math.inf, "infinity"), ("-Infinity", "minus infinity"),
                     (math.nan, "not a number")]:
        assert spoken_number(x) == words
    for x in (-4.0, 1 / 3, 6.02e23, -2.5e-7, 99999.5, 12345.678):
        [(back, digits)] = spoken(spoken_number(x))
        assert rounds_to(back, digits, x), (x, spoken_number(x))


def test_a_big_graph_is_described_in_a_bounded_text() -> None:
    names = [f"v{k}" for k in range(12)]
    record = trace(f"s = stack([{', '.join(names)}]); L = sum(s * s)",
                   {n: k for k, n in enumerate(names)})
    view = step_view(record, step_index_of(record, "b3"))  # stack's step
    title, text = describe_view(record, view)
    n = len(record["backward"])
    assert title == f"s = stack([{', '.join(names)}]); L = sum(s * s) (backward step 3 of {n})"
    assert "s equals stack of v0, v1, v2, v3, v4, v5, v6, v7 and 4 more." in text
    _, before = describe_view(record, step_view(record, step_index_of(record, "b2")))
    assert "It receives upstream gradient, a vector of 12 numbers, all 1." in before
    assert "and 4 more inputs." in text
    assert "And 4 more operands receive theirs." in text  # stack's 12 operands, 8 said
    assert len(text) < 2000
    long = trace(" + ".join(f"x{k}" for k in range(60)), {})
    title, _ = describe_view(long, step_view(long, 0))
    assert len(title) < 160 and "…" in title


def step_index_of(record: dict[str, Any], spec: str) -> int:
    from gradtrace.render import step_index

    return step_index(record, spec)


def test_a_node_is_described_as_known_at_the_step() -> None:
    record = trace("c = a + b; d = b + 1; e = c * d", {"a": 2, "b": 1})
    b = "n1"
    start = step_view(record, 0)
    assert describe_node(record, start, b, "full") == (
        "b is an input. Its value is not computed yet. Its gradient is not known yet. "
        "Used by c. Used by d.")
    after_d = step_view(record, step_index_of(record, "b2"))
    assert describe_node(record, after_d, b, "full") == (
        "b is an input. Its value is 1. Its gradient so far is 3, with 1 of its 2 parts in. "
        "Used by c. Used by d, which sends back 3.")
    assert describe_node(record, after_d, b, "brief") == \
        "b, value 1, gradient so far 3; used by c and d."



def test_where_a_node_comes_from_and_what_takes_no_gradient() -> None:
    """An opened gate by the name it is called (no underscore), a node grad() built, a where's
    condition and a comparison (no gradient flows to either), a constant by its number."""
    record = trace("cross_entropy(s, y)", {"s": [[1.0, 2.0, 3.0]], "y": [2]}, expand=["g2"])
    text = narrate_step(record, step_view(record, 2), "full")
    assert "It is a part of the opened gate cross entropy." in text, text
    record = trace("d = grad(x^3, x)\nd*y", {"x": 2.0, "y": 1.0})
    built = [n for n in record["nodes"] if n.get("origin") == "grad"]
    assert built
    for n in built:
        i = record["forward"].index(n["id"])
        assert "It is built by grad." in narrate_step(record, step_view(record, i), "full")
    record = trace("where(c, x, y > 1)", {"c": [1, 0], "x": [1.0, 2.0], "y": [3.0, 0.0]})
    end = step_view(record, step_index_of(record, "end"))
    by_op = {n["op"]: n["id"] for n in record["nodes"]}
    assert "Operand c, the condition: no gradient." in describe_node(
        record, end, by_op["where"], "full")
    assert "It takes no gradient: none flows back to it." in describe_node(
        record, end, by_op["gt"], "full")
    assert describe_node(record, end, by_op["gt"], "brief").startswith(
        "a, value a vector of 2 numbers: 1, 0, no gradient;")
    one = next(n["id"] for n in record["nodes"] if n["kind"] == "const")
    assert describe_node(record, end, one, "brief") == "constant 1; used by a."

# ---------------------------------------------------------------------------------------------
# GET /api/describe


def get(client: TestClient, query: dict[str, str], **headers: str) -> httpx.Response:
    return client.get("/api/describe?" + urlencode(query), headers=headers)


def test_describe_json_is_the_views_words(client: TestClient) -> None:
    r = get(client, {**CIRCUIT, "step": "b3"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert "accept" in r.headers["vary"].lower()
    body = TypeAdapter(DescribeResponse).validate_python(r.json())
    record = trace("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert body == describe(record, "b3")
    assert body["title"] == "(x + y) * z (backward step 3 of 5)"
    assert body["step"]["phase"] == "backward" and body["step"]["k"] == 3
    assert body["step"]["n"] == 5 and body["step"]["index"] == 7
    assert body["step"]["narration_full"].startswith("Backward step 3 of 5. a equals x plus y.")
    assert body["text"].endswith(body["step"]["narration_full"])
    assert [n["id"] for n in body["nodes"]] == [n["id"] for n in record["nodes"]]
    x = next(n for n in body["nodes"] if n["name"] == "x")
    assert x["full"] == ("x is an input. Its value is minus 2. Its gradient is not known yet. "
                         "Used by a, which sends back minus 4.")


def test_describe_forward_mode_follows_the_query(client: TestClient) -> None:
    body = get(client, {**CIRCUIT, "mode": "forward", "wrt": "x"}).json()
    assert body["title"] == "(x + y) * z (forward step 5 of 5, forward mode along x)"
    assert "In forward mode along x, its derivative is minus 4." in body["text"]
    assert body["step"]["narration_brief"] == "Forward 5 of 5: f is minus 12, tangent minus 4."


@pytest.mark.parametrize("extra,headers", [
    ({"format": "text"}, {}),
    ({}, {"accept": "text/plain"}),
    ({}, {"accept": "text/*, application/json;q=0.5"}),
    ({}, {"accept": "application/json;q=0.8, text/plain"}),
])
def test_describe_text_form(client: TestClient, extra: dict[str, str],
                            headers: dict[str, str]) -> None:
    r = get(client, {**CIRCUIT, "step": "b1", **extra}, **headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    body = get(client, {**CIRCUIT, "step": "b1"}, accept="application/json").json()
    assert r.text == f"{body['title']}\n\n{body['text']}\n"


@pytest.mark.parametrize("extra,headers", [
    ({}, {}),
    ({}, {"accept": "*/*"}),
    ({}, {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}),
    ({}, {"accept": "text/plain;q=0.5, application/json"}),
    ({}, {"accept": "text/plain;q=0"}),
    ({"format": "json"}, {"accept": "text/plain"}),
])
def test_describe_json_form(client: TestClient, extra: dict[str, str],
                            headers: dict[str, str]) -> None:
    r = get(client, {**CIRCUIT, **extra}, **headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["title"] == "(x + y) * z (backward step 5 of 5)"


def test_accept_negotiation() -> None:
    assert wants_text("text", None) and not wants_text("json", "text/plain")
    assert not wants_text(None, None) and not wants_text(None, "")
    assert wants_text(None, "text/plain")
    assert not wants_text(None, "application/json, text/plain")
    assert wants_text(None, "text/plain, application/json")
    assert wants_text(None, "text/*;q=0.9, application/*;q=0.8")
    assert not wants_text(None, "text/plain;q=0, */*")
    assert not wants_text(None, "image/png")
    assert not wants_text(None, "text/plain;q=nonsense")


def test_an_input_called_format_is_given_as_v_format(client: TestClient) -> None:
    body = get(client, {"expr": "format * 2", "v.format": "3", "format": "json"}).json()
    assert "The output f is 6." in body["text"]


@pytest.mark.parametrize("query,kind", [
    ({**CIRCUIT, "expr": "(x + "}, "syntax"),
    ({**CIRCUIT, "expr": "x + foo(y)"}, "function"),
    ({**CIRCUIT, "step": "b9"}, "step"),
    ({**CIRCUIT, "x": "[[1,2"}, "value"),
    ({"x": "1"}, "syntax"),
])
def test_bad_queries_are_the_pictures_4xx(client: TestClient, query: dict[str, str],
                                         kind: str) -> None:
    picture = client.get("/api/picture.svg?" + urlencode(query))
    for headers in ({}, {"accept": "text/plain"}):
        r = get(client, query, **headers)
        assert r.status_code == picture.status_code == 400, r.text
        assert r.json() == picture.json()
        assert r.json()["error"]["type"] == kind


def test_a_bad_expression_points_at_its_characters(client: TestClient) -> None:
    expr = "x * (y + )"
    error = get(client, {"expr": expr, "x": "1", "y": "2"}).json()["error"]
    assert error["type"] == "syntax"
    assert 0 <= error["start"] <= error["end"] <= len(expr)
    assert "+" in expr[error["start"]:error["end"]]  # the operator missing its operand


def test_describe_is_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/describe"]["get"]
    content = op["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/"
                                                             "DescribeResponse"}
    assert "text/plain" in content
    assert {"title", "text", "step", "nodes"} <= set(
        spec["components"]["schemas"]["DescribeResponse"]["properties"])


def test_real_server_describes(server: str) -> None:
    url = f"{server}/api/describe?" + urlencode({**CIRCUIT, "step": "b3"})
    r = httpx.get(url, timeout=30)
    assert r.status_code == 200 and r.json()["title"] == "(x + y) * z (backward step 3 of 5)"
    r = httpx.get(url, headers={"accept": "text/plain"}, timeout=30)
    assert r.status_code == 200 and r.text.startswith("(x + y) * z (backward step 3 of 5)\n\n")
    r = httpx.get(f"{server}/api/describe?expr=x%20%2B", timeout=30)
    assert r.status_code == 400 and r.json()["error"]["type"] == "syntax"


# ---------------------------------------------------------------------------------------------
# The pictures: their text alternative, the labels' prefixes


def test_the_pictures_title_and_desc_are_the_views_words(client: TestClient) -> None:
    query = {**CIRCUIT, "step": "b3"}
    svg = client.get("/api/picture.svg?" + urlencode(query)).text
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    title = root.find(f"{SVG_NS}title")
    desc = root.find(f"{SVG_NS}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    words = get(client, query).json()
    assert (title.text, desc.text) == (words["title"], words["text"])
    assert list(root)[:2] == [title, desc]


def test_the_pictures_labels_and_key_carry_their_prefixes(client: TestClient) -> None:
    key = json.loads((ROOT / "backend/gradtrace/data/colour_key.json").read_text())
    prefix = {e["colour"]: e["prefix"] for e in key["reverse"] + key["forward"]
              if e["kind"] == "text"}
    assert prefix == {"value": "", "grad": "∇ ", "tangent": "∂ ", "local": "×"}
    for query, colour in ((CIRCUIT, "grad"), ({**CIRCUIT, "mode": "forward", "wrt": "x"},
                                              "tangent")):
        root = ET.fromstring(client.get("/api/picture.svg?" + urlencode(query)).text)

        def texts(cls: str, r: ET.Element = root) -> list[str]:
            return [t.text or "" for t in r.iter(f"{SVG_NS}text")
                    if cls in (t.get("class") or "").split()]

        labels = texts(f"edge-{colour}")
        assert len(labels) >= 3 and all(t.startswith(prefix[colour]) for t in labels), labels
        assert texts("edge-value") and not any(t.startswith(("∇", "∂"))
                                                for t in texts("edge-value"))
        assert f"{prefix[colour]}0.2" in texts("key-sample")
        assert "×2" in texts("key-sample")


# ---------------------------------------------------------------------------------------------
# The frontend's fixtures and their words, as the backend writes them now


def test_the_frontends_fixtures_are_current_and_have_their_words() -> None:
    """frontend/tests/fixtures/*.json are the records the backend writes now: a change of the
    record without `.venv/bin/python scripts/fixtures.py` fails. Their words (what describe.py
    says of them, which narrate.test.ts checks the app says too) are written afresh by
    scripts/test.sh before Vitest runs, for every fixture."""
    fixtures = load_script("fixtures")
    files = fixtures.texts()
    assert fixtures.WORDS in files and len(files) >= 14
    stale = [str(p.relative_to(ROOT)) for p in fixtures.drifted(files) if p != fixtures.WORDS]
    assert not stale, f"out of date: {stale}; run {fixtures.FIX}"
    words = json.loads(files[fixtures.WORDS])
    assert set(words["traces"]) == {p.stem for p in fixtures.trace_files()}
