"""Pictures of a step: GET /api/picture.{svg,png,pdf} and `gradtrace render`."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from gradtrace import trace
from gradtrace.layout import compute_layout
from gradtrace.render import format_number, render_svg, step_index, step_view
from gradtrace.settings import get_settings
from gradtrace.trace import compile_graph

SVG_NS = "{http://www.w3.org/2000/svg}"
CIRCUIT = {"expr": "(x + y) * z", "x": "-2", "y": "5", "z": "-4"}


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


def picture(client: TestClient, fmt: str, **params: str) -> bytes:
    r = client.get(f"/api/picture.{fmt}?" + urlencode({**CIRCUIT, **params}))
    assert r.status_code == 200, r.text
    return r.content


def test_svg_at_the_last_step_shows_every_gradient(client: TestClient) -> None:
    r = client.get("/api/picture.svg?" + urlencode({**CIRCUIT, "step": "end"}))
    assert r.headers["content-type"] == "image/svg+xml"
    assert r.headers["x-content-type-options"] == "nosniff"
    shown = texts(r.text)
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


def test_a_tensor_label_shows_its_shape_in_brackets_never_as_a_number(client: TestClient) -> None:
    query = {"expr": "(x + y) * z", "x": "[-2, 1, 1]", "y": "5", "z": "-4", "step": "end"}
    shown = texts(client.get("/api/picture.svg?" + urlencode(query)).text)
    assert "⟨3⟩" in shown
    assert "3" not in shown  # the old label: a 3-vector drawn as the number 3


def test_the_pages_forward_mode_parameters_are_not_taken_for_values(client: TestClient) -> None:
    r = client.get("/api/picture.svg?" + urlencode({**CIRCUIT, "mode": "forward", "wrt": "x"}))
    assert r.status_code == 200, r.text
