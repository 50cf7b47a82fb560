"""The HTTP contract of DESIGN.md, in process (`client`) and against a real uvicorn (`server`):
/api/health, /api/trace, /api/layout, error JSON with spans and 4xx (never 5xx), 422 for
malformed bodies, /docs and /openapi.json."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gradtrace import trace

from .helpers import check_invariants

CIRCUIT: dict[str, Any] = {"expr": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}}
CIRCUIT_QUERY = {"expr": "(x + y) * z", "x": "-2", "y": "5", "z": "-4"}


def as_json(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


def test_health(client: TestClient) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_trace_answers_the_record(client: TestClient) -> None:
    r = client.post("/api/trace", json=CIRCUIT)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body == as_json(trace(CIRCUIT["expr"], CIRCUIT["values"]))
    check_invariants(body)
    assert body["value"] == -12.0
    assert body["gradients"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    for n in body["nodes"]:
        assert {"id", "kind", "op", "label", "value", "grad", "shape"} <= set(n)
    for e in body["edges"]:
        assert {"id", "source", "target", "arg", "local", "local_formula", "downstream"} <= set(e)
    assert body["forward"] == [n["id"] for n in body["nodes"]]
    assert [s["node"] for s in body["backward"]] == list(reversed(body["forward"]))
    assert body["warnings"] == []


def test_trace_with_tensors_and_seed(client: TestClient) -> None:
    req = {"expr": "Z = A @ B", "values": {"A": [[1, 2]], "B": [[1, 0], [0, 1]]},
           "seed": [[1, -1]]}
    body = client.post("/api/trace", json=req).json()
    assert body["value"] == [[1.0, 2.0]] and body["gradients"]["A"] == [[1.0, -1.0]]
    assert all(e["local"] is None for e in body["edges"])


def test_non_finite_numbers_are_strings(client: TestClient) -> None:
    r = client.post("/api/trace", json={"expr": "exp(exp(exp(x)))", "values": {"x": 10}})
    assert r.status_code == 200
    json.loads(r.text, parse_constant=lambda c: pytest.fail(f"bare {c} in the body"))
    body = r.json()
    assert body["value"] == "Infinity"
    assert any(w["type"] == "nonfinite" for w in body["warnings"])
    r = client.post("/api/trace", json={"expr": "x * 2", "values": {"x": "NaN"}})
    assert r.status_code == 200 and r.json()["value"] == "NaN"


def test_unused_value_is_a_warning(client: TestClient) -> None:
    body = client.post("/api/trace", json={"expr": "x", "values": {"x": 1, "gone": 2}}).json()
    assert [w["type"] for w in body["warnings"]] == ["unused_value"]


BAD: list[tuple[str, dict[str, Any], Any, str, str]] = [
    # expr, values, seed, error type, the text the span covers
    ("(x + y", {"x": 1, "y": 2}, None, "syntax", "("),
    ("x + y)", {"x": 1, "y": 2}, None, "syntax", ")"),
    ("x +", {"x": 1}, None, "syntax", "+"),
    ("x^^2", {"x": 1}, None, "syntax", "^^"),
    ("2..3 * x", {"x": 1}, None, "syntax", "2..3"),
    ("", {}, None, "syntax", ""),
    ("x ∂ y", {"x": 1}, None, "syntax", "∂"),
    ("x + exp", {"x": 1}, None, "name", "exp"),
    ("sigmod(x)", {"x": 1}, None, "function", "sigmod"),
    ("pow(x)", {"x": 1}, None, "arity", "pow(x)"),
    ("A @ B", {"A": [[1, 2]], "B": [[1, 2]]}, None, "shape", "A @ B"),
    ("dot(A, A)", {"A": [[1, 2]]}, None, "shape", "dot(A, A)"),
    ("2 * v", {"v": [[1, 2], [3]]}, None, "value", "v"),
    ("2 * v", {"v": True}, None, "value", "v"),
    ("2 * v", {"v": {"a": 1}}, None, "value", "v"),
    ("2 * v", {"v": 10**400}, None, "value", "v"),
    ("W * 2", {"W": [1, 2]}, [1, 2, 3], "seed", "W * 2"),
    ("(" * 150 + "x" + ")" * 150, {"x": 1}, None, "limit", "("),
    ("x^" * 5000 + "x", {"x": 1}, None, "limit", ""),
    (" + ".join(["x"] * 20000), {"x": 1}, None, "limit", ""),
]


@pytest.mark.parametrize(("expr", "values", "seed", "type_", "span_text"), BAD,
                         ids=[f"{b[3]}-{b[0][:12]!r}" for b in BAD])
def test_bad_input_is_4xx_with_a_span(client: TestClient, expr: str, values: dict[str, Any],
                                      seed: Any, type_: str, span_text: str) -> None:
    req: dict[str, Any] = {"expr": expr, "values": values}
    if seed is not None:
        req["seed"] = seed
    r = client.post("/api/trace", json=req)
    assert 400 <= r.status_code < 500, r.text
    err = r.json()["error"]
    assert set(err) == {"type", "message", "start", "end"}
    assert err["type"] == type_ and err["message"]
    assert 0 <= err["start"] <= err["end"]
    if span_text:
        assert expr[err["start"]:err["end"]] == span_text
    # The same error from the layout endpoint, which compiles the same text.
    if type_ in ("syntax", "function", "arity", "limit") and len(expr) < 10_000:
        r2 = client.post("/api/layout", json={"expr": expr, "values": values})
        assert 400 <= r2.status_code < 500 and r2.json()["error"]["type"] == type_


@pytest.mark.parametrize("body", [
    b"not json",
    b'{"expr": "x", "values": ',
    b"[1, 2]",
    b'"x"',
    b"{}",
    b'{"values": {"x": 1}}',
    b'{"expr": 3}',
    b'{"expr": null}',
    b'{"expr": ["x"]}',
    b'{"expr": "x", "values": [1]}',
    b'{"expr": "x", "values": "x=1"}',
    b'{"expr": "x", "values": {"x": 1}, "unknown": 1}',
])
def test_malformed_bodies_are_422(client: TestClient, body: bytes) -> None:
    r = client.post("/api/trace", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["type"] and err["message"]


def test_deeply_nested_json_value_is_not_a_server_error(client: TestClient) -> None:
    depth = 100_000
    body = '{"expr": "x", "values": {"x": ' + "[" * depth + "1" + "]" * depth + "}}"
    r = client.post("/api/trace", content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert "error" in r.json()


def test_wrong_method_and_unknown_path(client: TestClient) -> None:
    assert client.get("/api/trace").status_code in (404, 405)
    assert client.get("/api/nothing-here").status_code == 404


# ---------------------------------------------------------------------------------------------
# Layout


def test_layout_structure_matches_the_trace(client: TestClient) -> None:
    req = {"expr": "q = x + y; f = q * z + exp(x)", "values": {"x": 1, "y": 2, "z": 3}}
    t = client.post("/api/trace", json=req).json()
    layout = client.post("/api/layout", json=req)
    assert layout.status_code == 200, layout.text
    lay = layout.json()
    assert lay["structure"] == t["structure"]
    assert set(lay["nodes"]) == {n["id"] for n in t["nodes"]}
    assert set(lay["edges"]) == {e["id"] for e in t["edges"]}
    for box in lay["nodes"].values():
        assert {"x", "y", "w", "h"} <= set(box)
    for path in lay["edges"].values():
        assert path["path"] and path["source"] in lay["nodes"] and path["target"] in lay["nodes"]


def test_layout_does_not_depend_on_values(client: TestClient) -> None:
    a = client.post("/api/layout", json={"expr": "(x + y) * z",
                                         "values": {"x": 1, "y": 2, "z": 3}}).json()
    b = client.post("/api/layout", json={"expr": "(x + y) * z",
                                         "values": {"x": [[1, 2]], "y": -7, "z": 0.5}}).json()
    assert a == b
    t1 = client.post("/api/trace", json={"expr": "(x + y) * z",
                                         "values": {"x": 1, "y": 2, "z": 3}}).json()
    t2 = client.post("/api/trace", json={"expr": "(x + y) * z",
                                         "values": {"x": 5, "y": -2, "z": 0}}).json()
    assert t1["structure"] == t2["structure"] == a["structure"]
    c = client.post("/api/layout", json={"expr": "(x + y) * w", "values": {}}).json()
    assert c["structure"] != a["structure"]


# ---------------------------------------------------------------------------------------------
# Documentation


def test_docs_and_openapi(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    spec = client.get("/openapi.json").json()
    assert {"/api/health", "/api/trace", "/api/layout"} <= set(spec["paths"])
    trace_op = spec["paths"]["/api/trace"]["post"]
    assert "requestBody" in trace_op and "200" in trace_op["responses"]


# ---------------------------------------------------------------------------------------------
# The real server


def test_real_server_traces(server: str) -> None:
    assert httpx.get(f"{server}/api/health", timeout=10).status_code == 200
    r = httpx.post(f"{server}/api/trace", json=CIRCUIT, timeout=30)
    assert r.status_code == 200 and r.json()["gradients"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    r = httpx.post(f"{server}/api/trace", json={"expr": "x +", "values": {"x": 1}}, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["start"] == 2
    r = httpx.post(f"{server}/api/trace", content=b"nope",
                   headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 422
    r = httpx.post(f"{server}/api/layout", json=CIRCUIT, timeout=30)
    assert r.status_code == 200 and set(r.json()["nodes"]) == {f"n{i}" for i in range(5)}


def test_bad_requests_do_not_disturb_good_ones(server: str) -> None:
    bad_bodies: list[dict[str, Any]] = [
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        {"json": {"expr": "(" * 5000 + "x" + ")" * 5000, "values": {"x": 1}}},
        {"json": {"expr": "x^" * 4000 + "x", "values": {"x": 1}}},
        {"json": {"expr": "A @ B", "values": {"A": [[1, 2]], "B": [[1, 2]]}}},
        {"json": {"expr": "exp(exp(exp(x)))", "values": {"x": 10}}},
        {"json": {"expr": "x", "values": {"x": [[1, 2], [3]]}}},
    ]

    def good(i: int) -> tuple[int, Any]:
        r = httpx.post(f"{server}/api/trace", json={"expr": "(x + y) * z",
                                                     "values": {"x": i, "y": 1, "z": 2}},
                       timeout=30)
        return r.status_code, r.json()

    def bad(i: int) -> int:
        return httpx.post(f"{server}/api/trace", timeout=30, **bad_bodies[i % len(bad_bodies)]
                          ).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        goods = [pool.submit(good, i) for i in range(24)]
        bads = [pool.submit(bad, i) for i in range(24)]
        for i, fut in enumerate(goods):
            status, body = fut.result()
            assert status == 200 and body["value"] == 2.0 * (i + 1)
            assert body["gradients"] == {"x": 2.0, "y": 2.0, "z": float(i + 1)}
        for bad_fut in bads:
            assert bad_fut.result() < 500
    assert httpx.get(f"{server}/api/health", timeout=10).status_code == 200


# ---------------------------------------------------------------------------------------------
# The numeric gradient check and the Jacobian view (issue 6, items 3 and 4)


def test_trace_check_in_the_api(client: TestClient) -> None:
    from gradtrace.schema import RECORD

    body = {"expr": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}}
    plain = client.post("/api/trace", json=body)
    checked = client.post("/api/trace", json={**body, "check": True})
    assert plain.status_code == checked.status_code == 200
    # The cache key includes check: the checked record is not the cached plain one, and back.
    assert "check" not in plain.json()
    chk = checked.json()["check"]
    assert "check" not in client.post("/api/trace", json=body).json()
    RECORD.validate_python(checked.json())
    assert chk["passed"] is True and chk["tolerance"] > 0
    for name, grad in {"x": -4.0, "y": -4.0, "z": 3.0}.items():
        entry = chk["inputs"][name]
        assert entry["analytic"] == grad
        assert abs(entry["numeric"] - grad) < 1e-8
        assert entry["rel_error"] < 1e-9 and entry["verdict"] == "pass"


def test_trace_check_forward_mode_api(client: TestClient) -> None:
    r = client.post("/api/trace", json={"expr": "(x + y) * z", "values": {"x": -2, "y": 5,
                                        "z": -4}, "mode": "forward", "wrt": "x", "check": True})
    assert r.status_code == 200
    entry = r.json()["check"]["inputs"]["x"]
    assert entry["analytic"] == -4.0 and abs(entry["numeric"] + 4.0) < 1e-8


def test_trace_check_over_its_limit_is_200_with_the_error_inside(client: TestClient) -> None:
    """The trace is answered; the check says why it is missing, pointing at the input."""
    from gradtrace.schema import RECORD

    big = [[0.5] * 40 for _ in range(40)]
    expr = "sum(W @ W)"
    r = client.post("/api/trace", json={"expr": expr, "values": {"W": big}, "check": True})
    assert r.status_code == 200
    body = r.json()
    RECORD.validate_python(body)
    err = body["check"]["error"]
    assert err["type"] == "limit" and expr[err["start"]:err["end"]] == "W"
    plain = client.post("/api/trace", json={"expr": expr, "values": {"W": big}}).json()
    assert body["gradients"] == plain["gradients"]


def test_trace_check_nonfinite_is_not_a_server_error(client: TestClient) -> None:
    r = client.post("/api/trace", json={"expr": "log(x) * relu(y)",
                                        "values": {"x": 0, "y": 0}, "check": True})
    assert r.status_code == 200
    chk = r.json()["check"]
    assert chk["inputs"]["x"]["verdict"] == "nonfinite"
    assert chk["passed"] is False


def test_jacobian_on_small_tensor_edges(client: TestClient) -> None:
    from gradtrace.schema import RECORD

    r = client.post("/api/trace", json={"expr": "sum(W @ x)", "values": {
        "W": [[1, 2], [3, 4]], "x": [1, -1]}})
    rec = r.json()
    RECORD.validate_python(rec)
    by_arg = {e["arg"]: e for e in rec["edges"] if e["target"] == "n2"}
    assert by_arg[1]["jacobian"] == [[1.0, 2.0], [3.0, 4.0]]  # d(Wx)/dx = W
    assert by_arg[0]["jacobian_size"] == 8


def test_forward_mode_picture_and_standalone_routes(client: TestClient) -> None:
    """GET /api/picture.* and /api/standalone.html with `mode=forward&wrt=...` (the page's
    query) draw and inline the same forward-mode record POST /api/trace answers."""
    import re
    from urllib.parse import urlencode

    body = {**CIRCUIT, "mode": "forward", "wrt": "x", "tangent": 3}
    record = client.post("/api/trace", json=body).json()
    assert record["mode"] == "forward" and record["derivative"] == -12.0  # z · 3
    query = {"expr": CIRCUIT["expr"], "x": "-2", "y": "5", "z": "-4", "mode": "forward",
             "wrt": "x", "tangent": "3"}
    page = client.get("/api/standalone.html?" + urlencode({**query, "step": "f4"}))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    m = re.search(r'id="gradtrace-data">(.*?)</script>', page.text, re.S)
    assert m is not None
    data = json.loads(m.group(1))
    assert data["trace"] == record and data["step"] == "f4"
    svg = client.get("/api/picture.svg?" + urlencode(query))
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert ">\u221212</text>" in svg.text  # the output's value, and its tangent: both -12
    assert "forward 5/5 · forward mode along x · ∂f/∂x · 3 = \u221212" in svg.text
    # Forward mode without wrt: the same 400 as POST /api/trace, from every route.
    no_wrt = {k: v for k, v in query.items() if k not in ("wrt", "tangent")}
    expected = client.post("/api/trace", json={**CIRCUIT, "mode": "forward"})
    assert expected.status_code == 400
    for route in ("/api/picture.svg", "/api/picture.pdf", "/api/standalone.html"):
        r = client.get(route + "?" + urlencode(no_wrt))
        assert r.status_code == 400 and r.json() == expected.json(), route


# ---------------------------------------------------------------------------------------------
# GET /api/code: the expression as a runnable Python file (tests/test_codegen.py runs them)


@pytest.mark.parametrize("lang", ["numpy", "pytorch"])
def test_code_answers_a_python_file(client: TestClient, lang: str) -> None:
    from urllib.parse import urlencode

    query = {"lang": lang, "expr": "(x + y) * z", "x": "-2", "y": "5", "z": "-4", "step": "b3",
             "theme": "projector", "hide": "side"}
    r = client.get("/api/code?" + urlencode(query))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/x-python; charset=utf-8"
    assert r.headers["content-disposition"] == f'inline; filename="gradtrace_{lang}.py"'
    compile(r.text, f"gradtrace_{lang}.py", "exec")
    assert "# The forward pass\nq = x + y\nf = q * z\n" in r.text
    assert ('show("x", dx)' if lang == "numpy" else "f.backward(torch.tensor(1.0))") in r.text
    # Without lang: NumPy.
    assert client.get("/api/code?expr=x&x=1").text.startswith("# gradtrace: the expression "
                                                               "below in NumPy")


def test_code_errors_are_the_trace_errors(client: TestClient) -> None:
    from urllib.parse import urlencode

    for expr, values in [("(x + y", {"x": 1, "y": 2}), ("x @ y", {"x": [1, 2], "y": [1, 2, 3]}),
                         ("sin(x, y)", {"x": 1, "y": 2}), ("x * exp", {"x": 1})]:
        expected = client.post("/api/trace", json={"expr": expr, "values": values})
        assert expected.status_code == 400
        query = {"expr": expr, **{k: json.dumps(v) for k, v in values.items()}}
        for lang in ("numpy", "pytorch"):
            r = client.get("/api/code?" + urlencode({**query, "lang": lang}))
            assert r.status_code == 400 and r.json() == expected.json(), (expr, lang)
    r = client.get("/api/code?lang=fortran&expr=x&x=1")
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "request" and "numpy" in r.json()["error"]["message"]
    r = client.get("/api/code?lang=numpy&expr=x&x=%7B%7D")
    assert r.status_code == 400 and r.json()["error"]["type"] == "value"


@pytest.mark.parametrize(("body", "where"), [
    ({"expr": "x + \ud800", "values": {"x": 1}}, "expression"),
    ({"expr": "x", "values": {"x": 1, "y\ud800": 2}}, "name of a value"),
    ({"expr": "x * y", "values": {"x": 1, "y": 2}, "mode": "forward", "wrt": "\ud800"}, "wrt"),
])
def test_a_lone_surrogate_is_a_400_pointing_at_it(client: TestClient, body: dict[str, Any],
                                                  where: str) -> None:
    """JSON can carry "\\ud800"; UTF-8 cannot: refused where it is, never a 500."""
    data = json.dumps(body)  # ensure_ascii: the surrogate travels as the escape \ud800
    for path in ("/api/trace", "/api/layout"):
        if path == "/api/layout" and "wrt" in body:
            continue
        sent = data if path == "/api/trace" else json.dumps(
            {"expr": body["expr"], "values": body["values"]})
        r = client.post(path, content=sent, headers={"content-type": "application/json"})
        assert r.status_code == 400, (path, r.text)
        err = r.json()["error"]
        assert where in err["message"] and "surrogate" in err["message"]
        if where == "expression":
            assert body["expr"][err["start"]:err["end"]] == "\ud800"


def test_read_says_how_the_text_reads_without_tracing(client: TestClient) -> None:
    src = "X = np.array([[0.9, 0.2, 0.7]])\nprint(X.shape)\nh = relu(X @ W1)\nL = sum(h)"
    r = client.post("/api/read", json={"expr": src, "values": {}})
    assert r.status_code == 200
    reading = r.json()["reading"]
    assert reading["canonical"] == "h = relu(X @ W1)\nL = sum(h)"
    assert [(i["name"], i["value"]) for i in reading["inputs"]] == [
        ("X", [[0.9, 0.2, 0.7]]), ("W1", None)]
    assert [s["reason"] for s in reading["skipped"]] == ["prints"]
    bad = client.post("/api/read", json={"expr": r"\frac{1}{y+", "values": {}})
    assert bad.status_code == 400 and bad.json()["error"]["start"] == 8


def test_the_offline_file_of_a_view_too_long_for_a_link(client: TestClient) -> None:
    """POST /api/standalone.html takes the page's query as a form body: a view whose values make
    a link longer than a request's head may be (h11 refuses heads over 16 KiB) still downloads,
    the same file as the GET of a short query."""
    import re
    from urllib.parse import urlencode

    big = [[round(i * 0.37 + j * 0.011, 3) for j in range(40)] for i in range(40)]
    query = urlencode({"expr": "L = sum(A * A)", "A": json.dumps(big), "step": "b1"})
    assert len(query) > 15_000
    form = {"content-type": "application/x-www-form-urlencoded"}
    page = client.post("/api/standalone.html", content=query, headers=form)
    assert page.status_code == 200
    assert page.headers["content-disposition"] == 'attachment; filename="gradtrace.html"'
    m = re.search(r'id="gradtrace-data">(.*?)</script>', page.text, re.S)
    assert m is not None
    data = json.loads(m.group(1))
    assert data["trace"]["nodes"][0]["value"] == big and data["step"] == "b1"
    small = urlencode({**CIRCUIT_QUERY, "step": "b2"})
    assert client.post("/api/standalone.html", content=small, headers=form).content == \
        client.get("/api/standalone.html?" + small).content
    # Not a query: a clear 400, pointing nowhere in an expression there is none of.
    bad = client.post("/api/standalone.html", content=b"\xff\xfe", headers=form)
    assert bad.status_code == 400 and "form body" in bad.json()["error"]["message"]
    none = client.post("/api/standalone.html", content=b"x=1", headers=form)
    assert none.status_code == 400 and "expr" in none.json()["error"]["message"]
