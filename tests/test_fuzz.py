"""Fuzzing the app in-process. What is fuzzed:

- POST /api/trace with random text, near-valid expressions (seed examples and language tokens,
  mutated) and random JSON bodies;
- lone UTF-16 surrogates ("\\ud800", "\\udfff", pairs in the wrong order) in the expression, a
  value's name, a value, the seed, and in forward mode wrt and the tangent, sent as JSON escapes
  or as the raw bytes a lenient encoder writes: always a 400 (or a 422), never a 200;
- odd Unicode (combining marks, zero-width and bidi characters, non-characters, astral
  characters, full-width and other Unicode digits, NUL and control characters, NFKC look-alikes
  of names such as "ｘ") mixed with the language's tokens, in the expression, the names and wrt;
  and in comments of the expression given to GET /api/picture.svg and GET /api/code (which must
  stay well-formed SVG and a Python file that parses), and to /api/picture.png (a few cases);
- huge key counts (a handful of deterministic cases, not hypothesis: they are big): "values" with
  about and past `max_value_names` names, unused and very long ones, and GET /api/picture.svg and
  /api/code with thousands of query parameters.

Whatever comes in, the answer is a 2xx or a 4xx with the error JSON (a span inside the text) in
valid UTF-8, never a 5xx and never an unhandled exception; a 200 answers only what the language
allows. GRADTRACE_FUZZ_EXAMPLES sets the examples per strategy (default 7,000; the costlier
strategies run a share of it); raise it for a longer local run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradtrace.api import create_app
from gradtrace.lexer import UNICODE_READ
from gradtrace.settings import Settings

from .conftest import SEEDS

pytestmark = pytest.mark.slow  # thousands of examples per strategy

EXAMPLES = int(os.environ.get("GRADTRACE_FUZZ_EXAMPLES", "7000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def share(n: int) -> settings:
    """FUZZ with 1/n of its examples: the later strategies cost more per example (a trace and a
    picture, or characters from many Unicode categories) and together must add about a minute at
    most to the file's run; GRADTRACE_FUZZ_EXAMPLES scales them as it scales the others."""
    return settings(FUZZ, max_examples=max(1, EXAMPLES // n))


# One event loop and an in-process ASGI transport for all examples: about 8 times faster than
# TestClient (which starts a portal per request), and an unhandled exception still surfaces.
_loop = asyncio.Runner()
_app = create_app()
_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=_app), base_url="http://fuzz",
                            timeout=30)
# The limits the app runs with (create_app() reads them from the same environment).
LIMITS = Settings()


def post(**kwargs: Any) -> httpx.Response:
    return _loop.run(_client.post("/api/trace", **kwargs))


def get(path: str, params: Any) -> httpx.Response:
    return _loop.run(_client.get(path, params=params))


VALUES: dict[str, Any] = {"x": 0.5, "y": -2.0, "z": 3.0, "w": [1.0, 2.0], "M": [[1.0, 2.0],
                                                                                  [3.0, 4.0]]}
TOKENS = ["x", "y", "z", "w", "M", "q", "1", "0", "2.5", ".5", "1e3", "1e999", "+", "-", "*", "/",
          "@", "^", "**", "(", ")", ",", ";", "\n", "=", " ", "exp", "log", "sqrt", "relu",
          "max", "sum", "softmax", "transpose", "dot", "conv2d", "pi", "e", "sigmoid", "abs",
          "..", "[", "\x00", "é", "#",
          # The syntax of options, indexing, comparisons, methods and library names (issue 12)
          "]", ":", "...", "'same'", "\"", "axis=", "dim=", "keepdims=True", "None", "True", "-1",
          ">", "<=", "==", "!=", ".T", ".sum()", "np.", "torch.", "F.", "x[0]", "M[:, 0]",
          "w[y]", "cat([w, w], 0)", "reshape(M, (4,))", "cross_entropy", "conv2d(M, M, stride=",
          "max_pool2d", "setitem", "zeros(", "arange(", "y[0] = ", "expand(w, (2, 2))", "stride=2"]


def check(expr: Any, body: dict[str, Any] | bytes) -> httpx.Response:
    if isinstance(body, bytes):
        r = post(content=body, headers={"content-type": "application/json"})
    else:
        r = post(json=body)
    assert r.status_code < 500, (body, r.text)
    # Strict UTF-8 (r.json() would guess an encoding): whatever the request quoted, the answer
    # must be readable by any JSON client.
    data = json.loads(r.content.decode("utf-8"))
    if r.status_code == 200:
        json.dumps(data, allow_nan=False)
        assert data["forward"] and len(data["nodes"]) == len(data["forward"])
    else:
        assert 400 <= r.status_code < 500
        err = data["error"]
        assert set(err) == {"type", "message", "start", "end"} and err["message"]
        if isinstance(expr, str) and r.status_code == 400:
            assert 0 <= err["start"] <= err["end"] <= len(expr), (expr, err)
    return r


@FUZZ
@given(st.text(max_size=60))
def test_random_text(expr: str) -> None:
    check(expr, {"expr": expr, "values": VALUES})


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    """A seed example's expression, or a string of language tokens, then mutated a few times."""
    if draw(st.booleans()):
        text = draw(st.sampled_from([s["expr"] for s in SEEDS]))
    else:
        text = "".join(draw(st.lists(st.sampled_from(TOKENS), max_size=25)))
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        tok = draw(st.sampled_from(TOKENS))
        if kind == "insert":
            text = text[:i] + tok + text[i:]
        elif kind == "delete":
            text = text[:i] + text[i + 1:]
        else:
            text = text[:i] + tok + text[i + len(tok):]
    return text


@FUZZ
@given(near_valid(), st.sampled_from(SEEDS))
def test_near_valid_expressions(expr: str, example: dict[str, Any]) -> None:
    values = {**VALUES, **example["values"]}
    check(expr, {"expr": expr, "values": values, "seed": example.get("seed")})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                  max_size=4),
    max_leaves=20,
)


@FUZZ
@given(st.one_of(
    json_values,
    st.fixed_dictionaries({"expr": st.sampled_from(["x", "x @ M", "sum(w * M)", "q = x; q"])},
                          optional={"values": json_values, "seed": json_values}),
    st.fixed_dictionaries({"expr": json_values, "values": json_values}),
))
def test_random_json_bodies(body: Any) -> None:
    expr = body.get("expr") if isinstance(body, dict) else None
    check(expr, json.dumps(body).encode())


# --- Lone surrogates ----------------------------------------------------------------------------
# JSON can carry "\ud800" (an escape), UTF-8 cannot: a Python str holding one cannot even be
# encoded, so each must be refused before any part of it reaches an answer. The wrong-order pair
# "\udc00\ud800" is two lone halves, not a character.
SURROGATES = st.sampled_from(["\ud800", "\udfff", "\udbff", "\udc00", "\udc00\ud800",
                              "\udfff\ud800", "\ud800\ud800", "\ud83d"]) | st.characters(
    categories=["Cs"])


# The composite strategies below pick from lists made per example by index (st.integers is
# cached): a new st.sampled_from per draw costs hypothesis more than the request itself.
def pick(draw: st.DrawFn, items: list[Any]) -> Any:
    return items[draw(st.integers(0, len(items) - 1))]


def splice(draw: st.DrawFn, text: str, piece: str) -> str:
    i = draw(st.integers(0, len(text)))
    return text[:i] + piece + text[i:]


def carrying(draw: st.DrawFn, bad: str) -> Any:
    """A value, seed or tangent with the surrogate somewhere: alone, in a number, in a tensor."""
    return pick(draw, [bad, "1" + bad, [bad], [1.0, bad], [[1.0, 2.0], [bad, 4.0]]])


PLACES = st.sampled_from(["expr", "name", "value", "seed", "wrt", "tangent"])
WORKED = st.sampled_from(SEEDS)


@st.composite
def surrogate_bodies(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A seed example's request with a surrogate in one place (where), otherwise valid."""
    example = draw(WORKED)
    body: dict[str, Any] = {"expr": example["expr"], "values": dict(example["values"])}
    if example.get("seed") is not None:
        body["seed"] = example["seed"]
    bad = draw(SURROGATES)
    names = list(body["values"])
    where = draw(PLACES)
    if where == "expr":
        body["expr"] = splice(draw, body["expr"], bad)
    elif where == "name":  # an input of the expression renamed, or one more (unused) value
        name = pick(draw, names)
        value = body["values"].pop(name) if draw(st.booleans()) else 1.0
        body["values"][splice(draw, name, bad)] = value
    elif where == "value":
        body["values"][pick(draw, names)] = carrying(draw, bad)
    elif where == "seed":
        body["seed"] = carrying(draw, bad)
    else:  # forward mode, along an input with a surrogate in its name or in its direction
        body.pop("seed", None)
        body["mode"] = "forward"
        body["wrt"] = pick(draw, names)
        if where == "wrt":
            body["wrt"] = splice(draw, body["wrt"], bad)
        else:
            body["tangent"] = carrying(draw, bad)
    return where, body


@share(3)
@given(surrogate_bodies(), st.booleans())
def test_lone_surrogates_anywhere(case: tuple[str, dict[str, Any]], escaped: bool) -> None:
    where, body = case
    # As the escapes of ensure_ascii, or as the bytes a lenient UTF-8 encoder writes for them
    # (ED A0 80): Python's json reads both to the same string, and so does the app.
    data = (json.dumps(body).encode() if escaped
            else json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    r = check(body["expr"], data)
    assert r.status_code in (400, 422), (where, body, r.text)
    if where == "expr" and r.status_code == 400:
        # Refused where it is: the span covers the first surrogate.
        first = next(i for i, c in enumerate(body["expr"]) if "\ud800" <= c <= "\udfff")
        err = r.json()["error"]
        assert err["start"] <= first < err["end"], (body, err)


# --- Odd Unicode --------------------------------------------------------------------------------
# Characters that are easy to paste from notes or slides and hard to see, or that break naive
# handling of text: in the expression (the language is ASCII outside comments), in names and wrt.
ODD = [
    "\u0301", "e\u0301", "\u20d7",  # combining marks (acute, the vector arrow over a letter)
    "\u200b", "\u200c", "\u200d", "\ufeff", "\u2060",  # zero-width space, joiners, BOM
    "\u200e", "\u200f", "\u202e", "\u2066", "\u061c",  # left/right marks, overrides, isolates
    "\ufffe", "\uffff", "\U0010ffff", "\ufdd0", "\U0001fffe",  # non-characters
    "\U0001f600", "\U0001d465", "\U0001d7d9", "\U000e0041",  # emoji, 𝑥, 𝟙, a tag character
    "\uff11", "\uff58", "\uff45\uff58\uff50", "\u0663", "\u0967", "\u00b2", "\u2167",  # digits
    "\u212a", "\u017f", "\ufb01", "\u0130", "\u2212", "\u00d7", "\u03c0", "\u212f",  # look-alikes
    "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\r", "\t", "\r\n",  # controls
    "\u00a0", "\u2028", "\u2029", "\u3000", "\ue000",  # odd spaces, line separators, private use
]
ODD_CHARS = st.sampled_from(ODD) | st.characters(
    categories=["Mn", "Me", "Cc", "Cf", "Co", "Cn", "Nd", "No", "Nl", "Zs", "Zl", "Zp", "Lm",
                "Lo", "So", "Sm"])


def odd_text(min_size: int = 0, max_size: int = 8) -> st.SearchStrategy[str]:
    # Not st.text(ODD_CHARS): some of ODD are more than one character ("e" + a combining mark).
    return st.lists(ODD_CHARS, min_size=min_size, max_size=max_size).map("".join)


# Names as a pasted formula writes them: "x" next to its look-alikes and invisible variants.
LOOK_ALIKES = ["\uff58", "x\u200b", "\u200bx", "x\u0301", "\U0001d465", "\u0445", "x\ufeff",
               "\u2093"]
# What the language is made of outside comments (parser.py): a 200 means the rest was only this.
LANGUAGE = re.compile(r"[A-Za-z0-9_ \t\r\n+\-*/@^().,;=\[\]{}:<>!|$&\\'\"]*")
COMMENT = re.compile(r"#[^\r\n]*")
ODD_NAMES = st.lists(odd_text(1, 3) | st.sampled_from(LOOK_ALIKES)
                     | st.builds(lambda a, b: a + b, st.sampled_from(["x", "y", "w"]), ODD_CHARS),
                     max_size=3)
PIECES = st.sampled_from(TOKENS) | ODD_CHARS
COMMENT_STARTS = st.sampled_from([" # ", "#", "\n# "])
ODD_COMMENTS = odd_text()


@st.composite
def odd_bodies(draw: st.DrawFn) -> dict[str, Any]:
    odd_names: list[str] = draw(ODD_NAMES)

    def piece() -> str:  # a token of the language, an odd character, or an odd name
        if odd_names and draw(st.integers(0, 4)) == 0:
            return str(pick(draw, odd_names))
        return str(draw(PIECES))

    example = draw(WORKED)
    if draw(st.booleans()):  # a worked example with odd characters in it, or in its comment
        expr = example["expr"]
        for _ in range(draw(st.integers(1, 3))):
            expr = splice(draw, expr, piece())
        if draw(st.booleans()):
            expr += draw(COMMENT_STARTS) + draw(ODD_COMMENTS)
    else:
        expr = "".join(piece() for _ in range(draw(st.integers(0, 25))))
    values = {**VALUES, **example["values"]}
    if draw(st.booleans()):  # "x" given only under a look-alike name
        values[pick(draw, LOOK_ALIKES)] = values.pop("x")
    values |= {name: pick(draw, [1.0, [1.0, 2.0]]) for name in odd_names}
    body: dict[str, Any] = {"expr": expr, "values": values}
    if draw(st.booleans()):
        body["mode"] = "forward"
        body["wrt"] = pick(draw, ["x", *LOOK_ALIKES, *odd_names])
    return body


@share(3)
@given(odd_bodies())
def test_odd_unicode(body: dict[str, Any]) -> None:
    expr = body["expr"]
    r = check(expr, body)
    if r.status_code != 200:
        return
    data = r.json()
    # A 200 answers the text as sent (NUL, BOM, bidi marks and all), and only a text of the
    # language: no look-alike read as a letter, no Unicode digit as a number.
    assert data["expr"] == expr
    # What is read beyond the language is what the reading rules read (x², ×, −, π, a thin
    # space: README, Pasting from a lecture), never an invisible or look-alike character.
    seen = "".join(c for c in COMMENT.sub("", expr) if c not in UNICODE_READ)
    assert LANGUAGE.fullmatch(seen), (expr, body["values"])
    # Every input is a name given exactly as written ("ｘ" is not x: no NFKC folding), or one
    # no value was given for, whose value was drawn (infer.py).
    inputs = {i["name"]: i["source"] for i in data["reading"]["inputs"]}
    assert all((source == "request") == (name in body["values"])
               for name, source in inputs.items()), (expr, inputs)
    assert set(data["gradients"]) <= set(inputs), (expr, data["gradients"])
    assert all(n["name"] in inputs for n in data["nodes"] if n["kind"] == "input")
    if body.get("mode") == "forward":
        assert data["wrt"] == body["wrt"] and body["wrt"].isascii(), (expr, body["wrt"])


def query_of(example: dict[str, Any], expr: str) -> list[tuple[str, str]]:
    # Every input as v.<name> (a worked example may have an input called like a view parameter).
    query = [("expr", expr), *((f"v.{k}", json.dumps(v)) for k, v in example["values"].items())]
    if example.get("seed") is not None:
        query.append(("seed", json.dumps(example["seed"])))
    return query


def check_error(r: httpx.Response) -> None:
    assert 400 <= r.status_code < 500, r.text
    err = json.loads(r.content.decode("utf-8"))["error"]
    assert set(err) == {"type", "message", "start", "end"} and err["message"]


# The picture and the file put the expression's text, comments and all, into SVG and Python: a
# character is written so that the file still parses, or the request is refused.
COMMENTED = st.builds(
    lambda example, comment, form: (example, form.format(e=example["expr"], c=comment)),
    WORKED, ODD_COMMENTS,
    st.sampled_from(["{e} # {c}", "# {c}\n{e}", "{e}\n#{c}\n", "{e} #{c}\r{e}"]))


@share(14)
@given(COMMENTED)
def test_odd_unicode_in_the_picture(case: tuple[dict[str, Any], str]) -> None:
    example, expr = case
    r = get("/api/picture.svg", query_of(example, expr))
    if r.status_code != 200:
        check_error(r)
        return
    try:
        ET.fromstring(r.content)  # well-formed XML, as browsers and rsvg-convert (PNG, PDF) need
    except ET.ParseError as e:
        raise AssertionError(f"not well-formed SVG for expr={expr!r}: {e}") from None


@share(14)
@given(COMMENTED)
def test_odd_unicode_in_the_code(case: tuple[dict[str, Any], str]) -> None:
    example, expr = case
    r = get("/api/code", query_of(example, expr))
    if r.status_code != 200:
        check_error(r)
        return
    try:
        compile(r.content.decode("utf-8"), "gradtrace_generated.py", "exec")
    except SyntaxError as e:
        raise AssertionError(f"the generated file does not parse for expr={expr!r}: "
                             f"{e}") from None


# The same through rsvg-convert, a handful of cases (a conversion is a process of its own): a
# comment is part of the language, so its picture is drawn; a 503 here would blame the server.
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\ufffe", "\uffff", "\u202e", "\U0001d465"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_odd_characters_in_a_comment_of_a_png(char: str) -> None:
    r = get("/api/picture.png", {"expr": f"x * 2 # {char}", "x": "0.5"})
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG"), (char, r.text[:300])


# --- Huge key counts ----------------------------------------------------------------------------
# A few deterministic cases, each one big request: around and past max_value_names, and what a
# 200 says about the unused ones stays bounded however many and however long they are.
MAX_NAMES = LIMITS.max_value_names
MAX_WARNINGS = LIMITS.max_unused_warnings + 1  # the ones named, then one that counts the rest
# One warning names at most 40 characters of a name; 400 bytes leaves room for escapes (\u0000).
WARNING_BYTES = 400


def names(count: int, length: int = 0, prefix: str = "n") -> dict[str, Any]:
    """`count` unused names (n0, n1, ...; padded to `length`), and x, which "x * 2" uses."""
    return {f"{prefix}{i}".ljust(length, "_"): 1.0 for i in range(count)} | {"x": 0.5}


# Built in the test, not at collection: some are megabytes.
@pytest.mark.timeout(120)
@pytest.mark.parametrize(("make", "fits"), [
    pytest.param(lambda: names(LIMITS.max_unused_warnings), True,
                 id="as many unused as warnings name"),
    pytest.param(lambda: names(MAX_WARNINGS), True, id="one more unused than warnings name"),
    pytest.param(lambda: names(MAX_NAMES - 1), True, id="at the limit, all but x unused"),
    pytest.param(lambda: names(MAX_NAMES - 1, 1_000), True, id="at the limit, very long names"),
    pytest.param(lambda: names(MAX_NAMES - 1, prefix="\u202e\x00\U0001f600"), True,
                 id="at the limit, odd names"),
    pytest.param(lambda: names(1, 1_000_000), True, id="one unused name of a million characters"),
    pytest.param(lambda: names(MAX_NAMES), False, id="one past the limit"),
    pytest.param(lambda: names(MAX_NAMES, 1_000), False, id="past the limit, very long names"),
    pytest.param(lambda: names(50 * MAX_NAMES), False, id="fifty times the limit"),
])
def test_many_value_names(make: Callable[[], dict[str, Any]], fits: bool) -> None:
    values = make()
    assert (len(values) <= MAX_NAMES) == fits  # the case is what it says
    small = check("x * 2", {"expr": "x * 2", "values": {"x": 0.5}})
    r = check("x * 2", {"expr": "x * 2", "values": values})
    if not fits:
        assert 400 <= r.status_code < 500 and r.json()["error"]["type"] == "limit", r.text[:300]
        assert len(r.content) < 1_000  # the refusal does not quote the names
        return
    assert r.status_code == 200, r.text[:300]
    warnings = r.json()["warnings"]
    assert 1 <= len(warnings) <= MAX_WARNINGS, len(warnings)
    assert all(len(w["message"]) <= 200 for w in warnings), warnings  # a name is cut short
    # The same trace as with x alone, plus at most the bounded warnings.
    assert len(r.content) <= len(small.content) + MAX_WARNINGS * WARNING_BYTES, len(r.content)


@pytest.mark.timeout(120)
def test_many_value_names_all_used() -> None:
    # As many inputs as the limits allow (names, characters, nodes): one gradient each, no
    # warning. Past max_nodes (a GRADTRACE_MAX_VALUE_NAMES above it), a "limit" 4xx instead.
    count = min(MAX_NAMES, LIMITS.max_expr_chars // len(f" + n{MAX_NAMES}"))
    values = {f"n{i}": float(i) for i in range(count)}
    expr = " + ".join(values)
    r = check(expr, {"expr": expr, "values": values})
    if r.status_code != 200:
        assert r.json()["error"]["type"] == "limit" and 2 * count > LIMITS.max_nodes, r.text
        return
    data = r.json()
    assert data["warnings"] == [] and set(data["gradients"]) == set(values)
    assert data["value"] == sum(values.values())


def raw_get(path: str, query: str) -> tuple[int, bytes]:
    """GET straight through ASGI: httpx refuses URLs past 64 KiB, and thousands of parameters
    (5 x max_value_names of them) are longer. uvicorn would refuse such a request line itself,
    but the app must not depend on that."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": query.encode(), "headers": [(b"host", b"fuzz")],
             "client": ("127.0.0.1", 1), "server": ("fuzz", 80)}
    sent: list[dict[str, Any]] = []
    requested = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        # As a server does: the (empty) body once, then nothing until the client goes away,
        # which it does once it has the whole answer.
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    async def run() -> None:
        await _app(scope, receive, send)
        done.set()

    _loop.run(run())
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def many_params(count: int, form: str = "n{i}=1") -> str:
    return "&".join(form.format(i=i) for i in range(count))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", ["/api/picture.svg", "/api/code"])
@pytest.mark.parametrize(("query", "fits"), [
    pytest.param(many_params(MAX_NAMES - 1), True, id="at the limit"),
    pytest.param(many_params(5 * MAX_NAMES), False, id="past the limit"),
    pytest.param(many_params(5 * MAX_NAMES, "v.n{i}=1"), False, id="past the limit, as v.name"),
    pytest.param(many_params(5 * MAX_NAMES, "x=2"), True, id="one name thousands of times"),
    pytest.param(many_params(5 * MAX_NAMES, "theme=dark"), True,
                 id="a view parameter thousands of times"),
    pytest.param(many_params(5 * MAX_NAMES, "%E2%80%AEn{i}=1"), True,
                 id="keys that are not names"),
])
def test_many_query_parameters(path: str, query: str, fits: bool) -> None:
    small = raw_get(path, "expr=x%20*%202&x=0.5")
    started = time.perf_counter()
    status, body = raw_get(path, f"expr=x%20*%202&x=0.5&{query}")
    elapsed = time.perf_counter() - started
    assert status < 500, body[:300]
    if fits:
        assert status == 200, body[:300]
        assert len(body) <= 2 * len(small[1]), len(body)  # ignored parameters add nothing
    else:
        assert 400 <= status < 500, body[:300]
        err = json.loads(body.decode("utf-8"))["error"]
        assert err["type"] == "limit", err
    # Bounded work: a few parses of the query and one small trace, not work per parameter.
    assert elapsed < 10, elapsed
