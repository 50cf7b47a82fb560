"""Pictures of a step: GET /api/picture.{svg,png,pdf} and `gradtrace render`."""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from gradtrace import trace
from gradtrace.analysis import compile_graph
from gradtrace.layout import compute_layout
from gradtrace.render import MINUS, format_number, render_svg, step_index, step_view
from gradtrace.settings import get_settings

SVG_NS = "{http://www.w3.org/2000/svg}"
CIRCUIT = {"expr": "(x + y) * z", "x": "-2", "y": "5", "z": "-4"}


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


def caption_of(svg: str) -> str:
    """The step's caption under the graph (above the colour key)."""
    root = ET.fromstring(svg)
    return next(t.text or "" for t in root.iter(f"{SVG_NS}text")
                if t.get("class") == "step-label")


def picture(client: TestClient, fmt: str, **params: str) -> bytes:
    r = client.get(f"/api/picture.{fmt}?" + urlencode({**CIRCUIT, **params}))
    assert r.status_code == 200, r.text
    return r.content


def test_svg_at_the_last_step_shows_every_gradient(client: TestClient) -> None:
    r = client.get("/api/picture.svg?" + urlencode({**CIRCUIT, "step": "end"}))
    assert r.headers["content-type"] == "image/svg+xml"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert {"∇ −4", "∇ 3", "∇ 1"} <= set(texts(r.text))  # a gradient's label says it is one
    shown = [t.removeprefix("∇ ") for t in texts(r.text)]
    # values above the wires, gradients below: x=-2 sends -4, y=5 sends -4, z=-4 sends 3
    for number in ("−2", "5", "−4", "3", "−12", "1"):
        assert number in shown, number
    assert shown.count("−4") >= 3  # z's value, and the gradients on x's and y's edges
    assert "backward 5/5" in shown
    assert "<script" not in r.text.lower()


def test_svg_shows_only_what_is_known_at_the_step(client: TestClient) -> None:
    first = texts(picture(client, "svg", step="f1").decode())
    assert "−2" in first and "5" not in first and "forward 1/5" in first
    b1 = texts(picture(client, "svg", step="b1").decode())
    assert "×−4" in b1 and "×3" in b1  # the local derivatives of the current node's in-edges
    root = ET.fromstring(picture(client, "svg", step="b1").decode())
    current = [g.get("data-node-id") for g in root.iter(f"{SVG_NS}g")
               if "current" in (g.get("class") or "").split()]
    assert current == ["n4"]


def test_png_and_pdf_have_valid_headers_and_the_requested_size(client: TestClient) -> None:
    svg = picture(client, "svg", step="b2").decode()
    width = float(ET.fromstring(svg).get("width", "0"))
    png1 = picture(client, "png", step="b2")
    png2 = picture(client, "png", step="b2", scale="2")
    assert png1[:8] == b"\x89PNG\r\n\x1a\n" and png2[:8] == b"\x89PNG\r\n\x1a\n"
    w1, h1 = struct.unpack(">II", png1[16:24])
    w2, h2 = struct.unpack(">II", png2[16:24])
    assert abs(w1 - width) <= 1
    assert abs(w2 - 2 * w1) <= 2 and abs(h2 - 2 * h1) <= 2
    pdf = picture(client, "pdf", step="b2")
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """A PNG's chunks (type, data), each CRC checked."""
    out, at = [], 8
    while at < len(png):
        (size,) = struct.unpack(">I", png[at:at + 4])
        kind, data = png[at + 4:at + 8], png[at + 8:at + 8 + size]
        (crc,) = struct.unpack(">I", png[at + 8 + size:at + 12 + size])
        assert crc == zlib.crc32(kind + data), kind
        out.append((kind, data))
        at += 12 + size
    return out


def test_a_png_carries_the_svgs_title_and_description(client: TestClient) -> None:
    """The picture's text alternative travels in the PNG (iTXt, UTF-8), as in the SVG."""
    root = ET.fromstring(picture(client, "svg", step="b2").decode())
    title = root.findtext(f"{SVG_NS}title")
    desc = root.findtext(f"{SVG_NS}desc")
    assert title and desc and "Backward step 2 of 5" in desc
    chunks = png_chunks(picture(client, "png", step="b2"))
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    text = {}
    for kind, data in chunks:
        if kind == b"iTXt":
            keyword, rest = data.split(b"\0", 1)
            assert rest[:4] == b"\0\0\0\0"  # uncompressed, no language, no translation
            text[keyword.decode()] = rest[4:].decode()
    assert text == {"Title": title, "Description": desc}


@pytest.mark.parametrize("query,kind", [
    ({**CIRCUIT, "step": "b9"}, "step"),
    ({**CIRCUIT, "step": "middle"}, "step"),
    ({**CIRCUIT, "x": "[[1,2"}, "value"),
    ({**CIRCUIT, "expr": "(x + "}, "syntax"),
    ({"x": "1"}, "syntax"),
    ({**CIRCUIT, "theme": "neon"}, "value"),
    ({**CIRCUIT, "scale": "1e9"}, "value"),
])
def test_broken_picture_urls_are_4xx_with_the_error_json(client: TestClient,
                                                         query: dict[str, str], kind: str) -> None:
    for fmt in ("svg", "png"):
        r = client.get(f"/api/picture.{fmt}?" + urlencode(query))
        assert r.status_code == 400, r.text
        assert r.json()["error"]["type"] == kind


def test_user_text_is_escaped_in_the_svg(client: TestClient) -> None:
    hostile = 'x * y # </title><script>alert(1)</script> "]; a [label="x\\'
    svg = picture(client, "svg", expr=hostile).decode()
    ET.fromstring(svg)  # still well-formed XML
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg


def test_reserved_names_are_given_with_the_v_prefix(client: TestClient) -> None:
    r = client.get("/api/picture.svg?" + urlencode(
        {"expr": "step * 2", "v.step": "3", "step": "end"}))
    assert r.status_code == 200
    assert "6" in texts(r.text)


def test_step_names_count_from_one_within_each_pass() -> None:
    t = trace("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert step_index(t, "f1") == 0 and step_index(t, "f5") == 4
    assert step_index(t, "b1") == 5 and step_index(t, "end") == 9
    assert step_view(t, step_index(t, "b3")).label == "backward 3/5"


@pytest.mark.parametrize("x,text", [(-4.0, "−4"), (0.25, "0.25"), (0.7310585786, "0.7311"),
                                    (1.2e-5, "1.2e−5"), (123456.0, "1.235e5"), (0.0, "0"),
                                    ("Infinity", "∞"), ("NaN", "NaN"), (-12.0, "−12")])
def test_numbers_are_written_as_the_browser_writes_them(x: float | str, text: str) -> None:
    assert format_number(x) == text


def test_every_seed_example_renders(client: TestClient) -> None:
    from .conftest import SEEDS

    settings = get_settings()
    for ex in SEEDS:
        t = trace(ex["expr"], ex["values"], ex.get("seed"))
        layout = compute_layout(compile_graph(ex["expr"], ex["values"], settings), settings)
        svg = render_svg(t, layout, "end", "projector")
        assert ET.fromstring(svg).tag == f"{SVG_NS}svg"


@pytest.mark.slow  # subprocesses
def test_cli_render_one_step_and_all_steps(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "gradtrace", "render", "(x + y) * z", "x=-2", "y=5", "z=-4"]
    out = tmp_path / "fig.pdf"
    subprocess.run([*base, "--step", "b3", "-o", str(out)], check=True, capture_output=True)
    assert out.read_bytes().startswith(b"%PDF-")
    frames = tmp_path / "frames"
    subprocess.run([*base, "--all-steps", "--format", "svg", "-o", str(frames)], check=True,
                   capture_output=True)
    files = sorted(frames.iterdir())
    assert len(files) == 10  # 5 forward steps, 5 backward steps
    assert "backward 3/5" in texts(files[7].read_text())
    bad = subprocess.run([*base, "--step", "b30", "-o", str(tmp_path / "x.svg")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no backward step 30" in bad.stderr


def test_a_tensor_label_shows_its_numbers_or_its_shape_never_a_bare_number(
        client: TestClient) -> None:
    # A short vector is written out; a longer one is its shape in words.
    query = {"expr": "(x + y) * z", "x": "[-2, 1, 1]", "y": "5", "z": "-4", "step": "end"}
    shown = texts(client.get("/api/picture.svg?" + urlencode(query)).text)
    assert "[−2, 1, 1]" in shown
    query["x"] = "[-2, 1, 1, 4]"
    shown = texts(client.get("/api/picture.svg?" + urlencode(query)).text)
    assert "4-vector" in shown
    assert "4" not in shown  # the old label: a 4-vector drawn as the number 4


def test_the_pages_forward_mode_parameters_are_not_taken_for_values(client: TestClient) -> None:
    r = client.get("/api/picture.svg?" + urlencode({**CIRCUIT, "mode": "forward", "wrt": "x"}))
    assert r.status_code == 200, r.text


# ---- forward mode ----

FAN_OUT = {"expr": "q = x*y; q + sin(x)", "x": "2", "y": "3"}  # x feeds two nodes


# What the labels of a gradient and of a tangent start with (colour is not the only carrier).
PREFIX = {"edge-grad": "∇ ", "out-grad": "∇ ", "edge-tangent": "∂ ", "out-tangent": "∂ "}


def labels_by_class(svg: str, cls: str) -> dict[str, str]:
    """{edge id: text} of the labels of one class (an edge has at most one of each), without
    the prefix every label of the class starts with."""
    root = ET.fromstring(svg)
    labels = {t.get("data-edge", ""): t.text or "" for t in root.iter(f"{SVG_NS}text")
              if cls in (t.get("class") or "").split()}
    prefix = PREFIX.get(cls, "")
    assert all(text.startswith(prefix) for text in labels.values()), (cls, labels)
    return {k: text.removeprefix(prefix) for k, text in labels.items()}


def node_values_at(expr: str, values: dict[str, float]) -> dict[str, float]:
    """Every node's value (scalar expressions), by a plain reverse-mode trace."""
    return {n["id"]: float(n["value"]) for n in trace(expr, values)["nodes"]}


def central_differences(expr: str, values: dict[str, float], wrt: str,
                        h: float = 1e-6) -> dict[str, float]:
    """d(node)/d(wrt) for every node by central differences in float64: the reference for the
    tangents the picture draws, independent of the engine's JVPs."""
    up = node_values_at(expr, {**values, wrt: values[wrt] + h})
    down = node_values_at(expr, {**values, wrt: values[wrt] - h})
    return {k: (up[k] - down[k]) / (2 * h) for k in up}


@pytest.mark.parametrize("query,wrt", [(CIRCUIT, "x"), (CIRCUIT, "z"), (FAN_OUT, "x"),
                                       (FAN_OUT, "y")])
def test_forward_mode_svg_shows_each_tangent_from_its_step(client: TestClient,
                                                           query: dict[str, str],
                                                           wrt: str) -> None:
    values = {k: float(v) for k, v in query.items() if k != "expr"}
    record = trace(query["expr"], values, mode="forward", wrt=wrt)
    fd = central_differences(query["expr"], values, wrt)
    order = record["forward"]
    edges = {e["id"]: e for e in record["edges"]}
    for k in range(1, len(order) + 1):
        svg = picture(client, "svg", **query, mode="forward", wrt=wrt, step=f"f{k}").decode()
        known = set(order[:k])
        # Each edge into a reached node that depends on wrt shows its tangent contribution
        # (local derivative times its source's tangent), and no other edge shows one.
        shown = labels_by_class(svg, "edge-tangent")
        shown.pop("", None)  # the output's tangent, checked below
        expected = {i: e for i, e in edges.items()
                    if e["target"] in known and e["tangent"] is not None}
        assert set(shown) == set(expected), (k, shown)
        for i, e in expected.items():
            src_tangent = fd[e["source"]]
            local = float(e["local"])
            assert float(e["tangent"]) == pytest.approx(local * src_tangent, abs=1e-6)
            assert shown[i] == format_number(e["tangent"], 3)
        # No gradients in forward mode; the step label says the mode.
        assert labels_by_class(svg, "edge-grad") == {}
        caption = caption_of(svg)
        assert caption.startswith(f"forward {k}/{len(order)} · forward mode along {wrt}")
        # The current node says its own tangent (or sums the tangents that feed it).
        current = order[k - 1]
        under = [t for t in ET.fromstring(svg).iter(f"{SVG_NS}text")
                 if "node-sum" in (t.get("class") or "")]
        assert under, k
        assert all("tangent" in (t.get("class") or "").split() for t in under)
        said = [t.text or "" for t in under if "current" in (t.get("class") or "").split()]
        assert len(said) == 1
        assert said[0].endswith(" = " + format_number(round(fd[current], 9), 3)), said
        root = ET.fromstring(svg)
        cur = [g.get("data-node-id") for g in root.iter(f"{SVG_NS}g")
               if "current" in (g.get("class") or "").split()]
        assert cur == [current]
    # At the end: the output's tangent beside it is the derivative, and the caption says it.
    out_tangent = [t.text for t in ET.fromstring(svg).iter(f"{SVG_NS}text")
                   if "out-tangent" in (t.get("class") or "").split()]
    derivative = fd[record["output"]]
    assert float(record["derivative"]) == pytest.approx(derivative, abs=1e-6)
    assert out_tangent == ["∂ " + format_number(record["derivative"], 3)]
    assert caption.endswith(f"∂f/∂{wrt} = {format_number(record['derivative'], 4)}")


def test_forward_mode_fan_in_sums_the_tangents_term_by_term(client: TestClient) -> None:
    # d(xy + sin x)/dx = y + cos x: the + node is fed y = 3 by q and cos 2 = -0.416 by sin,
    # drawn as its two parts and their sum (the numbers by hand, not by the engine).
    svg = picture(client, "svg", **FAN_OUT, mode="forward", wrt="x", step="end").decode()
    expected = f"3 {MINUS} {format_number(-math.cos(2), 3)} = {format_number(3 + math.cos(2), 3)}"
    assert expected == "3 − 0.416 = 2.58"
    assert expected in texts(svg)


def test_forward_mode_picture_follows_the_direction(client: TestClient) -> None:
    # Along tangent 2 every tangent doubles: d(xy)/dx · 2 = 2y.
    svg = picture(client, "svg", expr="x * y", x="2", y="3", mode="forward", wrt="x",
                  tangent="2").decode()
    assert labels_by_class(svg, "out-tangent") == {"": "6"}
    assert caption_of(svg).endswith("∂f/∂x · 2 = 6")


def test_forward_mode_pictures_in_png_and_pdf(client: TestClient) -> None:
    for theme in ("light", "dark", "projector"):
        png = picture(client, "png", mode="forward", wrt="x", step="f4", theme=theme, scale="2")
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = picture(client, "pdf", mode="forward", wrt="x")
    assert pdf.startswith(b"%PDF-")


def test_reverse_mode_pictures_ignore_wrt_and_tangent(client: TestClient) -> None:
    plain = picture(client, "svg", step="b2")
    assert picture(client, "svg", step="b2", wrt="x", tangent="3") == plain
    assert picture(client, "svg", step="b2", mode="reverse", wrt="x") == plain


@pytest.mark.parametrize("extra,kind,words", [
    ({"mode": "forward"}, "name", "forward mode needs 'wrt'"),
    ({"mode": "forward", "wrt": ""}, "name", "forward mode needs 'wrt'"),
    ({"mode": "forward", "wrt": "w"}, "name", "'w' is not an input"),
    ({"mode": "forward", "wrt": "x", "tangent": "[1, 2]"}, "value", "has shape (2,)"),
    ({"mode": "forward", "wrt": "x", "step": "b1"}, "step", "forward steps only (f1 to f5)"),
    ({"mode": "forward", "wrt": "x", "tangent": "[1"}, "value", "is not a number"),
    ({"mode": "sideways", "wrt": "x"}, "value", "unknown mode 'sideways'"),
])
def test_bad_forward_mode_pictures_are_4xx_as_for_the_trace(
        client: TestClient, extra: dict[str, str], kind: str | None, words: str | None) -> None:
    for fmt in ("svg", "png"):
        r = client.get(f"/api/picture.{fmt}?" + urlencode({**CIRCUIT, **extra}))
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert words in error["message"] and error["type"] == kind, error
    if "step" in extra or extra.get("tangent") == "[1":
        return  # not a POST /api/trace question
    body: dict[str, object] = {"expr": CIRCUIT["expr"], "values": {"x": -2, "y": 5, "z": -4},
                               "mode": extra["mode"], "wrt": extra.get("wrt")}
    if "tangent" in extra:
        body["tangent"] = json.loads(extra["tangent"])
    t = client.post("/api/trace", json=body)
    if t.status_code == 400:  # the same answer, span and all
        assert t.json() == r.json()
    else:  # a body the model refuses (422): the URL's 400 says the same in its words
        assert t.status_code == 422


def test_theme_colours_are_the_one_palette() -> None:
    """The picture's palettes, tangent included, are data/palette.json's, which the app's
    stylesheet is built from (frontend/vite.palette.ts): styles.css writes no colour of its own."""
    import re as regex
    from importlib import resources

    from gradtrace.render import THEMES

    palette = json.loads(resources.files("gradtrace").joinpath("data/palette.json").read_text())
    assert set(THEMES) == set(palette["themes"]) == {"light", "dark", "projector"}
    for theme, spec in palette["themes"].items():
        for key, value in {**spec["colours"], **spec["sizes"]}.items():
            assert THEMES[theme][key.replace("-", "_")] == value, (theme, key)
        assert regex.fullmatch(r"#[0-9a-f]{6}", str(THEMES[theme]["tangent"]))
    css = (Path(__file__).resolve().parents[1] / "frontend" / "src" / "styles.css").read_text()
    assert "/* @palette */" in css
    assert not regex.search(r"--[a-z-]+:\s*#[0-9a-fA-F]{3,8}", css)


def test_reserved_url_parameters_are_the_one_list() -> None:
    import re as regex
    from importlib import resources

    from gradtrace.state import RESERVED

    data = json.loads(resources.files("gradtrace").joinpath("data/url_params.json").read_text())
    names = [p["name"] for p in data["params"]]
    assert set(names) == RESERVED and len(names) == len(set(names))
    assert all(p["description"] for p in data["params"])
    # README's table of parameters documents exactly these (and the inputs' own two rows).
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme[readme.index("| parameter | meaning | example |"):]
    rows = [line for line in table.split("\n\n")[0].splitlines()[2:]]
    documented = [name for row in rows for name in regex.findall(r"`([^`]+)`", row.split("|")[1])]
    assert sorted(documented) == sorted([*names, "<name>", "v.<name>"])


@pytest.mark.slow  # a subprocess
def test_cli_render_forward_mode(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "gradtrace", "render", "(x + y) * z", "x=-2", "y=5", "z=-4"]
    frames = tmp_path / "frames"
    subprocess.run([*base, "--mode", "forward", "--wrt", "z", "--all-steps", "--format", "svg",
                    "-o", str(frames)], check=True, capture_output=True)
    files = sorted(frames.iterdir())
    assert len(files) == 5  # forward steps only
    last = files[-1].read_text()
    assert caption_of(last) == "forward 5/5 · forward mode along z · ∂f/∂z = 3"
    assert labels_by_class(last, "out-tangent") == {"": "3"}
    out = tmp_path / "one.png"
    subprocess.run([*base, "--mode", "forward", "--wrt", "x", "--tangent", "2", "--step", "f3",
                    "-o", str(out)], check=True, capture_output=True)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([*base, "--mode", "forward", "-o", str(tmp_path / "x.svg")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "forward mode needs 'wrt'" in bad.stderr
    bad = subprocess.run([*base, "--mode", "forward", "--wrt", "x", "--step", "b1",
                          "-o", str(tmp_path / "x.svg")], capture_output=True, text=True)
    assert bad.returncode == 2 and "forward steps only" in bad.stderr


def test_every_seed_example_renders_in_forward_mode_along_every_input() -> None:
    from gradtrace.render import format_short

    from .conftest import SEEDS

    settings = get_settings()
    for ex in SEEDS:
        layout = compute_layout(compile_graph(ex["expr"], ex["values"], settings), settings)
        for wrt in ex["gradients"]:  # the inputs that take a derivative (not labels)
            t = trace(ex["expr"], ex["values"], ex.get("seed"), mode="forward", wrt=wrt)
            svg = render_svg(t, layout, "end", "dark")
            assert labels_by_class(svg, "out-tangent") == {
                "": format_short(t["derivative"])}, (ex["expr"], wrt)
            for k in (1, len(t["forward"])):
                ET.fromstring(render_svg(t, layout, f"f{k}", "projector"))


def test_the_pictures_key_is_the_apps_list(client: TestClient) -> None:
    """The key's words are data/colour_key.json's (the app's colour-key.ts reads the same), with
    the constants' and labels' entries where the graph has them; labels' wires are dotted."""
    import json as json_
    from importlib import resources

    key = json_.loads(resources.files("gradtrace").joinpath("data/colour_key.json").read_text())
    svg = client.get("/api/picture.svg?" + urlencode({**CIRCUIT, "step": "b2"})).text
    words = [t for t in texts(svg) if t in {e["words"] for e in key["reverse"]}]
    assert words == [e["words"] for e in key["reverse"]]
    assert key["constants"]["words"] not in texts(svg)
    query = {"expr": "L = cross_entropy(s, y) * 2", "s": "[[1, 2, 3]]", "y": "[2]"}
    svg = client.get("/api/picture.svg?" + urlencode(query)).text
    assert {key["constants"]["words"], key["labels"]["reverse"]["words"]} <= set(texts(svg))
    assert 'class="edge labels' in svg
